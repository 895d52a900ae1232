// Placebo benchmark (node --import tsx bench/placebo.bench.ts): in-space placebo draws per
// second for FC ~ did + 7 controls | firm + year on
//   - the study-sized panel (tests/fixtures/reference/cbec_panel.csv, 14,734 rows used), and
//   - a 1M-row simulated panel (bindings/sim/simulate.ts, ~128,000 firms, same 240 cities),
// by the fast path (basis method: direct projection, and demeaned basis columns), the
// general path (each draw's treatment demeaned in WASM) and the naive loop (feols per
// draw) in the same run. Timings include each method's setup (not the one model fit that
// all of them start from). Also the wild cluster bootstrap (city clusters, B = 9999).
// Writes bench/results/placebo.json. PLACEBO_BENCH_LARGE=0 skips the 1M-row panel.
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync } from "node:fs";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit } from "../bindings/estimators/feols.js";
import { placebo, preparePlacebo, drawAdoptionYears, type PlaceboOptions, type PlaceboResult } from "../bindings/inference/placebo.js";
import { placeboThreads } from "../bindings/platform/placebo-node.js";
import { wild } from "../bindings/inference/wild.js";
import { simulatePanel } from "../bindings/sim/simulate.js";
import type { Engine } from "../bindings/engine/wasm.js";

const FORMULA = "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year";
const ROLES = { treatment: "did", scheme: "space", unit: "city", adopt: "adopt", year: "year", seed: 1 } as const;
const eng = await loadEngine();

interface Row {
  panel: string;
  rows: number;
  method: string;
  draws_per_run: number;
  runs: number;
  mean_s: number;
  draws_per_s: number;
  /** process CPU time (user + system, all threads) per run: robust to other load on the machine */
  cpu_s: number;
  setup_s?: number;
  draw_loop_s?: number;
  p_two_sided?: number;
}

const NOTE =
  "mean_s is wall time per run, including the method's setup but not the model fit; cpu_s is the process CPU time over all threads. " +
  "A threads row whose cpu_s is about its mean_s ran on one core (the machine's other core was busy): compare threads only when cpu_s approaches 2 x mean_s. " +
  "Worker start-up (about 0.4-0.7 s under tsx) is in setup_s.";
const rows: Row[] = [];
const rate = (x: number) => (x >= 100 ? Math.round(x) : +x.toPrecision(3));

/** Naive loop: rebuild the permuted DiD column and refit feols, draw by draw. */
function naive(eng: Engine, fit: Fit, frame: Frame, draws: number): number[] {
  const P = preparePlacebo(eng, fit, { ...ROLES, draws });
  const uc = frame.codes("city");
  const yr = frame.numeric("year");
  const byLabel = new Map(P.unitLabels.map((l, u) => [l, u]));
  const unitOfRow = Int32Array.from(uc.codes, (c) => (c < 0 ? -1 : byLabel.get(uc.levels[c]) ?? -1));
  const out: number[] = [];
  for (let d = 0; d < draws; d++) {
    const adopt = drawAdoptionYears(eng, P, d, 1);
    const col = Float64Array.from(yr, (y, i) => (unitOfRow[i] >= 0 && y >= adopt[unitOfRow[i]] ? 1 : 0));
    out.push(feols(eng, frame, FORMULA, { fixefRm: "none", override: { did: col }, vcov: "iid" }).coef.did);
  }
  return out;
}

async function measure(panel: string, fit: Fit, frame: Frame, plan: { name: string; draws: number; runs: number; run: () => Promise<PlaceboResult | number[]> }[]) {
  for (const p of plan) {
    let last: PlaceboResult | number[] | null = null;
    let cpu = 0, calls = 0;
    const bench = new Bench({ iterations: p.runs, time: 0, warmupIterations: p.runs > 2 ? 1 : 0, warmupTime: 0 });
    bench.add(p.name, async () => {
      const c0 = process.cpuUsage();
      last = await p.run();
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1e6;
      calls++;
    });
    await bench.run();
    const mean = (bench.tasks[0].result as unknown as { latency: { mean: number } }).latency.mean / 1000;
    const row: Row = {
      panel, rows: fit.nobs, method: p.name, draws_per_run: p.draws, runs: p.runs, mean_s: +mean.toFixed(4),
      draws_per_s: rate(p.draws / mean), cpu_s: +(cpu / calls).toFixed(4),
    };
    const r = last as PlaceboResult | number[] | null;
    if (r && !Array.isArray(r)) {
      row.setup_s = +(r.timing.setupMs / 1000).toFixed(4);
      row.draw_loop_s = +(r.timing.drawsMs / 1000).toFixed(4);
      row.p_two_sided = r.p.twoSided.p;
    }
    rows.push(row);
    console.log(row);
  }
}

function plan(fit: Fit, frame: Frame, large: boolean) {
  const opts = (o: Partial<PlaceboOptions>): PlaceboOptions => ({ ...ROLES, ...o }) as PlaceboOptions;
  return [
    { name: "fast: basis, direct projection", draws: 10000, runs: large ? 3 : 10, run: async () => placebo(eng, fit, opts({ draws: 10000, method: "basis" })) },
    { name: "fast: basis, direct, 2 threads", draws: 10000, runs: large ? 2 : 3, run: () => placeboThreads(eng, fit, opts({ draws: 10000, method: "basis", threads: 2 })) },
    { name: "fast: basis, demeaned columns", draws: 10000, runs: large ? 1 : 3, run: async () => placebo(eng, fit, opts({ draws: 10000, method: "basis", basisSolver: "demean" })) },
    { name: "general: demean each draw", draws: large ? 32 : 512, runs: large ? 1 : 3, run: async () => placebo(eng, fit, opts({ draws: large ? 32 : 512, method: "demean" })) },
    { name: "general: demean each draw, 2 threads", draws: large ? 64 : 1024, runs: large ? 1 : 3, run: () => placeboThreads(eng, fit, opts({ draws: large ? 64 : 1024, method: "demean", threads: 2 })) },
    { name: "naive: feols per draw", draws: large ? 2 : 20, runs: 1, run: async () => naive(eng, fit, frame, large ? 2 : 20) },
  ];
}

// ---- study-sized panel
{
  const frame = Frame.fromArrow((await readFile(new URL("../tests/fixtures/reference/cbec_panel.csv", import.meta.url).pathname)).table);
  const fit = feols(eng, frame, FORMULA, { fixefRm: "none" });
  await measure("cbec (study size)", fit, frame, plan(fit, frame, false));
  const bench = new Bench({ iterations: 5, time: 0, warmupIterations: 1, warmupTime: 0 });
  const wfit = feols(eng, frame, FORMULA, { fixefRm: "none", vcov: "cluster:city" });
  let cpu = 0, calls = 0;
  bench.add("wild", () => {
    const c0 = process.cpuUsage();
    wild(eng, wfit, { param: "did", cluster: "city", B: 9999 });
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1e6;
    calls++;
  });
  await bench.run();
  const mean = (bench.tasks[0].result as unknown as { latency: { mean: number } }).latency.mean / 1000;
  const row: Row = {
    panel: "cbec (study size)", rows: wfit.nobs, method: "wild bootstrap, city clusters (G = 196), with CI", draws_per_run: 9999, runs: 5,
    mean_s: +mean.toFixed(4), draws_per_s: rate(9999 / mean), cpu_s: +(cpu / calls).toFixed(4),
  };
  rows.push(row);
  console.log(row);
}

// ---- 1M rows
if (process.env.PLACEBO_BENCH_LARGE !== "0") {
  const t0 = performance.now();
  const sim = simulatePanel({ firms: 128_000 });
  const frame = Frame.fromColumns(sim.columns as Record<string, Float64Array | string[]>);
  console.log(`simulated ${sim.nrows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const fit = feols(eng, frame, FORMULA, { fixefRm: "none", keepData: true });
  await measure("simulated 1M rows", fit, frame, plan(fit, frame, true));
}

const get = (panel: string, m: string) => rows.find((r) => r.panel === panel && r.method === m)?.draws_per_s ?? NaN;
const ratios: Record<string, Record<string, number>> = {};
for (const panel of [...new Set(rows.map((r) => r.panel))]) {
  const fast = get(panel, "fast: basis, direct projection");
  ratios[panel] = {
    fast_over_general: +(fast / get(panel, "general: demean each draw")).toFixed(1),
    fast_over_naive: +(fast / get(panel, "naive: feols per draw")).toFixed(1),
    general_over_naive: +(get(panel, "general: demean each draw") / get(panel, "naive: feols per draw")).toFixed(1),
  };
}
console.table(rows.map(({ panel, method, draws_per_run, mean_s, cpu_s, draws_per_s, setup_s, draw_loop_s }) => ({ panel, method, draws_per_run, mean_s, cpu_s, draws_per_s, setup_s, draw_loop_s })));
console.table(ratios);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/placebo.json", import.meta.url),
  JSON.stringify({
    date: new Date().toISOString(), node: process.version, cores_used: "1 unless the method says threads",
    note: NOTE,
    load_average: (await import("node:os")).loadavg(), rows, ratios,
  }, null, 2),
);
