// hdfe wild | placebo --engine duckdb | clickhouse: the inference tools out of core (placebo:
// placeboOutOfCore below). The wild cluster bootstrap: The model
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
import { openDuckdb, sqlFitOptions } from "./sql-fit.js";
import { placeboCarry, placeboCellsSql, basisColumnsSql, directProjectionSql } from "../bindings/sql/placebo-sql.js";
import { refuseOptions, planFromCells, basisFromCells, placeboFromCells, type CellPlan } from "../bindings/inference/placebo-cells.js";
import type { PlaceboOptions, PlaceboResult, PlaceboBasis, DrawPlan } from "../bindings/inference/placebo.js";

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

/**
 * The placebo with the data in DuckDB or ClickHouse (hdfe placebo --engine duckdb | clickhouse):
 * the model fitted by bindings/sql/, the (unit, year) cells and the demeaned basis columns' cell
 * sums pulled back while its FE tables live (sql/placebo-sql.ts), the plan and the draws in
 * memory from them (inference/placebo-cells.ts, placebo.ts placeboFromBasis): the same draws
 * for the same seed as in memory.
 */
export async function placeboOutOfCore(
  engine: "duckdb" | "clickhouse",
  flags: SqlToolFlags & { formula: string; vcov?: string; ssc?: string; fixefRm: string; fixefAlgo?: string; weights?: string },
  opts: PlaceboOptions,
): Promise<{ result: PlaceboResult; plan: DrawPlan }> {
  refuseOptions(opts);
  const t0 = performance.now();
  const eng = await loadEngine();
  const roles = { treatment: opts.treatment, unit: opts.unit, year: opts.year, adopt: opts.adopt, strata: opts.strata };
  const warnings: string[] = [];
  const warn = (m: string) => (warnings.push(m), opts.onWarning?.(m));
  type Done = { plan: CellPlan; B: PlaceboBasis; conv: { calls: number; failed: number; criterion: number } };
  let done = null as Done | null;
  const fit = await withSqlBackend(engine, flags, async (b) => {
    const pc = await placeboCarry(b, roles);
    return feolsSql(b, flags.formula, {
      // the draws do not use the fit's variance (scheme time, whose SEs do, is refused): iid unless --vcov
      // is given (a cluster variable's missing rows leave the sample, as in memory), no cluster pass
      ...sqlFitOptions({ ...flags, vcov: flags.vcov ?? "iid" }),
      carry: pc.carry,
      onDemeaned: async (st) => {
        const missing = `the treatment "${opts.treatment}" is not a coefficient of the fit`;
        const cs = await placeboCellsSql(st, roles, pc, missing);
        const plan = planFromCells(cs.cells, opts, st.fit, warn);
        // B'M_F B by the direct algebra where the FE allow it, else each basis column demeaned in the engine
        const direct = opts.basisSolver === "demean" ? null : await directProjectionSql(st, plan.specs, plan.cohortYears);
        if (!direct && opts.basisSolver === "direct") {
          throw new OptionError("the direct basis solver out of core needs at most two fixed effects, one of them with at most 100 levels", undefined, "leave basisSolver out (the basis columns are then demeaned in the engine)");
        }
        let B: PlaceboBasis, pulled = cs.pulled;
        const conv = { calls: 0, failed: 0, criterion: 0 };
        if (direct) {
          B = basisFromCells(plan, cs.cells, cs.kc, cs.ctrlInv, { pf: direct.pf });
          plan.P.basisSolver = "direct";
          pulled += direct.pulled;
        } else {
          const bs = await basisColumnsSql(st, plan.specs, plan.P.U * plan.T, plan.cell);
          B = basisFromCells(plan, cs.cells, cs.kc, cs.ctrlInv, { sums: bs.sums });
          Object.assign(conv, { calls: bs.batches, failed: bs.failed, criterion: bs.criterion });
          pulled += bs.pulled;
        }
        done = { plan, B, conv };
        b.progress?.(`placebo: ${plan.P.U} units, ${plan.specs.length} basis columns (${plan.P.basisSolver}), ${pulled.toLocaleString("en-US")} numbers pulled back for the draws`);
      },
    });
  });
  if (!done) throw new OptionError("the out-of-core fit ended before its placebo sums were computed");
  const { plan, B, conv }: Done = done;
  return { result: placeboFromCells(eng, plan, B, opts, { t0, warnings, conv, nobs: fit.nobs, removed: fit.removed }), plan: plan.P };
}
