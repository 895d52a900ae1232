// hdfe event: event studies and staggered-adoption DiD (TWFE, Sun & Abraham, Callaway &
// Sant'Anna, Borusyak-Jaravel-Spiess, Goodman-Bacon) on one panel. With --engine duckdb or
// clickhouse the TWFE and Sun-Abraham event studies run out of core (bindings/event-sql/) and
// the other methods are refused, each naming what it needs the rows for.
import type { Command } from "commander";
import { loadEngine } from "../../bindings/node.js";
import { OptionError } from "../../bindings/base/errors.js";
import { runEventSuite, COHORT_RULES, type CohortRule, type EventSuiteResult } from "../../bindings/event/index.js";
import { eventSuiteText, eventSuiteToJson } from "../../bindings/report/event.js";
import { cliText } from "../errors.js";
import { runEventSuiteSql, SQL_EVENT_METHODS, refuseEventMethod } from "../../bindings/event-sql/index.js";
import { engineOf, openDuckdb } from "../sql-fit.js";
import { openClickhouse, requireData } from "../clickhouse-fit.js";
import type { SqlBackend } from "../../bindings/sql/backend.js";

/** The text the command prints (bindings/report/event.ts), library option names said as CLI options. */
export function renderText(r: EventSuiteResult): string {
  return eventSuiteText(r, { errorText: cliText });
}
import { addReadOptions, readData, describeRead, type ReadFlags } from "../data.js";

interface Flags extends ReadFlags {
  outcome: string;
  unit: string;
  time: string;
  adopt: string;
  cohort: string;
  controls?: string;
  fe?: string;
  method: string;
  controlGroup: string;
  csMethod: string;
  csPanel: string;
  csCovariates?: boolean;
  ref?: string;
  binLead?: string;
  binLag?: string;
  level: string;
  draws: string;
  bootWeights: string;
  seed: string;
  json?: boolean;
  engine?: string;
  table?: string;
  url?: string;
  timeout?: string;
}

const METHODS = ["twfe", "sunab", "cs", "bjs", "bacon"] as const;

const list = (s?: string) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : []);
const num = (s: string | undefined, name: string): number | undefined => {
  if (s === undefined) return undefined;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new OptionError(`--${name} must be a number, got "${s}"`);
  return v;
};

export function register(program: Command): void {
  const cmd = program
    .command("event")
    .description("event study and staggered-adoption DiD: TWFE, Sun-Abraham, Callaway-Sant'Anna, imputation (BJS), Goodman-Bacon");
  addReadOptions(cmd, false)
    .requiredOption("--outcome <col>", "outcome column")
    .requiredOption("--unit <col>", "panel unit id")
    .requiredOption("--time <col>", "period column (numeric)")
    .requiredOption("--adopt <col>", "adoption (first treated) period of the unit (missing, 0 or beyond the panel = never treated)")
    .option("--cohort <rule>", "units whose adoption year varies (movers): constant (an error naming them) | first (the year on the unit's first row) | earliest | drop", "constant")
    .option("--controls <cols>", "comma-separated controls (TWFE, SA, BJS; CS with --cs-covariates)")
    .option("--fe <cols>", "comma-separated extra fixed effects for TWFE and SA")
    .option("--method <m>", "twfe | sunab | cs | bjs | bacon | all", "all")
    .option("--control-group <g>", "CS comparison units: never | notyet", "never")
    .option("--cs-method <m>", "CS 2x2 estimator: dr | ipw | reg", "dr")
    .option("--cs-panel <p>", "CS on a balanced panel (as R did) or on pairwise panels: balanced | unbalanced", "unbalanced")
    .option("--cs-covariates", "give the controls to CS as covariates (base-period values)")
    .option("--ref <k>", "TWFE reference relative period(s), comma-separated, or 'first' (default -1)")
    .option("--bin-lead <k>", "TWFE: pool relative periods <= k (negative)")
    .option("--bin-lag <k>", "TWFE: pool relative periods >= k")
    .option("--level <x>", "confidence level of every interval (the study uses 0.9)", "0.95")
    .option("--draws <n>", "multiplier-bootstrap draws for CS uniform bands", "1000")
    .option("--boot-weights <w>", "multiplier weights: rademacher | mammen", "rademacher")
    .option("--seed <n>", "bootstrap seed", "20250101")
    .option("--json", "print one JSON object instead of tables")
    .option("--engine <name>", `wasm (in memory, every method) | duckdb | clickhouse (out of core: ${SQL_EVENT_METHODS.join(", ")} only; the panel is prepared in SQL, the other methods are refused naming what they need the rows for) | auto (wasm)`, "auto")
    .option("--table <name>", "with a .duckdb database as --data: its table (implies --engine duckdb); with --engine clickhouse: DB.TABLE (a Distributed table for a cluster)")
    .option("--url <url>", "with --engine clickhouse: the HTTP interface of a server of the cluster")
    .option("--timeout <s>", "with --engine clickhouse: seconds each query may run (0 = no limit)")
    .action(async (flags: Flags) => {
      const method = flags.method.toLowerCase();
      if (method !== "all" && !(METHODS as readonly string[]).includes(method)) {
        throw new OptionError(`--method must be one of ${METHODS.join(", ")} or all, got "${flags.method}"`);
      }
      const methods = method === "all" ? [...METHODS] : [method as (typeof METHODS)[number]];
      const cg = flags.controlGroup.toLowerCase();
      if (cg !== "never" && cg !== "notyet") throw new OptionError(`--control-group must be never or notyet, got "${flags.controlGroup}"`);
      const csm = flags.csMethod.toLowerCase();
      if (csm !== "dr" && csm !== "ipw" && csm !== "reg") throw new OptionError(`--cs-method must be dr, ipw or reg, got "${flags.csMethod}"`);
      if (flags.csPanel !== "balanced" && flags.csPanel !== "unbalanced") throw new OptionError(`--cs-panel must be balanced or unbalanced, got "${flags.csPanel}"`);
      const bw = flags.bootWeights.toLowerCase();
      if (bw !== "rademacher" && bw !== "mammen") throw new OptionError(`--boot-weights must be rademacher or mammen, got "${flags.bootWeights}"`);
      const cohortRule = flags.cohort.toLowerCase() as CohortRule;
      if (!COHORT_RULES.includes(cohortRule)) throw new OptionError(`--cohort must be one of ${COHORT_RULES.join(", ")}, got "${flags.cohort}"`);
      const level = num(flags.level, "level")!;
      const ref = flags.ref === undefined ? undefined : flags.ref === "first" ? ("first" as const) : list(flags.ref).map((x) => num(x, "ref")!);
      const controls = list(flags.controls);
      const fe = list(flags.fe);
      const bootstrap = { draws: num(flags.draws, "draws")!, weights: bw, seed: num(flags.seed, "seed")! } as const;
      const binLead = num(flags.binLead, "bin-lead"), binLag = num(flags.binLag, "bin-lag");
      const engine = flags.engine?.toLowerCase() === "clickhouse" ? "clickhouse" : (requireData(flags, "event"), engineOf(flags));
      if (engine === "duckdb" || engine === "clickhouse") {
        // one method asked for and not run out of core: refused before any query
        if (methods.length === 1 && !(SQL_EVENT_METHODS as readonly string[]).includes(methods[0])) throw refuseEventMethod(methods[0], engine);
        const b: SqlBackend & { close?: () => void } = engine === "clickhouse" ? openClickhouse(flags) : await openDuckdb(flags as Flags & { data: string });
        try {
          const res = await runEventSuiteSql(await loadEngine(), b, { outcome: flags.outcome, unit: flags.unit, time: flags.time, adopt: flags.adopt, cohortRule, controls, fe, level, ref, binLead, binLag }, methods, engine);
          return print(res, methods, flags.json === true);
        } finally {
          b.close?.();
        }
      }
      const cols = [flags.outcome, flags.unit, flags.time, flags.adopt, ...controls, ...fe];
      const { frame, report } = await readData(flags as Flags & { data: string }, [...new Set(cols)]);
      const readLines = describeRead(report);
      if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
      const eng = await loadEngine();
      const res = runEventSuite(eng, frame, {
        outcome: flags.outcome, unit: flags.unit, time: flags.time, adopt: flags.adopt, cohortRule, controls, fe, level,
        controlGroup: cg, csMethod: csm, csPanel: flags.csPanel, csCovariates: flags.csCovariates === true,
        ref, binLead, binLag, methods, bootstrap,
      });
      print(res, methods, flags.json === true);
    });
}

/** Warnings to stderr, then the result; nothing estimated: the first estimator's error (its class gives the exit code). */
function print(res: EventSuiteResult, methods: string[], json: boolean): void {
  for (const w of res.warnings) process.stderr.write(`warning: ${w}\n`);
  if (methods.every((m) => m in res.causes)) {
    for (const m of methods.slice(1)) process.stderr.write(`${m}: not estimated (${res.errors[m]})\n`);
    throw res.causes[methods[0]];
  }
  if (json) process.stdout.write(JSON.stringify(eventSuiteToJson(res, methods as Parameters<typeof eventSuiteToJson>[1])) + "\n");
  else process.stdout.write(renderText(res) + "\n");
}
