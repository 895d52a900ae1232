// The rank certificate of no separation (bindings/estimators/glm-separation.ts rankCertificate),
// which lets irSeparation skip ppmlhdfe's iterative rectifier: on constructed panels (fixed
// seeds), with and without separating regressors, with 0, 1, 2 and 3 FE, Poisson (boundary
// y = 0) and binomial (boundary y = 0, then y = 1):
//   - irSeparation finds exactly the rows the rectifier alone finds (certificate: false);
//   - the certificate never holds where the rectifier finds separated rows (soundness);
//   - it holds on the panels built without separation (every FE level has rows off the
//     boundary, continuous regressors), so the shortcut is taken there;
//   - it fails (the rectifier runs) for a level with only boundary rows (also of the third
//     FE of 3), collinear regressors; with 3 FE it holds through a connected pair of FE.
// Tolerances: none, the separated rows are compared exactly.
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { Rng } from "../bindings/base/rng.js";
import type { SampleFe } from "../bindings/core/sample.js";
import { irSeparation, rankCertificate, type IrInput } from "../bindings/estimators/glm-separation.js";

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

const FIRMS = 60, YEARS = 8, N = FIRMS * YEARS;

/** y Poisson or 0 / 1, x1 normal; `sep`: d = 1 on ~12% of rows, where y is set to 0 (and, binary, e = 1 on ~5% where y = 1). */
function panel(seed: number, binary: boolean, sep: boolean) {
  const rng = new Rng(seed);
  const firm = new Int32Array(N), year = new Int32Array(N), city = new Int32Array(N);
  const x1 = new Float64Array(N), d = new Float64Array(N), e = new Float64Array(N), y = new Float64Array(N);
  const a = Array.from({ length: FIRMS }, () => 0.5 * rng.normal());
  for (let i = 0; i < N; i++) {
    const g = Math.floor(i / YEARS), t = i % YEARS;
    (firm[i] = g), (year[i] = t), (city[i] = Math.floor(rng.uniform() * 7));
    x1[i] = rng.normal();
    const eta = 0.2 + a[g] + 0.05 * t + 0.4 * x1[i];
    y[i] = binary ? (rng.uniform() < 1 / (1 + Math.exp(-eta)) ? 1 : 0) : rng.poisson(Math.exp(eta));
    // no level all on one boundary: year 0 of each firm and firm 0 of each year y >= 1 (binary: years 1 and 2 of each firm 0 and 1, alternating)
    if (!binary && (t === 0 || g === 0)) y[i] = Math.max(y[i], 1);
    if (binary && t === 1) y[i] = g % 2;
    if (binary && t === 2) y[i] = 1 - (g % 2);
    if (sep && t > 2 && g > 1 && rng.uniform() < 0.12) (d[i] = 1), (y[i] = 0);
    else if (sep && binary && t > 2 && g > 1 && rng.uniform() < 0.05) (e[i] = 1), (y[i] = 1);
  }
  return { firm, year, city, x1, d, e, y };
}

type P = ReturnType<typeof panel>;
const fe = (name: string, codes: Int32Array, levels: number): SampleFe => ({ name, codes, levels, type: 0 });
const FES: Record<string, (p: P) => SampleFe[]> = {
  "0 FE": () => [],
  "1 FE": (p) => [fe("firm", p.firm, FIRMS)],
  "2 FE": (p) => [fe("firm", p.firm, FIRMS), fe("year", p.year, YEARS)],
  "3 FE": (p) => [fe("firm", p.firm, FIRMS), fe("year", p.year, YEARS), fe("city", p.city, 7)],
};

function input(p: P, fes: SampleFe[], X: Float64Array[], names: string[], boundary: Uint8Array): IrInput {
  const withIntercept = fes.length === 0;
  return {
    eng, boundary, X: withIntercept ? [new Float64Array(N).fill(1), ...X] : X, names: withIntercept ? ["(Intercept)", ...names] : names,
    sample: { fe: fes, n: N }, fixefTol: 1e-10, fixefIter: 10000, fixefAlgo: "auto", threads: 1,
  };
}

const sides = (p: P, binary: boolean) => (binary ? [Uint8Array.from(p.y, (v) => +(v === 0)), Uint8Array.from(p.y, (v) => +(v === 1))] : [Uint8Array.from(p.y, (v) => +(v === 0))]);

describe("rank certificate of no separation", () => {
  for (const binary of [false, true]) {
    for (const seed of [11, 12, 13]) {
      for (const [feName, mk] of Object.entries(FES)) {
        it(`${binary ? "logit" : "Poisson"} seed ${seed}, ${feName}: same rows as the rectifier alone; certified only without separation`, () => {
          for (const sep of [false, true]) {
            const p = panel(seed, binary, sep);
            const X = sep ? [p.x1, p.d, ...(binary ? [p.e] : [])] : [p.x1];
            const names = sep ? ["x1", "d", ...(binary ? ["e"] : [])] : ["x1"];
            let found = 0;
            for (const boundary of sides(p, binary)) {
              const inp = input(p, mk(p), X, names, boundary);
              const alone = irSeparation({ ...inp, certificate: false });
              expect(irSeparation(inp).rows).toEqual(alone.rows);
              const cert = rankCertificate(inp);
              if (alone.rows.length) expect(cert).toBe(false);
              if (!sep) expect(cert).toBe(true);
              found += alone.rows.length;
            }
            if (sep) expect(found).toBeGreaterThan(0);
          }
        });
      }
    }
  }

  it("fails (the rectifier runs) for a level with only boundary rows, collinear regressors; holds with 3 FE through a connected pair", () => {
    const p = panel(21, false, false);
    const b = () => Uint8Array.from(p.y, (v) => +(v === 0));
    const two = FES["2 FE"](p);
    expect(rankCertificate(input(p, two, [p.x1], ["x1"], b()))).toBe(true);
    // 3 FE: certified through the connected firm-year pair; not when a city level has only boundary rows
    expect(rankCertificate(input(p, [...two, fe("city", p.city, 7)], [p.x1], ["x1"], b()))).toBe(true);
    const city = p.city.slice();
    const b0 = b();
    for (let i = 0, moved = 0; i < N && moved < 3; i++) if (b0[i]) (city[i] = 7), moved++;
    expect(rankCertificate(input(p, [...two, fe("city", city, 8)], [p.x1], ["x1"], b()))).toBe(false);
    expect(rankCertificate(input(p, two, [p.x1, Float64Array.from(p.x1, (v) => 2 * v)], ["x1", "x1b"], b()))).toBe(false);
    const y = p.y.slice();
    for (let i = 5 * YEARS; i < 6 * YEARS; i++) y[i] = 0; // firm 5: every row on the boundary
    expect(rankCertificate(input(p, two, [p.x1], ["x1"], Uint8Array.from(y, (v) => +(v === 0))))).toBe(false);
  });
});
