// Distribution functions (bindings/stats.ts), now on rng.ts's engine-independent dlog / dexp:
// known values of R's pt / qt / pnorm and closed forms of t(3), F(2, d) and chi-square(1), and lgamma on (0, 0.5) through the
// recurrence against the reflection formula. Tolerance: 1e-9 relative on the R values (quoted
// to 10 significant digits) and the closed forms, 1e-13 relative between the two lgamma formulas.
import { describe, it, expect } from "vitest";
import { lgamma, pt, pval2, qt, pnorm, pchisq, pf } from "../bindings/base/stats.js";

const R_REL = 1e-9;
const FORMULA_REL = 1e-13;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("distribution functions", () => {
  it("match R to the digits quoted", () => {
    // R: 2 * pt(-2, 10); qt(0.975, 10); qt(0.95, 30); pnorm(-1.96)
    expect(rel(pval2(2, 10), 0.07338803477)).toBeLessThan(R_REL);
    expect(rel(qt(0.975, 10), 2.228138852)).toBeLessThan(R_REL);
    expect(rel(qt(0.95, 30), 1.697260887)).toBeLessThan(R_REL);
    expect(rel(pnorm(-1.96), 0.02499789515)).toBeLessThan(R_REL);
    // closed forms: t with 3 df; F with 2 numerator df; chi-square with 1 df = |N(0,1)|^2
    for (const t of [-3, -0.4, 0.7, 1.5, 6]) {
      const u = t / Math.sqrt(3);
      expect(rel(pt(t, 3), 0.5 + (u / (1 + u * u) + Math.atan(u)) / Math.PI)).toBeLessThan(R_REL);
    }
    for (const [f, d2] of [[4, 20], [0.3, 7], [12, 3]]) expect(rel(pf(f, 2, d2), 1 - (1 + (2 * f) / d2) ** (-d2 / 2))).toBeLessThan(R_REL);
    for (const x of [0.5, 3.84, 10]) expect(rel(pchisq(x, 1), 1 - 2 * pnorm(-Math.sqrt(x)))).toBeLessThan(R_REL);
  });

  it("lgamma on (0, 0.5) by the recurrence equals the reflection formula", () => {
    for (let i = 1; i < 50; i++) {
      const x = i / 100;
      const reflection = Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
      expect(rel(lgamma(x), reflection)).toBeLessThan(FORMULA_REL);
    }
    expect(rel(lgamma(0.5), Math.log(Math.sqrt(Math.PI)))).toBeLessThan(FORMULA_REL);
  });
});
