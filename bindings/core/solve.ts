// The numeric core of feols between the prepared sample and the variance: load the model
// columns into WASM memory, demean, screen absorbed columns, least squares, residuals.
// Two storages share the steps here: float64 (solveF64 below: the model matrix is demeaned
// in place and solved by QR) and float32 raw columns (solve-f32.ts).
import type { Engine } from "../engine/wasm.js";
import type { Formula } from "./formula.js";
import type { Design } from "./design.js";
import type { Sample } from "./sample.js";
import { check, demeanPtr, nonConvergence, type DemeanAlgo, type DemeanDims, type DemeanInfo, type FeType } from "../engine/kernels.js";
import { SampleError } from "../base/errors.js";
import type { MeatTerm } from "./vcov.js";
import type { DemeanCache, ColumnKey } from "./demean-cache.js";
import { compactRowsInPlace } from "./placed.js";

export interface DemeanReport {
  algo: DemeanAlgo;
  /** accelerated MAP steps (largest over the columns) */
  mapIterations: number;
  /** Krylov iterations, CG's or LSMR's (`krylov`; largest over the columns that needed them) */
  cgIterations: number;
  /** the Krylov solver of cgIterations: in memory "lsmr" for auto and lsmr, "cg" for cg; out of core (unset) CG */
  krylov?: "cg" | "lsmr";
  /** largest final convergence criterion */
  criterion: number;
  threads: number;
}

/** How the raw columns were stored in WASM memory. */
export interface StorageReport {
  type: "f64" | "f32";
  /** f32: largest relative change of a raw value by the rounding to float32 */
  maxRelRounding?: number;
  /** f32: columns demeaned together in one batch */
  batch?: number;
  /** f32: demeaning passes over the columns (2 with a robust vcov, more for hetero in pairs) */
  passes?: number;
}

export interface SolveContext {
  eng: Engine;
  f: Formula;
  design: Design;
  sample: Sample;
  n: number;
  /** regressor names, "(Intercept)" first when added */
  xNames: string[];
  addIntercept: boolean;
  tol: number;
  maxIter: number;
  fixefAlgo: DemeanAlgo;
  threads: number;
  collinTol: number;
  /** sampling weights on the sample rows (already scaled when extreme, see pow2Scale) */
  w: Float64Array | null;
  /**
   * powers of two multiplying the outcome and each regressor (xNames order) as they are
   * loaded, for columns of extreme magnitude; absent when every factor is 1
   */
  scale?: { y: number; x: Float64Array };
  keepData?: boolean;
  lowMemory?: boolean;
  /** f32 storage: columns per demeaning batch (default: as many as fit) */
  batch?: number;
  strictConvergence?: boolean;
  warn: (m: string) => void;
  /** demeaned columns shared across models (multiple estimation, the suite); float64 storage */
  demeanCache?: DemeanCache;
}

/** What the numeric core hands to the shared tail of feols. */
export interface Solved {
  names: string[];
  beta: Float64Array;
  bread: Float64Array;
  /** dropped regressors, in formula order */
  collinear: string[];
  /** residuals (sqrt-weighted), in JS and in WASM memory */
  e: Float64Array;
  ePtr: number;
  /** demeaned sqrt-weighted kept regressors in WASM memory (0 when not kept there) */
  xPtr: number;
  xTilde: Float64Array;
  yTilde: Float64Array;
  ssr: number;
  tss: number;
  /** sum of squares of the demeaned outcome */
  within0: number;
  iterations: number;
  converged: boolean;
  demean: DemeanReport | null;
  /** meats computed by the storage itself (f32: X~ is not kept, so the meats stream it) */
  meats?: (terms: MeatTerm[]) => Float64Array[];
  storage: StorageReport;
}

/** Put the FE codes (largest dimension first) and slopes in WASM memory. */
export function loadFeDims(eng: Engine, sample: Sample, wPtr: number): DemeanDims & { order: number[] } {
  const n = sample.n;
  const Q = sample.fe.length;
  const order = sample.fe.map((_, q) => q).sort((a, b) => sample.fe[b].levels - sample.fe[a].levels);
  const codesPtr = eng.allocI32(Q * n, "FE codes");
  order.forEach((q, r) => eng.i32(codesPtr + r * n * 4, n).set(sample.fe[q].codes));
  const slopePtrs: number[] = [];
  for (const q of order) {
    const s = sample.fe[q].slope;
    slopePtrs.push(s ? eng.putF64(s.values, `slope ${s.name}`) : 0);
  }
  return {
    n, codesPtr, groups: order.map((q) => sample.fe[q].levels), types: order.map((q) => sample.fe[q].type as FeType),
    slopePtrs, wPtr, order,
  };
}

/**
 * A power of two s such that max |v| s is about 1, when max |v| (over `rows`, or all) is
 * outside [2^-100, 2^100]; else 1. Scaling by powers of two is exact, and every step of the
 * fit (demeaning, QR, collinearity ratios, meats) commutes with it, so the scaled fit is the
 * fit, without the squares that overflow (1e156^2) or underflow. `even`: an even power
 * (weights, whose square roots are taken). `f32` (float32 storage of the column): only large
 * magnitudes are scaled, and only when the column's range then fits float32's normal range
 * (else the storage reports the value it cannot hold, or the precision lost, as before).
 */
export function pow2Scale(v: Float64Array, rows: Int32Array | null, opts: { even?: boolean; f32?: boolean } = {}): number {
  let m = 0;
  let lo = Infinity;
  const len = rows ? rows.length : v.length;
  for (let j = 0; j < len; j++) {
    const a = Math.abs(rows ? v[rows[j]] : v[j]);
    if (a > m) m = a;
    if (a > 0 && a < lo) lo = a;
  }
  if (!(m > 0) || !Number.isFinite(m) || (m >= 2 ** -100 && m <= 2 ** 100)) return 1;
  if (opts.f32 && (m < 1 || m / lo > 2 ** 125)) return 1;
  let e = Math.floor(Math.log2(m)) + 1;
  if (opts.even && e % 2 !== 0) e++;
  e = Math.max(e, -1022);
  return 2 ** -e;
}

/** Fixed allowance of every memory plan for small buffers. */
export const PLAN_SLACK = 64 * 1024 * 1024;

/** What a memory plan needs to know of a model. */
export interface PlanShape {
  /** rows and regressors (the outcome is one more column) */
  n: number;
  k: number;
  /** FE dimensions, how many carry a slope variable, and the FE coefficients (sum of levels,
   * twice for FE + slope) that size the demeaning scratch */
  Q: number;
  slopes?: number;
  feCells?: number;
  weighted?: boolean;
  /** f32: a hetero vcov needs a second demeaning column; cluster terms need their codes */
  hetero?: boolean;
  clusterTerms?: number;
}

/** The demeaning scratch for one column: about 8 f64 per FE coefficient. */
export function demeanScratchPlan(feCells = 0): number {
  return 8 * 8 * feCells;
}

/** Demean K columns with the fit's settings; the caller judges convergence. */
export function demeanWith(ctx: Pick<SolveContext, "eng" | "tol" | "maxIter" | "fixefAlgo" | "threads">, dims: DemeanDims, K: number, inPtr: number, outPtr: number): DemeanInfo {
  return demeanPtr(ctx.eng, dims, K, inPtr, outPtr, ctx.tol, ctx.maxIter, ctx.fixefAlgo, 20, ctx.threads);
}

/** Demean K columns; non-convergence warns (or throws when strict). */
export function runDemean(ctx: SolveContext, dims: DemeanDims, K: number, inPtr: number, outPtr: number): DemeanInfo {
  return convergence(ctx, demeanWith(ctx, dims, K, inPtr, outPtr));
}

/** Warn (or throw when strict) if a demeaning did not converge; returns the info. */
export function convergence(ctx: Pick<SolveContext, "tol" | "maxIter" | "strictConvergence" | "warn">, info: DemeanInfo): DemeanInfo {
  if (!info.converged) {
    const err = nonConvergence(info, ctx.tol, ctx.maxIter);
    if (ctx.strictConvergence) throw err;
    ctx.warn(err.message);
  }
  return info;
}

export function demeanReport(ctx: Pick<SolveContext, "fixefAlgo">, info: DemeanInfo): DemeanReport {
  return {
    algo: ctx.fixefAlgo, mapIterations: info.mapIterations, cgIterations: info.cgIterations, criterion: info.criterion,
    threads: info.threads, ...(ctx.fixefAlgo === "map" ? {} : { krylov: ctx.fixefAlgo === "cg" ? "cg" : "lsmr" }),
  };
}

/** What the column screens read of a fit (feolsMulti's cross-product path has no SolveContext). */
export type ScreenContext = Pick<SolveContext, "sample" | "f" | "collinTol" | "xNames">;

/**
 * Absorbed and zero columns from the sums of squares before (centered) and after the
 * demeaning, index 0 being the outcome; a constant outcome within the FE is an error.
 */
export function screenColumns(ctx: ScreenContext, pre: ArrayLike<number>, within: ArrayLike<number>): { collinear: string[]; cand: number[] } {
  const Q = ctx.sample.fe.length;
  if (Q > 0 && within[0] <= 1e-20 * Math.max(pre[0], 1e-300)) {
    throw new SampleError(
      `the outcome "${ctx.f.lhs}" is constant within the fixed effects: nothing left to explain`,
      { outcome: ctx.f.lhs },
      "check the outcome column or the fixed effects",
    );
  }
  const collinear: string[] = [];
  const cand: number[] = [];
  ctx.xNames.forEach((name, c) => {
    const absorbed = Q > 0 && (pre[c + 1] === 0 || within[c + 1] <= ctx.collinTol * pre[c + 1]);
    if (absorbed || within[c + 1] === 0) collinear.push(name);
    else cand.push(c);
  });
  return { collinear, cand };
}

/** The kept regressors' names, in formula order, or the "every regressor collinear" error. */
export function finishCollinear(ctx: ScreenContext, collinear: string[], kept: number): void {
  const { xNames } = ctx;
  collinear.sort((a, b) => xNames.indexOf(a) - xNames.indexOf(b));
  if (kept === 0 && xNames.length > 0) {
    throw new SampleError(
      `every regressor was removed as collinear (${collinear.join(", ")}): the estimation is void`,
      { collinear },
      ctx.sample.fe.length > 0 ? "a regressor that does not vary within the fixed effects is absorbed by them" : undefined,
    );
  }
}

/** Weighted (centered) sums of squares of K columns in WASM memory. */
export function sumsOfSquares(eng: Engine, ptr: number, n: number, K: number, wPtr: number, centered: boolean): Float64Array {
  return eng.scoped(() => {
    const out = eng.allocF64(K);
    check(eng.kernels.colSumSquares(out, n, K, ptr, wPtr, centered ? 1 : 0), "colSumSquares");
    return eng.getF64(out, K);
  });
}

/** sqrt of the weights in WASM memory. */
export function putSqrtWeights(eng: Engine, w: Float64Array): number {
  const sw = eng.allocF64(w.length, "sqrt weights");
  const s = eng.f64(sw, w.length);
  for (let i = 0; i < w.length; i++) s[i] = Math.sqrt(w[i]);
  return sw;
}

/**
 * The model matrix demeaned through the shared cache: the outcome and the plain-variable
 * regressors are keyed on their source arrays (built columns such as interactions and i()
 * dummies are demeaned with the model each time).
 */
function cachedDemean(ctx: SolveContext, cache: DemeanCache, wPtr: number, mPtr: number): DemeanInfo {
  const { eng, design, sample, xNames, addIntercept } = ctx;
  const plain = new Set(ctx.f.terms.flatMap((t) => (t.kind === "var" ? [t.name] : [])));
  const keys: ColumnKey[] = [{ src: design.y, scale: ctx.scale?.y ?? 1 }];
  xNames.forEach((name, c) => {
    const j = addIntercept ? c - 1 : c;
    keys.push(j >= 0 && plain.has(name) && design.xNames[j] === name ? { src: design.X[j], scale: ctx.scale?.x[c] ?? 1 } : null);
  });
  const settings = `${ctx.tol}|${ctx.maxIter}|${ctx.fixefAlgo}`;
  return cache.demean(sample, ctx.w, settings, keys, mPtr, {
    view: (ptr, len) => eng.f64(ptr, len),
    alloc: (len) => eng.allocF64(len, "demeaning batch"),
    demean: (inPtr, outPtr, K) => eng.scoped(() => demeanWith(ctx, loadFeDims(eng, sample, wPtr), K, inPtr, outPtr)),
  });
}

/**
 * float64 storage: the n x (1+k) model matrix is demeaned in place and solved by
 * Householder QR (on a copy when it fits, else in place with X rebuilt as QR afterwards).
 */
export function solveF64(ctx: SolveContext): Solved {
  const { eng, design, sample, n, xNames, addIntercept, w, collinTol } = ctx;
  const k = xNames.length;
  const K1 = k + 1;
  const Q = sample.fe.length;
  // the reader's placed block (core/placed.ts) is the model matrix itself: its sample's rows
  // compacted in place, the same values in the same places as the copy below
  const placed = design.placed !== undefined && !addIntercept && !ctx.demeanCache && design.placed.rows === design.n && design.placed.names.length === K1
    ? design.placed : null;
  const mPtr = placed ? placed.consume("a feols fit") : eng.allocF64(n * K1, "model matrix");
  {
    const M = eng.f64(mPtr, (placed ? design.n : n) * K1);
    const rows = sample.rows;
    const identity = n === design.n; // no row removed: plain copies
    const put = (src: Float64Array, off: number) => {
      if (identity) M.set(src, off);
      else for (let j = 0; j < n; j++) M[off + j] = src[rows[j]];
    };
    if (placed) compactRowsInPlace(M, design.n, K1, rows);
    else put(design.y, 0);
    for (let c = 0; c < k && !placed; c++) {
      const off = (c + 1) * n;
      if (addIntercept && c === 0) M.fill(1, off, off + n);
      else put(design.X[addIntercept ? c - 1 : c], off);
    }
    if (ctx.scale) {
      // extreme magnitudes: exact power-of-two rescaling (see pow2Scale)
      for (let c = 0; c < K1; c++) {
        const f = c === 0 ? ctx.scale.y : ctx.scale.x[c - 1];
        if (f !== 1) for (let j = c * n; j < (c + 1) * n; j++) M[j] *= f;
      }
    }
  }
  const wPtr = w ? eng.putF64(w, "weights") : 0;
  const pre = sumsOfSquares(eng, mPtr, n, K1, wPtr, true);

  let iterations = 0;
  let converged = true;
  let demean: DemeanReport | null = null;
  if (Q > 0) {
    // the FE codes and the demeaning scratch are released at once: the buffers after reuse
    // their pages (memory touched for the first time costs more than the copies into it)
    const info = ctx.demeanCache
      ? convergence(ctx, cachedDemean(ctx, ctx.demeanCache, wPtr, mPtr))
      : eng.scoped(() => runDemean(ctx, loadFeDims(eng, sample, wPtr), K1, mPtr, mPtr));
    iterations = info.iterations;
    converged = info.converged;
    demean = demeanReport(ctx, info);
  }
  const within = sumsOfSquares(eng, mPtr, n, K1, wPtr, false);
  const { collinear, cand } = screenColumns(ctx, pre, within);

  // weights: scale by sqrt(w) after the weighted demeaning
  if (w) check(eng.kernels.scaleRows(mPtr, n, K1, putSqrtWeights(eng, w)), "scaleRows");

  // QR. Candidate columns are compacted in place to columns 1..kc of M. By default the QR
  // runs on M itself and the kept columns are rebuilt as Q R afterwards: twice the flops of
  // the QR (a few percent of a fit) instead of a copy of X, whose fresh pages cost more
  // (about 3 ms per MB on a first fit). lowMemory: false runs it on a copy.
  const kc = cand.length;
  {
    const Mv = eng.f64(mPtr, n * K1);
    cand.forEach((c, j) => {
      if (c !== j) Mv.copyWithin((j + 1) * n, (c + 1) * n, (c + 2) * n);
    });
  }
  const xPtr = mPtr + n * 8; // compacted candidate columns
  const inPlace = ctx.lowMemory ?? true;
  const yPtr = eng.allocF64(n, "QR rhs");
  eng.f64(yPtr, n).set(eng.f64(mPtr, n));
  let aPtr = xPtr;
  if (!inPlace) {
    aPtr = eng.allocF64(n * Math.max(kc, 1), "QR work");
    eng.f64(aPtr, n * kc).set(eng.f64(xPtr, n * kc));
  }
  const keepPtr = eng.allocI32(Math.max(kc, 1));
  const coefPtr = eng.allocF64(Math.max(kc, 1));
  const breadPtr = eng.allocF64(Math.max(kc * kc, 1));
  const workPtr = eng.allocF64(2 * Math.max(kc, 1));
  const rankPtr = eng.allocI32(1);
  check(eng.kernels.qrSolve(coefPtr, breadPtr, rankPtr, keepPtr, workPtr, n, kc, aPtr, yPtr, collinTol), "qrSolve");
  if (inPlace) check(eng.kernels.qrReconstruct(yPtr, workPtr, n, kc, aPtr, keepPtr), "qrReconstruct");
  const keepFlags = eng.getI32(keepPtr, kc);
  const coefAll = eng.getF64(coefPtr, kc);
  const breadAll = eng.getF64(breadPtr, kc * kc);
  const kept: number[] = [];
  cand.forEach((c, j) => (keepFlags[j] ? kept.push(j) : collinear.push(xNames[c])));
  finishCollinear(ctx, collinear, kept.length);
  const kf = kept.length;
  const names = kept.map((j) => xNames[cand[j]]);
  const beta = Float64Array.from(kept, (j) => coefAll[j]);
  const bread = new Float64Array(kf * kf);
  for (let a = 0; a < kf; a++) for (let b = 0; b < kf; b++) bread[a + b * kf] = breadAll[kept[a] + kept[b] * kc];

  // residuals on the final columns (compacted again in place)
  {
    const Mv = eng.f64(mPtr, n * K1);
    kept.forEach((j, a) => {
      if (j !== a) Mv.copyWithin((a + 1) * n, (j + 1) * n, (j + 2) * n);
    });
  }
  const bPtr = eng.putF64(beta);
  const ePtr = eng.allocF64(n, "residuals");
  check(eng.kernels.residuals(ePtr, n, kf, xPtr, mPtr, bPtr), "residuals");
  const ssr = sumsOfSquares(eng, ePtr, n, 1, 0, false)[0];
  const e = eng.getF64(ePtr, n);
  const keepData = ctx.keepData ?? n * kf <= 4_000_000;
  return {
    names, beta, bread, collinear, e, ePtr, xPtr,
    xTilde: keepData ? eng.getF64(xPtr, n * kf) : new Float64Array(0),
    yTilde: eng.getF64(mPtr, n),
    ssr, tss: pre[0], within0: within[0], iterations, converged, demean, storage: { type: "f64" },
  };
}
