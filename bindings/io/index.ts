// Format-independent entry points. Browser-safe (no `node:` imports): node.ts adds file access.

import { Type, type DataType, type Table } from "apache-arrow";
import { DataReadError, OptionError } from "../base/errors.js";
import { readArrowIpc, writeArrowIpc } from "./arrow.js";
import { numericColumn } from "./columns.js";
import { NOTE_KEY } from "./build.js";
import { createCsvReader, readCsv, readCsvStream, DEFAULT_NA, type CsvOptions, type CsvReader, type CsvResult } from "./csv.js";
import { readParquet, writeParquet } from "./parquet.js";
import type { ColumnKind, ColumnReport, ReadReport } from "./report.js";

export type DataFormat = "csv" | "arrow" | "parquet";

/** Options of readTable: the format plus the CSV options (only `columns` and `stringColumns` apply to
 *  Arrow/Parquet). */
export interface ReadOptions extends CsvOptions {
  format: DataFormat;
}

export interface ReadResult {
  table: Table;
  report: ReadReport;
}

const EXT: Record<string, DataFormat> = {
  csv: "csv",
  txt: "csv",
  tsv: "csv",
  arrow: "arrow",
  feather: "arrow",
  ipc: "arrow",
  parquet: "parquet",
  pq: "parquet",
};

/** Format from a file name's extension (case-insensitive). Throws DataReadError for other extensions. */
export function formatFromName(filename: string): DataFormat {
  const base = filename.split(/[\\/]/).pop() ?? filename;
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  const f = EXT[ext];
  if (f === undefined) {
    throw new DataReadError(
      `cannot tell the data format of ${JSON.stringify(base)} from its extension`,
      { filename, extension: ext },
      "use .csv/.txt/.tsv, .arrow/.feather/.ipc or .parquet/.pq, or pass the format explicitly (compressed files are not supported)",
    );
  }
  return f;
}

function kindOf(t: DataType): ColumnKind {
  const id = t.typeId as number;
  if (id === Type.Int || id === Type.Float || id === Type.Bool) return "float64";
  if (id === Type.Utf8 || id === Type.LargeUtf8 || id === Type.Utf8View) return "string";
  if (id === Type.Dictionary) {
    const v = (t as unknown as { dictionary: DataType }).dictionary.typeId as number;
    return v === Type.Utf8 || v === Type.LargeUtf8 ? "string" : "other";
  }
  return "other";
}

/** A ReadReport describing an Arrow table (used for the binary formats). */
export function reportFromTable(table: Table, format: DataFormat): ReadReport {
  const columns: ColumnReport[] = table.schema.fields.map((f) => {
    const type = kindOf(f.type);
    const col = table.getChild(f.name)!;
    let missing = col.nullCount;
    let infinite = 0;
    if (type === "float64") {
      const { values, valid } = numericColumn(table, f.name);
      missing = 0;
      for (let i = 0; i < values.length; i++) {
        const x = values[i];
        if ((valid && !valid[i]) || x !== x) missing++;
        else if (x === Infinity || x === -Infinity) infinite++;
      }
    }
    const r: ColumnReport = { name: f.name, type, missing, unparsable: 0, infinite };
    const note = f.metadata.get(NOTE_KEY);
    if (note !== undefined) r.note = note;
    return r;
  });
  return { format, rows: table.numRows, encoding: null, delimiter: null, columns };
}

/** Read CSV, Arrow IPC or Parquet bytes into an Arrow table plus a report. */
export async function readTable(bytes: Uint8Array, opts: ReadOptions): Promise<ReadResult> {
  if (!opts || typeof opts !== "object") throw new OptionError("readTable needs options with a format");
  const { format, ...rest } = opts;
  if (!(bytes instanceof Uint8Array)) throw new OptionError("readTable expects the file contents as a Uint8Array");
  switch (format) {
    case "csv":
      return readCsv(bytes, rest);
    case "arrow": {
      const table = readArrowIpc(bytes, { columns: rest.columns, stringColumns: rest.stringColumns });
      return { table, report: reportFromTable(table, "arrow") };
    }
    case "parquet": {
      const table = await readParquet(bytes, { columns: rest.columns, stringColumns: rest.stringColumns });
      return { table, report: reportFromTable(table, "parquet") };
    }
    default:
      throw new OptionError(`unknown data format ${JSON.stringify(format)}`, { format }, 'use "csv", "arrow" or "parquet"');
  }
}

export { createCsvReader, readCsv, readCsvStream, DEFAULT_NA, readArrowIpc, writeArrowIpc, readParquet, writeParquet };
export type { CsvOptions, CsvReader, CsvResult, ReadReport, ColumnReport, ColumnKind };
export { numericColumn, codesColumn } from "./columns.js";
