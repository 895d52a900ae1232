// hdfe event out of core on the 2-shard ClickHouse 18.16 cluster (tests/clickhouse-cluster.ts:
// a Distributed table over a MergeTree table per shard, rows split by unit): the TWFE event
// study of bindings/event-sql/ (the panel in SQL: cohort temp tables joined GLOBAL, no window
// functions) against the in-memory eventStudy and R fixest on mpdta and base_stagg; the cohort
// rules, always-treated units and missing outcomes on the derived mpdta of
// tests/sql-event-data.ts; binning; the CLI with --engine clickhouse --url --table.
// In the heavy list (vitest.config.ts): the cluster takes about 30 s to start.
//
// Tolerances (relative, never loosened per case):
//   coefficients 1e-8; standard errors, CI bounds and the pre-trend chi2 1e-6;
//   nobs, removed rows, FE and cluster sizes, names, references, warnings exact.
//
// Skips (with the reason) only when clickhouse-server is not installed, and then only outside
// CI: with CI=true a missing server is a failing test.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { ClickHouseBackend } from "../bindings/sql/clickhouse.js";
import { eventStudy, type EventStudyResult, type EventStudyOptions } from "../bindings/event/twfe.js";
import { eventStudySql } from "../bindings/event-sql/index.js";
import { sunabEventStudySql } from "../bindings/event-sql/sunab-sql.js";
import { sunabEventStudy } from "../bindings/event/suite.js";
import { PanelError } from "../bindings/base/errors.js";
import { FIX, loadRefs, type RefModel } from "./reference.js";
import { clickhouseServerBinary, startCluster, underCi, type Cluster } from "./clickhouse-cluster.js";
import { byKey, loadFrame, renamed } from "./clickhouse-data.js";
import { moversCsv, expectSameEvent, expectFixestEvent, expectSameSunab, expectFixestSunab } from "./sql-event-data.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const haveServer = clickhouseServerBinary() !== null;
if (!haveServer) console.warn(`[clickhouse-event] ${underCi ? "FAILED" : "SKIPPED"}: clickhouse-server is missing. Install it with: bash .ci/install-clickhouse.sh`);

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
const ROOT = new URL("../", import.meta.url).pathname;
const fix = (f: string) => new URL(f, FIX).pathname;
// ClickHouse 18.16 reads a dot in a column name as a Nested column: mpdta's first.treat renamed
const MPDTA = { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first_treat" };

const TOL = { coef: COEF_REL, se: SE_REL };
const expectSame = (s: EventStudyResult, m: EventStudyResult) => expectSameEvent(s, m, TOL);
const expectFixest = (s: EventStudyResult, ref: RefModel, name: (k: string) => string) => expectFixestEvent(s, ref, name, TOL);

describe.runIf(haveServer)("hdfe event --method twfe on a 2-shard ClickHouse cluster = in memory = R fixest", () => {
  let c: Cluster;
  let eng: Engine;
  let dir: string;
  const frames: Record<string, Frame> = {};
  const backend = (table: string) => new ClickHouseBackend({ url: c.url, table });
  const both = async (set: string, o: EventStudyOptions): Promise<[EventStudyResult, EventStudyResult]> => {
    const m = eventStudy(eng, frames[set], o);
    return [await eventStudySql(backend(`ev.${set}`), o), m];
  };

  beforeAll(async () => {
    c = await startCluster();
    eng = await loadEngine();
    dir = mkdtempSync(join(tmpdir(), "hdfe-ch-event-"));
    const movers = join(dir, "mpdta_movers.csv");
    writeFileSync(movers, moversCsv(readFileSync(fix("mpdta.csv"), "utf8")));
    const load = async (path: string) => Frame.fromArrow((await readFile(path)).table);
    frames.mpdta = renamed(await load(fix("mpdta.csv")), { "first.treat": "first_treat" });
    frames.movers = renamed(await load(movers), { "first.treat": "first_treat" });
    frames.stagg = await load(fix("base_stagg.csv"));
    for (const set of ["mpdta", "movers"]) await loadFrame(c, frames[set], "ev", set, byKey(frames[set].numeric("countyreal")), ["countyreal", "year", "first_treat"]);
    await loadFrame(c, frames.stagg, "ev", "stagg", byKey(frames.stagg.numeric("id")), ["id", "year", "year_treated"]);
  });
  afterAll(async () => {
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("mpdta and base_stagg: fixest's TWFE event studies", async () => {
    const [s, m] = await both("mpdta", MPDTA);
    expectSame(s, m);
    expectFixest(s, loadRefs("mpdta_fixest.json").find((x) => x.id === "mpdta_event")!, (k) => k);
    const [s2, m2] = await both("stagg", { outcome: "y", unit: "id", time: "year", adopt: "year_treated", controls: ["x1"] });
    expectSame(s2, m2);
    expectFixest(s2, loadRefs("base_stagg_fixest.json").find((x) => x.id === "base_stagg_twfe_event")!, (k) => k.replace(/^rel::/, "time_to_treatment::"));
  });
  it("binning and a first-lead reference", async () => {
    const [s, m] = await both("mpdta", { ...MPDTA, binLead: -2, binLag: 2, ref: "first" });
    expectSame(s, m);
  });
  it("cohort rules on counties with two adoption years, always-treated units and missing outcomes", async () => {
    let mem: unknown, sql: unknown;
    try {
      eventStudy(eng, frames.movers, MPDTA);
    } catch (e) {
      mem = e;
    }
    await eventStudySql(backend("ev.movers"), MPDTA).catch((e) => (sql = e));
    expect(mem).toBeInstanceOf(PanelError);
    expect(sql).toBeInstanceOf(PanelError);
    expect((sql as Error).message).toBe((mem as Error).message);
    for (const cohortRule of ["first", "earliest", "drop"] as const) {
      const [s, m] = await both("movers", { ...MPDTA, cohortRule, binLead: -3 });
      expectSame(s, m);
    }
  });
  it("sunab: fixest's period path and ATT on mpdta and base_stagg, and the movers under --cohort first", async () => {
    const cases = [
      { set: "mpdta", roles: MPDTA, file: "mpdta_fixest.json", id: "mpdta_sunab" },
      { set: "stagg", roles: { outcome: "y", unit: "id", time: "year", adopt: "year_treated", controls: ["x1"] }, file: "base_stagg_fixest.json", id: "base_stagg_sunab" },
      { set: "movers", roles: { ...MPDTA, cohortRule: "first" as const }, file: "", id: "" },
    ];
    for (const c of cases) {
      const s = await sunabEventStudySql(eng, backend(`ev.${c.set}`), c.roles);
      const m = sunabEventStudy(eng, frames[c.set], c.roles);
      expectSameSunab(s, m, TOL);
      if (c.file) expectFixestSunab(s, loadRefs(c.file), c.id, TOL);
    }
  });
  it("the CLI: --engine clickhouse --url --table --method twfe --json = in memory; a refused method exits 2", () => {
    const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, "dist/cli.js"), ...args], { encoding: "utf8", timeout: 120_000 });
    const roles = ["--outcome", "lemp", "--unit", "countyreal", "--time", "year", "--adopt", "first_treat", "--method", "twfe", "--json"];
    const r = cli(["event", "--engine", "clickhouse", "--url", c.url, "--table", "ev.mpdta", ...roles]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { overlay: { method: string; rel: number; estimate: number; se: number }[] };
    const m = eventStudy(eng, frames.mpdta, MPDTA);
    const pts = j.overlay.filter((x) => x.method === "twfe");
    expect(pts.map((x) => x.rel)).toEqual(m.path.map((p) => p.rel));
    m.path.forEach((p, i) => {
      if (!p.reference) expect(rel(pts[i].estimate, p.estimate)).toBeLessThan(COEF_REL);
    });
    const e = cli(["event", "--engine", "clickhouse", "--url", c.url, "--table", "ev.mpdta", ...roles.slice(0, -3), "--method", "bacon"]);
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/--method bacon runs in memory only: each 2x2 comparison refits/);
  });
});
