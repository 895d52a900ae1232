// CSV reader throughput (tinybench): a generated 1M-row numeric CSV (~42 MB) streamed in
// 8 MiB chunks. Writes bench/results/csv.json.
import { Bench } from "tinybench";
import { writeFileSync } from "node:fs";
import { createCsvReader } from "../bindings/io/csv.js";

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const parts: string[] = ["id,year,y,x1,x2,fe\n"];
let seed = 12345;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
for (let i = 0; i < rows; i++) {
  parts.push(`${i % 5000},${2000 + (i % 20)},${(rnd() * 100 - 50).toFixed(6)},${(rnd() * 10).toFixed(4)},${(rnd() - 0.5).toPrecision(8)},${Math.floor(rnd() * 300)}\n`);
}
const bytes = new TextEncoder().encode(parts.join(""));
const CHUNK = 8 << 20;
const bench = new Bench({ iterations: 5, time: 0, warmupIterations: 1, warmupTime: 0 });
bench.add(`csv ${rows} rows`, () => {
  const r = createCsvReader();
  for (let o = 0; o < bytes.length; o += CHUNK) r.push(bytes.subarray(o, Math.min(bytes.length, o + CHUNK)));
  r.finish();
});
await bench.run();
const mean = (bench.tasks[0].result as { latency: { mean: number } }).latency.mean / 1000;
const row = { rows, mb: +(bytes.length / 1e6).toFixed(1), seconds: +mean.toFixed(3), mb_per_s: +(bytes.length / 1e6 / mean).toFixed(1) };
console.table([row]);
writeFileSync(new URL("./results/csv.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, ...row }, null, 2));
