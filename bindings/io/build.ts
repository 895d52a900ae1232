// Small helpers that turn typed arrays into apache-arrow Data/Table objects without
// going through per-value builders. Browser-safe.

import {
  Data,
  Dictionary,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from "apache-arrow";

/** Field metadata key holding a reader's note on a column (read into ReadReport column notes). */
export const NOTE_KEY = "hdfe.note";

/** Field metadata with a note (or none). */
export function noteMetadata(note: string | undefined): Map<string, string> | undefined {
  return note === undefined ? undefined : new Map([[NOTE_KEY, note]]);
}

/** The dictionary-encoded string type used for every string column this package produces. */
export type StringDict = Dictionary<Utf8, Int32>;

/** Float64 column; NaN values become nulls (the value stays NaN underneath). */
export function float64DataFromNaN(values: Float64Array): Data<Float64> {
  const n = values.length;
  let bitmap: Uint8Array | null = null;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== v) {
      if (bitmap === null) {
        bitmap = new Uint8Array((n + 7) >> 3);
        // bytes fully before i are valid
        const full = i >> 3;
        bitmap.fill(255, 0, full);
        for (let k = full << 3; k < i; k++) bitmap[k >> 3] |= 1 << (k & 7);
      }
      nullCount++;
    } else if (bitmap !== null) {
      bitmap[i >> 3] |= 1 << (i & 7);
    }
  }
  return makeData({ type: new Float64(), length: n, nullCount, nullBitmap: bitmap ?? undefined, data: values });
}

/** Dictionary<Utf8, Int32> column from dense codes (-1 = null) and the dictionary levels (or a dictionary
 *  vector already built from them, to share one dictionary between record batches). */
export function dictData(codes: Int32Array, levels: string[] | Vector<Utf8>): Data<StringDict> {
  const n = codes.length;
  let bitmap: Uint8Array | null = null;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (codes[i] < 0) {
      if (bitmap === null) {
        bitmap = new Uint8Array((n + 7) >> 3);
        const full = i >> 3;
        bitmap.fill(255, 0, full);
        for (let k = full << 3; k < i; k++) bitmap[k >> 3] |= 1 << (k & 7);
      }
      codes[i] = 0; // keep indices in range for consumers that ignore the bitmap
      nullCount++;
    } else if (bitmap !== null) {
      bitmap[i >> 3] |= 1 << (i & 7);
    }
  }
  const type = new Dictionary(new Utf8(), new Int32());
  const dictionary = Array.isArray(levels) ? vectorFromArray(levels, new Utf8()) : levels;
  return makeData({ type, length: n, nullCount, nullBitmap: bitmap ?? undefined, data: codes, dictionary });
}

/** One-batch table with columns in exactly the given order (object keys would reorder numeric-looking names);
 *  `notes[k]` goes into the metadata of field k (NOTE_KEY). */
export function tableFromData(names: string[], columns: Data<DataType>[], length: number, notes?: (string | undefined)[]): Table {
  const fields = names.map((name, k) => new Field(name, columns[k].type, true, noteMetadata(notes?.[k])));
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children: columns });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}
