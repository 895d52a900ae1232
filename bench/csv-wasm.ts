// The WASM CSV fast path (issue 14, bindings/platform/csv-wasm.ts) against the path it replaces,
// on the whole command: `hdfe feols --data FILE -f "y ~ treat + x1..x8 | firm + year" --vcov
// cluster:firm --json` in fresh processes with --reader auto, the fast path on (the default)
// and off (HDFE_CSV_WASM=0: DuckDB's placed read), alternating, in one run. The read phase's
// seconds and MB/s are the command's own stderr line. The machine is shared: every figure
// carries the 1-minute load average when it was taken; only the ratios within one run mean
// anything. Env: CSVWASM_FILES (default /tmp/p14/p1m2.csv,/tmp/p14/p5m2.csv: files of
// bench/gen.ts's shape), CSVWASM_REPS (2). Writes bench/results/csv-wasm.json and .md.
import { spawnSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FILES = (process.env.CSVWASM_FILES ?? "/tmp/p14/p1m2.csv,/tmp/p14/p5m2.csv").split(",");
const REPS = Number(process.env.CSVWASM_REPS ?? 2);
const FML = "y ~ treat + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 | firm + year";
const load1 = () => +loadavg()[0].toFixed(1);

interface Run { wasm: boolean; s: number; load: number; read_s: number | null; read_mbs: number | null; reader: string; coef: number }

function run(file: string, wasm: boolean): Run {
  const load = load1();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/hdfe.js"), "feols", "--data", file, "-f", FML, "--vcov", "cluster:firm", "--json"], {
    cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, HDFE_CSV_WASM: wasm ? "1" : "0" },
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`hdfe feols failed: ${r.stderr}`);
  const m = /read [\d,]+ rows, \d+ columns from \d+ MB in ([\d.]+) s \((\d+) MB\/s, ([^);]+)/.exec(r.stderr);
  return { wasm, s: +s.toFixed(2), load, read_s: m ? +m[1] : null, read_mbs: m ? +m[2] : null, reader: m ? m[3] : "?", coef: JSON.parse(r.stdout).coef.treat };
}

const out: { file: string; mb: number; runs: Run[] }[] = [];
for (const file of FILES) {
  const runs: Run[] = [];
  for (let k = 0; k < REPS; k++) for (const wasm of [true, false]) runs.push(run(file, wasm)), console.log(file, runs[runs.length - 1]);
  if (new Set(runs.map((x) => x.coef)).size !== 1) throw new Error(`the fits differ: ${JSON.stringify(runs)}`);
  out.push({ file, mb: +(statSync(file).size / 1e6).toFixed(0), runs });
}
const result = { date: new Date().toISOString(), node: process.version, formula: FML, loadEnd: loadavg(), files: out };
writeFileSync(join(ROOT, "bench/results/csv-wasm.json"), JSON.stringify(result, null, 2) + "\n");
const best = (rs: Run[]) => rs.reduce((a, b) => (b.s < a.s ? b : a));
const md = [
  "# bench/csv-wasm: `hdfe feols --data FILE.csv` with the WASM CSV fast path on and off", "",
  `${result.date}, Node ${process.version}, shared 2-core machine (each figure with the 1-minute load average when it was taken); ` +
    "on and off alternate in one run, so only their ratios mean anything. Off = HDFE_CSV_WASM=0: DuckDB's placed read. The same coefficient every run.", "",
  "| file | MB | run | fast path: command (load) | read, MB/s | off: command (load) | read, MB/s | off / fast path |",
  "|---|---|---|---|---|---|---|---|",
  ...out.flatMap((f) => {
    const on = f.runs.filter((r) => r.wasm), off = f.runs.filter((r) => !r.wasm);
    return on.map((a, k) => {
      const b = off[k];
      return `| ${f.file.split("/").pop()} | ${f.mb} | ${k + 1} | ${a.s} s (${a.load}) | ${a.read_s} s, ${a.read_mbs} (${a.reader}) | ${b.s} s (${b.load}) | ${b.read_s} s, ${b.read_mbs} (${b.reader}) | ${(b.s / a.s).toFixed(2)} |`;
    }).concat([`| ${f.file.split("/").pop()} | ${f.mb} | best | ${best(on).s} s | | ${best(off).s} s | | ${(best(off).s / best(on).s).toFixed(2)} |`]);
  }),
  "",
];
writeFileSync(join(ROOT, "bench/results/csv-wasm.md"), md.join("\n"));
