// hdfe bench: the standard benchmark set on generated panels (bindings/sim/bench-panel.ts):
//   y ~ treat + x1..x8 | firm + year [+ city], firm-clustered standard errors,
// timed in a fresh child process per case (so that each case's peak RSS is its own), with
// R fixest (single thread) on the same panel when Rscript and fixest are installed, else
// the published fixest times for this machine beside ours.
import { Option, type Command } from "commander";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir, availableParallelism } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../../bindings/node.js";
import { OptionError } from "../../bindings/base/errors.js";
import { defaultThreads } from "../../bindings/platform/demean-node.js";
import { genPanel, panelCsvChunks, benchFormula, benchOptions, timeFeols, FIXEST_PUBLISHED } from "../../bindings/sim/bench-panel.js";

export { FIXEST_PUBLISHED };

export interface BenchCase {
  rows: number;
  fe: 2 | 3;
  threads: number;
  /** how the raw columns are held in WASM memory (feols storage) */
  storage?: "f64" | "f32";
}

export interface BenchRow extends BenchCase {
  /** median seconds of feols (generation excluded) */
  seconds: number;
  runs: number;
  rowsPerSecond: number;
  mapIterations: number;
  cgIterations: number;
  /** highest WASM arena use (bytes) and WASM memory committed (bytes) */
  wasmPeakBytes: number;
  wasmMemoryBytes: number;
  /** peak resident set size of the process that ran the case (bytes) */
  rssPeakBytes: number;
  coefTreat: number;
  /** fixest seconds measured in this run, or null */
  fixestSeconds: number | null;
  /** fixest seconds published in the issue for this case, or null */
  fixestPublished: number | null;
}

function runsFor(rows: number): { warmup: number; runs: number } {
  if (rows <= 100_000) return { warmup: 2, runs: 15 };
  if (rows <= 2_000_000) return { warmup: 1, runs: 3 };
  // one timed run; up to 5M rows after a warm-up run (the first run in a fresh process also
  // grows WASM memory and faults its pages in)
  return { warmup: rows <= 5_000_000 ? 1 : 0, runs: 1 };
}

/** One case in this process: generate, time feols, report memory. */
export async function runBenchCase(c: BenchCase): Promise<Omit<BenchRow, "fixestSeconds" | "fixestPublished">> {
  await import("../../bindings/platform/demean-node.js"); // installs the worker-thread demeaner
  const eng = await loadEngine();
  const frame = genPanel({ rows: c.rows, city: c.fe === 3 });
  const { warmup, runs } = runsFor(c.rows);
  const { seconds, last } = timeFeols(eng, frame, benchFormula(c.fe), benchOptions(c.storage, c.threads), warmup, runs);
  return {
    ...c,
    seconds,
    runs,
    rowsPerSecond: c.rows / seconds,
    mapIterations: last.demean?.mapIterations ?? 0,
    cgIterations: last.demean?.cgIterations ?? 0,
    wasmPeakBytes: eng.peak,
    wasmMemoryBytes: eng.memoryBytes,
    rssPeakBytes: process.resourceUsage().maxRSS * 1024,
    coefTreat: last.coef.treat,
  };
}

/** Run one case in a fresh Node process (same entry point, hidden --case flag). */
function runIsolated(c: BenchCase): Omit<BenchRow, "fixestSeconds" | "fixestPublished"> {
  const args = [...process.execArgv, process.argv[1], "bench", "--case", `${c.rows}:${c.fe}:${c.threads}:${c.storage ?? "f64"}`];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`benchmark case ${c.rows} rows / ${c.fe} FE failed (exit ${r.status ?? r.signal})`);
  const line = r.stdout.trim().split("\n").pop()!;
  return JSON.parse(line);
}

/** Is R with fixest installed? (quiet check) */
export function fixestAvailable(): boolean {
  const r = spawnSync("Rscript", ["-e", "suppressMessages(library(fixest))"], { stdio: "ignore", timeout: 60_000 });
  return r.status === 0;
}

/** Time R fixest (one thread) on the same generated panel, written to a temporary CSV. */
export function timeFixest(c: BenchCase, dir: string): number {
  const csv = join(dir, `panel-${c.rows}-${c.fe}.csv`);
  const frame = genPanel({ rows: c.rows, city: c.fe === 3 });
  const fd = openSync(csv, "w");
  try {
    for (const chunk of panelCsvChunks(frame)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  const { runs, warmup } = runsFor(c.rows);
  const script = [
    "suppressMessages(library(fixest))",
    "setFixest_nthreads(1)",
    `d <- utils::read.csv(${JSON.stringify(csv)}, colClasses = "numeric")`,
    `f <- ${benchFormula(c.fe)}`,
    `for (i in seq_len(${warmup})) invisible(feols(f, d, cluster = ~firm, fixef.rm = "none", nthreads = 1))`,
    `t <- sapply(seq_len(${runs}), function(i) system.time(feols(f, d, cluster = ~firm, fixef.rm = "none", nthreads = 1))[["elapsed"]])`,
    "cat(stats::median(t), '\\n')",
  ].join("\n");
  const r = spawnSync("Rscript", ["-e", script], { encoding: "utf8", maxBuffer: 1 << 20 });
  rmSync(csv, { force: true });
  const v = Number(r.stdout.trim().split(/\s+/).pop());
  if (r.status !== 0 || !Number.isFinite(v)) throw new Error(`fixest timing failed: ${r.stderr.trim().split("\n").pop()}`);
  return v;
}

/** timeFixest, or null with the reason on stderr when R fails part-way (a half-installed R). */
function timeFixestOrNull(c: BenchCase, dir: string): number | null {
  try {
    return timeFixest(c, dir);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}: fixest not measured for this case\n`);
    return null;
  }
}

export function parseList(s: string, what: string): number[] {
  const out = s.split(",").map((v) => Number(v.trim().replace(/_/g, "")));
  if (out.some((v) => !Number.isInteger(v) || v < 1)) throw new OptionError(`${what} must be a comma-separated list of positive integers, got ${s}`);
  return out;
}

function fmtSecs(s: number | null): string {
  return s === null ? "-" : s < 0.1 ? s.toFixed(4) : s.toFixed(2);
}
function mib(b: number): string {
  return (b / 2 ** 20).toFixed(0);
}

/** The table printed by hdfe bench. */
export function benchTable(rows: BenchRow[], measured: boolean): string {
  const ref = measured ? "fixest s" : "fixest s (published, not measured here)";
  const head = ["rows", "FE", "threads", "seconds", "rows/s", "MAP it", "CG it", "WASM peak MiB", "RSS peak MiB", "RSS B/row", ref, "hdfe/fixest"];
  const body = rows.map((r) => {
    const fx = measured ? r.fixestSeconds : r.fixestPublished;
    return [
      r.rows.toLocaleString("en-US"), String(r.fe), String(r.threads), fmtSecs(r.seconds),
      Math.round(r.rowsPerSecond).toLocaleString("en-US"), String(r.mapIterations), String(r.cgIterations),
      mib(r.wasmPeakBytes), mib(r.rssPeakBytes), String(Math.round(r.rssPeakBytes / r.rows)),
      fmtSecs(fx), fx ? (r.seconds / fx).toFixed(2) : "-",
    ];
  });
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j < 2 ? c.padEnd(w[j]) : c.padStart(w[j]))).join("  ");
  return [line(head), line(w.map((x) => "-".repeat(x))), ...body.map(line)].join("\n");
}

interface Flags {
  rows: string;
  fe: string;
  threads?: string;
  json?: boolean;
  case?: string;
  isolate: boolean;
  float32?: boolean;
  /** false with --no-fixest: never time R fixest, even when it is installed */
  fixest: boolean;
}

export function register(program: Command): void {
  program
    .command("bench")
    .description("time feols on generated panels (y ~ treat + 8 controls | firm + year [+ city], firm-clustered) against R fixest")
    .option("--rows <list>", "panel sizes", "15000,1000000,5000000")
    .option("--fe <list>", "numbers of fixed effects (2: firm + year, 3: + city)", "2,3")
    .option("--threads <n>", `demeaning threads (default ${defaultThreads()}: on a 2-core machine two threads were slower, see bindings/platform/demean-node.ts)`)
    .option("--float32", "hold the raw columns as float32 (feols --float32): half the memory, two demeaning passes")
    .option("--json", "print the results as JSON")
    .option("--no-isolate", "run every case in this process (peak RSS is then cumulative)")
    .option("--no-fixest", "do not time R fixest, even when Rscript and fixest are installed")
    .addOption(new Option("--case <rows:fe:threads:storage>", "run one case and print it as JSON (internal)").hideHelp())
    .action(async (flags: Flags) => {
      if (flags.case) {
        const parts = flags.case.split(":");
        const [rows, fe, threads] = parts.slice(0, 3).map(Number);
        const storage = parts[3] === "f32" ? "f32" : "f64";
        process.stdout.write(JSON.stringify(await runBenchCase({ rows, fe: fe as 2 | 3, threads, storage })) + "\n");
        return;
      }
      const sizes = parseList(flags.rows, "--rows");
      const fes = parseList(flags.fe, "--fe");
      if (fes.some((f) => f !== 2 && f !== 3)) throw new OptionError(`--fe takes 2 and/or 3, got ${flags.fe}`);
      const threads = flags.threads === undefined ? defaultThreads() : parseList(flags.threads, "--threads")[0];
      const withR = flags.fixest && fixestAvailable();
      if (!withR) {
        const why = flags.fixest ? "R fixest not found (Rscript -e 'library(fixest)' failed)" : "--no-fixest";
        process.stderr.write(`${why}: R fixest is not measured in this run; the fixest column shows the times published in issue 6, not measured here\n`);
      }
      const dir = withR ? mkdtempSync(join(tmpdir(), "hdfe-bench-")) : "";
      const out: BenchRow[] = [];
      try {
        for (const fe of fes) {
          for (const rows of sizes) {
            const c: BenchCase = { rows, fe: fe as 2 | 3, threads, storage: flags.float32 ? "f32" : "f64" };
            process.stderr.write(`bench: ${rows.toLocaleString("en-US")} rows, ${fe} FE, ${threads} thread(s)...\n`);
            const r = flags.isolate ? runIsolated(c) : await runBenchCase(c);
            const fixestSeconds = withR ? timeFixestOrNull(c, dir) : null;
            out.push({ ...r, fixestSeconds, fixestPublished: FIXEST_PUBLISHED[`${rows}x${fe}`] ?? null });
          }
        }
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify({ node: process.version, cores: availableParallelism(), fixest: withR ? "measured" : "not measured (published figures)", rows: out }) + "\n");
      } else {
        process.stdout.write(benchTable(out, withR) + "\n");
        if (flags.float32) process.stdout.write("hdfe: raw columns held as float32 (--float32)\n");
        if (!withR) process.stdout.write("fixest: not measured in this run; the figures are R fixest 0.12.2, one thread, as published in issue 6 (a 2-core machine like this one); hdfe/fixest < 1 means hdfe is faster\n");
      }
    });
}
