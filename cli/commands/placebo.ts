// hdfe placebo: randomization inference for a DiD coefficient (in-space / in-time /
// random-time placebos, or a replay of given draws); hdfe wild: wild cluster bootstrap.
// Both fit the model once (feols) and never refit it; with --engine duckdb | clickhouse both
// run out of core (cli/sql-tools.ts: the fit and the sums in the engine, the draws here).
import type { Command } from "commander";
import { loadEngine } from "../../bindings/node.js";
import { writeSync } from "node:fs";
import { progressBar, progressIntervalMs } from "../progress.js";
import { feols, type Fit } from "../../bindings/estimators/feols.js";
import { parseFormula, formulaColumns } from "../../bindings/core/formula.js";
import { OptionError } from "../../bindings/base/errors.js";
import { placeboThreads, defaultThreads, readAssignmentsFile } from "../../bindings/platform/placebo-node.js";
import { preparePlacebo, drawAdoptionYears, planPlaceboDraws, type PlaceboScheme, type PlaceboMethod, type PlaceboOptions, type PlaceboResult, type DrawPlan } from "../../bindings/inference/placebo.js";
import { wild, type WildWeights, type WildOptions, type WildResult } from "../../bindings/inference/wild.js";
import { wildOutOfCore, placeboOutOfCore } from "../sql-tools.js";
import { engineOf, toolEngine } from "../sql-fit.js";
import { requireData } from "../clickhouse-fit.js";
import { placeboReport, wildReport } from "../../bindings/report/placebo.js";
import { checkCount, clampThreads } from "../../bindings/engine/limits.js";
import { tempFileFor } from "../write.js";
import { addReadOptions, readData, describeRead, vcovColumns, type ReadFlags } from "../data.js";

interface FitFlags extends ReadFlags {
  formula: string;
  vcov?: string;
  ssc?: string;
  fixefRm: string;
  weights?: string;
  fixefTol: string;
  json?: boolean;
  progressInterval?: string;
  memoryLimit?: string;
}

/** --memory-limit in GiB (> 0) as bytes; undefined: the library's default (1 GiB). */
export function memoryLimitBytes(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !(x > 0) || !Number.isFinite(x)) throw new OptionError(`--memory-limit must be a positive number of GiB, got ${v}`);
  return x * 2 ** 30;
}

/** The out-of-core flags both tools take (--engine duckdb | clickhouse and their solver's options). */
interface EngineFlags {
  engine?: string;
  table?: string;
  url?: string;
  timeout?: string;
  fixefIter?: string;
  fixefAlgo?: string;
}

interface PlaceboFlags extends FitFlags, EngineFlags {
  treatment: string;
  scheme: string;
  unit: string;
  adopt: string;
  year: string;
  strata?: string;
  draws: string;
  seed: string;
  shifts: string;
  assignments?: string;
  threads?: string;
  method: string;
  basisSolver: string;
  saveDraws?: string;
  saveAssignments?: string;
  force?: boolean;
}

interface WildFlags extends FitFlags, EngineFlags {
  param: string;
  cluster: string;
  B: string;
  weights: string;
  fitWeights?: string;
  unrestricted?: boolean;
  null: string;
  seed: string;
  level: string;
}

function addFitOptions(cmd: Command, dataRequired = true): Command {
  cmd.requiredOption("-f, --formula <formula>", 'fixest formula, e.g. "FC ~ did + Fin | firm + year"');
  addReadOptions(cmd, dataRequired)
    .option("--vcov <spec>", "variance of the fit (in-time placebo SEs): iid | hetero | cluster:v (default: clustered by the first FE)")
    .option("--ssc <conv>", "small-sample convention: fixest | full | none | stata", "fixest")
    .option("--fixef-rm <what>", "singleton (iterative removal, default) | none (keep, as fixest's default)", "singleton")
    .option("--fixef-tol <x>", "FE convergence tolerance of the fit and of the placebo columns", "1e-10")
    .option("--json", "print one JSON object instead of the text report")
    .option("--progress-interval <s>", "off a terminal, a progress line on stderr every s seconds (0: at every step)", "5")
    .option("--memory-limit <GiB>", "largest memory the draws may keep, planned before they start (default 1)");
  return cmd;
}

async function fitModel(flags: FitFlags, extraCols: string[], keep: string[], weights?: string, extraRoles: Record<string, string> = {}): Promise<{ fit: Fit; eng: Awaited<ReturnType<typeof loadEngine>> }> {
  const f = parseFormula(flags.formula);
  if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none, got ${flags.fixefRm}`);
  const cols = [...formulaColumns(f), ...extraCols];
  if (weights) cols.push(weights);
  const roles: Record<string, string> = { ...extraRoles };
  if (weights) roles[weights] = "the weights column";
  for (const c of vcovColumns(flags.vcov)) cols.push(c), (roles[c] = "the cluster variable (--vcov)");
  const { frame, report } = await readData(flags, [...new Set(cols)], roles);
  const readLines = describeRead(report);
  if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
  const eng = await loadEngine();
  const fit = feols(eng, frame, f, {
    vcov: flags.vcov, ssc: flags.ssc, fixefRm: flags.fixefRm, weights, fixefTol: Number(flags.fixefTol),
    keepColumns: keep, keepData: true, strictConvergence: true, onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  return { fit, eng };
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const OUT_CHUNK = 65536;
const stdout = (s: string) => void process.stdout.write(s);

/**
 * Write `obj` as one line of JSON with its large numeric arrays streamed in chunks (a
 * million draws are tens of MB of text: never one string; non-finite numbers as null).
 */
export function writeJsonLine(write: (s: string) => void, obj: Record<string, unknown>, arrays: Record<string, ArrayLike<number>>): void {
  const head = JSON.stringify(obj);
  write(head.slice(0, -1));
  let first = head.length <= 2;
  for (const [k, a] of Object.entries(arrays)) {
    write(`${first ? "" : ","}${JSON.stringify(k)}:[`);
    first = false;
    for (let i = 0; i < a.length; i += OUT_CHUNK) {
      const part: (number | null)[] = [];
      for (let j = i; j < Math.min(a.length, i + OUT_CHUNK); j++) part.push(Number.isFinite(a[j]) ? a[j] : null);
      write((i > 0 ? "," : "") + JSON.stringify(part).slice(1, -1));
    }
    write("]");
  }
  write("}\n");
}

/** Lines written to `file` in chunks (the file is created or replaced). */
/** Writes header + lines in chunks to a temporary file next to `file`, renamed into place when complete. */
async function writeLines(file: string, header: string, count: number, line: (i: number) => string, option: string, force = false): Promise<void> {
  const { openSync, closeSync, renameSync, rmSync } = await import("node:fs");
  const tmp = tempFileFor(file, option, force);
  const fd = openSync(tmp, "wx");
  try {
    writeSync(fd, header + "\n");
    for (let i = 0; i < count; i += OUT_CHUNK) {
      const part: string[] = [];
      for (let j = i; j < Math.min(count, i + OUT_CHUNK); j++) part.push(line(j));
      writeSync(fd, part.join("\n") + "\n");
    }
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function register(program: Command): void {
  const cmd = program
    .command("placebo")
    .description("placebo (randomization) inference for a DiD coefficient, without refitting the model; " +
      "--engine duckdb | clickhouse runs it out of core: the same draws and p-values as in memory for the same seed");
  addFitOptions(cmd, false)
    .requiredOption("--treatment <col>", "the DiD regressor of the formula, e.g. did")
    .option("--scheme <s>", "space (permute adoption years across units) | time (adoption moved earlier) | random-time", "space")
    .requiredOption("--unit <col>", "unit of assignment, e.g. city")
    .requiredOption("--adopt <col>", "first treated year of the unit (empty = never treated)")
    .requiredOption("--year <col>", "year column")
    .option("--strata <col>", "permute within the levels of this column, e.g. province")
    .option("--draws <n>", "number of draws", "1000")
    .option("--seed <n>", "seed (draw d uses stream d of it)", "1")
    .option("--shifts <list>", "scheme time: years moved earlier, comma-separated", "1,2")
    .option("--assignments <file>", "replay given draws: a file with columns draw, <unit>, adopt (empty adopt = never treated)")
    .option("--threads <n>", `worker threads (default 1; this machine has ${defaultThreads()} cores)`)
    .option("--method <m>", "auto | basis | demean", "auto")
    .option("--basis-solver <s>", "method basis: how the basis columns are projected off the FE: auto | direct (exact algebra: plain FE, out of core at most two with one small) | demean", "auto")
    .option("--weights <col>", "regression weights column")
    .option("--save-draws <file>", "write the placebo coefficients as CSV (draw, coef)")
    .option("--force", "replace --save-draws / --save-assignments files that exist")
    .option("--save-assignments <file>", "write each draw's adoption year of every unit as CSV (draw, <unit>, adopt), the --assignments format")
    .option("--engine <name>", "wasm (in memory) | duckdb | clickhouse: out of core, the data stays in the engine; the basis columns (unit x cohort) are projected off the FE there once (exact algebra for one FE or two with one of at most 100 levels, else demeaned 128 per FE solve; none per draw) and only (unit, year) cell sums and unit-pair sums come back; the draws run in memory on them: the same draws and p-values as in memory for the same seed (--scheme space | random-time, --assignments, --strata, --weights; not --scheme time, --method demean, --threads) (default: auto: wasm, or duckdb with a note when the fit does not fit WASM memory; duckdb for a .duckdb --data or --table)")
    .option("--table <name>", "with a .duckdb database as --data: the table (implies --engine duckdb); with --engine clickhouse: DB.TABLE (a Distributed table for a cluster)")
    .option("--url <url>", "with --engine clickhouse: the HTTP interface of a server of the cluster")
    .option("--timeout <s>", "with --engine clickhouse: seconds each query may run (0 = no limit)")
    .option("--fixef-iter <n>", "out of core: FE iteration limit", "10000")
    .option("--fixef-algo <algo>", "out of core, more than one FE: auto (projections, CG when they stall) | map | cg", "auto")
    .action(runPlacebo);


  const w = program
    .command("wild")
    .description("wild cluster bootstrap of one coefficient (restricted by default; Rademacher or Webb weights); " +
      "--engine duckdb | clickhouse runs it out of core: the same draws, p-values and interval as in memory for the same seed");
  addFitOptions(w, false)
    .requiredOption("--param <name>", "coefficient to test, e.g. did")
    .requiredOption("--cluster <col>", "bootstrap cluster variable, e.g. city")
    .option("--B <n>", "replications (full enumeration when 2^G <= B)", "9999")
    .option("--weights <w>", "bootstrap weights: rademacher | webb (six-point, for few clusters)", "rademacher")
    .option("--fit-weights <col>", "regression weights column of the model")
    .option("--unrestricted", "do not impose the null in the bootstrap DGP")
    .option("--null <x>", "value of the coefficient under the null", "0")
    .option("--seed <n>", "seed", "1")
    .option("--level <x>", "confidence level of the interval", "0.95")
    .option("--engine <name>", "wasm (in memory) | duckdb | clickhouse: out of core, the data stays in the engine (one FE solve per 32 clusters, none per draw) and only per-cluster sums (G x G x (k + 2)) come back; the same draws and results as in memory, --fit-weights included (default: auto: wasm, or duckdb with a note when the fit does not fit WASM memory; duckdb for a .duckdb --data or --table)")
    .option("--table <name>", "with a .duckdb database as --data: the table (implies --engine duckdb); with --engine clickhouse: DB.TABLE (a Distributed table for a cluster)")
    .option("--url <url>", "with --engine clickhouse: the HTTP interface of a server of the cluster")
    .option("--timeout <s>", "with --engine clickhouse: seconds each query may run (0 = no limit)")
    .option("--fixef-iter <n>", "out of core: FE iteration limit", "10000")
    .option("--fixef-algo <algo>", "out of core, more than one FE: auto (projections, CG when they stall) | map | cg", "auto")
    .action(runWild);
}

/** --save-assignments: every draw's adoption year of every unit, drawn again in blocks of 1000 draws. */
async function saveAssignments(eng: Parameters<typeof preparePlacebo>[0], P: DrawPlan, flags: PlaceboFlags): Promise<void> {
  const file = flags.saveAssignments!;
  const chunk = 1000;
  let block = -1;
  let a: Float64Array = new Float64Array(0);
  await writeLines(file, `draw,${flags.unit},adopt`, P.nDraws * P.U, (i) => {
    const d = Math.floor(i / P.U), u = i - d * P.U;
    if (Math.floor(d / chunk) !== block) {
      block = Math.floor(d / chunk);
      a = drawAdoptionYears(eng, P, block * chunk, Math.min(chunk, P.nDraws - block * chunk));
    }
    const y = a[(d - block * chunk) * P.U + u];
    return `${P.drawIds[d]},${csvCell(P.unitLabels[u])},${Number.isNaN(y) ? "" : y}`;
  }, "--save-assignments", flags.force);
}

async function runPlacebo(flags: PlaceboFlags): Promise<void> {
  const scheme = flags.scheme as PlaceboScheme;
  if (!["space", "time", "random-time"].includes(scheme)) throw new OptionError(`--scheme must be space, time or random-time, got ${flags.scheme}`);
  const draws = checkCount("--draws", flags.draws);
  const seed = Number(flags.seed);
  if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const threads = flags.threads === undefined ? 1 : clampThreads(flags.threads, defaultThreads(), warn, "--threads");
  const shifts = flags.shifts.split(",").map((s) => Number(s.trim()));
  if (shifts.some((s) => !Number.isInteger(s))) throw new OptionError(`--shifts must be integers, got ${flags.shifts}`);
  const intervalMs = progressIntervalMs(flags.progressInterval, (m) => new OptionError(m));
  // the draws' memory, planned before the data is read (replays: once the file is read);
  // the text report sorts a copy of the coefficients (8 bytes a draw)
  const memoryLimit = memoryLimitBytes(flags.memoryLimit);
  if (scheme !== "time" && !flags.assignments) planPlaceboDraws(draws, threads, 0, memoryLimit, { bytes: 8, what: "report copy" });
  // output files checked before any work (their directory exists, they are not directories)
  if (flags.saveDraws) tempFileFor(flags.saveDraws, "--save-draws", flags.force);
  if (flags.saveAssignments) tempFileFor(flags.saveAssignments, "--save-assignments", flags.force);
  const engine0 = engineOf(flags);
  if (engine0 !== "clickhouse") requireData(flags, "placebo");
  // the default (auto): out of core when the fit does not fit WASM memory and the options run there
  const engine = await toolEngine(engine0, flags, flags.weights, scheme !== "time" && flags.method !== "demean" && threads <= 1);
  if ((engine === "duckdb" || engine === "clickhouse") && threads > 1) {
    throw new OptionError("--threads is not used out of core: the draws run in one thread on the aggregates pulled back (a few arithmetic operations per basis pair each)",
      undefined, "leave --threads out, or run without --engine (in memory) for worker threads");
  }
  const assignments = flags.assignments ? await readAssignmentsFile(flags.assignments, flags.unit, flags.adopt) : undefined;
  const bar = progressBar("placebo draws", { intervalMs });
  const opts: PlaceboOptions = {
    treatment: flags.treatment, scheme, unit: flags.unit, adopt: flags.adopt, year: flags.year, strata: flags.strata,
    draws, seed, shifts, assignments, threads, method: flags.method as PlaceboMethod, fixefTol: Number(flags.fixefTol),
    basisSolver: flags.basisSolver as PlaceboOptions["basisSolver"], onProgress: bar.update, memoryLimit,
  };
  let r: PlaceboResult;
  let plan: () => DrawPlan;
  const eng = await loadEngine();
  if (engine === "duckdb" || engine === "clickhouse") {
    const out = await placeboOutOfCore(engine, flags, { ...opts, onWarning: warn });
    r = out.result;
    plan = () => out.plan;
  } else {
    const extra = [flags.unit, flags.adopt, flags.year, ...(flags.strata ? [flags.strata] : [])];
    const keep = [flags.unit, flags.year, ...(flags.strata ? [flags.strata] : [])];
    const { fit } = await fitModel(flags, extra, keep, flags.weights, {
      [flags.unit]: "the --unit column", [flags.adopt]: "the --adopt column", [flags.year]: "the --year column", ...(flags.strata ? { [flags.strata]: "the --strata column" } : {}),
    });
    r = await placeboThreads(eng, fit, opts);
    plan = () => preparePlacebo(eng, fit, { ...opts, threads: 1, onProgress: undefined });
  }
  bar.end();
  if (flags.saveAssignments) await saveAssignments(eng, plan(), flags);
  if (flags.saveDraws) {
    await writeLines(flags.saveDraws, "draw,coef", r.draws.length, (i) => `${r.drawIds[i]},${Number.isFinite(r.draws[i]) ? r.draws[i] : ""}`, "--save-draws", flags.force);
  }
  if (flags.json) {
    const { draws: dr, drawIds, ...rest } = r;
    writeJsonLine(stdout, rest, { draws: dr, drawIds });
  } else process.stdout.write(placeboReport(r) + "\n");
}

async function runWild(flags: WildFlags): Promise<void> {
  const B = checkCount("--B", flags.B);
  const intervalMs = progressIntervalMs(flags.progressInterval, (m) => new OptionError(m));
  const memoryLimit = memoryLimitBytes(flags.memoryLimit);
  const seed = Number(flags.seed);
  if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
  const bw = flags.weights.toLowerCase() as WildWeights;
  if (bw !== "rademacher" && bw !== "webb") throw new OptionError(`--weights must be rademacher or webb, got ${flags.weights}`);
  const nul = Number(flags.null);
  if (!Number.isFinite(nul)) throw new OptionError(`--null must be a number, got ${flags.null}`);
  const engine0 = engineOf(flags);
  if (engine0 !== "clickhouse") requireData(flags, "wild");
  const engine = await toolEngine(engine0, flags, flags.fitWeights, true);
  const bar = progressBar("bootstrap replications", { intervalMs });
  // the interval (test inversion, O(B) a step) gets its own progress once the draws are done
  let ciBar: ReturnType<typeof progressBar> | null = null;
  const wopts: WildOptions = {
    param: flags.param, cluster: flags.cluster, B, weights: bw, restricted: !flags.unrestricted, null: nul, seed,
    level: Number(flags.level), fixefTol: Number(flags.fixefTol), memoryLimit,
    onProgress: (done, total) => {
      bar.update(done, total);
      if (done >= total && !ciBar) {
        bar.end();
        ciBar = progressBar("confidence interval bounds", { intervalMs });
      }
    },
    onIntervalProgress: (done, total) => ciBar?.update(done, total),
  };
  let r: WildResult;
  if (engine === "duckdb" || engine === "clickhouse") r = await wildOutOfCore(engine, flags, wopts);
  else {
    const { fit, eng } = await fitModel(flags, [flags.cluster], [flags.cluster], flags.fitWeights, { [flags.cluster]: "the bootstrap cluster variable (--cluster)" });
    r = wild(eng, fit, wopts);
  }
  if (!ciBar) bar.end();
  (ciBar as ReturnType<typeof progressBar> | null)?.end();
  if (flags.json) {
    const { tStars, ...rest } = r;
    writeJsonLine(stdout, rest, { tStars });
  } else process.stdout.write(wildReport(r) + "\n");
}
