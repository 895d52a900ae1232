// IV (2SLS) with Newey-West, Driscoll-Kraay and Conley variances. fixest computes them from
// the second-stage design (the fitted endogenous columns) and the structural residuals, with
// the OLS HAC's K and small-sample factors. No IV HAC model is in the fixest references
// (vcov_fixest.json holds OLS models only, iv_fixest.json clustered / iid / hetero ones), so
// each IV HAC variance is checked against an independent assembly by the OLS HAC code: with v
// the first-stage residuals (feols Export ~ Digitalisation + Fin + Eco | firm + year) and b1 the
// IV coefficient, the OLS regression of y* = FC - b1 v on Export - v, Fin, Eco | firm + year has
// the IV coefficients and, since v is orthogonal to that design, the structural residuals as
// its residuals: its feols HAC variance is the IV HAC variance.
//
// Tolerances (never loosened per case): coefficients 1e-8 relative, SEs and vcov entries 1e-6
// relative (vcov entries relative to sqrt(V_ii V_jj)); K and the t degrees of freedom exact.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols } from "../bindings/estimators/feols.js";
import { iv, ivWithVcov, type IvFit } from "../bindings/estimators/iv.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

const FORMULA = "FC ~ Fin + Eco | firm + year | Export ~ Digitalisation";
const COLS = ["FC", "Fin", "Eco", "Export", "Digitalisation", "firm", "year", "lat", "lon"];
let eng: Engine;
let frame: Frame;

beforeAll(async () => {
  eng = await loadEngine();
  const { table } = await readFile(new URL("cbec_panel_ext.csv", FIX).pathname);
  frame = Frame.fromArrow(table);
});

/** The OLS assembly of the IV variance (see the top of this file) on the IV fit's sample. */
function olsAssembly(fit: IvFit, vcov: string, panelId?: string) {
  const rows = fit.internals.sample.rows;
  const cols: Record<string, Float64Array> = {};
  for (const c of COLS) {
    const v = frame.numeric(c);
    cols[c] = Float64Array.from(rows, (r) => v[r]);
  }
  const sub = Frame.fromColumns(cols);
  const fs = feols(eng, sub, "Export ~ Digitalisation + Fin + Eco | firm + year", { vcov: "iid" });
  expect(fs.nobs).toBe(rows.length);
  const v = fs.internals.residuals;
  const b1 = fit.coef.fit_Export;
  const withCols = Frame.fromColumns({
    ...cols,
    Exhat: cols.Export.map((x, i) => x - v[i]),
    ystar: cols.FC.map((y, i) => y - b1 * v[i]),
  });
  return feols(eng, withCols, "ystar ~ Exhat + Fin + Eco | firm + year", { vcov, panelId });
}

function expectSameVariance(fit: IvFit, ols: ReturnType<typeof feols>) {
  const map: Record<string, string> = { fit_Export: "Exhat", Fin: "Fin", Eco: "Eco" };
  expect(fit.coefNames).toEqual(["fit_Export", "Fin", "Eco"]);
  expect(ols.coefNames).toEqual(["Exhat", "Fin", "Eco"]);
  for (const [a, b] of Object.entries(map)) {
    expect(rel(fit.coef[a], ols.coef[b]), `coef ${a}`).toBeLessThan(COEF_REL);
    expect(rel(fit.se[a], ols.se[b]), `se ${a}`).toBeLessThan(SE_REL);
  }
  const k = 3;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const scale = Math.sqrt(ols.vcovMatrix[i + i * k] * ols.vcovMatrix[j + j * k]);
      expect(Math.abs(fit.vcovMatrix[i + j * k] - ols.vcovMatrix[i + j * k]) / scale).toBeLessThan(SE_REL);
    }
  }
  expect(fit.K).toBe(ols.K);
  expect(fit.df).toBe(ols.df);
  expect(fit.vcovLabel).toBe(ols.vcovLabel);
}

describe("IV with HAC variances equals the OLS HAC assembly on the second stage with structural residuals", () => {
  const cases: [string, string | undefined][] = [
    ["NW(2)", "firm,year"],
    ["nw:1", "firm,year"],
    ["DK(2)", "firm,year"],
    ["conley:500", undefined],
  ];
  for (const [vcov, panelId] of cases) {
    it(`${vcov}${panelId ? ` (panelId ${panelId})` : ""}`, () => {
      const fit = iv(eng, frame, FORMULA, { vcov, panelId });
      expect(fit.vcovLabel).not.toMatch(/cluster/i);
      expectSameVariance(fit, olsAssembly(fit, vcov, panelId));
      // the first stages are reported under the same variance
      expect(fit.iv.firstStages[0].vcovLabel).toBe(fit.vcovLabel);
    });
  }

  it("ivWithVcov from the clustered fit gives the direct HAC fit", () => {
    const direct = iv(eng, frame, FORMULA, { vcov: "NW(2)", panelId: "firm,year" });
    const cl = iv(eng, frame, FORMULA, { panelId: "firm,year" });
    const re = ivWithVcov(eng, cl, "NW(2)");
    for (const c of direct.coefNames) expect(rel(re.se[c], direct.se[c]), c).toBeLessThan(1e-12);
    expect(re.iv.fitstat.ivf1.Export.stat).toBeCloseTo(direct.iv.fitstat.ivf1.Export.stat, 10);
  });

  it("a HAC variance without its time variable is a clear error", () => {
    expect(() => iv(eng, frame, FORMULA, { vcov: "NW(2)" })).toThrow(/time variable/);
  });
});

describe("hdfe feols with an IV formula and --vcov nw / --panel-id", () => {
  it("--json equals the library fit", () => {
    const ROOT = new URL("..", import.meta.url).pathname;
    const data = new URL("cbec_panel_ext.csv", FIX).pathname;
    const r = spawnSync(process.execPath, [join(ROOT, "dist/cli.js"), "feols", "--data", data, "-f", FORMULA, "--vcov", "nw:2", "--panel-id", "firm,year", "--json"], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const fit = iv(eng, frame, FORMULA, { vcov: "nw:2", panelId: "firm,year" });
    for (const c of fit.coefNames) {
      expect(rel(j.coef[c], fit.coef[c]), c).toBeLessThan(COEF_REL);
      expect(rel(j.se[c], fit.se[c]), c).toBeLessThan(SE_REL);
    }
  });
});
