// Callaway & Sant'Anna (2021) group-time average treatment effects, as the R `did` package
// (att_gt + aggte, R/compute.att_gt.R, R/compute.aggte.R, R/mboot.R) with the panel 2x2
// estimators of DRDID and their influence functions: drdid_panel (the "traditional", locally
// efficient doubly robust estimator that did's est_method = "dr" calls), std_ipw_did_panel
// (est_method = "ipw") and reg_did_panel (est_method = "reg").
//
// Defaults as `did`: never-treated controls, doubly robust, no anticipation, varying base period
// (pre-treatment cells compare t with t-1, post-treatment cells compare t with g-1), a balanced
// panel (units not observed in every period are dropped), analytic SEs from the influence
// functions (V = IF'IF / n), and uniform confidence bands from a multiplier bootstrap (1000
// draws, Rademacher weights as BMisc::multiplier_bootstrap, or Mammen's two-point weights),
// seeded with bindings/base/rng.ts. Without covariates the three estimators are the same 2x2 DiD.
// Covariates enter through their base-period values, as `did` does for balanced panels.
//
// `panel: "unbalanced"` is an extension: each 2x2 uses the units observed in both periods (it is
// not `did`'s allow_unbalanced_panel, which switches to repeated cross-section estimators).
//
// Why one long file: att_gt, the 2x2 estimators and their influence functions and the
// multiplier bootstrap are one estimator whose intermediate records pass between the steps;
// the aggregation (did::aggte) reads only CsResult and lives in cs-aggte.ts.
import type { Frame } from "../core/frame.js";
import { OptionError, SampleError } from "../base/errors.js";
import { checkOption } from "../base/options.js";
import { Rng } from "../base/rng.js";
import { pchisq, qnorm } from "../base/stats.js";
import { preparePanel, type Panel, type PanelRoles } from "./panel.js";
import { crossprod, invOrThrow, matVec, logitFit, quantileType1 } from "./linalg.js";
import { pinvSym } from "./wald.js";

export type CsControlGroup = "never" | "notyet";
export type CsMethod = "dr" | "ipw" | "reg";

export interface BootstrapOptions {
  /** default 1000 */
  draws?: number;
  /** default "rademacher" (BMisc::multiplier_bootstrap); "mammen": Mammen's two-point weights */
  weights?: "rademacher" | "mammen";
  seed?: number;
}

export interface CsOptions extends PanelRoles {
  controlGroup?: CsControlGroup;
  method?: CsMethod;
  /** periods of anticipation (default 0) */
  anticipation?: number;
  basePeriod?: "varying" | "universal";
  /** default "balanced" (the did package) */
  panel?: "balanced" | "unbalanced";
  level?: number;
  /** multiplier bootstrap for uniform bands; false to skip (bands then pointwise) */
  bootstrap?: BootstrapOptions | false;
}

export interface AttGtRow {
  group: number;
  time: number;
  /** base period of the 2x2 comparison */
  base: number;
  att: number;
  /** analytic standard error (influence function) */
  se: number;
  /** multiplier-bootstrap standard error (NaN without bootstrap) */
  seBoot: number;
  ciLow: number;
  ciHigh: number;
  /** simultaneous band over all ATT(g,t): att -/+ critVal * seBoot (pointwise with analytic SE without bootstrap) */
  bandLow: number;
  bandHigh: number;
  post: boolean;
  /** units in the 2x2 (treated + controls) */
  n1: number;
}

export interface CsResult {
  method: "cs";
  estMethod: CsMethod;
  controlGroup: CsControlGroup;
  basePeriod: "varying" | "universal";
  anticipation: number;
  level: number;
  /** cross-sectional units used */
  n: number;
  periods: number[];
  groups: number[];
  attgt: AttGtRow[];
  /** uniform critical value for the ATT(g,t) band */
  critVal: number;
  /** Wald pre-test of parallel trends on the pre-treatment ATT(g,t) (did's summary line) */
  pretest: { W: number; df: number; p: number } | null;
  /** influence functions, n x K column-major (K = attgt.length) */
  inf: Float64Array;
  /** group index (into groups) of each unit, -1 never treated */
  unitGroup: Int32Array;
  bootstrap: Required<BootstrapOptions> | null;
  warnings: string[];
}

export function mammenWeight(rng: Rng): number {
  const s5 = Math.sqrt(5);
  return rng.uniform() < (s5 + 1) / (2 * s5) ? (1 - s5) / 2 : (1 + s5) / 2;
}

/**
 * Multiplier bootstrap of influence functions (n x K): did's mboot() without extra clustering.
 * Returns bootstrap SEs (IQR / (q75 - q25) of the draws, / sqrt(n)) and the uniform critical value.
 */
export function multiplierBootstrap(inf: Float64Array, n: number, K: number, level: number, b: Required<BootstrapOptions>): { se: Float64Array; crit: number } {
  const rng = new Rng(b.seed);
  const draws = b.draws;
  const bres = new Float64Array(draws * K); // row b, col k: bres[b + k * draws]
  const v = new Float64Array(n);
  const sq = Math.sqrt(n);
  for (let d = 0; d < draws; d++) {
    for (let i = 0; i < n; i++) v[i] = b.weights === "mammen" ? mammenWeight(rng) : rng.uniform() < 0.5 ? -1 : 1;
    for (let k = 0; k < K; k++) {
      let s = 0;
      const off = k * n;
      for (let i = 0; i < n; i++) s += inf[off + i] * v[i];
      bres[d + k * draws] = s / sq; // sqrt(n) * mean(inf * v)
    }
  }
  const se = new Float64Array(K).fill(NaN);
  const sigma = new Float64Array(K).fill(NaN);
  const live: number[] = [];
  const qd = qnorm(0.75) - qnorm(0.25);
  for (let k = 0; k < K; k++) {
    const col = bres.slice(k * draws, (k + 1) * draws);
    let ss = 0;
    let finite = true;
    for (const x of col) {
      ss += x * x;
      if (!Number.isFinite(x)) finite = false;
    }
    if (!finite || ss <= Math.sqrt(2.220446049250313e-16) * 10) continue;
    col.sort();
    sigma[k] = (quantileType1(col, 0.75) - quantileType1(col, 0.25)) / qd;
    se[k] = sigma[k] / sq;
    live.push(k);
  }
  const bT: number[] = [];
  for (let d = 0; d < draws; d++) {
    let m = -Infinity;
    for (const k of live) m = Math.max(m, Math.abs(bres[d + k * draws] / sigma[k]));
    if (Number.isFinite(m)) bT.push(m);
  }
  bT.sort((a, c) => a - c);
  return { se, crit: quantileType1(bT, level) };
}

interface TwoByTwo {
  att: number;
  inf: Float64Array;
}

/** The columns a 2x2 estimator works on: first differences, treatment dummy, covariates (with intercept). */
interface TwoByTwoData {
  n: number;
  k: number;
  dy: Float64Array;
  D: Float64Array;
  cov: Float64Array[];
}

const meanOf = (a: Float64Array, n: number) => a.reduce((s, v) => s + v, 0) / n;

/** Column means of f(i) * cov_j. */
function covMeans(d: TwoByTwoData, f: (i: number) => number): number[] {
  return d.cov.map((c) => {
    let s = 0;
    for (let i = 0; i < d.n; i++) s += f(i) * c[i];
    return s / d.n;
  });
}

/** alr[., i] . M */
function alrDot(alr: Float64Array[], M: number[], i: number): number {
  let s = 0;
  for (let a = 0; a < alr.length; a++) s += alr[a][i] * M[a];
  return s;
}

/** Outcome regression on the controls (OLS of dy on cov among D == 0) and its asymptotic linear representation. */
function outcomeRegression(d: TwoByTwoData): { out: Float64Array; alr: Float64Array[] } {
  const { n, k, dy, D, cov } = d;
  const ctrl = Uint8Array.from(D, (v) => (v === 0 ? 1 : 0));
  const XtX = crossprod(cov, null, ctrl);
  const inv = invOrThrow(XtX, k, "outcome regression");
  const Xty = cov.map((c) => {
    let s = 0;
    for (let i = 0; i < n; i++) if (ctrl[i]) s += c[i] * dy[i];
    return s;
  });
  const coef = matVec(inv, k, Xty);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += cov[j][i] * coef[j];
    out[i] = s;
  }
  // asymptotic linear representation of the OLS coefficients: (1-D)(dy - out) X (X'X/n)^-1
  const XpXinv = inv.map((v) => v * n);
  const alr = cov.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    if (!ctrl[i]) continue;
    const e = dy[i] - out[i];
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let b = 0; b < k; b++) s += e * cov[b][i] * XpXinv[b + a * k];
      alr[a][i] = s;
    }
  }
  return { out, alr };
}

/** Logit propensity score, its asymptotic linear representation and the trimming indicator. */
function propensityScore(d: TwoByTwoData): { p: Float64Array; alr: Float64Array[]; trim: Float64Array } {
  const { n, k, D, cov } = d;
  const w = new Float64Array(n).fill(1);
  const { p, converged } = logitFit(cov, D, w);
  let pmax = 0;
  for (const v of p) pmax = Math.max(pmax, v);
  if (!converged || pmax >= 0.999) {
    // did: "overlap condition violated" (preliminary pscores >= 0.999) -> NA
    throw new SampleError("overlap condition violated (propensity score near 1 or logit not converging)");
  }
  for (let i = 0; i < n; i++) p[i] = Math.min(p[i], 1 - 1e-6);
  const W = Float64Array.from(p, (pi) => pi * (1 - pi));
  const Hinv = invOrThrow(crossprod(cov, W), k, "propensity score");
  const alr = cov.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const sc = D[i] - p[i];
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let b = 0; b < k; b++) s += sc * cov[b][i] * Hinv[b + a * k] * n;
      alr[a][i] = s;
    }
  }
  const trim = Float64Array.from(p, (pi, i) => (D[i] === 1 ? 1 : pi < 0.995 ? 1 : 0));
  return { p, alr, trim };
}

/** reg_did_panel */
function regDid(d: TwoByTwoData): TwoByTwo {
  const { n, dy, D } = d;
  const { out, alr } = outcomeRegression(d);
  const mD = meanOf(D, n);
  let et = 0, ec = 0;
  for (let i = 0; i < n; i++) {
    et += D[i] * dy[i];
    ec += D[i] * out[i];
  }
  const etaT = et / n / mD, etaC = ec / n / mD;
  const M1 = covMeans(d, (i) => D[i]);
  const inf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const infT = (D[i] * dy[i] - D[i] * etaT) / mD;
    const infC = (D[i] * out[i] - D[i] * etaC + alrDot(alr, M1, i)) / mD;
    inf[i] = infT - infC;
  }
  return { att: etaT - etaC, inf };
}

/** Treated and (propensity-reweighted) control weights. */
function ipwWeights(D: Float64Array, p: Float64Array, trim: Float64Array) {
  const wT = Float64Array.from(D, (v, i) => trim[i] * v);
  const wC = Float64Array.from(D, (v, i) => (trim[i] * p[i] * (1 - v)) / (1 - p[i]));
  return { wT, wC };
}

/** std_ipw_did_panel */
function ipwDid(d: TwoByTwoData): TwoByTwo {
  const { n, dy, D } = d;
  const { p, alr, trim } = propensityScore(d);
  const { wT, wC } = ipwWeights(D, p, trim);
  const mwT = meanOf(wT, n), mwC = meanOf(wC, n);
  let sT = 0, sC = 0;
  for (let i = 0; i < n; i++) {
    sT += wT[i] * dy[i];
    sC += wC[i] * dy[i];
  }
  const etaT = sT / n / mwT, etaC = sC / n / mwC;
  const M2 = covMeans(d, (i) => wC[i] * (dy[i] - etaC));
  const inf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const infT = (wT[i] * dy[i] - wT[i] * etaT) / mwT;
    const infC = (wC[i] * dy[i] - wC[i] * etaC + alrDot(alr, M2, i)) / mwC;
    inf[i] = infT - infC;
  }
  return { att: etaT - etaC, inf };
}

/** drdid_panel ("traditional" doubly robust) */
function drDid(d: TwoByTwoData): TwoByTwo {
  const { n, dy, D } = d;
  const { p, alr: alrPs, trim } = propensityScore(d);
  const { out, alr: alrOls } = outcomeRegression(d);
  const { wT, wC } = ipwWeights(D, p, trim);
  const mwT = meanOf(wT, n), mwC = meanOf(wC, n);
  let sT = 0, sC = 0;
  for (let i = 0; i < n; i++) {
    sT += wT[i] * (dy[i] - out[i]);
    sC += wC[i] * (dy[i] - out[i]);
  }
  const etaT = sT / n / mwT, etaC = sC / n / mwC;
  const M1 = covMeans(d, (i) => wT[i]);
  const M2 = covMeans(d, (i) => wC[i] * (dy[i] - out[i] - etaC));
  const M3 = covMeans(d, (i) => wC[i]);
  const inf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = dy[i] - out[i];
    const infT = (wT[i] * r - wT[i] * etaT - alrDot(alrOls, M1, i)) / mwT;
    const infC = (wC[i] * r - wC[i] * etaC + alrDot(alrPs, M2, i) - alrDot(alrOls, M3, i)) / mwC;
    inf[i] = infT - infC;
  }
  return { att: etaT - etaC, inf };
}

/** DRDID panel 2x2 estimators (unit weights 1). cov: columns of the covariate matrix incl. intercept. */
export function did2x2(dy: Float64Array, D: Float64Array, cov: Float64Array[], method: CsMethod): TwoByTwo {
  const d: TwoByTwoData = { n: dy.length, k: cov.length, dy, D, cov };
  if (method === "reg") return regDid(d);
  if (method === "ipw") return ipwDid(d);
  return drDid(d);
}

export function resolveBoot(b: BootstrapOptions | false | undefined): Required<BootstrapOptions> | null {
  if (b === false) return null;
  const draws = b?.draws ?? 1000;
  checkOption("csDraws", draws, "bootstrap draws");
  const weights = b?.weights ?? "rademacher";
  if (weights !== "rademacher" && weights !== "mammen") throw new OptionError(`bootstrap weights must be rademacher or mammen, got ${weights}`);
  return { draws, weights, seed: b?.seed ?? 20250101 };
}

/** Group-time average treatment effects ATT(g,t). */
export function attGt(frame: Frame, opts: CsOptions): CsResult {
  const level = opts.level ?? 0.95;
  checkOption("level", level);
  const controlGroup = opts.controlGroup ?? "never";
  if (controlGroup !== "never" && controlGroup !== "notyet") throw new OptionError(`controlGroup must be never or notyet, got ${controlGroup}`);
  const estMethod = opts.method ?? "dr";
  if (!["dr", "ipw", "reg"].includes(estMethod)) throw new OptionError(`method must be dr, ipw or reg, got ${estMethod}`);
  const anticipation = opts.anticipation ?? 0;
  const basePeriod = opts.basePeriod ?? "varying";
  const balanced = (opts.panel ?? "balanced") === "balanced";
  const p = preparePanel(frame, opts, { dropAlwaysTreated: true, balance: balanced });
  return attGtPanel(p, { controlGroup, estMethod, anticipation, basePeriod, level, boot: resolveBoot(opts.bootstrap) });
}

interface CsConfig {
  controlGroup: CsControlGroup;
  estMethod: CsMethod;
  anticipation: number;
  basePeriod: "varying" | "universal";
  level: number;
  boot: Required<BootstrapOptions> | null;
}

/** Outcome and covariates in wide form (unit-major, T periods a unit), NaN where unobserved. */
interface WidePanel {
  n: number;
  T: number;
  Y: Float64Array;
  Xw: Float64Array[];
  /** period index of each unit's cohort, -1 never treated */
  unitG: Int32Array;
  /** distinct cohort period indices, ascending */
  gIdx: number[];
}

interface GtCell { g: number; t: number; base: number; post: boolean }

function widePanel(p: Panel): WidePanel {
  const T = p.periods.length;
  const n = p.nUnits;
  const Y = new Float64Array(n * T).fill(NaN);
  const Xw = p.X.map(() => new Float64Array(n * T).fill(NaN));
  for (let r = 0; r < p.n; r++) {
    Y[p.unit[r] * T + p.t[r]] = p.y[r];
    p.X.forEach((x, j) => (Xw[j][p.unit[r] * T + p.t[r]] = x[r]));
  }
  const gIdxSet = new Set<number>();
  for (let u = 0; u < n; u++) if (p.cohortIdx[u] >= 0) gIdxSet.add(p.cohortIdx[u]);
  const gIdx = [...gIdxSet].sort((a, b) => a - b);
  return { n, T, Y, Xw, unitG: Int32Array.from(p.cohortIdx), gIdx };
}

/** The (g, t) cells with their base periods. */
function groupTimeCells(p: Panel, w: WidePanel, cfg: CsConfig, warnings: string[]): GtCell[] {
  const cells: GtCell[] = [];
  for (const g of w.gIdx) {
    const pre = g - 1 - cfg.anticipation; // last period before treatment (and anticipation)
    if (pre < 0) {
      warnings.push(`cohort ${p.periods[g]} has no pre-treatment period: dropped`);
      continue;
    }
    for (let t = cfg.basePeriod === "varying" ? 1 : 0; t < w.T; t++) {
      const post = g <= t;
      const base = post || cfg.basePeriod === "universal" ? pre : t - 1;
      cells.push({ g, t, base, post });
    }
  }
  return cells;
}

/** Treated and control units of one cell observed in t and base (with covariates). */
function cellUnits(w: WidePanel, c: GtCell, cfg: CsConfig): { idx: number[]; dVals: number[] } {
  const { n, T, Y, Xw, unitG } = w;
  const maxT = Math.max(c.t, c.base);
  const idx: number[] = [];
  const dVals: number[] = [];
  for (let u = 0; u < n; u++) {
    const g = unitG[u];
    const isT = g === c.g;
    const isC = g < 0 || (cfg.controlGroup === "notyet" && g > maxT + cfg.anticipation && g !== c.g);
    if (!isT && !isC) continue;
    const y1 = Y[u * T + c.t], y0 = Y[u * T + c.base];
    if (!Number.isFinite(y1) || !Number.isFinite(y0)) continue;
    let ok = true;
    for (const x of Xw) if (!Number.isFinite(x[u * T + c.base])) ok = false;
    if (!ok) continue;
    idx.push(u);
    dVals.push(isT ? 1 : 0);
  }
  return { idx, dVals };
}

/** One ATT(g,t): fills row.att and row.n1 and writes the cell's influence function (column k of inf). */
function estimateCell(w: WidePanel, c: GtCell, k: number, row: AttGtRow, cfg: CsConfig, inf: Float64Array, warnings: string[]): void {
  if (c.t === c.base) {
    row.att = 0; // universal base period: normalised
    return;
  }
  const { n, T, Y, Xw } = w;
  const { idx, dVals } = cellUnits(w, c, cfg);
  const n1 = idx.length;
  row.n1 = n1;
  const nT = dVals.reduce((s, v) => s + v, 0);
  if (nT === 0 || nT === n1) {
    warnings.push(`ATT(${row.group}, ${row.time}): no ${nT === 0 ? "treated" : "control"} unit; reported as NaN`);
    return;
  }
  const dy = Float64Array.from(idx, (u) => Y[u * T + c.t] - Y[u * T + c.base]);
  const D = Float64Array.from(dVals);
  const cov = [new Float64Array(n1).fill(1), ...Xw.map((x) => Float64Array.from(idx, (u) => x[u * T + c.base]))];
  let est: TwoByTwo;
  try {
    est = did2x2(dy, D, cov, cfg.estMethod);
  } catch (e) {
    if (!(e instanceof SampleError)) throw e;
    warnings.push(`ATT(${row.group}, ${row.time}): ${e.message}; reported as NaN`);
    return;
  }
  row.att = est.att;
  const scale = n / n1;
  const off = k * n;
  idx.forEach((u, j) => (inf[off + u] = est.inf[j] * scale));
}

/** Analytic SEs and CIs, bootstrap SEs and the uniform band; returns the band's critical value. */
function attGtInference(rows: AttGtRow[], inf: Float64Array, n: number, cfg: CsConfig): number {
  const K = rows.length;
  const zcrit = qnorm(1 - (1 - cfg.level) / 2);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += inf[k * n + i] ** 2;
    const se = Math.sqrt(s / n / n);
    const r = rows[k];
    if (!Number.isFinite(r.att) || (r.att === 0 && s === 0)) continue;
    r.se = se;
    r.ciLow = r.att - zcrit * se;
    r.ciHigh = r.att + zcrit * se;
  }
  let critVal = zcrit;
  if (cfg.boot) {
    const b = multiplierBootstrap(inf, n, K, cfg.level, cfg.boot);
    critVal = Number.isFinite(b.crit) && b.crit >= zcrit ? b.crit : zcrit;
    rows.forEach((r, k) => (r.seBoot = b.se[k]));
  }
  for (const r of rows) {
    const s = cfg.boot && Number.isFinite(r.seBoot) ? r.seBoot : r.se;
    r.bandLow = r.att - critVal * s;
    r.bandHigh = r.att + critVal * s;
  }
  return critVal;
}

/** Wald pre-test (did: W = n * preatt' solve(preV) preatt, preV analytic). */
function csPretest(rows: AttGtRow[], inf: Float64Array, n: number, warnings: string[]): CsResult["pretest"] {
  const pre = rows.map((r, k) => (!r.post && Number.isFinite(r.att) && Number.isFinite(r.se) ? k : -1)).filter((k) => k >= 0);
  if (pre.length === 0) return null;
  const q = pre.length;
  const V = new Float64Array(q * q);
  for (let a = 0; a < q; a++)
    for (let b2 = a; b2 < q; b2++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += inf[pre[a] * n + i] * inf[pre[b2] * n + i];
      V[a + b2 * q] = V[b2 + a * q] = s / n;
    }
  const { inv, rank } = pinvSym(V, q);
  let W = 0;
  for (let a = 0; a < q; a++) for (let b2 = 0; b2 < q; b2++) W += rows[pre[a]].att * inv[a + b2 * q] * rows[pre[b2]].att;
  W *= n;
  if (rank < q) warnings.push("pre-test: the variance of the pre-treatment ATT(g,t) is singular; a pseudo-inverse was used");
  return { W, df: rank, p: 1 - pchisq(W, rank) };
}

export function attGtPanel(p: Panel, cfg: CsConfig): CsResult {
  const warnings = [...p.warnings];
  const w = widePanel(p);
  const n = w.n;
  if (cfg.controlGroup === "never" && !w.unitG.some((g) => g < 0)) {
    throw new SampleError("no never-treated unit: use controlGroup \"notyet\"", undefined, "the did package would drop the last period instead");
  }
  const cells = groupTimeCells(p, w, cfg, warnings);
  const K = cells.length;
  if (K === 0) throw new SampleError("no group-time cell can be estimated");
  const inf = new Float64Array(n * K);
  const rows: AttGtRow[] = cells.map((c, k) => {
    const row: AttGtRow = {
      group: p.periods[c.g], time: p.periods[c.t], base: p.periods[c.base], att: NaN, se: NaN, seBoot: NaN,
      ciLow: NaN, ciHigh: NaN, bandLow: NaN, bandHigh: NaN, post: c.post, n1: 0,
    };
    estimateCell(w, c, k, row, cfg, inf, warnings);
    return row;
  });
  const critVal = attGtInference(rows, inf, n, cfg);
  const pretest = csPretest(rows, inf, n, warnings);
  const unitGroup = Int32Array.from(w.unitG, (g) => (g < 0 ? -1 : w.gIdx.indexOf(g)));
  return {
    method: "cs", estMethod: cfg.estMethod, controlGroup: cfg.controlGroup, basePeriod: cfg.basePeriod,
    anticipation: cfg.anticipation, level: cfg.level, n, periods: p.periods, groups: w.gIdx.map((g) => p.periods[g]),
    attgt: rows, critVal, pretest, inf, unitGroup, bootstrap: cfg.boot, warnings,
  };
}
