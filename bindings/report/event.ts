// Reports of an event-study suite: a neutral JSON record (numbers only, camelCase keys as the
// library's objects; NaN and infinities become null through JSON.stringify) and the text
// tables that `hdfe event` prints.
import type { EventSuiteResult, EventMethod } from "../event/suite.js";
import type { EventPoint } from "../event/twfe.js";
import type { WaldTest } from "../event/wald.js";

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

// ---------------------------------------------------------------------------------------------
// text

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : "-");
const pad = (s: string, w: number) => (s.length >= w ? s : " ".repeat(w - s.length) + s);
const pct = (level: number) => `${Math.round(level * 1000) / 10}%`;

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  return [head.map((h, j) => pad(h, w[j])).join("  "), ...rows.map((r) => r.map((c, j) => pad(c, w[j])).join("  "))].join("\n");
}

function pathTable(path: EventPoint[], level: number): string {
  return table(
    ["rel", "estimate", "s.e.", `[${pct(level)}`, "CI]"],
    path.map((p) => [String(p.rel) + (p.binned ? "+" : ""), p.reference ? "(ref)" : f4(p.estimate), p.reference ? "" : f4(p.se), p.reference ? "" : f4(p.ciLow), p.reference ? "" : f4(p.ciHigh)]),
  );
}

const waldLine = (w: WaldTest) =>
  w.q > 0 ? `joint pre-trend test (${w.q} leads): chi2 = ${f4(w.chi2)}, p = ${f4(w.pChi2)}; F(${w.df1}, ${w.df2}) = ${f4(w.F)}, p = ${f4(w.pF)}` : "joint pre-trend test: no lead to test";

export interface EventTextOptions {
  /** rewrites an estimator's error message (the CLI names its options instead of the library's) */
  errorText?: (message: string) => string;
}

/** The event-study suite as text tables (what `hdfe event` prints). */
export function eventSuiteText(r: EventSuiteResult, o: EventTextOptions = {}): string {
  const errorText = o.errorText ?? ((m: string) => m);
  const out: string[] = [];
  const L = r.level;
  if (r.twfe) {
    out.push(`== TWFE event study: ${r.twfe.formula}  (N = ${r.twfe.nobs}, ${r.twfe.fit.vcovLabel}, ${pct(L)} CIs)`);
    out.push(pathTable(r.twfe.path, L));
    if (r.twfe.unidentified.length) out.push(`not identified (collinear with the fixed effects): ${r.twfe.unidentified.map((k) => `rel::${k}`).join(", ")}`);
    out.push(waldLine(r.twfe.pretrend));
  }
  if (r.sunab) {
    const att = r.sunab.att.table.find((x) => x.name === "ATT");
    out.push(`\n== Sun & Abraham (2021), fixest sunab() conventions  (N = ${r.sunab.fit.nobs}, ${r.sunab.fit.vcovLabel})`);
    out.push(pathTable(r.sunab.path, L));
    if (att) out.push(`ATT (post periods, cohort-share weights): ${f4(att.estimate)} (${f4(att.se)}), [${f4(att.ciLow)}, ${f4(att.ciHigh)}]`);
  }
  if (r.cs) {
    const c = r.cs.attgt;
    out.push(
      `\n== Callaway & Sant'Anna (2021): ${c.estMethod.toUpperCase()} 2x2, ${c.controlGroup === "never" ? "never-treated" : "not-yet-treated"} controls, ${c.n} units` +
        (c.bootstrap ? `, uniform bands from ${c.bootstrap.draws} ${c.bootstrap.weights} multiplier draws` : ""),
    );
    out.push(table(
      ["group", "time", "ATT(g,t)", "s.e.", "[band", "band]"],
      c.attgt.map((a) => [String(a.group), String(a.time), f4(a.att), f4(a.se), f4(a.bandLow), f4(a.bandHigh)]),
    ));
    if (c.pretest) out.push(`pre-test of parallel trends: W = ${f4(c.pretest.W)} (${c.pretest.df} df), p = ${f4(c.pretest.p)}`);
    const d = r.cs.dynamic;
    out.push(`event-time aggregation (${pct(L)} pointwise CI, uniform band crit ${f4(d.critVal)}):`);
    out.push(table(["e", "estimate", "s.e.", "[CI", "CI]", "[band", "band]"], d.rows.map((x) => [String(x.egt), f4(x.estimate), f4(x.se), f4(x.ciLow), f4(x.ciHigh), f4(x.bandLow), f4(x.bandHigh)])));
    for (const [name, a] of [["simple", r.cs.simple], ["dynamic (post)", r.cs.dynamic], ["group", r.cs.group]] as const) {
      out.push(`overall ATT, ${name}: ${f4(a.overall.estimate)} (${f4(a.overall.se)}), [${f4(a.overall.ciLow)}, ${f4(a.overall.ciHigh)}]`);
    }
  }
  if (r.bjs) {
    const b = r.bjs;
    out.push(`\n== Borusyak, Jaravel & Spiess (2024) imputation: ${b.nTreated} treated, ${b.nUntreated} untreated observations`);
    out.push(table(["h", "estimate", "s.e.", `[${pct(L)}`, "CI]", "N"], b.path.map((x) => [String(x.rel), f4(x.estimate), f4(x.se), f4(x.ciLow), f4(x.ciHigh), String(x.nObs)])));
    out.push(`overall ATT: ${f4(b.overall.estimate)} (${f4(b.overall.se)}), [${f4(b.overall.ciLow)}, ${f4(b.overall.ciHigh)}]`);
    out.push(waldLine(b.pretrend.wald) + " (untreated observations, Test 1)");
    out.push(`variance: ${b.variance}`);
  }
  if (r.bacon) {
    const b = r.bacon;
    out.push(`\n== Goodman-Bacon decomposition of the TWFE DiD ${f4(b.twfe)} (balanced panel, ${b.nUnits} units)`);
    out.push(table(["comparison", "weight", "estimate", "n"], b.byType.map((x) => [x.type.replace(/_/g, " "), f4(x.weight), f4(x.estimate), String(x.count)])));
    out.push(`weights sum to ${f4(b.weightSum)}; weighted sum ${f4(b.weightedSum)}`);
  }
  for (const [m, e] of Object.entries(r.errors)) out.push(`\n${m}: not estimated (${errorText(String(e))})`);
  const present = new Set(r.overlay.map((x) => x.method));
  const methods = (["twfe", "sunab", "cs", "bjs"] as EventMethod[]).filter((m) => present.has(m));
  if (methods.length > 1) {
    out.push(`\n== Overlay (${pct(L)} intervals)`);
    out.push(table(["rel", ...methods], r.grid.map((k) => [String(k), ...methods.map((m) => {
      const p = r.overlay.find((x) => x.method === m && x.rel === k);
      return p ? (p.reference ? "(ref)" : f4(p.estimate)) : "";
    })])));
  }
  return out.join("\n");
}
