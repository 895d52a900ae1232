// Newey-West (time series and panel), Driscoll-Kraay and Conley variances against R fixest
// (tests/fixtures/reference/vcov_fixest.json, 31 models, copied from ../shared/reference),
// and the WASM meat kernels (assembly/hac.ts) against their plain-TypeScript references
// (bindings/ref/hac.ts) on small random inputs with a fixed seed.
//
// Tolerances (never loosened per model):
//   coefficients           1e-8 relative
//   standard errors, vcov  1e-6 relative (vcov entries: relative to sqrt(V_ii V_jj))
//   p-values               1e-6 absolute
//   K (nobs - resid_df), t degrees of freedom, vcov labels: exact
//   kernels vs references  1e-12 relative to the largest entry
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, withVcov, type FeolsOptions } from "../bindings/estimators/feols.js";
import { parseVcov } from "../bindings/core/vcov.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { Rng } from "../bindings/base/rng.js";
import { refTimeMeat, refPanelMeat, refConleyMeat } from "../bindings/ref/hac.js";
import { check } from "../bindings/engine/kernels.js";
import { FIX } from "./reference.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const P_ABS = 1e-6;
const KERNEL_REL = 1e-12;

interface HacRef {
  id: string;
  data: string;
  formula: string;
  vcov: string;
  panel_id: string | null;
  ssc: "fixest" | "none" | "full";
  weights: string | null;
  nobs: number;
  coef: Record<string, number>;
  se: Record<string, number>;
  p: Record<string, number>;
  vcov_matrix: number[][];
  vcov_type: string;
  t_df: number;
  resid_df: number;
}

const refs: HacRef[] = JSON.parse(readFileSync(new URL("vcov_fixest.json", FIX), "utf8"));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

let eng: Engine;
const frames: Record<string, Frame> = {};

beforeAll(async () => {
  eng = await loadEngine();
  for (const file of new Set(refs.map((r) => r.data))) {
    const { table } = await readFile(new URL(file, FIX).pathname);
    frames[file] = Frame.fromArrow(table);
  }
}, 120_000);

function optsOf(r: HacRef): FeolsOptions {
  const opts: FeolsOptions = { vcov: r.vcov, ssc: r.ssc, fixefRm: "none" };
  if (r.panel_id) opts.panelId = r.panel_id.replace(/^~/, "");
  if (r.weights) opts.weights = r.weights;
  return opts;
}

function expectMatches(r: HacRef, fit: ReturnType<typeof feols>): void {
  expect(fit.nobs).toBe(r.nobs);
  expect(fit.vcovLabel).toBe(r.vcov_type.replace(/^Heteroskedasticity-robust$/, "Heteroskedasticity-robust (HC1)"));
  expect(fit.df).toBe(r.t_df);
  expect(r.nobs - fit.K).toBe(r.resid_df);
  const names = Object.keys(r.coef);
  expect(fit.coefNames).toEqual(names);
  const k = names.length;
  names.forEach((nm, a) => {
    expect(rel(fit.coef[nm], r.coef[nm])).toBeLessThan(COEF_REL);
    expect(rel(fit.se[nm], r.se[nm])).toBeLessThan(SE_REL);
    expect(Math.abs(fit.pvalue[nm] - r.p[nm])).toBeLessThan(P_ABS);
    for (let b = 0; b < k; b++) {
      const scale = Math.sqrt(r.vcov_matrix[a][a] * r.vcov_matrix[b][b]);
      expect(Math.abs(fit.vcovMatrix[a + b * k] - r.vcov_matrix[a][b]) / scale).toBeLessThan(SE_REL);
    }
  });
}

describe("HAC and Conley variances equal fixest's (vcov_fixest.json)", () => {
  it("holds 31 models", () => expect(refs.length).toBe(31));
  for (const r of refs) {
    it(`${r.id}: ${r.vcov}${r.panel_id ? `, panel.id = ${r.panel_id}` : ""}, ssc ${r.ssc}`, () => {
      expectMatches(r, feols(eng, frames[r.data], r.formula, optsOf(r)));
    });
  }
  it("withVcov gives the same variance without a refit", () => {
    for (const id of ["panel_nw2", "panel_dk2", "conley500", "ts_nw4"]) {
      const r = refs.find((m) => m.id === id)!;
      const base = feols(eng, frames[r.data], r.formula, { ...optsOf(r), vcov: "hetero" });
      expectMatches(r, withVcov(eng, base, r.vcov, r.ssc));
    }
  });
});

describe("HAC specifications", () => {
  it("parses the CLI and fixest forms alike", () => {
    expect(parseVcov("nw:2")).toEqual(parseVcov("NW(2)"));
    expect(parseVcov("dk:1")).toEqual(parseVcov("DK(1)"));
    expect(parseVcov("conley:100:spherical")).toEqual(parseVcov('conley(100, distance = "spherical")'));
    expect(parseVcov("NW(2) ~ firm + year")).toEqual({ type: "nw", lag: 2, unit: "firm", time: "year" });
  });
  it("refuses bad arguments and missing columns with named errors", () => {
    expect(() => parseVcov("nw:-1")).toThrow(/non-negative integer/);
    expect(() => parseVcov("conley:0")).toThrow(/positive cutoff/);
    expect(() => parseVcov("conley:100:manhattan")).toThrow(/triangular/);
    const f = frames["cbec_panel.csv"];
    expect(() => feols(eng, f, "FC ~ did | firm + year", { vcov: "nw:1" })).toThrow(/need a time variable/);
    expect(() => feols(eng, f, "FC ~ did | firm + year", { vcov: "conley:100" })).toThrow(/coordinates/);
    expect(() => feols(eng, f, "FC ~ did | firm", { vcov: "NW(1) ~ year" })).toThrow(/repeats periods/);
    expect(() => feols(eng, f, "FC ~ did | firm", { vcov: "NW(1) ~ city + year" })).toThrow(/repeat/);
  });
});

function randomCase(rng: Rng, n: number, k: number) {
  const x = Float64Array.from({ length: n * k }, () => rng.normal());
  const e = Float64Array.from({ length: n }, () => rng.normal());
  return { x, e };
}

function expectClose(a: Float64Array, b: Float64Array): void {
  const scale = Math.max(...Array.from(b, Math.abs));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / scale).toBeLessThan(KERNEL_REL);
}

describe("HAC kernels equal their references (fixed seed)", () => {
  const rng = new Rng(19);
  it("time meat (Driscoll-Kraay, time-series Newey-West)", () => {
    for (let rep = 0; rep < 20; rep++) {
      const n = 5 + rng.int(40), k = 1 + rng.int(4), T = 2 + rng.int(8), L = rng.int(T);
      const { x, e } = randomCase(rng, n, k);
      const time = Int32Array.from({ length: n }, () => rng.int(T));
      const got = eng.scoped(() => {
        const out = eng.allocF64(k * k), sc = eng.allocF64(T * k);
        check(eng.kernels.hacTimeMeat(out, sc, n, k, eng.putF64(x), eng.putF64(e), eng.putI32(time), T, L), "hacTimeMeat");
        return eng.getF64(out, k * k);
      });
      expectClose(got, refTimeMeat(x, e, n, k, time, T, L));
    }
  });
  it("panel Newey-West meat, unbalanced panels with gaps", () => {
    for (let rep = 0; rep < 20; rep++) {
      const G = 1 + rng.int(6), T = 2 + rng.int(7), k = 1 + rng.int(3), L = rng.int(T);
      const unit: number[] = [], time: number[] = [];
      for (let g = 0; g < G; g++) for (let t = 0; t < T; t++) if (rng.uniform() < 0.7) (unit.push(g), time.push(t));
      const n = unit.length;
      if (n === 0) continue;
      const { x, e } = randomCase(rng, n, k);
      const order = Int32Array.from({ length: n }, (_, i) => i);
      const perm = order.slice().sort(() => rng.uniform() - 0.5);
      const u = Int32Array.from(perm, (i) => unit[i]), t = Int32Array.from(perm, (i) => time[i]);
      const ord = Int32Array.from(order).sort((a, b) => u[a] - u[b] || t[a] - t[b]);
      const got = eng.scoped(() => {
        const out = eng.allocF64(k * k), a = eng.allocF64(k), b = eng.allocF64(k);
        check(eng.kernels.hacPanelMeat(out, a, b, n, k, eng.putF64(x), eng.putF64(e), eng.putI32(ord), eng.putI32(u), eng.putI32(t), L), "hacPanelMeat");
        return eng.getF64(out, k * k);
      });
      expectClose(got, refPanelMeat(x, e, n, k, u, t, L));
    }
  });
  it("Conley meat, both distances", () => {
    for (let rep = 0; rep < 20; rep++) {
      const G = 2 + rng.int(30), k = 1 + rng.int(3);
      const scores = Float64Array.from({ length: G * k }, () => rng.normal());
      const lat = Float64Array.from({ length: G }, () => ((20 + 20 * rng.uniform()) * Math.PI) / 180).sort();
      const lon = Float64Array.from({ length: G }, () => ((100 + 20 * rng.uniform()) * Math.PI) / 180);
      const cutoff = 50 + 900 * rng.uniform();
      for (const distance of ["triangular", "spherical"] as const) {
        const got = eng.scoped(() => {
          const out = eng.allocF64(k * k);
          check(eng.kernels.conleyMeat(out, G, k, eng.putF64(scores), eng.putF64(lat), eng.putF64(lon), cutoff, distance === "spherical" ? 1 : 2), "conleyMeat");
          return eng.getF64(out, k * k);
        });
        expectClose(got, refConleyMeat(scores, G, k, lat, lon, cutoff, distance));
      }
    }
  });
});
