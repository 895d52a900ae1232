// Shared CLI helpers: reading the data file with the reader options every command accepts.
import type { Command } from "commander";
import { statSync } from "node:fs";
import { readFileNative, type ReaderChoice, type PlaceRequest } from "../bindings/platform/duckdb-node.js";
import { formatFromName, type DataFormat } from "../bindings/io/index.js";
import { Frame } from "../bindings/core/frame.js";
import { OptionError, DataReadError, ColumnError } from "../bindings/base/errors.js";
import { parseVcov } from "../bindings/core/vcov.js";
import type { ReadReport } from "../bindings/io/report.js";
import { progressBar } from "./progress.js";
import type { Formula } from "../bindings/core/formula.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { PlacedColumns } from "../bindings/core/placed.js";
import { planMemory } from "../bindings/estimators/feols.js";
import { clip } from "./options.js";
import { loadEngine } from "../bindings/node.js";

let parseEngine: Promise<Engine> | undefined;
/** The engine the WASM CSV fast path parses in for a read without placed columns: one per process,
 *  its arena given back after each read (the fit's engine is the command's own). */
function csvEngine(): Promise<Engine> {
  return (parseEngine ??= loadEngine());
}

export interface ReadFlags {
  data: string;
  encoding?: string;
  na?: string;
  unparsableAsNa?: boolean;
  delimiter?: string;
  format?: string;
  textColumns?: string;
  reader?: string;
}

/** The model flags every fitting command shares (hdfe feols in memory, IV, DuckDB, ClickHouse). */
export interface ModelFlags {
  formula: string;
  vcov?: string;
  ssc?: string;
  fixefRm?: string;
  weights?: string;
  fixefTol?: string;
  fixefIter?: string;
  level?: string;
}

/** Comma-separated names (trimmed, empty ones dropped). */
export const listOf = (s?: string): string[] => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : []);

/** The columns a --vcov spec clusters on (fe1^fe2 interactions split into their parts). */
export function vcovColumns(spec: string | undefined): string[] {
  if (!spec) return [];
  const v = parseVcov(spec);
  return v.type === "cluster" ? v.vars.flatMap((x) => x.split("^").map((p) => p.trim())) : [];
}

/** Adds --data, --format, --encoding, --na, --delimiter, --unparsable-as-na, --text-columns, --reader. */
export function addReadOptions(cmd: Command, required = true): Command {
  (required ? cmd.requiredOption("--data <file>", "CSV, Arrow IPC/Feather or Parquet file") : cmd.option("--data <file>", "CSV, Arrow IPC/Feather or Parquet file"))
    .option("--encoding <enc>", "CSV text encoding: utf8 | gbk (detected when absent)")
    .option("--na <tokens>", "comma-separated missing-value tokens, e.g. '--,NA,' (default: '',NA,NaN,N/A,NULL,null,--,.)")
    .option("--delimiter <char>", "CSV delimiter (detected among , ; TAB when absent)")
    .option("--format <fmt>", "csv | arrow | parquet (default: from the file extension)")
    .option("--unparsable-as-na", "treat unparsable values in numeric columns as missing (counted) instead of failing")
    .option("--text-columns <cols>", "comma-separated CSV columns read as text whatever they look like (ids such as 7 and A7, codes with leading zeros)")
    .option("--reader <name>", "auto (for one CSV file the WASM CSV fast path first (HDFE_CSV_WASM=0 turns it off), then DuckDB's native parallel reader when installed, where each reads the file as the built-in reader does) | duckdb | js (the built-in reader)", "auto");
  return cmd;
}

/** The CSV-only reading options given (--encoding, --na, ...), as the command line spells them. */
export function csvOnlyFlags(flags: Partial<ReadFlags>): string[] {
  const given = (["encoding", "na", "delimiter", "unparsableAsNa", "textColumns"] as const).filter((k) => flags[k] !== undefined);
  return given.map((k) => "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()));
}

/** Files from this size on get a line saying how long reading took. */
const LARGE_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Read --data. `columns`: only these (the model's); `roles`: what the command uses a column
 * for (e.g. "cluster variable (--vcov)"), named in the error when the column is missing.
 */
export async function readData(
  flags: ReadFlags, columns?: string[], roles: Record<string, string> = {}, place?: PlaceRequest,
): Promise<{ frame: Frame; report: ReadReport; placed: boolean }> {
  const enc = flags.encoding?.toLowerCase();
  if (enc && enc !== "utf8" && enc !== "utf-8" && enc !== "gbk") throw new OptionError(`unknown encoding ${clip(flags.encoding!)}`, undefined, "use utf8 or gbk");
  let st;
  try {
    st = statSync(flags.data);
  } catch {
    st = undefined; // the reader says why (not found, permission)
  }
  if (st?.isDirectory()) throw new DataReadError(`--data ${clip(flags.data)} is a directory, not a data file`, { path: flags.data }, "pass a .csv, .arrow/.feather or .parquet file");
  const format = (flags.format as DataFormat | undefined) ?? formatFromName(flags.data);
  if (format !== "csv") {
    const names = csvOnlyFlags(flags);
    if (names.length) {
      throw new OptionError(`${names.join(", ")} ${names.length === 1 ? "applies" : "apply"} to CSV files only; ${clip(flags.data)} is read as ${format}`, undefined, `leave ${names.length === 1 ? "it" : "them"} out, or pass --format csv if the file is CSV`);
    }
  }
  const bar = progressBar(`reading ${flags.data}`);
  const t0 = performance.now();
  let size = 0;
  const reader = (flags.reader ?? "auto").toLowerCase();
  if (reader !== "auto" && reader !== "duckdb" && reader !== "js") throw new OptionError(`unknown reader "${flags.reader}"`, undefined, "use duckdb, js or auto");
  let read;
  try {
    read = await readFileNative(flags.data, {
      reader: reader as ReaderChoice,
      format,
      encoding: enc === undefined ? "auto" : enc === "gbk" ? "gbk" : "utf8",
      na: flags.na === undefined ? undefined : flags.na.split(","),
      unparsable: flags.unparsableAsNa ? "na" : "error",
      delimiter: flags.delimiter,
      stringColumns: flags.textColumns === undefined ? undefined : listOf(flags.textColumns),
      columns,
      place,
      engine: place === undefined && format === "csv" && reader === "auto" ? csvEngine() : undefined,
      onProgress: (done, total) => {
        size = total;
        bar.update(done, total, `${(done / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`);
      },
    });
  } catch (e) {
    throw namedColumns(e, roles);
  } finally {
    bar.end();
  }
  const { table, report, reader: used, fallback, wasmFallback } = read;
  // large files: how long the reading took, also in logs
  if (size >= LARGE_FILE_BYTES) {
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(
      `read ${report.rows.toLocaleString("en-US")} rows, ${report.columns.length} columns from ${(size / 1e6).toFixed(0)} MB in ${s.toFixed(1)} s (${(size / 1e6 / s).toFixed(0)} MB/s, ` +
        `${used === "wasm" ? "WASM CSV reader" : used === "duckdb" ? "DuckDB" : `built-in reader${fallback ? `: ${fallback}` : ""}`}` +
        `${wasmFallback ? `; WASM CSV fast path declined: ${wasmFallback}` : ""})\n`,
    );
  }
  const frame = Frame.fromArrow(table);
  return { frame: read.placed ? frame.withPlaced(read.placed) : frame, report, placed: read.placed !== undefined };
}

/** One line per column with missing or unparsable values (stderr). */
export function describeRead(report: ReadReport): string[] {
  const lines: string[] = [];
  for (const c of report.columns) {
    if (c.missing || c.unparsable || c.infinite) {
      lines.push(`  ${c.name}: ${c.missing} missing${c.unparsable ? `, ${c.unparsable} unparsable treated as missing` : ""}${c.infinite ? `, ${c.infinite} infinite` : ""}`);
    }
    if (c.note) lines.push(`  ${c.name}: ${c.note}`);
  }
  for (const n of report.notes ?? []) lines.push(`  ${n}`);
  return lines;
}

/** A missing column's ColumnError with the role it was asked for (e.g. the cluster variable). */
function namedColumns(e: unknown, roles: Record<string, string>): unknown {
  if (!(e instanceof ColumnError)) return e;
  const missing = (e.details as { missing?: unknown } | undefined)?.missing;
  if (!Array.isArray(missing)) return e;
  const said = missing.filter((m: string) => roles[m]).map((m: string) => `${roles[m]} ${clip(m)}`);
  if (!said.length) return e;
  const out = new ColumnError(`${said.join(", ")}: ${e.message}`, e.details, e.hint);
  return out;
}

/**
 * The CLI's placed read (issue 14): the outcome and plain regressors of one float64 model read
 * by DuckDB straight into the engine's arena as its model matrix (core/placed.ts), memory grown
 * once to the block plus the fit's plan. Undefined (the ordinary read) unless every term is a
 * plain variable, there are fixed effects (no intercept column to insert) and no placed column
 * is used for anything else (FE, slope, cluster, weights, panel or coordinates: `others`).
 */
export function placeModel(f: Formula, others: string[], engine: Promise<Engine>): PlaceRequest | undefined {
  if (f.fixef.length === 0 || !f.terms.every((t) => t.kind === "var")) return undefined;
  const names = [f.lhs, ...f.terms.map((t) => (t as { name: string }).name)];
  const used = new Set([...others, ...f.fixef.flatMap((ft) => [...ft.vars, ...ft.slopes])]);
  if (new Set(names).size !== names.length || names.some((nm) => used.has(nm))) return undefined;
  return {
    names,
    engine,
    make: async (rows) => {
      const eng = await engine;
      eng.reserve(rows * 8 * names.length + planMemory({ n: rows, k: names.length - 1, Q: f.fixef.length }));
      return new PlacedColumns(eng, names, rows);
    },
  };
}
