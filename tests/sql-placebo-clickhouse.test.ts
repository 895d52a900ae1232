// `hdfe placebo --engine clickhouse` on a real 2-shard ClickHouse 18.16 cluster
// (tests/clickhouse-cluster.ts: two server processes, a Distributed table over a MergeTree
// table on each, rows split by firm) against the in-memory `hdfe placebo` on the same rows as
// a CSV: the reference cbec panel (fixest's 200 replayed draws; in-space draws by province
// strata) and the generated panel with missing values and singletons (tests/sql-placebo-setup.ts:
// the direct projection with weights, and the basis columns demeaned in SQL). The fault: a shard
// killed once the cells are pulled back gives the engine's error naming the shard, exit 12, no
// result. Heavy list (vitest.large.config.ts): it starts two servers.
//
// Tolerances: tests/sql-placebo-setup.ts (both runs at --fixef-tol 1e-12; p-values exact;
// estimate 1e-10 relative; each draw 1e-10 of max(|b*|, |estimate|); sample counts exact).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { clickhouseServerBinary, startCluster, underCi, type Cluster } from "./clickhouse-cluster.js";
import { byKey, loadFrame } from "./clickhouse-data.js";
import { placeboJsonAsync, expectSamePlacebo, placeboPanelCsv, hdfeAsync, FIXEF_TOL } from "./sql-placebo-setup.js";

const haveServer = clickhouseServerBinary() !== null;
if (!haveServer) console.warn(`[clickhouse] ${underCi ? "FAILED" : "SKIPPED"}: clickhouse-server is missing. Install it with: bash .ci/install-clickhouse.sh`);

const FIX = new URL("./fixtures/reference/", import.meta.url).pathname;
const MODEL = "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year";
const ROLES = ["--treatment", "did", "--unit", "city", "--adopt", "adopt", "--year", "year"];

interface Case { table: "cbec" | "gen"; formula: string; args: string[]; solver: string }
const CASES: Case[] = [
  { table: "cbec", formula: MODEL, args: ["--assignments", join(FIX, "cbec_placebo_draws.csv"), "--fixef-rm", "none"], solver: "direct" },
  { table: "cbec", formula: "FC ~ did + Fin + Eco | firm + year", args: ["--draws", "500", "--strata", "province", "--seed", "4"], solver: "direct" },
  { table: "gen", formula: "y ~ did + x1 + x2 | firm + year", args: ["--draws", "999", "--weights", "w", "--strata", "province"], solver: "direct" },
  // a text unit (Nullable(String) on the cluster): units in text order
  { table: "gen", formula: "y ~ did + x1 | firm + year", args: ["--draws", "400", "--seed", "8", "--unit", "cityname"], solver: "direct" },
  { table: "gen", formula: "y ~ did + x1 | firm + year", args: ["--draws", "300", "--scheme", "random-time", "--basis-solver", "demean"], solver: "demean" },
];

describe.runIf(haveServer)("hdfe placebo --engine clickhouse on a 2-shard cluster = in memory", () => {
  let c: Cluster;
  let dir = "";
  const csv: Record<string, string> = { cbec: join(FIX, "cbec_panel.csv") };

  beforeAll(async () => {
    c = await startCluster();
    dir = mkdtempSync(join(tmpdir(), "hdfe-sql-placebo-ch-"));
    writeFileSync((csv.gen = join(dir, "gen.csv")), placeboPanelCsv(20260101, 500));
    for (const t of ["cbec", "gen"]) {
      const f = Frame.fromArrow((await readFile(csv[t])).table);
      await loadFrame(c, f, "hp", t, byKey(f.numeric("firm")), ["firm", "year", "city", "province"]);
    }
  });
  afterAll(async () => {
    await c?.stop();
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  for (const k of CASES) {
    it(`${k.table}: ${k.formula} ${k.args.join(" ").replace(FIX, "")}`, async () => {
      const args = ["-f", k.formula, ...ROLES, "--fixef-tol", String(FIXEF_TOL), ...k.args];
      const [mem, sql] = await Promise.all([
        placeboJsonAsync(["--data", csv[k.table], ...args]),
        placeboJsonAsync([...args, "--engine", "clickhouse", "--url", c.url, "--table", `hp.${k.table}`]),
      ]);
      expectSamePlacebo(sql, mem);
      expect(sql.basisSolver).toBe(k.solver);
      if (k.table === "gen") {
        expect(mem.removed.na as number).toBeGreaterThan(0);
        expect(mem.removed.singletons as number).toBeGreaterThan(0);
        expect(mem.p.twoSided.p).toBeGreaterThan(0);
        expect(mem.p.twoSided.p).toBeLessThan(1);
      }
    });
  }

  it("a shard killed once the cells are pulled back: exit 12, the step and the shard named, nothing on stdout (run last)", async () => {
    let stopped: Promise<void> | null = null;
    const r = await hdfeAsync(
      ["placebo", "-f", "FC ~ did + Fin | firm + year", ...ROLES, "--draws", "99", "--engine", "clickhouse", "--url", c.url, "--table", "hp.cbec"],
      (err) => {
        if (!stopped && /placebo: [\d,]+ unit x year cells/.test(err)) stopped = c.stopShard(2, "SIGKILL");
      },
    );
    await stopped;
    expect(stopped, r.stderr).not.toBeNull();
    expect(r.status, r.stderr).toBe(12);
    expect(r.stderr).toMatch(/SqlEngineError: .*step "placebo: [^"]+" on shard 2 \(127\.0\.0\.1:\d+\): the shard does not answer/);
    expect(r.stdout).toBe("");
  });
});

if (!haveServer) {
  describe("hdfe placebo --engine clickhouse on a 2-shard cluster", () => {
    if (underCi) {
      it("has clickhouse-server under CI", () => {
        throw new Error("clickhouse-server is missing under CI: .ci/install-clickhouse.sh must install it");
      });
    } else {
      it.skip("skipped: clickhouse-server is missing (install it with: bash .ci/install-clickhouse.sh)", () => {});
    }
  });
}
