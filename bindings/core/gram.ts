// Small dense symmetric matrices (column-major Float64Array): the in-order Cholesky that
// finds collinear columns by the QR's rule, submatrices, the inverse and products of a k x k
// cross-product matrix. Used where a model is solved from its cross-products: the out-of-core
// fits (bindings/sql/) and the members of a multiple estimation (estimators/multi-ols.ts).

/** Inverse of a symmetric positive definite matrix (null if it is not): the one in base/stats. */
export { invSPD as invSpd } from "../base/stats.js";

/**
 * In-order Cholesky of the Gram matrix G (k x k) of the candidate columns, dropping a column
 * whose squared residual norm on the columns kept before it is at most tol times its own
 * squared norm: the rule of the in-memory Householder QR (assembly/qr.ts: residual norm at
 * most sqrt(tol) times the column norm), so the same columns are dropped as collinear.
 */
export function keptColumns(G: Float64Array, k: number, tol: number): number[] {
  const kept: number[] = [];
  const L: number[][] = []; // rows of L for the kept columns, in kept order
  for (let j = 0; j < k; j++) {
    const gjj = G[j + j * k];
    if (!(gjj > 0)) continue;
    // l = L^-1 g (forward substitution on the kept columns)
    const l: number[] = [];
    let d = gjj;
    for (let a = 0; a < kept.length; a++) {
      let s = G[kept[a] + j * k];
      for (let b = 0; b < a; b++) s -= L[a][b] * l[b];
      const v = s / L[a][a];
      l.push(v);
      d -= v * v;
    }
    if (d <= tol * gjj) continue;
    l.push(Math.sqrt(d));
    L.push(l);
    kept.push(j);
  }
  return kept;
}

/** The submatrix of G (k x k) on the indices idx. */
export function subMatrix(G: Float64Array, k: number, idx: number[]): Float64Array {
  const m = idx.length;
  const out = new Float64Array(m * m);
  for (let b = 0; b < m; b++) for (let a = 0; a < m; a++) out[a + b * m] = G[idx[a] + idx[b] * k];
  return out;
}

/** y = A x for an m x m matrix. */
export function matVec(A: Float64Array, x: ArrayLike<number>, m: number): Float64Array {
  const y = new Float64Array(m);
  for (let b = 0; b < m; b++) for (let a = 0; a < m; a++) y[a] += A[a + b * m] * x[b];
  return y;
}
