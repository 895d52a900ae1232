// hdfe simulate: the embedded synthetic CBEC panel, written as CSV / Arrow IPC / Parquet.
import type { Command } from "commander";
import { openSync, closeSync, writeSync, renameSync, rmSync } from "node:fs";
import { simulateChunks, simulatePanel, csvHeader, csvRows, DEFAULT_SEED, DEFAULT_FIRMS, SIM_COLUMNS, SIM_STRING_COLUMNS, type SimColumns } from "../../bindings/sim/simulate.js";
import { formatFromName, type DataFormat } from "../../bindings/io/index.js";
import { writeParquet } from "../../bindings/io/parquet.js";
import { OptionError } from "../../bindings/base/errors.js";
import { writeArrowIpc } from "../../bindings/io/arrow.js";
import { float64DataFromNaN, dictData, tableFromData } from "../../bindings/io/build.js";
import type { Table } from "apache-arrow";
import { writeFileAtomic, tempFileFor } from "../write.js";

interface Flags {
  seed: string;
  firms: string;
  out?: string;
  format?: string;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command("simulate")
    .description("generate the synthetic CBEC firm-year panel (deterministic for a seed)")
    .option("--seed <n>", "seed", String(DEFAULT_SEED))
    .option("--firms <n>", "number of firms (about 7.8 firm-years each)", String(DEFAULT_FIRMS))
    .option("--out <file>", "output .csv, .arrow/.feather or .parquet (default: CSV on stdout)")
    .option("--format <fmt>", "csv | arrow | parquet (default: from the --out extension)")
    .option("--force", "replace --out if it exists")
    .action(async (flags: Flags) => {
      const seed = Number(flags.seed), firms = Number(flags.firms);
      if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
      if (!Number.isInteger(firms) || firms < 1) throw new OptionError(`--firms must be a positive integer, got ${flags.firms}`);
      if (flags.out) tempFileFor(flags.out, "--out", flags.force); // the directory exists, the target is not one (nor an existing file without --force): before any work
      const fmt: DataFormat = (flags.format as DataFormat | undefined) ?? (flags.out ? formatFromName(flags.out) : "csv");
      if (fmt !== "csv" && !flags.out) throw new OptionError(`--format ${fmt} needs --out (only CSV goes to stdout)`);
      let rows = 0;
      const t0 = performance.now();
      if (fmt === "csv") {
        // streamed: each chunk of firms is formatted and written synchronously, so memory
        // holds one chunk, whatever --firms is
        const tmp = flags.out ? tempFileFor(flags.out, "--out", flags.force) : null;
        const fd = tmp ? openSync(tmp, "wx") : 1;
        try {
          writeAll(fd, csvHeader());
          simulateChunks({ seed, firms }, (cols) => {
            rows += (cols[SIM_COLUMNS[0]] as Float64Array).length;
            writeAll(fd, csvRows(cols));
          });
        } catch (e) {
          if (tmp) {
            closeSync(fd);
            rmSync(tmp, { force: true });
          }
          throw e;
        }
        if (tmp) {
          closeSync(fd);
          renameSync(tmp, flags.out!);
        }
      } else {
        const panel = simulatePanel({ seed, firms });
        rows = panel.nrows;
        const table = tableFromColumns(panel.columns, SIM_STRING_COLUMNS);
        const bytes = fmt === "parquet" ? writeParquet(table) : writeArrowIpc(table);
        writeFileAtomic(flags.out!, bytes, "--out", flags.force);
      }
      process.stderr.write(`simulated ${rows.toLocaleString("en-US")} firm-years (${firms} firms, seed ${seed}) in ${((performance.now() - t0) / 1000).toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ""}\n`);
    });
}

/** writeSync until every byte is out (stdout may be a non-blocking pipe). */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
  }
}

/** Arrow table of simulated columns: numbers as Float64 (NaN -> null), strings as dictionaries. */
function tableFromColumns(cols: SimColumns, stringCols: readonly string[]): Table {
  const names = Object.keys(cols);
  const n = (cols[names[0]] as ArrayLike<unknown>).length;
  const data = names.map((nm) => {
    const c = cols[nm];
    if (stringCols.includes(nm) || Array.isArray(c)) {
      const arr = c as string[];
      const map = new Map<string, number>();
      const levels: string[] = [];
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let k = map.get(arr[i]);
        if (k === undefined) map.set(arr[i], (k = levels.push(arr[i]) - 1));
        codes[i] = k;
      }
      return dictData(codes, levels);
    }
    return float64DataFromNaN(c as Float64Array);
  });
  return tableFromData(names, data as never, n);
}
