// Post-estimation against R fixest (tests/fixtures/reference/post_fixest.json, copied from
// ../shared/reference): fixef() for all 1,880 firms and 10 years with fixest's reference rule,
// predict() in sample and on 20 new rows (NA cases), wald(), the linear hypothesis
// b_Fin = b_Eco, confint() at 0.90 and 0.95; and a property test of the sup-t bands.
//
// Tolerances (never loosened per case):
//   coefficients, FE coefficients, predictions   1e-8 relative (on max(|value|, 1): the FE
//                                               and predictions are centred near 0)
//   standard errors, confidence bounds           1e-6 relative
//   Wald / F statistics                          1e-6 relative; p-values 1e-6 absolute
//   references, counts, NA positions, df         exact
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit } from "../bindings/estimators/feols.js";
import { fixef, predict, fitted, residuals, wald, hypothesis, confint, supTBand, parseHypothesis } from "../bindings/post/index.js";
import { qt } from "../bindings/base/stats.js";
import { Rng } from "../bindings/base/rng.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const STAT_REL = 1e-6;
const P_ABS = 1e-6;

const ref = JSON.parse(readFileSync(new URL("post_fixest.json", FIX), "utf8"));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
const relScaled = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1);

let eng: Engine;
let frame: Frame;
let fit: Fit;

beforeAll(async () => {
  eng = await loadEngine();
  const { table } = await readFile(new URL(ref.data, FIX).pathname);
  frame = Frame.fromArrow(table);
  fit = feols(eng, frame, ref.formula, { vcov: "cluster:firm", fixefRm: "none", fixefTol: 1e-10 });
}, 120_000);

describe("the post-estimation model equals fixest's", () => {
  it("coefficients and SEs", () => {
    for (const [nm, b] of Object.entries(ref.model.coef as Record<string, number>)) {
      expect(rel(fit.coef[nm], b)).toBeLessThan(COEF_REL);
      expect(rel(fit.se[nm], ref.model.se[nm])).toBeLessThan(SE_REL);
    }
  });
});

describe("fixef()", () => {
  it("every firm and year coefficient, fixest's reference rule, identified counts", () => {
    const fe = fixef(fit);
    expect(fe.dims.map((d) => d.name)).toEqual(["firm", "year"]);
    for (const d of fe.dims) {
      const want = ref.fixef.values[d.name] as Record<string, number>;
      expect(d.levels.length).toBe(ref.fixef.sizes[d.name]);
      expect(d.levels).toEqual(Object.keys(want)); // sorted as fixest sorts them
      for (const [lvl, v] of Object.entries(want)) expect(relScaled(d.byLevel[lvl], v)).toBeLessThan(COEF_REL);
      expect(d.references).toEqual(ref.fixef.reference_levels[d.name]);
      expect(d.references.length).toBe(ref.fixef.references[d.name]);
      expect(d.identified).toBe(d.levels.length - ref.fixef.references[d.name]);
    }
    expect(fe.components).toBe(1);
    expect(fe.dims[1].byLevel["2013"]).toBe(0);
  });
  it("FE + X b equals the fitted values", () => {
    const fe = fixef(fit);
    const f = fitted(fit);
    const e = residuals(fit);
    const I = fit.internals;
    const rows = I.sample.rows;
    const firm = frame.codes("firm"), year = frame.codes("year");
    const X = ["did", "Fin", "Eco"].map((c) => frame.numeric(c));
    let worst = 0;
    for (let j = 0; j < fit.nobs; j++) {
      const r = rows[j];
      let v = fe.dims[0].byLevel[firm.levels[firm.codes[r]]] + fe.dims[1].byLevel[year.levels[year.codes[r]]];
      X.forEach((x, a) => (v += fit.coefVector[a] * x[r]));
      worst = Math.max(worst, Math.abs(v - f[j]));
      expect(Math.abs(frame.numeric("FC")[r] - f[j] - e[j])).toBeLessThan(1e-12);
    }
    expect(worst).toBeLessThan(1e-8);
  });
});

describe("fixef() on a disconnected, weighted panel (fixed seed)", () => {
  it("one reference per component, at its first observation; FE + X b = fitted; override honoured", () => {
    const rng = new Rng(5);
    const firm: number[] = [], year: number[] = [], x: number[] = [], z: number[] = [], y: number[] = [], w: number[] = [];
    // firms 0-9 in years 2001-2003, firms 10-19 in 2004-2006: two components; rows shuffled
    const cells: [number, number][] = [];
    for (let f = 0; f < 20; f++) for (let t = 0; t < 3; t++) cells.push([f, 2001 + t + (f >= 10 ? 3 : 0)]);
    cells.sort(() => rng.uniform() - 0.5);
    for (const [f, t] of cells) {
      firm.push(f), year.push(t), x.push(rng.normal()), z.push(rng.normal());
      y.push(0.5 * x[x.length - 1] + Math.sin(f) + Math.cos(t) + rng.normal()), w.push(0.5 + rng.uniform());
    }
    x[3] = NaN; // one row removed for a missing regressor
    const data = Frame.fromColumns({ firm, year, x, z, y, w });
    const fit2 = feols(eng, data, "y ~ x | firm + year", { weights: "w", fixefRm: "none", vcov: "hetero", fixefTol: 1e-12 });
    const fe = fixef(fit2);
    expect(fe.components).toBe(2);
    const rows = fit2.internals.sample.rows;
    const firstA = rows.find((r) => firm[r] < 10)!, firstB = rows.find((r) => firm[r] >= 10)!;
    expect(fe.dims[1].references).toEqual([String(year[firstA]), String(year[firstB])].sort());
    expect(fe.dims[1].byLevel[String(year[firstA])]).toBe(0);
    expect(fe.dims[1].byLevel[String(year[firstB])]).toBe(0);
    expect(fe.dims[0].references).toEqual([]);
    expect(fe.dims[1].identified).toBe(6 - 2);
    const fitted2 = fitted(fit2), e2 = residuals(fit2);
    rows.forEach((r, j) => {
      const v = fe.dims[0].byLevel[String(firm[r])] + fe.dims[1].byLevel[String(year[r])] + fit2.coef.x * x[r];
      expect(Math.abs(v - fitted2[j])).toBeLessThan(1e-10);
      expect(Math.abs(y[r] - fitted2[j] - e2[j])).toBeLessThan(1e-12);
    });
    const p = predict(fit2);
    expect(p[3]).toBeNaN();
    // a fit on an overridden regressor: fixef reads the override, not the data column
    const zx = Float64Array.from(z);
    const fit3 = feols(eng, data, "y ~ x | firm + year", { override: { x: zx }, fixefRm: "none", vcov: "iid", fixefTol: 1e-12 });
    const fe3 = fixef(fit3), f3 = fitted(fit3);
    fit3.internals.sample.rows.forEach((r, j) => {
      const v = fe3.dims[0].byLevel[String(firm[r])] + fe3.dims[1].byLevel[String(year[r])] + fit3.coef.x * zx[r];
      expect(Math.abs(v - f3[j])).toBeLessThan(1e-10);
    });
  });
});

describe("fixef() with three FE (conjugate-gradient path)", () => {
  it("firm + year + city, firms almost nested in cities: FE + X b = fitted, one city reference per firm-city component", () => {
    const fit3 = feols(eng, frame, "FC ~ did + Fin + Eco | firm + year + city", { vcov: "iid", fixefRm: "none", fixefTol: 1e-12 });
    const fe = fixef(fit3);
    const f = fitted(fit3);
    const codes = ["firm", "year", "city"].map((v) => frame.codes(v));
    const X = ["did", "Fin", "Eco"].map((c) => frame.numeric(c));
    let worst = 0;
    fit3.internals.sample.rows.forEach((r, j) => {
      let v = 0;
      codes.forEach((c, q) => (v += fe.dims[q].byLevel[c.levels[c.codes[r]]]));
      X.forEach((x, a) => (v += fit3.coefVector[a] * x[r]));
      worst = Math.max(worst, Math.abs(v - f[j]));
    });
    expect(worst).toBeLessThan(1e-8);
    expect(fe.dims[0].references).toEqual([]);
    expect(fe.dims[1].references).toEqual(["2013"]);
    for (const d of fe.dims.slice(1)) for (const ref of d.references) expect(d.byLevel[ref]).toBe(0);
  }, 120_000);
});

describe("predict()", () => {
  it("in sample: first 50, mean, sd, min, max, sum", () => {
    const p = predict(fit);
    const want = ref.predict_in_sample;
    expect(p.length).toBe(want.n);
    expect(p.filter(Number.isNaN).length).toBe(want.n_na);
    (want.first50 as number[]).forEach((v, i) => expect(relScaled(p[i], v)).toBeLessThan(COEF_REL));
    const n = p.length;
    const mean = p.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(p.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(relScaled(mean, want.mean)).toBeLessThan(COEF_REL);
    expect(relScaled(sd, want.sd)).toBeLessThan(COEF_REL);
    expect(relScaled(Math.min(...p), want.min)).toBeLessThan(COEF_REL);
    expect(relScaled(Math.max(...p), want.max)).toBeLessThan(COEF_REL);
    // the reference's sum is printed to 7 significant digits
    expect(Math.abs(mean * n - want.sum)).toBeLessThan(1e-6 * Math.abs(want.sum));
  });
  it("the estimation data as new data gives the in-sample predictions (FE; no FE with i() dummies)", () => {
    const a = predict(fit), b = predict(fit, frame);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-10);
    const plain = feols(eng, frame, "FC ~ did + Fin + i(region)", { vcov: "hetero" });
    const c = predict(plain), d = predict(plain, frame);
    expect(plain.coefNames.some((nm) => nm.includes("::"))).toBe(true);
    for (let i = 0; i < c.length; i++) expect(Math.abs(c[i] - d[i])).toBeLessThan(1e-10);
  });
  it("on 20 new rows: unseen firm, unseen year and a missing regressor give NaN", () => {
    const nd = ref.predict_newdata.newdata as Record<string, (number | null)[]>;
    const cols = Object.fromEntries(Object.entries(nd).map(([k, v]) => [k, Float64Array.from(v, (x) => (x === null ? NaN : x))]));
    const p = predict(fit, Frame.fromColumns(cols));
    const want = ref.predict_newdata.predict as (number | null)[];
    expect(p.length).toBe(want.length);
    want.forEach((v, i) => {
      if (v === null) expect(p[i]).toBeNaN();
      else expect(relScaled(p[i], v)).toBeLessThan(COEF_REL);
    });
  });
});

describe("tests and intervals", () => {
  it("wald(keep = 'Fin|Eco')", () => {
    const w = wald(fit, "Fin|Eco");
    expect(w.terms).toEqual(["Fin", "Eco"]);
    expect(rel(w.stat, ref.wald.stat)).toBeLessThan(STAT_REL);
    expect(Math.abs(w.p - ref.wald.p)).toBeLessThan(P_ABS);
    expect([w.df1, w.df2]).toEqual([ref.wald.df1, ref.wald.df2]);
    expect(w.vcov).toBe(ref.wald.vcov);
  });
  it("the linear hypothesis b_Fin = b_Eco, written three ways", () => {
    const L = ref.lincom;
    for (const h of ["Fin = Eco", "Fin - Eco = 0", "-Eco + 1*Fin = 0"]) {
      const [r] = hypothesis(fit, h);
      expect(rel(r.estimate, L.estimate)).toBeLessThan(COEF_REL);
      expect(rel(r.se, L.se)).toBeLessThan(SE_REL);
      expect(rel(r.t, L.t)).toBeLessThan(SE_REL);
      expect(r.df).toBe(L.t_df);
      expect(Math.abs(r.p - L.p_t)).toBeLessThan(P_ABS);
      expect(rel(r.F, L.F)).toBeLessThan(STAT_REL);
      expect(r.df2).toBe(L.df2);
      expect(Math.abs(r.pF - L.p_F)).toBeLessThan(P_ABS);
    }
    expect(parseHypothesis("2*did + Fin = 0.5", fit.coefNames)).toEqual({ c: [2, 1, 0], r: 0.5 });
    expect(parseHypothesis("did * 2 - 1e-3 * Eco + `Fin` = 0.5 + Fin", fit.coefNames)).toEqual({ c: [2, 0, -1e-3], r: 0.5 });
    expect(() => hypothesis(fit, "Fin Eco = 0")).toThrow(/cannot read/);
    expect(() => hypothesis(fit, "Fin = Size")).toThrow(/not a coefficient/);
    expect(() => hypothesis(fit, "1 = 1")).toThrow(/names no coefficient/);
    const joint = hypothesis(fit, "Fin = 0, Eco = 0").joint!;
    expect(rel(joint.stat, ref.wald.stat)).toBeLessThan(STAT_REL);
  });
  it("confint at 0.90 and 0.95", () => {
    for (const key of ["confint90", "confint95"]) {
      const c = ref[key];
      for (const iv of confint(fit, c.level)) {
        expect(rel(iv.lower, c.lower[iv.name])).toBeLessThan(SE_REL);
        expect(rel(iv.upper, c.upper[iv.name])).toBeLessThan(SE_REL);
      }
    }
    expect(() => confint(fit, 1.5)).toThrow(/level/);
  });
});

describe("sup-t bands (fixed seed)", () => {
  it("are wider than the pointwise intervals and narrower than Bonferroni's", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0.8, max: 0.99, noNaN: true }), fc.double({ min: 0.3, max: 0.85, noNaN: true }), (m, seed, level, rho) => {
        // an equicorrelated vcov (correlation rho, random SDs) over m coefficients: with rho
        // inside (0.3, 0.85) both gaps exceed the Monte Carlo error of 20,000 draws; on a copy
        // of the fit
        const sd = Array.from({ length: m }, (_, a) => 0.5 + Math.abs(Math.sin(seed + 1.7 * a)));
        const V = new Float64Array(m * m);
        for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) V[a + b * m] = sd[a] * sd[b] * (a === b ? 1 : rho);
        const names = Array.from({ length: m }, (_, j) => `b${j}`);
        const fake = { ...fit, coefNames: names, coefVector: new Float64Array(m), vcovMatrix: V } as Fit;
        const band = supTBand(fake, names, { level, draws: 20_000, seed });
        expect(band.crit).toBeGreaterThan(band.pointwise);
        expect(band.crit).toBeLessThan(band.bonferroni);
        band.intervals.forEach((iv, j) => expect(iv.upper - iv.lower).toBeCloseTo(2 * band.crit * Math.sqrt(V[j + j * m]), 12));
      }),
      { numRuns: 25 },
    );
  });
  it("on an event-study path: wider than each pointwise interval, the same centre", () => {
    const es = feols(eng, frame, "FC ~ i(rel, ref = c(-1, -1000)) + Fin | firm + year", { vcov: "cluster:firm", fixefRm: "none" });
    const path = es.coefNames.filter((nm) => nm.startsWith("rel::"));
    expect(path.length).toBeGreaterThan(5);
    const band = supTBand(es, /^rel::/, { seed: 3 });
    const point = confint(es, 0.95, /^rel::/);
    expect(band.intervals.map((iv) => iv.name)).toEqual(path);
    // event-study names carry a minus sign: "rel::-2 = rel::-3"
    const [h] = hypothesis(es, "rel::-2 = rel::-3");
    expect(h.estimate).toBeCloseTo(es.coef["rel::-2"] - es.coef["rel::-3"], 14);
    expect(band.crit).toBeGreaterThan(band.pointwise);
    expect(band.crit).toBeLessThan(band.bonferroni);
    band.intervals.forEach((iv, j) => {
      expect(iv.lower).toBeLessThan(point[j].lower);
      expect(iv.upper).toBeGreaterThan(point[j].upper);
      expect(Math.abs((iv.lower + iv.upper) / 2 - es.coef[iv.name])).toBeLessThan(1e-12);
    });
  }, 120_000);
  it("for the model's coefficients: reproducible with the seed", () => {
    const a = supTBand(fit, ["did", "Fin", "Eco"], { seed: 7 });
    const b = supTBand(fit, ["did", "Fin", "Eco"], { seed: 7 });
    expect(a.crit).toBe(b.crit);
    expect(a.crit).toBeGreaterThan(qt(0.975, Infinity));
  });
});
