// The streaming reader (streamFileNative) gives what readFileNative gives: the same columns,
// rows, values (chunk after chunk) and read report; or, where it cannot (rows already handed out
// when a value shows the file needs today's reader), today's reader's own error for the file, or
// a DataReadError that says so, and only for files readFileNative did not read with DuckDB.
//
// Tolerances: none. Values are compared exactly (NaN and null as missing), reports with toEqual.
// The tests check that DuckDB really streamed the plain files (reader === "duckdb") and that
// inputs came in several chunks, so that a stream that read whole files could not pass.
// Property tests: fast-check with fixed seeds.

import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { corpusDir, expected } from "./messy-corpus.js";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Float64, Utf8, Table, vectorFromArray } from "apache-arrow";
import { HdfeError, DataReadError } from "../bindings/base/errors.js";
import type { FileReadOptions } from "../bindings/platform/read-node.js";
import { readFileNative, duckdbAvailable, streamFileNative } from "../bindings/node.js";
import { writeParquet } from "../bindings/io/parquet.js";


let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hdfe-duckdb-stream-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Plain = { names: string[]; values: unknown[][]; report: unknown };
type Outcome = { ok: true; plain: Plain; reader: string; chunks: number } | { ok: false; name: string; message: string; reader: string };

const missing = (v: unknown) => (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)) ? null : v);

async function batch(path: string, opts: FileReadOptions): Promise<Outcome> {
  try {
    const r = await readFileNative(path, { ...opts, reader: "duckdb" });
    const names = r.table.schema.fields.map((f) => f.name);
    const values = names.map((_n, k) => {
      const v = r.table.getChildAt(k)!;
      return Array.from({ length: r.table.numRows }, (_x, i) => missing(v.get(i)));
    });
    return { ok: true, plain: { names, values, report: r.report }, reader: r.reader, chunks: 1 };
  } catch (err) {
    if (!(err instanceof HdfeError)) throw err;
    return { ok: false, name: err.name, message: err.message, reader: "" };
  }
}

async function streamed(path: string, opts: FileReadOptions, chunkRows: number): Promise<Outcome> {
  let reader = "";
  try {
    const s = await streamFileNative(path, { ...opts, reader: "duckdb", chunkRows });
    reader = s.reader;
    const values: unknown[][] = s.names.map(() => []);
    let chunks = 0;
    let at = 0;
    for await (const ch of s) {
      expect(ch.offset).toBe(at);
      at += ch.rows;
      chunks++;
      s.names.forEach((name, k) => {
        const c = ch.columns[name];
        if (c instanceof Float64Array) {
          expect(c.length).toBe(ch.rows);
          for (const x of c) values[k].push(missing(x));
        } else {
          expect(c.codes.length).toBe(ch.rows);
          for (const code of c.codes) values[k].push(code < 0 ? null : c.levels[code]);
        }
      });
    }
    return { ok: true, plain: { names: s.names, values, report: s.report() }, reader, chunks };
  } catch (err) {
    if (!(err instanceof HdfeError)) throw err;
    return { ok: false, name: err.name, message: err.message, reader };
  }
}

let duckStreams = 0;
let multiChunk = 0;
/** The stream against the batch reader on one file. */
async function same(path: string, opts: FileReadOptions = {}, chunkRows = 3): Promise<void> {
  const b = await batch(path, opts);
  const s = await streamed(path, opts, chunkRows);
  const label = `${path} ${JSON.stringify(opts)}`;
  if (s.ok && s.reader === "duckdb") duckStreams++;
  if (s.ok && s.chunks > 1) multiChunk++;
  if (!s.ok && s.message.startsWith("the streaming reader stopped")) {
    // only where the batch reader did not read the file with DuckDB either
    expect(b.ok && b.reader === "duckdb", label).toBe(false);
    expect(s.name, label).toBe(new DataReadError("").name);
    return;
  }
  if (b.ok && s.ok) expect(s.plain, label).toEqual(b.plain);
  else expect({ ok: s.ok, name: (s as { name?: string }).name, message: (s as { message?: string }).message }, label).toEqual({ ok: b.ok, name: (b as { name?: string }).name, message: (b as { message?: string }).message });
}

const available = await duckdbAvailable();

describe.runIf(available)("streaming reader = readFileNative", () => {
  it("the messy corpus: same columns, values and report, chunk after chunk", async () => {
    const before = duckStreams;
    for (const c of expected.cases) await same(join(corpusDir, c.file), { ...c.options, format: "csv" });
    expect(duckStreams - before).toBeGreaterThan(5);
  });

  it("random CSV files, small chunks: same rows, values and report", async () => {
    const cell = fc.oneof(
      { weight: 120, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).map((x) => String(x)) },
      { weight: 60, arbitrary: fc.integer({ min: -1e6, max: 1e6 }).map(String) },
      { weight: 20, arbitrary: fc.constantFrom("", "NA", "inf", "-inf", "007", " 4 ", '"5"') },
      { weight: 1, arbitrary: fc.constantFrom("nan", "1_0", "x") },
    );
    const text = fc.constantFrom("a", "b", "c d", '"e,f"', "NA", "", "甲", "12", " NA");
    const file = fc.record({
      rows: fc.integer({ min: 0, max: 30 }),
      cells: fc.array(fc.tuple(cell, cell, text), { minLength: 30, maxLength: 30 }),
      chunkRows: fc.integer({ min: 1, max: 9 }),
    });
    let k = 0;
    const [d0, m0] = [duckStreams, multiChunk];
    await fc.assert(
      fc.asyncProperty(file, async (f) => {
        const lines = ["x0,x1,g", ...f.cells.slice(0, f.rows).map((r) => r.join(","))];
        const path = join(dir, `rand${k++}.csv`);
        writeFileSync(path, lines.join("\n") + "\n");
        for (const o of [{}, { unparsable: "na" as const }, { columns: ["g", "x1"] }]) await same(path, o, f.chunkRows);
      }),
      { seed: 20261202, numRuns: 30 },
    );
    // of 90 streams
    expect(duckStreams - d0).toBeGreaterThan(30);
    expect(multiChunk - m0).toBeGreaterThan(30);
  });

  it("Parquet and globs: same values and report; the report is known only at the end", async () => {
    const parts = mkdtempSync(join(dir, "pq-"));
    for (let p = 0; p < 3; p++) {
      const x = Array.from({ length: 700 }, (_v, i) => (i % 13 === 0 ? NaN : i % 29 === 0 ? Infinity : p * 1000 + i + 0.5));
      const g = x.map((v, i) => (i % 17 === 0 ? null : `g${Math.floor(v) % 7}`));
      writeFileSync(join(parts, `p${p}.parquet`), writeParquet(new Table({ x: vectorFromArray(x, new Float64()), g: vectorFromArray(g, new Utf8()) })));
    }
    await same(join(parts, "p0.parquet"), {}, 256);
    await same(join(parts, "*.parquet"), {}, 1000);
    const s = await streamFileNative(join(parts, "*.parquet"), { reader: "duckdb" });
    expect(s.reader).toBe("duckdb");
    expect(() => s.report()).toThrow(DataReadError);
    let rows = 0;
    for await (const ch of s) rows += ch.rows;
    expect(rows).toBe(2100);
    expect(s.report().rows).toBe(2100);
  });

  it("a file DuckDB does not read as today's reader does comes whole from today's reader, in chunks", async () => {
    const s = await streamFileNative(join(corpusDir, "gbk_chinese.csv"), { reader: "auto", chunkRows: 2 });
    expect(s.reader).toBe("js");
    expect(s.fallback).toBeTruthy();
    let chunks = 0;
    for await (const ch of s) chunks += ch.rows > 0 ? 1 : 0;
    expect(chunks).toBeGreaterThan(1);
    await expect(streamFileNative(join(corpusDir, "crlf.csv"), { chunkRows: 0 })).rejects.toThrow(DataReadError);
  });
});
