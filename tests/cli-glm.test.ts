// hdfe fepois / hdfe feglm as a user runs them (a child process on the installed entry point, bin/hdfe.js):
// JSON output against the R fixest references of tests/fixtures/reference/glm_fixest.json,
// the table, and exit codes for bad input.
//
// Tolerances: coefficients 1e-8 relative, SEs 1e-6 relative (as tests/glm.test.ts).
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

function hdfe(...args: string[]) {
  const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Ref { id: string; coef: Record<string, number>; se: Record<string, number>; nobs: number; fixef_removed: Record<string, number>; obs_removed_rows: number[]; loglik: number }
const refs = JSON.parse(readFileSync(join(REF, "glm_fixest.json"), "utf8")) as Ref[];
const ref = (id: string) => refs.find((m) => m.id === id)!;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function expectRef(j: { coef: Record<string, number>; se: Record<string, number>; nobs: number }, m: Ref) {
  expect(j.nobs).toBe(m.nobs);
  for (const [k, v] of Object.entries(m.coef)) {
    expect(rel(j.coef[k], v), `coef ${k}`).toBeLessThan(COEF_REL);
    expect(rel(j.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
  }
}

describe("hdfe fepois", () => {
  it("--json matches fixest (firm + year FE, clustered by firm by default), with the FE levels and rows removed", () => {
    const r = hdfe("fepois", "--data", DATA, "-f", "patents ~ did + Fin + Eco | firm + year", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    const m = ref("pois_patents_2fe_cl_firm");
    expectRef(j, m);
    expect(j.method).toBe("fepois");
    expect(j.vcov).toBe("Clustered (firm)");
    expect(j.removed.fixef_levels).toEqual(m.fixef_removed);
    expect(j.removed.rows).toEqual(m.obs_removed_rows);
    expect(rel(j.loglik, m.loglik)).toBeLessThan(1e-8);
  });
  it("a multiple estimation: csw0() in the FE part gives one member per model, each matching its fixest model", () => {
    // none (labelled "1", as fixest); firm; firm + year; firm + year + city, with the default vcov (iid without FE, else clustered by the first FE)
    const r = hdfe("fepois", "--data", DATA, "-f", "Digitalisation ~ did + Fin + Eco | csw0(firm, year, city)", "--json");
    expect(r.code, r.err).toBe(0);
    const members = JSON.parse(r.out) as ({ id: number; lhs: string; fixef: string } & Record<string, unknown>)[];
    expect(members.map((m) => [m.id, m.lhs, m.fixef])).toEqual([[1, "Digitalisation", "1"], [2, "Digitalisation", "firm"], [3, "Digitalisation", "firm + year"], [4, "Digitalisation", "firm + year + city"]]);
    members.forEach((m, i) => expectRef(m as never, ref(["pois_0fe_iid", "pois_1fe_cl_firm", "pois_2fe_cl_firm", "pois_3fe_cl_firm"][i])));
    const t = hdfe("fepois", "--data", DATA, "-f", "Digitalisation ~ did + Fin | firm + year", "--split", "region", "--etable", "csv");
    expect(t.code, t.err).toBe(0);
    const rows = t.out.trim().split("\r\n").map((l) => l.split(","));
    expect(rows[0].length).toBe(3 + 3 * 3); // kind, name, label, then estimate / se / p of each region's model
    expect(rows.find((r) => r[1] === "Sample (region)")!.filter((v) => v !== "").slice(3)).toEqual(["central", "east", "west"]);
  });
  it("prints a fixest-like table by default; --offset and --vcov hetero", () => {
    const r = hdfe("fepois", "--data", DATA, "-f", "Digitalisation ~ did + Fin + Eco | firm + year", "--offset", "lage");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Poisson estimation, Dep\. Var\.: Digitalisation/);
    expect(r.out).toContain("Offset: lage");
    expect(r.out).toMatch(/did +0\.4/);
    const h = hdfe("fepois", "--data", DATA, "-f", "patents ~ did + Fin + Eco | city + year", "--vcov", "hetero", "--json");
    expect(h.code, h.err).toBe(0);
    expectRef(JSON.parse(h.out), ref("pois_patents_city_year_hetero"));
  });
  it("a negative outcome exits 6 naming the column; an unknown --fixef-rm exits 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-glm-"));
    const f = join(dir, "neg.csv");
    writeFileSync(f, "y,x,g\n1,0.1,1\n0,0.2,1\n-2,0.3,2\n3,0.5,2\n");
    const r = hdfe("fepois", "--data", f, "-f", "y ~ x | g");
    expect(r.code).toBe(6);
    expect(r.err).toContain('outcome "y" has negative values');
    const o = hdfe("fepois", "--data", DATA, "-f", "patents ~ did | firm", "--fixef-rm", "sometimes");
    expect(o.code).toBe(2);
    expect(o.err).toContain("--fixef-rm must be one of perfect, both, singleton, none");
  });
});

describe("hdfe feglm", () => {
  it("--family probit --json matches fixest", () => {
    const r = hdfe("feglm", "--family", "probit", "--data", DATA, "-f", "FC_hi ~ did + Fin + Eco | firm + year", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.family).toBe("probit");
    expectRef(j, ref("probit_2fe_cl_firm"));
    expect(j.removed.perfect).toBe(2504);
  });
  it("logit (the default family) with weights matches fixest; an unknown family exits 2", () => {
    const r = hdfe("feglm", "--data", DATA, "-f", "FC_hi ~ did + Fin + Eco | firm + year", "--weights", "w", "--json");
    expect(r.code, r.err).toBe(0);
    expectRef(JSON.parse(r.out), ref("logit_2fe_weighted"));
    const bad = hdfe("feglm", "--family", "cloglog", "--data", DATA, "-f", "FC_hi ~ did | firm");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--family must be one of logit, probit");
  });
  it("an IRLS that cannot converge in --glm-iter steps exits 7 with the achieved criterion", () => {
    const r = hdfe("feglm", "--family", "probit", "--data", DATA, "-f", "FC_hi ~ did + Fin + Eco | firm + year", "--glm-iter", "2");
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/IRLS did not converge in 2 iterations: relative deviance change/);
  });
});
