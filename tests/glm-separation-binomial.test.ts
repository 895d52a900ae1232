// Complete and quasi-complete separation of a binary outcome by one regressor at a threshold
// (bindings/estimators/glm-separation.ts thresholdSeparation, run before a logit / probit fit
// with separation "ir"): on constructed panels (fixed seeds) where y = 1 exactly where x > c
// (complete) the fit stops with a SeparationError naming x; where y = 0 for x < 0, y = 1 for
// x > 0 and y mixed at x = 0 (quasi-complete) the rows with x != 0 are removed, counted and
// named, x is dropped as constant, and the fit equals the same GLM fitted by hand on the rows
// with x = 0 without x. With separation "fe" (fixest's rule) nothing is removed.
//
// Tolerances (never loosened per case): coefficients 1e-8 relative, SEs 1e-6 relative;
// removed counts and rows exact.
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feglm } from "../bindings/estimators/glm.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { Rng } from "../bindings/base/rng.js";
import { SeparationError } from "../bindings/base/errors.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

/** 40 firms x 50 rows; x uniform on (-1, 1) with 20% of rows at exactly 0; w a control. */
function panel(seed: number) {
  const rng = new Rng(seed);
  const n = 2000;
  const firm = new Float64Array(n), x = new Float64Array(n), w = new Float64Array(n), yc = new Float64Array(n), yq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    firm[i] = i % 40;
    w[i] = rng.uniform() * 2 - 1;
    x[i] = i % 5 === 0 ? 0 : rng.uniform() * 2 - 1;
    yc[i] = x[i] > 0.1 ? 1 : 0;
    const p = 1 / (1 + Math.exp(-(w[i] + 0.3 * (firm[i] % 4) - 0.5)));
    yq[i] = x[i] > 0 ? 1 : x[i] < 0 ? 0 : rng.uniform() < p ? 1 : 0;
  }
  return { firm, x, w, yc, yq };
}

describe("binomial separation by a regressor at a threshold", () => {
  for (const family of ["logit", "probit"] as const) {
    for (const seed of [3, 11]) {
      it(`complete separation is a SeparationError naming the regressor (${family}, seed ${seed})`, () => {
        const fr = Frame.fromColumns(panel(seed));
        for (const f of ["yc ~ x + w | firm", "yc ~ w + x"]) {
          let err: unknown;
          try {
            feglm(eng, fr, f, { family });
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(SeparationError);
          expect((err as Error).message).toMatch(/complete separation by x:/);
          expect((err as Error).message).toMatch(/predicted perfectly in all [0-9,]+ rows/);
        }
      });

      it(`complete separation counts the estimation sample's rows and names the rows removed before (${family}, seed ${seed})`, () => {
        const p = panel(seed);
        // the firms whose outcome never varies go first (fixef.rm "perfect"), counted here from the data
        const seen = new Map<number, Set<number>>();
        p.firm.forEach((g, i) => seen.set(g, (seen.get(g) ?? new Set()).add(p.yc[i])));
        const gone = Array.from(p.firm).filter((g) => seen.get(g)!.size === 1).length;
        expect(gone).toBeGreaterThan(0);
        const fmt = (v: number) => v.toLocaleString("en-US");
        expect(() => feglm(eng, Frame.fromColumns(p), "yc ~ x + w | firm", { family })).toThrow(
          `predicted perfectly in all ${fmt(p.firm.length - gone)} rows of the estimation sample (${fmt(p.firm.length)} rows in the data, removed before: ${fmt(gone)} in FE levels with one outcome value only);`,
        );
        expect(() => feglm(eng, Frame.fromColumns(p), "yc ~ w + x", { family })).toThrow(`predicted perfectly in all ${fmt(p.firm.length)} rows of the estimation sample;`);
      });

      it(`quasi-complete separation: the separated rows removed and counted, the fit equal to the hand-made subsample (${family}, seed ${seed})`, () => {
        const cols = panel(seed);
        const fr = Frame.fromColumns(cols);
        const fit = feglm(eng, fr, "yq ~ x + w | firm", { family, vcov: "cluster:firm" });
        const expected: number[] = [];
        cols.x.forEach((v, i) => v !== 0 && expected.push(i));
        expect(fit.glmRemoved.separated).toBe(expected.length);
        expect(fit.glmRemoved.separatedBy).toEqual(["x"]);
        expect(fit.glmRemoved.constantAfterSeparation).toEqual(["x"]);
        expect(fit.coefNames).toEqual(["w"]);
        // by hand: the rows with x = 0 (and the FE rule on them), x left out
        const keep = Array.from(cols.x, (v, i) => (v === 0 ? i : -1)).filter((i) => i >= 0);
        const sub = Frame.fromColumns({
          firm: Float64Array.from(keep, (i) => cols.firm[i]), w: Float64Array.from(keep, (i) => cols.w[i]), yq: Float64Array.from(keep, (i) => cols.yq[i]),
        });
        const ref = feglm(eng, sub, "yq ~ w | firm", { family, vcov: "cluster:firm" });
        expect(fit.nobs).toBe(ref.nobs);
        expect(fit.nobs + fit.glmRemoved.rows.length).toBe(cols.x.length);
        for (const r of fit.glmRemoved.rows.filter((r) => cols.x[r] !== 0)) expect(expected).toContain(r);
        expect(rel(fit.coef.w, ref.coef.w)).toBeLessThan(COEF_REL);
        expect(rel(fit.se.w, ref.se.w)).toBeLessThan(SE_REL);
      });
    }

    it(`separation "fe" removes nothing (${family})`, () => {
      const fr = Frame.fromColumns(panel(3));
      let separated = -1;
      try {
        separated = feglm(eng, fr, "yq ~ x + w | firm", { family, separation: "fe" }).glmRemoved.separated;
      } catch (e) {
        // fixest's rule keeps the separated rows: the IRLS may then fail to converge
        expect((e as Error).name).toBe("NonConvergenceError");
        separated = 0;
      }
      expect(separated).toBe(0);
    });
  }
});
