// Propensity-score kernels inside the WASM module: tiny cases with known answers.
// Random-input comparisons against the TypeScript references are in tests/psm.test.ts.
import { logitIrls, logitScratch, LOGIT_INFO_LEN } from "../logit";
import { nnMatch, nnMatchScratch, matchWeights } from "../match";
import { OK, SINGULAR, BAD_ARGUMENT } from "../status";

import { f64s, i32s } from "./arrays";
function near(a: f64, b: f64, tol: f64): bool {
  return Math.abs(a - b) <= tol * Math.max(1.0, Math.abs(b));
}

describe("logitIrls", () => {
  it("fits the saturated 2-group model exactly", () => {
    // saturated model: group 0 has 1 success in 4, group 1 has 3 in 4
    // intercept = log(1/3), slope = 2 log 3; Var(b0) = 4/3, Var(b1) = 8/3, Cov = -4/3
    const x = f64s([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
    const y = f64s([1, 0, 0, 0, 1, 1, 1, 0]);
    const coef = new Float64Array(2);
    const vcov = new Float64Array(4);
    const eta = new Float64Array(8);
    const mu = new Float64Array(8);
    const info = new Float64Array(LOGIT_INFO_LEN);
    const scratch = new Float64Array(logitScratch(8, 2));
    const st = logitIrls(
      coef.dataStart, vcov.dataStart, eta.dataStart, mu.dataStart, info.dataStart, scratch.dataStart, 8, 2,
      x.dataStart, y.dataStart, 0, 1e-12, 50, 0
    );
    expect(st).toBe(OK);
    expect(near(coef[0], Math.log(1.0 / 3.0), 1e-10)).toBe(true);
    expect(near(coef[1], 2.0 * Math.log(3.0), 1e-10)).toBe(true);
    expect(near(vcov[0], 4.0 / 3.0, 1e-8)).toBe(true);
    expect(near(vcov[3], 8.0 / 3.0, 1e-8)).toBe(true);
    expect(near(vcov[1], -4.0 / 3.0, 1e-8)).toBe(true);
    expect(vcov[1]).toBe(vcov[2]);
    expect(near(mu[0], 0.25, 1e-10)).toBe(true);
    expect(near(mu[7], 0.75, 1e-10)).toBe(true);
    const ll = 8.0 * (0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
    expect(near(info[0], ll, 1e-12)).toBe(true);
    expect(near(info[1], -2.0 * ll, 1e-12)).toBe(true);
    expect(info[3]).toBe(1.0);
  });

  it("prior weights equal to duplicated rows", () => {
    // rows 0..3 of group 0 collapsed: y=1 weight 1, y=0 weight 3; same for group 1
    const xw = f64s([1, 1, 1, 1, 0, 0, 1, 1]);
    const yw = f64s([1, 0, 1, 0]);
    const w = f64s([1, 3, 3, 1]);
    const coef = new Float64Array(2);
    const vcov = new Float64Array(4);
    const eta = new Float64Array(4);
    const mu = new Float64Array(4);
    const info = new Float64Array(LOGIT_INFO_LEN);
    const scratch = new Float64Array(logitScratch(4, 2));
    expect(logitIrls(
      coef.dataStart, vcov.dataStart, eta.dataStart, mu.dataStart, info.dataStart, scratch.dataStart, 4, 2,
      xw.dataStart, yw.dataStart, w.dataStart, 1e-12, 50, 0
    )).toBe(OK);
    expect(near(coef[1], 2.0 * Math.log(3.0), 1e-10)).toBe(true);
    expect(near(vcov[3], 8.0 / 3.0, 1e-8)).toBe(true);
  });

  it("a collinear design is SINGULAR; bad input is BAD_ARGUMENT", () => {
    const xc = f64s([1, 1, 1, 1, 2, 2, 2, 2]);
    const yc = f64s([1, 0, 1, 0]);
    const coef = new Float64Array(2);
    const vcov = new Float64Array(4);
    const eta = new Float64Array(4);
    const mu = new Float64Array(4);
    const info = new Float64Array(LOGIT_INFO_LEN);
    const scratch = new Float64Array(logitScratch(4, 2));
    expect(logitIrls(
      coef.dataStart, vcov.dataStart, eta.dataStart, mu.dataStart, info.dataStart, scratch.dataStart, 4, 2,
      xc.dataStart, yc.dataStart, 0, 1e-8, 25, 0
    )).toBe(SINGULAR);
    const yb = f64s([1, 2, 0, 0]);
    expect(logitIrls(
      coef.dataStart, vcov.dataStart, eta.dataStart, mu.dataStart, info.dataStart, scratch.dataStart, 4, 2,
      xc.dataStart, yb.dataStart, 0, 1e-8, 25, 0
    )).toBe(BAD_ARGUMENT);
  });
});

// rows: 0 T 0.50 | 1 C 0.40 | 2 C 0.62 | 3 T 0.55 | 4 T 0.90 | 5 C 0.45
const dist = f64s([0.5, 0.4, 0.62, 0.55, 0.9, 0.45]);
const treat = i32s([1, 0, 0, 1, 1, 0]);

function run(replace: i32, caliper: f64, order: i32, compat: i32): Int32Array {
    const ord = new Int32Array(3);
    const mm = new Int32Array(3);
    const scratch = new Int32Array(nnMatchScratch(6));
    expect(nnMatch(
      ord.dataStart, mm.dataStart, scratch.dataStart, 6, dist.dataStart, treat.dataStart, 0, 1, replace,
      caliper, order, compat
    )).toBe(OK);
    return mm;
}

describe("nnMatch", () => {
  it("without replacement, largest first", () => {
    const mm = run(0, -1, 0, 0);
    expect(mm[0]).toBe(1);
    expect(mm[1]).toBe(5);
    expect(mm[2]).toBe(2);
  });

  it("caliper 0.2 leaves the 0.90 unit unmatched and picks the nearer side", () => {
    const mm = run(0, 0.2, 0, 0);
    expect(mm[0]).toBe(5);
    expect(mm[1]).toBe(2);
    expect(mm[2]).toBe(-1);
  });

  it("MatchIt 4.5.1 compatibility truncates differences: caliper 0.2 never binds, left wins", () => {
    const mm = run(0, 0.2, 0, 1);
    expect(mm[0]).toBe(1);
    expect(mm[1]).toBe(5);
    expect(mm[2]).toBe(2);
  });

  it("with replacement, and MatchIt's weights", () => {
    const mm = run(1, -1, 2, 0);
    expect(mm[0]).toBe(5);
    expect(mm[1]).toBe(2);
    expect(mm[2]).toBe(2);
    const w = new Float64Array(6);
    const counts = new Int32Array(4);
    expect(matchWeights(w.dataStart, counts.dataStart, 6, treat.dataStart, 3, 1, mm.dataStart)).toBe(OK);
    expect(w[0]).toBe(1.0);
    expect(w[1]).toBe(0.0);
    expect(near(w[5], 2.0 / 3.0, 1e-15)).toBe(true);
    expect(near(w[2], 4.0 / 3.0, 1e-15)).toBe(true);
    expect(counts[0]).toBe(3);
    expect(counts[1]).toBe(2);
    expect(counts[2]).toBe(5);
    expect(counts[3]).toBe(3);
  });

  it("exact strata keep matches inside their stratum", () => {
    const strata = i32s([0, 1, 0, 1, 1, 0]);
    const ord = new Int32Array(3);
    const mm = new Int32Array(3);
    const scratch = new Int32Array(nnMatchScratch(6));
    expect(nnMatch(
      ord.dataStart, mm.dataStart, scratch.dataStart, 6, dist.dataStart, treat.dataStart, strata.dataStart,
      1, 0, -1, 0, 0
    )).toBe(OK);
    // stratum 0: T0 (0.50) with C2 (0.62) or C5 (0.45): 0.05 < 0.12 -> 5
    // stratum 1: T4 (0.90) first -> C1 (0.40); T3 then has none
    expect(mm[0]).toBe(5);
    expect(mm[2]).toBe(1);
    expect(mm[1]).toBe(-1);
  });

  it("bad arguments return a status", () => {
    const bad = i32s([2, 0, 0, 1, 1, 0]);
    const ord = new Int32Array(3);
    const mm = new Int32Array(3);
    const scratch = new Int32Array(nnMatchScratch(6));
    expect(nnMatch(ord.dataStart, mm.dataStart, scratch.dataStart, 6, dist.dataStart, bad.dataStart, 0, 1, 0, -1, 0, 0)).toBe(BAD_ARGUMENT);
    expect(nnMatch(ord.dataStart, mm.dataStart, scratch.dataStart, 6, dist.dataStart, treat.dataStart, 0, 0, 0, -1, 0, 0)).toBe(BAD_ARGUMENT);
  });
});
