// Float32 storage of the raw columns (feols storage: "f32", bindings/core/solve-f32.ts).
//
// Tolerances:
//   f32 fit vs the float64 fit of the same data rounded to float32 (Math.fround), FE
//   tolerance 1e-12 (1e-10 with three FE, where 1e-12 is below what the structure allows):
//   coefficients 1e-8 relative, SEs and the vcov 1e-7 relative. What is left are the
//   normal equations vs QR, Gram entries with one demeaned side, and the residuals
//   demeaned on their own: all at the demeaning tolerance. nobs, collinear names and FE
//   sizes exact.
//   f32 fit vs R fixest on the original data (tests/fixtures/reference, every cbec model the
//   grammar covers): coefficients within 1e-4 of the reference SE, SEs 1e-4 relative,
//   r2 1e-6 absolute; nobs and collinear names exact. The largest relative rounding of a
//   value is at most 2^-24.
//   Batch sizes (1, 2, 3, default) and the hetero meat in batch pairs: bit-identical.
//   Kernels against plain TypeScript on random inputs: 1e-12 relative.
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, withVcov, planMemory, type Fit, type FeolsOptions } from "../bindings/estimators/feols.js";
import { planF32 } from "../bindings/core/solve-f32.js";
import { feolsCompressed } from "../bindings/estimators/compress.js";
import { placebo } from "../bindings/inference/placebo.js";
import { wild } from "../bindings/inference/wild.js";
import { summary, fitToJson } from "../bindings/report/summary.js";
import { WASM_MAX_BYTES, type Engine } from "../bindings/engine/wasm.js";
import { FIX, loadRefs, parseCall, collinOf } from "./reference.js";

const EXACT_COEF = 1e-8;
const EXACT_SE = 1e-7;
const REF_COEF_SE = 1e-4;
const REF_SE = 1e-4;
const REF_R2 = 1e-6;
const KERNEL_REL = 1e-12;

const CONTROLS = ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"];
const NUMERIC = ["FC", "did", ...CONTROLS, "SA", "Export"];

let eng: Engine;
let cbec: Frame;
/** the same panel with every numeric model column rounded to float32 */
let rounded: Frame;

beforeAll(async () => {
  eng = await loadEngine();
  const { table } = await readFile(new URL("cbec_panel.csv", FIX).pathname);
  cbec = Frame.fromArrow(table);
  const firm = cbec.codes("firm").codes;
  cbec = cbec.withColumn("w", Float64Array.from(firm, (c) => 1 + (c % 4) * 0.37));
  rounded = cbec;
  // weights and slope variables stay float64 in float32 storage: only y and X are rounded
  for (const c of NUMERIC) rounded = rounded.withColumn(c, Float64Array.from(cbec.numeric(c), Math.fround));
});

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

function expectClose(a: Fit, b: Fit, coefTol: number, seTol: number) {
  expect(a.coefNames).toEqual(b.coefNames);
  expect(a.collinear).toEqual(b.collinear);
  expect(a.nobs).toBe(b.nobs);
  expect(a.fixefSizes).toEqual(b.fixefSizes);
  const k = a.coefNames.length;
  for (const name of a.coefNames) {
    expect(rel(a.coef[name], b.coef[name]), `coef ${name}`).toBeLessThan(coefTol);
    expect(rel(a.se[name], b.se[name]), `se ${name}`).toBeLessThan(seTol);
  }
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      const s = Math.sqrt(b.vcovMatrix[i + i * k] * b.vcovMatrix[j + j * k]);
      expect(Math.abs(a.vcovMatrix[i + j * k] - b.vcovMatrix[i + j * k]) / s).toBeLessThan(seTol);
    }
}

describe("float32 storage = the float64 fit of the data rounded to float32", () => {
  const X = `did + ${CONTROLS.join(" + ")}`;
  const cases: [string, FeolsOptions][] = [
    [`FC ~ ${X} | firm + year`, { vcov: "cluster:firm" }],
    [`FC ~ ${X} | firm + year`, { vcov: "hetero" }],
    [`FC ~ ${X} | firm + year`, { vcov: "iid" }],
    [`FC ~ ${X} | firm + year`, { vcov: "cluster:firm+city" }],
    [`FC ~ ${X} | firm + year + city`, { vcov: "cluster:city" }],
    [`FC ~ ${X} | firm + year`, { vcov: "cluster:firm", weights: "w" }],
    [`FC ~ ${X} | firm + year`, { vcov: "hetero", weights: "w" }],
    [`FC ~ ${X} | firm + region[year]`, { vcov: "cluster:firm" }],
    [`FC ~ ${X} + i(region, year) | firm + year`, { vcov: "cluster:firm", fixefRm: "none" }],
    [`FC ~ ${X}`, { vcov: "hetero" }],
    [`SA ~ ${X} | firm + region^year`, { vcov: "cluster:city" }],
  ];
  for (const [fml, opts] of cases) {
    it(`${fml}, ${opts.vcov}${opts.weights ? ", weighted" : ""}`, () => {
      const o = { ...opts, fixefTol: fml.includes("city") && !fml.includes("^") ? 1e-10 : 1e-12 };
      const a = feols(eng, cbec, fml, { ...o, storage: "f32" });
      const b = feols(eng, rounded, fml, o);
      expect(a.storage.type).toBe("f32");
      expect(b.storage.type).toBe("f64");
      expectClose(a, b, EXACT_COEF, EXACT_SE);
      expect(Math.abs(a.r2 - b.r2)).toBeLessThan(1e-10);
      if (b.withinR2 !== null) expect(Math.abs(a.withinR2! - b.withinR2)).toBeLessThan(1e-10);
      expect(rel(a.ssr, b.ssr)).toBeLessThan(1e-9);
      expect(a.storage.maxRelRounding!).toBeGreaterThan(0);
      expect(a.storage.maxRelRounding!).toBeLessThanOrEqual(2 ** -24);
    });
  }

  it("the region-trend set: the same collinear column is found", () => {
    const a = feols(eng, cbec, `FC ~ ${X} + i(region, year) | firm + year + city`, { storage: "f32", fixefRm: "none" });
    expect(a.collinear).toEqual(["region::west:year"]);
  });
});

describe("batches", () => {
  const fml = `FC ~ did + ${CONTROLS.join(" + ")} | firm + year`;
  for (const vcov of ["cluster:firm+city", "hetero"]) {
    it(`${vcov}: batch 1, 2, 3 and the default give the same bits`, () => {
      const fits = [undefined, 1, 2, 3].map((batch) => feols(eng, cbec, fml, { vcov, storage: "f32", batch }));
      expect(fits[0].storage.batch).toBe(9);
      expect(fits[1].storage.batch).toBe(1);
      for (const f of fits.slice(1)) {
        expect(Array.from(f.coefVector)).toEqual(Array.from(fits[0].coefVector));
        expect(Array.from(f.vcovMatrix)).toEqual(Array.from(fits[0].vcovMatrix));
        expect(f.ssr).toBe(fits[0].ssr);
      }
      // passes over the columns: 1 for the Gram, 1 for the meats; hetero with batch 1 also
      // demeans the partner of each of the 28 pairs (28 / 8 passes)
      expect(fits[1].storage.passes).toBe(vcov === "hetero" ? 2 + 28 / 8 : 2);
    });
  }
});

describe("float32 storage against R fixest on the original data", () => {
  for (const m of loadRefs("cbec_panel_fixest.json")) {
    const p = parseCall(m.call);
    // subsample models and the lead placebos need derived data: tests/fixest.test.ts covers them in float64
    if (!p || /sunab|weights|did_lead/.test(m.call) || /^(region|export_type|hightech|polluting|tier)_/.test(m.id)) continue;
    const { formula } = p;
    const opts: FeolsOptions = { ...p.opts, storage: "f32" };
    it(`${m.id}: ${formula}`, () => {
      const fit = feols(eng, cbec, formula, opts);
      expect(fit.nobs).toBe(m.nobs);
      expect(fit.collinear).toEqual(collinOf(m));
      expect(fit.coefNames).toEqual(Object.keys(m.coef));
      for (const [k, v] of Object.entries(m.coef)) {
        expect(Math.abs(fit.coef[k] - v) / m.se[k], `coef ${k}`).toBeLessThan(REF_COEF_SE);
        expect(rel(fit.se[k], m.se[k]), `se ${k}`).toBeLessThan(REF_SE);
      }
      expect(Math.abs(fit.r2 - m.r2)).toBeLessThan(REF_R2);
    });
  }
});

describe("memory plan", () => {
  it("float32 storage needs about half: 50M rows x 9 regressors with 2 FE fit only in float32", () => {
    const shape = { n: 50_000_000, k: 9, Q: 2, clusterTerms: 1, feCells: 250_000 };
    const f64 = planMemory(shape);
    const f32 = planF32(shape);
    expect(f64).toBeGreaterThan(WASM_MAX_BYTES);
    expect(f32).toBeLessThan(WASM_MAX_BYTES);
    expect(f32 / f64).toBeLessThan(0.7);
    // a hetero vcov needs a second demeaning column
    expect(planF32({ n: 1000, k: 9, Q: 2, hetero: true })).toBe(planF32({ n: 1000, k: 9, Q: 2 }) + 8000);
    // the demeaning scratch of one column: 8 f64 per FE coefficient
    expect(planMemory({ ...shape, feCells: 2_000_000 }) - f64).toBe(64 * 1_750_000);
  });

  it("a model that does not fit in float64 names --float32 with its size, and runs with it", async () => {
    // a second engine whose arena is filled to leave room between the two plans
    const e2 = await loadEngine();
    const fml = `FC ~ did + ${CONTROLS.join(" + ")} | firm + year`;
    const n = cbec.nrows;
    const shape = { n, k: 8, Q: 2, clusterTerms: 1, feCells: 1900 + 11 };
    const need64 = planMemory(shape), need32 = planF32(shape);
    expect(need32).toBeLessThan(need64);
    e2.alloc(WASM_MAX_BYTES - e2.usedBytes - Math.round((need64 + need32) / 2) - 64, "test ballast");
    let err: (Error & { hint?: string; details?: Record<string, unknown> }) | null = null;
    try {
      feols(e2, cbec, fml, { vcov: "cluster:firm" });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.name).toBe("WasmMemoryError");
    expect(err!.message).toMatch(/rows x 9 numeric columns/);
    expect(err!.hint).toMatch(/--float32/);
    // the float32 fit runs in the same engine, the batch limited by the room left
    const a = feols(e2, cbec, fml, { vcov: "cluster:firm", storage: "f32" });
    const b = feols(eng, cbec, fml, { vcov: "cluster:firm", storage: "f32" });
    expect(Array.from(a.coefVector)).toEqual(Array.from(b.coefVector));
    expect(Array.from(a.vcovMatrix)).toEqual(Array.from(b.vcovMatrix));
  });
});

describe("reports and refusals", () => {
  const fml = `FC ~ did + ${CONTROLS.join(" + ")} | firm + year`;
  it("summary and JSON say how the columns were stored", () => {
    const fit = feols(eng, cbec, fml, { storage: "f32" });
    expect(summary(fit)).toMatch(/Storage: raw columns as float32 \(largest relative rounding [0-9.]+e-8\)/);
    const j = fitToJson(fit);
    expect(j.storage.type).toBe("f32");
    expect(j.storage.max_rel_rounding).toBe(fit.storage.maxRelRounding);
    expect(fitToJson(feols(eng, cbec, fml)).storage).toEqual({ type: "f64" });
  });

  it("values beyond the float32 range are an error naming the column", () => {
    const big = cbec.withColumn("Q", Float64Array.from(cbec.numeric("Q"), (v, i) => (i === 7 ? 1e39 : v)));
    expect(() => feols(eng, big, fml, { storage: "f32" })).toThrow(/column "Q" has a value \(1e\+39\) outside the float32 range/);
    expect(() => feols(eng, big, fml)).not.toThrow();
  });

  it("tiny magnitudes that lose precision are warned about", () => {
    const tiny = cbec.withColumn("Q", Float64Array.from(cbec.numeric("Q"), (v) => v * 1e-40));
    const warnings: string[] = [];
    feols(eng, tiny, fml, { storage: "f32", onWarning: (w) => warnings.push(w) });
    expect(warnings.join()).toMatch(/float32 storage changed some values by up to/);
  });

  it("what needs the demeaned data refuses with the reason", () => {
    expect(() => feols(eng, cbec, fml, { storage: "f32", keepData: true })).toThrow(/float32 storage does not keep/);
    const fit = feols(eng, cbec, fml, { storage: "f32" });
    expect(() => withVcov(eng, fit, "hetero")).toThrow(/storage: "f32"/);
    expect(() => placebo(eng, fit, { treatment: "did", scheme: "space", draws: 10, unit: "city", adopt: "adopt" } as never)).toThrow(/storage: "f32"/);
    expect(() => wild(eng, fit, { param: "did", cluster: "city" } as never)).toThrow(/storage: "f32"/);
    expect(() => feolsCompressed(eng, cbec, fml, { storage: "f32" })).toThrow(/float32/);
    expect(() => feols(eng, cbec, fml, { storage: "f16" as never })).toThrow(/storage must be/);
    expect(() => feols(eng, cbec, fml, { storage: "f32", batch: 0 })).toThrow(/batch must be a positive integer/);
  });
});

describe("kernels against plain TypeScript", () => {
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5) * 10;
  const n = 1003, ka = 3, kb = 4, G = 17;
  const A = Float64Array.from({ length: n * ka }, rnd);
  const R = Float32Array.from({ length: n * kb }, rnd);
  const B = Float64Array.from({ length: n * kb }, rnd);
  const e = Float64Array.from({ length: n }, rnd);
  const w = Float64Array.from({ length: n }, () => 1 + Math.abs(rnd()));
  const codes = Int32Array.from({ length: n }, (_, i) => (i * 7) % G);

  it("widenF32", () => {
    eng.scoped(() => {
      const src = eng.alloc(n * kb * 4);
      eng.f32(src, n * kb).set(R);
      const dst = eng.allocF64(n * kb);
      expect(eng.kernels.widenF32(dst, n, kb, src)).toBe(0);
      expect(Array.from(eng.f64(dst, n * kb))).toEqual(Array.from(R));
      expect(eng.kernels.widenF32(dst, -1, 1, src)).toBe(3);
    });
  });

  it("crossF32 (with and without weights) and residualsF32", () => {
    eng.scoped(() => {
      const ap = eng.putF64(A), rp = eng.alloc(n * kb * 4);
      eng.f32(rp, n * kb).set(R);
      const wp = eng.putF64(w), out = eng.allocF64(ka * kb);
      for (const weighted of [false, true]) {
        expect(eng.kernels.crossF32(out, n, ka, ap, kb, rp, weighted ? wp : 0)).toBe(0);
        const got = eng.f64(out, ka * kb);
        for (let a = 0; a < ka; a++)
          for (let b = 0; b < kb; b++) {
            let ref = 0;
            for (let i = 0; i < n; i++) ref += (weighted ? w[i] : 1) * A[a * n + i] * R[b * n + i];
            expect(rel(got[a + b * ka], ref)).toBeLessThan(KERNEL_REL);
          }
      }
      const coef = [0.5, 0, -2];
      const res = eng.allocF64(n);
      expect(eng.kernels.residualsF32(res, n, 3, rp + n * 4, rp, eng.putF64(coef))).toBe(0);
      const r = eng.f64(res, n);
      for (let i = 0; i < n; i++) {
        const ref = R[i] - 0.5 * R[n + i] + 2 * R[3 * n + i];
        expect(Math.abs(r[i] - ref)).toBeLessThan(KERNEL_REL * 100);
      }
    });
  });

  it("clusterScores + scoresCross = meatCluster; meatHeteroCross = blocks of meatHetero", () => {
    eng.scoped(() => {
      const bp = eng.putF64(B), ep = eng.putF64(e), cp = eng.putI32(codes);
      const full = eng.allocF64(kb * kb), sc = eng.allocF64(G * kb);
      expect(eng.kernels.meatCluster(full, sc, n, kb, bp, ep, cp, G)).toBe(0);
      const S = eng.allocF64(G * kb);
      eng.f64(S, G * kb).fill(0);
      // two column blocks: 0..1 then 2..3
      expect(eng.kernels.clusterScores(S, n, 2, bp, ep, cp, G, kb, 0)).toBe(0);
      expect(eng.kernels.clusterScores(S, n, 2, bp + 2 * n * 8, ep, cp, G, kb, 2)).toBe(0);
      expect(eng.kernels.clusterScores(S, n, 2, bp, ep, cp, G, kb, 3)).toBe(3); // past the last column
      const out = eng.allocF64(kb * kb);
      expect(eng.kernels.scoresCross(out, G, kb, S)).toBe(0);
      expect(Array.from(eng.f64(out, kb * kb))).toEqual(Array.from(eng.f64(full, kb * kb)));
      const het = eng.allocF64(kb * kb), blk = eng.allocF64(2 * 2);
      expect(eng.kernels.meatHetero(het, n, kb, bp, ep)).toBe(0);
      expect(eng.kernels.meatHeteroCross(blk, n, 2, bp, 2, bp + 2 * n * 8, ep)).toBe(0);
      const H = eng.f64(het, kb * kb), Bk = eng.f64(blk, 4);
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) expect(Bk[a + b * 2]).toBe(H[a + (2 + b) * kb]);
    });
  });
});
