// The command line as a user runs it (a child process on the installed entry point, bin/hdfe.js): JSON
// output against the fixest references, exit codes per error class with one clear line
// and a hint (stack only with --verbose), deterministic simulate output in every format,
// and a suite run that writes its report atomically.
//
// Tolerances: coefficients 1e-8 relative, SEs 1e-6 relative (as tests/fixest.test.ts).
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const ROOT = new URL("..", import.meta.url).pathname;
const REF = join(ROOT, "tests/fixtures/reference");

function hdfe(...args: string[]) {
  const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const refs = JSON.parse(readFileSync(join(REF, "cbec_panel_fixest.json"), "utf8")) as { id: string; coef: Record<string, number>; se: Record<string, number>; nobs: number }[];

describe("hdfe feols", () => {
  it("--json matches fixest and has the documented fields", () => {
    const r = hdfe("feols", "--data", join(REF, "cbec_panel.csv"), "-f", "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", "--vcov", "cluster:firm", "--fixef-rm", "none", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    const ref = refs.find((m) => m.id === "t3c2_cl_firm")!;
    for (const k of ["coef", "se", "t", "p", "nobs", "removed", "collinear", "r2", "adj_r2", "within_r2", "vcov", "ssc", "iterations"]) expect(j).toHaveProperty(k);
    expect(j.nobs).toBe(ref.nobs);
    expect(j.removed.na).toBe(45);
    for (const [k, v] of Object.entries(ref.coef)) {
      expect(Math.abs(j.coef[k] - v) / Math.abs(v)).toBeLessThan(1e-8);
      expect(Math.abs(j.se[k] - ref.se[k]) / ref.se[k]).toBeLessThan(1e-6);
    }
    expect(j.vcov).toBe("Clustered (firm)");
    expect(j.ssc).toBe("fixest");
  });

  it("--float32 holds the raw columns as float32 and says so; --batch needs it", () => {
    const args = ["feols", "--data", join(REF, "cbec_panel.csv"), "-f", "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", "--fixef-rm", "none"];
    const r = hdfe(...args, "--float32", "--batch", "3", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.storage.type).toBe("f32");
    expect(j.storage.batch).toBe(3);
    const ref = refs.find((m) => m.id === "t3c2_cl_firm")!;
    // float32 rounding of the data moves estimates by far less than 1e-4 of a standard error
    for (const [k, v] of Object.entries(ref.coef)) expect(Math.abs(j.coef[k] - v) / ref.se[k]).toBeLessThan(1e-4);
    const t = hdfe(...args, "--float32");
    expect(t.out).toMatch(/Storage: raw columns as float32/);
    const bad = hdfe(...args, "--batch", "3");
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--batch applies to --float32/);
  });

  it("hdfe bench runs the generated case in float64 and float32 and reports both as JSON", () => {
    const run = (...extra: string[]) => {
      // --no-fixest: the test must not depend on whether R is installed (nor on its speed)
      const r = hdfe("bench", "--rows", "15000", "--fe", "2", "--json", "--no-fixest", ...extra);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out).rows[0];
    };
    const a = run(), b = run("--float32");
    expect(a.storage).toBe("f64");
    expect(b.storage).toBe("f32");
    for (const r of [a, b]) {
      expect(r.rows).toBe(15000);
      expect(r.seconds).toBeGreaterThan(0);
      expect(r.wasmPeakBytes).toBeGreaterThan(0);
    }
    // the planted effect, estimated from float32-rounded data: agrees to rounding
    expect(Math.abs(b.coefTreat - a.coefTreat) / Math.abs(a.coefTreat)).toBeLessThan(1e-5);
  });

  it("the printed table names the vcov and the correction", () => {
    const r = hdfe("feols", "--data", join(REF, "mpdta.csv"), "-f", "lemp ~ lpop | year", "--vcov", "hetero");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Standard-errors: Heteroskedasticity-robust \(HC1\)/);
    expect(r.out).toMatch(/Small-sample correction: fixest default/);
  });

  it("error classes map to exit codes, one line and a hint, no stack trace", () => {
    const col = hdfe("feols", "--data", join(REF, "mpdta.csv"), "-f", "lemp ~ lpopp | year");
    expect(col.code).toBe(4);
    expect(col.err).toMatch(/ColumnError/);
    expect(col.err).toMatch(/hint: .*lpop/);
    expect(col.err).not.toMatch(/\n\s+at /);
    const syn = hdfe("feols", "--data", join(REF, "mpdta.csv"), "-f", "lemp ~ lpop +");
    expect(syn.code).toBe(3);
    const missing = hdfe("feols", "--data", "/nonexistent.csv", "-f", "y ~ x");
    expect(missing.code).toBe(5);
    expect(missing.err).toMatch(/file not found/);
    const opt = hdfe("feols", "--data", join(REF, "mpdta.csv"), "-f", "lemp ~ lpop | year", "--ssc", "hc3");
    expect(opt.code).toBe(2);
    const verbose = hdfe("--verbose", "feols", "--data", join(REF, "mpdta.csv"), "-f", "lemp ~ lpopp | year");
    expect(verbose.err).toMatch(/\n\s+at /);
  });
});

describe("hdfe simulate", () => {
  it("is deterministic and round-trips through every format", () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-sim-"));
    const a = hdfe("simulate", "--seed", "7", "--firms", "60", "--out", join(dir, "a.csv"));
    const b = hdfe("simulate", "--seed", "7", "--firms", "60", "--out", join(dir, "b.csv"));
    expect(a.code, a.err).toBe(0);
    expect(b.code).toBe(0);
    expect(readFileSync(join(dir, "a.csv"))).toEqual(readFileSync(join(dir, "b.csv")));
    const stdout = hdfe("simulate", "--seed", "7", "--firms", "60");
    expect(stdout.out).toBe(readFileSync(join(dir, "a.csv"), "utf8"));
    const results: number[] = [];
    for (const ext of ["csv", "parquet", "arrow"]) {
      if (ext !== "csv") expect(hdfe("simulate", "--seed", "7", "--firms", "60", "--out", join(dir, `a.${ext}`)).code).toBe(0);
      const r = hdfe("feols", "--data", join(dir, `a.${ext}`), "-f", "FC ~ did + Fin | firm + year", "--json");
      expect(r.code, r.err).toBe(0);
      results.push(JSON.parse(r.out).coef.did);
    }
    expect(results[1]).toBe(results[0]);
    expect(results[2]).toBe(results[0]);
    expect(readdirSync(dir).some((f) => f.includes("partial"))).toBe(false);
  });
});

describe("hdfe suite", () => {
  it("writes the full report from a user's panel and roles file, atomically", () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-suite-"));
    const roles = join(dir, "roles.json");
    writeFileSync(roles, JSON.stringify({ outcome: "FC", unit: "firm", time: "year", city: "city", region: "region", adopt: "adopt", controls: ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"], mechanisms: ["Export", "Digitalisation", "Agg"] }));
    const out = join(dir, "report");
    const r = hdfe("suite", "--data", join(REF, "cbec_panel.csv"), "--roles", roles, "--out", out, "--draws", "50");
    expect(r.code, r.err).toBe(0);
    for (const f of ["report.md", "report.html", "results.json", "tables/table3.tex", "tables/table3.csv", "tables/table3.md", "figures/figure1.svg"]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(r.err).toMatch(/skipped Table 4\. .*no outcomes listed/);
    expect(readdirSync(dir).some((f) => f.includes("partial"))).toBe(false);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it("a bad roles file stops with exit code 10 and the role named", () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-roles-"));
    const roles = join(dir, "roles.json");
    writeFileSync(roles, JSON.stringify({ outcome: "FC", unit: "firm" }));
    const r = hdfe("suite", "--data", join(REF, "cbec_panel.csv"), "--roles", roles, "--out", join(dir, "x"));
    expect(r.code).toBe(10);
    expect(r.err).toMatch(/missing the required role "time"/);
    expect(existsSync(join(dir, "x"))).toBe(false);
  });
});
