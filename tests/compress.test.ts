// Sufficient-statistics compression (bindings/estimators/compress.ts) against the row-level fit on
// data whose rows repeat (loan-level records under firm-year FE, discrete regressors):
// coefficients 1e-10 relative, SEs 1e-8 relative, nobs, R2, within R2 and SSR 1e-10.
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols } from "../bindings/estimators/feols.js";
import { feolsCompressed } from "../bindings/estimators/compress.js";
import type { Engine } from "../bindings/engine/wasm.js";

const COEF_REL = 1e-10;
const SE_REL = 1e-8;
const STAT_REL = 1e-10;

let eng: Engine;
let frame: Frame;
beforeAll(async () => {
  eng = await loadEngine();
  let s = 11;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const firm: number[] = [], year: number[] = [], bank: number[] = [], d: number[] = [], size: number[] = [], y: number[] = [], city: number[] = [];
  for (let f = 0; f < 150; f++) {
    const c = f % 12, adopt = 2013 + (f % 5);
    for (let t = 2010; t < 2018; t++) {
      const loans = 2 + Math.floor(r() * 6);
      for (let l = 0; l < loans; l++) {
        const dd = t >= adopt && c < 8 ? 1 : 0, sz = Math.floor(r() * 3), bk = Math.floor(r() * 4);
        firm.push(f); year.push(t); city.push(c); bank.push(bk); d.push(dd); size.push(sz);
        y.push(0.3 * dd + 0.1 * sz + 0.05 * bk + (f % 7) * 0.2 + (t - 2010) * 0.03 + (r() - 0.5) * (1 + sz));
      }
    }
  }
  frame = Frame.fromColumns({ firm: Float64Array.from(firm), year: Float64Array.from(year), city: Float64Array.from(city), bank: Float64Array.from(bank), did: Float64Array.from(d), size: Float64Array.from(size), y: Float64Array.from(y) });
});

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe("compressed = row-level", () => {
  const cases: [string, string][] = [
    ["y ~ did + size + i(bank) | firm + year", "cluster:firm"],
    ["y ~ did + size + i(bank) | firm + year", "hetero"],
    ["y ~ did + size + i(bank) | firm + year", "iid"],
    ["y ~ did + size | firm + year", "cluster:firm+year"],
    ["y ~ did + size | firm + year", "cluster:city"],
    ["y ~ did + size + bank", "hetero"],
  ];
  for (const [fml, vcov] of cases) {
    it(`${fml}, ${vcov}`, () => {
      const a = feols(eng, frame, fml, { vcov, fixefRm: "none", fixefTol: 1e-12 });
      const b = feolsCompressed(eng, frame, fml, { vcov, fixefRm: "none", fixefTol: 1e-12 });
      expect(b.compression.cells).toBeLessThan(b.compression.rows);
      expect(b.coefNames).toEqual(a.coefNames);
      expect(b.nobs).toBe(a.nobs);
      for (const k of a.coefNames) {
        expect(rel(b.coef[k], a.coef[k]), k).toBeLessThan(COEF_REL);
        expect(rel(b.se[k], a.se[k]), k).toBeLessThan(SE_REL);
      }
      expect(rel(b.ssr, a.ssr)).toBeLessThan(STAT_REL);
      expect(rel(b.r2, a.r2)).toBeLessThan(STAT_REL);
      expect(rel(b.adjR2, a.adjR2)).toBeLessThan(STAT_REL);
      if (a.withinR2 !== null) expect(rel(b.withinR2!, a.withinR2)).toBeLessThan(STAT_REL);
      expect(b.df).toBe(a.df);
      expect(b.fixefSizes).toEqual(a.fixefSizes);
    });
  }
});
