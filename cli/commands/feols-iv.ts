// hdfe feols with an IV formula (y ~ exo | fe | endo ~ inst): 2SLS (bindings/estimators/iv.ts),
// printed by bindings/report/iv.ts (--etable: a regression table, bindings/report/etable.ts). Called by cli/commands/feols.ts when the formula has an IV part.
import { loadEngine } from "../../bindings/node.js";
import { iv } from "../../bindings/estimators/iv.js";
import { parseIvFormula, ivFormulaColumns } from "../../bindings/core/iv-formula.js";
import { ivFitToJson, ivSummary } from "../../bindings/report/iv.js";
import { OptionError, NonConvergenceError } from "../../bindings/base/errors.js";
import { readData, describeRead, vcovColumns, type ModelFlags, type ReadFlags } from "../data.js";
import { statusLine } from "../progress.js";
import { etable } from "../../bindings/report/etable.js";
import { tableFormat } from "./feols-multi.js";
import { hacSetup, type HacFlags } from "../post.js";

export interface IvFlags extends ReadFlags, ModelFlags, HacFlags {
  fixefAlgo?: string;
  json?: boolean;
  compress?: boolean;
  float32?: boolean;
  batch?: string;
  firstStage?: boolean;
  etable?: string;
}

export async function runIv(flags: IvFlags, threads: number): Promise<void> {
  const f = parseIvFormula(flags.formula);
  for (const [set, flag] of [[flags.compress, "--compress"], [flags.float32, "--float32"], [flags.batch !== undefined, "--batch"]] as const) {
    if (set) throw new OptionError(`${flag} is not available for IV (2SLS) formulas`, undefined, `remove ${flag}`);
  }
  if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none, got ${flags.fixefRm}`);
  const cols = ivFormulaColumns(f);
  const roles: Record<string, string> = {};
  if (flags.weights) cols.push(flags.weights), (roles[flags.weights] = "the weights column");
  for (const c of vcovColumns(flags.vcov)) cols.push(c), (roles[c] = "the cluster variable (--vcov)");
  const hac = hacSetup(flags);
  for (const c of hac.columns) cols.push(c), (roles[c] = "a panel / coordinate column of --vcov");
  const { frame, report } = await readData(flags, [...new Set(cols)], roles);
  const eng = await loadEngine();
  const status = statusLine(`estimating 2SLS on ${frame.nrows.toLocaleString("en-US")} rows...`);
  let fit: ReturnType<typeof iv>;
  try {
    fit = iv(eng, frame, f, {
      vcov: hac.vcov, panelId: hac.panelId, ssc: flags.ssc, fixefRm: flags.fixefRm, weights: flags.weights,
      fixefTol: Number(flags.fixefTol), fixefIter: Number(flags.fixefIter), level: Number(flags.level),
      fixefAlgo: flags.fixefAlgo as never, threads, strictConvergence: true,
      onWarning: (m) => {
        status.done();
        process.stderr.write(`warning: ${m}\n`);
      },
    });
  } finally {
    status.done();
  }
  if (!fit.converged) {
    throw new NonConvergenceError(`fixed-effect projections did not converge in ${flags.fixefIter} iterations (tolerance ${flags.fixefTol})`, { iterations: fit.iterations });
  }
  const readLines = describeRead(report);
  if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
  if (flags.etable) process.stdout.write(etable([fit], { format: tableFormat(flags.etable) }));
  else if (flags.json) process.stdout.write(JSON.stringify(ivFitToJson(fit)) + "\n");
  else process.stdout.write(ivSummary(fit, { firstStages: flags.firstStage }) + "\n");
}
