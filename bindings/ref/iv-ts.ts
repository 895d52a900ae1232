// Two-stage least squares with fixed effects in plain TypeScript: the second opinion for the
// WASM path (estimators/iv.ts) in tests and its baseline in bench/iv.bench.ts. Different
// arithmetic on purpose where it matters: the demeaning is the TypeScript one of feols-ts.ts
// (or the plain alternating projections of kernels.ts with weights), least squares by
// modified Gram-Schmidt, the first-stage F and Wu-Hausman as restricted-minus-unrestricted
// SSR (the engine uses the Wald form), Sargan by an explicit regression of the residuals.
// Plain FE only; vcov iid, hetero, or clustered by the first FE (nested in itself).
import { demeanTs } from "./feols-ts.js";
import { refDemean, refLeastSquares, refMeatHetero, refMeatCluster } from "./kernels.js";

export interface TsIvInput {
  y: Float64Array;
  exo: Float64Array[];
  endo: Float64Array[];
  inst: Float64Array[];
  fe: { codes: Int32Array; levels: number }[];
  weights?: Float64Array | null;
  vcov: "iid" | "hetero" | "cluster";
  tol?: number;
}

export interface TsIvOutput {
  /** second stage: fitted endogenous first, then exogenous (no intercept: FE required) */
  coef: Float64Array;
  se: Float64Array;
  /** first stages: instruments first, then exogenous */
  firstCoef: Float64Array[];
  firstSe: Float64Array[];
  ivf1: number[];
  wh: number;
  sargan: number | null;
  ssr: number;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function fitted(cols: Float64Array[], b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n);
  cols.forEach((c, j) => {
    for (let i = 0; i < n; i++) out[i] += b[j] * c[i];
  });
  return out;
}

function ssrOf(y: Float64Array, cols: Float64Array[]): number {
  const ls = refLeastSquares(cols, y, 0);
  const r = y.slice();
  const f = fitted(cols, ls.coef, y.length);
  for (let i = 0; i < r.length; i++) r[i] -= f[i];
  return dot(r, r);
}

export function ivTs(inp: TsIvInput): TsIvOutput {
  const n = inp.y.length;
  const w = inp.weights ?? null;
  const raw = [inp.y, ...inp.exo, ...inp.endo, ...inp.inst];
  const K = raw.length;
  let cols: Float64Array[];
  if (w) cols = raw.map((c) => refDemean(c, inp.fe.map((f) => ({ ...f, type: 0 as const })), w, inp.tol ?? 1e-13).out);
  else {
    const M = new Float64Array(n * K);
    raw.forEach((c, j) => M.set(c, j * n));
    demeanTs(M, n, K, inp.fe, inp.tol ?? 1e-12, 100_000);
    cols = raw.map((_, j) => M.slice(j * n, (j + 1) * n));
  }
  if (w) cols = cols.map((c) => c.map((v, i) => v * Math.sqrt(w[i])));
  const kx = inp.exo.length, p = inp.endo.length, q = inp.inst.length;
  const y = cols[0];
  const W = cols.slice(1, 1 + kx);
  const E = cols.slice(1 + kx, 1 + kx + p);
  const Z = cols.slice(1 + kx + p);
  const A = [...Z, ...W];
  const feDof = inp.fe.reduce((s, f) => s + f.levels, 0) - Math.max(inp.fe.length - 1, 0);
  const Kof = (k: number) => (inp.vcov === "cluster" ? k + inp.fe.slice(1).reduce((s, f) => s + f.levels - 1, 0) + 1 : k + feDof);
  const vcov = (X: Float64Array[], e: Float64Array, bread: Float64Array): Float64Array => {
    const k = X.length;
    const Kd = Kof(k);
    if (inp.vcov === "iid") return bread.map((b) => (b * dot(e, e)) / (n - Kd));
    const G = inp.fe[0].levels;
    const meat = inp.vcov === "hetero" ? refMeatHetero(X, e) : refMeatCluster(X, e, inp.fe[0].codes, G);
    const adj = inp.vcov === "hetero" ? n / (n - Kd) : ((n - 1) / (n - Kd)) * (G / (G - 1));
    const V = new Float64Array(k * k);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) {
        let s = 0;
        for (let r = 0; r < k; r++) for (let t = 0; t < k; t++) s += bread[a + r * k] * meat[r + t * k] * bread[t + b * k];
        V[a + b * k] = s * adj;
      }
    return V;
  };
  const diagSe = (V: Float64Array, k: number) => Float64Array.from({ length: k }, (_, j) => Math.sqrt(V[j + j * k]));

  const firstCoef: Float64Array[] = [], firstSe: Float64Array[] = [], ivf1: number[] = [];
  const fits: Float64Array[] = [];
  for (const e of E) {
    const ls = refLeastSquares(A, e, 0);
    const fv = fitted(A, ls.coef, n);
    const v = e.map((x, i) => x - fv[i]);
    firstCoef.push(ls.coef);
    firstSe.push(diagSe(vcov(A, v, ls.bread), A.length));
    fits.push(fv);
    const ssrU = dot(v, v);
    const ssrR = W.length ? ssrOf(e, W) : dot(e, e);
    ivf1.push(((ssrR - ssrU) / q) / (ssrU / (n - Kof(A.length))));
  }
  const X = [...fits, ...W];
  const ls2 = refLeastSquares(X, y, 0);
  const S = [...E, ...W];
  const fS = fitted(S, ls2.coef, n);
  const eStr = y.map((v, i) => v - fS[i]);
  const V2 = vcov(X, eStr, ls2.bread);
  // Wu-Hausman: y ~ E + W against y ~ E + fit_E + W
  const ssrR = ssrOf(y, S);
  const ssrU = ssrOf(y, [...E, ...fits, ...W]);
  const df2 = n - (X.length + feDof + p);
  const wh = ((ssrR - ssrU) / p) / (ssrU / df2);
  // Sargan: n (1 - r'Wr / TSS_w(e)), e the structural residuals (sqrt-weighted)
  let sargan: number | null = null;
  if (q > p) {
    const lsS = refLeastSquares(A, eStr, 0);
    const fe = fitted(A, lsS.coef, n);
    const r = eStr.map((v, i) => v - fe[i]);
    const sq = (i: number) => (w ? Math.sqrt(w[i]) : 1);
    let sw = 0, se = 0;
    for (let i = 0; i < n; i++) {
      sw += sq(i) ** 2;
      se += sq(i) * eStr[i];
    }
    sargan = n * (1 - dot(r, r) / (dot(eStr, eStr) - (se * se) / sw));
  }
  return { coef: ls2.coef, se: diagSe(V2, X.length), firstCoef, firstSe, ivf1, wh, sargan, ssr: dot(eStr, eStr) };
}
