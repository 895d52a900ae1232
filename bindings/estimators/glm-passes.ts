// The per-step passes of the GLM IRLS (glm-irls.ts) over buffers in the engine's arena:
// starting values, working values, the new linear predictor, mu and the deviance, step
// halving, the weighted normal equations. Two implementations of one interface:
//   "wasm" (the default): the kernels of assembly/glm.ts;
//   "ts": plain TypeScript over views of the same buffers (bindings/ref/glm.ts and the family
//         definitions of glm-family.ts): the path before the kernels, kept so that
//         bench/glm.bench.ts times both in one run and tests compare them.
// Every argument is an arena pointer (0 for an absent optional input); n-length buffers only.
import type { Engine } from "../engine/wasm.js";
import { check } from "../engine/kernels.js";
import { linkfun, type Family } from "./glm-family.js";
import { glmWorking, glmDeviance, glmEtaStep, glmCrossW } from "../ref/glm.js";

export type IrlsPassKind = "wasm" | "ts";

/** The data of one IRLS in the arena: outcome, offset and prior weights (0 when absent). */
export interface IrlsData {
  n: number;
  family: Family;
  y: number;
  off: number;
  pw: number;
}

export interface IrlsPasses {
  /** starting mu (R's mustart) and eta = link(mu) */
  start(eta: number, mu: number): void;
  deviance(mu: number): number;
  /** mu = linkinv(eta); returns the deviance at mu */
  linkinv(mu: number, eta: number): number;
  /** z, W, r at (eta, mu) and m0 = z - feZ (feZ 0: m0 = z) */
  working(z: number, W: number, r: number, m0: number, eta: number, mu: number, feZ: number): void;
  /** feZ = z - M[:, 0], eta = feZ + M[:, cols + 1] beta + offset (cols: m i32, beta: m f64) */
  eta(eta: number, feZ: number, K: number, m: number, M: number, cols: number, beta: number, z: number): void;
  /** eta = (eta + etaOld) / 2 */
  halve(eta: number, etaOld: number): void;
  /** A = X' W X over M[:, cols + 1] (m x m) and, when zt is not 0, b = X' W zt */
  cross(A: number, b: number, K: number, m: number, M: number, cols: number, W: number, zt: number): void;
}

export function irlsPasses(eng: Engine, kind: IrlsPassKind, d: IrlsData): IrlsPasses {
  return kind === "ts" ? tsPasses(eng, d) : wasmPasses(eng, d);
}

function wasmPasses(eng: Engine, d: IrlsData): IrlsPasses {
  const k = eng.kernels, { n, y, off, pw } = d, fam = d.family.code;
  const out = eng.allocF64(1, "IRLS deviance");
  return {
    start: (eta, mu) => check(k.glmStart(eta, mu, n, fam, y, pw), "glmStart"),
    deviance(mu) {
      check(k.glmDeviance(out, n, fam, y, mu, pw), "glmDeviance");
      return eng.f64(out, 1)[0];
    },
    linkinv(mu, eta) {
      check(k.glmLinkinv(mu, out, n, fam, eta, y, pw), "glmLinkinv");
      return eng.f64(out, 1)[0];
    },
    working: (z, W, r, m0, eta, mu, feZ) => check(k.glmWorking(z, W, r, m0, n, fam, y, eta, mu, off, pw, feZ), "glmWorking"),
    eta: (eta, feZ, K, m, M, cols, beta, z) => check(k.glmEta(eta, feZ, n, K, m, M, cols, beta, z, off), "glmEta"),
    halve: (eta, etaOld) => check(k.glmHalve(eta, n, etaOld), "glmHalve"),
    cross: (A, b, K, m, M, cols, W, zt) => check(k.glmCross(A, b, n, K, m, M, cols, W, zt), "glmCross"),
  };
}

function tsPasses(eng: Engine, d: IrlsData): IrlsPasses {
  const { n, family: f } = d;
  const v = (p: number) => eng.f64(p, n);
  const opt = (p: number) => (p ? eng.f64(p, n) : null);
  return {
    start(etaP, muP) {
      const y = v(d.y), pw = opt(d.pw), eta = v(etaP), mu = v(muP);
      let sw = 0, swy = 0;
      for (let i = 0; i < n; i++) (sw += pw ? pw[i] : 1), (swy += (pw ? pw[i] : 1) * y[i]);
      for (let i = 0; i < n; i++) {
        mu[i] = f.start(y[i], pw ? pw[i] : 1, swy / sw);
        eta[i] = linkfun(f, mu[i]);
      }
    },
    deviance: (mu) => glmDeviance(f.code, v(d.y), v(mu), opt(d.pw)),
    linkinv(muP, etaP) {
      const mu = v(muP), eta = v(etaP);
      if (f.code === 0) for (let i = 0; i < n; i++) mu[i] = Math.max(Math.exp(eta[i]), 2.220446049250313e-16);
      else for (let i = 0; i < n; i++) mu[i] = f.linkinv(eta[i]);
      return glmDeviance(f.code, v(d.y), mu, opt(d.pw));
    },
    working(zP, WP, rP, m0P, eta, mu, feZP) {
      const z = v(zP);
      check(glmWorking(f.code, z, v(WP), v(rP), v(d.y), v(eta), v(mu), opt(d.off), opt(d.pw)), "glmWorking (TypeScript)");
      const m0 = v(m0P), feZ = opt(feZP);
      if (feZ) for (let i = 0; i < n; i++) m0[i] = z[i] - feZ[i];
      else if (m0P !== zP) m0.set(z);
    },
    eta(etaP, feZP, K, m, M, cols, beta, zP) {
      const st = glmEtaStep(v(etaP), v(feZP), K, eng.i32(cols, m), eng.f64(beta, m), eng.f64(M, n * K), v(zP), opt(d.off));
      check(st, "glmEta (TypeScript)");
    },
    halve(etaP, oldP) {
      const eta = v(etaP), old = v(oldP);
      for (let i = 0; i < n; i++) eta[i] = (eta[i] + old[i]) / 2;
    },
    cross(A, b, K, m, M, cols, W, zt) {
      const st = glmCrossW(eng.f64(A, m * m), b ? eng.f64(b, m) : null, K, eng.i32(cols, m), eng.f64(M, n * K), v(W), opt(zt));
      check(st, "glmCross (TypeScript)");
    },
  };
}

