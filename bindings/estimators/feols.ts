// feols: the estimation pipeline.
//   validate -> parse formula -> design -> sample -> WASM (demean, QR, meats) -> result
// Numbers happen in kernels (assembly/) and pure helpers; this file orchestrates.
//
// Why one file over 600 lines: the Fit type, the feols pipeline and the helpers the other
// estimators reuse from it (memory plan, exact-fit and finiteness checks, unscaling, FE degrees of
// freedom, cluster codes, assembleFit, withVcov) are the one contract every estimator returns;
// split, each part would import the others' private shapes (ScaledFit, AssembleArgs).
import type { Table } from "apache-arrow";
import type { Engine } from "../engine/wasm.js";
import { parseFormula, type Formula } from "../core/formula.js";
import { Frame } from "../core/frame.js";
import { buildDesign, designShape, type Design } from "../core/design.js";
import { intersectCodes } from "../core/codes.js";
import { prepareSample, gather, recode, type FixefRm, type Sample, type Removed } from "../core/sample.js";
import type { DemeanAlgo } from "../engine/kernels.js";
import { solveF64, PLAN_SLACK, demeanScratchPlan, pow2Scale, type PlanShape, type SolveContext, type DemeanReport, type StorageReport } from "../core/solve.js";
import { solveF32, planF32 } from "../core/solve-f32.js";
import { computeVcov, parseVcov, parseSsc, isHac, type VcovSpec, type SscName, type VcovInputs, SSC } from "../core/vcov.js";
import { hacData, hacVars, hacColumns } from "../core/hac.js";
import { ColumnError, OptionError, SampleError, WasmMemoryError } from "../base/errors.js";
import { checkChoice, checkOption } from "../base/options.js";
import { pval2, qt } from "../base/stats.js";
import { fmtBytes, WASM_MAX_BYTES } from "../engine/wasm.js";
import { applyPostFit } from "../core/expansions.js";
import type { DemeanCache } from "../core/demean-cache.js";
import { refreshPlacedViews } from "../core/placed.js";
// the formula expansions feols knows (sunab()): each registers itself with the core registry
import "../terms/sunab.js";

export interface FeolsOptions {
  /**
   * "iid" | "hetero" | "cluster:v1[+v2]" | "nw:LAG" | "dk:LAG" | "conley:KM" (or fixest's
   * NW(2) ~ unit + time, DK(2), conley(100) ~ lat + lon); default: clustered by the first FE
   * (fixest 0.12), iid without FE
   */
  vcov?: string | VcovSpec;
  /** panel unit and time columns for NW / DK (fixest's panel.id): ["firm", "year"] or "firm,year" */
  panelId?: string[] | string;
  ssc?: SscName | string;
  weights?: string;
  /** "singleton" (default: iterative removal, as reghdfe/pyfixest) or "none" (keep, as fixest's default) */
  fixefRm?: FixefRm;
  /** convergence tolerance of the FE projections (max coefficient change) */
  fixefTol?: number;
  fixefIter?: number;
  /**
   * demeaning algorithm: "auto" (default: accelerated projections, switching to conjugate
   * gradient for the columns that have not converged after 20 steps), "map" (projections
   * only, as fixest) or "cg" (conjugate gradient from the start: difficult FE structures)
   */
  fixefAlgo?: DemeanAlgo;
  /**
   * threads for the demeaning (split by columns; bit-identical results). Default 1. Needs
   * bindings/platform/demean-node.ts loaded (Node); in browsers the demeaning keeps one thread.
   */
  threads?: number;
  /** squared-norm ratio under which a column is collinear */
  collinTol?: number;
  /** confidence level of the intervals */
  level?: number;
  /** replace or add numeric columns (e.g. a permuted treatment) without touching the data */
  override?: Record<string, Float64Array>;
  /** extra columns whose missing rows must be removed (e.g. cluster variables you will use later) */
  keepColumns?: string[];
  /**
   * keep the demeaned regressors in the result (needed by withVcov and the placebo tools);
   * default: true up to 4 million values (rows x regressors), false above to save a copy
   */
  keepData?: boolean;
  /** run the QR on the only copy of X (rebuilding it afterwards; default), or on a copy (false) */
  lowMemory?: boolean;
  /**
   * how the raw outcome and regressors are held in WASM memory: "f64" (default) or "f32",
   * which rounds them to float32 (about 7 significant digits, relative change at most
   * 6e-8, reported as storage.maxRelRounding) to halve their memory. All arithmetic stays in
   * float64: the result is the float64 fit of the rounded data, solved by the normal
   * equations (as fixest) and demeaning the columns again for a robust vcov. No demeaned
   * data is kept, so withVcov, placebo and wild need a refit in "f64"
   */
  storage?: "f64" | "f32";
  /** f32 storage: columns demeaned together per batch (default: as many as fit in memory) */
  batch?: number;
  /** called with warnings (non-convergence, eigenvalue fixes) */
  onWarning?: (msg: string) => void;
  /** throw NonConvergenceError instead of warning */
  strictConvergence?: boolean;
  /**
   * internal (feolsCompressed): the rows are cells weighted by their counts, so the row-level
   * checks (exact fit, memory plan from the formula) are the caller's
   */
  cells?: boolean;
  /**
   * share demeaned columns with other models of the same sample, FE, weights and settings
   * (multiple estimation: feolsMulti makes one; the same bits as demeaning them again)
   */
  demeanCache?: DemeanCache;
}

export interface CoefRow {
  name: string;
  estimate: number;
  se: number;
  t: number;
  p: number;
  ciLow: number;
  ciHigh: number;
}

export interface FitInternals {
  frame: Frame;
  sample: Sample;
  design: Pick<Design, "xNames" | "yName">;
  /** scores s_i = e_i x_i (weighted), n x k column-major; computed on first access */
  readonly scores: Float64Array;
  bread: Float64Array;
  feDof: number;
  hasIntercept: boolean;
  /** demeaned, weighted outcome and regressors (kept columns), for resampling; xTilde is
   * empty when the fit was made with keepData: false */
  yTilde: Float64Array;
  xTilde: Float64Array;
  residuals: Float64Array;
  weights: Float64Array | null;
  /** the panel id given to feols (NW / DK), reused by withVcov */
  panelId?: string[];
  /** the columns replaced through opts.override (referenced, not copied), for fixef / predict */
  override?: Record<string, Float64Array>;
  /**
   * set when columns of extreme magnitude were scaled by powers of two for the estimation:
   * the variance inputs in the scaled units (exact) and the factors c_j that turn a scaled
   * coefficient into the reported one (V_ab = V~_ab c_a c_b), for withVcov
   */
  scaled?: ScaledFit;
}

/** The variance inputs of a fit estimated on columns scaled by powers of two. */
export interface ScaledFit {
  bread: Float64Array;
  x: Float64Array;
  e: Float64Array;
  ssr: number;
  c: Float64Array;
}

/** The coefficient block of every estimator's result (feols, iv and its first stages, GLMs). */
export interface Coefficients {
  coefNames: string[];
  coef: Record<string, number>;
  se: Record<string, number>;
  pvalue: Record<string, number>;
  table: CoefRow[];
  vcovMatrix: Float64Array;
}

export interface Fit extends Coefficients {
  formula: string;
  parsed: Formula;
  tstat: Record<string, number>;
  coefVector: Float64Array;
  nobs: number;
  nobsOrigin: number;
  removed: Removed;
  collinear: string[];
  r2: number;
  adjR2: number;
  withinR2: number | null;
  rmse: number;
  ssr: number;
  tss: number;
  fixefSizes: Record<string, number>;
  iterations: number;
  converged: boolean;
  /** what the demeaning did (null without FE) */
  demean: DemeanReport | null;
  /** how the raw columns were held in WASM memory */
  storage: StorageReport;
  vcov: VcovSpec;
  vcovLabel: string;
  ssc: SscName;
  sscLabel: string;
  df: number;
  K: number;
  level: number;
  clusterSizes?: Record<string, number>;
  weights?: string;
  warnings: string[];
  internals: FitInternals;
}

export type { DemeanReport, StorageReport, PlanShape } from "../core/solve.js";
export { PLAN_SLACK } from "../core/solve.js";

const DEFAULTS = { fixefTol: 1e-8, fixefIter: 10000, collinTol: 1e-10, level: 0.95 };

export function defaultVcov(f: Formula): VcovSpec {
  if (f.fixef.length > 0) return { type: "cluster", vars: [f.fixef[0].vars.join("^")] };
  return { type: "iid" };
}

/** The estimation settings from the options, checked with the shared option schema (bindings/base/options.ts). */
export function feolsSettings(opts: FeolsOptions, f: Formula) {
  const vspec = opts.vcov === undefined ? defaultVcov(f) : parseVcov(opts.vcov);
  const sscName = parseSsc(opts.ssc);
  const tol = opts.fixefTol === undefined ? DEFAULTS.fixefTol : checkOption("fixefTol", opts.fixefTol);
  const maxIter = opts.fixefIter === undefined ? DEFAULTS.fixefIter : checkOption("fixefIter", opts.fixefIter);
  const collinTol = opts.collinTol === undefined ? DEFAULTS.collinTol : checkOption("collinTol", opts.collinTol);
  const level = opts.level === undefined ? DEFAULTS.level : checkOption("level", opts.level);
  const fixefAlgo = opts.fixefAlgo === undefined ? "auto" : checkChoice<DemeanAlgo>("fixefAlgo", opts.fixefAlgo);
  const threads = opts.threads === undefined ? 1 : checkOption("threads", opts.threads);
  const storage = opts.storage === undefined ? "f64" : checkChoice<"f64" | "f32">("storage", opts.storage);
  if (storage === "f32" && opts.keepData === true) {
    throw new OptionError("keepData: true needs the demeaned regressors, which float32 storage does not keep", undefined, 'use storage: "f64"');
  }
  if (opts.batch !== undefined) checkOption("batch", opts.batch);
  return { vspec, sscName, tol, maxIter, collinTol, level, fixefAlgo, threads, storage };
}

/**
 * Columns of extreme magnitude are scaled by powers of two (exact), the weights by an even
 * power so that their square roots are exact too; 1 (no scaling) in the ordinary range.
 */
function columnScales(
  design: ReturnType<typeof buildDesign>, sample: ReturnType<typeof prepareSample>, xNames: string[], addIntercept: boolean, f32: boolean,
) {
  const sy = pow2Scale(design.y, sample.rows, { f32 });
  const sx = Float64Array.from(xNames, (_, c) => (addIntercept && c === 0 ? 1 : pow2Scale(design.X[addIntercept ? c - 1 : c], sample.rows, { f32 })));
  const wRaw = design.weights ? gather(design.weights, sample.rows) : null;
  const sw = wRaw ? pow2Scale(wRaw, null, { even: true }) : 1;
  const w = wRaw && sw !== 1 ? wRaw.map((v) => v * sw) : wRaw;
  const scaledRun = sy !== 1 || sw !== 1 || sx.some((v) => v !== 1);
  return { sy, sx, wRaw, sw, w, scaledRun };
}

/** R2, adjusted and within R2, RMSE in reported units. */
export function fitStatistics(
  s: { ssr: number; tss: number; within0: number }, n: number, nparams: number, centred: boolean, hasFe: boolean, sw: number, sy: number,
) {
  const r2 = 1 - s.ssr / s.tss;
  const adjR2 = 1 - ((1 - r2) * (n - (centred ? 1 : 0))) / (n - nparams);
  const withinR2 = hasFe ? 1 - s.ssr / s.within0 : null;
  // fixest: sqrt(SSR / n), the SSR weighted when there are weights (not over the sum of
  // weights); in reported units the scaled run's SSR is divided by sy^2 sw
  const rmse = Math.sqrt(s.ssr / (sw * n)) / sy;
  return { r2, adjR2, withinR2, rmse };
}

/**
 * The kept data in the reported units (placebo, wild and compress read them); the variance
 * inputs in the scaled units stay in `scaled` for withVcov.
 */
function reportedUnits(
  s: { xTilde: Float64Array; bread: Float64Array; e: Float64Array; yTilde: Float64Array; ssr: number },
  scaledRun: boolean, sy: number, sw: number, sxk: number[], cj: Float64Array, n: number,
) {
  const { xTilde: xTildeS, bread, e } = s;
  const kf = sxk.length;
  const ue = 1 / (sy * Math.sqrt(sw));
  const xTilde = scaledRun ? unscaleCols(xTildeS, n, sxk.map((v) => Math.sqrt(sw) * v)) : xTildeS;
  const breadU = scaledRun ? bread.map((b, i) => b * sxk[i % kf] * sxk[Math.floor(i / kf)] * sw) : bread;
  const eU = scaledRun ? e.map((v) => v * ue) : e;
  const yTilde = scaledRun ? s.yTilde.map((v) => v * ue) : s.yTilde;
  const scaled: ScaledFit | undefined = scaledRun ? { bread, x: xTildeS, e, ssr: s.ssr, c: cj } : undefined;
  return { xTilde, breadU, eU, yTilde, scaled };
}

export function feols(eng: Engine, data: Table | Frame, formula: string | Formula, opts: FeolsOptions = {}): Fit {
  const frame = data instanceof Frame ? data : Frame.fromArrow(data);
  const f = typeof formula === "string" ? parseFormula(formula) : formula;
  const { vspec, sscName, tol, maxIter, collinTol, level, fixefAlgo, threads, storage } = feolsSettings(opts, f);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };

  const clusterVars = vspec.type === "cluster" ? vspec.vars : [];
  // a cluster variable may be an interacted FE name like "firm^year": resolve later
  const panelId = parsePanelId(opts.panelId);
  const hacCols = isHac(vspec) ? hacColumns(hacVars(vspec, panelId, frame.names)) : [];
  const extra = [...clusterVars.filter((v) => !v.includes("^")), ...hacCols, ...(opts.keepColumns ?? [])];
  const weighted = !!opts.weights;
  const hetero = vspec.type === "hetero";
  const clusterTerms = vspec.type === "cluster" ? 2 ** vspec.vars.length - 1 : 0;
  // memory plan from the formula and the level counts, before any regressor column is built
  // (the rows counted are those with every value present; singletons are removed later)
  if (!opts.cells) {
    const ds = designShape(frame, f, { weights: opts.weights, extra, override: opts.override });
    checkPlan(eng, { ...ds, weighted, hetero, clusterTerms }, storage);
  }
  const design = buildDesign(frame, f, { weights: opts.weights, extra, override: opts.override });
  const fixefRm = opts.fixefRm ?? "singleton";
  // models of a multiple estimation with the same rows and FE share one sample preparation
  const sample = opts.demeanCache ? opts.demeanCache.sample(design, fixefRm, () => prepareSample(design, fixefRm)) : prepareSample(design, fixefRm);
  const n = sample.n;

  const hasFe = sample.fe.length > 0;
  const addIntercept = !hasFe && f.intercept;
  const xNames = addIntercept ? ["(Intercept)", ...design.xNames] : design.xNames;
  const k = xNames.length;
  const Q = sample.fe.length;
  const { sy, sx, wRaw, sw, w, scaledRun } = columnScales(design, sample, xNames, addIntercept, storage === "f32");

  // memory plan on the sample: what the chosen storage needs at the least, checked before allocating
  const slopes = sample.fe.filter((d) => d.slope).length;
  const need = checkPlan(eng, {
    n, k, Q, slopes, weighted, hetero, clusterTerms,
    feCells: sample.fe.reduce((acc, d) => acc + d.levels * (d.type === 2 ? 2 : 1), 0),
  }, storage);
  eng.reserve(need); // one memory.grow to the plan
  refreshPlacedViews(design); // columns the reader placed in WASM memory: views rebuilt after the grow

  return eng.scoped(() => {
    const ctx: SolveContext = {
      eng, f, design, sample, n, xNames, addIntercept, tol, maxIter, fixefAlgo, threads, collinTol, w,
      scale: scaledRun ? { y: sy, x: sx } : undefined,
      keepData: opts.keepData, lowMemory: opts.lowMemory, batch: opts.batch, strictConvergence: opts.strictConvergence, warn,
      demeanCache: opts.demeanCache,
    };
    const s = storage === "f32" ? solveF32(ctx) : solveF64(ctx);
    const { names, beta: betaS, bread, collinear, e, iterations, converged, demean } = s;
    const kf = names.length;
    const xTildeS = s.xTilde;
    // c_j turns a scaled coefficient into the reported one; ssr, tss scale by 1 / (sy^2 sw)
    const sxk = names.map((nm) => sx[xNames.indexOf(nm)]);
    const cj = Float64Array.from(sxk, (v) => v / sy);
    const uss = 1 / (sy * sy * sw);
    const ssr = s.ssr * uss;
    const tss = s.tss * uss;

    // ---- fit statistics
    const feDof = fixefDof(sample);
    const nparams = kf + feDof;
    if (!opts.cells) exactFitCheck(n, kf, feDof);
    const { r2, adjR2, withinR2, rmse } = fitStatistics(s, n, nparams, f.intercept || hasFe, hasFe, sw, sy);

    const clusters = clusterCodes(frame, sample, vspec);
    const inputs: VcovInputs = {
      n, k: kf, bread, x: xTildeS, e, ptrs: s.xPtr ? { x: s.xPtr, e: s.ePtr } : undefined, ssr: s.ssr,
      fe: sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type })),
      feDof, clusters, hasIntercept: addIntercept, meats: s.meats, hac: isHac(vspec) ? hacData(frame, sample, vspec, panelId) : undefined,
    };
    const vres = computeVcov(eng, inputs, vspec, sscName);
    if (vres.eigenFixed) warn("the multi-way clustered variance was not positive semi-definite: eigenvalues floored");
    const beta = scaledRun ? betaS.map((b, j) => b * cj[j]) : betaS;
    const V = scaledRun ? unscaleV(vres.V, cj) : vres.V;
    if (!opts.cells) assertFinite(names, beta, V, { y: f.lhs, sy, sx: sxk });
    if (scaledRun && !(Number.isFinite(ssr) && Number.isFinite(tss))) {
      warn(
        `the sum of squares exceeds the float64 range (${sw !== 1 ? `weights "${opts.weights}"` : `outcome "${f.lhs}"`} of extreme magnitude): ` +
          "SSR and TSS are reported as Infinity; coefficients, standard errors and R2 were computed on exactly rescaled columns",
      );
    }
    // the kept data in the reported units (placebo, wild and compress read them); the
    // variance inputs in the scaled units stay in `scaled` for withVcov
    const { xTilde, breadU, eU, yTilde, scaled } = reportedUnits(s, scaledRun, sy, sw, sxk, cj, n);

    // Post-fit transformations of the coefficient table (Sun-Abraham aggregation) hook in here
    // through the registry: they receive names, beta and V and return the reported ones.
    const post = applyPostFit(f, design, sample.rows, w, { names, beta, V, xTilde, bread: breadU, feDof }, warn);
    const fit: Fit = assembleFit({
      f, names: post.names, beta: post.beta, V: post.V, df: vres.df, level, n, sample, collinear, r2, adjR2, withinR2, rmse, ssr, tss,
      iterations, converged, demean, storage: s.storage, vspec, vlabel: vres.label, sscName, K: vres.K, G: vres.G, warnings,
      weights: opts.weights,
      internals: {
        frame, sample, design: { xNames: design.xNames, yName: design.yName }, bread: post.bread, feDof: post.feDof,
        hasIntercept: addIntercept, yTilde, xTilde: post.xTilde, residuals: eU, weights: wRaw, panelId, override: opts.override,
        scaled: post.names === names ? scaled : undefined,
        get scores() {
          return scoresOf(post.xTilde, eU, n, post.names.length);
        },
      },
    });
    return fit;
  });
}

/** Refuse a model before its design is built, or on its sample, when the memory plan exceeds the limit. */
function checkPlan(eng: Engine, shape: PlanShape, storage: "f64" | "f32"): number {
  const n = shape.n;
  const k = shape.k;
  const f32Need = planF32(shape);
  const need = storage === "f32" ? f32Need : planMemory(shape);
  if (need > WASM_MAX_BYTES - eng.usedBytes) {
    const alt = storage === "f64" ? f32Need : Infinity;
    const options = [
      "use fewer regressors",
      "a subsample (e.g. by period)",
      ...(alt <= WASM_MAX_BYTES - eng.usedBytes
        ? [`--float32 (storage: "f32": raw columns rounded to float32, about ${fmtBytes(alt)}, ${Math.round((alt - PLAN_SLACK) / n)} bytes per row)`]
        : []),
      "--compress (feolsCompressed: cells of identical rows, exact) when regressors are discrete and rows repeat",
      "or --engine duckdb (feolsSql: out of core, the data stays in DuckDB, any number of rows)",
    ];
    throw new WasmMemoryError(
      `this model needs about ${fmtBytes(need)} of WASM memory (${n.toLocaleString("en-US")} rows x ${k + 1} numeric columns` +
        `${storage === "f32" ? " in float32" : ""}, ${Math.round((need - PLAN_SLACK) / n)} bytes per row) but one instance holds at most ${fmtBytes(WASM_MAX_BYTES)}`,
      { need, limit: WASM_MAX_BYTES, rows: n, columns: k + 1, bytesPerRow: (need - PLAN_SLACK) / n, storage, float32Need: alt },
      options.join(", "),
    );
  }
  return need;
}

/** n <= K: the fit is exact and no variance can be estimated (lm gives NaN standard errors). */
export function exactFitCheck(n: number, kf: number, feDof: number): void {
  if (n > kf + feDof) return;
  throw new SampleError(
    `${n.toLocaleString("en-US")} observations for ${kf + feDof} parameters (${kf} regressors` +
      (feDof ? ` + ${feDof} fixed-effect coefficients` : "") + "): no residual degrees of freedom, the fit is exact and has no standard errors",
    { n, parameters: kf + feDof },
    "use more observations or fewer regressors / fixed effects",
  );
}

/** V_ab c_a c_b: a variance of scaled coefficients in the reported units. */
export function unscaleV(V: Float64Array, c: ArrayLike<number>): Float64Array {
  const k = c.length;
  const out = new Float64Array(V.length);
  for (let b = 0; b < k; b++) for (let a = 0; a < k; a++) out[a + b * k] = V[a + b * k] * c[a] * c[b];
  return out;
}

function unscaleCols(x: Float64Array, n: number, div: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let a = 0; a < div.length && (a + 1) * n <= x.length; a++) for (let i = 0; i < n; i++) out[a * n + i] = x[a * n + i] / div[a];
  return out;
}

/**
 * A coefficient or variance that is not finite (overflow of the reported units) is an error
 * naming the columns responsible, never a NaN in a table.
 */
export function assertFinite(names: string[], beta: ArrayLike<number>, V: ArrayLike<number>, sc?: { y: string; sy: number; sx: number[] }): void {
  const k = names.length;
  const bad: number[] = [];
  for (let j = 0; j < k; j++) {
    let ok = Number.isFinite(beta[j]);
    for (let a = 0; a < k && ok; a++) ok = Number.isFinite(V[a + j * k]);
    if (!ok) bad.push(j);
  }
  if (!bad.length) return;
  const cols = bad.map((j) => `"${names[j]}"`).slice(0, 5).join(", ") + (bad.length > 5 ? `, ... (${bad.length})` : "");
  const mag = (s: number) => `about 1e${Math.round(-Math.log10(s))}`;
  const why = sc && sc.sy !== 1 ? ` (the outcome "${sc.y}" has values of ${mag(sc.sy)})` :
    sc && bad.some((j) => sc.sx[j] !== 1) ? ` (values of ${mag(sc.sx[bad.find((j) => sc.sx[j] !== 1)!])})` : "";
  throw new ColumnError(
    `the estimate or variance of ${cols} is not finite in float64${why}: the numbers overflow`,
    { columns: bad.map((j) => names[j]) },
    "rescale the columns named (e.g. divide by a power of ten) and the coefficients with them",
  );
}

/**
 * Bytes of WASM memory a model in float64 storage needs at the least (the QR runs in place
 * when a copy does not fit, the demeaning batches its columns): model matrix, QR rhs,
 * residuals, weights, slopes, FE codes, one column's demeaning scratch.
 */
export function planMemory(s: PlanShape): number {
  const { n, k, Q } = s;
  return n * 8 * (k + 1 + 2 + (s.weighted ? 2 : 0) + (s.slopes ?? 0)) + n * 4 * Q + demeanScratchPlan(s.feCells) + PLAN_SLACK;
}

/**
 * The plan of planMemory on rows known before the data is read (the CLI's engine choice: a
 * file's row count or estimate, `estimated` saying how): the bytes, or a WasmMemoryError above
 * `limit` naming the out-of-core engine that fits such a model.
 */
export function planBeforeReading(shape: PlanShape, limit: number, estimated = ""): number {
  if (!(limit > 0)) throw new OptionError(`the WASM memory limit must be a positive number of bytes, got ${limit}`);
  const need = planMemory(shape);
  if (need <= limit) return need;
  const perRow = Math.round((need - PLAN_SLACK) / Math.max(1, shape.n));
  throw new WasmMemoryError(
    `the model needs about ${fmtBytes(need)} of WASM memory for ${Math.round(shape.n).toLocaleString("en-US")} rows` +
      `${estimated ? ` (${estimated})` : ""} x ${shape.k + 1} numeric columns (${perRow} bytes a row), over the limit of ${fmtBytes(limit)}`,
    { need, limit, rows: shape.n, columns: shape.k + 1, bytesPerRow: perRow },
    "fit it out of core with --engine duckdb (the data stays in DuckDB; --engine auto does so by itself), --float32, or a subsample",
  );
}

/** Degrees of freedom used by the fixed effects (fixef.K = "full"). */
export function fixefDof(s: Sample): number {
  let dof = 0;
  let plain = 0;
  for (const d of s.fe) {
    if (d.type === 0) {
      dof += d.levels;
      plain++;
    } else if (d.type === 1) dof += d.levels;
    else {
      dof += 2 * d.levels;
      plain++;
    }
  }
  // each plain FE beyond the first has one level redundant with the others (connected panel)
  if (plain > 1) dof -= plain - 1;
  return dof;
}

export function clusterCodes(frame: Frame, sample: Sample, v: VcovSpec): Record<string, { codes: Int32Array; G: number }> {
  const out: Record<string, { codes: Int32Array; G: number }> = {};
  if (v.type !== "cluster") return out;
  for (const name of v.vars) {
    const fe = sample.fe.find((d) => d.name === name);
    if (fe && fe.type !== 1) {
      out[name] = { codes: fe.codes, G: fe.levels };
      continue;
    }
    if (name.includes("^")) {
      const parts = name.split("^").map((p) => {
        const c = frame.codes(p);
        return recode(c.codes, sample.rows, c.levels.length).codes;
      });
      out[name] = intersectCodes(parts);
      continue;
    }
    const c = frame.codes(name);
    const r = recode(c.codes, sample.rows, c.levels.length);
    out[name] = { codes: r.codes, G: r.levels };
  }
  return out;
}

export function scoresOf(x: Float64Array, e: Float64Array, n: number, k: number): Float64Array {
  const s = new Float64Array(n * k);
  for (let a = 0; a < k; a++) for (let i = 0; i < n; i++) s[a * n + i] = x[a * n + i] * e[i];
  return s;
}

export interface AssembleArgs {
  f: Formula;
  names: string[];
  beta: Float64Array;
  V: Float64Array;
  df: number;
  level: number;
  n: number;
  sample: Sample;
  collinear: string[];
  r2: number;
  adjR2: number;
  withinR2: number | null;
  rmse: number;
  ssr: number;
  tss: number;
  iterations: number;
  converged: boolean;
  demean: DemeanReport | null;
  storage?: StorageReport;
  vspec: VcovSpec;
  vlabel: string;
  sscName: SscName;
  K: number;
  G?: Record<string, number>;
  warnings: string[];
  weights?: string;
  internals: FitInternals;
}

export function assembleFit(a: AssembleArgs): Fit {
  const k = a.names.length;
  const crit = qt(1 - (1 - a.level) / 2, a.df);
  const table: CoefRow[] = a.names.map((name, j) => {
    const est = a.beta[j];
    const se = Math.sqrt(a.V[j + j * k]);
    const t = est / se;
    return { name, estimate: est, se, t, p: pval2(t, a.df), ciLow: est - crit * se, ciHigh: est + crit * se };
  });
  const rec = (key: keyof CoefRow) => Object.fromEntries(table.map((r) => [r.name, r[key] as number]));
  const fixefSizes: Record<string, number> = {};
  for (const d of a.sample.fe) fixefSizes[d.name] = d.levels;
  const removedTotal = a.sample.removed.na + a.sample.removed.singletons + a.sample.removed.zeroWeight;
  const fit: Fit = {
    formula: a.f.text,
    parsed: a.f,
    coefNames: a.names,
    coef: rec("estimate"),
    se: rec("se"),
    tstat: rec("t"),
    pvalue: rec("p"),
    table,
    coefVector: a.beta,
    vcovMatrix: a.V,
    nobs: a.n,
    nobsOrigin: a.n + removedTotal,
    removed: a.sample.removed,
    collinear: a.collinear,
    r2: a.r2,
    adjR2: a.adjR2,
    withinR2: a.withinR2,
    rmse: a.rmse,
    ssr: a.ssr,
    tss: a.tss,
    fixefSizes,
    iterations: a.iterations,
    converged: a.converged,
    demean: a.demean,
    storage: a.storage ?? { type: "f64" },
    vcov: a.vspec,
    vcovLabel: a.vlabel,
    ssc: a.sscName,
    sscLabel: SSC[a.sscName].label,
    df: a.df,
    K: a.K,
    level: a.level,
    clusterSizes: a.G,
    weights: a.weights,
    warnings: a.warnings,
    internals: a.internals,
  };
  return Object.freeze(fit);
}

/** FeolsOptions.panelId as columns: "firm,year" (or "firm + year") -> ["firm", "year"]. */
export function parsePanelId(p: string[] | string | undefined): string[] | undefined {
  return typeof p === "string" ? p.split(/[,+~\s]+/).filter(Boolean) : p;
}

/** Recompute the variance of a fit under another vcov / convention, without refitting. */
export function withVcov(eng: Engine, fit: Fit, vcov: string | VcovSpec, ssc?: SscName | string, level?: number): Fit {
  const vspec = parseVcov(vcov);
  const sscName = parseSsc(ssc ?? fit.ssc);
  const I = fit.internals;
  if (I.xTilde.length !== fit.nobs * fit.coefNames.length) {
    throw new OptionError(
      `this fit was made ${fit.storage.type === "f32" ? 'with storage: "f32"' : "with keepData: false (large data)"}, so its variance cannot be recomputed`,
      undefined,
      "refit with keepData: true, or pass the vcov you want to feols directly",
    );
  }
  if (vspec.type === "cluster") {
    for (const v of vspec.vars) {
      for (const p of v.split("^")) {
        if (!I.frame.has(p)) I.frame.codes(p); // throws the named ColumnError
        const c = I.frame.codes(p).codes;
        for (let j = 0; j < I.sample.n; j++) {
          if (c[I.sample.rows[j]] < 0) {
            throw new OptionError(
              `cluster variable "${p}" is missing in rows of the estimation sample; refit with keepColumns: ["${p}"]`,
            );
          }
        }
      }
    }
  }
  // a fit on rescaled columns recomputes its variance in the scaled units (exact), then unscales
  const S = I.scaled;
  const inputs: VcovInputs = {
    n: fit.nobs, k: fit.coefNames.length, bread: S ? S.bread : I.bread, x: S ? S.x : I.xTilde, e: S ? S.e : I.residuals, ssr: S ? S.ssr : fit.ssr,
    fe: I.sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type })),
    feDof: I.feDof, clusters: clusterCodes(I.frame, I.sample, vspec), hasIntercept: I.hasIntercept,
    hac: isHac(vspec) ? hacData(I.frame, I.sample, vspec, I.panelId) : undefined,
  };
  const vres = computeVcov(eng, inputs, vspec, sscName);
  const V = S ? unscaleV(vres.V, S.c) : vres.V;
  assertFinite(fit.coefNames, fit.coefVector, V);
  return assembleFit({
    f: fit.parsed, names: fit.coefNames, beta: fit.coefVector, V, df: vres.df, level: level ?? fit.level,
    n: fit.nobs, sample: I.sample, collinear: fit.collinear, r2: fit.r2, adjR2: fit.adjR2, withinR2: fit.withinR2,
    rmse: fit.rmse, ssr: fit.ssr, tss: fit.tss, iterations: fit.iterations, converged: fit.converged, demean: fit.demean,
    storage: fit.storage, vspec,
    vlabel: vres.label, sscName, K: vres.K, G: vres.G, warnings: [...fit.warnings], weights: fit.weights, internals: I,
  });
}
