// hdfe feols with the IV syntax, as a user runs it (a child process on the installed
// entry point, bin/hdfe.js): --json against R fixest (iv_fixest.json), the printed summary with the first
// stages, the error exit for an under-identified model, and a multiple estimation of IV models
// (stepwise FE: each member against its fixest model; c() outcomes and --split: each member
// against the same model run alone).
//
// Tolerances: coefficients 1e-8 relative, SEs and fit statistics 1e-6 relative (as tests/iv.test.ts).
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const ROOT = new URL("..", import.meta.url).pathname;
const REF = join(ROOT, "tests/fixtures/reference");
const DATA = join(REF, "cbec_panel_ext.csv");
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function hdfe(...args: string[]) {
  const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const refs = JSON.parse(readFileSync(join(REF, "iv_fixest.json"), "utf8")) as {
  id: string; formula: string; coef: Record<string, number>; se: Record<string, number>; nobs: number;
  fitstat: Record<string, { stat: number; df1: number; df2: number } | number>;
  iv: { first_stage: { coef: Record<string, number>; se: Record<string, number> }[] };
}[];

describe("hdfe feols with an IV formula", () => {
  it("--json: the feols layout plus the iv block, matching fixest (iv_2endo_cl_firm)", () => {
    const ref = refs.find((m) => m.id === "iv_2endo_cl_firm")!;
    const r = hdfe("feols", "--data", DATA, "-f", ref.formula, "--vcov", "cluster:firm", "--fixef-rm", "none", "--fixef-tol", "1e-12", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ["coef", "se", "t", "p", "ci", "nobs", "removed", "collinear", "r2", "adj_r2", "within_r2", "vcov", "ssc", "df", "vcov_matrix", "iv"]) {
      expect(j).toHaveProperty(k);
    }
    expect(j.formula).toBe(ref.formula);
    expect(j.nobs).toBe(ref.nobs);
    expect(Object.keys(j.coef)).toEqual(["fit_Export", "fit_Agg", "Fin"]);
    for (const [k, v] of Object.entries(ref.coef)) {
      expect(rel(j.coef[k], v)).toBeLessThan(COEF_REL);
      expect(rel(j.se[k], ref.se[k])).toBeLessThan(SE_REL);
    }
    expect(j.iv.endo).toEqual(["Export", "Agg"]);
    expect(j.iv.first_stages).toHaveLength(2);
    j.iv.first_stages.forEach((fs: { coef: Record<string, number>; se: Record<string, number> }, i: number) => {
      for (const [k, v] of Object.entries(ref.iv.first_stage[i].coef)) {
        expect(rel(fs.coef[k], v)).toBeLessThan(COEF_REL);
        expect(rel(fs.se[k], ref.iv.first_stage[i].se[k])).toBeLessThan(SE_REL);
      }
    });
    for (const key of ["ivf1::Export", "ivf1::Agg", "ivwald1::Export", "ivwald1::Agg", "ivf2", "ivwald2", "wh"]) {
      const want = ref.fitstat[key] as { stat: number; df1: number; df2: number };
      expect(rel(j.iv.fitstat[key].stat, want.stat)).toBeLessThan(SE_REL);
      expect(j.iv.fitstat[key].df2).toBe(want.df2);
    }
    expect(rel(j.iv.fitstat.sargan.stat, (ref.fitstat.sargan as unknown as { stat: number }).stat)).toBeLessThan(SE_REL);
    expect(rel(j.iv.fitstat.cd, ref.fitstat.cd as number)).toBeLessThan(SE_REL);
  });

  it("prints the second stage, the IV tests and, with --first-stage, the first stages", () => {
    const r = hdfe("feols", "--data", DATA, "-f", "FC ~ Fin + Eco | firm + year | Export ~ Digitalisation", "--fixef-rm", "none", "--first-stage");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^TSLS estimation, Dep\. Var\.: FC, Endo\.: Export, Instr\.: Digitalisation/);
    expect(r.out).toMatch(/fit_Export/);
    expect(r.out).toMatch(/F-test \(1st stage\), Export: stat = 419\.38/);
    expect(r.out).toMatch(/Wu-Hausman: stat = /);
    expect(r.out).toMatch(/Cragg-Donald: 419\.66/);
    expect(r.out).toMatch(/First stage: Dep\. Var\.: Export/);
    expect(r.out).toMatch(/Digitalisation +0\.00319347/);
  });

  it("an under-identified model exits with the formula error and its hint", () => {
    const r = hdfe("feols", "--data", DATA, "-f", "FC ~ Fin | firm | Export + Agg ~ did");
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/under-identified: 2 endogenous regressors \(Export, Agg\) but 1 instrument \(did\)/);
    expect(r.out).toBe("");
  });
  it("a multiple estimation of IV models: one member per model, fixest's labels, each equal to fixest or to its fit alone", () => {
    const common = ["--data", DATA, "--vcov", "cluster:firm", "--fixef-rm", "none", "--fixef-tol", "1e-12", "--json"];
    // csw() in the FE part: firm; firm + year; firm + year + city = iv_one_fe, iv_cl_firm, iv_three_fe
    const r = hdfe("feols", ...common, "-f", "FC ~ Fin + Eco | csw(firm, year, city) | Export ~ Digitalisation");
    expect(r.code, r.err).toBe(0);
    const members = JSON.parse(r.out) as { id: number; lhs: string; fixef: string; coef: Record<string, number>; se: Record<string, number>; nobs: number }[];
    expect(members.map((m) => [m.id, m.lhs, m.fixef])).toEqual([[1, "FC", "firm"], [2, "FC", "firm + year"], [3, "FC", "firm + year + city"]]);
    members.forEach((m, i) => {
      const ref = refs.find((x) => x.id === ["iv_one_fe", "iv_cl_firm", "iv_three_fe"][i])!;
      expect(m.nobs).toBe(ref.nobs);
      expect(Object.keys(m.coef).sort()).toEqual(Object.keys(ref.coef).sort());
      for (const [k, b] of Object.entries(ref.coef)) expect(rel(m.coef[k], b), `${ref.id} ${k}`).toBeLessThan(COEF_REL);
      for (const [k, s] of Object.entries(ref.se)) expect(rel(m.se[k], s), `${ref.id} se ${k}`).toBeLessThan(SE_REL);
    });
    // c() outcomes with --split: each member equals the same 2SLS run alone on its sample
    const multi = hdfe("feols", ...common, "-f", "c(FC, SA) ~ Fin | firm + year | Export ~ Digitalisation", "--split", "region");
    expect(multi.code, multi.err).toBe(0);
    const ms = JSON.parse(multi.out) as { lhs: string; sample_var: string; sample: string; coef: Record<string, number>; se: Record<string, number>; nobs: number }[];
    expect(ms.map((m) => `${m.sample}:${m.lhs}`)).toEqual(["central:FC", "central:SA", "east:FC", "east:SA", "west:FC", "west:SA"]);
    expect(new Set(ms.map((m) => m.sample_var))).toEqual(new Set(["region"]));
    // the east rows as a file of their own (no field of this file holds a comma or a quote inside)
    const lines = readFileSync(DATA, "utf8").trim().split("\n");
    const at = lines[0].split(",").indexOf('"region"');
    const east = join(mkdtempSync(join(tmpdir(), "hdfe-iv-multi-")), "east.csv");
    writeFileSync(east, [lines[0], ...lines.slice(1).filter((l) => l.split(",")[at] === '"east"')].join("\n") + "\n");
    for (const m of ms.filter((x) => x.sample === "east")) {
      const alone = hdfe("feols", ...common.map((a) => (a === DATA ? east : a)), "-f", `${m.lhs} ~ Fin | firm + year | Export ~ Digitalisation`);
      expect(alone.code, alone.err).toBe(0);
      const a = JSON.parse(alone.out) as { coef: Record<string, number>; se: Record<string, number>; nobs: number };
      expect(m.nobs).toBe(a.nobs);
      for (const [k, b] of Object.entries(a.coef)) expect(rel(m.coef[k], b), `${m.lhs} ${k}`).toBeLessThan(COEF_REL);
      for (const [k, s] of Object.entries(a.se)) expect(rel(m.se[k], s), `${m.lhs} se ${k}`).toBeLessThan(SE_REL);
    }
    // --first-stage prints one model's first stages: refused for several, exit 2
    const fs = hdfe("feols", ...common.slice(0, -1), "-f", "c(FC, SA) ~ Fin | firm + year | Export ~ Digitalisation", "--first-stage");
    expect(fs.code).toBe(2);
    expect(fs.err).toMatch(/--first-stage/);
  });
});
