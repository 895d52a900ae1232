// The layout of the kernels' context blocks, mirrored from assembly/context.ts (byte
// offsets; tests/kernels.test.ts checks them against the module's demeanContextLayout).
// A context block holds the state of one kernel call in the engine's arena: the binding
// writes the inputs, the kernel its working pointers and counts; nothing is kept between
// calls in the module.
import type { Engine } from "./wasm.js";

/** Demeaning context: field -> byte offset, in the order of assembly/context.ts demeanContextLayout. */
export const DEMEAN_CTX = {
  n: 0, Q: 4, Kmax: 8, codes: 12, groups: 16, types: 20, z: 24, w: 28, tol: 32, maxIter: 40, algo: 44, switchAfter: 48,
  K: 52, R: 56, R0: 60, stalled: 64, off: 68, moff: 72, rhs: 76, minv: 80, tmp: 84, acc: 88, crit: 92, map: 96, mapC: 100, flag: 104, cols: 108, u: 112,
} as const;
export const DEMEAN_CTX_BYTES = 116;

/** What the binding writes into a demeaning context before the call. */
export interface DemeanContextInput {
  n: number;
  Q: number;
  K: number;
  codesPtr: number;
  groupsPtr: number;
  typesPtr: number;
  slopesPtr: number;
  wPtr: number;
  tol: number;
  maxIter: number;
  algo: number;
  switchAfter: number;
  /** Kmax x 4 f64 per-column records the kernel fills (kernels.ts DemeanColumn), or 0 */
  colsPtr?: number;
  /** LSMR's scratch (algo lsmr: kernels.demeanLsmrScratch(n, K) f64), or 0 */
  uPtr?: number;
}

/** A demeaning context block in the current arena scope, its inputs written; returns its pointer. */
export function demeanContext(eng: Engine, c: DemeanContextInput): number {
  const p = eng.alloc(DEMEAN_CTX_BYTES, "demeaning context");
  eng.u8(p, DEMEAN_CTX_BYTES).fill(0);
  const i32 = (field: keyof typeof DEMEAN_CTX, v: number) => (eng.i32(p + DEMEAN_CTX[field], 1)[0] = v);
  i32("n", c.n);
  i32("Q", c.Q);
  i32("Kmax", c.K);
  i32("codes", c.codesPtr);
  i32("groups", c.groupsPtr);
  i32("types", c.typesPtr);
  i32("z", c.slopesPtr);
  i32("w", c.wPtr);
  eng.f64(p + DEMEAN_CTX.tol, 1)[0] = c.tol;
  i32("maxIter", c.maxIter);
  i32("algo", c.algo);
  i32("switchAfter", c.switchAfter);
  i32("cols", c.colsPtr ?? 0);
  i32("u", c.uPtr ?? 0);
  return p;
}

/** Bytes of a generator state (assembly/rng.ts: xoshiro128**, 4 u32), passed to the kernels that draw. */
export const RNG_STATE_BYTES = 16;

/** CSV fast-path context (assembly/csv.ts csvParse): field -> byte offset, in the order of assembly/context.ts csvContextLayout. */
export const CSV_CTX = { ncol: 0, delim: 4, rowCap: 8, excCap: 12, slots: 16, rows: 20, exc: 24, used: 28, stop: 32 } as const;
export const CSV_CTX_BYTES = 36;
/** Why csvParse stopped (assembly/csv.ts CSV_STOP_*). */
export const CSV_STOP = { input: 0, rows: 1, exceptions: 2, quote: 3, highByte: 4, fields: 5 } as const;
