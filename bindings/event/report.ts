// Neutral JSON record of an event-study suite (numbers only, camelCase keys as the library's
// objects; NaN and infinities become null through JSON.stringify).
import type { EventSuiteResult } from "./suite.js";
import type { WaldTest } from "./wald.js";

const wald = (w: WaldTest) => ({ terms: w.terms, q: w.q, chi2: w.chi2, pChi2: w.pChi2, F: w.F, df1: w.df1, df2: w.df2, pF: w.pF });

/** Cohort labels for Bacon comparisons: a period, "never" or "always". */
function cohortLabel(c: number): number | string {
  if (Number.isNaN(c)) return "never";
  if (c === -Infinity) return "always";
  return c;
}

export function eventSuiteToJson(r: EventSuiteResult, methods: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    level: r.level, methods, grid: r.grid, overlay: r.overlay, errors: r.errors, warnings: r.warnings,
  };
  if (r.twfe) {
    out.twfe = {
      formula: r.twfe.formula, nobs: r.twfe.nobs, refs: r.twfe.refs, vcov: r.twfe.fit.vcovLabel, df: r.twfe.fit.df,
      path: r.twfe.path, unidentified: r.twfe.unidentified, pretrend: wald(r.twfe.pretrend),
    };
  }
  if (r.sunab) {
    const f = r.sunab.fit;
    const att = r.sunab.att.table.find((x) => x.name === "ATT");
    out.sunab = {
      formula: f.formula, nobs: f.nobs, vcov: f.vcovLabel, df: f.df, coef: f.coef, se: f.se, path: r.sunab.path, att: att ?? null,
    };
  }
  if (r.cs) {
    const c = r.cs.attgt;
    const agg = (a: typeof r.cs.dynamic) => ({ overall: a.overall, rows: a.rows, critVal: a.critVal });
    out.cs = {
      controlGroup: c.controlGroup, estMethod: c.estMethod, basePeriod: c.basePeriod, nUnits: c.n, critVal: c.critVal,
      bootstrap: c.bootstrap, pretest: c.pretest, attgt: c.attgt,
      dynamic: agg(r.cs.dynamic), simple: agg(r.cs.simple), group: agg(r.cs.group),
    };
  }
  if (r.bjs) {
    const b = r.bjs;
    out.bjs = {
      overall: b.overall, path: b.path, pretrend: { leads: b.pretrend.leads, path: b.pretrend.path, wald: wald(b.pretrend.wald) },
      beta: b.beta, nUntreated: b.nUntreated, nTreated: b.nTreated, notImputable: b.notImputable, variance: b.variance,
    };
  }
  if (r.bacon) {
    const b = r.bacon;
    out.bacon = {
      twfe: b.twfe, twfeFeols: b.twfeFeols, weightSum: b.weightSum, weightedSum: b.weightedSum, nUnits: b.nUnits, byType: b.byType,
      comparisons: b.comparisons.map((c) => ({ ...c, treated: cohortLabel(c.treated), control: cohortLabel(c.control) })),
    };
  }
  return out;
}
