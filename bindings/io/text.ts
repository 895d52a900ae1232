// One convention for integers a double cannot hold, shared by the CSV, Arrow and Parquet readers:
// a column holding any integer that a number cannot represent exactly (18-digit ids beyond 2^53) is
// read as text (its exact decimal digits), with a note in the read report, so that ids stay distinct
// as fixed effects; integers a double holds exactly (2^53 itself, 2^60) stay numbers. Also the
// `stringColumns` option for the binary formats. Browser-safe.

import { RecordBatch, Schema, Field, Struct, Table, Type, makeData, vectorFromArray, Utf8, Dictionary, Int32, type Data, type DataType, type Vector } from "apache-arrow";
import { codesColumn } from "./columns.js";
import { dictData, noteMetadata } from "./build.js";
import { resolveColumns } from "./select.js";
import { inexactBigInt } from "./int64.js";

/** The read-report note of a column read as text because of integers a double cannot hold. */
export function bigIntNote(count: number): string {
  return (
    `read as text: ${count} integer${count === 1 ? "" : "s"} beyond 2^53 that a number cannot hold ` +
    "exactly (e.g. 18-digit ids); as a fixed effect or cluster every id stays distinct"
  );
}


function isValid(d: Data<DataType>, i: number): boolean {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0 || d.nullCount === 0) return true;
  const pos = d.offset + i;
  return (bm[pos >> 3] & (1 << (pos & 7))) !== 0;
}

/** Non-null values of a 64-bit integer Arrow column that a double does not hold exactly (0 for other types). */
export function countInexactInt64(table: Table, name: string): number {
  const col = table.getChild(name);
  if (col === null) return 0;
  let count = 0;
  for (const d of col.data as Data<DataType>[]) {
    const v = d.values as unknown;
    if (!(v instanceof BigInt64Array || v instanceof BigUint64Array)) continue;
    const a = v as BigInt64Array | BigUint64Array;
    for (let i = 0; i < d.length; i++) if (inexactBigInt(a[i]) && isValid(d, i)) count++;
  }
  return count;
}

/**
 * Apply the convention to an Arrow table: 64-bit integer columns with integers a double cannot hold,
 * and the columns named in `stringColumns` (resolved against `available`, the names of the whole file),
 * become Dictionary<Utf8, Int32> text (integers as exact digits; see codesColumn for the text of other
 * types), one dictionary shared by all record batches; the note goes into the field metadata. Other
 * columns are kept as they are. Returns the table itself when nothing changes.
 */
export function applyTextConvention(table: Table, stringColumns: string[] | undefined, available: string[], what: string): Table {
  const forced = new Set(stringColumns ? resolveColumns(stringColumns, available, `${what} (stringColumns)`) : []);
  const fields = table.schema.fields;
  const convert = new Map<number, string | undefined>(); // field index -> note
  fields.forEach((f, k) => {
    const isInt = (f.type.typeId as number) === Type.Int;
    const big = isInt ? countInexactInt64(table, f.name) : 0;
    const isText = (f.type.typeId as number) === Type.Utf8 || (f.type.typeId as number) === Type.LargeUtf8;
    if (big > 0) convert.set(k, bigIntNote(big));
    else if (forced.has(f.name) && !isText) convert.set(k, undefined);
  });
  if (convert.size === 0) return table;
  const dictType = new Dictionary(new Utf8(), new Int32());
  const newFields = fields.map((f, k) =>
    convert.has(k) ? new Field(f.name, dictType, true, noteMetadata(convert.get(k))) : f,
  );
  const schema = new Schema(newFields, table.schema.metadata);
  const text = new Map<number, { codes: Int32Array; dict: Vector<Utf8> }>();
  for (const k of convert.keys()) {
    const { codes, levels } = codesColumn(table, fields[k].name);
    text.set(k, { codes, dict: vectorFromArray(levels, new Utf8()) });
  }
  let o = 0;
  const batches = table.batches.map((b) => {
    const n = b.numRows;
    const children = fields.map((_f, k) => {
      const t = text.get(k);
      if (t === undefined) return b.data.children[k];
      return dictData(t.codes.slice(o, o + n), t.dict) as Data<DataType>;
    });
    o += n;
    return new RecordBatch(schema, makeData({ type: new Struct(newFields), length: n, nullCount: 0, children }));
  });
  return new Table(schema, batches);
}
