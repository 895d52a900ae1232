// The small least-squares steps of 2SLS on columns already demeaned and sqrt-weighted:
// a Householder QR in WASM (engine qrSolve, the kernel feols uses) per right-hand side,
// residuals and cross-products, and the k x k algebra of the IV fit statistics.
import type { Engine } from "../engine/wasm.js";
import { check } from "../engine/kernels.js";
import { eigenSym, invSPD } from "../base/stats.js";

export interface Ls {
  /** which of the columns were kept (not collinear with the ones before) */
  keep: boolean[];
  /** coefficients and (X'X)^-1 of the kept columns */
  beta: Float64Array;
  bread: Float64Array;
  /** residuals y - X beta (kept columns); empty when only their sum of squares was asked for */
  e: Float64Array;
  /** e'e */
  ssr: number;
}

/**
 * y on the columns `cols` (n rows each) by QR in WASM; collinear columns dropped in order.
 * `ssrOnly`: the residuals stay in WASM memory, only their sum of squares comes back (a fresh
 * n-length JavaScript array costs page faults that, on a loaded machine, exceed the QR).
 */
export function qrLs(eng: Engine, n: number, cols: Float64Array[], y: Float64Array, tol: number, ssrOnly = false): Ls {
  const k = cols.length;
  if (k === 0) return { keep: [], beta: new Float64Array(0), bread: new Float64Array(0), e: y.slice(), ssr: dot(y, y) };
  return eng.scoped(() => {
    const a = eng.allocF64(n * k, "IV least squares");
    const x0 = eng.allocF64(n * k, "IV least squares columns");
    const ep = eng.allocF64(n, "IV residuals");
    const y0 = eng.allocF64(n, "IV outcome"); // qrSolve overwrites its right-hand side
    const yp = eng.allocF64(n, "IV rhs");
    const keepPtr = eng.allocI32(k);
    const coefPtr = eng.allocF64(k);
    const breadPtr = eng.allocF64(k * k);
    const workPtr = eng.allocF64(2 * k);
    const rankPtr = eng.allocI32(1);
    const A = eng.f64(a, n * k);
    cols.forEach((c, j) => A.set(c, j * n));
    eng.f64(yp, n).set(y);
    eng.f64(y0, n).set(y);
    check(eng.k.qrSolve(n, k, a, yp, tol, keepPtr, coefPtr, breadPtr, workPtr, rankPtr), "qrSolve");
    const flags = eng.getI32(keepPtr, k);
    const coefAll = eng.getF64(coefPtr, k);
    const breadAll = eng.getF64(breadPtr, k * k);
    const kept: number[] = [];
    for (let j = 0; j < k; j++) if (flags[j]) kept.push(j);
    const kf = kept.length;
    const bread = new Float64Array(kf * kf);
    for (let p = 0; p < kf; p++) for (let q = 0; q < kf; q++) bread[p + q * kf] = breadAll[kept[p] + kept[q] * k];
    const beta = Float64Array.from(kept, (j) => coefAll[j]);
    // residuals on the original kept columns (the QR overwrote its copy)
    const X0v = eng.f64(x0, n * k);
    kept.forEach((j, c) => X0v.set(cols[j], c * n));
    const bp = eng.putF64(beta.length ? beta : [0]);
    check(eng.k.residuals(n, kf, x0, y0, bp, ep), "residuals");
    const ss = eng.allocF64(1);
    check(eng.k.colSumSquares(n, 1, ep, 0, 0, ss), "colSumSquares");
    const ssr = eng.getF64(ss, 1)[0];
    return { keep: Array.from(flags, (f) => f !== 0), beta, bread, e: ssrOnly ? new Float64Array(0) : eng.getF64(ep, n), ssr };
  });
}

/** y - sum_j b_j x_j, in WASM (the residuals kernel). */
export function residW(eng: Engine, n: number, cols: Float64Array[], y: Float64Array, b: ArrayLike<number>): Float64Array {
  return eng.scoped(() => {
    const k = cols.length;
    const x = eng.allocF64(Math.max(n * k, 1), "IV columns");
    const yp = eng.allocF64(n, "IV rhs");
    const ep = eng.allocF64(n, "IV residuals");
    const bp = eng.allocF64(Math.max(k, 1));
    const X = eng.f64(x, n * k);
    cols.forEach((c, j) => X.set(c, j * n));
    eng.f64(yp, n).set(y);
    eng.f64(bp, k).set(b);
    check(eng.k.residuals(n, k, x, yp, bp, ep), "residuals");
    return eng.getF64(ep, n);
  });
}

/** X'X of the columns, in WASM (the gram kernel); k x k column-major. */
export function gramW(eng: Engine, n: number, cols: Float64Array[]): Float64Array {
  const k = cols.length;
  return eng.scoped(() => {
    const x = eng.allocF64(Math.max(n * k, 1), "IV columns");
    const out = eng.allocF64(Math.max(k * k, 1));
    const X = eng.f64(x, n * k);
    cols.forEach((c, j) => X.set(c, j * n));
    check(eng.k.gram(n, k, x, out), "gram");
    return eng.getF64(out, k * k);
  });
}

/** Column sums (no allocation of n-length arrays). */
export function colSums(cols: Float64Array[]): Float64Array {
  return Float64Array.from(cols, (c) => {
    let t = 0;
    for (let i = 0; i < c.length; i++) t += c[i];
    return t;
  });
}

/** a - b */
export function minus(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** y - sum_j b_j x_j */
export function resid(y: Float64Array, cols: Float64Array[], b: ArrayLike<number>): Float64Array {
  const e = y.slice();
  cols.forEach((c, j) => {
    const bj = b[j];
    for (let i = 0; i < e.length; i++) e[i] -= bj * c[i];
  });
  return e;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Columns side by side, column-major n x k. */
export function flat(cols: Float64Array[], n: number): Float64Array {
  const out = new Float64Array(n * cols.length);
  cols.forEach((c, j) => out.set(c, j * n));
  return out;
}

/** The sub-matrix of a k x k column-major matrix at the indices `idx`. */
export function sub(m: Float64Array, k: number, idx: number[]): Float64Array {
  const r = idx.length;
  const out = new Float64Array(r * r);
  for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) out[a + b * r] = m[idx[a] + idx[b] * k];
  return out;
}

/** b' M^-1 b for a symmetric positive-definite M (NaN when it is not). */
export function quadInv(b: ArrayLike<number>, M: Float64Array): number {
  const r = b.length;
  const inv = invSPD(M, r);
  if (!inv) return NaN;
  let s = 0;
  for (let a = 0; a < r; a++) for (let c = 0; c < r; c++) s += b[a] * inv[a + c * r] * b[c];
  return s;
}

/**
 * The smallest squared canonical correlation between X and Z net of W (each centered, as R's
 * cancor after fixest's proj_on_U), from the Gram matrix G0 of the columns [W, X, Z] and their
 * sums (one pass over the data): with a ones column in front, G = [[n, s'], [s, G0]], the
 * cross-products of the residuals on W are G_cd - G_cW G_WW^-1 G_Wd, their sums those with the
 * ones column, and the squared canonical correlations the eigenvalues of
 * Sxx^-1/2 Sxz Szz^-1 Szx Sxx^-1/2.
 */
export function minCanCor2(G0: Float64Array, sums: ArrayLike<number>, n: number, kw: number, p: number, q: number): number {
  const K = 1 + kw + p + q;
  const g = (a: number, b: number) => (a === 0 ? (b === 0 ? n : sums[b - 1]) : b === 0 ? sums[a - 1] : G0[a - 1 + (b - 1) * (K - 1)]);
  const Wi = kw ? invSPD(sub(G0, K - 1, Array.from({ length: kw }, (_, j) => j)), kw) : new Float64Array(0);
  if (!Wi) return NaN;
  // residual cross-product of columns a, b (indices into [1, W, X, Z])
  const rc = (a: number, b: number) => {
    let s = g(a, b);
    for (let u = 0; u < kw; u++) for (let v = 0; v < kw; v++) s -= g(a, 1 + u) * Wi[u + v * kw] * g(1 + v, b);
    return s;
  };
  const idx = Array.from({ length: p + q }, (_, j) => 1 + kw + j);
  const rs = idx.map((a) => rc(0, a));
  const S = new Float64Array((p + q) * (p + q));
  idx.forEach((a, i) => idx.forEach((b, j) => (S[i + j * (p + q)] = rc(a, b) - (rs[i] * rs[j]) / n)));
  const m = p + q;
  const Sxx = sub(S, m, Array.from({ length: p }, (_, j) => j));
  const Szz = sub(S, m, Array.from({ length: q }, (_, j) => p + j));
  const SzzI = invSPD(Szz, q);
  if (!SzzI) return NaN;
  const C = new Float64Array(p * p);
  for (let a = 0; a < p; a++)
    for (let b = 0; b < p; b++) {
      let s = 0;
      for (let u = 0; u < q; u++) for (let v = 0; v < q; v++) s += S[a + (p + u) * m] * SzzI[u + v * q] * S[b + (p + v) * m];
      C[a + b * p] = s;
    }
  // Sxx^-1/2 by its eigen-decomposition
  const { values, vectors } = eigenSym(Sxx, p);
  const H = new Float64Array(p * p);
  for (let e = 0; e < p; e++) {
    const f = 1 / Math.sqrt(values[e]);
    for (let j = 0; j < p; j++) for (let i = 0; i < p; i++) H[i + j * p] += f * vectors[i + e * p] * vectors[j + e * p];
  }
  const B = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let u = 0; u < p; u++) for (let v = 0; v < p; v++) s += H[i + u * p] * C[u + v * p] * H[v + j * p];
      B[i + j * p] = s;
    }
  return Math.min(...eigenSym(B, p).values);
}
