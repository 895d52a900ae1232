// IV benchmark (node --import tsx bench/iv.bench.ts): 2SLS with FE on generated panels,
//   y2 ~ x1 + x2 | firm + year [+ city] | e ~ x3 + x4        (cluster firm, over-identified)
// the WASM path (estimators/iv.ts: every column demeaned once, first and second stage, the
// fit statistics) against the plain-TypeScript 2SLS (bindings/ref/iv-ts.ts: the TypeScript
// demeaning of feols-ts.ts, Gram-Schmidt least squares, the same statistics) in the same run,
// and against R fixest when `Rscript` with fixest is on the PATH (else "not measured").
// Both sides start from the same Frame with its FE codes already built (reused, as a repeated
// fit in one process); the endogenous regressor and outcome are derived from the panel's
// columns with a fixed seed. BENCH_ROWS (default 1000000) and BENCH_FE (default 2,3) choose
// the runs; BENCH_ITER the timed repetitions (default 3, 1 above 2M rows). Writes
// bench/results/iv.json and prints the markdown table of bench/results/iv.md.
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { iv } from "../bindings/estimators/iv.js";
import { ivTs } from "../bindings/ref/iv-ts.js";
import { xorshift32 } from "../bindings/base/rng.js";
import { genPanel, panelCsvChunks } from "./gen.js";

const sizes = (process.env.BENCH_ROWS ?? "1000000").split(",").map(Number);
const feCounts = (process.env.BENCH_FE ?? "2,3").split(",").map(Number);
const eng = await loadEngine();
const rows: Record<string, unknown>[] = [];

function fixestAvailable(): boolean {
  const r = spawnSync("Rscript", ["-e", "library(fixest)"], { encoding: "utf8" });
  return r.status === 0;
}
const haveR = fixestAvailable();

/** fixest's time for the same model on the same rows (written to CSV first), or null. */
function fixestSeconds(frame: ReturnType<typeof genPanel>, formula: string): number | null {
  if (!haveR) return null;
  const file = join(tmpdir(), `hdfe-iv-bench-${process.pid}.csv`);
  const chunks = [...panelCsvChunks(frame)];
  writeFileSync(file, chunks.join(""));
  const code = `library(fixest); setFixest_nthreads(1); d <- data.table::fread("${file}");` +
    `t <- system.time(feols(${formula}, d, vcov = ~firm))[["elapsed"]]; cat(t)`;
  const r = spawnSync("Rscript", ["-e", code], { encoding: "utf8" });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

const mean = (t: { result?: unknown }) => (t.result as { latency: { mean: number } }).latency.mean / 1000;

for (const n of sizes) {
  const gen = genPanel({ rows: n, city: true });
  // an endogenous regressor: instruments x3, x4 and a shock u that also moves the outcome
  const rnd = xorshift32(7);
  const x3 = gen.numeric("x3"), x4 = gen.numeric("x4"), y = gen.numeric("y");
  const e = new Float64Array(n), y2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rnd() - 0.5;
    e[i] = 0.6 * x3[i] + 0.4 * x4[i] + u + 0.3 * (rnd() - 0.5);
    y2[i] = y[i] + 0.5 * e[i] + 0.8 * u;
  }
  const frame = gen.withColumn("e", e).withColumn("y2", y2);
  for (const Q of feCounts) {
    const fe = Q === 3 ? ["firm", "year", "city"] : ["firm", "year"];
    const formula = `y2 ~ x1 + x2 | ${fe.join(" + ")} | e ~ x3 + x4`;
    const codes = fe.map((c) => {
      const cc = frame.codes(c);
      return { codes: cc.codes, levels: cc.levels.length };
    });
    const iterations = Number(process.env.BENCH_ITER ?? (n > 2_000_000 ? 1 : 3));
    const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
    const coef: Record<string, number> = {};
    let peak = 0;
    bench
      .add("wasm", () => {
        const fit = iv(eng, frame, formula, { vcov: "cluster:firm", fixefRm: "none" });
        coef.wasm = fit.coef.fit_e;
        peak = Math.max(peak, eng.peak);
      })
      .add("ts", () => {
        const r = ivTs({
          y: frame.numeric("y2"), exo: ["x1", "x2"].map((c) => frame.numeric(c)), endo: [frame.numeric("e")],
          inst: ["x3", "x4"].map((c) => frame.numeric(c)), fe: codes, vcov: "cluster", tol: 1e-8,
        });
        coef.ts = r.coef[0];
      });
    await bench.run();
    const [w, t] = bench.tasks.map(mean);
    const r = fixestSeconds(frame, formula);
    const row = {
      rows: n, fe: Q, wasm_s: +w.toFixed(3), ts_s: +t.toFixed(3), ts_over_wasm: +(t / w).toFixed(2),
      fixest_s: r === null ? "not measured" : +r.toFixed(3), fixest_over_wasm: r === null ? "not measured" : +(r / w).toFixed(2),
      wasm_arena_peak_mib: +(peak / 2 ** 20).toFixed(1), rss_mib: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
      coef_agree_1e6: Math.abs(coef.wasm - coef.ts) < 1e-6 * Math.max(1, Math.abs(coef.wasm)), iterations,
    };
    rows.push(row);
    console.log(row);
  }
}

const load = existsSync("/proc/loadavg") ? readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ") : "unknown";
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/iv.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, loadavg_at_end: load, fixest: haveR ? "measured" : "not measured (no Rscript with fixest)", rows }, null, 2),
);
console.log("| rows | FE | WASM (s) | plain TS (s) | TS / WASM | fixest (s) | fixest / WASM | arena peak (MiB) |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${(r.rows as number).toLocaleString("en-US")} | ${r.fe} | ${r.wasm_s} | ${r.ts_s} | ${r.ts_over_wasm} | ${r.fixest_s} | ${r.fixest_over_wasm} | ${r.wasm_arena_peak_mib} |`);
}
console.log(`load average at the end: ${load}`);
