// Multiple-estimation benchmark (node --import tsx bench/multi.bench.ts): ten outcomes x four
// cumulative stepwise specifications,
//   c(y1, ..., y10) ~ treat + csw(x1 + x2, x3 + x4, x5 + x6, x7 + x8) | firm + year
// (forty models) on a generated firm-year panel with 2 FE, in one feolsMulti call (one shared
// demeaning: 19 columns demeaned once) against the same forty models fitted one by one with
// feols, and against ONE model (the largest: y1 ~ treat + x1..x8). Goal: the forty-model call
// under 3x the time of one model. feolsMulti solves the members from one cross-product
// matrix per group (estimators/multi-ols.ts), feols each by QR: every member is checked
// against its one-by-one fit (largest relative difference of the coefficients, relative to
// max(|b|, SE), and of the vcov entries, relative to sqrt(V_aa V_bb); both must be under 1e-8). R fixest's multiple estimation is not run here (no R on this machine):
// "not measured". Writes bench/results/multi.json. BENCH_ROWS sets the panel size (default 1M), BENCH_REPS the timed runs of one model and of the call (medians compared).
import { Bench } from "tinybench";
import { writeFileSync, mkdirSync } from "node:fs";
import { loadavg } from "node:os";
import { loadEngine } from "../bindings/node.js";
import { feols, type Fit } from "../bindings/estimators/feols.js";
import { feolsMulti } from "../bindings/estimators/multi.js";
import { xorshift32 } from "../bindings/base/rng.js";
import { genPanel } from "./gen.js";

const sizes = (process.env.BENCH_ROWS ?? "1000000").split(",").map(Number);
const OUTCOMES = Array.from({ length: 10 }, (_, k) => `y${k + 1}`);
const formula = `c(${OUTCOMES.join(", ")}) ~ treat + csw(x1 + x2, x3 + x4, x5 + x6, x7 + x8) | firm + year`;
const steps = ["x1 + x2", "x1 + x2 + x3 + x4", "x1 + x2 + x3 + x4 + x5 + x6", "x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8"];
const single = OUTCOMES.flatMap((y) => steps.map((s) => `${y} ~ treat + ${s} | firm + year`));
const OPTS = { vcov: "cluster:firm" } as const;
const eng = await loadEngine();
const rows: Record<string, unknown>[] = [];

for (const n of sizes) {
  let frame = genPanel({ rows: n, city: false });
  // ten outcomes: the panel's y plus outcome-specific loadings on x1 and fresh noise
  const rnd = xorshift32(7);
  const y = frame.numeric("y"), x1 = frame.numeric("x1");
  for (let k = 0; k < 10; k++) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = y[i] + 0.05 * k * x1[i] + (rnd() - 0.5);
    frame = frame.withColumn(OUTCOMES[k], out);
  }
  let multi: Fit[] = [];
  let oneByOne: Fit[] = [];
  let cache: unknown = null;
  let joint = 0;
  // one model and the forty-model call: BENCH_REPS timed runs each (default 3; 5 below 100k
  // rows), the median compared, as one run on this shared machine swings by a second; the forty
  // one by one (about 40x longer) once
  const reps = Number(process.env.BENCH_REPS ?? (n <= 100_000 ? 5 : 3));
  const bench = new Bench({ iterations: reps, time: 0, warmupIterations: 1, warmupTime: 0 });
  bench
    .add("one model (y1, 9 regressors)", () => {
      feols(eng, frame, single[3], OPTS);
    })
    .add("forty models in one call (feolsMulti)", () => {
      const r = feolsMulti(eng, frame, formula, OPTS);
      multi = r.models.map((m) => m.fit);
      cache = r.cache;
      joint = r.joint;
    });
  const slow = new Bench({ iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 });
  slow.add("forty models one by one (feols)", () => {
    oneByOne = single.map((f) => feols(eng, frame, f, OPTS));
  });
  await bench.run();
  await slow.run();
  const lat = (t: { result: unknown }) => (t.result as { latency: { p50: number; min: number; max: number } }).latency;
  const [one, many] = bench.tasks.map((t) => lat(t).p50 / 1000);
  const [oneRange, manyRange] = bench.tasks.map((t) => [+(lat(t).min / 1000).toFixed(3), +(lat(t).max / 1000).toFixed(3)]);
  const each = lat(slow.tasks[0]).p50 / 1000;
  let coefDiff = 0;
  let vcovDiff = 0;
  multi.forEach((m, i) => {
    const a = oneByOne[i];
    const k = a.coefNames.length;
    const V = a.vcovMatrix;
    a.coefVector.forEach((b, j) => (coefDiff = Math.max(coefDiff, Math.abs(m.coefVector[j] - b) / Math.max(Math.abs(b), Math.sqrt(V[j + j * k])))));
    V.forEach((v, j) => (vcovDiff = Math.max(vcovDiff, Math.abs(m.vcovMatrix[j] - v) / Math.sqrt(V[(j % k) * (k + 1)] * V[Math.floor(j / k) * (k + 1)]))));
  });
  const same = multi.length === 40 && multi.every((m, i) => m.formula === oneByOne[i].formula && m.coefNames.join() === oneByOne[i].coefNames.join()) &&
    coefDiff < 1e-8 && vcovDiff < 1e-8;
  const row = {
    rows: n,
    timed_runs: reps,
    one_model_s: +one.toFixed(3),
    one_model_min_max_s: oneRange,
    multi_40_s: +many.toFixed(3),
    multi_40_min_max_s: manyRange,
    one_by_one_40_s: +each.toFixed(3),
    multi_over_one_model: +(many / one).toFixed(2),
    one_by_one_over_multi: +(each / many).toFixed(2),
    goal_under_3x_one_model: many / one < 3,
    members_equal_one_by_one_1e8: same,
    max_coef_rel_diff: coefDiff,
    max_vcov_rel_diff: vcovDiff,
    members_from_cross_products: joint,
    cache,
    load_average_1m_at_end: +loadavg()[0].toFixed(1),
    rss_mib: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
  };
  rows.push(row);
  console.log(row);
}
console.log("R fixest multiple estimation: not measured (Rscript is not installed on this machine).");
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/multi.json", import.meta.url),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, formula, fixest: "not measured (no R)", rows }, null, 2),
);
