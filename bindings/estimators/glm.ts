// fepois / feglm: Poisson (PPML), logit and probit with high-dimensional fixed effects.
//   validate -> parse formula -> design -> sample (NA, then fixest's fixef.rm "perfect")
//   -> IRLS (glm-irls.ts: WASM demeaning at every step, warm-started) -> vcov (glm-vcov.ts)
//   -> fit statistics (null and FE-only models, pseudo R2, AIC / BIC) -> GlmFit
import type { Table } from "apache-arrow";
import type { Engine } from "../engine/wasm.js";
import type { DemeanAlgo } from "../engine/kernels.js";
import { parseFormula, type Formula } from "../core/formula.js";
import { isIvFormula } from "../core/iv-formula.js";
import { Frame } from "../core/frame.js";
import { buildDesign } from "../core/design.js";
import { prepareSample, gather, type Removed, type Sample } from "../core/sample.js";
import { parseVcov, parseSsc, SSC, type VcovSpec, type SscName } from "../core/vcov.js";
import { NonConvergenceError, OptionError, SampleError, WasmMemoryError } from "../base/errors.js";
import { fmtBytes, WASM_MAX_BYTES } from "../engine/wasm.js";
import { demeanScratchPlan, PLAN_SLACK } from "../core/solve.js";
import { pnorm, qnorm } from "../base/stats.js";
import { defaultVcov, fixefDof, type CoefRow, type Coefficients } from "./feols.js";
import { FAMILIES, type FamilyName } from "./glm-family.js";
import { glmRemoval, separationRemoval, binomialSeparationRemoval, checkOutcome, type GlmFixefRm, type GlmRemoved } from "./glm-sample.js";
import type { Separation } from "./glm-separation.js";
import { checkChoice } from "../base/options.js";
import { irls, type IrlsInput, type IrlsResult } from "./glm-irls.js";
import { glmVcov, type GlmVcovData } from "./glm-vcov.js";
import { glmStats, separationCheck, type GlmStats } from "./glm-stats.js";

export interface GlmOptions {
  /** "poisson" (fepois), "logit" or "probit" */
  family?: FamilyName;
  /** "iid" | "hetero" | "cluster:v1[+v2]"; default: clustered by the first FE, iid without FE (fixest 0.12) */
  vcov?: string | VcovSpec;
  ssc?: SscName | string;
  weights?: string;
  /** a numeric column added to the linear predictor with coefficient 1 */
  offset?: string;
  /** fixest's fixef.rm for GLMs: "perfect" (default), "both", "singleton" or "none" */
  fixefRm?: GlmFixefRm;
  /**
   * separation removed before the fit: "ir" (default, ppmlhdfe's "fe ir"): the FE rule of
   * fixefRm, then the rows separated by the regressors (iterative rectifier, glm-separation.ts);
   * "fe": the FE rule only, regressor separation only reported (fixest); "none": neither (the
   * "perfect" part of fixefRm is skipped too, its singleton part kept)
   */
  separation?: Separation;
  /** FE projections at each IRLS step: tolerance (default 1e-10), iteration limit, algorithm */
  fixefTol?: number;
  fixefIter?: number;
  fixefAlgo?: DemeanAlgo;
  threads?: number;
  /** relative deviance change (fixest's glm.tol criterion), default 1e-10 */
  glmTol?: number;
  /** largest coefficient change relative to max(|b|, se), default 1e-10 */
  coefTol?: number;
  glmIter?: number;
  collinTol?: number;
  level?: number;
  keepColumns?: string[];
  /**
   * also fit the FE-only model to convergence (stats.llFeConverged, wpr2Converged); fixest's
   * wpr2 / wapr2 use its loose FE-only fit (glm.tol 1e-2, fixef.tol 1e-3), reported as such
   */
  withinConverged?: boolean;
  onWarning?: (msg: string) => void;
  /** demeaning non-convergence at a step throws instead of warning */
  strictConvergence?: boolean;
  /**
   * the IRLS per-step passes: "wasm" (default, assembly/glm.ts) or "ts" (the same loop with
   * plain TypeScript passes, glm-passes.ts; for bench/glm.bench.ts and the tests)
   */
  irlsPasses?: "wasm" | "ts";
}

export interface GlmFit extends Coefficients {
  method: "fepois" | "feglm";
  family: FamilyName;
  link: string;
  formula: string;
  parsed: Formula;
  /** z statistics (the table's `t` column holds them too) */
  zstat: Record<string, number>;
  coefVector: Float64Array;
  nobs: number;
  nobsOrigin: number;
  removed: Removed;
  /** the rows removed by fixef.rm, per FE with the levels, and as separated by the regressors */
  glmRemoved: GlmRemoved;
  /** which separation was removed (GlmOptions.separation) */
  separation: Separation;
  /** every row not in the estimation (missing values and FE removal), original 0-based indices */
  removedRows: Int32Array;
  collinear: string[];
  fixefSizes: Record<string, number>;
  iterations: number;
  converged: boolean;
  /** achieved criteria at the last step */
  criterion: { deviance: number; coef: number };
  demean: { iterations: number; criterion: number; algo: DemeanAlgo } | null;
  stats: GlmStats;
  vcov: VcovSpec;
  vcovLabel: string;
  ssc: SscName;
  sscLabel: string;
  K: number;
  nparams: number;
  level: number;
  clusterSizes?: Record<string, number>;
  weights?: string;
  offset?: string;
  warnings: string[];
  internals: { vcovData: GlmVcovData; beta: Float64Array };
}

const DEFAULTS = { fixefTol: 1e-10, fixefIter: 10000, glmTol: 1e-10, coefTol: 1e-10, glmIter: 100, collinTol: 1e-10, level: 0.95 };

/** Poisson pseudo-maximum likelihood with fixed effects (fixest fepois, Stata ppmlhdfe). */
export function fepois(eng: Engine, data: Table | Frame, formula: string | Formula, opts: Omit<GlmOptions, "family"> = {}): GlmFit {
  return feglm(eng, data, formula, { ...opts, family: "poisson" });
}

/** Logit / probit (or Poisson) with fixed effects (fixest feglm). */
export function feglm(eng: Engine, data: Table | Frame, formula: string | Formula, opts: GlmOptions = {}): GlmFit {
  const frame = data instanceof Frame ? data : Frame.fromArrow(data);
  if (typeof formula === "string" && isIvFormula(formula)) {
    throw new OptionError("instrumental variables (| endo ~ inst) are not supported by fepois / feglm", { formula }, "use feols for 2SLS");
  }
  const f = typeof formula === "string" ? parseFormula(formula) : formula;
  const family = opts.family ?? "logit";
  if (!(family in FAMILIES)) throw new OptionError(`unknown GLM family ${JSON.stringify(family)}`, undefined, "use poisson, logit or probit");
  const vspec = glmVcovSpec(opts.vcov === undefined ? defaultVcov(f) : parseVcov(opts.vcov));
  const sscName = parseSsc(opts.ssc);
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & GlmOptions;
  for (const key of ["fixefTol", "glmTol", "coefTol"] as const) if (!(o[key] > 0)) throw new OptionError(`${key} must be positive, got ${o[key]}`);
  if (!(o.level > 0 && o.level < 1)) throw new OptionError(`level must be in (0, 1), got ${o.level}`);
  const fixefRm = opts.fixefRm ?? "perfect";
  if (!["perfect", "both", "singleton", "none"].includes(fixefRm)) {
    throw new OptionError(`fixefRm must be perfect, both, singleton or none, got ${JSON.stringify(fixefRm)}`);
  }
  const separation = opts.separation === undefined ? "ir" : checkChoice<Separation>("separation", opts.separation);
  const rmEff: GlmFixefRm = separation !== "none" ? fixefRm : fixefRm === "both" || fixefRm === "singleton" ? "singleton" : "none";
  const fixefAlgo = opts.fixefAlgo ?? "auto";
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const clusterVars = vspec.type === "cluster" ? vspec.vars.flatMap((v) => v.split("^")) : [];
  const extra = [...clusterVars, ...(opts.offset ? [opts.offset] : []), ...(opts.keepColumns ?? [])];
  const design = buildDesign(frame, f, { weights: opts.weights, extra });
  const s0 = prepareSample(design, "none");
  const y0 = gather(design.y, s0.rows);
  checkOutcome(y0, family, f.lhs);
  let { sample, removed: glmRemoved } = glmRemoval(s0, y0, family, rmEff, frame);
  const hasFe = sample.fe.length > 0;
  const addIntercept = !hasFe && f.intercept;
  const names = addIntercept ? ["(Intercept)", ...design.xNames] : design.xNames;
  const xOn = (s: Sample) => names.map((nm, j) => (addIntercept && j === 0 ? new Float64Array(s.n).fill(1) : gather(design.X[addIntercept ? j - 1 : j], s.rows)));
  // the outcome and regressors on a sample, kept for the last sample asked (the rectifier's
  // sample is usually the fit's: no second gather)
  let last: { s: Sample; c: { y: Float64Array; X: Float64Array[] } } | null = null;
  const columns = (s: Sample) => (last?.s === s ? last.c : (last = { s, c: { y: s === s0 ? y0 : gather(design.y, s.rows), X: xOn(s) } }).c);
  const irIn = { eng, columns, names, family, rm: rmEff, frame, fixefTol: o.fixefTol, fixefIter: o.fixefIter, fixefAlgo, threads: o.threads ?? 1 };
  if (separation === "ir" && family !== "poisson") {
    // a regressor on one side of a threshold for each outcome (complete: an error naming it)
    for (let r; (r = binomialSeparationRemoval(sample, glmRemoved, irIn, "threshold")); ) ({ sample, removed: glmRemoved } = r);
  }
  if (separation === "ir") ({ sample, removed: glmRemoved } = separationRemoval(sample, glmRemoved, irIn));
  const onSample = (s: Sample) => {
    const { y, X } = columns(s);
    const offset = opts.offset ? gather(frame.numeric(opts.offset), s.rows) : null;
    const pw = design.weights ? gather(design.weights, s.rows) : null;
    checkGlmPlan(eng, s.n, names.length, s);
    const base: Omit<IrlsInput, "X" | "names" | "sample"> = {
      eng, n: s.n, y, offset, pw, family, glmTol: o.glmTol, coefTol: o.coefTol, glmIter: o.glmIter, fixefTol: o.fixefTol,
      fixefIter: o.fixefIter, fixefAlgo, threads: o.threads ?? 1, collinTol: o.collinTol, strictConvergence: opts.strictConvergence, warn,
      passes: opts.irlsPasses,
    };
    return { y, X, base };
  };
  let inputs = onSample(sample);
  let fit: IrlsResult;
  let etaStep: Float64Array | undefined;
  try {
    const onFailure = family !== "poisson" && separation === "ir" ? (d: Float64Array) => (etaStep = d) : undefined;
    fit = irls({ ...inputs.base, X: inputs.X, names, sample, rows: sample.rows, onFailure });
  } catch (err) {
    // a binomial IRLS that fails may be separated in a way the one-sided rectifier does not
    // see (complete separation, or both outcomes on the hyperplane): the two-sided rectifier
    // then removes the separated rows (or names the regressors of a complete separation)
    const retry = err instanceof NonConvergenceError && family !== "poisson" && separation === "ir" ? binomialSeparationRemoval(sample, glmRemoved, irIn, { etaStep }) : null;
    if (!retry) throw err;
    ({ sample, removed: glmRemoved } = retry);
    inputs = onSample(sample);
    fit = irls({ ...inputs.base, X: inputs.X, names, sample, rows: sample.rows });
  }
  const { y, base } = inputs;
  const n = sample.n;
  const kept = fit.kept.map((j) => names[j]);
  const collinear = names.filter((_, j) => !fit.kept.includes(j));
  if (collinear.length) warn(`regressors removed because of collinearity: ${collinear.join(", ")}`);
  const feDof = fixefDof(sample);
  const nparams = kept.length + feDof;
  if (n <= nparams) throw new SampleError(`${n} observations for ${nparams} parameters: no residual degrees of freedom`, { n, nparams });
  const sep = separationCheck(family, y, fit.mu, sample.rows);
  if (sep) warn(sep);
  const stats = glmStats({ ...base, sample, fit, nparams, k: kept.length, hasFe, intercept: f.intercept, withinConverged: opts.withinConverged });
  const vcovData: GlmVcovData = {
    n, k: kept.length, x: fit.x, e: fit.e, bread: fit.bread, feDof, hasIntercept: addIntercept, sample, frame,
  };
  return assembleGlm({
    eng, f, family, kept, collinear, fit, sample, glmRemoved, design: { valid: design.valid }, stats, vspec, sscName, nparams,
    level: o.level, warnings, vcovData, weights: opts.weights, offset: opts.offset, fixefAlgo, separation,
  });
}

interface AssembleGlmArgs {
  eng: Engine;
  f: Formula;
  family: FamilyName;
  kept: string[];
  collinear: string[];
  fit: Pick<IrlsResult, "beta" | "iterations" | "converged" | "devCriterion" | "coefCriterion" | "demeanIterations" | "demeanCriterion">;
  sample: Sample;
  glmRemoved: GlmRemoved;
  design: { valid: Uint8Array } | { removedRows: Int32Array };
  stats: GlmStats;
  vspec: VcovSpec;
  sscName: SscName;
  nparams: number;
  level: number;
  warnings: string[];
  vcovData: GlmVcovData;
  weights?: string;
  offset?: string;
  fixefAlgo: DemeanAlgo;
  separation: Separation;
}

function assembleGlm(a: AssembleGlmArgs): GlmFit {
  const v = glmVcov(a.eng, a.vcovData, a.vspec, a.sscName);
  if (v.eigenFixed) a.warnings.push("the multi-way clustered variance was not positive semi-definite: eigenvalues floored");
  const k = a.kept.length;
  const crit = qnorm(1 - (1 - a.level) / 2);
  const table: CoefRow[] = a.kept.map((name, j) => {
    const est = a.fit.beta[j];
    const se = Math.sqrt(v.V[j + j * k]);
    const z = est / se;
    return { name, estimate: est, se, t: z, p: 2 * pnorm(-Math.abs(z)), ciLow: est - crit * se, ciHigh: est + crit * se };
  });
  const rec = (key: keyof CoefRow) => Object.fromEntries(table.map((r) => [r.name, r[key] as number]));
  const fixefSizes: Record<string, number> = {};
  for (const d of a.sample.fe) fixefSizes[d.name] = d.levels;
  const r = a.sample.removed;
  const removedRows = "removedRows" in a.design ? a.design.removedRows : allRemoved(a.design.valid, a.glmRemoved.rows);
  return Object.freeze({
    method: a.family === "poisson" ? "fepois" : "feglm",
    family: a.family,
    link: FAMILIES[a.family].link,
    formula: a.f.text,
    parsed: a.f,
    coefNames: a.kept,
    coef: rec("estimate"),
    se: rec("se"),
    zstat: rec("t"),
    pvalue: rec("p"),
    table,
    coefVector: a.fit.beta,
    vcovMatrix: v.V,
    nobs: a.sample.n,
    nobsOrigin: a.sample.n + r.na + r.zeroWeight + a.glmRemoved.rows.length,
    removed: r,
    glmRemoved: a.glmRemoved,
    separation: a.separation,
    removedRows,
    collinear: a.collinear,
    fixefSizes,
    iterations: a.fit.iterations,
    converged: a.fit.converged,
    criterion: { deviance: a.fit.devCriterion, coef: a.fit.coefCriterion },
    demean: a.sample.fe.length ? { iterations: a.fit.demeanIterations, criterion: a.fit.demeanCriterion, algo: a.fixefAlgo } : null,
    stats: a.stats,
    vcov: a.vspec,
    vcovLabel: v.label,
    ssc: a.sscName,
    sscLabel: SSC[a.sscName].label,
    K: v.K,
    nparams: a.nparams,
    level: a.level,
    clusterSizes: v.G,
    weights: a.weights,
    offset: a.offset,
    warnings: a.warnings,
    internals: { vcovData: a.vcovData, beta: a.fit.beta },
  } satisfies GlmFit);
}

/**
 * Refuse a model whose IRLS would not fit in one WASM instance, before allocating: the
 * working response and regressors (n x (k + 1)), the working weights, the outcome, offset,
 * prior weights, eta, mu (and their step copies), z, r and the FE part of z (glm-irls.ts:
 * 11 n-vectors besides [z | X]), the FE codes and the demeaning scratch live in WASM memory.
 */
function checkGlmPlan(eng: Engine, n: number, k: number, sample: Sample): void {
  const feCells = sample.fe.reduce((acc, d) => acc + d.levels * (d.type === 2 ? 2 : 1), 0);
  const need = n * 8 * (k + 12) + n * 4 * sample.fe.length + (feCells ? demeanScratchPlan(feCells) : 0) + PLAN_SLACK;
  if (need <= WASM_MAX_BYTES - eng.usedBytes) return;
  throw new WasmMemoryError(
    `this GLM needs about ${fmtBytes(need)} of WASM memory (${n.toLocaleString("en-US")} rows x ${k + 12} columns) but one instance holds at most ${fmtBytes(WASM_MAX_BYTES)}`,
    { need, limit: WASM_MAX_BYTES, rows: n, columns: k + 12 },
    "use fewer regressors or a subsample (e.g. by period)",
  );
}

/** The variances a GLM offers: iid, hetero, one- to four-way clusters (HAC / Conley are feols'). */
function glmVcovSpec(v: VcovSpec): VcovSpec {
  if (v.type === "iid" || v.type === "hetero" || v.type === "cluster") return v;
  throw new OptionError(`vcov "${v.type}" is not available for fepois / feglm`, { vcov: v.type }, "use iid, hetero or cluster:var1[+var2]");
}

/** Rows with a missing value (valid = 0) and the rows removed by the FE rules, ascending. */
function allRemoved(valid: Uint8Array, feRows: number[]): Int32Array {
  const out: number[] = [];
  const fe = new Set(feRows);
  for (let i = 0; i < valid.length; i++) if (!valid[i] || fe.has(i)) out.push(i);
  return Int32Array.from(out);
}

/** The same GLM fit with another variance (or confidence level), without refitting. */
export function withVcovGlm(eng: Engine, fit: GlmFit, vcov: string | VcovSpec, ssc?: SscName | string, level?: number): GlmFit {
  const vspec = glmVcovSpec(parseVcov(vcov));
  const sscName = parseSsc(ssc ?? fit.ssc);
  const d = fit.internals.vcovData;
  if (vspec.type === "cluster") {
    for (const p of vspec.vars.flatMap((x) => x.split("^"))) {
      const c = d.frame.codes(p).codes; // throws the named ColumnError
      for (let j = 0; j < d.n; j++) {
        if (c[d.sample.rows[j]] < 0) throw new OptionError(`cluster variable "${p}" is missing in rows of the estimation sample; refit with keepColumns: ["${p}"]`);
      }
    }
  }
  return assembleGlm({
    eng, f: fit.parsed, family: fit.family, kept: fit.coefNames, collinear: fit.collinear,
    fit: {
      beta: fit.internals.beta, iterations: fit.iterations, converged: fit.converged, devCriterion: fit.criterion.deviance,
      coefCriterion: fit.criterion.coef, demeanIterations: fit.demean?.iterations ?? 0, demeanCriterion: fit.demean?.criterion ?? 0,
    },
    sample: d.sample, glmRemoved: fit.glmRemoved, design: { removedRows: fit.removedRows }, stats: fit.stats, vspec, sscName,
    nparams: fit.nparams, level: level ?? fit.level, warnings: fit.warnings.filter((w) => !w.startsWith("the multi-way")),
    vcovData: d, weights: fit.weights, offset: fit.offset, fixefAlgo: fit.demean?.algo ?? "auto",
    separation: fit.separation,
  });
}
