// feols beyond the fixest reference matrix: weights, withVcov, invariances that theory
// dictates (row order, level names, rescaling, NA rows = deleted rows), extreme magnitudes,
// and bad input that must end in a named error, never a crash or a wrong number.
//
// Tolerances: identities that hold exactly in exact arithmetic are checked to 1e-9
// relative (coefficients) and 1e-7 relative (SEs), which leaves room for the different
// floating-point order of a permuted or rescaled problem and the 1e-10 FE tolerance used.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, withVcov, planMemory } from "../bindings/estimators/feols.js";
import { WASM_MAX_BYTES } from "../bindings/engine/wasm.js";
import type { Engine } from "../bindings/engine/wasm.js";
import {
  ColumnError, FormulaSyntaxError, SampleError, VcovError, OptionError, WasmMemoryError, NonConvergenceError,
} from "../bindings/base/errors.js";

const COEF_REL = 1e-9;
const SE_REL = 1e-7;
const TOL = 1e-10;

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

function rng(seed: number) {
  let s = seed >>> 0 || 7;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A small unbalanced panel: 60 firms x up to 8 years, 2 controls, cities. */
function panel(seed = 1, firms = 60): Record<string, Float64Array | string[]> {
  const r = rng(seed);
  const firm: number[] = [], year: number[] = [], x1: number[] = [], x2: number[] = [], y: number[] = [], d: number[] = [], city: string[] = [];
  for (let f = 0; f < firms; f++) {
    const fa = r() * 2;
    const adopt = r() < 0.5 ? 2014 + Math.floor(r() * 4) : 9999;
    const c = `c${Math.floor(r() * 12)}`;
    for (let t = 2011; t < 2019; t++) {
      if (r() < 0.1) continue;
      const a = r() - 0.5, b = r() * 3;
      const dd = t >= adopt ? 1 : 0;
      firm.push(f);
      year.push(t);
      x1.push(a);
      x2.push(b);
      d.push(dd);
      city.push(c);
      y.push(fa + 0.1 * (t - 2011) + 0.3 * dd + 0.5 * a - 0.2 * b + (r() - 0.5));
    }
  }
  return {
    firm: Float64Array.from(firm), year: Float64Array.from(year), x1: Float64Array.from(x1), x2: Float64Array.from(x2),
    did: Float64Array.from(d), y: Float64Array.from(y), city,
  };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
const F = "y ~ did + x1 + x2 | firm + year";

describe("weights", () => {
  it("integer weights give the same coefficients and SSR as duplicated rows", () => {
    const p = panel(3);
    const n = (p.y as Float64Array).length;
    const r = rng(9);
    const w = Float64Array.from({ length: n }, () => 1 + Math.floor(r() * 3));
    const dup: Record<string, number[] | string[]> = {};
    for (const k of Object.keys(p)) dup[k] = [];
    for (let i = 0; i < n; i++)
      for (let c = 0; c < w[i]; c++) for (const k of Object.keys(p)) (dup[k] as unknown[]).push((p[k] as ArrayLike<unknown>)[i]);
    const a = feols(eng, Frame.fromColumns({ ...p, w }), F, { weights: "w", fixefRm: "none", fixefTol: TOL });
    const b = feols(eng, Frame.fromColumns(Object.fromEntries(Object.entries(dup).map(([k, v]) => [k, typeof v[0] === "string" ? (v as string[]) : Float64Array.from(v as number[])]))), F, { fixefRm: "none", fixefTol: TOL });
    for (const k of a.coefNames) expect(rel(a.coef[k], b.coef[k])).toBeLessThan(COEF_REL);
    expect(rel(a.ssr, b.ssr)).toBeLessThan(1e-9);
  });

  it("zero weights drop the row (counted); negative weights are an error", () => {
    const p = panel(4);
    const n = (p.y as Float64Array).length;
    const w = new Float64Array(n).fill(1);
    w[0] = 0;
    w[5] = 0;
    const fit = feols(eng, Frame.fromColumns({ ...p, w }), F, { weights: "w", fixefRm: "none" });
    expect(fit.removed.zeroWeight).toBe(2);
    expect(fit.nobs).toBe(n - 2);
    w[3] = -1;
    expect(() => feols(eng, Frame.fromColumns({ ...p, w }), F, { weights: "w" })).toThrow(OptionError);
  });
});

describe("withVcov", () => {
  it("equals a refit with that vcov", () => {
    const f = Frame.fromColumns(panel(5));
    const fit = feols(eng, f, F, { vcov: "iid" });
    for (const v of ["hetero", "cluster:firm", "cluster:city", "cluster:firm+year"]) {
      const a = withVcov(eng, fit, v);
      const b = feols(eng, f, F, { vcov: v });
      for (const k of fit.coefNames) expect(rel(a.se[k], b.se[k])).toBeLessThan(1e-12);
      expect(a.vcovLabel).toBe(b.vcovLabel);
    }
    expect(withVcov(eng, fit, "cluster:firm", "full").K).toBeGreaterThan(withVcov(eng, fit, "cluster:firm").K);
  });
});

describe("invariances", () => {
  it("row order does not matter", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), (seed) => {
        const p = panel(11);
        const n = (p.y as Float64Array).length;
        const r = rng(seed);
        const perm = Array.from({ length: n }, (_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        const shuffled = Frame.fromColumns(p).take(perm);
        const a = feols(eng, Frame.fromColumns(p), F, { fixefTol: TOL });
        const b = feols(eng, shuffled, F, { fixefTol: TOL });
        for (const k of a.coefNames) {
          expect(rel(b.coef[k], a.coef[k])).toBeLessThan(COEF_REL);
          expect(rel(b.se[k], a.se[k])).toBeLessThan(SE_REL);
        }
      }),
      { numRuns: 8, seed: 42 },
    );
  });

  it("renaming FE levels does not matter; scaling a regressor by c scales its coefficient by 1/c", () => {
    const p = panel(12);
    const a = feols(eng, Frame.fromColumns(p), F, { fixefTol: TOL });
    const renamed = { ...p, firm: Array.from(p.firm as Float64Array, (v) => `firm-${(v * 7919) % 1000}`) };
    const b = feols(eng, Frame.fromColumns(renamed), F, { fixefTol: TOL });
    for (const k of a.coefNames) expect(rel(b.coef[k], a.coef[k])).toBeLessThan(COEF_REL);
    for (const c of [1e6, 1e-6]) {
      const scaled = { ...p, x1: (p.x1 as Float64Array).map((v) => v * c) };
      const s = feols(eng, Frame.fromColumns(scaled), F, { fixefTol: TOL });
      expect(rel(s.coef.x1 * c, a.coef.x1)).toBeLessThan(1e-8);
      expect(rel(s.se.x1 * c, a.se.x1)).toBeLessThan(1e-7);
      expect(rel(s.coef.did, a.coef.did)).toBeLessThan(1e-8);
    }
  });

  it("rows with NA give the same estimates as the same rows deleted by hand (random NA patterns)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(300), { minLength: 1, maxLength: 25 }), fc.constantFrom("y", "x1", "x2", "year"), (rows, col) => {
        const p = panel(13);
        const n = (p.y as Float64Array).length;
        const na = new Set(rows.map((r) => r % n));
        const withNa = { ...p, [col]: (p[col] as Float64Array).map((v, i) => (na.has(i) ? NaN : v)) };
        const keep = Array.from({ length: n }, (_, i) => i).filter((i) => !na.has(i));
        const a = feols(eng, Frame.fromColumns(withNa), F, { fixefTol: TOL, fixefRm: "none" });
        const b = feols(eng, Frame.fromColumns(p).take(keep), F, { fixefTol: TOL, fixefRm: "none" });
        expect(a.removed.na).toBe(na.size);
        expect(a.removed.naByColumn[col]).toBe(na.size);
        expect(a.nobs).toBe(b.nobs);
        for (const k of a.coefNames) {
          expect(rel(a.coef[k], b.coef[k])).toBeLessThan(COEF_REL);
          expect(rel(a.se[k], b.se[k])).toBeLessThan(SE_REL);
        }
      }),
      { numRuns: 15, seed: 7 },
    );
  });

  it("magnitudes 1e12 and 1e-12 in the same model match the rescaled problem", () => {
    const p = panel(14);
    const big = { ...p, x1: (p.x1 as Float64Array).map((v) => v * 1e12), x2: (p.x2 as Float64Array).map((v) => v * 1e-12) };
    const a = feols(eng, Frame.fromColumns(p), F, { fixefTol: TOL });
    const b = feols(eng, Frame.fromColumns(big), F, { fixefTol: TOL });
    expect(b.collinear).toEqual([]);
    expect(rel(b.coef.x1 * 1e12, a.coef.x1)).toBeLessThan(1e-7);
    expect(rel(b.coef.x2 * 1e-12, a.coef.x2)).toBeLessThan(1e-7);
    expect(rel(b.coef.did, a.coef.did)).toBeLessThan(1e-7);
  });
});

describe("low-memory QR (in place, X rebuilt as QR)", () => {
  it("gives the same fit as the QR on a copy, with and without dropped columns", () => {
    const p = panel(17);
    const firm = p.firm as Float64Array, x1 = p.x1 as Float64Array, x2 = p.x2 as Float64Array;
    const f = Frame.fromColumns({ ...p, size: firm.map((v) => v * 0.5 + 3), combo: x1.map((v, i) => v + 2 * x2[i]) });
    for (const fml of [F, "y ~ did + size + x1 + combo + x2 | firm + year", "y ~ x1 + x2 + did"]) {
      const a = feols(eng, f, fml, { lowMemory: false });
      const b = feols(eng, f, fml, { lowMemory: true });
      expect(b.coefNames).toEqual(a.coefNames);
      expect(b.collinear).toEqual(a.collinear);
      for (const k of a.coefNames) {
        expect(rel(b.coef[k], a.coef[k])).toBeLessThan(1e-12);
        expect(rel(b.se[k], a.se[k])).toBeLessThan(1e-10);
      }
    }
  });

  it("the memory plan of a 20M-row, 2-FE, 8-control model fits one WASM instance", () => {
    expect(planMemory({ n: 20_000_000, k: 9, Q: 2 })).toBeLessThan(WASM_MAX_BYTES);
    expect(planMemory({ n: 200_000_000, k: 9, Q: 2 })).toBeGreaterThan(WASM_MAX_BYTES);
  });
});

describe("collinearity and sample preparation", () => {
  it("drops a regressor absorbed by the FE and an exactly collinear one, naming them", () => {
    const p = panel(15);
    const firm = p.firm as Float64Array, x1 = p.x1 as Float64Array, x2 = p.x2 as Float64Array;
    const f = Frame.fromColumns({ ...p, size: firm.map((v) => v * 0.5 + 3), combo: x1.map((v, i) => v + 2 * x2[i]) });
    const fit = feols(eng, f, "y ~ did + size + x1 + x2 + combo | firm + year");
    expect(fit.collinear).toEqual(["size", "combo"]);
    expect(fit.coefNames).toEqual(["did", "x1", "x2"]);
  });

  it("removes singletons iteratively by default and counts them; keeps them with fixefRm none", () => {
    const p = panel(16);
    const n = (p.y as Float64Array).length;
    const firm = (p.firm as Float64Array).slice();
    firm[0] = 999; // a firm with one row
    const f = Frame.fromColumns({ ...p, firm });
    const a = feols(eng, f, F);
    expect(a.removed.singletons).toBe(1);
    expect(a.removed.singletonLevels.firm).toBe(1);
    expect(a.nobs).toBe(n - 1);
    const b = feols(eng, f, F, { fixefRm: "none" });
    expect(b.nobs).toBe(n);
  });
});

describe("bad input ends in a named error", () => {
  const f = () => Frame.fromColumns(panel(20));
  it("unknown column, with a suggestion", () => {
    try {
      feols(eng, f(), "y ~ didd | firm");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ColumnError);
      expect((e as ColumnError).hint).toContain('"did"');
    }
  });
  it("non-numeric regressor names the column", () => {
    expect(() => feols(eng, f(), "y ~ city | firm")).toThrow(/regressor "city" is not numeric/);
  });
  it("formula syntax error points at the character", () => {
    try {
      feols(eng, f(), "y ~ x1 + | firm");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FormulaSyntaxError);
      expect((e as FormulaSyntaxError).position).toBe(7);
    }
  });
  it("all rows removed", () => {
    const p = panel(21);
    const y = (p.y as Float64Array).map(() => NaN);
    expect(() => feols(eng, Frame.fromColumns({ ...p, y }), F)).toThrow(SampleError);
  });
  it("outcome constant within the fixed effects", () => {
    const p = panel(22);
    const y = (p.firm as Float64Array).map((v) => v * 3);
    expect(() => feols(eng, Frame.fromColumns({ ...p, y }), F)).toThrow(/constant within the fixed effects/);
  });
  it("every regressor collinear", () => {
    const p = panel(23);
    expect(() => feols(eng, Frame.fromColumns({ ...p, z: (p.firm as Float64Array).slice() }), "y ~ z | firm")).toThrow(/collinear/);
  });
  it("a cluster variable with one level", () => {
    const p = panel(24);
    const one = new Float64Array((p.y as Float64Array).length).fill(1);
    expect(() => feols(eng, Frame.fromColumns({ ...p, one }), F, { vcov: "cluster:one" })).toThrow(VcovError);
  });
  it("unknown vcov and ssc", () => {
    expect(() => feols(eng, f(), F, { vcov: "bootstrap" })).toThrow(OptionError);
    expect(() => feols(eng, f(), F, { ssc: "hc3" })).toThrow(OptionError);
  });
  it("FE that do not converge: a warning with the achieved tolerance, or an error when strict", () => {
    const p = panel(25, 200);
    const warnings: string[] = [];
    const fit = feols(eng, Frame.fromColumns(p), "y ~ x1 + x2 | firm + year + city", { fixefIter: 1, fixefTol: 1e-14, onWarning: (m) => warnings.push(m) });
    expect(fit.converged).toBe(false);
    expect(warnings.join()).toMatch(/did not converge in 1 iterations: reached [0-9.e+-]+, tolerance 1e-14/);
    expect(() => feols(eng, Frame.fromColumns(p), "y ~ x1 + x2 | firm + year + city", { fixefIter: 1, fixefTol: 1e-14, strictConvergence: true })).toThrow(NonConvergenceError);
  });
  it("data too large for WASM memory: an error with the sizes, before anything is allocated", () => {
    const before = eng.usedBytes;
    expect(() => eng.alloc(5 * 1024 ** 3, "model matrix")).toThrow(WasmMemoryError);
    try {
      eng.alloc(5 * 1024 ** 3, "model matrix");
    } catch (e) {
      expect((e as Error).message).toMatch(/model matrix needs 5\.00 GiB but WASM memory is limited to 4\.00 GiB/);
    }
    expect(eng.usedBytes).toBe(before);
  });
});
