// Small dense helpers for the event-study estimators (k x k systems with k = a few covariates).
import { invSPD } from "../base/stats.js";
import { SampleError } from "../base/errors.js";

/** X'WX (k x k) of row-major-by-column X: cols[j][i], optional row weights. */
export function crossprod(cols: Float64Array[], w: Float64Array | null, rows?: Uint8Array): Float64Array {
  const k = cols.length;
  const n = k ? cols[0].length : 0;
  const out = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = a; b < k; b++) {
      let s = 0;
      const xa = cols[a], xb = cols[b];
      for (let i = 0; i < n; i++) {
        if (rows && !rows[i]) continue;
        s += (w ? w[i] : 1) * xa[i] * xb[i];
      }
      out[a + b * k] = s;
      out[b + a * k] = s;
    }
  return out;
}

export function invOrThrow(m: Float64Array, k: number, what: string): Float64Array {
  const inv = invSPD(m, k);
  if (!inv) throw new SampleError(`${what}: the design matrix is singular`, undefined, "remove collinear or constant covariates");
  return inv;
}

export function matVec(m: Float64Array, k: number, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const vj = v[j];
    if (vj === 0) continue;
    for (let i = 0; i < k; i++) out[i] += m[i + j * k] * vj;
  }
  return out;
}

/** Weighted logit by Newton-Raphson (MLE); returns fitted probabilities and coefficients. */
export function logitFit(cols: Float64Array[], d: Float64Array, w: Float64Array, maxIter = 100): { p: Float64Array; beta: Float64Array; converged: boolean } {
  const k = cols.length;
  const n = d.length;
  const beta = new Float64Array(k);
  const p = new Float64Array(n);
  const eta = new Float64Array(n);
  let converged = false;
  let ll0 = -Infinity;
  for (let it = 0; it < maxIter; it++) {
    for (let i = 0; i < n; i++) {
      let e = 0;
      for (let j = 0; j < k; j++) e += cols[j][i] * beta[j];
      eta[i] = e;
      p[i] = 1 / (1 + Math.exp(-e));
    }
    const W = Float64Array.from(p, (pi, i) => w[i] * pi * (1 - pi));
    const H = crossprod(cols, W);
    const g = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += w[i] * (d[i] - p[i]) * cols[j][i];
      g[j] = s;
    }
    const Hi = invOrThrow(H, k, "propensity score (logit)");
    const step = matVec(Hi, k, g);
    let ll = 0;
    for (let i = 0; i < n; i++) ll += w[i] * (d[i] * eta[i] - Math.log1p(Math.exp(eta[i])));
    for (let j = 0; j < k; j++) beta[j] += step[j];
    let maxStep = 0;
    for (let j = 0; j < k; j++) maxStep = Math.max(maxStep, Math.abs(step[j]));
    if (maxStep < 1e-10 || Math.abs(ll - ll0) < 1e-12 * (Math.abs(ll) + 1e-12)) {
      converged = true;
      break;
    }
    ll0 = ll;
  }
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let j = 0; j < k; j++) e += cols[j][i] * beta[j];
    p[i] = 1 / (1 + Math.exp(-e));
  }
  return { p, beta, converged };
}

/** R's quantile(x, prob, type = 1) (inverse of the empirical distribution function). */
export function quantileType1(sorted: Float64Array | number[], prob: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const np = n * prob;
  const j = Math.floor(np);
  const g = np - j;
  const idx = g > 1e-12 ? j + 1 : Math.max(j, 1);
  return sorted[Math.min(n, idx) - 1];
}
