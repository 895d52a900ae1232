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
// (e.g. a dummy x = 1 only where y = 0). Complete separation (both sides strictly apart) and
// quasi-complete separation with rows of both outcomes on the hyperplane are the two-sided
// rectifier's (`binomialSeparation`): every row with y = 0 or 1 is a boundary row, with a sign
// (z <= 0 where y = 0, z >= 0 where y = 1; rows with 0 < y < 1 are held at z = 0): the same
// alternating projections between the column space of [X, D] and that cone, u = s * max(s u^, 0).
// It runs only when a binomial IRLS has failed (glm.ts), so fits that converge are untouched.
//
// Before the rectifier, a cheap sufficient certificate of no separation (`rankCertificate`):
// a separating z = A c (A = [X, D]) vanishes on the non-boundary rows (A+ c = 0). The rows of
// A+ are rows of A, so null(A) is in null(A+); when rank(A+) = rank(A) the two are equal and
// A+ c = 0 gives z = A c = 0: no separation. rank(A+) = rank(D+) + rank(M_D+ X+) >= rank(A)
// when (a) D+ has D's rank (1 FE: every level has a non-boundary row; 2 FE: also as many
// connected components of the level graph on those rows as on all rows) and (b) X demeaned
// within the non-boundary rows keeps full column rank (Cholesky pivots above CERT_TOL of the
// diagonal). 3+ FE: rank(D) <= L - (Q - 1); a pair of FE connected on the non-boundary rows
// (rank L1 + L2 - 1 there) absorbs, and the other FE's indicators (one level dropped each) join
// X in (b) (certificatePair). Anything else (varying slopes, no connected pair, too many extra
// indicator columns, collinear X, a failed pivot) runs the rectifier.
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
  const n = inp.sample.n;
  const nb = countOnes(inp.boundary);
  if (nb === 0 || nb === n) return { rows: [], by: [], iterations: 0 };
  if (inp.certificate !== false && rankCertificate(inp)) return { rows: [], by: [], iterations: 0 };
  return rectify(inp, Int8Array.from(inp.boundary));
}

/**
 * The two-sided rectifier of a binomial outcome (top of this file): z = X g + D a with z <= 0
 * where y = 0, z >= 0 where y = 1 and z = 0 where 0 < y < 1; the rows with z != 0 are
 * separated (their fitted probability goes to 0 or 1). All rows separated: complete separation.
 */
export function binomialSeparation(inp: Omit<IrInput, "boundary" | "certificate">, y: Float64Array, start?: Float64Array): IrResult {
  const s = Int8Array.from(y, (v) => (v === 1 ? 1 : v === 0 ? -1 : 0));
  // from the direction the failed IRLS diverged in (in the cone where it points the right way,
  // scaled to max 1), else from u = s; rows separated above IR_TOL times the certificate's scale
  let u0: Float64Array | undefined;
  if (start) {
    u0 = Float64Array.from(start, (d, i) => (s[i] * d > 0 ? d : 0));
    const m = maxAbs(u0);
    if (m > 0) for (let i = 0; i < u0.length; i++) u0[i] /= m;
    else u0 = undefined;
  }
  return rectify({ ...inp, boundary: Uint8Array.from(s, (v) => (v ? 1 : 0)) }, s, u0, true, IR_BINOMIAL_ITER);
}

/** the two-sided rectifier's iteration budget (it runs after a failed IRLS; not converging: nothing found) */
const IR_BINOMIAL_ITER = 300;

/**
 * Separation by one regressor at a threshold (Stata logit's check): the rows with y < 1 all at
 * x <= c and those with y > 0 all at x >= c (or the mirror). Complete (no row at c): every row
 * separated; quasi-complete: the rows with x != c separated, x constant on the rest.
 */
export function thresholdSeparation(y: Float64Array, X: Float64Array[], names: string[]): { rows: number[]; by: string[]; complete: boolean } | null {
  for (let j = 0; j < X.length; j++) {
    if (names[j] === "(Intercept)") continue;
    const x = X[j];
    let max0 = -Infinity, min0 = Infinity, max1 = -Infinity, min1 = Infinity;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (y[i] < 1) (max0 = Math.max(max0, v)), (min0 = Math.min(min0, v));
      if (y[i] > 0) (max1 = Math.max(max1, v)), (min1 = Math.min(min1, v));
    }
    const c = max0 <= min1 ? max0 : max1 <= min0 ? max1 : NaN;
    if (Number.isNaN(c) || (max0 <= min1 && max1 <= min0)) continue; // no threshold, or x constant
    const rows: number[] = [];
    for (let i = 0; i < x.length; i++) if (x[i] !== c) rows.push(i);
    const complete = max0 < min1 || max1 < min0;
    return { rows: complete ? Array.from(x, (_, i) => i) : rows, by: [names[j]], complete };
  }
  return null;
}


/**
 * Alternating projections between col([X, D]) and the cone {s_i z_i >= 0 where s_i != 0, z_i = 0
 * where s_i = 0} (the rows with s = 0 weighted IR_WEIGHT), from u = s: returns the rows with
 * s_i z_i > IR_TOL at a certificate, none when u shrinks to 0.
 */
function rectify(inp: IrInput, s: Int8Array, start?: Float64Array, relative = false, maxIter = IR_MAX_ITER): IrResult {
  const { eng } = inp;
  const n = inp.sample.n;
  const w = Float64Array.from(s, (v) => (v ? 1 : IR_WEIGHT));
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
    const u = start ?? Float64Array.from(s);
    const fit = new Float64Array(n);
    let g = new Float64Array(kk);
    for (let it = 1; it <= maxIter; it++) {
      const ut = demean([u])[0];
      // g = (X~' W X~)^{-1} X~' W u~; fitted u^ = u - (u~ - X~ g)
      const b = kept.map((j) => {
        let t = 0;
        for (let i = 0; i < n; i++) t += w[i] * Xt[j][i] * ut[i];
        return t;
      });
      g = Float64Array.from(kept, (_, a) => b.reduce((acc, bc, c) => acc + ls.bread[a + c * kk] * bc, 0));
      for (let i = 0; i < n; i++) fit[i] = u[i] - ut[i];
      kept.forEach((j, a) => {
        for (let i = 0; i < n; i++) fit[i] += Xt[j][i] * g[a];
      });
      let minB = Infinity, maxU = 0;
      for (let i = 0; i < n; i++) if (s[i]) minB = Math.min(minB, s[i] * fit[i]);
      if (minB >= -IR_TOL) {
        const rows: number[] = [];
        const cut = relative ? IR_TOL * maxAbs(fit) : IR_TOL;
        for (let i = 0; i < n; i++) if (s[i] && s[i] * fit[i] > cut) rows.push(i);
        const byCut = relative ? IR_TOL * maxAbs(fit) : IR_TOL;
        const by = rows.length ? kept.filter((j, a) => Math.abs(g[a]) * maxAbs(Xt[j]) > byCut).map((j) => inp.names[j]) : [];
        return { rows, by, iterations: it };
      }
      for (let i = 0; i < n; i++) {
        u[i] = s[i] && s[i] * fit[i] > 0 ? fit[i] : 0;
        maxU = Math.max(maxU, Math.abs(u[i]));
      }
      if (maxU < IR_TOL) return { rows: [], by: [], iterations: it };
    }
    if (maxIter !== IR_MAX_ITER) return { rows: [], by: [], iterations: maxIter };
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
  if (fe.some((d) => d.type !== 0)) return false;
  const n = inp.sample.n;
  const local = new Int32Array(n - countOnes(boundary));
  for (let i = 0, j = 0; i < n; i++) if (!boundary[i]) local[j++] = i;
  const m = local.length;
  const sub = fe.map((d) => ({ ...d, ...recode(d.codes, local, d.levels) }));
  if (sub.some((d, q) => d.levels !== fe[q].levels)) return false;
  if (fe.length === 2 && components(sub[0].codes, sub[1].codes, fe[0].levels, fe[1].levels) !== components(fe[0].codes, fe[1].codes, fe[0].levels, fe[1].levels)) return false;
  // 3+ FE: a pair connected off the boundary absorbs, the others' indicators join the regressors
  const split = fe.length > 2 ? certificatePair(sub) : { pair: sub, extra: [] as typeof sub };
  if (!split) return false;
  const extraCols = split.extra.reduce((acc, d) => acc + d.levels - 1, 0);
  const k = inp.X.length + extraCols;
  if (k === 0) return true;
  if (m <= k) return false;
  return eng.scoped(() => {
    const p = eng.allocF64(m * k, "certificate columns");
    const cols = eng.f64(p, m * k);
    inp.X.forEach((x, j) => cols.set(gather(x, local), j * m));
    let j = inp.X.length;
    // the indicators of every level but the last of each other FE (the last is redundant with the pair's)
    for (const d of split.extra) {
      for (let i = 0; i < m; i++) if (d.codes[i] < d.levels - 1) cols[(j + d.codes[i]) * m + i] = 1;
      j += d.levels - 1;
    }
    const pre = colNorms(cols, m, k);
    if (split.pair.length) {
      const dims = loadFeDims(eng, { n: m, fe: split.pair } as unknown as Sample, 0);
      const info = demeanPtr(eng, dims, k, p, p, inp.fixefTol, inp.fixefIter, inp.fixefAlgo, 20, inp.threads);
      if (!info.converged) return false;
    }
    return fullRank(eng.f64(p, m * k), m, k, pre);
  });
}

/** the largest number of indicator columns the 3+ FE certificate adds to the regressors */
const CERT_MAX_EXTRA = 64;

/**
 * 3+ FE (top of this file): rank(D) <= L - (Q - 1) (one redundant level per FE beyond the
 * first). Off the boundary, a pair of FE whose level graph is connected there has rank
 * L1 + L2 - 1; the other FE's indicators but one each, with X, demeaned by that pair and of
 * full column rank, bring rank(A+) to L - (Q - 1) + k >= rank(A). The pair: the first, in
 * order of levels (largest first), connected off the boundary whose other FE add at most
 * CERT_MAX_EXTRA columns; null when none is.
 */
function certificatePair<T extends { codes: Int32Array; levels: number }>(sub: T[]): { pair: T[]; extra: T[] } | null {
  const order = sub.map((_, q) => q).sort((a, b) => sub[b].levels - sub[a].levels);
  for (let a = 0; a < order.length; a++) {
    for (let b = a + 1; b < order.length; b++) {
      const [p, q] = [sub[order[a]], sub[order[b]]];
      const extra = sub.filter((d) => d !== p && d !== q);
      if (extra.reduce((acc, d) => acc + d.levels - 1, 0) > CERT_MAX_EXTRA) continue;
      if (components(p.codes, q.codes, p.levels, q.levels) === 1) return { pair: [p, q], extra };
    }
  }
  return null;
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
