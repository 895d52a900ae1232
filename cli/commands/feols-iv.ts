// hdfe feols with an IV formula (y ~ exo | fe | endo ~ inst): 2SLS (bindings/estimators/iv.ts),
// printed by bindings/report/iv.ts (--etable: a regression table, bindings/report/etable.ts). Called by cli/commands/feols.ts when the formula has an IV part.
// A multiple estimation (c() outcomes, stepwise terms, --split / --fsplit) fits every model by
// 2SLS (estimateMulti, one shared demeaning cache) and prints them as hdfe feols prints OLS ones.
import { loadEngine } from "../../bindings/node.js";
import { iv, type IvFit, type IvOptions } from "../../bindings/estimators/iv.js";
import { parseIvFormula, ivFormulaColumns } from "../../bindings/core/iv-formula.js";
import { ivFitToJson, ivSummary } from "../../bindings/report/iv.js";
import { OptionError, NonConvergenceError } from "../../bindings/base/errors.js";
import { readData, describeRead, vcovColumns, type ModelFlags, type ReadFlags } from "../data.js";
import { statusLine } from "../progress.js";
import { etable } from "../../bindings/report/etable.js";
import { tableFormat, isMultiCall, multiColumns, printMulti } from "./feols-multi.js";
import { estimateMulti, type MultiResult } from "../../bindings/estimators/multi.js";
import { hacSetup, type HacFlags } from "../post.js";

export interface IvFlags extends ReadFlags, ModelFlags, HacFlags {
  fixefAlgo?: string;
  json?: boolean;
  compress?: boolean;
  float32?: boolean;
  batch?: string;
  firstStage?: boolean;
  etable?: string;
  split?: string;
  fsplit?: string;
}

export async function runIv(flags: IvFlags, threads: number): Promise<void> {
  // a multiple estimation (c() outcomes, stepwise terms, --split / --fsplit): every model 2SLS
  const multi = isMultiCall(flags.formula, flags);
  const f = multi ? null : parseIvFormula(flags.formula);
  for (const [set, flag] of [[flags.compress, "--compress"], [flags.float32, "--float32"], [flags.batch !== undefined, "--batch"]] as const) {
    if (set) throw new OptionError(`${flag} is not available for IV (2SLS) formulas`, undefined, `remove ${flag}`);
  }
  if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none, got ${flags.fixefRm}`);
  if (multi && flags.firstStage) throw new OptionError("--first-stage prints one model's first stages, not a multiple estimation's", undefined, "run the model alone with --first-stage");
  const cols = f ? ivFormulaColumns(f) : multiColumns(flags.formula, flags, (m) => ivFormulaColumns(parseIvFormula(m)));
  const roles: Record<string, string> = {};
  if (flags.weights) cols.push(flags.weights), (roles[flags.weights] = "the weights column");
  for (const c of vcovColumns(flags.vcov)) cols.push(c), (roles[c] = "the cluster variable (--vcov)");
  const hac = hacSetup(flags);
  for (const c of hac.columns) cols.push(c), (roles[c] = "a panel / coordinate column of --vcov");
  const { frame, report } = await readData(flags, [...new Set(cols)], roles);
  const eng = await loadEngine();
  const status = statusLine(`estimating 2SLS on ${frame.nrows.toLocaleString("en-US")} rows...`);
  const opts: IvOptions = {
    vcov: hac.vcov, panelId: hac.panelId, ssc: flags.ssc, fixefRm: flags.fixefRm as IvOptions["fixefRm"], weights: flags.weights,
    fixefTol: Number(flags.fixefTol), fixefIter: Number(flags.fixefIter), level: Number(flags.level),
    fixefAlgo: flags.fixefAlgo as never, threads, strictConvergence: true,
    onWarning: (m: string) => {
      status.done();
      process.stderr.write(`warning: ${m}\n`);
    },
  };
  let fits: IvFit[];
  let result: MultiResult<IvFit> | null = null;
  try {
    if (f) fits = [iv(eng, frame, f, opts)];
    else {
      result = estimateMulti((d, fm, o) => iv(eng, d, fm, o), frame, flags.formula, { ...opts, split: flags.split, fsplit: flags.fsplit });
      fits = result.models.map((m) => m.fit);
    }
  } finally {
    status.done();
  }
  for (const fit of fits) {
    if (!fit.converged) {
      throw new NonConvergenceError(`fixed-effect projections did not converge in ${flags.fixefIter} iterations (tolerance ${flags.fixefTol})`, { iterations: fit.iterations });
    }
  }
  const readLines = describeRead(report);
  if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
  if (result) process.stdout.write(printMulti(result, flags, { json: (fit) => ({ ...ivFitToJson(fit) }), text: (fit) => ivSummary(fit) }));
  else if (flags.etable) process.stdout.write(etable(fits, { format: tableFormat(flags.etable) }));
  else if (flags.json) process.stdout.write(JSON.stringify(ivFitToJson(fits[0])) + "\n");
  else process.stdout.write(ivSummary(fits[0], { firstStages: flags.firstStage }) + "\n");
}
