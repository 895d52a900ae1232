// Shared setup of tests/sql-duckdb.test.ts (fast) and tests/sql-duckdb.large.test.ts (heavy):
// the files (a generated panel as CSV, Parquet and a .duckdb table; the cbec panel with its
// weights) written to a temp directory and removed afterwards, the in-memory and DuckDB fits.
//
// Tolerances (relative, once for both files):
//   coefficients 1e-8; standard errors 1e-6; r2 / within r2 1e-8 absolute.
import { expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import type { Fit } from "../bindings/estimators/feols.js";
import { DuckDBBackend } from "../bindings/platform/duckdb-engine.js";
import { Rng } from "../bindings/base/rng.js";

export const COEF_REL = 1e-8;
export const SE_REL = 1e-6;
export const R2_ABS = 1e-8;
export const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

export const FIX = new URL("./fixtures/reference/", import.meta.url).pathname;
export let eng: Engine;
let dir: string;
export const frames = new Map<string, Frame>();
const backends = new Map<string, DuckDBBackend>();

export async function frameOf(path: string): Promise<Frame> {
  if (!frames.has(path)) frames.set(path, Frame.fromArrow((await readFile(path)).table));
  return frames.get(path)!;
}
export async function backendOf(path: string, table?: string): Promise<DuckDBBackend> {
  const key = `${path}#${table ?? ""}`;
  if (!backends.has(key)) backends.set(key, await DuckDBBackend.open({ data: path, table, threads: 2 }));
  return backends.get(key)!;
}

export function expectSameFit(s: Fit, a: Fit): void {
  expect(s.coefNames).toEqual(a.coefNames);
  expect(s.collinear).toEqual(a.collinear);
  expect(s.nobs).toBe(a.nobs);
  expect(s.nobsOrigin).toBe(a.nobsOrigin);
  expect(s.removed).toEqual(a.removed);
  expect(s.fixefSizes).toEqual(a.fixefSizes);
  expect(s.K).toBe(a.K);
  expect(s.df).toBe(a.df);
  expect(s.clusterSizes).toEqual(a.clusterSizes);
  for (const k of a.coefNames) {
    expect(rel(s.coef[k], a.coef[k]), `coef ${k}`).toBeLessThan(COEF_REL);
    expect(rel(s.se[k], a.se[k]), `se ${k}`).toBeLessThan(SE_REL);
  }
  expect(Math.abs(s.r2 - a.r2)).toBeLessThan(R2_ABS);
  if (a.withinR2 !== null) expect(Math.abs(s.withinR2! - a.withinR2)).toBeLessThan(R2_ABS);
  expect(rel(s.ssr, a.ssr)).toBeLessThan(COEF_REL);
}

/**
 * A generated panel: firms x years with an industry FE (3 FE), a region for clustering,
 * weights, some missing values (empty cells and NA) and firms seen once (singletons).
 */
function panelCsv(seed: number, firms: number, years: number): string {
  const r = new Rng(seed);
  const lines = ["firm,year,ind,region,x1,x2,x3,w,y"];
  const ind = Array.from({ length: firms }, () => r.int(12));
  const fe = Array.from({ length: firms }, () => r.normal());
  const ye = Array.from({ length: years }, () => r.normal());
  for (let i = 0; i < firms; i++) {
    const seen = i % 37 === 0 ? 1 : years - r.int(3);
    for (let t = 0; t < seen; t++) {
      const x1 = r.normal() + 0.5 * fe[i];
      const x2 = r.normal() + 0.3 * ye[t];
      const x3 = 100 + r.normal();
      const y = 1 + 0.7 * x1 - 0.4 * x2 + 0.1 * x3 + fe[i] + ye[t] + 0.2 * ind[i] + r.normal();
      const na = r.uniform();
      const cell = (v: number, miss: boolean) => (miss ? (na < 0.01 ? "" : "NA") : String(v));
      // mixed industry (firms change industry now and then) so that the three FE are not nested
      const indNow = r.uniform() < 0.1 ? r.int(12) : ind[i];
      lines.push([i + 1, 2000 + t, `i${indNow}`, `r${i % 7}`, cell(x1, na < 0.02), cell(x2, false), cell(x3, false), (0.5 + r.uniform()).toFixed(4), cell(y, na > 0.985)].join(","));
    }
  }
  return lines.join("\n") + "\n";
}

export const files = { panel: "", panelParquet: "", cbecW: "", db: "", clash: "" };

/**
 * The generated panel's columns renamed to the aliases the SQL of bindings/sql/ gives its
 * results (f0, k, g, c0, w, v0, n, sw, s0): a fit must read the columns, never an alias.
 */
export const CLASH_NAMES: Record<string, string> = { firm: "f0", year: "k", ind: "g", region: "c0", x1: "w", x2: "v0", x3: "n", w: "sw", y: "s0" };

/** Write the files (once per test file) and remove them afterwards. */
export function setupFiles(): void {
beforeAll(async () => {
  eng = await loadEngine();
  dir = mkdtempSync(join(tmpdir(), "hdfe-sql-duckdb-"));
  const panel = (files.panel = join(dir, "panel.csv"));
  writeFileSync(panel, panelCsv(20250101, 400, 8));
  const lines = panelCsv(20250101, 400, 8).split("\n");
  lines[0] = lines[0].split(",").map((c) => CLASH_NAMES[c] ?? c).join(",");
  writeFileSync((files.clash = join(dir, "clash.csv")), lines.join("\n"));
  // the cbec panel with its weights column (cbec_weights.csv, the rows in order)
  const p = readFileSync(join(FIX, "cbec_panel.csv"), "utf8").trimEnd().split("\n");
  const w = readFileSync(join(FIX, "cbec_weights.csv"), "utf8").trimEnd().split("\n");
  const cbecW = (files.cbecW = join(dir, "cbec_w.csv"));
  writeFileSync(cbecW, p.map((l, i) => `${l},${w[i]}`).join("\n") + "\n");
  // the same panel as Parquet and as a table of a .duckdb database, written by DuckDB
  const mod = await import("@duckdb/node-api");
  const inst = await mod.DuckDBInstance.create(":memory:");
  const con = await inst.connect();
  const panelParquet = (files.panelParquet = join(dir, "panel.parquet"));
  const db = (files.db = join(dir, "panel.duckdb"));
  await con.run(`COPY (SELECT * FROM read_csv('${panel}', header = true, nullstr = ['', 'NA'])) TO '${panelParquet}' (FORMAT parquet)`);
  await con.run(`ATTACH '${db}' AS out`);
  await con.run(`CREATE TABLE out.panel AS SELECT * FROM read_csv('${panel}', header = true, nullstr = ['', 'NA'])`);
  await con.run(`CREATE TABLE out.bad AS SELECT firm, year, CAST(y AS VARCHAR) AS y, x1 FROM out.panel`);
  await con.run("DETACH out");
  con.closeSync();
  inst.closeSync();
});

afterAll(() => {
  for (const b of backends.values()) b.close();
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
});
}

