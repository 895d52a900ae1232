// hdfe psm: propensity-score matching (logit, nearest neighbour) then DiD on the matched rows.
import type { Command } from "commander";
import { loadEngine } from "../../bindings/node.js";
import { psmDid, type MOrder, type PsmDistance, type MatchCompat } from "../../bindings/psm/psm.js";
import { psmSummary, psmToJson } from "../../bindings/report/psm.js";
import { parseFormula, formulaColumns } from "../../bindings/core/formula.js";
import { OptionError } from "../../bindings/base/errors.js";
import { addReadOptions, readData, describeRead, vcovColumns, type ReadFlags } from "../data.js";

interface Flags extends ReadFlags {
  treatment: string;
  covariates: string;
  distance: string;
  ratio: string;
  replace?: boolean;
  caliper?: string;
  stdCaliper?: boolean;
  mOrder?: string;
  seed: string;
  by?: string;
  compat: string;
  didFormula: string;
  vcov?: string;
  ssc?: string;
  fixefRm: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("psm")
    .description("propensity-score matching (logit, nearest neighbour, MatchIt conventions), balance table, then DiD on the matched rows")
    .requiredOption("--treatment <col>", "0/1 treatment-group column, e.g. zone")
    .requiredOption("--covariates <cols>", "comma-separated covariates of the logit, e.g. Fin,Eco,Top1")
    .requiredOption("--did-formula <formula>", 'DiD formula estimated on the matched rows, e.g. "FC ~ did + Fin | firm + year"');
  addReadOptions(cmd)
    .option("--distance <d>", "logit (propensity score) | linear.logit", "logit")
    .option("--ratio <m>", "controls per treated unit (1:m)", "1")
    .option("--replace", "match with replacement")
    .option("--caliper <x>", "caliper in distance units (in SDs of the distance with --std-caliper)")
    .option("--std-caliper", "caliper in standard deviations of the distance (MatchIt's std.caliper = TRUE)")
    .option("--m-order <o>", "largest | smallest | data | random (default largest; data with --replace)")
    .option("--seed <n>", "seed of --m-order random", "0")
    .option("--by <col>", "match exactly within this column's values (e.g. year)")
    .option("--compat <c>", "none | matchit-4.5.1 (reproduce MatchIt 4.5.1 exactly, its matching defects included)", "none")
    .option("--vcov <spec>", "DiD: iid | hetero | cluster:v1[+v2] (default: clustered by the first FE)")
    .option("--ssc <conv>", "DiD small-sample convention: fixest | full | none | stata", "fixest")
    .option("--fixef-rm <what>", "DiD: singleton | none (keep singletons, as fixest)", "singleton")
    .option("--json", "print one JSON object instead of the tables")
    .action(async (flags: Flags) => {
      const covariates = flags.covariates.split(",").map((s) => s.trim()).filter(Boolean);
      if (!covariates.length) throw new OptionError("--covariates is empty");
      const ratio = Number(flags.ratio);
      if (!Number.isInteger(ratio) || ratio < 1) throw new OptionError(`--ratio must be a whole number >= 1, got ${flags.ratio}`);
      const caliper = flags.caliper === undefined ? undefined : Number(flags.caliper);
      if (caliper !== undefined && !(caliper >= 0)) throw new OptionError(`--caliper must be a number >= 0, got ${flags.caliper}`);
      if (flags.stdCaliper && caliper === undefined) throw new OptionError("--std-caliper needs --caliper");
      if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none, got ${flags.fixefRm}`);
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
      const f = parseFormula(flags.didFormula);
      const cols = [flags.treatment, ...covariates, ...formulaColumns(f)];
      if (flags.by) cols.push(flags.by);
      const roles: Record<string, string> = {};
      for (const c of vcovColumns(flags.vcov)) cols.push(c), (roles[c] = "the cluster variable (--vcov)");
      const { frame, report } = await readData(flags, [...new Set(cols)], roles);
      const eng = await loadEngine();
      const res = psmDid(eng, frame, {
        treatment: flags.treatment,
        covariates,
        distance: flags.distance as PsmDistance,
        ratio,
        replace: !!flags.replace,
        caliper,
        stdCaliper: !!flags.stdCaliper,
        mOrder: flags.mOrder as MOrder | undefined,
        seed,
        by: flags.by,
        compat: flags.compat as MatchCompat,
        did: { formula: flags.didFormula, vcov: flags.vcov, ssc: flags.ssc, fixefRm: flags.fixefRm },
        onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
      });
      const readLines = describeRead(report);
      if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
      if (flags.json) process.stdout.write(JSON.stringify(psmToJson(res)) + "\n");
      else process.stdout.write(psmSummary(res) + "\n");
    });
}
