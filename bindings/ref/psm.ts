// Plain TypeScript references for the propensity-score kernels (assembly/logit.ts,
// assembly/match.ts). They follow R line by line and use different algorithms from the
// kernels on purpose, so that the tests compare two independent implementations:
//   - refLogitIrls: R's glm.fit (binomial, logit link) with the weighted least-squares
//     step solved by modified Gram-Schmidt QR of sqrt(W) X (the kernel uses Cholesky of
//     the equilibrated k x k normal equations);
//   - refNnMatch: MatchIt 4.5.1's nn_matchC_vec verbatim: one array of all units sorted
//     by distance, linear scans left and right from each treated unit (the kernel keeps
//     only controls, binary-searches each treated unit's position and skips used controls
//     with union-find, O(n log n));
//   - refMatchWeights: MatchIt's weights_matrixC + weights.matrix (ATT).

/** R's logit link constants (src/library/stats/src/family.c). */
const THRESH = 30;
const MTHRESH = -30;
const DBL_EPSILON = 2.220446049250313e-16;
const INVEPS = 1 / DBL_EPSILON;

export function logitLinkinv(eta: number): number {
  const tmp = eta < MTHRESH ? DBL_EPSILON : eta > THRESH ? INVEPS : Math.exp(eta);
  return tmp / (1 + tmp);
}

export function logitMuEta(eta: number): number {
  const opexp = 1 + Math.exp(eta);
  return eta > THRESH || eta < MTHRESH ? DBL_EPSILON : Math.exp(eta) / (opexp * opexp);
}

/** Binomial deviance contribution of one observation (R's binomial_dev_resids). */
export function binomialDevResid(y: number, mu: number, w: number): number {
  const ylogy = (a: number, b: number) => (a > 0 ? a * Math.log(a / b) : 0);
  return 2 * w * (ylogy(y, mu) + ylogy(1 - y, 1 - mu));
}

export interface RefLogitResult {
  coef: Float64Array;
  /** inverse Fisher information (k x k column-major), from the last IRLS step as summary.glm */
  vcov: Float64Array;
  eta: Float64Array;
  mu: Float64Array;
  loglik: number;
  deviance: number;
  iterations: number;
  converged: boolean;
}

/**
 * Logistic regression as R's glm.fit: start from mu = (w y + 0.5) / (w + 1), IRLS until
 * |dev - dev_old| / (|dev| + 0.1) < tol, at most maxIter iterations.
 * x: n x k column-major; y in {0, 1}; w: prior weights or null.
 */
export function refLogitIrls(
  x: Float64Array, n: number, k: number, y: Float64Array, w: Float64Array | null, tol = 1e-8, maxIter = 25,
): RefLogitResult {
  const wt = (i: number) => (w ? w[i] : 1);
  const eta = new Float64Array(n);
  const mu = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m0 = (wt(i) * y[i] + 0.5) / (wt(i) + 1);
    eta[i] = Math.log(m0 / (1 - m0));
    mu[i] = logitLinkinv(eta[i]);
  }
  let devold = 0;
  for (let i = 0; i < n; i++) devold += binomialDevResid(y[i], mu[i], wt(i));
  let coef = new Float64Array(k);
  let vcov = new Float64Array(k * k);
  let dev = devold;
  let converged = false;
  let iter = 0;
  for (iter = 1; iter <= maxIter; iter++) {
    const sw = new Float64Array(n);
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const me = logitMuEta(eta[i]);
      z[i] = eta[i] + (y[i] - mu[i]) / me;
      sw[i] = wt(i) > 0 ? Math.sqrt((wt(i) * me * me) / (mu[i] * (1 - mu[i]))) : 0;
    }
    const fit = mgsLeastSquares(x, n, k, sw, z);
    coef = fit.coef;
    vcov = fit.inv;
    for (let i = 0; i < n; i++) {
      let e = 0;
      for (let j = 0; j < k; j++) e += x[j * n + i] * coef[j];
      eta[i] = e;
      mu[i] = logitLinkinv(e);
    }
    dev = 0;
    for (let i = 0; i < n; i++) dev += binomialDevResid(y[i], mu[i], wt(i));
    if (Math.abs(dev - devold) / (Math.abs(dev) + 0.1) < tol) {
      converged = true;
      break;
    }
    devold = dev;
  }
  let loglik = 0;
  for (let i = 0; i < n; i++) loglik += wt(i) * (y[i] > 0 ? Math.log(mu[i]) : Math.log(1 - mu[i]));
  return { coef, vcov, eta, mu, loglik, deviance: dev, iterations: Math.min(iter, maxIter), converged };
}

/** min ||s (z - X b)|| by modified Gram-Schmidt; also (X' S^2 X)^{-1}. */
function mgsLeastSquares(x: Float64Array, n: number, k: number, s: Float64Array, z: Float64Array) {
  const Q = new Float64Array(n * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) Q[j * n + i] = x[j * n + i] * s[i];
  const R = new Float64Array(k * k); // upper, column-major R[a + b k]
  const qz = new Float64Array(n);
  for (let i = 0; i < n; i++) qz[i] = z[i] * s[i];
  for (let j = 0; j < k; j++) {
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += Q[j * n + i] ** 2;
    nrm = Math.sqrt(nrm);
    if (!(nrm > 0)) throw new Error("refLogitIrls: singular design");
    R[j + j * k] = nrm;
    for (let i = 0; i < n; i++) Q[j * n + i] /= nrm;
    for (let l = j + 1; l < k; l++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += Q[j * n + i] * Q[l * n + i];
      R[j + l * k] = d;
      for (let i = 0; i < n; i++) Q[l * n + i] -= d * Q[j * n + i];
    }
  }
  const qty = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let d = 0;
    for (let i = 0; i < n; i++) d += Q[j * n + i] * qz[i];
    qty[j] = d;
    for (let i = 0; i < n; i++) qz[i] -= d * Q[j * n + i];
  }
  const coef = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    let v = qty[j];
    for (let l = j + 1; l < k; l++) v -= R[j + l * k] * coef[l];
    coef[j] = v / R[j + j * k];
  }
  // Rinv (upper), inv = Rinv Rinv'
  const Ri = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    Ri[c + c * k] = 1 / R[c + c * k];
    for (let j = c - 1; j >= 0; j--) {
      let v = 0;
      for (let l = j + 1; l <= c; l++) v += R[j + l * k] * Ri[l + c * k];
      Ri[j + c * k] = -v / R[j + j * k];
    }
  }
  const inv = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      let v = 0;
      for (let c = Math.max(a, b); c < k; c++) v += Ri[a + c * k] * Ri[b + c * k];
      inv[a + b * k] = v;
    }
  return { coef, inv };
}

export interface RefMatchOptions {
  ratio: number;
  replace: boolean;
  /** caliper in distance units, or null */
  caliper: number | null;
  /** treated ranks (0..n1-1, data order) in processing order */
  order: Int32Array;
  /** exact-matching stratum codes, or null */
  strata: Int32Array | null;
  /** reproduce MatchIt 4.5.1's integer abs and its off-by-one "already matched" test */
  compat: boolean;
}

/**
 * MatchIt 4.5.1 nearest-neighbour matching on a distance vector (nn_matchC_vec).
 * Returns the match matrix: n1 x ratio, row t = t-th treated unit in data order,
 * row-major (t * ratio + r), holding the control's row index or -1.
 */
export function refNnMatch(dist: Float64Array, treat: Int32Array, o: RefMatchOptions): Int32Array {
  const n = dist.length;
  const tIdx: number[] = [];
  for (let i = 0; i < n; i++) if (treat[i] === 1) tIdx.push(i);
  const n1 = tIdx.length;
  const mm = new Int32Array(n1 * o.ratio).fill(-1);
  // strata are matched separately, as MatchIt does (lapply over levels(ex))
  const strata = o.strata ?? new Int32Array(n);
  const levels = [...new Set(strata)].sort((a, b) => a - b);
  const rankOf = new Map<number, number>();
  tIdx.forEach((g, t) => rankOf.set(g, t));
  for (const s of levels) {
    const units: number[] = [];
    for (let i = 0; i < n; i++) if (strata[i] === s) units.push(i);
    // stable sort by distance (R: sort.list, radix, stable)
    const dOrd = units.map((u, j) => j).sort((a, b) => dist[units[a]] - dist[units[b]] || a - b).map((j) => units[j]);
    const posOf = new Map<number, number>();
    dOrd.forEach((u, p) => posOf.set(u, p));
    const cbm = dOrd.map((u) => treat[u] !== 1);
    if (!cbm.some(Boolean)) continue;
    const order = Array.from(o.order).filter((t) => strata[tIdx[t]] === s);
    for (let r = 0; r < o.ratio; r++) {
      for (const t of order) {
        const ii = posOf.get(tIdx[t])!;
        // MatchIt 4.5.1 stores 1-based positions of the stratum subset and compares them
        // with 0-based ones: it excludes the unit after each earlier match
        const row = Array.from(mm.subarray(t * o.ratio, t * o.ratio + r))
          .filter((m) => m >= 0)
          .map((m) => (o.compat ? units[units.indexOf(m) + 1] ?? -1 : m));
        const absd = o.compat ? (x: number) => Math.abs(Math.trunc(x)) : Math.abs;
        const di = dist[tIdx[t]];
        const scan = (step: number): number => {
          for (let k = ii + step; k >= 0 && k < dOrd.length; k += step) {
            if (treat[dOrd[k]] === 1) continue;
            if (r > 0 && row.includes(dOrd[k])) continue;
            if (!cbm[k]) continue;
            if (o.caliper !== null && absd(di - dist[dOrd[k]]) > o.caliper) return -1;
            return k;
          }
          return -1;
        };
        const kl = scan(-1);
        const kr = scan(1);
        let k: number;
        if (kl >= 0 && kr >= 0) k = absd(dist[dOrd[kl]] - di) <= absd(dist[dOrd[kr]] - di) ? kl : kr;
        else if (kl >= 0) k = kl;
        else if (kr >= 0) k = kr;
        else continue;
        mm[t * o.ratio + r] = dOrd[k];
        if (!o.replace) cbm[k] = false;
      }
      if (!cbm.some(Boolean)) break;
    }
  }
  return mm;
}

/** MatchIt's ATT matching weights from the match matrix (controls rescaled to sum to their count). */
export function refMatchWeights(treat: Int32Array, mm: Int32Array, ratio: number): Float64Array {
  const n = treat.length;
  const w = new Float64Array(n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    if (treat[i] !== 1) continue;
    const row = Array.from(mm.subarray(t * ratio, (t + 1) * ratio)).filter((c) => c >= 0);
    t++;
    if (row.length === 0) continue;
    for (const c of row) w[c] += 1 / row.length;
    w[i] += 1;
  }
  let s = 0, cnt = 0;
  for (let i = 0; i < n; i++) if (treat[i] !== 1 && w[i] > 0) {
    s += w[i];
    cnt++;
  }
  if (s > 0) for (let i = 0; i < n; i++) if (treat[i] !== 1) w[i] *= cnt / s;
  return w;
}
