// The IRLS loop of fepois / feglm with fixed effects. Each step: working weights W and
// response z at the current linear predictor (one pass), weighted demeaning of [z | X] in
// WASM (engine/kernels.ts demeanPtr, the feols kernel), weighted least squares on the
// demeaned columns, new linear predictor z - e~, mu and the deviance (one pass). Every
// n-length buffer (y, offset, weights, eta, mu, z, W, r, the FE part of z, [z | X]) lives in
// the arena for the whole fit; the per-step passes are the kernels of assembly/glm.ts
// (glm-passes.ts; `passes: "ts"` runs the same loop with plain TypeScript passes). Only
// k-sized values (coefficients, the k x k normal equations) come back to JavaScript per step.
// Warm start: the regressors are demeaned in place, so each step starts from the previous
// step's demeaned columns (x~ = x - D a: demeaning it again with the new weights gives the
// new x~ exactly, in a few sweeps); the working response starts from z - (z_old - z~_old),
// z minus the previous step's FE part.
// Inexact steps: after the first, a step far from convergence demeans to a looser tolerance
// (stepTolerance); the last step is always demeaned at fixefTol.
// Stopping: fixest stops on the relative change in deviance |dev - dev_old| / (0.1 + |dev|),
// which cannot see small coefficient errors; here both that criterion (glmTol) AND the
// largest coefficient change relative to max(|b|, se(b)) (coefTol) must be met.
import type { Engine } from "../engine/wasm.js";
import type { Sample } from "../core/sample.js";
import { loadFeDims } from "../core/solve.js";
import { check, demeanPtr, nonConvergence, type DemeanAlgo, type DemeanDims } from "../engine/kernels.js";
import { NonConvergenceError } from "../base/errors.js";
import { invSPD } from "../base/stats.js";
import { FAMILIES, type FamilyName } from "./glm-family.js";
import { irlsPasses, type IrlsPasses, type IrlsPassKind } from "./glm-passes.js";
import { separatedRows } from "./glm-separation.js";

export interface IrlsInput {
  eng: Engine;
  n: number;
  y: Float64Array;
  offset: Float64Array | null;
  /** prior (sampling) weights, or null */
  pw: Float64Array | null;
  /** regressor columns on the sample (an intercept column included when there is no FE) */
  X: Float64Array[];
  names: string[];
  /** FE on the sample (none: fe = []) */
  sample: Pick<Sample, "fe" | "n">;
  family: FamilyName;
  glmTol: number;
  coefTol: number;
  glmIter: number;
  fixefTol: number;
  fixefIter: number;
  fixefAlgo: DemeanAlgo;
  threads: number;
  collinTol: number;
  strictConvergence?: boolean;
  warn: (m: string) => void;
  /** original row of each observation: non-convergence messages name rows that look separated */
  rows?: Int32Array;
  /** the per-step passes: WASM kernels (default) or plain TypeScript (glm-passes.ts) */
  passes?: IrlsPassKind;
  /** only mu is wanted (the FE-only fit of the statistics): no variance inputs copied out */
  muOnly?: boolean;
  /**
   * called before a non-convergence error with the last step's change of the linear predictor
   * (in the column space of [X, D]: under separation, the direction it diverges in; glm.ts
   * starts the two-sided rectifier from it)
   */
  onFailure?: (etaStep: Float64Array) => void;
}

export interface IrlsResult {
  /** kept regressors (indices into X) */
  kept: number[];
  beta: Float64Array;
  mu: Float64Array;
  /**
   * the variance inputs at the final linear predictor, made in the arena: x = sqrt(W) x~ (the
   * kept regressors demeaned with the last step's weights, n x kk column-major) and e = sqrt(W) r
   * (W, r the working weights and residuals); empty with muOnly
   */
  x: Float64Array;
  e: Float64Array;
  /** (X~' W X~)^{-1} */
  bread: Float64Array;
  deviance: number;
  iterations: number;
  devCriterion: number;
  coefCriterion: number;
  converged: boolean;
  /** demeaning sweeps over all IRLS steps, and the largest final demeaning criterion */
  demeanIterations: number;
  demeanCriterion: number;
}

const MAX_HALVINGS = 30;

/** The arena buffers of one IRLS (pointers; off and pw 0 when absent). */
interface IrlsBuffers {
  n: number;
  k: number;
  /** [z~ | X~]: n x (1 + k), demeaned in place at each step */
  M: number;
  W: number;
  z: number;
  r: number;
  feZ: number;
  eta: number;
  mu: number;
  etaNew: number;
  muNew: number;
  /** kept columns (i32), their coefficients, the normal equations */
  cols: number;
  beta: number;
  A: number;
  b: number;
  dims: DemeanDims | null;
  passes: IrlsPasses;
}

function irlsBuffers(inp: IrlsInput): IrlsBuffers {
  const { eng, n } = inp;
  const k = inp.X.length;
  const W = eng.allocF64(n, "IRLS weights");
  const dims = inp.sample.fe.length > 0 ? loadFeDims(eng, inp.sample as Sample, W) : null;
  const M = eng.allocF64(n * (1 + k), "working response and regressors");
  inp.X.forEach((x, j) => eng.f64(M + (j + 1) * n * 8, n).set(x));
  const vec = (what: string) => eng.allocF64(n, what);
  const y = eng.putF64(inp.y, "GLM outcome");
  const off = inp.offset ? eng.putF64(inp.offset, "GLM offset") : 0;
  const pw = inp.pw ? eng.putF64(inp.pw, "GLM prior weights") : 0;
  const b: Omit<IrlsBuffers, "passes"> = {
    n, k, M, W, dims, z: vec("working response"), r: vec("working residuals"), feZ: vec("FE part of z"), eta: vec("eta"),
    mu: vec("mu"), etaNew: vec("eta (step)"), muNew: vec("mu (step)"), cols: eng.allocI32(Math.max(k, 1), "kept columns"),
    beta: eng.allocF64(Math.max(k, 1)), A: eng.allocF64(Math.max(k * k, 1)), b: eng.allocF64(Math.max(k, 1)),
  };
  return { ...b, passes: irlsPasses(eng, inp.passes ?? "wasm", { n, family: FAMILIES[inp.family], y, off, pw }) };
}

export function irls(inp: IrlsInput): IrlsResult {
  const { eng, n } = inp;
  const k = inp.X.length;
  const hasFe = inp.sample.fe.length > 0;
  return eng.scoped(() => {
    const B = irlsBuffers(inp);
    const P = B.passes;
    const K1 = 1 + k;
    P.start(B.eta, B.mu);
    let dev = P.deviance(B.mu);
    let kept: number[] = [];
    let beta: Float64Array = new Float64Array(0);
    let bread: Float64Array = new Float64Array(0);
    let devCrit = Infinity, coefCrit = Infinity, it = 0, converged = false;
    let demeanIterations = 0, demeanCriterion = 0;
    const muNow = () => eng.getF64(B.mu, n);
    // B.etaNew holds the previous step's eta after the swap at the end of a step
    const failing = () => {
      if (!inp.onFailure || it < 2) return;
      const a = eng.f64(B.eta, n), b = eng.f64(B.etaNew, n);
      inp.onFailure(Float64Array.from(a, (v, i) => v - b[i]));
    };
    for (it = 1; it <= inp.glmIter; it++) {
      P.working(B.z, B.W, B.r, B.M, B.eta, B.mu, it > 1 && B.dims ? B.feZ : 0);
      const pre = it === 1 ? colSums(eng, B, 1, k) : null;
      const tolNow = stepTolerance(inp.fixefTol, it, coefCrit);
      if (B.dims) {
        const info = demeanPtr(eng, B.dims, K1, B.M, B.M, tolNow, inp.fixefIter, inp.fixefAlgo, 20, inp.threads);
        demeanIterations += info.iterations;
        demeanCriterion = Math.max(demeanCriterion, info.criterion);
        if (!info.converged) {
          const err = nonConvergence(info, inp.fixefTol, inp.fixefIter);
          if (inp.strictConvergence) throw err;
          inp.warn(`IRLS step ${it}: ${err.message}`);
        }
      }
      if (pre) {
        kept = keptColumns(eng, B, pre, colSums(eng, B, 1, k), hasFe, inp.collinTol);
        eng.i32(B.cols, kept.length).set(kept);
      }
      const ls = wls(eng, B, kept.length, true);
      if (!ls) {
        failing();
        throw new NonConvergenceError(
          `IRLS step ${it}: the weighted cross-product of the regressors became singular${separationNote(inp, muNow())}`, { iteration: it },
          "check for separation: regressors that predict the outcome perfectly in some rows",
        );
      }
      bread = ls.bread;
      // the step, halved while the deviance is not finite or goes up
      const betaNew = ls.beta;
      eng.f64(B.beta, kept.length).set(betaNew);
      P.eta(B.etaNew, B.feZ, K1, kept.length, B.M, B.cols, B.beta, B.z);
      let devNew = P.linkinv(B.muNew, B.etaNew);
      for (let h = 0; it > 1 && !(devNew <= dev * (1 + 1e-12) + 1e-300) && h < MAX_HALVINGS; h++) {
        P.halve(B.etaNew, B.eta);
        for (let a = 0; a < betaNew.length; a++) betaNew[a] = (betaNew[a] + beta[a]) / 2;
        devNew = P.linkinv(B.muNew, B.etaNew);
      }
      if (!Number.isFinite(devNew)) throw new NonConvergenceError(`IRLS step ${it}: the deviance is not finite`, { iteration: it });
      devCrit = Math.abs(devNew - dev) / (0.1 + Math.abs(devNew));
      coefCrit = 0;
      for (let a = 0; a < kept.length; a++) {
        const scale = Math.max(Math.abs(betaNew[a]), Math.sqrt(Math.max(bread[a + a * kept.length], 0)));
        const d = it === 1 ? Infinity : Math.abs(betaNew[a] - beta[a]) / (scale > 0 ? scale : 1);
        coefCrit = Math.max(coefCrit, d);
      }
      [B.eta, B.etaNew] = [B.etaNew, B.eta];
      [B.mu, B.muNew] = [B.muNew, B.mu];
      dev = devNew;
      beta = betaNew;
      if ((it > 1 || kept.length === 0) && tolNow === inp.fixefTol && devCrit < inp.glmTol && coefCrit < inp.coefTol) {
        converged = true;
        break;
      }
    }
    if (!converged) {
      it = inp.glmIter;
      failing();
      throw new NonConvergenceError(
        `IRLS did not converge in ${inp.glmIter} iterations: relative deviance change ${devCrit.toExponential(2)} (tolerance ${inp.glmTol}), ` +
          `largest relative coefficient change ${coefCrit.toExponential(2)} (tolerance ${inp.coefTol})${separationNote(inp, muNow())}`,
        { iterations: inp.glmIter, devCriterion: devCrit, coefCriterion: coefCrit, glmTol: inp.glmTol, coefTol: inp.coefTol },
        "raise glmIter (--glm-iter), loosen the tolerances, or check for separation",
      );
    }
    // the variance inputs at the final linear predictor (m0: z itself, [z~ | X~] untouched)
    P.working(B.z, B.W, B.r, B.z, B.eta, B.mu, 0);
    const kk = kept.length;
    const fin = wls(eng, B, kk, false);
    const { x, e } = inp.muOnly ? { x: new Float64Array(0), e: new Float64Array(0) } : scores(eng, B, kept);
    return {
      kept, beta, mu: muNow(), x, e, bread: fin ? fin.bread : bread, deviance: dev, iterations: it, devCriterion: devCrit,
      coefCriterion: coefCrit, converged, demeanIterations, demeanCriterion,
    };
  });
}

/** the loosest FE tolerance of an inexact IRLS step */
const STEP_TOL_MAX = 1e-6;

/**
 * The FE tolerance of IRLS step `it` (inexact Newton): fixefTol at step 1 (it decides the
 * columns absorbed by the FE), then max(fixefTol, min(STEP_TOL_MAX, 1e-3 x the previous
 * step's largest relative coefficient change)). A loose step's error does not carry over: the
 * next demeaning of x~ = x - D a (and of z minus the FE part) converges to the exact projection
 * with the new weights. Only a step demeaned at fixefTol can end the IRLS.
 */
function stepTolerance(fixefTol: number, it: number, coefCrit: number): number {
  if (it === 1) return fixefTol;
  return Math.max(fixefTol, Math.min(STEP_TOL_MAX, 1e-3 * coefCrit));
}

/**
 * sqrt(W) x~ of the kept columns and sqrt(W) r, in the arena (the kept columns moved to the
 * front of X~, scaled by the scaleRows kernel; sqrt(W) in the FE-part buffer, no longer needed),
 * then copied out once: the only n-length results of a fit besides mu.
 */
function scores(eng: Engine, B: IrlsBuffers, kept: number[]): { x: Float64Array; e: Float64Array } {
  const { n } = B;
  const sw = eng.f64(B.feZ, n);
  sw.set(eng.f64(B.W, n));
  for (let i = 0; i < n; i++) sw[i] = Math.sqrt(sw[i]);
  const M = eng.f64(B.M, n * (1 + B.k));
  kept.forEach((j, a) => {
    if (j !== a) M.copyWithin((a + 1) * n, (j + 1) * n, (j + 2) * n);
  });
  const x0 = B.M + n * 8;
  check(eng.kernels.scaleRows(x0, n, kept.length, B.feZ), "scaleRows");
  check(eng.kernels.scaleRows(B.r, n, 1, B.feZ), "scaleRows");
  return { x: eng.getF64(x0, n * kept.length), e: eng.getF64(B.r, n) };
}

/** Weighted sums of squares of the columns from..from+count-1 of [z | X] (kernel colSumSquares). */
function colSums(eng: Engine, B: IrlsBuffers, from: number, count: number): Float64Array {
  if (count === 0) return new Float64Array(0);
  return eng.scoped(() => {
    const out = eng.allocF64(count);
    check(eng.kernels.colSumSquares(out, B.n, count, B.M + from * B.n * 8, B.W, 0), "colSumSquares");
    return eng.getF64(out, count);
  });
}

function separationNote(inp: IrlsInput, mu: Float64Array): string {
  const bad = separatedRows(inp.family, inp.y, mu);
  if (!bad.length) return "";
  const rows = bad.slice(0, 10).map((i) => (inp.rows ? inp.rows[i] : i) + 1).join(", ") + (bad.length > 10 ? `, ... (${bad.length} rows)` : "");
  return `; ${bad.length} row(s) have a fitted mean at the boundary of the outcome's range (separation by the regressors: their linear predictor diverges), data rows ${rows}`;
}

/**
 * The regressors kept: a column absorbed by the FE (weighted sum of squares of x~ below
 * collinTol times that of x) or collinear with the columns before it (Cholesky pivot below
 * collinTol times its diagonal) is dropped, in formula order, as fixest does.
 */
function keptColumns(eng: Engine, B: IrlsBuffers, pre: Float64Array, post: Float64Array, hasFe: boolean, tol: number): number[] {
  const cand: number[] = [];
  for (let j = 0; j < B.k; j++) if (!hasFe || post[j] > tol * pre[j]) cand.push(j);
  const m = cand.length;
  eng.i32(B.cols, m).set(cand);
  B.passes.cross(B.A, 0, 1 + B.k, m, B.M, B.cols, B.W, 0);
  const A = eng.getF64(B.A, m * m);
  const L = new Float64Array(m * m);
  const kept: number[] = [];
  const keptIdx: number[] = [];
  for (let c = 0; c < m; c++) {
    let s = A[c + c * m];
    for (const l of keptIdx) s -= L[c + l * m] ** 2;
    if (!(s > tol * A[c + c * m])) continue;
    const d = Math.sqrt(s);
    L[c + c * m] = d;
    for (let i = c + 1; i < m; i++) {
      let t = A[i + c * m];
      for (const l of keptIdx) t -= L[i + l * m] * L[c + l * m];
      L[i + c * m] = t / d;
    }
    keptIdx.push(c);
    kept.push(cand[c]);
  }
  return kept;
}

/**
 * Weighted least squares of z~ (column 0 of [z~ | X~]) on the m kept columns (B.cols):
 * beta (when withZ) and (X~'WX~)^{-1}; null if singular.
 */
function wls(eng: Engine, B: IrlsBuffers, m: number, withZ: boolean): { beta: Float64Array; bread: Float64Array } | null {
  if (m === 0) return { beta: new Float64Array(0), bread: new Float64Array(0) };
  B.passes.cross(B.A, withZ ? B.b : 0, 1 + B.k, m, B.M, B.cols, B.W, withZ ? B.M : 0);
  const bread = invSPD(eng.getF64(B.A, m * m), m);
  if (!bread) return null;
  const beta = new Float64Array(m);
  if (withZ) {
    const b = eng.getF64(B.b, m);
    for (let a = 0; a < m; a++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += bread[a + c * m] * b[c];
      beta[a] = s;
    }
  }
  return { beta, bread };
}
