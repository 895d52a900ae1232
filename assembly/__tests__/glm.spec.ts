// The GLM IRLS kernels (assembly/glm.ts) inside the WASM module: status codes and tiny exact
// cases. Their comparison against the plain TypeScript references on random inputs is
// tests/glm-kernels.test.ts (vitest, compiled .wasm).
import { glmDeviance, glmLinkinv, glmEta, glmHalve, glmCross, glmWorking } from "../glm";
import { OK, BAD_ARGUMENT } from "../status";

import { f64s, i32s } from "./arrays";

describe("glm kernels", () => {
  it("Poisson deviance is 0 at mu = y and 2 sum (mu - y) at y = 0", () => {
    const y = f64s([0, 2, 5]);
    const out = new Float64Array(1);
    expect(glmDeviance(out.dataStart, 3, 0, y.dataStart, f64s([0.5, 2, 5]).dataStart, 0)).toBe(OK);
    expect(out[0]).toBe(1.0);
  });
  it("logit linkinv at eta = 0 is 1/2, probit at eta = 0 is 1/2", () => {
    const mu = new Float64Array(1), out = new Float64Array(1);
    const eta = f64s([0]), y = f64s([1]);
    expect(glmLinkinv(mu.dataStart, out.dataStart, 1, 1, eta.dataStart, y.dataStart, 0)).toBe(OK);
    expect(mu[0]).toBe(0.5);
    expect(glmLinkinv(mu.dataStart, out.dataStart, 1, 2, eta.dataStart, y.dataStart, 0)).toBe(OK);
    expect(Math.abs(mu[0] - 0.5)).toBeLessThan(1e-15);
  });
  it("Poisson working values at eta = 0: mu' = 1, W = 1, z = y - 1, m0 = z - feZ", () => {
    const z = new Float64Array(2), w = new Float64Array(2), r = new Float64Array(2), m0 = new Float64Array(2);
    const y = f64s([3, 0]), eta = f64s([0, 0]), mu = f64s([1, 1]), feZ = f64s([0.5, -1]);
    expect(glmWorking(z.dataStart, w.dataStart, r.dataStart, m0.dataStart, 2, 0, y.dataStart, eta.dataStart, mu.dataStart, 0, 0, feZ.dataStart)).toBe(OK);
    expect(z[0]).toBe(2.0);
    expect(z[1]).toBe(-1.0);
    expect(w[0]).toBe(1.0);
    expect(m0[0]).toBe(1.5);
    expect(m0[1]).toBe(0.0);
  });
  it("eta from the kept columns, halving, and X'WX", () => {
    // x (2 rows x 3 columns): z~ = [1, 2], x0 = [1, 1], x1 = [2, 4]; keep x1 only
    const x = f64s([1, 2, 1, 1, 2, 4]);
    const cols = i32s([1]), beta = f64s([0.5]), z = f64s([3, 3]);
    const eta = new Float64Array(2), feZ = new Float64Array(2);
    expect(glmEta(eta.dataStart, feZ.dataStart, 2, 3, 1, x.dataStart, cols.dataStart, beta.dataStart, z.dataStart, 0)).toBe(OK);
    expect(feZ[0]).toBe(2.0);
    expect(eta[1]).toBe(3.0);
    expect(glmHalve(eta.dataStart, 2, f64s([0, 1]).dataStart)).toBe(OK);
    expect(eta[0]).toBe(1.5);
    const A = new Float64Array(1), b = new Float64Array(1);
    expect(glmCross(A.dataStart, b.dataStart, 2, 3, 1, x.dataStart, cols.dataStart, f64s([1, 0.5]).dataStart, x.dataStart)).toBe(OK);
    expect(A[0]).toBe(12.0);
    expect(b[0]).toBe(6.0);
  });
  it("unknown family and columns outside the matrix are BAD_ARGUMENT", () => {
    const x = new Float64Array(4);
    expect(glmDeviance(x.dataStart, 1, 3, x.dataStart, x.dataStart, 0)).toBe(BAD_ARGUMENT);
    expect(glmCross(x.dataStart, x.dataStart, 2, 2, 1, x.dataStart, i32s([1]).dataStart, x.dataStart, 0)).toBe(BAD_ARGUMENT);
  });
});
