// Sun & Abraham (2021) as an event-study tool: re-aggregation of a fit with a sunab() term
// (fixest: summary(fit, agg = ...)). The sunab() formula expansion itself (design columns and
// the post-fit aggregation that feols applies) is bindings/terms/sunab.ts.
import type { Fit, CoefRow } from "../estimators/feols.js";
import type { Engine } from "../engine/wasm.js";
import { OptionError } from "../base/errors.js";
import { qt, pval2 } from "../base/stats.js";
import { computeVcov, type VcovSpec, type SscName, type VcovInputs } from "../core/vcov.js";
import { recode } from "../core/sample.js";
import { sunabMap, applyMap, sunabRawOf, type SunabAgg, type SunabRaw } from "../terms/sunab.js";

export { sunabMap, cellName, type SunabAgg, type SunabMap, type SunabRaw, type SunabCell } from "../terms/sunab.js";

/** The raw cohort x period regression of a sunab fit, or null for other fits. */
export function sunabDetails(fit: Fit): SunabRaw | null {
  return sunabRawOf(fit.coefVector);
}

/** One aggregated coefficient: the same row shape as a fit's coefficient table. */
export type AggRow = CoefRow;

export interface SunabAggregation {
  agg: SunabAgg;
  names: string[];
  coef: Float64Array;
  vcov: Float64Array;
  df: number;
  level: number;
  table: AggRow[];
}

/**
 * Re-aggregate a sunab fit (fixest: summary(fit, agg = "att" | "period" | "cohort" | FALSE)),
 * with the fit's current vcov (after withVcov too) and its t df.
 */
export function sunabAggregate(eng: Engine, fit: Fit, agg: SunabAgg, level = fit.level): SunabAggregation {
  const raw = sunabDetails(fit);
  if (!raw) throw new OptionError("sunabAggregate() needs a fit with a sunab() term");
  const I = fit.internals;
  const n = fit.nobs;
  const V = rawVcov(eng, fit, raw);
  const map = sunabMap(raw.names, raw.counts, raw.period, agg);
  const res = applyMap(map, { names: raw.names, beta: raw.beta, V, xTilde: new Float64Array(0), bread: raw.bread, feDof: raw.feDof }, n);
  void I;
  const kOut = res.names.length;
  const crit = qt(1 - (1 - level) / 2, fit.df);
  const table = res.names.map((name, r) => {
    const est = res.beta[r];
    const se = Math.sqrt(res.V[r + r * kOut]);
    const t = est / se;
    return { name, estimate: est, se, t, p: pval2(t, fit.df), ciLow: est - crit * se, ciHigh: est + crit * se };
  });
  return { agg, names: res.names, coef: res.beta, vcov: res.V, df: fit.df, level, table };
}

function rawVcov(eng: Engine, fit: Fit, raw: SunabRaw): Float64Array {
  const I = fit.internals;
  const spec: VcovSpec = fit.vcov;
  const clusters: Record<string, { codes: Int32Array; G: number }> = {};
  if (spec.type === "cluster") {
    for (const name of spec.vars) {
      const fe = I.sample.fe.find((d) => d.name === name);
      if (fe && fe.type !== 1) {
        clusters[name] = { codes: fe.codes, G: fe.levels };
        continue;
      }
      const parts = name.split("^").map((p) => {
        const c = I.frame.codes(p);
        return recode(c.codes, I.sample.rows, c.levels.length).codes;
      });
      const map = new Map<string, number>();
      const codes = new Int32Array(I.sample.n);
      for (let i = 0; i < I.sample.n; i++) {
        const key = parts.map((p) => p[i]).join(",");
        let c = map.get(key);
        if (c === undefined) map.set(key, (c = map.size));
        codes[i] = c;
      }
      clusters[name] = { codes, G: map.size };
    }
  }
  if (raw.xTilde.length !== fit.nobs * raw.names.length) {
    if (fit.vcovMatrix === raw.reportedV) return raw.V;
    throw new OptionError("this sunab fit was made with keepData: false, so its variance cannot be recomputed under another vcov");
  }
  const inputs: VcovInputs = {
    n: fit.nobs, k: raw.names.length, bread: raw.bread, x: raw.xTilde, e: I.residuals, ssr: fit.ssr,
    fe: I.sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type })),
    feDof: raw.feDof, clusters, hasIntercept: I.hasIntercept,
  };
  return computeVcov(eng, inputs, spec, fit.ssc as SscName).V;
}
