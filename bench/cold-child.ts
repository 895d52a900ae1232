// Child process of bench/cli.bench.ts: in a fresh process, generate the panel (not timed),
// load the engine, then time the first fit (cold) and `WARM_RUNS` more (warm), each on a
// fresh Frame over the same columns so that id factorisation is inside every timing.
// Prints one JSON line: engine load, cold and warm seconds (wall and CPU of the process).
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/estimators/feols.js";
import { Frame } from "../bindings/core/frame.js";
import { genPanel, benchFormula } from "./gen.js";

const rows = Number(process.env.COLD_ROWS ?? 1_000_000);
const warmRuns = Number(process.env.WARM_RUNS ?? 3);
const g = genPanel({ rows, city: false });
const cols: Record<string, Float64Array> = {};
for (const nm of g.names) cols[nm] = g.numeric(nm);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const t0 = performance.now();
const eng = await loadEngine();
const engineS = (performance.now() - t0) / 1000;
const fits: { wall: number; cpu: number; coef: number }[] = [];
for (let r = 0; r <= warmRuns; r++) {
  const c0 = cpu();
  const a = performance.now();
  const fit = feols(eng, Frame.fromColumns(cols), benchFormula(2), { vcov: "cluster:firm", fixefRm: "none", keepData: false });
  fits.push({ wall: (performance.now() - a) / 1000, cpu: cpu() - c0, coef: fit.coef.treat });
}
const warm = fits.slice(1);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
process.stdout.write(JSON.stringify({
  rows, engineS, cold: fits[0], warm: { wall: median(warm.map((f) => f.wall)), cpu: median(warm.map((f) => f.cpu)) },
  sameCoef: fits.every((f) => f.coef === fits[0].coef), wasmBytes: eng.memoryBytes,
}) + "\n");
