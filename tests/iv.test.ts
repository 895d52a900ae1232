// IV (2SLS) with fixed effects against R fixest: every model of
// tests/fixtures/reference/iv_fixest.json (19, copied from ../shared/reference, estimated on
// cbec_panel_ext.csv, whose rows and original columns are those of cbec_panel.csv), plus the
// IV formula's errors, withVcov without a refit, and the WASM path against the plain-TypeScript
// 2SLS of bindings/ref/iv-ts.ts on small random panels (fixed seed).
//
// Tolerances (stated once, never loosened per model):
//   coefficients (second and first stages)     1e-8 relative
//   standard errors, vcov (both stages)        1e-6 relative (vcov entries: relative to sqrt(V_ii V_jj))
//   fit statistics (ivf1, ivwald1, ivf2, ivwald2, Wu-Hausman, Sargan, Cragg-Donald) 1e-6 relative;
//     their degrees of freedom exact; their p-values 1e-6 absolute (as tests/fixest.test.ts)
//   r2, within r2 1e-8 absolute; rmse, ssr 1e-8 relative
//   nobs, removed rows (NA, singletons) exact
//
// Conventions (README of the reference): ivf1's df2 is the first stage's ssc residual df, so it
// changes with the vcov; with weights the reference `ssr` is unweighted and `ssr_weighted` is
// fixest's x$ssr (what fit.ssr reports). Sargan with weights: fixest 0.12.1 divides a weighted
// SSR by an unweighted total sum of squares (`fitstat_fixest_bug`, negative here); hdfe weights
// both (iv-stats.ts). The test checks that fixest's wrong number is reproduced from the fit by
// fixest's formula (so the difference is exactly that bug), and the weighted statistic against
// the plain-TypeScript reference.
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { iv, ivWithVcov, type IvFit } from "../bindings/estimators/iv.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";
import { readFileSync } from "node:fs";
import { Rng } from "../bindings/base/rng.js";
import { ivTs } from "../bindings/ref/iv-ts.js";
import { parseIvFormula, isIvFormula } from "../bindings/core/iv-formula.js";
import { ColumnError, FormulaSyntaxError, SampleError } from "../bindings/base/errors.js";
import { FC_SEED } from "./setup.js";
import { formulaOf, vcovOf } from "../web/src/spec.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const STAT_REL = 1e-6;
const P_ABS = 1e-6;
const R2_ABS = 1e-8;
const SS_REL = 1e-8;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

interface FTestRef { stat: number; p: number; df1: number; df2: number }
interface IvRef {
  id: string;
  formula: string;
  vcov: string;
  ssc: string;
  rm: string;
  weights: string | null;
  nobs: number;
  obs_removed: number;
  na_removed: number;
  fixef_obs_removed: number;
  coef: Record<string, number>;
  se: Record<string, number>;
  r2: number;
  wr2: number | null;
  rmse: number;
  ssr: number;
  ssr_weighted: number | null;
  vcov_matrix: number[][];
  t_df: number;
  fitstat: Record<string, FTestRef | number | { stat: number; p: number; df: number }>;
  fitstat_fixest_bug?: { sargan: { stat: number; p: number; df: number } };
  iv: {
    endo: string | string[];
    inst: string | string[];
    second_stage_names: string[];
    first_stage: { endo: string; nobs: number; coef: Record<string, number>; se: Record<string, number>; vcov_matrix: number[][]; ivf1: FTestRef; ivwald1: FTestRef; r2: number; wr2: number }[];
  };
}

const REFS: IvRef[] = JSON.parse(readFileSync(new URL("iv_fixest.json", FIX), "utf8"));

let eng: Engine;
let frame: Frame;

beforeAll(async () => {
  eng = await loadEngine();
  const { table } = await readFile(new URL("cbec_panel_ext.csv", FIX).pathname);
  frame = Frame.fromArrow(table);
});

function fitOf(m: IvRef): IvFit {
  return iv(eng, frame, m.formula, {
    vcov: m.vcov, ssc: m.ssc === "fixest" ? undefined : m.ssc, weights: m.weights ?? undefined,
    fixefRm: m.rm === "singleton" ? "singleton" : "none", fixefTol: 1e-12, strictConvergence: true,
  });
}

function expectMatrix(V: Float64Array, ref: number[][], names: string[], refNames: string[]): void {
  const k = names.length;
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      const ra = refNames.indexOf(names[a]);
      const rb = refNames.indexOf(names[b]);
      const scale = Math.sqrt(ref[ra][ra] * ref[rb][rb]);
      expect(Math.abs(V[a + b * k] - ref[ra][rb]) / scale).toBeLessThan(SE_REL);
    }
}

function expectF(got: { stat: number; p: number; df1: number; df2: number }, ref: FTestRef): void {
  expect(rel(got.stat, ref.stat)).toBeLessThan(STAT_REL);
  expect(Math.abs(got.p - ref.p)).toBeLessThan(P_ABS);
  expect(got.df1).toBe(ref.df1);
  expect(got.df2).toBe(ref.df2);
}

describe("IV against R fixest (iv_fixest.json)", () => {
  it("has the 19 models", () => expect(REFS.length).toBe(19));
  for (const m of REFS) {
    it(m.id, () => {
      const fit = fitOf(m);
      // sample
      expect(fit.nobs).toBe(m.nobs);
      expect(fit.removed.na).toBe(m.na_removed);
      expect(fit.removed.singletons).toBe(m.fixef_obs_removed);
      expect(fit.nobsOrigin - fit.nobs).toBe(m.obs_removed);
      // second stage
      expect(fit.coefNames).toEqual(m.iv.second_stage_names);
      for (const nm of fit.coefNames) {
        expect(rel(fit.coef[nm], m.coef[nm])).toBeLessThan(COEF_REL);
        expect(rel(fit.se[nm], m.se[nm])).toBeLessThan(SE_REL);
      }
      expectMatrix(fit.vcovMatrix, m.vcov_matrix, fit.coefNames, m.iv.second_stage_names);
      expect(fit.df).toBe(m.t_df);
      expect(Math.abs(fit.r2 - m.r2)).toBeLessThan(R2_ABS);
      if (m.wr2 !== null) expect(Math.abs(fit.withinR2! - m.wr2)).toBeLessThan(R2_ABS);
      expect(rel(fit.rmse, m.rmse)).toBeLessThan(SS_REL);
      expect(rel(fit.ssr, m.ssr_weighted ?? m.ssr)).toBeLessThan(SS_REL);
      // first stages
      const fsRef = m.iv.first_stage;
      expect(fit.iv.firstStages.map((f) => f.endo)).toEqual(fsRef.map((f) => f.endo));
      fit.iv.firstStages.forEach((fs, j) => {
        const r = fsRef[j];
        expect(fs.nobs).toBe(r.nobs);
        const refNames = Object.keys(r.coef);
        expect([...fs.coefNames].sort()).toEqual([...refNames].sort());
        for (const nm of fs.coefNames) {
          expect(rel(fs.coef[nm], r.coef[nm])).toBeLessThan(COEF_REL);
          expect(rel(fs.se[nm], r.se[nm])).toBeLessThan(SE_REL);
        }
        expectMatrix(fs.vcovMatrix, r.vcov_matrix, fs.coefNames, refNames);
        expect(Math.abs(fs.r2 - r.r2)).toBeLessThan(R2_ABS);
        if (fs.withinR2 !== null) expect(Math.abs(fs.withinR2 - r.wr2)).toBeLessThan(R2_ABS);
        expectF(fs.ivf1, r.ivf1);
        expectF(fs.ivwald1, r.ivwald1);
      });
      // fit statistics as fitstat names them
      const st = fit.iv.fitstat;
      for (const endo of fit.iv.endo) {
        expectF(st.ivf1[endo], m.fitstat[`ivf1::${endo}`] as FTestRef);
        expectF(st.ivwald1[endo], m.fitstat[`ivwald1::${endo}`] as FTestRef);
      }
      expectF(st.ivf2, m.fitstat.ivf2 as FTestRef);
      expectF(st.ivwald2, m.fitstat.ivwald2 as FTestRef);
      expectF(st.wh, m.fitstat.wh as FTestRef);
      expect(rel(st.cd, m.fitstat.cd as number)).toBeLessThan(STAT_REL);
      const sarganRef = (m.fitstat.sargan ?? m.fitstat_fixest_bug?.sargan) as { stat: number; df: number } | undefined;
      if (sarganRef === undefined) expect(st.sargan).toBeNull();
      else {
        expect(st.sargan!.df).toBe(sarganRef.df);
        if (m.weights === null) expect(rel(st.sargan!.stat, sarganRef.stat)).toBeLessThan(STAT_REL);
        else expect(rel(fixestSarganBug(fit), sarganRef.stat)).toBeLessThan(STAT_REL);
      }
    });
  }
});

/**
 * fixest 0.12.1's Sargan statistic with weights, from the fit: n (1 - r'Wr / sum (e - mean e)^2),
 * the total sum of squares of the raw structural residuals unweighted. r'Wr = e'We - S where
 * S is the weighted explained sum of squares, which hdfe's (right) statistic n (1 - r'Wr / TSS_w) gives back.
 */
function fixestSarganBug(fit: IvFit): number {
  const w = fit.internals.weights!;
  const es = fit.internals.residuals; // sqrt(w) e
  const n = fit.nobs;
  let ee = 0, sw = 0, se = 0, s1 = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const raw = es[i] / Math.sqrt(w[i]);
    ee += es[i] * es[i];
    sw += w[i];
    se += w[i] * raw;
    s1 += raw;
    s2 += raw * raw;
  }
  const tssW = ee - (se * se) / sw;
  const rWr = tssW * (1 - fit.iv.fitstat.sargan!.stat / n) + (ee - tssW); // e'We - S
  const tssU = s2 - (s1 * s1) / n;
  return n * (1 - rWr / tssU);
}

describe("IV: withVcov without a refit", () => {
  it("iv_cl_firm refitted under hetero equals iv_hetero", () => {
    const a = fitOf(REFS.find((m) => m.id === "iv_cl_firm")!);
    const h = REFS.find((m) => m.id === "iv_hetero")!;
    const b = ivWithVcov(eng, a, "hetero");
    for (const nm of b.coefNames) expect(rel(b.se[nm], h.se[nm])).toBeLessThan(SE_REL);
    expectF(b.iv.fitstat.ivf1.Export, h.fitstat["ivf1::Export"] as FTestRef);
    expectF(b.iv.fitstat.ivwald1.Export, h.fitstat["ivwald1::Export"] as FTestRef);
    expectF(b.iv.fitstat.ivwald2, h.fitstat.ivwald2 as FTestRef);
    for (const nm of b.iv.firstStages[0].coefNames) {
      expect(rel(b.iv.firstStages[0].se[nm], h.iv.first_stage[0].se[nm])).toBeLessThan(SE_REL);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The WASM path against the plain-TypeScript 2SLS (bindings/ref/iv-ts.ts) on random panels

function randomPanel(seed: number, weighted: boolean) {
  const r = new Rng(seed);
  const firms = 15 + r.int(20), years = 4 + r.int(6);
  const n = firms * years;
  const firm = new Int32Array(n), year = new Int32Array(n);
  const col = () => new Float64Array(n);
  const [x1, x2, z1, z2, z3, u, v, e1, e2, y, w] = Array.from({ length: 11 }, col);
  const af = Float64Array.from({ length: firms }, () => r.normal());
  for (let i = 0; i < n; i++) {
    firm[i] = i % firms;
    year[i] = Math.floor(i / firms);
    x1[i] = r.normal() + af[firm[i]];
    x2[i] = r.normal() + 0.3 * year[i];
    z1[i] = r.normal();
    z2[i] = r.normal() + 0.5 * af[firm[i]];
    z3[i] = r.normal();
    u[i] = r.normal();
    v[i] = r.normal();
    e1[i] = 0.8 * z1[i] + 0.4 * z2[i] + 0.2 * x1[i] + u[i] + af[firm[i]];
    e2[i] = 0.6 * z3[i] - 0.5 * z1[i] + 0.3 * x2[i] + v[i];
    y[i] = 1.5 * e1[i] - 0.7 * e2[i] + 0.4 * x1[i] - 0.2 * x2[i] + 0.8 * u[i] + r.normal() + af[firm[i]] + 0.1 * year[i];
    w[i] = weighted ? 0.5 + 1.5 * r.uniform() : 1;
  }
  const frame = Frame.fromColumns({
    firm: Float64Array.from(firm), year: Float64Array.from(year), x1, x2, z1, z2, z3, e1, e2, y, w,
  });
  const codes = (name: string) => {
    const c = frame.codes(name);
    return { codes: c.codes, levels: c.levels.length };
  };
  return { frame, x1, x2, z1, z2, z3, e1, e2, y, w: weighted ? w : null, fe: [codes("firm"), codes("year")] };
}

describe("IV: WASM path against the plain-TypeScript 2SLS (random panels, fixed seed)", () => {
  const cases = [
    { two: false, weighted: false, vcov: "cluster" as const },
    { two: false, weighted: true, vcov: "hetero" as const },
    { two: true, weighted: false, vcov: "iid" as const },
    { two: true, weighted: true, vcov: "cluster" as const },
  ];
  cases.forEach((c, idx) => {
    it(`${c.two ? "2 endogenous, 3 instruments" : "1 endogenous, 2 instruments"}, ${c.weighted ? "weighted" : "unweighted"}, ${c.vcov}`, () => {
      for (let rep = 0; rep < 3; rep++) {
        const d = randomPanel(FC_SEED + 97 * idx + rep, c.weighted);
        const formula = c.two ? "y ~ x1 + x2 | firm + year | e1 + e2 ~ z1 + z2 + z3" : "y ~ x1 + x2 | firm + year | e1 ~ z1 + z2";
        const fit = iv(eng, d.frame, formula, {
          vcov: c.vcov === "cluster" ? "cluster:firm" : c.vcov, weights: c.weighted ? "w" : undefined, fixefRm: "none", fixefTol: 1e-13,
        });
        const ref = ivTs({
          y: d.y, exo: [d.x1, d.x2], endo: c.two ? [d.e1, d.e2] : [d.e1], inst: c.two ? [d.z1, d.z2, d.z3] : [d.z1, d.z2],
          fe: d.fe, weights: d.w, vcov: c.vcov,
        });
        fit.coefNames.forEach((nm, j) => {
          expect(rel(fit.coefVector[j], ref.coef[j])).toBeLessThan(COEF_REL);
          expect(rel(fit.se[nm], ref.se[j])).toBeLessThan(SE_REL);
        });
        fit.iv.firstStages.forEach((fs, j) => {
          fs.table.forEach((row, a) => {
            expect(rel(row.estimate, ref.firstCoef[j][a])).toBeLessThan(COEF_REL);
            expect(rel(row.se, ref.firstSe[j][a])).toBeLessThan(SE_REL);
          });
          expect(rel(fs.ivf1.stat, ref.ivf1[j])).toBeLessThan(STAT_REL);
        });
        expect(rel(fit.iv.fitstat.wh.stat, ref.wh)).toBeLessThan(STAT_REL);
        expect(rel(fit.iv.fitstat.sargan!.stat, ref.sargan!)).toBeLessThan(STAT_REL);
        expect(rel(fit.ssr, ref.ssr)).toBeLessThan(SS_REL);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input: clear errors

describe("IV: errors and warnings", () => {
  const errOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error("no error thrown");
  };
  it("under-identified: fewer instruments than endogenous regressors", () => {
    const e = errOf(() => iv(eng, frame, "FC ~ Fin | firm + year | Export + Agg ~ did"));
    expect(e).toBeInstanceOf(FormulaSyntaxError);
    expect(e.message).toMatch(/under-identified: 2 endogenous regressors \(Export, Agg\) but 1 instrument \(did\)/);
  });
  it("an endogenous regressor that is also exogenous", () => {
    const e = errOf(() => parseIvFormula("FC ~ Fin + Export | firm | Export ~ did"));
    expect(e).toBeInstanceOf(FormulaSyntaxError);
    expect(e.message).toMatch(/"Export" is both endogenous and exogenous/);
    expect((e as FormulaSyntaxError).position).toBe("FC ~ Fin + Export | firm | ".length);
  });
  it("an instrument that is also exogenous, or endogenous", () => {
    expect(errOf(() => parseIvFormula("FC ~ Fin + did | firm | Export ~ did")).message).toMatch(/instrument "did" is also an exogenous regressor/);
    expect(errOf(() => parseIvFormula("FC ~ Fin | firm | Export ~ Export")).message).toMatch(/both endogenous and an instrument/);
  });
  it("unknown columns are named", () => {
    const e = errOf(() => iv(eng, frame, "FC ~ Fin | firm | Exprt ~ did"));
    expect(e).toBeInstanceOf(ColumnError);
    expect(e.message).toMatch(/Exprt/);
    expect(errOf(() => iv(eng, frame, "FC ~ Fin | firm | Export ~ dd")).message).toMatch(/"dd"/);
  });
  it("syntax errors in the IV part point into the whole formula", () => {
    const text = "FC ~ Fin | firm | Export ~ did +";
    const e = errOf(() => parseIvFormula(text)) as FormulaSyntaxError;
    expect(e).toBeInstanceOf(FormulaSyntaxError);
    expect(e.formula).toBe(text);
    expect(e.position).toBe(text.length - 1);
    expect(errOf(() => parseIvFormula("FC ~ Fin | firm | Export ~ ")).message).toMatch(/no instrument/);
  });
  it("an instrument absorbed by the fixed effects is an error naming it", () => {
    const e = errOf(() => iv(eng, frame, "FC ~ Fin | firm + year | Export ~ year"));
    expect(e).toBeInstanceOf(SampleError);
    expect(e.message).toMatch(/instrument "year"/);
  });
  it("the formula without an IV part is refused by iv() and recognised by isIvFormula", () => {
    expect(isIvFormula("FC ~ Fin | firm | Export ~ did")).toBe(true);
    expect(isIvFormula("FC ~ Fin | Export ~ did")).toBe(true);
    expect(isIvFormula("FC ~ Fin | firm + year")).toBe(false);
    expect(errOf(() => iv(eng, frame, "FC ~ Fin | firm"))).toBeInstanceOf(FormulaSyntaxError);
  });
  it("an interaction is an instrument (one design column, named as fixest names it)", () => {
    const fit = iv(eng, frame, "FC ~ Fin | firm + year | Export ~ did + did:Eco", { fixefRm: "none" });
    expect(fit.iv.inst).toEqual(["did", "did:Eco"]);
    expect(fit.iv.firstStages[0].coefNames).toEqual(["did", "did:Eco", "Fin"]);
    expect(fit.iv.fitstat.sargan!.df).toBe(1);
  });
  it("a weak instrument is named in a warning (first-stage F < 10)", () => {
    const warned: string[] = [];
    const fit = iv(eng, frame, "FC ~ Fin | firm + year | Export ~ Top1", { onWarning: (m) => warned.push(m), fixefRm: "none" });
    const F = fit.iv.fitstat.ivf1.Export.stat;
    expect(F).toBeLessThan(10);
    expect(warned.length).toBe(1);
    expect(warned[0]).toMatch(/weak instrument for "Export": first-stage F = .* < 10 with Top1 \(t = /);
    expect(fit.warnings).toEqual(warned);
    // a strong one is not
    const strong = iv(eng, frame, "FC ~ Fin | firm + year | Export ~ did", { fixefRm: "none" });
    expect(strong.iv.fitstat.ivf1.Export.stat).toBeGreaterThan(10);
    expect(strong.warnings).toEqual([]);
  });
});

describe("IV: the page's model spec", () => {
  it("an instrument turns the page's formula into the IV formula fixest estimates", () => {
    const spec = { outcome: "FC", treatment: "Export", instrument: "Digitalisation", controls: ["Fin", "Eco"], fixef: ["firm", "year"], vcov: "cluster" as const, cluster: [] };
    const text = formulaOf(spec);
    expect(text).toBe("FC ~ Fin + Eco | firm + year | Export ~ Digitalisation");
    const m = REFS.find((r) => r.id === "iv_cl_firm")!;
    const fit = iv(eng, frame, text, { vcov: vcovOf(spec), fixefRm: "none", fixefTol: 1e-12 });
    for (const nm of fit.coefNames) expect(rel(fit.coef[nm], m.coef[nm])).toBeLessThan(COEF_REL);
    expect(formulaOf({ ...spec, instrument: undefined })).toBe("FC ~ Export + Fin + Eco | firm + year");
  });
});

describe("IV: without exogenous regressors", () => {
  it("y ~ 1 | fe | endo ~ inst equals the plain-TypeScript 2SLS; y ~ 1 | endo ~ inst runs with an intercept", () => {
    const fit = iv(eng, frame, "FC ~ 1 | firm + year | Export ~ Digitalisation + did", { vcov: "cluster:firm", fixefRm: "none", fixefTol: 1e-13 });
    expect(fit.coefNames).toEqual(["fit_Export"]);
    const codes = ["firm", "year"].map((c) => {
      const cc = frame.codes(c);
      return { codes: cc.codes, levels: cc.levels.length };
    });
    const ref = ivTs({
      y: frame.numeric("FC"), exo: [], endo: [frame.numeric("Export")], inst: [frame.numeric("Digitalisation"), frame.numeric("did")], fe: codes, vcov: "cluster",
    });
    expect(rel(fit.coefVector[0], ref.coef[0])).toBeLessThan(COEF_REL);
    expect(rel(fit.se.fit_Export, ref.se[0])).toBeLessThan(SE_REL);
    expect(rel(fit.iv.fitstat.sargan!.stat, ref.sargan!)).toBeLessThan(STAT_REL);
    expect(rel(fit.iv.fitstat.wh.stat, ref.wh)).toBeLessThan(STAT_REL);
    const noFe = iv(eng, frame, "FC ~ 1 | Export ~ did", { vcov: "hetero" });
    expect(noFe.coefNames).toEqual(["(Intercept)", "fit_Export"]);
    expect(noFe.iv.firstStages[0].coefNames).toEqual(["(Intercept)", "did"]);
    expect(Number.isFinite(noFe.iv.fitstat.cd)).toBe(true);
  });
});
