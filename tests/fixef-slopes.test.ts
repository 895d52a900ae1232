// fixef() and predict() with varying slopes (fe[x]: intercepts and slopes per level; fe[[x]]:
// slopes only). post_fixest.json has no such model, so the reference is an independent
// construction on a small panel drawn with a fixed seed: OLS on the dummy-interaction design
// (every level's dummy, and every level's dummy times the slope variable; with a second
// intercept FE, its level at the first observation left out, fixest's reference rule) by the
// plain-TypeScript least squares of bindings/ref/kernels.ts. The fixef() values equal those
// coefficients; predict() in sample equals the fitted values; predict() on new data equals
// x'b + intercept + slope * z rebuilt from the OLS coefficients.
//
// Tolerances: FE and slope coefficients 1e-8 relative to the largest coefficient of the block
// (the fit's demeaning tolerance is 1e-12); predictions 1e-9 absolute (the outcome is O(1)).
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols } from "../bindings/estimators/feols.js";
import { fixef, predict, fitted } from "../bindings/post/index.js";
import { refLeastSquares } from "../bindings/ref/kernels.js";
import { Rng } from "../bindings/base/rng.js";
import type { Engine } from "../bindings/engine/wasm.js";

const COEF_REL = 1e-8;
const PRED_ABS = 1e-9;

let eng: Engine;
const cols: Record<string, number[]> = { firm: [], year: [], region: [], x: [], z: [], y: [] };
let data: Frame;

beforeAll(async () => {
  eng = await loadEngine();
  const rng = new Rng(19);
  const F = 15, T = 8;
  const cells: [number, number][] = [];
  for (let f = 0; f < F; f++) for (let t = 0; t < T; t++) cells.push([f, 2010 + t]);
  cells.sort(() => rng.uniform() - 0.5); // rows in no particular order: the reference rule reads the first row
  for (const [f, t] of cells) {
    const x = rng.normal(), z = rng.normal() + 0.1 * (t - 2013), region = f % 3;
    cols.firm.push(f), cols.year.push(t), cols.region.push(region), cols.x.push(x), cols.z.push(z);
    cols.y.push(0.7 * x + Math.sin(f) + 0.3 * Math.cos(t) + (0.2 + 0.1 * f) * z + 0.5 * (region - 1) * z + 0.3 * rng.normal());
  }
  data = Frame.fromColumns(cols);
}, 60_000);

type Block = { name: string; by: string; slope?: string; drop?: string };

/** OLS of y on x and the dummy (times slope) columns of `blocks`; coefficients by block and level label. */
function dummyOls(blocks: Block[]): { b: number; coefs: Record<string, Record<string, number>> } {
  const n = cols.y.length;
  const X: Float64Array[] = [Float64Array.from(cols.x)];
  const names: [string, string][] = [];
  for (const bl of blocks) {
    const levels = [...new Set(cols[bl.by])].sort((a, b) => a - b).map(String).filter((l) => l !== bl.drop);
    for (const l of levels) {
      X.push(Float64Array.from({ length: n }, (_, i) => (String(cols[bl.by][i]) === l ? (bl.slope ? cols[bl.slope][i] : 1) : 0)));
      names.push([bl.name, l]);
    }
  }
  const r = refLeastSquares(X, Float64Array.from(cols.y));
  expect(r.keep.every(Boolean), "the dummy-interaction design is of full rank").toBe(true);
  const coefs: Record<string, Record<string, number>> = {};
  names.forEach(([bn, l], j) => ((coefs[bn] ??= {})[l] = r.coef[j + 1]));
  for (const bl of blocks) if (bl.drop) coefs[bl.name][bl.drop] = 0;
  return { b: r.coef[0], coefs };
}

function expectBlocks(got: ReturnType<typeof fixef>, want: Record<string, Record<string, number>>): void {
  expect(got.dims.map((d) => d.name).sort()).toEqual(Object.keys(want).sort());
  for (const d of got.dims) {
    const w = want[d.name];
    const scale = Math.max(...Object.values(w).map(Math.abs));
    expect(d.levels.sort()).toEqual(Object.keys(w).sort());
    for (const l of d.levels) expect(Math.abs(d.byLevel[l] - w[l]) / scale, `${d.name} ${l}`).toBeLessThan(COEF_REL);
  }
}

const CASES: { formula: string; blocks: (firstYear: string) => Block[] }[] = [
  { formula: "y ~ x | firm[z]", blocks: () => [{ name: "firm", by: "firm" }, { name: "firm[[z]]", by: "firm", slope: "z" }] },
  { formula: "y ~ x | firm + year[[z]]", blocks: () => [{ name: "firm", by: "firm" }, { name: "year[[z]]", by: "year", slope: "z" }] },
  {
    formula: "y ~ x | firm + year + region[[z]]",
    blocks: (y0) => [{ name: "firm", by: "firm" }, { name: "year", by: "year", drop: y0 }, { name: "region[[z]]", by: "region", slope: "z" }],
  },
];

describe("fixef() with varying slopes equals OLS on the dummy-interaction design", () => {
  for (const c of CASES) {
    it(c.formula, () => {
      const fit = feols(eng, data, c.formula, { vcov: "iid", fixefRm: "none", fixefTol: 1e-12 });
      const firstYear = String(cols.year[fit.internals.sample.rows[0]]);
      const ref = dummyOls(c.blocks(firstYear));
      expect(Math.abs(fit.coef.x - ref.b) / Math.abs(ref.b)).toBeLessThan(COEF_REL);
      const fe = fixef(fit);
      expectBlocks(fe, ref.coefs);
      for (const d of fe.dims) if (d.name.includes("[[")) expect(d.references).toEqual([]); // slopes are never references
      // predict in sample = fitted values
      const p = predict(fit), f = fitted(fit);
      fit.internals.sample.rows.forEach((r, j) => expect(Math.abs(p[r] - f[j])).toBeLessThan(PRED_ABS));
    });
  }

  it("predict() on new data adds each level's slope times z (NaN for an unseen level)", () => {
    const fit = feols(eng, data, "y ~ x | firm[z]", { vcov: "iid", fixefRm: "none", fixefTol: 1e-12 });
    const ref = dummyOls(CASES[0].blocks(""));
    const nd = Frame.fromColumns({ firm: [3, 7, 99], x: [0.5, -1, 0], z: [2, -0.25, 1] });
    const p = predict(fit, nd);
    [0, 1].forEach((i) => {
      const f = String([3, 7][i]);
      const want = ref.b * [0.5, -1][i] + ref.coefs.firm[f] + ref.coefs["firm[[z]]"][f] * [2, -0.25][i];
      expect(Math.abs(p[i] - want)).toBeLessThan(PRED_ABS);
    });
    expect(p[2]).toBeNaN();
    expect(() => predict(fit, Frame.fromColumns({ firm: [3], x: [0.5] }))).toThrow(/z/);
  });
});
