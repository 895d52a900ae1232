// hdfe event out of core (issue 16) on DuckDB: the TWFE event study of bindings/event-sql/
// (the panel prepared in SQL by sql/event-panel.ts, feols with i(rel) pushed down) against the
// in-memory eventStudy (event/twfe.ts) and against R fixest on mpdta and base_stagg
// (tests/fixtures/reference/*_fixest.json, copied from ../shared/reference); the cohort rules,
// always-treated units, missing outcomes and binning on a panel derived from mpdta (some
// counties given two adoption years, some treated from the first period, a few outcomes
// missing); the CLI (--engine duckdb --method twfe, a refused method, its exit code).
// The 2-shard ClickHouse cases are in tests/clickhouse-event.test.ts.
//
// Tolerances (relative, never loosened per case):
//   coefficients 1e-8; standard errors, CI bounds and the pre-trend chi2 1e-6;
//   nobs, removed rows, FE and cluster sizes, names, references, warnings exact.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { DuckDBBackend } from "../bindings/platform/duckdb-engine.js";
import { eventStudy, type EventStudyResult, type EventStudyOptions } from "../bindings/event/twfe.js";
import { eventStudySql } from "../bindings/event-sql/index.js";
import { sunabEventStudySql } from "../bindings/event-sql/sunab-sql.js";
import { sunabEventStudy } from "../bindings/event/suite.js";
import { OptionError, PanelError, SampleError } from "../bindings/base/errors.js";
import { FIX, loadRefs, type RefModel } from "./reference.js";
import { moversCsv, expectSameEvent, expectFixestEvent, expectSameSunab, expectFixestSunab } from "./sql-event-data.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
const ROOT = new URL("../", import.meta.url).pathname;
const fix = (f: string) => new URL(f, FIX).pathname;

let eng: Engine;
let dir: string;
let movers: string;
const frames = new Map<string, Frame>();
const backends = new Map<string, DuckDBBackend>();

async function frameOf(path: string): Promise<Frame> {
  if (!frames.has(path)) frames.set(path, Frame.fromArrow((await readFile(path)).table));
  return frames.get(path)!;
}
async function backendOf(path: string): Promise<DuckDBBackend> {
  if (!backends.has(path)) backends.set(path, await DuckDBBackend.open({ data: path, threads: 2 }));
  return backends.get(path)!;
}

beforeAll(async () => {
  eng = await loadEngine();
  dir = mkdtempSync(join(tmpdir(), "hdfe-sql-event-"));
  movers = join(dir, "mpdta_movers.csv");
  writeFileSync(movers, moversCsv(readFileSync(fix("mpdta.csv"), "utf8")));
});
afterAll(() => {
  for (const b of backends.values()) b.close();
  rmSync(dir, { recursive: true, force: true });
});

const TOL = { coef: COEF_REL, se: SE_REL };
const expectSame = (s: EventStudyResult, m: EventStudyResult) => expectSameEvent(s, m, TOL);
const expectFixest = (s: EventStudyResult, ref: RefModel, name: (k: string) => string) => expectFixestEvent(s, ref, name, TOL);

async function both(path: string, o: EventStudyOptions): Promise<[EventStudyResult, EventStudyResult]> {
  const m = eventStudy(eng, await frameOf(path), o);
  const s = await eventStudySql(await backendOf(path), o);
  return [s, m];
}

const MPDTA = { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat" };

describe("hdfe event --method twfe on DuckDB = in memory = R fixest", () => {
  it("mpdta: fixest's event study (unit cohorts, clustered by county)", async () => {
    const [s, m] = await both(fix("mpdta.csv"), MPDTA);
    expectSame(s, m);
    expectFixest(s, loadRefs("mpdta_fixest.json").find((x) => x.id === "mpdta_event")!, (k) => k);
  });
  it("base_stagg: with a control, fixest's time_to_treatment event study", async () => {
    const [s, m] = await both(fix("base_stagg.csv"), { outcome: "y", unit: "id", time: "year", adopt: "year_treated", controls: ["x1"] });
    expectSame(s, m);
    expectFixest(s, loadRefs("base_stagg_fixest.json").find((x) => x.id === "base_stagg_twfe_event")!, (k) => k.replace(/^rel::/, "time_to_treatment::"));
  });
  it("binning: leads pooled at -2 (one lead left), lags at 2 with the first lead as reference", async () => {
    const [s, m] = await both(fix("mpdta.csv"), { ...MPDTA, binLead: -2, ref: -1 });
    expectSame(s, m);
    expect(s.path.map((p) => p.rel)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(s.path[0].binned).toBe(true);
    const [s2, m2] = await both(fix("mpdta.csv"), { ...MPDTA, ref: "first", binLag: 2, level: 0.9 });
    expectSame(s2, m2);
    expect(s2.refs).toEqual([-4]);
  });
});

describe("hdfe event --method sunab on DuckDB = in memory = R fixest", () => {
  const cases = [
    { path: "mpdta.csv", roles: MPDTA, file: "mpdta_fixest.json", id: "mpdta_sunab" },
    { path: "base_stagg.csv", roles: { outcome: "y", unit: "id", time: "year", adopt: "year_treated", controls: ["x1"] }, file: "base_stagg_fixest.json", id: "base_stagg_sunab" },
  ];
  for (const c of cases) {
    it(`${c.path}: the period path and the ATT of fixest's sunab()`, async () => {
      const m = sunabEventStudy(eng, await frameOf(fix(c.path)), c.roles);
      const s = await sunabEventStudySql(eng, await backendOf(fix(c.path)), c.roles);
      expectSameSunab(s, m, TOL);
      expectFixestSunab(s, loadRefs(c.file), c.id, TOL);
    });
  }
  it("movers: --cohort first / drop, always-treated units and missing outcomes", async () => {
    for (const cohortRule of ["first", "drop"] as const) {
      const o = { ...MPDTA, cohortRule };
      expectSameSunab(await sunabEventStudySql(eng, await backendOf(movers), o), sunabEventStudy(eng, await frameOf(movers), o), TOL);
    }
  });
});

describe("the panel in SQL: cohort rules, always-treated units, missing outcomes", () => {
  it("--cohort constant: the same PanelError naming the counties with two adoption years", async () => {
    const err = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        return e as Error;
      }
      return null;
    };
    const mem = await err(async () => eventStudy(eng, await frameOf(movers), MPDTA));
    const sql = await err(async () => eventStudySql(await backendOf(movers), MPDTA));
    expect(mem).toBeInstanceOf(PanelError);
    expect(sql).toBeInstanceOf(PanelError);
    expect(sql!.message).toBe(mem!.message);
  });
  for (const cohortRule of ["first", "earliest", "drop"] as const) {
    it(`--cohort ${cohortRule}: the same fit, warnings and removed rows as in memory`, async () => {
      const [s, m] = await both(movers, { ...MPDTA, cohortRule });
      expectSame(s, m);
      expect(s.warnings.some((w) => /always-treated unit\(s\)/.test(w))).toBe(true);
      expect(s.warnings.some((w) => new RegExp(`cohort rule "${cohortRule}"`).test(w))).toBe(true);
    });
  }
  it("--cohort first with binning at -3 and 2; the panel's temp tables are dropped, after a fit and after an error", async () => {
    const [s, m] = await both(movers, { ...MPDTA, cohortRule: "first", binLead: -3, binLag: 2 });
    expectSame(s, m);
    const b = await backendOf(movers);
    await eventStudySql(b, MPDTA).catch(() => undefined); // the PanelError of "constant"
    await sunabEventStudySql(eng, b, { ...MPDTA, cohortRule: "drop" });
    const left = await b.query("SELECT table_name AS t FROM information_schema.tables WHERE table_name LIKE 'hdfe_%'", "temp tables");
    expect(left.map((r) => r.t).filter((t) => t !== "hdfe_csv_data")).toEqual([]); // hdfe_csv_data: the typed CSV, the source itself
  });
  it("no comparison group and no treated unit: the in-memory SampleErrors", async () => {
    // only the 2004 cohort kept: no never-treated unit, a single cohort
    const one = join(dir, "one_cohort.csv");
    const lines = readFileSync(fix("mpdta.csv"), "utf8").trim().split("\n");
    writeFileSync(one, [lines[0], ...lines.slice(1).filter((l) => l.split(",")[4] === "2004")].join("\n") + "\n");
    const none = join(dir, "no_treated.csv");
    writeFileSync(none, [lines[0], ...lines.slice(1).filter((l) => l.split(",")[4] === "0")].join("\n") + "\n");
    for (const path of [one, none]) {
      let mem: unknown, sql: unknown;
      try {
        eventStudy(eng, await frameOf(path), MPDTA);
      } catch (e) {
        mem = e;
      }
      await eventStudySql(await backendOf(path), MPDTA).catch((e) => (sql = e));
      expect(mem).toBeInstanceOf(SampleError);
      expect(sql).toBeInstanceOf(SampleError);
      expect((sql as Error).message).toBe((mem as Error).message);
    }
  });
});

describe("hdfe event --engine duckdb (dist/cli.js)", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, "dist/cli.js"), ...args], { encoding: "utf8", timeout: 120_000 });
  const base = ["event", "--data", fix("mpdta.csv"), "--outcome", "lemp", "--unit", "countyreal", "--time", "year", "--adopt", "first.treat"];
  it("--method twfe --json: the in-memory command's TWFE path", () => {
    const s = cli([...base, "--engine", "duckdb", "--method", "twfe", "--bin-lag", "2", "--json"]);
    const m = cli([...base, "--method", "twfe", "--bin-lag", "2", "--json"]);
    expect(s.status, s.stderr).toBe(0);
    expect(m.status, m.stderr).toBe(0);
    const js = JSON.parse(s.stdout), jm = JSON.parse(m.stdout);
    const path = (j: { overlay: { method: string; rel: number; estimate: number; se: number }[] }) => j.overlay.filter((x) => x.method === "twfe");
    expect(path(js).map((x) => x.rel)).toEqual(path(jm).map((x) => x.rel));
    path(jm).forEach((x, i) => {
      if (x.se === 0) return expect(path(js)[i].estimate).toBe(0);
      expect(rel(path(js)[i].estimate, x.estimate)).toBeLessThan(COEF_REL);
      expect(rel(path(js)[i].se, x.se)).toBeLessThan(SE_REL);
    });
  });
  it("a method that needs the rows: exit 2 (OptionError) naming why; --method all runs twfe and sunab and lists the others", () => {
    const e = cli([...base, "--engine", "duckdb", "--method", "cs"]);
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/OptionError: hdfe event --method cs runs in memory only: its influence-function standard errors/);
    expect(e.stderr).toMatch(/hint: use --method twfe or sunab with --engine duckdb/);
    const all = cli([...base, "--engine", "duckdb"]);
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/TWFE event study/);
    expect(all.stdout).not.toMatch(/sunab: not estimated/);
    for (const m of ["cs", "bjs", "bacon"]) expect(all.stdout).toMatch(new RegExp(`${m}: not estimated \\(hdfe event --method ${m} runs in memory only`));
    const help = cli(["event", "--help"]);
    expect(help.stdout.replace(/\s+/g, " ")).toMatch(/out of core: twfe, sunab only/);
    const url = cli([...base, "--engine", "duckdb", "--url", "http://127.0.0.1:1"]);
    expect(url.status).toBe(2);
    expect(url.stderr).toMatch(/--url and --timeout apply to --engine clickhouse only/);
  });
  it("the refusal is an OptionError in the library too", async () => {
    const { refuseEventMethod } = await import("../bindings/event-sql/index.js");
    const e = refuseEventMethod("bacon", "clickhouse");
    expect(e).toBeInstanceOf(OptionError);
    expect(e.message).toMatch(/each 2x2 comparison refits/);
  });
});
