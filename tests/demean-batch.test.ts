// The demeaning kernel's per-column convergence, as a property over fixed seeds: a column
// demeaned in a batch (with columns that converge much faster or slower, a zero column and a
// constant one) is the same bits as demeaned alone, and the batch's per-column record of it
// (DemeanInfo.columns: iterations, MAP steps, CG iterations, final criterion, converged) is
// what the lone call reports. Every algorithm the kernel offers (auto: accelerated MAP then
// LSMR, two kernel calls; map-cg: MAP then CG in the kernel, the former auto; MAP only; CG
// only; LSMR only), at an ordinary tolerance, at a tolerance tight enough for CG's
// residual restarts, and with an iteration limit that leaves columns unconverged.
//
// Tolerances: none. Values are compared bit for bit (toEqual on the Float64Arrays) and the
// records exactly: the kernel's every operation is column-wise, so no rounding difference is
// allowed.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync } from "node:fs";
import { createEngine, type Engine } from "../bindings/engine/wasm.js";
import { demeanPtr, type FeType, type KernelAlgo as DemeanAlgo, type DemeanInfo } from "../bindings/engine/kernels.js";
import { Rng } from "../bindings/base/rng.js";
import { demeanThreaded, closeDemeanThreads } from "../bindings/platform/demean-node.js";
import { putDemeanInput, lowMobilityFe } from "./demean-input.js";

interface Fe {
  codes: Int32Array;
  levels: number;
  type: FeType;
  slope?: Float64Array;
}

let eng: Engine;
beforeAll(async () => {
  eng = await createEngine(readFileSync(new URL("../build/hdfe.wasm", import.meta.url)));
});

afterAll(async () => {
  await closeDemeanThreads();
});

/** Demean `cols` in one call (threads > 1: split across worker threads); the demeaned columns and the call's info (with its per-column records). */
function demeanCall(cols: Float64Array[], fe: Fe[], w: Float64Array | null, algo: DemeanAlgo, tol: number, maxIter: number, threads = 1) {
  return eng.scoped(() => {
    const { d, x, n, K } = putDemeanInput(eng, cols, fe, w);
    const info = threads > 1 ? demeanThreaded(eng, d, K, x, x, tol, maxIter, algo, 20, threads) : demeanPtr(eng, d, K, x, x, tol, maxIter, algo);
    return { out: cols.map((_, k) => eng.getF64(x + k * n * 8, n)), info };
  });
}

/** The fields of a record a column reports (threads aside: 1 everywhere here). */
function rec(i: DemeanInfo) {
  return { iterations: i.iterations, mapIterations: i.mapIterations, cgIterations: i.cgIterations, criterion: i.criterion, converged: i.converged, grew: i.grew ?? false };
}

function randomCodes(r: Rng, n: number, levels: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i < levels ? i : r.int(levels)));
}


const STRUCTURES: { name: string; make: (r: Rng) => Fe[]; weights: boolean }[] = [
  { name: "two FE", make: (r) => [{ codes: randomCodes(r, 3000, 300), levels: 300, type: 0 }, { codes: randomCodes(r, 3000, 10), levels: 10, type: 0 }], weights: false },
  {
    name: "three FE weighted",
    make: (r) => [[300, 0], [60, 0], [10, 0]].map(([G]) => ({ codes: randomCodes(r, 3000, G), levels: G, type: 0 as FeType })),
    weights: true,
  },
  {
    name: "FE + varying slope, and a slope-only FE",
    make: (r) => [
      { codes: randomCodes(r, 2000, 200), levels: 200, type: 0 },
      { codes: randomCodes(r, 2000, 8), levels: 8, type: 2, slope: Float64Array.from({ length: 2000 }, () => r.uniform() * 10 - 3) },
      { codes: randomCodes(r, 2000, 5), levels: 5, type: 1, slope: Float64Array.from({ length: 2000 }, () => r.uniform() * 2) },
    ],
    weights: false,
  },
  { name: "low-mobility worker + firm + year", make: (r) => lowMobilityFe(r, 600, 60, 6), weights: false },
];

/** Columns that converge at very different speeds: noise, absorbed by the first FE, slow mixtures, zero, constant, huge, a pattern. */
function columnsFor(r: Rng, fe: Fe[]): Float64Array[] {
  const n = fe[0].codes.length;
  const noise = () => Float64Array.from({ length: n }, () => r.normal());
  return [
    noise(),
    Float64Array.from(fe[0].codes, (g) => g * 0.37), // in the span of the FE: demeans to (about) zero at once
    Float64Array.from({ length: n }, (_, i) => fe[0].codes[i] * 0.01 + fe[1].codes[i] + r.uniform()),
    new Float64Array(n),
    new Float64Array(n).fill(3.5), // constant
    noise().map((v) => v * 1e6),
    Float64Array.from({ length: n }, (_, i) => (i % 7) - 3),
    Float64Array.from({ length: n }, (_, i) => fe[1].codes[i] * 2 + 0.001 * r.normal()), // nearly absorbed by the second FE
  ];
}

const SETTINGS: { algo: DemeanAlgo; tol: number; maxIter: number }[] = [
  { algo: "auto", tol: 1e-9, maxIter: 100_000 },
  { algo: "map", tol: 1e-9, maxIter: 100_000 },
  { algo: "cg", tol: 1e-9, maxIter: 100_000 },
  { algo: "auto", tol: 1e-13, maxIter: 3000 }, // CG to its precision floor: residual restarts, stagnation
  { algo: "cg", tol: 1e-13, maxIter: 3000 },
  { algo: "map", tol: 1e-14, maxIter: 4 }, // the limit leaves columns unconverged
  { algo: "auto", tol: 1e-14, maxIter: 25 }, // ... after 20 MAP steps and 5 LSMR iterations
  { algo: "lsmr", tol: 1e-9, maxIter: 100_000 },
  { algo: "lsmr", tol: 1e-13, maxIter: 3000 }, // LSMR to its precision floor: stagnation
  { algo: "lsmr", tol: 1e-14, maxIter: 5 },
  { algo: "map-cg", tol: 1e-9, maxIter: 100_000 },
  { algo: "map-cg", tol: 1e-13, maxIter: 3000 }, // the former auto to CG's precision floor: residual restarts, stagnation
  { algo: "map-cg", tol: 1e-14, maxIter: 25 },
];

describe("batch demeaning: each column bit-identical to, and recorded as, its lone demeaning", () => {
  for (const s of STRUCTURES)
  for (const seed of [1, 2, 3])
  for (const st of SETTINGS) {
    it(`${s.name}, seed ${seed}, ${st.algo} tol ${st.tol} maxIter ${st.maxIter}`, () => {
      const r = new Rng(seed * 7919 + s.name.length);
      const fe = s.make(r);
      const n = fe[0].codes.length;
      const w = s.weights ? Float64Array.from({ length: n }, () => 0.2 + 3 * r.uniform()) : null;
      const cols = columnsFor(r, fe);
      const K = cols.length;
      // the batch in a seeded order
      const order = Array.from({ length: K }, (_, k) => k);
      for (let k = K - 1; k > 0; k--) {
        const j = r.int(k + 1);
        [order[k], order[j]] = [order[j], order[k]];
      }
      const batch = demeanCall(order.map((k) => cols[k].slice()), fe, w, st.algo, st.tol, st.maxIter);
      expect(batch.info.columns?.length).toBe(K);
      const alone = cols.map((c) => demeanCall([c.slice()], fe, w, st.algo, st.tol, st.maxIter));
      order.forEach((k, j) => {
        expect(batch.out[j], `column ${k}`).toEqual(alone[k].out[0]);
        expect(rec(batch.info.columns![j]), `column ${k}`).toEqual(rec(alone[k].info));
        expect(rec(alone[k].info.columns![0]), `column ${k}`).toEqual(rec(alone[k].info));
      });
      // the call's info: the largest over its columns' records
      const recs = batch.info.columns!;
      expect(batch.info.iterations).toBe(Math.max(...recs.map((c) => c.iterations)));
      expect(batch.info.cgIterations).toBe(Math.max(...recs.map((c) => c.cgIterations)));
      expect(batch.info.criterion).toBe(Math.max(...recs.map((c) => c.criterion)));
      expect(batch.info.converged).toBe(recs.every((c) => c.converged));
    });
  }

  it("the columns do converge at different speeds (the property is not tested on equal counts)", () => {
    const r = new Rng(1 * 7919 + STRUCTURES[0].name.length);
    const fe = STRUCTURES[0].make(r);
    const got = demeanCall(columnsFor(r, fe), fe, null, "map", 1e-9, 100_000);
    const its = got.info.columns!.map((c) => c.iterations);
    expect(new Set(its).size).toBeGreaterThan(2);
    expect(Math.min(...its)).toBe(1); // zero, constant and absorbed columns stop at the first step
  });

  it("split across worker threads, the per-column records come back from the workers unchanged", () => {
    const r = new Rng(99);
    const fe = lowMobilityFe(r, 600, 60, 6);
    const cols = columnsFor(r, fe);
    for (const algo of ["auto", "cg", "lsmr"] as DemeanAlgo[]) {
      const one = demeanCall(cols.map((c) => c.slice()), fe, null, algo, 1e-13, 3000);
      const three = demeanCall(cols.map((c) => c.slice()), fe, null, algo, 1e-13, 3000, 3);
      expect(three.info.threads).toBe(3);
      expect(three.out).toEqual(one.out);
      expect(three.info.columns!.map(rec)).toEqual(one.info.columns!.map(rec));
    }
  });
});
