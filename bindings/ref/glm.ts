// Plain TypeScript one-pass working values of an IRLS step for the GLM families of fepois /
// feglm (kernel-shaped: outputs first, then inputs; family codes 0 Poisson/log, 1 logit,
// 2 probit), the deviance, and a plain IRLS with fixed effects on the reference demeaning
// (refDemean: alternating projections, no acceleration, no warm start): the baseline of
// bench/glm.bench.ts and a cross-check of the engine's loop in tests/glm.test.ts. The
// references of the kernels of assembly/glm.ts (tests/glm-kernels.test.ts), and, through
// estimators/glm-passes.ts "ts", the IRLS's per-step passes in plain TypeScript.
import { refDemean, type RefFe } from "./kernels.js";

const EPS = 2.220446049250313e-16;
const LOG_2PI_HALF = 0.9189385332046728;

/** d mu / d eta of a family at eta (with R's floors at machine epsilon). */
export function muEtaOf(code: number, eta: number): number {
  if (code === 0) return Math.max(Math.exp(eta), EPS);
  if (code === 1) {
    const e = Math.exp(-Math.abs(eta));
    return Math.max(e / ((1 + e) * (1 + e)), EPS);
  }
  return Math.max(Math.exp(-0.5 * eta * eta - LOG_2PI_HALF), EPS);
}

/**
 * Working response z = eta - offset + (y - mu) / mu'(eta), working weight
 * W = pw mu'(eta)^2 / V(mu) and working residual r = (y - mu) / mu'(eta), for every row.
 * Returns 0 (OK), or 3 (bad argument) when a length differs.
 */
export function glmWorking(
  code: number, z: Float64Array, W: Float64Array, r: Float64Array,
  y: Float64Array, eta: Float64Array, mu: Float64Array, off: Float64Array | null, pw: Float64Array | null,
): number {
  const n = y.length;
  if (z.length !== n || W.length !== n || r.length !== n || eta.length !== n || mu.length !== n) return 3;
  for (let i = 0; i < n; i++) {
    const d = muEtaOf(code, eta[i]);
    const m = mu[i];
    const v = code === 0 ? m : m * (1 - m);
    r[i] = (y[i] - m) / d;
    z[i] = eta[i] - (off ? off[i] : 0) + r[i];
    W[i] = ((pw ? pw[i] : 1) * d * d) / v;
  }
  return 0;
}

/**
 * The new linear predictor of a step (kernel glmEta): feZ = z - M[:, 0] (the FE part of the
 * working response), eta = feZ + sum_a M[:, cols[a] + 1] beta[a] + off. M: n x K column-major.
 * Returns 0, or 3 when a column index is outside M.
 */
export function glmEtaStep(
  eta: Float64Array, feZ: Float64Array, K: number, cols: ArrayLike<number>, beta: ArrayLike<number>, M: Float64Array,
  z: Float64Array, off: Float64Array | null,
): number {
  const n = z.length;
  for (let a = 0; a < cols.length; a++) if (cols[a] < 0 || cols[a] + 1 >= K) return 3;
  for (let i = 0; i < n; i++) eta[i] = feZ[i] = z[i] - M[i];
  for (let a = 0; a < cols.length; a++) {
    const o = (cols[a] + 1) * n, b = beta[a];
    for (let i = 0; i < n; i++) eta[i] += M[o + i] * b;
  }
  if (off) for (let i = 0; i < n; i++) eta[i] += off[i];
  return 0;
}

/**
 * The weighted normal equations of a step (kernel glmCross) over the columns cols[a] + 1 of
 * M (n x K): A = X' W X (m x m, column-major) and, when zt is given, b = X' W zt.
 * Returns 0, or 3 when a column index is outside M.
 */
export function glmCrossW(
  A: Float64Array, b: Float64Array | null, K: number, cols: ArrayLike<number>, M: Float64Array, W: Float64Array,
  zt: Float64Array | null,
): number {
  const n = W.length, m = cols.length;
  for (let a = 0; a < m; a++) if (cols[a] < 0 || cols[a] + 1 >= K) return 3;
  for (let a = 0; a < m; a++) {
    const oa = (cols[a] + 1) * n;
    for (let c = 0; c <= a; c++) {
      const oc = (cols[c] + 1) * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += W[i] * M[oa + i] * M[oc + i];
      A[a + c * m] = A[c + a * m] = s;
    }
    if (b && zt) {
      let s = 0;
      for (let i = 0; i < n; i++) s += W[i] * M[oa + i] * zt[i];
      b[a] = s;
    }
  }
  return 0;
}

const ylogy = (y: number, mu: number) => (y > 0 ? y * Math.log(y / mu) : 0);

/** Deviance: 2 sum pw (y log(y / mu) - (y - mu)) (Poisson), 2 sum pw (y log(y / mu) + (1 - y) log((1 - y) / (1 - mu))) (binomial). */
export function glmDeviance(code: number, y: Float64Array, mu: Float64Array, pw: Float64Array | null): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const w = pw ? pw[i] : 1;
    s += code === 0 ? w * (ylogy(y[i], mu[i]) - (y[i] - mu[i])) : w * (ylogy(y[i], mu[i]) + ylogy(1 - y[i], 1 - mu[i]));
  }
  return 2 * s;
}

/**
 * Poisson IRLS with fixed effects in plain TypeScript: each step demeans z and X from
 * scratch with refDemean, solves the k x k normal equations, and stops when the relative
 * deviance change is below tol. Returns the coefficients and the steps taken.
 */
export function refFepois(
  y: Float64Array, X: Float64Array[], fe: RefFe[], tol = 1e-10, maxIter = 100, demeanTol = 1e-10,
): { beta: Float64Array; iterations: number; deviance: number } {
  const n = y.length, k = X.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] / n;
  const mu = Float64Array.from(y, (v) => (v + mean) / 2);
  const eta = mu.map(Math.log);
  const z = new Float64Array(n), W = new Float64Array(n), r = new Float64Array(n);
  let dev = glmDeviance(0, y, mu, null);
  let beta: Float64Array = new Float64Array(k);
  for (let it = 1; it <= maxIter; it++) {
    glmWorking(0, z, W, r, y, eta, mu, null, null);
    const zt = refDemean(z, fe, W, demeanTol).out;
    const Xt = X.map((x) => refDemean(x, fe, W, demeanTol).out);
    const A = new Float64Array(k * k), b = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) A[a + c * k] += W[i] * Xt[a][i] * Xt[c][i];
      for (let i = 0; i < n; i++) b[a] += W[i] * Xt[a][i] * zt[i];
    }
    beta = solveSmall(A, b, k);
    for (let i = 0; i < n; i++) {
      let fit = 0;
      for (let a = 0; a < k; a++) fit += Xt[a][i] * beta[a];
      eta[i] = z[i] - (zt[i] - fit);
      mu[i] = Math.exp(eta[i]);
    }
    const devNew = glmDeviance(0, y, mu, null);
    const crit = Math.abs(devNew - dev) / (0.1 + Math.abs(devNew));
    dev = devNew;
    if (crit < tol) return { beta, iterations: it, deviance: dev };
  }
  return { beta, iterations: maxIter, deviance: dev };
}

/** Gaussian elimination with partial pivoting (k small). */
function solveSmall(A: Float64Array, b: Float64Array, k: number): Float64Array {
  const M = A.slice(), x = b.slice();
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let i = c + 1; i < k; i++) if (Math.abs(M[i + c * k]) > Math.abs(M[p + c * k])) p = i;
    for (let j = 0; j < k; j++) [M[c + j * k], M[p + j * k]] = [M[p + j * k], M[c + j * k]];
    [x[c], x[p]] = [x[p], x[c]];
    for (let i = c + 1; i < k; i++) {
      const f = M[i + c * k] / M[c + c * k];
      for (let j = c; j < k; j++) M[i + j * k] -= f * M[c + j * k];
      x[i] -= f * x[c];
    }
  }
  for (let c = k - 1; c >= 0; c--) {
    for (let j = c + 1; j < k; j++) x[c] -= M[c + j * k] * x[j];
    x[c] /= M[c + c * k];
  }
  return x;
}
