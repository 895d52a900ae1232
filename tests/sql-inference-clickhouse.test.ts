// `hdfe wild --engine clickhouse` on a real 2-shard ClickHouse 18.16 cluster
// (tests/clickhouse-cluster.ts: two server processes, a Distributed table over a MergeTree
// table on each, rows split by firm) against the in-memory wild bootstrap (feols + wild of
// bindings/, the calls `hdfe wild` makes) on the same rows: the reference cbec panel with its
// weights, and the generated panel with missing values (outcome, regressor, cluster, weight)
// and singletons; restricted and unrestricted, Rademacher (and full enumeration) and Webb,
// with and without regression weights, one and two FE. The fault: a shard killed while the
// cluster columns are demeaned gives the engine's error naming the shard, exit 12, no result.
// Heavy list (vitest.large.config.ts): it starts two servers.
//
// Tolerances: tests/sql-inference-setup.ts (both runs at --fixef-tol 1e-12; p-values exact; intervals, estimate, s.e., t 1e-10
// relative; t* 1e-10 of max(1, |t*|); sample counts exact).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFile } from "../bindings/platform/read-node.js";
import type { Frame } from "../bindings/core/frame.js";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { feols } from "../bindings/estimators/feols.js";
import { wild, type WildOptions } from "../bindings/inference/wild.js";
import { FIX } from "./reference.js";
import { clickhouseServerBinary, startCluster, underCi, type Cluster } from "./clickhouse-cluster.js";
import { byKey, loadFrame, genPanel, cbecWithWeights } from "./clickhouse-data.js";
import { wildJson, expectSameWild, hdfeAsync, FIXEF_TOL, type WildJson } from "./sql-inference-setup.js";

const haveServer = clickhouseServerBinary() !== null;
if (!haveServer) console.warn(`[clickhouse] ${underCi ? "FAILED" : "SKIPPED"}: clickhouse-server is missing. Install it with: bash .ci/install-clickhouse.sh`);

interface Case {
  table: "cbec" | "gen";
  formula: string;
  fitWeights?: string;
  opts: Omit<WildOptions, "fixefTol">;
}

const CASES: Case[] = [
  { table: "cbec", formula: "FC ~ did + Fin | firm + year", opts: { param: "did", cluster: "province", B: 999, null: 0.1 } },
  { table: "cbec", formula: "FC ~ did + Fin | firm", fitWeights: "w", opts: { param: "did", cluster: "province", B: 499, weights: "webb", restricted: false, null: 0.12, seed: 7 } },
  // city is missing in some rows: they leave the sample, counted
  { table: "gen", formula: "y ~ x1 + x2 | firm + year", opts: { param: "x2", cluster: "city", B: 999, null: -0.2 } },
  // 7 groups: 2^7 = 128 <= B, the full enumeration
  { table: "gen", formula: "y ~ x1 + x3 | firm", fitWeights: "w", opts: { param: "x3", cluster: "grp", B: 999, null: 0.8 } },
];

/** The CLI's flags for a case's options. */
function flags(c: Case): string[] {
  const o = c.opts;
  const a = ["-f", c.formula, "--param", o.param, "--cluster", o.cluster, "--B", String(o.B), "--fixef-tol", String(FIXEF_TOL)];
  if (o.weights) a.push("--weights", o.weights);
  if (o.restricted === false) a.push("--unrestricted");
  if (o.null !== undefined) a.push("--null", String(o.null));
  if (o.seed !== undefined) a.push("--seed", String(o.seed));
  if (c.fitWeights) a.push("--fit-weights", c.fitWeights);
  return a;
}

/** The in-memory run `hdfe wild` makes (cli/commands/placebo.ts fitModel + wild), as its JSON. */
function memWild(eng: Engine, frame: Frame, c: Case): WildJson {
  const fit = feols(eng, frame, c.formula, {
    ssc: "fixest", fixefRm: "singleton", weights: c.fitWeights, fixefTol: FIXEF_TOL,
    keepColumns: [c.opts.cluster], keepData: true, strictConvergence: true,
  });
  const r = wild(eng, fit, { ...c.opts, fixefTol: FIXEF_TOL });
  return JSON.parse(JSON.stringify({ ...r, tStars: Array.from(r.tStars) })) as WildJson;
}

describe.runIf(haveServer)("hdfe wild --engine clickhouse on a 2-shard cluster = in memory", () => {
  let c: Cluster;
  let eng: Engine;
  const frames: Record<string, Frame> = {};

  beforeAll(async () => {
    c = await startCluster();
    eng = await loadEngine();
    frames.cbec = await cbecWithWeights(readFile, FIX);
    await loadFrame(c, frames.cbec, "hd", "cbec", byKey(frames.cbec.numeric("firm")), ["firm", "year", "city", "province"]);
    frames.gen = genPanel(11, 400, { singletons: 30, na: 40 });
    await loadFrame(c, frames.gen, "hd", "gen", byKey(frames.gen.numeric("firm")), ["firm", "year", "grp", "h"]);
  });
  afterAll(async () => {
    await c?.stop();
  });

  for (const k of CASES) {
    it(`${k.table}: ${k.formula}, ${flags(k).slice(2).join(" ")}`, () => {
      const mem = memWild(eng, frames[k.table], k);
      const sql = wildJson([...flags(k), "--engine", "clickhouse", "--url", c.url, "--table", `hd.${k.table}`]);
      expectSameWild(sql, mem);
      if (k.table === "gen") {
        expect(mem.removed.na as number).toBeGreaterThan(0);
        expect(mem.removed.singletons as number).toBeGreaterThan(0);
      }
      expect(mem.pSymmetric).toBeGreaterThan(0);
    });
  }

  it("a shard killed while the cluster columns are demeaned: exit 12, the step and the shard named, nothing on stdout (run last)", async () => {
    let stopped: Promise<void> | null = null;
    const r = await hdfeAsync(
      ["wild", "-f", "FC ~ did + Fin | firm + year", "--param", "did", "--cluster", "city", "--B", "99", "--engine", "clickhouse", "--url", c.url, "--table", "hd.cbec"],
      (err) => {
        if (!stopped && /wild: cluster columns 32 of \d+ demeaned/.test(err)) stopped = c.stopShard(2, "SIGKILL");
      },
    );
    await stopped;
    expect(stopped, r.stderr).not.toBeNull();
    expect(r.status, r.stderr).toBe(12);
    expect(r.stderr).toMatch(/SqlEngineError: .*step "[^"]+" on shard 2 \(127\.0\.0\.1:\d+\): the shard does not answer/);
    expect(r.stdout).toBe("");
  });
});

if (!haveServer) {
  describe("hdfe wild --engine clickhouse on a 2-shard cluster", () => {
    if (underCi) {
      it("has clickhouse-server under CI", () => {
        throw new Error("clickhouse-server is missing under CI: .ci/install-clickhouse.sh must install it");
      });
    } else {
      it.skip("skipped: clickhouse-server is missing (install it with: bash .ci/install-clickhouse.sh)", () => {});
    }
  });
}
