// The cases of tests/sql-duckdb.test.ts ("fast": in npm test) and tests/sql-duckdb.large.test.ts
// ("large": the rest of the matrix, npm run test:large), one list split by index.
// Out-of-core feols in DuckDB (bindings/sql/ over bindings/platform/duckdb-engine.ts) against
// the in-memory feols and the R fixest reference: the same sample (NA and singleton counts),
// coefficients, SEs, K, df, R2; iid / hetero / one- and two-way cluster, ssc, weights, 1, 2
// and 3 FE; CSV, Parquet and .duckdb tables; the fault cases. Real DuckDB on real files.
// The longer matrix of models is tests/sql-duckdb.large.test.ts (npm run test:large).
// Tolerances: tests/sql-duckdb-setup.ts (coefficients 1e-8, SEs 1e-6 relative, r2 1e-8).
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { loadEngine } from "../bindings/node.js";
import { WASM_MAX_BYTES } from "../bindings/engine/wasm.js";
import { join } from "node:path";
import { feols, type FeolsOptions } from "../bindings/estimators/feols.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import { DuckDBBackend } from "../bindings/platform/duckdb-engine.js";
import { OptionError, SqlEngineError } from "../bindings/base/errors.js";
import { COEF_REL, SE_REL, R2_ABS, rel, FIX, eng, frameOf, backendOf, expectSameFit, files } from "./sql-duckdb-setup.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

/** Which cases a file runs: the fast ones by index, the large file the others. */
const pick = <T,>(part: "fast" | "large", xs: T[], fast: number[]): T[] => xs.filter((_, i) => fast.includes(i) === (part === "fast"));

export function defineCases(part: "fast" | "large"): void {

describe("cbec panel: DuckDB engine = in-memory feols", () => {
  const models: [string, FeolsOptions][] = [
    ["FC ~ did | firm + year", { vcov: "iid" }],
    ["FC ~ did | firm + year", { vcov: "hetero" }],
    ["FC ~ did | firm + year", { vcov: "cluster:firm" }],
    ["FC ~ did | firm + year", { vcov: "cluster:city" }],
    ["FC ~ did | firm + year", { vcov: "cluster:firm+year" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm", ssc: "full" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm", ssc: "none" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:city", ssc: "stata" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm", weights: "w" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm", { vcov: "cluster:firm" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE", { vcov: "hetero" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE", { vcov: "iid", weights: "w" }],
  ];
  const all = (["singleton", "none"] as const).flatMap((fixefRm) => models.map(([fm, o]) => [fm, o, fixefRm] as const));
  for (const [fm, o, fixefRm] of pick(part, all, [0, 2, 4, 9, 11])) {
    {
      it(`${fm} ${JSON.stringify(o)} fixef.rm ${fixefRm}`, async () => {
        const opts = { ...o, fixefRm };
        const a = feols(eng, await frameOf(files.cbecW), fm, opts);
        const s = await feolsSql(await backendOf(files.cbecW), fm, opts);
        expectSameFit(s, a);
      });
    }
  }
});

describe("cbec panel: DuckDB engine = R fixest (reference JSON)", () => {
  const ref = JSON.parse(readFileSync(join(FIX, "cbec_panel_fixest.json"), "utf8")) as {
    id: string; nobs: number; coef: Record<string, number>; se: Record<string, number>; r2: number;
  }[];
  const cases: [string, string, FeolsOptions][] = [
    ["t3c1_iid", "FC ~ did | firm + year", { vcov: "iid", fixefRm: "none" }],
    ["t3c1_hetero", "FC ~ did | firm + year", { vcov: "hetero", fixefRm: "none" }],
    ["t3c1_cl_city", "FC ~ did | firm + year", { vcov: "cluster:city", fixefRm: "none" }],
    ["t3c1_cl_firm_year", "FC ~ did | firm + year", { vcov: "cluster:firm+year", fixefRm: "none" }],
    ["t3c2_ssc_full", "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm", ssc: "full", fixefRm: "none" }],
    ["t3c2_singletons", "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm", fixefRm: "singleton" }],
    ["one_fe", "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm", { vcov: "cluster:firm", fixefRm: "none" }],
    ["no_fe_hetero", "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE", { vcov: "hetero" }],
    ["weighted", "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm", weights: "w", fixefRm: "none" }],
  ];
  for (const [id, fm, o] of pick(part, cases, [3, 4, 6, 8])) {
    it(id, async () => {
      const m = ref.find((r) => r.id === id)!;
      const s = await feolsSql(await backendOf(files.cbecW), fm, o);
      expect(s.nobs).toBe(m.nobs);
      for (const [k, v] of Object.entries(m.coef)) {
        expect(rel(s.coef[k], v), `coef ${k}`).toBeLessThan(COEF_REL);
        expect(rel(s.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
      }
      expect(Math.abs(s.r2 - m.r2)).toBeLessThan(R2_ABS);
    });
  }
});

describe("generated panels (NA, singletons, weights): DuckDB engine = in-memory feols", () => {
  // the 3-FE fits run the projections in both engines: both to a tight tolerance
  const tight = { fixefTol: 1e-12 };
  const models: [string, FeolsOptions][] = [
    ["y ~ x1 + x2 + x3 | firm", { vcov: "cluster:firm" }],
    ["y ~ x1 + x2 + x3 | firm", { vcov: "hetero", weights: "w" }],
    ["y ~ x1 + x2 + x3 | firm + year", { vcov: "iid" }],
    ["y ~ x1 + x2 + x3 | firm + year", { vcov: "cluster:firm+year", weights: "w" }],
    ["y ~ x1 + x2 + x3 | firm + year", { vcov: "cluster:region", ssc: "stata" }],
    ["y ~ x1 + x2 | firm + year + ind", { vcov: "cluster:firm", ...tight }],
    ["y ~ x1 + x2 | firm + year + ind", { vcov: "cluster:firm+ind", weights: "w", ...tight }],
    ["y ~ x1 + x2 | firm + year + ind", { vcov: "hetero", ssc: "full", ...tight }],
    ["y ~ x1 + x2 + x3", { vcov: "cluster:region" }],
  ];
  for (const [fm, o] of pick(part, models, [0, 3, 4, 8])) {
    it(`${fm} ${JSON.stringify(o)}`, async () => {
      const a = feols(eng, await frameOf(files.panel), fm, o);
      expect(a.removed.na).toBeGreaterThan(0);
      const s = await feolsSql(await backendOf(files.panel), fm, o);
      expectSameFit(s, a);
      if (fm.includes("|")) expect(s.removed.singletons).toBeGreaterThan(0);
    });
  }
  if (part === "fast") it("Parquet file and .duckdb table give the CSV's fit", async () => {
    const fm = "y ~ x1 + x2 + x3 | firm + year";
    const o: FeolsOptions = { vcov: "cluster:firm", weights: "w" };
    const a = feols(eng, await frameOf(files.panel), fm, o);
    expectSameFit(await feolsSql(await backendOf(files.panelParquet), fm, o), a);
    expectSameFit(await feolsSql(await backendOf(files.db, "panel"), fm, o), a);
  });
  if (part === "fast") it("a collinear regressor is dropped as in memory", async () => {
    const b = await backendOf(files.db, "panel");
    // a regressor constant within firm is absorbed by the FE
    const t = await b.tempTable("withconst", `SELECT *, CAST(firm % 5 AS DOUBLE) AS z FROM ${b.source}`, "test");
    const src = b.source;
    try {
      (b as { source: string }).source = t;
      const s = await feolsSql(b, "y ~ x1 + z + x2 | firm");
      expect(s.collinear).toEqual(["z"]);
      expect(s.coefNames).toEqual(["x1", "x2"]);
    } finally {
      (b as { source: string }).source = src;
      await b.dropTable(t, "test");
    }
  });
});

if (part === "fast") describe("columns named like the SQL's aliases; i() terms: DuckDB engine = in-memory feols", () => {
  const clash: [string, FeolsOptions][] = [
    ["s0 ~ w + v0 + n | f0 + k", { vcov: "cluster:c0", weights: "sw" }],
    ["s0 ~ w + v0 | f0 + k + g", { vcov: "cluster:f0+k", fixefTol: 1e-12 }],
    ["s0 ~ w + v0 + n", { vcov: "hetero" }],
  ];
  for (const [fm, o] of clash) {
    it(`${fm} ${JSON.stringify(o)}`, async () => {
      expectSameFit(await feolsSql(await backendOf(files.clash), fm, o), feols(eng, await frameOf(files.clash), fm, o));
    });
  }
  const iCases: [string, FeolsOptions][] = [
    ["FC ~ i(rel, ref = c(-1, -1000)) + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", { vcov: "cluster:firm" }],
    ["FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE + i(region, year, ref = \"east\") | firm + year", { vcov: "cluster:firm" }],
    ["FC ~ i(rel, keep = c(-2, 0, 1, 2)) + Fin | firm + year", { vcov: "hetero", weights: "w" }],
  ];
  for (const [fm, o] of iCases) {
    it(`${fm} ${JSON.stringify(o)}`, async () => {
      const s = await feolsSql(await backendOf(files.cbecW), fm, o);
      expect(s.coefNames.some((nm) => nm.includes("::"))).toBe(true);
      expectSameFit(s, feols(eng, await frameOf(files.cbecW), fm, o));
    });
  }
  it("event_study of the reference (i(rel, ref = c(-1, -1000))) = R fixest", async () => {
    const m = (JSON.parse(readFileSync(join(FIX, "cbec_panel_fixest.json"), "utf8")) as { id: string; nobs: number; coef: Record<string, number>; se: Record<string, number> }[]).find((r) => r.id === "event_study")!;
    const s = await feolsSql(await backendOf(files.cbecW), iCases[0][0], { vcov: "cluster:firm", fixefRm: "none" });
    expect(s.nobs).toBe(m.nobs);
    expect(Object.keys(m.coef).length).toBeGreaterThan(10);
    for (const [k, v] of Object.entries(m.coef)) {
      expect(rel(s.coef[k], v), `coef ${k}`).toBeLessThan(COEF_REL);
      expect(rel(s.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
    }
  });
  it("a reference that is no level, and i() arguments the engines do not compute, are clear errors", async () => {
    await expect(feolsSql(await backendOf(files.cbecW), "FC ~ i(rel, ref = 77) | firm")).rejects.toThrow(/"77" is not a level of "rel"/);
    await expect(feolsSql(await backendOf(files.cbecW), "FC ~ i(rel, bin = c(-9, -8)) | firm")).rejects.toThrow(/bin is not computed by the out-of-core engines/);
  });
});

if (part === "fast") describe("faults: a clear SqlEngineError naming the step, no result", () => {
  it("a missing column", async () => {
    const err = await feolsSql(await backendOf(files.panel), "y ~ nope | firm").catch((e) => e);
    expect(err).toBeInstanceOf(SqlEngineError);
    expect(err.message).toMatch(/step "columns".*regressor "nope"/);
  });
  it("a column of the wrong type", async () => {
    const err = await feolsSql(await backendOf(files.db, "bad"), "y ~ x1 | firm").catch((e) => e);
    expect(err).toBeInstanceOf(SqlEngineError);
    expect(err.message).toMatch(/outcome "y".*VARCHAR/);
  });
  it("a query error names the step and leaves no table behind", async () => {
    const b = await backendOf(files.panel);
    const err = await b.query("SELECT no_such_function(1)", "probe").catch((e) => e);
    expect(err).toBeInstanceOf(SqlEngineError);
    expect(err.message).toMatch(/duckdb: step "probe" failed/);
    const left = await b.query("SELECT count(*) AS n FROM duckdb_tables() WHERE temporary AND table_name LIKE 'hdfe_%' AND table_name <> 'hdfe_csv_data'", "probe");
    expect(left[0].n).toBe(0);
  });
  it("a database without --table, and unsupported terms, are option errors", async () => {
    await expect(DuckDBBackend.open({ data: files.db })).rejects.toThrow(OptionError);
    await expect(feolsSql(await backendOf(files.panel), "y ~ x1 | firm[x2]")).rejects.toThrow(/varying slopes/);
    await expect(feolsSql(await backendOf(files.panel), "y ~ x1:x2 | firm")).rejects.toThrow(/interaction/);
  });
});

if (part === "fast") describe("CLI: hdfe feols --engine duckdb", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [HDFE_BIN, ...args], { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname });
  it("prints the out-of-core fit (--json), progress on stderr", async () => {
    const fm = "y ~ x1 + x2 + x3 | firm + year";
    const r = cli(["feols", "--data", files.panel, "-f", fm, "--engine", "duckdb", "--vcov", "cluster:firm", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/duckdb: sample: /);
    const j = JSON.parse(r.stdout);
    const a = feols(eng, await frameOf(files.panel), fm, { vcov: "cluster:firm" });
    for (const k of a.coefNames) {
      expect(rel(j.coef[k], a.coef[k])).toBeLessThan(COEF_REL);
      expect(rel(j.se[k], a.se[k])).toBeLessThan(SE_REL);
    }
    expect(j.removed.singletons).toBe(a.removed.singletons);
  });
  it("a missing column exits 12 naming the step; another tool given --engine exits 2 naming feols", () => {
    const r = cli(["feols", "--data", files.db, "--table", "panel", "-f", "y ~ nope | firm"]);
    expect(r.status).toBe(12);
    expect(r.stderr).toMatch(/SqlEngineError: duckdb: step "columns"/);
    // (placebo runs out of core since issue 16's last item: psm is the tool refused here)
    const p = cli(["psm", "--engine", "duckdb", "--data", files.panel]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/out-of-core engines .* compute feols/);
  });
  it("the event study as feols with i() out of core = R fixest; hdfe event --engine duckdb refuses a method that needs the rows, saying why and how", () => {
    const m = (JSON.parse(readFileSync(join(FIX, "cbec_panel_fixest.json"), "utf8")) as { id: string; nobs: number; coef: Record<string, number>; se: Record<string, number> }[]).find((r) => r.id === "event_study")!;
    const r = cli(["feols", "--data", files.cbecW, "-f", "FC ~ i(rel, ref = c(-1, -1000)) + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year", "--engine", "duckdb", "--vcov", "cluster:firm", "--fixef-rm", "none", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.nobs).toBe(m.nobs);
    for (const [k, v] of Object.entries(m.coef)) {
      expect(rel(j.coef[k], v), `coef ${k}`).toBeLessThan(COEF_REL);
      expect(rel(j.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
    }
    // issue 16: --method twfe now runs out of core (tests/sql-event.test.ts); the methods that need the rows are refused
    const e = cli(["event", "--engine", "duckdb", "--data", files.cbecW, "--outcome", "FC", "--unit", "firm", "--time", "year", "--adopt", "adopt", "--method", "bjs"]);
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/hdfe event --method bjs runs in memory only: the imputation predicts every treated row/);
    expect(e.stderr).toMatch(/use --method twfe or sunab with --engine duckdb/);
  });
  it("the memory-plan error names the engine that fits the model", async () => {
    const frame = await frameOf(files.panel);
    const e2 = await loadEngine();
    e2.alloc(WASM_MAX_BYTES - e2.usedBytes - (1 << 20), "test ballast");
    const err = (() => {
      try {
        feols(e2, frame, "y ~ x1 + x2 | firm + year");
      } catch (e) {
        return e as Error & { hint?: string };
      }
      return null;
    })();
    expect(err?.name).toBe("WasmMemoryError");
    expect(err!.hint).toMatch(/--engine duckdb/);
  });
});
}
