// Distribution functions (Student t, normal, F, chi-square) and small dense linear algebra
// used by the binding layer. Pure functions, no allocation beyond their results.
// Logarithms and exponentials are rng.ts's dlog / dexp, bit-identical on every engine: the
// engines' own Math.exp / Math.log differ in the last bit between V8 versions (Node 20 and
// Chromium disagree on 5-10% of arguments), and a p-value or interval must be the same number
// in Node and in the page.
import { dexp, dlog } from "./rng.js";

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function lgamma(x: number): number {
  // (0, 0.5): the recurrence lgamma(x) = lgamma(x + 1) - log(x), no sine needed
  if (x > 0 && x < 0.5) return lgamma(x + 1) - dlog(x);
  if (x <= 0) return dlog(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * dlog(2 * Math.PI) + (x + 0.5) * dlog(t) - t + dlog(a);
}

/** Continued fraction for the regularized incomplete beta (Numerical Recipes betacf). */
function betacf(a: number, b: number, x: number): number {
  const FPMIN = 1e-300;
  const qab = a + b, qap = a + 1, qam = a - 1;
  let c = 1, d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function ibeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = dexp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * dlog(x) + b * dlog(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (bt * betacf(a, b, x)) / a;
  return 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student t with df degrees of freedom (df = Infinity gives the normal). */
export function pt(t: number, df: number): number {
  if (!Number.isFinite(df)) return pnorm(t);
  if (Number.isNaN(t)) return NaN;
  const x = df / (df + t * t);
  const tail = 0.5 * ibeta(x, df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** Two-sided p-value of a t statistic. */
export function pval2(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  const x = df / (df + t * t);
  return Number.isFinite(df) ? ibeta(x, df / 2, 0.5) : 2 * pnorm(-Math.abs(t));
}

/** Quantile of Student t by bisection + Newton polishing. */
export function qt(p: number, df: number): number {
  if (!Number.isFinite(df)) return qnorm(p);
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  let lo = -1e3, hi = 1e3;
  let x = qnorm(p);
  for (let i = 0; i < 200; i++) {
    const f = pt(x, df) - p;
    if (Math.abs(f) < 1e-15) break;
    if (f > 0) hi = x;
    else lo = x;
    const dens = dexp(lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * dlog(df * Math.PI) - ((df + 1) / 2) * dlog(1 + (x * x) / df));
    let nx = x - f / dens;
    if (!(nx > lo && nx < hi)) nx = (lo + hi) / 2;
    if (Math.abs(nx - x) < 1e-14 * Math.max(1, Math.abs(x))) {
      x = nx;
      break;
    }
    x = nx;
  }
  return x;
}

export function pnorm(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const r = z < 0.5 ? 1 - erfSmall(z) : erfcLarge(z);
  return x < 0 ? 2 - r : r;
}

function erfSmall(x: number): number {
  // series
  let sum = x, term = x;
  const x2 = x * x;
  for (let n = 1; n < 60; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

function erfcLarge(x: number): number {
  // continued fraction (Lentz) for erfc, x >= 0.5
  const FPMIN = 1e-300;
  let f = x, C = x, D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = x + a * D;
    if (Math.abs(D) < FPMIN) D = FPMIN;
    C = x + a / C;
    if (Math.abs(C) < FPMIN) C = FPMIN;
    D = 1 / D;
    const del = C * D;
    f *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return dexp(-x * x) / (f * Math.sqrt(Math.PI));
}

/** Normal quantile (Acklam, refined by one Halley step). */
export function qnorm(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * dlog(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    const q = Math.sqrt(-2 * dlog(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const q = p - 0.5, r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const e = pnorm(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * dexp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** P(F <= f) for F(d1, d2). */
export function pf(f: number, d1: number, d2: number): number {
  if (f <= 0) return 0;
  return ibeta((d1 * f) / (d1 * f + d2), d1 / 2, d2 / 2);
}

/** P(X <= x) for chi-square with k df. */
export function pchisq(x: number, k: number): number {
  if (x <= 0) return 0;
  return gammaP(k / 2, x / 2);
}

function gammaP(a: number, x: number): number {
  if (x < a + 1) {
    let sum = 1 / a, del = sum, ap = a;
    for (let n = 0; n < 10000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return sum * dexp(-x + a * dlog(x) - lgamma(a));
  }
  const FPMIN = 1e-300;
  let b = x + 1 - a, c = 1 / FPMIN, d = 1 / b, h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return 1 - dexp(-x + a * dlog(x) - lgamma(a)) * h;
}

// ---- small dense matrices (column-major k x k as Float64Array) ----

export function matmul(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k * k);
  for (let j = 0; j < k; j++)
    for (let l = 0; l < k; l++) {
      const blj = b[l + j * k];
      if (blj === 0) continue;
      for (let i = 0; i < k; i++) out[i + j * k] += a[i + l * k] * blj;
    }
  return out;
}

/** bread * meat * bread for symmetric bread. */
export function sandwich(bread: Float64Array, meat: Float64Array, k: number): Float64Array {
  return matmul(matmul(bread, meat, k), bread, k);
}

/** Symmetric eigen-decomposition by cyclic Jacobi: returns eigenvalues and column eigenvectors. */
export function eigenSym(m: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const a = m.slice();
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i + i * k] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p + q * k] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < k; p++)
      for (let q = p + 1; q < k; q++) {
        const apq = a[p + q * k];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q + q * k] - a[p + p * k]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r + p * k], arq = a[r + q * k];
          a[r + p * k] = c * arp - s * arq;
          a[r + q * k] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p + r * k], aqr = a[q + r * k];
          a[p + r * k] = c * apr - s * aqr;
          a[q + r * k] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r + p * k], vrq = v[r + q * k];
          v[r + p * k] = c * vrp - s * vrq;
          v[r + q * k] = s * vrp + c * vrq;
        }
      }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = a[i + i * k];
  return { values, vectors: v };
}

/** Rebuild V from eigen-decomposition with eigenvalues floored at `floor`. */
export function floorEigen(m: Float64Array, k: number, floor: number): Float64Array {
  const { values, vectors } = eigenSym(m, k);
  const out = new Float64Array(k * k);
  for (let e = 0; e < k; e++) {
    const lam = Math.max(values[e], floor);
    for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) out[i + j * k] += lam * vectors[i + e * k] * vectors[j + e * k];
  }
  return out;
}

/**
 * Lower Cholesky factor (column-major) of a symmetric positive-definite matrix; null if not PD,
 * or as soon as `accept(j, pivot)` refuses column j's squared pivot (a rank test's threshold).
 */
export function cholesky(m: Float64Array, k: number, accept: (j: number, pivot: number) => boolean = (_, s) => s > 0): Float64Array | null {
  const L = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let s = m[j + j * k];
    for (let l = 0; l < j; l++) s -= L[j + l * k] ** 2;
    if (!accept(j, s)) return null;
    const d = Math.sqrt(s);
    L[j + j * k] = d;
    for (let i = j + 1; i < k; i++) {
      let t = m[i + j * k];
      for (let l = 0; l < j; l++) t -= L[i + l * k] * L[j + l * k];
      L[i + j * k] = t / d;
    }
  }
  return L;
}

/** Inverse of a symmetric positive-definite matrix by Cholesky; null if not PD. */
export function invSPD(m: Float64Array, k: number): Float64Array | null {
  const L = cholesky(m, k);
  if (!L) return null;
  // invert L, then inv = L^-T L^-1
  const Li = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    Li[j + j * k] = 1 / L[j + j * k];
    for (let i = j + 1; i < k; i++) {
      let s = 0;
      for (let l = j; l < i; l++) s -= L[i + l * k] * Li[l + j * k];
      Li[i + j * k] = s / L[i + i * k];
    }
  }
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let l = i; l < k; l++) s += Li[l + i * k] * Li[l + j * k];
      out[i + j * k] = s;
      out[j + i * k] = s;
    }
  return out;
}
