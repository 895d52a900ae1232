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
}

/** y on the columns `cols` (n rows each) by QR in WASM; collinear columns dropped in order. */
export function qrLs(eng: Engine, n: number, cols: Float64Array[], y: Float64Array, tol: number): Ls {
  const k = cols.length;
  if (k === 0) return { keep: [], beta: new Float64Array(0), bread: new Float64Array(0) };
  return eng.scoped(() => {
    const a = eng.allocF64(n * k, "IV least squares");
    const yp = eng.allocF64(n, "IV rhs");
    const keepPtr = eng.allocI32(k);
    const coefPtr = eng.allocF64(k);
    const breadPtr = eng.allocF64(k * k);
    const workPtr = eng.allocF64(2 * k);
    const rankPtr = eng.allocI32(1);
    const A = eng.f64(a, n * k);
    cols.forEach((c, j) => A.set(c, j * n));
    eng.f64(yp, n).set(y);
    check(eng.k.qrSolve(n, k, a, yp, tol, keepPtr, coefPtr, breadPtr, workPtr, rankPtr), "qrSolve");
    const flags = eng.getI32(keepPtr, k);
    const coefAll = eng.getF64(coefPtr, k);
    const breadAll = eng.getF64(breadPtr, k * k);
    const kept: number[] = [];
    for (let j = 0; j < k; j++) if (flags[j]) kept.push(j);
    const kf = kept.length;
    const bread = new Float64Array(kf * kf);
    for (let p = 0; p < kf; p++) for (let q = 0; q < kf; q++) bread[p + q * kf] = breadAll[kept[p] + kept[q] * k];
    return { keep: Array.from(flags, (f) => f !== 0), beta: Float64Array.from(kept, (j) => coefAll[j]), bread };
  });
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
 * The smallest squared canonical correlation between the columns X and Z (each centered
 * first, as R's cancor): the smallest eigenvalue of Sxx^-1/2 Sxz Szz^-1 Szx Sxx^-1/2.
 */
export function minCanCor2(X: Float64Array[], Z: Float64Array[]): number {
  const cen = (c: Float64Array) => {
    let m = 0;
    for (let i = 0; i < c.length; i++) m += c[i];
    m /= c.length;
    return c.map((v) => v - m);
  };
  const Xc = X.map(cen);
  const Zc = Z.map(cen);
  const p = Xc.length;
  const q = Zc.length;
  const gram = (A: Float64Array[], B: Float64Array[]) => {
    const out = new Float64Array(A.length * B.length);
    A.forEach((a, i) => B.forEach((b, j) => (out[i + j * A.length] = dot(a, b))));
    return out;
  };
  const Sxx = gram(Xc, Xc);
  const Szz = gram(Zc, Zc);
  const Sxz = gram(Xc, Zc); // p x q
  const SzzI = invSPD(Szz, q);
  if (!SzzI) return NaN;
  // C = Sxz Szz^-1 Szx (p x p)
  const C = new Float64Array(p * p);
  for (let a = 0; a < p; a++)
    for (let b = 0; b < p; b++) {
      let s = 0;
      for (let u = 0; u < q; u++) for (let v = 0; v < q; v++) s += Sxz[a + u * p] * SzzI[u + v * q] * Sxz[b + v * p];
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
