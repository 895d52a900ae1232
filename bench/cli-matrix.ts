// The whole command line at 1M and 5M rows, 2 and 3 FE, CSV and Parquet (issue 14), in one run:
// `hdfe feols --data FILE -f "y ~ treat + 8 controls | firm + year [+ city]" --vcov cluster:firm
// --fixef-rm none --json` in fresh processes with the DuckDB reader and with the built-in
// reader, and one command taken apart (bench/cli-phases.ts: read, the first fit of the process,
// a repeated fit; and the command's own path for this plain model, the placed read and its
// first fit, then the same placed read and fit again). The machine is shared: every figure carries the load average when it was
// taken, and the ratios (DuckDB / built-in, cold / warm, Parquet / CSV) are within one run.
// Env: MATRIX_ROWS (default 1000000,5000000), MATRIX_FE (2,3), MATRIX_DIR (/tmp/hdfe-cli-matrix,
// deleted at the end). Writes bench/results/cli-matrix.json and .md.
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { genPanel, panelCsvChunks, benchFormula } from "./gen.js";
import { loadDuckDB } from "../bindings/platform/duckdb-columns.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIR = process.env.MATRIX_DIR ?? "/tmp/hdfe-cli-matrix";
const ROWS = (process.env.MATRIX_ROWS ?? "1000000,5000000").split(",").map(Number);
const FES = (process.env.MATRIX_FE ?? "2,3").split(",").map(Number) as (2 | 3)[];
mkdirSync(DIR, { recursive: true });
const load1 = () => +loadavg()[0].toFixed(1);

async function writeCsv(path: string, rows: number, fe: 2 | 3): Promise<void> {
  const out = createWriteStream(path);
  for (const chunk of panelCsvChunks(genPanel({ rows, city: fe === 3 }))) if (!out.write(chunk)) await once(out, "drain");
  out.end();
  await once(out, "finish");
}

function command(file: string, fml: string, reader: string): { s: number; load: number; coef: number } {
  const load = load1();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/hdfe.js"), "feols", "--data", file, "-f", fml, "--vcov", "cluster:firm", "--fixef-rm", "none", "--json", "--reader", reader], {
    cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26,
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`hdfe feols failed: ${r.stderr}`);
  return { s: +s.toFixed(2), load, coef: JSON.parse(r.stdout).coef.treat };
}

/** Start-up of the installed entry point alone (bin/hdfe.js on the bundle: `--help` loads every module and exits). */
function helpSeconds(): { s: number; load: number } {
  const load = load1();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/hdfe.js"), "--help"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`hdfe --help failed: ${r.stderr}`);
  return { s: +((performance.now() - t0) / 1000).toFixed(2), load };
}

interface Phases { read: number; fitCold: number; fitWarm: number; start: number; imports: number; duckOpen: number; readSplit: { reader: string; plan: number; query: number; copy: number } | null }
interface PlacedPhases { readPlaced: number; fitCold: number; readPlacedAgain: number; fitWarm: number; placed: boolean; sameCoef: boolean }
function phases(file: string, fml: string): Phases & { load: number };
function phases(file: string, fml: string, placed: "1"): PlacedPhases & { load: number };
function phases(file: string, fml: string, placed = "0"): (Phases | PlacedPhases) & { load: number } {
  const load = load1();
  const r = spawnSync(process.execPath, ["--no-liftoff", "--import", "tsx", join(ROOT, "bench/cli-phases.ts")], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, PHASE_FILE: file, PHASE_FORMULA: fml, PHASE_PLACED: placed }, maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`cli-phases failed: ${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split("\n").pop()!), load };
}

const rowsOut: Record<string, unknown>[] = [];
function save(): void {
  const result = { date: new Date().toISOString(), node: process.version, loadEnd: loadavg(), rows: rowsOut };
  writeFileSync(join(ROOT, "bench/results/cli-matrix.json"), JSON.stringify(result, null, 2) + "\n");
  const md = [
    "# bench/cli-matrix: the whole `hdfe feols --data` command", "",
    `${result.date}, Node ${process.version}, shared 2-core machine under heavy load (each figure with the 1-minute load average when it was taken).`,
    "Absolute seconds are only comparable at equal load; the ratios are within one run. R is not installed here: Rscript fread + fixest was not measured.", "",
    "| rows | FE | format | MB | command, DuckDB (load) | command, built-in (load) | DuckDB / built-in | command, auto: WASM CSV fast path (load) | fast path / DuckDB | read | DuckDB query | copy | cold fit | warm fit | cold / warm | placed: read | placed: cold fit | placed: warm fit | placed: cold / warm | start-up (tsx) | phases load | hdfe --help (load) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rowsOut.map((r) =>
      `| ${r.rows} | ${r.fe} | ${r.format} | ${r.mb} | ${r.duckdb_s} s (${r.duckdb_load}) | ${r.builtin_s} s (${r.builtin_load}) | ${r.duckdb_over_builtin} | ${r.wasm_s === null ? "" : `${r.wasm_s} s (${r.wasm_load})`} | ${r.wasm_over_duckdb ?? ""} | ${r.read_s} s | ${r.query_s} s | ${r.copy_s} s | ${r.fit_cold_s} s | ${r.fit_warm_s} s | ${r.cold_over_warm} | ${r.placed_read_s} s | ${r.placed_cold_s} s | ${r.placed_warm_s} s | ${r.placed_cold_over_warm} | ${r.startup_s} s | ${r.phases_load} | ${r.help_s} s (${r.help_load}) |`),
    "",
  ].join("\n");
  writeFileSync(join(ROOT, "bench/results/cli-matrix.md"), md);
}
const duck = (await loadDuckDB())!;
for (const rows of ROWS) {
  for (const fe of FES) {
    const csv = join(DIR, `panel-${rows}-${fe}fe.csv`);
    const pq = csv.replace(/\.csv$/, ".parquet");
    await writeCsv(csv, rows, fe);
    await duck.rows(`COPY (SELECT * FROM read_csv('${csv}')) TO '${pq}' (FORMAT parquet)`);
    const fml = benchFormula(fe);
    for (const file of [csv, pq]) {
      const format = file.endsWith(".csv") ? "csv" : "parquet";
      const d = command(file, fml, "duckdb");
      const j = command(file, fml, "js");
      // --reader auto: on CSV the WASM CSV fast path (bindings/platform/csv-wasm.ts; bench/csv-wasm.ts times it on and off)
      const w = format === "csv" ? command(file, fml, "auto") : null;
      const p = phases(file, fml);
      const pp = phases(file, fml, "1");
      if (!pp.placed || !pp.sameCoef) throw new Error(`the placed phases did not place the model or gave another coefficient: ${JSON.stringify(pp)}`);
      const h = helpSeconds();
      const row = {
        rows, fe, format, mb: +(statSync(file).size / 1e6).toFixed(0),
        duckdb_s: d.s, duckdb_load: d.load, builtin_s: j.s, builtin_load: j.load, duckdb_over_builtin: +(d.s / j.s).toFixed(2),
        same_coef: d.coef === j.coef && (w === null || w.coef === d.coef),
        wasm_s: w?.s ?? null, wasm_load: w?.load ?? null, wasm_over_duckdb: w ? +(w.s / d.s).toFixed(2) : null,
        read_s: +(p.read / 1000).toFixed(2), query_s: p.readSplit ? +(p.readSplit.query / 1000).toFixed(2) : null, copy_s: p.readSplit ? +(p.readSplit.copy / 1000).toFixed(2) : null,
        fit_cold_s: +(p.fitCold / 1000).toFixed(2), fit_warm_s: +(p.fitWarm / 1000).toFixed(2), cold_over_warm: +(p.fitCold / p.fitWarm).toFixed(2),
        placed_read_s: +(pp.readPlaced / 1000).toFixed(2), placed_cold_s: +(pp.fitCold / 1000).toFixed(2), placed_warm_s: +(pp.fitWarm / 1000).toFixed(2),
        placed_cold_over_warm: +(pp.fitCold / pp.fitWarm).toFixed(2),
        startup_s: +((p.start + p.imports + p.duckOpen) / 1000).toFixed(2), phases_load: p.load, help_s: h.s, help_load: h.load,
      };
      rowsOut.push(row);
      console.log(row);
      save(); // after each row: a long run interrupted keeps what it measured
    }
    rmSync(csv, { force: true });
    rmSync(pq, { force: true });
  }
}
rmSync(DIR, { recursive: true, force: true });

