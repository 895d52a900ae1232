// Shared CLI helpers: reading the data file with the reader options every command accepts.
import type { Command } from "commander";
import { readFileNative, type ReaderChoice } from "../bindings/io/duckdb-node.js";
import { Frame } from "../bindings/frame.js";
import { OptionError } from "../bindings/errors.js";
import type { ReadReport } from "../bindings/io/report.js";
import { progressBar } from "./progress.js";

export interface ReadFlags {
  data: string;
  encoding?: string;
  na?: string;
  unparsableAsNa?: boolean;
  delimiter?: string;
  reader?: string;
}

/** Adds --data, --encoding, --na, --delimiter, --unparsable-as-na, --reader. */
export function addReadOptions(cmd: Command, required = true): Command {
  (required ? cmd.requiredOption("--data <file>", "CSV, Arrow IPC/Feather or Parquet file") : cmd.option("--data <file>", "CSV, Arrow IPC/Feather or Parquet file"))
    .option("--encoding <enc>", "CSV text encoding: utf8 | gbk (detected when absent)")
    .option("--na <tokens>", "comma-separated missing-value tokens, e.g. '--,NA,' (default: '',NA,NaN,N/A,NULL,null,--,.)")
    .option("--delimiter <char>", "CSV delimiter (detected among , ; TAB when absent)")
    .option("--unparsable-as-na", "treat unparsable values in numeric columns as missing (counted) instead of failing")
    .option("--reader <name>", "duckdb (native parallel reader, where it reads the file as js does) | js (built-in reader) | auto: duckdb when installed", "auto");
  return cmd;
}

/** Files from this size on get a line saying how long reading took. */
const LARGE_FILE_BYTES = 64 * 1024 * 1024;

export async function readData(flags: ReadFlags, columns?: string[]): Promise<{ frame: Frame; report: ReadReport }> {
  const enc = flags.encoding?.toLowerCase();
  if (enc && enc !== "utf8" && enc !== "utf-8" && enc !== "gbk") throw new OptionError(`unknown encoding "${flags.encoding}"`, undefined, "use utf8 or gbk");
  const bar = progressBar(`reading ${flags.data}`);
  const t0 = performance.now();
  let size = 0;
  const reader = (flags.reader ?? "auto").toLowerCase();
  if (reader !== "auto" && reader !== "duckdb" && reader !== "js") throw new OptionError(`unknown reader "${flags.reader}"`, undefined, "use duckdb, js or auto");
  const { table, report, reader: used, fallback } = await readFileNative(flags.data, {
    reader: reader as ReaderChoice,
    encoding: enc === undefined ? "auto" : enc === "gbk" ? "gbk" : "utf8",
    na: flags.na === undefined ? undefined : flags.na.split(","),
    unparsable: flags.unparsableAsNa ? "na" : "error",
    delimiter: flags.delimiter,
    columns,
    onProgress: (done, total) => {
      size = total;
      bar.update(done, total, `${(done / 1e6).toFixed(0)} of ${(total / 1e6).toFixed(0)} MB`);
    },
  });
  bar.end();
  // large files: how long the reading took, also in logs
  if (size >= LARGE_FILE_BYTES) {
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(
      `read ${report.rows.toLocaleString("en-US")} rows, ${report.columns.length} columns from ${(size / 1e6).toFixed(0)} MB in ${s.toFixed(1)} s (${(size / 1e6 / s).toFixed(0)} MB/s, ` +
        `${used === "duckdb" ? "DuckDB" : `built-in reader${fallback ? `: ${fallback}` : ""}`})\n`,
    );
  }
  return { frame: Frame.fromArrow(table), report };
}

/** One line per column with missing or unparsable values (stderr). */
export function describeRead(report: ReadReport): string[] {
  const lines: string[] = [];
  for (const c of report.columns) {
    if (c.missing || c.unparsable || c.infinite) {
      lines.push(`  ${c.name}: ${c.missing} missing${c.unparsable ? `, ${c.unparsable} unparsable treated as missing` : ""}${c.infinite ? `, ${c.infinite} infinite` : ""}`);
    }
    if (c.note) lines.push(`  ${c.name}: ${c.note}`);
  }
  return lines;
}
