// The WASM CSV fast path (bindings/platform/csv-wasm.ts, assembly/csv.ts) against the built-in
// reader (bindings/platform/read-node.ts readFile): on the messy-file corpus and on fixed-seed
// random files it gives the same table (every value bit for bit; NaN where the reader has a
// null) and an equal read report, or it declines; and it declines exactly where it must (the
// built-in reader fails or makes a column that is not float64, or the file has a quote or a
// byte >= 0x80 after its header), taking every other file. The kernel on its own: a buffer cut
// at every byte gives the rows of one whole pass, with row and exception capacities of one row.
// The fit: feols on a placed read by the fast path equals R fixest (cbec_panel_fixest.json) and
// the built-in reader's fit bit for bit; the command line prints the same JSON with the fast
// path on and off.
//
// Tolerances: against fixest, coefficients 1e-8 relative, SEs 1e-6 relative; against the
// built-in reader: none (bits, toEqual).
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Table } from "apache-arrow";
import { loadEngine } from "../bindings/node.js";
import { expectPlacedFit } from "./placed-fit.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { CSV_CTX, CSV_CTX_BYTES, CSV_STOP } from "../bindings/engine/context.js";
import { HdfeError } from "../bindings/base/errors.js";
import { readFile, type FileReadOptions } from "../bindings/platform/read-node.js";
import { readFileNative } from "../bindings/platform/duckdb-node.js";
import { readCsvWasm, CsvWasmDecline, type CsvWasmOptions } from "../bindings/platform/csv-wasm.js";
import { numericColumn } from "../bindings/io/columns.js";
import { PlacedColumns, type PlaceRequest } from "../bindings/core/placed.js";
import { Frame } from "../bindings/core/frame.js";
import { feols } from "../bindings/estimators/feols.js";
import { corpusDir, expected } from "./messy-corpus.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const here = dirname(fileURLToPath(import.meta.url));
let eng: Engine;
let dir = "";
beforeAll(async () => {
  eng = await loadEngine();
  dir = mkdtempSync(join(tmpdir(), "hdfe-csv-wasm-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every value of every column: the same bits, or NaN on both sides (a null in the built-in table). */
function expectSameBits(a: Table, b: Table): void {
  expect(a.schema.fields.map((f) => f.name)).toEqual(b.schema.fields.map((f) => f.name));
  expect(a.numRows).toBe(b.numRows);
  for (const f of b.schema.fields) {
    const x = numericColumn(a, f.name), y = numericColumn(b, f.name);
    expectBits(x.values, y.values, y.valid, f.name);
    if (x.valid || y.valid) expect(Array.from(x.valid ?? [])).toEqual(Array.from(y.valid ?? []));
  }
}

function expectBits(x: Float64Array, y: Float64Array, valid: Uint8Array | null | undefined, what: string): void {
  expect(x.length).toBe(y.length);
  const bx = new BigUint64Array(x.buffer, x.byteOffset, x.length), by = new BigUint64Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < x.length; i++) {
    if (valid && !valid[i]) continue; // a null (NaN in the values of both)
    if (x[i] !== x[i] && y[i] !== y[i]) continue;
    if (bx[i] !== by[i]) throw new Error(`${what} row ${i}: ${x[i]} (fast path) vs ${y[i]} (built-in reader)`);
  }
}

interface Both {
  took: boolean;
  why: string;
  mustDecline: boolean;
}

/** Both readers on one file; equal when the fast path reads it; the arena as before either way. */
async function both(path: string, opts: FileReadOptions & CsvWasmOptions = {}, place?: PlaceRequest): Promise<Both> {
  let js: { table: Table; report: unknown } | null = null;
  try {
    js = await readFile(path, opts);
  } catch (e) {
    if (!(e instanceof HdfeError)) throw e;
  }
  const mark = eng.mark();
  let why = "";
  let took = false;
  try {
    const w = await readCsvWasm(path, eng, opts, place);
    took = true;
    expect(js).not.toBeNull();
    expect(w.report).toEqual(js!.report);
    if (place) {
      const names = js!.table.schema.fields.map((f) => f.name).filter((nm) => !place.names.includes(nm));
      expectSameBits(w.table, js!.table.select(names));
      place.names.forEach((nm, c) => {
        const y = numericColumn(js!.table, nm);
        expectBits(w.placed!.view(c), y.values, y.valid, nm);
      });
      w.placed!.release();
    } else expectSameBits(w.table, js!.table);
  } catch (e) {
    if (!(e instanceof CsvWasmDecline)) throw e;
    why = e.message;
  }
  expect(eng.mark()).toBe(mark);
  const bytes = readFileSync(path);
  let h = bytes.indexOf(10);
  if (h < 0) h = bytes.length;
  const cr = bytes.indexOf(13);
  if (cr >= 0 && cr < h) h = cr;
  const body = bytes.subarray(h);
  const surprise = body.includes(34) || body.some((c) => c >= 0x80) || bytes.subarray(0, h).includes(34);
  const notFloat = js === null || (js.report as { columns: { type: string }[] }).columns.some((c) => c.type !== "float64");
  return { took, why, mustDecline: surprise || notFloat || opts.encoding === "gbk" };
}

describe("the CSV fast path's context block", () => {
  it("has the layout of assembly/context.ts", () => {
    const out = eng.alloc(64);
    eng.kernels.csvContextLayout(out);
    const got = Array.from(eng.i32(out, Object.keys(CSV_CTX).length + 1));
    expect(got).toEqual([...Object.values(CSV_CTX), CSV_CTX_BYTES]);
    eng.release(out);
  });
});

describe("the messy-file corpus", () => {
  for (const c of expected.cases) {
    it(`${c.file} ${JSON.stringify(c.options)}: equal to the built-in reader, or declined where it must be`, async () => {
      const r = await both(join(corpusDir, c.file), c.options);
      console.log(`${c.file} ${JSON.stringify(c.options)}: ${r.took ? "read by the fast path" : `declined (${r.why})`}`);
      if (r.mustDecline) expect(r.took, `took ${c.file}`).toBe(false);
      else expect(r.took, `declined ${c.file}: ${r.why}`).toBe(true);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Random files

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NA = ["", "NA", "NaN", ".", "--", "NULL", "null", "N/A"];
const HARD = ["9007199254740993.0", "0.1000000000000000055511151231257827", "2.2250738585072011e-308", "1.7976931348623157e308", "5e-324", "1e400", "-1e-400",
  "123456789012345.67", "0.30000000000000004", "1.0000000000000002", "4.9406564584124654e-324", "100000000000000000000", "0.000000000000000000000000001"];

function digits(r: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String(Math.floor(r() * 10));
  return s;
}

/** One cell of a numeric column: plain numbers mostly, and the forms the reader treats specially. */
function cell(r: () => number, big: boolean): string {
  const u = r();
  const sign = r() < 0.3 ? "-" : r() < 0.03 ? "+" : "";
  if (u < 0.3) return String((r() - 0.5) * 10 ** Math.floor(r() * 12 - 6)); // shortest round trip
  if (u < 0.45) {
    const n = 1 + Math.floor(r() * 19);
    const k = Math.floor(r() * (n + 1));
    const d = digits(r, n);
    return sign + d.slice(0, k) + "." + d.slice(k);
  }
  if (u < 0.55) return sign + digits(r, 1 + Math.floor(r() * (big ? 19 : 15)));
  if (u < 0.62) return sign + digits(r, 1 + Math.floor(r() * 6)) + (r() < 0.5 ? "e" : "E") + (r() < 0.5 ? "-" : r() < 0.5 ? "+" : "") + Math.floor(r() * 340);
  if (u < 0.7) return NA[Math.floor(r() * NA.length)];
  if (u < 0.73) return ["-0", "-0.0", "0", "0.0", "-.0", "00"][Math.floor(r() * 6)];
  if (u < 0.76) return ["inf", "-Inf", "Infinity", "-infinity"][Math.floor(r() * 4)];
  if (u < 0.8) return [" 1.5", "2 ", "\t3", " -4 "][Math.floor(r() * 4)];
  if (u < 0.84) return ["007", "00.5", "0012.50", "-007"][Math.floor(r() * 4)];
  if (u < 0.9) return HARD[Math.floor(r() * HARD.length)];
  return String(Math.floor(r() * 1000));
}

interface RandomFile {
  text: string;
  ncol: number;
  maxLine: number;
}

function randomFile(seed: number): RandomFile {
  const r = rng(seed);
  const ncol = 1 + Math.floor(r() * 6);
  const rows = Math.floor(r() * 60);
  const delim = [",", ";", "\t"][Math.floor(r() * 3)];
  const eol = ["\n", "\r\n", "\r"][Math.floor(r() * 3)];
  const big = r() < 0.1;
  const header = Array.from({ length: ncol }, (_, k) => `c${k}`).join(delim);
  const lines = [header];
  // one surprise in about a third of the files, on one row: a quote, a byte >= 0x80, a field too many or too few, text
  const inject = r() < 0.35 ? Math.floor(r() * 5) : -1;
  const at = Math.floor(r() * rows);
  for (let i = 0; i < rows; i++) {
    const cells = Array.from({ length: ncol }, () => cell(r, big));
    if (i === at) {
      if (inject === 0) cells[Math.floor(r() * ncol)] = '"1"';
      else if (inject === 1) cells[Math.floor(r() * ncol)] = "1\u00e9";
      else if (inject === 2) cells.push("9");
      else if (inject === 3 && ncol > 1) cells.pop();
      else if (inject === 4) cells[Math.floor(r() * ncol)] = "abc";
    }
    lines.push(cells.join(delim));
    if (r() < 0.05) lines.push("");
  }
  const text = lines.join(eol) + (r() < 0.8 ? eol : "");
  return { text, ncol, maxLine: Math.max(...lines.map((l) => l.length)) + 2 };
}

describe("fixed-seed random files", () => {
  it("300 files (1-6 columns, buffers from one line up, 1-40 rows a call): equal to the built-in reader or declined exactly where they must be", async () => {
    let taken = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const f = randomFile(seed);
      const path = join(dir, `r${seed}.csv`);
      writeFileSync(path, f.text);
      const r = rng(seed * 7919);
      const opts: CsvWasmOptions = { bufferBytes: f.maxLine + Math.floor(r() * 200), rowsPerCall: 1 + Math.floor(r() * 40) };
      if (r() < 0.3 && f.ncol > 1) opts.columns = [`c${f.ncol - 1}`, "c0"];
      if (r() < 0.1) opts.unparsable = "na";
      if (r() < 0.1) opts.na = ["", "NA", "--", "NaN", "NULL", "null", ".", "N/A"];
      const res = await both(path, opts);
      const tag = `seed ${seed}: ${res.why}`;
      if (res.mustDecline) expect(res.took, tag).toBe(false);
      else expect(res.took, tag).toBe(true);
      if (res.took) taken++;
    }
    expect(taken).toBeGreaterThan(120);
    console.log(`random files: ${taken} of 300 read by the fast path`);
  });

  it("a file beyond the prefix (600 KiB), placed columns and the others, equal to the built-in reader", async () => {
    const r = rng(42);
    const lines = ["y,firm,x1,x2,year"];
    while (lines.length < 9000) {
      lines.push([cell(r, false), String(Math.floor(r() * 500)), String((r() - 0.5) * 1e3), cell(r, false), String(2000 + Math.floor(r() * 20))].join(","));
    }
    const path = join(dir, "large.csv");
    writeFileSync(path, lines.join("\r\n") + "\r\n");
    expect(readFileSync(path).length).toBeGreaterThan(256 * 1024);
    const names = ["y", "x1", "x2"];
    const place: PlaceRequest = { names, make: async (rows) => new PlacedColumns(eng, names, rows) };
    for (const opts of [{}, { bufferBytes: 4096, rowsPerCall: 100 }, { columns: ["year", "x2", "firm", "y", "x1"] }]) {
      const res = await both(path, opts, place);
      expect(res.took, res.why).toBe(true);
    }
    const plain = await both(path, {});
    expect(plain.took, plain.why).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The kernel on its own: a buffer cut anywhere

interface Pass {
  values: number[][];
  exc: number[][];
  rows: number;
}

/** csvParse over `text` fed from `cut` on: the first call sees text[0, cut), the next ones the rest. */
function kernelPasses(text: string, ncol: number, cut: number, rowCap: number, excCap: number): Pass {
  const bytes = new TextEncoder().encode(text);
  const m = eng.mark();
  const buf = eng.alloc(bytes.length + 16), exc = eng.alloc(excCap * 16), ctx = eng.alloc(CSV_CTX_BYTES), slots = eng.alloc(ncol * 4);
  const out = eng.allocF64(ncol * 64);
  eng.u8(buf, bytes.length).set(bytes);
  const c = eng.i32(ctx, CSV_CTX_BYTES / 4);
  c.fill(0);
  c[CSV_CTX.ncol / 4] = ncol;
  c[CSV_CTX.delim / 4] = 44;
  c[CSV_CTX.rowCap / 4] = rowCap;
  c[CSV_CTX.excCap / 4] = excCap;
  c[CSV_CTX.slots / 4] = slots;
  const values: number[][] = Array.from({ length: ncol }, () => []);
  const excs: number[][] = [];
  let pos = 0, rows = 0, end = cut;
  for (let guard = 0; guard < 1000; guard++) {
    const s = eng.i32(slots, ncol);
    for (let j = 0; j < ncol; j++) s[j] = out + j * 64 * 8;
    expect(eng.kernels.csvParse(exc, ctx, buf + pos, end - pos)).toBe(0);
    const cc = eng.i32(ctx, CSV_CTX_BYTES / 4);
    const got = cc[CSV_CTX.rows / 4], ne = cc[CSV_CTX.exc / 4], used = cc[CSV_CTX.used / 4], stop = cc[CSV_CTX.stop / 4];
    expect([CSV_STOP.input, CSV_STOP.rows, CSV_STOP.exceptions]).toContain(stop);
    const o = eng.f64(out, ncol * 64);
    for (let j = 0; j < ncol; j++) for (let i = 0; i < got; i++) values[j].push(o[j * 64 + i]);
    const e = eng.i32(exc, ne * 4);
    for (let k = 0; k < ne; k++) excs.push([rows + e[4 * k], e[4 * k + 1], text.slice(pos + e[4 * k + 2], pos + e[4 * k + 3]).length]);
    rows += got;
    pos += used;
    if (stop === CSV_STOP.input) {
      if (end === bytes.length) break;
      end = bytes.length;
    }
  }
  eng.release(m);
  return { values, exc: excs, rows };
}

describe("csvParse on a buffer cut anywhere", () => {
  const text = "1.5,-2,3e2\r\n\r\n0.30000000000000004,NA,  7\n-0,,1e400\r\r4.5,6,9007199254740993\n12345678901234567.5,-0.000001,0.1\n";
  it("every cut, and capacities of one row, give the rows of one whole pass", () => {
    const whole = kernelPasses(text, 3, text.length, 64, 64);
    expect(whole.rows).toBe(5);
    expect(whole.values[0].slice(0, 2)).toEqual([1.5, 0.30000000000000004]);
    // exceptions: NA, "  7", "", 1e400 (an exponent beyond 10^22), the 16-digit integer
    expect(whole.exc.map((e) => [e[0], e[1]])).toEqual([[1, 1], [1, 2], [2, 1], [2, 2], [3, 2]]);
    for (let cut = 0; cut <= text.length; cut++) {
      for (const [rowCap, excCap] of [[64, 64], [1, 64], [2, 3]]) {
        const p = kernelPasses(text, 3, cut, rowCap, excCap);
        expect(p.rows).toBe(whole.rows);
        expect(p.exc).toEqual(whole.exc);
        for (let j = 0; j < 3; j++) expect(p.values[j].map((v) => Object.is(v, NaN) ? "NaN" : v)).toEqual(whole.values[j].map((v) => Object.is(v, NaN) ? "NaN" : v));
      }
    }
  });

  it("stops at a quote, a byte >= 0x80 and a row of another field count, counting only the rows before", () => {
    for (const [t, stop] of [["1,2,3\n4,\"5\",6\n", CSV_STOP.quote], ["1,2,3\n4,5\u00e9,6\n", CSV_STOP.highByte], ["1,2,3\n4,5\n", CSV_STOP.fields], ["1,2,3\n4,5,6,7\n", CSV_STOP.fields]] as const) {
      const bytes = new TextEncoder().encode(t);
      const m = eng.mark();
      const buf = eng.alloc(bytes.length), exc = eng.alloc(64 * 16), ctx = eng.alloc(CSV_CTX_BYTES), slots = eng.alloc(12), out = eng.allocF64(3 * 8);
      eng.u8(buf, bytes.length).set(bytes);
      const c = eng.i32(ctx, CSV_CTX_BYTES / 4);
      c.fill(0);
      c[CSV_CTX.ncol / 4] = 3, c[CSV_CTX.delim / 4] = 44, c[CSV_CTX.rowCap / 4] = 8, c[CSV_CTX.excCap / 4] = 64, c[CSV_CTX.slots / 4] = slots;
      eng.i32(slots, 3).set([out, out + 64, out + 128]);
      expect(eng.kernels.csvParse(exc, ctx, buf, bytes.length)).toBe(0);
      const cc = eng.i32(ctx, CSV_CTX_BYTES / 4);
      expect(cc[CSV_CTX.stop / 4]).toBe(stop);
      expect(cc[CSV_CTX.rows / 4]).toBe(1);
      expect(cc[CSV_CTX.used / 4]).toBe(6);
      eng.release(m);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The fit

const ref = JSON.parse(readFileSync(join(here, "fixtures/reference/cbec_panel_fixest.json"), "utf8"));
const models = (ref.models ?? ref) as Record<string, { coef: Record<string, number>; se: Record<string, number>; nobs: number }>;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
const CONTROLS = "did + Fin + Eco + Top1 + Quick + Liability + Q + PE";

describe("feols on the fast path's placed read", () => {
  const original = join(here, "fixtures/reference/cbec_panel.csv");
  let plain = "";
  beforeAll(() => {
    // the reference panel without its quotes (text columns unquoted; the numbers are the same text)
    plain = join(dir, "cbec_plain.csv");
    writeFileSync(plain, readFileSync(original, "utf8").replace(/"/g, ""));
  });

  for (const [id, fe, fixefRm] of [["5", "firm + year", "none"], ["7", "firm + year + city", "none"], ["12", "firm + year", "singleton"]] as const) {
    it(`model ${id} (${fe}, fixef.rm ${fixefRm}) equals fixest and the built-in reader's fit bit for bit`, async () => {
      const formula = `FC ~ ${CONTROLS} | ${fe}`;
      const opts = { vcov: "cluster:firm", fixefRm };
      const names = ["FC", ...CONTROLS.split(" + ")];
      const columns = [...names, ...fe.split(" + ")];
      const mark = eng.mark();
      const ordinary = feols(eng, Frame.fromArrow((await readFileNative(original, { reader: "js", columns })).table), formula, opts);
      const r = await readFileNative(plain, {
        columns, place: { names, engine: Promise.resolve(eng), make: async (rows) => new PlacedColumns(eng, names, rows) },
      });
      expect(r.reader, r.wasmFallback).toBe("wasm");
      const fit = feols(eng, Frame.fromArrow(r.table).withPlaced(r.placed!), formula, opts);
      expect(r.placed!.consumed).toBe(true);
      const m = models[id];
      expectPlacedFit(fit, m, ordinary, { coef: COEF_REL, se: SE_REL });
      eng.release(mark);
    });
  }

  it("hdfe feols prints the same JSON with the fast path on and off", () => {
    const run = (on: string) => spawnSync(process.execPath, [HDFE_BIN, "feols", "--data", plain, "-f", `FC ~ ${CONTROLS} | firm + year`, "--vcov", "cluster:firm", "--json"], {
      encoding: "utf8", env: { ...process.env, HDFE_CSV_WASM: on },
    });
    const on = run("1"), off = run("0");
    expect(on.status, on.stderr).toBe(0);
    expect(off.status, off.stderr).toBe(0);
    expect(on.stdout).toBe(off.stdout);
    expect(rel(JSON.parse(on.stdout).coef.did, models["5"].coef.did)).toBeLessThan(COEF_REL);
  });

  it("a read without placed columns (an IV fit) prints the same JSON with the fast path on and off, and the fast path reads that file", async () => {
    const args = ["feols", "--data", plain, "-f", "FC ~ Fin | firm + year | Export ~ Digitalisation", "--vcov", "cluster:firm", "--json"];
    const run = (on: string) => spawnSync(process.execPath, [HDFE_BIN, ...args], { encoding: "utf8", env: { ...process.env, HDFE_CSV_WASM: on } });
    const on = run("1"), off = run("0");
    expect(on.status, on.stderr).toBe(0);
    expect(on.stdout).toBe(off.stdout);
    const mark = eng.mark();
    const r = await readFileNative(plain, { columns: ["FC", "Fin", "firm", "year", "Export", "Digitalisation"], engine: Promise.resolve(eng) });
    expect(r.reader, r.wasmFallback).toBe("wasm");
    expect(eng.mark()).toBe(mark);
  });
});
