// The CSV side of the native reader's checks (Node only): what today's reader (bindings/io/csv.ts)
// would find at the start of a file (delimiter, BOM, header names, column types on the first
// 64 KiB) and a pass over the whole file (valid UTF-8; bytes after which DuckDB and csv.ts may
// read a value differently). Either finds NotPlain: the file goes to today's reader.

import { open } from "node:fs/promises";
import { isUtf8 } from "node:buffer";
import { detectDelimiter, headerNames, readCsv } from "../io/csv.js";
import type { ReadResult } from "../io/index.js";
import { NotPlain } from "./duckdb-columns.js";
import type { FileReadOptions } from "./read-node.js";

// ---------------------------------------------------------------------------------------------
// CSV: what today's reader would find at the start of the file

const SNIFF_BYTES = 64 * 1024;
const SCAN_BYTES = 8 * 1024 * 1024;

export interface CsvPlan {
  names: string[]; // all header names as csv.ts makes them
  delimiter: string;
  selected: number[]; // header index of each output column
  string: boolean[]; // per output column: read as text
  headerEnd: number; // byte offset just past the header line
  suspicious?: boolean; // the whole-file scan found bytes that need the validation pass
}

/** Header fields of the first line of b[from, n) (null when the line is not complete in b or is unusual). */
function headerFields(b: Uint8Array, from: number, n: number, d: number): { fields: Uint8Array[]; end: number } | null {
  const fields: Uint8Array[] = [];
  let p = from;
  for (;;) {
    if (p < n && b[p] === 34) {
      const parts: number[] = [];
      p++;
      for (;;) {
        if (p >= n) return null;
        const c = b[p];
        if (c === 34) {
          if (p + 1 < n && b[p + 1] === 34) {
            parts.push(34);
            p += 2;
            continue;
          }
          p++;
          break;
        }
        if (c === 10 || c === 13) return null; // a line break inside a quoted header name
        parts.push(c);
        p++;
      }
      if (p >= n) return null;
      if (b[p] !== d && b[p] !== 10 && b[p] !== 13) return null; // "name"junk
      fields.push(Uint8Array.from(parts));
    } else {
      const s = p;
      while (p < n && b[p] !== d && b[p] !== 10 && b[p] !== 13) {
        if (b[p] === 34) return null;
        p++;
      }
      if (p >= n) return null;
      fields.push(b.slice(s, p));
    }
    if (b[p] === d) {
      p++;
      continue;
    }
    // line end
    if (b[p] === 13 && p + 1 < n && b[p + 1] === 10) p++;
    return { fields, end: p + 1 };
  }
}

export interface CsvHead {
  names: string[]; // all header names as csv.ts makes them
  delimiter: string;
  headerEnd: number; // byte offset just past the header line
  prefix: Uint8Array; // the first 64 KiB (and 3 bytes) of the file
  size: number; // the file's size in bytes
}

/** The delimiter and header of a CSV file as csv.ts finds them (NotPlain when they are unusual). */
export async function csvHead(path: string, opts: { delimiter?: string }): Promise<CsvHead> {
  const fh = await open(path, "r").catch(() => {
    throw new NotPlain("cannot open");
  });
  let prefix: Uint8Array;
  let size: number;
  try {
    size = (await fh.stat()).size;
    const buf = new Uint8Array(Math.min(size, SNIFF_BYTES + 3));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    prefix = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const n = prefix.length;
  if (n >= 2 && ((prefix[0] === 0xff && prefix[1] === 0xfe) || (prefix[0] === 0xfe && prefix[1] === 0xff))) throw new NotPlain("UTF-16");
  const from = n >= 3 && prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf ? 3 : 0;
  let d: number;
  if ((opts.delimiter ?? "auto") === "auto") {
    d = detectDelimiter(prefix, from, Math.min(n, from + SNIFF_BYTES), size < from + SNIFF_BYTES);
  } else {
    const ds = opts.delimiter!;
    if (typeof ds !== "string" || ds.length !== 1 || ds.charCodeAt(0) > 127 || ds === '"' || ds === "\n" || ds === "\r") throw new NotPlain("delimiter option");
    d = ds.charCodeAt(0);
  }
  const h = headerFields(prefix, from, n, d);
  if (h === null) throw new NotPlain("header");
  if (h.fields.length < 2) throw new NotPlain("a single column (a blank line would be a row)");
  if (!isUtf8(prefix.subarray(0, h.end))) throw new NotPlain("header not UTF-8");
  const td = new TextDecoder("utf-8");
  const names = headerNames(h.fields.map((f) => td.decode(f)));
  return { names, delimiter: String.fromCharCode(d), headerEnd: h.end, prefix, size };
}

export async function planCsv(path: string, opts: FileReadOptions): Promise<CsvPlan> {
  if (opts.encoding === "gbk") throw new NotPlain("GBK encoding");
  if (opts.stringColumns !== undefined && !Array.isArray(opts.stringColumns)) throw new NotPlain("options");
  const { names, prefix, size, headerEnd, delimiter } = await csvHead(path, opts);
  const n = prefix.length;
  const wanted = opts.columns ?? names;
  if (!Array.isArray(wanted)) throw new NotPlain("options");
  const uniq = [...new Set(wanted)];
  const selected: number[] = [];
  for (const w of uniq) {
    const k = names.indexOf(w);
    if (k < 0 || names.indexOf(w, k + 1) >= 0) throw new NotPlain("column selection"); // today's reader names the error
  }
  for (const w of uniq) selected.push(names.indexOf(w));
  if (opts.columns === undefined && new Set(names).size !== names.length) throw new NotPlain("duplicated names");
  for (const s of opts.stringColumns ?? []) if (!names.includes(s)) throw new NotPlain("stringColumns");
  // the types csv.ts gives the columns on the first 64 KiB (cut at the last line end)
  let cut = n;
  if (size > n) {
    cut = Math.max(prefix.lastIndexOf(10), prefix.lastIndexOf(13)) + 1;
    if (cut <= headerEnd) throw new NotPlain("very long lines");
  }
  let sample: ReadResult;
  try {
    sample = readCsv(prefix.subarray(0, cut), {
      encoding: "utf8",
      delimiter,
      na: opts.na,
      columns: uniq,
      stringColumns: opts.stringColumns,
      unparsable: "na",
    });
  } catch {
    throw new NotPlain("the start of the file");
  }
  const forced = new Set(opts.stringColumns ?? []);
  const string = sample.report.columns.map((c) => c.type === "string" || forced.has(c.name));
  if (sample.report.columns.some((c) => c.unparsable > 0 || c.note)) throw new NotPlain("unparsable values or ids beyond 2^53");
  return { names, delimiter, selected, string, headerEnd };
}

export interface Scan {
  utf8: boolean;
  /** an underscore, quote, vertical tab, form feed or "+-" after the header: validate numeric columns as text */
  suspicious: boolean;
  /** a quote with a space or tab beside it */
  spacedQuote: boolean;
}

const PLUS_MINUS = Buffer.from("+-");
const QS = Buffer.from('" ');
const QT = Buffer.from('"\t');
const SQ = Buffer.from(' "');
const TQ = Buffer.from('\t"');

/** The whole file: valid UTF-8 (as csv.ts's "auto" needs to say utf8), and bytes that need the validation pass. */
const OVERLAP = 256;

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** A quote with only spaces/tabs between it and a field boundary (csv.ts keeps ` "q"` as text, DuckDB unquotes it). */
function spacedQuoteIn(b: Buffer, from: number, d: number): boolean {
  for (const pat of [SQ, TQ]) {
    for (let i = b.indexOf(pat, from); i >= 0; i = b.indexOf(pat, i + 1)) {
      let p = i;
      while (p > 0 && isBlank(b[p - 1])) p--;
      const c = p === 0 ? 10 : b[p - 1];
      if (c === d || c === 10 || c === 13) return true;
    }
  }
  for (const pat of [QS, QT]) {
    for (let i = b.indexOf(pat, from); i >= 0; i = b.indexOf(pat, i + 1)) {
      let p = i + 1;
      while (p < b.length && isBlank(b[p])) p++;
      const c = p === b.length ? 10 : b[p];
      if (c === d || c === 10 || c === 13) return true;
    }
  }
  return false;
}

/** The whole file: valid UTF-8 (as csv.ts's "auto" needs to say utf8), and bytes that need the validation pass. */
export async function scanFile(path: string, headerEnd: number, delimiter: string): Promise<Scan> {
  const d = delimiter.charCodeAt(0);
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(SCAN_BYTES + OVERLAP + 4);
    let keep = 0; // bytes at the start of buf kept from the previous round (they start a character)
    let pos = 0; // file offset of buf[keep]
    let utf8 = true;
    let suspicious = false;
    let spacedQuote = false;
    for (;;) {
      const { bytesRead } = await fh.read(buf, keep, SCAN_BYTES, null);
      const n = keep + bytesRead;
      const last = bytesRead === 0;
      // the end of what can be validated now: not inside an incomplete UTF-8 sequence
      let end = n;
      if (!last) {
        for (let i = n - 1; i >= Math.max(0, n - 4); i--) {
          const c = buf[i];
          if ((c & 0xc0) !== 0x80) {
            const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (i + need > n) end = i;
            break;
          }
        }
      }
      if (utf8 && !isUtf8(buf.subarray(0, end))) utf8 = false;
      const bodyStart = Math.min(n, Math.max(0, headerEnd - (pos - keep)));
      const body = buf.subarray(0, n);
      // "+-1": DuckDB's CSV reader takes it as -1 (csv.ts: not a number)
      if (!suspicious && (body.indexOf(PLUS_MINUS, bodyStart) >= 0 || body.indexOf(95, bodyStart) >= 0 || body.indexOf(34, bodyStart) >= 0 || body.indexOf(11, bodyStart) >= 0 || body.indexOf(12, bodyStart) >= 0)) {
        suspicious = true;
      }
      if (!spacedQuote && spacedQuoteIn(body, bodyStart, d)) spacedQuote = true;
      if (last || (!utf8 && spacedQuote)) break;
      // keep the tail (from a character start) so that patterns across the boundary are seen
      let from = Math.max(0, Math.min(end, n - OVERLAP));
      while (from < end && (buf[from] & 0xc0) === 0x80) from++;
      buf.copyWithin(0, from, n);
      pos += bytesRead;
      keep = n - from;
    }
    return { utf8, suspicious, spacedQuote };
  } finally {
    await fh.close();
  }
}

/**
 * The file line (1-based) on which data row `row` (1-based, after the header record) starts,
 * as the built-in reader counts them: quoted fields may hold line breaks, and empty lines
 * (which both readers skip) still count as lines. For error messages: reads up to that row.
 */
export async function lineOfDataRow(path: string, row: number): Promise<number> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    let line = 1;
    let records = -1; // the header is record 0
    let inQuote = false;
    let atLineStart = true;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return line;
      for (let i = 0; i < bytesRead; i++) {
        const c = buf[i];
        if (atLineStart && !inQuote && c !== 10 && c !== 13) {
          if (++records === row) return line;
          atLineStart = false;
        }
        if (c === 34) inQuote = !inQuote;
        else if (c === 10) {
          line++;
          if (!inQuote) atLineStart = true;
        }
      }
    }
  } finally {
    await fh.close();
  }
}
