// Sections of the suite contributed by other modules: PSM-DiD (Table 6 col. 3), the
// in-space placebo (Table 7, Figure 2) and the robust staggered-DiD estimators.
import type { SuiteExtension, SuiteContext } from "./context.js";
import type { ReportSection, RegressionTable, DataTable, HistogramPlot, EventPlot, ScatterPlot, CoefSeries } from "../report/types.js";
import { psmDid } from "../psm/psm.js";
import { placebo } from "../inference/placebo.js";
import { runEventSuite } from "../event/index.js";
import { RolesError } from "../base/errors.js";
import { PAPER } from "./published.js";
import { formatPValue } from "../report/format.js";
import { etableTable } from "../report/etable.js";

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
  const table: RegressionTable = etableTable([fit], {
    id: "table6_psm", title: "Table 6 (3). PSM-DiD", rows: [did], dict: { [did]: "Zone x Post" }, labels: ["(3)"], headers: ["PSM-DiD"],
    dropSection: ["fixef", "slopes"], fitstat: ["nobs"], defaultNotes: false,
    extralines: { "Matched treated rows": [res.matching.nTreated], "Matched control rows": [res.matching.nControl], R2: [Number(fit.r2.toFixed(3))] },
    published: [{ coef: did, estimate: PAPER.table6.psm.estimate, se: PAPER.table6.psm.se }],
    notes: [
      "Standard errors in parentheses. *** p<0.01, ** p<0.05, * p<0.1.",
      `Logit propensity score of ${roles.zone} on ${roles.controls.join(", ")}; 1:1 nearest neighbour with replacement, caliper 0.05 on the score; DiD weighted by the matching weights. ${fit.vcovLabel}.`,
    ],
  });
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

/** Table 7 and Figure 2: in-space placebo. Adoption years are permuted across cities
 * (the multiset of years, never-treated included, is kept) and the baseline is
 * re-estimated by Frisch-Waugh-Lovell without refitting (bindings/inference/placebo.ts). */
export function placeboSection(ctx: SuiteContext): SectionOut {
  const { eng, roles, opts, baseline } = ctx;
  if (opts.draws <= 0) throw new RolesError("placebo skipped: --draws 0");
  const res = placebo(eng, baseline, {
    treatment: roles.did,
    scheme: "space",
    unit: roles.city,
    adopt: roles.adopt,
    year: roles.time,
    draws: opts.draws,
    seed: opts.seed,
    onProgress: (done, total) => ctx.progress("in-space placebo draws", done, total),
  });
  const pub = PAPER.table7;
  const p = res.p;
  const fmt = (x: number) => x.toFixed(3);
  // p-values from the draws: "< 0.002" for none of 500 as extreme (the paper's with its N)
  const pv = (x: number) => formatPValue(x, res.valid);
  const table: DataTable = {
    kind: "data",
    id: "table7",
    title: "Table 7. In-space placebo test",
    header: ["", "Rerun", "MC s.e.", "Paper"],
    rows: [
      ["True estimate", res.estimate, null, pub.estimate],
      ["Draws", res.valid, null, pub.draws],
      ["Mean of placebo estimates", mean(res.draws), null, null],
      ["SD of placebo estimates", sd(res.draws), null, null],
      ["p two-sided (|b*| >= |b|)", pv(p.twoSided.p), p.twoSided.mcse, pv(pub.pTwoSided)],
      ["p left (b* <= b)", pv(p.left.p), p.left.mcse, pv(pub.pLeft)],
      ["p right (b* >= b)", pv(p.right.p), p.right.mcse, pv(pub.pRight)],
    ],
    notes: [
      `Adoption years permuted across ${res.units} ${roles.city} units (${res.cohorts.length} adoption years plus never treated), seed ${res.seed}; ties within ${1e-7} counted as ritest does; Monte-Carlo s.e. sqrt(p(1-p)/N).`,
      `Method: ${res.method}${res.basisSolver ? ` (${res.basisSolver})` : ""}; ${Math.round(res.timing.drawsPerSecond).toLocaleString("en-US")} draws/s.`,
    ],
    digits: 4,
  };
  const hist: HistogramPlot = {
    kind: "histogram",
    id: "figure2",
    title: `Figure 2. Placebo estimates (${res.valid} draws)`,
    values: Array.from(res.draws).filter(Number.isFinite),
    marker: { value: res.estimate, label: `true estimate ${fmt(res.estimate)}` },
    xLabel: "Placebo coefficient of Zone x Post",
    notes: [`p two-sided ${pv(p.twoSided.p)}, left ${pv(p.left.p)}, right ${pv(p.right.p)}.`],
  };
  return {
    id: "table7",
    title: "Table 7 and Figure 2. In-space placebo",
    text: [...res.warnings],
    tables: [table],
    figures: [hist],
    results: {
      estimate: res.estimate,
      draws: Array.from(res.draws),
      valid: res.valid,
      p: res.p,
      ties: res.ties,
      method: res.method,
      seed: res.seed,
      timing: res.timing,
    },
  };
}

function mean(v: Float64Array): number {
  let s = 0, n = 0;
  for (const x of v) if (Number.isFinite(x)) { s += x; n++; }
  return s / n;
}

function sd(v: Float64Array): number {
  const m = mean(v);
  let s = 0, n = 0;
  for (const x of v) if (Number.isFinite(x)) { s += (x - m) ** 2; n++; }
  return Math.sqrt(s / (n - 1));
}

const METHOD_LABEL: Record<string, string> = {
  twfe: "TWFE event study",
  sunab: "Sun & Abraham (2021)",
  cs: "Callaway & Sant'Anna (2021)",
  bjs: "Borusyak, Jaravel & Spiess (2024)",
};

/** Legend labels of the Goodman-Bacon comparison types. */
const BACON_LABEL: Record<string, string> = {
  treated_vs_never: "Treated vs never treated",
  earlier_vs_later: "Earlier vs later treated (later as control)",
  later_vs_earlier: "Later vs earlier treated (earlier as control)",
  later_vs_always: "Later treated vs always treated",
};

/** Robust staggered-adoption estimators beside the TWFE event study, and the
 * Goodman-Bacon decomposition of the TWFE DiD. */
export function robustEventSection(ctx: SuiteContext): SectionOut {
  const { eng, frame, roles, opts } = ctx;
  const res = runEventSuite(eng, frame, {
    outcome: roles.outcome,
    unit: roles.unit,
    time: roles.time,
    adopt: roles.adopt,
    // one cohort per firm for every estimator: a firm that moves between cities adopting in
    // different years takes its first observed city's year (counted in the warnings below)
    cohortRule: "first",
    controls: roles.controls,
    level: opts.eventLevel,
    bootstrap: { draws: 1000, weights: "rademacher", seed: opts.seed },
  });
  const series: CoefSeries[] = [];
  for (const m of ["twfe", "sunab", "cs", "bjs"] as const) {
    const pts = res.overlay.filter((o) => o.method === m && Number.isFinite(o.estimate));
    if (pts.length) series.push({ label: METHOD_LABEL[m], points: pts.map((o) => ({ x: o.rel, estimate: o.estimate, low: o.ciLow, high: o.ciHigh })) });
  }
  const overlay: EventPlot = {
    kind: "event",
    id: "figure1_robust",
    title: `Figure 1b. TWFE and robust event-study estimators (${Math.round(res.level * 100)}% CI)`,
    xLabel: "Years relative to adoption",
    yLabel: `Effect on ${roles.outcome}`,
    series,
    reference: -1,
    notes: [
      "CS: never-treated controls, doubly robust without covariates, pairwise 2x2 panels; BJS: imputation from untreated observations; SA: interaction-weighted, never treated as reference cohort.",
      `One cohort per ${roles.unit}: its ${roles.adopt}; a ${roles.unit} whose ${roles.adopt} changes (a mover) takes the value of its first observed row.`,
    ],
  };
  const rows: (string | number | null)[][] = [];
  const overall: Record<string, { estimate: number; se: number }> = {};
  if (res.sunab) overall.sunab = { estimate: res.sunab.att.table[0]?.estimate ?? NaN, se: res.sunab.att.table[0]?.se ?? NaN };
  if (res.cs) overall.cs = { estimate: res.cs.simple.overall.estimate, se: res.cs.simple.overall.se };
  if (res.bjs) overall.bjs = { estimate: res.bjs.overall.estimate, se: res.bjs.overall.se };
  if (res.bacon) overall.twfe = { estimate: res.bacon.twfe, se: NaN };
  for (const [m, v] of Object.entries(overall)) rows.push([METHOD_LABEL[m] ?? m, v.estimate, Number.isFinite(v.se) ? v.se : null]);
  const tables: (DataTable | RegressionTable)[] = [
    { kind: "data", id: "robust_att", title: "Overall ATT by estimator", header: ["Estimator", "ATT", "SE"], rows, notes: ["TWFE here is the Bacon-decomposed coefficient on the balanced panel without controls."], digits: 4 },
  ];
  const figures: (EventPlot | ScatterPlot)[] = [overlay];
  if (res.bacon) {
    tables.push({
      kind: "data",
      id: "bacon",
      title: "Goodman-Bacon decomposition of the TWFE DiD",
      header: ["Comparison", "Weight", "Average estimate", "2x2 comparisons"],
      rows: res.bacon.byType.map((b) => [BACON_LABEL[b.type] ?? b.type, b.weight, b.estimate, b.count]),
      notes: [`Weights sum to ${res.bacon.weightSum.toFixed(6)}; weighted sum ${res.bacon.weightedSum.toFixed(6)} = TWFE ${res.bacon.twfe.toFixed(6)} (balanced panel of ${res.bacon.nUnits} units).`],
      digits: 4,
    });
    figures.push({
      kind: "scatter",
      id: "bacon_scatter",
      title: "Goodman-Bacon decomposition: every 2x2 comparison",
      xLabel: "Weight",
      yLabel: "2x2 DiD estimate",
      points: res.bacon.comparisons.map((c) => ({ x: c.weight, y: c.estimate, group: BACON_LABEL[c.type] ?? c.type })),
      hline: { value: res.bacon.twfe, label: "TWFE" },
      notes: [],
    });
  }
  const text = [
    ...Object.entries(res.errors).map(([m, e]) => `${METHOD_LABEL[m] ?? m} could not run: ${e}`),
    ...res.warnings,
  ];
  return {
    id: "figure1_robust",
    title: "Figure 1b. Staggered adoption: robust estimators and the Goodman-Bacon decomposition",
    text,
    tables,
    figures,
    results: {
      level: res.level,
      overlay: res.overlay,
      overall,
      bacon: res.bacon ? { byType: res.bacon.byType, twfe: res.bacon.twfe, weightSum: res.bacon.weightSum } : null,
      errors: res.errors,
    },
  };
}

export function suiteExtensions(): SuiteExtension[] {
  return [
    { id: "table6_psm", title: "Table 6 (3). Propensity-score matching DiD", after: "table6", run: psmSection },
    { id: "table7", title: "Table 7 and Figure 2. In-space placebo", after: "table6_psm", run: placeboSection },
    { id: "figure1_robust", title: "Figure 1b. Robust event-study estimators", after: "figure1", run: robustEventSection },
  ];
}
