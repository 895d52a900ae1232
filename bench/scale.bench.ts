// Scale benchmark (npm run bench:scale): y ~ treat + 8 controls | firm + year [+ city],
// firm-clustered, on generated panels of 15k, 1M, 5M and 20M rows with 2 and 3 FE; the WASM
// path (feols) against the plain-TypeScript implementation of the same algorithm
// (bindings/ref/feols-ts.ts) in the same run, the baseline skipped where it would take more
// than ~60 s (estimated from the previous size). Each case runs in a fresh Node process so
// that its peak RSS is its own. Writes bench/results/scale.json and scale.md.
//
//   SCALE_ROWS=15000,1000000 SCALE_FE=2 SCALE_THREADS=2 npm run bench:scale
//
// SCALE_STORAGE=f32 runs the float32 storage of the raw columns (feols storage: "f32") and
// writes scale-f32.json / .md; a case that exceeds the 4 GiB WASM limit is reported with
// the memory plan's error instead of a time:
//
//   SCALE_STORAGE=f64,f32 SCALE_ROWS=20000000,50000000 SCALE_FE=2 npm run bench:scale
import { Bench } from "tinybench";
import { spawnSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { availableParallelism } from "node:os";
import { loadEngine } from "../bindings/node.js";
import "../bindings/platform/demean-node.js";
import { feols, planMemory, type Fit } from "../bindings/estimators/feols.js";
import { planF32 } from "../bindings/core/solve-f32.js";
import { feolsTs } from "../bindings/ref/feols-ts.js";
import { Frame } from "../bindings/core/frame.js";
import { genPanel, benchFormula, benchOptions, CONTROLS } from "./gen.js";

const BASELINE_LIMIT_S = 60;

/** R fixest 0.12.2, one thread, this machine (published in the issue). */
const FIXEST: Record<string, number> = {
  "15000x2": 0.019, "1000000x2": 0.57, "1000000x3": 2.57, "5000000x2": 5.7, "5000000x3": 16.9,
};

interface CaseResult {
  rows: number;
  fe: number;
  threads: number;
  storage: "f64" | "f32";
  /** the estimation's error (e.g. the memory plan's) when it did not run */
  error?: string;
  wasm_s: number;
  wasm_runs: number;
  map_iterations: number;
  cg_iterations: number;
  /** WASM arena peak and WASM memory committed, MiB */
  wasm_peak_mib: number;
  wasm_memory_mib: number;
  /** planMemory's estimate for this model, MiB */
  wasm_plan_mib: number;
  /** peak RSS of the process after generation + the WASM runs (before the baseline), MiB */
  rss_peak_mib: number;
  rss_bytes_per_row: number;
  gen_s: number;
  ts_s: number | null;
  ts_iterations: number | null;
  ts_over_wasm: number | null;
  baseline: string;
  coef_agree: boolean | null;
  fixest_s: number | null;
  wasm_over_fixest: number | null;
}

function iterationsFor(n: number): number {
  return n <= 20_000 ? 20 : n <= 1_000_000 ? 3 : 1;
}

async function runCase(rows: number, fe: number, threads: number, tsEstimate: number | null, storage: "f64" | "f32"): Promise<CaseResult> {
  const eng = await loadEngine();
  const t0 = performance.now();
  const frame = genPanel({ rows, city: fe === 3 });
  const genS = (performance.now() - t0) / 1000;
  const fes = fe === 3 ? ["firm", "year", "city"] : ["firm", "year"];
  const formula = benchFormula(fe as 2 | 3);
  const opts = benchOptions(storage, threads);
  let fit: Fit | null = null;
  const it = iterationsFor(rows);
  const wasmBench = new Bench({ iterations: it, time: 0, warmupIterations: rows <= 1_000_000 ? 1 : 0, warmupTime: 0 });
  // a fresh Frame over the same columns per run: the id factorisation is timed, as fixest's is
  const raw = Object.fromEntries(frame.names.map((nm) => [nm, frame.numeric(nm)]));
  wasmBench.add("wasm", () => {
    fit = null;
    fit = feols(eng, Frame.fromColumns(raw), formula, opts);
  });
  await wasmBench.run();
  // tinybench keeps a task's exception in its result: rethrow it (the memory plan's error)
  const taskErr = (wasmBench.tasks[0].result as { error?: unknown } | undefined)?.error;
  if (taskErr) throw taskErr;
  const wMean = (wasmBench.tasks[0].result as { latency: { mean: number } }).latency.mean / 1000;
  const rssPeak = process.resourceUsage().maxRSS * 1024;
  const f = fit as Fit | null;
  if (!f) throw new Error("no fit");
  const res: CaseResult = {
    rows, fe, threads, storage,
    wasm_s: +wMean.toFixed(4),
    wasm_runs: it,
    map_iterations: f.demean?.mapIterations ?? 0,
    cg_iterations: f.demean?.cgIterations ?? 0,
    wasm_peak_mib: +(eng.peak / 2 ** 20).toFixed(1),
    wasm_memory_mib: +(eng.memoryBytes / 2 ** 20).toFixed(1),
    wasm_plan_mib: +((storage === "f32" ? planF32 : planMemory)({
      n: rows, k: 1 + CONTROLS.length, Q: fe, clusterTerms: 1, feCells: Object.values(f.fixefSizes).reduce((a, b) => a + b, 0),
    }) / 2 ** 20).toFixed(1),
    rss_peak_mib: Math.round(rssPeak / 2 ** 20),
    rss_bytes_per_row: Math.round(rssPeak / rows),
    gen_s: +genS.toFixed(2),
    ts_s: null, ts_iterations: null, ts_over_wasm: null, baseline: "", coef_agree: null,
    fixest_s: FIXEST[`${rows}x${fe}`] ?? null,
    wasm_over_fixest: null,
  };
  if (res.fixest_s) res.wasm_over_fixest = +(res.wasm_s / res.fixest_s).toFixed(2);
  const wasmCoef = f.coef.treat;
  fit = null;
  if (storage === "f32") {
    res.baseline = "f64 row of the same run";
    return res;
  }
  if (tsEstimate !== null && tsEstimate > BASELINE_LIMIT_S) {
    res.baseline = `skipped (estimated ${Math.round(tsEstimate)} s from the previous size)`;
    return res;
  }
  // TS baseline: inputs prepared outside the timed region, as the Frame columns are for feols
  const y = frame.numeric("y");
  const X = ["treat", ...CONTROLS].map((c) => frame.numeric(c));
  const feIn = fes.map((c) => {
    const cc = frame.codes(c);
    return { codes: cc.codes, levels: cc.levels.length };
  });
  const cl = { codes: feIn[0].codes, G: feIn[0].levels };
  let tsCoef = 0, tsIt = 0;
  const runTs = () => {
    const r = feolsTs({ y, X, fe: feIn, cluster: cl });
    tsCoef = r.coef[0];
    tsIt = r.iterations;
  };
  // one probe run; repeated under tinybench only when it is quick (the baseline has no CG:
  // on a poorly connected small panel its projections can take tens of seconds)
  const p0 = performance.now();
  runTs();
  let tMean = (performance.now() - p0) / 1000;
  if (tMean < 1) {
    const tsBench = new Bench({ iterations: rows <= 20_000 ? 10 : 2, time: 0, warmupIterations: 0, warmupTime: 0 });
    tsBench.add("ts", runTs);
    await tsBench.run();
    tMean = (tsBench.tasks[0].result as { latency: { mean: number } }).latency.mean / 1000;
  }
  res.ts_s = +tMean.toFixed(4);
  res.ts_iterations = tsIt;
  res.ts_over_wasm = +(tMean / wMean).toFixed(2);
  res.baseline = "run";
  // same algorithm, same tolerance: the treatment coefficient agrees to the demeaning accuracy
  res.coef_agree = Math.abs(wasmCoef - tsCoef) <= 1e-7 * Math.max(1, Math.abs(tsCoef));
  return res;
}

function markdown(rows: CaseResult[], meta: { date: string; node: string; cores: number }): string {
  const head = [
    "rows", "FE", "threads", "storage", "hdfe s", "MAP it", "CG it", "WASM peak MiB", "WASM plan MiB", "peak RSS MiB", "RSS B/row",
    "plain TS s", "TS/hdfe", "fixest s", "hdfe/fixest",
  ];
  const fmt = (v: number | null, d = 3) => (v === null ? "-" : v.toFixed(d));
  const lines = [
    `# Scale benchmark`,
    ``,
    `y ~ treat + 8 controls | firm + year [+ city], firm-clustered SEs, generated panels (bench/gen.ts). ` +
      `${meta.date}, Node ${meta.node}, ${meta.cores} cores. hdfe s: mean of the timed runs (1 run from 5M rows). ` +
      `fixest s: R fixest 0.12.2, one thread, this machine, as published in the issue. Peak RSS: the case's own process ` +
      `(generation + hdfe runs, before the baseline).`,
    ``,
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, j) => (j < 4 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) =>
      r.error ? `| ${r.rows.toLocaleString("en-US")} | ${r.fe} | ${r.threads} | ${r.storage} | not run: ${r.error.replace(/\|/g, "/")} |` : `| ${[
        r.rows.toLocaleString("en-US"), r.fe, r.threads, r.storage, fmt(r.wasm_s), r.map_iterations, r.cg_iterations, r.wasm_peak_mib, r.wasm_plan_mib,
        r.rss_peak_mib, r.rss_bytes_per_row, r.ts_s === null ? r.baseline : fmt(r.ts_s), fmt(r.ts_over_wasm, 2), fmt(r.fixest_s), fmt(r.wasm_over_fixest, 2),
      ].join(" | ")} |`),
    ``,
  ];
  return lines.join("\n");
}

// ---- child: one case, JSON on stdout -----------------------------------------------------
const caseArg = process.argv.indexOf("--case");
if (caseArg >= 0) {
  const parts = process.argv[caseArg + 1].split(":");
  const [rows, fe, threads, est] = parts.slice(0, 4).map(Number);
  const storage = parts[4] === "f32" ? "f32" : "f64";
  let r: CaseResult;
  try {
    r = await runCase(rows, fe, threads, Number.isFinite(est) && est > 0 ? est : null, storage);
  } catch (e) {
    if ((e as Error).name !== "WasmMemoryError") throw e;
    r = { rows, fe, threads, storage, error: (e as Error).message } as CaseResult;
  }
  process.stdout.write(JSON.stringify(r) + "\n");
  process.exit(0);
}

// ---- parent ---------------------------------------------------------------------------
const sizes = (process.env.SCALE_ROWS ?? "15000,1000000,5000000,20000000").split(",").map(Number);
const fes = (process.env.SCALE_FE ?? "2,3").split(",").map(Number);
const threads = Number(process.env.SCALE_THREADS ?? 1);
const storages = (process.env.SCALE_STORAGE ?? "f64").split(",") as ("f64" | "f32")[];
const results: CaseResult[] = [];
const self = fileURLToPath(import.meta.url);
for (const storage of storages) {
  for (const fe of fes) {
    let prev: CaseResult | null = null;
    for (const rows of sizes) {
      // the baseline's time from the previous size of at least 1M rows (smaller panels have a
      // different FE graph: 5 firms per city at 15k rows)
      const est = prev && prev.rows >= 1_000_000 ? (prev.ts_s === null ? 1e9 : (prev.ts_s * rows) / prev.rows) : null;
      process.stderr.write(`scale: ${rows.toLocaleString("en-US")} rows, ${fe} FE, ${storage}...\n`);
      const r = spawnSync(process.execPath, [...process.execArgv, self, "--case", `${rows}:${fe}:${threads}:${est ?? 0}:${storage}`], {
        encoding: "utf8", maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "inherit"],
      });
      if (r.status !== 0) {
        process.stderr.write(`scale: case ${rows} x ${fe} (${storage}) failed (exit ${r.status ?? r.signal})\n`);
        continue;
      }
      const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as CaseResult;
      if (est === 1e9 && storage === "f64") res.baseline = "skipped (skipped at the previous size)";
      results.push(res);
      console.log(res);
      if (!res.error) prev = res;
    }
  }
}
const meta = { date: new Date().toISOString(), node: process.version, cores: availableParallelism() };
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const stem = storages.join("") === "f64" ? "scale" : `scale-${storages.join("-")}`;
writeFileSync(new URL(`./results/${stem}.json`, import.meta.url), JSON.stringify({ ...meta, threads, rows: results }, null, 2) + "\n");
writeFileSync(new URL(`./results/${stem}.md`, import.meta.url), markdown(results, meta));
console.log(markdown(results, meta));
