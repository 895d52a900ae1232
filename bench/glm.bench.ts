// GLM benchmark (node --import tsx bench/glm.bench.ts): fepois of a count outcome and logit of
// a binary one on treat + 3 controls with firm + year (2 FE) and firm + year + city (3 FE) on
// generated panels (bindings/sim/bench-panel.ts genPanel; counts drawn from Poisson(exp(0.3
// index)), binary outcomes from logistic(0.3 (index - mean)), fixed seed). In one run, per model:
//   hdfe with the IRLS per-step passes in WASM (assembly/glm.ts, the default),
//   hdfe with the same loop and the per-step passes in plain TypeScript (irlsPasses: "ts", the
//   path before the kernels), and optionally
//   a plain TypeScript IRLS (bindings/ref/glm.ts refFepois: alternating projections from
//   scratch at every IRLS step, no acceleration, no warm start; Poisson with 2 FE only),
// and R fixest (one thread, in a child process on the same CSV) when Rscript + fixest are present.
// Merges its rows into bench/results/glm.json (by family, rows, FE); bench/results/glm.md quotes runs.
//   GLM_BENCH_ROWS=1000000,5000000  sizes (default 1000000; run one size per process for its peak RSS)
//   GLM_BENCH_FAMILIES=poisson,logit families (default both)
//   GLM_BENCH_FE=2,3                FE counts (default both)
//   GLM_BENCH_TS_PASSES=1           also time the TypeScript passes (default 1)
//   GLM_BENCH_TS_MAX=0              largest size the plain TypeScript IRLS runs at (Poisson, 2 FE; default 0: not run)
//   GLM_BENCH_BEFORE=dir            also time feglm of an exported earlier checkout (git archive <commit> | tar -x -C dir,
//                                   its node_modules and build/ in place), in this same process, right after each
//                                   WASM-passes fit: a before / after ratio under one load
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync, mkdtempSync, readFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { feglm, type GlmFit } from "../bindings/estimators/glm.js";
import { Frame } from "../bindings/core/frame.js";
import { Rng } from "../bindings/base/rng.js";
import { refFepois } from "../bindings/ref/glm.js";
import { genPanel, panelCsvChunks } from "./gen.js";

const sizes = (process.env.GLM_BENCH_ROWS ?? "1000000").split(",").map(Number);
const families = (process.env.GLM_BENCH_FAMILIES ?? "poisson,logit").split(",") as ("poisson" | "logit")[];
const feCounts = (process.env.GLM_BENCH_FE ?? "2,3").split(",").map(Number) as (2 | 3)[];
const tsPasses = (process.env.GLM_BENCH_TS_PASSES ?? "1") !== "0";
const tsMax = Number(process.env.GLM_BENCH_TS_MAX ?? 0);
const eng = await loadEngine();
const beforeDir = process.env.GLM_BENCH_BEFORE;
const before = beforeDir
  ? {
    eng: await ((await import(join(beforeDir, "bindings/node.ts"))).loadEngine as typeof loadEngine)(),
    feglm: (await import(join(beforeDir, "bindings/estimators/glm.ts"))).feglm as typeof feglm,
    // its own Frame class (feglm checks `instanceof Frame`), over the same column arrays
    Frame: (await import(join(beforeDir, "bindings/core/frame.ts"))).Frame as typeof Frame,
  }
  : null;
const X = ["treat", "x1", "x2", "x3"];
const hasR = spawnSync("Rscript", ["-e", "library(fixest)"], { encoding: "utf8" }).status === 0;
const rows: Record<string, unknown>[] = [];
const mean = (t: { result?: unknown }) => (t.result as { latency: { mean: number } }).latency.mean / 1000;

function glmPanel(n: number): Record<string, Float64Array> {
  const g = genPanel({ rows: n, city: true });
  const rng = new Rng(2026);
  const y = g.numeric("y");
  const c = Float64Array.from(y, (v) => rng.poisson(Math.exp(0.3 * v)));
  let my = 0;
  for (let i = 0; i < n; i++) my += y[i] / n;
  const b = Float64Array.from(y, (v) => (rng.uniform() < 1 / (1 + Math.exp(-0.3 * (v - my))) ? 1 : 0));
  return {
    c, b, firm: g.numeric("firm"), year: g.numeric("year"), city: g.numeric("city"), ...Object.fromEntries(X.map((x) => [x, g.numeric(x)])),
  };
}

function fixestSeconds(frame: Frame, formula: string, family: string): number | null {
  if (!hasR) return null;
  const dir = mkdtempSync(join(tmpdir(), "hdfe-glm-bench-"));
  const csv = join(dir, "panel.csv");
  writeFileSync(csv, [...panelCsvChunks(frame)].join(""));
  const r = spawnSync("Rscript", ["-e", `library(fixest); setFixest_nthreads(1); d <- data.table::fread("${csv}"); ` +
    `t <- system.time(feglm(${formula}, d, family = ${family === "poisson" ? "poisson()" : "binomial()"}, vcov = ~firm))[["elapsed"]]; cat(t)`], { encoding: "utf8" });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

for (const n of sizes) {
  const cols = glmPanel(n);
  const frame = Frame.fromColumns(cols);
  const beforeFrame = before ? before.Frame.fromColumns(cols) : null;
  for (const family of families) {
    for (const fe of feCounts) {
      const feVars = fe === 2 ? ["firm", "year"] : ["firm", "year", "city"];
      const formula = `${family === "poisson" ? "c" : "b"} ~ ${X.join(" + ")} | ${feVars.join(" + ")}`;
      const fits: Record<string, GlmFit> = {};
      let refBeta = NaN;
      const bench = new Bench({ iterations: n <= 200_000 ? 3 : 1, time: 0, warmupIterations: 0, warmupTime: 0 });
      const fit = (passes: "wasm" | "ts") => () => {
        fits[passes] = feglm(eng, frame, formula, { family, vcov: "cluster:firm", irlsPasses: passes });
      };
      bench.add("hdfe, WASM passes", fit("wasm"));
      if (before) {
        bench.add("hdfe before (GLM_BENCH_BEFORE)", () => {
          fits.before = before.feglm(before.eng, beforeFrame!, formula, { family, vcov: "cluster:firm" }) as GlmFit;
        });
      }
      if (tsPasses) bench.add("hdfe, TypeScript passes", fit("ts"));
      const runRef = family === "poisson" && fe === 2 && n <= tsMax;
      if (runRef) {
        const fes = feVars.map((v) => {
          const cc = frame.codes(v);
          return { codes: cc.codes, levels: cc.levels.length, type: 0 as const };
        });
        bench.add("plain TypeScript IRLS", () => {
          refBeta = refFepois(frame.numeric("c"), X.map((x) => frame.numeric(x)), fes, 1e-10, 100, 1e-10).beta[0];
        });
      }
      await bench.run();
      const times = bench.tasks.map(mean);
      const w = times[0];
      const b = before ? times[1] : NaN;
      const [t, r] = times.slice(before ? 2 : 1);
      const rs = fixestSeconds(frame, formula, family);
      const wf = fits.wasm;
      const relDiff = (v: number) => Math.abs(v - wf.coef.treat) / Math.abs(wf.coef.treat);
      const row = {
        family, rows: n, nobs: wf.nobs, fe, load: loadavg().map((v) => +v.toFixed(1)), wasm_s: +w.toFixed(3),
        ts_passes_s: tsPasses ? +t.toFixed(3) : null, ts_passes_over_wasm: tsPasses ? +(t / w).toFixed(2) : null,
        ref_ts_s: runRef ? +(tsPasses ? r : t).toFixed(3) : null,
        fixest_s: rs, fixest_over_hdfe: rs === null ? null : +(rs / w).toFixed(2),
        before_s: before ? +b.toFixed(3) : null, before_over_after: before ? +(b / w).toFixed(2) : null,
        coef_rel_diff_before: before ? relDiff(fits.before.coef.treat) : null,
        se_rel_diff_before: before ? Math.abs(fits.before.se.treat - wf.se.treat) / wf.se.treat : null,
        wpr2_diff_before: before ? Math.abs((fits.before.stats.wpr2 ?? 0) - (wf.stats.wpr2 ?? 0)) : null,
        wasm_arena_peak_mib: +(eng.peak / 2 ** 20).toFixed(1),
        // the process's peak resident set so far (generation, every fit of this and earlier rows)
        peak_rss_mib: +(process.resourceUsage().maxRSS / 1024).toFixed(0),
        irls_iterations: wf.iterations, demean_sweeps: wf.demean?.iterations ?? 0, coef_treat: wf.coef.treat,
        coef_rel_diff_ts_passes: tsPasses ? relDiff(fits.ts.coef.treat) : null, coef_rel_diff_ref: runRef ? relDiff(refBeta) : null,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const out = new URL("./results/glm.json", import.meta.url);
const key = (r: Record<string, unknown>) => `${r.family ?? "poisson"} ${r.rows} ${r.fe}`;
const old = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")).rows as Record<string, unknown>[]) : [];
const when = new Date().toISOString();
const merged = [...old.filter((r) => r.when !== undefined && !rows.some((x) => key(x) === key(r))), ...rows.map((r) => ({ ...r, when }))];
writeFileSync(out, JSON.stringify({
  node: process.version, fixest: hasR ? "measured" : "not measured: Rscript with fixest is not installed here", rows: merged,
}, null, 2) + "\n");
