// Randomization inference for a DiD coefficient: in-space placebos (adoption years
// permuted across units), in-time placebos (adoption moved k years earlier), random
// adoption times, and replays of given draws. Never refits the model.
//
// By Frisch-Waugh-Lovell the coefficient of a placebo treatment D* is
//   b* = (D~*' e_y) / (D~*' D~*),
// D~* = D* demeaned on the FEs (weighted) and residualised on the other regressors,
// e_y = the fit's demeaned outcome residualised on those regressors.
//
//   method "demean" (general): each draw's D* is demeaned in WASM, several draws per call
//     as the K columns of the demean kernel, then residualised.
//   method "basis" (fast): a draw that only says which unit gets which cohort has
//     D* = sum_u B(u, c(u)), B(u, c) = 1{row in u and year >= c}. Each needed basis column
//     is demeaned once; with H = B'M_F B (from the demeaned columns, aggregated by unit and
//     year), P = Q'B (Q an orthonormal basis of the demeaned controls) and g = B'e_y,
//     the Gram matrix of the residualised basis is G = H - P'P and each draw costs
//     O(R^2) in WASM (assembly/permute.ts): b* = sum_a g_a / sum_ab G_ab.
//
// Draw d always uses stream fork(d) of the seed (bindings/base/rng.ts), generated inside WASM
// bit for bit as Rng(seed).fork(d) would: the same draws in Node and browsers, whatever
// the number of threads (bindings/platform/placebo-node.ts). Blocks of columns are cut at fixed
// boundaries (multiples of BLOCK) so that a thread split cannot change a single bit.
//
// Why one long file: the placebo problem (setup, basis, draws, assembly) is one plan shared by
// the single-thread path and the worker pool (platform/placebo-node.ts), which calls its steps.
import type { Engine } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import type { Fit } from "../estimators/feols.js";
import type { Removed } from "../core/sample.js";
import { check, demeanPtr, type FeType, type DemeanDims } from "../engine/kernels.js";
import { Rng } from "../base/rng.js";
import { OptionError, ColumnError, SampleError, WasmMemoryError } from "../base/errors.js";
import { checkOption } from "../base/options.js";
import { pval2 } from "../base/stats.js";
import { checkCount, planDrawMemory, MAX_DRAWS } from "../engine/limits.js";
import { fmtBytes } from "../engine/wasm.js";
import type { KernelExports } from "../engine/exports.js";
import { RNG_STATE_BYTES } from "../engine/context.js";

/** The WASM kernels the placebo draws use (assembly/permute.ts, sandwich.ts): the engine's typed view. */
export type PlaceboKernels = KernelExports;

export const SCHEME_CODE = { space: 0, "random-time": 1, given: 2 } as const;
/** Columns per demean call; block boundaries are fixed multiples of this. */
export const BLOCK = 32;
/** Draws per call of the per-draw kernel (progress granularity). */
const DRAW_CHUNK = 2048;
/** ritest's tolerance for |b*| >= |b| comparisons. */
export const TIE_TOL = 1e-7;

export type PlaceboScheme = "space" | "time" | "random-time";
export type PlaceboMethod = "auto" | "basis" | "demean";

/** Given draws (a CSV with columns draw, unit, adopt): adopt NaN = never treated. */
export interface PlaceboAssignments {
  draw: Int32Array | ArrayLike<number>;
  unit: ArrayLike<string | number>;
  adopt: Float64Array | ArrayLike<number>;
  /** where they came from (a file name), for messages */
  source?: string;
}

export interface PlaceboOptions {
  /** the DiD regressor of the fit (e.g. "did") */
  treatment: string;
  /**
   * "space": adoption years (never treated included) permuted across units, within strata;
   * "time": adoption moved k years earlier for each k in `shifts` (deterministic);
   * "random-time": treated units stay treated, each gets a year drawn uniformly from the
   * sample years after the first.
   */
  scheme: PlaceboScheme;
  /** unit of assignment (e.g. "city"); its adoption year must be constant within it */
  unit: string;
  /** adoption-year column (missing, non-finite or >= 9999: never treated) */
  adopt: string;
  year: string;
  /** permute within the levels of this column (constant within unit) */
  strata?: string;
  /** number of draws (space, random-time); default 1000; a whole number >= 1, within memoryLimit */
  draws?: number;
  seed?: number;
  /** scheme "time": adoption moved k years earlier, for each k; default [1, 2] */
  shifts?: number[];
  /** replay these draws instead of drawing (scheme space or random-time) */
  assignments?: PlaceboAssignments;
  onProgress?: (done: number, total: number) => void;
  /** worker threads (bindings/platform/placebo-node.ts); placebo() itself is single-threaded */
  threads?: number;
  /**
   * Bound on the memory the draws keep (coefficients, ids, replayed assignments, the copies
   * a thread split makes), planned before anything is allocated; default 1 GiB
   * (bindings/engine/limits.ts). Above it the run stops with a WasmMemoryError.
   */
  memoryLimit?: number;
  /** "auto" (default): basis when it needs fewer demeaned columns than the draws */
  method?: PlaceboMethod;
  /**
   * How the basis method projects its columns off the FEs: "direct" solves the FE normal
   * equations exactly (largest FE eliminated in closed form, dense Schur complement on the
   * others; plain FEs whose smaller dimensions total at most 1500 levels), "demean" runs
   * the demean kernel on every basis column; "auto" (default) takes direct when it applies.
   */
  basisSolver?: "auto" | "direct" | "demean";
  /** tolerance of the FE projections of the placebo columns (default 1e-10) */
  fixefTol?: number;
  fixefIter?: number;
  /** a draw whose residualised treatment has squared norm <= collinTol x raw is NaN */
  collinTol?: number;
  /** ritest's tie tolerance (1e-7) */
  tieTol?: number;
  onWarning?: (msg: string) => void;
}

export interface PValue {
  /** share of draws with the event, c / N over the N finite draws */
  p: number;
  /** c */
  count: number;
  /** Monte-Carlo standard error sqrt(p (1 - p) / N) */
  mcse: number;
}

export interface ShiftRow {
  shift: number;
  estimate: number;
  /** under the fit's vcov and small-sample convention (NaN for multi-way clustering) */
  se: number;
  t: number;
  p: number;
}

export interface PlaceboResult {
  scheme: PlaceboScheme;
  treatment: string;
  /** the fit's coefficient of the treatment */
  estimate: number;
  /** placebo coefficients in draw order (NaN: the placebo treatment was absorbed) */
  draws: Float64Array;
  /** draw identifiers (0..N-1, or the replayed draw numbers) */
  drawIds: Int32Array;
  /** finite draws, the N of the p-values */
  valid: number;
  /** |b*| >= |b| - tol; b* <= b + tol; b* >= b - tol (the study's definitions, ritest's tolerance) */
  p: { twoSided: PValue; left: PValue; right: PValue };
  /** share of draws within tol of the estimate (|b*| vs |b| for two-sided); warn above 1% */
  ties: { twoSided: number; oneSided: number };
  /** scheme "time" only */
  shifts?: ShiftRow[];
  method: "basis" | "demean";
  units: number;
  /** distinct first treated years that a draw can assign */
  cohorts: number[];
  /** basis columns (method basis) */
  basisColumns: number;
  /** how the basis columns were projected off the FEs (method basis) */
  basisSolver?: "direct" | "demean";
  seed: number;
  threads: number;
  /** the fit's observations and the rows it removed (and why): set by placebo() and the runs on a fit, in memory and out of core */
  nobs?: number;
  removed?: Removed;
  warnings: string[];
  timing: { setupMs: number; drawsMs: number; totalMs: number; drawsPerSecond: number };
}

/**
 * Everything a run needs as plain typed arrays (structured-cloneable: workers get a copy).
 * Units are sorted by label; years ascending; cohorts are year indices.
 */
export interface PlaceboProblem {
  n: number;
  U: number;
  T: number;
  unitLabels: string[];
  years: Float64Array;
  unitIdx: Int32Array;
  yearIdx: Int32Array;
  /** FE codes, Q blocks of n (dims ordered by decreasing size, as feols) */
  feCodes: Int32Array;
  feGroups: number[];
  feTypes: FeType[];
  feSlopes: (Float64Array | null)[];
  w: Float64Array | null;
  sw: Float64Array | null;
  /** orthonormal basis of the demeaned other regressors, n x kq */
  q: Float64Array;
  kq: number;
  /** outcome residualised on the other regressors */
  ey: Float64Array;
  estimate: number;
  scheme: 0 | 1 | 2;
  /** positions -> unit; strata are position ranges; observed cohort index at each position */
  order: Int32Array;
  strataStart: Int32Array;
  cohort0: Int32Array;
  /** cohort index -> year index */
  cohortT: Int32Array;
  /** random-time: cohort indices to draw from */
  cand: Int32Array;
  /** given draws: nDraws x U cohort indices */
  given: Int32Array | null;
  drawIds: Int32Array;
  nDraws: number;
  keyHi: number;
  keyLo: number;
  /** basis columns to demean (index u * C + c), ascending */
  basisCols: Int32Array;
  method: "basis" | "demean";
  basisSolver: "direct" | "demean";
  tol: number;
  maxIter: number;
  collinTol: number;
}

/** What the draws and the result need of a problem: no row-length array (out of core there are none). */
export type DrawPlan = Pick<PlaceboProblem,
  "U" | "unitLabels" | "years" | "estimate" | "scheme" | "order" | "strataStart" | "cohort0" | "cohortT" | "cand" | "given" |
  "drawIds" | "nDraws" | "keyHi" | "keyLo" | "basisCols" | "method" | "basisSolver" | "tol" | "collinTol">;

/** How the FE projections of placebo columns went (demean calls, failed calls, worst criterion). */
export interface Convergence {
  calls: number;
  failed: number;
  criterion: number;
}

export function newConvergence(): Convergence {
  return { calls: 0, failed: 0, criterion: 0 };
}

export function mergeConvergence(into: Convergence, c: Convergence): void {
  into.calls += c.calls;
  into.failed += c.failed;
  into.criterion = Math.max(into.criterion, c.criterion);
}

function record(conv: Convergence | undefined, info: { converged: boolean; criterion: number }): void {
  if (!conv) return;
  conv.calls++;
  if (!info.converged) {
    conv.failed++;
    conv.criterion = Math.max(conv.criterion, info.criterion);
  }
}

/** Gram matrix of the residualised basis, its products with e_y, and raw norms. */
export interface PlaceboBasis {
  gram: Float64Array;
  g: Float64Array;
  raw: Float64Array;
}

/** An adoption year at or above this is never treated. */
export const NEVER = 9999;
/** Largest total of levels of the smaller FEs for the direct basis solver (dense Schur complement). */
const DIRECT_MAX_LEVELS = 1500;

function kernels(eng: Engine): PlaceboKernels {
  return eng.kernels;
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

// ---------------------------------------------------------------------------------------
// Preparation

/** Validate options and turn the fit into a PlaceboProblem (plain arrays). */
export function preparePlacebo(eng: Engine, fit: Fit, opts: PlaceboOptions, warn: (m: string) => void = () => {}): PlaceboProblem {
  const I = fit.internals;
  const n = fit.nobs;
  const k = fit.coefNames.length;
  const { j, nDrawsOpt, threads, rng, tol, maxIter, collinTol } = placeboSettings(fit, opts);
  // ---- units (sorted by label), years, adoption
  const frame = I.frame;
  const rows = I.sample.rows;
  needColumn(frame, opts.unit, "unit");
  needColumn(frame, opts.year, "year");
  needColumn(frame, opts.adopt, "adoption");
  const { unitOf, unitLabels, U } = placeboUnits(frame, rows, n, opts);
  const { years, T, yearIdx, cohortOfYear } = placeboYears(frame, rows, n, opts);
  const { unitAdopt, unitT } = unitAdoption(frame, rows, opts, unitOf, unitLabels, U, cohortOfYear);
  checkTreatmentColumn(frame, rows, opts, unitT, unitOf, yearIdx, warn);
  const { order, strataStart } = placeboStrata(frame, rows, n, opts, unitOf, unitLabels, U);
  const lastT = lastYearOfUnits(U, yearIdx, unitOf);
  const { scheme, drawIds, C, cohortT, cohort0, cand, given, nDraws, basisCols } = placeboDrawPlan({
    opts, U, T, unitLabels, unitAdopt, unitT, cohortOfYear, threads, nDrawsOpt, order, strataStart, lastT,
  });
  const { method, basisSolver } = placeboMethod(eng, fit, opts, { n, U, T, C, cohortT, basisCols, nDraws });
  const { feCodes, feGroups, feTypes, feSlopes, w, sw } = placeboFeDims(fit);
  const { q, kq, ey } = placeboControls(eng, fit, j);

  return {
    n, U, T, unitLabels, years, unitIdx: unitOf, yearIdx, feCodes, feGroups, feTypes, feSlopes, w, sw, q, kq, ey,
    estimate: fit.coef[opts.treatment], scheme, order, strataStart, cohort0, cohortT, cand, given, drawIds, nDraws,
    keyHi: rng.keyHi, keyLo: rng.keyLo, basisCols, method, basisSolver, tol, maxIter, collinTol,
  };
}

// ---- the steps of preparePlacebo (each a pure function of its inputs but for thrown errors)

/** A column of the frame the placebo needs, or the frame's named ColumnError. */
function needColumn(frame: Frame, name: string, role: string): void {
  if (!frame.has(name)) {
    frame.codes(name); // throws the named ColumnError with suggestions
    throw new ColumnError(`unknown ${role} column "${name}"`);
  }
}

/** An unknown scheme: the OptionError naming the three. */
export function checkScheme(scheme: string): void {
  if (!["space", "time", "random-time"].includes(scheme)) {
    throw new OptionError(`unknown placebo scheme "${scheme}"`, undefined, "use space, time or random-time");
  }
}

/** Checked options: the treatment's coefficient index, counts, the seed's generator, tolerances. */
function placeboSettings(fit: Fit, opts: PlaceboOptions) {
  const I = fit.internals;
  const n = fit.nobs;
  const k = fit.coefNames.length;
  checkScheme(opts.scheme);
  const j = fit.coefNames.indexOf(opts.treatment);
  if (j < 0) {
    const why = fit.collinear.includes(opts.treatment) ? " (it was removed as collinear)" : "";
    throw new OptionError(`the treatment "${opts.treatment}" is not a coefficient of the fit${why}`, { coefficients: fit.coefNames },
      `coefficients: ${fit.coefNames.join(", ")}`);
  }
  if (I.xTilde.length !== n * k) {
    throw new OptionError(`this fit was made with ${fit.storage?.type === "f32" ? 'storage: "f32"' : "keepData: false"}, so its demeaned data is not available`, undefined,
      'refit with storage: "f64" and keepData: true');
  }
  return { j, ...placeboCounts(opts) };
}

/** The options every placebo checks (in memory and out of core): draws, threads, the seed's generator, tolerances. */
export function placeboCounts(opts: PlaceboOptions) {
  const drawn = opts.scheme !== "time" && !opts.assignments;
  const nDrawsOpt = drawn ? checkCount("draws", opts.draws ?? 1000) : 0;
  const threads = opts.threads === undefined ? 1 : checkCount("threads", opts.threads, 1, 1024);
  const seed = opts.seed ?? 1;
  checkOption("seed", seed);
  const rng = new Rng(seed); // validates the seed
  const tol = opts.fixefTol ?? 1e-10;
  const maxIter = opts.fixefIter ?? 10000;
  const collinTol = opts.collinTol ?? 1e-10;
  return { nDrawsOpt, threads, rng, tol, maxIter, collinTol };
}

/** Unit index of each sample row (units sorted by label) and the labels. */
function placeboUnits(frame: Frame, rows: ArrayLike<number>, n: number, opts: PlaceboOptions) {
  const uc = frame.codes(opts.unit);
  const unitOf = new Int32Array(n);
  const present = new Uint8Array(uc.levels.length);
  for (let i = 0; i < n; i++) {
    const c = uc.codes[rows[i]];
    if (c < 0) {
      throw new OptionError(`the unit column "${opts.unit}" is missing in rows of the estimation sample`, undefined,
        `refit with keepColumns: ["${opts.unit}"]`);
    }
    present[c] = 1;
  }
  const levelIds: number[] = [];
  for (let l = 0; l < present.length; l++) if (present[l]) levelIds.push(l);
  if (uc.values) levelIds.sort((a, b) => uc.values![a] - uc.values![b]);
  else levelIds.sort((a, b) => (uc.levels[a] < uc.levels[b] ? -1 : uc.levels[a] > uc.levels[b] ? 1 : 0));
  const U = levelIds.length;
  const rank = new Int32Array(uc.levels.length).fill(-1);
  levelIds.forEach((l, r) => (rank[l] = r));
  for (let i = 0; i < n; i++) unitOf[i] = rank[uc.codes[rows[i]]];
  const unitLabels = levelIds.map((l) => uc.levels[l]);
  if (U < 2) throw new SampleError(`the unit column "${opts.unit}" has a single level in the estimation sample: nothing to permute`);
  return { unitOf, unitLabels, U };
}

/** Sorted distinct years, each row's year index, and the cohort (first year index) of an adoption year. */
function placeboYears(frame: Frame, rows: ArrayLike<number>, n: number, opts: PlaceboOptions) {
  const yv = frame.numeric(opts.year);
  const yearSet = new Set<number>();
  for (let i = 0; i < n; i++) {
    const y = yv[rows[i]];
    if (!Number.isFinite(y)) throw new OptionError(`the year column "${opts.year}" is missing in rows of the estimation sample`);
    yearSet.add(y);
  }
  const years = Float64Array.from([...yearSet].sort((a, b) => a - b));
  const T = years.length;
  const yIndex = new Map<number, number>();
  years.forEach((y, t) => yIndex.set(y, t));
  const yearIdx = new Int32Array(n);
  for (let i = 0; i < n; i++) yearIdx[i] = yIndex.get(yv[rows[i]])!;
  return { years, T, yearIdx, cohortOfYear: cohortOfYearIn(years) };
}

/** The cohort of an adoption year: the first year index t with years[t] >= a; -1 when never treated within the sample. */
export function cohortOfYearIn(years: Float64Array): (a: number) => number {
  const T = years.length;
  return (a: number): number => {
    if (!Number.isFinite(a) || a >= NEVER) return -1;
    let lo = 0, hi = T;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (years[mid] >= a) hi = mid;
      else lo = mid + 1;
    }
    return lo < T ? lo : -1;
  };
}

/** Each unit's adoption year (NaN never treated; constant within a unit) and its cohort. */
function unitAdoption(
  frame: Frame, rows: ArrayLike<number>, opts: PlaceboOptions, unitOf: Int32Array, unitLabels: string[], U: number,
  cohortOfYear: (a: number) => number,
) {
  const n = unitOf.length;
  const av = frame.numeric(opts.adopt);
  const unitAdopt = new Float64Array(U).fill(NaN);
  const seen = new Uint8Array(U);
  for (let i = 0; i < n; i++) {
    const u = unitOf[i];
    let a = av[rows[i]];
    if (!Number.isFinite(a) || a >= NEVER) a = NaN;
    if (!seen[u]) {
      seen[u] = 1;
      unitAdopt[u] = a;
    } else if (!Object.is(unitAdopt[u], a) && !(Number.isNaN(a) && Number.isNaN(unitAdopt[u]))) {
      throw adoptionNotConstant(opts, unitLabels[u], unitAdopt[u], a);
    }
  }
  const unitT = Int32Array.from(unitAdopt, (a) => cohortOfYear(a));
  return { unitAdopt, unitT };
}

/** A unit with two adoption years (NaN: never treated). */
export function adoptionNotConstant(opts: PlaceboOptions, label: string, a: number, b: number): OptionError {
  return new OptionError(
    `the adoption year "${opts.adopt}" is not constant within ${opts.unit} ${label} (${fmtNum(a)} and ${fmtNum(b)})`,
    { unit: label }, "the unit of assignment must be the level at which adoption is decided",
  );
}

/** The warning of a treatment column that is not 1{year >= adopt} in `diff` of `n` rows. */
export function treatmentDiffers(opts: PlaceboOptions, diff: number, n: number): string {
  return `the treatment "${opts.treatment}" differs from 1{${opts.year} >= ${opts.adopt}} in ${diff} of ${n} rows: placebo treatments are built from "${opts.adopt}"`;
}

/** Warn when the fit's treatment is not 1{year >= adopt} (the draws are built from the adoption column). */
function checkTreatmentColumn(
  frame: Frame, rows: ArrayLike<number>, opts: PlaceboOptions, unitT: Int32Array, unitOf: Int32Array, yearIdx: Int32Array,
  warn: (m: string) => void,
): void {
  const n = unitOf.length;
  const tv = frame.has(opts.treatment) && frame.isNumeric(opts.treatment) ? frame.numeric(opts.treatment) : null;
  if (tv) {
    let diff = 0;
    for (let i = 0; i < n; i++) {
      const t = unitT[unitOf[i]];
      const d = t >= 0 && yearIdx[i] >= t ? 1 : 0;
      if (tv[rows[i]] !== d) diff++;
    }
    if (diff > 0) {
      warn(treatmentDiffers(opts, diff, n));
    }
  }
}

/** Units ordered by stratum and where each stratum starts (one stratum without opts.strata). */
function placeboStrata(frame: Frame, rows: ArrayLike<number>, n: number, opts: PlaceboOptions, unitOf: Int32Array, unitLabels: string[], U: number) {
  let order: Int32Array;
  let strataStart: Int32Array;
  if (opts.strata) {
    needColumn(frame, opts.strata, "strata");
    const sc = frame.codes(opts.strata);
    const unitS = new Int32Array(U).fill(-2);
    for (let i = 0; i < n; i++) {
      const s = sc.codes[rows[i]];
      if (s < 0) throw new OptionError(`the strata column "${opts.strata}" is missing in rows of the estimation sample`);
      const u = unitOf[i];
      if (unitS[u] === -2) unitS[u] = s;
      else if (unitS[u] !== s) {
        throw new OptionError(`the strata column "${opts.strata}" is not constant within ${opts.unit} ${unitLabels[u]}`);
      }
    }
    const sLevels = [...new Set(unitS)];
    if (sc.values) sLevels.sort((a, b) => sc.values![a] - sc.values![b]);
    else sLevels.sort((a, b) => (sc.levels[a] < sc.levels[b] ? -1 : sc.levels[a] > sc.levels[b] ? 1 : 0));
    const sRank = new Map<number, number>();
    sLevels.forEach((s, r) => sRank.set(s, r));
    ({ order, strataStart } = strataOrder(Int32Array.from(unitS, (s) => sRank.get(s)!), sLevels.length));
  } else {
    order = Int32Array.from({ length: U }, (_, u) => u);
    strataStart = Int32Array.from([0, U]);
  }
  return { order, strataStart };
}

/** Units ordered by the rank of their stratum (then by unit), and where each of the S strata starts. */
export function strataOrder(unitRank: Int32Array, S: number): { order: Int32Array; strataStart: Int32Array } {
  const U = unitRank.length;
  const idx = Array.from({ length: U }, (_, u) => u);
  idx.sort((a, b) => unitRank[a] - unitRank[b] || a - b);
  const order = Int32Array.from(idx);
  const strataStart = new Int32Array(S + 1);
  let p = 0;
  for (let s = 0; s < S; s++) {
    strataStart[s] = p;
    while (p < U && unitRank[order[p]] === s) p++;
  }
  strataStart[S] = U;
  return { order, strataStart };
}

/** The draws of a run from its units (in memory: from the rows; out of core: from unit x year cells, inference/placebo-cells.ts). */
export interface DrawPlanInputs extends DrawInputs {
  order: Int32Array;
  strataStart: Int32Array;
  /** each unit's last year index in the sample */
  lastT: Int32Array;
}

/** The scheme, draw numbers, cohort tables and the basis columns the draws can use. */
export function placeboDrawPlan(x: DrawPlanInputs) {
  const { U, order, strataStart, unitT, lastT } = x;
  const { scheme, drawIds, cohortYears, givenT } = placeboAssignments(x);
  const { C, cohortT, cohort0, cand, given, nDraws } = cohortTables(scheme, cohortYears, order, unitT, givenT, drawIds);
  const basisCols = neededBasisColumns({ U, C, scheme, strataStart, order, cohort0, given, nDraws, lastT, cohortT });
  return { scheme, drawIds, C, cohortT, cohort0, cand, given, nDraws, basisCols };
}

/** Each unit's last year index among the rows (-1: no row). */
function lastYearOfUnits(U: number, yearIdx: Int32Array, unitOf: Int32Array): Int32Array {
  const lastT = new Int32Array(U).fill(-1);
  for (let i = 0; i < unitOf.length; i++) if (yearIdx[i] > lastT[unitOf[i]]) lastT[unitOf[i]] = yearIdx[i];
  return lastT;
}

interface DrawInputs {
  opts: PlaceboOptions;
  U: number;
  T: number;
  unitLabels: string[];
  unitAdopt: Float64Array;
  unitT: Int32Array;
  cohortOfYear: (a: number) => number;
  threads: number;
  nDrawsOpt: number;
}

/** The scheme code, the draw numbers, the year indices a draw can assign and the given draws (year indices). */
function placeboAssignments(x: DrawInputs) {
  const { opts, U, T, unitLabels, unitAdopt, unitT, cohortOfYear, threads, nDrawsOpt } = x;
  let scheme: 0 | 1 | 2;
  let drawIds: Int32Array;
  let cohortYears: number[]; // year indices a draw can assign
  let givenT: Int32Array | null = null; // given draws as year indices
  if (opts.scheme === "time") {
    const shifts = opts.shifts ?? [1, 2];
    if (shifts.length === 0 || !shifts.every((s) => Number.isInteger(s))) {
      throw new OptionError(`shifts must be a non-empty list of integers (years moved earlier), got ${JSON.stringify(opts.shifts)}`);
    }
    scheme = 2;
    drawIds = Int32Array.from(shifts);
    givenT = new Int32Array(shifts.length * U);
    shifts.forEach((s, d) => {
      for (let u = 0; u < U; u++) givenT![d * U + u] = Number.isNaN(unitAdopt[u]) ? -1 : cohortOfYear(unitAdopt[u] - s);
    });
    cohortYears = [...new Set(givenT)].filter((t) => t >= 0);
  } else if (opts.assignments) {
    scheme = 2;
    const A = opts.assignments;
    const from = A.source ? ` (${A.source})` : "";
    const m = A.draw.length;
    if (A.unit.length !== m || A.adopt.length !== m) throw new OptionError(`assignments${from}: draw, unit and adopt must have the same length`);
    if (m === 0) {
      throw new OptionError(`the assignments${from} have no rows: 0 draws to replay`, { source: A.source },
        "give one row per unit and draw (columns draw, unit, adopt), or draw them with --draws");
    }
    const byLabel = new Map<string, number>();
    unitLabels.forEach((l, u) => byLabel.set(l, u));
    const ids = [...new Set(Array.from(A.draw as ArrayLike<number>))].sort((a, b) => a - b);
    for (const d of ids) {
      if (!Number.isInteger(d) || Math.abs(d) > MAX_DRAWS) throw new OptionError(`assignments${from}: draw numbers must be whole numbers within +-${MAX_DRAWS}, got ${d}`);
    }
    planPlaceboDraws(ids.length, threads, U, opts.memoryLimit);
    const drawPos = new Map<number, number>();
    ids.forEach((d, p) => drawPos.set(d, p));
    drawIds = Int32Array.from(ids);
    givenT = new Int32Array(ids.length * U).fill(-3);
    for (let r = 0; r < m; r++) {
      const lab = typeof A.unit[r] === "number" ? fmtLevel(A.unit[r] as number) : String(A.unit[r]);
      const u = byLabel.get(lab);
      if (u === undefined) continue; // a unit outside the estimation sample
      const p = drawPos.get(A.draw[r])!;
      if (givenT[p * U + u] !== -3) throw new OptionError(`assignments: ${opts.unit} ${lab} appears twice in draw ${A.draw[r]}`);
      givenT[p * U + u] = cohortOfYear(A.adopt[r]);
    }
    for (let p = 0; p < ids.length; p++) {
      for (let u = 0; u < U; u++) {
        if (givenT[p * U + u] === -3) {
          throw new OptionError(`assignments: draw ${ids[p]} gives no adoption year to ${opts.unit} ${unitLabels[u]}`, undefined,
            "list every unit in every draw, with an empty adopt for never treated");
        }
      }
    }
    cohortYears = [...new Set(givenT)].filter((t) => t >= 0);
  } else if (opts.scheme === "space") {
    scheme = 0;
    planPlaceboDraws(nDrawsOpt, threads, 0, opts.memoryLimit);
    drawIds = iota(nDrawsOpt);
    cohortYears = [...new Set(unitT)].filter((t) => t >= 0);
    if (cohortYears.length === 0) throw new SampleError(`no ${opts.unit} is ever treated according to "${opts.adopt}": nothing to permute`);
  } else {
    scheme = 1;
    if (T < 2) throw new SampleError("random-time placebos need at least two years");
    planPlaceboDraws(nDrawsOpt, threads, 0, opts.memoryLimit);
    drawIds = iota(nDrawsOpt);
    cohortYears = Array.from({ length: T - 1 }, (_, t) => t + 1);
    if (!unitT.some((t) => t >= 0)) throw new SampleError(`no ${opts.unit} is ever treated according to "${opts.adopt}"`);
  }
  return { scheme, drawIds, cohortYears, givenT };
}

/** Cohort tables: year index of each cohort, each ordered unit's cohort, the random-time candidates, given draws as cohorts. */
function cohortTables(
  scheme: 0 | 1 | 2, cohortYears: number[], order: Int32Array, unitT: Int32Array, givenT: Int32Array | null, drawIds: Int32Array,
) {
  let cand = new Int32Array(0);
  let given: Int32Array | null = null;
  cohortYears.sort((a, b) => a - b);
  const C = cohortYears.length;
  const cohortT = Int32Array.from(cohortYears);
  const cIndex = new Map<number, number>();
  cohortYears.forEach((t, c) => cIndex.set(t, c));
  const toC = (t: number) => (t < 0 ? -1 : cIndex.get(t)!);
  const cohort0 = Int32Array.from(order, (u) => toC(unitT[u]));
  if (scheme === 1) cand = Int32Array.from(cohortYears, (_, c) => c);
  if (givenT) given = Int32Array.from(givenT, toC);
  const nDraws = drawIds.length;
  return { C, cohortT, cohort0, cand, given, nDraws };
}

interface BasisInputs {
  U: number;
  C: number;
  scheme: 0 | 1 | 2;
  strataStart: Int32Array;
  order: Int32Array;
  cohort0: Int32Array;
  given: Int32Array | null;
  nDraws: number;
  lastT: Int32Array;
  cohortT: Int32Array;
}

/** The basis columns (u * C + c) a draw can use and that have a row. */
function neededBasisColumns(x: BasisInputs): Int32Array {
  const { U, C, scheme, strataStart, order, cohort0, given, nDraws, lastT, cohortT } = x;
  const need = new Uint8Array(U * C);
  if (scheme === 0) {
    for (let s = 0; s + 1 < strataStart.length; s++) {
      const cs = new Set<number>();
      for (let p = strataStart[s]; p < strataStart[s + 1]; p++) if (cohort0[p] >= 0) cs.add(cohort0[p]);
      for (let p = strataStart[s]; p < strataStart[s + 1]; p++) for (const c of cs) need[order[p] * C + c] = 1;
    }
  } else if (scheme === 1) {
    for (let p = 0; p < U; p++) if (cohort0[p] >= 0) for (let c = 0; c < C; c++) need[order[p] * C + c] = 1;
  } else {
    for (let d = 0; d < nDraws; d++) for (let u = 0; u < U; u++) if (given![d * U + u] >= 0) need[u * C + given![d * U + u]] = 1;
  }
  // a column with no row (unit u has no year >= cohort c) is zero: never demeaned
  const cols: number[] = [];
  for (let u = 0; u < U; u++) for (let c = 0; c < C; c++) if (need[u * C + c] && lastT[u] >= cohortT[c]) cols.push(u * C + c);
  return Int32Array.from(cols);
}

/** The draw method (basis or demean) and the basis solver, checked against the WASM memory plan. */
function placeboMethod(
  eng: Engine, fit: Fit, opts: PlaceboOptions,
  x: { n: number; U: number; T: number; C: number; cohortT: Int32Array; basisCols: Int32Array; nDraws: number },
) {
  const I = fit.internals;
  const k = fit.coefNames.length;
  const { n, U, T, C, cohortT, basisCols, nDraws } = x;
  const wantMethod = opts.method ?? "auto";
  if (!["auto", "basis", "demean"].includes(wantMethod)) throw new OptionError(`unknown method "${wantMethod}"`, undefined, "use auto, basis or demean");
  const gramBytes = U * C * U * C * 8;
  let method: "basis" | "demean";
  if (wantMethod === "auto") method = basisCols.length < nDraws && gramBytes <= 1024 ** 3 ? "basis" : "demean";
  else method = wantMethod;
  if (method === "basis" && gramBytes > 2 * 1024 ** 3) {
    throw new OptionError(`the basis method needs a ${U * C} x ${U * C} Gram matrix (${(gramBytes / 1024 ** 3).toFixed(1)} GiB)`, undefined,
      "use method demean");
  }

  const wantSolver = opts.basisSolver ?? "auto";
  if (!["auto", "direct", "demean"].includes(wantSolver)) throw new OptionError(`unknown basis solver "${wantSolver}"`, undefined, "use auto, direct or demean");
  const plainFe = I.sample.fe.every((d) => d.type === 0);
  const smallLevels = I.sample.fe.map((d) => d.levels).sort((a, b) => b - a).slice(1).reduce((a, b) => a + b, 0);
  const directOk = plainFe && smallLevels <= DIRECT_MAX_LEVELS;
  if (wantSolver === "direct" && !directOk) {
    throw new OptionError(`the direct basis solver needs plain fixed effects (no varying slopes) whose smaller dimensions total at most ${DIRECT_MAX_LEVELS} levels`,
      undefined, "use basisSolver demean");
  }
  const basisSolver = wantSolver === "demean" || !directOk ? "demean" : "direct";
  planPlaceboWasm(eng, { n, U, T, feGroups: I.sample.fe.map((d) => d.levels), feSlopes: I.sample.fe.map((d) => d.slope?.values ?? null), w: I.weights, kq: k - 1, cohortT,
    method: opts.scheme === "time" ? "demean" : method, basisSolver, nc: basisCols.length });
  return { method, basisSolver: basisSolver as "direct" | "demean" };
}

/** The fit's FE dimensions as feols orders them (largest first), its weights and their square roots. */
function placeboFeDims(fit: Fit) {
  const I = fit.internals;
  const n = fit.nobs;
  const fe = I.sample.fe;
  const ord = fe.map((_, q) => q).sort((a, b) => fe[b].levels - fe[a].levels);
  const feCodes = new Int32Array(ord.length * n);
  ord.forEach((q, r) => feCodes.set(fe[q].codes, r * n));
  const feGroups = ord.map((q) => fe[q].levels);
  const feTypes = ord.map((q) => fe[q].type as FeType);
  const feSlopes = ord.map((q) => fe[q].slope?.values ?? null);
  const w = I.weights;
  const sw = w ? Float64Array.from(w, Math.sqrt) : null;
  return { feCodes, feGroups, feTypes, feSlopes, w, sw };
}

/** An orthonormal basis of the demeaned controls (every coefficient but the treatment j) and e_y, the outcome residualised on it. */
function placeboControls(eng: Engine, fit: Fit, j: number) {
  const I = fit.internals;
  const n = fit.nobs;
  const k = fit.coefNames.length;
  const kc = k - 1;
  const { q, kq, ey } = eng.scoped(() => {
    const K = kernels(eng);
    const qp = eng.allocF64(n * Math.max(kc, 1), "controls");
    const Qv = eng.f64(qp, n * Math.max(kc, 1));
    let c = 0;
    for (let a = 0; a < k; a++) if (a !== j) Qv.set(I.xTilde.subarray(a * n, (a + 1) * n), n * c++);
    const keep = eng.allocI32(Math.max(kc, 1));
    if (kc > 0) check(K.orthonormalize(qp, keep, n, kc, 1e-12), "orthonormalize");
    const ep = eng.putF64(I.yTilde, "outcome");
    if (kc > 0) check(K.projectOut(ep, n, kc, qp, 1), "projectOut");
    return { q: eng.getF64(qp, n * kc), kq: kc, ey: eng.getF64(ep, n) };
  });
  return { q, kq, ey };
}

/** 0, 1, ..., m - 1 */
function iota(m: number): Int32Array {
  const a = new Int32Array(m);
  for (let d = 0; d < m; d++) a[d] = d;
  return a;
}

/** Memory a caller keeps per draw on top of the run's own (e.g. a report's copies). */
export interface ExtraDrawBytes {
  bytes: number;
  what: string;
}

/**
 * Plan the memory of `draws` placebo draws before allocating them (bindings/engine/limits.ts):
 * per draw the coefficient (8 bytes) and its id (4, copied to every worker thread), the
 * per-thread result arrays (8) when threads > 1, and for `units` > 0 replayed assignments
 * (4 bytes a unit, copied to every worker, plus 4 while they are indexed). Throws a
 * WasmMemoryError with the numbers above `limit`. Returns the bytes.
 */
export function planPlaceboDraws(draws: number, threads = 1, units = 0, limit?: number, extra?: ExtraDrawBytes): number {
  checkCount("draws", draws);
  const workers = threads > 1 ? threads : 0;
  const parts = [`8 coefficient`, `${4 * (1 + workers)} id${workers ? ` (one copy per thread)` : ""}`];
  let per = 8 + 4 * (1 + workers);
  if (workers) {
    per += 8;
    parts.push("8 per-thread results");
  }
  if (units > 0) {
    per += 4 * units * (2 + workers);
    parts.push(`${4 * units * (2 + workers)} assignments of ${units} units`);
  }
  if (extra && extra.bytes > 0) {
    per += extra.bytes;
    parts.push(`${extra.bytes} ${extra.what}`);
  }
  return planDrawMemory({
    what: units > 0 ? "replayed placebo draws" : "placebo draws", option: "draws", count: draws, bytesPerDraw: per, parts: parts.join(", "), limit,
    hint: workers ? "or fewer threads" : undefined,
  });
}

/**
 * WASM memory the run's kernels stage beside what the arena already holds, at the peak of
 * the setup (the problem's n-length arrays, the blocks of basis columns) or of the draws
 * (the basis Gram matrix, or the blocks of demeaned draws); throws a WasmMemoryError with
 * the numbers when it cannot fit in the 4 GiB of the instance.
 */
function planPlaceboWasm(
  eng: Engine,
  P: Pick<PlaceboProblem, "n" | "U" | "T" | "feGroups" | "feSlopes" | "w" | "kq" | "cohortT" | "method" | "basisSolver"> & { nc: number },
): void {
  const n = P.n, Q = P.feGroups.length, C = P.cohortT.length, nb = P.U * C, nc = P.nc;
  const staged = n * (8 + 4 * Q + 8 * P.feSlopes.filter(Boolean).length + (P.w ? 16 : 0) + 8 * P.kq + 8);
  let work: number;
  let what: string;
  if (P.method === "basis") {
    const setup = 8 * n + 8 * P.U * P.T + 8 * nb * (P.kq + 2) + 8 * P.kq * nc + 8 * nc * nc +
      (P.basisSolver === "demean" ? 8 * n * BLOCK + 8 * nb * BLOCK : 0);
    const draws = 8 * nb * nb + 16 * nb + DRAW_CHUNK * (8 + 4 * P.U) + 16 * P.U;
    work = Math.max(setup, draws - staged);
    what = `for the ${nb} x ${nb} basis Gram matrix and its columns`;
  } else {
    work = 16 * n * BLOCK + 8 * P.U * BLOCK;
    what = `for blocks of ${BLOCK} draws`;
  }
  const need = staged + work;
  const free = eng.freeBytes;
  if (need > free) {
    throw new WasmMemoryError(
      `the placebo needs ${fmtBytes(need)} of WASM memory (${n.toLocaleString("en-US")} rows: ${fmtBytes(staged)} staged, ${fmtBytes(work)} ${what}) ` +
        `but only ${fmtBytes(free)} of the 4 GiB remain`,
      { rows: n, staged, work, need, free },
      P.method === "basis" ? "use method demean, or fewer units of assignment" : "use a subsample or fewer controls",
    );
  }
}

/** R-like label of a numeric level (as Frame's): integers without decimals. */
export function fmtLevel(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(15)));
}

function fmtNum(x: number): string {
  return Number.isNaN(x) ? "never" : String(x);
}

// ---------------------------------------------------------------------------------------
// Shared WASM staging

interface Staged {
  unit: number;
  year: number;
  dims: DemeanDims;
  sw: number;
  w: number;
  q: number;
  ey: number;
  cohortT: number;
}

/** Copy the problem's n-length arrays into the arena (inside a scope). */
function stage(eng: Engine, P: PlaceboProblem): Staged {
  const n = P.n;
  const unit = eng.putI32(P.unitIdx, "units");
  const year = eng.putI32(P.yearIdx, "years");
  const codesPtr = eng.putI32(P.feCodes, "FE codes");
  const slopePtrs = P.feSlopes.map((s) => (s ? eng.putF64(s, "slope") : 0));
  const w = P.w ? eng.putF64(P.w, "weights") : 0;
  const sw = P.sw ? eng.putF64(P.sw, "sqrt weights") : 0;
  const q = P.kq > 0 ? eng.putF64(P.q, "controls") : 0;
  const ey = eng.putF64(P.ey, "outcome");
  const cohortT = eng.putI32(P.cohortT.length ? P.cohortT : [0], "cohorts");
  return {
    unit, year, w, sw, q, ey, cohortT,
    dims: { n, codesPtr, groups: P.feGroups, types: P.feTypes, slopePtrs, wPtr: w },
  };
}

// ---------------------------------------------------------------------------------------
// Basis method

/** Blocks of the basis column list (fixed boundaries). */
export function basisBlockCount(P: PlaceboProblem): number {
  return Math.ceil(P.basisCols.length / BLOCK);
}

/**
 * H = B'M_F B for the basis columns of blocks [b0, b1): returns (U*C) x (number of columns)
 * column-major, the columns in basisCols order.
 */
export function basisBlocks(eng: Engine, P: PlaceboProblem, b0: number, b1: number, conv?: Convergence): Float64Array {
  const C = P.cohortT.length;
  const nb = P.U * C;
  const from = b0 * BLOCK, to = Math.min(b1 * BLOCK, P.basisCols.length);
  const out = new Float64Array(nb * Math.max(0, to - from));
  if (to <= from) return out;
  const K = kernels(eng);
  eng.scoped(() => {
    const S = stage(eng, P);
    const n = P.n;
    const colsPtr = eng.allocF64(n * BLOCK, "basis columns");
    const uK = eng.allocI32(BLOCK), tK = eng.allocI32(BLOCK);
    const cell = eng.allocF64(P.U * P.T, "unit-year cells");
    const hPtr = eng.allocF64(nb * BLOCK, "basis Gram block");
    for (let s = from; s < to; s += BLOCK) {
      const m = Math.min(BLOCK, to - s);
      const uv = eng.i32(uK, m), tv = eng.i32(tK, m);
      for (let c = 0; c < m; c++) {
        const a = P.basisCols[s + c];
        uv[c] = Math.floor(a / C);
        tv[c] = P.cohortT[a % C];
      }
      check(K.basisColumns(colsPtr, n, S.unit, S.year, m, uK, tK), "basisColumns");
      if (S.dims.groups.length > 0) record(conv, demeanPtr(eng, S.dims, m, colsPtr, colsPtr, P.tol, P.maxIter));
      check(K.unitYearAggregate(hPtr, cell, n, m, colsPtr, S.w, S.unit, S.year, P.U, P.T, C, S.cohortT), "unitYearAggregate");
      out.set(eng.f64(hPtr, nb * m), (s - from) * nb);
    }
  });
  return out;
}

/** G = H - P'P (symmetrised), g = B'e_y, raw = B'WB, from the H columns of every block. */
export function finishBasis(eng: Engine, P: PlaceboProblem, H: Float64Array): PlaceboBasis {
  const C = P.cohortT.length;
  const nb = P.U * C;
  const K = kernels(eng);
  return eng.scoped(() => {
    const S = stage(eng, P);
    const n = P.n;
    const cell = eng.allocF64(P.U * P.T, "unit-year cells");
    const kq = P.kq;
    // P = Q'B (kq x nb, as nb x kq from the aggregation), g, raw
    const pPtr = eng.allocF64(nb * Math.max(kq, 1));
    if (kq > 0) check(K.unitYearAggregate(pPtr, cell, n, kq, S.q, S.sw, S.unit, S.year, P.U, P.T, C, S.cohortT), "unitYearAggregate");
    const gPtr = eng.allocF64(nb);
    check(K.unitYearAggregate(gPtr, cell, n, 1, S.ey, S.sw, S.unit, S.year, P.U, P.T, C, S.cohortT), "unitYearAggregate");
    const ones = eng.allocF64(n);
    eng.f64(ones, n).fill(1);
    const rPtr = eng.allocF64(nb);
    check(K.unitYearAggregate(rPtr, cell, n, 1, ones, S.w, S.unit, S.year, P.U, P.T, C, S.cohortT), "unitYearAggregate");
    const g = eng.getF64(gPtr, nb);
    const raw = eng.getF64(rPtr, nb);
    const cols = P.basisCols;
    const nc = cols.length;
    // P'P over the basis columns (WASM gram of the kq x nc matrix)
    let PtP: Float64Array | null = null;
    if (kq > 0 && nc > 0) {
      const Pm = eng.f64(pPtr, nb * kq);
      const pc = new Float64Array(kq * nc);
      for (let x = 0; x < nc; x++) for (let l = 0; l < kq; l++) pc[x * kq + l] = Pm[l * nb + cols[x]];
      const pcp = eng.putF64(pc);
      const op = eng.allocF64(nc * nc);
      check(K.gram(op, kq, nc, pcp), "gram");
      PtP = eng.getF64(op, nc * nc);
    }
    return { gram: basisGram(nb, cols, H, PtP), g, raw };
  });
}

/**
 * G = H - P'P over the basis columns `cols` (nb x nb, zero elsewhere), H symmetrised: H holds
 * nb rows per basis column (basisBlocks' layout), PtP is nc x nc (null: no controls).
 */
export function basisGram(nb: number, cols: Int32Array, H: Float64Array, PtP: Float64Array | null): Float64Array {
  const nc = cols.length;
  const gram = new Float64Array(nb * nb);
  for (let x = 0; x < nc; x++) {
    const a = cols[x];
    for (let y = 0; y < nc; y++) {
      const b = cols[y];
      // H is symmetric up to the demeaning tolerance: average the two halves
      gram[a * nb + b] = 0.5 * (H[x * nb + b] + H[y * nb + a]) - (PtP ? PtP[x * nc + y] : 0);
    }
  }
  return gram;
}

/** The whole basis setup on one engine. */
export function computeBasis(eng: Engine, P: PlaceboProblem, conv?: Convergence): PlaceboBasis {
  const H = P.basisSolver === "direct" ? directBasis(eng, P) : basisBlocks(eng, P, 0, basisBlockCount(P), conv);
  return finishBasis(eng, P, H);
}

/**
 * H = B'M_F B exactly, without demeaning any column. With f the largest FE (D_f its
 * weighted counts, diagonal), S the smaller FEs' dummies and N = F_f'W F_S:
 *   B_a'P_F B_b = r_a'(F'WF)^- r_b = rf_a' D_f^-1 rf_b + s_a' C^- s_b,
 *   C = F_S'W F_S - N'D_f^-1 N (Schur complement, m x m), s_a = rs_a - N'D_f^-1 rf_a,
 * where rf_a, rs_a are the FE sums of basis column a (sparse: only the firms of unit u).
 * Any generalised inverse of C gives the same projection; a Cholesky factor that skips
 * dependent pivots is one. Cost O(n C + nb^2 m) instead of one demeaning per column.
 * Returns the same layout as basisBlocks: nb rows per basis column, in basisCols order.
 */
export function directBasis(eng: Engine, P: PlaceboProblem): Float64Array {
  const C = P.cohortT.length, nb = P.U * C;
  const cols = P.basisCols;
  const nc = cols.length;
  const { start, byUnit } = rowsByUnit(P);
  // B_a'W B_b for columns of the same unit
  const H = sameUnitGram(P);
  if (P.feGroups.length > 0) {
    const S = firmSchur(P);
    const { L, tFirm, tCol, tVal, nt } = schurSolves(P, S, start, byUnit);
    // H -= rho rho' (pairs of columns sharing a firm): triples sorted by firm
    subtractSharedFirms(H, nc, S.F, tFirm, tCol, tVal, nt);
    // H -= L'L (WASM gram)
    subtractLtL(eng, H, L, S.m, nc);
  }
  const out = new Float64Array(nb * nc);
  for (let x = 0; x < nc; x++) for (let y = 0; y < nc; y++) out[x * nb + cols[y]] = H[x * nc + y];
  return out;
}

// ---- the steps of directBasis

/** Rows grouped by unit (counting sort): unit u's rows are byUnit[start[u] .. start[u + 1]). */
function rowsByUnit(P: PlaceboProblem) {
  const n = P.n, U = P.U;
  const start = new Int32Array(U + 1);
  for (let i = 0; i < n; i++) start[P.unitIdx[i] + 1]++;
  for (let u = 0; u < U; u++) start[u + 1] += start[u];
  const byUnit = new Int32Array(n);
  {
    const pos = start.slice(0, U);
    for (let i = 0; i < n; i++) byUnit[pos[P.unitIdx[i]]++] = i;
  }
  return { start, byUnit };
}

/** B_a'W B_b for the basis columns of the same unit (suffix sums of weights over years); 0 across units. */
function sameUnitGram(P: PlaceboProblem): Float64Array {
  const n = P.n, U = P.U, T = P.T, C = P.cohortT.length;
  const cols = P.basisCols;
  const nc = cols.length;
  const w = P.w;
  const unitYearW = new Float64Array(U * (T + 1));
  for (let i = 0; i < n; i++) unitYearW[P.unitIdx[i] * (T + 1) + P.yearIdx[i]] += w ? w[i] : 1;
  for (let u = 0; u < U; u++) for (let t = T - 1; t >= 0; t--) unitYearW[u * (T + 1) + t] += unitYearW[u * (T + 1) + t + 1];
  const H = new Float64Array(nc * nc);
  // columns are sorted by unit: each unit's columns are one contiguous range
  for (let x0 = 0; x0 < nc; ) {
    const u = Math.floor(cols[x0] / C);
    let x1 = x0;
    while (x1 < nc && Math.floor(cols[x1] / C) === u) x1++;
    for (let x = x0; x < x1; x++) {
      const tx = P.cohortT[cols[x] % C];
      for (let y = x0; y < x1; y++) H[x * nc + y] = unitYearW[u * (T + 1) + Math.max(tx, P.cohortT[cols[y] % C])];
    }
    x0 = x1;
  }
  return H;
}

/**
 * The largest FE dimension (firms, F levels) eliminated in closed form: D_f (firm weights),
 * N = F_f'W F_S as CSR by firm over the m levels of the smaller dimensions, and the factor R
 * of the Schur complement F_S'W F_S - N'D^-1 N (dependent pivots skipped).
 */
function firmSchur(P: PlaceboProblem) {
  const n = P.n, Q = P.feGroups.length;
  const w = P.w;
  const F = P.feGroups[0];
  const fcode = P.feCodes.subarray(0, n);
  const offs: number[] = [];
  let m = 0;
  for (let q = 1; q < Q; q++) {
    offs.push(m);
    m += P.feGroups[q];
  }
  // small-FE codes with their offsets, (Q - 1) blocks of n
  const Qs = Q - 1;
  const sc = new Int32Array(Qs * n);
  for (let q = 1; q < Q; q++) for (let i = 0; i < n; i++) sc[(q - 1) * n + i] = offs[q - 1] + P.feCodes[q * n + i];
  const wv = w ?? new Float64Array(n).fill(1);
  // D_f, and N = F_f'W F_S as CSR by firm (each firm's rows accumulated in a dense scratch)
  const Df = new Float64Array(F);
  for (let i = 0; i < n; i++) Df[fcode[i]] += wv[i];
  const fStart = new Int32Array(F + 1);
  for (let i = 0; i < n; i++) fStart[fcode[i] + 1]++;
  for (let f = 0; f < F; f++) fStart[f + 1] += fStart[f];
  const byFirm = new Int32Array(n);
  {
    const pos = fStart.slice(0, F);
    for (let i = 0; i < n; i++) byFirm[pos[fcode[i]]++] = i;
  }
  const nPtr = new Int32Array(F + 1);
  const nIdx = new Int32Array(Math.max(1, n * Qs));
  const nVal = new Float64Array(Math.max(1, n * Qs));
  let nnz = 0;
  const dense = new Float64Array(Math.max(m, 1));
  for (let f = 0; f < F; f++) {
    const first = nnz;
    for (let r = fStart[f]; r < fStart[f + 1]; r++) {
      const i = byFirm[r];
      for (let q = 0; q < Qs; q++) {
        const k = sc[q * n + i];
        if (dense[k] === 0) nIdx[nnz++] = k;
        dense[k] += wv[i];
      }
    }
    for (let z = first; z < nnz; z++) {
      nVal[z] = dense[nIdx[z]];
      dense[nIdx[z]] = 0;
    }
    nPtr[f + 1] = nnz;
  }
  // Schur complement C = F_S'WF_S - N'D^-1 N, and its factor (dependent pivots skipped)
  const Cm = new Float64Array(m * m);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < Qs; q++) for (let q2 = 0; q2 < Qs; q2++) Cm[sc[q * n + i] * m + sc[q2 * n + i]] += wv[i];
  }
  for (let f = 0; f < F; f++) {
    for (let a = nPtr[f]; a < nPtr[f + 1]; a++) {
      const va = nVal[a] / Df[f];
      for (let b = nPtr[f]; b < nPtr[f + 1]; b++) Cm[nIdx[a] * m + nIdx[b]] -= va * nVal[b];
    }
  }
  const R = cholSkip(Cm, m);
  return { F, fcode, m, Qs, sc, wv, Df, nPtr, nIdx, nVal, R };
}

/**
 * Per basis column: rf (sparse over the unit's firms), s = rs - N'D^-1 rf and L = R^-T s; the
 * firm entries rf / sqrt(D_f) as (firm, column, value) triples for rho'rho.
 */
function schurSolves(P: PlaceboProblem, S: ReturnType<typeof firmSchur>, start: Int32Array, byUnit: Int32Array) {
  const n = P.n, C = P.cohortT.length;
  const cols = P.basisCols;
  const nc = cols.length;
  const { F, fcode, m, Qs, sc, wv, Df, nPtr, nIdx, nVal, R } = S;
  const L = new Float64Array(Math.max(m, 1) * nc);
  const firmVal = new Float64Array(F);
  const tf = new Int32Array(F);
  let tFirm = new Int32Array(1 << 16), tCol = new Int32Array(1 << 16), tVal = new Float64Array(1 << 16);
  let nt = 0;
  const rs = new Float64Array(Math.max(m, 1));
  // the rows' year, firm, small-FE codes and weight in unit order: sequential reads below
  const uYear = new Int32Array(n), uFirm = new Int32Array(n), uSc = new Int32Array(n * Qs), uW = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const i = byUnit[r];
    uYear[r] = P.yearIdx[i];
    uFirm[r] = fcode[i];
    uW[r] = wv[i];
    for (let q = 0; q < Qs; q++) uSc[r * Qs + q] = sc[q * n + i];
  }
  for (let x = 0; x < nc; x++) {
    const a = cols[x], u = Math.floor(a / C), t0 = P.cohortT[a % C];
    rs.fill(0);
    let ntf = 0;
    for (let r = start[u]; r < start[u + 1]; r++) {
      if (uYear[r] < t0) continue;
      const f = uFirm[r], wr = uW[r];
      if (firmVal[f] === 0) tf[ntf++] = f;
      firmVal[f] += wr;
      for (let q = 0; q < Qs; q++) rs[uSc[r * Qs + q]] += wr;
    }
    if (nt + ntf > tFirm.length) {
      const cap = Math.max(2 * tFirm.length, nt + ntf);
      const g1 = new Int32Array(cap), g2 = new Int32Array(cap), g3 = new Float64Array(cap);
      g1.set(tFirm.subarray(0, nt));
      g2.set(tCol.subarray(0, nt));
      g3.set(tVal.subarray(0, nt));
      tFirm = g1;
      tCol = g2;
      tVal = g3;
    }
    for (let z = 0; z < ntf; z++) {
      const f = tf[z];
      const v = firmVal[f];
      const d = v / Df[f];
      for (let b = nPtr[f]; b < nPtr[f + 1]; b++) rs[nIdx[b]] -= d * nVal[b];
      tFirm[nt] = f;
      tCol[nt] = x;
      tVal[nt++] = v / Math.sqrt(Df[f]);
      firmVal[f] = 0;
    }
    forwardSolve(R, m, rs);
    L.set(rs.subarray(0, m), x * m);
  }
  return { L, tFirm, tCol, tVal, nt };
}

/** H -= rho rho' over the pairs of columns that share a firm (the triples, sorted by firm here). */
function subtractSharedFirms(
  H: Float64Array, nc: number, F: number, tFirm: Int32Array, tCol: Int32Array, tVal: Float64Array, nt: number,
): void {
  const cnt = new Int32Array(F + 1);
  for (let z = 0; z < nt; z++) cnt[tFirm[z] + 1]++;
  for (let f = 0; f < F; f++) cnt[f + 1] += cnt[f];
  const oc = new Int32Array(nt), ov = new Float64Array(nt);
  const pos = cnt.slice(0, F);
  for (let z = 0; z < nt; z++) {
    const p = pos[tFirm[z]]++;
    oc[p] = tCol[z];
    ov[p] = tVal[z];
  }
  for (let f = 0; f < F; f++) {
    for (let p = cnt[f]; p < cnt[f + 1]; p++) {
      const row = oc[p] * nc, vp = ov[p];
      for (let q2 = cnt[f]; q2 < cnt[f + 1]; q2++) H[row + oc[q2]] -= vp * ov[q2];
    }
  }
}

/** H -= L'L, the Gram matrix of the Schur solves (WASM gram). */
function subtractLtL(eng: Engine, H: Float64Array, L: Float64Array, m: number, nc: number): void {
  if (m > 0 && nc > 0) {
    const LtL = eng.scoped(() => {
      const lp = eng.putF64(L, "Schur solves");
      const op = eng.allocF64(nc * nc);
      check(kernels(eng).gram(op, m, nc, lp), "gram");
      return eng.getF64(op, nc * nc);
    });
    for (let z = 0; z < nc * nc; z++) H[z] -= LtL[z];
  }
}

/**
 * Upper Cholesky factor of a PSD matrix (row-major m x m, overwritten) that skips a pivot
 * at most 1e-10 times its original diagonal (a dependent column): its row is zeroed, so
 * the factor gives a generalised inverse.
 */
function cholSkip(A: Float64Array, m: number): Float64Array {
  const diag = Float64Array.from({ length: m }, (_, i) => A[i * m + i]);
  for (let k = 0; k < m; k++) {
    let d = A[k * m + k];
    for (let l = 0; l < k; l++) d -= A[l * m + k] * A[l * m + k];
    if (!(d > 1e-10 * diag[k]) || !(diag[k] > 0)) {
      for (let j = k; j < m; j++) A[k * m + j] = 0;
      continue;
    }
    const r = Math.sqrt(d);
    A[k * m + k] = r;
    for (let j = k + 1; j < m; j++) {
      let s = A[k * m + j];
      for (let l = 0; l < k; l++) s -= A[l * m + k] * A[l * m + j];
      A[k * m + j] = s / r;
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) A[i * m + j] = 0;
  return A;
}

/** b <- R^-T b for the factor of cholSkip (skipped pivots give 0). */
function forwardSolve(R: Float64Array, m: number, b: Float64Array): void {
  for (let k = 0; k < m; k++) {
    const r = R[k * m + k];
    if (r === 0) {
      b[k] = 0;
      continue;
    }
    let s = b[k];
    for (let l = 0; l < k; l++) s -= R[l * m + k] * b[l];
    b[k] = s / r;
  }
}

/** Placebo coefficients of draws [d0, d0 + nd) by the basis method. */
export function basisDraws(
  eng: Engine, P: DrawPlan, B: PlaceboBasis, d0: number, nd: number, onChunk?: (done: number) => void,
): Float64Array {
  const out = new Float64Array(nd);
  const K = kernels(eng);
  const C = P.cohortT.length;
  eng.scoped(() => {
    const st = stagePerm(eng, P);
    const gram = eng.putF64(B.gram, "basis Gram matrix");
    const g = eng.putF64(B.g);
    const raw = eng.putF64(B.raw);
    const chunk = Math.min(DRAW_CHUNK, Math.max(nd, 1));
    const outB = eng.allocF64(chunk);
    const given = P.given ? eng.allocI32(chunk * P.U) : 0;
    for (let s = 0; s < nd; s += chunk) {
      const m = Math.min(chunk, nd - s);
      if (given) eng.i32(given, m * P.U).set(P.given!.subarray((d0 + s) * P.U, (d0 + s + m) * P.U));
      check(K.permDraws(
        0, outB, st.work, st.assign, st.idx, st.rng, P.scheme, P.U, P.keyHi, P.keyLo, d0 + s, m,
        P.strataStart.length - 1, st.strata, st.order, st.cohort0, P.cand.length, st.cand, given, C, gram, g,
        raw, P.collinTol
      ), "permDraws");
      out.set(eng.f64(outB, m), s);
      onChunk?.(s + m);
    }
  });
  return out;
}

interface StagedPerm {
  strata: number;
  order: number;
  cohort0: number;
  cand: number;
  work: number;
  assign: number;
  idx: number;
  /** generator state (assembly/rng.ts) */
  rng: number;
}

function stagePerm(eng: Engine, P: DrawPlan): StagedPerm {
  return {
    strata: eng.putI32(P.strataStart),
    order: eng.putI32(P.order),
    cohort0: eng.putI32(P.cohort0),
    cand: eng.putI32(P.cand.length ? P.cand : [0]),
    work: eng.allocI32(P.U),
    assign: eng.allocI32(P.U),
    idx: eng.allocI32(P.U),
    rng: eng.alloc(RNG_STATE_BYTES, "generator state"),
  };
}

/** Cohort index of each unit in draws [d0, d0 + nd) (nd x U, -1 never treated). */
export function drawAssignments(eng: Engine, P: DrawPlan, d0: number, nd: number): Int32Array {
  if (P.given) return P.given.slice(d0 * P.U, (d0 + nd) * P.U);
  const K = kernels(eng);
  return eng.scoped(() => {
    const st = stagePerm(eng, P);
    const outA = eng.allocI32(Math.max(nd, 1) * P.U);
    check(K.permDraws(
      outA, 0, st.work, st.assign, st.idx, st.rng, P.scheme, P.U, P.keyHi, P.keyLo, d0, nd, P.strataStart.length - 1,
      st.strata, st.order, st.cohort0, P.cand.length, st.cand, 0, P.cohortT.length, 0, 0, 0, P.collinTol
    ), "permDraws");
    return eng.getI32(outA, nd * P.U);
  });
}

/** First treated year of each unit in draws [d0, d0 + nd) (nd x U, NaN never treated). */
export function drawAdoptionYears(eng: Engine, P: DrawPlan, d0: number, nd: number): Float64Array {
  const a = drawAssignments(eng, P, d0, nd);
  return Float64Array.from(a, (c) => (c < 0 ? NaN : P.years[P.cohortT[c]]));
}

// ---------------------------------------------------------------------------------------
// Demean method (general)

/** Number of blocks of draws (fixed boundaries). */
export function drawBlockCount(P: PlaceboProblem): number {
  return Math.ceil(P.nDraws / BLOCK);
}

export interface DemeanDrawsOut {
  b: Float64Array;
  /** the residualised placebo treatments (n x nd), when asked for */
  x?: Float64Array;
}

/**
 * Placebo coefficients of draws in blocks [b0, b1) by demeaning each draw's treatment.
 */
export function demeanDraws(
  eng: Engine, P: PlaceboProblem, b0: number, b1: number, onChunk?: (done: number) => void, keepX = false, conv?: Convergence,
): DemeanDrawsOut {
  const d0 = b0 * BLOCK, d1 = Math.min(b1 * BLOCK, P.nDraws);
  const nd = Math.max(0, d1 - d0);
  const b = new Float64Array(nd);
  const xs = keepX ? new Float64Array(P.n * nd) : undefined;
  if (nd === 0) return { b, x: xs };
  const K = kernels(eng);
  const n = P.n;
  eng.scoped(() => {
    const S = stage(eng, P);
    const dPtr = eng.allocF64(n * BLOCK, "placebo treatments");
    const tPtr = eng.allocF64(n * BLOCK, "demeaned placebo treatments");
    const aPtr = eng.allocI32(P.U * BLOCK);
    const num = eng.allocF64(BLOCK), den = eng.allocF64(BLOCK), raw = eng.allocF64(BLOCK);
    for (let s = d0; s < d1; s += BLOCK) {
      const m = Math.min(BLOCK, d1 - s);
      const assign = drawAssignments(eng, P, s, m); // may grow memory: take the view after
      eng.i32(aPtr, m * P.U).set(assign);
      check(K.treatColumns(dPtr, n, S.unit, S.year, P.U, m, aPtr, S.cohortT), "treatColumns");
      if (S.dims.groups.length > 0) record(conv, demeanPtr(eng, S.dims, m, dPtr, tPtr, P.tol, P.maxIter));
      else eng.f64(tPtr, n * m).set(eng.f64(dPtr, n * m));
      if (S.sw) check(K.scaleRows(tPtr, n, m, S.sw), "scaleRows");
      if (P.kq > 0) check(K.projectOut(tPtr, n, P.kq, S.q, m), "projectOut");
      check(K.treatStats(num, den, raw, n, m, dPtr, tPtr, S.sw, S.ey), "treatStats");
      const nv = eng.f64(num, m), dv = eng.f64(den, m), rv = eng.f64(raw, m);
      for (let c = 0; c < m; c++) b[s - d0 + c] = dv[c] > P.collinTol * rv[c] && rv[c] > 0 ? nv[c] / dv[c] : NaN;
      if (xs) xs.set(eng.f64(tPtr, n * m), (s - d0) * n);
      onChunk?.(s + m - d0);
    }
  });
  return { b, x: xs };
}

// ---------------------------------------------------------------------------------------
// Results

export function pValues(b: number, draws: Float64Array, tol = TIE_TOL): Pick<PlaceboResult, "p" | "ties" | "valid"> {
  let N = 0, two = 0, left = 0, right = 0, tie2 = 0, tie1 = 0;
  const ab = Math.abs(b);
  for (const x of draws) {
    if (!Number.isFinite(x)) continue;
    N++;
    if (Math.abs(x) >= ab - tol) two++;
    if (x <= b + tol) left++;
    if (x >= b - tol) right++;
    if (Math.abs(Math.abs(x) - ab) <= tol) tie2++;
    if (Math.abs(x - b) <= tol) tie1++;
  }
  const pv = (c: number): PValue => {
    const p = N > 0 ? c / N : NaN;
    return { p, count: c, mcse: N > 0 ? Math.sqrt((p * (1 - p)) / N) : NaN };
  };
  return {
    valid: N,
    p: { twoSided: pv(two), left: pv(left), right: pv(right) },
    ties: { twoSided: N ? tie2 / N : 0, oneSided: N ? tie1 / N : 0 },
  };
}

export interface AssembleInput {
  opts: PlaceboOptions;
  P: DrawPlan;
  draws: Float64Array;
  shifts?: ShiftRow[];
  warnings: string[];
  threads: number;
  setupMs: number;
  drawsMs: number;
  conv?: Convergence;
}

export function assemblePlacebo(a: AssembleInput): PlaceboResult {
  const { P, opts, draws } = a;
  const pv = pValues(P.estimate, draws, opts.tieTol ?? TIE_TOL);
  const warn = (m: string) => {
    a.warnings.push(m);
    opts.onWarning?.(m);
  };
  if (a.conv && a.conv.failed > 0) {
    warn(`the FE projections of the placebo columns did not converge in ${a.conv.failed} of ${a.conv.calls} demeaning calls ` +
      `(largest criterion ${a.conv.criterion.toExponential(2)}, tolerance ${P.tol}): the draws may be inaccurate; raise fixefIter or loosen fixefTol`);
  }
  const bad = P.nDraws - pv.valid;
  if (bad > 0) warn(`${bad} of ${P.nDraws} draws gave a placebo treatment absorbed by the fixed effects and controls (NaN, left out of the p-values)`);
  if (opts.scheme !== "time" && Math.max(pv.ties.twoSided, pv.ties.oneSided) > 0.01) {
    warn(`${(100 * Math.max(pv.ties.twoSided, pv.ties.oneSided)).toFixed(1)}% of the draws tie with the estimate (within ${opts.tieTol ?? TIE_TOL}): the p-values depend on how ties are counted`);
  }
  const totalMs = a.setupMs + a.drawsMs;
  return {
    scheme: opts.scheme,
    treatment: opts.treatment,
    estimate: P.estimate,
    draws,
    drawIds: P.drawIds,
    ...pv,
    shifts: a.shifts,
    method: P.method,
    units: P.U,
    cohorts: Array.from(P.cohortT, (t) => P.years[t]),
    basisColumns: P.method === "basis" ? P.basisCols.length : 0,
    basisSolver: P.method === "basis" ? P.basisSolver : undefined,
    seed: opts.seed ?? 1,
    threads: a.threads,
    warnings: a.warnings,
    timing: {
      setupMs: a.setupMs,
      drawsMs: a.drawsMs,
      totalMs,
      drawsPerSecond: totalMs > 0 ? (P.nDraws / totalMs) * 1000 : Infinity,
    },
  };
}

/**
 * Standard errors of the in-time placebo coefficients under the fit's vcov: the sandwich
 * entry of one coefficient is a function of its residualised regressor x and the full
 * residuals e = e_y - b x only (FWL); the small-sample factor is the fit's own, read off
 * the fit's treatment coefficient (same n, K and clusters).
 */
export function shiftRows(fit: Fit, P: PlaceboProblem, opts: PlaceboOptions, b: Float64Array, X: Float64Array): ShiftRow[] {
  const n = P.n;
  const I = fit.internals;
  const k = fit.coefNames.length;
  const j = fit.coefNames.indexOf(opts.treatment);
  // the fit's own treatment, residualised on the controls (Q)
  const x0 = I.xTilde.slice(j * n, (j + 1) * n);
  for (let l = 0; l < P.kq; l++) {
    let f = 0;
    for (let i = 0; i < n; i++) f += P.q[l * n + i] * x0[i];
    for (let i = 0; i < n; i++) x0[i] -= f * P.q[l * n + i];
  }
  const v = fit.vcov;
  let codes: Int32Array | null = null;
  let G = 0;
  if (v.type === "cluster" && v.vars.length === 1 && !v.vars[0].includes("^")) {
    const fe = I.sample.fe.find((d) => d.name === v.vars[0] && d.type !== 1);
    if (fe) {
      codes = fe.codes;
      G = fe.levels;
    } else {
      const c = I.frame.codes(v.vars[0]);
      const map = new Map<number, number>();
      codes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const x = c.codes[I.sample.rows[i]];
        let m = map.get(x);
        if (m === undefined) map.set(x, (m = map.size));
        codes[i] = m;
      }
      G = map.size;
    }
  }
  const rawVar = (x: Float64Array, e: Float64Array): number => {
    let S = 0;
    for (let i = 0; i < n; i++) S += x[i] * x[i];
    if (v.type === "iid") {
      let ssr = 0;
      for (let i = 0; i < n; i++) ssr += e[i] * e[i];
      return ssr / S;
    }
    if (v.type === "hetero") {
      let m = 0;
      for (let i = 0; i < n; i++) m += (x[i] * e[i]) ** 2;
      return m / (S * S);
    }
    if (!codes) return NaN;
    const sc = new Float64Array(G);
    for (let i = 0; i < n; i++) sc[codes[i]] += x[i] * e[i];
    let m = 0;
    for (let g = 0; g < G; g++) m += sc[g] * sc[g];
    return m / (S * S);
  };
  const factor = (fit.se[opts.treatment] ** 2) / rawVar(x0, I.residuals);
  void k;
  const shifts = Array.from(P.drawIds);
  return shifts.map((s, d) => {
    const x = X.subarray(d * n, (d + 1) * n);
    const est = b[d];
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) e[i] = P.ey[i] - est * x[i];
    const se = Math.sqrt(factor * rawVar(x, e));
    const t = est / se;
    return { shift: s, estimate: est, se, t, p: pval2(t, fit.df) };
  });
}

/**
 * Randomization inference for the DiD coefficient `opts.treatment` of `fit`, on one engine
 * (single thread; see placebo-node.ts for worker threads): the draws, p-values and report,
 * with the fit's observations and the rows it removed (and why), as the CLI prints them.
 */
export function placebo(eng: Engine, fit: Fit, opts: PlaceboOptions): PlaceboResult {
  return withSample(fit, placeboDraws(eng, fit, opts));
}

/** A result on `fit` with the fit's nobs and removed rows (placebo(), its threaded and chunked runs). */
export function withSample(fit: Pick<Fit, "nobs" | "removed">, r: PlaceboResult): PlaceboResult {
  return { ...r, nobs: fit.nobs, removed: fit.removed };
}

function placeboDraws(eng: Engine, fit: Fit, opts: PlaceboOptions): PlaceboResult {
  const t0 = now();
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const P = preparePlacebo(eng, fit, opts, warn);
  const total = P.nDraws;
  const conv = newConvergence();
  if (opts.scheme === "time") {
    const r = demeanDraws(eng, { ...P, method: "demean" }, 0, drawBlockCount(P), undefined, true, conv);
    const t1 = now();
    const shifts = shiftRows(fit, P, opts, r.b, r.x!);
    opts.onProgress?.(total, total);
    return assemblePlacebo({ opts, P: { ...P, method: "demean" }, draws: r.b, shifts, warnings, threads: 1, setupMs: t1 - t0, drawsMs: 0, conv });
  }
  if (P.method === "basis") return placeboFromBasis(eng, P, computeBasis(eng, P, conv), opts, { t0, warnings, conv });
  const t1 = now();
  const setupMs = t1 - t0;
  const draws = demeanDraws(eng, P, 0, drawBlockCount(P), (done) => opts.onProgress?.(done, total), false, conv).b;
  const drawsMs = now() - t1;
  return assemblePlacebo({ opts, P, draws, warnings, threads: 1, setupMs, drawsMs, conv });
}

/**
 * The draws of the basis method and the result, from the basis aggregates (G, g, raw): the
 * one path of placebo() in memory and of the placebo out of core (inference/placebo-cells.ts,
 * its aggregates summed in SQL). `t0` is when the setup began (its time counts the basis).
 */
export function placeboFromBasis(
  eng: Engine, P: DrawPlan, B: PlaceboBasis, opts: PlaceboOptions, run: { t0: number; warnings: string[]; conv?: Convergence },
): PlaceboResult {
  const total = P.nDraws;
  const t1 = now();
  const draws = basisDraws(eng, P, B, 0, total, (done) => opts.onProgress?.(done, total));
  const drawsMs = now() - t1;
  return assemblePlacebo({ opts, P, draws, warnings: run.warnings, threads: 1, setupMs: t1 - run.t0, drawsMs, conv: run.conv });
}
