// The demeaning alone (no regression) of the models of bench/algo.bench.ts, for the algorithms
// the option does not name: "map-cg" (the kernel's projections handing over to CG, auto until
// issue 14) and auto with other switch points (SWITCH: projection steps before LSMR), beside
// map / cg / lsmr / auto. CPU time of one call after one untimed call per variant; one JSON
// line per variant.
// node --no-liftoff --import tsx bench/switch.bench.ts   (CASES=lowmob TOL=1e-8 SWITCH=20,50,100 V=map-cg,lsmr)
import { loadavg } from "node:os";
import { loadEngine } from "../bindings/node.js";
import { demeanPtr, type KernelAlgo } from "../bindings/engine/kernels.js";
import { Frame } from "../bindings/core/frame.js";
import { readFile } from "../bindings/platform/read-node.js";
import { genPanel, CONTROLS } from "../bindings/sim/bench-panel.js";
import { lowMobilityPanel } from "./lowmob.js";

const eng = await loadEngine();
const tol = Number(process.env.TOL ?? 1e-8);
const CBEC_X = ["FC", "did", "Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"];
/** The reference cbec panel's rows complete in the 3-FE model's columns (fixefRm none: nothing else removed). */
async function cbecRows(): Promise<Frame> {
  const f = Frame.fromArrow((await readFile(new URL("../tests/fixtures/reference/cbec_panel.csv", import.meta.url).pathname)).table);
  const cols = CBEC_X.map((c) => f.numeric(c));
  const keep: number[] = [];
  for (let i = 0; i < f.nrows; i++) if (cols.every((c) => Number.isFinite(c[i]))) keep.push(i);
  return f.take(keep);
}
const cbec = await cbecRows();
const cases: { name: string; make: () => Frame; fe: string[]; cols: string[]; w?: string }[] = [
  { name: "cbec 14.7k firm+year+city", make: () => cbec, fe: ["firm", "year", "city"], cols: CBEC_X },
  { name: "lowmob 200k w+f+y", make: () => lowMobilityPanel({ rows: 200_000 }), fe: ["worker", "firm", "year"], cols: ["y", "x"], w: "w" },
  { name: "panel 1M firm+year", make: () => genPanel({ rows: 1_000_000, city: false }), fe: ["firm", "year"], cols: ["y", "treat", ...CONTROLS] },
  { name: "panel 1M firm+year+city", make: () => genPanel({ rows: 1_000_000, city: true }), fe: ["firm", "year", "city"], cols: ["y", "treat", ...CONTROLS] },
];
const switches = (process.env.SWITCH ?? "20").split(",").map(Number);
const variants: { label: string; algo: KernelAlgo; S: number }[] = [
  ...(process.env.V ?? "map,cg,lsmr,map-cg").split(",").map((a) => ({ label: a, algo: a as KernelAlgo, S: 20 })),
  ...switches.map((S) => ({ label: `auto:${S}`, algo: "auto" as KernelAlgo, S })),
];

for (const c of cases.filter((c) => !process.env.CASES || process.env.CASES.split(",").some((k) => c.name.includes(k)))) {
  const fr = c.make();
  const n = fr.nrows;
  // the dimensions by decreasing size, as core/solve.ts loadFeDims orders them
  const fes = c.fe.map((nm) => fr.codes(nm)).sort((a, b) => b.levels.length - a.levels.length);
  const run = (v: (typeof variants)[number]) =>
    eng.scoped(() => {
      const codes = eng.allocI32(fes.length * n);
      fes.forEach((f, q) => eng.i32(codes + q * n * 4, n).set(f.codes));
      const wPtr = c.w ? eng.putF64(fr.numeric(c.w)) : 0;
      const x = eng.allocF64(n * c.cols.length);
      c.cols.forEach((nm, k) => eng.f64(x + k * n * 8, n).set(fr.numeric(nm)));
      const d = { n, codesPtr: codes, groups: fes.map((f) => f.levels.length), types: fes.map(() => 0 as const), slopePtrs: fes.map(() => 0), wPtr };
      const c0 = process.cpuUsage();
      const info = demeanPtr(eng, d, c.cols.length, x, x, tol, 100_000, v.algo, v.S);
      const c1 = process.cpuUsage(c0);
      return { info, cpu: (c1.user + c1.system) / 1000 };
    });
  for (const v of variants) run(v);
  for (const v of variants) {
    const { info, cpu } = run(v);
    console.log(JSON.stringify({ case: c.name, tol, variant: v.label, cpu_ms: Math.round(cpu), map: info.mapIterations, krylov: info.cgIterations, conv: info.converged, load: +loadavg()[0].toFixed(1) }));
  }
}
