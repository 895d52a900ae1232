// Parquet reading (hyparquet, column-wise through onChunk: no per-row objects) and writing
// (hyparquet-writer). Browser-safe.

import { parquetMetadata, parquetRead, parquetSchema, type ColumnData, type FileMetaData, type SchemaElement } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { Type, type Data, type DataType, type Table } from "apache-arrow";
import { ColumnError, DataReadError } from "../base/errors.js";
import { dictData, float64DataFromNaN, tableFromData } from "./build.js";
import { codesColumn, numericColumn } from "./columns.js";
import { resolveColumns } from "./select.js";
import { bigIntNote } from "./text.js";
import { inexactBigInt } from "./int64.js";

export interface ParquetReadOptions {
  /** Keep only these columns, in this order (only these are decoded). */
  columns?: string[];
  /** Read these columns as text (Dictionary<Utf8, Int32>): ids stored as numbers. */
  stringColumns?: string[];
}

/** An integer DECIMAL (scale 0) stored as INT64 or fixed-length bytes: ids of up to 18+ digits, which
 *  hyparquet would convert to (inexact) numbers. Such columns are read raw and converted here. */
function isIntegerDecimal(el: SchemaElement): boolean {
  const lt = el.logical_type as { type?: string; scale?: number } | undefined;
  const dec = el.converted_type === "DECIMAL" || lt?.type === "DECIMAL";
  const scale = el.scale ?? lt?.scale ?? 0;
  return dec && scale === 0 && (el.type === "INT64" || el.type === "FIXED_LEN_BYTE_ARRAY");
}

/** Two's-complement big-endian bytes -> bigint. */
function bigFromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]);
  if (b.length > 0 && b[0] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v;
}

/** Raw chunks of an integer DECIMAL column as bigints (null stays null). */
function integerDecimalParts(parts: ColumnData[]): ColumnData[] {
  return parts.map((part) => {
    const d = part.columnData as ArrayLike<unknown>;
    const out = new Array<bigint | null>(d.length);
    for (let k = 0; k < d.length; k++) {
      const v = d[k];
      out[k] = typeof v === "bigint" ? v : v instanceof Uint8Array ? bigFromBytes(v) : typeof v === "number" ? BigInt(v) : null;
    }
    return { ...part, columnData: out };
  });
}

/** Values of a column's chunks that are integers a double cannot hold exactly. */
function countInexact(parts: ColumnData[]): number {
  let count = 0;
  for (const part of parts) {
    const d = part.columnData as ArrayLike<unknown>;
    if (!(d instanceof BigInt64Array || d instanceof BigUint64Array || Array.isArray(d))) continue;
    for (let k = 0; k < d.length; k++) {
      const v = d[k];
      if (typeof v === "bigint" && inexactBigInt(v)) count++;
    }
  }
  return count;
}

function toArrayBuffer(input: Uint8Array | ArrayBuffer): ArrayBuffer {
  if (input instanceof ArrayBuffer) return input;
  if (input instanceof Uint8Array) {
    if (input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer) {
      return input.buffer;
    }
    return input.slice().buffer as ArrayBuffer;
  }
  throw new DataReadError("readParquet expects a Uint8Array or an ArrayBuffer");
}

/** Columns read as numbers: plain numeric physical types (no date/time annotation), decimals, float16. */
function isNumericElement(el: SchemaElement): boolean {
  const ct = el.converted_type as string | undefined;
  const lt = (el.logical_type as { type?: string } | undefined)?.type;
  if (ct === "DECIMAL" || lt === "DECIMAL" || lt === "FLOAT16") return true;
  if (ct && /DATE|TIME|INTERVAL/.test(ct)) return false;
  if (lt && /DATE|TIME|INTERVAL/.test(lt)) return false;
  const t = el.type;
  return t === "BOOLEAN" || t === "INT32" || t === "INT64" || t === "FLOAT" || t === "DOUBLE";
}

function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

function textOf(v: unknown, dateOnly: boolean): string {
  if (typeof v === "string") return v;
  if (v instanceof Date) return dateOnly ? v.toISOString().slice(0, 10) : v.toISOString();
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

/**
 * Read a Parquet file held in memory. Numeric columns (booleans, ints, floats, decimals) become
 * Float64 (nulls and NaN -> null). An INT64 / UINT64 column holding integers a double cannot hold
 * exactly (beyond 2^53) becomes text (exact digits) with a note in the field metadata, as the CSV
 * reader does (text.ts). Everything else (strings, dates -> ISO text, timestamps -> ISO text, binary
 * -> hex), and `stringColumns`, become Dictionary<Utf8, Int32>. Nested columns (lists, structs, maps)
 * are not supported.
 */
type ColumnParts = ColumnData[];

/** A numeric Parquet column as float64 (NaN where null); parts are the decoded chunks in row order. */
function float64Column(name: string, parts: ColumnParts, numRows: number): Float64Array {
  const out = new Float64Array(numRows).fill(NaN);
  for (const part of parts) {
    const d = part.columnData as ArrayLike<unknown>;
    const r0 = part.rowStart;
    const n = Math.min(d.length, numRows - r0);
    if (
      (d instanceof Float64Array || d instanceof Float32Array || d instanceof Int32Array || d instanceof Uint32Array ||
        d instanceof Int16Array || d instanceof Int8Array || d instanceof Uint16Array || d instanceof Uint8Array) &&
      n === d.length
    ) {
      out.set(d, r0);
      continue;
    }
    for (let k = 0; k < n; k++) {
      const v = d[k];
      let x: number;
      if (typeof v === "number") x = v;
      else if (typeof v === "bigint") x = Number(v); // exact: countInexact found none
      else if (typeof v === "boolean") x = v ? 1 : 0;
      else if (v === null || v === undefined) x = NaN;
      else {
        throw new DataReadError(`Parquet column ${JSON.stringify(name)} holds an unexpected value at row ${r0 + k + 1}`, {
          column: name,
          row: r0 + k + 1,
        });
      }
      out[r0 + k] = x;
    }
  }
  return out;
}

/** Any other column (strings, dates, inexact big integers) as dictionary codes and levels. */
function textColumn(el: SchemaElement, parts: ColumnParts, numRows: number): { codes: Int32Array; levels: string[] } {
  const dateOnly = el.converted_type === "DATE" || (el.logical_type as { type?: string } | undefined)?.type === "DATE";
  const codes = new Int32Array(numRows).fill(-1);
  const levels: string[] = [];
  const index = new Map<string, number>();
  for (const part of parts) {
    const d = part.columnData as ArrayLike<unknown>;
    const r0 = part.rowStart;
    const n = Math.min(d.length, numRows - r0);
    for (let k = 0; k < n; k++) {
      const v = d[k];
      if (v === null || v === undefined || (typeof v === "number" && v !== v)) continue;
      const s = textOf(v, dateOnly);
      let c = index.get(s);
      if (c === undefined) {
        c = levels.length;
        levels.push(s);
        index.set(s, c);
      }
      codes[r0 + k] = c;
    }
  }
  return { codes, levels };
}

/** The flat schema elements of the wanted columns; nested ones are an error. */
function flatElements(tree: ReturnType<typeof parquetSchema>, wanted: string[], selected: boolean): Map<string, SchemaElement> {
  const elements = new Map<string, SchemaElement>();
  for (const name of wanted) {
    const node = tree.children.find((c) => c.element.name === name)!;
    if (node.children.length > 0) {
      throw new DataReadError(
        `Parquet column ${JSON.stringify(name)} is nested (list/struct/map), which is not supported`,
        { column: name },
        selected ? "drop it from the selected columns" : "select the flat columns you need with columns: [...]",
      );
    }
    elements.set(name, node.element);
  }
  return elements;
}

export async function readParquet(input: Uint8Array | ArrayBuffer, opts: ParquetReadOptions = {}): Promise<Table> {
  const file = toArrayBuffer(input);
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(file);
  } catch (err) {
    throw new DataReadError(`not a readable Parquet file: ${(err as Error)?.message ?? String(err)}`, { bytes: file.byteLength });
  }
  const tree = parquetSchema(metadata);
  const allNames = tree.children.map((c) => c.element.name);
  const wanted = opts.columns ? resolveColumns(opts.columns, allNames, "Parquet file") : allNames;
  const dups = [...new Set(wanted)].filter((w) => allNames.indexOf(w) !== allNames.lastIndexOf(w));
  if (dups.length > 0) {
    throw new DataReadError(`duplicated column names in the Parquet file: ${dups.map((d) => JSON.stringify(d)).join(", ")}`, {
      duplicates: dups,
    });
  }
  const forced = new Set(opts.stringColumns ? resolveColumns(opts.stringColumns, allNames, "Parquet file (stringColumns)") : []);
  const elements = flatElements(tree, wanted, !!opts.columns);
  const numRows = Number(metadata.num_rows);
  // integer decimals are decoded raw (their element without the DECIMAL annotation) and converted below
  const rawDecimal = new Set(wanted.filter((w) => isIntegerDecimal(elements.get(w)!)));
  const readMetadata: FileMetaData =
    rawDecimal.size === 0
      ? metadata
      : {
          ...metadata,
          schema: metadata.schema.map((el) =>
            rawDecimal.has(el.name) && isIntegerDecimal(el) ? { ...el, converted_type: undefined, logical_type: undefined } : el,
          ),
        };
  const chunks = new Map<string, ColumnData[]>(wanted.map((w) => [w, []]));
  try {
    await parquetRead({
      file,
      metadata: readMetadata,
      columns: wanted,
      onChunk: (c: ColumnData) => chunks.get(c.columnName)?.push(c),
    });
  } catch (err) {
    throw new DataReadError(`could not decode the Parquet file: ${(err as Error)?.message ?? String(err)}`, {});
  }

  const datas: Data<DataType>[] = [];
  const notes: (string | undefined)[] = [];
  for (const name of wanted) {
    const el = elements.get(name)!;
    const sorted = chunks.get(name)!.sort((a, b) => a.rowStart - b.rowStart);
    const parts = rawDecimal.has(name) ? integerDecimalParts(sorted) : sorted;
    const numeric = isNumericElement(el);
    const big = numeric ? countInexact(parts) : 0;
    notes.push(big > 0 ? bigIntNote(big) : undefined);
    if (numeric && big === 0 && !forced.has(name)) {
      const out = float64Column(name, parts, numRows);
      datas.push(float64DataFromNaN(out));
    } else {
      const { codes, levels } = textColumn(el, parts, numRows);
      datas.push(dictData(codes, levels));
    }
  }
  return tableFromData(wanted, datas, numRows, notes);
}

/**
 * Write a table as Parquet (SNAPPY). Float columns -> DOUBLE, Int (<= 32 bit) -> INT32, Int64 -> INT64,
 * Bool -> BOOLEAN, strings/dictionaries -> STRING, anything else -> STRING via its text. Nulls are kept.
 */
export function writeParquet(table: Table): Uint8Array {
  const columnData = table.schema.fields.map((field) => {
    const name = field.name;
    const t = field.type as DataType;
    const id = t.typeId as number;
    if (id === Type.Float || id === Type.Bool || (id === Type.Int && (t as unknown as { bitWidth: number }).bitWidth <= 32)) {
      const { values, valid } = numericColumn(table, name);
      const type = id === Type.Float ? "DOUBLE" : id === Type.Bool ? "BOOLEAN" : "INT32";
      const conv = (x: number): number | boolean => (type === "BOOLEAN" ? x !== 0 : x);
      // the writer's dictionary keys values with a Map, where -0 and 0 are one key: a column holding -0
      // is written plain, so that every 0 and -0 comes back as written
      let negZero = false;
      if (type === "DOUBLE") for (let i = 0; i < values.length && !negZero; i++) negZero = Object.is(values[i], -0);
      const encoding = negZero ? ({ encoding: "PLAIN" } as const) : {};
      if (!valid && type === "DOUBLE") return { name, data: values, type, nullable: true, ...encoding } as const;
      const data = Array.from(values, (x, i) => (valid && !valid[i] ? null : conv(x)));
      return { name, data, type, nullable: true, ...encoding } as const;
    }
    if (id === Type.Int) {
      const vec = table.getChild(name)!;
      const data = Array.from({ length: table.numRows }, (_v, i) => {
        const x = vec.get(i) as bigint | number | null;
        return x === null ? null : BigInt(x);
      });
      return { name, data, type: "INT64", nullable: true } as const;
    }
    const { codes, levels } = codesColumn(table, name);
    const data = Array.from(codes, (c) => (c < 0 ? null : levels[c]));
    return { name, data, type: "STRING", nullable: true } as const;
  });
  if (columnData.length === 0) throw new ColumnError("cannot write a Parquet file without columns");
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}
