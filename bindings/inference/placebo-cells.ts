// The placebo's basis method from (unit, year) cell sums instead of rows: what the placebo
// out of core pulls back from the engine (sql/placebo-sql.ts; the cell's type is in
// base/aggregates.ts, below both siblings; composed by cli/sql-tools.ts). The
// plan (units in label order, years, cohorts, strata, the draws, the needed basis columns) is
// the in-memory one (placebo.ts placeboDrawPlan) with the same checks and messages, so the
// same seed gives the same draws; the basis aggregates are the in-memory ones summed over the
// cells of a unit from a cohort's first year on:
//   g = B'e_y, raw = B'WB, P_c = X_c'B (per control), H = B'M_F B (from each demeaned basis
//   column's cell sums), G = H - P'(X_c'X_c)^-1 P (placebo.ts basisGram),
// and the draws and the result come from placebo.ts placeboFromBasis, the in-memory path.
import type { Engine } from "../engine/wasm.js";
import type { Removed } from "../core/sample.js";
import { OptionError, SampleError } from "../base/errors.js";
import type { PlaceboCell } from "../base/aggregates.js";
import {
  placeboCounts, checkScheme, cohortOfYearIn, strataOrder, placeboDrawPlan, adoptionNotConstant, treatmentDiffers, basisGram,
  placeboFromBasis, withSample, fmtLevel, type DrawPlan, type PlaceboOptions, type PlaceboResult, type PlaceboBasis,
} from "./placebo.js";

/** A (unit, year) cell (base/aggregates.ts PlaceboCell, made by sql/placebo-sql.ts). */
export type PlaceboCellSums = PlaceboCell;

/** The plan of an out-of-core run and how its cells are indexed. */
export interface CellPlan {
  P: DrawPlan;
  /** the units' text keys in the engine, in the plan's order */
  unitKeys: string[];
  T: number;
  /** cell index u * T + t of a unit key and a year; -1 when not a cell */
  cell: (unit: string, year: number) => number;
  /** the basis columns (unit key, first year, cohort index), in P.basisCols order */
  specs: { unit: string; year: number; cohort: number }[];
  /** the cohorts' first years */
  cohortYears: number[];
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** Options the basis method from cells cannot run, refused with the way out (checked again by planFromCells; the CLI calls it before any work). */
export function refuseOptions(opts: PlaceboOptions): void {
  checkScheme(opts.scheme);
  if (opts.scheme === "time") {
    throw new OptionError("the in-time placebo (--scheme time) is not computed out of core: its standard errors need each row's residual under the fit's vcov",
      undefined, "run hdfe placebo --scheme time without --engine (in memory, --engine wasm)");
  }
  if (opts.method === "demean") {
    throw new OptionError("--method demean is not computed out of core: it demeans every draw's treatment (one FE solve per draw in the database)",
      undefined, "use --method basis or auto (the basis columns are demeaned in the database once), or run without --engine (in memory)");
  }
  if (opts.method !== undefined && !["auto", "basis"].includes(opts.method)) throw new OptionError(`unknown method "${opts.method}"`, undefined, "use auto, basis or demean");
  const bs = opts.basisSolver ?? "auto";
  if (!["auto", "direct", "demean"].includes(bs)) throw new OptionError(`unknown basis solver "${bs}"`, undefined, "use auto, direct or demean");
}

/** The plan from the cells: units in label order, years, each unit's adoption year and stratum (checked as in memory), the draws. */
export function planFromCells(
  cells: PlaceboCellSums[], opts: PlaceboOptions, fit: { coefNames: string[]; collinear: string[]; coef: Record<string, number>; nobs: number },
  warn: (m: string) => void,
): CellPlan {
  refuseOptions(opts);
  if (!fit.coefNames.includes(opts.treatment)) {
    const why = fit.collinear.includes(opts.treatment) ? " (it was removed as collinear)" : "";
    throw new OptionError(`the treatment "${opts.treatment}" is not a coefficient of the fit${why}`, { coefficients: fit.coefNames },
      `coefficients: ${fit.coefNames.join(", ")}`);
  }
  const { nDrawsOpt, threads, rng, tol, collinTol } = placeboCounts(opts);
  if (cells.some((c) => c.unit === null)) throw new OptionError(`the unit column "${opts.unit}" is missing in rows of the estimation sample`, undefined, `drop those rows, or run without --engine`);
  if (cells.some((c) => c.year === null)) throw new OptionError(`the year column "${opts.year}" is missing in rows of the estimation sample`);
  // units in label order (numbers by value, text by code units), as the in-memory frame sorts them
  const byKey = new Map<string, number | null>();
  for (const c of cells) byKey.set(c.unit!, c.unitValue);
  const keys = [...byKey.keys()];
  const numeric = keys.every((k) => byKey.get(k) !== null);
  keys.sort(numeric ? (a, b) => byKey.get(a)! - byKey.get(b)! : cmp);
  const unitLabels = keys.map((k) => (numeric ? fmtLevel(byKey.get(k)!) : k));
  const U = keys.length;
  if (U < 2) throw new SampleError(`the unit column "${opts.unit}" has a single level in the estimation sample: nothing to permute`);
  const unitIdx = new Map(keys.map((k, u) => [k, u]));
  const years = Float64Array.from([...new Set(cells.map((c) => c.year!))].sort((a, b) => a - b));
  const T = years.length;
  const yearIdx = new Map(Array.from(years, (y, t) => [y, t]));
  const cohortOfYear = cohortOfYearIn(years);
  // per unit: adoption year, stratum, last year
  const lo = new Float64Array(U).fill(Infinity), hi = new Float64Array(U).fill(-Infinity);
  const sLo: (number | string | null)[] = new Array(U).fill(null), sHi: (number | string | null)[] = new Array(U).fill(null);
  const lastT = new Int32Array(U).fill(-1);
  let mismatch = 0, strataMissing = 0;
  for (const c of cells) {
    const u = unitIdx.get(c.unit!)!;
    lo[u] = Math.min(lo[u], c.adoptMin);
    hi[u] = Math.max(hi[u], c.adoptMax);
    lastT[u] = Math.max(lastT[u], yearIdx.get(c.year!)!);
    mismatch += c.mismatch;
    strataMissing += c.strataMissing;
    if (c.strataMin !== null && (sLo[u] === null || cmp(c.strataMin, sLo[u]!) < 0)) sLo[u] = c.strataMin;
    if (c.strataMax !== null && (sHi[u] === null || cmp(c.strataMax, sHi[u]!) > 0)) sHi[u] = c.strataMax;
  }
  const never = (a: number) => (a === Infinity ? NaN : a);
  for (let u = 0; u < U; u++) if (lo[u] !== hi[u]) throw adoptionNotConstant(opts, unitLabels[u], never(lo[u]), never(hi[u]));
  const unitAdopt = Float64Array.from(lo, never);
  const unitT = Int32Array.from(unitAdopt, (a) => cohortOfYear(a));
  if (mismatch > 0) warn(treatmentDiffers(opts, mismatch, fit.nobs));
  let order: Int32Array, strataStart: Int32Array;
  if (opts.strata) {
    if (strataMissing > 0) throw new OptionError(`the strata column "${opts.strata}" is missing in rows of the estimation sample`);
    for (let u = 0; u < U; u++) if (sLo[u] !== sHi[u]) throw new OptionError(`the strata column "${opts.strata}" is not constant within ${opts.unit} ${unitLabels[u]}`);
    const levels = [...new Set(sLo as (number | string)[])].sort(cmp);
    const rank = new Map(levels.map((s, r) => [s, r]));
    ({ order, strataStart } = strataOrder(Int32Array.from(sLo, (s) => rank.get(s!)!), levels.length));
  } else {
    order = Int32Array.from({ length: U }, (_, u) => u);
    strataStart = Int32Array.from([0, U]);
  }
  const plan = placeboDrawPlan({ opts, U, T, unitLabels, unitAdopt, unitT, cohortOfYear, threads, nDrawsOpt, order, strataStart, lastT });
  const nb = U * plan.C;
  if (nb * nb * 8 > 2 * 1024 ** 3) {
    throw new OptionError(`the basis method needs a ${nb} x ${nb} Gram matrix (${((nb * nb * 8) / 1024 ** 3).toFixed(1)} GiB)`, undefined,
      "run without --engine (in memory, --method demean), or with fewer units of assignment");
  }
  const P: DrawPlan = {
    U, unitLabels, years, estimate: fit.coef[opts.treatment], scheme: plan.scheme, order, strataStart, cohort0: plan.cohort0,
    cohortT: plan.cohortT, cand: plan.cand, given: plan.given, drawIds: plan.drawIds, nDraws: plan.nDraws, keyHi: rng.keyHi, keyLo: rng.keyLo,
    basisCols: plan.basisCols, method: "basis", basisSolver: "demean", tol, collinTol,
  };
  const C = plan.C;
  const specs = Array.from(plan.basisCols, (a) => ({ unit: keys[Math.floor(a / C)], year: years[plan.cohortT[a % C]], cohort: a % C }));
  const cohortYears = Array.from(plan.cohortT, (t) => years[t]);
  const cell = (unit: string, year: number) => {
    const u = unitIdx.get(unit), t = yearIdx.get(year);
    return u === undefined || t === undefined ? -1 : u * T + t;
  };
  return { P, unitKeys: keys, T, cell, specs, cohortYears };
}

/**
 * The basis aggregates from the cells and H = B'M_F B given as the demeaned basis columns'
 * cell sums (`sums`: U * T a column, in basisCols order) or as B'P_F B (`pf`: nc x nc, the
 * direct projection); `ctrlInv` the controls' cross-product inverse.
 */
export function basisFromCells(
  plan: CellPlan, cells: PlaceboCellSums[], kc: number, ctrlInv: Float64Array | null, h: { sums: Float64Array } | { pf: Float64Array },
): PlaceboBasis {
  const { P, T } = plan;
  const U = P.U, C = P.cohortT.length, nb = U * C, nCells = U * T;
  const cols = P.basisCols, nc = cols.length;
  // cell tables: w, w e_y, w d_c
  const W = new Float64Array(nCells), E = new Float64Array(nCells), X = new Float64Array(nCells * kc);
  for (const c of cells) {
    const i = plan.cell(c.unit!, c.year!);
    W[i] = c.w;
    E[i] = c.ey;
    for (let l = 0; l < kc; l++) X[l * nCells + i] = c.ctrl[l];
  }
  /** sum over the years >= each cohort of a cell table (U * T) -> nb, into out at off */
  const suffix = (tab: Float64Array, off: number, out: Float64Array, at: number) => {
    for (let u = 0; u < U; u++) {
      let s = 0, c = C - 1;
      for (let t = T - 1; t >= 0; t--) {
        s += tab[off + u * T + t];
        while (c >= 0 && P.cohortT[c] === t) out[at + u * C + c--] = s;
      }
      for (; c >= 0; c--) out[at + u * C + c] = s;
    }
  };
  const g = new Float64Array(nb), raw = new Float64Array(nb);
  suffix(E, 0, g, 0);
  suffix(W, 0, raw, 0);
  const H = new Float64Array(nb * nc);
  if ("sums" in h) for (let x = 0; x < nc; x++) suffix(h.sums, x * nCells, H, x * nb);
  else {
    // B_a'WB_b (the same unit: its weight from the later cohort's first year on) - B_a'P_F B_b
    for (let x = 0; x < nc; x++) {
      const ux = Math.floor(cols[x] / C), cx = cols[x] % C;
      for (let y = 0; y < nc; y++) {
        const uy = Math.floor(cols[y] / C), cy = cols[y] % C;
        H[x * nb + cols[y]] = (ux === uy ? raw[ux * C + Math.max(cx, cy)] : 0) - h.pf[x * nc + y];
      }
    }
  }
  let PtP: Float64Array | null = null;
  if (kc > 0 && nc > 0) {
    const Pc = new Float64Array(kc * nb);
    for (let l = 0; l < kc; l++) suffix(X, l * nCells, Pc, l * nb);
    // M = inv P (kc x nc), PtP = P'M
    const M = new Float64Array(kc * nc);
    for (let y = 0; y < nc; y++) {
      for (let l = 0; l < kc; l++) {
        let s = 0;
        for (let m = 0; m < kc; m++) s += ctrlInv![l + m * kc] * Pc[m * nb + cols[y]];
        M[y * kc + l] = s;
      }
    }
    PtP = new Float64Array(nc * nc);
    for (let x = 0; x < nc; x++) {
      for (let y = 0; y < nc; y++) {
        let s = 0;
        for (let l = 0; l < kc; l++) s += Pc[l * nb + cols[x]] * M[y * kc + l];
        PtP[x * nc + y] = s;
      }
    }
  }
  return { gram: basisGram(nb, cols, H, PtP), g, raw };
}

/** The draws and the result from the basis aggregates (placebo.ts placeboFromBasis), with the fit's sample counts. */
export function placeboFromCells(
  eng: Engine, plan: CellPlan, B: PlaceboBasis, opts: PlaceboOptions,
  run: { t0: number; warnings: string[]; conv: { calls: number; failed: number; criterion: number }; nobs: number; removed: Removed },
): PlaceboResult {
  const r = placeboFromBasis(eng, plan.P, B, opts, { t0: run.t0, warnings: run.warnings, conv: run.conv });
  return withSample(run, r);
}
