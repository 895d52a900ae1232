// Large panels: 1M rows of the benchmark panel (bench/gen.ts), y ~ treat + 8 controls |
// firm + year, firm-clustered. The estimate must not depend on the path the data took or
// on the thread count:
//   - CSV streamed through createCsvReader in chunks of any size (8 MiB as readFile does,
//     odd sizes that split numbers and lines anywhere) equals the in-memory panel exactly:
//     the CSV holds each double as its shortest round-trip text;
//   - demeaning on 1, 2 or 3 threads gives the same bits (per-column convergence), and so do
//     float32 storage runs whatever their thread count and batch size.
// Tolerance: none, every compared number is equal (coefficients, vcov, residuals, SSR).
// The CSV (~200 MB) is written once to a temporary directory.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { closeDemeanThreads } from "../bindings/platform/demean-node.js";
import { feols, type Fit, type FeolsOptions } from "../bindings/estimators/feols.js";
import { Frame } from "../bindings/core/frame.js";
import { createCsvReader } from "../bindings/io/csv.js";
import { readFile, CHUNK_BYTES } from "../bindings/platform/read-node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { genPanel, panelCsvChunks, CONTROLS } from "../bench/gen.js";

const ROWS = 1_000_000;
const FORMULA = `y ~ treat + ${CONTROLS.join(" + ")} | firm + year`;
const OPTS: FeolsOptions = { vcov: "cluster:firm", fixefRm: "none" };

let eng: Engine;
let dir: string;
let csvPath: string;
let reference: Fit;

function same(a: Fit, b: Fit): void {
  expect(b.nobs).toBe(a.nobs);
  expect(b.coefNames).toEqual(a.coefNames);
  expect(b.coefVector).toEqual(a.coefVector);
  expect(b.vcovMatrix).toEqual(a.vcovMatrix);
  expect(b.ssr).toBe(a.ssr);
  expect(b.internals.residuals).toEqual(a.internals.residuals);
  expect(b.iterations).toBe(a.iterations);
}

beforeAll(async () => {
  eng = await loadEngine();
  const frame = genPanel({ rows: ROWS, city: false });
  dir = mkdtempSync(join(tmpdir(), "hdfe-large-"));
  csvPath = join(dir, "panel.csv");
  const fd = openSync(csvPath, "w");
  try {
    for (const chunk of panelCsvChunks(frame)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  reference = feols(eng, frame, FORMULA, OPTS);
});

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await closeDemeanThreads();
});

describe("1M rows: CSV streaming path = in-memory path, any chunk size", () => {
  it("readFile (8 MiB chunks), reporting progress after each chunk", async () => {
    const seen: [number, number][] = [];
    const { table } = await readFile(csvPath, { onProgress: (done, total) => seen.push([done, total]) });
    const size = statSync(csvPath).size;
    expect(seen.length).toBe(Math.ceil(size / CHUNK_BYTES));
    expect(seen.every(([, t]) => t === size)).toBe(true);
    expect(seen.every(([d], i) => i === 0 || d > seen[i - 1][0])).toBe(true);
    expect(seen[seen.length - 1][0]).toBe(size);
    expect(table.numRows).toBe(ROWS);
    same(reference, feols(eng, Frame.fromArrow(table), FORMULA, OPTS));
  });

  it("createCsvReader fed in odd chunk sizes", () => {
    const bytes = readFileSync(csvPath);
    for (const size of [CHUNK_BYTES + 12_345, 65_537]) {
      const reader = createCsvReader();
      for (let s = 0; s < bytes.length; s += size) reader.push(bytes.subarray(s, Math.min(bytes.length, s + size)));
      const { table } = reader.finish();
      expect(table.numRows).toBe(ROWS);
      same(reference, feols(eng, Frame.fromArrow(table), FORMULA, OPTS));
    }
  });
});

describe("1M rows: any thread count gives the same bits", () => {
  it("threads 2 and 3 = threads 1", () => {
    const frame = genPanel({ rows: ROWS, city: true });
    const f3 = `${FORMULA} + city`;
    const one = feols(eng, frame, f3, OPTS);
    expect(one.demean?.threads).toBe(1);
    for (const threads of [2, 3]) {
      const fit = feols(eng, frame, f3, { ...OPTS, threads });
      expect(fit.demean?.threads).toBe(threads);
      same(one, fit);
      expect(fit.demean?.mapIterations).toBe(one.demean?.mapIterations);
      expect(fit.demean?.cgIterations).toBe(one.demean?.cgIterations);
    }
  });
});

describe("1M rows, float32 storage: any thread count and batch size give the same bits", () => {
  it("threads 1 / 2 and batch default / 3 / 1 (cluster), batch 3 in pairs on 2 threads (hetero)", () => {
    const frame = genPanel({ rows: ROWS, city: false });
    for (const vcov of ["cluster:firm", "hetero"]) {
      const one = feols(eng, frame, FORMULA, { ...OPTS, vcov, storage: "f32" });
      expect(one.storage.type).toBe("f32");
      const cases = vcov === "hetero" ? ([[2, 3]] as const) : ([[2, undefined], [1, 3], [2, 1]] as const);
      for (const [threads, batch] of cases) {
        const fit = feols(eng, frame, FORMULA, { ...OPTS, vcov, storage: "f32", threads, batch });
        same(one, fit);
        if (batch) expect(fit.storage.batch).toBe(batch);
      }
      // and close to the float64 fit of the same (unrounded) data: well within 1e-4 of an SE
      const f64 = feols(eng, frame, FORMULA, { ...OPTS, vcov });
      for (const k of f64.coefNames) expect(Math.abs(one.coef[k] - f64.coef[k]) / f64.se[k]).toBeLessThan(1e-4);
    }
  });
});
