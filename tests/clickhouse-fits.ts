// Comparing an out-of-core fit with the in-memory one (the ClickHouse tests), and the
// reference models' calls as formula + options. Tolerances come from the test files.
import { expect } from "vitest";
import type { Fit, FeolsOptions } from "../bindings/estimators/feols.js";
import { loadRefs, parseCall } from "./reference.js";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** Same coefficients (relative coefTol), SEs (relative seTol), sample and removed rows (exact). */
export function expectSameFit(sql: Fit, mem: Fit, coefTol: number, seTol: number): void {
  expect(sql.coefNames).toEqual(mem.coefNames);
  expect(sql.collinear).toEqual(mem.collinear);
  expect(sql.nobs).toBe(mem.nobs);
  expect(sql.removed).toEqual(mem.removed);
  expect(sql.fixefSizes).toEqual(mem.fixefSizes);
  expect(sql.df).toBe(mem.df);
  for (const nm of mem.coefNames) {
    expect(rel(sql.coef[nm]!, mem.coef[nm]!), `coef ${nm}`).toBeLessThan(coefTol);
    expect(rel(sql.se[nm]!, mem.se[nm]!), `se ${nm}`).toBeLessThan(seTol);
  }
}

/** A model of cbec_panel_fixest.json as formula and feols options. */
export function refCase(id: string): { formula: string; opts: FeolsOptions; nobs: number } {
  const m = loadRefs("cbec_panel_fixest.json").find((x) => x.id === id);
  if (!m) throw new Error(`no reference model ${id}`);
  const p = parseCall(m.call);
  if (!p) throw new Error(`reference model ${id}: call not understood`);
  return { formula: p.formula, opts: p.opts, nobs: m.nobs };
}
