// Wild cluster bootstrap of one coefficient (Cameron, Gelbach & Miller 2008; the fast
// algorithm of Roodman, MacKinnon, Nielsen & Webb 2019, as Stata boottest and R
// fwildclusterboot): restricted (null imposed, WCR, default) or unrestricted (WCU),
// Rademacher or Webb six-point weights, full enumeration when it fits in B, symmetric and
// equal-tailed p-values, and a confidence interval by test inversion.
//
// Exact for the fitted model with its fixed effects: with x the coefficient's regressor
// partialled on the FEs and the other regressors (FWL), e_y the outcome partialled
// likewise, and z_g = M x_g (x restricted to cluster g, projected off FEs, controls and x),
// a bootstrap sample y* = restricted fit + u(b0) .* v has
//   b* - b0 = sum_h v_h x_h'u_h / x'x,   cluster score g = sum_h v_h z_g,h'u_h.
// The G x G matrices Cy = [z_g,h'e_y,h] and Cx = [z_g,h'x_h] (G demeaned columns, once) make
// each replication O(G^2) (assembly/wild.ts), and because u(b0) = e_y - b0 x is linear in
// b0, five numbers per replication give t*(b0) for every b0: the interval costs O(B) per
// evaluation, no re-run of the bootstrap.
//
// Weights: draw d uses stream fork(d) of the seed (bindings/base/rng.ts), v_h for clusters h in
// label order; full enumeration: draw d is the d-th sign vector (bit h of d set -> +1).
import type { WildAggregates } from "../base/aggregates.js";
import type { Engine } from "../engine/wasm.js";
import { withVcov, type Fit } from "../estimators/feols.js";
import { check, demeanPtr, type FeType } from "../engine/kernels.js";
import { RNG_STATE_BYTES } from "../engine/context.js";
import { Rng } from "../base/rng.js";
import { OptionError, VcovError } from "../base/errors.js";
import { checkOption } from "../base/options.js";
import { pval2 } from "../base/stats.js";
import { checkCount, planDrawMemory } from "../engine/limits.js";
import type { Removed } from "../core/sample.js";


export type WildWeights = "rademacher" | "webb";

export interface WildOptions {
  /** the coefficient to test (e.g. "did") */
  param: string;
  /** bootstrap cluster variable */
  cluster: string;
  /** replications (default 9999); full enumeration instead when it has at most B draws */
  B?: number;
  weights?: WildWeights;
  /** false: unrestricted (WCU); default true (null imposed, WCR) */
  restricted?: boolean;
  /** the null value b0 (default 0) */
  null?: number;
  seed?: number;
  /** confidence level of the interval (default 0.95) */
  level?: number;
  /** "auto" (default): enumerate when the number of distinct weight vectors is <= B */
  enumerate?: "auto" | boolean;
  /** compute the interval (default true) */
  ci?: boolean;
  fixefTol?: number;
  fixefIter?: number;
  onProgress?: (done: number, total: number) => void;
  /** the interval's bounds found so far, of 4 (two per test); each costs O(B) per step */
  onIntervalProgress?: (done: number, total: number) => void;
  /**
   * Bound on the memory the replications keep (five sums and t* per replication, 48 bytes),
   * planned before anything is allocated; default 1 GiB (bindings/engine/limits.ts). Above it the
   * bootstrap stops with a WasmMemoryError.
   */
  memoryLimit?: number;
}

export interface WildResult {
  param: string;
  cluster: string;
  estimate: number;
  null: number;
  /** cluster-robust SE and t = (estimate - null) / se, fixest's small-sample convention */
  se: number;
  t: number;
  /** p-value of t against t(G - 1), for comparison */
  pAnalytic: number;
  /** share of |t*| > |t| (strict; ties within TIE_REL not counted) */
  pSymmetric: number;
  /** 2 min(share t* > t, share t* < t), strict */
  pEqualTailed: number;
  /** bootstrap t statistics at the null, in draw order */
  tStars: Float64Array;
  /** by inverting the symmetric test, and the equal-tailed test */
  ci: [number, number] | null;
  ciEqualTailed: [number, number] | null;
  level: number;
  B: number;
  enumerated: boolean;
  weights: WildWeights;
  restricted: boolean;
  G: number;
  seed: number;
  /** e.g. FE projections that did not converge */
  warnings: string[];
  /** the fit's estimation sample: its rows and the rows removed from the data, and why */
  nobs: number;
  removed: Removed;
  timing: { setupMs: number; drawsMs: number; ciMs: number; totalMs: number; drawsPerSecond: number };
}

const BLOCK = 32;
const CHUNK = 512;
/** Largest G: Cy and Cx are G x G (2 x 8 G^2 bytes). */
const MAX_CLUSTERS = 8000;
/**
 * Bootstrap t statistics are compared strictly (as boottest and fwildclusterboot): a t*
 * within TIE_REL * max(1, |t|) of t counts on neither side. In exact arithmetic the
 * restricted bootstrap's identity draw (all v = 1) reproduces t and its negation -t; the
 * tolerance keeps rounding from deciding those ties.
 */
export const TIE_REL = 1e-9;

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

/** Bootstrap draws summarised as five numbers each (see assembly/wild.ts). */
interface Draws {
  /** Ny, Nx, A, Bq, Cq per draw */
  s: Float64Array;
  B: number;
}

export function wild(eng: Engine, fit: Fit, opts: WildOptions): WildResult {
  const t0 = now();
  const { j, tol, maxIter } = wildSettings(fit, opts);
  const { G, codes } = wildClusters(fit, opts);
  wildCommon(opts, G); // every option checked before the aggregates
  // fixest's small-sample factor for this clustering, read off withVcov
  const seFix = withVcov(eng, fit, `cluster:${opts.cluster}`).se[opts.param];
  const setup = clusterAggregates(eng, fit, j, codes, G, tol, maxIter);
  const warnings: string[] = [];
  if (setup.failed > 0) {
    warnings.push(`the FE projections of the cluster columns did not converge in ${setup.failed} of ${setup.calls} demeaning calls ` +
      `(largest criterion ${setup.worst.toExponential(2)}, tolerance ${tol}): the bootstrap may be inaccurate; raise fixefIter or loosen fixefTol`);
  }
  return wildFromAggregates(eng, { ...setup, G, warnings }, { estimate: fit.coef[opts.param], seFix, t0, nobs: fit.nobs, removed: fit.removed }, opts);
}

export type { WildAggregates } from "../base/aggregates.js";

/** The options of wild that do not depend on the fit's rows, checked (G: the clusters, for the enumeration). */
export function wildCommon(opts: WildOptions, G: number) {
  const weights: WildWeights = opts.weights ?? "rademacher";
  if (weights !== "rademacher" && weights !== "webb") throw new OptionError(`unknown bootstrap weights "${weights}"`, undefined, "use rademacher or webb");
  const Breq = checkCount("B", opts.B ?? 9999);
  const restricted = opts.restricted ?? true;
  const b0 = opts.null ?? 0;
  const level = opts.level ?? 0.95;
  checkOption("level", level);
  const seed = opts.seed ?? 1;
  checkOption("seed", seed);
  const { enumerate, Bn } = wildEnumeration(weights, G, Breq, opts);
  return { weights, Breq, restricted, b0, level, seed, enumerate, Bn };
}

/**
 * The bootstrap from the cluster aggregates: the replications (draw d: stream fork(d) of the
 * seed, or the d-th sign vector), the p-values and the intervals. `seFix`: the fit's
 * cluster-robust SE of the coefficient with fixest's small-sample factor.
 */
export function wildFromAggregates(eng: Engine, agg: WildAggregates, fitted: { estimate: number; seFix: number; t0?: number; nobs: number; removed: Removed }, opts: WildOptions): WildResult {
  const t0 = fitted.t0 ?? now();
  const { G, S, bhat, cy, cx, ay, ax } = agg;
  const { weights, restricted, b0, level, seed, enumerate, Bn } = wildCommon(opts, G);
  const rng = new Rng(seed);
  // original CRVE: cluster scores x_g'e with e = e_y - bhat x
  let raw = 0;
  for (let g = 0; g < G; g++) raw += (ay[g] - bhat * ax[g]) ** 2;
  raw /= S * S;
  const c = (fitted.seFix * fitted.seFix) / raw; // fixest's G/(G-1) (n-1)/(n-K)
  const se = Math.sqrt(c * raw);
  const estimate = fitted.estimate;
  const t1 = now();

  // ---- replications
  const draws = wildReplications(eng, { cy, cx, ay, ax }, { G, Bn, weights, enumerate, rng }, opts);
  const t2 = now();
  const { stat, p0, tStars, ci, ciET } = wildInference(draws, { estimate, se, c, bhat, restricted, b0, level, Bn }, opts);
  const t3 = now();
  return {
    param: opts.param, cluster: opts.cluster, estimate, null: b0, se, t: stat(b0), pAnalytic: pval2(stat(b0), G - 1),
    pSymmetric: p0.sym, pEqualTailed: p0.et, tStars, ci, ciEqualTailed: ciET, level, B: Bn, enumerated: enumerate,
    weights, restricted, G, seed, warnings: agg.warnings, nobs: fitted.nobs, removed: fitted.removed,
    timing: { setupMs: t1 - t0, drawsMs: t2 - t1, ciMs: t3 - t2, totalMs: t3 - t0, drawsPerSecond: Bn / ((t2 - t1) / 1000) },
  };
}

// ---- the steps of wild

/** The fit-dependent checks: the coefficient's index (its demeaned data kept), tolerances. */
function wildSettings(fit: Fit, opts: WildOptions) {
  const I = fit.internals;
  const n = fit.nobs;
  const k = fit.coefNames.length;
  const j = fit.coefNames.indexOf(opts.param);
  if (j < 0) {
    throw new OptionError(`"${opts.param}" is not a coefficient of the fit`, { coefficients: fit.coefNames }, `coefficients: ${fit.coefNames.join(", ")}`);
  }
  if (I.xTilde.length !== n * k) {
    throw new OptionError(`this fit was made with ${fit.storage?.type === "f32" ? 'storage: "f32"' : "keepData: false"}, so its demeaned data is not available`, undefined,
      'refit with storage: "f64" and keepData: true');
  }
  const tol = opts.fixefTol ?? 1e-10;
  const maxIter = opts.fixefIter ?? 10000;
  return { j, tol, maxIter };
}

/** The number of bootstrap clusters: at least 2, at most MAX_CLUSTERS (two G x G matrices are kept). */
export function checkWildClusters(G: number, cluster: string): void {
  if (G < 2) throw new VcovError(`the cluster variable "${cluster}" has a single cluster in the estimation sample`);
  if (G > MAX_CLUSTERS) {
    throw new OptionError(`the bootstrap keeps two ${G} x ${G} matrices of cluster aggregates: at most ${MAX_CLUSTERS} clusters are supported`,
      { G }, "bootstrap by a coarser cluster variable");
  }
}

/** Cluster index of each sample row (clusters in label order) and their count. */
function wildClusters(fit: Fit, opts: WildOptions) {
  const I = fit.internals;
  const n = fit.nobs;
  const cl = I.frame.codes(opts.cluster);
  const rows = I.sample.rows;
  const present = new Uint8Array(cl.levels.length);
  for (let i = 0; i < n; i++) {
    const c = cl.codes[rows[i]];
    if (c < 0) {
      throw new OptionError(`the cluster variable "${opts.cluster}" is missing in rows of the estimation sample`, undefined,
        `refit with keepColumns: ["${opts.cluster}"]`);
    }
    present[c] = 1;
  }
  const lv: number[] = [];
  for (let l = 0; l < present.length; l++) if (present[l]) lv.push(l);
  if (cl.values) lv.sort((a, b) => cl.values![a] - cl.values![b]);
  else lv.sort((a, b) => (cl.levels[a] < cl.levels[b] ? -1 : cl.levels[a] > cl.levels[b] ? 1 : 0));
  const G = lv.length;
  checkWildClusters(G, opts.cluster);
  const rank = new Int32Array(cl.levels.length).fill(-1);
  lv.forEach((l, r) => (rank[l] = r));
  const codes = Int32Array.from(rows, (r) => rank[cl.codes[r]]);
  return { G, codes };
}

/** Whether to enumerate every weight vector, and the number of replications. */
function wildEnumeration(weights: WildWeights, G: number, Breq: number, opts: WildOptions) {
  const support = weights === "rademacher" ? 2 : 6;
  const nEnum = Math.pow(support, G);
  const enumerate = opts.enumerate === "auto" || opts.enumerate === undefined ? nEnum <= Breq : opts.enumerate;
  if (enumerate && nEnum > 2 ** 31) throw new OptionError(`full enumeration of ${support}^${G} weight vectors is too large`);
  const Bn = enumerate ? nEnum : Breq;
  planWild(Bn, opts.memoryLimit, enumerate ? `${support}^${G}` : undefined);
  return { enumerate, Bn };
}

/**
 * The cluster aggregates of the partialled model: x'x (S), bhat, and the G x G matrices Cy, Cx
 * and vectors ay, ax that make each replication O(G^2) arithmetic; `failed` demeaning calls
 * of `calls` did not converge (largest criterion `worst`).
 */
function clusterAggregates(eng: Engine, fit: Fit, j: number, codes: Int32Array, G: number, tol: number, maxIter: number) {
  const K = eng.kernels;
  const I = fit.internals;
  const n = fit.nobs;
  const k = fit.coefNames.length;
  const fe = I.sample.fe;
  const ord = fe.map((_, q) => q).sort((a, b) => fe[b].levels - fe[a].levels);
  const w = I.weights;
  return eng.scoped(() => {
    // partialled regressor x and outcome e_y
    const kc = k - 1;
    const qp = eng.allocF64(n * (kc + 1), "controls");
    {
      const Qv = eng.f64(qp, n * (kc + 1));
      let c = 0;
      for (let a = 0; a < k; a++) if (a !== j) Qv.set(I.xTilde.subarray(a * n, (a + 1) * n), n * c++);
    }
    const keep = eng.allocI32(kc + 1);
    if (kc > 0) check(K.orthonormalize(qp, keep, n, kc, 1e-12), "orthonormalize");
    const xp = eng.putF64(I.xTilde.subarray(j * n, (j + 1) * n), "regressor");
    const ep = eng.putF64(I.yTilde, "outcome");
    if (kc > 0) {
      check(K.projectOut(xp, n, kc, qp, 1), "projectOut");
      check(K.projectOut(ep, n, kc, qp, 1), "projectOut");
    }
    const x = eng.getF64(xp, n);
    const ey = eng.getF64(ep, n);
    let S = 0, xy = 0;
    for (let i = 0; i < n; i++) {
      S += x[i] * x[i];
      xy += x[i] * ey[i];
    }
    const bhat = xy / S;
    // x / ||x|| appended to the controls: projecting off [Q, x^] is M of the full model
    {
      const Qv = eng.f64(qp, n * (kc + 1));
      const inv = 1 / Math.sqrt(S);
      for (let i = 0; i < n; i++) Qv[kc * n + i] = x[i] * inv;
    }
    const codesPtr = eng.putI32(codes, "cluster codes");
    const swPtr = w ? eng.putF64(Float64Array.from(w, Math.sqrt), "sqrt weights") : 0;
    const wPtr = w ? eng.putF64(w, "weights") : 0;
    const feCodes = eng.allocI32(Math.max(ord.length, 1) * n, "FE codes");
    ord.forEach((q, r) => eng.i32(feCodes + r * n * 4, n).set(fe[q].codes));
    const slopePtrs = ord.map((q) => (fe[q].slope ? eng.putF64(fe[q].slope!.values, "slope") : 0));
    const dims = { n, codesPtr: feCodes, groups: ord.map((q) => fe[q].levels), types: ord.map((q) => fe[q].type as FeType), slopePtrs, wPtr };

    // Cy, Cx: G demeaned columns, in blocks
    let failed = 0, worst = 0;
    const cy = new Float64Array(G * G), cx = new Float64Array(G * G);
    const zp = eng.allocF64(n * BLOCK, "cluster columns");
    const out = eng.allocF64(G * BLOCK);
    for (let g0 = 0; g0 < G; g0 += BLOCK) {
      const m = Math.min(BLOCK, G - g0);
      check(K.clusterColumns(zp, n, xp, swPtr, codesPtr, g0, m), "clusterColumns");
      if (dims.groups.length > 0) {
        const info = demeanPtr(eng, dims, m, zp, zp, tol, maxIter);
        if (!info.converged) {
          failed++;
          worst = Math.max(worst, info.criterion);
        }
      }
      if (swPtr) check(K.scaleRows(zp, n, m, swPtr), "scaleRows");
      check(K.projectOut(zp, n, kc + 1, qp, m), "projectOut");
      check(K.clusterCross(out, n, m, zp, ep, codesPtr, G), "clusterCross");
      cy.set(eng.f64(out, G * m), g0 * G);
      check(K.clusterCross(out, n, m, zp, xp, codesPtr, G), "clusterCross");
      cx.set(eng.f64(out, G * m), g0 * G);
    }
    const agg = eng.allocF64(G);
    check(K.clusterCross(agg, n, 1, xp, ep, codesPtr, G), "clusterCross");
    const ay = eng.getF64(agg, G);
    check(K.clusterCross(agg, n, 1, xp, xp, codesPtr, G), "clusterCross");
    const ax = eng.getF64(agg, G);
    return { S, bhat, cy, cx, ay, ax, failed, worst, calls: Math.ceil(G / BLOCK) };
  });
}

/** The five sums of every replication (Ny, Nx, A, Bq, Cq) from the cluster aggregates. */
function wildReplications(
  eng: Engine, agg: { cy: Float64Array; cx: Float64Array; ay: Float64Array; ax: Float64Array },
  r: { G: number; Bn: number; weights: WildWeights; enumerate: boolean; rng: Rng }, opts: WildOptions,
): Draws {
  const K = eng.kernels;
  const { cy, cx, ay, ax } = agg;
  const { G, Bn, weights, enumerate, rng } = r;
  return eng.scoped(() => {
    const cyP = eng.putF64(cy), cxP = eng.putF64(cx), ayP = eng.putF64(ay), axP = eng.putF64(ax);
    const chunk = Math.min(CHUNK, Bn);
    const v = eng.allocF64(G * chunk, "bootstrap weights");
    const sy = eng.allocF64(G * chunk), sx = eng.allocF64(G * chunk);
    const o5 = eng.allocF64(5 * chunk);
    const state = eng.alloc(RNG_STATE_BYTES, "generator state");
    const s = new Float64Array(5 * Bn);
    for (let d = 0; d < Bn; d += chunk) {
      const m = Math.min(chunk, Bn - d);
      check(K.wildWeights(v, state, weights === "rademacher" ? 0 : 1, enumerate ? 1 : 0, G, rng.keyHi, rng.keyLo, d, m), "wildWeights");
      check(K.wildDraws(sy, sx, o5, G, m, cyP, cxP, ayP, axP, v), "wildDraws");
      s.set(eng.f64(o5, 5 * m), 5 * d);
      opts.onProgress?.(d + m, Bn);
    }
    return { s, B: Bn };
  });
}

/** t statistics of the replications, the p-values at the null and the intervals by test inversion. */
function wildInference(
  draws: Draws,
  x: { estimate: number; se: number; c: number; bhat: number; restricted: boolean; b0: number; level: number; Bn: number },
  opts: WildOptions,
) {
  const { estimate, se, c, bhat, restricted, b0, level, Bn } = x;
  const stat = (beta0: number) => (estimate - beta0) / se;
  const tStar = (d: number, beta0: number): number => {
    const bb = restricted ? beta0 : bhat;
    const s = draws.s;
    const num = s[5 * d] - bb * s[5 * d + 1];
    const q = s[5 * d + 2] - 2 * bb * s[5 * d + 3] + bb * bb * s[5 * d + 4];
    return num / Math.sqrt(c * Math.max(q, 0));
  };
  const pAt = (beta0: number): { sym: number; et: number } => {
    const t = stat(beta0);
    const eps = TIE_REL * Math.max(1, Math.abs(t));
    let gt = 0, lt = 0, abs = 0;
    for (let d = 0; d < Bn; d++) {
      const ts = tStar(d, beta0);
      if (Math.abs(ts) - Math.abs(t) > eps) abs++;
      if (ts - t > eps) gt++;
      if (t - ts > eps) lt++;
    }
    return { sym: abs / Bn, et: 2 * Math.min(gt / Bn, lt / Bn) };
  };
  const tStars = new Float64Array(Bn);
  for (let d = 0; d < Bn; d++) tStars[d] = tStar(d, b0);
  const p0 = pAt(b0);

  let ci: [number, number] | null = null;
  let ciET: [number, number] | null = null;
  if (opts.ci ?? true) {
    const alpha = 1 - level;
    let bounds = 0;
    const bound = () => opts.onIntervalProgress?.(++bounds, 4);
    ci = invert((b) => pAt(b).sym, estimate, se, alpha, bound);
    ciET = invert((b) => pAt(b).et, estimate, se, alpha, bound);
  }
  return { stat, p0, tStars, ci, ciET };
}

/** Bytes kept per bootstrap replication: five sums (40) and t* (8). */
export const WILD_BYTES_PER_DRAW = 48;

/**
 * Plan the memory of `B` replications before allocating them (bindings/engine/limits.ts); throws
 * a WasmMemoryError with the numbers above `limit`. `enumerated`: the support size of a
 * full enumeration (e.g. "2^25"), for the advice.
 */
export function planWild(B: number, limit?: number, enumerated?: string): number {
  return planDrawMemory({
    what: enumerated ? `bootstrap replications (full enumeration of ${enumerated} weight vectors)` : "bootstrap replications",
    option: "B", count: checkCount("B", B), bytesPerDraw: WILD_BYTES_PER_DRAW, unit: "replication", parts: "40 for five sums, 8 for t*", limit,
    hint: enumerated ? "pass enumerate: false to draw B weight vectors at random" : undefined,
  });
}

/**
 * The interval {b0 : p(b0) > alpha} around the estimate: step out from the estimate by
 * se/4 until p <= alpha (at most 40 se), then bisect to 1e-9 se. NaN bounds when p never
 * falls to alpha (too few clusters or draws for this level).
 */
function invert(p: (b0: number) => number, est: number, se: number, alpha: number, onBound?: () => void): [number, number] {
  const side = (dir: 1 | -1): number => {
    let inside = est;
    let step = se / 4;
    let outside = NaN;
    for (let i = 0; i < 160; i++) {
      const b = est + dir * step * (i + 1);
      if (p(b) <= alpha) {
        outside = b;
        break;
      }
      inside = b;
    }
    if (Number.isNaN(outside)) return NaN;
    for (let i = 0; i < 200 && Math.abs(outside - inside) > 1e-9 * se; i++) {
      const mid = 0.5 * (inside + outside);
      if (p(mid) <= alpha) outside = mid;
      else inside = mid;
    }
    return 0.5 * (inside + outside);
  };
  const lo = side(-1);
  onBound?.();
  const hi = side(1);
  onBound?.();
  return [lo, hi];
}
