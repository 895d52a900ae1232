// fepois / feglm against R fixest: every model of tests/fixtures/reference/glm_fixest.json
// (copied from ../shared/reference: 28 Poisson, logit and probit models on
// cbec_panel_ext.csv, converged fits; see the README there), number by number.
//
// Tolerances (never loosened per model):
//   coefficients                   1e-8 relative
//   standard errors, vcov entries  1e-6 relative (vcov entries: relative to sqrt(V_ii V_jj))
//   z statistics 1e-6 relative; p-values 1e-6 absolute (and 1e-6 relative when below 1e-6)
//   deviance, log-likelihoods, AIC, BIC, SSR, RMSE    1e-8 relative
//   pr2, apr2, squared correlation                    1e-8 absolute
//   wpr2, wapr2                                       1e-5 absolute: fixest measures them against
//     an FE-only fit it stops early (glm.tol 1e-2, fixef.tol 1e-3); hdfe repeats that fit,
//     which gives fixest's numbers to 1e-12 with one FE (exact projections) and to ~1e-10
//     with two, but with three FE its projections stop elsewhere than fixest's at 1e-3
//     (pois_3fe_cl_firm: 7e-6). stats.wpr2Converged is the within pseudo R2 against the
//     converged FE-only model.
//   nobs, removed counts, removed FE levels and rows, FE sizes: exact
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feglm, withVcovGlm, type GlmOptions } from "../bindings/estimators/glm.js";
import { glmToJson, glmSummary } from "../bindings/report/glm.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { Rng } from "../bindings/base/rng.js";
import { refFepois, glmWorking, muEtaOf } from "../bindings/ref/glm.js";
import { FAMILIES } from "../bindings/estimators/glm-family.js";
import { SampleError, ColumnError, NonConvergenceError } from "../bindings/base/errors.js";
import { FIX } from "./reference.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const P_ABS = 1e-6;
const STAT_REL = 1e-8;
const R2_ABS = 1e-8;
const WPR2_ABS = 1e-5;

interface GlmRef {
  id: string;
  formula: string;
  method: string;
  family: "poisson" | "logit" | "probit";
  vcov: string;
  ssc: string;
  rm: string;
  weights: string | null;
  offset: string | null;
  nobs: number;
  coef: Record<string, number>;
  se: Record<string, number>;
  t: Record<string, number>;
  p: Record<string, number>;
  vcov_matrix: number[][];
  fixef_sizes: Record<string, number> | null;
  fixef_removed: Record<string, number> | null;
  fixef_removed_levels: Record<string, string[]> | null;
  obs_removed: number;
  na_removed: number;
  fixef_obs_removed: number;
  obs_removed_rows: number[] | null;
  nparams: number;
  deviance: number;
  loglik: number;
  ll_null: number;
  pr2: number;
  apr2: number;
  wpr2: number | null;
  wapr2: number | null;
  sq_cor: number;
  aic: number;
  bic: number;
  ssr: number;
  rmse: number;
  stat: string;
}

const refs: GlmRef[] = JSON.parse(readFileSync(new URL("glm_fixest.json", FIX), "utf8"));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

let eng: Engine;
let frame: Frame;

beforeAll(async () => {
  eng = await loadEngine();
  frame = Frame.fromArrow((await readFile(new URL("cbec_panel_ext.csv", FIX).pathname)).table);
});

export function optionsOf(m: GlmRef): GlmOptions {
  return {
    family: m.family,
    vcov: m.vcov,
    ssc: m.ssc,
    fixefRm: m.rm as GlmOptions["fixefRm"],
    weights: m.weights ?? undefined,
    offset: m.offset ?? undefined,
    fixefAlgo: "auto",
  };
}

describe("glm_fixest.json: every model", () => {
  it("has the 28 models", () => expect(refs.length).toBe(28));
  for (const m of refs) {
    it(`${m.id}: ${m.method} ${m.family} ${m.formula} (${m.vcov}, ssc ${m.ssc}, rm ${m.rm}${m.weights ? ", weights" : ""}${m.offset ? ", offset" : ""})`, () => {
      const fit = feglm(eng, frame, m.formula, optionsOf(m));
      expect(fit.converged).toBe(true);
      expect(fit.nobs).toBe(m.nobs);
      expect(fit.coefNames).toEqual(Object.keys(m.coef));
      const k = fit.coefNames.length;
      fit.coefNames.forEach((nm, a) => {
        expect(rel(fit.coef[nm], m.coef[nm]), `coef ${nm}`).toBeLessThan(COEF_REL);
        expect(rel(fit.se[nm], m.se[nm]), `se ${nm}`).toBeLessThan(SE_REL);
        expect(rel(fit.zstat[nm], m.t[nm]), `z ${nm}`).toBeLessThan(SE_REL);
        const p = fit.pvalue[nm], pr = m.p[nm];
        expect(Math.abs(p - pr) < P_ABS && (pr > 1e-6 || rel(p, pr) < 1e-6 || pr < 1e-300), `p ${nm}: ${p} vs ${pr}`).toBe(true);
        for (let b = 0; b < k; b++) {
          const scale = Math.sqrt(m.vcov_matrix[a][a] * m.vcov_matrix[b][b]);
          expect(Math.abs(fit.vcovMatrix[a + b * k] - m.vcov_matrix[a][b]) / scale, `V[${a},${b}]`).toBeLessThan(SE_REL);
        }
      });
      expect(m.stat).toBe("z value");
      // removal: counts, levels, rows
      expect(fit.nobsOrigin - fit.nobs).toBe(m.obs_removed);
      expect(fit.removed.na).toBe(m.na_removed);
      expect(fit.glmRemoved.rows.length).toBe(m.fixef_obs_removed);
      if (m.fixef_removed) {
        expect(fit.glmRemoved.levels).toEqual(m.fixef_removed);
        for (const [fe, lv] of Object.entries(m.fixef_removed_levels ?? {})) {
          expect([...fit.glmRemoved.levelLabels[fe]].sort()).toEqual([...lv].sort());
        }
      }
      expect(Array.from(fit.removedRows, (r) => r + 1)).toEqual(m.obs_removed_rows ?? []);
      expect(fit.fixefSizes).toEqual(m.fixef_sizes ?? {});
      expect(fit.nparams).toBe(m.nparams);
      // fit statistics
      const s = fit.stats;
      for (const [ours, theirs, what] of [
        [s.deviance, m.deviance, "deviance"], [s.loglik, m.loglik, "loglik"], [s.llNull, m.ll_null, "ll_null"],
        [s.aic, m.aic, "aic"], [s.bic, m.bic, "bic"], [s.ssr, m.ssr, "ssr"], [s.rmse, m.rmse, "rmse"],
      ] as const) expect(rel(ours, theirs), what).toBeLessThan(STAT_REL);
      for (const [ours, theirs, what] of [
        [s.pr2, m.pr2, "pr2"], [s.apr2, m.apr2, "apr2"], [s.sqCor, m.sq_cor, "sq_cor"],
      ] as const) expect(Math.abs(ours - theirs), what).toBeLessThan(R2_ABS);
      if (m.wpr2 === null) expect(s.wpr2).toBeNull();
      else {
        expect(Math.abs(s.wpr2! - m.wpr2), "wpr2").toBeLessThan(WPR2_ABS);
        expect(Math.abs(s.wapr2! - m.wapr2!), "wapr2").toBeLessThan(WPR2_ABS);
      }
      // the achieved criteria are reported and below the tolerances
      expect(fit.criterion.coef).toBeLessThan(1e-10);
      expect(fit.criterion.deviance).toBeLessThan(1e-10);
    });
  }
});

const refById = (id: string) => refs.find((m) => m.id === id)!;

function expectMatches(fit: ReturnType<typeof feglm>, m: GlmRef) {
  for (const nm of fit.coefNames) {
    expect(rel(fit.coef[nm], m.coef[nm]), `coef ${nm}`).toBeLessThan(COEF_REL);
    expect(rel(fit.se[nm], m.se[nm]), `se ${nm}`).toBeLessThan(SE_REL);
  }
}

describe("withVcovGlm: another variance without a refit", () => {
  it("from the firm-clustered Poisson fit to iid, hetero, city and firm + year clusters, ssc none", () => {
    const base = feglm(eng, frame, "Digitalisation ~ did + Fin + Eco | firm + year", { family: "poisson", keepColumns: ["city"] });
    expectMatches(base, refById("pois_2fe_cl_firm"));
    for (const [vcov, ssc, id] of [["iid", "fixest", "pois_2fe_iid"], ["hetero", "fixest", "pois_2fe_hetero"], ["cluster:city", "fixest", "pois_2fe_cl_city"],
      ["cluster:firm+year", "fixest", "pois_2fe_cl_firm_year"], ["cluster:firm", "none", "pois_2fe_ssc_none"]] as const) {
      const v = withVcovGlm(eng, base, vcov, ssc);
      expectMatches(v, refById(id));
      expect(v.coefVector).toBe(base.coefVector); // the same coefficients, not refitted
    }
  });
});

describe("renderers", () => {
  it("glmToJson carries the GLM fields; glmSummary prints z values and the removal", () => {
    const fit = feglm(eng, frame, "patents ~ did + Fin + Eco | firm + year", { family: "poisson" });
    const j = glmToJson(fit);
    const m = refById("pois_patents_2fe_cl_firm");
    for (const k of ["coef", "se", "z", "p", "ci", "nobs", "removed", "deviance", "loglik", "ll_null", "pr2", "apr2", "wpr2", "wapr2", "sq_cor", "aic", "bic", "iterations", "criterion", "vcov_matrix"]) expect(j).toHaveProperty(k);
    expect(j.removed.fixef_levels).toEqual(m.fixef_removed);
    expect(j.removed.rows).toEqual(m.obs_removed_rows);
    expect(JSON.parse(JSON.stringify(j)).coef).toEqual(j.coef);
    const txt = glmSummary(fit);
    expect(txt).toMatch(/^Poisson estimation, Dep\. Var\.: patents/);
    expect(txt).toContain("z value");
    expect(txt).toContain("3532 in fixed-effect levels with only 0 outcomes (levels firm: 496, year: 0)");
  });
});

describe("bad input", () => {
  const small = () => Frame.fromColumns({ y: [1, 0, 2, -1, 3, 0], x: [0.1, 0.5, 0.2, 0.9, 0.4, 0.3], g: [1, 1, 2, 2, 3, 3], b: [0, 1, 1, 0, 1.5, 0] });
  it("a negative Poisson outcome is an error naming the column", () => {
    expect(() => feglm(eng, small(), "y ~ x | g", { family: "poisson" })).toThrow(SampleError);
    expect(() => feglm(eng, small(), "y ~ x | g", { family: "poisson" })).toThrow(/outcome "y" has negative values/);
  });
  it("a binomial outcome outside [0, 1] is an error naming the column", () => {
    expect(() => feglm(eng, small(), "b ~ x", { family: "logit" })).toThrow(/outcome "b" has values outside \[0, 1\]/);
  });
  it("an IV formula and a HAC vcov are refused with an OptionError naming them", () => {
    expect(() => feglm(eng, frame, "patents ~ Fin | firm | did ~ Eco", { family: "poisson" })).toThrow(/instrumental variables/);
    expect(() => feglm(eng, frame, "patents ~ did | firm", { family: "poisson", vcov: "nw:2" })).toThrow(/vcov "nw" is not available for fepois/);
  });
  it("an unknown column is a ColumnError", () => {
    expect(() => feglm(eng, frame, "patents ~ nosuch | firm", { family: "poisson" })).toThrow(ColumnError);
  });
  it("non-convergence is a NonConvergenceError with the achieved criteria", () => {
    let err: unknown;
    try {
      feglm(eng, frame, "FC_hi ~ did + Fin + Eco | firm + year", { family: "probit", glmIter: 3 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonConvergenceError);
    const d = (err as NonConvergenceError).details!;
    expect(d.iterations).toBe(3);
    expect(d.coefCriterion as number).toBeGreaterThan(1e-10);
    expect((err as Error).message).toMatch(/relative deviance change .* largest relative coefficient change/);
  });
});

/** A small Poisson panel (fixed seed): 60 units x 6 periods, two regressors. */
function poissonPanel(seed: number) {
  const rng = new Rng(seed);
  const n = 360;
  const g = new Float64Array(n), t = new Float64Array(n), x1 = new Float64Array(n), x2 = new Float64Array(n), y = new Float64Array(n);
  const a = Array.from({ length: 60 }, () => 0.5 * rng.normal());
  for (let i = 0; i < n; i++) {
    g[i] = Math.floor(i / 6);
    t[i] = i % 6;
    x1[i] = rng.normal();
    x2[i] = rng.uniform();
    y[i] = rng.poisson(Math.exp(0.3 + a[g[i]] + 0.1 * t[i] + 0.4 * x1[i] - 0.5 * x2[i]));
  }
  return { g, t, x1, x2, y };
}

describe("the engine's IRLS against the plain TypeScript IRLS (bindings/ref/glm.ts)", () => {
  it("fepois on small random panels (fixed seeds) gives the reference coefficients", () => {
    for (const seed of [1, 2, 3]) {
      const p = poissonPanel(seed);
      const fit = feglm(eng, Frame.fromColumns(p), "y ~ x1 + x2 | g + t", { family: "poisson", fixefRm: "none" });
      const codes = (v: Float64Array) => Int32Array.from(v);
      const ref = refFepois(p.y, [p.x1, p.x2], [{ codes: codes(p.g), levels: 60, type: 0 }, { codes: codes(p.t), levels: 6, type: 0 }], 1e-14, 200, 1e-14);
      expect(rel(fit.coef.x1, ref.beta[0])).toBeLessThan(COEF_REL);
      expect(rel(fit.coef.x2, ref.beta[1])).toBeLessThan(COEF_REL);
      expect(rel(fit.stats.deviance, ref.deviance)).toBeLessThan(STAT_REL);
    }
  });
  it("glmWorking: z, W and r from the family definitions on random inputs (fixed seed)", () => {
    const rng = new Rng(7);
    for (const [code, fam] of [[0, FAMILIES.poisson], [1, FAMILIES.logit], [2, FAMILIES.probit]] as const) {
      const n = 50;
      const eta = Float64Array.from({ length: n }, () => 2 * rng.normal());
      const mu = eta.map((e) => fam.linkinv(e));
      const y = Float64Array.from(mu, (m) => (code === 0 ? rng.poisson(m) : rng.uniform() < m ? 1 : 0));
      const off = Float64Array.from({ length: n }, () => rng.normal());
      const pw = Float64Array.from({ length: n }, () => 0.5 + rng.uniform());
      const z = new Float64Array(n), W = new Float64Array(n), r = new Float64Array(n);
      expect(glmWorking(code, z, W, r, y, eta, mu, off, pw)).toBe(0);
      for (let i = 0; i < n; i++) {
        const d = fam.muEta(eta[i]);
        expect(muEtaOf(code, eta[i])).toBe(d);
        expect(Math.abs(r[i] - (y[i] - mu[i]) / d)).toBeLessThan(1e-12 * (1 + Math.abs(r[i])));
        expect(Math.abs(z[i] - (eta[i] - off[i] + r[i]))).toBeLessThan(1e-12 * (1 + Math.abs(z[i])));
        expect(rel(W[i], (pw[i] * d * d) / fam.variance(mu[i]))).toBeLessThan(1e-12);
      }
      expect(glmWorking(code, z.subarray(1), W, r, y, eta, mu, off, pw)).toBe(3);
    }
  });
});

describe("separation by the regressors", () => {
  it("rows that a regressor separates are named (which rows, why) when the IRLS cannot converge", () => {
    const p = poissonPanel(11);
    const n = p.y.length;
    // s = 1 on five rows with y = 0 and 0 elsewhere: the coefficient of s goes to -Infinity
    const zeros = Array.from(p.y.keys()).filter((i) => p.y[i] === 0).slice(0, 5);
    const s = new Float64Array(n);
    for (const i of zeros) s[i] = 1;
    let err: unknown;
    try {
      feglm(eng, Frame.fromColumns({ ...p, s }), "y ~ x1 + s | g + t", { family: "poisson", fixefRm: "none", separation: "fe" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonConvergenceError);
    const msg = (err as Error).message;
    expect(msg).toContain("separation by the regressors");
    expect(msg).toContain(`data rows ${zeros.map((i) => i + 1).join(", ")}`);
  });
});
