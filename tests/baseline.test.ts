// The benchmarks' plain-TypeScript baseline (bindings/ref/feols-ts.ts) is as specialised as
// the WASM kernel: its loops written out for 2 and 3 FE must give the same bits as its generic
// loop (same sums, same order), and its fit must agree with feols.
// Tolerance: bits equal between the two TypeScript paths; coefficients 1e-8 relative to feols.
import { describe, it, expect, beforeAll } from "vitest";
import { demeanTs, feolsTs } from "../bindings/ref/feols-ts.js";
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/estimators/feols.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { genPanel, CONTROLS } from "../bench/gen.js";

const COEF_REL = 1e-8;
let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

describe("TypeScript baseline", () => {
  for (const [fes, seed] of [[["firm", "year"], 3], [["firm", "year", "city"], 5], [["city", "year"], 7]] as const) {
    it(`specialised loops give the generic loop's bits (${fes.join(" + ")})`, () => {
      const frame = genPanel({ rows: 12_000, seed, cities: 40 });
      const fe = fes.map((c) => {
        const cc = frame.codes(c);
        return { codes: cc.codes, levels: cc.levels.length };
      });
      const cols = ["y", "treat", ...CONTROLS];
      const n = frame.nrows, K = cols.length;
      const M = new Float64Array(n * K);
      cols.forEach((c, j) => M.set(frame.numeric(c), j * n));
      const a = M.slice(), b = M.slice();
      const ia = demeanTs(a, n, K, fe, 1e-10, 10_000, false);
      const ib = demeanTs(b, n, K, fe, 1e-10, 10_000, true);
      expect(ib).toBe(ia);
      expect(ia).toBeGreaterThanOrEqual(1);
      expect(b).toEqual(a);
      // and it did demean: the first FE's group means of y are about 0
      const g0 = fe[0];
      const s = new Float64Array(g0.levels), c = new Float64Array(g0.levels);
      for (let i = 0; i < n; i++) { s[g0.codes[i]] += b[i]; c[g0.codes[i]]++; }
      for (let g = 0; g < g0.levels; g++) expect(Math.abs(s[g] / c[g])).toBeLessThan(1e-6);
    });
  }

  it("its fit agrees with feols (2 FE, clustered by firm)", () => {
    const frame = genPanel({ rows: 20_000, city: false });
    const fe = ["firm", "year"].map((c) => {
      const cc = frame.codes(c);
      return { codes: cc.codes, levels: cc.levels.length };
    });
    const ts = feolsTs({ y: frame.numeric("y"), X: ["treat", ...CONTROLS].map((c) => frame.numeric(c)), fe, cluster: { codes: fe[0].codes, G: fe[0].levels }, specialised: true });
    const fit = feols(eng, frame, `y ~ treat + ${CONTROLS.join(" + ")} | firm + year`, { vcov: "cluster:firm", fixefRm: "none" });
    ["treat", ...CONTROLS].forEach((name, j) => {
      expect(Math.abs(ts.coef[j] - fit.coef[name]) / Math.abs(fit.coef[name])).toBeLessThan(COEF_REL);
    });
  });
});
