// Conjugate gradient in SQL (bindings/sql/cg.ts) on the ClickHouse 18.16 dialect, on a real
// 2-shard cluster (tests/clickhouse-cluster.ts): the CG's SQL (per-level tables shipped by
// GLOBAL joins, CASE criteria) runs there and gives the in-memory fit. Heavy (a few hundred
// queries on the cluster): in vitest.large.config.ts's list.
//
// Tolerances (never loosened per case): coefficients 1e-8 relative, SEs 1e-6 relative.
// Skips (with the reason) only when clickhouse-server is not installed, as tests/clickhouse.test.ts.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ClickHouseBackend } from "../bindings/sql/clickhouse.js";
import { clickhouseServerBinary, startCluster, type Cluster } from "./clickhouse-cluster.js";
import { byKey, loadFrame, genPanel } from "./clickhouse-data.js";
import { expectSameFit } from "./clickhouse-fits.js";
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/estimators/feols.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import type { Frame } from "../bindings/core/frame.js";
import type { Engine } from "../bindings/engine/wasm.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const haveServer = clickhouseServerBinary() !== null;
if (!haveServer) console.warn("[clickhouse-cg] SKIPPED: clickhouse-server is missing. Install it with: bash .ci/install-clickhouse.sh");

describe.runIf(haveServer)("ClickHouse: CG in SQL on a 2-shard cluster", () => {
  let c: Cluster;
  let gen: Frame;
  let eng: Engine;
  beforeAll(async () => {
    c = await startCluster();
    eng = await loadEngine();
    gen = genPanel(11, 400, { singletons: 30, na: 40 });
    await loadFrame(c, gen, "hd", "gen", byKey(gen.numeric("firm")), ["firm", "year", "grp", "h"]);
  });
  afterAll(async () => {
    await c?.stop();
  });
  for (const vcov of ["iid", "cluster:firm"]) {
    it(`fixefAlgo cg, three FE (${vcov}): the in-memory fit`, async () => {
      const fm = "y ~ x1 + x2 | firm + year + h";
      const mem = feols(eng, gen, fm, { vcov });
      const sql = await feolsSql(new ClickHouseBackend({ url: c.url, table: "hd.gen" }), fm, { vcov, fixefAlgo: "cg" });
      expect(sql.converged).toBe(true);
      expect(sql.demean).toMatchObject({ algo: "cg", mapIterations: 0 });
      expect(sql.demean!.cgIterations).toBeGreaterThan(0);
      expectSameFit(sql, mem, COEF_REL, SE_REL);
    });
  }
});
