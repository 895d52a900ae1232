// The rows of a data file before it is read, for the CLI's engine choice (--engine auto):
// Parquet from its metadata (DuckDB's count(*) over read_parquet reads only the footers), CSV
// from its size and the mean length of its first lines (exact when the file is that short).
// Other formats, or Parquet without DuckDB installed: unknown (null), and the fit reads the
// file as before.
import { open } from "node:fs/promises";
import { loadDuckDB, lit } from "./duckdb-columns.js";

export interface RowCount {
  rows: number;
  /** "" when exact, else how it was estimated */
  estimated: string;
}

const SNIFF = 256 * 1024;

/** The rows of `path` (a file, or a Parquet glob) of format `format`, or null when unknown. */
export async function countRows(path: string, format: string): Promise<RowCount | null> {
  if (format === "parquet") {
    const duck = await loadDuckDB();
    if (duck === null) return null;
    try {
      const [[n]] = await duck.rows(`SELECT count(*) FROM read_parquet(${lit(path)})`);
      return { rows: Number(n), estimated: "" };
    } catch {
      return null; // the reader says why
    }
  }
  if (format !== "csv") return null;
  let fh;
  try {
    fh = await open(path, "r");
  } catch {
    return null;
  }
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.min(size, SNIFF));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const b = buf.subarray(0, bytesRead);
    const header = b.indexOf(10);
    if (header < 0) return { rows: 0, estimated: "" };
    let lines = 0;
    let last = header;
    for (let i = b.indexOf(10, header + 1); i >= 0; i = b.indexOf(10, i + 1)) lines++, (last = i);
    if (bytesRead === size) return { rows: lines + (last < size - 1 ? 1 : 0), estimated: "" };
    if (lines === 0) return null;
    const perLine = (last - header) / lines;
    return { rows: Math.round((size - header - 1) / perLine), estimated: `estimated from the file size, ${perLine.toFixed(0)} bytes a line` };
  } finally {
    await fh.close();
  }
}
