// Fit statistics of a GLM as fixest reports them (fitstat): log-likelihood, the null model's
// (nullLoglik) and the FE-only model's (for the within pseudo R2, fitted as loosely as
// fixest does; converged on request), pr2 = 1 - ll / ll0, apr2 = 1 - (ll - nparams + 1) / ll0,
// wpr2 = 1 - ll / ll_fe, wapr2 = 1 - (ll - k) / ll_fe, squared correlation of y and mu,
// AIC = -2 ll + 2 nparams, BIC = -2 ll + nparams log n, SSR and RMSE of the response residuals.
// Plus a report of regressor-induced separation (ppmlhdfe's concern), which changes nothing.
import type { Sample } from "../core/sample.js";
import { FAMILIES, lfactorial, type FamilyName } from "./glm-family.js";
import { separatedRows } from "./glm-separation.js";
import { irls, type IrlsInput, type IrlsResult } from "./glm-irls.js";

export interface GlmStats {
  deviance: number;
  loglik: number;
  llNull: number;
  /**
   * log-likelihood of the model with the fixed effects only, as fixest fits it for wpr2 /
   * wapr2: glm.tol 1e-2 and fixef.tol 1e-3, so not the maximum (null without FE); a getter:
   * that fit runs when llFe, wpr2 or wapr2 is first read
   */
  readonly llFe: number | null;
  /** the same model converged (withinConverged: true), and the within pseudo R2 against it */
  llFeConverged: number | null;
  wpr2Converged: number | null;
  pr2: number;
  apr2: number;
  readonly wpr2: number | null;
  readonly wapr2: number | null;
  sqCor: number;
  aic: number;
  bic: number;
  ssr: number;
  rmse: number;
  /** mean of the outcome (fixest's "my") */
  meanY: number;
}

export interface StatsInput extends Omit<IrlsInput, "X" | "names" | "sample"> {
  sample: Sample;
  fit: IrlsResult;
  nparams: number;
  k: number;
  hasFe: boolean;
  intercept: boolean;
  withinConverged?: boolean;
}

/**
 * fixest's null log-likelihood: the intercept-only model without the offset, at the weighted
 * mean m of y; with weights, Poisson's log(y!) terms are not weighted (while the model's are).
 */
export function nullLoglik(family: string, y: Float64Array, pw: Float64Array | null): number {
  let sw = 0, swy = 0;
  for (let i = 0; i < y.length; i++) (sw += pw ? pw[i] : 1), (swy += (pw ? pw[i] : 1) * y[i]);
  const m = swy / sw;
  let ll = 0;
  for (let i = 0; i < y.length; i++) {
    const w = pw ? pw[i] : 1;
    ll += family === "poisson"
      ? w * (y[i] * Math.log(m) - m) - lfactorial(y[i])
      : w * ((y[i] > 0 ? y[i] * Math.log(m) : 0) + (y[i] < 1 ? (1 - y[i]) * Math.log(1 - m) : 0));
  }
  return ll;
}

export function glmStats(s: StatsInput): GlmStats {
  const fam = FAMILIES[s.family];
  const { n, y, pw } = s;
  const ll = (mu: Float64Array) => {
    let t = 0;
    for (let i = 0; i < n; i++) t += fam.loglik(y[i], mu[i], pw ? pw[i] : 1);
    return t;
  };
  const loglik = ll(s.fit.mu);
  const k = s.k;
  const llNull = nullLoglik(s.family, y, pw);
  const { fit: _fit, ...rest } = s;
  const quiet = { ...rest, warn: () => {}, strictConvergence: false, X: [], names: [], sample: s.sample, muOnly: true };
  // fixest's FE-only model: feglm(y ~ 1 | fe, glm.tol = 1e-2, fixef.tol = 1e-3, family =
  // x$family$family) with the weights and offset: "binomial" there is the logit link, also
  // for a probit model (the log-likelihood depends on mu only). Fitted when llFe, wpr2 or
  // wapr2 is first read (fixest's fitstat computes it on demand too), once.
  const feFamily = s.family === "probit" ? "logit" : s.family;
  let llFeMemo: number | null | undefined;
  const llFeNow = (): number | null =>
    llFeMemo !== undefined ? llFeMemo : (llFeMemo = s.hasFe ? ll(irls({ ...quiet, family: feFamily, glmTol: 1e-2, coefTol: Infinity, fixefTol: 1e-3 }).mu) : null);
  const llFeConverged = s.hasFe && s.withinConverged ? ll(irls(quiet).mu) : null;
  let ssr = 0, my = 0, mm = 0;
  for (let i = 0; i < n; i++) (ssr += (y[i] - s.fit.mu[i]) ** 2), (my += y[i] / n), (mm += s.fit.mu[i] / n);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const a = y[i] - my, b = s.fit.mu[i] - mm;
    (sxy += a * b), (sxx += a * a), (syy += b * b);
  }
  return {
    deviance: s.fit.deviance,
    loglik,
    llNull,
    get llFe() {
      return llFeNow();
    },
    pr2: 1 - loglik / llNull,
    apr2: 1 - (loglik - s.nparams + 1) / llNull,
    get wpr2() {
      const llFe = llFeNow();
      return llFe === null ? null : 1 - loglik / llFe;
    },
    get wapr2() {
      const llFe = llFeNow();
      return llFe === null ? null : 1 - (loglik - k) / llFe;
    },
    llFeConverged,
    wpr2Converged: llFeConverged === null ? null : 1 - loglik / llFeConverged,
    sqCor: (sxy * sxy) / (sxx * syy),
    aic: -2 * loglik + 2 * s.nparams,
    bic: -2 * loglik + s.nparams * Math.log(n),
    ssr,
    rmse: Math.sqrt(ssr / n),
    meanY: my,
  };
}

/**
 * Regressor-induced separation (Correia, Guimaraes and Zylkin 2019), as a report: rows whose
 * fitted mean is at the boundary at the converged fit although their FE levels vary (see
 * glm-separation.ts). Nothing is removed, so that results stay comparable with fixest.
 */
export function separationCheck(family: FamilyName, y: Float64Array, mu: Float64Array, rows: Int32Array): string | null {
  const bad = separatedRows(family, y, mu);
  if (!bad.length) return null;
  const list = bad.slice(0, 10).map((i) => rows[i] + 1).join(", ") + (bad.length > 10 ? `, ... (${bad.length} rows)` : "");
  return (
    `possible separation by the regressors: ${bad.length} row(s) have a fitted mean at the boundary ` +
    `(${family === "poisson" ? "mu < 1e-10 x mean(y) with y = 0" : "mu within 1e-10 of y"}), data rows ${list}; ` +
    "their linear predictor diverges and they carry no information on the coefficients (kept: the iterative rectifier of separation \"ir\" did not certify them, or separation is \"fe\" / \"none\", as fixest)"
  );
}
