// Multiple estimation against R fixest (tests/fixtures/reference/multi_fixest.json, copied from
// ../shared/reference: 19 models from 4 multiple estimations on cbec_panel.csv, cluster firm,
// fixef.rm none): every member equals fixest's member, carries fixest's labels, and equals the
// plain formula fitted alone on its subset. The shared demeaning runs once per (sample, FE).
//
// Tolerances (never loosened per model):
//   coefficients                      1e-8 relative
//   SEs vs fixest's standalone fit    1e-6 relative (`se_standalone`: fixest's multi-estimation
//                                     SEs differ from its own converged standalone fit by up to
//                                     3.3e-9 relative, README); vs the multi member `se`: 1e-8
//   members vs the plain fit alone    coefficients 1e-8 relative, vcov entries 1e-8 relative to
//                                     sqrt(V_aa V_bb) (feolsMulti solves the members from one
//                                     cross-product matrix per group, the plain fit by QR: they
//                                     agree to rounding, about 1e-14, not to the bit); members
//                                     that feolsMulti fits one by one (interactions, extreme
//                                     magnitudes) equal their plain fits to the bit
//   nobs, FE sizes, labels: exact
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, withVcov, type Fit } from "../bindings/estimators/feols.js";
import { feolsMulti, estimateMulti, type MultiResult } from "../bindings/estimators/multi.js";
import { expandFormula } from "../bindings/core/multi.js";
import { DemeanCache } from "../bindings/core/demean-cache.js";
import { parseFormula } from "../bindings/core/formula.js";
import { FormulaSyntaxError, OptionError } from "../bindings/base/errors.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";
import { runSuite } from "../bindings/suite/run.js";
import { genPanel } from "../bindings/sim/bench-panel.js";
import { parseRoles } from "../bindings/suite/roles.js";

const COEF_REL = 1e-8;
const SE_STANDALONE_REL = 1e-6;
const SE_MULTI_REL = 1e-8;
const MEMBER_COEF_REL = 1e-8;
const MEMBER_VCOV_REL = 1e-8;

interface MultiRef {
  id: string;
  group: string;
  fixest_id: number;
  lhs: string;
  rhs: string | null;
  fixef: string | null;
  sample_var: string | null;
  sample: string | null;
  subset: { var: string; value: string } | null;
  multi_call: string;
  formula: string;
  nobs: number;
  coef: Record<string, number>;
  se: Record<string, number>;
  se_standalone: Record<string, number>;
  fixef_sizes: Record<string, number> | null;
}

const refs: MultiRef[] = JSON.parse(readFileSync(new URL("multi_fixest.json", FIX), "utf8"));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** fixest's multi call -> hdfe's formula and split options */
function callOf(call: string): { formula: string; split?: string; fsplit?: string } {
  const m = call.match(/^feols\((.*?), data = [^,]+, vcov = ~\w+(?:, (f?split) = ~(\w+))?\)$/);
  if (!m) throw new Error(`unexpected reference call ${call}`);
  return { formula: m[1], ...(m[2] ? { [m[2]]: m[3] } : {}) };
}

let eng: Engine;
let frame: Frame;
const runs: Record<string, MultiResult<Fit>> = {};
const groups = [...new Set(refs.map((r) => r.group))];

beforeAll(async () => {
  eng = await loadEngine();
  frame = Frame.fromArrow((await readFile(new URL("cbec_panel.csv", FIX).pathname)).table);
  for (const g of groups) {
    const first = refs.find((r) => r.group === g && r.multi_call)!;
    const c = callOf(first.multi_call);
    runs[g] = feolsMulti(eng, frame, c.formula, { vcov: "cluster:firm", fixefRm: "none", fixefTol: 1e-10, split: c.split, fsplit: c.fsplit });
  }
});

describe("multiple estimation equals fixest's", () => {
  it("reads 19 reference models in 4 multiple estimations", () => {
    expect(refs.length).toBe(19);
    expect(groups.length).toBe(4);
  });
  for (const g of [...new Set(refs.map((r) => r.group))]) {
    it(`${g}: every member's labels, nobs, FE sizes, coefficients and SEs`, () => {
      const mine = runs[g].models;
      const theirs = refs.filter((r) => r.group === g);
      expect(mine.length).toBe(theirs.length);
      theirs.forEach((r, i) => {
        const m = mine[i];
        expect({ id: m.id, lhs: m.lhs, rhs: m.rhs, fixef: m.fixef, sample_var: m.sampleVar, sample: m.sample, subset: m.subset })
          .toEqual({ id: r.fixest_id, lhs: r.lhs, rhs: r.rhs, fixef: r.fixef, sample_var: r.sample_var, sample: r.sample, subset: r.subset });
        expect(parseFormula(m.formula).lhs).toBe(parseFormula(r.formula).lhs);
        expect(m.formula.replace(/\s/g, "")).toBe(r.formula.replace(/\s/g, ""));
        expect(m.fit.nobs).toBe(r.nobs);
        expect(m.fit.fixefSizes).toEqual(r.fixef_sizes ?? {});
        expect(Object.keys(m.fit.coef).filter((k) => k !== "(Intercept)").sort()).toEqual(Object.keys(r.coef).filter((k) => k !== "(Intercept)").sort());
        for (const [k, b] of Object.entries(r.coef)) {
          expect(rel(m.fit.coef[k], b), `${r.id} coef ${k}`).toBeLessThan(COEF_REL);
          expect(rel(m.fit.se[k], r.se_standalone[k]), `${r.id} se ${k} vs standalone`).toBeLessThan(SE_STANDALONE_REL);
          expect(rel(m.fit.se[k], r.se[k]), `${r.id} se ${k} vs multi member`).toBeLessThan(SE_MULTI_REL);
        }
      });
    });
  }

  it("each member is the plain formula fitted alone on its subset (coefficients and vcov to 1e-8)", () => {
    for (const g of groups) {
      for (const m of runs[g].models) {
        let data = frame;
        if (m.subset) {
          const c = frame.codes(m.subset.var);
          const idx: number[] = [];
          for (let i = 0; i < frame.nrows; i++) if (c.codes[i] >= 0 && c.levels[c.codes[i]] === m.subset.value) idx.push(i);
          data = frame.take(idx);
        }
        const alone = feols(eng, data, m.formula, { vcov: "cluster:firm", fixefRm: "none", fixefTol: 1e-10 });
        expect(m.fit.coefNames).toEqual(alone.coefNames);
        expect(m.fit.collinear).toEqual(alone.collinear);
        const k = alone.coefNames.length;
        alone.coefVector.forEach((b, j) => expect(rel(m.fit.coefVector[j], b), `${m.formula} coef ${j}`).toBeLessThan(MEMBER_COEF_REL));
        alone.vcovMatrix.forEach((v, i) => {
          const a = i % k;
          const b = Math.floor(i / k);
          const scale = Math.sqrt(alone.vcovMatrix[a + a * k] * alone.vcovMatrix[b + b * k]);
          expect(Math.abs(m.fit.vcovMatrix[i] - v) / scale, `${m.formula} vcov ${a},${b}`).toBeLessThan(MEMBER_VCOV_REL);
        });
        expect(m.fit.nobs).toBe(alone.nobs);
      }
    }
  });
});

describe("shared demeaning", () => {
  it("weights, varying slopes, interactions and an extreme-magnitude column: members equal their plain fits to the bit", () => {
    const n = frame.nrows;
    let f = frame.withColumn("w", Float64Array.from({ length: n }, (_, i) => 0.5 + ((i * 7919) % 1000) / 666));
    f = f.withColumn("Fin_big", Float64Array.from(f.numeric("Fin"), (v) => v * 1e120));
    const opts = { vcov: "cluster:firm", fixefRm: "none", weights: "w" } as const;
    const forms = "c(FC, SA) ~ did + csw(Fin_big, Eco, Eco:Top1) | sw(firm + year, firm + region[year])";
    const r = feolsMulti(eng, f, forms, opts);
    expect(r.models.length).toBe(12);
    expect(r.cache.columnsReused).toBeGreaterThan(0);
    for (const m of r.models) {
      const alone = feols(eng, f, m.formula, opts);
      expect(Array.from(m.fit.coefVector), m.formula).toEqual(Array.from(alone.coefVector));
      expect(Array.from(m.fit.vcovMatrix), m.formula).toEqual(Array.from(alone.vcovMatrix));
    }
  });

  it("demeans once per (sample, FE): csw over two outcomes makes one group and one call per new column set", () => {
    // c(FC, SA) ~ did + csw(Fin, Eco, Top1) | firm + year: 6 models on one sample and FE.
    // FC model 1 demeans FC, did, Fin; model 2 only Eco; model 3 only Top1; SA model 4 only SA;
    // models 5 and 6 find everything: 4 kernel calls, 6 columns demeaned, each once.
    const s = runs.lhs_csw.cache;
    expect(s.groups).toBe(1);
    expect(s.demeanCalls).toBe(4);
    expect(s.columnsDemeaned).toBe(6);
    expect(s.modelsFullyCached).toBe(2);
    expect(s.columnsReused).toBe(0 + 3 + 4 + 2 + 4 + 5);
  });
  it("the cross-product path demeans a group's columns in ONE kernel call, each column once, each member with its own columns' iterations", () => {
    // lhs_csw: one group, 6 distinct columns -> one batch; sw_csw0: two FE sets with FE -> two
    const s = runs.lhs_csw.cache;
    expect(s.kernelCalls).toBe(1);
    expect(s.columnsDemeaned).toBe(6);
    expect(runs.sw_csw0.cache.kernelCalls).toBe(2);
    // a member's iterations are its own columns' (what its fit alone reports), not the batch's
    for (const m of runs.lhs_csw.models) {
      const alone = feols(eng, frame, m.formula, { vcov: "cluster:firm", fixefRm: "none", fixefTol: 1e-10 });
      expect(m.fit.iterations, m.formula).toBe(alone.iterations);
    }
  });
  it("split and fsplit: one group per sample, the full sample of fsplit apart from the splits", () => {
    expect(runs.split_region.cache.groups).toBe(3);
    expect(runs.split_region.cache.demeanCalls).toBe(3);
    expect(runs.fsplit_region.cache.groups).toBe(4);
  });
  it("stepwise FE: one group per FE set that has FE (the no-FE models demean nothing)", () => {
    const s = runs.sw_csw0.cache;
    expect(s.groups).toBe(2);
    // per FE set: model 1 demeans FC, did, Fin; model 2 only Eco
    expect(s.demeanCalls).toBe(4);
    expect(s.columnsDemeaned).toBe(8);
  });
  it("members with the same rows and FE share one sample preparation; their missing-value counts stay their own", () => {
    const n = frame.nrows;
    const f = frame.withColumn("Fin_na", Float64Array.from(frame.numeric("Fin"), (v, i) => (i % 97 === 0 ? NaN : v)));
    const r = feolsMulti(eng, f, "FC ~ did + sw(Fin, Fin_na, Eco) | firm + year", { vcov: "cluster:firm", fixefRm: "singleton" });
    const [a, b, c] = r.models.map((m) => m.fit);
    expect(a.internals.sample.rows).toBe(c.internals.sample.rows); // shared
    expect(b.internals.sample.rows).not.toBe(a.internals.sample.rows);
    expect(b.removed.naByColumn).toEqual({ Fin_na: Math.ceil(n / 97) });
    expect(c.removed.naByColumn).toEqual({});
    for (const m of r.models) expect(m.fit.removed).toEqual(feols(eng, f, m.formula, { vcov: "cluster:firm", fixefRm: "singleton" }).removed);
  });

  it("a cache passed in is shared across calls and counts what it saved", () => {
    const cache = new DemeanCache();
    feolsMulti(eng, frame, "FC ~ did + Fin | firm + year", { vcov: "cluster:firm", fixefRm: "none", demeanCache: cache });
    const before = cache.stats.demeanCalls;
    const again = feolsMulti(eng, frame, "FC ~ did + Fin | firm + year", { vcov: "cluster:firm", fixefRm: "none", demeanCache: cache });
    expect(cache.stats.demeanCalls).toBe(before);
    expect(again.cache.modelsFullyCached).toBe(1);
    // another tolerance is another group: demeaned again
    feolsMulti(eng, frame, "FC ~ did + Fin | firm + year", { vcov: "cluster:firm", fixefRm: "none", fixefTol: 1e-6, demeanCache: cache });
    expect(cache.stats.demeanCalls).toBe(before + 1);
  });
  it("the suite's core tables share one cache: outcome, DiD and controls demeaned once for the models on one sample", async () => {
    const cache = new DemeanCache();
    const roles = parseRoles({
      outcome: "FC", unit: "firm", time: "year", city: "city", region: "region", adopt: "adopt", zone: "zone", did: "did",
      controls: ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"], altOutcomes: ["SA"], mechanisms: ["Export"],
    });
    await runSuite(eng, frame, roles, { fixefRm: "none", draws: 0, extensions: false, demeanCache: cache });
    const s = cache.stats;
    // Table 4 (SA), Table 9 (Export) and the confounder column reuse did and the 7 controls of Table 3 (2)
    expect(s.columnsReused).toBeGreaterThanOrEqual(3 * 8);
    expect(s.demeanCalls).toBeGreaterThan(0);
  });

  it("the members keep their demeaned regressors only within one feols call's budget (4M values) for the whole call", () => {
    // 120k rows x (2 outcomes x (2 + 3 + 4 + 5 + 6) regressors) = 4.8M values: over the budget
    const big = genPanel({ rows: 120_000, city: false });
    const f = "c(y, x8) ~ treat + csw(x1, x2, x3, x4, x5) | firm + year";
    const lean = feolsMulti(eng, big, f, { vcov: "cluster:firm" });
    expect(lean.models.length).toBe(10);
    expect(() => withVcov(eng, lean.models[0].fit, "hetero")).toThrow(OptionError);
    const kept = feolsMulti(eng, big, "y ~ treat + csw(x1, x2) | firm + year", { vcov: "cluster:firm" });
    expect(withVcov(eng, kept.models[1].fit, "hetero").se.treat).toBeGreaterThan(0);
    const forced = feolsMulti(eng, big, f, { vcov: "cluster:firm", keepData: true });
    expect(Array.from(withVcov(eng, forced.models[0].fit, "cluster:firm").vcovMatrix)).toEqual(Array.from(forced.models[0].fit.vcovMatrix));
  });

  it("drives any estimator taking (data, formula, options)", () => {
    const seen: string[] = [];
    const r = estimateMulti((d, f, o) => (seen.push(`${f} @${d.nrows} cache:${!!o.demeanCache}`), f.length), frame, "c(FC, SA) ~ sw(Fin, Eco)", { split: "region" });
    expect(r.models.length).toBe(12);
    expect(seen[0]).toMatch(/^FC ~ Fin @3395 cache:true$/);
    expect(r.models.map((m) => m.sample)).toEqual([...Array(4).fill("central"), ...Array(4).fill("east"), ...Array(4).fill("west")]);
  });
});

describe("formula expansion", () => {
  const forms = (t: string) => expandFormula(t).models.map((m) => m.formula);
  it("sw, sw0, csw, csw0, mvsw on the RHS, in fixest's order", () => {
    expect(forms("y ~ x + sw(a, b)")).toEqual(["y ~ x + a", "y ~ x + b"]);
    expect(forms("y ~ x + sw0(a, b)")).toEqual(["y ~ x", "y ~ x + a", "y ~ x + b"]);
    expect(forms("y ~ csw(a, b)")).toEqual(["y ~ a", "y ~ a + b"]);
    expect(forms("y ~ csw0(a, b)")).toEqual(["y ~ 1", "y ~ a", "y ~ a + b"]);
    expect(forms("y ~ mvsw(a, b)")).toEqual(["y ~ 1", "y ~ a", "y ~ b", "y ~ a + b"]);
  });
  it("outcomes, then FE, then RHS; IV part kept; c() inside i() untouched", () => {
    expect(forms("c(y1, y2) ~ sw(a, b) | csw0(f1, f2)")).toEqual([
      "y1 ~ a", "y1 ~ b", "y1 ~ a | f1", "y1 ~ b | f1", "y1 ~ a | f1 + f2", "y1 ~ b | f1 + f2",
      "y2 ~ a", "y2 ~ b", "y2 ~ a | f1", "y2 ~ b | f1", "y2 ~ a | f1 + f2", "y2 ~ b | f1 + f2",
    ]);
    expect(forms("y ~ sw(a, b) | fe | endo ~ z")).toEqual(["y ~ a | fe | endo ~ z", "y ~ b | fe | endo ~ z"]);
    expect(forms("y ~ i(g, ref = c(1, 2)) + sw(a, `b c`)")).toEqual(["y ~ i(g, ref = c(1, 2)) + a", "y ~ i(g, ref = c(1, 2)) + `b c`"]);
  });
  it("refuses two stepwise functions in one part, empty arguments, repeated outcomes", () => {
    expect(() => expandFormula("y ~ sw(a, b) + csw(c, d)")).toThrow(FormulaSyntaxError);
    expect(() => expandFormula("y ~ sw(a, )")).toThrow(FormulaSyntaxError);
    expect(() => expandFormula("c(y, y) ~ a")).toThrow(/twice/);
  });
  it("split and fsplit together are refused; an unknown split column is a named error", () => {
    expect(() => feolsMulti(eng, frame, "FC ~ did", { split: "region", fsplit: "region" })).toThrow(OptionError);
    expect(() => feolsMulti(eng, frame, "FC ~ did", { split: "nope" })).toThrow(/nope/);
  });
  it("parseFormula points stepwise formulas to feolsMulti", () => {
    expect(() => parseFormula("y ~ csw(a, b)")).toThrow(FormulaSyntaxError);
    try {
      parseFormula("y ~ csw(a, b)");
    } catch (e) {
      expect((e as FormulaSyntaxError).hint).toMatch(/feolsMulti/);
    }
  });
});
