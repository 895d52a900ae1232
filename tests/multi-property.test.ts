// Property test (fixed seeds): a feolsMulti call equals the same models fitted one by one with
// feols, on random panels with exactly collinear regressors (x5 = x1 + 2 x2; x6 constant within
// firm, absorbed), missing values in some outcomes and a regressor (different samples per
// outcome, with FE singletons removed differently), weights, a split, and iid / hetero /
// one- and two-way cluster variances. feolsMulti solves the members of a group from one
// cross-product matrix (estimators/multi-ols.ts); feols solves each by QR.
//
// Tolerances (never loosened per case):
//   coefficients        1e-8 relative to max(|b|, SE(b)) (a coefficient near 0 has no relative digits)
//   vcov entries        1e-8 relative to sqrt(V_aa V_bb)
//   SSR, R2, within R2  1e-8 relative
//   residuals           1e-8 relative to the largest |residual|
//   demeaned outcome    exact (the same column: the demeaning is shared, not redone)
//   names, dropped terms, nobs, removed counts, FE sizes, warnings: exact
//   crossProducts kernel vs plain sums 1e-12 relative to sqrt(G_aa G_bb) (another summation order)
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit, type FeolsOptions } from "../bindings/estimators/feols.js";
import { feolsMulti } from "../bindings/estimators/multi.js";
import { Rng } from "../bindings/base/rng.js";
import type { Engine } from "../bindings/engine/wasm.js";

const COEF_REL = 1e-8;
const VCOV_REL = 1e-8;
const STAT_REL = 1e-8;
const RESID_REL = 1e-8;

const rel = (a: number, b: number, scale = Math.abs(b)) => Math.abs(a - b) / Math.max(scale, 1e-300);

/** A random firm-year panel: seed, firms, years, and the share of missing outcome values. */
function panel(seed: number, firms: number, years: number, naShare: number): Frame {
  const rng = new Rng(seed);
  const n = firms * years;
  const firm = new Float64Array(n);
  const year = new Float64Array(n);
  const st = new Float64Array(n);
  const region = new Float64Array(n);
  const w = new Float64Array(n);
  const x: Float64Array[] = Array.from({ length: 6 }, () => new Float64Array(n));
  const y: Float64Array[] = Array.from({ length: 3 }, () => new Float64Array(n));
  const fa = Float64Array.from({ length: firms }, () => rng.normal());
  const fc = Float64Array.from({ length: firms }, () => rng.normal());
  const stOf = Int32Array.from({ length: firms }, () => rng.int(9));
  for (let i = 0; i < n; i++) {
    const f = i % firms;
    const t = Math.floor(i / firms);
    firm[i] = f;
    year[i] = 2000 + t;
    st[i] = stOf[f];
    region[i] = stOf[f] % 3;
    w[i] = 0.25 + 2 * rng.uniform();
    for (let j = 0; j < 4; j++) x[j][i] = rng.normal() + (j === 0 ? 0.5 * fa[f] : 0) + (j === 1 ? 0.1 * t : 0);
    x[4][i] = x[0][i] + 2 * x[1][i]; // collinear with x1, x2
    x[5][i] = fc[f]; // absorbed by the firm FE
    for (let o = 0; o < 3; o++) {
      y[o][i] = (o + 1) * x[0][i] - 0.5 * x[1][i] + 0.3 * o * x[2][i] + x[3][i] + fa[f] + 0.2 * t + rng.normal() * (1 + o);
    }
    if (rng.uniform() < naShare) y[1][i] = NaN;
    if (rng.uniform() < naShare / 2) y[2][i] = NaN;
    if (rng.uniform() < naShare / 4) x[2][i] = NaN;
  }
  const cols: Record<string, Float64Array> = { firm, year, st, region, w };
  x.forEach((v, j) => (cols[`x${j + 1}`] = v));
  y.forEach((v, o) => (cols[`y${o + 1}`] = v));
  return Frame.fromColumns(cols);
}

function expectSameFit(m: Fit, alone: Fit, what: string): void {
  expect(m.coefNames, what).toEqual(alone.coefNames);
  expect(m.collinear, what).toEqual(alone.collinear);
  expect(m.nobs, what).toBe(alone.nobs);
  expect(m.removed, what).toEqual(alone.removed);
  expect(m.fixefSizes, what).toEqual(alone.fixefSizes);
  expect(m.warnings, what).toEqual(alone.warnings);
  expect(m.vcovLabel, what).toBe(alone.vcovLabel);
  expect(m.df, what).toBe(alone.df);
  expect(m.K, what).toBe(alone.K);
  expect(m.iterations, what).toBe(alone.iterations);
  const k = alone.coefNames.length;
  const V = alone.vcovMatrix;
  alone.coefVector.forEach((b, j) => {
    expect(rel(m.coefVector[j], b, Math.max(Math.abs(b), Math.sqrt(V[j + j * k]))), `${what} coef ${alone.coefNames[j]}`).toBeLessThan(COEF_REL);
  });
  V.forEach((v, i) => {
    const a = i % k;
    const b = Math.floor(i / k);
    expect(rel(m.vcovMatrix[i], v, Math.sqrt(V[a + a * k] * V[b + b * k])), `${what} vcov ${a},${b}`).toBeLessThan(VCOV_REL);
  });
  expect(rel(m.ssr, alone.ssr), `${what} ssr`).toBeLessThan(STAT_REL);
  expect(rel(m.r2, alone.r2), `${what} r2`).toBeLessThan(STAT_REL);
  if (alone.withinR2 !== null) expect(rel(m.withinR2!, alone.withinR2), `${what} within r2`).toBeLessThan(STAT_REL);
  const eA = alone.internals.residuals;
  const eM = m.internals.residuals;
  expect(eM.length, what).toBe(eA.length);
  let big = 0;
  let diff = 0;
  for (let i = 0; i < eA.length; i++) {
    big = Math.max(big, Math.abs(eA[i]));
    diff = Math.max(diff, Math.abs(eM[i] - eA[i]));
  }
  expect(diff / big, `${what} residuals`).toBeLessThan(RESID_REL);
  expect(Array.from(m.internals.yTilde), `${what} demeaned outcome`).toEqual(Array.from(alone.internals.yTilde));
  expect(m.internals.xTilde.length, what).toBe(alone.internals.xTilde.length);
  expect(Array.from(m.internals.sample.rows), what).toEqual(Array.from(alone.internals.sample.rows));
}

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

const CASES: { seed: number; firms: number; years: number; na: number; opts: FeolsOptions & { split?: string }; formula: string }[] = [
  { seed: 11, firms: 60, years: 6, na: 0.05, opts: { vcov: "cluster:st" }, formula: "c(y1, y2, y3) ~ x1 + csw(x2, x5, x3 + x6, x4) | sw(firm + year, firm)" },
  { seed: 12, firms: 50, years: 5, na: 0.08, opts: { vcov: "hetero", weights: "w" }, formula: "c(y1, y2) ~ csw(x1, x2 + x5, x3, x4 + x6) | firm + year" },
  { seed: 13, firms: 40, years: 8, na: 0.04, opts: { vcov: "iid", weights: "w", fixefRm: "none" }, formula: "c(y1, y2, y3) ~ x1 + sw(x2 + x5, x3) | sw0(firm + year)" },
  { seed: 14, firms: 45, years: 6, na: 0.06, opts: { vcov: "cluster:st+year", split: "region" }, formula: "c(y1, y2) ~ x1 + csw(x2, x3 + x5, x4) | firm + year" },
  { seed: 15, firms: 70, years: 4, na: 0.1, opts: { weights: "w" }, formula: "c(y1, y3) ~ x1 + x2 + csw0(x3, x4, x6) | firm + year" },
];

describe("feolsMulti equals the one-by-one feols fits (random panels, fixed seeds)", () => {
  for (const c of CASES) {
    it(`seed ${c.seed}: ${c.formula}, ${JSON.stringify(c.opts)}`, () => {
      const frame = panel(c.seed, c.firms, c.years, c.na);
      const r = feolsMulti(eng, frame, c.formula, c.opts);
      // the cross-product path fitted every member (all terms are plain variables)
      expect(r.joint).toBe(r.models.length);
      const { split, ...opts } = c.opts;
      let collinearSeen = 0;
      for (const m of r.models) {
        let data = frame;
        if (m.subset) {
          const v = frame.numeric(m.subset.var);
          const idx: number[] = [];
          for (let i = 0; i < frame.nrows; i++) if (String(v[i]) === m.subset.value) idx.push(i);
          data = frame.take(idx);
        }
        const alone = feols(eng, data, m.formula, opts);
        collinearSeen += alone.collinear.length;
        expectSameFit(m.fit, alone, `${m.formula}${m.sample ? ` [${m.sampleVar} = ${m.sample}]` : ""}`);
      }
      expect(split === undefined || r.models.some((m) => m.subset !== null)).toBe(true);
      // the panels do exercise the collinearity rule
      if (/x5|x6/.test(c.formula)) expect(collinearSeen).toBeGreaterThan(0);
    });
  }
});

describe("errors of a member fitted from the cross-products", () => {
  it("are feols's own (class and message), prefixed with the member, in the member's turn", () => {
    const base = panel(21, 30, 5, 0);
    const firm = base.numeric("firm");
    const frame = base.withColumn("yc", Float64Array.from(firm, (f) => f * 0.5)); // constant within firm
    const alone = (() => {
      try {
        feols(eng, frame, "yc ~ x1 | firm + year", { vcov: "iid" });
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(alone).not.toBeNull();
    let err: Error | null = null;
    try {
      feolsMulti(eng, frame, "c(y1, yc) ~ x1 | firm + year", { vcov: "iid" });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.constructor).toBe(alone!.constructor);
    expect(err?.message).toBe(`model 2 (yc ~ x1 | firm + year): ${alone!.message}`);
  });
});

describe("crossProducts kernel (assembly/crossprod.ts)", () => {
  it("equals the plain column dot products, across row blocks and an odd row count; rejects a negative size", () => {
    const rng = new Rng(5);
    const n = 1237; // two full 512-row blocks and a partial one, odd
    const C = 7;
    const x = Float64Array.from({ length: n * C }, (_, i) => rng.normal() * (1 + (Math.floor(i / n) % 3)));
    const G = eng.scoped(() => {
      const xp = eng.putF64(x);
      const out = eng.allocF64(C * C);
      expect(eng.kernels.crossProducts(out, n, C, xp)).toBe(0);
      expect(eng.kernels.crossProducts(out, -1, C, xp)).toBe(3); // BAD_ARGUMENT
      expect(eng.kernels.crossProducts(out, n, C, xp)).toBe(0);
      return eng.getF64(out, C * C);
    });
    const dot = (a: number, b: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[a * n + i] * x[b * n + i];
      return s;
    };
    for (let a = 0; a < C; a++) {
      for (let b = 0; b < C; b++) {
        const ref = dot(a, b);
        expect(rel(G[a + b * C], ref, Math.sqrt(dot(a, a) * dot(b, b))), `${a},${b}`).toBeLessThan(1e-12);
        expect(G[a + b * C]).toBe(G[b + a * C]);
      }
    }
  });
});
