// CSV reader throughput (tinybench), streamed in 8 MiB chunks, on two generated 1M-row files:
//   short: ids, years and numbers with 4-8 digits (~42 MB)
//   long:  the same with full-precision doubles (shortest round-trip, 16-17 digits, as
//          pandas and JavaScript write them; ~80 MB), read by the exact double-double path
// with, in the same run, a naive reader as the baseline (TextDecoder, split into lines and
// fields, Number() per field: no quoting, no type inference, no missing values).
// Writes bench/results/csv.json.
import { Bench } from "tinybench";
import { writeFileSync } from "node:fs";
import { createCsvReader } from "../bindings/io/csv.js";

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
let seed = 12345;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
function file(long: boolean): Uint8Array {
  const parts: string[] = ["id,year,y,x1,x2,fe\n"];
  for (let i = 0; i < rows; i++) {
    const y = rnd() * 100 - 50, x1 = rnd() * 10, x2 = rnd() - 0.5;
    parts.push(
      long
        ? `${i % 5000},${2000 + (i % 20)},${y},${x1},${x2},${Math.floor(rnd() * 300)}\n`
        : `${i % 5000},${2000 + (i % 20)},${y.toFixed(6)},${x1.toFixed(4)},${x2.toPrecision(8)},${Math.floor(rnd() * 300)}\n`,
    );
  }
  return new TextEncoder().encode(parts.join(""));
}

const CHUNK = 8 << 20;
const files = { short: file(false), long: file(true) };
const bench = new Bench({ iterations: 5, time: 0, warmupIterations: 1, warmupTime: 0 });
let sink = 0;
for (const [name, bytes] of Object.entries(files)) {
  bench.add(`hdfe ${name}`, () => {
    const r = createCsvReader();
    for (let o = 0; o < bytes.length; o += CHUNK) r.push(bytes.subarray(o, Math.min(bytes.length, o + CHUNK)));
    sink += r.finish().table.numRows;
  });
  bench.add(`naive ${name}`, () => {
    const lines = new TextDecoder().decode(bytes).split("\n");
    for (let i = 1; i < lines.length; i++) {
      if (!lines[i]) continue;
      for (const f of lines[i].split(",")) sink += Number(f);
    }
  });
}
await bench.run();
const secs = (i: number) => (bench.tasks[i].result as { latency: { mean: number } }).latency.mean / 1000;
const out = Object.entries(files).map(([name, bytes], j) => {
  const h = secs(2 * j), nv = secs(2 * j + 1);
  const mb = bytes.length / 1e6;
  return {
    file: name, rows, mb: +mb.toFixed(1), seconds: +h.toFixed(3), mb_per_s: +(mb / h).toFixed(1),
    naive_seconds: +nv.toFixed(3), naive_mb_per_s: +(mb / nv).toFixed(1), naive_over_hdfe: +(nv / h).toFixed(2),
  };
});
console.table(out);
if (sink === 42) console.log("");
writeFileSync(new URL("./results/csv.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, files: out }, null, 2) + "\n");
