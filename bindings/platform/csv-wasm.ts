// The WASM CSV fast path (issue 14): a plain CSV file read through one reused input buffer in
// WASM memory (fs.readSync straight into a view of the arena), its lines parsed by the kernel
// assembly/csv.ts csvParse, the placed columns' values (core/placed.ts) written by the kernel
// straight into the model-matrix block and the other wanted columns (FE, cluster ids) into a
// small arena scratch block, copied after each call into the Frame's JS columns. Without a
// PlaceRequest every wanted column goes that way (the CLI's reads for IV, GLM and the tools).
//
// It is a fast path: the same rows, values (bit for bit) and read report as the built-in reader
// (io/csv.ts), or it declines (CsvWasmDecline) and the caller runs the ordinary path. What it
// relies on:
// - the first lines (PREFIX_BYTES, whole lines, at least the reader's 64 KiB sniffing sample)
//   are read by the built-in reader itself with the caller's options: it finds the delimiter,
//   the header names and each wanted column's type (all must be numbers), and any error there
//   (a signature, UTF-16, a missing column...) declines, so the ordinary path raises it;
// - the kernel decides only values whose double it knows is the built-in reader's (<= 15
//   digits exact; 16-19 digits with a point or an exponent by Eisel-Lemire, the correctly
//   rounded double, = Number(), then without an exponent the double-double reading); every other
//   wanted cell is an exception that io/csv.ts NumericCells (the reader's own per-value code)
//   resolves; a cell that is not a number, or an integer beyond 2^53 (the column would be text),
//   declines;
// - a quote, a byte >= 0x80 after the header, a row of another field count, a line longer than
//   the buffer, a header with a quote or invalid UTF-8, --encoding gbk, missing-value tokens
//   that read as numbers, or more rows than the block was sized for, decline.
// Rows are not known before the end: the placed block is sized from the prefix's line length
// (x 1.25) with stride R, compacted to the real rows at the end, and handed to the PlaceRequest
// at the same arena offset.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Data, DataType, Table } from "apache-arrow";
import type { Engine } from "../engine/wasm.js";
import { CSV_CTX, CSV_CTX_BYTES, CSV_STOP } from "../engine/context.js";
import { DataReadError } from "../base/errors.js";
import { NumericCells, headerNames, naTokensLookNumeric, readCsv, type CsvOptions } from "../io/csv.js";
import { float64DataFromNaN, tableFromData } from "../io/build.js";
import type { ColumnReport, ReadReport } from "../io/report.js";
import type { PlacedColumns, PlaceRequest } from "../core/placed.js";

/** The fast path does not apply to this file or these options (the message says why). */
export class CsvWasmDecline extends Error {}

export interface CsvWasmOptions extends CsvOptions {
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** @internal input buffer bytes (default 4 MiB; tests use a few bytes to split lines anywhere) */
  bufferBytes?: number;
  /** @internal rows per kernel call (default 65536) */
  rowsPerCall?: number;
}

export interface CsvWasmResult {
  table: Table;
  report: ReadReport;
  placed?: PlacedColumns;
}

const PREFIX_BYTES = 256 * 1024;
const SNIFF_BYTES = 64 * 1024; // io/csv.ts SNIFF_BYTES: the delimiter's sample
const BUFFER_BYTES = 4 * 1024 * 1024;
const ROWS_PER_CALL = 65536;
const LF = 10;
const CR = 13;
const QUOTE = 34;

const STOP_WHY: Record<number, string> = {
  [CSV_STOP.quote]: "a quote in the data",
  [CSV_STOP.highByte]: "a byte that is not ASCII in the data",
  [CSV_STOP.fields]: "a row with another number of fields",
};

const decline = (why: string): never => {
  throw new CsvWasmDecline(why);
};

interface Plan {
  names: string[]; // the header's names
  report: ReadReport; // the prefix's report (the wanted columns, in order)
  dataStart: number; // offset of the line end closing the header
  delim: number;
  rowsEstimate: number;
}

/** The prefix read by the built-in reader: delimiter, names, types; what the kernel needs. */
function planFile(fd: number, size: number, opts: CsvWasmOptions): Plan {
  const head = new Uint8Array(Math.min(size, PREFIX_BYTES));
  let got = 0;
  while (got < head.length) {
    const n = readSync(fd, head, got, head.length - got, got);
    if (n === 0) break;
    got += n;
  }
  let len = got;
  const whole = got === size;
  if (!whole) {
    while (len > 0 && head[len - 1] !== LF && head[len - 1] !== CR) len--;
    if (len < SNIFF_BYTES + 3) decline("the first lines are longer than the sniffing sample");
  }
  const prefix = head.subarray(0, len);
  let r;
  try {
    r = readCsv(prefix, { ...opts, sniffBytes: undefined });
  } catch (e) {
    return decline(`the first lines do not read plainly (${(e as Error).message})`);
  }
  const report = r.report;
  if (report.notes || report.encoding !== "utf8") decline("not plain UTF-8 text");
  for (const c of report.columns) if (c.type !== "float64" || c.note) decline(`column ${JSON.stringify(c.name)} is not numeric in the first lines`);
  if (new Set(report.columns.map((c) => c.name)).size !== report.columns.length) decline("a column selected twice");
  const delim = report.delimiter!.charCodeAt(0);
  let p = len >= 3 && prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf ? 3 : 0;
  while (p < len && (prefix[p] === LF || prefix[p] === CR)) p++;
  const hs = p;
  while (p < len && prefix[p] !== LF && prefix[p] !== CR) {
    if (prefix[p] === QUOTE) decline("a quote in the header");
    p++;
  }
  if (p >= len && !whole) decline("no line after the header in the first lines");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(prefix.subarray(hs, p));
  } catch {
    return decline("a header that is not valid UTF-8");
  }
  const names = headerNames(text.split(String.fromCharCode(delim)));
  const dataBytes = len - p;
  const perRow = dataBytes / Math.max(1, report.rows);
  const rowsEstimate = whole ? report.rows + 16 : Math.ceil(((size - p) / Math.max(1, perRow)) * 1.25) + 1024;
  return { names, report, dataStart: p, delim, rowsEstimate };
}

/** Where each field of a row goes: a placed block column, a JS column (`other`), or nowhere. */
interface Layout {
  placedCol: Int32Array; // per field: block column or -1
  otherCol: Int32Array; // per field: other-column index or -1
  cellsOf: Int32Array; // per field: report column index or -1
  others: string[];
}

function layout(plan: Plan, place: PlaceRequest | undefined): Layout {
  const ncol = plan.names.length;
  const placedCol = new Int32Array(ncol).fill(-1);
  const otherCol = new Int32Array(ncol).fill(-1);
  const cellsOf = new Int32Array(ncol).fill(-1);
  const others: string[] = [];
  plan.report.columns.forEach((c, k) => {
    const f = plan.names.indexOf(c.name);
    if (f < 0) decline(`column ${JSON.stringify(c.name)} not found in the header`);
    cellsOf[f] = k;
    const b = place ? place.names.indexOf(c.name) : -1;
    if (b >= 0) placedCol[f] = b;
    else {
      otherCol[f] = others.length;
      others.push(c.name);
    }
  });
  if (place && place.names.some((nm) => !plan.report.columns.some((c) => c.name === nm))) decline("a placed column is not read");
  return { placedCol, otherCol, cellsOf, others };
}

/**
 * Read `path` by the fast path (the columns `opts.columns`, every column when absent), the
 * placed columns into the block `place.make(rows)` gives. Throws CsvWasmDecline when it does not
 * apply (nothing is left allocated).
 */
export async function readCsvWasm(path: string, eng: Engine, opts: CsvWasmOptions = {}, place?: PlaceRequest): Promise<CsvWasmResult> {
  if (opts.encoding === "gbk") decline("--encoding gbk");
  if (opts.sniffBytes !== undefined) decline("a sniffing sample of another size");
  if (naTokensLookNumeric(opts.na)) decline("missing-value tokens that read as numbers");
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return decline(`cannot open the file (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const plan = planFile(fd, size, opts);
    const lay = layout(plan, place);
    const m0 = eng.mark();
    try {
      return await parseFile(fd, size, eng, plan, lay, opts, place, m0);
    } catch (e) {
      eng.release(m0);
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}

interface Arena {
  block: number; // placed block (stride R rows), 0 when none
  R: number;
  buf: number;
  bufBytes: number;
  exc: number;
  excCap: number;
  scratch: number; // other columns: rowsPerCall values each
  slots: number;
  ctx: number;
}

function allocate(eng: Engine, plan: Plan, lay: Layout, opts: CsvWasmOptions, K: number): Arena {
  const ncol = plan.names.length;
  const R = plan.rowsEstimate;
  const bufBytes = opts.bufferBytes ?? BUFFER_BYTES;
  const rowsPerCall = opts.rowsPerCall ?? ROWS_PER_CALL;
  const excCap = Math.max(65536, 4 * ncol);
  const blockBytes = R * K * 8;
  const scratchBytes = bufBytes + 16 + excCap * 16 + rowsPerCall * lay.others.length * 8 + ncol * 4 + CSV_CTX_BYTES + 64;
  if (blockBytes + scratchBytes > eng.freeBytes / 2) decline("the file's estimated rows do not fit in WASM memory twice over");
  eng.reserve(blockBytes + scratchBytes);
  const block = K > 0 ? eng.alloc(blockBytes, "placed model matrix (CSV fast path)") : 0;
  return {
    block, R, bufBytes,
    buf: eng.alloc(bufBytes + 16, "CSV input buffer"),
    exc: eng.alloc(excCap * 16, "CSV exceptions"),
    excCap,
    scratch: eng.alloc(Math.max(8, rowsPerCall * lay.others.length * 8), "CSV columns scratch"),
    slots: eng.alloc(ncol * 4, "CSV slots"),
    ctx: eng.alloc(CSV_CTX_BYTES, "CSV context"),
  };
}

/** The slot table of one call: block columns at row `rows`, other columns at the scratch's start. */
function writeSlots(eng: Engine, a: Arena, lay: Layout, rows: number, rowsPerCall: number): void {
  const slots = eng.i32(a.slots, lay.placedCol.length);
  for (let f = 0; f < slots.length; f++) {
    const b = lay.placedCol[f];
    const o = lay.otherCol[f];
    slots[f] = b >= 0 ? a.block + (b * a.R + rows) * 8 : o >= 0 ? a.scratch + o * rowsPerCall * 8 : 0;
  }
}

/** The exceptions of one call resolved by the reader's own code, written where the kernel left NaN. */
function resolveExceptions(eng: Engine, a: Arena, lay: Layout, cells: NumericCells[], fill: number, nexc: number, rows: number, rowsPerCall: number, K: number): void {
  const bytes = eng.u8(a.buf, fill);
  const ex = eng.i32(a.exc, nexc * 4);
  const block = a.block ? eng.f64(a.block, a.R * K) : null;
  const scratch = eng.f64(a.scratch, rowsPerCall * lay.others.length);
  for (let k = 0; k < nexc; k++) {
    const row = ex[4 * k], f = ex[4 * k + 1];
    const v = cells[lay.cellsOf[f]].read(bytes, ex[4 * k + 2], ex[4 * k + 3]);
    const b = lay.placedCol[f];
    if (b >= 0) block![b * a.R + rows + row] = v;
    else scratch[lay.otherCol[f] * rowsPerCall + row] = v;
  }
}

async function parseFile(
  fd: number, size: number, eng: Engine, plan: Plan, lay: Layout, opts: CsvWasmOptions, place: PlaceRequest | undefined, m0: number,
): Promise<CsvWasmResult> {
  const ncol = plan.names.length;
  const K = place ? place.names.length : 0;
  const a = allocate(eng, plan, lay, opts, K);
  const rowsPerCall = opts.rowsPerCall ?? ROWS_PER_CALL;
  const cells = plan.report.columns.map(() => new NumericCells(opts.na, plan.delim));
  let cols: Float64Array[] = lay.others.map(() => new Float64Array(plan.rowsEstimate));
  const ctx = eng.i32(a.ctx, CSV_CTX_BYTES / 4);
  ctx.fill(0);
  ctx[CSV_CTX.ncol / 4] = ncol;
  ctx[CSV_CTX.delim / 4] = plan.delim;
  ctx[CSV_CTX.excCap / 4] = a.excCap;
  ctx[CSV_CTX.slots / 4] = a.slots;
  let rows = 0, fill = 0, at = plan.dataStart, excTotal = 0;
  if (at >= size) return finishRead(eng, plan, lay, cells, cols, 0, a, m0, place, opts);
  let eof = false, ended = false;
  for (;;) {
    if (!eof && fill < a.bufBytes) {
      const n = readSync(fd, eng.u8(a.buf, a.bufBytes), fill, a.bufBytes - fill, at);
      at += n;
      fill += n;
      if (n === 0) eof = true;
      opts.onProgress?.(at, size);
    }
    if (eof && !ended) {
      // the last line without a line end: end it (the buffer has 16 spare bytes)
      if (fill > 0 && eng.u8(a.buf + fill - 1, 1)[0] !== LF && eng.u8(a.buf + fill - 1, 1)[0] !== CR) eng.u8(a.buf + fill++, 1)[0] = LF;
      ended = true;
    }
    writeSlots(eng, a, lay, rows, rowsPerCall);
    const c = eng.i32(a.ctx, CSV_CTX_BYTES / 4);
    c[CSV_CTX.rowCap / 4] = K > 0 ? Math.min(rowsPerCall, a.R - rows) : rowsPerCall;
    if (eng.kernels.csvParse(a.exc, a.ctx, a.buf, fill) !== 0) throw new DataReadError("CSV fast path: the kernel rejected its arguments");
    const got = c[CSV_CTX.rows / 4], nexc = c[CSV_CTX.exc / 4], used = c[CSV_CTX.used / 4], stop = c[CSV_CTX.stop / 4];
    if (nexc > 0) resolveExceptions(eng, a, lay, cells, fill, nexc, rows, rowsPerCall, K);
    excTotal += nexc;
    if (got > 0 && cols.length > 0) {
      if (rows + got > cols[0].length) cols = cols.map((x) => growTo(x, Math.max(rows + got, Math.ceil(x.length * 1.5))));
      const scratch = eng.f64(a.scratch, rowsPerCall * cols.length);
      cols.forEach((x, s) => x.set(scratch.subarray(s * rowsPerCall, s * rowsPerCall + got), rows));
    }
    rows += got;
    if (STOP_WHY[stop]) decline(STOP_WHY[stop]);
    if (excTotal > 65536 && excTotal * 4 > rows * cells.length) decline("too many values the kernel does not decide");
    if (used > 0) eng.u8(a.buf, fill).copyWithin(0, used, fill);
    fill -= used;
    if (stop === CSV_STOP.rows && K > 0 && rows >= a.R) decline("more rows than the block was sized for");
    if (stop === CSV_STOP.input) {
      if (eof) {
        if (fill > 0) decline("an unfinished last line");
        break;
      }
      if (used === 0 && fill >= a.bufBytes) decline("a line longer than the input buffer");
    }
  }
  return finishRead(eng, plan, lay, cells, cols, rows, a, m0, place, opts);
}

function growTo(x: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n);
  y.set(x);
  return y;
}

/** The counts checked, the report made, the block compacted and handed over, the table of the other columns. */
async function finishRead(
  eng: Engine, plan: Plan, lay: Layout, cells: NumericCells[], cols: Float64Array[], rows: number, a: Arena, m0: number, place: PlaceRequest | undefined,
  opts: CsvWasmOptions,
): Promise<CsvWasmResult> {
  const columns: ColumnReport[] = plan.report.columns.map((col, k) => {
    const n = cells[k].counts;
    if (n.bigInts > 0) decline(`integers beyond 2^53 in column ${JSON.stringify(col.name)}`);
    // values that are not numbers: an error, or (unparsable: "na") nulls while at least half parse, as AutoColumn.finish
    const nonMissing = rows - n.missing;
    if (n.failures > 0 && (opts.unparsable !== "na" || (nonMissing - n.failures) * 2 < nonMissing)) {
      decline(`values that are not numbers in column ${JSON.stringify(col.name)}`);
    }
    return { name: col.name, type: "float64", missing: n.missing, unparsable: n.failures, infinite: n.infinite };
  });
  if (rows === 0 && place) decline("no data rows for the placed columns");
  const report: ReadReport = { format: "csv", rows, encoding: plan.report.encoding, delimiter: plan.report.delimiter, columns };
  let placed: PlacedColumns | undefined;
  if (place) {
    const K = place.names.length;
    const M = eng.f64(a.block, a.R * K);
    for (let c = 1; c < K; c++) M.copyWithin(c * rows, c * a.R, c * a.R + rows);
    eng.release(m0);
    placed = await place.make(rows);
    if (placed.ptr !== a.block) {
      try {
        eng.u8(placed.ptr, rows * K * 8).set(eng.u8(a.block, rows * K * 8));
      } catch (e) {
        placed.release();
        throw e;
      }
    }
  } else eng.release(m0);
  const datas: Data<DataType>[] = cols.map((x) => float64DataFromNaN(x.length - rows > x.length >> 2 ? x.slice(0, rows) : x.subarray(0, rows)));
  return { table: tableFromData(lay.others, datas, rows), report, ...(placed ? { placed } : {}) };
}
