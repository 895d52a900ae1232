// The inference tools out of core in DuckDB: `hdfe wild --engine duckdb` (bindings/sql/wild-sql.ts:
// per-cluster sums pulled back, the replications in memory by inference/wild.ts
// wildFromAggregates) against the in-memory `hdfe wild` on the same file, CSV and Parquet: the
// reference cbec panel (firm + year, firm; clusters city, province) and a generated panel with
// missing values and singletons (tests/sql-duckdb-setup.ts); restricted and unrestricted,
// Rademacher and Webb weights (and full enumeration), with and without regression weights, one
// and two FE. `hdfe psm --engine` refused with why (the placebo out of core: tests/sql-placebo.test.ts).
// The 2-shard ClickHouse cluster: tests/sql-inference-clickhouse.test.ts.
//
// Tolerances: tests/sql-inference-setup.ts (both runs at --fixef-tol 1e-12; p-values exact; intervals, estimate, s.e., t 1e-10
// relative; t* 1e-10 of max(1, |t*|); sample counts exact).
import { describe, it, expect } from "vitest";
import { files, setupFiles } from "./sql-duckdb-setup.js";
import { wildJson, expectSameWild, hdfe, FIXEF_TOL } from "./sql-inference-setup.js";

setupFiles();

type Data = "cbecW" | "panel" | "panelParquet";
interface Case { data: Data; formula: string; param: string; cluster: string; args: string[] }

const CASES: Case[] = [
  { data: "cbecW", formula: "FC ~ did + Fin | firm + year", param: "did", cluster: "city", args: ["--B", "999"] },
  { data: "cbecW", formula: "FC ~ did + Fin | firm + year", param: "did", cluster: "province", args: ["--B", "999", "--fit-weights", "w", "--null", "0.1"] },
  { data: "cbecW", formula: "FC ~ did + Fin + Eco | firm", param: "did", cluster: "province", args: ["--B", "499", "--unrestricted", "--weights", "webb", "--null", "0.12", "--seed", "7"] },
  { data: "panel", formula: "y ~ x1 + x2 | firm + year", param: "x2", cluster: "ind", args: ["--B", "999", "--null", "-0.38"] },
  { data: "panelParquet", formula: "y ~ x1 + x2 | firm + year", param: "x2", cluster: "ind", args: ["--B", "999", "--null", "-0.38"] },
  { data: "panelParquet", formula: "y ~ x1 + x2 | firm + year", param: "x1", cluster: "ind", args: ["--B", "599", "--unrestricted", "--weights", "webb", "--fit-weights", "w", "--null", "0.68"] },
  // 7 clusters: 2^7 = 128 <= B, the full enumeration
  { data: "panel", formula: "y ~ x1 + x2 + x3 | firm", param: "x1", cluster: "region", args: ["--B", "999", "--null", "0.7"] },
  { data: "panel", formula: "y ~ x1 + x2 | firm", param: "x2", cluster: "ind", args: ["--B", "799", "--weights", "webb", "--fit-weights", "w", "--null", "-0.4", "--seed", "3"] },
];

describe("hdfe wild --engine duckdb = in memory (same seed, same draws)", () => {
  for (const c of CASES) {
    it(`${c.data}: ${c.formula}, ${c.param} by ${c.cluster} ${c.args.join(" ")}`, () => {
      const args = ["--data", files[c.data], "-f", c.formula, "--param", c.param, "--cluster", c.cluster, "--fixef-tol", String(FIXEF_TOL), ...c.args];
      const mem = wildJson(args);
      const sql = wildJson([...args, "--engine", "duckdb"]);
      expectSameWild(sql, mem);
      if (c.data !== "cbecW") expect(mem.removed.na as number).toBeGreaterThan(0);
      if (c.data !== "cbecW") expect(mem.removed.singletons as number).toBeGreaterThan(0);
    });
  }

  it("a table of a .duckdb database (--table, the panel.csv rows) = in memory on the CSV", () => {
    const args = ["-f", "y ~ x1 + x2 | firm + year", "--param", "x2", "--cluster", "ind", "--B", "999", "--null", "-0.38", "--fixef-tol", String(FIXEF_TOL)];
    const mem = wildJson(["--data", files.panel, ...args]);
    const sql = wildJson(["--data", files.db, "--table", "panel", ...args]);
    expectSameWild(sql, mem);
  });

  it("the cases test something: p-values off 0 and 1, an enumeration, regression weights changing the result", () => {
    // the same numbers the cases compare, in memory only: cheap, and it keeps the case list honest
    const base = ["--data", files.cbecW, "-f", "FC ~ did + Fin | firm + year", "--param", "did", "--cluster", "province", "--B", "999", "--null", "0.1"];
    const plain = wildJson(base), weighted = wildJson([...base, "--fit-weights", "w"]);
    expect(plain.pSymmetric).toBeGreaterThan(0);
    expect(plain.pSymmetric).toBeLessThan(1);
    expect(weighted.estimate).not.toBe(plain.estimate);
    const en = wildJson(["--data", files.panel, "-f", "y ~ x1 + x2 + x3 | firm", "--param", "x1", "--cluster", "region", "--B", "999", "--null", "0.7"]);
    expect(en.enumerated).toBe(true);
    expect(en.B).toBe(128);
  });

  it("a coefficient the fit lacks: the in-memory OptionError and exit code, nothing on stdout", () => {
    const args = ["wild", "--data", files.panel, "-f", "y ~ x1 + x2 | firm", "--param", "nope", "--cluster", "ind", "--B", "99"];
    const mem = hdfe(args);
    const sql = hdfe([...args, "--engine", "duckdb"]);
    expect(mem.status).toBe(2);
    expect(sql.status).toBe(2);
    for (const r of [mem, sql]) {
      expect(r.stderr).toMatch(/OptionError: "nope" is not a coefficient of the fit/);
      expect(r.stdout).toBe("");
    }
  });

  it("a combined cluster a^b: in memory not a column, out of core refused before the engine runs (exit 2)", () => {
    const args = ["wild", "--data", files.panel, "-f", "y ~ x1 + x2 | firm", "--param", "x1", "--cluster", "region^ind", "--B", "99"];
    const mem = hdfe(args);
    expect(mem.status).not.toBe(0);
    expect(mem.stderr).toMatch(/"region\^ind"/);
    const sql = hdfe([...args, "--engine", "duckdb"]);
    expect(sql.status).toBe(2);
    expect(sql.stderr).toMatch(/OptionError: the wild bootstrap clusters by one column, got "region\^ind"/);
    expect(sql.stderr).not.toMatch(/duckdb: sample/);
    expect(sql.stdout).toBe("");
  });
});

describe("hdfe psm out of core: refused, saying why (hdfe placebo --engine runs: tests/sql-placebo.test.ts)", () => {
  for (const engine of ["duckdb", "clickhouse"]) {
    it(`--engine ${engine}: OptionError, exit 2, the tools that run out of core named`, () => {
      const r = hdfe(["psm", "--engine", engine, "--data", files.panel, "--treatment", "x3", "--covariates", "x1"]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/OptionError: hdfe psm runs in memory only: the out-of-core engines \(--engine duckdb\) compute feols \(with i\(\) terms\), wild, placebo and hdfe event/);
      expect(r.stderr).toMatch(/matching pairs rows by their propensity scores/);
    });
  }
});
