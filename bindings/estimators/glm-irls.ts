// The IRLS loop of fepois / feglm with fixed effects. Each step: working weights W and
// response z at the current linear predictor (bindings/ref/glm.ts glmWorking, one pass),
// weighted demeaning of [z | X] in WASM (engine/kernels.ts demeanPtr, the feols kernel),
// weighted least squares on the demeaned columns, new linear predictor z - e~.
// Warm start: the regressors are demeaned in place, so each step starts from the previous
// step's demeaned columns (x~ = x - D a: demeaning it again with the new weights gives the
// new x~ exactly, in a few sweeps); the working response starts from z - (z_old - z~_old),
// z minus the previous step's FE part.
// Stopping: fixest stops on the relative change in deviance |dev - dev_old| / (0.1 + |dev|),
// which cannot see small coefficient errors; here both that criterion (glmTol) AND the
// largest coefficient change relative to max(|b|, se(b)) (coefTol) must be met.
import type { Engine } from "../engine/wasm.js";
import type { Sample } from "../core/sample.js";
import { loadFeDims } from "../core/solve.js";
import { demeanPtr, nonConvergence, type DemeanAlgo } from "../engine/kernels.js";
import { NonConvergenceError } from "../base/errors.js";
import { invSPD } from "../base/stats.js";
import { FAMILIES, linkfun, type FamilyName } from "./glm-family.js";
import { glmWorking, glmDeviance } from "../ref/glm.js";
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
}

export interface IrlsResult {
  /** kept regressors (indices into X) */
  kept: number[];
  beta: Float64Array;
  eta: Float64Array;
  mu: Float64Array;
  /** working weights and working residuals at the final linear predictor */
  W: Float64Array;
  r: Float64Array;
  /** demeaned (unweighted) kept regressors, n x kk column-major */
  xTilde: Float64Array;
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
const EPS = 2.220446049250313e-16;

export function irls(inp: IrlsInput): IrlsResult {
  const { eng, n, y, offset: off, pw } = inp;
  const fam = FAMILIES[inp.family];
  const k = inp.X.length;
  const hasFe = inp.sample.fe.length > 0;
  return eng.scoped(() => {
    const wPtr = eng.allocF64(n, "IRLS weights");
    const dims = hasFe ? loadFeDims(eng, inp.sample as Sample, wPtr) : null;
    const K1 = 1 + k;
    const mPtr = eng.allocF64(n * K1, "working response and regressors");
    inp.X.forEach((x, j) => eng.f64(mPtr, n * K1).set(x, (j + 1) * n));
    // starting values (R's mustart)
    let sw = 0, swy = 0;
    for (let i = 0; i < n; i++) (sw += pw ? pw[i] : 1), (swy += (pw ? pw[i] : 1) * y[i]);
    let eta: Float64Array = new Float64Array(n);
    let mu: Float64Array = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      mu[i] = fam.start(y[i], pw ? pw[i] : 1, swy / sw);
      eta[i] = linkfun(fam, mu[i]);
    }
    let dev = glmDeviance(fam.code, y, mu, pw);
    const z = new Float64Array(n), W = new Float64Array(n), r = new Float64Array(n);
    let feZ: Float64Array | null = null;
    let kept: number[] = [];
    let beta: Float64Array = new Float64Array(0);
    let bread: Float64Array = new Float64Array(0);
    let devCrit = Infinity, coefCrit = Infinity, it = 0, converged = false;
    let demeanIterations = 0, demeanCriterion = 0;
    for (it = 1; it <= inp.glmIter; it++) {
      glmWorking(fam.code, z, W, r, y, eta, mu, off, pw);
      eng.f64(wPtr, n).set(W);
      const M0 = eng.f64(mPtr, n);
      if (feZ) for (let i = 0; i < n; i++) M0[i] = z[i] - feZ[i];
      else M0.set(z);
      if (dims) {
        const info = demeanPtr(eng, dims, K1, mPtr, mPtr, inp.fixefTol, inp.fixefIter, inp.fixefAlgo, 20, inp.threads);
        demeanIterations += info.iterations;
        demeanCriterion = Math.max(demeanCriterion, info.criterion);
        if (!info.converged) {
          const err = nonConvergence(info, inp.fixefTol, inp.fixefIter);
          if (inp.strictConvergence) throw err;
          inp.warn(`IRLS step ${it}: ${err.message}`);
        }
      }
      const M = eng.f64(mPtr, n * K1);
      const zt = M.subarray(0, n);
      if (dims) {
        feZ ??= new Float64Array(n);
        for (let i = 0; i < n; i++) feZ[i] = z[i] - zt[i];
      }
      if (it === 1) kept = keptColumns(M, n, k, W, inp.X, hasFe, inp.collinTol);
      const ls = wls(M, n, kept, W, zt);
      if (!ls) {
        throw new NonConvergenceError(
          `IRLS step ${it}: the weighted cross-product of the regressors became singular${separationNote(inp, mu)}`, { iteration: it },
          "check for separation: regressors that predict the outcome perfectly in some rows",
        );
      }
      bread = ls.bread;
      // the step, halved while the deviance is not finite or goes up
      const etaNew = new Float64Array(n);
      etaNew.set(z);
      for (let i = 0; i < n; i++) etaNew[i] -= zt[i];
      for (let a = 0; a < kept.length; a++) {
        const xa = M.subarray((kept[a] + 1) * n, (kept[a] + 2) * n);
        const b = ls.beta[a];
        for (let i = 0; i < n; i++) etaNew[i] += xa[i] * b;
      }
      if (off) for (let i = 0; i < n; i++) etaNew[i] += off[i];
      const betaNew = ls.beta;
      const muNew = new Float64Array(n);
      linkinvAll(fam.code, muNew, etaNew);
      let devNew = glmDeviance(fam.code, y, muNew, pw);
      for (let h = 0; it > 1 && !(devNew <= dev * (1 + 1e-12) + 1e-300) && h < MAX_HALVINGS; h++) {
        for (let i = 0; i < n; i++) etaNew[i] = (etaNew[i] + eta[i]) / 2;
        for (let a = 0; a < betaNew.length; a++) betaNew[a] = (betaNew[a] + beta[a]) / 2;
        linkinvAll(fam.code, muNew, etaNew);
        devNew = glmDeviance(fam.code, y, muNew, pw);
      }
      if (!Number.isFinite(devNew)) throw new NonConvergenceError(`IRLS step ${it}: the deviance is not finite`, { iteration: it });
      devCrit = Math.abs(devNew - dev) / (0.1 + Math.abs(devNew));
      coefCrit = 0;
      for (let a = 0; a < kept.length; a++) {
        const scale = Math.max(Math.abs(betaNew[a]), Math.sqrt(Math.max(bread[a + a * kept.length], 0)));
        const d = it === 1 ? Infinity : Math.abs(betaNew[a] - beta[a]) / (scale > 0 ? scale : 1);
        coefCrit = Math.max(coefCrit, d);
      }
      eta = etaNew;
      mu = muNew;
      dev = devNew;
      beta = betaNew;
      if ((it > 1 || kept.length === 0) && devCrit < inp.glmTol && coefCrit < inp.coefTol) {
        converged = true;
        break;
      }
    }
    if (!converged) {
      throw new NonConvergenceError(
        `IRLS did not converge in ${inp.glmIter} iterations: relative deviance change ${devCrit.toExponential(2)} (tolerance ${inp.glmTol}), ` +
          `largest relative coefficient change ${coefCrit.toExponential(2)} (tolerance ${inp.coefTol})${separationNote(inp, mu)}`,
        { iterations: inp.glmIter, devCriterion: devCrit, coefCriterion: coefCrit, glmTol: inp.glmTol, coefTol: inp.coefTol },
        "raise glmIter (--glm-iter), loosen the tolerances, or check for separation",
      );
    }
    // the variance inputs at the final linear predictor
    glmWorking(fam.code, z, W, r, y, eta, mu, off, pw);
    const M = eng.f64(mPtr, n * K1);
    const kk = kept.length;
    const xTilde = new Float64Array(n * kk);
    kept.forEach((j, a) => xTilde.set(M.subarray((j + 1) * n, (j + 2) * n), a * n));
    const fin = wls(M, n, kept, W, null);
    return {
      kept, beta, eta, mu, W, r, xTilde, bread: fin ? fin.bread : bread, deviance: dev, iterations: it,
      devCriterion: devCrit, coefCriterion: coefCrit, converged, demeanIterations, demeanCriterion,
    };
  });
}

/** mu = linkinv(eta) for every row (the family's clamps; Poisson inlined). */
function linkinvAll(code: number, mu: Float64Array, eta: Float64Array): void {
  const n = eta.length;
  if (code === 0) {
    for (let i = 0; i < n; i++) {
      const m = Math.exp(eta[i]);
      mu[i] = m > EPS ? m : EPS;
    }
    return;
  }
  const f = code === 1 ? FAMILIES.logit : FAMILIES.probit;
  for (let i = 0; i < n; i++) mu[i] = f.linkinv(eta[i]);
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
function keptColumns(M: Float64Array, n: number, k: number, W: Float64Array, X: Float64Array[], hasFe: boolean, tol: number): number[] {
  const cand: number[] = [];
  for (let j = 0; j < k; j++) {
    let a = 0, b = 0;
    for (let i = 0; i < n; i++) (a += W[i] * M[(j + 1) * n + i] ** 2), (b += W[i] * X[j][i] ** 2);
    if (!hasFe || a > tol * b) cand.push(j);
  }
  const A = crossW(M, n, cand, W);
  const m = cand.length;
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

/** X' W X over the columns `cols` (1-based in M: column j of X is M's column j + 1). */
function crossW(M: Float64Array, n: number, cols: number[], W: Float64Array): Float64Array {
  const m = cols.length;
  const A = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    const xa = M.subarray((cols[a] + 1) * n, (cols[a] + 2) * n);
    for (let b = 0; b <= a; b++) {
      const xb = M.subarray((cols[b] + 1) * n, (cols[b] + 2) * n);
      let s = 0;
      for (let i = 0; i < n; i++) s += W[i] * xa[i] * xb[i];
      A[a + b * m] = A[b + a * m] = s;
    }
  }
  return A;
}

/** Weighted least squares of zt on the kept columns: beta and (X'WX)^{-1}; null if singular. */
function wls(M: Float64Array, n: number, kept: number[], W: Float64Array, zt: Float64Array | null): { beta: Float64Array; bread: Float64Array } | null {
  const m = kept.length;
  if (m === 0) return { beta: new Float64Array(0), bread: new Float64Array(0) };
  const A = crossW(M, n, kept, W);
  const bread = invSPD(A, m);
  if (!bread) return null;
  const beta = new Float64Array(m);
  if (zt) {
    const b = new Float64Array(m);
    for (let a = 0; a < m; a++) {
      const xa = M.subarray((kept[a] + 1) * n, (kept[a] + 2) * n);
      let s = 0;
      for (let i = 0; i < n; i++) s += W[i] * xa[i] * zt[i];
      b[a] = s;
    }
    for (let a = 0; a < m; a++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += bread[a + c * m] * b[c];
      beta[a] = s;
    }
  }
  return { beta, bread };
}
