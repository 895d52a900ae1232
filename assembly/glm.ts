// The per-step passes of the GLM IRLS with fixed effects (fepois / feglm, driven by
// bindings/estimators/glm-irls.ts): every O(n) loop of a step except the demeaning
// (assembly/demean.ts). The family is an int code: 0 Poisson (log link), 1 logit, 2 probit,
// with R's clamps as bindings/estimators/glm-family.ts defines them (binomial mu in
// [eps, 1 - eps], probit eta within +-qnorm(eps), mu'(eta) at least eps). Plain TypeScript
// references: bindings/ref/glm.ts and the family definitions (tests/glm-kernels.test.ts).
// Pointers and lengths in, outputs first, a status out; optional inputs (offset, prior
// weights, FE part) are 0 when absent.
import { OK, BAD_ARGUMENT } from "./status";

const EPS: f64 = 2.220446049250313e-16;
/** -qnorm(.Machine$double.eps): R's probit linkinv clamp */
const PROBIT_THRESH: f64 = 8.125890664701906;
const LOG_2PI_HALF: f64 = 0.9189385332046728;
const SQRT_PI: f64 = 1.7724538509055159;

@inline function ld(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

@inline function st(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

/** sum_i w_i a_i b_i, two lanes at a time */
@inline function dotW(w: usize, a: usize, b: usize, n: i32): f64 {
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const o = <usize>i << 3;
    acc = f64x2.add(acc, f64x2.mul(f64x2.mul(v128.load(w + o), v128.load(a + o)), v128.load(b + o)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) s += ld(w, i) * ld(a, i) * ld(b, i);
  return s;
}

@inline function ylogy(y: f64, mu: f64): f64 {
  return y > 0 ? y * Math.log(y / mu) : 0.0;
}

/** erf(x) for 0 <= x < 0.5 by its series (as bindings/base/stats.ts). */
function erfSmall(x: f64): f64 {
  let sum = x, term = x;
  const x2 = x * x;
  for (let n = 1; n < 60; n++) {
    term *= -x2 / <f64>n;
    const add = term / <f64>(2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2.0 / SQRT_PI) * sum;
}

/** erfc(x) for x >= 0.5 by its continued fraction (Lentz), as bindings/base/stats.ts. */
function erfcLarge(x: f64): f64 {
  const FPMIN: f64 = 1e-300;
  let f = x, C = x, D: f64 = 0;
  for (let n = 1; n < 500; n++) {
    const a = <f64>n / 2.0;
    D = x + a * D;
    if (Math.abs(D) < FPMIN) D = FPMIN;
    C = x + a / C;
    if (Math.abs(C) < FPMIN) C = FPMIN;
    D = 1.0 / D;
    const del = C * D;
    f *= del;
    if (Math.abs(del - 1.0) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * SQRT_PI);
}

/** The normal cdf, accurate in the tails (erfc, not 1 - erf). */
function pnorm(x: f64): f64 {
  const t = -x / Math.SQRT2;
  const z = Math.abs(t);
  const r = z < 0.5 ? 1.0 - erfSmall(z) : erfcLarge(z);
  return 0.5 * (t < 0 ? 2.0 - r : r);
}

@inline function linkinv(family: i32, eta: f64): f64 {
  if (family == 0) {
    const m = Math.exp(eta);
    return m > EPS ? m : EPS;
  }
  if (family == 1) {
    const m = 1.0 / (1.0 + Math.exp(-eta));
    return m < EPS ? EPS : m > 1.0 - EPS ? 1.0 - EPS : m;
  }
  return pnorm(eta < -PROBIT_THRESH ? -PROBIT_THRESH : eta > PROBIT_THRESH ? PROBIT_THRESH : eta);
}

/** d mu / d eta */
@inline function muEta(family: i32, eta: f64): f64 {
  let d: f64;
  if (family == 0) d = Math.exp(eta);
  else if (family == 1) {
    const e = Math.exp(-Math.abs(eta));
    d = e / ((1.0 + e) * (1.0 + e));
  } else d = Math.exp(-0.5 * eta * eta - LOG_2PI_HALF);
  return d > EPS ? d : EPS;
}

/** deviance contribution of a row without the factor 2 (R's dev.resids / 2) */
@inline function devHalf(family: i32, y: f64, mu: f64, w: f64): f64 {
  return family == 0 ? w * (ylogy(y, mu) - (y - mu)) : w * (ylogy(y, mu) + ylogy(1.0 - y, 1.0 - mu));
}

/** The probit link qnorm(p): Newton on pnorm from a logistic guess (starting values only). */
function probitLink(p: f64): f64 {
  let x = Math.log(p / (1.0 - p)) / 1.6;
  for (let i = 0; i < 50; i++) {
    const d = (pnorm(x) - p) / Math.exp(-0.5 * x * x - LOG_2PI_HALF);
    x -= d;
    if (Math.abs(d) < 1e-14) break;
  }
  return x;
}

@inline function badFamily(family: i32): bool {
  return family < 0 || family > 2;
}

/**
 * IRLS starting values (R's mustart and its link): mu = y + 0.1 (Poisson),
 * (w y + 0.5) / (w + 1) (binomial, w the prior weight), eta = link(mu).
 */
export function glmStart(eta_N: usize, mu_N: usize, n: i32, family: i32, y_N: usize, pw_N: usize): i32 {
  if (n < 0 || badFamily(family)) return BAD_ARGUMENT;
  for (let i = 0; i < n; i++) {
    const y = ld(y_N, i);
    const w = pw_N != 0 ? ld(pw_N, i) : 1.0;
    const m = family == 0 ? y + 0.1 : (w * y + 0.5) / (w + 1.0);
    st(mu_N, i, m);
    st(eta_N, i, family == 0 ? Math.log(m) : family == 1 ? Math.log(m / (1.0 - m)) : probitLink(m));
  }
  return OK;
}

/** out_1[0] = the deviance 2 sum_i pw_i d(y_i, mu_i). */
export function glmDeviance(out_1: usize, n: i32, family: i32, y_N: usize, mu_N: usize, pw_N: usize): i32 {
  if (n < 0 || badFamily(family)) return BAD_ARGUMENT;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += devHalf(family, ld(y_N, i), ld(mu_N, i), pw_N != 0 ? ld(pw_N, i) : 1.0);
  st(out_1, 0, 2.0 * s);
  return OK;
}

/** mu = linkinv(eta) for every row and out_1[0] = the deviance at that mu (one pass). */
export function glmLinkinv(mu_N: usize, out_1: usize, n: i32, family: i32, eta_N: usize, y_N: usize, pw_N: usize): i32 {
  if (n < 0 || badFamily(family)) return BAD_ARGUMENT;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const m = linkinv(family, ld(eta_N, i));
    st(mu_N, i, m);
    s += devHalf(family, ld(y_N, i), m, pw_N != 0 ? ld(pw_N, i) : 1.0);
  }
  st(out_1, 0, 2.0 * s);
  return OK;
}

/**
 * The working values of a step at (eta, mu): r = (y - mu) / mu'(eta) (working residual),
 * z = eta - offset + r (working response), W = pw mu'(eta)^2 / V(mu) (working weight), and the
 * column the demeaning starts from, m0 = z - feZ (feZ: the previous step's FE part of z,
 * the warm start; m0 = z when feZ_N is 0). m0 may be z itself.
 */
export function glmWorking(
  z_N: usize, w_N: usize, r_N: usize, m0_N: usize, n: i32, family: i32,
  y_N: usize, eta_N: usize, mu_N: usize, off_N: usize, pw_N: usize, feZ_N: usize,
): i32 {
  if (n < 0 || badFamily(family)) return BAD_ARGUMENT;
  for (let i = 0; i < n; i++) {
    const e = ld(eta_N, i);
    const d = muEta(family, e);
    const m = ld(mu_N, i);
    const v = family == 0 ? m : m * (1.0 - m);
    const r = (ld(y_N, i) - m) / d;
    const z = e - (off_N != 0 ? ld(off_N, i) : 0.0) + r;
    st(r_N, i, r);
    st(z_N, i, z);
    st(w_N, i, ((pw_N != 0 ? ld(pw_N, i) : 1.0) * d * d) / v);
    st(m0_N, i, feZ_N != 0 ? z - ld(feZ_N, i) : z);
  }
  return OK;
}

/**
 * The new linear predictor after the weighted least squares of a step. x_NK: the demeaned
 * working response (column 0) and regressors (column c + 1 for regressor c); cols_M: the
 * m kept regressors (0-based, as columns cols[a] + 1), beta_M their coefficients.
 * feZ = z - z~ (the FE part of z), eta = feZ + sum_a x~_a beta_a + offset.
 */
export function glmEta(
  eta_N: usize, feZ_N: usize, n: i32, K: i32, m: i32, x_NK: usize, cols_M: usize, beta_M: usize, z_N: usize, off_N: usize,
): i32 {
  if (n < 0 || m < 0 || K < 1) return BAD_ARGUMENT;
  for (let a = 0; a < m; a++) {
    const c = load<i32>(cols_M + (<usize>a << 2));
    if (c < 0 || c + 1 >= K) return BAD_ARGUMENT;
  }
  for (let i = 0; i < n; i++) {
    const f = ld(z_N, i) - ld(x_NK, i);
    st(feZ_N, i, f);
    st(eta_N, i, f);
  }
  for (let a = 0; a < m; a++) {
    const xa = x_NK + ((<usize>(load<i32>(cols_M + (<usize>a << 2)) + 1) * <usize>n) << 3);
    const b = ld(beta_M, a);
    for (let i = 0; i < n; i++) st(eta_N, i, ld(eta_N, i) + ld(xa, i) * b);
  }
  if (off_N != 0) for (let i = 0; i < n; i++) st(eta_N, i, ld(eta_N, i) + ld(off_N, i));
  return OK;
}

/** A step halving: eta = (eta + etaOld) / 2. */
export function glmHalve(eta_N: usize, n: i32, etaOld_N: usize): i32 {
  if (n < 0) return BAD_ARGUMENT;
  for (let i = 0; i < n; i++) st(eta_N, i, (ld(eta_N, i) + ld(etaOld_N, i)) / 2.0);
  return OK;
}

/**
 * The weighted normal equations of a step over the m columns cols[a] + 1 of x_NK (as
 * glmEta): A_MM = X' W X (sums two lanes at a time) (column-major, symmetric) and, when zt_N is not 0, b_M = X' W zt.
 */
export function glmCross(A_MM: usize, b_M: usize, n: i32, K: i32, m: i32, x_NK: usize, cols_M: usize, w_N: usize, zt_N: usize): i32 {
  if (n < 0 || m < 0 || K < 1) return BAD_ARGUMENT;
  for (let a = 0; a < m; a++) {
    const c = load<i32>(cols_M + (<usize>a << 2));
    if (c < 0 || c + 1 >= K) return BAD_ARGUMENT;
  }
  for (let a = 0; a < m; a++) {
    const xa = x_NK + ((<usize>(load<i32>(cols_M + (<usize>a << 2)) + 1) * <usize>n) << 3);
    for (let b = 0; b <= a; b++) {
      const xb = x_NK + ((<usize>(load<i32>(cols_M + (<usize>b << 2)) + 1) * <usize>n) << 3);
      const s = dotW(w_N, xa, xb, n);
      st(A_MM, a + b * m, s);
      st(A_MM, b + a * m, s);
    }
    if (zt_N != 0) st(b_M, a, dotW(w_N, xa, zt_N, n));
  }
  return OK;
}
