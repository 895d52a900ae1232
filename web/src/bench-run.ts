// The page's benchmark (the same case as `hdfe bench`, cli/commands/bench.ts), run in the worker:
// the panel from bindings/sim/bench-panel.ts genPanel, then feols
//   y ~ treat + x1 + ... + x8 | firm + year [+ city], vcov = cluster:firm, fixefRm = "none"
// timed `repetitions` times after `warmup` untimed runs; the median is reported.
import { OptionError, type Engine } from "../../bindings/browser.js";
import { genPanel, benchFormula, benchOptions, timeFeols, FIXEST_PUBLISHED } from "../../bindings/sim/bench-panel.js";
import type { BenchResult, BenchSpec } from "../../bindings/platform/worker-protocol.js";

export { FIXEST_PUBLISHED, benchFormula };

export const BENCH_MAX_ROWS = 5_000_000;

export function checkBench(b: BenchSpec): void {
  if (!(Number.isInteger(b.rows) && b.rows >= 100 && b.rows <= BENCH_MAX_ROWS)) {
    throw new OptionError(`rows must be a whole number from 100 to ${BENCH_MAX_ROWS.toLocaleString("en-US")}, got ${b.rows}`);
  }
  if (b.fe !== 2 && b.fe !== 3) throw new OptionError(`FE count must be 2 or 3, got ${b.fe}`);
  if (!(Number.isInteger(b.repetitions) && b.repetitions >= 1 && b.repetitions <= 100)) {
    throw new OptionError(`repetitions must be a whole number from 1 to 100, got ${b.repetitions}`);
  }
  if (!(Number.isInteger(b.warmup) && b.warmup >= 0 && b.warmup <= 10)) throw new OptionError(`warm-up runs must be 0 to 10, got ${b.warmup}`);
  if (b.storage !== undefined && b.storage !== "f64" && b.storage !== "f32") throw new OptionError(`storage must be f64 or f32, got ${b.storage}`);
}

export function runBench(eng: Engine, b: BenchSpec, progress: (done: number, total: number, what: string) => void): BenchResult {
  checkBench(b);
  const total = b.warmup + b.repetitions;
  progress(0, total, `generating ${b.rows.toLocaleString("en-US")} rows`);
  const g0 = performance.now();
  let frame: ReturnType<typeof genPanel> | null = genPanel({ rows: b.rows, city: b.fe === 3 });
  const genSeconds = (performance.now() - g0) / 1000;
  const formula = benchFormula(b.fe);
  const f32 = b.storage === "f32";
  const { seconds, times, last } = timeFeols(eng, frame, formula, benchOptions(b.storage), b.warmup, b.repetitions, (done, what) =>
    progress(done, total, what),
  );
  frame = null;
  progress(total, total, "done");
  return {
    ...b,
    storage: f32 ? "f32" : "f64",
    formula,
    seconds,
    times,
    rowsPerSecond: b.rows / seconds,
    mapIterations: last.demean?.mapIterations ?? 0,
    cgIterations: last.demean?.cgIterations ?? 0,
    wasmMemoryBytes: eng.memoryBytes,
    wasmPeakBytes: eng.peak,
    coefTreat: last.coef.treat,
    genSeconds,
    fixestPublished: FIXEST_PUBLISHED[`${b.rows}x${b.fe}`] ?? null,
  };
}
