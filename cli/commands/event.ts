// hdfe event: event studies and staggered-adoption DiD (TWFE, Sun & Abraham, Callaway &
// Sant'Anna, Borusyak-Jaravel-Spiess, Goodman-Bacon) on one panel.
import type { Command } from "commander";
import { loadEngine } from "../../bindings/node.js";
import { OptionError } from "../../bindings/errors.js";
import { runEventSuite, eventSuiteToJson, COHORT_RULES, type EventSuiteResult, type EventMethod, type CohortRule } from "../../bindings/event/index.js";
import type { EventPoint } from "../../bindings/event/twfe.js";
import type { WaldTest } from "../../bindings/event/wald.js";
import { cliText } from "../errors.js";
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
  addReadOptions(cmd)
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
      const cols = [flags.outcome, flags.unit, flags.time, flags.adopt, ...controls, ...fe];
      const { frame, report } = await readData(flags, [...new Set(cols)]);
      const readLines = describeRead(report);
      if (readLines.length) process.stderr.write(`read ${report.rows} rows from ${flags.data}:\n${readLines.join("\n")}\n`);
      const eng = await loadEngine();
      const res = runEventSuite(eng, frame, {
        outcome: flags.outcome, unit: flags.unit, time: flags.time, adopt: flags.adopt, cohortRule, controls, fe, level,
        controlGroup: cg, csMethod: csm, csPanel: flags.csPanel, csCovariates: flags.csCovariates === true,
        ref, binLead: num(flags.binLead, "bin-lead"), binLag: num(flags.binLag, "bin-lag"), methods,
        bootstrap: { draws: num(flags.draws, "draws")!, weights: bw, seed: num(flags.seed, "seed")! },
      });
      for (const w of res.warnings) process.stderr.write(`warning: ${w}\n`);
      // nothing estimated: fail with the first estimator's error (its class gives the exit code)
      if (methods.every((m) => m in res.causes)) {
        for (const m of methods.slice(1)) process.stderr.write(`${m}: not estimated (${res.errors[m]})\n`);
        throw res.causes[methods[0]];
      }
      if (flags.json) process.stdout.write(JSON.stringify(eventSuiteToJson(res, methods)) + "\n");
      else process.stdout.write(renderText(res) + "\n");
    });
}

// ---------------------------------------------------------------------------------------------
// text rendering

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : "-");
const pad = (s: string, w: number) => (s.length >= w ? s : " ".repeat(w - s.length) + s);
const pct = (level: number) => `${Math.round(level * 1000) / 10}%`;

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  return [head.map((h, j) => pad(h, w[j])).join("  "), ...rows.map((r) => r.map((c, j) => pad(c, w[j])).join("  "))].join("\n");
}

function pathTable(path: EventPoint[], level: number): string {
  return table(
    ["rel", "estimate", "s.e.", `[${pct(level)}`, "CI]"],
    path.map((p) => [String(p.rel) + (p.binned ? "+" : ""), p.reference ? "(ref)" : f4(p.estimate), p.reference ? "" : f4(p.se), p.reference ? "" : f4(p.ciLow), p.reference ? "" : f4(p.ciHigh)]),
  );
}

const waldLine = (w: WaldTest) =>
  w.q > 0 ? `joint pre-trend test (${w.q} leads): chi2 = ${f4(w.chi2)}, p = ${f4(w.pChi2)}; F(${w.df1}, ${w.df2}) = ${f4(w.F)}, p = ${f4(w.pF)}` : "joint pre-trend test: no lead to test";

export function renderText(r: EventSuiteResult): string {
  const out: string[] = [];
  const L = r.level;
  if (r.twfe) {
    out.push(`== TWFE event study: ${r.twfe.formula}  (N = ${r.twfe.nobs}, ${r.twfe.fit.vcovLabel}, ${pct(L)} CIs)`);
    out.push(pathTable(r.twfe.path, L));
    if (r.twfe.unidentified.length) out.push(`not identified (collinear with the fixed effects): ${r.twfe.unidentified.map((k) => `rel::${k}`).join(", ")}`);
    out.push(waldLine(r.twfe.pretrend));
  }
  if (r.sunab) {
    const att = r.sunab.att.table.find((x) => x.name === "ATT");
    out.push(`\n== Sun & Abraham (2021), fixest sunab() conventions  (N = ${r.sunab.fit.nobs}, ${r.sunab.fit.vcovLabel})`);
    out.push(pathTable(r.sunab.path, L));
    if (att) out.push(`ATT (post periods, cohort-share weights): ${f4(att.estimate)} (${f4(att.se)}), [${f4(att.ciLow)}, ${f4(att.ciHigh)}]`);
  }
  if (r.cs) {
    const c = r.cs.attgt;
    out.push(
      `\n== Callaway & Sant'Anna (2021): ${c.estMethod.toUpperCase()} 2x2, ${c.controlGroup === "never" ? "never-treated" : "not-yet-treated"} controls, ${c.n} units` +
        (c.bootstrap ? `, uniform bands from ${c.bootstrap.draws} ${c.bootstrap.weights} multiplier draws` : ""),
    );
    out.push(table(
      ["group", "time", "ATT(g,t)", "s.e.", "[band", "band]"],
      c.attgt.map((a) => [String(a.group), String(a.time), f4(a.att), f4(a.se), f4(a.bandLow), f4(a.bandHigh)]),
    ));
    if (c.pretest) out.push(`pre-test of parallel trends: W = ${f4(c.pretest.W)} (${c.pretest.df} df), p = ${f4(c.pretest.p)}`);
    const d = r.cs.dynamic;
    out.push(`event-time aggregation (${pct(L)} pointwise CI, uniform band crit ${f4(d.critVal)}):`);
    out.push(table(["e", "estimate", "s.e.", "[CI", "CI]", "[band", "band]"], d.rows.map((x) => [String(x.egt), f4(x.estimate), f4(x.se), f4(x.ciLow), f4(x.ciHigh), f4(x.bandLow), f4(x.bandHigh)])));
    for (const [name, a] of [["simple", r.cs.simple], ["dynamic (post)", r.cs.dynamic], ["group", r.cs.group]] as const) {
      out.push(`overall ATT, ${name}: ${f4(a.overall.estimate)} (${f4(a.overall.se)}), [${f4(a.overall.ciLow)}, ${f4(a.overall.ciHigh)}]`);
    }
  }
  if (r.bjs) {
    const b = r.bjs;
    out.push(`\n== Borusyak, Jaravel & Spiess (2024) imputation: ${b.nTreated} treated, ${b.nUntreated} untreated observations`);
    out.push(table(["h", "estimate", "s.e.", `[${pct(L)}`, "CI]", "N"], b.path.map((x) => [String(x.rel), f4(x.estimate), f4(x.se), f4(x.ciLow), f4(x.ciHigh), String(x.nObs)])));
    out.push(`overall ATT: ${f4(b.overall.estimate)} (${f4(b.overall.se)}), [${f4(b.overall.ciLow)}, ${f4(b.overall.ciHigh)}]`);
    out.push(waldLine(b.pretrend.wald) + " (untreated observations, Test 1)");
    out.push(`variance: ${b.variance}`);
  }
  if (r.bacon) {
    const b = r.bacon;
    out.push(`\n== Goodman-Bacon decomposition of the TWFE DiD ${f4(b.twfe)} (balanced panel, ${b.nUnits} units)`);
    out.push(table(["comparison", "weight", "estimate", "n"], b.byType.map((x) => [x.type.replace(/_/g, " "), f4(x.weight), f4(x.estimate), String(x.count)])));
    out.push(`weights sum to ${f4(b.weightSum)}; weighted sum ${f4(b.weightedSum)}`);
  }
  for (const [m, e] of Object.entries(r.errors)) out.push(`\n${m}: not estimated (${cliText(String(e))})`); // library option names said as CLI options
  const present = new Set(r.overlay.map((x) => x.method));
  const methods = (["twfe", "sunab", "cs", "bjs"] as EventMethod[]).filter((m) => present.has(m));
  if (methods.length > 1) {
    out.push(`\n== Overlay (${pct(L)} intervals)`);
    out.push(table(["rel", ...methods], r.grid.map((k) => [String(k), ...methods.map((m) => {
      const p = r.overlay.find((x) => x.method === m && x.rel === k);
      return p ? (p.reference ? "(ref)" : f4(p.estimate)) : "";
    })])));
  }
  return out.join("\n");
}
