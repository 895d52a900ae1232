// LSMR demeaning (fixefAlgo "lsmr", assembly/demean-lsmr.ts; also the second phase of "auto"):
// the kernel against its plain TypeScript reference (bindings/ref/lsmr.ts) on small random
// inputs; its residuals against CG's and MAP's on several FE structures (two and three FE,
// weights, FE + varying slope, a low-mobility chain graph); the fixest references reached
// with it, in the library and through hdfe feols --fixef-algo lsmr; its refusals.
// Per-column convergence (bits in a batch = bits alone, records) is in tests/demean-batch.test.ts.
//
// Tolerances (never loosened per case):
//   kernel vs reference           1e-9 absolute on demeaned values (kernel at fixefTol 1e-11,
//                                 reference to ||A'r|| <= 1e-14 ||A|| ||r||), as tests/kernels.test.ts
//   lsmr vs cg / map              1e-8 relative L2 distance of the residuals, every algorithm at
//                                 fixefTol 1e-10 (equal accuracy at an equal stopping rule)
//   chain graph at fixefTol 1e-8  1e-9 relative L2 from a converged (1e-13) CG solution: the bound
//                                 tests/kernels.test.ts sets for CG and auto on its chain
//   fixest references             coefficients 1e-8 relative, SEs 1e-6 relative (feols and fepois)
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createEngine, type Engine } from "../bindings/engine/wasm.js";
import { demeanPtr, type FeType, type KernelAlgo } from "../bindings/engine/kernels.js";
import { demeanContext } from "../bindings/engine/context.js";
import { Rng } from "../bindings/base/rng.js";
import { refLsmrDemean } from "../bindings/ref/lsmr.js";
import type { RefFe } from "../bindings/ref/kernels.js";
import { feols } from "../bindings/estimators/feols.js";
import { feglm, type GlmOptions } from "../bindings/estimators/glm.js";
import { Frame } from "../bindings/core/frame.js";
import { readFile } from "../bindings/platform/read-node.js";
import { putDemeanInput, lowMobilityFe } from "./demean-input.js";
import { FIX, loadRefs, parseCall } from "./reference.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";

const KERNEL_REF_ABS = 1e-9;
const ALGO_REL = 1e-8;
const CHAIN_REL = 1e-9;
const COEF_REL = 1e-8;
const SE_REL = 1e-6;

let eng: Engine;
beforeAll(async () => {
  eng = await createEngine(readFileSync(new URL("../build/hdfe.wasm", import.meta.url)));
});

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
function relL2(a: Float64Array, b: Float64Array): number {
  let e = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(e / Math.max(s, 1e-300));
}

function run(cols: Float64Array[], fe: RefFe[], w: Float64Array | null, algo: KernelAlgo, tol: number, maxIter = 100_000, alias = true) {
  return eng.scoped(() => {
    const { d, x, n, K } = putDemeanInput(eng, cols, fe, w);
    const out = alias ? x : eng.allocF64(n * K);
    const info = demeanPtr(eng, d, K, x, out, tol, maxIter, algo);
    return { out: cols.map((_, k) => eng.getF64(out + k * n * 8, n)), info };
  });
}

const codes = (r: Rng, n: number, G: number) => Int32Array.from({ length: n }, (_, i) => (i < G ? i : r.int(G)));


interface Case { name: string; n: number; fe: [number, FeType][]; K: number; weights: boolean; alias: boolean }
const SMALL: Case[] = [
  { name: "two FE", n: 500, fe: [[40, 0], [9, 0]], K: 1, weights: false, alias: false },
  { name: "two FE, 4 columns, aliased", n: 500, fe: [[40, 0], [9, 0]], K: 4, weights: false, alias: true },
  { name: "two FE weighted", n: 400, fe: [[30, 0], [7, 0]], K: 3, weights: true, alias: false },
  { name: "three FE", n: 600, fe: [[50, 0], [12, 0], [8, 0]], K: 2, weights: false, alias: false },
  { name: "three FE weighted, aliased", n: 600, fe: [[50, 0], [12, 0], [8, 0]], K: 2, weights: true, alias: true },
  { name: "four FE", n: 700, fe: [[60, 0], [15, 0], [9, 0], [4, 0]], K: 2, weights: true, alias: false },
  { name: "FE + varying slope", n: 500, fe: [[40, 0], [6, 2]], K: 2, weights: false, alias: false },
  { name: "slope only, weighted", n: 500, fe: [[40, 0], [6, 1]], K: 1, weights: true, alias: false },
  { name: "one level + another FE", n: 100, fe: [[10, 0], [1, 0]], K: 1, weights: false, alias: false },
];

function smallInput(c: Case, seed: number) {
  const r = new Rng(seed);
  const fe: RefFe[] = c.fe.map(([G, type]) => {
    const d: RefFe = { codes: codes(r, c.n, G), levels: G, type };
    if (type !== 0) d.slope = Float64Array.from({ length: c.n }, () => r.uniform() * 10 - 3);
    return d;
  });
  const w = c.weights ? Float64Array.from({ length: c.n }, () => 0.2 + 3 * r.uniform()) : null;
  const cols = Array.from({ length: c.K }, () => Float64Array.from({ length: c.n }, () => r.uniform() * 4 - 2 + (r.uniform() < 0.05 ? 50 : 0)));
  return { fe, w, cols };
}

describe("LSMR kernel vs its plain TypeScript reference", () => {
  for (const c of SMALL)
  for (const seed of [1, 2]) {
    it(`${c.name}, seed ${seed}`, () => {
      const { fe, w, cols } = smallInput(c, seed * 1009 + c.n);
      const got = run(cols.map((x) => x.slice()), fe, w, "lsmr", 1e-11, 100_000, c.alias);
      expect(got.info.converged).toBe(true);
      expect(got.info.cgIterations).toBeGreaterThan(0);
      expect(got.info.mapIterations).toBe(0);
      for (let k = 0; k < c.K; k++) {
        const ref = refLsmrDemean(cols[k], fe, w).out;
        let maxd = 0;
        for (let i = 0; i < c.n; i++) maxd = Math.max(maxd, Math.abs(ref[i] - got.out[k][i]));
        expect(maxd, `column ${k}`).toBeLessThan(KERNEL_REF_ABS);
      }
    });
  }

  it("a zero column stops at the first iteration; a constant and a column in the FE span demean to zero", () => {
    const { fe } = smallInput(SMALL[3], 5);
    const n = SMALL[3].n;
    const inSpan = Float64Array.from({ length: n }, (_, i) => fe[0].codes[i] * 0.5 - fe[2].codes[i]);
    const got = run([new Float64Array(n), new Float64Array(n).fill(2.5), inSpan], fe, null, "lsmr", 1e-10);
    expect(got.info.converged).toBe(true);
    expect(got.info.columns![0].iterations).toBe(1);
    for (const o of got.out) for (const v of o) expect(Math.abs(v)).toBeLessThan(1e-9);
  });
});

describe("LSMR residuals equal CG's and MAP's at the same tolerance", () => {
  const STRUCTURES: { name: string; make: (r: Rng) => RefFe[]; weights: boolean; map: boolean }[] = [
    { name: "two FE", make: (r) => [{ codes: codes(r, 3000, 300), levels: 300, type: 0 }, { codes: codes(r, 3000, 10), levels: 10, type: 0 }], weights: false, map: true },
    { name: "three FE weighted", make: (r) => [300, 60, 10].map((G) => ({ codes: codes(r, 3000, G), levels: G, type: 0 as FeType })), weights: true, map: true },
    {
      name: "FE + varying slope",
      make: (r) => [
        { codes: codes(r, 2000, 200), levels: 200, type: 0 },
        { codes: codes(r, 2000, 8), levels: 8, type: 2, slope: Float64Array.from({ length: 2000 }, () => r.uniform() * 10 - 3) },
      ],
      weights: false, map: true,
    },
    // MAP needs thousands of steps here: compared with CG and auto only
    { name: "low-mobility chain, worker + firm + year", make: (r) => lowMobilityFe(r, 1500, 120, 8), weights: true, map: false },
  ];
  for (const s of STRUCTURES)
  for (const seed of [3, 4]) {
    it(`${s.name}, seed ${seed}`, () => {
      const r = new Rng(seed * 31 + s.name.length);
      const fe = s.make(r);
      const n = fe[0].codes.length;
      const w = s.weights ? Float64Array.from({ length: n }, () => 0.3 + 2 * r.uniform()) : null;
      const cols = [
        Float64Array.from({ length: n }, () => r.normal()),
        Float64Array.from({ length: n }, (_, i) => fe[1].codes[i] * 0.2 + fe[0].codes[i] * 0.01 + r.normal()),
      ];
      const lsmr = run(cols.map((c) => c.slice()), fe, w, "lsmr", 1e-10);
      expect(lsmr.info.converged).toBe(true);
      const others: KernelAlgo[] = s.map ? ["cg", "map", "auto"] : ["cg", "auto"];
      for (const algo of others) {
        const o = run(cols.map((c) => c.slice()), fe, w, algo, 1e-10);
        expect(o.info.converged, algo).toBe(true);
        for (let k = 0; k < cols.length; k++) expect(relL2(lsmr.out[k], o.out[k]), `${algo} column ${k}`).toBeLessThan(ALGO_REL);
      }
    });
  }

  it("chain graph at fixefTol 1e-8: lsmr and auto as accurate as tests/kernels.test.ts asks of CG", () => {
    const r = new Rng(12345);
    const fe = lowMobilityFe(r, 3000, 200, 8);
    const n = fe[0].codes.length;
    const x = Float64Array.from({ length: n }, (_, i) => fe[1].codes[i] / 200 + r.uniform());
    const y = Float64Array.from({ length: n }, (_, i) => 0.5 * x[i] + Math.sin(fe[1].codes[i]) + (fe[0].codes[i] % 7) + 0.1 * fe[2].codes[i] + r.uniform());
    const exact = run([y.slice(), x.slice()], fe, null, "cg", 1e-13, 20_000);
    for (const algo of ["lsmr", "auto"] as KernelAlgo[]) {
      const got = run([y.slice(), x.slice()], fe, null, algo, 1e-8, 5000);
      expect(got.info.converged, algo).toBe(true);
      expect(got.info.cgIterations, algo).toBeGreaterThan(0);
      expect(got.info.mapIterations, algo).toBe(algo === "auto" ? 20 : 0);
      for (let k = 0; k < 2; k++) expect(relL2(got.out[k], exact.out[k]), `${algo} column ${k}`).toBeLessThan(CHAIN_REL);
    }
  });

  it("an iteration limit too small is reported as not converged, with the residuals reached", () => {
    const r = new Rng(8);
    const fe = lowMobilityFe(r, 1500, 120, 8);
    const n = fe[0].codes.length;
    const got = run([Float64Array.from({ length: n }, () => r.normal())], fe, null, "lsmr", 1e-12, 3);
    expect(got.info.converged).toBe(false);
    expect(got.info.cgIterations).toBe(3);
    expect(got.info.criterion).toBeGreaterThan(1e-12);
  });
});

describe("the kernel refuses lsmr without its scratch", () => {
  it("DM_U = 0 with algo lsmr: BAD_ARGUMENT", () => {
    const st = eng.scoped(() => {
      const { d, x, n } = putDemeanInput(eng, [Float64Array.from({ length: 50 }, (_, i) => i % 3)], [
        { codes: Int32Array.from({ length: 50 }, (_, i) => i % 5), levels: 5, type: 0 },
        { codes: Int32Array.from({ length: 50 }, (_, i) => i % 7), levels: 7, type: 0 },
      ], null);
      const g = eng.putI32(d.groups), t = eng.putI32(d.types), z = eng.putI32(d.slopePtrs);
      const scratch = eng.allocF64(eng.kernels.demeanScratch(2, g, t, 1));
      const ctx = demeanContext(eng, { n, Q: 2, K: 1, codesPtr: d.codesPtr, groupsPtr: g, typesPtr: t, slopesPtr: z, wPtr: 0, tol: 1e-8, maxIter: 100, algo: 3, switchAfter: 20 });
      return eng.kernels.demean(x, eng.allocF64(4), scratch, ctx, x);
    });
    expect(st).toBe(3); // STATUS.BAD_ARGUMENT
  });
});

describe("fixest references with fixefAlgo lsmr", () => {
  const models = loadRefs("cbec_panel_fixest.json");
  let cbec: Frame;
  beforeAll(async () => {
    cbec = Frame.fromArrow((await readFile(new URL("cbec_panel.csv", FIX).pathname)).table);
    const w = Frame.fromArrow((await readFile(new URL("cbec_weights.csv", FIX).pathname)).table);
    cbec = cbec.withColumn("w", w.numeric("w"));
  });
  // two FE, three FE (firm + year + city, 2% of firms move city), FE + region[year] slopes, weights
  for (const id of ["t3c2_cl_firm", "t3c3_cl_firm", "t3c4_cl_firm", "weighted"]) {
    it(id, () => {
      const m = models.find((x) => x.id === id)!;
      const parsed = parseCall(m.call)!;
      const fit = feols(eng, cbec, parsed.formula, { ...parsed.opts, fixefAlgo: "lsmr" });
      expect(fit.converged).toBe(true);
      expect(fit.demean).toMatchObject({ algo: "lsmr", mapIterations: 0 });
      expect(fit.demean!.cgIterations).toBeGreaterThan(0);
      expect(fit.nobs).toBe(m.nobs);
      for (const [k, v] of Object.entries(m.coef)) {
        expect(rel(fit.coef[k], v), `coef ${k}`).toBeLessThan(COEF_REL);
        expect(rel(fit.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
      }
    });
  }
});

describe("fepois with fixefAlgo lsmr (the IRLS's demeaning)", () => {
  // three FE (firm + year + city): the fixest reference glm_fixest.json pois_3fe_cl_firm
  it("pois_3fe_cl_firm reaches fixest's numbers", async () => {
    const refs = JSON.parse(readFileSync(new URL("glm_fixest.json", FIX), "utf8")) as {
      id: string; formula: string; data: string; family: GlmOptions["family"]; vcov: string; ssc: string; rm: string; coef: Record<string, number>; se: Record<string, number>; nobs: number;
    }[];
    const m = refs.find((x) => x.id === "pois_3fe_cl_firm")!;
    const frame = Frame.fromArrow((await readFile(new URL(m.data, FIX).pathname)).table);
    const fit = feglm(eng, frame, m.formula, { family: m.family, vcov: m.vcov, ssc: m.ssc, fixefRm: m.rm as GlmOptions["fixefRm"], fixefAlgo: "lsmr" });
    expect(fit.converged).toBe(true);
    expect(fit.demean?.algo).toBe("lsmr");
    expect(fit.nobs).toBe(m.nobs);
    for (const [k, v] of Object.entries(m.coef)) {
      expect(rel(fit.coef[k], v), `coef ${k}`).toBeLessThan(COEF_REL);
      expect(rel(fit.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
    }
  });
});

describe("hdfe feols --fixef-algo lsmr", () => {
  assertFresh();
  const ROOT = new URL("..", import.meta.url).pathname;
  const REF = join(ROOT, "tests/fixtures/reference");
  const hdfe = (...args: string[]) => {
    const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const models = loadRefs("cbec_panel_fixest.json");
  const ctl = "Fin + Eco + Top1 + Quick + Liability + Q + PE";
  for (const [id, file, extra] of [
    ["t3c3_cl_firm", "cbec_panel.csv", []],
    // cbec_panel_ext.csv's w is the weighted model's weight column
    ["weighted", "cbec_panel_ext.csv", ["--weights", "w"]],
  ] as const) {
    it(`${id} reaches fixest's numbers`, () => {
      const m = models.find((x) => x.id === id)!;
      const fe = id === "t3c3_cl_firm" ? "firm + year + city" : "firm + year";
      const r = hdfe("feols", "--data", join(REF, file), "-f", `FC ~ did + ${ctl} | ${fe}`, "--vcov", "cluster:firm", "--fixef-rm", "none", "--fixef-algo", "lsmr", ...extra, "--json");
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.nobs).toBe(m.nobs);
      for (const [k, v] of Object.entries(m.coef)) {
        expect(rel(j.coef[k], v), `coef ${k}`).toBeLessThan(COEF_REL);
        expect(rel(j.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
      }
    });
  }

  it("an unknown algorithm is a usage error that lists lsmr", () => {
    const r = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), "-f", "FC ~ did | firm + year", "--fixef-algo", "lsqr");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--fixef-algo must be one of auto, map, cg, lsmr/);
  });

  it("out of core (--engine duckdb) lsmr is refused with the reason", () => {
    const r = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), "-f", "FC ~ did | firm + year", "--engine", "duckdb", "--fixef-algo", "lsmr");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/lsmr is an in-memory solver/);
  });
});
