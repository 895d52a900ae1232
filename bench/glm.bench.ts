// GLM benchmark (node --import tsx bench/glm.bench.ts): fepois of a count outcome on
// treat + 3 controls with firm + year (2 FE) and firm + year + city (3 FE) on generated panels
// (bindings/sim/bench-panel.ts genPanel; counts drawn from Poisson(exp(0.3 index)), fixed seed),
// against a plain TypeScript IRLS in the same run (bindings/ref/glm.ts refFepois: alternating
// projections from scratch at every IRLS step, no acceleration, no warm start), and R fixest
// (fepois, one thread, in a child process on the same CSV) when Rscript + fixest are present.
// Writes bench/results/glm.json; bench/results/glm.md quotes a run.
//   GLM_BENCH_ROWS=1000000,5000000  sizes (default 1000000)
//   GLM_BENCH_TS_MAX=1000000        largest size the TypeScript baseline runs at with 2 FE
//   GLM_BENCH_TS3_MAX=0             the same with 3 FE (default: not run; plain projections on the
//                                   nearly nested firm + city need thousands of sweeps)
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { fepois } from "../bindings/estimators/glm.js";
import { Frame } from "../bindings/core/frame.js";
import { Rng } from "../bindings/base/rng.js";
import { refFepois } from "../bindings/ref/glm.js";
import { genPanel, panelCsvChunks } from "./gen.js";

const sizes = (process.env.GLM_BENCH_ROWS ?? "1000000").split(",").map(Number);
const tsMax = Number(process.env.GLM_BENCH_TS_MAX ?? 1_000_000);
const ts3Max = Number(process.env.GLM_BENCH_TS3_MAX ?? 0);
const eng = await loadEngine();
const X = ["treat", "x1", "x2", "x3"];
const hasR = spawnSync("Rscript", ["-e", "library(fixest)"], { encoding: "utf8" }).status === 0;
const rows: Record<string, unknown>[] = [];
const mean = (t: { result?: unknown }) => (t.result as { latency: { mean: number } }).latency.mean / 1000;

function countPanel(n: number): Frame {
  const g = genPanel({ rows: n, city: true });
  const rng = new Rng(2026);
  const y = g.numeric("y");
  const c = Float64Array.from(y, (v) => rng.poisson(Math.exp(0.3 * v)));
  return Frame.fromColumns({ c, firm: g.numeric("firm"), year: g.numeric("year"), city: g.numeric("city"), ...Object.fromEntries(X.map((x) => [x, g.numeric(x)])) });
}

function fixestSeconds(frame: Frame, formula: string): number | null {
  if (!hasR) return null;
  const dir = mkdtempSync(join(tmpdir(), "hdfe-glm-bench-"));
  const csv = join(dir, "panel.csv");
  writeFileSync(csv, [...panelCsvChunks(frame)].join(""));
  const r = spawnSync("Rscript", ["-e", `library(fixest); setFixest_nthreads(1); d <- data.table::fread("${csv}"); ` +
    `t <- system.time(fepois(${formula}, d, vcov = ~firm))[["elapsed"]]; cat(t)`], { encoding: "utf8" });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

for (const n of sizes) {
  const frame = countPanel(n);
  for (const fe of [2, 3] as const) {
    const feVars = fe === 2 ? ["firm", "year"] : ["firm", "year", "city"];
    const formula = `c ~ ${X.join(" + ")} | ${feVars.join(" + ")}`;
    const coef: Record<string, number> = {};
    let info = { irls: 0, demean: 0 };
    const bench = new Bench({ iterations: n <= 200_000 ? 3 : 1, time: 0, warmupIterations: 0, warmupTime: 0 });
    bench.add("hdfe fepois (WASM)", () => {
      const fit = fepois(eng, frame, formula, { vcov: "cluster:firm" });
      coef.wasm = fit.coef.treat;
      info = { irls: fit.iterations, demean: fit.demean?.iterations ?? 0 };
    });
    const runTs = n <= (fe === 2 ? tsMax : ts3Max);
    if (runTs) {
      const fes = feVars.map((v) => {
        const cc = frame.codes(v);
        return { codes: cc.codes, levels: cc.levels.length, type: 0 as const };
      });
      bench.add("plain TypeScript IRLS", () => {
        const r = refFepois(frame.numeric("c"), X.map((x) => frame.numeric(x)), fes, 1e-10, 100, 1e-10);
        coef.ts = r.beta[0];
      });
    }
    await bench.run();
    const [w, t] = bench.tasks.map(mean);
    const rs = fixestSeconds(frame, formula);
    const row = {
      rows: n, fe, hdfe_s: +w.toFixed(3), ts_s: runTs ? +t.toFixed(3) : null, ts_over_hdfe: runTs ? +(t / w).toFixed(2) : null,
      fixest_s: rs, fixest_over_hdfe: rs === null ? null : +(rs / w).toFixed(2),
      irls_iterations: info.irls, demean_sweeps: info.demean,
      coef_treat: coef.wasm, coef_rel_diff_ts: runTs ? Math.abs(coef.ts - coef.wasm) / Math.abs(coef.wasm) : null,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/glm.json", import.meta.url), JSON.stringify({
  when: new Date().toISOString(), node: process.version, fixest: hasR ? "measured" : "not measured: Rscript with fixest is not installed here", rows,
}, null, 2) + "\n");
