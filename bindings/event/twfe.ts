// Two-way fixed-effects event study (fixest: feols(y ~ i(rel, ref = c(-1, -1000)) + X | unit + time)):
// the coefficient path with confidence intervals at any level and a joint pre-trend Wald test.
import type { Engine } from "../wasm.js";
import { Frame, type PlainColumn } from "../frame.js";
import { feols, type Fit } from "../feols.js";
import type { FixefRm } from "../sample.js";
import { OptionError } from "../errors.js";
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
  /** "unit" (default): relative time from each unit's first treated period, always-treated units
   *  dropped; "row": from each row's adopt value, as a data set's own rel column (fixest references) */
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
  if (!(level > 0 && level < 1)) throw new OptionError(`level must be in (0, 1), got ${level}`);
  const timing = opts.timing ?? "unit";
  const p = preparePanel(frame, opts, { dropAlwaysTreated: timing === "unit" });
  const warnings = [...p.warnings];
  const rel = new Float64Array(p.n);
  if (timing === "unit") {
    for (let r = 0; r < p.n; r++) {
      const c = p.cohortIdx[p.unit[r]];
      rel[r] = c >= 0 ? p.periods[p.t[r]] - p.periods[c] : NEVER_REL;
    }
  } else {
    const a = frame.numeric(opts.adopt);
    for (let r = 0; r < p.n; r++) {
      const ai = a[p.rows[r]];
      rel[r] = isNever(ai, p.periods) ? NEVER_REL : p.periods[p.t[r]] - ai;
    }
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of rel) if (v !== NEVER_REL) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!Number.isFinite(lo)) throw new OptionError("event study: no treated unit in the data");
  if (opts.binLead !== undefined) {
    if (!(opts.binLead < 0)) throw new OptionError(`binLead must be negative, got ${opts.binLead}`);
    for (let r = 0; r < p.n; r++) if (rel[r] !== NEVER_REL && rel[r] < opts.binLead) rel[r] = opts.binLead;
  }
  if (opts.binLag !== undefined) {
    if (!(opts.binLag >= 0)) throw new OptionError(`binLag must be >= 0, got ${opts.binLag}`);
    for (let r = 0; r < p.n; r++) if (rel[r] !== NEVER_REL && rel[r] > opts.binLag) rel[r] = opts.binLag;
  }
  const lo2 = opts.binLead !== undefined ? Math.max(lo, opts.binLead) : lo;
  const hi2 = opts.binLag !== undefined ? Math.min(hi, opts.binLag) : hi;
  const refs = opts.ref === "first" ? [lo2] : Array.isArray(opts.ref) ? opts.ref : [opts.ref ?? -1];
  const relName = "rel";
  const pf = panelFrame(frame, p, opts.fe ?? [], { [relName]: rel });
  const r = opts;
  const rhs = [`i(${relName}, ref = c(${[...refs, NEVER_REL].join(", ")}))`, ...(r.controls ?? []).map(q)].join(" + ");
  const fes = [r.unit, r.time, ...(opts.fe ?? [])].map(q).join(" + ");
  const formula = `${q(r.outcome)} ~ ${rhs} | ${fes}`;
  const fit = feols(eng, pf, formula, {
    vcov: opts.vcov ?? `cluster:${r.unit}`, level, fixefRm: opts.fixefRm ?? "none",
    onWarning: (m) => warnings.push(m),
  });
  const path: EventPoint[] = [];
  const leadIdx: number[] = [];
  for (let k = lo2; k <= hi2; k++) {
    const nm = `${relName}::${k}`;
    const j = fit.coefNames.indexOf(nm);
    const binned = (opts.binLead !== undefined && k === opts.binLead && lo < k) || (opts.binLag !== undefined && k === opts.binLag && hi > k);
    if (refs.includes(k)) {
      path.push({ rel: k, estimate: 0, se: 0, ciLow: 0, ciHigh: 0, p: NaN, reference: true, binned });
      continue;
    }
    if (j < 0) continue; // absent or collinear
    const row = fit.table[j];
    path.push({ rel: k, estimate: row.estimate, se: row.se, ciLow: row.ciLow, ciHigh: row.ciHigh, p: row.p, reference: false, binned });
    if (k < 0) leadIdx.push(j);
  }
  const pretrend = waldTest(fit.coefNames, fit.coefVector, fit.vcovMatrix, leadIdx, fit.df);
  return { method: "twfe", formula, level, path, pretrend, fit, refs, nobs: fit.nobs, warnings };
}
