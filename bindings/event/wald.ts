// Joint Wald tests of a subset of coefficients: chi-square and F versions.
import { invSPD, eigenSym, pchisq, pf } from "../base/stats.js";

export interface WaldTest {
  /** coefficient names tested (jointly zero) */
  terms: string[];
  q: number;
  chi2: number;
  pChi2: number;
  /** chi2 / q, referred to F(q, df2) */
  F: number;
  df1: number;
  df2: number;
  pF: number;
}

/** Inverse of a symmetric PSD matrix; falls back to the Moore-Penrose pseudo-inverse (rank deficient V). */
export function pinvSym(m: Float64Array, k: number): { inv: Float64Array; rank: number } {
  const inv = invSPD(m, k);
  if (inv) return { inv, rank: k };
  const { values, vectors } = eigenSym(m, k);
  const tol = Math.max(...values.map(Math.abs)) * k * 1e-12;
  const out = new Float64Array(k * k);
  let rank = 0;
  for (let e = 0; e < k; e++) {
    if (values[e] <= tol) continue;
    rank++;
    for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) out[i + j * k] += (vectors[i + e * k] * vectors[j + e * k]) / values[e];
  }
  return { inv: out, rank };
}

/**
 * H0: b[idx] = 0 with vcov V (k x k column-major, over all coefficients). The F version divides
 * by q and uses df2 (the fit's t degrees of freedom; Infinity gives the chi-square).
 */
export function waldTest(names: string[], b: Float64Array, V: Float64Array, idx: number[], df2: number): WaldTest {
  const k = names.length;
  const q0 = idx.length;
  if (q0 === 0) return { terms: [], q: 0, chi2: NaN, pChi2: NaN, F: NaN, df1: 0, df2, pF: NaN };
  const sub = new Float64Array(q0 * q0);
  for (let a = 0; a < q0; a++) for (let c = 0; c < q0; c++) sub[a + c * q0] = V[idx[a] + idx[c] * k];
  const { inv, rank } = pinvSym(sub, q0);
  let w = 0;
  for (let a = 0; a < q0; a++) for (let c = 0; c < q0; c++) w += b[idx[a]] * inv[a + c * q0] * b[idx[c]];
  const q = rank;
  const F = w / q;
  return {
    terms: idx.map((j) => names[j]), q, chi2: w, pChi2: 1 - pchisq(w, q), F, df1: q, df2,
    pF: Number.isFinite(df2) ? 1 - pf(F, q, df2) : 1 - pchisq(w, q),
  };
}
