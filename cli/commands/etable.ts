// hdfe etable: one regression table of saved fits (the JSON of `hdfe feols --json`: an object,
// an IV fit, `hdfe glm --json`, or the array of a multiple estimation), in fixest's etable conventions (bindings/report/etable.ts).
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { etable, tableModelOfJson, type TableModel } from "../../bindings/report/etable.js";
import type { FitJson } from "../../bindings/report/summary.js";
import { DataReadError, OptionError } from "../../bindings/base/errors.js";
import { listOf } from "../data.js";
import { tableFormat } from "./feols-multi.js";

interface Flags {
  table: string;
  dict?: string[];
  fitstat?: string;
  keep?: string;
  drop?: string;
  order?: string;
  brackets?: boolean;
  title?: string;
}

/** The models of one saved file (an object, or an array of multiple-estimation members). */
export function readSavedFits(path: string): TableModel[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new DataReadError(`cannot read ${JSON.stringify(path)}: ${(e as Error).message}`, { path });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataReadError(`${JSON.stringify(path)} is not JSON: ${(e as Error).message}`, { path }, "save fits with hdfe feols --json > fit.json");
  }
  const list = Array.isArray(json) ? json : [json];
  return list.map((j, i) => {
    try {
      return tableModelOfJson(j as FitJson);
    } catch (e) {
      if (e instanceof OptionError) throw new DataReadError(`${JSON.stringify(path)}${Array.isArray(json) ? ` entry ${i + 1}` : ""}: ${e.message}`, { path });
      throw e;
    }
  });
}

export function register(program: Command): void {
  program
    .command("etable")
    .description("a regression table of saved fits (hdfe feols / glm --json output, OLS, IV and GLM), fixest etable conventions")
    .argument("<files...>", "JSON files written by hdfe feols --json or hdfe glm --json (one fit, or the array of a multiple estimation)")
    .option("--table <format>", "md | tex | html | csv | text", "text")
    .option("--dict <name=label...>", 'rename terms, FE and outcomes, e.g. --dict "did=Zone x Post" "Fin=Leverage"')
    .option("--fitstat <names>", "fit statistics by fixest's names, comma-separated: nobs, r2, ar2, wr2, rmse, ssr, ivf1, ivwald1, ivf2, ivwald2, wh, sargan, cd, sq.cor, pr2, apr2, wpr2, wapr2, ll, deviance, aic, bic, family (default nobs,r2,wr2; with GLM fits also sq.cor,pr2,bic; with IV fits ivf1)")
    .option("--keep <regexes>", "show only coefficients matching one of these (comma-separated regular expressions)")
    .option("--drop <regexes>", "hide coefficients matching one of these")
    .option("--order <regexes>", "coefficients matching the first come first, then the second...")
    .option("--brackets", "standard errors in [brackets] instead of (parentheses)")
    .option("--title <text>", "table title", "Estimation results")
    .action((files: string[], flags: Flags) => {
      const format = tableFormat(flags.table);
      const dict: Record<string, string> = {};
      for (const d of flags.dict ?? []) {
        const at = d.indexOf("=");
        if (at <= 0) throw new OptionError(`--dict expects name=label, got ${JSON.stringify(d)}`);
        dict[d.slice(0, at).trim()] = d.slice(at + 1).trim();
      }
      const models = files.flatMap(readSavedFits);
      process.stdout.write(etable(models, {
        format, dict, fitstat: flags.fitstat === undefined ? undefined : listOf(flags.fitstat), keep: listOf(flags.keep), drop: listOf(flags.drop), order: listOf(flags.order),
        brackets: flags.brackets, title: flags.title,
      }));
    });
}
