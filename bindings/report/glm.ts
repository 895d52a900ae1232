// Reporting a GLM fit (fepois / feglm): a neutral JSON record (glmToJson, feols' layout with
// the GLM fields added) and a fixest-like text table (glmSummary).
import type { GlmFit } from "../estimators/glm.js";
import { ciByName, coefTableLines, fmtNum, vcovRows } from "./summary.js";

export interface GlmJson {
  method: string;
  family: string;
  link: string;
  formula: string;
  coef: Record<string, number>;
  se: Record<string, number>;
  z: Record<string, number>;
  p: Record<string, number>;
  ci: Record<string, [number, number]>;
  nobs: number;
  nobs_origin: number;
  removed: {
    na: number;
    zero_weight: number;
    na_by_column: Record<string, number>;
    /** rows in FE levels with only 0 (Poisson) or only 0 / only 1 (binomial) outcomes */
    perfect: number;
    singletons: number;
    /** rows separated by the regressors (separation "ir": ppmlhdfe's iterative rectifier) */
    separated: number;
    separated_by: string[];
    /** regressors constant on the rows left (dropped as collinear) */
    constant_after_separation: string[];
    /** "ir" | "fe" | "none" */
    separation: string;
    fixef_levels: Record<string, number>;
    fixef_level_labels: Record<string, string[]>;
    /** every row not estimated (1-based data rows) */
    rows: number[];
  };
  collinear: string[];
  deviance: number;
  loglik: number;
  ll_null: number;
  ll_fe_only: number | null;
  pr2: number;
  apr2: number;
  wpr2: number | null;
  wapr2: number | null;
  sq_cor: number;
  aic: number;
  bic: number;
  ssr: number;
  rmse: number;
  nparams: number;
  vcov: string;
  ssc: string;
  ssc_detail: string;
  level: number;
  fixef_sizes: Record<string, number>;
  cluster_sizes?: Record<string, number>;
  iterations: number;
  criterion: { deviance: number; coef: number };
  demean: { iterations: number; criterion: number; algo: string } | null;
  converged: boolean;
  weights?: string;
  offset?: string;
  warnings: string[];
  vcov_matrix: number[][];
}

export function glmToJson(fit: GlmFit): GlmJson {
  const ci = ciByName(fit);
  const s = fit.stats;
  return {
    method: fit.method,
    family: fit.family,
    link: fit.link,
    formula: fit.formula,
    coef: fit.coef,
    se: fit.se,
    z: fit.zstat,
    p: fit.pvalue,
    ci,
    nobs: fit.nobs,
    nobs_origin: fit.nobsOrigin,
    removed: {
      na: fit.removed.na,
      zero_weight: fit.removed.zeroWeight,
      na_by_column: fit.removed.naByColumn,
      perfect: fit.glmRemoved.perfect,
      singletons: fit.glmRemoved.singletons,
      separated: fit.glmRemoved.separated,
      separated_by: fit.glmRemoved.separatedBy,
      constant_after_separation: fit.glmRemoved.constantAfterSeparation,
      separation: fit.separation,
      fixef_levels: fit.glmRemoved.levels,
      fixef_level_labels: fit.glmRemoved.levelLabels,
      rows: Array.from(fit.removedRows, (r) => r + 1),
    },
    collinear: fit.collinear,
    deviance: s.deviance,
    loglik: s.loglik,
    ll_null: s.llNull,
    ll_fe_only: s.llFe,
    pr2: s.pr2,
    apr2: s.apr2,
    wpr2: s.wpr2,
    wapr2: s.wapr2,
    sq_cor: s.sqCor,
    aic: s.aic,
    bic: s.bic,
    ssr: s.ssr,
    rmse: s.rmse,
    nparams: fit.nparams,
    vcov: fit.vcovLabel,
    ssc: fit.ssc,
    ssc_detail: fit.sscLabel,
    level: fit.level,
    fixef_sizes: fit.fixefSizes,
    cluster_sizes: fit.clusterSizes,
    iterations: fit.iterations,
    criterion: fit.criterion,
    demean: fit.demean,
    converged: fit.converged,
    weights: fit.weights,
    offset: fit.offset,
    warnings: fit.warnings,
    vcov_matrix: vcovRows(fit),
  };
}

/** The rows removed as separated: how many, by which regressors, which regressors became constant. */
export function separationLine(g: GlmFit["glmRemoved"]): string {
  const by = g.separatedBy.length ? `separated by regressors: ${g.separatedBy.join(", ")}` : "separated by the fixed effects";
  const cst = g.constantAfterSeparation.length ? `, then constant: ${g.constantAfterSeparation.join(", ")}` : "";
  return `${g.separated.toLocaleString("en-US")} ${by} (iterative rectifier, as ppmlhdfe${cst})`;
}

/** A fixest-like printed summary of a GLM. */
export function glmSummary(fit: GlmFit): string {
  const out: string[] = [];
  const fam = fit.family === "poisson" ? "Poisson" : fit.family === "logit" ? "GLM (binomial, logit)" : "GLM (binomial, probit)";
  out.push(`${fam} estimation, Dep. Var.: ${fit.parsed.lhs}`);
  out.push(`Observations: ${fit.nobs.toLocaleString("en-US")}`);
  const rm: string[] = [];
  if (fit.removed.na) rm.push(`${fit.removed.na} for missing values (${Object.entries(fit.removed.naByColumn).map(([c, n]) => `${c}: ${n}`).join(", ")})`);
  const g = fit.glmRemoved;
  if (g.perfect) {
    const lv = Object.entries(g.levels).map(([f, n]) => `${f}: ${n}`).join(", ");
    rm.push(`${g.perfect} in fixed-effect levels with only ${fit.family === "poisson" ? "0" : "0 (or only 1)"} outcomes (levels ${lv})`);
  }
  if (g.singletons) rm.push(`${g.singletons} fixed-effect singletons`);
  if (g.separated) rm.push(separationLine(g));
  if (fit.removed.zeroWeight) rm.push(`${fit.removed.zeroWeight} with zero weight`);
  if (rm.length) out.push(`Rows removed: ${rm.join("; ")}`);
  if (fit.weights) out.push(`Weights: ${fit.weights}`);
  if (fit.offset) out.push(`Offset: ${fit.offset}`);
  const fe = Object.entries(fit.fixefSizes);
  if (fe.length) out.push(`Fixed-effects: ${fe.map(([f, n]) => `${f}: ${n.toLocaleString("en-US")}`).join(",  ")}`);
  out.push(`Standard-errors: ${fit.vcovLabel}`);
  out.push(...coefTableLines(fit.table, "z", fit.collinear));
  const s = fit.stats;
  out.push(`Log-Likelihood: ${fmtNum(s.loglik, 8)}   Adj. Pseudo R2: ${fmtNum(s.apr2, 5)}`);
  out.push(`           BIC: ${fmtNum(s.bic, 8)}     Squared Cor.: ${fmtNum(s.sqCor, 5)}`);
  out.push(`Deviance: ${fmtNum(s.deviance, 8)}   Pseudo R2: ${fmtNum(s.pr2, 5)}${s.wpr2 !== null ? `   Within Pseudo R2: ${fmtNum(s.wpr2, 5)}` : ""}   AIC: ${fmtNum(s.aic, 8)}`);
  const d = fit.demean;
  out.push(
    `IRLS: ${fit.iterations} iterations, relative deviance change ${fit.criterion.deviance.toExponential(2)}, ` +
      `coefficient change ${fit.criterion.coef.toExponential(2)}` +
      (d ? `; FE projections: ${d.iterations} in all (${d.algo})` : "") + (fit.converged ? "" : " (NOT CONVERGED)"),
  );
  for (const w of fit.warnings) out.push(`Warning: ${w}`);
  return out.join("\n");
}
