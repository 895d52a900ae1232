// Kernel-level tests in AssemblyScript (as-pect): status codes and tiny exact cases run
// inside the WASM module itself. The numerical comparison against plain TypeScript
// references on random inputs lives in tests/kernels.test.ts (vitest, compiled .wasm).
import { demean } from "../demean-entry";
import { demeanScratch } from "../demean";
import { qrSolve } from "../qr";
import { meatCluster, gram, residuals } from "../sandwich";
import { OK, BAD_ARGUMENT } from "../status";
import {
  DM_BYTES, DM_N, DM_Q, DM_KMAX, DM_CODES, DM_GROUPS, DM_TYPES, DM_Z, DM_W, DM_TOL, DM_MAXITER, DM_ALGO, DM_SWITCH,
} from "../context";

import { f64s, i32s } from "./arrays";

/** A demeaning context block with its inputs written (as bindings/engine/context.ts does). */
function demeanCtx(n: i32, Q: i32, K: i32, codes: usize, groups: usize, types: usize, z: usize, w: usize, tol: f64, maxIter: i32): Int32Array {
  const c = new Int32Array(<i32>DM_BYTES >> 2);
  const p = c.dataStart;
  store<i32>(p + DM_N, n); store<i32>(p + DM_Q, Q); store<i32>(p + DM_KMAX, K);
  store<u32>(p + DM_CODES, <u32>codes); store<u32>(p + DM_GROUPS, <u32>groups); store<u32>(p + DM_TYPES, <u32>types);
  store<u32>(p + DM_Z, <u32>z); store<u32>(p + DM_W, <u32>w); store<f64>(p + DM_TOL, tol);
  store<i32>(p + DM_MAXITER, maxIter); store<i32>(p + DM_ALGO, 0); store<i32>(p + DM_SWITCH, 20);
  return c;
}

describe("demean", () => {
  it("one FE subtracts group means exactly", () => {
    const x = f64s([1, 3, 10, 20, 30]);
    const codes = i32s([0, 0, 1, 1, 1]);
    const groups = i32s([2]);
    const types = i32s([0]);
    const z = i32s([0]);
    const need = <i32>demeanScratch(1, groups.dataStart, types.dataStart, 1);
    const scratch = new Float64Array(need);
    const info = new Float64Array(4);
    const cx = demeanCtx(5, 1, 1, codes.dataStart, groups.dataStart, types.dataStart, z.dataStart, 0, 1e-10, 100);
    const st = demean(x.dataStart, info.dataStart, scratch.dataStart, cx.dataStart, x.dataStart);
    expect(st).toBe(OK);
    expect(x[0]).toBe(-1.0);
    expect(x[1]).toBe(1.0);
    expect(x[2]).toBe(-10.0);
    expect(x[4]).toBe(10.0);
  });

  it("rejects an empty problem with BAD_ARGUMENT", () => {
    const cx = demeanCtx(0, 1, 1, 0, 0, 0, 0, 0, 1e-8, 10);
    expect(demean(0, 0, 0, cx.dataStart, 0)).toBe(BAD_ARGUMENT);
  });
});

describe("qrSolve", () => {
  it("solves a 3x2 system and drops a duplicated column", () => {
    // columns: a, 2a (collinear), and y = 3 a
    const a = f64s([1, 2, 3, 2, 4, 6]);
    const y = f64s([3, 6, 9]);
    const keep = new Int32Array(2);
    const coef = new Float64Array(2);
    const bread = new Float64Array(4);
    const work = new Float64Array(4);
    const rank = new Int32Array(1);
    expect(qrSolve(coef.dataStart, bread.dataStart, rank.dataStart, keep.dataStart, work.dataStart, 3, 2, a.dataStart, y.dataStart, 1e-10)).toBe(OK);
    expect(rank[0]).toBe(1);
    expect(keep[0]).toBe(1);
    expect(keep[1]).toBe(0);
    expect(Math.abs(coef[0] - 3.0) < 1e-12).toBe(true);
    expect(Math.abs(bread[0] - 1.0 / 14.0) < 1e-15).toBe(true);
  });
});

describe("sandwich", () => {
  it("cluster meat of one cluster is the outer product of the score sum", () => {
    const x = f64s([1, 1, 1, 2]); // n = 2, k = 2: columns (1,1) and (1,2)
    const e = f64s([1, -2]);
    const codes = i32s([0, 0]);
    const scores = new Float64Array(2);
    const out = new Float64Array(4);
    expect(meatCluster(out.dataStart, scores.dataStart, 2, 2, x.dataStart, e.dataStart, codes.dataStart, 1)).toBe(OK);
    // s = (1 - 2, 1 - 4) = (-1, -3)
    expect(out[0]).toBe(1.0);
    expect(out[1]).toBe(3.0);
    expect(out[3]).toBe(9.0);
  });

  it("gram and residuals", () => {
    const x = f64s([1, 2, 3]);
    const out = new Float64Array(1);
    expect(gram(out.dataStart, 3, 1, x.dataStart)).toBe(OK);
    expect(out[0]).toBe(14.0);
    const y = f64s([2, 4, 7]);
    const b = f64s([2]);
    const r = new Float64Array(3);
    expect(residuals(r.dataStart, 3, 1, x.dataStart, y.dataStart, b.dataStart)).toBe(OK);
    expect(r[2]).toBe(1.0);
  });

  it("bad arguments return a status", () => {
    expect(meatCluster(0, 0, 1, 1, 0, 0, 0, 0)).toBe(BAD_ARGUMENT);
  });
});
