// The placebo (randomization inference) out of core in DuckDB: `hdfe placebo --engine duckdb`
// (sql/placebo-sql.ts: (unit, year) cell sums and the basis columns' projections pulled back;
// inference/placebo-cells.ts: the in-memory plan and basis draws on them) against the in-memory
// `hdfe placebo` on the same rows: the reference cbec panel (firm + year, 195 cities; its CSV in
// memory, as Parquet out of core; with its weights), fixest's 200 replayed draws (cbec_placebo_draws.csv), and a
// generated panel with missing values and singletons (tests/sql-placebo-setup.ts; CSV, Parquet
// and a .duckdb table); in-space (strata too) and random-time draws; the direct projection and
// the basis columns demeaned in SQL (--basis-solver demean, and three FE). The options it
// cannot run are refused, naming why and the way out. ClickHouse: tests/sql-placebo-clickhouse.test.ts.
//
// Tolerances: tests/sql-placebo-setup.ts (both runs at --fixef-tol 1e-12; p-values exact;
// estimate 1e-10 relative; each draw 1e-10 of max(|b*|, |estimate|); sample counts exact).
// Against fixest (cbec_placebo_fixest.json): every draw 1e-8 relative, p-values exact, as
// tests/placebo.test.ts checks the in-memory run.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { placeboJsonAsync, expectSamePlacebo, placeboPanelCsv, hdfe, hdfeAsync, FIXEF_TOL } from "./sql-placebo-setup.js";

const COEF_REL = 1e-8;
const FIX = new URL("./fixtures/reference/", import.meta.url).pathname;
const MODEL = "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year";
const CBEC = ["--treatment", "did", "--unit", "city", "--adopt", "adopt", "--year", "year"];
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

const files = { cbec: join(FIX, "cbec_panel.csv"), cbecW: "", cbecParquet: "", cbecWParquet: "", gen: "", genParquet: "", db: "", moved: "" };
let dir = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hdfe-sql-placebo-"));
  const p = readFileSync(files.cbec, "utf8").trimEnd().split("\n");
  const w = readFileSync(join(FIX, "cbec_weights.csv"), "utf8").trimEnd().split("\n");
  writeFileSync((files.cbecW = join(dir, "cbec_w.csv")), p.map((l, i) => `${l},${w[i]}`).join("\n") + "\n");
  const gen = placeboPanelCsv(20260101, 500);
  writeFileSync((files.gen = join(dir, "gen.csv")), gen);
  // a city whose adoption year changes between its rows (a data error both engines name)
  const lines = gen.trimEnd().split("\n");
  const i = lines.findIndex((l, k) => k > 0 && l.split(",")[2] === "3");
  const cells = lines[i].split(",");
  cells[5] = "2019";
  lines[i] = cells.join(",");
  writeFileSync((files.moved = join(dir, "moved.csv")), lines.join("\n") + "\n");
  const mod = await import("@duckdb/node-api");
  const inst = await mod.DuckDBInstance.create(":memory:");
  const con = await inst.connect();
  files.genParquet = join(dir, "gen.parquet");
  // the cbec panels as Parquet out of core (the CSV path: the generated panel; a CSV is first typed by DuckDB, 2 s for cbec)
  files.cbecParquet = join(dir, "cbec.parquet");
  files.cbecWParquet = join(dir, "cbec_w.parquet");
  for (const [from, to] of [[files.cbec, files.cbecParquet], [files.cbecW, files.cbecWParquet]]) {
    await con.run(`COPY (SELECT * FROM read_csv('${from}', header = true, nullstr = ['', 'NA'])) TO '${to}' (FORMAT parquet)`);
  }
  files.db = join(dir, "gen.duckdb");
  await con.run(`COPY (SELECT * FROM read_csv('${files.gen}', header = true, nullstr = ['', 'NA'])) TO '${files.genParquet}' (FORMAT parquet)`);
  await con.run(`ATTACH '${files.db}' AS out`);
  await con.run(`CREATE TABLE out.gen AS SELECT * FROM read_csv('${files.gen}', header = true, nullstr = ['', 'NA'])`);
  await con.run("DETACH out");
  con.closeSync();
  inst.closeSync();
});
afterAll(() => {
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
});

type Data = keyof typeof files;
interface Case { data: Data; formula: string; args: string[]; table?: string; solver?: string; removed?: boolean; memData?: Data }
const GEN = ["--treatment", "did", "--unit", "city", "--adopt", "adopt", "--year", "year"];

const CASES: Case[] = [
  // the cbec CSV with the study's model: the replay of fixest's draws below
  { data: "cbecWParquet", memData: "cbecW", formula: "FC ~ did + Fin + Eco | firm + year", args: [...CBEC, "--draws", "300", "--weights", "w", "--scheme", "random-time", "--strata", "province"], solver: "direct" },
  { data: "gen", formula: "y ~ did + x1 + x2 | firm + year", args: [...GEN, "--draws", "999", "--strata", "province"], solver: "direct", removed: true },
  { data: "genParquet", formula: "y ~ did + x1 | firm", args: [...GEN, "--draws", "400", "--scheme", "random-time", "--seed", "9"], solver: "direct", removed: true },
  { data: "db", table: "gen", formula: "y ~ did + x2 | firm + year", args: [...GEN, "--draws", "500", "--weights", "w"], solver: "direct", removed: true },
  // a text unit of assignment (units in text order: k1, k10, k11, ...)
  { data: "genParquet", formula: "y ~ did + x1 + x2 | firm + year", args: [...GEN.map((a) => (a === "city" ? "cityname" : a)), "--draws", "500", "--seed", "6"], solver: "direct", removed: true },
  // the basis columns demeaned in SQL (the path of three FE, or two large ones: no direct algebra out of core)
  { data: "gen", formula: "y ~ did + x1 + x2 | firm + year", args: [...GEN, "--draws", "300", "--basis-solver", "demean", "--seed", "2"], solver: "demean", removed: true },
];

describe("hdfe placebo --engine duckdb = in memory (same seed, same draws)", () => {
  for (const c of CASES) {
    it(`${c.data}: ${c.formula} ${c.args.slice(8).join(" ")}`, async () => {
      const data = c.table ? ["--data", files[c.data], "--table", c.table] : ["--data", files[c.data]];
      const args = ["-f", c.formula, "--fixef-tol", String(FIXEF_TOL), ...c.args];
      // in memory the .duckdb table is the CSV it was made from
      const [mem, sql] = await Promise.all([placeboJsonAsync(["--data", c.data === "db" ? files.gen : files[c.memData ?? c.data], ...args]), placeboJsonAsync([...data, ...args, "--engine", "duckdb"])]);
      expectSamePlacebo(sql, mem);
      expect(sql.method).toBe("basis");
      expect(sql.basisSolver).toBe(c.solver);
      if (c.removed) {
        // the generated panel's small effect: p-values off 0 and 1 (cbec's estimate is beyond every draw: two-sided p 0)
        expect(mem.p.twoSided.p).toBeGreaterThan(0);
        expect(mem.p.twoSided.p).toBeLessThan(1);
        expect(mem.removed.na as number).toBeGreaterThan(0);
        expect(mem.removed.singletons as number).toBeGreaterThan(0);
      }
    });
  }

  it("fixest's 200 replayed in-space draws (cbec_placebo_draws.csv) out of core: every draw 1e-8, the p-values exactly", async () => {
    const ref = JSON.parse(readFileSync(join(FIX, "cbec_placebo_fixest.json"), "utf8"));
    const args = ["-f", MODEL, ...CBEC, "--assignments", join(FIX, "cbec_placebo_draws.csv"), "--fixef-rm", "none", "--fixef-tol", String(FIXEF_TOL)];
    const [sql, mem] = await Promise.all([placeboJsonAsync(["--data", files.cbecParquet, ...args, "--engine", "duckdb"]), placeboJsonAsync(["--data", files.cbec, ...args])]);
    expect(rel(sql.estimate, ref.estimate)).toBeLessThan(COEF_REL);
    expect(sql.draws.length).toBe(ref.draws);
    expect(sql.drawIds).toEqual(Array.from({ length: 200 }, (_, d) => d + 1));
    let worst = 0;
    for (let d = 0; d < ref.draws; d++) worst = Math.max(worst, rel(sql.draws[d]!, ref.placebo_coefs[d]));
    expect(worst).toBeLessThan(COEF_REL);
    expect(sql.p.twoSided.p).toBe(ref.p_two_sided);
    expect(sql.p.left.p).toBe(ref.p_left);
    expect(sql.p.right.p).toBe(ref.p_right);
    expect(sql.valid).toBe(200);
    expectSamePlacebo(sql, mem);
  });

  it("the text report: the same p-value table and sample line as in memory; --save-assignments writes the same draws", async () => {
    const out1 = join(dir, "a-mem.csv"), out2 = join(dir, "a-sql.csv");
    const args = ["placebo", "--data", files.gen, "-f", "y ~ did + x1 | firm + year", ...GEN, "--draws", "50", "--fixef-tol", String(FIXEF_TOL)];
    const [mem, sql] = await Promise.all([hdfeAsync([...args, "--save-assignments", out1], () => {}), hdfeAsync([...args, "--engine", "duckdb", "--save-assignments", out2], () => {})]);
    expect(mem.status, mem.stderr).toBe(0);
    expect(sql.status, sql.stderr).toBe(0);
    const table = (s: string) => s.split("\n").filter((l) => /^(observations|two-sided|left|right|ties|placebo coefficients)/.test(l));
    expect(table(sql.stdout)).toEqual(table(mem.stdout));
    expect(table(mem.stdout).length).toBe(6);
    expect(sql.stdout).toMatch(/observations: \d+ \(removed: [1-9]\d* with missing values, [1-9]\d* singletons\)/);
    expect(readFileSync(out2, "utf8")).toBe(readFileSync(out1, "utf8"));
    expect(sql.stderr).toMatch(/duckdb: placebo: 30 units, \d+ basis columns \(direct\)/);
  });
});

describe("hdfe placebo --engine duckdb: what it refuses, and data errors as in memory", () => {
  const base = ["placebo", "--data", "", "-f", "y ~ did + x1 | firm + year", ...GEN, "--draws", "20", "--engine", "duckdb"];
  const run = (extra: string[], data = files.gen) => hdfe([...base.map((a, i) => (i === 2 ? data : a)), ...extra]);
  const refusals: [string[], RegExp, RegExp][] = [
    [["--scheme", "time"], /the in-time placebo \(--scheme time\) is not computed out of core: its standard errors need each row's residual/, /without --engine/],
    [["--method", "demean"], /--method demean is not computed out of core: it demeans every draw's treatment/, /--method basis or auto/],
    [["--threads", "2"], /--threads is not used out of core/, /without --engine/],
  ];
  for (const [extra, msg, hint] of refusals) {
    it(`${extra.join(" ")}: OptionError, exit 2, why and the way out, nothing on stdout`, () => {
      const r = run(extra);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(new RegExp(`OptionError: ${msg.source}`));
      expect(r.stderr).toMatch(new RegExp(`hint: .*${hint.source}`));
      expect(r.stderr).not.toMatch(/duckdb: sample/);
    });
  }

  it("a city whose adoption year changes: the in-memory OptionError and exit code", async () => {
    const [mem, sql] = await Promise.all([
      hdfeAsync(base.map((a, i) => (i === 2 ? files.moved : a)).filter((_, i) => i < base.length - 2), () => {}),
      hdfeAsync(base.map((a, i) => (i === 2 ? files.moved : a)), () => {}),
    ]);
    for (const r of [mem, sql]) {
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/OptionError: the adoption year "adopt" is not constant within city 3 \(\d{4} and \d{4}\)/);
    }
  });

  it("an unknown --unit column: the engine's error naming it (exit 12), before the fit", () => {
    const r = hdfe([...base.map((a) => (a === "city" ? "town" : a)).map((a, i) => (i === 2 ? files.gen : a))]);
    expect(r.status, r.stderr).toBe(12);
    expect(r.stderr).toMatch(/SqlEngineError: duckdb: step "columns": unit column \(--unit\) "town" is not a column/);
    expect(r.stderr).not.toMatch(/duckdb: sample/);
    expect(r.stdout).toBe("");
  });
});
