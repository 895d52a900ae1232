// The demeaning algorithms on the low-mobility panel (bench/lowmob.ts) and the normal firm +
// year [+ city] panels and the reference cbec panel (firm + year + city), at fixef.tol 1e-8 (TOL): iterations, wall and CPU time, and the coefficient's
// distance (in standard errors) from a 1e-13 CG fit. One JSON line per fit.
// node --no-liftoff --import tsx bench/algo.bench.ts   (CASES=lowmob,city REPS=3 ALGOS=map,auto,cg,lsmr TOL=1e-10)
import { loadEngine } from "../bindings/node.js";
import { feols } from "../bindings/estimators/feols.js";
import { genPanel, benchFormula } from "./gen.js";
import { lowMobilityPanel, LOWMOB_FORMULA } from "./lowmob.js";
import { Frame } from "../bindings/core/frame.js";
import { readFile } from "../bindings/platform/read-node.js";
const eng = await loadEngine();
// the reference panel's 3-FE model (tests/fixtures/reference: cbec_panel.csv, fixest's t3c3_cl_firm)
const cbec = Frame.fromArrow((await readFile(new URL("../tests/fixtures/reference/cbec_panel.csv", import.meta.url).pathname)).table);
const cases = [
  { name: "cbec 14.8k firm+year+city", frame: cbec, fml: "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year + city", w: undefined as string | undefined },
  { name: "lowmob 200k w+f+y", frame: lowMobilityPanel({ rows: 200_000 }), fml: LOWMOB_FORMULA, w: "w" as string | undefined },
  { name: "panel 1M firm+year", frame: genPanel({ rows: 1_000_000, city: false }), fml: benchFormula(2), w: undefined },
  { name: "panel 1M firm+year+city", frame: genPanel({ rows: 1_000_000, city: true }), fml: benchFormula(3), w: undefined },
];
// every algorithm once untimed first (compilation and first tier of its kernels), then the
// best of REPS fits; CPU time (user + system of this single-threaded process) beside wall
// time, since on a shared machine wall time mostly measures the other processes
const TOL = Number(process.env.TOL ?? 1e-8);
const variants = (process.env.ALGOS ?? "map,auto,cg,lsmr").split(",") as ("auto" | "map" | "cg" | "lsmr")[];
for (const c of cases.filter((c) => !process.env.CASES || process.env.CASES.split(",").some((k) => c.name.includes(k)))) {
  const ref = feols(eng, c.frame, c.fml, { weights: c.w, fixefAlgo: "cg", fixefTol: 1e-13, fixefRm: "none", fixefIter: 100000, vcov: "iid" });
  const xname = Object.keys(ref.coef)[0];
  for (const algo of variants) feols(eng, c.frame, c.fml, { weights: c.w, fixefAlgo: algo, fixefTol: TOL, fixefRm: "none", fixefIter: 100000, vcov: "iid" });
  for (const algo of variants) {
    const times: number[] = [];
    const cpus: number[] = [];
    let f;
    for (let r = 0; r < Number(process.env.REPS ?? 2); r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      f = feols(eng, c.frame, c.fml, { weights: c.w, fixefAlgo: algo, fixefTol: TOL, fixefRm: "none", fixefIter: 100000, vcov: "iid" });
      times.push(performance.now() - t0);
      const c1 = process.cpuUsage(c0);
      cpus.push((c1.user + c1.system) / 1000);
    }
    console.log(JSON.stringify({ case: c.name, algo, tol: TOL, ms: Math.round(Math.min(...times)), cpu_ms: Math.round(Math.min(...cpus)), map: f!.demean!.mapIterations, cg: f!.demean!.cgIterations, conv: f!.converged, dcoef_se: +((f!.coef[xname] - ref.coef[xname]) / ref.se[xname]).toExponential(2), load: +(await import("node:os")).loadavg()[0].toFixed(1) }));
  }
}
