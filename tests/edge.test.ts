// Numeric and formula edge cases from the hostile-input corpus (issue 12): the outcome among
// its regressors, a reference level that does not exist, no residual degrees of freedom,
// an all-missing outcome, magnitudes whose squares overflow or underflow float64 (1e156,
// 1e-156, 1e200, weights of 1.5e308), a model too large for memory refused from its
// formula, and the sandwich B M B in WASM against its plain-TypeScript reference.
//
// Tolerances: a fit on a column multiplied by a constant c is the same fit with that
// coefficient divided by c (and its SE); the rescaled fit runs on columns scaled by powers
// of two, exact, but the data c x are rounded products, so the comparison is 1e-8 relative
// for coefficients and SEs (the rule). Invariance to the scale of the weights:
// 1e-8 relative. float32 storage against float64: 1e-4 of a standard error (as
// tests/f32.test.ts). The WASM sandwich against the TS triple loop: 1e-12 relative to the
// largest entry (a different summation order).
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, withVcov, planMemory, type Fit } from "../bindings/estimators/feols.js";
import { feolsCompressed } from "../bindings/estimators/compress.js";
import { sandwichOf } from "../bindings/core/vcov.js";
import { sandwich } from "../bindings/base/stats.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { ColumnError, FormulaSyntaxError, SampleError, WasmMemoryError } from "../bindings/base/errors.js";

const REL = 1e-8;
const F32_SE = 1e-4;
const SANDWICH_REL = 1e-12;

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

function rng(seed: number) {
  let s = seed >>> 0 || 7;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** 300 rows: 30 firms x 10 years, two regressors, a weight, cities for clustering. */
function data(seed = 1) {
  const r = rng(seed);
  const n = 300;
  const firm = Float64Array.from({ length: n }, (_, i) => Math.floor(i / 10));
  const year = Float64Array.from({ length: n }, (_, i) => 2000 + (i % 10));
  const city = Float64Array.from(firm, (f) => f % 7);
  const fe = Float64Array.from(firm, () => r());
  const x = Float64Array.from({ length: n }, () => r() - 0.5);
  const z = Float64Array.from({ length: n }, () => r() * 3);
  const w = Float64Array.from({ length: n }, () => 0.5 + r());
  const y = Float64Array.from(x, (v, i) => 1 + 2 * v - 0.7 * z[i] + fe[i] + (year[i] - 2005) * 0.1 + r() - 0.5);
  return { y, x, z, w, firm, year, city };
}

const relClose = (a: number, b: number, tol: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.abs(b));

/** Fit `a` is fit `b` with regressor `name` multiplied by `c` (and the outcome by `cy`). */
function expectRescaled(a: Fit, b: Fit, name: string, c: number, cy = 1) {
  expect(a.coefNames).toEqual(b.coefNames);
  expect(a.collinear).toEqual(b.collinear);
  for (const nm of b.coefNames) {
    const f = (nm === name ? 1 / c : 1) * cy;
    relClose(a.coef[nm], b.coef[nm] * f, REL);
    relClose(a.se[nm], b.se[nm] * f, REL);
    relClose(a.tstat[nm], b.tstat[nm], REL);
  }
  relClose(a.r2, b.r2, REL);
}

describe("the outcome among its regressors", () => {
  const d = data();
  it.each(["y ~ y", "y ~ x + y", "y ~ x + y:x", "y ~ x + i(firm, y) | year", "y ~ x*y | firm"])("%s is a formula error", (fml) => {
    expect(() => feols(eng, Frame.fromColumns(d), fml)).toThrow(FormulaSyntaxError);
    expect(() => feols(eng, Frame.fromColumns(d), fml)).toThrow(/the outcome "y" is also a regressor/);
  });
});

describe("i(f, ref = v) with v not a level", () => {
  const fr = Frame.fromColumns(data());
  it("names the level and lists existing ones", () => {
    const run = () => feols(eng, fr, "y ~ x + i(year, ref = 1999) | firm");
    expect(run).toThrow(ColumnError);
    expect(run).toThrow(/"1999" is not a level of "year" \(levels: 2000, 2001, 2002, 2003, 2004, 2005, \.\.\. \(10 levels\)\)/);
  });
  it("several references none of which exists", () => {
    expect(() => feols(eng, fr, "y ~ x + i(year, ref = c(1998, 1999)) | firm")).toThrow(/none of these values is a level of "year"/);
    expect(() => feols(eng, fr, 'y ~ i(city, ref = "c1")')).toThrow(/"c1" is not a level of "city"/);
  });
  it("a list with an existing level keeps working (the event study's ref = c(-1, -1000))", () => {
    const a = feols(eng, fr, "y ~ x + i(year, ref = c(2003, 1999)) | firm");
    const b = feols(eng, fr, "y ~ x + i(year, ref = 2003) | firm");
    expect(a.coefNames).toEqual(b.coefNames);
    expect(a.coefNames).not.toContain("year::2003");
    expect(a.coefVector).toEqual(b.coefVector);
  });
});

describe("no residual degrees of freedom", () => {
  it("n = K without FE is a sample error, not SE Infinity with t = 0", () => {
    const fr = Frame.fromColumns({ x: [1, 2], y: [1, 3] });
    expect(() => feols(eng, fr, "y ~ x")).toThrow(SampleError);
    expect(() => feols(eng, fr, "y ~ x")).toThrow(/2 observations for 2 parameters .*no residual degrees of freedom/);
  });
  it("counting the fixed-effect coefficients", () => {
    const fr = Frame.fromColumns({ x: [1, 2, 4, 3], y: [1, 3, 2, 5], g: [1, 1, 2, 2] });
    // 4 rows = 1 regressor + 2 FE levels + 1 residual dof: fine; one row fewer is exact
    const ok = feols(eng, fr, "y ~ x | g", { vcov: "iid" });
    expect(Number.isFinite(ok.se.x) && ok.se.x > 0).toBe(true);
    const fr3 = Frame.fromColumns({ x: [1, 2, 4], y: [1, 3, 2], g: [1, 1, 2] });
    expect(() => feols(eng, fr3, "y ~ x | g", { vcov: "iid", fixefRm: "none" })).toThrow(/3 observations for 3 parameters \(1 regressors \+ 2 fixed-effect/);
  });
  it("compression counts rows, not cells", () => {
    const n = 200;
    const x = Float64Array.from({ length: n }, (_, i) => i % 2);
    const y = Float64Array.from(x, (v, i) => v + (i % 5) * 0.1);
    const c = feolsCompressed(eng, Frame.fromColumns({ x, y }), "y ~ x", { vcov: "iid" });
    const f = feols(eng, Frame.fromColumns({ x, y }), "y ~ x", { vcov: "iid" });
    expect(c.compression.cells).toBe(2);
    relClose(c.se.x, f.se.x, REL);
    expect(() => feolsCompressed(eng, Frame.fromColumns({ x: [0, 1], y: [1, 2] }), "y ~ x", { vcov: "iid" })).toThrow(/no residual degrees of freedom/);
  });
});

describe("every row removed for missing values", () => {
  it("names the outcome when all of it is missing", () => {
    const d = data();
    const fr = Frame.fromColumns({ ...d, y: d.y.map(() => NaN) });
    const run = () => feols(eng, fr, "y ~ x | firm");
    expect(run).toThrow(SampleError);
    expect(run).toThrow(/no observations left: 300 removed for missing values \(300 in "y", every row\)/);
  });
  it("names each column responsible", () => {
    const d = data();
    const fr = Frame.fromColumns({ ...d, y: d.y.map((v, i) => (i < 100 ? NaN : v)), x: d.x.map((v, i) => (i >= 100 ? NaN : v)) });
    expect(() => feols(eng, fr, "y ~ x + z")).toThrow(/300 removed for missing values \(200 in "x"; 100 in "y"\)/);
  });
});

describe("extreme magnitudes", () => {
  const d = data();
  const base = Frame.fromColumns(d);
  const vcovs = ["iid", "hetero", "cluster:city"];

  it.each(vcovs)("a regressor of scale 1e156 is not collinear and rescales exactly (%s)", (vcov) => {
    const big = Frame.fromColumns({ ...d, x: d.x.map((v) => v * 1e156) });
    expectRescaled(feols(eng, big, "y ~ x + z", { vcov }), feols(eng, base, "y ~ x + z", { vcov }), "x", 1e156);
    expectRescaled(feols(eng, big, "y ~ x + z | firm + year", { vcov }), feols(eng, base, "y ~ x + z | firm + year", { vcov }), "x", 1e156);
  });

  it("a regressor of scale 1e-150 and an outcome of scale 1e150", () => {
    const small = Frame.fromColumns({ ...d, x: d.x.map((v) => v * 1e-150) });
    expectRescaled(feols(eng, small, "y ~ x + z | firm"), feols(eng, base, "y ~ x + z | firm"), "x", 1e-150);
    const bigY = Frame.fromColumns({ ...d, y: d.y.map((v) => v * 1e150) });
    const a = feols(eng, bigY, "y ~ x + z | firm", { vcov: "hetero" });
    expectRescaled(a, feols(eng, base, "y ~ x + z | firm", { vcov: "hetero" }), "", 1, 1e150);
    expect(a.warnings).toEqual([]);
  });

  it("withVcov on a rescaled fit equals the direct fit", () => {
    const big = Frame.fromColumns({ ...d, x: d.x.map((v) => v * 1e156) });
    const fit = feols(eng, big, "y ~ x + z | firm", { vcov: "iid" });
    const a = withVcov(eng, fit, "cluster:city");
    const b = feols(eng, big, "y ~ x + z | firm", { vcov: "cluster:city" });
    for (const nm of b.coefNames) relClose(a.se[nm], b.se[nm], 1e-12);
    expectRescaled(a, feols(eng, base, "y ~ x + z | firm", { vcov: "cluster:city" }), "x", 1e156);
  });

  it("weights of 1.5e308 (their sum overflows) give the fit of the same weights rescaled", () => {
    const m = Math.max(...d.w);
    const huge = Frame.fromColumns({ ...d, w: d.w.map((v) => (v / m) * 1.5e308) });
    for (const vcov of vcovs) {
      for (const fml of ["y ~ x + z", "y ~ x + z | firm"]) {
        const a = feols(eng, huge, fml, { vcov, weights: "w" });
        expectRescaled(a, feols(eng, base, fml, { vcov, weights: "w" }), "", 1);
        expect(a.ssr).toBe(Infinity);
        expect(a.warnings.join()).toMatch(/SSR and TSS are reported as Infinity/);
      }
    }
  });

  it("tiny weights (1e-200) as well", () => {
    const tiny = Frame.fromColumns({ ...d, w: d.w.map((v) => v * 1e-200) });
    const a = feols(eng, tiny, "y ~ x + z | firm", { weights: "w" });
    expectRescaled(a, feols(eng, base, "y ~ x + z | firm", { weights: "w" }), "", 1);
    relClose(a.ssr, feols(eng, base, "y ~ x + z | firm", { weights: "w" }).ssr * 1e-200, REL);
  });

  it("float32 storage rescales a 1e156 regressor too", () => {
    const big = Frame.fromColumns({ ...d, x: d.x.map((v) => v * 1e156) });
    const a = feols(eng, big, "y ~ x + z | firm", { storage: "f32" });
    const b = feols(eng, base, "y ~ x + z | firm");
    expect(a.coefNames).toEqual(b.coefNames);
    for (const nm of b.coefNames) {
      const c = nm === "x" ? 1e-156 : 1;
      expect(Math.abs(a.coef[nm] - b.coef[nm] * c)).toBeLessThanOrEqual(F32_SE * b.se[nm] * c);
    }
  });

  it("what cannot be represented is an error naming the column", () => {
    // V of the coefficient of x ~ 1e310: beyond float64
    const tiny = Frame.fromColumns({ ...d, x: d.x.map((v) => v * 1e-156) });
    expect(() => feols(eng, tiny, "y ~ x + z")).toThrow(ColumnError);
    expect(() => feols(eng, tiny, "y ~ x + z")).toThrow(/variance of "x" is not finite/);
    // an outcome of 1e200: coefficients fine, variances ~1e398
    const bigY = Frame.fromColumns({ ...d, y: d.y.map((v) => v * 1e200) });
    expect(() => feols(eng, bigY, "y ~ x + z | firm")).toThrow(/the outcome "y" has values of about 1e20\d/);
    // one value of 1e200 in the outcome
    const one = Frame.fromColumns({ ...d, y: d.y.map((v, i) => (i === 17 ? 1e200 : v)) });
    expect(() => feols(eng, one, "y ~ x + z")).toThrow(ColumnError);
    // an interaction whose product overflows
    const prod = Frame.fromColumns({ ...d, x: d.x.map((v) => v * 1e160), z: d.z.map((v) => v * 1e160) });
    expect(() => feols(eng, prod, "y ~ x:z")).toThrow(/the interaction x:z overflows float64 at row 1/);
  });
});

describe("the memory plan runs from the formula, before the design", () => {
  it("i(g) with 10,000 levels on 100,000 rows is refused with the plan's numbers", () => {
    const n = 100_000;
    const g = Float64Array.from({ length: n }, (_, i) => i % 10_000);
    const y = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 1000);
    const x = Float64Array.from({ length: n }, (_, i) => (i * 104729) % 997);
    // building these 10,000 columns would take 8 GB of JavaScript memory before the plan
    let err: unknown;
    try {
      feols(eng, Frame.fromColumns({ y, x, g }), "y ~ x + i(g)", { vcov: "iid" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmMemoryError);
    const det = (err as WasmMemoryError).details!;
    // outcome + intercept + x + the 10,000 levels (one is dropped as collinear only later)
    expect(det.rows).toBe(n);
    expect(det.columns).toBe(1 + 1 + 1 + 10_000);
    expect(det.need).toBe(planMemory({ n, k: 10_002, Q: 0, slopes: 0, weighted: false, hetero: false, clusterTerms: 0, feCells: 0 }));
  });
  it("counts only the rows with every value present and the levels they use", () => {
    const n = 120_000;
    const g = Float64Array.from({ length: n }, (_, i) => i % 10_000);
    const y = Float64Array.from({ length: n }, (_, i) => (i < 20_000 ? NaN : i % 13));
    const fe = Float64Array.from({ length: n }, (_, i) => i % 5000);
    let err: unknown;
    try {
      feols(eng, Frame.fromColumns({ y, g, fe }), "y ~ i(g, ref = 0) | fe", { vcov: "iid" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmMemoryError);
    const det = (err as WasmMemoryError).details!;
    expect(det.rows).toBe(100_000);
    expect(det.columns).toBe(1 + 9_999);
  });
});

describe("the sandwich B M B in WASM", () => {
  it.each([1, 2, 3, 5, 17, 64, 130])("k = %i against the TypeScript triple loop", (k) => {
    const r = rng(k);
    const A = Float64Array.from({ length: k * k }, () => r() - 0.5);
    const B = new Float64Array(k * k);
    const M = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b <= a; b++) {
        B[a + b * k] = B[b + a * k] = a === b ? k + r() : A[a + b * k];
        M[a + b * k] = M[b + a * k] = A[b + a * k] * 3;
      }
    }
    const w = sandwichOf(eng, B, M, k);
    const j = sandwich(B, M, k);
    let mx = 0;
    for (const v of j) mx = Math.max(mx, Math.abs(v));
    for (let i = 0; i < k * k; i++) expect(Math.abs(w[i] - j[i])).toBeLessThanOrEqual(SANDWICH_REL * mx);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) expect(w[a + b * k]).toBe(w[b + a * k]);
  });
});
