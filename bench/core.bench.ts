// Core benchmark (npm run bench): demeaning + fit + firm-clustered vcov of
// y ~ treat + 8 controls | firm + year on generated panels of 15k, 1M and 5M rows,
// the WASM path (feols) against a plain TypeScript implementation of the same algorithm
// (bindings/ref/feols-ts.ts) in the same run. Writes bench/results/core.json.
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync } from "node:fs";
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/feols.js";
import { feolsTs } from "../bindings/ref/feols-ts.js";
import { genPanel, CONTROLS } from "./gen.js";

const sizes = (process.env.BENCH_ROWS ?? "15000,1000000,5000000").split(",").map(Number);
const eng = await loadEngine();
const formula = `y ~ treat + ${CONTROLS.join(" + ")} | firm + year`;
const rows: Record<string, unknown>[] = [];

for (const n of sizes) {
  const frame = genPanel({ rows: n });
  const iterations = n <= 20000 ? 30 : n <= 1_000_000 ? 5 : 2;
  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  let wasmCoef = 0, tsCoef = 0, peak = 0;
  // inputs of the TS baseline, prepared once outside the timed region (as the WASM path's
  // Frame columns are)
  const yv = frame.numeric("y");
  const X = ["treat", ...CONTROLS].map((c) => frame.numeric(c));
  const fe = ["firm", "year"].map((c) => {
    const cc = frame.codes(c);
    return { codes: cc.codes, levels: cc.levels.length };
  });
  const cl = { codes: fe[0].codes, G: fe[0].levels };
  bench
    .add(`wasm ${n}`, () => {
      const fit = feols(eng, frame, formula, { vcov: "cluster:firm", fixefRm: "none" });
      wasmCoef = fit.coef.treat;
      peak = Math.max(peak, eng.peak);
    })
    .add(`ts ${n}`, () => {
      tsCoef = feolsTs({ y: yv, X, fe, cluster: cl }).coef[0];
    });
  await bench.run();
  const [w, t] = bench.tasks.map((task) => task.result!);
  const wMean = (w as { latency: { mean: number } }).latency.mean / 1000;
  const tMean = (t as { latency: { mean: number } }).latency.mean / 1000;
  const row = {
    rows: n,
    wasm_s: +wMean.toFixed(4),
    ts_s: +tMean.toFixed(4),
    ts_over_wasm: +(tMean / wMean).toFixed(2),
    wasm_rows_per_s: Math.round(n / wMean),
    wasm_arena_peak_mib: +(peak / 2 ** 20).toFixed(1),
    rss_mib: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
    coef_agree: Math.abs(wasmCoef - tsCoef) < 1e-8 * Math.max(1, Math.abs(tsCoef)),
  };
  rows.push(row);
  console.log(row);
}
console.table(rows);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/core.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
