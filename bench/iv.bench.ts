// IV benchmark (node --import tsx bench/iv.bench.ts): 2SLS with FE on generated panels,
//   y2 ~ x1 + x2 | firm + year [+ city] | e ~ x3 + x4        (cluster firm, over-identified)
// the WASM path (estimators/iv.ts: every column demeaned once, first and second stage, the
// fit statistics) against the plain-TypeScript 2SLS (bindings/ref/iv-ts.ts: the TypeScript
// demeaning of feols-ts.ts, Gram-Schmidt least squares, the same statistics) in the same run,
// and against R fixest when `Rscript` with fixest is on the PATH (else "not measured").
// Both sides start from the same Frame with its FE codes already built (reused, as a repeated
// fit in one process); the endogenous regressor and outcome are derived from the panel's
// columns with a fixed seed. BENCH_ROWS (default 1000000) and BENCH_FE (default 2,3) choose
// the runs; BENCH_ITER the timed repetitions (default 3, 1 above 2M rows), BENCH_WARMUP the
// untimed first runs (default 1, 0 above 2M rows; BENCH_TS=0 leaves the plain-TS side out). Writes
// bench/results/iv.json and prints the markdown table of bench/results/iv.md.
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { iv } from "../bindings/estimators/iv.js";
import { ivTs } from "../bindings/ref/iv-ts.js";
import { xorshift32 } from "../bindings/base/rng.js";
import { genPanel, panelCsvChunks } from "./gen.js";

const sizes = (process.env.BENCH_ROWS ?? "1000000").split(",").map(Number);
const feCounts = (process.env.BENCH_FE ?? "2,3").split(",").map(Number);
const withTs = process.env.BENCH_TS !== "0";
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
    const warm = Number(process.env.BENCH_WARMUP ?? (n > 2_000_000 ? 0 : 1));
    const bench = new Bench({ iterations, time: 0, warmupIterations: warm, warmupTime: 0 });
    const coef: Record<string, number> = {};
    let peak = 0;
    bench
      .add("wasm", () => {
        const fit = iv(eng, frame, formula, { vcov: "cluster:firm", fixefRm: "none" });
        coef.wasm = fit.coef.fit_e;
        peak = Math.max(peak, eng.peak);
      });
    if (withTs) {
      bench.add("ts", () => {
        const r = ivTs({
          y: frame.numeric("y2"), exo: ["x1", "x2"].map((c) => frame.numeric(c)), endo: [frame.numeric("e")],
          inst: ["x3", "x4"].map((c) => frame.numeric(c)), fe: codes, vcov: "cluster", tol: 1e-8,
        });
        coef.ts = r.coef[0];
      });
    }
    await bench.run();
    const [w, t = NaN] = bench.tasks.map(mean);
    const r = fixestSeconds(frame, formula);
    const row = {
      rows: n, fe: Q, load: loadavg().map((v) => +v.toFixed(1)), wasm_s: +w.toFixed(3),
      ts_s: withTs ? +t.toFixed(3) : "not run", ts_over_wasm: withTs ? +(t / w).toFixed(2) : "not run",
      fixest_s: r === null ? "not measured" : +r.toFixed(3), fixest_over_wasm: r === null ? "not measured" : +(r / w).toFixed(2),
      wasm_arena_peak_mib: +(peak / 2 ** 20).toFixed(1), rss_mib: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
      peak_rss_mib: +(process.resourceUsage().maxRSS / 1024).toFixed(0),
      coef_agree_1e6: withTs ? Math.abs(coef.wasm - coef.ts) < 1e-6 * Math.max(1, Math.abs(coef.wasm)) : "not run", iterations, warmup: warm,
    };
    rows.push(row);
    console.log(row);
  }
}

const load = existsSync("/proc/loadavg") ? readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ") : "unknown";
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
// rows merged by (rows, FE) into the earlier runs' (each row carries its own date and load)
const out = new URL("./results/iv.json", import.meta.url);
const when = new Date().toISOString();
const key = (r: Record<string, unknown>) => `${r.rows} ${r.fe}`;
const old = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")).rows as Record<string, unknown>[]) : [];
const merged = [...old.filter((r) => r.when !== undefined && !rows.some((x) => key(x) === key(r))), ...rows.map((r) => ({ ...r, when }))];
writeFileSync(out, JSON.stringify({ node: process.version, loadavg_at_end: load, fixest: haveR ? "measured" : "not measured (no Rscript with fixest)", rows: merged }, null, 2) + "\n");
console.log("| rows | FE | load | WASM (s) | plain TS (s) | TS / WASM | fixest (s) | fixest / WASM | arena peak (MiB) | peak RSS (MiB) |");
console.log("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${(r.rows as number).toLocaleString("en-US")} | ${r.fe} | ${(r.load as number[]).join(" ")} | ${r.wasm_s} | ${r.ts_s} | ${r.ts_over_wasm} | ${r.fixest_s} | ${r.fixest_over_wasm} | ${r.wasm_arena_peak_mib} | ${r.peak_rss_mib} |`);
}
console.log(`load average at the end: ${load}`);
