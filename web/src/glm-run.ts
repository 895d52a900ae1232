// A GLM with fixed effects in the worker (fepois, feglm logit / probit): the fit, its
// fixest-like summary, and its JSON in the shape of feols' FitJson (the page's tables read
// that shape; the t column holds z values) with the GLM record itself under `glm`.
import type { Engine, Frame } from "../../bindings/browser.js";
import { feglm, glmToJson, glmSummary, type GlmJson } from "../../bindings/extras.js";
import type { FitJson } from "../../bindings/report/summary.js";
import type { ModelResult, ModelSpec } from "../../bindings/platform/worker-protocol.js";
import { clusterColumns, formulaOf, vcovOf } from "./spec.js";

export function fitGlm(eng: Engine, frame: Frame, spec: ModelSpec, t0: number): ModelResult {
  const family = spec.estimator === "fepois" ? "poisson" : spec.estimator === "probit" ? "probit" : "logit";
  const fit = feglm(eng, frame, formulaOf(spec), { family, vcov: vcovOf(spec), keepColumns: clusterColumns(spec) });
  const j = glmToJson(fit);
  const asFit: FitJson & { glm: GlmJson } = {
    formula: j.formula, coef: j.coef, se: j.se, t: j.z, p: j.p, ci: j.ci, nobs: j.nobs,
    removed: { na: j.removed.na, singletons: j.removed.singletons, zero_weight: j.removed.zero_weight, na_by_column: j.removed.na_by_column, singleton_levels: {} },
    collinear: j.collinear, r2: NaN, adj_r2: NaN, within_r2: null, rmse: j.rmse, ssr: j.ssr, vcov: j.vcov, ssc: j.ssc,
    ssc_detail: j.ssc_detail, df: Infinity, level: j.level, fixef_sizes: j.fixef_sizes, cluster_sizes: j.cluster_sizes,
    iterations: j.iterations, demean: null, storage: { type: "f64" }, converged: j.converged, warnings: j.warnings,
    vcov_matrix: j.vcov_matrix, glm: j,
  };
  return { formula: fit.formula, fit: asFit, summary: glmSummary(fit), elapsedMs: performance.now() - t0 };
}
