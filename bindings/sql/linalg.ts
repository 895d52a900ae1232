// Small dense matrices for the out-of-core fits: k x k cross-products and the T x T system of
// a small fixed effect. Column-major Float64Array, symmetric inputs. The in-order Cholesky,
// submatrix, inverse and matrix-vector product live in core/gram.ts (shared with feolsMulti).

export { keptColumns, subMatrix, invSpd, matVec } from "../core/gram.js";
import { keptColumns, subMatrix, invSpd, matVec } from "../core/gram.js";

/** A B C for m x m matrices (the sandwich: bread meat bread). */
export function sandwich(B: Float64Array, M: Float64Array, m: number): Float64Array {
  const T = new Float64Array(m * m);
  for (let c = 0; c < m; c++) for (let p = 0; p < m; p++) {
    const v = M[p + c * m];
    if (v !== 0) for (let a = 0; a < m; a++) T[a + c * m] += B[a + p * m] * v;
  }
  const out = new Float64Array(m * m);
  for (let c = 0; c < m; c++) for (let p = 0; p < m; p++) {
    const v = B[p + c * m];
    if (v !== 0) for (let a = 0; a < m; a++) out[a + c * m] += T[a + p * m] * v;
  }
  return out;
}

/**
 * A solution of the consistent, positive semi-definite system A X = B (m x m, r right-hand
 * sides, column-major): the T x T system of a small FE after the large one is eliminated,
 * singular by one (or more, when the panel is not connected) dimension. Directions whose pivot
 * falls under tol times the diagonal are set to 0; the demeaned values do not depend on which
 * solution is taken.
 */
export function solvePsd(A: Float64Array, m: number, B: Float64Array, r: number, tol = 1e-11): Float64Array {
  const keep = keptColumns(A, m, tol);
  const sub = subMatrix(A, m, keep);
  const inv = invSpd(sub, keep.length);
  const X = new Float64Array(m * r);
  if (!inv) return X;
  for (let c = 0; c < r; c++) {
    const b = keep.map((i) => B[i + c * m]);
    const x = matVec(inv, b, keep.length);
    keep.forEach((i, a) => (X[i + c * m] = x[a]));
  }
  return X;
}
