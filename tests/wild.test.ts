// Wild cluster bootstrap (bindings/inference/wild.ts, assembly/wild.ts) against a plain
// implementation in this file: build each bootstrap sample y* = restricted fit + u .* v in
// the original data and refit the whole model with feols (fixed effects and all).
//
// Tolerances:
//   bootstrap t statistics, full enumeration vs refit per draw   1e-10 (relative to max(1, |t*|))
//   p-values from the same draws                                 exact
//   random weights vs full enumeration                           4 Monte-Carlo standard errors
//   SE / t on cbec vs feols clustered by city                    1e-10 relative
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit, type FeolsOptions } from "../bindings/estimators/feols.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { Rng } from "../bindings/base/rng.js";
import { wild, TIE_REL, type WildOptions } from "../bindings/inference/wild.js";

const T_TOL = 1e-10;
const FIX = new URL("./fixtures/reference/", import.meta.url);
const FORMULA = "y ~ did + x1 + x2 | firm + year";
const FIT: FeolsOptions = { fixefRm: "none", fixefTol: 1e-13, vcov: "cluster:state" };

let eng: Engine;

/** A small staggered panel: G states, firms in states (two firms move), years 1..T. */
function panel(G: number, seed: number, withWeights = false): Frame {
  const r = new Rng(seed);
  const firms = 5, T = 8;
  const cols: Record<string, number[]> = { y: [], did: [], x1: [], x2: [], firm: [], year: [], state: [], w: [] };
  const adopt = Array.from({ length: G }, (_, g) => (g % 3 === 0 ? 4 + (g % 4) : Infinity));
  const shock = Array.from({ length: G }, () => r.normal());
  for (let g = 0; g < G; g++) {
    for (let f = 0; f < firms; f++) {
      const id = g * firms + f;
      const fe = r.normal();
      for (let t = 1; t <= T; t++) {
        // firm 0 of states 1 and 2 moves to the next state from year 6 on
        const st = f === 0 && (g === 1 || g === 2) && t >= 6 ? (g + 1) % G : g;
        const d = t >= adopt[st] ? 1 : 0;
        const x1 = r.normal() + 0.3 * d;
        const x2 = r.uniform();
        const e = 0.8 * shock[st] * (t / T) + r.normal();
        cols.y.push(fe + 0.1 * t + 0.25 * d + 0.5 * x1 - 0.3 * x2 + e);
        cols.did.push(d);
        cols.x1.push(x1);
        cols.x2.push(x2);
        cols.firm.push(id + 1);
        cols.year.push(t);
        cols.state.push(st + 1);
        cols.w.push(withWeights ? 0.5 + r.uniform() : 1);
      }
    }
  }
  return Frame.fromColumns(Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, Float64Array.from(v)])));
}

/** Bootstrap t statistics by refitting y* for each weight vector (weights[d][h], h = state label order). */
function refitTStars(frame: Frame, fit: Fit, weights: number[][], restricted: boolean, b0: number, wcol?: string): number[] {
  const y = frame.numeric("y"), did = frame.numeric("did"), st = frame.numeric("state");
  const n = frame.nrows;
  const sw = wcol ? Float64Array.from(frame.numeric(wcol), Math.sqrt) : null;
  // residuals of the bootstrap DGP, in raw units (the fit's residuals are sqrt-weighted)
  let u: Float64Array;
  if (restricted) {
    const yr = Float64Array.from(y, (v, i) => v - b0 * did[i]);
    const fr = feols(eng, frame, "y ~ x1 + x2 | firm + year", { ...FIT, weights: wcol, override: { y: yr } });
    u = fr.internals.residuals.slice();
  } else {
    u = fit.internals.residuals.slice();
  }
  if (sw) for (let i = 0; i < n; i++) u[i] /= sw[i];
  const center = restricted ? b0 : fit.coef.did;
  return weights.map((v) => {
    const ys = Float64Array.from(y, (yi, i) => yi - u[i] + u[i] * v[st[i] - 1]);
    const f = feols(eng, frame, FORMULA, { ...FIT, weights: wcol, override: { y: ys } });
    return (f.coef.did - center) / f.se.did;
  });
}

function signVectors(G: number): number[][] {
  return Array.from({ length: 2 ** G }, (_, d) => Array.from({ length: G }, (_, h) => ((d >> h) & 1 ? 1 : -1)));
}

function expectClose(got: ArrayLike<number>, want: number[]): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  expect(worst).toBeLessThan(T_TOL);
}

beforeAll(async () => {
  eng = await loadEngine();
});

describe("full enumeration (G = 8, 256 draws) against a refit per draw", () => {
  let frame: Frame;
  let fit: Fit;
  beforeAll(() => {
    frame = panel(8, 1);
    fit = feols(eng, frame, FORMULA, FIT);
  });

  for (const [label, restricted, b0] of [["restricted, H0: b = 0", true, 0], ["restricted, H0: b = 0.2", true, 0.2], ["unrestricted", false, 0]] as const) {
    it(label, () => {
      const r = wild(eng, fit, { param: "did", cluster: "state", B: 999, restricted, null: b0 });
      expect(r.enumerated).toBe(true);
      expect(r.B).toBe(256);
      expect(r.G).toBe(8);
      expect(Math.abs(r.se - fit.se.did) / fit.se.did).toBeLessThan(1e-10);
      const want = refitTStars(frame, fit, signVectors(8), restricted, b0);
      expectClose(r.tStars, want);
      // strict comparisons; the identity draw and its negation tie with t exactly (restricted)
      const t = (fit.coef.did - b0) / fit.se.did;
      const eps = TIE_REL * Math.max(1, Math.abs(t));
      expect(r.pSymmetric).toBe(want.filter((ts) => Math.abs(ts) - Math.abs(t) > eps).length / 256);
      const gt = want.filter((ts) => ts - t > eps).length / 256, lt = want.filter((ts) => t - ts > eps).length / 256;
      expect(r.pEqualTailed).toBe(2 * Math.min(gt, lt));
      if (restricted) expect(want.filter((ts) => Math.abs(Math.abs(ts) - Math.abs(t)) <= eps).length).toBe(2);
    });
  }

  it("regression weights", () => {
    const wf = panel(8, 4, true);
    const f = feols(eng, wf, FORMULA, { ...FIT, weights: "w" });
    const r = wild(eng, f, { param: "did", cluster: "state", B: 999 });
    const picks = [0, 1, 77, 200, 255];
    const want = refitTStars(wf, f, picks.map((d) => signVectors(8)[d]), true, 0, "w");
    expectClose(picks.map((d) => r.tStars[d]), want);
  });

  it("the interval inverts the test: p > alpha just inside, p <= alpha just outside", () => {
    const r = wild(eng, fit, { param: "did", cluster: "state", B: 999, level: 0.9 });
    const [lo, hi] = r.ci!;
    expect(lo).toBeLessThan(fit.coef.did);
    expect(hi).toBeGreaterThan(fit.coef.did);
    const p = (b0: number) => wild(eng, fit, { param: "did", cluster: "state", B: 999, null: b0, ci: false }).pSymmetric;
    const eps = 1e-6 * r.se;
    expect(p(lo + eps)).toBeGreaterThan(0.1);
    expect(p(lo - eps)).toBeLessThanOrEqual(0.1);
    expect(p(hi - eps)).toBeGreaterThan(0.1);
    expect(p(hi + eps)).toBeLessThanOrEqual(0.1);
  });
});

describe("random weights", () => {
  it("Rademacher draws agree with full enumeration within Monte-Carlo error (G = 12)", () => {
    const frame = panel(12, 2);
    const fit = feols(eng, frame, FORMULA, FIT);
    const b0 = fit.coef.did - 1.6 * fit.se.did; // a null where p is far from 0 and 1
    const full = wild(eng, fit, { param: "did", cluster: "state", B: 9999, null: b0, ci: false });
    expect(full.enumerated).toBe(true);
    expect(full.B).toBe(4096);
    const rnd = wild(eng, fit, { param: "did", cluster: "state", B: 4999, null: b0, enumerate: false, seed: 9, ci: false });
    expect(rnd.enumerated).toBe(false);
    const p = full.pSymmetric;
    expect(p).toBeGreaterThan(0.02);
    expect(Math.abs(rnd.pSymmetric - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 4999));
    const pe = full.pEqualTailed;
    expect(Math.abs(rnd.pEqualTailed - pe)).toBeLessThan(4 * Math.sqrt((pe * (1 - pe)) / 4999) * 2);
  });

  it("Webb weights: draw d is Rng(seed).fork(d).int(6) per cluster, and matches a refit", () => {
    const frame = panel(8, 3);
    const fit = feols(eng, frame, FORMULA, FIT);
    const r = wild(eng, fit, { param: "did", cluster: "state", B: 300, weights: "webb", seed: 31, ci: false });
    expect(r.enumerated).toBe(false);
    const W = [-Math.sqrt(1.5), -1, -Math.sqrt(0.5), Math.sqrt(0.5), 1, Math.sqrt(1.5)];
    const picks = [0, 5, 299];
    const vs = picks.map((d) => {
      const g = new Rng(31).fork(d);
      return Array.from({ length: 8 }, () => W[g.int(6)]);
    });
    expectClose(picks.map((d) => r.tStars[d]), refitTStars(frame, fit, vs, true, 0));
    // same seed, same draws
    const again = wild(eng, fit, { param: "did", cluster: "state", B: 300, weights: "webb", seed: 31, ci: false });
    expect(Array.from(again.tStars)).toEqual(Array.from(r.tStars));
  });
});

describe("cbec, clustered by city", () => {
  it("SE and t are fixest's city-clustered ones; the bootstrap agrees with the analytic inference", async () => {
    const cbec = Frame.fromArrow((await readFile(new URL("cbec_panel.csv", FIX).pathname)).table);
    const fit = feols(eng, cbec, "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", {
      fixefRm: "none", fixefTol: 1e-10, vcov: "cluster:city",
    });
    const opts: WildOptions = { param: "did", cluster: "city", B: 1999, seed: 1 };
    const r = wild(eng, fit, opts);
    expect(r.G).toBe(fit.clusterSizes!.city);
    expect(Math.abs(r.se - fit.se.did) / fit.se.did).toBeLessThan(1e-10);
    expect(Math.abs(r.t - fit.tstat.did) / fit.tstat.did).toBeLessThan(1e-10);
    expect(r.pSymmetric).toBeLessThan(0.01);
    const [lo, hi] = r.ci!;
    const wald = [fit.table[0].ciLow, fit.table[0].ciHigh];
    expect(Math.abs(lo - wald[0])).toBeLessThan(0.3 * (wald[1] - wald[0]));
    expect(Math.abs(hi - wald[1])).toBeLessThan(0.3 * (wald[1] - wald[0]));
    // a null near the lower bound: p near 5% (the bootstrap t has G = 196 clusters)
    const near = wild(eng, fit, { ...opts, null: lo, ci: false });
    expect(near.pSymmetric).toBeGreaterThan(0.03);
    expect(near.pSymmetric).toBeLessThan(0.07);
  });
});
