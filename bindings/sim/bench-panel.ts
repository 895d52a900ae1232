// Generated panels for the benchmarks (bench/, `hdfe bench`, the page's benchmark): n rows of a firm-year panel (10 years per firm),
// optional third FE (city, ~300 levels, firms mostly stay), a treatment and 8 controls.
// Memory: 12 float64 columns (13 with city) and nothing else of size n, so 96-104 bytes
// per row; the columns go into the Frame as they are (no copy).
import { Frame } from "../core/frame.js";
import { feols, type Fit, type FeolsOptions } from "../estimators/feols.js";
import type { Engine } from "../engine/wasm.js";
import { xorshift32 } from "../base/rng.js";

export interface GenOptions {
  rows: number;
  years?: number;
  cities?: number;
  seed?: number;
  /** include the city column (default true); the draws, and so every other column, are the same either way */
  city?: boolean;
}

export function genPanel(o: GenOptions): Frame {
  const n = o.rows, years = o.years ?? 10, cities = o.cities ?? 300;
  const rnd = xorshift32(o.seed ?? 42);
  const firms = Math.ceil(n / years);
  const withCity = o.city ?? true;
  const firm = new Float64Array(n), year = new Float64Array(n), city = withCity ? new Float64Array(n) : null;
  const treat = new Float64Array(n), y = new Float64Array(n);
  const X = Array.from({ length: 8 }, () => new Float64Array(n));
  const fa = Float64Array.from({ length: firms }, () => rnd() * 2 - 1);
  const fc = Int32Array.from({ length: firms }, () => Math.floor(rnd() * cities));
  const adopt = Int32Array.from({ length: cities }, () => (rnd() < 0.6 ? 2014 + Math.floor(rnd() * 6) : 9999));
  const norm = () => {
    let s = 0;
    for (let j = 0; j < 6; j++) s += rnd();
    return (s - 3) * 1.41;
  };
  for (let i = 0; i < n; i++) {
    const f = Math.floor(i / years), t = 2011 + (i % years);
    firm[i] = f;
    year[i] = t;
    const c = rnd() < 0.02 ? Math.floor(rnd() * cities) : fc[f];
    if (city) city[i] = c;
    treat[i] = t >= adopt[c] ? 1 : 0;
    let v = fa[f] + 0.05 * (t - 2011) + 0.25 * treat[i];
    for (let j = 0; j < 8; j++) {
      const x = norm() + 0.3 * fa[f];
      X[j][i] = x;
      v += 0.1 * (j + 1) * x * 0.1;
    }
    y[i] = v + norm();
  }
  const cols: Record<string, Float64Array> = { y, treat, firm, year };
  if (city) cols.city = city;
  X.forEach((c, j) => (cols[`x${j + 1}`] = c));
  return Frame.fromColumns(cols);
}

export const CONTROLS = Array.from({ length: 8 }, (_, j) => `x${j + 1}`);

/**
 * The panel as CSV text, in chunks of about `rowsPerChunk` rows (numbers as String(v):
 * the shortest text that reads back to the same double).
 */
export function* panelCsvChunks(frame: Frame, rowsPerChunk = 50_000): Generator<string> {
  const names = frame.names;
  const cols = names.map((nm) => frame.numeric(nm));
  yield names.join(",") + "\n";
  for (let s = 0; s < frame.nrows; s += rowsPerChunk) {
    const e = Math.min(frame.nrows, s + rowsPerChunk);
    const lines: string[] = [];
    for (let i = s; i < e; i++) lines.push(cols.map((c) => String(c[i])).join(","));
    yield lines.join("\n") + "\n";
  }
}

/** R fixest 0.12.2, single-threaded, on a 2-core machine (seconds), as published in the issue: "<rows>x<FE>". */
export const FIXEST_PUBLISHED: Record<string, number> = {
  "15000x2": 0.019,
  "1000000x2": 0.57,
  "1000000x3": 2.57,
  "5000000x2": 5.7,
  "5000000x3": 16.9,
};

/** The benchmark model: y ~ treat + x1 + ... + x8 | firm + year [+ city]. */
export function benchFormula(fe: 2 | 3): string {
  return `y ~ treat + ${CONTROLS.join(" + ")} | firm + year${fe === 3 ? " + city" : ""}`;
}

/**
 * Its options: firm-clustered, singletons kept (as fixest, for the comparison); float64 fits
 * do not keep the demeaned regressors (a copy nothing here uses).
 */
export function benchOptions(storage: "f64" | "f32" = "f64", threads = 1): FeolsOptions {
  return { vcov: "cluster:firm", fixefRm: "none", threads, storage, keepData: storage === "f32" ? undefined : false };
}

/**
 * Time feols on one panel: `warmup` untimed runs, then `runs` timed ones. `seconds` is the
 * upper median (the middle run, the later of the two middle ones for an even count);
 * `times` are in run order. `onRun(done, what)` is called before each run. Each run fits a
 * fresh Frame over the same columns: the id factorisation is timed.
 */
export function timeFeols(
  eng: Engine, frame: Frame, formula: string, opts: FeolsOptions, warmup: number, runs: number,
  onRun?: (done: number, what: string) => void,
): { seconds: number; times: number[]; last: Fit } {
  // every run fits a new Frame over the same raw columns, so that the id factorisation is
  // inside the timing, as fixest pays it (a reused Frame would have its codes cached)
  const raw = Object.fromEntries(frame.names.map((nm) => [nm, frame.numeric(nm)]));
  for (let i = 0; i < warmup; i++) {
    onRun?.(i, `warm-up run ${i + 1} of ${warmup}`);
    feols(eng, Frame.fromColumns(raw), formula, opts);
  }
  const times: number[] = [];
  let last: Fit | null = null;
  for (let i = 0; i < runs; i++) {
    onRun?.(warmup + i, `timed run ${i + 1} of ${runs}`);
    last = null; // let the previous fit go before the next one allocates
    const t0 = performance.now();
    last = feols(eng, Frame.fromColumns(raw), formula, opts);
    times.push((performance.now() - t0) / 1000);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { seconds: sorted[Math.floor(sorted.length / 2)], times, last: last! };
}
