// Arrow IPC (file or stream format; .arrow / .feather v2 / .ipc) reading and writing. Browser-safe.

import { compressionRegistry, tableFromIPC, tableToIPC, type Table } from "apache-arrow";
import { DataReadError } from "../base/errors.js";
import { lz4FrameDecode } from "./lz4.js";
import { resolveColumns } from "./select.js";
import { applyTextConvention } from "./text.js";

// LZ4-compressed buffers (the default of pyarrow's / R's write_feather). Keep a codec someone
// else registered. ZSTD (CompressionType 1) has no decoder here.
const LZ4_FRAME = 0;
if (compressionRegistry.get(LZ4_FRAME)?.decode === undefined) {
  compressionRegistry.set(LZ4_FRAME, { ...(compressionRegistry.get(LZ4_FRAME) ?? {}), decode: lz4FrameDecode });
}

export interface ArrowReadOptions {
  /** Keep only these columns, in this order. */
  columns?: string[];
  /** Read these columns as text (Dictionary<Utf8, Int32>): ids stored as numbers. */
  stringColumns?: string[];
}

/** Keep `columns` (in the requested order) of a table; ColumnError for unknown names. */
export function selectColumns(table: Table, columns: string[] | undefined, what: string): Table {
  if (!columns) return table;
  const names = table.schema.fields.map((f) => f.name);
  const wanted = resolveColumns(columns, names, what);
  const dups = wanted.filter((w) => names.indexOf(w) !== names.lastIndexOf(w));
  if (dups.length > 0) {
    throw new DataReadError(
      `duplicated column name${dups.length === 1 ? "" : "s"} in the ${what}: ${dups.map((d) => JSON.stringify(d)).join(", ")}`,
      { duplicates: dups },
    );
  }
  return table.selectAt(wanted.map((w) => names.indexOf(w)));
}

/** Read an Arrow IPC file or stream held in memory. Columns keep their Arrow types, except that 64-bit
 *  integer columns holding integers a double cannot hold exactly, and `stringColumns`, become text
 *  (text.ts: the CSV reader's convention; the note is in the field metadata). */
export function readArrowIpc(bytes: Uint8Array, opts: ArrowReadOptions = {}): Table {
  if (!(bytes instanceof Uint8Array)) throw new DataReadError("readArrowIpc expects a Uint8Array");
  if (bytes.length === 0) throw new DataReadError("the Arrow input is empty");
  let table: Table;
  try {
    table = tableFromIPC(bytes) as Table;
  } catch (err) {
    if (err instanceof DataReadError) throw err;
    const msg = (err as Error)?.message ?? String(err);
    const compressed = /compressed but codec not found/.test(msg);
    throw new DataReadError(
      compressed
        ? "the Arrow file is ZSTD-compressed, which is not supported (uncompressed and LZ4 are)"
        : `not a readable Arrow IPC file or stream: ${msg}`,
      { bytes: bytes.length },
      compressed
        ? 'save it with compression="lz4" or "uncompressed" (pyarrow: feather.write_feather(df, path, compression="lz4"))'
        : "Arrow IPC (.arrow/.feather v2/.ipc) is expected; Feather v1 files are not supported",
    );
  }
  if (table.schema.fields.length === 0 && table.numRows === 0) {
    throw new DataReadError("not a readable Arrow IPC file or stream: no schema found", { bytes: bytes.length });
  }
  const names = table.schema.fields.map((f) => f.name);
  return applyTextConvention(selectColumns(table, opts.columns, "Arrow file"), opts.stringColumns, names, "Arrow file");
}

/** Serialize a table to the Arrow IPC file format (readable by pyarrow, R arrow, polars...). */
export function writeArrowIpc(table: Table): Uint8Array {
  return tableToIPC(table, "file");
}
