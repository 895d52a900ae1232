// The GLM IRLS kernels (assembly/glm.ts) against their plain TypeScript references (the
// family definitions of bindings/estimators/glm-family.ts and bindings/ref/glm.ts) on small
// random inputs (fixed seeds), every family, with and without offset, prior weights and the
// FE part of z, odd lengths (the two-lane sums' tails), aliasing (m0 = z), the tails of the
// links (probit |eta| past its clamp, logit and Poisson at +-40), and bad arguments; then the
// whole IRLS with the WASM passes against the same loop with the TypeScript passes.
//
// Tolerances (never loosened per case):
//   element-wise values (mu, eta, z, W, r, feZ, m0)   1e-12 relative (to max(1, |ref|); mu of
//     glmLinkinv to |ref| itself, down to the clamps):
//     the kernels' exp / log / erfc are WebAssembly's, the references JavaScript's
//   sums (deviance, X'WX, X'Wz)                       1e-12 relative (different summation order)
//   step halving                                      exact
//   IRLS, WASM vs TypeScript passes: coefficients 1e-8 relative, SEs 1e-6 relative,
//     deviance 1e-8 relative, the same IRLS steps
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { Rng } from "../bindings/base/rng.js";
import { FAMILIES, linkfun, type Family } from "../bindings/estimators/glm-family.js";
import { glmWorking, glmDeviance, glmEtaStep, glmCrossW } from "../bindings/ref/glm.js";
import { feglm } from "../bindings/estimators/glm.js";
import { Frame } from "../bindings/core/frame.js";

const VAL_REL = 1e-12;
const SUM_REL = 1e-12;
const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const DEV_REL = 1e-8;
const BAD_ARGUMENT = 3;

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

const FAMS: [number, Family][] = [[0, FAMILIES.poisson], [1, FAMILIES.logit], [2, FAMILIES.probit]];

/** |got - want| <= tol max(floor, |want|) element-wise (floor 0: purely relative, for mu in the tails) */
function near(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string, floor = 1): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol * Math.max(floor, Math.abs(want[i])))) expect.fail(`${what}[${i}]: ${got[i]} vs reference ${want[i]}`);
  }
}

/** Random inputs of one family: eta (with tails), mu = linkinv(eta), y drawn from mu, offset, weights, FE part. */
function inputs(seed: number, code: number, fam: Family, n: number) {
  const rng = new Rng(seed);
  const eta = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 40 : i === 1 ? -40 : i === 2 ? 9 : i === 3 ? -9 : 2 * rng.normal()));
  const mu = eta.map((e) => fam.linkinv(e));
  const y = Float64Array.from(mu, (m) => (code === 0 ? rng.poisson(Math.min(m, 50)) : rng.uniform() < m ? 1 : 0));
  const off = Float64Array.from({ length: n }, () => rng.normal());
  const pw = Float64Array.from({ length: n }, () => 0.5 + rng.uniform());
  const feZ = Float64Array.from({ length: n }, () => rng.normal());
  return { eta, mu, y, off, pw, feZ };
}

const put = (a: Float64Array | null) => (a ? eng.putF64(a) : 0);

describe("assembly/glm.ts kernels vs the TypeScript references (fixed seeds)", () => {
  it("glmStart: R's mustart and its link, every family, with and without prior weights", () => {
    for (const [code, fam] of FAMS) {
      for (const weighted of [false, true]) {
        const n = 41;
        const { y, pw } = inputs(100 + code, code, fam, n);
        const w = weighted ? pw : null;
        const got = eng.scoped(() => {
          const eta = eng.allocF64(n), mu = eng.allocF64(n);
          expect(eng.kernels.glmStart(eta, mu, n, code, put(y), put(w))).toBe(0);
          return { eta: eng.getF64(eta, n), mu: eng.getF64(mu, n) };
        });
        const mu = Float64Array.from(y, (v, i) => fam.start(v, w ? w[i] : 1, 0));
        near(got.mu, mu, VAL_REL, `${fam.name} mu`);
        near(got.eta, mu.map((m) => linkfun(fam, m)), VAL_REL, `${fam.name} eta`);
      }
    }
  });

  it("glmLinkinv and glmDeviance: mu with the family's clamps and the deviance in one pass", () => {
    for (const [code, fam] of FAMS) {
      const n = 57;
      const { eta, y, pw } = inputs(200 + code, code, fam, n);
      for (const w of [null, pw]) {
        const got = eng.scoped(() => {
          const mu = eng.allocF64(n), out = eng.allocF64(1), out2 = eng.allocF64(1);
          const yp = put(y), wp = put(w);
          expect(eng.kernels.glmLinkinv(mu, out, n, code, put(eta), yp, wp)).toBe(0);
          expect(eng.kernels.glmDeviance(out2, n, code, yp, mu, wp)).toBe(0);
          return { mu: eng.getF64(mu, n), dev: eng.f64(out, 1)[0], dev2: eng.f64(out2, 1)[0] };
        });
        const mu = eta.map((e) => fam.linkinv(e));
        near(got.mu, mu, VAL_REL, `${fam.name} mu`, 0);
        const dev = glmDeviance(code, y, mu, w);
        let devFam = 0;
        for (let i = 0; i < n; i++) devFam += fam.devResid(y[i], mu[i], w ? w[i] : 1);
        near([got.dev, got.dev2], [dev, dev], SUM_REL, `${fam.name} deviance`);
        near([dev], [devFam], SUM_REL, `${fam.name} deviance (ref vs family)`);
      }
    }
  });

  it("glmWorking: z, W, r and m0 = z - feZ, with and without offset / weights / feZ, and m0 aliasing z", () => {
    for (const [code, fam] of FAMS) {
      const n = 63;
      const { eta, mu, y, off, pw, feZ } = inputs(300 + code, code, fam, n);
      for (const [o, w, f, alias] of [[null, null, null, false], [off, pw, feZ, false], [off, null, null, true], [null, pw, feZ, false]] as const) {
        const got = eng.scoped(() => {
          const z = eng.allocF64(n), W = eng.allocF64(n), r = eng.allocF64(n), m0 = alias ? z : eng.allocF64(n);
          expect(eng.kernels.glmWorking(z, W, r, m0, n, code, put(y), put(eta), put(mu), put(o), put(w), put(f))).toBe(0);
          return { z: eng.getF64(z, n), W: eng.getF64(W, n), r: eng.getF64(r, n), m0: eng.getF64(m0, n) };
        });
        const z = new Float64Array(n), W = new Float64Array(n), r = new Float64Array(n);
        expect(glmWorking(code, z, W, r, y, eta, mu, o, w)).toBe(0);
        near(got.z, z, VAL_REL, `${fam.name} z`);
        near(got.W, W, VAL_REL, `${fam.name} W`);
        near(got.r, r, VAL_REL, `${fam.name} r`);
        near(got.m0, f ? z.map((v, i) => v - f[i]) : z, VAL_REL, `${fam.name} m0`);
      }
    }
  });

  it("glmEta: feZ = z - z~ and eta = feZ + X~ beta (kept columns only) + offset", () => {
    const rng = new Rng(401);
    const n = 37, K = 4; // z~ and 3 regressors; columns 0 and 2 kept
    const M = Float64Array.from({ length: n * K }, () => rng.normal());
    const z = Float64Array.from({ length: n }, () => rng.normal());
    const off = Float64Array.from({ length: n }, () => rng.normal());
    const cols = [0, 2], beta = [0.7, -1.3];
    for (const o of [null, off]) {
      const got = eng.scoped(() => {
        const eta = eng.allocF64(n), feZ = eng.allocF64(n);
        const st = eng.kernels.glmEta(eta, feZ, n, K, cols.length, put(M), eng.putI32(cols), eng.putF64(beta), put(z), put(o));
        expect(st).toBe(0);
        return { eta: eng.getF64(eta, n), feZ: eng.getF64(feZ, n) };
      });
      const eta = new Float64Array(n), feZ = new Float64Array(n);
      expect(glmEtaStep(eta, feZ, K, cols, beta, M, z, o)).toBe(0);
      near(got.eta, eta, VAL_REL, "eta");
      near(got.feZ, feZ, VAL_REL, "feZ");
    }
  });

  it("glmCross: X'WX over the kept columns and X'W z~, odd and even lengths", () => {
    for (const n of [1, 2, 51, 64]) {
      const rng = new Rng(500 + n);
      const K = 5;
      const M = Float64Array.from({ length: n * K }, () => rng.normal());
      const W = Float64Array.from({ length: n }, () => rng.uniform());
      const cols = [3, 0, 1];
      const m = cols.length;
      for (const withZ of [false, true]) {
        const got = eng.scoped(() => {
          const A = eng.allocF64(m * m), b = eng.allocF64(m);
          eng.f64(b, m).fill(-99);
          const mp = put(M);
          expect(eng.kernels.glmCross(A, b, n, K, m, mp, eng.putI32(cols), put(W), withZ ? mp : 0)).toBe(0);
          return { A: eng.getF64(A, m * m), b: eng.getF64(b, m) };
        });
        const A = new Float64Array(m * m), b = new Float64Array(m).fill(-99);
        expect(glmCrossW(A, withZ ? b : null, K, cols, M, W, withZ ? M.subarray(0, n) : null)).toBe(0);
        near(got.A, A, SUM_REL, `A (n = ${n})`);
        near(got.b, b, SUM_REL, `b (n = ${n})`);
      }
    }
  });

  it("glmHalve: eta = (eta + etaOld) / 2, exactly", () => {
    const rng = new Rng(601);
    const n = 9;
    const a = Float64Array.from({ length: n }, () => rng.normal()), b = Float64Array.from({ length: n }, () => rng.normal());
    const got = eng.scoped(() => {
      const p = put(a);
      expect(eng.kernels.glmHalve(p, n, put(b))).toBe(0);
      return eng.getF64(p, n);
    });
    expect(Array.from(got)).toEqual(Array.from(a, (v, i) => (v + b[i]) / 2));
  });

  it("bad arguments return BAD_ARGUMENT, not a trap (unknown family, column outside the matrix, negative sizes)", () => {
    eng.scoped(() => {
      const p = eng.allocF64(16), c = eng.putI32([3]);
      expect(eng.kernels.glmStart(p, p, 4, 3, p, 0)).toBe(BAD_ARGUMENT);
      expect(eng.kernels.glmLinkinv(p, p, 4, -1, p, p, 0)).toBe(BAD_ARGUMENT);
      expect(eng.kernels.glmDeviance(p, -1, 0, p, p, 0)).toBe(BAD_ARGUMENT);
      expect(eng.kernels.glmWorking(p, p, p, p, 4, 7, p, p, p, 0, 0, 0)).toBe(BAD_ARGUMENT);
      expect(eng.kernels.glmEta(p, p, 4, 4, 1, p, c, p, p, 0)).toBe(BAD_ARGUMENT); // column 3 + 1 >= K
      expect(eng.kernels.glmCross(p, p, 4, 4, 1, p, c, p, 0)).toBe(BAD_ARGUMENT);
      expect(eng.kernels.glmHalve(p, -2, p)).toBe(BAD_ARGUMENT);
      expect(glmEtaStep(new Float64Array(4), new Float64Array(4), 4, [3], [1], new Float64Array(16), new Float64Array(4), null)).toBe(BAD_ARGUMENT);
      expect(glmCrossW(new Float64Array(1), null, 4, [3], new Float64Array(16), new Float64Array(4), null)).toBe(BAD_ARGUMENT);
    });
  });
});

/** A panel of 60 groups x 6 periods with a count, a binary outcome, weights and an offset. */
function panel(seed: number) {
  const rng = new Rng(seed);
  const G = 60, T = 6, n = G * T;
  const a = Float64Array.from({ length: G }, () => 0.5 * rng.normal());
  const g = new Float64Array(n), t = new Float64Array(n), x1 = new Float64Array(n), x2 = new Float64Array(n);
  const c = new Float64Array(n), b = new Float64Array(n), w = new Float64Array(n), o = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    g[i] = i % G;
    t[i] = Math.floor(i / G);
    x1[i] = rng.normal();
    x2[i] = rng.uniform();
    w[i] = 0.5 + rng.uniform();
    o[i] = 0.2 * rng.normal();
    const idx = a[g[i]] + 0.1 * t[i] + 0.4 * x1[i] - 0.5 * x2[i];
    c[i] = rng.poisson(Math.exp(0.3 + idx + o[i]));
    b[i] = rng.uniform() < 1 / (1 + Math.exp(-idx)) ? 1 : 0;
  }
  return Frame.fromColumns({ g, t, x1, x2, c, b, w, o });
}

describe("the IRLS with the WASM passes equals the same loop with the TypeScript passes", () => {
  const cases = [
    { family: "poisson", formula: "c ~ x1 + x2 | g + t", opts: {} },
    { family: "poisson", formula: "c ~ x1 + x2 | g + t", opts: { weights: "w", offset: "o" } },
    { family: "poisson", formula: "c ~ x1 + x2", opts: { vcov: "hetero" } },
    { family: "logit", formula: "b ~ x1 + x2 | g + t", opts: {} },
    { family: "probit", formula: "b ~ x1 + x2 | g", opts: { weights: "w" } },
  ] as const;
  for (const c of cases) {
    it(`${c.family} ${c.formula} ${JSON.stringify(c.opts)}`, () => {
      const data = panel(17);
      const wasm = feglm(eng, data, c.formula, { ...c.opts, family: c.family });
      const ts = feglm(eng, data, c.formula, { ...c.opts, family: c.family, irlsPasses: "ts" });
      expect(wasm.coefNames).toEqual(ts.coefNames);
      expect(wasm.coefNames.length).toBeGreaterThan(1);
      for (const nm of ts.coefNames) {
        near([wasm.coef[nm]], [ts.coef[nm]], COEF_REL, `coef ${nm}`);
        near([wasm.se[nm]], [ts.se[nm]], SE_REL, `se ${nm}`);
      }
      near([wasm.stats.deviance, wasm.stats.loglik], [ts.stats.deviance, ts.stats.loglik], DEV_REL, "deviance, loglik");
      expect(wasm.iterations).toBe(ts.iterations);
      expect(wasm.nobs).toBe(ts.nobs);
    });
  }
});
