// hdfe feols with the HAC / spatial variances (--vcov nw:LAG | dk:LAG | conley:KM with
// --panel-id and --coords) and the post-estimation flags (--wald, --hypothesis), run as a
// user runs them (a child process on the installed entry point, bin/hdfe.js), against the R fixest
// references vcov_fixest.json and post_fixest.json.
//
// Tolerances: coefficients 1e-8 relative, SEs 1e-6 relative, statistics 1e-6 relative,
// p-values 1e-6 absolute.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const P_ABS = 1e-6;

const ROOT = new URL("..", import.meta.url).pathname;
const REF = join(ROOT, "tests/fixtures/reference");
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

function hdfe(...args: string[]) {
  const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const hacRefs = JSON.parse(readFileSync(join(REF, "vcov_fixest.json"), "utf8")) as { id: string; coef: Record<string, number>; se: Record<string, number> }[];
const post = JSON.parse(readFileSync(join(REF, "post_fixest.json"), "utf8"));

function expectModel(out: string, id: string) {
  const ref = hacRefs.find((m) => m.id === id)!;
  const j = JSON.parse(out);
  for (const [k, b] of Object.entries(ref.coef)) {
    expect(rel(j.coef[k], b)).toBeLessThan(COEF_REL);
    expect(rel(j.se[k], ref.se[k])).toBeLessThan(SE_REL);
  }
  return j;
}

const MODEL = ["-f", "FC ~ did + Fin + Eco | firm + year", "--fixef-rm", "none", "--json"];

describe("hdfe feols --vcov nw | dk | conley", () => {
  it("panel Newey-West and Driscoll-Kraay with --panel-id", () => {
    const nw = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), ...MODEL, "--vcov", "nw:2", "--panel-id", "firm,year");
    expect(nw.code, nw.err).toBe(0);
    expectModel(nw.out, "panel_nw2");
    const dk = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), ...MODEL, "--vcov", "dk:2", "--panel-id", "firm,year", "--ssc", "full");
    expect(dk.code, dk.err).toBe(0);
    expectModel(dk.out, "panel_dk2_ssc_full");
  }, 240_000);
  it("Conley with --coords, great-circle distance", () => {
    const r = hdfe("feols", "--data", join(REF, "cbec_panel_ext.csv"), ...MODEL, "--vcov", "conley:500:spherical", "--coords", "lat,lon");
    expect(r.code, r.err).toBe(0);
    expectModel(r.out, "conley500_spherical");
  }, 240_000);
  it("bad flags exit 2 with one line naming the flag", () => {
    const a = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), ...MODEL, "--vcov", "nw:2", "--panel-id", "firm");
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--panel-id takes unit,time/);
    const b = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), ...MODEL, "--vcov", "hetero", "--coords", "lat,lon");
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/--coords/);
  }, 240_000);
});

describe("hdfe feols --wald --hypothesis", () => {
  it("equal fixest's wald() and the linear hypothesis, in JSON and in the text output", () => {
    const r = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), ...MODEL, "--vcov", "cluster:firm", "--fixef-tol", "1e-10", "--wald", "Fin|Eco", "--hypothesis", "Fin = Eco");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out).post;
    expect(rel(j.wald.stat, post.wald.stat)).toBeLessThan(SE_REL);
    expect(Math.abs(j.wald.p - post.wald.p)).toBeLessThan(P_ABS);
    expect(j.wald.df2).toBe(post.wald.df2);
    const h = j.hypotheses[0];
    expect(rel(h.estimate, post.lincom.estimate)).toBeLessThan(COEF_REL);
    expect(rel(h.se, post.lincom.se)).toBeLessThan(SE_REL);
    expect(Math.abs(h.p - post.lincom.p_t)).toBeLessThan(P_ABS);
    const text = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), ...MODEL.slice(0, -1), "--wald", "Fin|Eco", "--hypothesis", "Fin = Eco");
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/Wald test, H0: Fin = Eco = 0: stat = 0\.5771\d+, p = 0\.5615\d+, on 2 and 12887 DoF/);
    expect(text.out).toMatch(/Hypothesis Fin = Eco: estimate -0\.0726\d+, SE 0\.0681\d+/);
  }, 240_000);
});
