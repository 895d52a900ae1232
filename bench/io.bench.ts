// Read throughput (tinybench): the DuckDB path (bindings/platform/duckdb-node.ts) against today's
// reader (bindings/platform/read-node.ts) in the same run, on a generated firm-year panel of BENCH_ROWS
// rows (default 1M) x 13 columns (y, treat, firm, year, city, x1..x8; numbers as String(v),
// the shortest round-trip text: 16-17 digits for the controls), as CSV and as Parquet (written
// by DuckDB, snappy). Each case reads the 13 model columns into an Arrow table. "cold" is the
// first read in the process (DuckDB loaded by it), "warm" the median of the timed reads.
// MB/s = file size / time. Writes bench/results/io.json.
//
// IO_CLI=1 also times the whole `hdfe feols --data` command (a new process each run, bin/hdfe.js
// over dist/: run `npm run build` first) on the same files, 2 and 3 FE, --reader duckdb and js.
// Files go to IO_DIR (default /tmp/hdfe-io-bench) and are deleted at the end unless IO_KEEP=1.
import { Bench } from "tinybench";
import { mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync, closeSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadavg, cpus } from "node:os";
import { genPanel, panelCsvChunks, benchFormula } from "./gen.js";
import { readFile } from "../bindings/platform/read-node.js";
import { readFileNative, loadDuckDB } from "../bindings/platform/duckdb-node.js";

const here = dirname(fileURLToPath(import.meta.url));
const rowsList = (process.env.BENCH_ROWS ?? "1000000").split(",").map(Number);
const dir = process.env.IO_DIR ?? "/tmp/hdfe-io-bench";
const cli = process.env.IO_CLI === "1";
mkdirSync(dir, { recursive: true });
const created: string[] = [];

// the issue's Rscript fread + feols whole-command figures (R is not installed here)
const RSCRIPT_PUBLISHED: Record<string, number> = { "1000000x2": 6.1, "1000000x3": 6.3, "5000000x2": 16.7, "5000000x3": 25.2 };

const COLUMNS = ["y", "treat", "firm", "year", "city", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8"];

async function makeFiles(rows: number): Promise<{ csv: string; parquet: string }> {
  const csv = join(dir, `panel-${rows}.csv`);
  const parquet = join(dir, `panel-${rows}.parquet`);
  if (!existsSync(csv)) {
    const frame = genPanel({ rows, seed: 7 });
    const fd = openSync(csv, "w");
    for (const chunk of panelCsvChunks(frame)) writeSync(fd, chunk);
    closeSync(fd);
    created.push(csv);
  }
  if (!existsSync(parquet)) {
    const duck = (await loadDuckDB())!;
    await duck.rows(`COPY (SELECT * FROM read_csv('${csv}')) TO '${parquet}' (FORMAT parquet)`);
    created.push(parquet);
  }
  return { csv, parquet };
}

interface Row {
  rows: number;
  format: string;
  reader: string;
  mb: number;
  coldSeconds: number;
  warmSeconds: number;
  coldMBps: number;
  warmMBps: number;
}

const results: Row[] = [];
const ratios: Record<string, { cold: number; warm: number }> = {};
const cliRows: { rows: number; format: string; fe: number; reader: string; seconds: number; rscriptPublished?: number }[] = [];

for (const rows of rowsList) {
  const files = await makeFiles(rows);
  for (const format of ["csv", "parquet"] as const) {
    const path = files[format];
    const mb = statSync(path).size / 1e6;
    const run = {
      duckdb: async () => {
        const r = await readFileNative(path, { columns: COLUMNS, reader: "duckdb" });
        if (r.reader !== "duckdb") throw new Error(`fell back: ${r.fallback}`);
        return r.table.numRows;
      },
      js: async () => (await readFile(path, { columns: COLUMNS })).table.numRows,
    };
    const cold: Record<string, number> = {};
    for (const [name, fn] of Object.entries(run)) {
      const t0 = performance.now();
      const n = await fn();
      cold[name] = (performance.now() - t0) / 1000;
      if (n !== rows) throw new Error(`${name}: ${n} rows, expected ${rows}`);
    }
    const bench = new Bench({ iterations: rows > 2e6 ? 1 : 3, time: 0, warmupIterations: 0, warmupTime: 0 });
    for (const [name, fn] of Object.entries(run)) bench.add(name, fn);
    await bench.run();
    const warm: Record<string, number> = {};
    for (const t of bench.tasks) {
      const r = t.result as unknown as { latency?: { p50?: number } };
      warm[t.name] = (r.latency?.p50 ?? NaN) / 1000;
    }
    for (const name of Object.keys(run)) {
      results.push({
        rows, format, reader: name, mb: Math.round(mb),
        coldSeconds: +cold[name].toFixed(3), warmSeconds: +warm[name].toFixed(3),
        coldMBps: Math.round(mb / cold[name]), warmMBps: Math.round(mb / warm[name]),
      });
    }
    ratios[`${rows} ${format}: js / duckdb`] = { cold: +(cold.js / cold.duckdb).toFixed(2), warm: +(warm.js / warm.duckdb).toFixed(2) };
    console.log(`${rows} rows ${format} (${mb.toFixed(0)} MB): duckdb cold ${cold.duckdb.toFixed(2)} s warm ${warm.duckdb.toFixed(2)} s; js cold ${cold.js.toFixed(2)} s warm ${warm.js.toFixed(2)} s`);
  }
  if (cli) {
    const bin = join(here, "..", "bin", "hdfe.js");
    for (const format of ["csv", "parquet"] as const) {
      for (const fe of [2, 3] as const) {
        // 5M rows: today's reader only with 2 FE (its reading time does not depend on the model)
        for (const reader of rows > 2e6 && fe === 3 ? ["duckdb"] : ["duckdb", "js"]) {
          const t0 = performance.now();
          const r = spawnSync(process.execPath, [bin, "feols", "--data", files[format], "-f", benchFormula(fe), "--vcov", "cluster:firm", "--fixef-rm", "none", "--reader", reader, "--json"], {
            encoding: "utf8",
            maxBuffer: 1 << 26,
          });
          const s = (performance.now() - t0) / 1000;
          if (r.status !== 0) throw new Error(`hdfe feols failed: ${r.stderr}`);
          cliRows.push({ rows, format, fe, reader, seconds: +s.toFixed(2), rscriptPublished: RSCRIPT_PUBLISHED[`${rows}x${fe}`] });
          console.log(`hdfe feols --data ${format} ${rows} rows ${fe} FE --reader ${reader}: ${s.toFixed(2)} s (Rscript fread+feols, published: ${RSCRIPT_PUBLISHED[`${rows}x${fe}`] ?? "-"} s)`);
        }
      }
    }
  }
}

const out = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg: loadavg().map((x) => +x.toFixed(2)) },
  note: "MB/s = file size / seconds to read the 13 model columns into an Arrow table; cold = first read in the process, warm = median of the timed reads; duckdb and js in the same run",
  results,
  ratios,
  cli: cliRows.length ? { note: "whole `hdfe feols --data` command, one process each; rscriptPublished: the issue's Rscript fread + feols figures (R is not installed here)", runs: cliRows } : undefined,
};
writeFileSync(join(here, "results", "io.json"), JSON.stringify(out, null, 2) + "\n");
console.table(results);
if (process.env.IO_KEEP !== "1") for (const f of created) rmSync(f, { force: true });
