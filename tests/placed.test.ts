// The placed read (issue 14, core/placed.ts): DuckDB writes the outcome and plain regressors
// straight into WASM memory as the model matrix, and the fit uses them in place. Checked:
// the fit equals R fixest (cbec_panel_fixest.json: 45 rows with a missing control; 3 FE;
// singleton removal compacts rows in place), equals the ordinary read's fit bit for bit, on
// CSV and Parquet; the block really was used (placed, consumed); a memory grow between the read
// and the fit changes nothing; a placed column read after the fit is an error, not numbers.
//
// Tolerances: against fixest, coefficients 1e-8 relative, SEs 1e-6 relative; against the
// ordinary path: none (===).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadEngine } from "../bindings/node.js";
import { expectPlacedFit } from "./placed-fit.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { feols } from "../bindings/estimators/feols.js";
import { Frame } from "../bindings/core/frame.js";
import { parseFormula, formulaColumns } from "../bindings/core/formula.js";
import { PlacedColumns, compactRowsInPlace } from "../bindings/core/placed.js";
import { readFileNative, duckdbAvailable } from "../bindings/platform/duckdb-node.js";
import { loadDuckDB } from "../bindings/platform/duckdb-columns.js";
import { ColumnError } from "../bindings/base/errors.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const here = dirname(fileURLToPath(import.meta.url));
const csv = join(here, "fixtures/reference/cbec_panel.csv");
const ref = JSON.parse(readFileSync(join(here, "fixtures/reference/cbec_panel_fixest.json"), "utf8"));
const models = (ref.models ?? ref) as Record<string, { call: string; coef: Record<string, number>; se: Record<string, number>; nobs: number }>;

const CONTROLS = "did + Fin + Eco + Top1 + Quick + Liability + Q + PE";
const CASES = [
  { id: "5", formula: `FC ~ ${CONTROLS} | firm + year`, opts: { vcov: "cluster:firm", fixefRm: "none" as const } },
  { id: "7", formula: `FC ~ ${CONTROLS} | firm + year + city`, opts: { vcov: "cluster:firm", fixefRm: "none" as const } },
  { id: "12", formula: `FC ~ ${CONTROLS} | firm + year`, opts: { vcov: "cluster:firm", fixefRm: "singleton" as const } },
];

let eng: Engine;
let dir = "";
let parquet = "";
const haveDuck = await duckdbAvailable();

beforeAll(async () => {
  eng = await loadEngine();
  dir = mkdtempSync(join(tmpdir(), "hdfe-placed-"));
  parquet = join(dir, "cbec.parquet");
  if (haveDuck) await (await loadDuckDB())!.rows(`COPY (SELECT * FROM read_csv('${csv}')) TO '${parquet}' (FORMAT parquet)`);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The file read with the model's outcome and regressors placed, as the CLI does. */
async function placedFrame(path: string, formula: string): Promise<{ frame: Frame; placed: PlacedColumns }> {
  const f = parseFormula(formula);
  const names = [f.lhs, ...f.terms.map((t) => (t as { name: string }).name)];
  const r = await readFileNative(path, {
    reader: "duckdb", columns: [...new Set(formulaColumns(f))],
    place: { names, make: async (rows) => new PlacedColumns(eng, names, rows) },
  });
  expect(r.reader).toBe("duckdb");
  expect(r.placed).toBeDefined();
  for (const nm of names) expect(r.table.schema.fields.map((x) => x.name)).not.toContain(nm);
  return { frame: Frame.fromArrow(r.table).withPlaced(r.placed!), placed: r.placed! };
}

describe.skipIf(!haveDuck)("placed read into WASM memory", () => {
  for (const format of ["csv", "parquet"]) {
    for (const c of CASES) {
      it(`${format}: model ${c.id} (${c.opts.fixefRm}, ${c.formula.split("|")[1].trim()}) equals fixest and the ordinary read`, async () => {
        const path = format === "csv" ? csv : parquet;
        const m = models[c.id];
        const mark = eng.mark();
        const ordinary = feols(eng, Frame.fromArrow((await readFileNative(path, { reader: "duckdb" })).table), c.formula, c.opts);
        const { frame, placed } = await placedFrame(path, c.formula);
        const fit = feols(eng, frame, c.formula, c.opts);
        expect(placed.consumed).toBe(true);
        expectPlacedFit(fit, m, ordinary, { coef: COEF_REL, se: SE_REL });
        eng.release(mark);
      });
    }
  }

  it("a memory grow between the read and the fit changes nothing (views are rebuilt)", async () => {
    const c = CASES[0];
    const mark = eng.mark();
    const ordinary = feols(eng, Frame.fromArrow((await readFileNative(csv, { reader: "duckdb" })).table), c.formula, c.opts);
    const { frame } = await placedFrame(csv, c.formula);
    const before = frame.numeric("Fin");
    const bytes = eng.memoryBytes;
    eng.alloc(bytes, "force a grow"); // above the block: memory grows, old views detach
    expect(eng.memoryBytes).toBeGreaterThan(bytes);
    expect(before.length).toBe(0); // the old view is detached
    const fit = feols(eng, frame, c.formula, c.opts);
    expect(fit.coefVector).toEqual(ordinary.coefVector);
    eng.release(mark);
  });

  it("a placed column read after the fit consumed it is a ColumnError", async () => {
    const c = CASES[0];
    const mark = eng.mark();
    const { frame } = await placedFrame(csv, c.formula);
    feols(eng, frame, c.formula, c.opts);
    expect(() => frame.numeric("FC")).toThrow(ColumnError);
    expect(() => feols(eng, frame, c.formula, c.opts)).toThrow(ColumnError);
    eng.release(mark);
  });

  it("a reader that falls back to the built-in one gives the block back", async () => {
    const mark = eng.mark();
    const names = ["FC", "did"];
    const r = await readFileNative(csv, { reader: "js", place: { names, make: async (rows) => new PlacedColumns(eng, names, rows) } });
    expect(r.placed).toBeUndefined();
    expect(eng.mark()).toBe(mark);
  });
});

describe("compactRowsInPlace", () => {
  it("moves the kept rows of every column to the front, as a gather would (fixed seed)", () => {
    let s = 7;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    for (let trial = 0; trial < 20; trial++) {
      const N = 1 + Math.floor(rnd() * 50);
      const K = 1 + Math.floor(rnd() * 5);
      const M = Float64Array.from({ length: N * K }, () => rnd());
      const keepList: number[] = [];
      for (let i = 0; i < N; i++) if (rnd() < 0.7) keepList.push(i);
      const keep = Int32Array.from(keepList);
      const want = new Float64Array(keep.length * K);
      for (let c = 0; c < K; c++) keep.forEach((r, j) => (want[c * keep.length + j] = M[c * N + r]));
      compactRowsInPlace(M, N, K, keep);
      expect(M.subarray(0, keep.length * K)).toEqual(want);
    }
  });
});
