// The demeaning kernel's input as the kernel tests build it (tests/kernels.test.ts,
// tests/demean-batch.test.ts, tests/demean-lsmr.test.ts): columns, FE codes, slopes and weights put in WASM memory. Call
// inside eng.scoped() so the arena is released after the test's call.
import type { Engine } from "../bindings/engine/wasm.js";
import type { FeType } from "../bindings/engine/kernels.js";
import type { Rng } from "../bindings/base/rng.js";

/** One FE dimension: codes 0..levels-1, its type (0 plain, 1 slope only, 2 FE + slope), its slope. */
export interface FeInput {
  codes: Int32Array;
  levels: number;
  type: FeType;
  slope?: Float64Array;
}

/** The FE data of a demeanPtr call and the pointer of the K columns (column-major, n rows each). */
export function putDemeanInput(eng: Engine, cols: Float64Array[], fe: FeInput[], w: Float64Array | null) {
  const n = cols[0].length, K = cols.length, Q = fe.length;
  const codes = eng.allocI32(Q * n);
  fe.forEach((d, q) => eng.i32(codes + q * n * 4, n).set(d.codes));
  const slopePtrs = fe.map((d) => (d.slope ? eng.putF64(d.slope) : 0));
  const wPtr = w ? eng.putF64(w) : 0;
  const x = eng.allocF64(n * K);
  cols.forEach((c, k) => eng.f64(x + k * n * 8, n).set(c));
  const d = { n, codesPtr: codes, groups: fe.map((f) => f.levels), types: fe.map((f) => f.type), slopePtrs, wPtr };
  return { d, x, n, K };
}

/**
 * A low-mobility worker + firm + year structure: workers rarely moving, and only to a
 * neighbouring firm (a long chain: the projections stall there). Fixed by the generator `r`.
 */
export function lowMobilityFe(r: Rng, workers: number, firms: number, years: number): FeInput[] {
  const w: number[] = [], f: number[] = [], t: number[] = [];
  for (let i = 0; i < workers; i++) {
    let g = r.int(firms);
    for (let y = 0; y < years; y++) {
      if (y > 0 && r.uniform() < 0.05) g = Math.min(firms - 1, Math.max(0, g + (r.uniform() < 0.5 ? -1 : 1)));
      w.push(i);
      f.push(g);
      t.push(y);
    }
  }
  return [
    { codes: Int32Array.from(w), levels: workers, type: 0 },
    { codes: Int32Array.from(f), levels: firms, type: 0 },
    { codes: Int32Array.from(t), levels: years, type: 0 },
  ];
}
