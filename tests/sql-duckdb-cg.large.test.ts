// Out-of-core feols in DuckDB on poorly connected FE graphs, where the SQL projections stall
// and conjugate gradient (bindings/sql/cg.ts) takes over: the fits equal the in-memory ones.
// Heavy (a few hundred SQL passes each): in vitest.large.config.ts's list.
//
// Tolerances (relative, once for the file; the shared expectSameFit of sql-duckdb-setup.ts):
//   coefficients 1e-8; standard errors 1e-6; r2 / within r2 1e-8 absolute.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { feols } from "../bindings/estimators/feols.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import { DuckDBBackend } from "../bindings/platform/duckdb-engine.js";
import { lowMobilityCsv } from "./low-mobility.js";
import { expectSameFit, frameOf, FIX } from "./sql-duckdb-setup.js";

let eng: Engine;
let dir: string;
const files = { lowMob: "" };
const backends: DuckDBBackend[] = [];
const open = async (path: string) => {
  const b = await DuckDBBackend.open({ data: path, threads: 2 });
  backends.push(b);
  return b;
};

beforeAll(async () => {
  eng = await loadEngine();
  dir = mkdtempSync(join(tmpdir(), "hdfe-sql-cg-"));
  files.lowMob = join(dir, "lowmob.csv");
  writeFileSync(files.lowMob, lowMobilityCsv(20260101, 1500, 150, 6, 0.04));
});
afterAll(() => {
  for (const b of backends) b.close();
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
});

const cases: [string, string, string][] = [
  ["cbec", "FC ~ did + Fin + Eco | firm + year + city", "iid"],
  ["cbec", "FC ~ did + Fin + Eco | firm + year + city", "cluster:city"],
  ["lowMob", "y ~ x1 + x2 | worker + firm + year", "iid"],
  ["lowMob", "y ~ x1 + x2 | worker + firm + year", "cluster:firm"],
];

describe("hard FE graphs: projections stall, CG takes over (auto), the fit equals in-memory feols", () => {
  for (const [data, fm, vcov] of cases) {
    it(`${data}: ${fm} (${vcov})`, async () => {
      const path = data === "cbec" ? join(FIX, "cbec_panel.csv") : files.lowMob;
      const a = feols(eng, await frameOf(path), fm, { vcov });
      const lines: string[] = [];
      const b = await open(path);
      b.progress = (m) => lines.push(m);
      const s = await feolsSql(b, fm, { vcov });
      expect(s.converged).toBe(true);
      // the projections ran their 20 accelerated steps, then CG converged
      expect(s.demean?.algo).toBe("auto");
      expect(s.demean!.mapIterations).toBeGreaterThan(20);
      expect(s.demean!.cgIterations).toBeGreaterThan(0);
      expect(lines.some((l) => /conjugate gradient/.test(l))).toBe(true);
      expect(lines.some((l) => /^cg: iteration \d+/.test(l))).toBe(true);
      expectSameFit(s, a);
    });
  }
  it("CG alone (fixefAlgo cg) gives the same fit", async () => {
    const path = files.lowMob;
    const fm = "y ~ x1 + x2 | worker + firm + year";
    const a = feols(eng, await frameOf(path), fm, { vcov: "iid" });
    const s = await feolsSql(await open(path), fm, { vcov: "iid", fixefAlgo: "cg" });
    expect(s.converged).toBe(true);
    expect(s.demean).toMatchObject({ algo: "cg", mapIterations: 0 });
    expectSameFit(s, a);
  });
});
