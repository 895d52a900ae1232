// hdfe feols with a multiple estimation and hdfe etable, as a user runs them (a child process
// on the installed entry point, bin/hdfe.js): the JSON array of members against fixest's multi_fixest.json
// (labels exact, coefficients 1e-8 relative, SEs 1e-6 relative to fixest's standalone fits, as
// tests/multi.test.ts), --etable csv read back equal to the --json numbers, hdfe etable of the
// saved JSON equal to the table printed by hdfe feols --etable, and bad options as exit 2.
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
const DATA = join(REF, "cbec_panel.csv");

function hdfe(...args: string[]) {
  const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Ref { group: string; fixest_id: number; lhs: string; rhs: string | null; fixef: string | null; sample_var: string | null; sample: string | null; coef: Record<string, number>; se_standalone: Record<string, number>; nobs: number }
const refs = JSON.parse(readFileSync(join(REF, "multi_fixest.json"), "utf8")) as Ref[];
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const COMMON = ["--data", DATA, "--vcov", "cluster:firm", "--fixef-rm", "none", "--fixef-tol", "1e-10"];

describe("hdfe feols: multiple estimation", () => {
  const cases: [string, string[]][] = [
    ["lhs_csw", ["-f", "c(FC, SA) ~ did + csw(Fin, Eco, Top1) | firm + year"]],
    ["sw_csw0", ["-f", "FC ~ did + sw(Fin, Eco) | csw0(firm, year)"]],
    ["fsplit_region", ["-f", "FC ~ did + Fin + Eco | firm + year", "--fsplit", "region"]],
  ];
  for (const [group, args] of cases) {
    it(`--json prints one object per member with fixest's labels and numbers (${group})`, () => {
      const r = hdfe("feols", ...COMMON, ...args, "--json");
      expect(r.code, r.err).toBe(0);
      const arr = JSON.parse(r.out) as (Ref & { id: number; coef: Record<string, number>; se: Record<string, number> })[];
      const theirs = refs.filter((m) => m.group === group);
      expect(arr.length).toBe(theirs.length);
      arr.forEach((m, i) => {
        const t = theirs[i];
        expect({ id: m.id, lhs: m.lhs, rhs: m.rhs, fixef: m.fixef, sample_var: m.sample_var, sample: m.sample })
          .toEqual({ id: t.fixest_id, lhs: t.lhs, rhs: t.rhs, fixef: t.fixef, sample_var: t.sample_var, sample: t.sample });
        expect(m.nobs).toBe(t.nobs);
        for (const [k, b] of Object.entries(t.coef)) {
          expect(rel(m.coef[k], b)).toBeLessThan(COEF_REL);
          expect(rel(m.se[k], t.se_standalone[k])).toBeLessThan(SE_REL);
        }
      });
    });
  }

  it("text output prints every member under its label", () => {
    const r = hdfe("feols", ...COMMON, "-f", "FC ~ did + Fin | firm + year", "--split", "region");
    expect(r.code, r.err).toBe(0);
    for (const v of ["central", "east", "west"]) expect(r.out).toContain(`(lhs: FC; sample: region = ${v})`);
    expect(r.out.match(/^OLS estimation/gm)?.length).toBe(3);
  });

  it("--etable csv: the numbers of --json, to the bit; hdfe etable of the saved JSON prints the same table", () => {
    const f = ["-f", "c(FC, SA) ~ did + sw(Fin, Eco) | firm + year"];
    const json = hdfe("feols", ...COMMON, ...f, "--json");
    const csv = hdfe("feols", ...COMMON, ...f, "--etable", "csv");
    expect(json.code, json.err).toBe(0);
    expect(csv.code, csv.err).toBe(0);
    const arr = JSON.parse(json.out) as { lhs: string; coef: Record<string, number>; se: Record<string, number> }[];
    const lines = csv.out.trim().split("\r\n").map((l) => l.split(","));
    const head = lines[0];
    let n = 0;
    for (const row of lines.filter((l) => l[0] === "coef")) {
      arr.forEach((m, j) => {
        const at = head.indexOf(`${m.lhs} (${j + 1}) estimate`);
        if (!(row[1] in m.coef)) return expect(row[at]).toBe("");
        expect(Number(row[at])).toBe(m.coef[row[1]]);
        expect(Number(row[at + 1])).toBe(m.se[row[1]]);
        n++;
      });
    }
    expect(n).toBe(arr.reduce((a, m) => a + Object.keys(m.coef).length, 0));
    const dir = mkdtempSync(join(tmpdir(), "hdfe-etable-cli-"));
    writeFileSync(join(dir, "fits.json"), json.out);
    for (const fmt of ["md", "tex"]) {
      const a = hdfe("etable", join(dir, "fits.json"), "--table", fmt);
      const b = hdfe("feols", ...COMMON, ...f, "--etable", fmt);
      expect(a.code, a.err).toBe(0);
      expect(a.out).toBe(b.out);
    }
  });

  it("bad --etable, --json with --etable, split with fsplit, a file that is not a fit: exit 2 (options) / 5 (data) with one clear line", () => {
    expect(hdfe("feols", ...COMMON, "-f", "FC ~ did | firm", "--etable", "pdf").code).toBe(2);
    expect(hdfe("feols", ...COMMON, "-f", "FC ~ did | firm", "--etable", "md", "--json").code).toBe(2);
    const both = hdfe("feols", ...COMMON, "-f", "FC ~ did | firm", "--split", "region", "--fsplit", "region");
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/split or fsplit/);
    const dir = mkdtempSync(join(tmpdir(), "hdfe-etable-bad-"));
    writeFileSync(join(dir, "x.json"), JSON.stringify({ hello: 1 }));
    const bad = hdfe("etable", join(dir, "x.json"));
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/not a saved fit/);
  });
});
