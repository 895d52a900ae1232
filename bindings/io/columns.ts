// Column access for the model code: any Arrow column as one contiguous Float64Array, or as dense
// int32 codes. Browser-safe.

import { makeVector, Type, type Data, type DataType, type Table } from "apache-arrow";
import { ColumnError } from "../base/errors.js";
import { resolveColumns } from "./select.js";
import { inexactBigInt } from "./int64.js";


function chunksOf(table: Table, name: string): Data<DataType>[] {
  const col = table.getChild(name);
  if (col === null) {
    resolveColumns([name], table.schema.fields.map((f) => f.name), "table");
    throw new ColumnError(`column ${JSON.stringify(name)} not found`, { column: name });
  }
  return col.data as Data<DataType>[];
}

function isValidBit(d: Data<DataType>, i: number): boolean {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0 || d.nullCount === 0) return true;
  const pos = d.offset + i;
  return (bm[pos >> 3] & (1 << (pos & 7))) !== 0;
}

function isNumericType(t: DataType): boolean {
  const id = t.typeId as number;
  // typeId is always the base id (Int, Float...), never the negative sub-type ids
  return id === Type.Int || id === Type.Float || id === Type.Bool;
}

/**
 * A numeric column (Float*, Int*, Uint*, Bool) as one contiguous Float64Array, record batches
 * concatenated. `valid` is null when the column has no nulls, else valid[i] = 1 for a value and 0
 * for a null (whose entry in `values` is NaN). NaN values that are not Arrow nulls stay NaN with
 * valid = 1. The returned array may share memory with the table (single-chunk Float64 columns):
 * copy before mutating. 64-bit integers a double does not hold exactly (beyond 2^53) throw ColumnError
 * (the readers make such columns text; see text.ts).
 */
export function numericColumn(table: Table, name: string): { values: Float64Array; valid: Uint8Array | null } {
  const chunks = chunksOf(table, name);
  const type = table.schema.fields.find((f) => f.name === name)!.type;
  if (!isNumericType(type)) {
    throw new ColumnError(
      `column ${JSON.stringify(name)} is not numeric (Arrow type ${String(type)})`,
      { column: name, type: String(type) },
      "use it as a fixed effect / factor, or convert it to numbers",
    );
  }
  let total = 0;
  let anyNull = false;
  for (const d of chunks) {
    total += d.length;
    if (d.nullCount > 0) anyNull = true;
  }
  // zero-copy for the common case
  if (chunks.length === 1 && !anyNull && chunks[0].values instanceof Float64Array && (type.typeId as number) === Type.Float) {
    const v = chunks[0].values as Float64Array;
    if (v.length >= total) return { values: v.subarray(0, total), valid: null };
  }
  const values = new Float64Array(total);
  const valid = anyNull ? new Uint8Array(total).fill(1) : null;
  let o = 0;
  for (const d of chunks) {
    const n = d.length;
    const v = d.values as ArrayLike<number | bigint> & { BYTES_PER_ELEMENT?: number };
    const t = d.type as DataType;
    const id = t.typeId as number;
    if (id === Type.Bool) {
      const bits = d.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        const pos = d.offset + i;
        values[o + i] = (bits[pos >> 3] >> (pos & 7)) & 1;
      }
    } else if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) {
        const x = Number(v[i]);
        if (inexactBigInt(v[i]) && isValidBit(d, i)) {
          throw new ColumnError(
            `column ${JSON.stringify(name)} holds the integer ${String(v[i])} (row ${o + i + 1}), beyond 2^53: not exactly representable as a number`,
            { column: name, row: o + i + 1 },
            "use it as a fixed effect (ids are encoded exactly), or rescale it",
          );
        }
        values[o + i] = x;
      }
    } else if (id === Type.Float && (t as unknown as { precision: number }).precision === 0) {
      // half floats are stored as uint16 bits
      const vec = makeVector(d);
      for (let i = 0; i < n; i++) values[o + i] = Number(vec.get(i) ?? NaN);
    } else {
      const a = v as ArrayLike<number>;
      for (let i = 0; i < n; i++) values[o + i] = a[i];
    }
    if (valid && d.nullCount > 0) {
      for (let i = 0; i < n; i++) {
        if (!isValidBit(d, i)) {
          valid[o + i] = 0;
          values[o + i] = NaN;
        }
      }
    }
    o += n;
  }
  return { values, valid };
}

function levelString(x: unknown): string {
  if (typeof x === "string") return x;
  if (x instanceof Date) return x.toISOString();
  if (typeof x === "bigint") return x.toString();
  return String(x);
}

/**
 * Any column (numbers, strings, dictionaries, bools, dates...) as dense 0-based int32 codes in
 * order of first appearance, -1 for null. Numeric NaN and +-Infinity are coded -1 as well.
 * `levels[c]` is the text of code c: the string itself, String(number) for numbers (so 1 -> "1",
 * 2.5 -> "2.5"), the decimal digits of 64-bit integers (exact), "true"/"false", ISO text for dates.
 */
export function codesColumn(table: Table, name: string): { codes: Int32Array; levels: string[] } {
  const chunks = chunksOf(table, name);
  const type = table.schema.fields.find((f) => f.name === name)!.type;
  let total = 0;
  for (const d of chunks) total += d.length;
  const codes = new Int32Array(total);
  const levels: string[] = [];
  const index = new Map<string, number>();
  const codeOf = (key: string): number => {
    let c = index.get(key);
    if (c === undefined) {
      c = levels.length;
      levels.push(key);
      index.set(key, c);
    }
    return c;
  };

  if ((type.typeId as number) === Type.Dictionary) {
    let o = 0;
    for (const d of chunks) {
      const n = d.length;
      const dict = d.dictionary;
      const dictLen = dict ? dict.length : 0;
      const remap = new Int32Array(dictLen).fill(-2);
      const idx = d.values as ArrayLike<number | bigint>;
      for (let i = 0; i < n; i++) {
        if (!isValidBit(d, i)) {
          codes[o + i] = -1;
          continue;
        }
        const k = Number(idx[i]);
        let r = remap[k];
        if (r === -2) {
          const val = dict!.get(k);
          r = val === null || val === undefined || (typeof val === "number" && !Number.isFinite(val)) ? -1 : codeOf(levelString(val));
          remap[k] = r;
        }
        codes[o + i] = r;
      }
      o += n;
    }
    return { codes, levels };
  }

  if (isNumericType(type)) {
    const id = type.typeId as number;
    const isBig = chunks.some((d) => d.values instanceof BigInt64Array || d.values instanceof BigUint64Array);
    if (isBig) {
      let o = 0;
      for (const d of chunks) {
        const v = d.values as ArrayLike<bigint>;
        for (let i = 0; i < d.length; i++) codes[o + i] = isValidBit(d, i) ? codeOf(v[i].toString()) : -1;
        o += d.length;
      }
      return { codes, levels };
    }
    const { values, valid } = numericColumn(table, name);
    const numIndex = new Map<number, number>();
    for (let i = 0; i < total; i++) {
      const x = values[i];
      if ((valid && !valid[i]) || !Number.isFinite(x)) {
        codes[i] = -1;
        continue;
      }
      let c = numIndex.get(x);
      if (c === undefined) {
        c = levels.length;
        levels.push(id === Type.Bool ? (x ? "true" : "false") : String(x));
        numIndex.set(x, c);
      }
      codes[i] = c;
    }
    return { codes, levels };
  }

  // strings and everything else: go through the Arrow getters
  let o = 0;
  for (const d of chunks) {
    const vec = makeVector(d);
    for (let i = 0; i < d.length; i++) {
      const val = isValidBit(d, i) ? vec.get(i) : null;
      codes[o + i] = val === null || val === undefined ? -1 : codeOf(levelString(val));
    }
    o += d.length;
  }
  return { codes, levels };
}
