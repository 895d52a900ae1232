// The CSV columns of the DuckDB engine (duckdb-engine.ts) typed by the built-in reader's rule
// (bindings/io/csv.ts), not by DuckDB's sniffer. The file is loaded with every column as text
// (DuckDB's parser, the delimiter and header names as csv.ts finds them: duckdb-csv-plan.ts
// csvHead), then one pass counts, per column, what csv.ts counts, and a second rewrites the
// table with the types csv.ts would give:
// - a value is missing when, trimmed of spaces and tabs, it is a missing-value token (an empty
//   field is one when "" is a token; else it is the text "");
// - a value is a number when, trimmed, it matches csv.ts's grammar: [+-]digits[.digits][e[+-]digits],
//   .digits, [+-]inf / infinity (any case); thousands separators ("1,234,567[.5]") where csv.ts
//   takes them (comma and tab files; never for ';'; quoted fields only for other delimiters,
//   where this pass cannot tell quoted from unquoted: refused with a ColumnError naming the column);
//   '0x10', 'nan', '1_000', 'true' are not numbers;
// - a column is numeric when every non-missing value is a number; with some non-numbers but at
//   least half numbers, csv.ts fails (DataReadError naming the column, the count and the first
//   row) or, with unparsableAsNa, reads them as missing; otherwise, or when it holds an integer
//   beyond 2^53 that a double cannot hold exactly (io/text.ts), it is text: the field's own
//   characters (so '01' and '1' are one level in a numeric column, two in a text one, as in memory).
// Integers of more than 38 digits (beyond HUGEINT, where the exactness test cannot be written)
// are refused with a ColumnError. Files csv.ts reads otherwise than DuckDB's parser (not UTF-8,
// a quote beside a space: duckdb-csv-plan.ts scanFile; an unusual header) are refused with an
// OptionError naming --engine wasm.
import { ColumnError, OptionError } from "../base/errors.js";
import { DEFAULT_NA, unparsableError } from "../io/csv.js";
import { bigIntNote } from "../io/text.js";
import type { Row, SqlDialect } from "../sql/backend.js";
import { NotPlain } from "./duckdb-columns.js";
import { csvHead, lineOfDataRow, scanFile } from "./duckdb-csv-plan.js";

/** csv.ts's number grammar (parseNumberText of io/csv.ts), spaces and tabs around allowed, as an RE2 pattern. */
export const NUM_RE = "^[ \\t]*([+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?([iI][nN][fF]([iI][nN][iI][tT][yY])?))[ \\t]*$";
/** csv.ts's numbers with thousands separators (RE_THOUSANDS of io/csv.ts). */
const THOUSANDS_RE = "^[ \\t]*[+-]?[0-9]{1,3}(,[0-9]{3})+(\\.[0-9]*)?[ \\t]*$";
const INT_RE = "^[ \\t]*[+-]?[0-9]+[ \\t]*$";

interface Sql {
  readonly dialect: SqlDialect;
  query(sql: string, step: string): Promise<Row[]>;
  exec(sql: string, step: string): Promise<void>;
  progress?: (msg: string) => void;
}

export interface CsvTypingOptions {
  na?: string[];
  delimiter?: string;
  textColumns?: string[];
  unparsableAsNa?: boolean;
}

function refuse(path: string, why: string): OptionError {
  return new OptionError(
    `--engine duckdb cannot read ${path} as the built-in reader does (${why})`,
    { path, why },
    "fit it in memory with --engine wasm, or save the file as UTF-8 CSV with a plain header line",
  );
}

/** Load the CSV file into `table` with every column as text, as csv.ts splits it; returns the column names and the delimiter. */
export async function loadCsvAsText(b: Sql, path: string, table: string, o: CsvTypingOptions): Promise<{ names: string[]; delimiter: string }> {
  const d = b.dialect;
  let head;
  try {
    head = await csvHead(path, o);
  } catch (e) {
    if (e instanceof NotPlain) throw refuse(path, e.message);
    throw e;
  }
  const scan = await scanFile(path, head.headerEnd, head.delimiter);
  if (!scan.utf8) throw refuse(path, "not valid UTF-8: the built-in reader would read it as GBK");
  if (scan.spacedQuote) throw refuse(path, "a quote beside a space or tab, which the built-in reader keeps as text");
  for (const c of o.textColumns ?? []) {
    if (!head.names.includes(c)) throw new OptionError(`--text-columns: ${path} has no column ${JSON.stringify(c)}`, { column: c }, `its columns: ${head.names.join(", ")}`);
  }
  const cols = head.names.map((n) => `${d.str(n)}: 'VARCHAR'`).join(", ");
  const src =
    `read_csv(${d.str(path)}, header = true, auto_detect = false, delim = ${d.str(head.delimiter)}, quote = '"', escape = '"', ` +
    `columns = {${cols}}, strict_mode = true, null_padding = false, encoding = 'utf-8')`;
  await b.exec(`CREATE TEMP TABLE ${table} AS SELECT * FROM ${src}`, "load CSV");
  return { names: head.names, delimiter: head.delimiter };
}

/** Rewrite `table` (every column text, from loadCsvAsText) with the types the built-in reader gives its columns. */
export async function typeCsvColumns(b: Sql, table: string, path: string, names: string[], delimiter: string, o: CsvTypingOptions): Promise<void> {
  const d = b.dialect;
  const na = [...new Set((o.na ?? DEFAULT_NA).map((t) => t.replace(/^[ \t]+|[ \t]+$/g, "")))];
  const raw = (c: string) => `coalesce(${d.ident(c)}, '')`;
  const trimmed = (c: string) => `trim(${raw(c)}, ' \t')`;
  // the tests below take a trimmed value (an expression)
  const missing = (t: string) => (na.length ? `(${t} IN (${na.map(d.str).join(", ")}))` : "false");
  const num = (t: string) => `regexp_full_match(${t}, ${d.str(NUM_RE)})`;
  const thou = (t: string) => `regexp_full_match(${t}, ${d.str(THOUSANDS_RE)})`;
  // csv.ts: thousands unquoted for TAB only, quoted unless ';': for ',' an unquoted field holds no comma
  const thousands: "yes" | "no" | "unknown" = delimiter === "\t" || delimiter === "," ? "yes" : delimiter === ";" ? "no" : "unknown";
  const isNum = (t: string) => (thousands === "yes" ? `(${num(t)} OR ${thou(t)})` : num(t));
  const intText = (t: string) => `regexp_full_match(${t}, ${d.str(INT_RE)})`;
  // CASE WHEN, cheapest test first: DuckDB evaluates a branch only for the rows that reach it
  // (an integer beyond 2^53 has at least 16 characters, one beyond HUGEINT more than 38)
  const big = (t: string) =>
    `(CASE WHEN length(${t}) < 16 OR ${missing(t)} OR NOT ${intText(t)} THEN false ` +
    `ELSE abs(TRY_CAST(${t} AS DOUBLE)) > 9007199254740991 AND ` +
    `TRY_CAST(${t} AS HUGEINT) IS DISTINCT FROM TRY_CAST(TRY_CAST(${t} AS DOUBLE) AS HUGEINT) END)`;
  const huge = (t: string) =>
    `(CASE WHEN length(${t}) < 39 OR ${missing(t)} OR NOT ${intText(t)} THEN false ELSE length(ltrim(regexp_replace(${t}, '^[+-]', ''), '0')) > 38 END)`;
  const text = new Set(o.textColumns ?? []);
  const typed = names.filter((c) => !text.has(c));
  // one pass; each column trimmed once (the inner query)
  const sel = typed.flatMap((_c, k) => {
    const t = `t${k}`;
    return [
      `count_if(NOT ${missing(t)}) AS n${k}`,
      `count_if(CASE WHEN ${missing(t)} THEN false ELSE ${isNum(t)} END) AS p${k}`,
      `count_if(${big(t)}) AS b${k}`,
      `count_if(${huge(t)}) AS h${k}`,
      `count_if(CASE WHEN ${missing(t)} OR ${num(t)} THEN false ELSE ${thou(t)} END) AS t${k}`,
    ];
  });
  const inner = `SELECT ${typed.map((c, k) => `${trimmed(c)} AS t${k}`).join(", ")} FROM ${table}`;
  if (!typed.length) return;
  const [r] = await b.query(`SELECT ${sel.join(", ")} FROM (${inner})`, "load CSV (column types)");
  const exprs: string[] = [];
  for (const [k, c] of typed.entries()) {
    const n = Number(r[`n${k}`]), p = Number(r[`p${k}`]), bigs = Number(r[`b${k}`]);
    if (Number(r[`h${k}`]) > 0) {
      throw new ColumnError(`column ${JSON.stringify(c)} holds integers of more than 38 digits, which --engine duckdb cannot type as the built-in reader does`, { column: c }, "list it in --text-columns, or fit in memory with --engine wasm");
    }
    if (thousands === "unknown" && Number(r[`t${k}`]) > 0) {
      throw new ColumnError(
        `column ${JSON.stringify(c)} has numbers with thousands separators ("1,234"), which the built-in reader takes when quoted and not otherwise; with the delimiter ${JSON.stringify(delimiter)}, --engine duckdb cannot tell which`,
        { column: c, delimiter },
        "remove the separators, list the column in --text-columns, or fit in memory with --engine wasm",
      );
    }
    const asText = `CASE WHEN ${missing(trimmed(c))} THEN NULL ELSE ${raw(c)} END AS ${d.ident(c)}`;
    if (bigs > 0) {
      b.progress?.(`column ${c}: ${bigIntNote(bigs)}`);
      exprs.push(asText);
      continue;
    }
    const fails = n - p;
    if (fails > 0 && p * 2 < n) {
      exprs.push(asText);
      continue;
    }
    if (fails > 0 && !o.unparsableAsNa) await throwUnparsable(b, table, path, c, fails, `NOT ${missing(trimmed(c))} AND NOT ${isNum(trimmed(c))}`);
    if (fails > 0) b.progress?.(`column ${c}: ${fails} unparsable value${fails === 1 ? "" : "s"} read as missing (--unparsable-as-na)`);
    const withSeparators = thousands === "yes" && Number(r[`t${k}`]) > 0;
    const value = withSeparators ? `TRY_CAST(replace(${trimmed(c)}, ',', '') AS DOUBLE)` : `TRY_CAST(${trimmed(c)} AS DOUBLE)`;
    // every non-missing value a number of the grammar (which DuckDB casts): no pattern test per row
    const bad = fails > 0 ? ` OR NOT ${isNum(trimmed(c))}` : "";
    exprs.push(`CAST(CASE WHEN ${missing(trimmed(c))}${bad} THEN NULL ELSE ${value} END AS DOUBLE) AS ${d.ident(c)}`);
  }
  const keep = names.filter((c) => text.has(c)).map((c) => `CASE WHEN ${missing(trimmed(c))} THEN NULL ELSE ${raw(c)} END AS ${d.ident(c)}`);
  const byName = new Map([...typed.map((c, k) => [c, exprs[k]] as const), ...names.filter((c) => text.has(c)).map((c, k) => [c, keep[k]] as const)]);
  await b.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${names.map((c) => byName.get(c)).join(", ")} FROM ${table}`, "load CSV (column types)");
}

/** The built-in reader's error for a numeric column with values that are not numbers: the count, the first data row and its file line. */
async function throwUnparsable(b: Sql, table: string, path: string, c: string, fails: number, bad: string): Promise<never> {
  const d = b.dialect;
  const [f] = await b.query(`SELECT rowid + 1 AS r, ${d.ident(c)} AS v FROM ${table} WHERE ${bad} ORDER BY rowid LIMIT 1`, "load CSV (column types)");
  const row = Number(f.r);
  throw unparsableError(c, fails, row, await lineOfDataRow(path, row), String(f.v ?? ""));
}
