// hdfe fepois / hdfe feglm --family logit|probit: one GLM with fixed effects (IRLS), with
// feols' reading, vcov and --json conventions; a multiple estimation (c() outcomes, stepwise
// terms, --split / --fsplit) fits every model and prints them as hdfe feols prints its members.
import type { Command } from "commander";
import { availableParallelism } from "node:os";
import { loadEngine } from "../../bindings/node.js";
import { feglm, type GlmOptions } from "../../bindings/estimators/glm.js";
import { parseFormula, formulaColumns } from "../../bindings/core/formula.js";
import { glmToJson, glmSummary } from "../../bindings/report/glm.js";
import { addReadOptions, readData, describeRead, vcovColumns, type ReadFlags } from "../data.js";
import { statusLine } from "../progress.js";
import { etable } from "../../bindings/report/etable.js";
import { tableFormat, isMultiCall, multiColumns, printMulti } from "./feols-multi.js";
import { estimateMulti } from "../../bindings/estimators/multi.js";
import { clampThreads } from "../../bindings/engine/limits.js";
import { OptionError } from "../../bindings/base/errors.js";
import { checkChoice, OPTIONS } from "../../bindings/base/options.js";

interface Flags extends ReadFlags {
  formula: string;
  family?: string;
  vcov?: string;
  ssc?: string;
  fixefRm?: string;
  separation?: string;
  weights?: string;
  offset?: string;
  fixefTol?: string;
  fixefIter?: string;
  fixefAlgo?: string;
  glmTol?: string;
  coefTol?: string;
  glmIter?: string;
  level?: string;
  threads?: string;
  json?: boolean;
  etable?: string;
  split?: string;
  fsplit?: string;
}

export function register(program: Command): void {
  for (const name of ["fepois", "feglm"] as const) {
    const cmd = program
      .command(name)
      .description(name === "fepois"
        ? "Poisson pseudo-maximum likelihood y ~ x | fe1 + fe2 (fixest fepois, Stata ppmlhdfe)"
        : "logit / probit y ~ x | fe1 + fe2 (fixest feglm)")
      .requiredOption("-f, --formula <formula>", 'fixest formula, e.g. "patents ~ did + Fin | firm + year"');
    if (name === "feglm") cmd.option("--family <family>", "logit | probit", "logit");
    addReadOptions(cmd)
      .option("--vcov <spec>", "iid | hetero | cluster:v1[+v2] (default: clustered by the first FE; iid without FE)")
      .option("--ssc <conv>", "small-sample convention: fixest | full | none | stata", "fixest")
      .option("--fixef-rm <what>", "perfect (FE levels with only 0 [or only 1] outcomes, fixest's default) | both (and singletons) | singleton | none", "perfect")
      .option("--separation <how>", "ir (FE rule, then rows separated by the regressors removed: ppmlhdfe's iterative rectifier) | fe (FE rule only, as fixest) | none", "ir")
      .option("--weights <col>", "prior weights column")
      .option("--offset <col>", "offset column (added to the linear predictor)")
      .option("--fixef-tol <x>", "FE convergence tolerance at each IRLS step", "1e-10")
      .option("--fixef-iter <n>", "FE iteration limit", "10000")
      .option("--fixef-algo <algo>", `demeaning: ${OPTIONS.fixefAlgo.values.join(" | ")} (auto: projections, then LSMR for the columns they leave after 20 steps; lsmr: LSMR alone)`, "auto")
      .option("--glm-tol <x>", "relative deviance change (fixest's glm.tol criterion)", "1e-10")
      .option("--coef-tol <x>", "largest coefficient change relative to max(|b|, se) (also required)", "1e-10")
      .option("--glm-iter <n>", "IRLS iteration limit", "100")
      .option("--level <x>", "confidence level", "0.95")
      .option("--threads <n>", "demeaning threads (same results)", "1")
      .option("--split <col>", "one model per value of this column (a multiple estimation, as hdfe feols)")
      .option("--fsplit <col>", "the full sample, then one model per value of this column")
      .option("--json", "print one JSON object instead of the table (a JSON array of per-model objects for a multiple estimation)")
      .option("--etable <format>", "print a regression table of the model(s) instead (fixest's etable): md | tex | html | csv | text")
      .action(async (flags: Flags) => {
        if (flags.etable !== undefined) tableFormat(flags.etable);
        if (flags.etable !== undefined && flags.json) throw new OptionError("give --json or --etable, not both");
        // c() outcomes, stepwise terms or --split / --fsplit: every model fitted, printed as hdfe feols prints them
        const multi = isMultiCall(flags.formula, flags);
        const f = multi ? null : parseFormula(flags.formula);
        const cols = f ? formulaColumns(f) : multiColumns(flags.formula, flags);
        const roles: Record<string, string> = {};
        if (flags.weights) cols.push(flags.weights), (roles[flags.weights] = "the weights column");
        if (flags.offset) cols.push(flags.offset), (roles[flags.offset] = "the offset column");
        for (const c of vcovColumns(flags.vcov)) cols.push(c), (roles[c] = "the cluster variable (--vcov)");
        const threads = clampThreads(flags.threads, availableParallelism(), (m) => process.stderr.write(`warning: ${m}\n`), "--threads");
        const { frame, report } = await readData(flags, [...new Set(cols)], roles);
        const eng = await loadEngine();
        const status = statusLine(`estimating on ${frame.nrows.toLocaleString("en-US")} rows...`);
        const opts: GlmOptions = {
          family: name === "fepois" ? "poisson" : (flags.family as GlmOptions["family"]),
          vcov: flags.vcov,
          ssc: flags.ssc,
          fixefRm: flags.fixefRm as GlmOptions["fixefRm"],
          separation: flags.separation === undefined ? undefined : checkChoice<NonNullable<GlmOptions["separation"]>>("separation", flags.separation, "--separation"),
          weights: flags.weights,
          offset: flags.offset,
          fixefTol: Number(flags.fixefTol),
          fixefIter: Number(flags.fixefIter),
          fixefAlgo: flags.fixefAlgo as GlmOptions["fixefAlgo"],
          glmTol: Number(flags.glmTol),
          coefTol: Number(flags.coefTol),
          glmIter: Number(flags.glmIter),
          level: Number(flags.level),
          threads,
          // a fit whose projections did not converge is not printed: exit 7 with what to change
          strictConvergence: true,
          onWarning: (m) => {
            status.done();
            process.stderr.write(`warning: ${m}\n`);
          },
        };
        // the text to print: one fit as --etable / --json / its summary say, or the members of a multiple estimation
        let out: string;
        try {
          if (f) {
            const fit = feglm(eng, frame, f, opts);
            out = flags.etable ? etable([fit], { format: tableFormat(flags.etable) }) : flags.json ? JSON.stringify(glmToJson(fit)) + "\n" : glmSummary(fit) + "\n";
          } else {
            const r = estimateMulti((d, fm, o) => feglm(eng, d, fm, o), frame, flags.formula, { ...opts, split: flags.split, fsplit: flags.fsplit });
            out = printMulti(r, flags, { json: (x) => ({ ...glmToJson(x) }), text: glmSummary });
          }
        } finally {
          status.done();
        }
        const readLines = describeRead(report);
        if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
        process.stdout.write(out);
      });
  }
}
