// Node-only file access (the only io module allowed `node:` imports). CSV files are streamed in
// 8 MiB chunks through createCsvReader, so a large file is never held in memory as a whole.

import { open, readFile as fsReadFile } from "node:fs/promises";
import { DataReadError } from "../base/errors.js";
import { createCsvReader, type CsvOptions } from "../io/csv.js";
import { formatFromName, readTable, type DataFormat, type ReadResult } from "../io/index.js";

export const CHUNK_BYTES = 8 * 1024 * 1024;

export interface FileReadOptions extends CsvOptions {
  /** Format; by default taken from the file extension (formatFromName). */
  format?: DataFormat;
  /** CSV: called after each chunk with the bytes read so far and the file size */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

function fileError(path: string, err: unknown): DataReadError {
  const code = (err as { code?: string })?.code;
  const why =
    code === "ENOENT"
      ? "file not found"
      : code === "EISDIR"
        ? "is a directory, not a file"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : (err as Error)?.message ?? String(err);
  return new DataReadError(`cannot read ${JSON.stringify(path)}: ${why}`, { path, code });
}

/** Read a CSV / Arrow IPC / Parquet file from disk. */
export async function readFile(path: string, opts: FileReadOptions = {}): Promise<ReadResult> {
  const format = opts.format ?? formatFromName(path);
  if (format !== "csv") {
    let bytes: Uint8Array;
    try {
      bytes = await fsReadFile(path);
    } catch (err) {
      throw fileError(path, err);
    }
    return readTable(bytes, { ...opts, format });
  }
  let fh;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    const reader = createCsvReader(opts);
    const buf = new Uint8Array(CHUNK_BYTES);
    const total = opts.onProgress ? (await fh.stat()).size : 0;
    let done = 0;
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, CHUNK_BYTES, null));
      } catch (err) {
        throw fileError(path, err);
      }
      if (n === 0) break;
      reader.push(buf.subarray(0, n)); // push() copies what it keeps, so the buffer is reused
      done += n;
      opts.onProgress?.(done, total);
    }
    return reader.finish();
  } finally {
    await fh.close();
  }
}
