// The ClickHouse engine on a real 2-shard cluster (tests/clickhouse-cluster.ts: two Debian
// 18.16 servers on loopback ports, a Distributed table over a MergeTree table on each, rows
// split by firm). The backend's SQL primitives (per-level sums, GLOBAL joins and sets,
// literals) against the same computations in memory; feols pushed down to the cluster
// (bindings/sql/feols-sql.ts) against the in-memory feols on the reference panel and on
// generated panels (1, 2, 3 FE, weights, NA, singletons; iid, hetero, one- and two-way
// cluster); the faults: a missing table, a shard down, a query timeout, columns missing or of
// the wrong type (on the table, or on one shard only).
//
// Tolerances (never loosened per case):
//   sums of the Distributed table vs in memory  1e-12 relative (only the summation order differs)
//   literals                                    bit for bit
//   fits: coefficients 1e-8 relative, SEs 1e-6 relative; nobs and removed rows exact
//
// Skips (with the reason) only when clickhouse-server is not installed, and then only outside
// CI: with CI=true a missing server is a failing test (.ci/install-clickhouse.sh installs it).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { ClickHouseBackend, chNumber } from "../bindings/sql/clickhouse.js";
import { SqlEngineError } from "../bindings/base/errors.js";
import { FIX } from "./reference.js";
import { clickhouseServerBinary, startCluster, underCi, loadTable, type Cluster } from "./clickhouse-cluster.js";
import { byKey, loadFrame, frameSpecs, frameRows, genPanel, cbecWithWeights, renamed, CLASH, CBEC_FAST, GEN_FAST } from "./clickhouse-data.js";
import { expectSameFit, refCase } from "./clickhouse-fits.js";
import { loadRefs } from "./reference.js";
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/estimators/feols.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { spawnSync } from "node:child_process";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const SUM_REL = 1e-12;
const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const haveServer = clickhouseServerBinary() !== null;
if (!haveServer) console.warn(`[clickhouse] ${underCi ? "FAILED" : "SKIPPED"}: clickhouse-server is missing. Install it with: bash .ci/install-clickhouse.sh`);

const ROOT = new URL("../", import.meta.url).pathname;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe.runIf(haveServer)("ClickHouse backend on a 2-shard cluster", () => {
  let c: Cluster;
  let cbec: Frame;
  let gen: Frame;
  let clash: Frame;
  let eng: Engine;
  const backend = (table = "hd.cbec", timeoutSec?: number) => new ClickHouseBackend({ url: c.url, table, timeoutSec });

  beforeAll(async () => {
    c = await startCluster();
    eng = await loadEngine();
    cbec = await cbecWithWeights(readFile, FIX);
    await loadFrame(c, cbec, "hd", "cbec", byKey(cbec.numeric("firm")), ["firm", "year", "city", "province"]);
    gen = genPanel(11, 400, { singletons: 30, na: 40 });
    await loadFrame(c, gen, "hd", "gen", byKey(gen.numeric("firm")), ["firm", "year", "grp", "h"]);
    clash = renamed(gen, CLASH);
    await loadFrame(c, clash, "hd", "clash", byKey(clash.numeric("f0")), ["f0", "k", "g0", "g"]);
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("splits the panel across both shards by firm", async () => {
    const n1 = Number((await c.query(1, "SELECT count() FROM hd.cbec_local")).trim());
    const n2 = Number((await c.query(2, "SELECT count() FROM hd.cbec_local")).trim());
    expect(n1).toBeGreaterThan(0);
    expect(n2).toBeGreaterThan(0);
    expect(n1 + n2).toBe(cbec.nrows);
    const shared = (await c.query(1, "SELECT count() FROM hd.cbec_local WHERE firm IN (SELECT firm FROM remote('127.0.0.1:" + c.shards[1]!.tcpPort + "', hd.cbec_local))")).trim();
    expect(Number(shared)).toBe(0);
  });

  it("reads the columns and the shards of the Distributed table", async () => {
    const b = backend();
    const cols = await b.columns("columns");
    expect(cols.map((x) => x.name)).toEqual(cbec.names);
    expect(cols.find((x) => x.name === "firm")!.kind).toBe("number");
    expect(cols.find((x) => x.name === "region")!.kind).toBe("text");
    expect(b.shards.map((s) => s.port)).toEqual(c.shards.map((s) => s.tcpPort));
  });

  it("writes float64 literals that come back bit for bit", async () => {
    const b = backend();
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const vals = [0, -0, 1, -1, 0.1, 1 / 3, 2 ** 53 + 2, 1e300, -1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 1e-310, NaN, Infinity, -Infinity];
    for (let i = 0; i < 200; i++) vals.push((rnd() - 0.5) * 10 ** Math.floor(rnd() * 80 - 40));
    const [r] = await b.query(`SELECT ${vals.map((v, i) => `${chNumber(v)} AS v${i}`).join(", ")}`, "literals");
    vals.forEach((v, i) => expect(Object.is(r![`v${i}`], v) || (v === 0 && r![`v${i}`] === 0)).toBe(true));
  });

  it("per-firm sums over the Distributed table equal the in-memory sums", async () => {
    const b = backend();
    const d = b.dialect;
    const rows = await b.query(
      `SELECT ${d.key(d.ident("firm"))} AS k, ${d.count()} AS n, ${d.sum("FC")} AS sy, ${d.sum("FC * Fin")} AS sxy FROM ${b.source} WHERE ${d.finite("Fin")} GROUP BY k`,
      "per-level sums",
    );
    const firm = cbec.numeric("firm"), fc = cbec.numeric("FC"), fin = cbec.numeric("Fin");
    const mem = new Map<string, { n: number; sy: number; sxy: number }>();
    for (let i = 0; i < cbec.nrows; i++) {
      if (!Number.isFinite(fin[i]!)) continue;
      const k = String(firm[i]);
      const e = mem.get(k) ?? { n: 0, sy: 0, sxy: 0 };
      e.n++;
      e.sy += fc[i]!;
      e.sxy += fc[i]! * fin[i]!;
      mem.set(k, e);
    }
    expect(rows.length).toBe(mem.size);
    for (const r of rows) {
      const e = mem.get(String(r.k))!;
      expect(r.n).toBe(e.n);
      expect(rel(Number(r.sy), e.sy)).toBeLessThan(SUM_REL);
      expect(rel(Number(r.sxy), e.sxy)).toBeLessThan(SUM_REL);
    }
  });

  it("ships a per-level table made on the initiator to both shards (GLOBAL JOIN, GLOBAL IN)", async () => {
    const b = backend();
    const d = b.dialect;
    const means = await b.tempTable("firm_means", `SELECT firm, ${d.sum("FC")} / ${d.count()} AS m FROM ${b.source} GROUP BY firm`, "firm means");
    const [r] = await b.query(
      `SELECT ${d.sum("(FC - m) * (FC - m)")} AS ss, ${d.count()} AS n FROM ${b.source}${d.join("left", `SELECT firm, m FROM ${means}`, ["firm"])}`,
      "within sum of squares",
    );
    const small = await b.tempTable("small_firms", `SELECT firm FROM ${b.source} GROUP BY firm HAVING ${d.count()} < 8`, "small firms");
    const [s] = await b.query(`SELECT ${d.count()} AS n FROM ${b.source} WHERE ${d.inSet("firm", `SELECT firm FROM ${small}`)}`, "rows of small firms");
    const [t] = await b.query(`SELECT ${d.count()} AS n FROM ${b.source} WHERE ${d.notInSet("firm", `SELECT firm FROM ${small}`)}`, "rows of other firms");
    await b.dropTable(means, "drop");
    await b.dropTable(small, "drop");
    // in memory
    const firm = cbec.numeric("firm"), fc = cbec.numeric("FC");
    const sum = new Map<number, [number, number]>();
    for (let i = 0; i < cbec.nrows; i++) {
      const e = sum.get(firm[i]!) ?? [0, 0];
      e[0] += fc[i]!;
      e[1]++;
      sum.set(firm[i]!, e);
    }
    let ss = 0, nSmall = 0;
    for (let i = 0; i < cbec.nrows; i++) {
      const [sy, n] = sum.get(firm[i]!)!;
      ss += (fc[i]! - sy / n) ** 2;
      if (n < 8) nSmall++;
    }
    expect(r!.n).toBe(cbec.nrows);
    expect(rel(Number(r!.ss), ss)).toBeLessThan(SUM_REL);
    expect(s!.n).toBe(nSmall);
    expect(Number(s!.n) + Number(t!.n)).toBe(cbec.nrows);
  });

  it("a LEFT JOIN row without a match gives NULL, as in DuckDB", async () => {
    const b = backend();
    const d = b.dialect;
    const rows = await b.query(`SELECT x, z FROM (SELECT 1 AS x UNION ALL SELECT 2 AS x)${d.join("left", "SELECT 1 AS x, 5 AS z", ["x"])} ORDER BY x`, "join nulls");
    expect(rows).toEqual([{ x: 1, z: 5 }, { x: 2, z: null }]);
  });

  for (const id of CBEC_FAST) {
    it(`reference panel, ${id}: the cluster's fit equals the in-memory fit`, async () => {
      const { formula, opts, nobs } = refCase(id);
      const mem = feols(eng, cbec, formula, opts);
      const sql = await feolsSql(backend(), formula, opts);
      expectSameFit(sql, mem, COEF_REL, SE_REL);
      expect(sql.nobs).toBe(nobs);
    });
  }

  for (const [formula, opts] of GEN_FAST) {
    it(`generated panel (NA, singletons), ${formula} ${JSON.stringify(opts)}: equal fits`, async () => {
      const mem = feols(eng, gen, formula, opts);
      const sql = await feolsSql(backend("hd.gen"), formula, opts);
      expectSameFit(sql, mem, COEF_REL, SE_REL);
      expect(sql.removed.na).toBeGreaterThan(0);
      expect(sql.removed.singletons + (opts.fixefRm === "none" ? 1 : 0)).toBeGreaterThan(0);
    });
  }

  // columns named like the aliases of the fit's SQL (n, w, k, g, c0, f0, s0, sw, v0): 18.16
  // would read an alias where a column of that name is meant; the fit reads the columns
  const clashCases: [string, Record<string, unknown>][] = [
    ["s0 ~ w + v0 + n | f0 + k", { vcov: "cluster:c0", weights: "sw" }],
    ["s0 ~ w + v0 | f0 + k + g", { vcov: "cluster:f0+g0", fixefTol: 1e-10 }],
    ["s0 ~ w + v0 + n", { vcov: "hetero" }],
  ];
  for (const [formula, opts] of clashCases) {
    it(`columns named like the SQL's aliases, ${formula} ${JSON.stringify(opts)}: equal fits`, async () => {
      const sql = await feolsSql(backend("hd.clash"), formula, opts);
      expectSameFit(sql, feols(eng, clash, formula, opts), COEF_REL, SE_REL);
    });
  }

  it("event study of the reference, i(rel, ref = c(-1, -1000)): the cluster's fit = in-memory = R fixest", async () => {
    const { formula, opts, nobs } = refCase("event_study");
    const sql = await feolsSql(backend(), formula, opts);
    expectSameFit(sql, feols(eng, cbec, formula, opts), COEF_REL, SE_REL);
    expect(sql.nobs).toBe(nobs);
    const ref = loadRefs("cbec_panel_fixest.json").find((m) => m.id === "event_study")!;
    expect(Object.keys(ref.coef).filter((k) => k.startsWith("rel::")).length).toBeGreaterThan(10);
    for (const [k, v] of Object.entries(ref.coef)) {
      expect(rel(sql.coef[k]!, v), `coef ${k}`).toBeLessThan(COEF_REL);
      expect(rel(sql.se[k]!, ref.se[k]!), `se ${k}`).toBeLessThan(SE_REL);
    }
  });

  it("i(region, year, ref = \"east\") (text factor with a variable): equal fits", async () => {
    const formula = 'FC ~ did + Fin + i(region, year, ref = "east") | firm + year';
    const sql = await feolsSql(backend(), formula, { vcov: "cluster:firm" });
    expect(sql.coefNames.filter((k) => k.startsWith("region::")).length).toBeGreaterThan(1);
    expectSameFit(sql, feols(eng, cbec, formula, { vcov: "cluster:firm" }), COEF_REL, SE_REL);
  });

  it("refuses a missing table with the step named", async () => {
    const err = await backend("hd.nope").columns("columns").catch((e) => e);
    expect(err).toBeInstanceOf(SqlEngineError);
    expect(err.message).toMatch(/step "columns"/);
    expect(err.message).toMatch(/nope/);
  });

  it("a query timeout is an error of its own, naming the step", async () => {
    const err = await backend("hd.cbec", 1).query("SELECT count() FROM numbers(100000000000)", "long scan").catch((e) => e);
    expect(err).toBeInstanceOf(SqlEngineError);
    expect(err.message).toMatch(/step "long scan".*timeout/i);
    expect(err.details.code).toBe(159);
  });

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [HDFE_BIN, "feols", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it("CLI: a formula column the table lacks exits 12 naming the step, nothing on stdout", () => {
    const r = cli(["-f", "FC ~ did + nope | firm", "--engine", "clickhouse", "--url", c.url, "--table", "hd.cbec"]);
    expect(r.code).toBe(12);
    expect(r.err).toMatch(/SqlEngineError.*step "columns".*"nope" is not a column of hd\.cbec/);
    expect(r.out).toBe("");
  });

  it("a text column as a regressor is refused at the columns step", async () => {
    const err = await feolsSql(backend(), "FC ~ did + region | firm").catch((e) => e);
    expect(err).toBeInstanceOf(SqlEngineError);
    expect(err.message).toMatch(/step "columns".*"region".*String.*not a number/);
  });

  it("a column one shard lacks, or holds as text, is refused naming the shard", async () => {
    const specs = frameSpecs(gen, ["firm", "year", "grp", "h"]);
    const rows = frameRows(gen, specs);
    const shardOf = byKey(gen.numeric("firm"));
    await loadTable(c, "hd", "gap_local", "gap", specs, rows, shardOf, (i) => (i === 2 ? specs.filter((k) => k.name !== "x2") : specs));
    await loadTable(c, "hd", "mixed_local", "mixed", specs, rows, shardOf, (i) => (i === 2 ? specs.map((k) => (k.name === "x2" ? { name: "x2", type: "Nullable(String)" } : k)) : specs));
    const gap = await feolsSql(backend("hd.gap"), "y ~ x1 + x2 | firm").catch((e) => e);
    expect(gap).toBeInstanceOf(SqlEngineError);
    expect(gap.message).toMatch(/step "columns".*"x2".*missing on shard 2 \(127\.0\.0\.1:\d+\)/);
    const mixed = await feolsSql(backend("hd.mixed"), "y ~ x1 + x2 | firm").catch((e) => e);
    expect(mixed).toBeInstanceOf(SqlEngineError);
    expect(mixed.message, mixed.message).toMatch(/step "columns".*"x2".*String\) on shard 2 \(127\.0\.0\.1:\d+\)/);
    // the model does not use the column shard 2 lacks: fitted
    const ok = await feolsSql(backend("hd.gap"), "y ~ x1 + x3 | firm", { vcov: "iid" });
    expectSameFit(ok, feols(eng, gen, "y ~ x1 + x3 | firm", { vcov: "iid" }), COEF_REL, SE_REL);
  });

  it("CLI: a slow shard past --timeout exits 12 naming the step and the shard", async () => {
    // shard 2's copy computes x1 through a sleep (3 ms a row): every query reading it takes > 1 s there
    const cols = "firm Int64, year Int64, y Nullable(Float64), w Nullable(Float64)";
    for (const s of c.shards) {
      const x1 = s.index === 2 ? "x1_raw Nullable(Float64), x1 Nullable(Float64) ALIAS x1_raw + sleepEachRow(0.003)" : "x1 Nullable(Float64)";
      await c.query(s.index, `CREATE TABLE hd.slow_local (${cols}, ${x1}) ENGINE = MergeTree ORDER BY tuple()`);
      await c.query(s.index, `INSERT INTO hd.slow_local (firm, year, y, w, ${s.index === 2 ? "x1_raw" : "x1"}) SELECT firm, year, y, w, x1 FROM hd.gen_local`);
      await c.query(s.index, `CREATE TABLE hd.slow (${cols}, x1 Nullable(Float64)) ENGINE = Distributed(${c.name}, hd, slow_local)`);
    }
    const r = cli(["-f", "y ~ x1 | firm", "--engine", "clickhouse", "--url", c.url, "--table", "hd.slow", "--timeout", "1"]);
    expect(r.code).toBe(12);
    // the slow shard is named when it reports the timeout; when the initiator's clock runs out first, the initiator is
    expect(r.err).toMatch(/step "[^"]+" on (shard 2 \(127\.0\.0\.1:\d+\)|the initiator \(http:\/\/127\.0\.0\.1:\d+\)): query timeout/);
    expect(r.out).toBe("");
  });

  it("a shard stopped between two passes of a fit: the step and the shard named, no fit (run last: it stops shard 2)", async () => {
    const steps: string[] = [];
    class StopsShard2 extends ClickHouseBackend {
      override async query(sql: string, step: string) {
        steps.push(step);
        if (step === "means") await c.stopShard(2, "SIGKILL");
        return super.query(sql, step);
      }
    }
    const b = new StopsShard2({ url: c.url, table: "hd.cbec" });
    const err = await feolsSql(b, "FC ~ did + Fin | firm + year", { vcov: "cluster:firm" }).catch((e) => e);
    expect(steps, String(err?.message)).toContain("missing values");
    expect(err).toBeInstanceOf(SqlEngineError);
    expect(err.message).toMatch(/step "means" on shard 2 \(127\.0\.0\.1:\d+\): the shard does not answer/);
    expect(err.details.shard).toBe(2);
  });
});

if (!haveServer) {
  describe("ClickHouse backend on a 2-shard cluster", () => {
    if (underCi) {
      it("has clickhouse-server under CI", () => {
        throw new Error("clickhouse-server is missing under CI: .ci/install-clickhouse.sh must install it");
      });
    } else {
      it.skip("skipped: clickhouse-server is missing (install it with: bash .ci/install-clickhouse.sh)", () => {});
    }
  });
}
