// What the page's Web Worker does (web/src/worker.ts is its entry): the loaded data and every
// heavy step (reading the file, simulating the panel, estimating, placebo draws) on one engine.
// Requests and answers are the typed messages of bindings/platform/worker-protocol.ts; a failure
// goes back as an ErrorWire (base/errors.ts errorToWire), as from the Node workers, and the page
// rebuilds it with its class (errorFromWire in web/src/client.ts). No `self` here: the entry
// passes the engine and the post function, so tests drive the handler directly.
import {
  readTable, errorToWire, formatFromName, Frame, feols, fitToJson, summary, HdfeError, OptionError, type Engine, type Fit,
  iv, ivFitToJson, ivSummary, type IvFit,
} from "../../bindings/browser.js";
import { simulatePanel, SIM_STRING_COLUMNS } from "../../bindings/sim/simulate.js";
import type {
  ColumnInfo, DatasetInfo, EventPoint, ModelResult, ModelSpec, PlaceboResult, PlaceboSpec, ResultOf, WorkerRequest,
  WorkerResponse, ReadyMessage,
} from "../../bindings/platform/worker-protocol.js";
import { clusterColumns, didColumn, eventFormulaOf, formulaOf, relColumn, vcovOf } from "./spec.js";
import { placeboChunked, placeboSetup } from "./placebo-run.js";
import { runBench } from "./bench-run.js";
import { fitGlm } from "./glm-run.js";

interface State {
  frame: Frame;
  info: DatasetInfo;
}
let state: State | null = null;

/** Where the handler's messages go (the worker's postMessage). */
export type PostFn = (msg: WorkerResponse | ReadyMessage, transfer?: Transferable[]) => void;

const YEAR = /^(year|yr|years|time|period|t)$/i;
const UNIT = /^(id|unit|firm|firm[._ ]?id|stkcd|county|countyreal|fips|person|pid|worker|school|state|city|country|region|code)$|[._ ]id$/i;
const TREAT = /^(treat(ed|ment)?([._ ]?post)?|did|post|d|policy)$/i;
const FIRST = /^(first[._ ]?treat(ed)?|adopt(ion)?([._ ]?year)?|cohort|g|gvar|treat[._ ]?year)$/i;

/** Every finite value is 0 or 1, and both occur. */
function isBinary(v: Float64Array): boolean {
  let zero = false, one = false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x === 0) zero = true;
    else if (x === 1) one = true;
    else if (Number.isFinite(x)) return false;
  }
  return zero && one;
}

function describe(frame: Frame, source: string, format: DatasetInfo["format"], kinds: Map<string, ColumnInfo["kind"]>): DatasetInfo {
  const columns: ColumnInfo[] = frame.names.map((name) => {
    let kind = kinds.get(name) ?? (frame.isNumeric(name) ? "numeric" : "string");
    let missing = 0;
    if (kind === "numeric") {
      const v = frame.numeric(name);
      for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) missing++;
    } else {
      try {
        const c = frame.codes(name).codes;
        for (let i = 0; i < c.length; i++) if (c[i] < 0) missing++;
      } catch {
        kind = "other";
      }
    }
    return { name, kind, missing };
  });
  const numeric = columns.filter((c) => c.kind === "numeric").map((c) => c.name);
  const year = numeric.find((n) => YEAR.test(n));
  const firstTreat = numeric.find((n) => FIRST.test(n));
  // a starting model a person would write, never `year ~ year`: the unit and the time as FE, a
  // 0/1 column as the treatment (preferring treat / did / post names), the first other
  // numeric column as the outcome; nothing is suggested where nothing fits
  const unit = columns.map((c) => c.name).find((n) => n !== year && n !== firstTreat && UNIT.test(n));
  const binary = numeric.filter((n) => n !== year && n !== firstTreat && isBinary(frame.numeric(n)));
  const treatment = binary.find((n) => TREAT.test(n)) ?? binary[0];
  const outcome = numeric.find((n) => n !== year && n !== firstTreat && n !== unit && n !== treatment && !binary.includes(n));
  const fixef = [unit, year].filter((n): n is string => n !== undefined);
  return {
    source, format, nrows: frame.nrows, columns,
    suggest: { year, firstTreat, outcome, treatment, fixef, cluster: unit ? [unit] : undefined, vcov: unit ? "cluster" : undefined },
  };
}

async function load(name: string, bytes: ArrayBuffer, format?: DatasetInfo["format"]): Promise<DatasetInfo> {
  const fmt = format && format !== "simulated" ? format : formatFromName(name);
  const { table, report } = await readTable(new Uint8Array(bytes), { format: fmt });
  const kinds = new Map<string, ColumnInfo["kind"]>(
    report.columns.map((c) => [c.name, c.type === "float64" ? "numeric" : c.type === "string" ? "string" : "other"]),
  );
  const frame = Frame.fromArrow(table);
  const info = describe(frame, name, fmt, kinds);
  state = { frame, info };
  return info;
}

function simulate(seed: number, firms?: number): DatasetInfo {
  const panel = simulatePanel({ seed, firms });
  const frame = Frame.fromColumns(panel.columns);
  const kinds = new Map<string, ColumnInfo["kind"]>(frame.names.map((n) => [n, SIM_STRING_COLUMNS.includes(n) ? "string" : "numeric"]));
  const info = describe(frame, `synthetic panel (seed ${seed})`, "simulated", kinds);
  info.suggest = {
    outcome: "FC",
    treatment: "did",
    controls: ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"],
    fixef: ["firm", "year"],
    vcov: "cluster",
    cluster: ["city"],
    firstTreat: "adopt",
    year: "year",
  };
  state = { frame, info };
  return info;
}

function data(): State {
  if (!state) throw new HdfeError("no data loaded yet", undefined, "open a CSV, Parquet or Arrow file, or use the synthetic panel");
  return state;
}

function deriveDid(firstTreat: string, year: string, name: string): DatasetInfo {
  const s = data();
  const col = didColumn(s.frame.numeric(firstTreat), s.frame.numeric(year));
  const frame = s.frame.withColumn(name, col);
  const columns = s.info.columns.filter((c) => c.name !== name);
  let missing = 0;
  for (let i = 0; i < col.length; i++) if (!Number.isFinite(col[i])) missing++;
  columns.push({ name, kind: "numeric", missing });
  const info: DatasetInfo = { ...s.info, columns, suggest: { ...s.info.suggest, treatment: name, firstTreat, year } };
  state = { frame, info };
  return info;
}

function fitModel(eng: Engine, frame: Frame, spec: ModelSpec): Fit {
  if (spec.instrument) return iv(eng, frame, formulaOf(spec), { vcov: vcovOf(spec), keepColumns: clusterColumns(spec) });
  return feols(eng, frame, formulaOf(spec), { vcov: vcovOf(spec), keepColumns: clusterColumns(spec) });
}

/** A column name not in the frame, starting from `base`. */
function freshName(frame: Frame, base: string): string {
  let name = base;
  while (frame.has(name)) name += "_";
  return name;
}

function fit(eng: Engine, spec: ModelSpec): ModelResult {
  const t0 = performance.now();
  const { frame } = data();
  if (spec.estimator && spec.estimator !== "feols") return fitGlm(eng, frame, spec, t0);
  const main = fitModel(eng, frame, spec);
  const isIv = "iv" in main;
  const out: ModelResult = {
    formula: main.formula, fit: isIv ? ivFitToJson(main as IvFit) : fitToJson(main), summary: isIv ? ivSummary(main as IvFit, { firstStages: true }) : summary(main), elapsedMs: 0,
  };
  if (spec.timing) {
    try {
      const rel = freshName(frame, "rel");
      const withRel = frame.withColumn(rel, relColumn(frame.numeric(spec.timing.firstTreat), frame.numeric(spec.timing.year)));
      const formula = eventFormulaOf(spec, rel);
      const ev = feols(eng, withRel, formula, { vcov: vcovOf(spec), keepColumns: clusterColumns(spec) });
      const prefix = `${rel}::`;
      const points: EventPoint[] = ev.table
        .filter((r) => r.name.startsWith(prefix))
        .map((r) => ({ x: Number(r.name.slice(prefix.length)), estimate: r.estimate, se: r.se, low: r.ciLow, high: r.ciHigh }))
        .filter((p) => Number.isFinite(p.x) && p.x !== -1000);
      points.push({ x: -1, estimate: 0, se: 0, low: 0, high: 0 });
      points.sort((a, b) => a.x - b.x);
      out.event = { formula: ev.formula, fit: fitToJson(ev), points, reference: -1 };
    } catch (e) {
      out.event = { error: errorToWire(e).message };
    }
  }
  out.elapsedMs = performance.now() - t0;
  return out;
}

function runPlacebo(eng: Engine, post: PostFn, id: number, spec: ModelSpec, p: PlaceboSpec): PlaceboResult {
  const t0 = performance.now();
  if (!(Number.isInteger(p.draws) && p.draws >= 1 && p.draws <= 1_000_000)) {
    throw new OptionError(`draws must be a whole number from 1 to 1,000,000, got ${p.draws}`);
  }
  if (!Number.isSafeInteger(p.seed)) throw new OptionError(`the seed must be a whole number, got ${p.seed}`);
  const setup = placeboSetup(data().frame, spec, p);
  let r: ReturnType<typeof placeboChunked>;
  try {
    const model = feols(eng, setup.frame, formulaOf(spec), { vcov: vcovOf(spec), keepColumns: [...clusterColumns(spec), ...setup.keep] });
    post({ id, type: "progress", done: 0, total: p.draws, what: "placebo setup" });
    r = placeboChunked(eng, model, setup.opts, (done, total, what) => post({ id, type: "progress", done, total, what }));
  } catch (e) {
    // the adoption column is derived under an internal name: speak of the user's column
    if (e instanceof Error && spec.timing) e.message = e.message.split(`"${setup.opts.adopt}"`).join(`"${spec.timing.firstTreat}" (as adoption years)`);
    throw e;
  }
  return {
    coef: r.treatment,
    estimate: r.estimate,
    draws: Array.from(r.draws, (x) => (Number.isFinite(x) ? x : null)),
    seed: r.seed,
    p: { twoSided: r.p.twoSided.p, left: r.p.left.p, right: r.p.right.p },
    valid: r.valid,
    units: r.units,
    cohorts: r.cohorts,
    method: `adoption years of ${r.units} ${p.unit} units (cohorts ${r.cohorts.join(", ")}; never treated kept) permuted, seed ${r.seed}, ${r.method} method${r.basisSolver ? ` (${r.basisSolver} solver)` : ""}`,
    warnings: r.warnings,
    elapsedMs: performance.now() - t0,
  };
}

async function handle(eng: Engine, post: PostFn, req: WorkerRequest): Promise<ResultOf[WorkerRequest["type"]]> {
  switch (req.type) {
    case "load":
      return load(req.name, req.bytes, req.format);
    case "simulate":
      return simulate(req.seed, req.firms);
    case "derive-did":
      return deriveDid(req.firstTreat, req.year, req.name);
    case "fit":
      return fit(eng, req.spec);
    case "placebo":
      return runPlacebo(eng, post, req.id, req.spec, req.placebo);
    case "bench":
      return runBench(eng, req.bench, (done, total, what) => post({ id: req.id, type: "progress", done, total, what }));
  }
}

/**
 * The worker's message handler over an engine (a promise of one): posts `ready` (or the
 * engine's error) once, then answers every request with one `result` or `error` of its id.
 * Requests are handled one at a time, in order (the engine's arena is a stack).
 */
export function workerHandler(ready: Promise<Engine>, post: PostFn): (req: WorkerRequest) => Promise<void> {
  ready.then(
    (e) => post({ id: 0, type: "ready", wasmBytes: e.memoryBytes }),
    (e) => post({ id: 0, type: "error", error: errorToWire(e) }),
  );
  let queue: Promise<unknown> = Promise.resolve();
  return (req) => {
    const done = queue.then(async () => {
      try {
        const result = await handle(await ready, post, req);
        post({ id: req.id, type: "result", result });
      } catch (e) {
        post({ id: req.id, type: "error", error: errorToWire(e) });
      }
    });
    queue = done;
    return done;
  };
}
