// hdfe placebo: randomization inference for a DiD coefficient (in-space / in-time /
// random-time placebos, or a replay of given draws); hdfe wild: wild cluster bootstrap.
// Both fit the model once (feols) and never refit it.
import type { Command } from "commander";
import { loadEngine } from "../../bindings/node.js";
import { progressBar } from "../progress.js";
import { feols, type Fit } from "../../bindings/feols.js";
import { parseFormula, formulaColumns } from "../../bindings/formula.js";
import { readFile } from "../../bindings/io/node.js";
import { Frame } from "../../bindings/frame.js";
import { OptionError, ColumnError } from "../../bindings/errors.js";
import { placeboThreads, defaultThreads } from "../../bindings/placebo-node.js";
import { preparePlacebo, drawAdoptionYears, type PlaceboScheme, type PlaceboMethod, type PlaceboAssignments, type PlaceboOptions } from "../../bindings/placebo.js";
import { wild, type WildWeights } from "../../bindings/wild.js";
import { placeboReport, placeboToJson, wildReport, wildToJson } from "../../bindings/report/placebo.js";
import { addReadOptions, readData, describeRead, type ReadFlags } from "../data.js";

interface FitFlags extends ReadFlags {
  formula: string;
  vcov?: string;
  ssc?: string;
  fixefRm: string;
  weights?: string;
  fixefTol: string;
  json?: boolean;
}

interface PlaceboFlags extends FitFlags {
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
  saveDraws?: string;
  saveAssignments?: string;
}

interface WildFlags extends FitFlags {
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

function intFlag(v: string, name: string, min = 1): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new OptionError(`--${name} must be an integer >= ${min}, got ${v}`);
  return x;
}

function addFitOptions(cmd: Command): Command {
  cmd.requiredOption("-f, --formula <formula>", 'fixest formula, e.g. "FC ~ did + Fin | firm + year"');
  addReadOptions(cmd)
    .option("--vcov <spec>", "variance of the fit (in-time placebo SEs): iid | hetero | cluster:v (default: clustered by the first FE)")
    .option("--ssc <conv>", "small-sample convention: fixest | full | none | stata", "fixest")
    .option("--fixef-rm <what>", "singleton (iterative removal, default) | none (keep, as fixest's default)", "singleton")
    .option("--fixef-tol <x>", "FE convergence tolerance of the fit and of the placebo columns", "1e-10")
    .option("--json", "print one JSON object instead of the text report");
  return cmd;
}

async function fitModel(flags: FitFlags, extraCols: string[], keep: string[], weights?: string): Promise<{ fit: Fit; eng: Awaited<ReturnType<typeof loadEngine>> }> {
  const f = parseFormula(flags.formula);
  if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none, got ${flags.fixefRm}`);
  const cols = [...formulaColumns(f), ...extraCols];
  if (weights) cols.push(weights);
  if (flags.vcov?.startsWith("cluster:")) for (const v of flags.vcov.slice(8).split("+")) for (const p of v.split("^")) cols.push(p.trim());
  const { frame, report } = await readData(flags, [...new Set(cols)]);
  const readLines = describeRead(report);
  if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
  const eng = await loadEngine();
  const fit = feols(eng, frame, f, {
    vcov: flags.vcov, ssc: flags.ssc, fixefRm: flags.fixefRm, weights, fixefTol: Number(flags.fixefTol),
    keepColumns: keep, keepData: true, onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  return { fit, eng };
}

async function readAssignments(file: string, unit: string, adopt: string): Promise<PlaceboAssignments> {
  const { table } = await readFile(file);
  const f = Frame.fromArrow(table);
  const pick = (names: string[], role: string) => {
    const hit = names.find((n) => f.has(n));
    if (!hit) throw new ColumnError(`the assignments file ${file} has no ${role} column (looked for ${names.join(", ")})`, { available: f.names });
    return hit;
  };
  const d = pick(["draw"], "draw");
  const u = pick([unit, "unit"], "unit");
  const a = pick(["adopt", adopt], "adopt");
  const draw = f.numeric(d);
  for (let i = 0; i < draw.length; i++) if (!Number.isInteger(draw[i])) throw new OptionError(`assignments: draw must be an integer (row ${i + 1})`);
  const uc = f.codes(u);
  const units = Array.from(uc.codes, (c) => (c < 0 ? "" : uc.levels[c]));
  return { draw: Int32Array.from(draw), unit: units, adopt: f.numeric(a) };
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function register(program: Command): void {
  const cmd = program
    .command("placebo")
    .description("placebo (randomization) inference for a DiD coefficient, without refitting the model");
  addFitOptions(cmd)
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
    .option("--weights <col>", "regression weights column")
    .option("--save-draws <file>", "write the placebo coefficients as CSV (draw, coef)")
    .option("--save-assignments <file>", "write each draw's adoption year of every unit as CSV (draw, <unit>, adopt), the --assignments format")
    .action(async (flags: PlaceboFlags) => {
      const scheme = flags.scheme as PlaceboScheme;
      if (!["space", "time", "random-time"].includes(scheme)) throw new OptionError(`--scheme must be space, time or random-time, got ${flags.scheme}`);
      const draws = intFlag(flags.draws, "draws");
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
      const threads = flags.threads === undefined ? 1 : intFlag(flags.threads, "threads");
      const shifts = flags.shifts.split(",").map((s) => Number(s.trim()));
      if (shifts.some((s) => !Number.isInteger(s))) throw new OptionError(`--shifts must be integers, got ${flags.shifts}`);
      const extra = [flags.unit, flags.adopt, flags.year, ...(flags.strata ? [flags.strata] : [])];
      const keep = [flags.unit, flags.year, ...(flags.strata ? [flags.strata] : [])];
      const { fit, eng } = await fitModel(flags, extra, keep, flags.weights);
      const assignments = flags.assignments ? await readAssignments(flags.assignments, flags.unit, flags.adopt) : undefined;
      const bar = progressBar("placebo draws");
      const opts: PlaceboOptions = {
        treatment: flags.treatment, scheme, unit: flags.unit, adopt: flags.adopt, year: flags.year, strata: flags.strata,
        draws, seed, shifts, assignments, threads, method: flags.method as PlaceboMethod, fixefTol: Number(flags.fixefTol),
        onProgress: bar.update,
      };
      const r = await placeboThreads(eng, fit, opts);
      bar.end();
      if (flags.saveAssignments) {
        const { writeFileSync } = await import("node:fs");
        const P = preparePlacebo(eng, fit, { ...opts, onProgress: undefined });
        const lines = [`draw,${flags.unit},adopt`];
        const chunk = 1000;
        for (let d0 = 0; d0 < P.nDraws; d0 += chunk) {
          const m = Math.min(chunk, P.nDraws - d0);
          const a = drawAdoptionYears(eng, P, d0, m);
          for (let d = 0; d < m; d++) {
            for (let u = 0; u < P.U; u++) {
              const y = a[d * P.U + u];
              lines.push(`${P.drawIds[d0 + d]},${csvCell(P.unitLabels[u])},${Number.isNaN(y) ? "" : y}`);
            }
          }
        }
        writeFileSync(flags.saveAssignments, lines.join("\n") + "\n");
      }
      if (flags.saveDraws) {
        const { writeFileSync } = await import("node:fs");
        const lines = ["draw,coef", ...Array.from(r.draws, (b, i) => `${r.drawIds[i]},${Number.isFinite(b) ? b : ""}`)];
        writeFileSync(flags.saveDraws, lines.join("\n") + "\n");
      }
      process.stdout.write((flags.json ? JSON.stringify(placeboToJson(r)) : placeboReport(r)) + "\n");
    });

  const w = program
    .command("wild")
    .description("wild cluster bootstrap of one coefficient (restricted by default; Rademacher or Webb weights)");
  addFitOptions(w)
    .requiredOption("--param <name>", "coefficient to test, e.g. did")
    .requiredOption("--cluster <col>", "bootstrap cluster variable, e.g. city")
    .option("--B <n>", "replications (full enumeration when 2^G <= B)", "9999")
    .option("--weights <w>", "bootstrap weights: rademacher | webb (six-point, for few clusters)", "rademacher")
    .option("--fit-weights <col>", "regression weights column of the model")
    .option("--unrestricted", "do not impose the null in the bootstrap DGP")
    .option("--null <x>", "value of the coefficient under the null", "0")
    .option("--seed <n>", "seed", "1")
    .option("--level <x>", "confidence level of the interval", "0.95")
    .action(async (flags: WildFlags) => {
      const B = intFlag(flags.B, "B");
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
      const bw = flags.weights.toLowerCase() as WildWeights;
      if (bw !== "rademacher" && bw !== "webb") throw new OptionError(`--weights must be rademacher or webb, got ${flags.weights}`);
      const nul = Number(flags.null);
      if (!Number.isFinite(nul)) throw new OptionError(`--null must be a number, got ${flags.null}`);
      const { fit, eng } = await fitModel(flags, [flags.cluster], [flags.cluster], flags.fitWeights);
      const bar = progressBar("bootstrap");
      const r = wild(eng, fit, {
        param: flags.param, cluster: flags.cluster, B, weights: bw, restricted: !flags.unrestricted, null: nul, seed,
        level: Number(flags.level), fixefTol: Number(flags.fixefTol), onProgress: bar.update,
      });
      bar.end();
      process.stdout.write((flags.json ? JSON.stringify(wildToJson(r)) : wildReport(r)) + "\n");
    });
}
