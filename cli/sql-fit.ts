// hdfe feols --engine duckdb: the out-of-core fit (bindings/sql/ over the DuckDB backend).
// The data is never read into this process: DuckDB scans it, bindings/sql/ pulls back the
// small results; progress (passes, sweeps) goes to stderr.
import { OptionError, WasmMemoryError } from "../bindings/base/errors.js";
import { feolsSql, SQL_TOOLS, type FeolsSqlOptions } from "../bindings/sql/feols-sql.js";
import { csvOnlyFlags, listOf, type ModelFlags, type ReadFlags } from "./data.js";
import { clip } from "./options.js";
import { DuckDBBackend } from "../bindings/platform/duckdb-engine.js";
import { planBeforeReading, type Fit } from "../bindings/estimators/feols.js";
import { WASM_MAX_BYTES } from "../bindings/engine/wasm.js";
import { countRows } from "../bindings/platform/row-count.js";
import { formatFromName, type DataFormat } from "../bindings/io/index.js";
import { parseFormula, formulaColumns } from "../bindings/core/formula.js";

export const ENGINES = ["wasm", "duckdb", "clickhouse", "auto"] as const;
export type EngineName = (typeof ENGINES)[number];

export interface SqlFitFlags extends ModelFlags, Partial<Omit<ReadFlags, "data">> {
  data: string;
  table?: string;
  fixefAlgo?: string;
}

/** feolsSql's options from the shared model flags (validated by the option schema before). */
export function sqlFitOptions(flags: ModelFlags & { fixefAlgo?: string }): FeolsSqlOptions {
  return {
    vcov: flags.vcov,
    ssc: flags.ssc,
    weights: flags.weights,
    fixefRm: flags.fixefRm as "singleton" | "none",
    fixefTol: flags.fixefTol === undefined ? undefined : Number(flags.fixefTol),
    fixefIter: flags.fixefIter === undefined ? undefined : Number(flags.fixefIter),
    level: flags.level === undefined ? undefined : Number(flags.level),
    fixefAlgo: flags.fixefAlgo as FeolsSqlOptions["fixefAlgo"],
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  };
}

/** The engine a feols run uses: --engine, else duckdb for a database table, else auto. */
export function engineOf(flags: { engine?: string; table?: string; data?: string }): EngineName {
  const e = (flags.engine ?? "auto").toLowerCase();
  if (!(ENGINES as readonly string[]).includes(e)) {
    throw new OptionError(`unknown engine "${flags.engine}"`, undefined, "--engine wasm (in memory) | duckdb (out of core) | clickhouse (out of core on a server: --url, --table) | auto (wasm, duckdb when the model does not fit WASM memory)");
  }
  if (e === "clickhouse") return e;
  if (e === "wasm" && (flags.table || /\.duckdb$/i.test(flags.data ?? ""))) {
    throw new OptionError("a table of a DuckDB database (--table) is fitted by --engine duckdb only");
  }
  if (flags.table || /\.duckdb$/i.test(flags.data ?? "")) return "duckdb";
  return e as EngineName;
}

/** The commands that take --engine duckdb | clickhouse (the others are refused by refuseEngine; event refuses its methods that need the rows, placebo its options: inference/placebo-cells.ts). */
export const OUT_OF_CORE: readonly string[] = [...SQL_TOOLS, "event"];

/** Why a tool cannot run out of core: what it needs the rows for. */
const NEEDS_ROWS: Record<string, string> = {
  psm: "matching pairs rows by their propensity scores",
};

/** A command other than feols given --engine: refused, naming what works and why. */
export function refuseEngine(command: string): OptionError {
  const why = NEEDS_ROWS[command];
  return new OptionError(
    `hdfe ${command} runs in memory only: the out-of-core engines (--engine duckdb) compute ${SQL_TOOLS[0]} (with i() terms), ${SQL_TOOLS.slice(1).join(", ")} and hdfe event --method twfe | sunab${why ? `; ${command}: ${why}` : ""}`,
    { command },
    `use hdfe ${SQL_TOOLS[0]} --engine duckdb, or run ${command} on a sample that fits in memory`,
  );
}

/** Fit out of core in DuckDB. */
export async function fitDuckdb(flags: SqlFitFlags): Promise<Fit> {
  const b = await openDuckdb(flags);
  try {
    return await feolsSql(b, flags.formula, sqlFitOptions(flags));
  } finally {
    b.close();
  }
}

/**
 * --reader and --format out of core, checked before any work instead of ignored: DuckDB reads
 * the file with its own reader (CSV or Parquet, --format or the name), ClickHouse reads its
 * table (neither option applies). Returns the format DuckDB is to read the file as.
 */
export function outOfCoreFormat(flags: Partial<Omit<ReadFlags, "data">>, engine: "duckdb" | "clickhouse"): "csv" | "parquet" | undefined {
  const reader = flags.reader?.toLowerCase();
  if (engine === "clickhouse") {
    const names = csvOnlyFlags(flags);
    if (names.length) {
      throw new OptionError(`${names.join(", ")} ${names.length === 1 ? "reads" : "read"} CSV files; --engine clickhouse reads the table on the server`, undefined, `leave ${names.length === 1 ? "it" : "them"} out`);
    }
    if (reader !== undefined && reader !== "auto") throw new OptionError(`--reader ${clip(flags.reader!)} chooses how a file is read into memory; --engine clickhouse reads the table on the server`, undefined, "leave --reader out");
    if (flags.format !== undefined) throw new OptionError(`--format applies to --data files; --engine clickhouse reads the table on the server`, undefined, "leave --format out");
    return undefined;
  }
  if (reader === "js") throw new OptionError("--reader js is the in-memory reader; --engine duckdb reads the file with DuckDB's own reader", undefined, "leave --reader out, or fit in memory with --engine wasm --reader js");
  if (reader !== undefined && reader !== "auto" && reader !== "duckdb") throw new OptionError(`unknown reader ${JSON.stringify(flags.reader)}`, undefined, "use duckdb, js or auto");
  const format = flags.format?.toLowerCase();
  if (format === undefined || format === "csv" || format === "parquet") return format;
  if (format === "arrow") throw new OptionError("--engine duckdb reads CSV and Parquet files, not Arrow IPC / Feather", undefined, "fit it in memory with --engine wasm, or convert it to Parquet");
  throw new OptionError(`unknown format ${JSON.stringify(flags.format)}`, undefined, "use csv, parquet or arrow");
}

/** The DuckDB backend over --data (a file, or --table of a .duckdb database), with the reader's CSV options. */
export async function openDuckdb(flags: Omit<SqlFitFlags, keyof ModelFlags>): Promise<DuckDBBackend> {
  const format = outOfCoreFormat(flags, "duckdb");
  const progress = (m: string) => process.stderr.write(`duckdb: ${m}\n`);
  // the in-memory reader's CSV options, as DuckDB's read_csv takes them (or refused, naming why)
  const csv = {
    na: flags.na === undefined ? undefined : flags.na.split(","),
    delimiter: flags.delimiter,
    encoding: flags.encoding,
    textColumns: flags.textColumns === undefined ? undefined : listOf(flags.textColumns),
    unparsableAsNa: flags.unparsableAsNa,
  };
  return DuckDBBackend.open({ data: flags.data, table: flags.table, format, progress, csv });
}

/** The note printed when auto falls back to DuckDB after the memory plan refused the model. */
export function fallbackNote(e: WasmMemoryError): string {
  return `note: ${e.message.split(":")[0]}; fitting out of core with --engine duckdb instead\n`;
}

/** The WASM memory an in-memory fit may plan on: 4 GiB, or HDFE_WASM_MEMORY_LIMIT bytes (tests, smaller machines). */
export function wasmMemoryLimit(): number {
  const env = process.env.HDFE_WASM_MEMORY_LIMIT;
  if (env === undefined || env === "") return WASM_MAX_BYTES;
  const v = Number(env);
  if (!(v > 0)) throw new OptionError(`HDFE_WASM_MEMORY_LIMIT must be a positive number of bytes, got ${JSON.stringify(env)}`);
  return Math.min(v, WASM_MAX_BYTES);
}

/**
 * --engine auto (the default) for a tool that fits one model and can run out of core (wild,
 * placebo): the memory plan of its fit on the file's rows, as for feols. Over the plan: "duckdb"
 * with a note when the tool runs out of core with these options (`outOfCore`), else the plan's
 * WasmMemoryError naming --engine duckdb (also for --engine wasm, before the file is read).
 * duckdb / clickhouse, or no --data, are kept.
 */
export async function toolEngine(engine: EngineName, flags: { data?: string; format?: string; formula: string }, weights: string | undefined, outOfCore: boolean): Promise<EngineName> {
  if ((engine !== "auto" && engine !== "wasm") || flags.data === undefined) return engine;
  const f = parseFormula(flags.formula);
  const fe = f.fixef.length;
  return planEngine({ data: flags.data, format: flags.format, weights }, { regressors: Math.max(0, formulaColumns(f).length - 1 - fe), fe }, engine === "auto" && outOfCore);
}

/**
 * The engine of an in-memory candidate, decided before the data is read: the file's rows
 * (Parquet metadata, a CSV's size; row-count.ts) against planMemory of estimators/feols.ts (the plan feols checks after reading).
 * Within the plan, or rows unknown: "wasm". Over it: "duckdb" when `outOfCore` (--engine auto,
 * a model the DuckDB engine fits), with a note on stderr; else the plan's WasmMemoryError,
 * which names --engine duckdb.
 */
export async function planEngine(flags: { data: string; format?: string; weights?: string }, cols: { regressors: number; fe: number }, outOfCore: boolean): Promise<"wasm" | "duckdb"> {
  let format: DataFormat;
  try {
    format = (flags.format as DataFormat | undefined) ?? formatFromName(flags.data);
  } catch {
    return "wasm"; // no format from the name (a directory, an unknown extension): the reader says why
  }
  const count = await countRows(flags.data, format);
  if (count === null) return "wasm";
  try {
    planBeforeReading({ n: count.rows, k: cols.regressors, Q: cols.fe, weighted: flags.weights !== undefined }, wasmMemoryLimit(), count.estimated);
    return "wasm";
  } catch (e) {
    if (!(e instanceof WasmMemoryError) || !outOfCore) throw e;
    process.stderr.write(fallbackNote(e));
    return "duckdb";
  }
}
