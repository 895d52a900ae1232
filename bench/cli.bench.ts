// Command-line benchmark (npm run bench:cli), issue 14:
//  1. cold vs warm fit: fresh child processes (bench/cold-child.ts) time the first fit of the
//     process and repeated ones on a 1M-row firm + year panel, with the CLI's V8 setting
//     (--no-liftoff, as bin/hdfe.js) and with V8's defaults (a library user's process);
//  2. the whole command `hdfe feols --data panel.csv ... --json` in fresh processes, against
//     `Rscript` with data.table::fread + fixest::feols on the same file when R is present;
//  3. the low-mobility worker + firm + year panel (bench/lowmob.ts: 200k rows, 3% movers,
//     weights) at fixef.tol 1e-8 with each demeaning algorithm, against fixest when R is
//     present. "Equal accuracy": every fit's coefficient is compared with a 1e-13 CG fit of
//     the same model, in standard errors of that fit.
// Big files go to CLI_BENCH_DIR (default /tmp/hdfe-cli-bench) and are deleted at the end.
// Writes bench/results/cli.json and cli.md. Timings are tinybench latencies (wall clock).
import { Bench } from "tinybench";
import { spawnSync } from "node:child_process";
import { writeFileSync, mkdirSync, rmSync, createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { once } from "node:events";
import { loadEngine } from "../bindings/node.js";
import { feols, type Fit } from "../bindings/estimators/feols.js";
import type { DemeanAlgo } from "../bindings/engine/kernels.js";
import { genPanel, panelCsvChunks, benchFormula } from "./gen.js";
import { lowMobilityPanel, LOWMOB_FORMULA } from "./lowmob.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIR = process.env.CLI_BENCH_DIR ?? "/tmp/hdfe-cli-bench";
const ROWS = Number(process.env.CLI_ROWS ?? 1_000_000);
const LOWMOB_ROWS = Number(process.env.LOWMOB_ROWS ?? 200_000);
const CHILDREN = Number(process.env.COLD_PROCESSES ?? 3);
mkdirSync(DIR, { recursive: true });

const hasR = spawnSync("Rscript", ["-e", "library(fixest); library(data.table)"], { encoding: "utf8" }).status === 0;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const mean = (t: Bench, i: number) => (t.tasks[i].result as unknown as { latency: { mean: number } }).latency.mean / 1000;

// ---- 1. cold vs warm, fresh processes
interface Child { engineS: number; cold: { wall: number; cpu: number }; warm: { wall: number; cpu: number }; sameCoef: boolean }
function child(v8flags: string[]): Child {
  const r = spawnSync(process.execPath, [...v8flags, "--import", "tsx", join(ROOT, "bench/cold-child.ts")], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, COLD_ROWS: String(ROWS) }, maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`cold-child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}
const coldRows: Record<string, unknown>[] = [];
for (const [label, flags] of [["CLI (--no-liftoff)", ["--no-liftoff"]], ["V8 defaults", []]] as const) {
  const runs = Array.from({ length: CHILDREN }, () => child([...flags]));
  const cold = median(runs.map((r) => r.cold.wall)), warm = median(runs.map((r) => r.warm.wall));
  const coldCpu = median(runs.map((r) => r.cold.cpu)), warmCpu = median(runs.map((r) => r.warm.cpu));
  const row = {
    process: label, rows: ROWS, engine_s: +median(runs.map((r) => r.engineS)).toFixed(3),
    cold_s: +cold.toFixed(3), warm_s: +warm.toFixed(3), cold_over_warm: +(cold / warm).toFixed(2),
    cold_cpu_s: +coldCpu.toFixed(3), warm_cpu_s: +warmCpu.toFixed(3), cold_over_warm_cpu: +(coldCpu / warmCpu).toFixed(2),
    same_coef: runs.every((r) => r.sameCoef),
  };
  coldRows.push(row);
  console.log(row);
}

// ---- 2. the whole command line
const csv = join(DIR, `panel-${ROWS}.csv`);
{
  const out = createWriteStream(csv);
  for (const chunk of panelCsvChunks(genPanel({ rows: ROWS, city: false }))) if (!out.write(chunk)) await once(out, "drain");
  out.end();
  await once(out, "finish");
}
const fml = benchFormula(2);
const cliBench = new Bench({ iterations: CHILDREN, time: 0, warmupIterations: 0, warmupTime: 0 });
let cliCoef = NaN, rCoef = NaN;
cliBench.add("hdfe feols (fresh process)", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/hdfe.js"), "feols", "--data", csv, "-f", fml, "--vcov", "cluster:firm", "--fixef-rm", "none", "--json"], {
    cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`hdfe feols failed: ${r.stderr}`);
  cliCoef = JSON.parse(r.stdout).coef.treat;
});
const rScript = join(DIR, "fixest.R");
if (hasR) {
  writeFileSync(rScript, [
    "suppressMessages({library(data.table); library(fixest)})", "setFixest_nthreads(1)", "a <- commandArgs(TRUE)",
    "d <- fread(a[1]); f <- feols(as.formula(a[2]), d, cluster = ~firm)", "cat(coef(f)[['treat']], '\\n')",
  ].join("\n"));
  cliBench.add("Rscript fread + fixest (fresh process)", () => {
    const r = spawnSync("Rscript", [rScript, csv, fml], { encoding: "utf8" });
    rCoef = Number(r.stdout.trim());
  });
}
await cliBench.run();
const cliRow = {
  rows: ROWS, hdfe_s: +mean(cliBench, 0).toFixed(3), fixest_s: hasR ? +mean(cliBench, 1).toFixed(3) : null,
  coef_agree: hasR ? Math.abs(cliCoef - rCoef) < 1e-6 * Math.abs(rCoef) : null,
  note: hasR ? "" : "R fixest not measured: Rscript is not installed here",
};
console.log(cliRow);

// ---- 3. low-mobility worker + firm + year panel
const eng = await loadEngine();
const lm = lowMobilityPanel({ rows: LOWMOB_ROWS });
const lmFit = (algo: DemeanAlgo, tol: number): Fit =>
  feols(eng, lm, LOWMOB_FORMULA, { weights: "w", fixefAlgo: algo, fixefTol: tol, fixefRm: "none", fixefIter: 100_000, vcov: "iid", keepData: false });
const ref = lmFit("cg", 1e-13);
const lmBench = new Bench({ iterations: 2, time: 0, warmupIterations: 0, warmupTime: 0 });
const algos: DemeanAlgo[] = ["auto", "map", "cg"];
// one untimed fit per algorithm first: the reference fit above ran only CG's kernels, so
// without this the first algorithm timed (auto) paid the compilation and first tier of the
// projection kernels (this process runs without --no-liftoff), which made auto look slower
// than CG (bench/results/lowmob-algo.md)
for (const algo of algos) lmFit(algo, 1e-8);
const lmFits: Record<string, Fit> = {};
for (const algo of algos) lmBench.add(`hdfe ${algo} 1e-8`, () => void (lmFits[algo] = lmFit(algo, 1e-8)));
let lmR: { s: number; coef: number } | null = null;
if (hasR) {
  const f = join(DIR, "lowmob.csv");
  writeFileSync(f, [lm.names.join(","), ...Array.from({ length: lm.nrows }, (_, i) => lm.names.map((nm) => String(lm.numeric(nm)[i])).join(","))].join("\n"));
  const s = join(DIR, "lowmob.R");
  writeFileSync(s, [
    "suppressMessages({library(data.table); library(fixest)})", "setFixest_nthreads(1)", "d <- fread(commandArgs(TRUE)[1])",
    "t <- system.time(f <- feols(y ~ x | worker + firm + year, d, weights = ~w, fixef.tol = 1e-8, fixef.iter = 100000))[['elapsed']]",
    "cat(t, coef(f)[['x']], '\\n')",
  ].join("\n"));
  const out = spawnSync("Rscript", [s, f], { encoding: "utf8" }).stdout.trim().split(/\s+/).map(Number);
  lmR = { s: out[0], coef: out[1] };
}
await lmBench.run();
const lmRows = algos.map((algo, i) => {
  const f = lmFits[algo];
  return {
    model: `${LOWMOB_FORMULA}, weights, ${LOWMOB_ROWS} rows`, algo, tol: 1e-8, seconds: +mean(lmBench, i).toFixed(3),
    map_iterations: f.demean!.mapIterations, cg_iterations: f.demean!.cgIterations, converged: f.converged,
    coef_minus_ref_in_se: +((f.coef.x - ref.coef.x) / ref.se.x).toExponential(2),
  };
});
if (lmR) {
  lmRows.push({
    model: lmRows[0].model, algo: "R fixest (feols only, in R)" as DemeanAlgo, tol: 1e-8, seconds: lmR.s, map_iterations: NaN, cg_iterations: NaN,
    converged: true, coef_minus_ref_in_se: +((lmR.coef - ref.coef.x) / ref.se.x).toExponential(2),
  });
}
console.table(lmRows);

rmSync(DIR, { recursive: true, force: true });
const result = {
  date: new Date().toISOString(), node: process.version, load: (await import("node:os")).loadavg(),
  coldWarm: coldRows, commandLine: cliRow, lowMobility: { reference: { algo: "cg", tol: 1e-13, coef: ref.coef.x, se: ref.se.x }, rows: lmRows, fixest: hasR ? "measured" : "not measured: Rscript is not installed here" },
};
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/cli.json"), JSON.stringify(result, null, 2) + "\n");
const md = [
  "# bench:cli", "", `${result.date}, Node ${process.version}, load average ${result.load.map((l) => l.toFixed(1)).join(" / ")} (shared 2-core machine)`, "",
  "## Cold (first fit of a fresh process) vs warm (repeated), wall and CPU seconds", "",
  "| process | rows | engine load | cold | warm | cold / warm | cold CPU | warm CPU | cold / warm CPU |", "|---|---|---|---|---|---|---|---|---|",
  ...coldRows.map((r) => `| ${r.process} | ${r.rows} | ${r.engine_s} | ${r.cold_s} | ${r.warm_s} | ${r.cold_over_warm} | ${r.cold_cpu_s} | ${r.warm_cpu_s} | ${r.cold_over_warm_cpu} |`),
  "", "## Whole command (read CSV + fit + print), fresh processes", "",
  `| rows | hdfe feols | Rscript fread + fixest |`, "|---|---|---|",
  `| ${cliRow.rows} | ${cliRow.hdfe_s} s | ${cliRow.fixest_s === null ? cliRow.note : `${cliRow.fixest_s} s`} |`,
  "", `## Low-mobility panel at fixef.tol 1e-8 (equal accuracy: coefficient minus that of a 1e-13 CG fit, in SEs)`, "",
  "| algo | seconds | MAP steps | CG iterations | converged | coef - ref (SE) |", "|---|---|---|---|---|---|",
  ...lmRows.map((r) => `| ${r.algo} | ${r.seconds} | ${r.map_iterations} | ${r.cg_iterations} | ${r.converged} | ${r.coef_minus_ref_in_se} |`),
  hasR ? "" : "\nR fixest: not measured (Rscript is not installed here).", "",
].join("\n");
writeFileSync(join(ROOT, "bench/results/cli.md"), md);
console.log(md);
