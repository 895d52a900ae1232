// hdfe feols: one fixed-effects OLS model.
import type { Command } from "commander";
import { loadEngine } from "../../bindings/node.js";
import { feols, type FeolsOptions } from "../../bindings/estimators/feols.js";
import { expandFormula } from "../../bindings/core/multi.js";
import { etable } from "../../bindings/report/etable.js";
import { feolsCompressed } from "../../bindings/estimators/compress.js";
import { parseFormula, formulaColumns } from "../../bindings/core/formula.js";
import { fitToJson, summary } from "../../bindings/report/summary.js";
import { OptionError, NonConvergenceError } from "../../bindings/base/errors.js";
import { addReadOptions, readData, describeRead, vcovColumns, placeModel, type ModelFlags, type ReadFlags } from "../data.js";
import { statusLine } from "../progress.js";
import { clampThreads } from "../../bindings/engine/limits.js";
import { availableParallelism } from "node:os";
import { engineOf, fitDuckdb, fallbackNote, planEngine } from "../sql-fit.js";
import { fitClickhouse, requireData } from "../clickhouse-fit.js";
import { WasmMemoryError } from "../../bindings/base/errors.js";
import { isIvFormula } from "../../bindings/core/iv-formula.js";
import { runIv } from "./feols-iv.js";
import { hacSetup, postResults, postLines, type HacFlags, type PostFlags } from "../post.js";
import { isMultiCall, multiColumns, runMulti, printMulti, tableFormat } from "./feols-multi.js";
import { OPTIONS } from "../../bindings/base/options.js";

interface Flags extends ReadFlags, ModelFlags, HacFlags, PostFlags {
  fixefAlgo?: string;
  threads?: string;
  json?: boolean;
  compress?: boolean;
  float32?: boolean;
  batch?: string;
  split?: string;
  fsplit?: string;
  etable?: string;
  firstStage?: boolean;
  engine?: string;
  table?: string;
  url?: string;
  timeout?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command("feols")
    .description("estimate y ~ x | fe1 + fe2 (or 2SLS: y ~ x | fe | endo ~ inst) with fixest-identical inference")
    .requiredOption("-f, --formula <formula>", 'fixest formula, e.g. "FC ~ did + Fin | firm + year"');
  addReadOptions(cmd, false)
    .option("--vcov <spec>", "iid | hetero | cluster:v1[+v2] | nw:LAG | dk:LAG | conley[:KM | :MILESmi][:spherical] (Conley without a cutoff: fixest's default) (default: clustered by the first FE; iid without FE)")
    .option("--panel-id <unit,time>", "panel unit and time columns for --vcov nw / dk")
    .option("--coords <lat,lon>", "latitude and longitude columns for --vcov conley (default: lat,lon)")
    .option("--wald <regex>", 'joint Wald test that the coefficients matching the regex are 0, e.g. "Fin|Eco"')
    .option("--hypothesis <h>", 'linear hypotheses, e.g. "Fin = Eco" or "Fin + Eco = 0, did = 0.1"')
    .option("--ssc <conv>", "small-sample convention: fixest | full | none | stata", "fixest")
    .option("--fixef-rm <what>", "singleton (iterative removal, default) | none (keep, as fixest's default)", "singleton")
    .option("--weights <col>", "regression weights column")
    .option("--fixef-tol <x>", "FE convergence tolerance", "1e-8")
    .option("--fixef-iter <n>", "FE iteration limit", "10000")
    .option("--level <x>", "confidence level", "0.95")
    .option("--fixef-algo <algo>", `demeaning: ${OPTIONS.fixefAlgo.values.join(" | ")} (auto: projections, then LSMR for the columns they leave after 20 steps; lsmr: LSMR alone)`, "auto")
    .option("--threads <n>", "demeaning threads (columns split across worker threads; same results)", "1")
    .option("--compress", "estimate on cells of identical rows (sufficient statistics): exact, for data whose rows repeat")
    .option(
      "--float32",
      "hold the raw outcome and regressors as float32 in WASM memory (half the memory; values rounded to ~7 digits, all arithmetic in float64)",
    )
    .option("--batch <n>", "with --float32: columns demeaned together (default: as many as fit)")
    .option("--first-stage", "IV formulas: print the first stages too")
    .option("--json", "print one JSON object instead of the table (a JSON array of per-model objects for a multiple estimation)")
    .option("--split <col>", "one model per value of this column (fixest split = ~col)")
    .option("--fsplit <col>", "the full sample, then one model per value of this column (fixest fsplit = ~col)")
    .option("--etable <format>", "print a regression table of the model(s) instead: md | tex | html | csv | text")
    .option("--engine <name>", "wasm (in memory) | duckdb (out of core: the data stays in DuckDB) | clickhouse (out of core on a ClickHouse server or cluster: --url, --table) | auto (wasm; duckdb when the model does not fit WASM memory)", "auto")
    .option("--table <name>", "with a .duckdb database as --data: the table to fit (implies --engine duckdb); with --engine clickhouse: DB.TABLE (a Distributed table for a cluster)")
    .option("--url <url>", "with --engine clickhouse: the HTTP interface of a server of the cluster, e.g. http://127.0.0.1:8123")
    .option("--timeout <s>", "with --engine clickhouse: seconds each query may run (ClickHouse max_execution_time; 0 = no limit)")
    .action(runFeols);
}

/** The first model's formula of a multiple estimation (to check the syntax before reading data). */
function expandFirst(formula: string): string {
  return expandFormula(formula).models[0].formula;
}

/** The in-memory fit: the columns read, the library options, the single or multiple estimation. */
async function fitInMemory(flags: Flags, f: ReturnType<typeof parseFormula>, multi: boolean, engine: ReturnType<typeof engineOf>, fixefRm: "singleton" | "none"): Promise<void> {
  const print = (fit: Awaited<ReturnType<typeof fitDuckdb>>) =>
    process.stdout.write(flags.json ? JSON.stringify(fitToJson(fit)) + "\n" : summary(fit) + "\n");
  const cols = multi ? multiColumns(flags.formula, flags) : formulaColumns(f);
  const roles: Record<string, string> = {};
  if (flags.weights) cols.push(flags.weights), (roles[flags.weights] = "the weights column");
  for (const c of vcovColumns(flags.vcov)) cols.push(c), (roles[c] = "the cluster variable (--vcov)");
  const hac = hacSetup(flags);
  for (const c of hac.columns) cols.push(c), (roles[c] = "a panel / coordinate column of --vcov");
  // more threads than cores only cost memory and time (the results are the same): clamped, with a warning
  const threads = clampThreads(flags.threads, availableParallelism(), (m) => process.stderr.write(`warning: ${m}\n`), "--threads");
  // the memory plan on the file's rows, before reading it: auto fits a model too large out of core
  if (!flags.compress && !flags.float32) {
    const fe = f.fixef.length;
    const outOfCore = engine === "auto" && !multi && !flags.etable && !hac.columns.length && !flags.wald && !flags.hypothesis;
    const regressors = Math.max(0, formulaColumns(f).length - 1 - fe);
    if ((await planEngine(flags, { regressors, fe }, outOfCore)) === "duckdb") return void print(await fitDuckdb(flags));
  }
  // the kernels compile (off the main thread) while the data is read
  const engine0 = loadEngine();
  engine0.catch(() => {}); // a failed read is the error to report; the engine's own failure is awaited below
  // one plain float64 model: its outcome and regressors read straight into WASM memory
  const plain = !multi && !flags.compress && !flags.float32 && !hac.columns.length && !flags.wald && !flags.hypothesis;
  const others = [...(flags.weights ? [flags.weights] : []), ...vcovColumns(flags.vcov)];
  const place = plain && process.env.HDFE_PLACED !== "0" ? placeModel(f, others, engine0) : undefined;
  const { frame, report } = await readData(flags, [...new Set(cols)], roles, place);
  const eng = await engine0;
  const status = statusLine(`estimating on ${frame.nrows.toLocaleString("en-US")} rows${flags.float32 ? " (float32 storage)" : ""}...`);
  const fopts = {
    vcov: hac.vcov,
    panelId: hac.panelId,
    ssc: flags.ssc,
    fixefRm,
    weights: flags.weights,
    fixefTol: Number(flags.fixefTol),
    fixefIter: Number(flags.fixefIter),
    level: Number(flags.level),
    fixefAlgo: flags.fixefAlgo as never,
    threads,
    storage: flags.float32 ? "f32" : undefined,
    batch: flags.batch === undefined ? undefined : Number(flags.batch),
    // a result that did not converge is not printed: exit 7 with what to change
    strictConvergence: true,
    onWarning: (m) => {
      status.done();
      process.stderr.write(`warning: ${m}\n`);
    },
  } satisfies FeolsOptions;
  if (multi) {
    let r: ReturnType<typeof runMulti>;
    try {
      r = runMulti(eng, frame, flags.formula, fopts, flags);
    } finally {
      status.done();
    }
    const readLines = describeRead(report);
    if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
    process.stdout.write(printMulti(r, flags));
    return;
  }
  const estimate = () => (flags.compress ? feolsCompressed : feols)(eng, frame, f, fopts);
  let fit: ReturnType<typeof estimate>;
  try {
    fit = estimate();
  } catch (e) {
    // auto: a model the memory plan refuses is fitted out of core
    if (!(e instanceof WasmMemoryError && engine === "auto" && !flags.compress && !flags.float32)) throw e;
    status.done();
    process.stderr.write(fallbackNote(e));
    return void print(await fitDuckdb(flags));
  } finally {
    status.done();
  }
  if (!fit.converged) {
    throw new NonConvergenceError(
      `fixed-effect projections did not converge in ${flags.fixefIter} iterations (tolerance ${flags.fixefTol})`,
      { iterations: fit.iterations },
      "raise --fixef-iter, loosen --fixef-tol, or check for a poorly connected FE structure",
    );
  }
  const readLines = describeRead(report);
  if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
  const post = postResults(fit, flags);
  if (flags.etable) process.stdout.write(etable([fit], { format: tableFormat(flags.etable) }));
  else if (flags.json) process.stdout.write(JSON.stringify(post ? { ...fitToJson(fit), post } : fitToJson(fit)) + "\n");
  else process.stdout.write(summary(fit) + "\n" + (post ? postLines(post).join("\n") + "\n" : ""));}

async function runFeols(flags: Flags): Promise<void> {
  const onClickhouse = (flags.engine ?? "").toLowerCase() === "clickhouse";
  if (!onClickhouse) requireData(flags);
  const outOfCore = engineOf(flags);
  if ((outOfCore === "duckdb" || outOfCore === "clickhouse") && (isIvFormula(flags.formula) || flags.panelId || flags.coords || flags.wald || flags.hypothesis || flags.firstStage)) {
    throw new OptionError(`--engine ${outOfCore} fits OLS formulas only, without --panel-id, --coords, --wald, --hypothesis or --first-stage`);
  }
  if (flags.etable !== undefined) tableFormat(flags.etable);
  if (flags.etable !== undefined && flags.json) throw new OptionError("give --json or --etable, not both");
  const multi = isMultiCall(flags.formula, flags);
  if (isIvFormula(flags.formula)) {
    if (flags.wald || flags.hypothesis) {
      throw new OptionError("--wald and --hypothesis apply to OLS formulas, not yet to IV");
    }
    return runIv(flags, clampThreads(flags.threads, availableParallelism(), (m) => process.stderr.write(`warning: ${m}\n`), "--threads"));
  }
  if (multi && (flags.wald || flags.hypothesis)) throw new OptionError("--wald and --hypothesis apply to one model, not to a multiple estimation");
  // c() outcomes and stepwise functions are parsed model by model (feols-multi.ts)
  const f = parseFormula(multi ? expandFirst(flags.formula) : flags.formula);
  const engine = engineOf(flags);
  const print = (fit: Awaited<ReturnType<typeof fitDuckdb>>) =>
    process.stdout.write(flags.json ? JSON.stringify(fitToJson(fit)) + "\n" : summary(fit) + "\n");
  if (engine === "clickhouse") {
    if (multi || flags.etable) throw new OptionError("--engine clickhouse fits one OLS model: no multiple estimation or --etable yet");
    return void print(await fitClickhouse(flags));
  }
  if (engine === "duckdb") {
    if (multi || flags.etable) throw new OptionError("--engine duckdb fits one OLS model: no multiple estimation or --etable yet");
    if (flags.compress || flags.float32) throw new OptionError("--compress and --float32 are in-memory options: --engine duckdb computes the exact fit out of core");
    return void print(await fitDuckdb(flags));
  }
  if (flags.batch !== undefined && !flags.float32) throw new OptionError("--batch applies to --float32 storage only");
  if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none, got ${flags.fixefRm}`);
  const fixefRm = flags.fixefRm;
  return fitInMemory(flags, f, multi, engine, fixefRm);
}
