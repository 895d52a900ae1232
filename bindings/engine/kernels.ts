// Typed view of the WASM exports (assembly/index.ts) and thin wrappers that turn status
// codes into named errors. Pointers are byte offsets into the engine's memory.
import type { Engine } from "./wasm.js";
import {
  KernelError, NonConvergenceError, SingularError, KernelArgumentError, EmptyGroupError, SeparationError, type HdfeError,
} from "../base/errors.js";
import { demeanContext } from "./context.js";

/** The kernels' status codes (assembly/status.ts). */
export const STATUS = { OK: 0, NOT_CONVERGED: 1, SINGULAR: 2, BAD_ARGUMENT: 3, EMPTY_GROUP: 4, SEPARATION: 5 } as const;

export type { KernelExports } from "./exports.js";

type StatusName = Exclude<keyof typeof STATUS, "OK">;

/** The error class of each non-OK status. */
export const STATUS_ERRORS: Record<StatusName, new (message: string, details?: Record<string, unknown>) => HdfeError> = {
  NOT_CONVERGED: NonConvergenceError,
  SINGULAR: SingularError,
  BAD_ARGUMENT: KernelArgumentError,
  EMPTY_GROUP: EmptyGroupError,
  SEPARATION: SeparationError,
};

/** The error for a kernel's non-OK status (an unknown code is a KernelError). */
export function statusError(status: number, what: string): HdfeError {
  const name = (Object.keys(STATUS_ERRORS) as StatusName[]).find((k) => STATUS[k] === status);
  const details = { kernel: what, status, statusName: name ?? "unknown" };
  if (!name) return new KernelError(`${what} failed with unknown status ${status}`, details);
  return new STATUS_ERRORS[name](`${what} failed: ${name.toLowerCase().replace("_", " ")} (status ${status})`, details);
}

/** Throw the status's error class unless the kernel returned OK. */
export function check(status: number, what: string): void {
  if (status !== STATUS.OK) throw statusError(status, what);
}

/** FE dimension type as the demean kernel knows it. */
export type FeType = 0 | 1 | 2; // plain | slope only | FE + slope

export interface DemeanDims {
  n: number;
  /** one pointer per dimension is not needed: codes live in one Q*n block */
  codesPtr: number;
  groups: number[];
  types: FeType[];
  /** pointer to each dimension's slope variable (0 if none) */
  slopePtrs: number[];
  /** pointer to n weights, or 0 */
  wPtr: number;
}

/**
 * The fixefAlgo option (base/options.ts). "auto": accelerated projections, LSMR for the
 * columns they leave after `switchAfter` steps (demeanAuto below); "map", "cg" (preconditioned
 * CG on the normal equations), "lsmr": LSMR with the diagonal preconditioner
 * (assembly/demean-lsmr.ts). LSMR's iterations are reported in cgIterations (the Krylov
 * iterations of the call).
 */
export type DemeanAlgo = "auto" | "map" | "cg" | "lsmr";
/** What demeanPtr takes: the option's values and "map-cg", the kernel's projections handing over to CG (auto until LSMR; bench and tests). */
export type KernelAlgo = DemeanAlgo | "map-cg";
/** The kernel's algo codes (assembly/demean.ts); "auto" is two kernel calls (map, then lsmr). */
export const ALGO = { "map-cg": 0, map: 1, cg: 2, lsmr: 3 } as const;

export interface DemeanInfo {
  /** accelerated MAP steps plus CG iterations (each the largest over the columns) */
  iterations: number;
  /** accelerated MAP steps (the largest over the columns) */
  mapIterations: number;
  /** CG iterations, or LSMR's with algo lsmr (the largest over the columns that went to them) */
  cgIterations: number;
  /** largest final criterion over the columns */
  criterion: number;
  /** every column converged */
  converged: boolean;
  /** threads the columns were split across */
  threads: number;
  /** a demeaned column came out with a larger sum of squares than it went in (not converged) */
  grew?: boolean;
  /**
   * Each column's own record, in the call's column order (threads: 1 each): what the column
   * reports when demeaned alone, since convergence is per column (worker threads send theirs
   * back: bindings/platform/demean-node.ts).
   */
  columns?: DemeanInfo[];
}

/**
 * A multi-threaded demeaner (Node: bindings/platform/demean-node.ts registers one when imported).
 * It must give the same bits as the single-threaded kernel: it splits the K columns, and
 * the kernel's per-column convergence makes each column's result independent of the others.
 */
export type ParallelDemean = (
  eng: Engine, d: DemeanDims, K: number, xPtr: number, outPtr: number, tol: number, maxIter: number,
  algo: KernelAlgo, switchAfter: number, threads: number,
) => DemeanInfo;

let parallel: ParallelDemean | null = null;

/** Install (or remove, with null) the multi-threaded demeaner used when threads > 1. */
export function setParallelDemean(impl: ParallelDemean | null): void {
  parallel = impl;
}

/** Whether threads > 1 can be honoured here (false in browsers, or in Node before bindings/platform/demean-node.ts is loaded). */
export function parallelDemeanAvailable(): boolean {
  return parallel !== null;
}

/**
 * The demean kernel's scratch for K columns is fixed + perCol K f64 values (sizes and types in
 * WASM); with LSMR (n rows given) its observation-space vectors and scalars come on top.
 */
function scratchLine(eng: Engine, Q: number, gPtr: number, tPtr: number, lsmrRows = 0): { fixed: number; perCol: number } {
  const s1 = eng.kernels.demeanScratch(Q, gPtr, tPtr, 1), s2 = eng.kernels.demeanScratch(Q, gPtr, tPtr, 2);
  const u = lsmrRows > 0 ? eng.kernels.demeanLsmrScratch(lsmrRows, 1) : 0;
  return { fixed: s1 - (s2 - s1), perCol: s2 - s1 + u };
}

/** The same in bytes, for callers that size their buffers next to the demeaning's (algo lsmr: its n-row vectors included). */
export function demeanScratchBytes(eng: Engine, d: DemeanDims, algo: DemeanAlgo = "auto"): { fixed: number; perCol: number } {
  return eng.scoped(() => {
    const { fixed, perCol } = scratchLine(eng, d.groups.length, eng.putI32(d.groups), eng.putI32(d.types), algo === "lsmr" ? d.n : 0);
    return { fixed: fixed * 8, perCol: perCol * 8 };
  });
}

/** Below this many values (rows x columns) threads are not worth their copies: one thread. */
export const PARALLEL_MIN_VALUES = 500_000;

/**
 * Demean K columns stored column-major at xPtr (n*K f64) in place (or into outPtr).
 * Throws nothing on non-convergence: the caller decides (warning or error).
 * threads > 1 splits the columns across worker threads when a parallel demeaner is
 * installed (Node) and the problem is large enough; the result is the same either way.
 */
export function demeanPtr(
  eng: Engine, d: DemeanDims, K: number, xPtr: number, outPtr: number, tol: number, maxIter: number,
  algo: KernelAlgo = "auto", switchAfter = 20, threads = 1,
): DemeanInfo {
  if (algo !== "auto" && !(ALGO[algo] >= 0)) throw new KernelError(`unknown demeaning algorithm "${algo}"`);
  const pairs = slopePairs(eng, d);
  if (pairs.size > 0) {
    return eng.scoped(() => demeanPtr(eng, mergeSlopePairs(eng, d, pairs), K, xPtr, outPtr, tol, maxIter, algo, switchAfter, threads));
  }
  if (d.types.some((t) => t !== 0)) {
    // With varying slopes, CG can blow up along a null direction the pinning does not remove
    // (the slopes of fe[year] sum to year, which the year FE also spans: cbec city[year] +
    // year with fixefAlgo "cg" returns a demeaned Eco with 1e4 times the sum of squares of
    // Eco and says it converged). A projection never increases the (weighted) sum of squares
    // of a column: a result that does is reported as not converged.
    const before = sumSquares(eng, xPtr, d.n, K, d.wPtr);
    const info = demeanPlain(eng, d, K, xPtr, outPtr, tol, maxIter, algo, switchAfter, threads);
    const after = sumSquares(eng, outPtr, d.n, K, d.wPtr);
    const grewK = after.map((a, k) => !(a <= before[k] * (1 + 1e-6)));
    const columns = info.columns?.map((c, k) => (grewK[k] ? { ...c, converged: false, grew: true } : c));
    const out = columns ? { ...info, columns } : info;
    return grewK.some(Boolean) ? { ...out, converged: false, grew: true } : out;
  }
  return demeanPlain(eng, d, K, xPtr, outPtr, tol, maxIter, algo, switchAfter, threads);
}

/** Per-column sums of squares (weighted when wPtr != 0) of K columns of n values at ptr. */
function sumSquares(eng: Engine, ptr: number, n: number, K: number, wPtr: number): number[] {
  const x = eng.f64(ptr, n * K);
  const w = wPtr ? eng.f64(wPtr, n) : null;
  return Array.from({ length: K }, (_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (w ? w[i] : 1) * x[k * n + i] * x[k * n + i];
    return s;
  });
}

function demeanPlain(
  eng: Engine, d: DemeanDims, K: number, xPtr: number, outPtr: number, tol: number, maxIter: number,
  algo: KernelAlgo, switchAfter: number, threads: number,
): DemeanInfo {
  const t = Math.min(Math.floor(threads), K);
  if (t > 1 && parallel && d.n * K >= PARALLEL_MIN_VALUES) {
    return parallel(eng, d, K, xPtr, outPtr, tol, maxIter, algo, switchAfter, t);
  }
  if (algo !== "auto") return demeanKernel(eng, d, K, xPtr, outPtr, tol, maxIter, algo, switchAfter);
  // one FE: the closed form, whatever the algorithm
  if (d.groups.length === 1) return demeanKernel(eng, d, K, xPtr, outPtr, tol, maxIter, "map", switchAfter);
  return demeanAuto(eng, d, K, xPtr, outPtr, tol, maxIter, switchAfter);
}

/**
 * "auto": accelerated projections for `switchAfter` steps (fixest's MAP: on ordinary FE graphs
 * every column converges well before), then LSMR for the columns left (hard FE graphs:
 * low-mobility worker + firm + year), from their partly demeaned values, which is LSMR from the
 * projections' coefficients: two kernel calls (the second on each run of consecutive columns
 * left, in place), so that LSMR's n-row scratch is taken only for the columns that need it.
 * Per column: what a lone column gets, as in one call. Records: mapIterations the projection
 * steps, cgIterations LSMR's iterations.
 * Measured (bench/results/lowmob-algo.md): on the low-mobility panel 2.8x faster than
 * handing over to CG ("map-cg", the kernel's algo 0, the former auto), on the normal panels
 * the same (they converge in 1-15 projection steps).
 */
function demeanAuto(
  eng: Engine, d: DemeanDims, K: number, xPtr: number, outPtr: number, tol: number, maxIter: number, switchAfter: number,
): DemeanInfo {
  const S = Math.max(0, Math.min(switchAfter, maxIter));
  const first = demeanKernel(eng, d, K, xPtr, outPtr, tol, S, "map", switchAfter);
  const columns = first.columns!.slice();
  if (S >= maxIter || columns.every((c) => c.converged)) return first;
  const n = d.n;
  for (let k0 = 0; k0 < K; ) {
    if (columns[k0].converged) {
      k0++;
      continue;
    }
    let k1 = k0 + 1;
    while (k1 < K && !columns[k1].converged) k1++;
    const p = outPtr + k0 * n * 8;
    const second = demeanKernel(eng, d, k1 - k0, p, p, tol, maxIter - S, "lsmr", switchAfter);
    second.columns!.forEach((r, j) => (columns[k0 + j] = { ...r, iterations: S + r.cgIterations, mapIterations: S }));
    k0 = k1;
  }
  return { ...mergeInfo(columns, 1), columns };
}

/** One kernel call per batch of columns (one algorithm of the kernel, single thread). */
function demeanKernel(
  eng: Engine, d: DemeanDims, K: number, xPtr: number, outPtr: number, tol: number, maxIter: number,
  algo: Exclude<KernelAlgo, "auto">, switchAfter: number,
): DemeanInfo {
  return eng.scoped(() => {
    const Q = d.groups.length;
    const gPtr = eng.putI32(d.groups, "FE sizes");
    const tPtr = eng.putI32(d.types, "FE types");
    const zPtr = eng.putI32(d.slopePtrs, "slope pointers");
    const info = eng.allocF64(4);
    const colsPtr = eng.allocF64(4 * Math.max(1, K), "per-column demeaning records");
    // The scratch is linear in the number of columns (6 coefficient vectors per column, and
    // with LSMR 3 n-row vectors). When it does not fit next to the data, demean the columns in
    // batches: per-column convergence makes the result the same.
    const lsmrRows = algo === "lsmr" && Q > 1 ? d.n : 0;
    const { fixed, perCol } = scratchLine(eng, Q, gPtr, tPtr, lsmrRows);
    const room = Math.floor((eng.freeBytes - 64 * 1024 * 1024) / 8);
    const batch = Math.max(1, Math.min(K, Math.floor((room - fixed) / perCol)));
    const parts: DemeanInfo[] = [];
    for (let k0 = 0; k0 < K; k0 += batch) {
      const kb = Math.min(batch, K - k0);
      parts.push(eng.scoped(() => {
        const scratch = eng.allocF64(eng.kernels.demeanScratch(Q, gPtr, tPtr, kb), "demeaning scratch");
        const uPtr = lsmrRows > 0 ? eng.allocF64(eng.kernels.demeanLsmrScratch(lsmrRows, kb), "LSMR scratch") : 0;
        const ctx = demeanContext(eng, {
          n: d.n, Q, K: kb, codesPtr: d.codesPtr, groupsPtr: gPtr, typesPtr: tPtr, slopesPtr: zPtr, wPtr: d.wPtr,
          tol, maxIter, algo: ALGO[algo], switchAfter, colsPtr: colsPtr + k0 * 32, uPtr,
        });
        const st = eng.kernels.demean(outPtr + k0 * d.n * 8, info, scratch, ctx, xPtr + k0 * d.n * 8);
        if (st !== STATUS.OK && st !== STATUS.NOT_CONVERGED) check(st, "demean");
        return infoOf(eng.f64(info, 4), 1);
      }));
    }
    const rec = eng.getF64(colsPtr, 4 * K);
    const columns = Array.from({ length: K }, (_, k) => infoOf(rec.subarray(4 * k, 4 * k + 4), 1));
    return { ...(parts.length === 1 ? parts[0] : mergeInfo(parts, 1)), columns };
  });
}

/**
 * `fe + fe[[z]]` (a plain dimension and a slope-only one on the same codes) is demeaned as the
 * one dimension `fe[z]`, as fixest groups the slopes of a FE variable with its intercepts: the
 * same span of columns (so the same residuals) with a 2 x 2 solve per level in each sweep.
 * Apart, the intercepts and slopes are projected alternately, and with a slope variable far
 * from zero within levels (a year, 2011-2020) the two bases are nearly collinear: projections
 * and CG creep, and the stopping rules stop them early (cbec city + city[[year]] + year: 20
 * MAP steps + 65 CG iterations and "converged" at fixefTol 1e-8, coefficients 4.8e-4 from the
 * converged values; joined, 2 iterations and 1e-13).
 * Returns, for each slope-only dimension that pairs with a plain one, that plain dimension.
 */
function slopePairs(eng: Engine, d: DemeanDims): Map<number, number> {
  const pairs = new Map<number, number>();
  const taken = new Set<number>();
  d.types.forEach((ts, s) => {
    if (ts !== 1) return;
    const codesS = eng.i32(d.codesPtr + s * d.n * 4, d.n);
    for (let p = 0; p < d.types.length; p++) {
      if (d.types[p] !== 0 || taken.has(p) || d.groups[p] !== d.groups[s]) continue;
      const codesP = eng.i32(d.codesPtr + p * d.n * 4, d.n);
      let same = true;
      for (let i = 0; i < d.n && same; i++) same = codesP[i] === codesS[i];
      if (same) {
        pairs.set(s, p);
        taken.add(p);
        return;
      }
    }
  });
  return pairs;
}

/** The dimensions with each pair joined into one FE + slope dimension (a new codes block, in the current scope). */
function mergeSlopePairs(eng: Engine, d: DemeanDims, pairs: Map<number, number>): DemeanDims {
  const slopeOf = new Map([...pairs].map(([s, p]) => [p, s]));
  const keep = d.types.map((_, q) => q).filter((q) => !pairs.has(q));
  const codesPtr = eng.allocI32(keep.length * d.n, "FE codes (slopes joined)");
  keep.forEach((q, r) => eng.i32(codesPtr + r * d.n * 4, d.n).set(eng.i32(d.codesPtr + q * d.n * 4, d.n)));
  return {
    n: d.n, codesPtr, wPtr: d.wPtr,
    groups: keep.map((q) => d.groups[q]),
    types: keep.map((q) => (slopeOf.has(q) ? 2 : d.types[q])),
    slopePtrs: keep.map((q) => (slopeOf.has(q) ? d.slopePtrs[slopeOf.get(q)!] : d.slopePtrs[q])),
  };
}

/** DemeanInfo from the kernel's info vector [iterations, criterion, converged, CG iterations]. */
export function infoOf(iv: ArrayLike<number>, threads: number): DemeanInfo {
  return { iterations: iv[0], mapIterations: iv[0] - iv[3], cgIterations: iv[3], criterion: iv[1], converged: iv[2] === 1, threads };
}

/**
 * The info of some columns of a call (positions into info.columns): what a call demeaning
 * only those would report. Without per-column records, the call's info.
 */
export function columnsInfo(info: DemeanInfo, cols: number[]): DemeanInfo {
  if (!info.columns || cols.length === 0) return info;
  const parts = cols.map((c) => info.columns![c]);
  const merged = mergeInfo(parts, info.threads);
  return parts.some((p) => p.grew) ? { ...merged, converged: false, grew: true } : merged;
}

/** Info of a call split by columns: every count is the largest over the parts. */
export function mergeInfo(parts: DemeanInfo[], threads: number): DemeanInfo {
  const mapIterations = Math.max(...parts.map((p) => p.mapIterations));
  const cgIterations = Math.max(...parts.map((p) => p.cgIterations));
  return {
    iterations: mapIterations + cgIterations, mapIterations, cgIterations,
    criterion: Math.max(...parts.map((p) => p.criterion)), converged: parts.every((p) => p.converged), threads,
  };
}

export function nonConvergence(info: DemeanInfo, tol: number, maxIter: number): NonConvergenceError {
  return new NonConvergenceError(
    info.grew
      ? `fixed-effect projections did not converge: after ${info.iterations} iterations a demeaned column has a larger sum of squares than the column (tolerance ${tol})`
      : `fixed-effect projections did not converge in ${maxIter} iterations: reached ${info.criterion.toExponential(2)}, tolerance ${tol}`,
    { ...info, tol, maxIter },
    "raise --fixef-iter, loosen --fixef-tol, or check for a poorly connected FE structure",
  );
}
