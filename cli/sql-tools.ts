// hdfe wild --engine duckdb | clickhouse: the wild cluster bootstrap out of core. The model
// is fitted by bindings/sql/ (feolsSql, clustered by the bootstrap's cluster variable: its SE
// is the in-memory tool's withVcov SE); while its FE tables live, bindings/sql/wild-sql.ts pulls
// back the per-cluster sums; the replications, p-values and intervals run here in memory
// (inference/wild.ts wildFromAggregates: the same draws for the same seed).
import { OptionError } from "../bindings/base/errors.js";
import { feolsSql, type FeolsSqlOptions } from "../bindings/sql/feols-sql.js";
import { wildAggregatesSql, type WildSqlAggregates } from "../bindings/sql/wild-sql.js";
import { wildFromAggregates, checkWildClusters, type WildOptions, type WildResult } from "../bindings/inference/wild.js";
import { loadEngine } from "../bindings/node.js";
import type { SqlBackend } from "../bindings/sql/backend.js";
import { openClickhouse, type ClickhouseFlags } from "./clickhouse-fit.js";
import { openDuckdb } from "./sql-fit.js";

export interface SqlToolFlags extends Omit<ClickhouseFlags, "weights" | "vcov"> {
  fixefTol: string;
  fixefIter?: string;
}

/** Open the engine's backend, run `f`, close it. */
export async function withSqlBackend<T>(engine: "duckdb" | "clickhouse", flags: SqlToolFlags, f: (b: SqlBackend) => Promise<T>): Promise<T> {
  if (engine === "clickhouse") return f(openClickhouse(flags));
  if (flags.url !== undefined || flags.timeout !== undefined) throw new OptionError("--url and --timeout apply to --engine clickhouse only");
  const b = await openDuckdb(flags as Parameters<typeof openDuckdb>[0]);
  try {
    return await f(b);
  } finally {
    b.close();
  }
}

/** The fit's options of an out-of-core tool (its regression weights, FE options), clustered by `cluster`. */
function toolFitOptions(flags: SqlToolFlags & { ssc?: string; fixefRm: string; fixefAlgo?: string }, weights: string | undefined, cluster: string): FeolsSqlOptions {
  return {
    vcov: `cluster:${cluster}`, ssc: flags.ssc, weights, fixefRm: flags.fixefRm as "singleton" | "none",
    fixefTol: Number(flags.fixefTol), fixefIter: flags.fixefIter === undefined ? undefined : Number(flags.fixefIter),
    fixefAlgo: flags.fixefAlgo as FeolsSqlOptions["fixefAlgo"],
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  };
}

/** The wild bootstrap with the data in DuckDB or ClickHouse; the same result as in memory (same seed, same draws). */
export async function wildOutOfCore(
  engine: "duckdb" | "clickhouse",
  flags: SqlToolFlags & { formula: string; ssc?: string; fixefRm: string; fixefAlgo?: string; fitWeights?: string },
  opts: WildOptions,
): Promise<WildResult> {
  if (opts.cluster.includes("^")) {
    // in memory --cluster names one column (a^b is "not a column"): out of core the same, so both engines draw over the same clusters
    throw new OptionError(`the wild bootstrap clusters by one column, got "${opts.cluster}"`, { cluster: opts.cluster },
      "make the combined cluster a column of the data first (e.g. region_tier = region || '_' || tier), as in memory");
  }
  const t0 = performance.now(); // the setup time counts the engine's work (the fit, the cluster sums)
  const eng = await loadEngine();
  let agg: WildSqlAggregates | null = null;
  const fit = await withSqlBackend(engine, flags, (b) =>
    feolsSql(b, flags.formula, {
      ...toolFitOptions(flags, flags.fitWeights, opts.cluster),
      onDemeaned: async (st) => {
        agg = await wildAggregatesSql(st, opts.param, opts.cluster, (G) => checkWildClusters(G, opts.cluster));
        b.progress?.(`wild: ${agg.G} clusters, ${agg.pulled.toLocaleString("en-US")} numbers pulled back for the bootstrap`);
      },
    }),
  );
  if (!agg) throw new OptionError("the out-of-core fit ended before its cluster sums were computed");
  return wildFromAggregates(eng, agg, { estimate: fit.coef[opts.param], seFix: fit.se[opts.param], t0, nobs: fit.nobs, removed: fit.removed }, opts);
}
