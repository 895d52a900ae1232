// Separation by the regressors (Correia, Guimaraes and Zylkin 2019, "Verifying the existence
// of maximum likelihood estimates for generalized linear models"; ppmlhdfe): when some
// combination z = X g + D a of regressors and FE is >= 0 where y = 0 and = 0 where y > 0
// (Poisson), the MLE of the rows with z > 0 is at infinity: their fitted mean goes to 0 and
// the IRLS creeps. The FE-level case (a level with only zeros) is removed up front
// (glm-sample.ts, fixest's fixef.rm); the general case is found here by ppmlhdfe's iterative
// rectifier (`irSeparation`) and removed (glm.ts, option `separation: "ir"`), or only reported
// from the fitted means (`separatedRows`, option `separation: "fe"`, as fixest).
//
// The iterative rectifier: u = 1 on the boundary rows (y = 0), 0 elsewhere; repeat
//   weighted least squares of u on [X, FE], weight 1 on the boundary rows and IR_WEIGHT on the
//   others (so the fit is ~0 there) -> fitted u^;
//   if u^ >= -tol on every boundary row, u^ certifies separation: the boundary rows with
//   u^ > tol are separated (none when u^ has shrunk below tol everywhere): stop;
//   else u = max(u^, 0) on the boundary rows (the ReLU), 0 elsewhere.
// Binomial: the same with the boundary y = 0 (z = 0 on the rows with y > 0), then y = 1: the
// quasi-complete separation where one side of the outcome lies on the separating hyperplane
// (e.g. a dummy x = 1 only where y = 0). Complete separation (both sides strictly apart) is not
// found by this rule: the IRLS reports it as before.
//
// Before the rectifier, a cheap sufficient certificate of no separation (`rankCertificate`):
// a separating z = A c (A = [X, D]) vanishes on the non-boundary rows (A+ c = 0). The rows of
// A+ are rows of A, so null(A) is in null(A+); when rank(A+) = rank(A) the two are equal and
// A+ c = 0 gives z = A c = 0: no separation. rank(A+) = rank(D+) + rank(M_D+ X+) >= rank(A)
// when (a) D+ has D's rank (1 FE: every level has a non-boundary row; 2 FE: also as many
// connected components of the level graph on those rows as on all rows) and (b) X demeaned
// within the non-boundary rows keeps full column rank (Cholesky pivots above CERT_TOL of the
// diagonal). Anything else (3+ FE, varying slopes, collinear X, a failed pivot) runs the rectifier.
import type { Engine } from "../engine/wasm.js";
import type { Sample } from "../core/sample.js";
import { loadFeDims } from "../core/solve.js";
import { demeanPtr, nonConvergence, type DemeanAlgo } from "../engine/kernels.js";
import { NonConvergenceError } from "../base/errors.js";
import { cholesky } from "../base/stats.js";
import { qrLs } from "./iv-linalg.js";
import { gather, recode } from "../core/sample.js";

/** Which separation is removed: "ir" (default): the FE rule of fixefRm and the iterative rectifier, as ppmlhdfe; "fe": the FE rule only, regressor-induced separation reported (fixest); "none": as "fe". */
export type Separation = "ir" | "fe" | "none";

/**
 * Indices of the rows whose fitted mean sits at the boundary of the outcome's range:
 * Poisson y = 0 with mu < 1e-10 mean(y); binomial y = 0 with mu < 1e-10 or y = 1 with
 * 1 - mu < 1e-10.
 */
export function separatedRows(family: string, y: Float64Array, mu: Float64Array): number[] {
  const bad: number[] = [];
  let meanY = 0;
  for (let i = 0; i < y.length; i++) meanY += y[i] / y.length;
  const lo = 1e-10 * Math.max(meanY, 1e-300);
  for (let i = 0; i < y.length; i++) {
    const sep = family === "poisson" ? y[i] === 0 && mu[i] < lo : (y[i] === 0 && mu[i] < 1e-10) || (y[i] === 1 && 1 - mu[i] < 1e-10);
    if (sep) bad.push(i);
  }
  return bad;
}

/** The weight of the non-boundary rows in the rectifier's least squares (their fit is ~1/IR_WEIGHT). */
const IR_WEIGHT = 1e8;
/** fitted values within IR_TOL of 0 are 0 (u starts at 1) */
const IR_TOL = 1e-6;
const IR_MAX_ITER = 2000;

export interface IrInput {
  eng: Engine;
  /** 1 on the rows at the boundary of the outcome (Poisson: y = 0) */
  boundary: Uint8Array;
  /** regressor columns on the sample, with their names (an intercept column when there is no FE) */
  X: Float64Array[];
  names: string[];
  sample: Pick<Sample, "fe" | "n">;
  fixefTol: number;
  fixefIter: number;
  fixefAlgo: DemeanAlgo;
  threads: number;
  /** false: run the rectifier without the rank certificate first (tests compare the two) */
  certificate?: boolean;
}

export interface IrResult {
  /** sample-local indices of the separated rows, ascending */
  rows: number[];
  /** the regressors of the certificate z = X g + D a (|g_j| max|x~_j| > tol) */
  by: string[];
  iterations: number;
}

/** ppmlhdfe's iterative rectifier (see the top of this file). */
export function irSeparation(inp: IrInput): IrResult {
  const { eng, boundary } = inp;
  const n = inp.sample.n;
  let nb = 0;
  for (let i = 0; i < n; i++) nb += boundary[i];
  if (nb === 0 || nb === n) return { rows: [], by: [], iterations: 0 };
  if (inp.certificate !== false && rankCertificate(inp)) return { rows: [], by: [], iterations: 0 };
  const w = Float64Array.from(boundary, (b) => (b ? 1 : IR_WEIGHT));
  const k = inp.X.length;
  return eng.scoped(() => {
    const wPtr = eng.putF64(w, "rectifier weights");
    const dims = inp.sample.fe.length ? loadFeDims(eng, inp.sample as Sample, wPtr) : null;
    const demean = (cols: Float64Array[]): Float64Array[] => {
      if (!dims || !cols.length) return cols.map((c) => c.slice());
      const m = cols.length;
      const p = eng.allocF64(n * m, "rectifier columns");
      cols.forEach((c, j) => eng.f64(p, n * m).set(c, j * n));
      const info = demeanPtr(eng, dims, m, p, p, inp.fixefTol, inp.fixefIter, inp.fixefAlgo, 20, inp.threads);
      if (!info.converged) throw nonConvergence(info, inp.fixefTol, inp.fixefIter);
      const out = eng.f64(p, n * m);
      return cols.map((_, j) => out.slice(j * n, (j + 1) * n));
    };
    const sw = Float64Array.from(w, Math.sqrt);
    const Xt = demean(inp.X);
    const ls = qrLs(eng, n, Xt.map((c) => c.map((v, i) => v * sw[i])), new Float64Array(n), 1e-10);
    const kept = ls.keep.flatMap((f, j) => (f ? [j] : []));
    const kk = kept.length;
    const u = Float64Array.from(boundary);
    const fit = new Float64Array(n);
    let g = new Float64Array(kk);
    for (let it = 1; it <= IR_MAX_ITER; it++) {
      const ut = demean([u])[0];
      // g = (X~' W X~)^{-1} X~' W u~; fitted u^ = u - (u~ - X~ g)
      const b = kept.map((j) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += w[i] * Xt[j][i] * ut[i];
        return s;
      });
      g = Float64Array.from(kept, (_, a) => b.reduce((s, bc, c) => s + ls.bread[a + c * kk] * bc, 0));
      for (let i = 0; i < n; i++) fit[i] = u[i] - ut[i];
      kept.forEach((j, a) => {
        for (let i = 0; i < n; i++) fit[i] += Xt[j][i] * g[a];
      });
      let minB = Infinity, maxU = 0;
      for (let i = 0; i < n; i++) if (boundary[i]) minB = Math.min(minB, fit[i]);
      if (minB >= -IR_TOL) {
        const rows: number[] = [];
        for (let i = 0; i < n; i++) if (boundary[i] && fit[i] > IR_TOL) rows.push(i);
        const by = rows.length ? kept.filter((j, a) => Math.abs(g[a]) * maxAbs(Xt[j]) > IR_TOL).map((j) => inp.names[j]) : [];
        return { rows, by, iterations: it };
      }
      for (let i = 0; i < n; i++) {
        u[i] = boundary[i] && fit[i] > 0 ? fit[i] : 0;
        maxU = Math.max(maxU, u[i]);
      }
      if (maxU < IR_TOL) return { rows: [], by: [], iterations: it };
    }
    throw new NonConvergenceError(
      `the separation check (iterative rectifier) did not converge in ${IR_MAX_ITER} iterations`, { iterations: IR_MAX_ITER },
      'estimate with separation: "fe" (--separation fe) to skip it',
    );
  });
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

/** relative Cholesky pivot of the regressors demeaned on the non-boundary rows below which the certificate fails */
const CERT_TOL = 1e-6;

/** True when rank([X, D] on the non-boundary rows) = rank([X, D]): no separation (top of this file). */
export function rankCertificate(inp: IrInput): boolean {
  const { eng, boundary } = inp;
  const fe = inp.sample.fe;
  if (fe.length > 2 || fe.some((d) => d.type !== 0)) return false;
  const n = inp.sample.n;
  const local = new Int32Array(n - countOnes(boundary));
  for (let i = 0, j = 0; i < n; i++) if (!boundary[i]) local[j++] = i;
  const m = local.length;
  const sub = fe.map((d) => ({ ...d, ...recode(d.codes, local, d.levels) }));
  if (sub.some((d, q) => d.levels !== fe[q].levels)) return false;
  if (fe.length === 2 && components(sub[0].codes, sub[1].codes, fe[0].levels, fe[1].levels) !== components(fe[0].codes, fe[1].codes, fe[0].levels, fe[1].levels)) return false;
  const k = inp.X.length;
  if (k === 0) return true;
  if (m <= k) return false;
  return eng.scoped(() => {
    const p = eng.allocF64(m * k, "certificate columns");
    const cols = eng.f64(p, m * k);
    inp.X.forEach((x, j) => cols.set(gather(x, local), j * m));
    const pre = colNorms(cols, m, k);
    if (sub.length) {
      const dims = loadFeDims(eng, { n: m, fe: sub } as unknown as Sample, 0);
      const info = demeanPtr(eng, dims, k, p, p, inp.fixefTol, inp.fixefIter, inp.fixefAlgo, 20, inp.threads);
      if (!info.converged) return false;
    }
    return fullRank(eng.f64(p, m * k), m, k, pre);
  });
}

function countOnes(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += b[i];
  return s;
}

function colNorms(c: Float64Array, m: number, k: number): Float64Array {
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) for (let i = 0; i < m; i++) out[j] += c[j * m + i] ** 2;
  return out;
}

/** Cholesky of C'C with every pivot above CERT_TOL times the column's sum of squares before demeaning. */
function fullRank(c: Float64Array, m: number, k: number, pre: Float64Array): boolean {
  const A = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += c[a * m + i] * c[b * m + i];
      A[a + b * k] = A[b + a * k] = s;
    }
  }
  return cholesky(A, k, (a, s) => s > CERT_TOL * pre[a] && s > CERT_TOL * A[a + a * k]) !== null;
}

/** Connected components of the bipartite graph of two FE's levels (an edge per row), over the levels present. */
function components(a: Int32Array, b: Int32Array, la: number, lb: number): number {
  const parent = Int32Array.from({ length: la + lb }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const seen = new Uint8Array(la + lb);
  let comps = 0;
  for (let i = 0; i < a.length; i++) {
    const u = a[i], v = la + b[i];
    if (!seen[u]) (seen[u] = 1), comps++;
    if (!seen[v]) (seen[v] = 1), comps++;
    const ru = find(u), rv = find(v);
    if (ru !== rv) (parent[ru] = rv), comps--;
  }
  return comps;
}
