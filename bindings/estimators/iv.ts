// iv: two-stage least squares with fixed effects, as fixest's feols(y ~ exo | fe | endo ~ inst).
//   parse -> design (outcome, exogenous, endogenous, instruments: one design, one NA mask)
//   -> sample -> load [y | W | E | Z] into WASM -> demean every column ONCE -> sqrt-weights
//   -> first stages E ~ Z + W (QR) -> second stage y ~ fit_E + W (QR) -> structural residuals
//   y - [E W] b -> the vcov of core/vcov.ts (feols' every type and convention) -> fit statistics.
// The fit statistics and first-stage tables are in iv-stats.ts (they are recomputed by
// ivWithVcov when the vcov changes).
import type { Table } from "apache-arrow";
import type { Engine } from "../engine/wasm.js";
import { WASM_MAX_BYTES, fmtBytes } from "../engine/wasm.js";
import { Frame } from "../core/frame.js";
import type { Formula, Term } from "../core/formula.js";
import { buildDesign } from "../core/design.js";
import { prepareSample, type Sample } from "../core/sample.js";
import { check, type DemeanAlgo } from "../engine/kernels.js";
import { loadFeDims, runDemean, demeanReport, sumsOfSquares, putSqrtWeights, demeanScratchPlan, PLAN_SLACK, type SolveContext, type DemeanReport } from "../core/solve.js";
import { computeVcov, parseVcov, parseSsc, isHac, type VcovSpec, type SscName, type VcovInputs } from "../core/vcov.js";
import { hacData, hacVars, hacColumns } from "../core/hac.js";
import { parseIvFormula, instName, type IvFormula } from "../core/iv-formula.js";
import { SampleError, WasmMemoryError } from "../base/errors.js";
import { checkChoice, checkOption } from "../base/options.js";
import { assembleFit, assertFinite, clusterCodes, defaultVcov, exactFitCheck, fixefDof, parsePanelId, withVcov, type FeolsOptions, type Fit } from "./feols.js";
import { qrLs, residW, minus, flat, dot } from "./iv-linalg.js";
import { stageStats, fixedStats, weakWarnings, type IvInfo, type IvBase } from "./iv-stats.js";

export type { IvInfo, FirstStage, FTest, IvFitstat } from "./iv-stats.js";

/**
 * feols' options that 2SLS takes (same defaults: clustered by the first FE, singletons removed), plus weakF.
 * NW / DK / Conley (with panelId for NW / DK) are computed as fixest does for IV: the
 * second-stage design (fitted endogenous columns) and the structural residuals; the first
 * stages use the same variance.
 */
export interface IvOptions
  extends Pick<FeolsOptions, "vcov" | "panelId" | "ssc" | "weights" | "fixefRm" | "fixefTol" | "fixefIter" | "fixefAlgo" | "threads" | "collinTol" | "level" | "keepColumns" | "onWarning" | "strictConvergence"> {
  /** first-stage F under which the instruments are reported weak (default 10) */
  weakF?: number;
}

export interface IvFit extends Fit {
  iv: IvInfo;
  /** what ivWithVcov needs: the demeaned first-stage regressors and residuals */
  ivBase: IvBase;
}

const DEFAULTS = { fixefTol: 1e-8, fixefIter: 10000, collinTol: 1e-10, level: 0.95, weakF: 10 };

/** Bytes of WASM memory an IV fit needs at the least (the demeaned block, QR copies, scratch). */
export function planIv(n: number, cols: number, Q: number, feCells: number, weighted: boolean): number {
  return n * 8 * (2 * cols + 4 + (weighted ? 2 : 0)) + n * 4 * Q + demeanScratchPlan(feCells) + PLAN_SLACK;
}

/** The demeaned columns a 2SLS solves on: outcome, exogenous, endogenous, instruments. */
interface IvColumns { y: Float64Array; W: Float64Array[]; E: Float64Array[]; Z: Float64Array[] }

/** First stages E_j ~ Z + W and the second stage y ~ fit_E + W, by QR; names of dropped columns go to collinear. */
function twoStages(
  eng: Engine, n: number, cols: IvColumns, nm: { wNames: string[]; instNames: string[]; endo: string[]; addIntercept: boolean },
  collinTol: number, collinear: string[],
) {
  const { y, W, E, Z } = cols;
  const { wNames, instNames, addIntercept } = nm;
  const p = nm.endo.length;
  // ---- first stages: E_j ~ Z + W (fixest's order: the intercept first, instruments, exogenous)
  const icpt = addIntercept && wNames[0] === "(Intercept)";
  const aCols = icpt ? [W[0], ...Z, ...W.slice(1)] : [...Z, ...W];
  const aNamesAll = icpt ? [wNames[0], ...instNames, ...wNames.slice(1)] : [...instNames, ...wNames];
  const first = nm.endo.map((_, j) => qrLs(eng, n, aCols, E[j], collinTol));
  const aKeep = first[0].keep;
  const A = aCols.filter((_, c) => aKeep[c]);
  const aNames = aNamesAll.filter((_, c) => aKeep[c]);
  for (const nm of aNamesAll.filter((_, c) => !aKeep[c])) collinear.push(nm);
  const instKept = instNames.filter((nm) => aNames.includes(nm));
  requireIdentified(p, instNames, instKept);
  const vres = first.map((fs) => fs.e); // first-stage residuals
  const fits = vres.map((v, j) => minus(E[j], v)); // A pi

  // ---- second stage: y ~ fit_E + W (intercept first)
  const fitNames = nm.endo.map((e) => `fit_${e}`);
  const xCols = icpt ? [W[0], ...fits, ...W.slice(1)] : [...fits, ...W];
  const xNames = icpt ? [wNames[0], ...fitNames, ...wNames.slice(1)] : [...fitNames, ...wNames];
  const strCols = icpt ? [W[0], ...E, ...W.slice(1)] : [...E, ...W];
  const second = qrLs(eng, n, xCols, y, collinTol, true);
  const lost = xNames.filter((_, c) => !second.keep[c]);
  if (lost.some((nm) => fitNames.includes(nm))) {
    throw new SampleError(`the instrumented regressor${lost.length > 1 ? "s" : ""} ${lost.join(", ")} ${lost.length > 1 ? "are" : "is"} collinear with the exogenous regressors in the second stage`, { collinear: lost });
  }
  for (const nm of lost) collinear.push(nm);
  const X = xCols.filter((_, c) => second.keep[c]);
  const coefNames = xNames.filter((_, c) => second.keep[c]);
  const S = strCols.filter((_, c) => second.keep[c]);
  const e = residW(eng, n, S, y, second.beta); // structural residuals (sqrt-weighted)
  const ssr = dot(e, e);
  return { icpt, first, A, aNames, instKept, vres, fitNames, second, X, coefNames, S, e, ssr };
}

export function iv(eng: Engine, data: Table | Frame, formula: string | IvFormula, opts: IvOptions = {}): IvFit {
  const frame = data instanceof Frame ? data : Frame.fromArrow(data);
  const ivf = typeof formula === "string" ? parseIvFormula(formula) : formula;
  const f = ivf.main;
  const { vspec, sscName, tol, level, collinTol, fixefAlgo, threads } = checkOptions(f, opts);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };

  // one design for every column: the NA mask, singletons and weights are shared
  const endoTerms: Term[] = ivf.endo.map((name) => ({ kind: "var", name, pos: 0 }));
  const all: Formula = { ...f, terms: [...f.terms, ...endoTerms, ...ivf.inst] };
  const clusterVars = vspec.type === "cluster" ? vspec.vars : [];
  const panelId = parsePanelId(opts.panelId);
  const hacCols = isHac(vspec) ? hacColumns(hacVars(vspec, panelId, frame.names)) : [];
  const extra = [...clusterVars.filter((v) => !v.includes("^")), ...hacCols, ...(opts.keepColumns ?? [])];
  const design = buildDesign(frame, all, { weights: opts.weights, extra });
  const sample = prepareSample(design, opts.fixefRm ?? "singleton");
  const n = sample.n;
  const p = ivf.endo.length;
  const q = ivf.inst.length;
  const hasFe = sample.fe.length > 0;
  const addIntercept = !hasFe && f.intercept;
  const kx = design.xNames.length - p - q;
  const exoNames = [...(addIntercept ? ["(Intercept)"] : []), ...design.xNames.slice(0, kx)];
  const instNames = ivf.inst.map(instName);
  const names = [...exoNames, ...ivf.endo, ...instNames];
  const K1 = 1 + names.length;
  const Q = sample.fe.length;
  checkMemory(eng, sample, K1, !!design.weights);
  const w = design.weights ? Float64Array.from(sample.rows, (r) => design.weights![r]) : null;

  const ctx: SolveContext = {
    eng, f, design, sample, n, xNames: names, addIntercept, tol, maxIter: opts.fixefIter ?? DEFAULTS.fixefIter, fixefAlgo, threads,
    collinTol, w, strictConvergence: opts.strictConvergence, warn,
  };
  // null: the intercept, a column of ones written straight into the arena block
  const load = (c: number): Float64Array | null => {
    if (c === 0) return design.y;
    if (addIntercept && c === 1) return null;
    return design.X[c - 1 - (addIntercept ? 1 : 0)];
  };
  const demeaned = eng.scoped(() => demeanAll(ctx, K1, load, !!w));
  const { cols, pre, within, iterations, converged, demean, raw } = demeaned;

  const collinear: string[] = [];
  const keepExo = screenAbsorbed(names, exoNames.length, p, pre, within, hasFe, collinTol, f.lhs, collinear);
  const y = cols[0];
  const W = keepExo.map((c) => cols[c + 1]);
  const E = ivf.endo.map((_, j) => cols[1 + exoNames.length + j]);
  const Z = instNames.map((_, l) => cols[1 + exoNames.length + p + l]);
  const wNames = keepExo.map((c) => exoNames[c]);

  const st = twoStages(eng, n, { y, W, E, Z }, { wNames, instNames, endo: ivf.endo, addIntercept }, collinTol, collinear);
  const { first, A, aNames, instKept, vres, fitNames, second, X, coefNames, e, ssr } = st;
  const kf = coefNames.length;
  const feDof = fixefDof(sample);
  exactFitCheck(n, kf, feDof);
  const nparams = kf + feDof;

  const fe = sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type }));
  const clusters = clusterCodes(frame, sample, vspec);
  const hac = isHac(vspec) ? hacData(frame, sample, vspec, panelId) : undefined;
  const inputs: VcovInputs = { n, k: kf, bread: second.bread, x: flat(X, n), e, ssr, fe, feDof, clusters, hasIntercept: addIntercept, hac };
  const v2 = computeVcov(eng, inputs, vspec, sscName);
  if (v2.eigenFixed) warn("the multi-way clustered variance was not positive semi-definite: eigenvalues floored");
  assertFinite(coefNames, second.beta, v2.V);

  const base: IvBase = {
    n, feDof, fe, hasIntercept: addIntercept, endo: ivf.endo, instNames: instKept, aNames, A, aFlat: flat(A, n),
    breadA: first[0].bread, firstBeta: first.map((fs) => fs.beta), firstResid: vres,
    firstSsr: vres.map((v) => dot(v, v)), firstTss: ivf.endo.map((_, j) => pre[1 + exoNames.length + j]),
    firstWithin: ivf.endo.map((_, j) => within[1 + exoNames.length + j]),
    mainText: fixefText(f), fitNames, ssrIv: second.ssr, level,
    fixed: fixedStats(eng, {
      n, y, E, X, e, coefNames, fitNames, A, breadA: first[0].bread, nparams, collinTol, q: instKept.length, w,
      cd: cdColumns(raw ?? cols, exoNames.length, keepExo, p, instNames, instKept),
    }),
  };
  const r2 = 1 - ssr / pre[0];
  const fit = assembleFit({
    f, names: coefNames, beta: second.beta, V: v2.V, df: v2.df, level, n, sample, collinear, r2,
    adjR2: 1 - ((1 - r2) * (n - (f.intercept || hasFe ? 1 : 0))) / (n - nparams),
    withinR2: hasFe ? 1 - ssr / within[0] : null, rmse: Math.sqrt(ssr / n), ssr, tss: pre[0],
    iterations, converged, demean, vspec, vlabel: v2.label, sscName, K: v2.K, G: v2.G, warnings, weights: opts.weights,
    internals: {
      frame, sample, design: { xNames: design.xNames, yName: design.yName }, bread: second.bread, feDof, hasIntercept: addIntercept,
      yTilde: y, xTilde: inputs.x, residuals: e, weights: w, panelId,
      get scores() {
        const s = new Float64Array(n * kf);
        for (let a = 0; a < kf; a++) for (let i = 0; i < n; i++) s[a * n + i] = inputs.x[a * n + i] * e[i];
        return s;
      },
    },
  });
  const info = stageStats(eng, base, fit, clusters, vspec, sscName, hac);
  weakWarnings(info, opts.weakF ?? DEFAULTS.weakF, warn);
  return Object.freeze({ ...fit, formula: ivf.text, warnings: [...warnings], iv: info, ivBase: base });
}

/** Refuse a model whose memory plan exceeds what one WASM instance holds; else reserve it at once. */
function checkMemory(eng: Engine, sample: Sample, K1: number, weighted: boolean): void {
  const n = sample.n;
  const Q = sample.fe.length;
  const feCells = sample.fe.reduce((acc, d) => acc + d.levels * (d.type === 2 ? 2 : 1), 0);
  const need = planIv(n, K1, Q, feCells, weighted);
  if (need > WASM_MAX_BYTES - eng.usedBytes) {
    throw new WasmMemoryError(
      `this IV model needs about ${fmtBytes(need)} of WASM memory (${n.toLocaleString("en-US")} rows x ${K1} columns) but one instance holds at most ${fmtBytes(WASM_MAX_BYTES)}`,
      { need, limit: WASM_MAX_BYTES, rows: n, columns: K1 },
      "use fewer regressors or instruments, or a subsample",
    );
  }
  eng.reserve(need);
}

/** Fewer instruments left (after collinearity) than endogenous regressors: under-identified. */
function requireIdentified(p: number, instNames: string[], instKept: string[]): void {
  if (instKept.length < p) {
    throw new SampleError(
      `under-identified: ${p} endogenous regressor${p > 1 ? "s" : ""} but ${instKept.length} instrument${instKept.length === 1 ? "" : "s"} left ` +
        `(${instNames.filter((nm) => !instKept.includes(nm)).join(", ")} collinear with the exogenous regressors or the fixed effects)`,
      { instruments: instNames, kept: instKept }, "add instruments or remove endogenous regressors",
    );
  }
}

/** The options, checked (as feols checks them). */
function checkOptions(f: Formula, opts: IvOptions) {
  const vspec = opts.vcov === undefined ? defaultVcov(f) : parseVcov(opts.vcov);
  const sscName = parseSsc(opts.ssc);
  // the option schema shared with feols and the CLI (bindings/base/options.ts)
  const tol = opts.fixefTol === undefined ? DEFAULTS.fixefTol : checkOption("fixefTol", opts.fixefTol);
  const level = opts.level === undefined ? DEFAULTS.level : checkOption("level", opts.level);
  const collinTol = opts.collinTol === undefined ? DEFAULTS.collinTol : checkOption("collinTol", opts.collinTol);
  const fixefAlgo = opts.fixefAlgo === undefined ? "auto" : checkChoice<DemeanAlgo>("fixefAlgo", opts.fixefAlgo);
  const threads = opts.threads === undefined ? 1 : checkOption("threads", opts.threads);
  if (opts.fixefIter !== undefined) checkOption("fixefIter", opts.fixefIter);
  if (opts.fixefRm !== undefined) checkChoice("fixefRm", opts.fixefRm);
  return { vspec, sscName, tol, level, collinTol, fixefAlgo, threads };
}

/**
 * Columns absorbed by the FE (or zero): exogenous ones are dropped and named in `collinear`
 * (as feols), an absorbed endogenous regressor or instrument is an error; a constant outcome
 * too. Returns the indices (into `names`) of the exogenous columns kept.
 */
function screenAbsorbed(
  names: string[], kExo: number, p: number, pre: Float64Array, within: Float64Array, hasFe: boolean, collinTol: number, lhs: string,
  collinear: string[],
): number[] {
  if (hasFe && within[0] <= 1e-20 * Math.max(pre[0], 1e-300)) {
    throw new SampleError(`the outcome "${lhs}" is constant within the fixed effects: nothing left to explain`, { outcome: lhs });
  }
  const keepExo: number[] = [];
  names.forEach((nm, c) => {
    const absorbed = within[c + 1] === 0 || (hasFe && (pre[c + 1] === 0 || within[c + 1] <= collinTol * pre[c + 1]));
    if (!absorbed) {
      if (c < kExo) keepExo.push(c);
      return;
    }
    if (c < kExo) collinear.push(nm);
    else {
      const role = c < kExo + p ? "endogenous regressor" : "instrument";
      throw new SampleError(
        `the ${role} "${nm}" ${hasFe ? "is constant within the fixed effects (absorbed by them)" : "is zero in every row"}: it cannot be used`,
        { column: nm }, "check the column or the fixed effects",
      );
    }
  });
  return keepExo;
}

/** Endogenous, kept instruments and kept exogenous columns of a demeaned block [y | exo | endo | inst]. */
function cdColumns(cols: Float64Array[], kExo: number, keepExo: number[], p: number, instNames: string[], instKept: string[]) {
  return {
    E: Array.from({ length: p }, (_, j) => cols[1 + kExo + j]),
    Z: instKept.map((nm) => cols[1 + kExo + p + instNames.indexOf(nm)]),
    W: keepExo.map((c) => cols[c + 1]),
  };
}

/** The FE part of a formula as written after "|" ("" without FE). */
function fixefText(f: Formula): string {
  const bar = f.text.indexOf("|");
  return bar < 0 ? "" : f.text.slice(bar + 1).trim();
}

interface Demeaned {
  /** columns 0..K1-1 demeaned (weighted) and multiplied by sqrt(w) */
  cols: Float64Array[];
  pre: Float64Array;
  within: Float64Array;
  iterations: number;
  converged: boolean;
  demean: DemeanReport | null;
  /** with weights: the same columns demeaned without weights (Cragg-Donald, as fixest); the outcome's slot is empty */
  raw: Float64Array[] | null;
}

/**
 * Load the K1 columns on the sample rows, demean them together once, scale by sqrt(w). With
 * weights, the columns 1..K1-1 (not the outcome: Cragg-Donald does not use it) are also
 * demeaned without weights.
 */
function demeanAll(ctx: SolveContext, K1: number, load: (c: number) => Float64Array | null, unweightedToo: boolean): Demeaned {
  const { eng, sample, n, w } = ctx;
  const rows = sample.rows;
  const mPtr = eng.allocF64(n * K1, "IV columns");
  const identity = n === ctx.design.n; // no row removed: plain copies
  const fill = (ptr: number, from: number) => {
    const M = eng.f64(ptr, n * (K1 - from));
    for (let c = from; c < K1; c++) {
      const src = load(c), o = (c - from) * n;
      if (!src) M.fill(1, o, o + n);
      else if (identity) M.set(src, o);
      else for (let j = 0; j < n; j++) M[o + j] = src[rows[j]];
    }
  };
  fill(mPtr, 0);
  const wPtr = w ? eng.putF64(w, "weights") : 0;
  const pre = sumsOfSquares(eng, mPtr, n, K1, wPtr, true);
  let iterations = 0;
  let converged = true;
  let demean: DemeanReport | null = null;
  const Q = sample.fe.length;
  const run = (ptr: number, wp: number, K: number) => eng.scoped(() => runDemean(ctx, loadFeDims(eng, sample, wp), K, ptr, ptr));
  if (Q > 0) {
    const info = run(mPtr, wPtr, K1);
    iterations = info.iterations;
    converged = info.converged;
    demean = demeanReport(ctx, info);
  }
  const within = sumsOfSquares(eng, mPtr, n, K1, wPtr, false);
  let raw: Float64Array[] | null = null;
  if (unweightedToo) {
    raw = eng.scoped(() => {
      const r = eng.allocF64(n * (K1 - 1), "IV columns (unweighted)");
      fill(r, 1);
      if (Q > 0 && K1 > 1) run(r, 0, K1 - 1);
      const R = eng.f64(r, n * (K1 - 1));
      return [new Float64Array(0), ...Array.from({ length: K1 - 1 }, (_, c) => R.slice(c * n, (c + 1) * n))];
    });
  }
  if (w) check(eng.kernels.scaleRows(mPtr, n, K1, putSqrtWeights(eng, w)), "scaleRows");
  const M = eng.f64(mPtr, n * K1);
  const cols = Array.from({ length: K1 }, (_, c) => M.slice(c * n, (c + 1) * n));
  return { cols, pre, within, iterations, converged, demean, raw };
}

/** The variance of an IV fit (second stage, first stages, Wald statistics) under another vcov, without refitting. */
export function ivWithVcov(eng: Engine, fit: IvFit, vcov: string | VcovSpec, ssc?: SscName | string, level?: number): IvFit {
  const f2 = withVcov(eng, fit, vcov, ssc, level);
  const clusters = clusterCodes(fit.internals.frame, fit.internals.sample, f2.vcov);
  const I = fit.internals;
  const hac = isHac(f2.vcov) ? hacData(I.frame, I.sample, f2.vcov, I.panelId) : undefined;
  const info = stageStats(eng, fit.ivBase, f2, clusters, f2.vcov, f2.ssc, hac);
  return Object.freeze({ ...f2, formula: fit.formula, iv: info, ivBase: fit.ivBase });
}
