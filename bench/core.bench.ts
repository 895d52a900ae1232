// Core benchmark (npm run bench): demeaning + fit + firm-clustered vcov of
// y ~ treat + 8 controls | firm + year on generated panels of 15k, 1M and 5M rows, the WASM
// path (feols) against a plain TypeScript implementation of the same algorithm
// (bindings/ref/feols-ts.ts) in the same run. Writes bench/results/core.json.
//
// Honest by construction:
//   - the TypeScript baseline is timed twice: generic loops, and loops written out for 2 FE
//     (as specialised as the WASM kernel; same bits);
//   - "fresh" runs build a new Frame from the raw columns inside the timing, so the id
//     factorisation of firm and year is paid on every run, as fixest pays it; "reused" runs
//     keep one Frame (its codes cached), as a repeated fit in one process does;
//   - R fixest is not run here: the figures it prints are hdfe's only (see `hdfe bench` and
//     `npm run bench:cli` for fixest, measured when Rscript and fixest are installed).
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync } from "node:fs";
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/estimators/feols.js";
import { Frame } from "../bindings/core/frame.js";
import { feolsTs } from "../bindings/ref/feols-ts.js";
import { genPanel, CONTROLS } from "./gen.js";

const sizes = (process.env.BENCH_ROWS ?? "15000,1000000,5000000").split(",").map(Number);
const eng = await loadEngine();
const formula = `y ~ treat + ${CONTROLS.join(" + ")} | firm + year`;
const NAMES = ["y", "treat", "firm", "year", ...CONTROLS];
const rows: Record<string, unknown>[] = [];

/** A new Frame over the same raw columns: nothing cached, ids factorised again when used. */
function freshFrame(raw: Record<string, Float64Array>): Frame {
  return Frame.fromColumns(raw);
}

/** The TS baseline's inputs from a fresh Frame (factorisation included where it is timed). */
function tsInputs(frame: Frame) {
  const fe = ["firm", "year"].map((c) => {
    const cc = frame.codes(c);
    return { codes: cc.codes, levels: cc.levels.length };
  });
  return { y: frame.numeric("y"), X: ["treat", ...CONTROLS].map((c) => frame.numeric(c)), fe, cluster: { codes: fe[0].codes, G: fe[0].levels } };
}

const mean = (t: { result?: unknown }) => (t.result as { latency: { mean: number } }).latency.mean / 1000;

for (const n of sizes) {
  const gen = genPanel({ rows: n, city: false });
  const raw = Object.fromEntries(NAMES.map((c) => [c, gen.numeric(c)]));
  const reused = freshFrame(raw);
  const iterations = n <= 20000 ? 30 : n <= 1_000_000 ? 5 : 2;
  const bench = new Bench({ iterations, time: 0, warmupIterations: 1, warmupTime: 0 });
  const coef: Record<string, number> = {};
  let peak = 0;
  bench
    .add("wasm fresh", () => {
      const fit = feols(eng, freshFrame(raw), formula, { vcov: "cluster:firm", fixefRm: "none" });
      coef.wasm = fit.coef.treat;
      peak = Math.max(peak, eng.peak);
    })
    .add("wasm reused", () => {
      coef.wasmReused = feols(eng, reused, formula, { vcov: "cluster:firm", fixefRm: "none" }).coef.treat;
    })
    .add("ts generic fresh", () => {
      coef.tsGeneric = feolsTs(tsInputs(freshFrame(raw))).coef[0];
    })
    .add("ts specialised fresh", () => {
      coef.tsSpecial = feolsTs({ ...tsInputs(freshFrame(raw)), specialised: true }).coef[0];
    });
  await bench.run();
  const [wf, wr, tg, ts] = bench.tasks.map(mean);
  const agree = (a: number) => Math.abs(a - coef.wasm) < 1e-8 * Math.max(1, Math.abs(coef.wasm));
  const row = {
    rows: n,
    wasm_fresh_s: +wf.toFixed(4),
    wasm_reused_s: +wr.toFixed(4),
    ts_generic_fresh_s: +tg.toFixed(4),
    ts_specialised_fresh_s: +ts.toFixed(4),
    ts_generic_over_wasm: +(tg / wf).toFixed(2),
    ts_specialised_over_wasm: +(ts / wf).toFixed(2),
    wasm_rows_per_s: Math.round(n / wf),
    wasm_arena_peak_mib: +(peak / 2 ** 20).toFixed(1),
    rss_mib: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
    coef_agree: agree(coef.wasmReused) && agree(coef.tsGeneric) && agree(coef.tsSpecial),
    ts_specialised_same_bits_as_generic: coef.tsSpecial === coef.tsGeneric,
  };
  rows.push(row);
  console.log(row);
}
console.table(rows);
console.log("R fixest: not measured by this benchmark (hdfe bench / npm run bench:cli time it when Rscript and fixest are installed).");
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/core.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, fixest: "not measured", timing: "fresh = new Frame per run (id factorisation timed); reused = one Frame", rows }, null, 2),
);
