// The streaming reader (Node only): a CSV or Parquet file, or a glob of them, as column chunks
// of a bounded number of rows, with the read report of readFileNative once the last chunk is
// out. DuckDB streams the query (its threads read ahead; memory stays bounded by the chunks the
// caller keeps); a file DuckDB does not read as today's reader does (GBK, Arrow IPC, values
// that need today's reader...) is read whole by today's reader and handed out in chunks.
//
// The whole-file checks the DuckDB path needs (valid UTF-8, quotes beside spaces, numbers
// DuckDB would take and csv.ts would not) are made before the first chunk. What can only show
// once rows are out (an unparsable value, NaN, an integer beyond 2^53, a text column whose
// values turn out to be mostly numbers) ends the stream with today's reader's own error for
// the file when it has one (an unparsable value, naming its row and column), else with a
// DataReadError saying that the stream cannot give today's reader's result: readFileNative can.

import { DataReadError } from "../base/errors.js";
import { numericColumn, codesColumn } from "../io/columns.js";
import type { ColumnReport, ReadReport } from "../io/report.js";
import type { DataFormat, ReadResult } from "../io/index.js";
import { NumAcc, StrAcc, pushChunk, type Acc, type ChunkSource, type Duck, type RawChunk } from "./duckdb-columns.js";
import { NotPlain, csvQueryChecked, parquetQuery, readBuiltin, textColumnDiffers, openFiles, type NativeReadOptions } from "./duckdb-node.js";

/** A text column's rows in a chunk: codes into `levels` (-1 missing). */
export interface TextChunk {
  codes: Int32Array;
  /** the column's levels so far, in order of first appearance (later chunks only append) */
  levels: readonly string[];
}

export interface ColumnChunk {
  /** index of the chunk's first row in the whole input */
  offset: number;
  rows: number;
  /** by name: numbers as float64 (NaN missing), text as codes */
  columns: Record<string, Float64Array | TextChunk>;
}

export interface StreamOptions extends NativeReadOptions {
  /** rows per chunk (default 65536; the last chunk may be shorter) */
  chunkRows?: number;
}

export interface NativeStream extends AsyncIterable<ColumnChunk> {
  /** the columns of every chunk, in order */
  readonly names: string[];
  /** "duckdb" when DuckDB streams the rows, "js" when today's reader read the input whole */
  readonly reader: "duckdb" | "js";
  /** why DuckDB does not read the input, when it does not */
  readonly fallback?: string;
  readonly files: string[];
  /** the read report (as readFileNative's): after the last chunk; throws before */
  report(): ReadReport;
}

const DEFAULT_CHUNK_ROWS = 65536;

/**
 * Open a CSV / Parquet file or glob for reading in chunks (Arrow IPC files are read whole and
 * chunked). Iterate it once with `for await`; then `report()`.
 */
export async function streamFileNative(path: string, opts: StreamOptions = {}): Promise<NativeStream> {
  const chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new DataReadError(`chunkRows must be a positive integer, got ${String(opts.chunkRows)}`);
  const { duck, files, format } = await openFiles(path, opts);
  let fallback: string | undefined;
  if (duck !== null && format !== "arrow") {
    try {
      const q = format === "csv" ? await csvQueryChecked(duck, files, opts) : { ...(await parquetQuery(duck, files, opts)), na: [], delimiter: null };
      return duckStream(duck, q, files, format, opts, chunkRows);
    } catch (err) {
      if (!(err instanceof NotPlain)) throw err;
      fallback = err.message;
    }
  }
  const whole = await readBuiltin(files, opts, format);
  return tableStream(whole, files, chunkRows, duck === null ? undefined : fallback);
}

interface Query {
  sql: string;
  names: string[];
  text: boolean[];
  na: string[];
  delimiter: string | null;
}

function duckStream(duck: Duck, q: Query, files: string[], format: DataFormat, opts: StreamOptions, chunkRows: number): NativeStream {
  let report: ReadReport | null = null;
  let started = false;
  const na = new Set(q.na);
  const accs: Acc[] = q.text.map((t) => (t ? new StrAcc(na, chunkRows) : new NumAcc(chunkRows)));
  const forced = new Set(opts.stringColumns ?? []);
  /** today's reader's error for the input, else a DataReadError for the stream */
  const diverged = async (why: string, rows: number): Promise<never> => {
    await readBuiltin(files, opts, format); // throws today's reader's error when it has one
    throw new DataReadError(
      `the streaming reader stopped after ${rows} rows: ${why}, which DuckDB reads differently from the built-in reader`,
      { files, rows, why },
      "read the file with readFileNative (it chooses the reader for the whole file), or pass reader: \"js\"",
    );
  };
  async function* chunks(): AsyncGenerator<ColumnChunk> {
    if (started) throw new DataReadError("a stream is iterated once");
    started = true;
    let src: ChunkSource;
    try {
      src = await (await duck.connect()).query(q.sql, { stream: true });
    } catch (e) {
      return await diverged(`DuckDB could not read the file (${(e as Error).message})`, 0);
    }
    let offset = 0;
    let last = false;
    let pending: RawChunk | null = null; // a DuckDB chunk partly handed out
    let at = 0; // its next row
    while (!last) {
      for (const a of accs) a.reset(chunkRows);
      let n = 0;
      while (n < chunkRows) {
        if (pending === null) {
          try {
            pending = await src.next();
          } catch (e) {
            return await diverged(`DuckDB could not read the file (${(e as Error).message})`, offset);
          }
          at = 0;
          if (pending === null) {
            last = true;
            break;
          }
        }
        const k = Math.min(chunkRows - n, pending.rowCount - at);
        pushChunk(pending, accs, at, k);
        n += k;
        at += k;
        if (at === pending.rowCount) pending = null;
      }
      for (const a of accs) {
        if (a instanceof NumAcc && format === "csv" && a.nans > 0) return await diverged("NaN values", offset);
        if (a instanceof NumAcc && a.big) return await diverged("integers beyond 2^53", offset);
      }
      for (let o = 0; last && o < accs.length; o++) {
        if (q.text[o] && format === "csv" && !forced.has(q.names[o])) {
          const why = textColumnDiffers(accs[o] as StrAcc);
          if (why !== null) return await diverged(why, offset);
        }
      }
      if (n === 0) break;
      const columns: Record<string, Float64Array | TextChunk> = {};
      q.names.forEach((name, o) => {
        const a = accs[o];
        columns[name] = a instanceof NumAcc ? a.values.subarray(0, a.n) : { codes: a.codes.subarray(0, a.n), levels: a.levels };
      });
      yield { offset, rows: n, columns };
      offset += n;
    }
    report = streamReport(q, accs, offset, format);
  }
  return {
    names: q.names,
    reader: "duckdb",
    files,
    [Symbol.asyncIterator]: () => chunks(),
    report: () => {
      if (report === null) throw new DataReadError("the read report is known once the last chunk has been read");
      return report;
    },
  };
}

/** The report readFileNative gives for the same input (CSV: as csv.ts; Parquet: as reportFromTable). */
function streamReport(q: Query, accs: Acc[], rows: number, format: DataFormat): ReadReport {
  const columns: ColumnReport[] = accs.map((a, o) =>
    a instanceof NumAcc
      ? { name: q.names[o], type: "float64", missing: a.nulls + (format === "csv" ? 0 : a.nans), unparsable: 0, infinite: a.infinite }
      : { name: q.names[o], type: "string", missing: a.nulls, unparsable: 0, infinite: 0 },
  );
  if (format === "csv") return { format: "csv", rows, encoding: "utf8", delimiter: q.delimiter, columns };
  return { format: format === "arrow" ? "arrow" : "parquet", rows, encoding: null, delimiter: null, columns };
}

/** An input read whole, handed out in chunks. */
function tableStream(whole: ReadResult, files: string[], chunkRows: number, fallback: string | undefined): NativeStream {
  const { table, report } = whole;
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((name) => {
    const t = report.columns.find((c) => c.name === name)?.type;
    if (t === "float64") {
      const { values, valid } = numericColumn(table, name);
      const v = valid === null ? values : values.map((x, i) => (valid[i] ? x : NaN));
      return (from: number, to: number): Float64Array | TextChunk => v.subarray(from, to);
    }
    const { codes, levels } = codesColumn(table, name);
    return (from: number, to: number): Float64Array | TextChunk => ({ codes: codes.subarray(from, to), levels });
  });
  let started = false;
  async function* chunks(): AsyncGenerator<ColumnChunk> {
    if (started) throw new DataReadError("a stream is iterated once");
    started = true;
    for (let offset = 0; offset < table.numRows; offset += chunkRows) {
      const to = Math.min(table.numRows, offset + chunkRows);
      const columns: Record<string, Float64Array | TextChunk> = {};
      names.forEach((name, k) => (columns[name] = cols[k](offset, to)));
      yield { offset, rows: to - offset, columns };
    }
  }
  return { names, reader: "js", fallback, files, [Symbol.asyncIterator]: () => chunks(), report: () => report };
}
