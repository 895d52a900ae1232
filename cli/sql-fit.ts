// hdfe feols --engine duckdb: the out-of-core fit (bindings/sql/ over the DuckDB backend).
// The data is never read into this process: DuckDB scans it, bindings/sql/ pulls back the
// small results; progress (passes, sweeps) goes to stderr.
import { OptionError, WasmMemoryError } from "../bindings/base/errors.js";
import { feolsSql, SQL_TOOLS, type FeolsSqlOptions } from "../bindings/sql/feols-sql.js";
import type { ModelFlags } from "./data.js";
import { DuckDBBackend } from "../bindings/platform/duckdb-engine.js";
import type { Fit } from "../bindings/estimators/feols.js";

export const ENGINES = ["wasm", "duckdb", "clickhouse", "auto"] as const;
export type EngineName = (typeof ENGINES)[number];

export interface SqlFitFlags extends ModelFlags {
  data: string;
  table?: string;
}

/** feolsSql's options from the shared model flags (validated by the option schema before). */
export function sqlFitOptions(flags: ModelFlags): FeolsSqlOptions {
  return {
    vcov: flags.vcov,
    ssc: flags.ssc,
    weights: flags.weights,
    fixefRm: flags.fixefRm as "singleton" | "none",
    fixefTol: flags.fixefTol === undefined ? undefined : Number(flags.fixefTol),
    fixefIter: flags.fixefIter === undefined ? undefined : Number(flags.fixefIter),
    level: flags.level === undefined ? undefined : Number(flags.level),
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

/** Why a tool cannot run out of core: what it needs the rows for. */
const NEEDS_ROWS: Record<string, string> = {
  event: "its panel preparation (one cohort per unit, always-treated units dropped, leads and lags binned) and Sun-Abraham, Callaway-Sant'Anna, BJS imputation and Bacon work on the rows",
  placebo: "each permutation or wild-bootstrap draw refits on reshuffled rows or residuals",
  psm: "matching pairs rows by their propensity scores",
};

/** The hint for the event study: its TWFE model is feols with i(), which the engines fit. */
const EVENT_HINT = 'the TWFE event study is feols with i(): hdfe feols --engine duckdb -f "y ~ i(rel, ref = c(-1, -1000)) + controls | unit + time" --vcov cluster:unit, with rel = time - adoption year in the data (-1000 for never-treated units)';

/** A command other than feols given --engine: refused, naming what works and why. */
export function refuseEngine(command: string): OptionError {
  const why = NEEDS_ROWS[command];
  return new OptionError(
    `hdfe ${command} runs in memory only: the out-of-core engines (--engine duckdb) compute ${SQL_TOOLS.join(", ")} (with i() terms)${why ? `; ${command}: ${why}` : ""}`,
    { command },
    command === "event" ? EVENT_HINT : `use hdfe ${SQL_TOOLS[0]} --engine duckdb, or run ${command} on a sample that fits in memory`,
  );
}

/** Fit out of core in DuckDB. */
export async function fitDuckdb(flags: SqlFitFlags): Promise<Fit> {
  const progress = (m: string) => process.stderr.write(`duckdb: ${m}\n`);
  const b = await DuckDBBackend.open({ data: flags.data, table: flags.table, progress });
  try {
    return await feolsSql(b, flags.formula, sqlFitOptions(flags));
  } finally {
    b.close();
  }
}

/** The note printed when auto falls back to DuckDB after the memory plan refused the model. */
export function fallbackNote(e: WasmMemoryError): string {
  return `note: ${e.message.split(":")[0]}; fitting out of core with --engine duckdb instead\n`;
}
