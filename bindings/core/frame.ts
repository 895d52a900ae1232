// Frame: the column source every model reads from. Wraps an Apache Arrow table (zero-copy
// where Arrow allows) or plain columns, lets the suite add derived columns without
// rebuilding Arrow data, and caches each column's numeric values and dense codes so that
// id columns are encoded once.
import type { Table } from "apache-arrow";
import { ColumnError } from "../base/errors.js";
import { numericColumn, codesColumn } from "../io/columns.js";
import { closestName } from "../io/select.js";
import type { PlacedColumns } from "./placed.js";

export type PlainColumn = Float64Array | ArrayLike<number> | (string | null)[];

export interface Codes {
  /** dense 0-based codes, -1 for missing */
  codes: Int32Array;
  /** label of each code */
  levels: string[];
  /** numeric value of each level when the column is numeric (for sorting, labels) */
  values?: Float64Array;
}

/** An Apache Arrow Table, by shape (a table from another copy of apache-arrow fails instanceof). */
function isArrowTable(t: unknown): t is Table {
  const x = t as { numRows?: unknown; schema?: { fields?: unknown }; getChild?: unknown } | null;
  return typeof x === "object" && x !== null && typeof x.numRows === "number" && Array.isArray(x.schema?.fields) && typeof x.getChild === "function";
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? `an object (${Object.keys(v as object).slice(0, 5).join(", ") || "no keys"})` : typeof v;
}

export class Frame {
  readonly nrows: number;
  private readonly table: Table | null;
  private readonly plain = new Map<string, PlainColumn>();
  private readonly numCache = new Map<string, Float64Array>();
  private readonly codeCache = new Map<string, Codes>();
  private readonly order: string[];
  /** columns held in WASM memory for one fit (core/placed.ts): served as fresh views, never cached */
  private placedCols: PlacedColumns | null = null;

  /**
   * `new Frame(table)` wraps an Apache Arrow Table (as Frame.fromArrow does); plain columns
   * go through Frame.fromColumns. The two further arguments are internal.
   */
  constructor(table: Table | null, nrows?: number, order?: string[]) {
    if (nrows === undefined || order === undefined) {
      if (!isArrowTable(table)) {
        throw new ColumnError(
          `new Frame() takes an Apache Arrow Table, got ${describe(table)}`,
          undefined,
          "for plain columns use Frame.fromColumns({ y: [...], x: [...] }); for a file, readTable() then Frame.fromArrow(result.table)",
        );
      }
      nrows = table.numRows;
      order = table.schema.fields.map((f) => f.name);
    }
    this.table = table;
    this.nrows = nrows;
    this.order = order;
  }

  static fromArrow(table: Table): Frame {
    return new Frame(table, table.numRows, table.schema.fields.map((f) => f.name));
  }

  static fromColumns(cols: Record<string, PlainColumn>): Frame {
    const names = Object.keys(cols);
    const n = names.length ? cols[names[0]].length : 0;
    const f = new Frame(null, n, names);
    for (const nm of names) {
      if (cols[nm].length !== n) throw new ColumnError(`column "${nm}" has ${cols[nm].length} rows, expected ${n}`);
      f.plain.set(nm, cols[nm]);
    }
    return f;
  }

  /**
   * A new Frame sharing this one's columns plus the placed ones (the reader's outcome and
   * regressors in WASM memory, core/placed.ts), which a fit of the model they were placed for
   * uses in place as its model matrix.
   */
  withPlaced(placed: PlacedColumns): Frame {
    const clash = placed.names.find((nm) => this.order.includes(nm));
    if (clash !== undefined) throw new ColumnError(`column "${clash}" is both in the frame and placed`, { column: clash });
    if (placed.rows !== this.nrows) throw new ColumnError(`the placed columns have ${placed.rows} rows, expected ${this.nrows}`, { rows: placed.rows, expected: this.nrows });
    const f = new Frame(this.table, this.nrows, [...this.order, ...placed.names]);
    for (const [k, v] of this.plain) f.plain.set(k, v);
    for (const [k, v] of this.numCache) f.numCache.set(k, v);
    for (const [k, v] of this.codeCache) f.codeCache.set(k, v);
    f.placedCols = placed;
    return f;
  }

  /** The placed columns (core/placed.ts), when this Frame has any. */
  get placed(): PlacedColumns | null {
    return this.placedCols;
  }

  get names(): string[] {
    return [...this.order];
  }

  has(name: string): boolean {
    return this.plain.has(name) || (this.placedCols !== null && this.placedCols.index(name) >= 0) || (this.table !== null && this.order.includes(name));
  }

  /** A new Frame sharing this one's columns, with `name` added or replaced. */
  withColumn(name: string, col: PlainColumn): Frame {
    if (col.length !== this.nrows) throw new ColumnError(`column "${name}" has ${col.length} rows, expected ${this.nrows}`);
    const f = new Frame(this.table, this.nrows, this.order.includes(name) ? [...this.order] : [...this.order, name]);
    for (const [k, v] of this.plain) if (k !== name) f.plain.set(k, v);
    for (const [k, v] of this.numCache) if (k !== name) f.numCache.set(k, v);
    for (const [k, v] of this.codeCache) if (k !== name) f.codeCache.set(k, v);
    f.plain.set(name, col);
    if (this.placedCols !== null && this.placedCols.index(name) < 0) f.placedCols = this.placedCols;
    return f;
  }

  /** Rows `idx` of every column, as a plain Frame (used for subsamples). */
  take(idx: Int32Array | number[]): Frame {
    const cols: Record<string, PlainColumn> = {};
    for (const nm of this.order) {
      if (this.isNumeric(nm)) {
        const v = this.numeric(nm);
        const out = new Float64Array(idx.length);
        for (let i = 0; i < idx.length; i++) out[i] = v[idx[i]];
        cols[nm] = out;
      } else {
        const c = this.codes(nm);
        cols[nm] = Array.from(idx, (i) => (c.codes[i] < 0 ? null : c.levels[c.codes[i]]));
      }
    }
    return Frame.fromColumns(cols);
  }

  private missing(name: string): ColumnError {
    const near = closestName(name, this.order);
    return new ColumnError(
      `unknown column "${name}"`,
      { column: name, available: this.order },
      near ? `did you mean "${near}"? available: ${this.order.join(", ")}` : `available: ${this.order.join(", ")}`,
    );
  }

  isNumeric(name: string): boolean {
    if (this.numCache.has(name)) return true;
    if (this.placedCols !== null && this.placedCols.index(name) >= 0) return true;
    const p = this.plain.get(name);
    if (p !== undefined) return !Array.isArray(p) || p.every((v) => v === null || typeof v === "number");
    if (!this.table || !this.order.includes(name)) throw this.missing(name);
    const t = this.table.getChild(name)!.type;
    const id = t.typeId as number;
    // Int, Float, Bool (Arrow Type enum: Int=2, Float=3, Bool=6)
    return id === 2 || id === 3 || id === 6;
  }

  /** Values as float64 with NaN for missing; throws ColumnError for non-numeric columns. */
  numeric(name: string): Float64Array {
    const hit = this.numCache.get(name);
    if (hit) return hit;
    const pc = this.placedCols?.index(name) ?? -1;
    if (pc >= 0) return this.placedCols!.view(pc);
    let out: Float64Array;
    const p = this.plain.get(name);
    if (p !== undefined) {
      if (p instanceof Float64Array) out = p;
      else {
        out = new Float64Array(p.length);
        for (let i = 0; i < p.length; i++) {
          const v = (p as ArrayLike<unknown>)[i];
          if (v === null || v === undefined) out[i] = NaN;
          else if (typeof v === "number") out[i] = v;
          else throw new ColumnError(`column "${name}" is not numeric (row ${i + 1} holds "${String(v)}")`, { column: name, row: i + 1 });
        }
      }
    } else {
      if (!this.table || !this.order.includes(name)) throw this.missing(name);
      if (!this.isNumeric(name)) {
        throw new ColumnError(`column "${name}" is not numeric`, { column: name }, "use it as a fixed effect or in i(), or convert it");
      }
      const { values, valid } = numericColumn(this.table, name);
      out = values;
      if (valid) {
        out = values.slice();
        for (let i = 0; i < out.length; i++) if (!valid[i]) out[i] = NaN;
      }
    }
    this.numCache.set(name, out);
    return out;
  }

  /** Dense codes (first-appearance order) for any column type; -1 for missing. */
  codes(name: string): Codes {
    const hit = this.codeCache.get(name);
    if (hit) return hit;
    let out: Codes;
    if (this.isNumeric(name)) {
      const { codes, values } = numericCodes(this.numeric(name));
      // labels are made on first use (a fit needs only the codes and the count)
      let labels: string[] | null = null;
      out = {
        codes, values,
        get levels() {
          return (labels ??= Array.from(values, fmtLevel));
        },
      };
    } else {
      const p = this.plain.get(name);
      if (p !== undefined) {
        const map = new Map<string, number>();
        const codes = new Int32Array(p.length);
        const levels: string[] = [];
        for (let i = 0; i < p.length; i++) {
          const s = (p as (string | null)[])[i];
          if (s === null || s === undefined) {
            codes[i] = -1;
            continue;
          }
          let c = map.get(s);
          if (c === undefined) {
            c = levels.length;
            map.set(s, c);
            levels.push(s);
          }
          codes[i] = c;
        }
        out = { codes, levels };
      } else {
        out = codesColumn(this.table!, name);
      }
    }
    this.codeCache.set(name, out);
    return out;
  }
}

const bits = new Float64Array(1);
const bitsU = new Uint32Array(bits.buffer);

/** Hash slot of a number (0 and -0 alike) in a table of mask + 1 slots. */
function slotOf(x: number, mask: number): number {
  bits[0] = x === 0 ? 0 : x;
  let h = Math.imul(bitsU[0] ^ Math.imul(bitsU[1], 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 13)) & mask;
}

/**
 * Dense codes of a numeric column in order of first appearance (-1 for NaN and +-Infinity)
 * and the value of each code: open addressing on typed arrays (no Map, no boxed numbers),
 * with a shortcut for runs of the same value (sorted ids). 0 and -0 are one level, as in a Map.
 */
export function numericCodes(v: Float64Array): { codes: Int32Array; values: Float64Array } {
  return denseIntegerCodes(v) ?? hashedCodes(v);
}

/**
 * numericCodes for integer ids in a range at most twice the length (firm and year ids, the
 * common case): a direct table from value to code instead of hashing, the same codes in the
 * same order of first appearance. null when a value is not an integer or the range is wider.
 */
function denseIntegerCodes(v: Float64Array): { codes: Int32Array; values: Float64Array } | null {
  const n = v.length;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x - x !== 0) continue; // NaN and +-Infinity: code -1
    if (x !== Math.floor(x)) return null;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!(hi >= lo)) return null;
  const range = hi - lo + 1;
  if (range > Math.max(2 * n, 1 << 16) || range > 1 << 28) return null;
  const table = new Int32Array(range).fill(-1);
  const codes = new Int32Array(n);
  let vals = new Float64Array(256);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) {
      codes[i] = -1;
      continue;
    }
    const t = x - lo;
    let c = table[t];
    if (c < 0) {
      c = m;
      vals = withLevel(vals, m++, x);
      table[t] = c;
    }
    codes[i] = c;
  }
  return { codes, values: vals.slice(0, m) };
}

/** The level values with x written at index m, doubled in length first when full. */
function withLevel(vals: Float64Array<ArrayBuffer>, m: number, x: number): Float64Array<ArrayBuffer> {
  if (m === vals.length) {
    const grown = new Float64Array(2 * m);
    grown.set(vals);
    vals = grown;
  }
  vals[m] = x;
  return vals;
}

function hashedCodes(v: Float64Array): { codes: Int32Array; values: Float64Array } {
  const n = v.length;
  const codes = new Int32Array(n);
  let cap = 1024, mask = cap - 1;
  let slot = new Int32Array(cap).fill(-1);
  let vals = new Float64Array(256);
  let m = 0;
  let prev = NaN, prevCode = -1;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x === prev) {
      codes[i] = prevCode;
      continue;
    }
    if (!Number.isFinite(x)) {
      codes[i] = -1;
      continue;
    }
    let h = slotOf(x, mask);
    let c = slot[h];
    while (c >= 0 && vals[c] !== x) {
      h = (h + 1) & mask;
      c = slot[h];
    }
    if (c < 0) {
      c = m;
      vals = withLevel(vals, m++, x);
      slot[h] = c;
      if (2 * m > cap) {
        cap *= 2;
        mask = cap - 1;
        slot = new Int32Array(cap).fill(-1);
        for (let j = 0; j < m; j++) {
          let g = slotOf(vals[j], mask);
          while (slot[g] >= 0) g = (g + 1) & mask;
          slot[g] = j;
        }
      }
    }
    codes[i] = c;
    prev = x;
    prevCode = c;
  }
  return { codes, values: vals.slice(0, m) };
}

/** R-like label of a numeric level: integers without decimals. */
export function fmtLevel(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(15)));
}

