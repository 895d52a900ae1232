// Separation by the regressors removed as ppmlhdfe does (separation "ir", the default:
// bindings/estimators/glm-separation.ts, the iterative rectifier): on constructed panels
// (fixed seeds) where a regressor separates known rows (d > 0 only where y = 0), the fit
// removes exactly those rows, names the regressor, drops it as constant, and equals the same
// GLM fitted on the data with those rows removed by hand (and without the regressor).
//
// Tolerances (never loosened per case): coefficients 1e-8 relative, SEs 1e-6 relative;
// removed counts and rows exact.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feglm, type GlmFit, type GlmOptions } from "../bindings/estimators/glm.js";
import { glmToJson, glmSummary } from "../bindings/report/glm.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { Rng } from "../bindings/base/rng.js";
import { NonConvergenceError, OptionError } from "../bindings/base/errors.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

/**
 * 80 firms x 8 years; y Poisson (or 0 / 1 by a logit draw when `binary`); d = 1 on about 12% of
 * rows, where y is set to 0 (d = 1 implies y = 0); c = d times a positive number (a continuous
 * separating regressor); e = 1 on about 5% of other rows, where y is set to 1 (binary: e = 1
 * implies y = 1).
 */
function panel(seed: number, binary = false) {
  const rng = new Rng(seed);
  const n = 640;
  const cols = { firm: new Float64Array(n), year: new Float64Array(n), x1: new Float64Array(n), d: new Float64Array(n), c: new Float64Array(n), e: new Float64Array(n), y: new Float64Array(n) };
  const a = Array.from({ length: 80 }, () => 0.5 * rng.normal());
  for (let i = 0; i < n; i++) {
    const g = Math.floor(i / 8), t = i % 8;
    cols.firm[i] = g;
    cols.year[i] = t;
    cols.x1[i] = rng.normal();
    const eta = 0.2 + a[g] + 0.05 * t + 0.4 * cols.x1[i];
    cols.y[i] = binary ? (rng.uniform() < 1 / (1 + Math.exp(-eta)) ? 1 : 0) : rng.poisson(Math.exp(eta));
    if (rng.uniform() < 0.12) {
      cols.d[i] = 1;
      cols.c[i] = 0.5 + rng.uniform();
      cols.y[i] = 0;
    } else if (binary && rng.uniform() < 0.05) {
      cols.e[i] = 1;
      cols.y[i] = 1;
    }
  }
  return cols;
}

function without(cols: Record<string, Float64Array>, drop: (i: number) => boolean): Record<string, Float64Array> {
  const idx = Array.from(cols.y.keys()).filter((i) => !drop(i));
  return Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, Float64Array.from(idx, (i) => v[i])]));
}

function expectSameFit(a: GlmFit, b: GlmFit, names: string[]) {
  expect(a.nobs).toBe(b.nobs);
  for (const k of names) {
    expect(rel(a.coef[k], b.coef[k]), `coef ${k}`).toBeLessThan(COEF_REL);
    expect(rel(a.se[k], b.se[k]), `se ${k}`).toBeLessThan(SE_REL);
  }
}

/** rows removed by the FE rule on the full data (firms whose outcome is always 0 / 1) */
function feRemoved(fit: GlmFit): Set<number> {
  return new Set(fit.glmRemoved.rows);
}

describe("Poisson: rows separated by a regressor are removed (iterative rectifier)", () => {
  for (const seed of [1, 2]) {
    it(`firm + year FE, a dummy d (d = 1 implies y = 0), seed ${seed}`, () => {
      const p = panel(seed);
      const fit = feglm(eng, Frame.fromColumns(p), "y ~ x1 + d | firm + year", { family: "poisson" });
      const feOnly = feglm(eng, Frame.fromColumns(p), "y ~ x1 | firm + year", { family: "poisson", separation: "fe" });
      const feRows = feRemoved(feOnly);
      const expected = Array.from(p.y.keys()).filter((i) => p.d[i] === 1 && !feRows.has(i));
      expect(expected.length).toBeGreaterThan(30);
      expect(fit.glmRemoved.separated).toBe(expected.length);
      expect(fit.glmRemoved.separatedBy).toEqual(["d"]);
      expect(fit.glmRemoved.constantAfterSeparation).toEqual(["d"]);
      expect(fit.collinear).toEqual(["d"]);
      expect(fit.glmRemoved.rows).toEqual([...feRows, ...expected].sort((a, b) => a - b));
      expect(fit.nobs + fit.glmRemoved.rows.length).toBe(p.y.length);
      const byHand = feglm(eng, Frame.fromColumns(without(p, (i) => p.d[i] === 1)), "y ~ x1 | firm + year", { family: "poisson" });
      expect(byHand.glmRemoved.separated).toBe(0);
      expectSameFit(fit, byHand, ["x1"]);
    });
  }

  it("a continuous separating regressor (c > 0 only where y = 0), no FE: the intercept model", () => {
    const p = panel(3);
    const fit = feglm(eng, Frame.fromColumns(p), "y ~ x1 + c", { family: "poisson", vcov: "hetero" });
    const expected = Array.from(p.y.keys()).filter((i) => p.c[i] > 0);
    expect(fit.glmRemoved.separated).toBe(expected.length);
    expect(fit.glmRemoved.rows).toEqual(expected);
    expect(fit.glmRemoved.separatedBy).toEqual(["c"]);
    const byHand = feglm(eng, Frame.fromColumns(without(p, (i) => p.c[i] > 0)), "y ~ x1", { family: "poisson", vcov: "hetero" });
    expectSameFit(fit, byHand, ["(Intercept)", "x1"]);
  });

  it('separation "fe" keeps the rows, as fixest: the IRLS cannot converge and names them', () => {
    const p = panel(1);
    let err: unknown;
    try {
      feglm(eng, Frame.fromColumns(p), "y ~ x1 + d | firm + year", { family: "poisson", separation: "fe" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonConvergenceError);
    expect((err as Error).message).toContain("separation by the regressors");
  });

  it("an unseparated model is unchanged and the report counts nothing", () => {
    const p = panel(4);
    const ir = feglm(eng, Frame.fromColumns(p), "y ~ x1 | firm + year", { family: "poisson" });
    const fe = feglm(eng, Frame.fromColumns(p), "y ~ x1 | firm + year", { family: "poisson", separation: "fe" });
    expect(ir.glmRemoved.separated).toBe(0);
    expect(ir.coef.x1).toBe(fe.coef.x1);
    expect(glmToJson(ir).removed.separated).toBe(0);
    expect(glmSummary(ir)).not.toContain("separated");
  });

  it("the summary and the JSON count the removed rows with the reason", () => {
    const p = panel(1);
    const fit = feglm(eng, Frame.fromColumns(p), "y ~ x1 + d | firm + year", { family: "poisson" });
    const j = glmToJson(fit);
    expect(j.removed.separated).toBe(fit.glmRemoved.separated);
    expect(j.removed.separated_by).toEqual(["d"]);
    expect(j.removed.separation).toBe("ir");
    expect(j.nobs_origin).toBe(p.y.length);
    expect(glmSummary(fit)).toContain(`${fit.glmRemoved.separated} separated by regressors: d`);
  });

  it("a bad separation value is an OptionError", () => {
    const p = panel(1);
    expect(() => feglm(eng, Frame.fromColumns(p), "y ~ x1 | firm", { family: "poisson", separation: "simplex" as GlmOptions["separation"] })).toThrow(OptionError);
  });
});

describe("logit: one side of the outcome on the separating hyperplane", () => {
  it("d = 1 implies y = 0 and e = 1 implies y = 1: both sets removed, the fit equals the fit without them", () => {
    const p = panel(5, true);
    const fit = feglm(eng, Frame.fromColumns(p), "y ~ x1 + d + e | firm", { family: "logit" });
    const feOnly = feglm(eng, Frame.fromColumns(p), "y ~ x1 | firm", { family: "logit", separation: "fe" });
    const sep = (i: number) => p.d[i] === 1 || p.e[i] === 1;
    const kept = Array.from(p.y.keys()).filter((i) => !sep(i));
    const byHand = feglm(eng, Frame.fromColumns(without(p, sep)), "y ~ x1 | firm", { family: "logit" });
    // removing the separated rows can leave firms whose outcome is then always 0 or 1: the FE rule removes them
    const expected = new Set([...feRemoved(feOnly), ...Array.from(p.y.keys()).filter(sep), ...byHand.glmRemoved.rows.map((r) => kept[r])]);
    expect(fit.glmRemoved.rows).toEqual([...expected].sort((a, b) => a - b));
    expect(fit.glmRemoved.separated).toBeGreaterThan(40);
    expect(fit.glmRemoved.separated).toBeLessThanOrEqual(Array.from(p.y.keys()).filter(sep).length);
    expect([...fit.glmRemoved.separatedBy].sort()).toEqual(["d", "e"]);
    expect(byHand.glmRemoved.separated).toBe(0);
    expectSameFit(fit, byHand, ["x1"]);
  });
});

describe("hdfe fepois --separation", () => {
  const ROOT = new URL("..", import.meta.url).pathname;
  it("--json counts the separated rows; --separation fe keeps them (exit 7: not converged)", () => {
    const p = panel(1);
    const dir = mkdtempSync(join(tmpdir(), "hdfe-sep-"));
    const file = join(dir, "sep.csv");
    const names = Object.keys(p) as (keyof typeof p)[];
    writeFileSync(file, [names.join(","), ...Array.from(p.y.keys(), (i) => names.map((k) => p[k][i]).join(","))].join("\n") + "\n");
    const run = (...a: string[]) => spawnSync(process.execPath, [join(ROOT, "dist/cli.js"), "fepois", "--data", file, "-f", "y ~ x1 + d | firm + year", ...a], { encoding: "utf8", timeout: 120_000 });
    const lib = feglm(eng, Frame.fromColumns(p), "y ~ x1 + d | firm + year", { family: "poisson" });
    const r = run("--json");
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.removed.separated).toBe(lib.glmRemoved.separated);
    expect(rel(j.coef.x1, lib.coef.x1)).toBeLessThan(COEF_REL);
    const fe = run("--separation", "fe");
    expect(fe.status).toBe(7);
    const bad = run("--separation", "bogus");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--separation must be one of ir, fe, none/);
  });
});
