// Kernel-level tests of assembly/permute.ts and assembly/wild.ts (as-pect): the seeded
// generator against values printed by bindings/base/rng.ts, tiny exact cases, status codes.
// The numerical comparisons against feols refits live in tests/placebo.test.ts and
// tests/wild.test.ts.
import {
  permDraws, basisColumns, unitYearAggregate, treatColumns, treatStats,
  orthonormalize, projectOut,
} from "../permute";
import { wildWeights, wildDraws, clusterCross } from "../wild";
import { rngSeedFork, rngNextU32, rngInt } from "../rng";
import { OK, BAD_ARGUMENT } from "../status";

import { f64s, i32s } from "./arrays";

describe("seeded generator", () => {
  it("Rng(1).fork(0) gives the numbers bindings/base/rng.ts prints", () => {
    const rng = new Uint32Array(4).dataStart;
    rngSeedFork(rng, 0, 1, 0);
    expect(rngNextU32(rng)).toBe(609545561);
    expect(rngNextU32(rng)).toBe(2442004319);
    expect(rngNextU32(rng)).toBe(2662227583);
  });

  it("Rng(7).fork(3).int(6), int(6), int(2) = 5, 1, 1", () => {
    const rng = new Uint32Array(4).dataStart;
    rngSeedFork(rng, 0, 7, 3);
    expect(rngInt(rng, 6)).toBe(5);
    expect(rngInt(rng, 6)).toBe(1);
    expect(rngInt(rng, 2)).toBe(1);
  });
});

describe("permDraws", () => {
  it("an in-space draw is Rng.fork(d).shuffle: [0..4] with Rng(7).fork(5) -> [3, 0, 1, 2, 4]", () => {
    const U = 5;
    const strata = i32s([0, 5]);
    const order = i32s([0, 1, 2, 3, 4]);
    const cohort0 = i32s([0, 1, 2, 3, 4]);
    const cand = i32s([0]);
    const work = new Int32Array(U), assign = new Int32Array(U), idx = new Int32Array(U), out = new Int32Array(U);
    expect(permDraws(
      out.dataStart, 0, work.dataStart, assign.dataStart, idx.dataStart, new Uint32Array(4).dataStart, 0, U, 0, 7, 5, 1, 1,
      strata.dataStart, order.dataStart, cohort0.dataStart, 0, cand.dataStart, 0, 5, 0, 0, 0, 1e-10
    )).toBe(OK);
    expect(out[0]).toBe(3);
    expect(out[1]).toBe(0);
    expect(out[2]).toBe(1);
    expect(out[3]).toBe(2);
    expect(out[4]).toBe(4);
  });

  it("b* = sum g / sum G over the treated basis columns; absorbed -> NaN", () => {
    // U = 2 units, C = 1 cohort, given draws: (treated, never), (treated, treated), (never, never)
    const given = i32s([0, -1, 0, 0, -1, -1]);
    const gram = f64s([2, 1, 1, 3]);
    const g = f64s([4, 6]);
    const raw = f64s([10, 10]);
    const work = new Int32Array(2), assign = new Int32Array(2), idx = new Int32Array(2);
    const b = new Float64Array(3);
    const z = i32s([0, 2]);
    expect(permDraws(
      0, b.dataStart, work.dataStart, assign.dataStart, idx.dataStart, new Uint32Array(4).dataStart, 2, 2, 0, 0, 0, 3, 1, z.dataStart,
      z.dataStart, z.dataStart, 0, 0, given.dataStart, 1, gram.dataStart, g.dataStart, raw.dataStart, 1e-10
    )).toBe(OK);
    expect(b[0]).toBe(2.0); // 4 / 2
    expect(b[1]).toBe(10.0 / 7.0); // (4 + 6) / (2 + 3 + 2 * 1)
    expect(isNaN(b[2])).toBe(true);
  });

  it("rejects a bad scheme", () => {
    expect(permDraws(0, 0, 0, 0, 0, new Uint32Array(4).dataStart, 7, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).toBe(BAD_ARGUMENT);
  });
});

// rows: unit 0 years 0,1,2; unit 1 years 0,1 (module globals: as-pect tests cannot close over locals)
const unit = i32s([0, 0, 0, 1, 1]);
const year = i32s([0, 1, 2, 0, 1]);

describe("basis and treatment columns", () => {
  it("basisColumns and unitYearAggregate", () => {
    const uK = i32s([0, 1]);
    const tK = i32s([1, 1]);
    const out = new Float64Array(10);
    expect(basisColumns(out.dataStart, 5, unit.dataStart, year.dataStart, 2, uK.dataStart, tK.dataStart)).toBe(OK);
    expect(out[0]).toBe(0.0);
    expect(out[1]).toBe(1.0);
    expect(out[2]).toBe(1.0);
    expect(out[8]).toBe(0.0);
    expect(out[9]).toBe(1.0);
    // aggregate v = (1..5) onto cohorts t = 0 and 2: unit 0 -> (1+2+3, 3), unit 1 -> (4+5, 0)
    const v = f64s([1, 2, 3, 4, 5]);
    const cohortT = i32s([0, 2]);
    const cell = new Float64Array(6);
    const agg = new Float64Array(4);
    expect(unitYearAggregate(agg.dataStart, cell.dataStart, 5, 1, v.dataStart, 0, unit.dataStart, year.dataStart, 2, 3, 2, cohortT.dataStart)).toBe(OK);
    expect(agg[0]).toBe(6.0);
    expect(agg[1]).toBe(3.0);
    expect(agg[2]).toBe(9.0);
    expect(agg[3]).toBe(0.0);
  });

  it("treatColumns and treatStats", () => {
    const assign = i32s([0, -1]); // unit 0 gets cohort 0 (t = 1), unit 1 never
    const cohortT = i32s([1]);
    const d = new Float64Array(5);
    expect(treatColumns(d.dataStart, 5, unit.dataStart, year.dataStart, 2, 1, assign.dataStart, cohortT.dataStart)).toBe(OK);
    expect(d[0]).toBe(0.0);
    expect(d[1]).toBe(1.0);
    expect(d[2]).toBe(1.0);
    expect(d[3]).toBe(0.0);
    const e = f64s([1, 2, 3, 4, 5]);
    const num = new Float64Array(1), den = new Float64Array(1), raw = new Float64Array(1);
    expect(treatStats(num.dataStart, den.dataStart, raw.dataStart, 5, 1, d.dataStart, d.dataStart, 0, e.dataStart)).toBe(OK);
    expect(num[0]).toBe(5.0);
    expect(den[0]).toBe(2.0);
    expect(raw[0]).toBe(2.0);
  });

  it("orthonormalize drops a collinear column; projectOut leaves the orthogonal part", () => {
    const x = f64s([1, 1, 0, 2, 2, 0]); // second column = 2 x first
    const keep = new Int32Array(2);
    expect(orthonormalize(x.dataStart, keep.dataStart, 3, 2, 1e-12)).toBe(OK);
    expect(keep[0]).toBe(1);
    expect(keep[1]).toBe(0);
    const v = f64s([3, 1, 5]);
    expect(projectOut(v.dataStart, 3, 2, x.dataStart, 1)).toBe(OK);
    expect(Math.abs(v[0] - 1.0) < 1e-14).toBe(true);
    expect(Math.abs(v[1] + 1.0) < 1e-14).toBe(true);
    expect(v[2]).toBe(5.0);
  });
});

describe("wild bootstrap kernels", () => {
  it("full enumeration: draw d has +1 where bit h of d is set", () => {
    const v = new Float64Array(3 * 8);
    expect(wildWeights(v.dataStart, new Uint32Array(4).dataStart, 0, 1, 3, 0, 0, 0, 8)).toBe(OK);
    // cluster-major: v[h * 8 + d]
    expect(v[0 * 8 + 5]).toBe(1.0);
    expect(v[1 * 8 + 5]).toBe(-1.0);
    expect(v[2 * 8 + 5]).toBe(1.0);
    expect(v[0 * 8 + 0]).toBe(-1.0);
  });

  it("Webb weights of Rng(7).fork(3): digits 5, 1 -> sqrt(3/2), -1", () => {
    const v = new Float64Array(2);
    expect(wildWeights(v.dataStart, new Uint32Array(4).dataStart, 1, 0, 2, 0, 7, 3, 1)).toBe(OK);
    expect(v[0]).toBe(Math.sqrt(1.5));
    expect(v[1]).toBe(-1.0);
  });

  it("wildDraws: the five numbers of one draw", () => {
    // G = 2: Cy = [[1, 2], [3, 4]] by columns (column g over h), Cx = identity
    const cy = f64s([1, 2, 3, 4]);
    const cx = f64s([1, 0, 0, 1]);
    const ay = f64s([1, 1]);
    const ax = f64s([2, 3]);
    const v = f64s([1, -1]);
    const sy = new Float64Array(2), sx = new Float64Array(2), out = new Float64Array(5);
    expect(wildDraws(sy.dataStart, sx.dataStart, out.dataStart, 2, 1, cy.dataStart, cx.dataStart, ay.dataStart, ax.dataStart, v.dataStart)).toBe(OK);
    // sy = (1 - 2, 3 - 4) = (-1, -1); sx = (1, -1)
    expect(out[0]).toBe(0.0);
    expect(out[1]).toBe(-1.0);
    expect(out[2]).toBe(2.0);
    expect(out[3]).toBe(0.0);
    expect(out[4]).toBe(2.0);
  });

  it("clusterCross sums products within clusters", () => {
    const z = f64s([1, 2, 3]);
    const y = f64s([1, 1, 2]);
    const codes = i32s([0, 1, 1]);
    const out = new Float64Array(2);
    expect(clusterCross(out.dataStart, 3, 1, z.dataStart, y.dataStart, codes.dataStart, 2)).toBe(OK);
    expect(out[0]).toBe(1.0);
    expect(out[1]).toBe(8.0);
    expect(clusterCross(0, 3, 1, 0, 0, 0, 0)).toBe(BAD_ARGUMENT);
  });
});
