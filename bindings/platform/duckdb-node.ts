// The native reader (Node only): CSV and Parquet files, and globs of them, read by DuckDB's
// parallel reader (@duckdb/node-api, loaded lazily: the package is optional at run time).
//
// The result is the same Arrow table and read report as today's reader (bindings/platform/read-node.ts):
// DuckDB takes a file only when it reads it the same way, and today's reader takes the rest:
// - CSV: the delimiter, BOM and header (names, V<k> for empty ones, duplicates) are found here
//   as csv.ts finds them; the column types from csv.ts on the first 64 KiB; the whole file is
//   checked to be valid UTF-8 (otherwise "auto" means GBK: today's reader), with explicit
//   DuckDB options (no sniffing), the missing-value tokens as nullstr and every column named
//   with its type. Whatever DuckDB rejects (an unparsable value, a ragged row, a stray quote)
//   goes to today's reader, whose message names the row and column. Values DuckDB would take
//   and csv.ts would not ("nan", "1_000", a quoted number with a line break) are checked for:
//   NaN in a result, and, when the file has an underscore, a quote or "+-" (DuckDB reads "+-1" as -1) after its header, a
//   validation pass over the numeric columns as text with csv.ts's number grammar.
//   Integers beyond 2^53 (ids kept as text) go to today's reader.
// - Parquet: numeric (booleans, integers, floats) and text columns; other types (dates,
//   decimals, nested), and integers beyond 2^53, go to today's reader.
// (The connection and accumulators: duckdb-columns.ts; the CSV checks: duckdb-csv-plan.ts; the
// chunked stream: duckdb-stream.ts.)
// Result vectors are copied chunk by chunk as typed-array views over DuckDB's memory (a
// Float64Array per vector plus its validity bits), never value by value.

import { stat } from "node:fs/promises";
import type { Data, DataType, Table } from "apache-arrow";
import { DataReadError, OptionError } from "../base/errors.js";
import { dictData, float64DataFromNaN, tableFromData } from "../io/build.js";
import { DEFAULT_NA, parseNumberText } from "../io/csv.js";
import { formatFromName, reportFromTable, type DataFormat, type ReadResult } from "../io/index.js";
import { readFile as readFileJs, type FileReadOptions } from "./read-node.js";
import type { ColumnReport } from "../io/report.js";
import { numericColumn, codesColumn } from "../io/columns.js";
import { loadDuckDB, lit, NotPlain, NumAcc, StrAcc, pushChunk, type Acc, type Duck, type RawChunk } from "./duckdb-columns.js";
import { planCsv, scanFile, type CsvPlan } from "./duckdb-csv-plan.js";
// csv.ts's number grammar (after trimming spaces and tabs), for the validation pass
import { NUM_RE } from "./duckdb-csv-types.js";
import type { PlacedColumns, PlaceRequest } from "../core/placed.js";
import type { Engine } from "../engine/wasm.js";
import { CsvWasmDecline, readCsvWasm } from "./csv-wasm.js";

export { loadDuckDB, duckdbAvailable, NumAcc, NotPlain } from "./duckdb-columns.js";

export type ReaderChoice = "auto" | "duckdb" | "js";

export type { PlaceRequest } from "../core/placed.js";

export interface NativeReadOptions extends FileReadOptions {
  /** "duckdb": DuckDB where it reads the file as today's reader does (error when it is not
   *  installed); "js": today's reader; "auto" (default): duckdb when installed. */
  reader?: ReaderChoice;
  /** numeric columns to read straight into WASM memory (the DuckDB path and the WASM CSV fast path; PlaceRequest) */
  place?: PlaceRequest;
  /** the engine the WASM CSV fast path parses in when nothing is placed (`place.engine` otherwise) */
  engine?: Promise<Engine>;
}

export interface NativeReadResult extends ReadResult {
  /** which reader produced the table ("js" for every file of a glob that fell back; "wasm" the CSV fast path, platform/csv-wasm.ts) */
  reader: "duckdb" | "js" | "wasm";
  /** why the WASM CSV fast path did not read the file, when it was tried and declined */
  wasmFallback?: string;
  /** why DuckDB did not read the file, when it did not */
  fallback?: string;
  /** the files read (a glob expands to several, in name order) */
  files: string[];
  /** where the DuckDB path's time went (ms): checks of the file before and beside the query,
   *  the query (DuckDB's threads), the copy of its chunks into the columns */
  timings?: ReadTimings;
  /** the placed columns (PlaceRequest), when the file was read into them; absent from `table` */
  placed?: PlacedColumns;
}

export interface ReadTimings {
  plan: number;
  query: number;
  copy: number;
}


const RE_INT = /^[+-]?\d+$/;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Would csv.ts have read this text column as numbers (at least half parse), or as text with a note (ids beyond 2^53)? */
export function textColumnDiffers(acc: StrAcc): string | null {
  let nonMissing = 0;
  let parsed = 0;
  for (let c = 0; c < acc.levels.length; c++) {
    const s = acc.levels[c];
    nonMissing += acc.counts[c];
    const t = s.replace(/^[ \t]+|[ \t]+$/g, "");
    const v = parseNumberText(t, true);
    if (v !== undefined) {
      parsed += acc.counts[c];
      if (RE_INT.test(t) && (v > MAX_SAFE || v < -MAX_SAFE)) return "integers beyond 2^53 in a text column";
    }
  }
  if (parsed > 0 && parsed * 2 >= nonMissing) return "a text column whose values are mostly numbers";
  return null;
}


function naTokens(opts: NativeReadOptions): string[] {
  const out: string[] = [];
  for (const raw of opts.na ?? DEFAULT_NA) {
    if (typeof raw !== "string") throw new NotPlain("na option");
    out.push(raw.replace(/^[ \t]+|[ \t]+$/g, ""));
  }
  return [...new Set(out)];
}

function csvSource(files: string[], plan: CsvPlan, na: string[], asText: boolean): string {
  const cols = plan.names.map((_, k) => {
    const o = plan.selected.indexOf(k);
    const type = o < 0 || asText || plan.string[o] ? "VARCHAR" : "DOUBLE";
    return `'c${k}': '${type}'`;
  });
  const list = `[${files.map(lit).join(", ")}]`;
  return (
    `read_csv(${list}, header = true, auto_detect = false, delim = ${lit(plan.delimiter)}, quote = '"', escape = '"', ` +
    `columns = {${cols.join(", ")}}, nullstr = [${na.map(lit).join(", ")}], strict_mode = true, null_padding = false, ` +
    `encoding = 'utf-8')`
  );
}

/**
 * The query that reads CSV files as today's reader would, with every whole-file check done
 * first (valid UTF-8, quotes, the number grammar): for a reader that cannot take back what it
 * gave (the stream). NotPlain when DuckDB does not read the files as today's reader does.
 */
export async function csvQueryChecked(duck: Duck, files: string[], opts: NativeReadOptions): Promise<{ sql: string; names: string[]; text: boolean[]; na: string[]; delimiter: string }> {
  let plan: CsvPlan | null = null;
  for (const f of files) {
    const p = await planCsv(f, opts);
    if (plan !== null && (p.names.join("\u0000") !== plan.names.join("\u0000") || p.delimiter !== plan.delimiter)) throw new NotPlain("files with different headers");
    if (plan !== null) p.string = plan.string.map((s, k) => s || p.string[k]);
    const scan = await scanFile(f, p.headerEnd, p.delimiter);
    if (!scan.utf8) throw new NotPlain("not valid UTF-8");
    if (scan.spacedQuote) throw new NotPlain("a quote beside a space");
    p.suspicious = (plan?.suspicious ?? false) || scan.suspicious;
    plan = p;
  }
  plan = plan!;
  if (plan.selected.length === 0) throw new NotPlain("no columns");
  const na = naTokens(opts);
  const numeric = plan.selected.map((k, o) => (plan!.string[o] ? -1 : k)).filter((k) => k >= 0);
  if (numeric.length > 0 && plan.suspicious) await validateNumbers(duck, files, plan, na, numeric);
  return {
    sql: `SELECT ${plan.selected.map((k) => `c${k}`).join(", ")} FROM ${csvSource(files, plan, na, false)}`,
    names: plan.selected.map((k) => plan!.names[k]),
    text: plan.string,
    na,
    delimiter: plan.delimiter,
  };
}

/** The numeric columns as text against csv.ts's number grammar (a pass by DuckDB); NotPlain when one value is not a plain number. */
async function validateNumbers(duck: Duck, files: string[], plan: CsvPlan, na: string[], numeric: number[]): Promise<void> {
  const checks = numeric.map((k) => `count_if(c${k} IS NOT NULL AND NOT regexp_full_match(c${k}, ${lit(NUM_RE)}))`);
  let bad: unknown[][];
  try {
    bad = await duck.rows(`SELECT ${checks.join(", ")} FROM ${csvSource(files, plan, na, true)}`);
  } catch (e) {
    throw new NotPlain(`DuckDB could not read the file: ${(e as Error).message}`);
  }
  if (bad[0].some((x) => Number(x) > 0)) throw new NotPlain("values that are not plain numbers");
}

async function readCsvDuck(duck: Duck, files: string[], opts: NativeReadOptions, t: ReadTimings): Promise<ReadResult & { placed?: PlacedColumns }> {
  const t0 = performance.now();
  let plan: CsvPlan | null = null;
  const heads: number[] = [];
  for (const f of files) {
    const p = await planCsv(f, opts);
    heads.push(p.headerEnd);
    if (plan === null) plan = p;
    else {
      if (p.names.join("\u0000") !== plan.names.join("\u0000") || p.delimiter !== plan.delimiter) throw new NotPlain("files with different headers");
      plan.string = plan.string.map((s, k) => s || p.string[k]);
    }
  }
  plan = plan!;
  if (plan.selected.length === 0) throw new NotPlain("no columns");
  const na = naTokens(opts);
  // the whole-file scan runs while DuckDB reads (its own threads); what it finds decides after
  const scanning = Promise.all(files.map((f, i) => scanFile(f, heads[i], plan!.delimiter)));
  const numeric = plan.selected.map((k, o) => (plan!.string[o] ? -1 : k)).filter((k) => k >= 0);
  const sql = `SELECT ${plan.selected.map((k) => `c${k}`).join(", ")} FROM ${csvSource(files, plan, na, false)}`;
  const accs = plan.selected.map((_, o) => (plan!.string[o] ? new StrAcc(null) : new NumAcc()));
  const outNames = plan.selected.map((k) => plan!.names[k]);
  const idx = placeIndex(opts.place, outNames, accs);
  t.plan += performance.now() - t0;
  let placed: PlacedColumns | null = null;
  const drained = drain(duck, sql, accs, t, idx && { idx, make: opts.place!.make }).then(
    (p) => ((placed = p), null),
    (err: unknown) => err,
  );
  const scans = await scanning;
  const drainErr = await drained;
  try {
    if (scans.some((s) => !s.utf8)) throw new NotPlain("not valid UTF-8");
    if (scans.some((s) => s.spacedQuote)) throw new NotPlain("a quote beside a space");
    if (drainErr !== null) throw drainErr;
    if (numeric.length > 0 && scans.some((s) => s.suspicious)) await validateNumbers(duck, files, plan, na, numeric);
    return csvResult(accs, outNames, opts, na, plan.delimiter, placed);
  } catch (e) {
    (placed as PlacedColumns | null)?.release();
    throw e;
  }
}

/** The table and report of the CSV path's accumulators (placed columns: in the report, not the table). */
function csvResult(accs: Acc[], outNames: string[], opts: NativeReadOptions, na: string[], delimiter: string, placed: PlacedColumns | null): ReadResult & { placed?: PlacedColumns } {
  const datas: Data<DataType>[] = [];
  const names: string[] = [];
  const reports: ColumnReport[] = [];
  let rows = 0;
  accs.forEach((acc, o) => {
    const name = outNames[o];
    if (acc instanceof NumAcc) {
      if (acc.nans > 0) throw new NotPlain("NaN values");
      if (acc.big) throw new NotPlain("integers beyond 2^53");
      rows = acc.n;
      if (placed === null || placed.index(name) < 0) datas.push(float64DataFromNaN(acc.finish())), names.push(name);
      reports.push({ name, type: "float64", missing: acc.nulls, unparsable: 0, infinite: acc.infinite });
    } else {
      // missing-value tokens after trimming (DuckDB matched them untrimmed)
      const s = acc as StrAcc;
      const forced = (opts.stringColumns ?? []).includes(name);
      const trimmedNa = new Set(na);
      const fixed = fixTextNa(s, trimmedNa);
      if (!forced) {
        const why = textColumnDiffers(fixed);
        if (why !== null) throw new NotPlain(why);
      }
      rows = fixed.n;
      datas.push(dictData(fixed.finish(), fixed.levels));
      names.push(name);
      reports.push({ name, type: "string", missing: fixed.nulls, unparsable: 0, infinite: 0 });
    }
  });
  return {
    table: tableFromData(names, datas, rows),
    report: { format: "csv", rows, encoding: "utf8", delimiter, columns: reports },
    ...(placed ? { placed } : {}),
  };
}

/** Text levels that are missing-value tokens once trimmed become nulls; levels renumbered in order of first appearance. */
function fixTextNa(acc: StrAcc, na: Set<string>): StrAcc {
  const remap = new Int32Array(acc.levels.length);
  const out = new StrAcc(null);
  let any = false;
  acc.levels.forEach((s, c) => {
    if (na.has(s.replace(/^[ \t]+|[ \t]+$/g, ""))) {
      remap[c] = -1;
      any = true;
    } else {
      remap[c] = out.levels.length;
      out.levels.push(s);
      out.counts.push(acc.counts[c]);
    }
  });
  if (!any) return acc;
  const codes = acc.codes;
  let nulls = 0;
  for (let i = 0; i < acc.n; i++) {
    const c = codes[i];
    const r = c < 0 ? -1 : remap[c];
    codes[i] = r;
    if (r < 0) nulls++;
  }
  out.codes = codes;
  out.n = acc.n;
  out.nulls = nulls;
  return out;
}

/** Where the placed columns are among the accumulators (each a NumAcc), or null when one is not. */
function placeIndex(place: PlaceRequest | undefined, names: string[], accs: Acc[]): number[] | null {
  if (place === undefined) return null;
  const idx = place.names.map((nm) => names.indexOf(nm));
  return idx.every((o) => o >= 0 && accs[o] instanceof NumAcc) && new Set(idx).size === idx.length ? idx : null;
}

/**
 * Run the query and copy its chunks into the accumulators (planned to the result's size); with
 * `place` (accumulator indices of the placed columns) and a result of known rows, those columns
 * are copied into the block `make` gives, each chunk through fresh views (memory may grow).
 */
async function drain(
  duck: Duck, sql: string, accs: Acc[], t: ReadTimings, place?: { idx: number[]; make: (rows: number) => Promise<PlacedColumns> } | null,
  knownRows?: number,
): Promise<PlacedColumns | null> {
  const t0 = performance.now();
  let src;
  try {
    // rows known beforehand (Parquet footers) and columns to place: streamed, so that DuckDB
    // reuses its chunk buffers instead of materialising the result in fresh memory first
    src = await duck.query(sql, { stream: place != null && knownRows !== undefined });
  } catch (e) {
    throw new NotPlain(`DuckDB could not read the file: ${(e as Error).message}`);
  }
  const t1 = performance.now();
  t.query += t1 - t0;
  const rows = src.rows ?? knownRows ?? null;
  const placed = place && rows !== null ? await place.make(rows) : null;
  const into = placed ? place!.idx.map((o) => accs[o] as NumAcc) : [];
  try {
    if (rows !== null) {
      into.forEach((a, c) => (a.values = placed!.view(c)));
      for (const a of accs) a.plan(rows);
    }
    for (;;) {
      let chunk: RawChunk | null;
      try {
        chunk = await src.next();
      } catch (e) {
        throw new NotPlain(`DuckDB could not read the file: ${(e as Error).message}`);
      }
      if (chunk === null) break;
      into.forEach((a, c) => (a.values = placed!.view(c)));
      pushChunk(chunk, accs);
    }
  } catch (e) {
    placed?.release();
    throw e;
  }
  t.copy += performance.now() - t1;
  return placed;
}

// ---------------------------------------------------------------------------------------------
// Parquet

const NUMERIC_TYPES = new Set(["BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE"]);

/** The query that reads the Parquet files' wanted columns (numbers as DOUBLE), or NotPlain. */
export async function parquetQuery(duck: Duck, files: string[], opts: NativeReadOptions): Promise<{ sql: string; names: string[]; text: boolean[] }> {
  const src = `read_parquet([${files.map(lit).join(", ")}])`;
  let schema: unknown[][];
  try {
    schema = await duck.rows(`DESCRIBE SELECT * FROM ${src}`);
  } catch (e) {
    throw new NotPlain(`DuckDB could not read the file: ${(e as Error).message}`);
  }
  const names = schema.map((r) => String(r[0]));
  const types = new Map(schema.map((r) => [String(r[0]), String(r[1])]));
  if (new Set(names).size !== names.length) throw new NotPlain("duplicated names");
  const wanted = opts.columns === undefined ? names : [...new Set(opts.columns)];
  for (const w of wanted) if (!types.has(w)) throw new NotPlain("column selection");
  const kinds = wanted.map((w) => {
    const t = types.get(w)!;
    if (NUMERIC_TYPES.has(t)) return t === "DOUBLE" ? "num" : "cast";
    if (t === "VARCHAR") return "text";
    throw new NotPlain(`a ${t} column`);
  });
  const q = (w: string) => `"${w.replace(/"/g, '""')}"`;
  // integers and booleans as DOUBLE in DuckDB (a typed vector to copy; an integer beyond 2^53
  // stays beyond it and sends the file to the built-in reader)
  const exprs = wanted.map((w, k) => (kinds[k] === "cast" ? `CAST(${q(w)} AS DOUBLE)` : q(w)));
  return { sql: `SELECT ${exprs.join(", ")} FROM ${src}`, names: wanted, text: kinds.map((k) => k === "text") };
}

/** The rows of Parquet files from their footers (DuckDB answers count(*) from the metadata). */
async function parquetRows(duck: Duck, files: string[]): Promise<number | undefined> {
  try {
    const r = await duck.rows(`SELECT count(*) FROM read_parquet([${files.map(lit).join(", ")}])`);
    const n = Number(r[0]?.[0]);
    return Number.isSafeInteger(n) ? n : undefined;
  } catch (e) {
    throw new NotPlain(`DuckDB could not read the file: ${(e as Error).message}`);
  }
}

async function readParquetDuck(duck: Duck, files: string[], opts: NativeReadOptions, t: ReadTimings): Promise<ReadResult & { placed?: PlacedColumns }> {
  const { sql, names: wanted, text } = await parquetQuery(duck, files, opts);
  const accs = text.map((x) => (x ? new StrAcc(null) : new NumAcc()));
  const idx = placeIndex(opts.place, wanted, accs);
  // the rows from the files' footers (no scan), so that the placed read can stream
  const knownRows = idx ? await parquetRows(duck, files) : undefined;
  const placed = await drain(duck, sql, accs, t, idx && { idx, make: opts.place!.make }, knownRows);
  if (placed !== null && knownRows !== undefined && accs[0].n !== knownRows) {
    placed.release();
    throw new NotPlain(`the Parquet footers count ${knownRows} rows but ${accs[0].n} were read`);
  }
  try {
    const datas: Data<DataType>[] = [];
    const names: string[] = [];
    let rows = 0;
    accs.forEach((acc, o) => {
      rows = acc.n;
      if (acc instanceof NumAcc) {
        if (acc.big) throw new NotPlain("integers beyond 2^53");
        if (placed === null || placed.index(wanted[o]) < 0) datas.push(float64DataFromNaN(acc.finish())), names.push(wanted[o]);
      } else datas.push(dictData(acc.finish(), acc.levels)), names.push(wanted[o]);
    });
    const table = tableFromData(names, datas, rows);
    if (placed === null) return { table, report: reportFromTable(table, "parquet") };
    // the placed columns' entries from their accumulators (as reportFromTable counts: NaN is missing), in the file's order
    const fromTable = new Map(reportFromTable(table, "parquet").columns.map((c) => [c.name, c]));
    const columns = wanted.map((name, o): ColumnReport => {
      const a = accs[o];
      return fromTable.get(name) ?? { name, type: "float64", missing: (a as NumAcc).nulls + (a as NumAcc).nans, unparsable: 0, infinite: (a as NumAcc).infinite };
    });
    return { table, report: { format: "parquet", rows, encoding: null, delimiter: null, columns }, placed };
  } catch (e) {
    placed?.release();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point

const GLOB = /[*?[]/;

async function expand(duck: Duck | null, path: string): Promise<string[]> {
  if (!GLOB.test(path)) return [path];
  try {
    await stat(path);
    return [path]; // a file whose name has glob characters
  } catch {
    /* a pattern */
  }
  if (duck === null) {
    throw new DataReadError(`cannot expand the pattern ${JSON.stringify(path)}: globs need the DuckDB reader`, { path }, "install @duckdb/node-api or name one file");
  }
  const rows = await duck.rows(`SELECT file FROM glob(${lit(path)}) ORDER BY file`);
  const files = rows.map((r) => String(r[0]));
  if (files.length === 0) throw new DataReadError(`no file matches ${JSON.stringify(path)}`, { path }, "check the pattern (* and ? match within one folder)");
  return files;
}

/** Concatenate per-file results of today's reader (a glob that DuckDB could not take). */
function concatResults(results: ReadResult[], files: string[]): ReadResult {
  if (results.length === 1) return results[0];
  const first = results[0];
  const names = first.table.schema.fields.map((f) => f.name);
  const reports = first.report.columns.map((c) => ({ ...c, missing: 0, unparsable: 0, infinite: 0 }));
  results.forEach((r, i) => {
    const nm = r.table.schema.fields.map((f) => f.name);
    if (nm.join("\u0000") !== names.join("\u0000")) {
      throw new DataReadError(`${files[i]} has other columns than ${files[0]}`, { file: files[i], columns: nm, expected: names }, "a glob reads files with the same columns");
    }
    r.report.columns.forEach((c, k) => {
      if (c.type !== reports[k].type) {
        throw new DataReadError(
          `column ${JSON.stringify(c.name)} is ${c.type} in ${files[i]} but ${reports[k].type} in ${files[0]}`,
          { column: c.name, file: files[i] },
          "make the column's type the same in every file",
        );
      }
      reports[k].missing += c.missing;
      reports[k].unparsable += c.unparsable;
      reports[k].infinite += c.infinite;
      if (c.note && !reports[k].note) reports[k].note = c.note;
    });
  });
  const rows = results.reduce((s, r) => s + r.table.numRows, 0);
  const datas: Data<DataType>[] = names.map((name, k) => {
    if (reports[k].type === "float64") {
      const out = new Float64Array(rows);
      let o = 0;
      for (const r of results) {
        const { values, valid } = numericColumn(r.table, name);
        out.set(values, o);
        if (valid) for (let i = 0; i < values.length; i++) if (!valid[i]) out[o + i] = NaN;
        o += values.length;
      }
      return float64DataFromNaN(out);
    }
    if (reports[k].type !== "string") throw new DataReadError(`column ${JSON.stringify(name)}: only numeric and text columns can be read from several files`);
    const codes = new Int32Array(rows);
    const levels: string[] = [];
    const index = new Map<string, number>();
    let o = 0;
    for (const r of results) {
      const cc = codesColumn(r.table, name);
      const remap = cc.levels.map((s) => {
        let c = index.get(s);
        if (c === undefined) {
          c = levels.length;
          levels.push(s);
          index.set(s, c);
        }
        return c;
      });
      for (let i = 0; i < cc.codes.length; i++) codes[o + i] = cc.codes[i] < 0 ? -1 : remap[cc.codes[i]];
      o += cc.codes.length;
    }
    return dictData(codes, levels);
  });
  const enc = results.every((r) => r.report.encoding === first.report.encoding) ? first.report.encoding : first.report.encoding;
  return {
    table: tableFromData(names, datas, rows),
    report: { ...first.report, rows, encoding: enc, columns: reports },
  };
}

/**
 * Read a CSV / Parquet / Arrow file, or a glob of CSV or Parquet files (`data/part-*.parquet`,
 * concatenated in name order), with DuckDB where it reads the file exactly as today's reader
 * (bindings/platform/read-node.ts readFile) does, and with today's reader otherwise: the same table and
 * read report either way.
 */
export async function readFileNative(path: string, opts: NativeReadOptions = {}): Promise<NativeReadResult> {
  // the WASM CSV fast path first, before DuckDB is loaded (auto, one file; HDFE_CSV_WASM=0 turns
  // it off): it reads the file exactly as the built-in reader does, or declines
  let wasmFallback: string | undefined;
  const eng = opts.place?.engine ?? opts.engine;
  const wasmFormat = opts.format ?? formatFromName(path);
  if (wasmFormat === "csv" && !GLOB.test(path) && (opts.reader ?? "auto") === "auto" && eng !== undefined && process.env.HDFE_CSV_WASM !== "0") {
    const { reader: _r, place: _p, engine: _e, format: _f, ...csvOpts } = opts;
    void _r, void _p, void _e, void _f;
    try {
      const r = await readCsvWasm(path, await eng, csvOpts, opts.place);
      return { ...r, reader: "wasm", files: [path] };
    } catch (err) {
      if (!(err instanceof CsvWasmDecline)) throw err;
      wasmFallback = err.message;
    }
  }
  const { duck, files, format } = await openFiles(path, opts);
  let fallback: string | undefined;
  const withWasm = wasmFallback === undefined ? {} : { wasmFallback };
  // auto and duckdb take DuckDB where it reads the file as the built-in reader does: measured
  // faster for the whole command on CSV and Parquet alike (bench/results/io.json)
  const useDuck = duck !== null && format !== "arrow";
  if (useDuck) {
    try {
      const timings: ReadTimings = { plan: 0, query: 0, copy: 0 };
      const r: ReadResult & { placed?: PlacedColumns } = format === "csv" ? await readCsvDuck(duck, files, opts, timings) : await readParquetDuck(duck, files, opts, timings);
      if (opts.onProgress) {
        let size = 0;
        for (const f of files) size += (await stat(f)).size;
        opts.onProgress(size, size);
      }
      return { ...r, reader: "duckdb", files, timings, ...withWasm };
    } catch (err) {
      if (!(err instanceof NotPlain)) throw err;
      fallback = err.message;
    }
  }
  const r = await readBuiltin(files, opts, format);
  return { ...r, reader: "js", fallback: duck === null ? undefined : fallback, files, ...withWasm };
}

/** The files (one, or a glob's) through today's reader, concatenated. */
export async function readBuiltin(files: string[], opts: NativeReadOptions, format: DataFormat): Promise<ReadResult> {
  const { reader: _r, place: _p, engine: _e, ...jsOpts } = opts;
  void _r, void _p, void _e;
  const results: ReadResult[] = [];
  for (const f of files) results.push(await readFileJs(f, { ...jsOpts, format }));
  return concatResults(results, files);
}

/** The reader option checked, DuckDB loaded (null for js or when not installed), the glob expanded. */
export async function openFiles(path: string, opts: NativeReadOptions): Promise<{ duck: Duck | null; files: string[]; format: DataFormat }> {
  const choice = opts.reader ?? "auto";
  if (choice !== "auto" && choice !== "duckdb" && choice !== "js") {
    throw new OptionError(`unknown reader ${JSON.stringify(choice)}`, { reader: choice }, "use duckdb, js or auto");
  }
  const duck = choice === "js" ? null : await loadDuckDB();
  if (choice === "duckdb" && duck === null) {
    throw new OptionError("the DuckDB reader is not installed (@duckdb/node-api could not be loaded)", {}, "npm install @duckdb/node-api, or pass --reader js");
  }
  const files = await expand(duck, path);
  const format = opts.format ?? formatFromName(files[0]);
  for (const f of files) if ((opts.format ?? formatFromName(f)) !== format) throw new DataReadError(`the files of ${JSON.stringify(path)} are not all ${format}`, { path });
  return { duck, files, format };
}
