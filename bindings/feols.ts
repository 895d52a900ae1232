// feols: the estimation pipeline.
//   validate -> parse formula -> design -> sample -> WASM (demean, QR, meats) -> result
// Numbers happen in kernels (assembly/) and pure helpers; this file orchestrates.
import type { Table } from "apache-arrow";
import type { Engine } from "./wasm.js";
import { parseFormula, type Formula } from "./formula.js";
import { Frame } from "./frame.js";
import { buildDesign, type Design } from "./design.js";
import { prepareSample, gather, recode, intersectCodes, type FixefRm, type Sample, type Removed } from "./sample.js";
import { check, demeanPtr, nonConvergence, type FeType, type DemeanAlgo } from "./kernels.js";
import { computeVcov, parseVcov, parseSsc, type VcovSpec, type SscName, type VcovInputs, SSC } from "./vcov.js";
import { OptionError, SampleError, WasmMemoryError } from "./errors.js";
import { pval2, qt } from "./stats.js";
import { fmtBytes, WASM_MAX_BYTES } from "./wasm.js";
import { sunabPostFit } from "./event/sunab.js";

export interface FeolsOptions {
  /** "iid" | "hetero" | "cluster:v1[+v2]"; default: clustered by the first FE (fixest 0.12), iid without FE */
  vcov?: string | VcovSpec;
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
   * bindings/demean-node.ts loaded (Node); in browsers the demeaning keeps one thread.
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
  /** run the QR on the only copy of X (rebuilding it afterwards); default: when a copy would not fit */
  lowMemory?: boolean;
  /** called with warnings (non-convergence, eigenvalue fixes) */
  onWarning?: (msg: string) => void;
  /** throw NonConvergenceError instead of warning */
  strictConvergence?: boolean;
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
}

export interface Fit {
  formula: string;
  parsed: Formula;
  coefNames: string[];
  coef: Record<string, number>;
  se: Record<string, number>;
  tstat: Record<string, number>;
  pvalue: Record<string, number>;
  table: CoefRow[];
  coefVector: Float64Array;
  vcovMatrix: Float64Array;
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

export interface DemeanReport {
  algo: DemeanAlgo;
  /** accelerated MAP steps (largest over the columns) */
  mapIterations: number;
  /** conjugate-gradient iterations (largest over the columns that needed them) */
  cgIterations: number;
  /** largest final convergence criterion */
  criterion: number;
  threads: number;
}

const DEFAULTS = { fixefTol: 1e-8, fixefIter: 10000, collinTol: 1e-10, level: 0.95 };

export function defaultVcov(f: Formula): VcovSpec {
  if (f.fixef.length > 0) return { type: "cluster", vars: [f.fixef[0].vars.join("^")] };
  return { type: "iid" };
}

export function feols(eng: Engine, data: Table | Frame, formula: string | Formula, opts: FeolsOptions = {}): Fit {
  const frame = data instanceof Frame ? data : Frame.fromArrow(data);
  const f = typeof formula === "string" ? parseFormula(formula) : formula;
  const vspec = opts.vcov === undefined ? defaultVcov(f) : parseVcov(opts.vcov);
  const sscName = parseSsc(opts.ssc);
  const tol = opts.fixefTol ?? DEFAULTS.fixefTol;
  const maxIter = opts.fixefIter ?? DEFAULTS.fixefIter;
  const collinTol = opts.collinTol ?? DEFAULTS.collinTol;
  const level = opts.level ?? DEFAULTS.level;
  if (!(tol > 0)) throw new OptionError(`fixefTol must be positive, got ${tol}`);
  if (!(level > 0 && level < 1)) throw new OptionError(`level must be in (0, 1), got ${level}`);
  const fixefAlgo = opts.fixefAlgo ?? "auto";
  if (fixefAlgo !== "auto" && fixefAlgo !== "map" && fixefAlgo !== "cg") {
    throw new OptionError(`fixefAlgo must be "auto", "map" or "cg", got ${JSON.stringify(fixefAlgo)}`);
  }
  const threads = opts.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new OptionError(`threads must be a positive integer, got ${threads}`);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };

  const clusterVars = vspec.type === "cluster" ? vspec.vars : [];
  // a cluster variable may be an interacted FE name like "firm^year": resolve later
  const extra = [...clusterVars.filter((v) => !v.includes("^")), ...(opts.keepColumns ?? [])];
  const design = buildDesign(frame, f, { weights: opts.weights, extra, override: opts.override });
  const sample = prepareSample(design, opts.fixefRm ?? "singleton");
  const n = sample.n;

  const hasFe = sample.fe.length > 0;
  const addIntercept = !hasFe && f.intercept;
  const xNames = addIntercept ? ["(Intercept)", ...design.xNames] : design.xNames;
  const k = xNames.length;
  const Q = sample.fe.length;

  // memory plan: the model matrix (1+k columns), QR right-hand side, residuals, weights,
  // slopes and FE codes; the QR copy of X is optional (see below)
  const need = planMemory(n, k, Q, sample.fe.filter((d) => d.slope).length, !!design.weights);
  if (need > WASM_MAX_BYTES - eng.usedBytes) {
    throw new WasmMemoryError(
      `this model needs about ${fmtBytes(need)} of WASM memory (${n.toLocaleString("en-US")} rows x ${k + 1} numeric columns, ` +
        `${Math.round((need - 64 * 1024 * 1024) / n)} bytes per row) but one instance holds at most ${fmtBytes(WASM_MAX_BYTES)}`,
      { need, limit: WASM_MAX_BYTES, rows: n, columns: k + 1, bytesPerRow: (need - 64 * 1024 * 1024) / n },
      "use fewer regressors, a subsample (e.g. by period), or --compress (feolsCompressed: cells of identical rows, exact) when regressors are discrete and rows repeat",
    );
  }

  return eng.scoped(() => {
    // ---- load data into WASM memory
    const K1 = k + 1;
    const mPtr = eng.allocF64(n * K1, "model matrix");
    {
      const M = eng.f64(mPtr, n * K1);
      const rows = sample.rows;
      const identity = n === design.n; // no row removed: plain copies
      const put = (src: Float64Array, off: number) => {
        if (identity) M.set(src, off);
        else for (let j = 0; j < n; j++) M[off + j] = src[rows[j]];
      };
      put(design.y, 0);
      for (let c = 0; c < k; c++) {
        const off = (c + 1) * n;
        if (addIntercept && c === 0) M.fill(1, off, off + n);
        else put(design.X[addIntercept ? c - 1 : c], off);
      }
    }
    const w = design.weights ? gather(design.weights, sample.rows) : null;
    const wPtr = w ? eng.putF64(w, "weights") : 0;

    // ---- pre-demeaning sums of squares (weighted, centered)
    const pre = sumsOfSquares(eng, mPtr, n, K1, wPtr, true);
    const tss = pre[0];

    // ---- demean
    let iterations = 0;
    let converged = true;
    let demean: DemeanReport | null = null;
    if (Q > 0) {
      // order dims by decreasing size for the kernel
      const order = sample.fe.map((_, q) => q).sort((a, b) => sample.fe[b].levels - sample.fe[a].levels);
      const codesPtr = eng.allocI32(Q * n, "FE codes");
      const slopePtrs: number[] = [];
      order.forEach((q, r) => {
        eng.i32(codesPtr + r * n * 4, n).set(sample.fe[q].codes);
      });
      for (const q of order) {
        const s = sample.fe[q].slope;
        slopePtrs.push(s ? eng.putF64(s.values, `slope ${s.name}`) : 0);
      }
      const info = demeanPtr(
        eng,
        {
          n, codesPtr, groups: order.map((q) => sample.fe[q].levels), types: order.map((q) => sample.fe[q].type as FeType),
          slopePtrs, wPtr,
        },
        K1, mPtr, mPtr, tol, maxIter, fixefAlgo, 20, threads,
      );
      iterations = info.iterations;
      converged = info.converged;
      demean = {
        algo: fixefAlgo, mapIterations: info.mapIterations, cgIterations: info.cgIterations, criterion: info.criterion,
        threads: info.threads,
      };
      if (!converged) {
        const err = nonConvergence(info, tol, maxIter);
        if (opts.strictConvergence) throw err;
        warn(err.message);
      }
    }

    // ---- absorbed columns and constant outcome
    const within = sumsOfSquares(eng, mPtr, n, K1, wPtr, false);
    if (Q > 0 && within[0] <= 1e-20 * Math.max(tss, 1e-300)) {
      throw new SampleError(
        `the outcome "${f.lhs}" is constant within the fixed effects: nothing left to explain`,
        { outcome: f.lhs },
        "check the outcome column or the fixed effects",
      );
    }
    const collinear: string[] = [];
    const cand: number[] = [];
    for (let c = 0; c < k; c++) {
      const absorbed = Q > 0 && (pre[c + 1] === 0 || within[c + 1] <= collinTol * pre[c + 1]);
      const zero = within[c + 1] === 0;
      if (absorbed || zero) collinear.push(xNames[c]);
      else cand.push(c);
    }

    // ---- weights: scale by sqrt(w) after the weighted demeaning
    if (w) {
      const sw = eng.allocF64(n, "sqrt weights");
      const s = eng.f64(sw, n);
      for (let i = 0; i < n; i++) s[i] = Math.sqrt(w[i]);
      check(eng.k.scaleRows(n, K1, mPtr, sw), "scaleRows");
    }

    // ---- QR. Candidate columns are compacted in place to columns 1..kc of M. With room
    // for a copy, the QR runs on the copy; otherwise (large panels) it runs on M itself
    // and the kept columns are rebuilt as Q R afterwards (2x the flops, no copy).
    const kc = cand.length;
    {
      const Mv = eng.f64(mPtr, n * K1);
      cand.forEach((c, j) => {
        if (c !== j) Mv.copyWithin((j + 1) * n, (c + 1) * n, (c + 2) * n);
      });
    }
    const xPtr = mPtr + n * 8; // compacted candidate columns
    const copyBytes = n * 8 * (kc + 1);
    const inPlace = opts.lowMemory ?? copyBytes > eng.freeBytes - 256 * 1024 * 1024;
    const yPtr = eng.allocF64(n, "QR rhs");
    eng.f64(yPtr, n).set(eng.f64(mPtr, n));
    let aPtr = xPtr;
    if (!inPlace) {
      aPtr = eng.allocF64(n * Math.max(kc, 1), "QR work");
      eng.f64(aPtr, n * kc).set(eng.f64(xPtr, n * kc));
    }
    const keepPtr = eng.allocI32(Math.max(kc, 1));
    const coefPtr = eng.allocF64(Math.max(kc, 1));
    const breadPtr = eng.allocF64(Math.max(kc * kc, 1));
    const workPtr = eng.allocF64(2 * Math.max(kc, 1));
    const rankPtr = eng.allocI32(1);
    check(eng.k.qrSolve(n, kc, aPtr, yPtr, collinTol, keepPtr, coefPtr, breadPtr, workPtr, rankPtr), "qrSolve");
    if (inPlace) check(eng.k.qrReconstruct(n, kc, aPtr, keepPtr, workPtr, yPtr), "qrReconstruct");
    const keepFlags = eng.getI32(keepPtr, kc);
    const coefAll = eng.getF64(coefPtr, kc);
    const breadAll = eng.getF64(breadPtr, kc * kc);
    const kept: number[] = [];
    cand.forEach((c, j) => (keepFlags[j] ? kept.push(j) : collinear.push(xNames[c])));
    // report collinear names in formula order
    collinear.sort((a, b) => xNames.indexOf(a) - xNames.indexOf(b));
    const kf = kept.length;
    if (kf === 0 && k > 0) {
      throw new SampleError(
        `every regressor was removed as collinear (${collinear.join(", ")}): the estimation is void`,
        { collinear },
        Q > 0 ? "a regressor that does not vary within the fixed effects is absorbed by them" : undefined,
      );
    }
    const names = kept.map((j) => xNames[cand[j]]);
    const beta = Float64Array.from(kept, (j) => coefAll[j]);
    const bread = new Float64Array(kf * kf);
    for (let a = 0; a < kf; a++) for (let b = 0; b < kf; b++) bread[a + b * kf] = breadAll[kept[a] + kept[b] * kc];

    // ---- residuals on the final columns (compacted again in place)
    {
      const Mv = eng.f64(mPtr, n * K1);
      kept.forEach((j, a) => {
        if (j !== a) Mv.copyWithin((a + 1) * n, (j + 1) * n, (j + 2) * n);
      });
    }
    const xfPtr = xPtr;
    const bPtr = eng.putF64(beta);
    const ePtr = eng.allocF64(n, "residuals");
    check(eng.k.residuals(n, kf, xfPtr, mPtr, bPtr, ePtr), "residuals");
    const ssr = sumsOfSquares(eng, ePtr, n, 1, 0, false)[0];
    const e = eng.getF64(ePtr, n);
    const keepData = opts.keepData ?? n * kf <= 4_000_000;
    const xTilde = keepData ? eng.getF64(xfPtr, n * kf) : new Float64Array(0);
    const yTilde = eng.getF64(mPtr, n);

    // ---- fit statistics
    const feDof = fixefDof(sample);
    const nparams = kf + feDof;
    const r2 = 1 - ssr / tss;
    const adjR2 = 1 - ((1 - r2) * (n - (f.intercept || hasFe ? 1 : 0))) / (n - nparams);
    const withinR2 = hasFe ? 1 - ssr / within[0] : null;
    const sumW = w ? w.reduce((s, v) => s + v, 0) : n;
    const rmse = Math.sqrt(ssr / (w ? sumW : n));

    const clusters = clusterCodes(frame, sample, vspec);
    const inputs: VcovInputs = {
      n, k: kf, bread, x: xTilde, e, ptrs: { x: xfPtr, e: ePtr }, ssr,
      fe: sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type })),
      feDof, clusters, hasIntercept: addIntercept,
    };
    const vres = computeVcov(eng, inputs, vspec, sscName);
    if (vres.eigenFixed) warn("the multi-way clustered variance was not positive semi-definite: eigenvalues floored");

    // Post-fit transformations of the coefficient table (Sun-Abraham aggregation) hook in here:
    // they receive names, beta and V and return the reported ones (bindings/event/).
    const post = sunabPostFit(f, design, sample.rows, w, { names, beta, V: vres.V, xTilde, bread, feDof }, warn);
    const fit: Fit = assembleFit({
      f, names: post.names, beta: post.beta, V: post.V, df: vres.df, level, n, sample, collinear, r2, adjR2, withinR2, rmse, ssr, tss,
      iterations, converged, demean, vspec, vlabel: vres.label, sscName, K: vres.K, G: vres.G, warnings, weights: opts.weights,
      internals: {
        frame, sample, design: { xNames: design.xNames, yName: design.yName }, bread: post.bread, feDof: post.feDof,
        hasIntercept: addIntercept, yTilde, xTilde: post.xTilde, residuals: e, weights: w,
        get scores() {
          return scoresOf(post.xTilde, e, n, post.names.length);
        },
      },
    });
    return fit;
  });
}

/**
 * Bytes of WASM memory a model needs at the least (the QR runs in place when a copy does
 * not fit): model matrix, QR rhs, residuals, weights, slopes, FE codes, demeaning scratch.
 */
export function planMemory(n: number, k: number, Q: number, slopes = 0, weighted = false): number {
  return n * 8 * (k + 1 + 2 + (weighted ? 2 : 0) + slopes) + n * 4 * Q + 64 * 1024 * 1024;
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

function clusterCodes(frame: Frame, sample: Sample, v: VcovSpec): Record<string, { codes: Int32Array; G: number }> {
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

/** Weighted (centered) sums of squares of K columns in WASM memory. */
function sumsOfSquares(eng: Engine, ptr: number, n: number, K: number, wPtr: number, centered: boolean): Float64Array {
  return eng.scoped(() => {
    const out = eng.allocF64(K);
    check(eng.k.colSumSquares(n, K, ptr, wPtr, centered ? 1 : 0, out), "colSumSquares");
    return eng.getF64(out, K);
  });
}

function scoresOf(x: Float64Array, e: Float64Array, n: number, k: number): Float64Array {
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

/** Recompute the variance of a fit under another vcov / convention, without refitting. */
export function withVcov(eng: Engine, fit: Fit, vcov: string | VcovSpec, ssc?: SscName | string, level?: number): Fit {
  const vspec = parseVcov(vcov);
  const sscName = parseSsc(ssc ?? fit.ssc);
  const I = fit.internals;
  if (I.xTilde.length !== fit.nobs * fit.coefNames.length) {
    throw new OptionError(
      "this fit was made with keepData: false (large data), so its variance cannot be recomputed",
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
  const inputs: VcovInputs = {
    n: fit.nobs, k: fit.coefNames.length, bread: I.bread, x: I.xTilde, e: I.residuals, ssr: fit.ssr,
    fe: I.sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type })),
    feDof: I.feDof, clusters: clusterCodes(I.frame, I.sample, vspec), hasIntercept: I.hasIntercept,
  };
  const vres = computeVcov(eng, inputs, vspec, sscName);
  return assembleFit({
    f: fit.parsed, names: fit.coefNames, beta: fit.coefVector, V: vres.V, df: vres.df, level: level ?? fit.level,
    n: fit.nobs, sample: I.sample, collinear: fit.collinear, r2: fit.r2, adjR2: fit.adjR2, withinR2: fit.withinR2,
    rmse: fit.rmse, ssr: fit.ssr, tss: fit.tss, iterations: fit.iterations, converged: fit.converged, demean: fit.demean, vspec,
    vlabel: vres.label, sscName, K: vres.K, G: vres.G, warnings: [...fit.warnings], weights: fit.weights, internals: I,
  });
}
