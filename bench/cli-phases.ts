// One `hdfe feols --data` command taken apart (a child process of bench/cli-matrix.ts, or run
// by hand: PHASE_FILE=panel.csv PHASE_FORMULA="y ~ x | firm + year" node --no-liftoff --import tsx bench/cli-phases.ts).
// The same steps as cli/commands/feols.ts (cli/data.ts readData, then feols, then the JSON),
// each timed: process start to this module, the imports, DuckDB's start, the read (the reader's
// own split: checks, DuckDB's query, the copy of its chunks; the kernels compile meanwhile), the first fit of the process
// (cold) and a repeated fit on the same Frame (warm), the printing. Prints one JSON line (ms).
// PHASE_PLACED=1: the command's own path for a plain model, the placed read (cli/data.ts
// placeModel: y and the regressors written by DuckDB straight into WASM memory, consumed by the
// fit): the placed read and its fit (cold, the first of the process), then the same placed read
// and fit again (warm: the arena's pages were touched by the first).
const tStart = performance.now(); // ms since the process started
const { readData } = await import("../cli/data.js");
const { loadDuckDB } = await import("../bindings/platform/duckdb-columns.js");
const { readFileNative } = await import("../bindings/platform/duckdb-node.js");
const { loadEngine } = await import("../bindings/node.js");
const { feols } = await import("../bindings/estimators/feols.js");
const { parseFormula, formulaColumns } = await import("../bindings/core/formula.js");
const { fitToJson } = await import("../bindings/report/summary.js");
const tImport = performance.now();

const file = process.env.PHASE_FILE!;
const formula = parseFormula(process.env.PHASE_FORMULA!);
const reader = process.env.PHASE_READER ?? "auto";
const cols = [...new Set(formulaColumns(formula))];

const lap = (() => {
  let t = performance.now();
  return () => {
    const now = performance.now();
    const d = now - t;
    t = now;
    return +d.toFixed(1);
  };
})();
if (reader !== "js") await loadDuckDB();
const duckOpen = lap();
// the reader's own split (the same read again is not timed: only its figures are taken)
// as cli/commands/feols.ts: the kernels compile while the data is read; `engine` is the wait after the read
const engineP = loadEngine();
if (process.env.PHASE_PLACED === "1") {
  const { placeModel } = await import("../cli/data.js");
  const opts = { vcov: "cluster:firm", fixefRm: "none" as const, strictConvergence: true };
  const once = async () => {
    const r0 = performance.now();
    const { frame } = await readData({ data: file, reader }, cols, {}, placeModel(formula, ["firm"], engineP));
    const eng = await engineP;
    const r1 = performance.now();
    const fit = feols(eng, frame, formula, opts);
    return { read: +(r1 - r0).toFixed(1), fit: +(performance.now() - r1).toFixed(1), coef: fit.coef.treat, placed: frame.placed !== null };
  };
  const cold = await once();
  const warm = await once();
  console.log(JSON.stringify({
    start: +tStart.toFixed(1), imports: +(tImport - tStart).toFixed(1), duckOpen, readPlaced: cold.read, fitCold: cold.fit,
    readPlacedAgain: warm.read, fitWarm: warm.fit, placed: cold.placed && warm.placed, sameCoef: cold.coef === warm.coef,
  }));
  process.exit(0);
}
const { frame } = await readData({ data: file, reader }, cols);
const read = lap();
const eng = await engineP;
const engine = lap();
const opts = { vcov: "cluster:firm", fixefRm: "none" as const, strictConvergence: true };
const cold = feols(eng, frame, formula, opts);
const fitCold = lap();
const json = JSON.stringify(fitToJson(cold));
const print = lap();
const warm = feols(eng, frame, formula, opts);
const fitWarm = lap();
let split: unknown = null;
if (reader !== "js" && process.env.PHASE_SPLIT !== "0") {
  const r = await readFileNative(file, { reader: reader as "auto", columns: cols });
  split = { reader: r.reader, ...r.timings };
}
console.log(
  JSON.stringify({
    start: +tStart.toFixed(1), imports: +(tImport - tStart).toFixed(1), duckOpen, read, engine, fitCold, print, fitWarm,
    readSplit: split, rows: frame.nrows, sameCoef: warm.coef.treat === cold.coef.treat, jsonBytes: json.length,
  }),
);
export {};
