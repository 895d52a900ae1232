// The check a placed read's fit passes (tests/placed.test.ts: DuckDB's placed read,
// tests/csv-wasm.test.ts: the WASM CSV fast path): equal to fixest's reference model within the
// calling file's tolerances, and bit for bit equal to the fit of the same file read the
// ordinary way (coefficients, vcov, removed rows, residuals).
import { expect } from "vitest";
import type { Fit } from "../bindings/estimators/feols.js";

/** A fixest model of the shared references: what the check reads of it. */
export interface RefModel { coef: Record<string, number>; se: Record<string, number>; nobs: number }

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

export function expectPlacedFit(fit: Fit, m: RefModel, ordinary: Fit, tol: { coef: number; se: number }): void {
  expect(fit.nobs).toBe(m.nobs);
  for (const k of Object.keys(m.coef)) {
    expect(rel(fit.coef[k], m.coef[k])).toBeLessThan(tol.coef);
    expect(rel(fit.se[k], m.se[k])).toBeLessThan(tol.se);
  }
  expect(fit.coefVector).toEqual(ordinary.coefVector);
  expect(fit.vcovMatrix).toEqual(ordinary.vcovMatrix);
  expect(fit.removed).toEqual(ordinary.removed);
  expect(fit.internals.residuals).toEqual(ordinary.internals.residuals);
}
