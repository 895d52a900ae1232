// etable: a regression table of any set of fits, with fixest's etable conventions:
// coefficients with SEs in parentheses (or brackets), stars with their thresholds stated
// (default *** 0.01, ** 0.05, * 0.1), FE yes / no rows and varying-slope rows, fit statistics
// chosen by name (nobs, r2, ar2, wr2, rmse, ssr, ivf, pr2, ll, aic, bic...; a statistic a model
// type does not have is an empty cell), one vcov for the whole table when asked (recomputed
// with withVcov, no refit), terms renamed (dict), kept / dropped and ordered by patterns, and
// notes naming the vcov and the small-sample correction. The table is a RegressionTable, so
// it is written by the same renderers as the suite's tables (tables.ts: Markdown, LaTeX with
// booktabs, HTML, CSV, text).
import type { Engine } from "../engine/wasm.js";
import { withVcov, type Fit } from "../estimators/feols.js";
import type { MultiModel, MultiResult } from "../estimators/multi.js";
import { parseFormula } from "../core/formula.js";
import { OptionError } from "../base/errors.js";
import type { FitJson } from "./summary.js";
import type { ModelColumn, RegressionTable, StarLevel } from "./types.js";
import { renderTable, type TableFormat } from "./tables.js";

/** What a table needs of one model: extracted once from a Fit, a multi member or a saved fit JSON. */
export interface TableModel {
  formula: string;
  lhs: string;
  coefNames: string[];
  coef: Record<string, number>;
  se: Record<string, number>;
  p: Record<string, number>;
  /** FE names ("firm", "fe1^fe2") and varying slopes ("region" x "year") */
  fixef: string[];
  slopes: { fe: string; slope: string }[];
  /** fit statistics by fixest's name; absent = the model type has none */
  stats: Record<string, number>;
  vcovLabel: string;
  sscLabel: string;
  collinear: string[];
  /** a multiple estimation's sample (split / fsplit) */
  sample?: { var: string; value: string };
}

export interface EtableOptions {
  title?: string;
  id?: string;
  /** display names of coefficients, FE and outcomes ("did" -> "Zone x Post") */
  dict?: Record<string, string>;
  /** regular expressions: coefficients matching the first come first, then the second... */
  order?: string[];
  /** regular expressions: only coefficients matching one are shown / those matching one are hidden */
  keep?: string[];
  drop?: string[];
  /** fit statistics by name, in order (default nobs, r2, wr2) */
  fitstat?: string[];
  /** SEs in [brackets] */
  brackets?: boolean;
  /** stars and thresholds, most stars first (default {"***": 0.01, "**": 0.05, "*": 0.1}); {} for none */
  stars?: Record<string, number>;
  /** one vcov for every model ("hetero", "cluster:firm"...), recomputed with withVcov: needs engine */
  vcov?: string;
  ssc?: string;
  engine?: Engine;
  /** column headers (default: the outcome of each model) */
  headers?: string[];
  notes?: string[];
}

/** Fit statistics etable knows: name -> label and how to read it. */
export const FITSTATS: Record<string, { label: string }> = {
  nobs: { label: "Observations" },
  r2: { label: "R2" },
  ar2: { label: "Adj. R2" },
  wr2: { label: "Within R2" },
  rmse: { label: "RMSE" },
  ssr: { label: "SSR" },
  ivf: { label: "F-test (1st stage)" },
  pr2: { label: "Pseudo R2" },
  ll: { label: "Log-Likelihood" },
  aic: { label: "AIC" },
  bic: { label: "BIC" },
};
const ALIASES: Record<string, string> = { n: "nobs", "adj.r2": "ar2", within_r2: "wr2", ivf1: "ivf" };
const DEFAULT_FITSTAT = ["nobs", "r2", "wr2"];
const DEFAULT_STARS: StarLevel[] = [{ symbol: "***", p: 0.01 }, { symbol: "**", p: 0.05 }, { symbol: "*", p: 0.1 }];

function fixefOf(formula: string): { fixef: string[]; slopes: { fe: string; slope: string }[] } {
  const f = parseFormula(formula);
  const fixef: string[] = [];
  const slopes: { fe: string; slope: string }[] = [];
  for (const t of f.fixef) {
    const name = t.vars.join("^");
    if (!t.slopeOnly) fixef.push(name);
    for (const s of t.slopes) slopes.push({ fe: name, slope: s });
  }
  return { fixef, slopes };
}

/** Numeric fields of other estimators' fits (pr2, ivf, ll...), read by name where they exist. */
function extraStats(fit: object): Record<string, number> {
  const out: Record<string, number> = {};
  const rec = fit as Record<string, unknown>;
  for (const name of Object.keys(FITSTATS)) if (typeof rec[name] === "number") out[name] = rec[name] as number;
  const fs = rec.fitstat;
  if (fs && typeof fs === "object") for (const [k, v] of Object.entries(fs)) if (typeof v === "number") out[ALIASES[k] ?? k] = v;
  return out;
}

export function tableModelOfFit(fit: Fit, sample?: { var: string; value: string }): TableModel {
  const stats: Record<string, number> = { ...extraStats(fit), nobs: fit.nobs, r2: fit.r2, ar2: fit.adjR2, rmse: fit.rmse, ssr: fit.ssr };
  if (fit.withinR2 !== null) stats.wr2 = fit.withinR2;
  return {
    formula: fit.formula, lhs: fit.parsed.lhs, coefNames: fit.coefNames, coef: fit.coef, se: fit.se, p: fit.pvalue,
    ...fixefOf(fit.formula), stats, vcovLabel: fit.vcovLabel, sscLabel: fit.sscLabel, collinear: fit.collinear, sample,
  };
}

/** A fit saved by `hdfe feols --json` (one object, or a member of the array of a multiple estimation). */
export function tableModelOfJson(j: FitJson & { sample_var?: string | null; sample?: string | null }): TableModel {
  if (!j || typeof j.formula !== "string" || !j.coef || !j.se || !j.p) {
    throw new OptionError("not a saved fit: expected the JSON of hdfe feols --json (formula, coef, se, p...)");
  }
  const stats: Record<string, number> = { nobs: j.nobs, r2: j.r2, ar2: j.adj_r2, rmse: j.rmse, ssr: j.ssr };
  if (j.within_r2 !== null && j.within_r2 !== undefined) stats.wr2 = j.within_r2;
  return {
    formula: j.formula, lhs: parseFormula(j.formula).lhs, coefNames: Object.keys(j.coef), coef: j.coef, se: j.se, p: j.p,
    ...fixefOf(j.formula), stats, vcovLabel: j.vcov, sscLabel: j.ssc_detail, collinear: j.collinear ?? [],
    sample: j.sample_var && j.sample ? { var: j.sample_var, value: j.sample } : undefined,
  };
}

type Input = Fit | TableModel | MultiModel<Fit>;

function isFit(x: Input): x is Fit {
  return "internals" in x && "parsed" in x;
}
function isMember(x: Input): x is MultiModel<Fit> {
  return "fit" in x && "id" in x;
}

/** The models of a table, the vcov recomputed when the table asks for one. */
export function tableModels(inputs: readonly Input[] | MultiResult<Fit>, opts: EtableOptions = {}): TableModel[] {
  const list: readonly Input[] = Array.isArray(inputs) ? inputs : (inputs as MultiResult<Fit>).models;
  if (!list.length) throw new OptionError("etable needs at least one fit");
  return list.map((x) => {
    let fit: Fit | null = isFit(x) ? x : isMember(x) ? x.fit : null;
    const sample = isMember(x) && x.sampleVar && x.sample ? { var: x.sampleVar, value: x.sample } : undefined;
    if (opts.vcov || opts.ssc) {
      if (!fit) throw new OptionError("a table vcov needs the fits themselves (a saved fit JSON cannot be recomputed)", undefined, "refit with --vcov, or pass the Fit objects");
      if (!opts.engine) throw new OptionError("etable({ vcov }) needs the engine to recompute the variances", undefined, "pass engine: await loadEngine()");
      fit = withVcov(opts.engine, fit, opts.vcov ?? fit.vcov, opts.ssc);
    }
    return fit ? tableModelOfFit(fit, sample) : (x as TableModel);
  });
}

const regexes = (pats: string[] | undefined, what: string) =>
  (pats ?? []).map((p) => {
    try {
      return new RegExp(p);
    } catch {
      throw new OptionError(`${what}: ${JSON.stringify(p)} is not a regular expression`);
    }
  });

/** The coefficient rows: union in first-appearance order, kept / dropped, then ordered. */
function coefRows(models: TableModel[], opts: EtableOptions): string[] {
  const all: string[] = [];
  for (const m of models) for (const n of [...m.coefNames, ...m.collinear]) if (!all.includes(n)) all.push(n);
  const keep = regexes(opts.keep, "keep");
  const drop = regexes(opts.drop, "drop");
  const shown = all.filter((n) => (!keep.length || keep.some((r) => r.test(n))) && !drop.some((r) => r.test(n)));
  const order = regexes(opts.order, "order");
  const rank = (n: string) => {
    const i = order.findIndex((r) => r.test(n));
    return i < 0 ? order.length : i;
  };
  return shown.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i).map((x) => x.n);
}

/** Build the RegressionTable of `models` (no rendering). */
export function etableTable(inputs: readonly Input[] | MultiResult<Fit>, opts: EtableOptions = {}): RegressionTable {
  const models = tableModels(inputs, opts);
  const dict = opts.dict ?? {};
  const name = (s: string) => dict[s] ?? s;
  const fitstat = (opts.fitstat ?? DEFAULT_FITSTAT).map((s) => ALIASES[s] ?? s);
  const unknown = fitstat.filter((s) => !FITSTATS[s]);
  if (unknown.length) throw new OptionError(`unknown fit statistic ${unknown.map((s) => JSON.stringify(s)).join(", ")}`, undefined, `known: ${Object.keys(FITSTATS).join(", ")}`);
  if (opts.headers && opts.headers.length !== models.length) throw new OptionError(`headers: ${opts.headers.length} given for ${models.length} models`);
  const rows = coefRows(models, opts);
  const fixef = [...new Set(models.flatMap((m) => m.fixef))];
  const slopes = [...new Map(models.flatMap((m) => m.slopes).map((s) => [`${s.fe}|${s.slope}`, s])).values()];
  const sampleVars = [...new Set(models.flatMap((m) => (m.sample ? [m.sample.var] : [])))];
  const vcovs = [...new Set(models.map((m) => m.vcovLabel))];
  const sscs = [...new Set(models.map((m) => m.sscLabel))];
  const columns: ModelColumn[] = models.map((m, j) => {
    const stats: Record<string, string | number> = {};
    for (const v of sampleVars) stats[`Sample (${name(v)})`] = m.sample?.var === v ? m.sample.value : "Full sample";
    for (const fe of fixef) stats[name(fe)] = m.fixef.includes(fe) ? "Yes" : "No";
    for (const s of slopes) stats[`${name(s.slope)} (${name(s.fe)})`] = m.slopes.some((x) => x.fe === s.fe && x.slope === s.slope) ? "Yes" : "No";
    if (vcovs.length > 1) stats["S.E. type"] = m.vcovLabel;
    for (const s of fitstat) stats[FITSTATS[s].label] = m.stats[s] ?? "";
    const coefs: ModelColumn["coefs"] = {};
    for (const n of m.coefNames) coefs[n] = { estimate: m.coef[n], se: m.se[n], p: m.p[n] };
    return { label: `(${j + 1})`, header: opts.headers?.[j] ?? name(m.lhs), coefs, stats, dropped: m.collinear };
  });
  const stars = opts.stars ? Object.entries(opts.stars).map(([symbol, p]) => ({ symbol, p })).sort((a, b) => a.p - b.p) : DEFAULT_STARS;
  for (const s of stars) if (!(s.p > 0 && s.p <= 1)) throw new OptionError(`stars: the threshold of "${s.symbol}" must be in (0, 1], got ${s.p}`);
  const notes = [
    vcovs.length === 1 ? `Standard errors: ${vcovs[0]}.` : "Standard errors: as in the S.E. type row.",
    `Small-sample correction: ${sscs.join("; ")}.`,
    ...(opts.notes ?? []),
  ];
  const labels: Record<string, string> = {};
  for (const r of rows) if (dict[r]) labels[r] = dict[r];
  return { kind: "regression", id: opts.id ?? "etable", title: opts.title ?? "Estimation results", rows, labels, columns, notes, brackets: opts.brackets, stars };
}

/** fixest's etable: the table of `fits` in one format ("md", "tex" / "latex", "html", "csv", "text"). */
export function etable(inputs: readonly Input[] | MultiResult<Fit>, opts: EtableOptions & { format?: TableFormat | "tex" } = {}): string {
  const fmt = opts.format === "tex" ? "latex" : (opts.format ?? "text");
  return renderTable(etableTable(inputs, opts), fmt);
}
