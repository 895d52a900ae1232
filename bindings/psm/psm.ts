// Propensity-score matching, then DiD on the matched sample (the suite's PSM-DiD, Table 6).
//   validate -> sample (complete cases) -> logit (WASM IRLS) -> distance -> caliper ->
//   nearest-neighbour matching (WASM) -> MatchIt weights (WASM) -> balance -> feols
// Conventions are MatchIt 4.5.1's (R): glm's IRLS, ATT weights, standardised mean
// differences with the treated group's SD in the full sample. The unit of matching is
// the row (e.g. firm-year), pooled, or within exact strata (`by`, e.g. year).
import type { Engine } from "../engine/wasm.js";
import type { KernelExports } from "../engine/exports.js";
import { Frame } from "../core/frame.js";
import { feols, type Fit, type FeolsOptions } from "../estimators/feols.js";
import { parseFormula, formulaColumns } from "../core/formula.js";
import { parseVcov } from "../core/vcov.js";
import { STATUS, check } from "../engine/kernels.js";
import { ColumnError, NonConvergenceError, OptionError, SampleError } from "../base/errors.js";
import { checkOption } from "../base/options.js";
import { Rng } from "../base/rng.js";

// ---------------------------------------------------------------------------
// Kernel signatures (assembly/logit.ts, assembly/match.ts)

export type PsmKernels = KernelExports;

/** Status of logitIrls when fitted probabilities are numerically 0 or 1. */
export const LOGIT_SEPARATION = STATUS.SEPARATION;
const LOGIT_INFO_LEN = 6;

export function psmKernels(eng: Engine): PsmKernels {
  return eng.kernels;
}

// ---------------------------------------------------------------------------
// Logit

export interface LogitOptions {
  /** glm's epsilon: |dev - dev_old| / (|dev| + 0.1) < tol (default 1e-8) */
  tol?: number;
  /** glm's maxit (default 25) */
  maxIter?: number;
  /** also halve the Newton step whenever the deviance increases (default false = exactly glm) */
  strict?: boolean;
}

export interface LogitFit {
  coef: Float64Array;
  se: Float64Array;
  /** inverse Fisher information, k x k column-major */
  vcov: Float64Array;
  /** linear predictor and fitted probabilities at the final coefficients */
  eta: Float64Array;
  mu: Float64Array;
  loglik: number;
  deviance: number;
  iterations: number;
  converged: boolean;
  /** fitted probabilities numerically 0 or 1 (R: "fitted probabilities numerically 0 or 1 occurred") */
  separated: boolean;
  halvings: number;
}

/**
 * Logistic regression of y on the k columns of x (n x k column-major; include the
 * intercept column), optionally with prior weights. Throws on a collinear design or bad
 * input; reports non-convergence and separation in the result (as glm warns).
 */
export function logitFit(
  eng: Engine, x: Float64Array, n: number, k: number, y: Float64Array, w: Float64Array | null = null, opts: LogitOptions = {},
): LogitFit {
  const kk = psmKernels(eng);
  const tol = opts.tol ?? 1e-8;
  const maxIter = opts.maxIter ?? 25;
  if (x.length !== n * k || y.length !== n || (w && w.length !== n)) throw new OptionError("logitFit: inconsistent sizes");
  return eng.scoped(() => {
    const xp = eng.putF64(x, "logit design");
    const yp = eng.putF64(y, "logit outcome");
    const wp = w ? eng.putF64(w, "logit weights") : 0;
    const coef = eng.allocF64(k), vcov = eng.allocF64(k * k), eta = eng.allocF64(n), mu = eng.allocF64(n);
    const info = eng.allocF64(LOGIT_INFO_LEN);
    const scratch = eng.allocF64(kk.logitScratch(n, k), "logit scratch");
    const st = kk.logitIrls(coef, vcov, eta, mu, info, scratch, n, k, xp, yp, wp, tol, maxIter, opts.strict ? 1 : 0);
    if (st === STATUS.SINGULAR) {
      throw new SampleError("the propensity-score design is collinear (a covariate is constant or a combination of others)", undefined,
        "drop the redundant covariate");
    }
    if (st !== STATUS.OK && st !== STATUS.NOT_CONVERGED && st !== LOGIT_SEPARATION) check(st, "logitIrls");
    const iv = eng.f64(info, LOGIT_INFO_LEN);
    const V = eng.getF64(vcov, k * k);
    const se = new Float64Array(k);
    for (let j = 0; j < k; j++) se[j] = Math.sqrt(V[j + j * k]);
    return {
      coef: eng.getF64(coef, k), se, vcov: V, eta: eng.getF64(eta, n), mu: eng.getF64(mu, n),
      loglik: iv[0], deviance: iv[1], iterations: iv[2], converged: iv[3] === 1, separated: iv[4] === 1, halvings: iv[5],
    };
  });
}

// ---------------------------------------------------------------------------
// Matching

export type MOrder = "largest" | "smallest" | "data" | "random";
export type MatchCompat = "none" | "matchit-4.5.1";
const ORDER_CODE: Record<Exclude<MOrder, "random">, number> = { largest: 0, smallest: 1, data: 2 };

export interface MatchOptions {
  ratio?: number;
  replace?: boolean;
  /** caliper in distance units (null/undefined: none) */
  caliper?: number | null;
  mOrder?: MOrder;
  /** seed of the "random" order (bindings/base/rng.ts xoshiro128**; not R's sample()) */
  seed?: number;
  /** exact-matching strata (any integer codes), or null */
  strata?: Int32Array | null;
  /** "matchit-4.5.1": reproduce MatchIt 4.5.1 exactly, defects included (see assembly/match.ts) */
  compat?: MatchCompat;
}

export interface MatchResult {
  /** n1 x ratio, row-major by treated rank (data order): matched control's index or -1 */
  matchMatrix: Int32Array;
  /** treated ranks in processing order */
  order: Int32Array;
  /** MatchIt ATT weights (0 = unmatched) */
  weights: Float64Array;
  nTreated: number;
  nControl: number;
  nRows: number;
  pairs: number;
  treatedTotal: number;
  controlTotal: number;
  mOrder: MOrder;
}

/** Nearest-neighbour matching on `dist` (treated = 1) and MatchIt's weights. */
export function nnMatch(eng: Engine, dist: Float64Array, treat: Int32Array, opts: MatchOptions = {}): MatchResult {
  const kk = psmKernels(eng);
  const n = dist.length;
  const ratio = opts.ratio ?? 1;
  checkOption("ratio", ratio);
  if (treat.length !== n) throw new OptionError("nnMatch: treat and dist lengths differ");
  const cal = opts.caliper ?? null;
  if (cal !== null) checkOption("caliper", cal);
  let n1 = 0;
  for (let i = 0; i < n; i++) n1 += treat[i] === 1 ? 1 : 0;
  if (n1 === 0) throw new SampleError("no treated units to match");
  if (n1 === n) throw new SampleError("no control units to match with");
  // MatchIt: with replacement the order is irrelevant and set to "data"
  const mOrder: MOrder = opts.replace ? "data" : opts.mOrder ?? "largest";
  let given: Int32Array | null = null;
  if (mOrder === "random") {
    const rng = new Rng(opts.seed ?? 0);
    given = Int32Array.from(rng.shuffle(Array.from({ length: n1 }, (_, t) => t)));
  }
  return eng.scoped(() => {
    const dp = eng.putF64(dist, "distance");
    const tp = eng.putI32(treat, "treatment");
    const sp = opts.strata ? eng.putI32(opts.strata, "strata") : 0;
    const op = given ? eng.putI32(given, "order") : eng.allocI32(n1, "order");
    const mp = eng.allocI32(n1 * ratio, "match matrix");
    const scratch = eng.allocI32(kk.nnMatchScratch(n), "matching scratch");
    const st = kk.nnMatch(
      op, mp, scratch, n, dp, tp, sp, ratio, opts.replace ? 1 : 0, cal === null ? -1 : cal,
      given ? 3 : ORDER_CODE[mOrder as Exclude<MOrder, "random">], opts.compat === "matchit-4.5.1" ? 1 : 0
    );
    check(st, "nnMatch");
    const wp = eng.allocF64(n, "weights");
    const cp = eng.allocI32(4);
    const sw = kk.matchWeights(wp, cp, n, tp, n1, ratio, mp);
    check(sw, "matchWeights");
    const c = eng.getI32(cp, 4);
    return {
      matchMatrix: eng.getI32(mp, n1 * ratio), order: eng.getI32(op, n1), weights: eng.getF64(wp, n),
      nTreated: c[0], nControl: c[1], nRows: c[2], pairs: c[3], treatedTotal: n1, controlTotal: n - n1, mOrder,
    };
  });
}

// ---------------------------------------------------------------------------
// Balance (MatchIt's summary.matchit, s.d.denom = "treated")

export interface BalanceRow {
  name: string;
  meanTreatedBefore: number;
  meanControlBefore: number;
  smdBefore: number;
  meanTreatedAfter: number;
  meanControlAfter: number;
  smdAfter: number;
}

function wmean(x: ArrayLike<number>, treat: Int32Array, g: number, w: Float64Array | null): number {
  let s = 0, sw = 0;
  for (let i = 0; i < x.length; i++) {
    if (treat[i] !== g) continue;
    const wi = w ? w[i] : 1;
    s += wi * x[i];
    sw += wi;
  }
  return s / sw;
}

/** MatchIt's wvar with unit weights: sample variance, or p(1-p) for a 0/1 variable. */
function groupVar(x: ArrayLike<number>, treat: Int32Array, g: number, binary: boolean): number {
  let s = 0, m = 0;
  for (let i = 0; i < x.length; i++) if (treat[i] === g) {
    s += x[i];
    m++;
  }
  const mean = s / m;
  if (binary) return mean * (1 - mean);
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (treat[i] === g) ss += (x[i] - mean) ** 2;
  return ss / (m - 1);
}

/**
 * Standardised mean difference as MatchIt: (mean_t - mean_c) / sd_t, sd_t the treated
 * group's SD in the full (unmatched) sample; matched means weighted by `w`. Differences
 * below sqrt(eps) are reported unstandardised, and NaN when a group has fewer than two
 * units with positive weight (as MatchIt).
 */
export function smd(x: ArrayLike<number>, treat: Int32Array, w: Float64Array | null): { meanT: number; meanC: number; smd: number } {
  const meanT = wmean(x, treat, 1, w);
  const meanC = wmean(x, treat, 0, w);
  const d = meanT - meanC;
  let nT = 0, nC = 0;
  let binary = true;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== 0 && x[i] !== 1) binary = false;
    if (w && !(w[i] !== 0)) continue;
    if (treat[i] === 1) nT++;
    else nC++;
  }
  if (!(Math.abs(d) > Math.sqrt(Number.EPSILON))) return { meanT, meanC, smd: d };
  if (nT < 2 || nC < 2) return { meanT, meanC, smd: NaN };
  let sd = Math.sqrt(groupVar(x, treat, 1, binary));
  if (sd < Math.sqrt(Number.EPSILON)) sd = Math.sqrt((groupVar(x, treat, 1, binary) + groupVar(x, treat, 0, binary)) / 2);
  return { meanT, meanC, smd: d / sd };
}

export function balanceTable(vars: { name: string; values: ArrayLike<number> }[], treat: Int32Array, w: Float64Array): BalanceRow[] {
  return vars.map(({ name, values }) => {
    const b = smd(values, treat, null);
    const a = smd(values, treat, w);
    return {
      name, meanTreatedBefore: b.meanT, meanControlBefore: b.meanC, smdBefore: b.smd,
      meanTreatedAfter: a.meanT, meanControlAfter: a.meanC, smdAfter: a.smd,
    };
  });
}

// ---------------------------------------------------------------------------
// The pipeline

export type PsmDistance = "logit" | "linear.logit";

export interface PsmDidOptions {
  /** 0/1 column */
  treatment: string;
  covariates: string[];
  /** "logit": fitted probability (MatchIt distance = "glm"); "linear.logit": linear predictor */
  distance?: PsmDistance;
  ratio?: number;
  replace?: boolean;
  /** caliper in distance units, or in SDs of the distance with stdCaliper */
  caliper?: number;
  /** caliper in SDs of the distance (sd over the matching sample). Default false; MatchIt's default is TRUE */
  stdCaliper?: boolean;
  /** order in which treated units are matched (default "largest"; "data" with replacement, as MatchIt) */
  mOrder?: MOrder;
  seed?: number;
  /** exact-matching stratum column (e.g. "year": matching within years) */
  by?: string;
  /** "matchit-4.5.1": reproduce MatchIt 4.5.1's results exactly, its matching defects included */
  compat?: MatchCompat;
  logit?: LogitOptions;
  /** the DiD on the matched rows, weighted by the matching weights (feols options except weights) */
  did: { formula: string } & Omit<FeolsOptions, "weights" | "override">;
  onWarning?: (msg: string) => void;
}

export interface PsmDidResult {
  /** frame rows used for the propensity score (complete treatment, covariates and `by`) */
  sampleRows: Int32Array;
  removedMissing: number;
  logit: {
    names: string[];
    coef: Record<string, number>;
    se: Record<string, number>;
    z: Record<string, number>;
    loglik: number;
    deviance: number;
    iterations: number;
    converged: boolean;
    separated: boolean;
    vcov: Float64Array;
  };
  distanceType: PsmDistance;
  /** distance of each sample row (aligned with sampleRows) */
  distance: Float64Array;
  /** caliper actually applied, in distance units (null: none) */
  caliper: number | null;
  matching: {
    ratio: number;
    replace: boolean;
    mOrder: MOrder;
    by: string | null;
    compat: MatchCompat;
    treatedTotal: number;
    controlTotal: number;
    nTreated: number;
    nControl: number;
    nRows: number;
    pairs: number;
    sumWeights: number;
    /** n1 x ratio (row-major, treated in data order): matched control's frame row, or -1 */
    matchMatrix: Int32Array;
  };
  /** matching weight of every frame row (0: unmatched or outside the sample) */
  weights: Float64Array;
  /** frame rows with positive weight, ascending: the DiD sample */
  matchedRows: Int32Array;
  balance: BalanceRow[];
  did: Fit;
  warnings: string[];
}

export function psmDid(eng: Engine, frame: Frame, opts: PsmDidOptions): PsmDidResult {
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  if (!opts.covariates?.length) throw new OptionError("psm needs at least one covariate");
  if (!opts.did?.formula) throw new OptionError("psm needs the DiD formula (did.formula)");
  const distanceType = opts.distance ?? "logit";
  if (distanceType !== "logit" && distanceType !== "linear.logit") {
    throw new OptionError(`unknown distance "${distanceType}"`, undefined, "use logit or linear.logit");
  }
  const ratio = opts.ratio ?? 1;
  const compat: MatchCompat = opts.compat ?? "none";
  if (compat !== "none" && compat !== "matchit-4.5.1") throw new OptionError(`unknown compat "${compat}"`, undefined, "use none or matchit-4.5.1");
  if (opts.mOrder && !["largest", "smallest", "data", "random"].includes(opts.mOrder)) {
    throw new OptionError(`unknown m.order "${opts.mOrder}"`, undefined, "use largest, smallest, data or random");
  }
  if (opts.caliper !== undefined) checkOption("caliper", opts.caliper);

  // ---- sample: complete cases of everything the matching uses
  const tcol = frame.numeric(opts.treatment);
  const covs = opts.covariates.map((c) => frame.numeric(c));
  const byCodes = opts.by ? frame.codes(opts.by).codes : null;
  const rows: number[] = [];
  for (let i = 0; i < frame.nrows; i++) {
    if (!Number.isFinite(tcol[i])) continue;
    if (byCodes && byCodes[i] < 0) continue;
    if (covs.every((c) => Number.isFinite(c[i]))) rows.push(i);
  }
  const n = rows.length;
  const k = covs.length + 1;
  if (n <= k) throw new SampleError(`only ${n} complete rows for ${k} propensity-score parameters`);
  const treat = new Int32Array(n);
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const v = tcol[rows[j]];
    if (v !== 0 && v !== 1) {
      throw new ColumnError(`treatment "${opts.treatment}" must be 0/1, row ${rows[j] + 1} holds ${v}`, { column: opts.treatment, row: rows[j] + 1 });
    }
    treat[j] = v;
    y[j] = v;
  }

  // ---- propensity score
  const X = new Float64Array(n * k);
  X.fill(1, 0, n);
  covs.forEach((c, j) => {
    const off = (j + 1) * n;
    for (let i = 0; i < n; i++) X[off + i] = c[rows[i]];
  });
  const lf = logitFit(eng, X, n, k, y, null, opts.logit);
  if (!lf.converged) {
    const e = new NonConvergenceError(`the propensity-score logit did not converge in ${lf.iterations} iterations`,
      { iterations: lf.iterations, deviance: lf.deviance }, "raise logit.maxIter or check for separation");
    warn(e.message);
  }
  if (lf.separated) warn("propensity-score logit: fitted probabilities numerically 0 or 1 occurred (separation)");
  const names = ["(Intercept)", ...opts.covariates];
  const rec = (v: Float64Array) => Object.fromEntries(names.map((nm, j) => [nm, v[j]]));
  const distance = distanceType === "logit" ? lf.mu : lf.eta;

  // ---- caliper
  let caliper: number | null = opts.caliper ?? null;
  if (caliper !== null && opts.stdCaliper) caliper *= sdOf(distance);

  // ---- matching
  const strata = byCodes ? Int32Array.from(rows, (r) => byCodes[r]) : null;
  const m = nnMatch(eng, distance, treat, { ratio, replace: opts.replace, caliper, mOrder: opts.mOrder, seed: opts.seed, strata, compat });
  if (m.nTreated === 0) throw new SampleError("no treated unit found a match (caliper too narrow?)");
  const weights = new Float64Array(frame.nrows);
  const matched: number[] = [];
  let sumWeights = 0;
  for (let j = 0; j < n; j++) {
    weights[rows[j]] = m.weights[j];
    if (m.weights[j] > 0) {
      matched.push(rows[j]);
      sumWeights += m.weights[j];
    }
  }
  const matchMatrix = Int32Array.from(m.matchMatrix, (c) => (c >= 0 ? rows[c] : -1));

  // ---- balance
  const balance = balanceTable(
    [{ name: "distance", values: distance }, ...opts.covariates.map((c, j) => ({ name: c, values: X.subarray((j + 1) * n, (j + 2) * n) }))],
    treat, m.weights,
  );

  // ---- DiD on the matched rows with the matching weights
  let wname = "psm_weights";
  while (frame.has(wname)) wname = "." + wname;
  const matchedRows = Int32Array.from(matched);
  const { formula, ...didOpts } = opts.did;
  const sub = takeColumns(frame.withColumn(wname, weights), matchedRows, [wname, ...didColumns(opts.did)]);
  const did = feols(eng, sub, formula, { ...didOpts, weights: wname, onWarning: (msg) => warn(`DiD: ${msg}`) });

  return {
    sampleRows: Int32Array.from(rows), removedMissing: frame.nrows - n,
    logit: {
      names, coef: rec(lf.coef), se: rec(lf.se), z: Object.fromEntries(names.map((nm, j) => [nm, lf.coef[j] / lf.se[j]])),
      loglik: lf.loglik, deviance: lf.deviance, iterations: lf.iterations, converged: lf.converged, separated: lf.separated, vcov: lf.vcov,
    },
    distanceType, distance, caliper,
    matching: {
      ratio, replace: !!opts.replace, mOrder: m.mOrder, by: opts.by ?? null, compat,
      treatedTotal: m.treatedTotal, controlTotal: m.controlTotal, nTreated: m.nTreated, nControl: m.nControl, nRows: m.nRows,
      pairs: m.pairs, sumWeights, matchMatrix,
    },
    weights, matchedRows, balance, did, warnings,
  };
}

/** Columns the DiD reads: formula variables, cluster variables, keepColumns. */
function didColumns(did: PsmDidOptions["did"]): string[] {
  const cols = formulaColumns(parseFormula(did.formula));
  if (did.vcov !== undefined) {
    const v = parseVcov(did.vcov);
    if (v.type === "cluster") for (const c of v.vars) cols.push(...c.split("^").map((p) => p.trim()));
  }
  cols.push(...(did.keepColumns ?? []));
  return [...new Set(cols)];
}

/** Rows `idx` of the named columns only (a narrow copy for the DiD). */
function takeColumns(frame: Frame, idx: Int32Array, names: string[]): Frame {
  const cols: Record<string, Float64Array | (string | null)[]> = {};
  for (const nm of names) {
    if (!frame.has(nm)) frame.codes(nm); // throws ColumnError listing the frame's columns
    if (frame.isNumeric(nm)) {
      const v = frame.numeric(nm);
      cols[nm] = Float64Array.from(idx, (i) => v[i]);
    } else {
      const c = frame.codes(nm);
      cols[nm] = Array.from(idx, (i) => (c.codes[i] < 0 ? null : c.levels[c.codes[i]]));
    }
  }
  return Frame.fromColumns(cols);
}

function sdOf(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const mean = s / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mean) ** 2;
  return Math.sqrt(ss / (x.length - 1));
}
