// Streaming CSV reader producing an apache-arrow Table. Browser-safe: no `node:` imports.
//
// Design
// - A byte-level state machine (RFC 4180: quoted fields with delimiters, doubled quotes and
//   embedded newlines; CRLF, LF or CR line ends) runs directly over the pushed bytes. The
//   structural bytes (" , ; TAB CR LF) are ASCII and can never occur inside a multi-byte UTF-8 or
//   GBK character, so no decoding is needed while splitting fields.
// - Fields are committed one at a time into per-column builders. Only the bytes of the field that
//   is still open at the end of a chunk are carried over to the next push, so chunks may split
//   anywhere (inside a quoted field, a CRLF pair, or a multi-byte character).
// - Numeric values are parsed straight from bytes (exact fast path for <= 15 significant digits;
//   exact double-double reading of 16-19 digits (decimal.ts), `Number()` on the bytes when it
//   cannot decide; otherwise the general path) into Float64Array chunks joined at the end. Text
//   values are kept as raw bytes in a hash dictionary (ByteDict: byte arena + open addressing,
//   the Map<string, int> of the design without making a JS string per value) and decoded once
//   per distinct value at the end, after the encoding is known for sure ("auto" decides on
//   UTF-8 / GBK evidence over the whole stream, encoding.ts); values that are not valid text are
//   checked then, per distinct value.
// - Types are inferred at the end: numeric if every non-missing value parses; numeric with
//   unparsable values (error, or nulls with `unparsable: "na"`) if at least half parse; otherwise
//   a string column. To be able to turn a numeric-looking column into strings exactly, numbers
//   whose text is not what String(value) gives back ("007", "1.50", "1e3") keep their raw bytes
//   in a small side arena.
//
// Why one long file: the byte-level state machine, type inference, encoding detection and the
// column builders share one chunk loop's state; split, they would pass that state around.

import type { Table, Data, DataType } from "apache-arrow";
import { ColumnError, DataReadError, OptionError } from "../base/errors.js";
import { dictData, float64DataFromNaN, tableFromData } from "./build.js";
import type { ColumnReport, ReadReport } from "./report.js";
import { resolveColumns } from "./select.js";
import { readLongDecimal } from "./decimal.js";
import { chooseEncoding, GbkStats, Utf8Stats } from "./encoding.js";
import { bigIntNote } from "./text.js";

export type CsvEncoding = "utf8" | "gbk" | "auto";

export interface CsvOptions {
  /** Text encoding. "auto" (default): utf8 unless the whole input is invalid UTF-8 in a way GBK explains
   *  (encoding.ts). Values that are not valid text in the encoding are an error in the `columns` selected,
   *  a column note when every column is read, and a report note elsewhere. */
  encoding?: CsvEncoding;
  /** Field delimiter: one ASCII character, or "auto" (default) to pick among , ; and TAB. */
  delimiter?: string;
  /** Missing-value tokens (compared after trimming spaces/tabs). Default DEFAULT_NA. */
  na?: string[];
  /** Read only these columns, in this order. */
  columns?: string[];
  /** Force these columns to be strings (ids with leading zeros, codes...). */
  stringColumns?: string[];
  /** What to do with non-numbers in a mostly numeric column: throw (default) or make them null. */
  unparsable?: "error" | "na";
  /** @internal Bytes buffered for delimiter detection before streaming starts (default 65536; tests use
   *  tiny values to exercise the streaming path on small inputs). */
  sniffBytes?: number;
}

export const DEFAULT_NA: readonly string[] = ["", "NA", "NaN", "N/A", "NULL", "null", "--", "."];

export interface CsvResult {
  table: Table;
  report: ReadReport;
}

export interface CsvReader {
  /** Feed the next chunk of bytes. The chunk is not retained (it may be reused by the caller). */
  push(chunk: Uint8Array): void;
  /** End of input: returns the table. Throws DataReadError / ColumnError on bad input. */
  finish(): CsvResult;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;
const TAB = 9;
const SPACE = 32;
const COMMA = 44;
const SEMI = 59;

/** Bytes buffered before the delimiter is detected and parsing starts. */
const SNIFF_BYTES = 64 * 1024;
const SNIFF_LINES = 30;

// parser states
const S_START = 0; // at the beginning of a field
const S_UNQUOTED = 1; // inside an unquoted field (or the tail of a messy quoted one)
const S_QUOTED = 2; // inside a quoted field
const S_AFTERQ = 3; // just after a quote inside a quoted field

// field kinds
const K_PLAIN = 0;
const K_QUOTED = 1; // "..." without doubled quotes
const K_QUOTED_ESC = 2; // "..." with doubled quotes
const K_MESSY = 3; // "..."something

const P10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const RE_NUM = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const RE_THOUSANDS = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$/;
const RE_INF = /^[+-]?inf(?:inity)?$/i;
const RE_NON_ASCII = /[^\x00-\x7f]/;

/** Parse trimmed text as a number; undefined when it is not one. Never returns NaN. */
export function parseNumberText(t: string, allowThousands: boolean): number | undefined {
  if (RE_NUM.test(t)) return Number(t);
  if (allowThousands && RE_THOUSANDS.test(t)) return Number(t.replace(/,/g, ""));
  if (RE_INF.test(t)) return t.charCodeAt(0) === 45 ? -Infinity : Infinity;
  return undefined;
}

/** Largest integer a double holds exactly with all its neighbours (2^53 - 1). */
const MAX_SAFE_INT = Number.MAX_SAFE_INTEGER;

/**
 * Did reading the integer text (optional sign, digits) as the double v lose information? Not
 * when v is within 2^53, holds the integer exactly, or prints back as the same text (a writer
 * that prints doubles in full, as JavaScript prints 1e20): then distinct texts stay distinct.
 */
function inexactInteger(v: number, text: string): boolean {
  if (v <= MAX_SAFE_INT && v >= -MAX_SAFE_INT) return false;
  if (!Number.isFinite(v)) return true;
  if (String(v) === text) return false;
  return BigInt(text) !== BigInt(v);
}

/** Bytes -> "binary" string (one char per byte, lossless). */
function bin(b: Uint8Array, s: number, e: number): string {
  const len = e - s;
  if (len <= 0) return "";
  if (len <= 12) {
    let r = "";
    for (let p = s; p < e; p++) r += String.fromCharCode(b[p]);
    return r;
  }
  if (len <= 4096) return String.fromCharCode.apply(null, b.subarray(s, e) as unknown as number[]);
  let out = "";
  for (let p = s; p < e; p += 4096) {
    out += String.fromCharCode.apply(null, b.subarray(p, Math.min(e, p + 4096)) as unknown as number[]);
  }
  return out;
}

/** Decodes bytes b[s, e) with the file's encoding (ASCII without a TextDecoder round trip); invalid
 *  sequences become U+FFFD. */
type Decode = (b: Uint8Array, s: number, e: number) => string;

function makeDecoder(enc: "utf8" | "gbk"): Decode {
  const td = new TextDecoder(enc === "utf8" ? "utf-8" : "gbk");
  return (b: Uint8Array, s: number, e: number) => {
    for (let p = s; p < e; p++) if (b[p] >= 0x80) return td.decode(b.subarray(s, e));
    return bin(b, s, e);
  };
}

/** Is b[s, e) valid text in the encoding (decodes without U+FFFD replacements)? */
type Check = (b: Uint8Array, s: number, e: number) => boolean;

function makeCheck(enc: "utf8" | "gbk"): Check {
  const td = new TextDecoder(enc === "utf8" ? "utf-8" : "gbk", { fatal: true });
  return (b: Uint8Array, s: number, e: number) => {
    let p = s;
    while (p < e && b[p] < 0x80) p++;
    if (p === e) return true;
    let text: string;
    try {
      text = td.decode(b.subarray(s, e));
    } catch {
      return false;
    }
    if (enc === "utf8") return true;
    // GBK: decoders differ on the edges (Node's drops 0xFF and some pairs without an error, and has
    // no four-byte sequences): valid means every byte is ASCII, 0x80 or a pair, one character each
    const st = new GbkStats();
    st.feed(b, s, e);
    st.end();
    if (st.bad > 0 || st.okOther > st.euro) return false;
    let ascii = 0;
    for (let q = s; q < e; q++) if (b[q] < 0x80) ascii++;
    return text.length === ascii + st.ok2 + st.euro;
  };
}

function encodingName(enc: "utf8" | "gbk"): string {
  return enc === "utf8" ? "UTF-8" : "GBK";
}

function hasHighByte(b: Uint8Array): boolean {
  for (let p = 0; p < b.length; p++) if (b[p] >= 0x80) return true;
  return false;
}

/**
 * Interns byte strings: an open-addressing hash table over a byte arena, so repeated values cost a
 * hash and a byte compare, and a JS string is made only once per distinct value (at the end).
 */
class ByteDict {
  size = 0;
  private slots = new Int32Array(1024); // code + 1, 0 = empty
  private mask = 1023;
  private hashes = new Int32Array(256);
  private starts = new Int32Array(257); // value k is arena[starts[k], starts[k + 1])
  private arena = new Uint8Array(4096);

  intern(b: Uint8Array, s: number, e: number): number {
    let h = 0x811c9dc5 | 0;
    for (let p = s; p < e; p++) h = Math.imul(h ^ b[p], 0x01000193);
    const len = e - s;
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const slot = slots[i];
      if (slot === 0) break;
      const code = slot - 1;
      if (this.hashes[code] === h) {
        const st = this.starts[code];
        if (this.starts[code + 1] - st === len) {
          const arena = this.arena;
          let k = 0;
          while (k < len && arena[st + k] === b[s + k]) k++;
          if (k === len) return code;
        }
      }
      i = (i + 1) & mask;
    }
    const code = this.size;
    if (code + 1 >= this.hashes.length) {
      const hs = new Int32Array(this.hashes.length * 2);
      hs.set(this.hashes);
      this.hashes = hs;
      const st = new Int32Array(this.starts.length * 2);
      st.set(this.starts);
      this.starts = st;
    }
    const at = this.starts[code];
    if (at + len > this.arena.length) {
      let cap = this.arena.length * 2;
      while (cap < at + len) cap *= 2;
      const a = new Uint8Array(cap);
      a.set(this.arena.subarray(0, at));
      this.arena = a;
    }
    this.arena.set(b.subarray(s, e), at);
    this.starts[code + 1] = at + len;
    this.hashes[code] = h;
    slots[i] = code + 1;
    this.size = code + 1;
    if (this.size * 2 > mask) this.rehash();
    return code;
  }

  private rehash(): void {
    const cap = (this.mask + 1) * 2;
    const slots = new Int32Array(cap);
    const mask = cap - 1;
    for (let code = 0; code < this.size; code++) {
      let i = this.hashes[code] & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = code + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }

  text(code: number, decode: Decode): string {
    return decode(this.arena, this.starts[code], this.starts[code + 1]);
  }

  valid(code: number, check: Check): boolean {
    return check(this.arena, this.starts[code], this.starts[code + 1]);
  }
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

// ---------------------------------------------------------------------------------------------
// Missing-value tokens

class NaSet {
  /** ASCII tokens, matched on bytes in the hot path. */
  readonly tokens: Uint8Array[] = [];
  readonly first = new Uint8Array(256);
  readonly empty: boolean;
  readonly maxLen: number;
  /** Some token would also parse as a number: check tokens before numbers. */
  readonly numericFirst: boolean;
  /** Non-ASCII tokens: matched after decoding (their bytes depend on the encoding). */
  readonly decoded: Set<string>;

  constructor(na: readonly string[]) {
    let maxLen = 0;
    let numericFirst = false;
    let empty = false;
    this.decoded = new Set();
    for (const raw of na) {
      if (typeof raw !== "string") throw new OptionError(`na tokens must be strings, got ${typeof raw}`);
      const t = raw.replace(/^[ \t]+|[ \t]+$/g, "");
      if (t === "") {
        empty = true;
        continue;
      }
      if (RE_NON_ASCII.test(t)) {
        this.decoded.add(t);
        continue;
      }
      const bytes = new Uint8Array(t.length);
      for (let i = 0; i < t.length; i++) bytes[i] = t.charCodeAt(i);
      this.tokens.push(bytes);
      this.first[bytes[0]] = 1;
      if (bytes.length > maxLen) maxLen = bytes.length;
      if (parseNumberText(t, true) !== undefined) numericFirst = true;
    }
    this.empty = empty;
    this.maxLen = maxLen;
    this.numericFirst = numericFirst;
  }

  /** Is b[s, e) (already trimmed) a missing-value token? */
  match(b: Uint8Array, s: number, e: number): boolean {
    const len = e - s;
    if (len === 0) return this.empty;
    if (len > this.maxLen || this.first[b[s]] === 0) return false;
    outer: for (const t of this.tokens) {
      if (t.length !== len) continue;
      for (let k = 0; k < len; k++) if (t[k] !== b[s + k]) continue outer;
      return true;
    }
    return false;
  }
}

interface FinishContext {
  decode: Decode;
  check: Check;
  encoding: "utf8" | "gbk";
  /** How the encoding was chosen (for messages): detected or requested. */
  encodingHow: string;
  /** The caller selected the columns (they are the ones it uses): text that does not decode is an error. */
  strict: boolean;
  na: NaSet;
  unparsable: "error" | "na";
  name: string;
}

function invalidTextError(ctx: FinishContext, count: number, row: number, line: number, value: string): DataReadError {
  const enc = encodingName(ctx.encoding);
  return new DataReadError(
    `column ${JSON.stringify(ctx.name)} has ${count} value${count === 1 ? "" : "s"} that ${count === 1 ? "is" : "are"} not valid ${enc} ` +
      `(the file is read as ${enc}, ${ctx.encodingHow}); first at data row ${row} (line ${line}): ${JSON.stringify(value)}`,
    { column: ctx.name, row, line, count, encoding: ctx.encoding, value },
    ctx.encoding === "utf8"
      ? 'if the file is GBK (CSMAR/Wind exports), pass encoding: "gbk" (CLI: --encoding gbk); otherwise fix or remove the byte in the file'
      : 'if the file is UTF-8, pass encoding: "utf8" (CLI: --encoding utf8); otherwise fix or remove the byte in the file',
  );
}

function invalidNote(ctx: FinishContext, count: number, row: number, what = "shown with U+FFFD; distinct values stay distinct"): string {
  return `${count} value${count === 1 ? "" : "s"} not valid ${encodingName(ctx.encoding)} (first at data row ${row}), ${what}`;
}

interface BuiltColumn {
  data: Data<DataType>;
  report: ColumnReport;
}

/** Decode dictionary keys, merge keys that decode equal, null out non-ASCII NA tokens, and renumber codes
 *  in order of first appearance. Mutates `codes`. Returns levels and the number of nulls, and a note when
 *  some values are not valid text. Keys that are not valid text throw when `ctx.strict` (naming the first
 *  row; `firstLine[code]` is the file line of a key's first row), and also when two different keys would
 *  decode to the same text because of it (the values would merge). */
function finishDictionary(
  codes: Int32Array,
  dict: ByteDict,
  ctx: FinishContext,
  firstLine: ArrayLike<number>,
): { levels: string[]; nulls: number; note?: string } {
  const remap = new Int32Array(dict.size).fill(-2);
  const levels: string[] = [];
  const levelRow: number[] = [];
  const levelBad: boolean[] = [];
  const index = new Map<string, number>();
  let nulls = 0;
  let badRows = 0;
  let badFirst = -1;
  let badValue = "";
  let badLine = 0;
  const bad = new Uint8Array(dict.size);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c < 0) {
      nulls++;
      continue;
    }
    let r = remap[c];
    if (r === -2) {
      const s = dict.text(c, ctx.decode);
      const ok = dict.valid(c, ctx.check);
      if (!ok) {
        bad[c] = 1;
        if (badFirst < 0) {
          badFirst = i;
          badValue = s;
          badLine = firstLine[c] ?? 0;
        }
      }
      if (ok && ctx.na.decoded.size > 0 && ctx.na.decoded.has(s.replace(/^[ \t]+|[ \t]+$/g, ""))) r = -1;
      else {
        const found = index.get(s);
        if (found !== undefined) {
          if (!ctx.strict && (!ok || levelBad[found])) {
            throw new DataReadError(
              `column ${JSON.stringify(ctx.name)}: two different values read the same, ${JSON.stringify(s)} (data rows ` +
                `${levelRow[found] + 1} and ${i + 1}), because they are not valid ${encodingName(ctx.encoding)}; they would merge`,
              { column: ctx.name, rows: [levelRow[found] + 1, i + 1], encoding: ctx.encoding },
              "fix the encoding of the file (or pass the right encoding)",
            );
          }
          r = found;
        } else {
          r = levels.length;
          levels.push(s);
          levelRow.push(i);
          levelBad.push(!ok);
          index.set(s, r);
        }
      }
      remap[c] = r;
    }
    if (bad[c]) badRows++;
    codes[i] = r;
    if (r < 0) nulls++;
  }
  if (badRows === 0) return { levels, nulls };
  if (ctx.strict) throw invalidTextError(ctx, badRows, badFirst + 1, badLine, badValue);
  return { levels, nulls, note: invalidNote(ctx, badRows, badFirst + 1) };
}

// ---------------------------------------------------------------------------------------------
// Column builders

interface ColumnBuilder {
  /** Append the value b[s, e) (already unquoted) for the next row. `line` is the row's first file line. */
  add(b: Uint8Array, s: number, e: number, quoted: boolean, line: number): void;
  finish(ctx: FinishContext): BuiltColumn;
}

/** A column forced to be text. */
class StringColumn implements ColumnBuilder {
  n = 0;
  codes = new Int32Array(1024);
  dict = new ByteDict();
  /** file line of the first row of each dictionary code */
  firstLine: number[] = [];
  constructor(private readonly na: NaSet) {}

  add(b: Uint8Array, s: number, e: number, _quoted: boolean, line: number): void {
    const row = this.n;
    if (row === this.codes.length) {
      const next = new Int32Array(row * 2);
      next.set(this.codes);
      this.codes = next;
    }
    this.n = row + 1;
    let ts = s;
    let te = e;
    while (ts < te && isSpace(b[ts])) ts++;
    while (te > ts && isSpace(b[te - 1])) te--;
    if (this.na.match(b, ts, te)) {
      this.codes[row] = -1;
      return;
    }
    const code = this.dict.intern(b, s, e);
    if (code === this.firstLine.length) this.firstLine.push(line);
    this.codes[row] = code;
  }

  finish(ctx: FinishContext): BuiltColumn {
    const codes = this.codes.slice(0, this.n);
    const { levels, nulls, note } = finishDictionary(codes, this.dict, ctx, this.firstLine);
    const report: ColumnReport = { name: ctx.name, type: "string", missing: nulls, unparsable: 0, infinite: 0 };
    if (note) report.note = note;
    return { data: dictData(codes, levels), report };
  }
}

/** Values per chunk of a numeric column builder (8 MiB). */
const MAX_CHUNK_VALUES = 1 << 20;

/** A column whose type is inferred: numbers are parsed as they come, text is remembered sparsely. */
class AutoColumn implements ColumnBuilder {
  n = 0;
  // values in chunks (the current one in num, rows base ...): no doubling copies, at most one
  // chunk of slack; joined once at the end
  num = new Float64Array(1024);
  base = 0;
  chunks: Float64Array[] = [];
  missing = 0;
  infinite = 0;
  // values that are not numbers (sparse, in row order): row -> dictionary code
  nFail = 0;
  failRows = new Int32Array(0);
  failCodes = new Int32Array(0);
  dict = new ByteDict();
  codeCount: number[] = [];
  codeFirstRow: number[] = [];
  codeFirstLine: number[] = [];
  // numbers whose text differs from String(value): raw bytes (sparse, in row order)
  nNc = 0;
  ncRows = new Int32Array(0);
  ncEnds = new Int32Array(0);
  arena = new Uint8Array(0);
  arenaLen = 0;
  // integers beyond 2^53 that a double does not hold exactly (e.g. 18-digit ids)
  bigInts = 0;

  constructor(
    private readonly na: NaSet,
    private readonly allowThousandsUnquoted: boolean,
    private readonly allowThousandsQuoted: boolean,
  ) {}

  private grow(): void {
    this.chunks.push(this.num);
    this.base += this.num.length;
    this.num = new Float64Array(Math.min(this.num.length * 2, MAX_CHUNK_VALUES));
  }

  /** All values as one array of exact length n (the chunks are released). */
  private values(): Float64Array {
    const n = this.n;
    let out: Float64Array;
    if (this.chunks.length === 0) {
      // keep the buffer when the slack is small, else copy to the exact size
      out = this.num.length - n <= this.num.length >> 3 ? this.num.subarray(0, n) : this.num.slice(0, n);
    } else {
      out = new Float64Array(n);
      let o = 0;
      for (const c of this.chunks) {
        out.set(c, o);
        o += c.length;
      }
      out.set(this.num.subarray(0, n - o), o);
      this.chunks = [];
    }
    this.num = new Float64Array(0);
    return out;
  }

  add(b: Uint8Array, s: number, e: number, quoted: boolean, line: number): void {
    const row = this.n;
    if (row - this.base === this.num.length) this.grow();
    this.n = row + 1;
    if (s === e) {
      this.slow(b, s, e, quoted, row, line);
      return;
    }
    if (this.na.numericFirst && this.na.match(b, s, e)) {
      this.num[row - this.base] = NaN;
      this.missing++;
      return;
    }
    // ---- fast path: [+-]digits[.digits][e[+-]digits], <= 15 significant digits, exact
    let p = s;
    let c = b[p];
    let neg = false;
    let canon = true;
    if (c === 45) {
      neg = true;
      p++;
    } else if (c === 43) {
      canon = false;
      p++;
    }
    const ip = p;
    let m = 0;
    let intLen = 0;
    let group = 0; // digits since the start or the last thousands separator
    let groups = false;
    while (p < e) {
      const c2 = b[p];
      const d = c2 - 48;
      if (d >= 0 && d <= 9) {
        m = m * 10 + d;
        intLen++;
        group++;
        p++;
      } else if (c2 === COMMA && (quoted ? this.allowThousandsQuoted : this.allowThousandsUnquoted)) {
        // "1,234,567": first group 1-3 digits, then groups of exactly 3
        if (groups ? group !== 3 : group < 1 || group > 3) break;
        groups = true;
        group = 0;
        p++;
      } else break;
    }
    if (groups) {
      canon = false;
      if (group !== 3) p = -1; // bad grouping: let the slow path decide (it fails)
    }
    let fracLen = 0;
    let dot = false;
    if (p >= 0 && p < e && b[p] === 46) {
      dot = true;
      p++;
      const fp = p;
      while (p < e) {
        const d = b[p] - 48;
        if (d < 0 || d > 9) break;
        m = m * 10 + d;
        p++;
      }
      fracLen = p - fp;
    }
    const nd = intLen + fracLen;
    let ex = 0;
    let hasExp = false;
    if (p < e && p >= 0 && (b[p] | 32) === 101 && nd > 0 && !groups) {
      canon = false;
      hasExp = true;
      p++;
      let eneg = false;
      if (p < e && (b[p] === 45 || b[p] === 43)) {
        eneg = b[p] === 45;
        p++;
      }
      const ep = p;
      while (p < e) {
        const d = b[p] - 48;
        if (d < 0 || d > 9) break;
        if (ex < 100000) ex = ex * 10 + d;
        p++;
      }
      if (p === ep) p = -1; // "1e" is not a number here: go slow
      if (eneg) ex = -ex;
    }
    if (p === e && nd > 15 && !groups) {
      // ---- valid syntax, more digits than the exact path takes (e.g. shortest round-trip
      // doubles, 16-17 digits): exact double-double reading (decimal.ts) when it can decide,
      // else Number() on the bytes; no trimming, missing-value or pattern checks
      if (!hasExp) {
        const L = readLongDecimal(b, s, e);
        if (L.value === L.value && L.canonical !== -1) {
          this.num[row - this.base] = L.value;
          if (L.canonical === 0) this.nonCanonical(b, s, e, row);
          return;
        }
      }
      const text = bin(b, s, e);
      const v = Number(text);
      this.num[row - this.base] = v;
      if (v === Infinity || v === -Infinity) this.infinite++;
      if (!dot && !hasExp && inexactInteger(v, text)) this.bigInts++;
      if (String(v) !== text) this.nonCanonical(b, s, e, row);
      return;
    }
    if (p !== e || nd === 0 || nd > 15) {
      this.slow(b, s, e, quoted, row, line);
      return;
    }
    const e10 = ex - fracLen;
    let v: number;
    if (e10 === 0) v = m;
    else if (e10 > 0 && e10 <= 22) v = m * P10[e10];
    else if (e10 < 0 && e10 >= -22) v = m / P10[-e10];
    else {
      this.slow(b, s, e, quoted, row, line);
      return;
    }
    if (neg) v = -v;
    this.num[row - this.base] = v;
    if (canon) {
      if (
        intLen === 0 ||
        (dot && (fracLen === 0 || b[e - 1] === 48)) ||
        (intLen > 1 && b[ip] === 48) ||
        (neg && v === 0) ||
        (v !== 0 && v > -1e-6 && v < 1e-6)
      ) {
        canon = false;
      }
    }
    if (!canon) this.nonCanonical(b, s, e, row);
  }

  private slow(b: Uint8Array, s: number, e: number, quoted: boolean, row: number, line: number): void {
    let ts = s;
    let te = e;
    while (ts < te && isSpace(b[ts])) ts++;
    while (te > ts && isSpace(b[te - 1])) te--;
    if (this.na.match(b, ts, te)) {
      this.num[row - this.base] = NaN;
      this.missing++;
      return;
    }
    const c0 = b[ts];
    if (!((c0 >= 48 && c0 <= 57) || c0 === 43 || c0 === 45 || c0 === 46 || (c0 | 32) === 105)) {
      // cannot start a number (digit, sign, dot, or the i of inf): text
      this.num[row - this.base] = NaN;
      this.fail(b, s, e, row, line);
      return;
    }
    const text = bin(b, ts, te);
    const v = parseNumberText(text, quoted ? this.allowThousandsQuoted : this.allowThousandsUnquoted);
    if (v === undefined) {
      this.num[row - this.base] = NaN;
      this.fail(b, s, e, row, line);
      return;
    }
    this.num[row - this.base] = v;
    if (v === Infinity || v === -Infinity) this.infinite++;
    else if (/^[+-]?\d+$/.test(text) && inexactInteger(v, text)) this.bigInts++;
    if (ts !== s || te !== e || String(v) !== text) this.nonCanonical(b, s, e, row);
  }

  private nonCanonical(b: Uint8Array, s: number, e: number, row: number): void {
    const k = this.nNc;
    if (k === this.ncRows.length) {
      const cap = Math.max(64, k * 2);
      const r = new Int32Array(cap);
      r.set(this.ncRows);
      this.ncRows = r;
      const en = new Int32Array(cap);
      en.set(this.ncEnds);
      this.ncEnds = en;
    }
    const len = e - s;
    let a = this.arenaLen;
    if (a + len > this.arena.length) {
      const next = new Uint8Array(Math.max(1024, (a + len) * 2));
      next.set(this.arena.subarray(0, a));
      this.arena = next;
    }
    const arena = this.arena;
    for (let p = s; p < e; p++) arena[a++] = b[p];
    this.arenaLen = a;
    this.ncRows[k] = row;
    this.ncEnds[k] = a;
    this.nNc = k + 1;
  }

  private fail(b: Uint8Array, s: number, e: number, row: number, line: number): void {
    const code = this.dict.intern(b, s, e);
    if (code === this.codeCount.length) {
      this.codeCount.push(0);
      this.codeFirstRow.push(row);
      this.codeFirstLine.push(line);
    }
    this.codeCount[code]++;
    const k = this.nFail;
    if (k === this.failRows.length) {
      const cap = Math.max(64, k * 2);
      const r = new Int32Array(cap);
      r.set(this.failRows);
      this.failRows = r;
      const c = new Int32Array(cap);
      c.set(this.failCodes);
      this.failCodes = c;
    }
    this.failRows[k] = row;
    this.failCodes[k] = code;
    this.nFail = k + 1;
  }

  finish(ctx: FinishContext): BuiltColumn {
    const n = this.n;
    // values that are not valid text (only non-numbers can hold non-ASCII bytes)
    let badCount = 0;
    let badCode = -1;
    for (let c = 0; c < this.dict.size; c++) {
      if (!this.dict.valid(c, ctx.check)) {
        badCount += this.codeCount[c];
        if (badCode < 0 || this.codeFirstRow[c] < this.codeFirstRow[badCode]) badCode = c;
      }
    }
    if (badCount > 0 && ctx.strict) {
      throw invalidTextError(ctx, badCount, this.codeFirstRow[badCode] + 1, this.codeFirstLine[badCode], this.dict.text(badCode, ctx.decode));
    }
    // failures that are really (non-ASCII) missing-value tokens
    let naFails = 0;
    let failures = 0;
    let firstCode = -1;
    for (let c = 0; c < this.dict.size; c++) {
      if (ctx.na.decoded.size > 0 && ctx.na.decoded.has(this.dict.text(c, ctx.decode).replace(/^[ \t]+|[ \t]+$/g, ""))) {
        naFails += this.codeCount[c];
      } else {
        failures += this.codeCount[c];
        if (firstCode < 0 || this.codeFirstRow[c] < this.codeFirstRow[firstCode]) firstCode = c;
      }
    }
    const missing = this.missing + naFails;
    const nonMissing = n - missing;
    const parsed = nonMissing - failures;
    // integers a double cannot hold (beyond 2^53, e.g. 18-digit ids, where a double would merge
    // neighbours): keep the column as text
    const bigIds = this.bigInts > 0;
    if (!bigIds && (failures === 0 || parsed * 2 >= nonMissing)) {
      if (failures > 0 && ctx.unparsable !== "na") {
        throw unparsableError(ctx.name, failures, this.codeFirstRow[firstCode] + 1, this.codeFirstLine[firstCode], this.dict.text(firstCode, ctx.decode));
      }
      const values = this.values();
      const report: ColumnReport = { name: ctx.name, type: "float64", missing, unparsable: failures, infinite: this.infinite };
      if (badCount > 0) report.note = invalidNote(ctx, badCount, this.codeFirstRow[badCode] + 1, "read as unparsable");
      return { data: float64DataFromNaN(values), report };
    }
    // a text column: rebuild every row's text
    const codes = new Int32Array(n);
    const dict = this.dict;
    const num = this.values();
    const scratch = new Uint8Array(64);
    let fk = 0;
    let nk = 0;
    let arenaStart = 0;
    const nFail = this.nFail;
    const nNc = this.nNc;
    for (let i = 0; i < n; i++) {
      if (fk < nFail && this.failRows[fk] === i) {
        codes[i] = this.failCodes[fk++];
        continue;
      }
      if (nk < nNc && this.ncRows[nk] === i) {
        // the number's own text
        const end = this.ncEnds[nk++];
        codes[i] = dict.intern(this.arena, arenaStart, end);
        arenaStart = end;
      } else {
        const v = num[i];
        if (v !== v) {
          codes[i] = -1;
          continue;
        }
        // its text is String(v) (ASCII)
        const t = String(v);
        for (let k = 0; k < t.length; k++) scratch[k] = t.charCodeAt(k);
        codes[i] = dict.intern(scratch, 0, t.length);
      }
    }
    const { levels, nulls, note } = finishDictionary(codes, dict, ctx, this.codeFirstLine);
    const report: ColumnReport = { name: ctx.name, type: "string", missing: nulls, unparsable: 0, infinite: 0 };
    const notes: string[] = [];
    if (bigIds) notes.push(bigIntNote(this.bigInts));
    if (note) notes.push(note);
    if (notes.length > 0) report.note = notes.join("; ");
    return { data: dictData(codes, levels), report };
  }
}

/**
 * The values of one numeric column read cell by cell with the reader's own per-value code
 * (AutoColumn.add: missing-value tokens, the exact and long-decimal paths, Number(), inf, the
 * thousands rule of the delimiter, the 2^53 check): for a reader that parses most values
 * itself and leaves the rest here (the WASM CSV fast path, platform/csv-wasm.ts). Unquoted
 * fields only.
 */
export class NumericCells {
  private readonly col: AutoColumn;
  /** `na`: the reader's tokens (default DEFAULT_NA); `delimiter`: the file's delimiter byte. */
  constructor(na: readonly string[] | undefined, delimiter: number) {
    this.col = new AutoColumn(new NaSet(na ?? DEFAULT_NA), delimiter === TAB, delimiter !== SEMI);
  }

  /** The value b[s, e) reads as (NaN when missing or not a number: see the counts). */
  read(b: Uint8Array, s: number, e: number): number {
    const row = this.col.n;
    this.col.add(b, s, e, false, 0);
    return this.col.num[row - this.col.base];
  }

  /** missing-value tokens, infinities, values that are not numbers, integers a double does not hold (the column would be text) */
  get counts(): { missing: number; infinite: number; failures: number; bigInts: number } {
    const c = this.col;
    return { missing: c.missing, infinite: c.infinite, failures: c.nFail, bigInts: c.bigInts };
  }
}

/** Would some missing-value token also read as a number (the reader then checks tokens before numbers)? */
export function naTokensLookNumeric(na: readonly string[] | undefined): boolean {
  return new NaSet(na ?? DEFAULT_NA).numericFirst;
}

// ---------------------------------------------------------------------------------------------
// Delimiter, quoting and file-signature helpers

/** File signatures of formats that are not CSV text: checked on the first bytes of the input. */
const SIGNATURES: { bytes: number[]; what: string; format?: string; hint: string }[] = [
  { bytes: [0x50, 0x41, 0x52, 0x31], what: "a Parquet file", format: "parquet", hint: 'read it as Parquet (format: "parquet"; CLI: --format parquet) or rename it to .parquet' },
  { bytes: [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31], what: "an Arrow IPC file", format: "arrow", hint: 'read it as Arrow (format: "arrow"; CLI: --format arrow) or rename it to .arrow' },
  { bytes: [0xff, 0xff, 0xff, 0xff], what: "an Arrow IPC stream", format: "arrow", hint: 'read it as Arrow (format: "arrow"; CLI: --format arrow) or rename it to .arrow' },
  { bytes: [0x46, 0x45, 0x41, 0x31], what: "a Feather v1 file", hint: "save it again as Arrow IPC / Feather v2 or CSV" },
  { bytes: [0x1f, 0x8b], what: "gzip-compressed", hint: "decompress it first (gunzip)" },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: "a zip archive (or an Excel .xlsx workbook)", hint: "unzip it, or save the sheet as CSV" },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: "an Excel .xls workbook (or another OLE document)", hint: "save the sheet as CSV" },
  { bytes: [0xff, 0xfe], what: "UTF-16 (little-endian, with a byte-order mark)", hint: "save the file as UTF-8 (or GBK) CSV" },
  { bytes: [0xfe, 0xff], what: "UTF-16 (big-endian, with a byte-order mark)", hint: "save the file as UTF-8 (or GBK) CSV" },
];

/** The signature that head[0, n) starts with, if any (only signatures of at most n bytes are tested). */
function signatureOf(head: Uint8Array, n: number): (typeof SIGNATURES)[number] | undefined {
  return SIGNATURES.find((sig) => sig.bytes.length <= n && sig.bytes.every((x, k) => head[k] === x));
}

/** Pick the delimiter among , TAB ; from the first lines of b[s, e). */
export function detectDelimiter(b: Uint8Array, s: number, e: number, complete: boolean): number {
  const cands = [COMMA, TAB, SEMI];
  const lines: number[][] = [];
  let cur = [0, 0, 0];
  let lineLen = 0;
  let inQ = false;
  for (let p = s; p < e; p++) {
    const c = b[p];
    if (c === QUOTE) {
      inQ = !inQ;
      lineLen++;
    } else if (inQ) {
      lineLen++;
    } else if (c === LF || c === CR) {
      if (lineLen > 0) {
        lines.push(cur);
        if (lines.length >= SNIFF_LINES) break;
      }
      cur = [0, 0, 0];
      lineLen = 0;
    } else {
      lineLen++;
      if (c === COMMA) cur[0]++;
      else if (c === TAB) cur[1]++;
      else if (c === SEMI) cur[2]++;
    }
  }
  if (complete && lineLen > 0 && lines.length < SNIFF_LINES) lines.push(cur);
  if (lines.length === 0) return COMMA;
  let best = -1;
  let bestScore = -1;
  let bestCount = -1;
  for (let k = 0; k < cands.length; k++) {
    const h = lines[0][k];
    if (h === 0) continue;
    let same = 0;
    for (const l of lines) if (l[k] === h) same++;
    const score = same / lines.length;
    if (score > bestScore || (score === bestScore && h > bestCount)) {
      best = k;
      bestScore = score;
      bestCount = h;
    }
  }
  return best < 0 ? COMMA : cands[best];
}

function delimiterName(d: number): string {
  return String.fromCharCode(d);
}

/** Remove the quoting of a quoted field b[s, e) that starts with a quote. */
function unquote(b: Uint8Array, s: number, e: number, kind: number): Uint8Array {
  const out = new Uint8Array(e - s);
  let o = 0;
  if (kind === K_QUOTED_ESC) {
    for (let p = s + 1; p < e - 1; p++) {
      const c = b[p];
      out[o++] = c;
      if (c === QUOTE) p++; // skip the second quote of a pair
    }
    return out.subarray(0, o);
  }
  // messy: "quoted part" then verbatim rest (dropped when it is only whitespace)
  let p = s + 1;
  while (p < e) {
    const c = b[p];
    if (c === QUOTE) {
      if (p + 1 < e && b[p + 1] === QUOTE) {
        out[o++] = QUOTE;
        p += 2;
        continue;
      }
      p++;
      break;
    }
    out[o++] = c;
    p++;
  }
  let onlySpace = true;
  for (let q = p; q < e; q++) if (!isSpace(b[q])) onlySpace = false;
  if (!onlySpace) for (let q = p; q < e; q++) out[o++] = b[q];
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------------
// The reader

interface Binding {
  names: string[]; // all header names (after decoding and V<k> for empty ones)
  selected: number[]; // field index of each output column, in output order
  stringSet: Set<string>;
}

class CsvReaderImpl implements CsvReader {
  private readonly opts: CsvOptions;
  private readonly na: NaSet;
  // encoding evidence over the whole input (both when "auto", else only the requested one)
  private readonly u8 = new Utf8Stats();
  private readonly gb = new GbkStats();
  private readonly feedU8: boolean;
  private readonly feedGb: boolean;
  /** where the first invalid sequence of each encoding is: header (row 0) or data row, line, field */
  private badU8: { row: number; line: number; field: number } | null = null;
  private badGb: { row: number; line: number; field: number } | null = null;
  /** global byte offset of b[0] in the current scan */
  private scanBase = 0;
  // the first bytes, for file signatures
  private readonly head = new Uint8Array(8);
  private headLen = 0;
  private phase: 0 | 1 | 2 = 0; // 0 sniffing, 1 parsing, 2 finished
  private readonly sniff: number;
  private pending: Uint8Array;
  private pLen = 0;
  private delim = COMMA;
  private bom = false;
  private totalBytes = 0;

  // parser state carried between chunks
  private st = S_START;
  private j = 0; // index of the current field in its row
  private line = 1; // current physical line (1-based)
  private rowLine = 1; // first line of the current row
  private rows = 0; // data rows completed
  private skipLF = false;
  private esc = false;
  private messy = false;

  // header and columns
  private headerDone = false;
  private headerRaw: Uint8Array[] = [];
  private ncol = 0;
  private colMap = new Int32Array(0);
  private builders: ColumnBuilder[] = [];
  private binding: Binding | null = null;
  private headerEncoding: "utf8" | "gbk" = "utf8";
  /** A header error raised while the encoding was still a guess: rethrown (or replaced) at finish. */
  private deferred: Error | null = null;
  private finishing = false;

  constructor(opts: CsvOptions) {
    this.opts = { ...opts };
    const enc = opts.encoding ?? "auto";
    if (enc !== "utf8" && enc !== "gbk" && enc !== "auto") {
      throw new OptionError(`unknown encoding ${JSON.stringify(enc)}`, { encoding: enc }, 'use "utf8", "gbk" or "auto"');
    }
    const un = opts.unparsable ?? "error";
    if (un !== "error" && un !== "na") {
      throw new OptionError(`unparsable must be "error" or "na", got ${JSON.stringify(un)}`);
    }
    const d = opts.delimiter ?? "auto";
    if (d !== "auto") {
      if (typeof d !== "string" || d.length !== 1 || d.charCodeAt(0) > 127 || d === '"' || d === "\n" || d === "\r") {
        throw new OptionError(`delimiter must be one ASCII character (not a quote or newline) or "auto", got ${JSON.stringify(d)}`);
      }
      this.delim = d.charCodeAt(0);
    }
    for (const key of ["columns", "stringColumns", "na"] as const) {
      const v = opts[key];
      if (v !== undefined && !Array.isArray(v)) throw new OptionError(`${key} must be an array of strings`);
    }
    this.feedU8 = enc !== "gbk";
    this.feedGb = enc !== "utf8";
    this.na = new NaSet(opts.na ?? DEFAULT_NA);
    const sniff = opts.sniffBytes ?? SNIFF_BYTES;
    if (!Number.isInteger(sniff) || sniff < 1) throw new OptionError("sniffBytes must be a positive integer");
    this.sniff = sniff;
    this.pending = new Uint8Array(Math.max(1024, sniff + 1024));
  }

  push(chunk: Uint8Array): void {
    if (this.phase === 2) throw new DataReadError("CSV reader: push() after finish() or after an error");
    try {
      this.pushChunk(chunk);
    } catch (err) {
      this.phase = 2; // a failed reader stays failed
      throw err;
    }
  }

  finish(): CsvResult {
    if (this.phase === 2) throw new DataReadError("CSV reader: finish() called twice or after an error");
    try {
      return this.finishInput();
    } finally {
      this.phase = 2;
      this.pending = new Uint8Array(0);
      this.builders = [];
    }
  }

  private pushChunk(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array)) throw new OptionError("CSV reader: push() expects a Uint8Array");
    const n = chunk.length;
    if (n === 0) return;
    this.totalBytes += n;
    if (this.headLen < this.head.length) {
      const take = Math.min(n, this.head.length - this.headLen);
      this.head.set(chunk.subarray(0, take), this.headLen);
      this.headLen += take;
      // (no signature holds a line end, so no row can have been parsed before it is complete)
      this.checkSignature();
    }
    if (this.feedU8) this.u8.feed(chunk);
    if (this.feedGb) this.gb.feed(chunk);
    if (this.deferred !== null) return; // only the encoding matters now
    if (this.phase === 0) {
      this.append(chunk);
      if (this.pLen >= this.sniff + 3) this.start(false);
      return;
    }
    if (this.pLen === 0) {
      this.run(chunk, 0, n);
    } else {
      const from = this.pLen;
      this.append(chunk);
      this.run(this.pending, from, this.pLen);
    }
  }

  private checkSignature(): void {
    const sig = signatureOf(this.head, this.headLen);
    if (sig === undefined) return;
    throw new DataReadError(
      `the input is ${sig.what}, not CSV text`,
      sig.format ? { format: sig.format } : { signature: sig.bytes },
      sig.hint,
    );
  }

  private finishInput(): CsvResult {
    this.u8.end();
    this.gb.end();
    this.finishing = true;
    if (this.phase === 0) this.start(true);
    this.phase = 2;
    if (this.deferred === null) this.eof();
    if (!this.headerDone) {
      throw new DataReadError("the CSV input is empty: no header row found", { bytes: this.totalBytes });
    }
    const enc = this.finalEncoding();
    const decode = makeDecoder(enc);
    let binding = this.binding!;
    if (enc !== this.headerEncoding) {
      // The encoding guessed when the header was read (from the bytes seen by then) turned out
      // wrong: decode the header again. Errors are those of the right encoding.
      const again = this.bind(enc);
      const same =
        this.deferred === null &&
        again.selected.length === binding.selected.length &&
        again.selected.every((f, k) => f === binding.selected[k]) &&
        again.selected.every((f) => again.stringSet.has(again.names[f]) === binding.stringSet.has(binding.names[f]));
      if (!same) {
        throw new DataReadError(
          `the CSV encoding was detected as ${enc} only after the header had been read, and the selected columns change with it`,
          { encoding: enc },
          `pass encoding: "${enc}" explicitly`,
        );
      }
      binding = again;
    } else if (this.deferred !== null) {
      throw this.deferred;
    }
    if (this.opts.columns === undefined) {
      // every column is read: its name must be text
      const check = makeCheck(enc);
      const bad = this.headerRaw.findIndex((r) => !check(r, 0, r.length));
      if (bad >= 0) {
        throw new DataReadError(
          `the CSV header is not valid ${encodingName(enc)} (read as ${encodingName(enc)}, ` +
            `${(this.opts.encoding ?? "auto") === "auto" ? "detected" : "as requested"}): field ${bad + 1} reads ${JSON.stringify(binding.names[bad])}`,
          { field: bad + 1, encoding: enc },
          enc === "utf8"
            ? 'pass encoding: "gbk" (CLI: --encoding gbk) for GBK files such as CSMAR/Wind exports, or select the columns you need'
            : 'pass encoding: "utf8" (CLI: --encoding utf8) if the file is UTF-8, or select the columns you need',
        );
      }
    }
    const ctx: FinishContext = {
      decode,
      check: makeCheck(enc),
      encoding: enc,
      encodingHow: (this.opts.encoding ?? "auto") === "auto" ? (this.bom ? "from its byte-order mark" : "detected") : "as requested",
      strict: this.opts.columns !== undefined,
      na: this.na,
      unparsable: this.opts.unparsable ?? "error",
      name: "",
    };
    const datas: Data<DataType>[] = [];
    const reports: ColumnReport[] = [];
    const outNames: string[] = [];
    for (let k = 0; k < this.builders.length; k++) {
      const name = binding.names[binding.selected[k]];
      ctx.name = name;
      const built = this.builders[k].finish(ctx);
      datas.push(built.data);
      reports.push(built.report);
      outNames.push(name);
    }
    this.builders = [];
    const table = tableFromData(outNames, datas, this.rows);
    const report: ReadReport = { format: "csv", rows: this.rows, encoding: enc, delimiter: delimiterName(this.delim), columns: reports };
    // invalid text outside the columns read (inside them it was an error or a column note)
    const stats = enc === "utf8" ? this.u8 : this.gb;
    const at = enc === "utf8" ? this.badU8 : this.badGb;
    if (stats.bad > 0 && ctx.strict) {
      const where =
        at === null
          ? ""
          : at.row === 0
            ? ` (first in the header, field ${at.field + 1})`
            : ` (first at data row ${at.row}, line ${at.line}, column ${JSON.stringify(binding.names[at.field] ?? `V${at.field + 1}`)})`;
      report.notes = [
        `${stats.bad} byte sequence${stats.bad === 1 ? "" : "s"} not valid ${encodingName(enc)} in columns not read${where}; ` +
          "they do not affect the columns read",
      ];
    }
    return { table, report };
  }

  // ---- buffering

  private append(chunk: Uint8Array): void {
    const need = this.pLen + chunk.length;
    if (need > this.pending.length) {
      let cap = this.pending.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.pending.subarray(0, this.pLen));
      this.pending = next;
    }
    this.pending.set(chunk, this.pLen);
    this.pLen = need;
  }

  /** Parse b[from, n); keep the unfinished field (if any) at the start of `pending`. */
  private run(b: Uint8Array, from: number, n: number): void {
    this.scanBase = this.totalBytes - n; // b[n - 1] is the last byte received
    const cs = this.scan(b, from, n);
    const tail = n - cs;
    if (b === this.pending) {
      if (cs > 0 && tail > 0) this.pending.copyWithin(0, cs, n);
      this.pLen = tail;
    } else {
      this.pLen = 0;
      if (tail > 0) this.append(b.subarray(cs, n));
    }
  }

  /** End of sniffing: BOM, delimiter, then parse what was buffered. */
  private start(final: boolean): void {
    this.phase = 1;
    const b = this.pending;
    const n = this.pLen;
    let from = 0;
    if (n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
      this.bom = true;
      from = 3;
    }
    if ((this.opts.delimiter ?? "auto") === "auto") {
      // The sample is the same whatever the chunking: the first SNIFF_BYTES after the BOM, or the
      // whole input when it is shorter (only then is its last line known to be complete).
      this.delim = detectDelimiter(b, from, Math.min(n, from + this.sniff), final && n < from + this.sniff);
    }
    this.run(b, from, n);
  }

  private finalEncoding(): "utf8" | "gbk" {
    const e = this.opts.encoding ?? "auto";
    if (e !== "auto") return e;
    if (this.bom) return "utf8";
    return chooseEncoding(this.u8, this.gb);
  }

  // ---- the state machine

  /** Scan b[i, n). Returns the start of the unfinished field (n when there is none). */
  private scan(b: Uint8Array, i: number, n: number): number {
    const d = this.delim;
    let st = this.st;
    let j = this.j;
    let line = this.line;
    let esc = this.esc;
    let messy = this.messy;
    let fs = 0; // start of the current field; a resumed field always starts at 0
    if (this.skipLF && i < n) {
      this.skipLF = false;
      if (b[i] === LF) i++;
    }
    for (;;) {
      if (st === S_START) {
        if (i >= n) break;
        const c = b[i];
        if (j === 0) {
          if (c === LF || c === CR) {
            // blank line
            line++;
            i++;
            if (c === CR) {
              if (i < n) {
                if (b[i] === LF) i++;
              } else this.skipLF = true;
            }
            continue;
          }
          this.rowLine = line;
        }
        fs = i;
        esc = false;
        messy = false;
        if (c === QUOTE) {
          i++;
          st = S_QUOTED;
          continue;
        }
        st = S_UNQUOTED;
      }
      if (st === S_UNQUOTED) {
        while (i < n) {
          const c = b[i];
          if (c === d || c === LF || c === CR) break;
          i++;
        }
        if (i >= n) break;
        this.field(b, fs, i, messy ? K_MESSY : K_PLAIN, j);
        j++;
      } else if (st === S_QUOTED) {
        while (i < n) {
          const c = b[i];
          if (c === QUOTE) break;
          if (c === LF) line++;
          i++;
        }
        if (i >= n) break;
        i++;
        st = S_AFTERQ;
        continue;
      } else {
        // S_AFTERQ
        if (i >= n) break;
        const c = b[i];
        if (c === QUOTE) {
          esc = true;
          i++;
          st = S_QUOTED;
          continue;
        }
        if (c !== d && c !== LF && c !== CR) {
          messy = true;
          st = S_UNQUOTED;
          continue;
        }
        this.field(b, fs, i, esc ? K_QUOTED_ESC : K_QUOTED, j);
        j++;
      }
      // b[i] is a delimiter or a line end
      const c = b[i];
      i++;
      st = S_START;
      if (c !== d) {
        this.endRow(j);
        j = 0;
        line++;
        if (c === CR) {
          if (i < n) {
            if (b[i] === LF) i++;
          } else this.skipLF = true;
        }
      }
    }
    this.st = st;
    this.j = j;
    this.line = line;
    this.esc = esc;
    this.messy = messy;
    return st === S_START ? n : fs;
  }

  /** End of input: close the last field and row. The unfinished field (if any) is pending[0, pLen). */
  private eof(): void {
    const b = this.pending;
    const n = this.pLen;
    this.scanBase = this.totalBytes - n;
    switch (this.st) {
      case S_START:
        if (this.j > 0) {
          this.field(b, 0, 0, K_PLAIN, this.j);
          this.endRow(this.j + 1);
        }
        break;
      case S_UNQUOTED:
        this.field(b, 0, n, this.messy ? K_MESSY : K_PLAIN, this.j);
        this.endRow(this.j + 1);
        break;
      case S_AFTERQ:
        this.field(b, 0, n, this.esc ? K_QUOTED_ESC : K_QUOTED, this.j);
        this.endRow(this.j + 1);
        break;
      case S_QUOTED:
        throw new DataReadError(
          `unterminated quoted field: a quote opened on line ${this.rowLine} (${this.where()}) is never closed`,
          { line: this.rowLine, row: this.headerDone ? this.rows + 1 : 0 },
          "check for a stray double quote in that row",
        );
    }
    this.st = S_START;
    this.j = 0;
    this.pLen = 0;
  }

  private where(): string {
    return this.headerDone ? `data row ${this.rows + 1}` : "header";
  }

  private field(b: Uint8Array, s: number, e: number, kind: number, j: number): void {
    // the validators have seen every byte up to this field's end: locate their first invalid sequence
    if ((this.u8.bad > 0 && this.badU8 === null) || (this.gb.bad > 0 && this.badGb === null)) this.locateBad(e, j);
    if (!this.headerDone) {
      if (kind === K_PLAIN) this.headerRaw.push(b.slice(s, e));
      else if (kind === K_QUOTED) this.headerRaw.push(b.slice(s + 1, e - 1));
      else this.headerRaw.push(unquote(b, s, e, kind).slice());
      return;
    }
    if (this.deferred !== null) return;
    if (j >= this.ncol) {
      throw new DataReadError(
        `line ${this.rowLine} (data row ${this.rows + 1}) has more than ${this.ncol} fields; the header has ${this.ncol}`,
        { line: this.rowLine, row: this.rows + 1, expected: this.ncol },
        "a ragged row: check for an unquoted delimiter inside a value, or a wrong delimiter",
      );
    }
    const k = this.colMap[j];
    if (k < 0) return;
    const bld = this.builders[k];
    if (kind === K_PLAIN) bld.add(b, s, e, false, this.rowLine);
    else if (kind === K_QUOTED) bld.add(b, s + 1, e - 1, true, this.rowLine);
    else {
      const u = unquote(b, s, e, kind);
      bld.add(u, 0, u.length, true, this.rowLine);
    }
  }

  private locateBad(e: number, j: number): void {
    const end = this.scanBase + e;
    const loc = () => ({ row: this.headerDone ? this.rows + 1 : 0, line: this.rowLine, field: j });
    if (this.u8.bad > 0 && this.badU8 === null && this.u8.firstBad < end) this.badU8 = loc();
    if (this.gb.bad > 0 && this.badGb === null && this.gb.firstBad < end) this.badGb = loc();
  }

  private endRow(nfields: number): void {
    if (!this.headerDone) {
      this.setupColumns();
      return;
    }
    if (this.deferred !== null) return;
    if (nfields !== this.ncol) {
      throw new DataReadError(
        `line ${this.rowLine} (data row ${this.rows + 1}) has ${nfields} field${nfields === 1 ? "" : "s"}; the header has ${this.ncol}`,
        { line: this.rowLine, row: this.rows + 1, expected: this.ncol, found: nfields },
        "a ragged row: check for a missing delimiter, an unquoted delimiter inside a value, or a wrong delimiter",
      );
    }
    this.rows++;
  }

  /** Names from the raw header, plus the selection. Throws on duplicates / missing columns. */
  private bind(enc: "utf8" | "gbk"): Binding {
    const decode = makeDecoder(enc);
    const raw = this.headerRaw;
    const names = headerNames(raw.map((f) => decode(f, 0, f.length)));
    const positions = new Map<string, number[]>();
    names.forEach((nm, k) => {
      const p = positions.get(nm);
      if (p) p.push(k + 1);
      else positions.set(nm, [k + 1]);
    });
    let selectedNames: string[];
    if (this.opts.columns) {
      try {
        selectedNames = resolveColumns(this.opts.columns, names, "CSV header");
      } catch (err) {
        const check = makeCheck(enc);
        const bad = raw.findIndex((r) => !check(r, 0, r.length));
        if (!(err instanceof ColumnError) || bad < 0) throw err;
        throw new ColumnError(
          `${err.message} (the header is not valid ${encodingName(enc)}: field ${bad + 1} reads ${JSON.stringify(names[bad])})`,
          { ...err.details, encoding: enc },
          `the file is read as ${encodingName(enc)}; pass the file's encoding (encoding: "utf8" or "gbk"; CLI: --encoding)`,
        );
      }
    } else {
      selectedNames = names;
    }
    const dups = [...new Set(selectedNames)].filter((nm) => positions.get(nm)!.length > 1);
    if (dups.length > 0) {
      const desc = dups.map((nm) => `${JSON.stringify(nm)} (columns ${positions.get(nm)!.join(", ")})`).join("; ");
      throw new DataReadError(
        `duplicated column name${dups.length === 1 ? "" : "s"} in the CSV header: ${desc}`,
        { duplicates: Object.fromEntries(dups.map((nm) => [nm, positions.get(nm)!])) },
        "rename the columns in the file, or select only unambiguous ones with columns: [...]",
      );
    }
    const stringSet = new Set<string>();
    if (this.opts.stringColumns) {
      for (const nm of resolveColumns(this.opts.stringColumns, names, "CSV header (stringColumns)")) stringSet.add(nm);
    }
    const unique = this.opts.columns ? selectedNames : names;
    const selected = unique.map((nm) => positions.get(nm)![0] - 1);
    return { names, selected, stringSet };
  }

  /** NUL bytes in the header: UTF-16 without a byte-order mark, or not a text file at all. */
  private checkHeaderBytes(): void {
    let nul = 0;
    let total = 0;
    let afterStructural = 0; // fields after the first that start with NUL (UTF-16LE: the 00 of ", " / "\n")
    this.headerRaw.forEach((r, k) => {
      total += r.length;
      for (let p = 0; p < r.length; p++) if (r[p] === 0) nul++;
      if (k > 0 && r.length > 0 && r[0] === 0) afterStructural++;
    });
    if (nul === 0) return;
    const h = this.head;
    const be = this.headLen >= 2 && h[0] === 0 && h[1] !== 0;
    const le = !be && ((this.headLen >= 2 && h[0] !== 0 && h[1] === 0) || afterStructural > 0);
    if (le || be || nul * 4 >= total) {
      throw new DataReadError(
        `the input looks like UTF-16${le ? " (little-endian)" : be ? " (big-endian)" : ""} without a byte-order mark: its header has ${nul} NUL byte${nul === 1 ? "" : "s"}`,
        { encoding: "utf16", nulBytes: nul },
        "save the file as UTF-8 (or GBK) CSV",
      );
    }
    throw new DataReadError(
      `the input is not CSV text: its header has ${nul} NUL byte${nul === 1 ? "" : "s"} (a binary file?)`,
      { nulBytes: nul },
      "CSV (.csv/.txt/.tsv), Arrow IPC (.arrow/.feather) and Parquet (.parquet) are read; check the file and its extension",
    );
  }

  private setupColumns(): void {
    this.headerDone = true;
    this.headerEncoding = this.finalEncoding();
    this.ncol = this.headerRaw.length;
    let binding: Binding;
    this.checkHeaderBytes();
    try {
      binding = this.bind(this.headerEncoding);
    } catch (err) {
      // "auto" without a BOM: the encoding is decided on the whole input, so a header with non-ASCII
      // bytes might still read differently.
      const uncertain =
        (this.opts.encoding ?? "auto") === "auto" && !this.bom && !this.finishing && this.headerRaw.some(hasHighByte);
      if (!uncertain) throw err;
      this.deferred = err as Error;
      binding = { names: [], selected: [], stringSet: new Set() };
    }
    this.binding = binding;
    this.colMap = new Int32Array(this.ncol).fill(-1);
    const thousandsUnquoted = this.delim === TAB;
    const thousandsQuoted = this.delim !== SEMI;
    this.builders = binding.selected.map((f, k) => {
      this.colMap[f] = k;
      return binding.stringSet.has(binding.names[f])
        ? new StringColumn(this.na)
        : new AutoColumn(this.na, thousandsUnquoted, thousandsQuoted);
    });
  }
}

/** A streaming CSV reader: push() byte chunks split anywhere, then finish(). */
export function createCsvReader(opts: CsvOptions = {}): CsvReader {
  return new CsvReaderImpl(opts);
}

/** Read a whole CSV held in memory. */
export function readCsv(bytes: Uint8Array, opts: CsvOptions = {}): CsvResult {
  const r = createCsvReader(opts);
  r.push(bytes);
  return r.finish();
}

/**
 * Read a CSV from a byte stream without holding it whole: a web ReadableStream (browser
 * `File.stream()`, `fetch().body`, Node 20 web streams) or any async iterable of Uint8Array chunks
 * (a Node fs.ReadStream).
 */
export async function readCsvStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  opts: CsvOptions = {},
): Promise<CsvResult> {
  const r = createCsvReader(opts);
  if (typeof (stream as ReadableStream<Uint8Array>).getReader === "function") {
    const reader = (stream as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        r.push(value);
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) r.push(chunk);
  }
  return r.finish();
}

/**
 * Column names from the decoded header fields: trimmed, a BOM left on the first one removed,
 * and an empty name given `V<k>` (k its 1-based position; `_` appended while that is taken).
 * The DuckDB read path (platform/duckdb-node.ts) names columns with this too.
 */
export function headerNames(fields: string[]): string[] {
  const names = fields.map((f, k) => (k === 0 ? f.trim().replace(/^\uFEFF+/, "").trim() : f.trim()));
  const taken = new Set(names);
  for (let k = 0; k < names.length; k++) {
    if (names[k] === "") {
      let v = `V${k + 1}`;
      while (taken.has(v)) v += "_";
      taken.add(v);
      names[k] = v;
    }
  }
  return names;
}

/**
 * The error for a numeric column with values that are not numbers: how many, the first one's
 * data row and file line, and the ways out. One wording for every reader of CSV files (the
 * built-in one and DuckDB's typing of CSV columns in bindings/platform/duckdb-csv-types.ts).
 */
export function unparsableError(column: string, failures: number, row: number, line: number, value: string): DataReadError {
  return new DataReadError(
    `column ${JSON.stringify(column)} is numeric but has ${failures} value${failures === 1 ? "" : "s"} that ` +
      `${failures === 1 ? "is" : "are"} not a number; first at data row ${row} (line ${line}): ${JSON.stringify(value)}`,
    { column, row, line, value, count: failures },
    `pass unparsable: "na" to read such values as missing, add ${JSON.stringify(value)} to the na tokens, ` +
      `or list ${JSON.stringify(column)} in stringColumns to read it as text`,
  );
}
