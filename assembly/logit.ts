// Logistic regression by IRLS, as R's glm.fit(family = binomial("logit")).
//
// Start: mu = (w y + 0.5) / (w + 1), eta = logit(mu). Each iteration solves the weighted
// least-squares problem  min || s (z - X b) ||,  z = eta + (y - mu) / mu.eta,
// s^2 = w mu.eta^2 / (mu (1 - mu)), through the k x k normal equations: equilibrated
// (unit diagonal) and factorised by Cholesky inside the kernel. Convergence as glm:
// |dev - dev_old| / (|dev| + 0.1) < tol. Step halving (back towards the previous
// coefficients) when the deviance is not finite, as glm; with `strict` also whenever the
// deviance increases (glm2-style Newton with step halving).
//
// The inverse Fisher information returned is the one of the last weighted solve, which is
// what summary.glm reports (chol2inv of the final QR). Link functions clamp eta at +-30
// exactly as R's C code (family.c) does.
import { OK, NOT_CONVERGED, SINGULAR, BAD_ARGUMENT, SEPARATION } from "./status";

/** Fitted probabilities numerically 0 or 1 (R's warning); outputs are still filled. */
export const LOGIT_SEPARATION: i32 = SEPARATION;

const THRESH: f64 = 30.0;
const MTHRESH: f64 = -30.0;
const DBL_EPS: f64 = 2.220446049250313e-16;
const INVEPS: f64 = 1.0 / DBL_EPS;
/** squared Cholesky pivot of the unit-diagonal system under which a column is collinear */
const PIVOT_TOL: f64 = 1e-13;
/** number of info slots written by logitIrls */
export const LOGIT_INFO_LEN: i32 = 6;

@inline function linkinv(eta: f64): f64 {
  const t = eta < MTHRESH ? DBL_EPS : eta > THRESH ? INVEPS : Math.exp(eta);
  return t / (1.0 + t);
}

@inline function muEta(eta: f64): f64 {
  const opexp = 1.0 + Math.exp(eta);
  return eta > THRESH || eta < MTHRESH ? DBL_EPS : Math.exp(eta) / (opexp * opexp);
}

@inline function ylogy(y: f64, mu: f64): f64 {
  return y > 0 ? y * Math.log(y / mu) : 0.0;
}

@inline function ld(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

@inline function st(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

/** f64 slots of scratch logitIrls needs. */
export function logitScratch(n: i32, k: i32): i32 {
  return 2 * n + 2 * k * k + 4 * k;
}

/** eta = X b and mu = linkinv(eta), then the binomial deviance. */
function etaMuDev(n: i32, k: i32, x_NK: usize, b_K: usize, y_N: usize, w_N: usize, eta_N: usize, mu_N: usize): f64 {
  memory.fill(eta_N, 0, <usize>n << 3);
  for (let j = 0; j < k; j++) {
    const bj = ld(b_K, j);
    const cp = x_NK + ((<usize>j * <usize>n) << 3);
    for (let i = 0; i < n; i++) st(eta_N, i, ld(eta_N, i) + ld(cp, i) * bj);
  }
  let dev: f64 = 0;
  for (let i = 0; i < n; i++) {
    const m = linkinv(ld(eta_N, i));
    st(mu_N, i, m);
    const y = ld(y_N, i);
    const w = w_N ? ld(w_N, i) : 1.0;
    dev += 2.0 * w * (ylogy(y, m) + ylogy(1.0 - y, 1.0 - m));
  }
  return dev;
}

/**
 * Solve A b = r (A k x k symmetric positive definite, column-major) by Cholesky of the
 * equilibrated matrix D A D (D = diag(A)^-1/2). On return b_K holds the solution and
 * inv_KK the inverse of A. Work: L_KK (k*k), d_K (k). Returns SINGULAR on a collinear column.
 */
function cholSolveInv(k: i32, a_KK: usize, r_K: usize, b_K: usize, inv_KK: usize, l_KK: usize, d_K: usize): i32 {
  for (let j = 0; j < k; j++) {
    const ajj = ld(a_KK, j + j * k);
    if (!(ajj > 0) || !isFinite(ajj)) return SINGULAR;
    st(d_K, j, 1.0 / Math.sqrt(ajj));
  }
  // L (lower, column-major) of B = D A D
  for (let j = 0; j < k; j++) {
    const dj = ld(d_K, j);
    let s = ld(a_KK, j + j * k) * dj * dj;
    for (let p = 0; p < j; p++) {
      const v = ld(l_KK, j + p * k);
      s -= v * v;
    }
    if (!(s > PIVOT_TOL)) return SINGULAR;
    const ljj = Math.sqrt(s);
    st(l_KK, j + j * k, ljj);
    for (let i = j + 1; i < k; i++) {
      let t = ld(a_KK, i + j * k) * ld(d_K, i) * dj;
      for (let p = 0; p < j; p++) t -= ld(l_KK, i + p * k) * ld(l_KK, j + p * k);
      st(l_KK, i + j * k, t / ljj);
    }
    for (let i = 0; i < j; i++) st(l_KK, i + j * k, 0.0);
  }
  // b = D (L L')^-1 D r
  for (let i = 0; i < k; i++) {
    let t = ld(r_K, i) * ld(d_K, i);
    for (let p = 0; p < i; p++) t -= ld(l_KK, i + p * k) * ld(b_K, p);
    st(b_K, i, t / ld(l_KK, i + i * k));
  }
  for (let i = k - 1; i >= 0; i--) {
    let t = ld(b_K, i);
    for (let p = i + 1; p < k; p++) t -= ld(l_KK, p + i * k) * ld(b_K, p);
    st(b_K, i, t / ld(l_KK, i + i * k));
  }
  for (let i = 0; i < k; i++) st(b_K, i, ld(b_K, i) * ld(d_K, i));
  // inv = D B^-1 D, column by column: B x = e_c by forward and back substitution
  for (let c = 0; c < k; c++) {
    const col = inv_KK + ((<usize>c * <usize>k) << 3);
    for (let i = 0; i < k; i++) {
      let t: f64 = i == c ? 1.0 : 0.0;
      for (let p = 0; p < i; p++) t -= ld(l_KK, i + p * k) * ld(col, p);
      st(col, i, t / ld(l_KK, i + i * k));
    }
    for (let i = k - 1; i >= 0; i--) {
      let t = ld(col, i);
      for (let p = i + 1; p < k; p++) t -= ld(l_KK, p + i * k) * ld(col, p);
      st(col, i, t / ld(l_KK, i + i * k));
    }
    const dc = ld(d_K, c);
    for (let i = 0; i < k; i++) st(col, i, ld(col, i) * ld(d_K, i) * dc);
  }
  for (let c = 0; c < k; c++) {
    for (let i = c + 1; i < k; i++) {
      const v = 0.5 * (ld(inv_KK, i + c * k) + ld(inv_KK, c + i * k));
      st(inv_KK, i + c * k, v);
      st(inv_KK, c + i * k, v);
    }
  }
  return OK;
}

/**
 * x_NK: n x k design, column-major (include the intercept column yourself).
 * y_N: outcome in [0, 1] (0/1 for a treatment). w_N: prior weights (>= 0), or 0 for ones.
 * tol, maxIter: glm's epsilon (1e-8) and maxit (25). strict: 1 to also halve the step
 * whenever the deviance increases (0 = exactly glm).
 * Outputs: coef_K; vcov_KK (k x k, inverse Fisher information of the last solve);
 * eta_N, mu_N at the final coefficients; info[LOGIT_INFO_LEN] = log-likelihood, deviance,
 * iterations, converged (0/1), separated (0/1), step halvings.
 * scratch: logitScratch(n, k) f64.
 * Status: OK, NOT_CONVERGED, LOGIT_SEPARATION (outputs filled in both cases), SINGULAR
 * (collinear design), BAD_ARGUMENT (sizes, non-finite data, y outside [0, 1], w < 0).
 */
export function logitIrls(
  coef_K: usize, vcov_KK: usize, eta_N: usize, mu_N: usize, info: usize, scratch: usize, n: i32,
  k: i32, x_NK: usize, y_N: usize, w_N: usize, tol: f64, maxIter: i32, strict: i32,
): i32 {
  if (n <= 0 || k <= 0 || n < k || maxIter <= 0 || !(tol > 0)) return BAD_ARGUMENT;
  for (let i = 0; i < n; i++) {
    const y = ld(y_N, i);
    if (!(y >= 0 && y <= 1)) return BAD_ARGUMENT;
    if (w_N) {
      const w = ld(w_N, i);
      if (!(w >= 0) || !isFinite(w)) return BAD_ARGUMENT;
    }
  }
  for (let j = 0; j < k; j++) {
    const cp = x_NK + ((<usize>j * <usize>n) << 3);
    for (let i = 0; i < n; i++) if (!isFinite(ld(cp, i))) return BAD_ARGUMENT;
  }
  const s2_N = scratch;
  const z_N = s2_N + (<usize>n << 3);
  const a_KK = z_N + (<usize>n << 3);
  const l_KK = a_KK + ((<usize>k * <usize>k) << 3);
  const r_K = l_KK + ((<usize>k * <usize>k) << 3);
  const d_K = r_K + (<usize>k << 3);
  const old_K = d_K + (<usize>k << 3);

  // initialize as binomial()$initialize: mustart = (w y + 0.5) / (w + 1)
  let devold: f64 = 0;
  for (let i = 0; i < n; i++) {
    const y = ld(y_N, i);
    const w = w_N ? ld(w_N, i) : 1.0;
    const m0 = (w * y + 0.5) / (w + 1.0);
    const e = Math.log(m0 / (1.0 - m0));
    st(eta_N, i, e);
    const m = linkinv(e);
    st(mu_N, i, m);
    devold += 2.0 * w * (ylogy(y, m) + ylogy(1.0 - y, 1.0 - m));
  }
  memory.fill(old_K, 0, <usize>k << 3);
  let hasOld = false;
  let conv = false;
  let iter = 0;
  let halvings = 0;
  let dev = devold;
  for (iter = 1; iter <= maxIter; iter++) {
    for (let i = 0; i < n; i++) {
      const e = ld(eta_N, i);
      const m = ld(mu_N, i);
      const me = muEta(e);
      const w = w_N ? ld(w_N, i) : 1.0;
      st(z_N, i, e + (ld(y_N, i) - m) / me);
      st(s2_N, i, w > 0 ? (w * me * me) / (m * (1.0 - m)) : 0.0);
    }
    // A = X' S2 X (lower triangle, mirrored), r = X' S2 z
    for (let a = 0; a < k; a++) {
      const ca = x_NK + ((<usize>a * <usize>n) << 3);
      for (let b = 0; b <= a; b++) {
        const cb = x_NK + ((<usize>b * <usize>n) << 3);
        let s: f64 = 0;
        for (let i = 0; i < n; i++) s += ld(s2_N, i) * ld(ca, i) * ld(cb, i);
        st(a_KK, a + b * k, s);
        st(a_KK, b + a * k, s);
      }
      let t: f64 = 0;
      for (let i = 0; i < n; i++) t += ld(s2_N, i) * ld(ca, i) * ld(z_N, i);
      st(r_K, a, t);
    }
    const cs = cholSolveInv(k, a_KK, r_K, coef_K, vcov_KK, l_KK, d_K);
    if (cs != OK) return cs;
    dev = etaMuDev(n, k, x_NK, coef_K, y_N, w_N, eta_N, mu_N);
    let ii = 0;
    while (!isFinite(dev) || (strict != 0 && hasOld && dev > devold)) {
      if (ii >= maxIter) break;
      ii++;
      halvings++;
      for (let j = 0; j < k; j++) st(coef_K, j, 0.5 * (ld(coef_K, j) + ld(old_K, j)));
      dev = etaMuDev(n, k, x_NK, coef_K, y_N, w_N, eta_N, mu_N);
    }
    if (Math.abs(dev - devold) / (Math.abs(dev) + 0.1) < tol) {
      conv = true;
      break;
    }
    devold = dev;
    memory.copy(old_K, coef_K, <usize>k << 3);
    hasOld = true;
  }
  if (iter > maxIter) iter = maxIter;
  let ll: f64 = 0;
  let separated = false;
  const eps10 = 10.0 * DBL_EPS;
  for (let i = 0; i < n; i++) {
    const y = ld(y_N, i);
    const m = ld(mu_N, i);
    const w = w_N ? ld(w_N, i) : 1.0;
    ll += w * ((y > 0 ? y * Math.log(m) : 0.0) + (y < 1 ? (1.0 - y) * Math.log(1.0 - m) : 0.0));
    if (m > 1.0 - eps10 || m < eps10) separated = true;
  }
  st(info, 0, ll);
  st(info, 1, dev);
  st(info, 2, <f64>iter);
  st(info, 3, conv ? 1.0 : 0.0);
  st(info, 4, separated ? 1.0 : 0.0);
  st(info, 5, <f64>halvings);
  if (!conv) return NOT_CONVERGED;
  if (separated) return LOGIT_SEPARATION;
  return OK;
}
