// Sections of the suite contributed by other modules: PSM-DiD (Table 6 col. 3), the
// in-space placebo (Table 7, Figure 2) and the robust staggered-DiD estimators.
import type { SuiteExtension, SuiteContext } from "./run.js";
import type { ReportSection, RegressionTable, DataTable } from "../report/types.js";
import { psmDid } from "../psm.js";
import { PAPER } from "./published.js";

type SectionOut = ReportSection & { results: Record<string, unknown> };

/** Table 6 column (3): logit propensity score of Zone on the controls, 1:1 nearest
 * neighbour with replacement and a 0.05 caliper on the score (the corporate-finance
 * convention), pooled over firm-years; the baseline DiD on the matched rows with the
 * matching weights. */
export function psmSection(ctx: SuiteContext): SectionOut {
  const { eng, frame, roles, opts } = ctx;
  const res = psmDid(eng, frame, {
    treatment: roles.zone,
    covariates: roles.controls,
    distance: "logit",
    ratio: 1,
    replace: true,
    caliper: 0.05,
    did: { formula: ctx.baselineFormula, vcov: opts.vcov, ssc: opts.ssc, fixefRm: opts.fixefRm },
  });
  const did = roles.did;
  const fit = res.did;
  const r = fit.table.find((t) => t.name === did)!;
  const table: RegressionTable = {
    kind: "regression",
    id: "table6_psm",
    title: "Table 6 (3). PSM-DiD",
    rows: [did],
    labels: { [did]: "Zone x Post" },
    columns: [
      {
        label: "(3)",
        header: "PSM-DiD",
        coefs: { [did]: { estimate: r.estimate, se: r.se, p: r.p, ci: [r.ciLow, r.ciHigh] } },
        stats: { Observations: fit.nobs, "Matched treated rows": res.matching.nTreated, "Matched control rows": res.matching.nControl, R2: Number(fit.r2.toFixed(3)) },
        published: { coef: did, estimate: PAPER.table6.psm.estimate, se: PAPER.table6.psm.se },
      },
    ],
    notes: [
      "Standard errors in parentheses. *** p<0.01, ** p<0.05, * p<0.1.",
      `Logit propensity score of ${roles.zone} on ${roles.controls.join(", ")}; 1:1 nearest neighbour with replacement, caliper 0.05 on the score; DiD weighted by the matching weights. ${fit.vcovLabel}.`,
    ],
  };
  const balance: DataTable = {
    kind: "data",
    id: "table6_psm_balance",
    title: "PSM balance: standardised mean differences",
    header: ["Variable", "Mean treated (before)", "Mean control (before)", "SMD before", "Mean treated (after)", "Mean control (after)", "SMD after"],
    rows: res.balance.map((b) => [b.name, b.meanTreatedBefore, b.meanControlBefore, b.smdBefore, b.meanTreatedAfter, b.meanControlAfter, b.smdAfter]),
    notes: ["SMD = (treated mean - control mean) / treated SD before matching (MatchIt's definition); after matching, weighted means."],
    digits: 3,
  };
  return {
    id: "table6_psm",
    title: "Table 6 (3). Propensity-score matching DiD",
    text: [
      `${res.matching.nRows.toLocaleString("en-US")} matched rows (${res.matching.nTreated} treated, ${res.matching.nControl} controls) out of ${res.sampleRows.length.toLocaleString("en-US")}; ${res.removedMissing} rows lacked a covariate.`,
      ...res.warnings,
    ],
    tables: [table, balance],
    figures: [],
    results: {
      logit: { coef: res.logit.coef, se: res.logit.se, loglik: res.logit.loglik, converged: res.logit.converged },
      matching: { ...res.matching, matchMatrix: undefined },
      balance: res.balance,
      did: { coef: fit.coef[did], se: fit.se[did], p: fit.pvalue[did], nobs: fit.nobs },
    },
  };
}

export function suiteExtensions(): SuiteExtension[] {
  return [{ id: "table6_psm", title: "Table 6 (3). Propensity-score matching DiD", after: "table6", run: psmSection }];
}
