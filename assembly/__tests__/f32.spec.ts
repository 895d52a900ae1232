// float32-storage kernels (assembly/f32.ts) on tiny exact cases; random-input comparisons
// against plain TypeScript are in tests/f32.test.ts.
import { widenF32, crossF32, residualsF32 } from "../f32";
import { OK, BAD_ARGUMENT } from "../status";

import { f64s } from "./arrays";

function f32s(vals: f32[]): Float32Array {
  const a = new Float32Array(vals.length);
  for (let i = 0; i < vals.length; i++) a[i] = vals[i];
  return a;
}

describe("widenF32", () => {
  it("widens every value exactly, including the tail after the last group of four", () => {
    const src = f32s([0.1, -2.5, 3.0, 1e30, 7.25]);
    const dst = new Float64Array(5);
    expect(widenF32(dst.dataStart, 5, 1, src.dataStart)).toBe(OK);
    for (let i = 0; i < 5; i++) expect(dst[i]).toBe(<f64>src[i]);
    expect(widenF32(dst.dataStart, -1, 1, src.dataStart)).toBe(BAD_ARGUMENT);
  });
});

describe("crossF32", () => {
  it("A' diag(s) R on 5 rows (four at a time, one left over), with and without scaling", () => {
    const a = f64s([1, 2, 3, 4, 5]);
    const r = f32s([1, 1, 1, 1, 2]);
    const s = f64s([1, 1, 1, 1, 0.5]);
    const out = new Float64Array(1);
    expect(crossF32(out.dataStart, 5, 1, a.dataStart, 1, r.dataStart, 0)).toBe(OK);
    expect(out[0]).toBe(20.0); // 1+2+3+4+10
    expect(crossF32(out.dataStart, 5, 1, a.dataStart, 1, r.dataStart, s.dataStart)).toBe(OK);
    expect(out[0]).toBe(15.0); // 1+2+3+4+5
  });
});

describe("residualsF32", () => {
  it("y - X b with a skipped zero coefficient", () => {
    const y = f32s([3, 5, 7]);
    const x = f32s([1, 2, 3, 9, 9, 9]); // two columns; the second has b = 0
    const b = f64s([2, 0]);
    const out = new Float64Array(3);
    expect(residualsF32(out.dataStart, 3, 2, x.dataStart, y.dataStart, b.dataStart)).toBe(OK);
    expect(out[0]).toBe(1.0);
    expect(out[1]).toBe(1.0);
    expect(out[2]).toBe(1.0);
  });
});
