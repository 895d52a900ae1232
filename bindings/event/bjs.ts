// Borusyak, Jaravel & Spiess (2024, REStud 91(6)) imputation estimator.
//
//   1. Fit Y_it = a_i + l_t + X_it'b + e_it on the untreated observations (Omega_0) with feols
//      (unit + time FE, optional controls), cluster-robust by unit.
//   2. Impute Y_it(0) for the treated observations (Omega_1) and take tau_it = Y_it - Y_it(0)^.
//   3. Average: the overall ATT (every treated observation weighted equally) and one estimate per
//      horizon h = t - cohort (h >= 0).
//
// Standard errors come from the implied weights: every estimate is sum_it v_it Y_it with
// v_it = w_it on Omega_1 and v_0 = -Z_0 (Z_0'Z_0)^-1 Z_1' w_1 on Omega_0 (Z = unit dummies, time
// dummies, controls). Variance: Theorem 3's conservative estimator, clustered by unit,
// sigma^2 = sum_i (sum_t v_it e_it)^2, with e_it the imputation-model residuals on Omega_0 and
// e_it = tau_it - tau_g on Omega_1, tau_g the unit-clustered auxiliary averages of Eq. 8 within
// cohort x horizon cells. No leave-out correction (the paper's finite-sample refinement) is applied.
// Z_0'Z_0 is solved exactly by eliminating the unit block (Schur complement on time dummies and
// controls), so the weights cost O(N) plus a (T + k)-dimensional dense solve.
//
// Pre-trend test (the paper's Test 1): on Omega_0 only, add dummies for the K periods before
// treatment of eventually treated units to the same FE model and test them jointly (cluster-robust
// Wald; chi-square and F with the fit's df).
import type { Engine } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import { feols, type Fit } from "../estimators/feols.js";
import { OptionError, SampleError } from "../base/errors.js";
import { checkOption } from "../base/options.js";
import { qnorm, pnorm, invSPD } from "../base/stats.js";
import { preparePanel, treated, type Panel, type PanelRoles } from "./panel.js";
import { panelFrame, q, NEVER_REL, type EventPoint } from "./twfe.js";
import { waldTest, type WaldTest } from "./wald.js";

export interface BjsOptions extends PanelRoles {
  /** horizons to report (default: every horizon >= 0 with treated observations) */
  horizons?: number[];
  level?: number;
  /** number of leads in the pre-trend test (default: all but the most distant one) */
  pretrendLeads?: number;
}

export interface BjsEstimate {
  estimate: number;
  se: number;
  ciLow: number;
  ciHigh: number;
  p: number;
  /** treated observations averaged */
  nObs: number;
}

export interface BjsResult {
  method: "bjs";
  level: number;
  overall: BjsEstimate;
  path: (BjsEstimate & { rel: number })[];
  pretrend: { path: EventPoint[]; wald: WaldTest; fit: Fit | null; leads: number };
  /** the untreated-observation FE model fitted by feols (null without controls and leads) */
  fit: Fit | null;
  /** coefficients of the controls from the exact solve (equal to fit's up to its tolerance) */
  beta: Record<string, number>;
  nUntreated: number;
  nTreated: number;
  /** treated observations whose unit or period has no untreated observation (not imputable) */
  notImputable: number;
  variance: string;
  warnings: string[];
}

/** Exact least squares for Z = [unit dummies | time dummies (no reference) | controls] on some rows. */
interface FeSolver {
  solve(bu: Float64Array, br: Float64Array): { gu: Float64Array; gr: Float64Array };
  /** row design without the unit part: time dummy index (-1 reference) and controls */
  m: number;
  timeCol: Int32Array;
  unitCount: Float64Array;
}

function buildSolver(p: Panel, rows: number[], timeCol: Int32Array, nTime: number): FeSolver {
  const U = p.nUnits;
  const k = p.X.length;
  const m = nTime + k;
  const E = new Float64Array(U * m); // row u: E[u * m + j]
  const F = new Float64Array(m * m);
  const cnt = new Float64Array(U);
  const r = new Float64Array(m);
  for (const i of rows) {
    r.fill(0);
    const tc = timeCol[p.t[i]];
    if (tc >= 0) r[tc] = 1;
    for (let j = 0; j < k; j++) r[nTime + j] = p.X[j][i];
    const u = p.unit[i];
    cnt[u]++;
    for (let a = 0; a < m; a++) {
      if (r[a] === 0) continue;
      E[u * m + a] += r[a];
      for (let b = 0; b < m; b++) F[a + b * m] += r[a] * r[b];
    }
  }
  const S = F.slice();
  for (let u = 0; u < U; u++) {
    if (cnt[u] === 0) continue;
    const e = E.subarray(u * m, (u + 1) * m);
    for (let a = 0; a < m; a++) {
      if (e[a] === 0) continue;
      for (let b = 0; b < m; b++) S[a + b * m] -= (e[a] * e[b]) / cnt[u];
    }
  }
  const Si = m > 0 ? invSPD(S, m) : new Float64Array(0);
  if (!Si) {
    throw new SampleError(
      "imputation model: the untreated observations do not identify the time effects and controls (singular design)",
      undefined, "remove controls that are collinear with the fixed effects",
    );
  }
  return {
    m, timeCol, unitCount: cnt,
    solve(bu, br) {
      const rhs = br.slice();
      for (let u = 0; u < U; u++) {
        if (cnt[u] === 0 || bu[u] === 0) continue;
        const f = bu[u] / cnt[u];
        for (let a = 0; a < m; a++) rhs[a] -= E[u * m + a] * f;
      }
      const gr = new Float64Array(m);
      for (let b = 0; b < m; b++) {
        const v = rhs[b];
        if (v === 0) continue;
        for (let a = 0; a < m; a++) gr[a] += Si[a + b * m] * v;
      }
      const gu = new Float64Array(U);
      for (let u = 0; u < U; u++) {
        if (cnt[u] === 0) continue;
        let s = bu[u];
        for (let a = 0; a < m; a++) s -= E[u * m + a] * gr[a];
        gu[u] = s / cnt[u];
      }
      return { gu, gr };
    },
  };
}

/** The imputation model's solution on Omega_0 and what the estimates are built from. */
interface Imputation {
  p: Panel;
  solver: FeSolver;
  timeCol: Int32Array;
  nTime: number;
  omega0: number[];
  /** imputation-model residuals on Omega_0 */
  eps: Float64Array;
  /** tau_it on imputable treated observations, NaN elsewhere */
  tau: Float64Array;
  imputable: number[];
  /** exact coefficients of the time dummies and controls */
  gr: Float64Array;
}

/** Untreated (Omega_0) and treated (Omega_1) observations. */
function splitObservations(p: Panel, D: Uint8Array): { omega0: number[]; omega1: number[] } {
  const omega0: number[] = [];
  const omega1: number[] = [];
  for (let i = 0; i < p.n; i++) (D[i] ? omega1 : omega0).push(i);
  if (omega1.length === 0) throw new SampleError("imputation: no treated observation");
  if (omega0.length === 0) throw new SampleError("imputation: no untreated observation");
  return { omega0, omega1 };
}

/** Periods identified by untreated observations; the first one is the reference (column -1). */
function timeColumns(p: Panel, omega0: number[]): { timeCol: Int32Array; ref: number; nTime: number } {
  const T = p.periods.length;
  const tCount = new Int32Array(T);
  for (const i of omega0) tCount[p.t[i]]++;
  const timeCol = new Int32Array(T).fill(-1);
  let ref = -1;
  let nTime = 0;
  for (let t = 0; t < T; t++) {
    if (tCount[t] === 0) continue;
    if (ref < 0) ref = t;
    else timeCol[t] = nTime++;
  }
  return { timeCol, ref, nTime };
}

/** Z'v on the given rows, split into the unit part and the time-and-controls part. */
function crossZ(p: Panel, rows: number[], timeCol: Int32Array, nTime: number, m: number, v: (i: number) => number) {
  const k = p.X.length;
  const bu = new Float64Array(p.nUnits);
  const br = new Float64Array(m);
  for (const i of rows) {
    const vi = v(i);
    bu[p.unit[i]] += vi;
    const tc = timeCol[p.t[i]];
    if (tc >= 0) br[tc] += vi;
    for (let j = 0; j < k; j++) br[nTime + j] += p.X[j][i] * vi;
  }
  return { bu, br };
}

/** Row i of Z times the coefficients (gu, gr). */
function zRow(p: Panel, timeCol: Int32Array, nTime: number, gu: Float64Array, gr: Float64Array, i: number): number {
  let s = gu[p.unit[i]];
  const tc = timeCol[p.t[i]];
  if (tc >= 0) s += gr[tc];
  for (let j = 0; j < p.X.length; j++) s += gr[nTime + j] * p.X[j][i];
  return s;
}

/** Steps 1 and 2: fit the FE model on Omega_0 exactly, impute Y(0) and tau on Omega_1. */
function impute(p: Panel, omega0: number[], omega1: number[], warnings: string[]): Imputation & { notImputable: number } {
  const { timeCol, ref, nTime } = timeColumns(p, omega0);
  const solver = buildSolver(p, omega0, timeCol, nTime);
  const tOk = (t: number) => t === ref || timeCol[t] >= 0;
  const { bu, br } = crossZ(p, omega0, timeCol, nTime, solver.m, (i) => p.y[i]);
  const g = solver.solve(bu, br);
  const fitted = (i: number) => zRow(p, timeCol, nTime, g.gu, g.gr, i);
  const eps = new Float64Array(p.n);
  for (const i of omega0) eps[i] = p.y[i] - fitted(i);
  const tau = new Float64Array(p.n).fill(NaN);
  const imputable: number[] = [];
  for (const i of omega1) {
    if (solver.unitCount[p.unit[i]] > 0 && tOk(p.t[i])) {
      tau[i] = p.y[i] - fitted(i);
      imputable.push(i);
    }
  }
  const notImputable = omega1.length - imputable.length;
  if (notImputable > 0) {
    warnings.push(`${notImputable} treated observation(s) cannot be imputed (their unit or period has no untreated observation) and are left out`);
  }
  if (imputable.length === 0) throw new SampleError("imputation: no treated observation can be imputed");
  return { p, solver, timeCol, nTime, omega0, eps, tau, imputable, gr: g.gr, notImputable };
}

const horizonOf = (p: Panel, i: number) => p.periods[p.t[i]] - p.periods[p.cohortIdx[p.unit[i]]];

/** Eq. 8: tau_g = sum_i (sum_t v)(sum_t v tau) / sum_i (sum_t v)^2 within cohort x horizon cells. */
function auxiliaryTau(p: Panel, sel: number[], w: number, tau: Float64Array): Map<string, number> {
  const cellOf = new Map<string, Map<number, { sv: number; svt: number }>>();
  for (const i of sel) {
    const key = `${p.cohortIdx[p.unit[i]]},${horizonOf(p, i)}`;
    let byUnit = cellOf.get(key);
    if (!byUnit) cellOf.set(key, (byUnit = new Map()));
    const u = p.unit[i];
    const a = byUnit.get(u) ?? { sv: 0, svt: 0 };
    a.sv += w;
    a.svt += w * tau[i];
    byUnit.set(u, a);
  }
  const tauBar = new Map<string, number>();
  for (const [key, byUnit] of cellOf) {
    let num = 0, den = 0;
    for (const a of byUnit.values()) {
      num += a.sv * a.svt;
      den += a.sv * a.sv;
    }
    tauBar.set(key, num / den);
  }
  return tauBar;
}

/** Step 3 for one set of treated observations: the equal-weight average and its Theorem 3 variance. */
function bjsEstimate(im: Imputation, sel: number[], z: number): BjsEstimate {
  const { p, solver, timeCol, nTime, omega0, eps, tau } = im;
  const w = 1 / sel.length;
  // v1 = w on sel; v0 = -Z0 (Z0'Z0)^-1 Z1' w1
  const { bu, br } = crossZ(p, sel, timeCol, nTime, solver.m, () => w);
  const h = solver.solve(bu, br);
  let est = 0;
  for (const i of sel) est += w * tau[i];
  // unit-level sums of v * e
  const ve = new Float64Array(p.nUnits);
  for (const i of omega0) ve[p.unit[i]] += -zRow(p, timeCol, nTime, h.gu, h.gr, i) * eps[i];
  const tauBar = auxiliaryTau(p, sel, w, tau);
  for (const i of sel) ve[p.unit[i]] += w * (tau[i] - tauBar.get(`${p.cohortIdx[p.unit[i]]},${horizonOf(p, i)}`)!);
  let var_ = 0;
  for (const x of ve) var_ += x * x;
  const se = Math.sqrt(var_);
  return { estimate: est, se, ciLow: est - z * se, ciHigh: est + z * se, p: 2 * (1 - pnorm(Math.abs(est / se))), nObs: sel.length };
}

/** The overall ATT and one estimate per horizon. */
function bjsPath(im: Imputation, horizonsOpt: number[] | undefined, z: number) {
  const overall = bjsEstimate(im, im.imputable, z);
  const byH = new Map<number, number[]>();
  for (const i of im.imputable) {
    const h = horizonOf(im.p, i);
    if (!byH.has(h)) byH.set(h, []);
    byH.get(h)!.push(i);
  }
  const horizons = horizonsOpt ?? [...byH.keys()].sort((a, b) => a - b);
  const path = horizons.filter((h) => byH.has(h)).map((h) => ({ rel: h, ...bjsEstimate(im, byH.get(h)!, z) }));
  return { overall, path };
}

/** feols on the untreated observations (the reported fit; the imputation is its exact solution) and Test 1. */
function untreatedFits(
  eng: Engine, frame: Frame, p: Panel, omega0: number[], pretrendLeads: number | undefined, level: number, warnings: string[],
): { fit: Fit | null; pretrend: BjsResult["pretrend"] } {
  const r = p.roles;
  const k = p.X.length;
  const relCol = new Float64Array(p.n);
  // eventually treated units' leads among untreated rows
  const leadsAvail = new Set<number>();
  for (const i of omega0) {
    const c = p.cohortIdx[p.unit[i]];
    relCol[i] = c >= 0 ? p.periods[p.t[i]] - p.periods[c] : NEVER_REL;
    if (c >= 0) leadsAvail.add(relCol[i]);
  }
  const maxLead = leadsAvail.size ? -Math.min(...leadsAvail) : 0;
  const K = Math.min(pretrendLeads ?? Math.max(maxLead - 1, 0), Math.max(maxLead - 1, 0));
  const pf = panelFrame(frame, p, [], { rel_pre: Float64Array.from(relCol, (v) => (v !== NEVER_REL && v >= -K ? v : NEVER_REL)) });
  const idx = Int32Array.from(omega0);
  const fitOpts = { vcov: `cluster:${r.unit}`, fixefRm: "none" as const, level, onWarning: (m: string) => warnings.push(m) };
  let fit: Fit | null = null;
  if (k > 0) {
    const f0 = `${q(r.outcome)} ~ ${(r.controls ?? []).map(q).join(" + ")} | ${q(r.unit)} + ${q(r.time)}`;
    fit = feols(eng, pf.take(idx), f0, fitOpts);
  }
  let pretrend: BjsResult["pretrend"] = { path: [], wald: waldTest([], new Float64Array(0), new Float64Array(0), [], NaN), fit: null, leads: K };
  if (K > 0) {
    const f1 = `${q(r.outcome)} ~ i(rel_pre, ref = ${NEVER_REL})${k ? " + " + (r.controls ?? []).map(q).join(" + ") : ""} | ${q(r.unit)} + ${q(r.time)}`;
    const pfit = feols(eng, pf.take(idx), f1, fitOpts);
    const lead: number[] = [];
    const pts: EventPoint[] = [];
    for (let h = -K; h <= -1; h++) {
      const j = pfit.coefNames.indexOf(`rel_pre::${h}`);
      if (j < 0) continue;
      const row = pfit.table[j];
      lead.push(j);
      pts.push({ rel: h, estimate: row.estimate, se: row.se, ciLow: row.ciLow, ciHigh: row.ciHigh, p: row.p, reference: false, binned: false });
    }
    pretrend = { path: pts, wald: waldTest(pfit.coefNames, pfit.coefVector, pfit.vcovMatrix, lead, pfit.df), fit: pfit, leads: K };
  }
  return { fit, pretrend };
}

export function imputationDid(eng: Engine, frame: Frame, opts: BjsOptions): BjsResult {
  const level = opts.level ?? 0.95;
  checkOption("level", level);
  const p0 = preparePanel(frame, opts, { dropAlwaysTreated: true });
  const warnings = [...p0.warnings];
  const D = treated(p0);
  const p = dropAbsorbed(p0, D, warnings);
  const { omega0, omega1 } = splitObservations(p, D);
  const im = impute(p, omega0, omega1, warnings);
  const z = qnorm(1 - (1 - level) / 2);
  const { overall, path } = bjsPath(im, opts.horizons, z);
  const beta: Record<string, number> = {};
  (p.roles.controls ?? []).forEach((c, j) => (beta[c] = im.gr[im.nTime + j]));
  const { fit, pretrend } = untreatedFits(eng, frame, p, omega0, opts.pretrendLeads, level, warnings);
  return {
    method: "bjs", level, overall, path, pretrend, fit, beta, nUntreated: omega0.length, nTreated: omega1.length,
    notImputable: im.notImputable,
    variance: "BJS (2024) Theorem 3 conservative variance, clustered by unit; auxiliary tau averages by cohort x horizon (Eq. 8, unit-clustered); no leave-out correction",
    warnings,
  };
}

/** Controls constant within every unit or within every period on the untreated rows are absorbed by the FE: drop them. */
function dropAbsorbed(p: Panel, D: Uint8Array, warnings: string[]): Panel {
  const controls = p.roles.controls ?? [];
  if (controls.length === 0) return p;
  const keep: number[] = [];
  controls.forEach((c, j) => {
    const x = p.X[j];
    const byUnit = new Map<number, number>();
    const byTime = new Map<number, number>();
    let unitConst = true, timeConst = true;
    for (let i = 0; i < p.n; i++) {
      if (D[i]) continue;
      const a = byUnit.get(p.unit[i]);
      if (a === undefined) byUnit.set(p.unit[i], x[i]);
      else if (Math.abs(a - x[i]) > 1e-12 * (1 + Math.abs(a))) unitConst = false;
      const b = byTime.get(p.t[i]);
      if (b === undefined) byTime.set(p.t[i], x[i]);
      else if (Math.abs(b - x[i]) > 1e-12 * (1 + Math.abs(b))) timeConst = false;
    }
    if (unitConst || timeConst) warnings.push(`control "${c}" is constant within ${unitConst ? "units" : "periods"} on the untreated observations: absorbed by the fixed effects, dropped`);
    else keep.push(j);
  });
  if (keep.length === controls.length) return p;
  return { ...p, roles: { ...p.roles, controls: keep.map((j) => controls[j]) }, X: keep.map((j) => p.X[j]) };
}
