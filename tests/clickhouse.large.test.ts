// The heavy part of the ClickHouse engine tests (npm run test:large): every model of the
// reference panel that the SQL engines fit on the whole sample, and more generated-panel
// cases, on a real 2-shard cluster (tests/clickhouse-cluster.ts), each against the in-memory
// feols. tests/clickhouse.test.ts has the fast subset, the primitives and the faults.
//
// Tolerances (never loosened per case): coefficients 1e-8 relative, SEs 1e-6 relative;
// nobs and removed rows exact.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFile } from "../bindings/platform/read-node.js";
import type { Frame } from "../bindings/core/frame.js";
import { ClickHouseBackend } from "../bindings/sql/clickhouse.js";
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/estimators/feols.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { shiftedDid } from "../bindings/suite/derive.js";
import { FIX } from "./reference.js";
import { clickhouseServerBinary, startCluster, underCi, type Cluster } from "./clickhouse-cluster.js";
import { byKey, loadFrame, genPanel, cbecWithWeights, CBEC_FAST, GEN_LARGE } from "./clickhouse-data.js";
import { expectSameFit, refCase } from "./clickhouse-fits.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const CBEC_LARGE = [
  "t3c1_iid", "t3c1_hetero", "t3c1_cl_firm", "t3c1_cl_city", "t3c2_hetero", "t3c2_ssc_full", "t3c2_ssc_none",
  "outcome_SA", "outcome_Export", "outcome_Digitalisation", "outcome_Agg", "placebo_time_1", "placebo_time_2", "confounders",
].filter((id) => !CBEC_FAST.includes(id));

const haveServer = clickhouseServerBinary() !== null;

describe.runIf(haveServer)("ClickHouse engine on a 2-shard cluster (large)", () => {
  let c: Cluster;
  let cbec: Frame;
  let gen: Frame;
  let eng: Engine;
  beforeAll(async () => {
    c = await startCluster();
    eng = await loadEngine();
    cbec = await cbecWithWeights(readFile, FIX);
    for (const k of [1, 2]) cbec = cbec.withColumn(`did_lead${k}`, shiftedDid(cbec, { zone: "zone", year: "year", adopt: "adopt" }, k));
    await loadFrame(c, cbec, "hd", "cbec", byKey(cbec.numeric("firm")), ["firm", "year", "city", "province"]);
    gen = genPanel(23, 1500, { singletons: 60, na: 120 });
    await loadFrame(c, gen, "hd", "gen", byKey(gen.numeric("firm")), ["firm", "year", "grp", "h"]);
  });
  afterAll(async () => {
    await c?.stop();
  });

  for (const id of CBEC_LARGE) {
    it(`reference panel, ${id}: equal fits`, async () => {
      const { formula, opts, nobs } = refCase(id);
      const sql = await feolsSql(new ClickHouseBackend({ url: c.url, table: "hd.cbec" }), formula, opts);
      expectSameFit(sql, feols(eng, cbec, formula, opts), COEF_REL, SE_REL);
      expect(sql.nobs).toBe(nobs);
    });
  }

  for (const [formula, opts] of GEN_LARGE) {
    it(`generated panel, ${formula} ${JSON.stringify(opts)}: equal fits`, async () => {
      const sql = await feolsSql(new ClickHouseBackend({ url: c.url, table: "hd.gen" }), formula, opts);
      expectSameFit(sql, feols(eng, gen, formula, opts), COEF_REL, SE_REL);
    });
  }
});

if (!haveServer) {
  describe("ClickHouse engine on a 2-shard cluster (large)", () => {
    if (underCi) it("has clickhouse-server under CI", () => { throw new Error("clickhouse-server is missing under CI: .ci/install-clickhouse.sh must install it"); });
    else it.skip("skipped: clickhouse-server is missing (install it with: bash .ci/install-clickhouse.sh)", () => {});
  });
}
