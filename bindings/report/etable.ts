// etable: a regression table of any set of fits (feols, IV, GLM), with fixest's etable
// conventions: coefficients with SEs in parentheses (or brackets; IV second stages named
// fit_<endo>), stars with their thresholds stated (default *** 0.01, ** 0.05, * 0.1), FE yes / no
// rows and varying-slope rows, the family row when families differ, fit statistics chosen by
// fixest's fitstat names (nobs, r2, ar2, wr2, rmse, ssr, ivf1 / ivwald1 per endogenous, ivf2,
// ivwald2, wh, sargan, cd, sq.cor, pr2, apr2, wpr2, wapr2, ll, deviance, aic, bic, family; a
// statistic a model type does not have is an empty cell; etable-models.ts extracts them), one
// vcov for the whole table when asked (recomputed by each estimator's withVcov, no refit), terms
// renamed (dict), kept / dropped and ordered by patterns, and notes naming the vcov, the
// small-sample correction and the columns whose p-values are z-based. The table is a RegressionTable, so
// it is written by the same renderers as the suite's tables (tables.ts: Markdown, LaTeX with
// booktabs, HTML, CSV, text).
import type { Engine } from "../engine/wasm.js";
import { withVcov, type Fit } from "../estimators/feols.js";
import { ivWithVcov, type IvFit } from "../estimators/iv.js";
import { withVcovGlm, type GlmFit } from "../estimators/glm.js";
import type { MultiModel, MultiResult } from "../estimators/multi.js";
import { OptionError } from "../base/errors.js";
import { FITSTATS, FITSTAT_ALIASES, FAMILY_ROW, isGlmFit, tableModelOfFit, tableModelOfGlm, type TableModel } from "./etable-models.js";
import type { ModelColumn, RegressionTable, StarLevel } from "./types.js";
import { renderTable, type TableFormat } from "./tables.js";

export { FITSTATS, tableModelOfFit, tableModelOfGlm, tableModelOfJson, type TableModel } from "./etable-models.js";

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
  /**
   * fit statistics by fixest's name, in order (default nobs, r2, wr2; with GLM columns also
   * sq.cor, pr2, bic; with IV columns ivf1); "family" adds the family row
   */
  fitstat?: string[];
  /** SEs in [brackets] */
  brackets?: boolean;
  /** stars and thresholds, most stars first (default {"***": 0.01, "**": 0.05, "*": 0.1}); {} for none */
  stars?: Record<string, number>;
  /** one vcov for every model ("hetero", "cluster:firm"...), recomputed without refit: needs engine */
  vcov?: string;
  ssc?: string;
  engine?: Engine;
  /** column headers (default: the outcome of each model; an entry undefined: no header) */
  headers?: (string | undefined)[];
  notes?: string[];
  /** the family row (fixest's etable family =): default shown when the models' families differ */
  family?: boolean;
  /** the coefficient rows, exactly and in this order (instead of keep / drop / order) */
  rows?: string[];
  /** coefficient names moved to another row before the table is built ({ did_lead1: "did" }): rows merged */
  rename?: Record<string, string>;
  /** column labels (default "(1)", "(2)"...) */
  labels?: string[];
  /**
   * fixest's fixef.group: one Yes / No row per label for the FE and slopes ("region[[year]]")
   * matching its regular expressions (Yes when each matches, No when none, else Partial); the
   * FE and slopes grouped get no row of their own
   */
  fixefGroup?: Record<string, string[]>;
  /** fixest's extralines: rows under the fit statistics, one value per column */
  extralines?: Record<string, (string | number)[]>;
  /** a published estimate shown under each column's (the paper's number) */
  published?: (ModelColumn["published"] | undefined)[];
  /** fit statistics (other than counts) rounded to this many decimals in the table */
  statDigits?: number;
  /** false: the notes are `notes` only (no vcov / ssc / test notes) */
  defaultNotes?: boolean;
  /** fixest's drop.section: no FE rows (and groups) / no varying-slope rows */
  dropSection?: ("fixef" | "slopes")[];
}

const DEFAULT_FITSTAT = ["nobs", "r2", "wr2"];
const DEFAULT_STARS: StarLevel[] = [{ symbol: "***", p: 0.01 }, { symbol: "**", p: 0.05 }, { symbol: "*", p: 0.1 }];

type AnyFit = Fit | GlmFit;
/** A table's input: a feols / IV / GLM fit, a member of a multiple estimation, or an extracted model. */
export type EtableInput = AnyFit | TableModel | MultiModel<AnyFit> | SkippedModel;
/** A column kept in the table, empty, with the reason its model could not be estimated. */
export interface SkippedModel {
  skipped: string;
}

function isFit(x: EtableInput): x is AnyFit {
  return "internals" in x && "parsed" in x;
}
function isMember(x: EtableInput): x is MultiModel<AnyFit> {
  return "fit" in x && "id" in x;
}

/** The fit with another vcov, by its estimator (IV statistics and GLM variances recomputed too). */
function refitVcov(eng: Engine, fit: AnyFit, vcov: string | undefined, ssc: string | undefined): AnyFit {
  if (isGlmFit(fit)) return withVcovGlm(eng, fit, vcov ?? fit.vcov, ssc);
  if ("iv" in fit && "ivBase" in fit) return ivWithVcov(eng, fit as IvFit, vcov ?? fit.vcov, ssc);
  return withVcov(eng, fit, vcov ?? fit.vcov, ssc);
}

/** The models of a table, the vcov recomputed when the table asks for one. */
export function tableModels(inputs: readonly EtableInput[] | MultiResult<AnyFit>, opts: EtableOptions = {}): (TableModel | SkippedModel)[] {
  const list: readonly EtableInput[] = Array.isArray(inputs) ? inputs : (inputs as MultiResult<AnyFit>).models;
  if (!list.length) throw new OptionError("etable needs at least one fit");
  return list.map((x) => {
    if ("skipped" in x && typeof x.skipped === "string") return { skipped: x.skipped };
    let fit: AnyFit | null = isFit(x) ? x : isMember(x) ? x.fit : null;
    const sample = isMember(x) && x.sampleVar && x.sample ? { var: x.sampleVar, value: x.sample } : undefined;
    if (opts.vcov || opts.ssc) {
      if (!fit) throw new OptionError("a table vcov needs the fits themselves (a saved fit JSON cannot be recomputed)", undefined, "refit with --vcov, or pass the Fit objects");
      if (!opts.engine) throw new OptionError("etable({ vcov }) needs the engine to recompute the variances", undefined, "pass engine: await loadEngine()");
      fit = refitVcov(opts.engine, fit, opts.vcov, opts.ssc);
    }
    if (!fit) return x as TableModel;
    return isGlmFit(fit) ? tableModelOfGlm(fit, sample) : tableModelOfFit(fit, sample);
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

/** The statistic rows asked for (fixest's names, aliases resolved, one row per endogenous where per-endo), and whether the family row shows. */
function fitstatRows(models: TableModel[], opts: EtableOptions): { stats: { key: string; label: string }[]; family: boolean } {
  const glm = models.some((m) => m.stat === "z");
  const iv = models.some((m) => m.endo?.length);
  const asked = opts.fitstat ?? [...DEFAULT_FITSTAT, ...(glm ? ["sq.cor", "pr2", "bic"] : []), ...(iv ? ["ivf1"] : [])];
  const names = asked.map((s) => FITSTAT_ALIASES[s] ?? s);
  const unknown = names.filter((s) => !FITSTATS[s] && s !== FAMILY_ROW);
  if (unknown.length) throw new OptionError(`unknown fit statistic ${unknown.map((s) => JSON.stringify(s)).join(", ")}`, undefined, `known: ${[...Object.keys(FITSTATS), FAMILY_ROW].join(", ")}`);
  const endo = [...new Set(models.flatMap((m) => m.endo ?? []))];
  const stats = names.filter((s) => s !== FAMILY_ROW).flatMap((s) =>
    FITSTATS[s].perEndo ? endo.map((e) => ({ key: `${s}::${e}`, label: `${FITSTATS[s].label}, ${e}` })) : [{ key: s, label: FITSTATS[s].label }]);
  const families = new Set(models.map((m) => m.family ?? "OLS"));
  return { stats, family: opts.family ?? (names.includes(FAMILY_ROW) || families.size > 1) };
}

/** Which columns' p-values (and stars) come from the normal distribution (GLMs: z) rather than t. */
function testNote(models: (TableModel | SkippedModel)[]): string[] {
  const z = models.map((m, j) => ("stat" in m && m.stat === "z" ? `(${j + 1})` : "")).filter(Boolean);
  if (!z.length) return [];
  if (z.length === models.filter((m) => !("skipped" in m)).length) return ["p-values (and stars) from z statistics (normal distribution)."];
  return [`p-values (and stars) from z statistics (normal distribution) in ${z.join(", ")}; from t statistics elsewhere.`];
}

/** fixef.group: label -> patterns; "Yes" when every pattern matches one of the model's FE / slopes ("fe[[x]]"), "No" when none does. */
function groupRows(opts: EtableOptions): { label: string; pats: RegExp[] }[] {
  return Object.entries(opts.fixefGroup ?? {}).map(([label, pats]) => ({ label, pats: regexes(pats, `fixefGroup "${label}"`) }));
}

const slopeName = (s: { fe: string; slope: string }) => `${s.fe}[[${s.slope}]]`;

/** One model's cell of each FE / slope / group row, in the table's row order. */
function fixefCells(m: TableModel, ctx: { fixef: string[]; slopes: { fe: string; slope: string }[]; groups: { label: string; pats: RegExp[] }[]; name: (s: string) => string }): Record<string, string> {
  const out: Record<string, string> = {};
  const terms = [...m.fixef, ...m.slopes.map(slopeName)];
  for (const g of ctx.groups) {
    const hit = g.pats.filter((r) => terms.some((t) => r.test(t))).length;
    out[g.label] = hit === 0 ? "No" : hit === g.pats.length ? "Yes" : "Partial";
  }
  const grouped = (t: string) => ctx.groups.some((g) => g.pats.some((r) => r.test(t)));
  for (const fe of ctx.fixef) if (!grouped(fe)) out[ctx.name(fe)] = m.fixef.includes(fe) ? "Yes" : "No";
  for (const s of ctx.slopes) {
    if (!grouped(slopeName(s))) out[`${ctx.name(s.slope)} (${ctx.name(s.fe)})`] = m.slopes.some((x) => x.fe === s.fe && x.slope === s.slope) ? "Yes" : "No";
  }
  return out;
}

/** A model's coefficients under the table's row names (opts.rename merges terms into one row). */
function renamed(m: TableModel, rename: Record<string, string>): TableModel {
  if (!Object.keys(rename).length) return m;
  const to = (n: string) => (rename[n] !== undefined && !m.coefNames.includes(rename[n]) ? rename[n] : n);
  const move = <T>(r: Record<string, T> | undefined) => (r ? Object.fromEntries(Object.entries(r).map(([k, v]) => [to(k), v])) : r);
  return { ...m, coefNames: m.coefNames.map(to), coef: move(m.coef)!, se: move(m.se)!, p: move(m.p)!, ci: move(m.ci), collinear: m.collinear.map(to) };
}

const rounded = (v: number | undefined, d: number | undefined) => (v === undefined || d === undefined || Number.isInteger(v) ? v : Number(v.toFixed(d)));

/** Build the RegressionTable of `models` (no rendering). */
export function etableTable(inputs: readonly EtableInput[] | MultiResult<AnyFit>, opts: EtableOptions = {}): RegressionTable {
  const all = tableModels(inputs, opts).map((m) => ("skipped" in m ? m : renamed(m, opts.rename ?? {})));
  const models = all.filter((m): m is TableModel => !("skipped" in m));
  const dict = opts.dict ?? {};
  const name = (s: string) => dict[s] ?? s;
  const { stats: fitstat, family } = fitstatRows(models, opts);
  for (const [what, v] of [["headers", opts.headers], ["labels", opts.labels], ["published", opts.published]] as const) {
    if (v && v.length !== all.length) throw new OptionError(`${what}: ${v.length} given for ${all.length} models`);
  }
  for (const [k, v] of Object.entries(opts.extralines ?? {})) if (v.length !== all.length) throw new OptionError(`extralines "${k}": ${v.length} values for ${all.length} models`);
  const rows = opts.rows ?? coefRows(models, opts);
  const ctx = { fixef: [...new Set(models.flatMap((m) => m.fixef))], slopes: [...new Map(models.flatMap((m) => m.slopes).map((s) => [`${s.fe}|${s.slope}`, s])).values()], groups: groupRows(opts), name };
  const sampleVars = [...new Set(models.flatMap((m) => (m.sample ? [m.sample.var] : [])))];
  const vcovs = [...new Set(models.map((m) => m.vcovLabel))];
  const sscs = [...new Set(models.map((m) => m.sscLabel))];
  const columns: ModelColumn[] = all.map((m, j) => {
    const label = opts.labels?.[j] ?? `(${j + 1})`;
    const published = opts.published?.[j] ? { published: opts.published[j] } : {};
    if ("skipped" in m) return { label, header: opts.headers?.[j], coefs: {}, stats: {}, ...published, skipped: m.skipped };
    const stats: Record<string, string | number> = {};
    for (const v of sampleVars) stats[`Sample (${name(v)})`] = m.sample?.var === v ? m.sample.value : "Full sample";
    if (!opts.dropSection?.includes("fixef")) Object.assign(stats, fixefCells(m, { ...ctx, slopes: opts.dropSection?.includes("slopes") ? [] : ctx.slopes }));
    else if (!opts.dropSection.includes("slopes")) Object.assign(stats, fixefCells(m, { ...ctx, fixef: [], groups: [] }));
    if (family) stats.Family = m.family ?? "";
    if (vcovs.length > 1) stats["S.E. type"] = m.vcovLabel;
    for (const s of fitstat) stats[s.label] = rounded(m.stats[s.key], opts.statDigits) ?? "";
    for (const [k, v] of Object.entries(opts.extralines ?? {})) stats[k] = v[j];
    const coefs: ModelColumn["coefs"] = {};
    for (const n of rows) if (m.coefNames.includes(n)) coefs[n] = { estimate: m.coef[n], se: m.se[n], p: m.p[n], ...(m.ci?.[n] ? { ci: m.ci[n] } : {}) };
    const header = opts.headers ? opts.headers[j] : name(m.lhs);
    return { label, header, coefs, stats, ...published, dropped: m.collinear.filter((n) => rows.includes(n)) };
  });
  const stars = opts.stars ? Object.entries(opts.stars).map(([symbol, p]) => ({ symbol, p })).sort((a, b) => a.p - b.p) : undefined;
  for (const s of stars ?? []) if (!(s.p > 0 && s.p <= 1)) throw new OptionError(`stars: the threshold of "${s.symbol}" must be in (0, 1], got ${s.p}`);
  const notes = opts.defaultNotes === false ? [...(opts.notes ?? [])] : [
    vcovs.length === 1 ? `Standard errors: ${vcovs[0]}.` : "Standard errors: as in the S.E. type row.",
    `Small-sample correction: ${sscs.join("; ")}.`,
    ...testNote(all),
    ...(opts.notes ?? []),
  ];
  const labels: Record<string, string> = {};
  for (const r of rows) if (dict[r]) labels[r] = dict[r];
  return { kind: "regression", id: opts.id ?? "etable", title: opts.title ?? "Estimation results", rows, labels, columns, notes, brackets: opts.brackets, ...(stars ? { stars } : {}) };
}

/** fixest's etable: the table of `fits` in one format ("md", "tex" / "latex", "html", "csv", "text"). */
export function etable(inputs: readonly EtableInput[] | MultiResult<AnyFit>, opts: EtableOptions & { format?: TableFormat | "tex" } = {}): string {
  const fmt = opts.format === "tex" ? "latex" : (opts.format ?? "text");
  return renderTable(etableTable(inputs, opts), fmt);
}
