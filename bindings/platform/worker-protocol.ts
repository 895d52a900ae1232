// Messages between a page and a Web Worker that owns one hdfe engine (web/src/worker.ts).
//
// Only plain, structured-cloneable data crosses the boundary: column lists, model specs,
// the neutral JSON of a fit (summary.ts fitToJson) and arrays of draws. File bytes go in
// as a transferred ArrayBuffer (no copy). Every request carries an `id`; the worker answers
// with exactly one `result` or `error` of that id, and may send `progress` messages before.
// Types only: importing this module pulls no code into either side.
import type { FitJson } from "../report/summary.js";
import type { ErrorWire } from "../base/errors.js";
import type { KernelAlgo } from "../engine/kernels.js";

export type DataFormat = "csv" | "arrow" | "parquet";

/** One column of the loaded data, as the page's selects need it. */
export interface ColumnInfo {
  name: string;
  /** "numeric" columns may be outcomes, treatments and controls; any column may be a FE or cluster */
  kind: "numeric" | "string" | "other";
  missing: number;
}

export interface DatasetInfo {
  /** file name, or "synthetic panel (seed N)" */
  source: string;
  format: DataFormat | "simulated";
  nrows: number;
  columns: ColumnInfo[];
  /** column roles the worker guessed from the names (the page pre-selects them) */
  suggest: Partial<ModelSpec> & { firstTreat?: string; year?: string };
}

/** A model as the page builds it from its selects. */
export interface ModelSpec {
  outcome: string;
  treatment: string;
  /** an instrument for the treatment: the model is then 2SLS (outcome ~ controls | fe | treatment ~ instrument) */
  instrument?: string;
  controls: string[];
  fixef: string[];
  /** "cluster" uses `cluster` (or the first FE when empty) */
  vcov: "cluster" | "hetero" | "iid";
  cluster: string[];
  /** feols (default) or a GLM with fixed effects (fepois, feglm logit / probit: web/src/glm-run.ts) */
  estimator?: "feols" | "fepois" | "logit" | "probit";
  /** columns of the staggered timing, for the event study (rel = year - firstTreat) and the placebo */
  timing?: { firstTreat: string; year: string };
}

export interface PlaceboSpec {
  draws: number;
  seed: number;
  /** the column whose units keep their data but get another unit's first-treatment year */
  unit: string;
}

/** Event-study point: relative period, estimate and confidence interval. */
export interface EventPoint {
  x: number;
  estimate: number;
  se: number;
  low: number;
  high: number;
}

export interface ModelResult {
  formula: string;
  /** fitToJson of the model */
  fit: FitJson;
  /** fixest-like printed summary */
  summary: string;
  /** the TWFE event study (i(rel, ref = c(-1, -1000))) when timing columns are known */
  event?: { formula: string; fit: FitJson; points: EventPoint[]; reference: number; error?: undefined } | { error: string };
  elapsedMs: number;
}

export interface PlaceboResult {
  coef: string;
  /** the model's coefficient of the treatment */
  estimate: number;
  /** placebo coefficients in draw order (null: the placebo treatment was absorbed) */
  draws: (number | null)[];
  seed: number;
  /** the study's definitions: two-sided share of |b*| >= |b|, left b* <= b, right b* >= b */
  p: { twoSided: number; left: number; right: number };
  /** finite draws, the N of the p-values */
  valid: number;
  units: number;
  /** first treated years a draw reassigns */
  cohorts: number[];
  /** how the draws were made, in words */
  method: string;
  warnings: string[];
  elapsedMs: number;
}

/** The `hdfe bench` case, run in the worker: genPanel (bindings/sim/bench-panel.ts) + feols
 *  y ~ treat + x1..x8 | firm + year [+ city], vcov cluster:firm, fixefRm "none". */
export interface BenchSpec {
  rows: number;
  fe: 2 | 3;
  /** timed runs (the reported time is their median) */
  repetitions: number;
  /** untimed runs first (the first run grows WASM memory and compiles hot paths) */
  warmup: number;
  /** how the raw columns are held in WASM memory (feols storage; default "f64") */
  storage?: "f64" | "f32";
}

export interface BenchResult extends BenchSpec {
  formula: string;
  /** median seconds of feols over the repetitions (generation excluded) */
  seconds: number;
  /** every timed run, seconds, in run order */
  times: number[];
  rowsPerSecond: number;
  mapIterations: number;
  cgIterations: number;
  /** WASM memory committed and the arena's high-water mark (bytes) */
  wasmMemoryBytes: number;
  wasmPeakBytes: number;
  /** the coefficient of treat (exact double) */
  coefTreat: number;
  /** seconds to generate the panel */
  genSeconds: number;
  /** R fixest 0.12.2, one thread, published time for this case (seconds), or null */
  fixestPublished: number | null;
}

export type WorkerRequest =
  | { id: number; type: "load"; name: string; bytes: ArrayBuffer; format?: DataFormat }
  | { id: number; type: "simulate"; seed: number; firms?: number }
  | { id: number; type: "derive-did"; firstTreat: string; year: string; name: string }
  | { id: number; type: "fit"; spec: ModelSpec }
  | { id: number; type: "placebo"; spec: ModelSpec; placebo: PlaceboSpec }
  | { id: number; type: "bench"; bench: BenchSpec };

export type RequestType = WorkerRequest["type"];

/** What each request type answers with. */
export interface ResultOf {
  load: DatasetInfo;
  simulate: DatasetInfo;
  "derive-did": DatasetInfo;
  fit: ModelResult;
  placebo: PlaceboResult;
  bench: BenchResult;
}

/**
 * A failure as it crosses to the page: the same ErrorWire as from the Node workers (class name,
 * message, hint, details; base/errors.ts errorToWire), rebuilt with its class by errorFromWire.
 */
export type ErrorInfo = ErrorWire;

export type WorkerResponse =
  | { id: number; type: "result"; result: ResultOf[RequestType] }
  | { id: number; type: "error"; error: ErrorInfo }
  | { id: number; type: "progress"; done: number; total: number; what: string };

/** Sent once by the worker when its engine is instantiated (or failed to). */
export type ReadyMessage = { id: 0; type: "ready"; wasmBytes: number } | { id: 0; type: "error"; error: ErrorInfo };

// ---- Node worker threads (bindings/platform/worker-node.ts) ----------------------------
// One worker module serves the demeaning pool (platform/demean-node.ts) and the placebo pool
// (platform/placebo-node.ts); both start it with platform/worker-spawn.ts. Errors cross as
// ErrorWire (base/errors.ts errorToWire) and are rebuilt with their class (errorFromWire).

/** What a Node worker receives as workerData. */
export interface NodeWorkerData {
  tag: "hdfe-worker";
  /** the compiled kernels (platform/wasm-node.ts), instantiated with engine/wasm.ts createEngine */
  module: WebAssembly.Module;
  /** where a synchronous job's error goes (read with receiveMessageOnPort) */
  port: import("node:worker_threads").MessagePort;
}

/**
 * A demeaning job (synchronous for the caller, which waits on `state`): the worker copies the
 * inputs into a fresh engine, runs engine/kernels.ts demeanPtr on one thread, and writes the
 * demeaned columns back into `x`, the kernel's info vector into `info`, then state[0] = 1
 * (done) or 2 (failed: an ErrorWire posted on the port), and Atomics.notify(state, 0).
 */
export interface DemeanJob {
  kind: "demean-job";
  n: number;
  groups: number[];
  types: (0 | 1 | 2)[];
  /** Q * n int32 FE codes */
  codes: SharedArrayBuffer;
  /** per dimension, n f64 slope values or null */
  slopes: (SharedArrayBuffer | null)[];
  /** n f64 weights or null */
  w: SharedArrayBuffer | null;
  K: number;
  /** n * K f64, in and out */
  x: SharedArrayBuffer;
  tol: number;
  maxIter: number;
  algo: KernelAlgo;
  switchAfter: number;
  /** 4 (K + 1) f64: the call's [iterations, criterion, converged, CG iterations], then each column's own four */
  info: SharedArrayBuffer;
  /** 2 int32: [done flag, unused] */
  state: SharedArrayBuffer;
}

type PlaceboProblem = import("../inference/placebo.js").PlaceboProblem;
type PlaceboBasis = import("../inference/placebo.js").PlaceboBasis;
type Convergence = import("../inference/placebo.js").Convergence;

/** A placebo task (asynchronous: answered by one PlaceboReply of the same id). */
export type PlaceboTask =
  | { id: number; kind: "init"; P: PlaceboProblem }
  | { id: number; kind: "basis"; b0: number; b1: number }
  | { id: number; kind: "setBasis"; B: PlaceboBasis }
  | { id: number; kind: "draws"; d0: number; nd: number }
  | { id: number; kind: "demean"; b0: number; b1: number };

export type PlaceboTaskBody = PlaceboTask extends infer T ? (T extends unknown ? Omit<T, "id"> : never) : never;

export type PlaceboReply =
  | { id: number; kind: "done"; data?: Float64Array; conv?: Convergence }
  | { id: number; kind: "progress"; done: number }
  | { id: number; kind: "error"; error: ErrorWire };

export type NodeWorkerMessage = DemeanJob | PlaceboTask;
