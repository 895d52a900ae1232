// What a regression table reads of one model (TableModel), extracted once from a feols Fit, an
// IV fit (second stage named fit_<endo>, fixest's IV statistics), a GLM fit (z tests, pseudo R2,
// log-likelihood, deviance, information criteria, family) or the JSON an estimator saved; and
// the fit statistics a table offers, by fixest's fitstat names.
import type { Fit } from "../estimators/feols.js";
import type { IvFit, FTest } from "../estimators/iv.js";
import type { GlmFit } from "../estimators/glm.js";
import type { Formula } from "../core/formula.js";
import { parseFormula } from "../core/formula.js";
import { parseIvFormula } from "../core/iv-formula.js";
import { OptionError } from "../base/errors.js";
import type { FitJson } from "./summary.js";
import type { IvFitJson } from "./iv.js";
import type { GlmJson } from "./glm.js";

/** What a table needs of one model: extracted once from a Fit, a multi member or a saved fit JSON. */
export interface TableModel {
  formula: string;
  lhs: string;
  coefNames: string[];
  coef: Record<string, number>;
  se: Record<string, number>;
  p: Record<string, number>;
  /** FE names ("firm", "fe1^fe2") and varying slopes ("region" x "year") */
  fixef: string[];
  slopes: { fe: string; slope: string }[];
  /** fit statistics by fixest's name (per endogenous "ivf1::Export"); absent = the model type has none */
  stats: Record<string, number>;
  vcovLabel: string;
  sscLabel: string;
  collinear: string[];
  /** a multiple estimation's sample (split / fsplit) */
  sample?: { var: string; value: string };
  /** the coefficient test: t (OLS, IV; default) or z (GLMs: normal p-values) */
  stat?: "t" | "z";
  /** fixest's family label: "OLS", "Poisson", "Logit", "Probit" */
  family?: string;
  /** endogenous regressors of an IV model */
  endo?: string[];
  /** confidence intervals by name, where the fit has them */
  ci?: Record<string, [number, number]>;
}

const ciOf = (table: { name: string; ciLow: number; ciHigh: number }[]): Record<string, [number, number]> =>
  Object.fromEntries(table.map((r) => [r.name, [r.ciLow, r.ciHigh] as [number, number]]));

/**
 * Fit statistics etable knows: fixest's fitstat name -> label. `perEndo`: one row per
 * endogenous regressor ("F-test (1st stage), Export"), read from "<name>::<endo>".
 */
export const FITSTATS: Record<string, { label: string; perEndo?: boolean }> = {
  nobs: { label: "Observations" },
  r2: { label: "R2" },
  ar2: { label: "Adj. R2" },
  wr2: { label: "Within R2" },
  rmse: { label: "RMSE" },
  ssr: { label: "SSR" },
  my: { label: "Dep. Var. mean" },
  ivf1: { label: "F-test (1st stage)", perEndo: true },
  ivwald1: { label: "Wald (1st stage)", perEndo: true },
  ivf2: { label: "F-test (2nd stage)" },
  ivwald2: { label: "Wald (2nd stage)" },
  wh: { label: "Wu-Hausman" },
  sargan: { label: "Sargan" },
  cd: { label: "Cragg-Donald" },
  "sq.cor": { label: "Squared Cor." },
  pr2: { label: "Pseudo R2" },
  apr2: { label: "Adj. Pseudo R2" },
  wpr2: { label: "Within Pseudo R2" },
  wapr2: { label: "Within Adj. Pseudo R2" },
  ll: { label: "Log-Likelihood" },
  deviance: { label: "Deviance" },
  aic: { label: "AIC" },
  bic: { label: "BIC" },
};
/** fixest's other spellings: ivf / ivwald are the first-stage statistics */
export const FITSTAT_ALIASES: Record<string, string> = {
  n: "nobs", "adj.r2": "ar2", within_r2: "wr2", ivf: "ivf1", ivwald: "ivwald1", "sq_cor": "sq.cor", cor2: "sq.cor", dev: "deviance", loglik: "ll",
};
/** A row that is not a statistic: each model's family. */
export const FAMILY_ROW = "family";

const FAMILY_LABEL: Record<string, string> = { poisson: "Poisson", logit: "Logit", probit: "Probit" };

function fixefOf(f: Formula): { fixef: string[]; slopes: { fe: string; slope: string }[] } {
  const fixef: string[] = [];
  const slopes: { fe: string; slope: string }[] = [];
  for (const t of f.fixef) {
    const name = t.vars.join("^");
    if (!t.slopeOnly) fixef.push(name);
    for (const s of t.slopes) slopes.push({ fe: name, slope: s });
  }
  return { fixef, slopes };
}

/** fixest's IV statistics under their fitstat names (an F test shows its statistic). */
function ivStats(fs: { ivf1: Record<string, FTest>; ivwald1: Record<string, FTest>; ivf2: FTest; ivwald2: FTest; wh: FTest; sargan: { stat: number } | null; cd: number }): Record<string, number> {
  const out: Record<string, number> = { ivf2: fs.ivf2.stat, ivwald2: fs.ivwald2.stat, wh: fs.wh.stat, cd: fs.cd };
  for (const [e, t] of Object.entries(fs.ivf1)) out[`ivf1::${e}`] = t.stat;
  for (const [e, t] of Object.entries(fs.ivwald1)) out[`ivwald1::${e}`] = t.stat;
  if (fs.sargan) out.sargan = fs.sargan.stat;
  return out;
}

function isIv(fit: Fit): fit is IvFit {
  return "iv" in fit && "ivBase" in fit;
}

export function isGlmFit(x: object): x is GlmFit {
  return "internals" in x && "parsed" in x && "family" in x && "stats" in x && "zstat" in x;
}

export function tableModelOfFit(fit: Fit, sample?: { var: string; value: string }): TableModel {
  const stats: Record<string, number> = { nobs: fit.nobs, r2: fit.r2, ar2: fit.adjR2, rmse: fit.rmse, ssr: fit.ssr };
  if (fit.withinR2 !== null) stats.wr2 = fit.withinR2;
  const iv = isIv(fit) ? fit.iv : null;
  if (iv) Object.assign(stats, ivStats(iv.fitstat));
  return {
    formula: fit.formula, lhs: fit.parsed.lhs, coefNames: fit.coefNames, coef: fit.coef, se: fit.se, p: fit.pvalue,
    ...fixefOf(fit.parsed), stats, vcovLabel: fit.vcovLabel, sscLabel: fit.sscLabel, collinear: fit.collinear, sample,
    stat: "t", family: "OLS", ...(iv ? { endo: iv.endo } : {}), ci: ciOf(fit.table),
  };
}

function glmStatsByName(s: { pr2: number; apr2: number; wpr2: number | null; wapr2: number | null; loglik: number; deviance: number; aic: number; bic: number; sqCor: number; rmse: number; ssr: number }): Record<string, number> {
  const out: Record<string, number> = { pr2: s.pr2, apr2: s.apr2, ll: s.loglik, deviance: s.deviance, aic: s.aic, bic: s.bic, "sq.cor": s.sqCor, rmse: s.rmse, ssr: s.ssr };
  if (s.wpr2 !== null) out.wpr2 = s.wpr2;
  if (s.wapr2 !== null) out.wapr2 = s.wapr2;
  return out;
}

export function tableModelOfGlm(fit: GlmFit, sample?: { var: string; value: string }): TableModel {
  return {
    formula: fit.formula, lhs: fit.parsed.lhs, coefNames: fit.coefNames, coef: fit.coef, se: fit.se, p: fit.pvalue,
    ...fixefOf(fit.parsed), stats: { nobs: fit.nobs, my: fit.stats.meanY, ...glmStatsByName(fit.stats) },
    vcovLabel: fit.vcovLabel, sscLabel: fit.sscLabel, collinear: fit.collinear, sample, stat: "z", family: FAMILY_LABEL[fit.family] ?? fit.family, ci: ciOf(fit.table),
  };
}

type SavedJson = (FitJson | IvFitJson | GlmJson) & { sample_var?: string | null; sample?: string | null };

/** A fit saved by `hdfe feols --json` (OLS or IV) or `hdfe glm --json` (one object, or a member of an array). */
export function tableModelOfJson(j: SavedJson): TableModel {
  if (!j || typeof j.formula !== "string" || !j.coef || !j.se || !j.p) {
    throw new OptionError("not a saved fit: expected the JSON of hdfe feols --json or hdfe glm --json (formula, coef, se, p...)");
  }
  const sample = j.sample_var && j.sample ? { var: j.sample_var, value: j.sample } : undefined;
  const common = { formula: j.formula, coefNames: Object.keys(j.coef), coef: j.coef, se: j.se, p: j.p, vcovLabel: j.vcov, sscLabel: j.ssc_detail, collinear: j.collinear ?? [], sample };
  if ("family" in j && "deviance" in j) {
    const f = parseFormula(j.formula);
    const stats = { nobs: j.nobs, ...glmStatsByName({ ...j, sqCor: j.sq_cor }) };
    return { ...common, lhs: f.lhs, ...fixefOf(f), stats, stat: "z", family: FAMILY_LABEL[j.family] ?? j.family };
  }
  const o = j as FitJson & Partial<IvFitJson>;
  const f = o.iv ? parseIvFormula(o.formula).main : parseFormula(o.formula);
  const stats: Record<string, number> = { nobs: o.nobs, r2: o.r2, ar2: o.adj_r2, rmse: o.rmse, ssr: o.ssr };
  if (o.within_r2 !== null && o.within_r2 !== undefined) stats.wr2 = o.within_r2;
  if (o.iv) {
    for (const [k, v] of Object.entries(o.iv.fitstat)) {
      if (typeof v === "number") stats[k] = v;
      else if (v && typeof v === "object") stats[k] = v.stat;
    }
  }
  return { ...common, lhs: f.lhs, ...fixefOf(f), stats, stat: "t", family: "OLS", ...(o.iv ? { endo: o.iv.endo } : {}) };
}
