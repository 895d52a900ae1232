// Two-way fixed-effects event study (fixest: feols(y ~ i(rel, ref = c(-1, -1000)) + X | unit + time)):
// the coefficient path with confidence intervals at any level and a joint pre-trend Wald test.
import type { Engine } from "../engine/wasm.js";
import { Frame, type PlainColumn } from "../core/frame.js";
import { feols, type Fit } from "../estimators/feols.js";
import type { FixefRm } from "../core/sample.js";
import { OptionError, SampleError } from "../base/errors.js";
import { checkOption } from "../base/options.js";
import { preparePanel, isNever, type Panel, type PanelRoles } from "./panel.js";
import { waldTest, type WaldTest } from "./wald.js";

/** Relative period given to never-treated units (referenced, as in fixest's examples). */
export const NEVER_REL = -1000;

export interface EventStudyOptions extends PanelRoles {
  /** extra fixed effects besides unit and time (e.g. ["city"]) */
  fe?: string[];
  /** reference relative period(s); "first" = the earliest lead (the paper's Fig. 1). Default -1 */
  ref?: number | number[] | "first";
  /** pool leads at or before this (negative) relative period into it */
  binLead?: number;
  /** pool lags at or after this relative period into it */
  binLag?: number;
  /** confidence level of the intervals (the study uses 0.90). Default 0.95 */
  level?: number;
  /** feols vcov; default clustered by unit */
  vcov?: string;
  /** "unit" (default): relative time from each unit's cohort (its adoption year, see cohortRule),
   *  always-treated units dropped; "row": from each row's own adopt value, as a data set's own rel
   *  column (fixest references; units whose adoption year varies keep their rows' values) */
  timing?: "unit" | "row";
  /** singleton handling of the regression; default "none" (fixest's) */
  fixefRm?: FixefRm;
}

export interface EventPoint {
  rel: number;
  estimate: number;
  se: number;
  ciLow: number;
  ciHigh: number;
  p: number;
  /** a reference period (normalised to 0) */
  reference: boolean;
  /** an endpoint that pools more distant periods */
  binned: boolean;
}

export interface EventStudyResult {
  method: "twfe";
  formula: string;
  level: number;
  path: EventPoint[];
  /** relative periods in the data whose terms were dropped as collinear with the fixed effects
   *  (not identified; absent from the path) */
  unidentified: number[];
  /** H0: every lead (non-reference rel < 0) is zero, with the fit's vcov; F uses the fit's t df */
  pretrend: WaldTest;
  fit: Fit;
  refs: number[];
  nobs: number;
  warnings: string[];
}

/** R-safe column reference for a formula. */
export function q(name: string): string {
  return /^[A-Za-z][A-Za-z0-9._]*$/.test(name) && !/^\.\d/.test(name) ? name : "`" + name.replace(/`/g, "") + "`";
}

/** A plain Frame with the panel's rows: unit, time, outcome, controls and any extra columns. */
export function panelFrame(frame: Frame, p: Panel, extra: string[] = [], add: Record<string, PlainColumn> = {}): Frame {
  const r = p.roles;
  const cols: Record<string, PlainColumn> = {};
  cols[r.unit] = Array.from(p.unit, (u) => p.unitLabels[u]);
  cols[r.time] = Float64Array.from(p.t, (t) => p.periods[t]);
  cols[r.outcome] = p.y;
  (r.controls ?? []).forEach((c, j) => (cols[c] = p.X[j]));
  for (const e of extra) {
    if (e in cols) continue;
    if (frame.isNumeric(e)) {
      const v = frame.numeric(e);
      cols[e] = Float64Array.from(p.rows, (i) => v[i]);
    } else {
      const c = frame.codes(e);
      cols[e] = Array.from(p.rows, (i) => (c.codes[i] < 0 ? null : c.levels[c.codes[i]]));
    }
  }
  Object.assign(cols, add);
  return Frame.fromColumns(cols);
}

export function eventStudy(eng: Engine, frame: Frame, opts: EventStudyOptions): EventStudyResult {
  const level = opts.level ?? 0.95;
  checkOption("level", level);
  const timing = opts.timing ?? "unit";
  if (timing !== "unit" && timing !== "row") throw new OptionError(`timing must be unit or row, got "${String(timing)}"`);
  const p = preparePanel(frame, opts, { dropAlwaysTreated: timing === "unit", unitCohorts: timing === "unit" });
  const warnings = [...p.warnings];
  const rel = new Float64Array(p.n);
  if (timing === "unit") {
    // year - adopt of the unit's cohort (not the first period after it), as fixest's i(rel)
    for (let r = 0; r < p.n; r++) {
      const c = p.cohort[p.unit[r]];
      rel[r] = Number.isFinite(c) ? p.periods[p.t[r]] - c : NEVER_REL;
    }
  } else {
    const a = frame.numeric(opts.adopt);
    let varies = 0;
    const first = new Float64Array(p.nUnits).fill(NaN);
    const flagged = new Uint8Array(p.nUnits);
    for (let r = 0; r < p.n; r++) {
      const ai = a[p.rows[r]];
      const never = isNever(ai, p.periods);
      rel[r] = never ? NEVER_REL : p.periods[p.t[r]] - ai;
      const v = never ? Infinity : ai;
      const u = p.unit[r];
      if (Number.isNaN(first[u])) first[u] = v;
      else if (first[u] !== v && !flagged[u]) {
        flagged[u] = 1;
        varies++;
      }
    }
    if (varies > 0) {
      warnings.push(`${varies} unit(s) have more than one adoption year in "${opts.adopt}": with timing "row" each row is timed from its own value (as i(rel) on the data's column)`);
    }
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of rel) if (v !== NEVER_REL) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!Number.isFinite(lo)) throw new SampleError("event study: no treated unit in the data");
  if (opts.binLead !== undefined) {
    checkOption("binLead", opts.binLead);
    for (let r = 0; r < p.n; r++) if (rel[r] !== NEVER_REL && rel[r] < opts.binLead) rel[r] = opts.binLead;
  }
  if (opts.binLag !== undefined) {
    checkOption("binLag", opts.binLag);
    for (let r = 0; r < p.n; r++) if (rel[r] !== NEVER_REL && rel[r] > opts.binLag) rel[r] = opts.binLag;
  }
  const g = eventGrid(lo, hi, rel, opts);
  if (timing === "unit") {
    // a comparison is needed: never-treated units or units treated later
    const cohorts = new Map<number, number>();
    for (let u = 0; u < p.nUnits; u++) {
      const c = Number.isFinite(p.cohort[u]) ? p.cohort[u] : NaN;
      cohorts.set(c, (cohorts.get(c) ?? 0) + 1);
    }
    checkComparison(cohorts, p.nUnits, g.terms, opts.time);
  }
  const pf = panelFrame(frame, p, opts.fe ?? [], { [REL_NAME]: rel });
  const formula = eventFormula(opts, g.refs);
  const fit = feols(eng, pf, formula, {
    vcov: opts.vcov ?? `cluster:${opts.unit}`, level, fixefRm: opts.fixefRm ?? "none",
    onWarning: (m) => warnings.push(m),
  });
  return eventResult(fit, { ...g, formula, level, hasNever: rel.some((v) => v === NEVER_REL), binLead: opts.binLead, binLag: opts.binLag, warnings });
}

/** The name of the relative-period column of the TWFE regression (its terms are rel::k). */
export const REL_NAME = "rel";

/** The bounds after binning, the reference periods and the terms of the regression, from the relative periods seen (binned). */
export interface EventGrid {
  lo: number;
  hi: number;
  lo2: number;
  hi2: number;
  refs: number[];
  terms: number[];
}

/** lo, hi: the treated rows' relative periods before binning; rel: every row's, binned (NEVER_REL for never treated). */
export function eventGrid(lo: number, hi: number, rel: Iterable<number>, opts: Pick<EventStudyOptions, "ref" | "binLead" | "binLag">): EventGrid {
  const lo2 = opts.binLead !== undefined ? Math.max(lo, opts.binLead) : lo;
  const hi2 = opts.binLag !== undefined ? Math.min(hi, opts.binLag) : hi;
  const refs = opts.ref === "first" ? [lo2] : Array.isArray(opts.ref) ? opts.ref : [opts.ref ?? -1];
  // the relative periods whose terms enter the regression
  const relSet = new Set<number>();
  for (const v of rel) if (v !== NEVER_REL && !refs.includes(v)) relSet.add(v);
  return { lo, hi, lo2, hi2, refs, terms: [...relSet].sort((a, b) => a - b) };
}

/** Units by cohort (NaN: never treated): with no never-treated unit and a single cohort the terms are not identified. */
export function checkComparison(cohortUnits: Map<number, number>, nUnits: number, terms: number[], time: string): void {
  const cohorts = [...cohortUnits.keys()].filter((c) => !Number.isNaN(c));
  const never = cohortUnits.get(NaN) ?? 0;
  if (never === 0 && cohorts.length === 1) {
    const g = cohorts[0];
    throw new SampleError(
      `every unit in the sample adopts in ${g} and none is never treated: the event-time terms ${terms.map((k) => `rel::${k}`).join(", ")} ` +
        `are collinear with the ${time} fixed effects and not identified`,
      { cohort: g, units: nUnits, terms },
      "an event study needs a comparison group: never-treated units or units adopting later (not yet treated)",
    );
  }
}

/** fixest's formula of the TWFE event study: y ~ i(rel, ref = c(refs, -1000)) + controls | unit + time + fe. */
export function eventFormula(r: Pick<EventStudyOptions, "outcome" | "unit" | "time" | "controls" | "fe">, refs: number[]): string {
  const rhs = [`i(${REL_NAME}, ref = c(${[...refs, NEVER_REL].join(", ")}))`, ...(r.controls ?? []).map(q)].join(" + ");
  const fes = [r.unit, r.time, ...(r.fe ?? [])].map(q).join(" + ");
  return `${q(r.outcome)} ~ ${rhs} | ${fes}`;
}

/** The path, the terms not identified and the pre-trend test of a TWFE event-study fit (in memory or out of core). */
export function eventResult(
  fit: Fit, g: EventGrid & { formula: string; level: number; hasNever: boolean; binLead?: number; binLag?: number; warnings: string[] },
): EventStudyResult {
  const { lo, hi, lo2, hi2, refs, terms, warnings } = g;
  const path: EventPoint[] = [];
  const leadIdx: number[] = [];
  for (let k = lo2; k <= hi2; k++) {
    const nm = `${REL_NAME}::${k}`;
    const j = fit.coefNames.indexOf(nm);
    const binned = (g.binLead !== undefined && k === g.binLead && lo < k) || (g.binLag !== undefined && k === g.binLag && hi > k);
    if (refs.includes(k)) {
      path.push({ rel: k, estimate: 0, se: 0, ciLow: 0, ciHigh: 0, p: NaN, reference: true, binned });
      continue;
    }
    if (j < 0) continue; // absent or collinear
    const row = fit.table[j];
    path.push({ rel: k, estimate: row.estimate, se: row.se, ciLow: row.ciLow, ciHigh: row.ciHigh, p: row.p, reference: false, binned });
    if (k < 0) leadIdx.push(j);
  }
  const unidentified = terms.filter((k) => !fit.coefNames.includes(`${REL_NAME}::${k}`));
  if (unidentified.length > 0) {
    warnings.push(
      `event-time term(s) ${unidentified.map((k) => `${REL_NAME}::${k}`).join(", ")} not identified (collinear with the fixed effects): left out of the path` +
        (g.hasNever ? "" : "; there is no never-treated unit, so only units not yet treated identify the path (relative periods seen only when every unit is treated cannot be)"),
    );
  }
  const pretrend = waldTest(fit.coefNames, fit.coefVector, fit.vcovMatrix, leadIdx, fit.df);
  return { method: "twfe", formula: g.formula, level: g.level, path, unidentified, pretrend, fit, refs, nobs: fit.nobs, warnings };
}
