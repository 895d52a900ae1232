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
  /** column headers (default: the outcome of each model) */
  headers?: string[];
  notes?: string[];
  /** the family row (fixest's etable family =): default shown when the models' families differ */
  family?: boolean;
}

const DEFAULT_FITSTAT = ["nobs", "r2", "wr2"];
const DEFAULT_STARS: StarLevel[] = [{ symbol: "***", p: 0.01 }, { symbol: "**", p: 0.05 }, { symbol: "*", p: 0.1 }];

type AnyFit = Fit | GlmFit;
/** A table's input: a feols / IV / GLM fit, a member of a multiple estimation, or an extracted model. */
export type EtableInput = AnyFit | TableModel | MultiModel<AnyFit>;

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
export function tableModels(inputs: readonly EtableInput[] | MultiResult<AnyFit>, opts: EtableOptions = {}): TableModel[] {
  const list: readonly EtableInput[] = Array.isArray(inputs) ? inputs : (inputs as MultiResult<AnyFit>).models;
  if (!list.length) throw new OptionError("etable needs at least one fit");
  return list.map((x) => {
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
function testNote(models: TableModel[]): string[] {
  const z = models.map((m, j) => (m.stat === "z" ? `(${j + 1})` : "")).filter(Boolean);
  if (!z.length) return [];
  if (z.length === models.length) return ["p-values (and stars) from z statistics (normal distribution)."];
  return [`p-values (and stars) from z statistics (normal distribution) in ${z.join(", ")}; from t statistics elsewhere.`];
}

/** Build the RegressionTable of `models` (no rendering). */
export function etableTable(inputs: readonly EtableInput[] | MultiResult<AnyFit>, opts: EtableOptions = {}): RegressionTable {
  const models = tableModels(inputs, opts);
  const dict = opts.dict ?? {};
  const name = (s: string) => dict[s] ?? s;
  const { stats: fitstat, family } = fitstatRows(models, opts);
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
    if (family) stats.Family = m.family ?? "";
    if (vcovs.length > 1) stats["S.E. type"] = m.vcovLabel;
    for (const s of fitstat) stats[s.label] = m.stats[s.key] ?? "";
    const coefs: ModelColumn["coefs"] = {};
    for (const n of m.coefNames) coefs[n] = { estimate: m.coef[n], se: m.se[n], p: m.p[n] };
    return { label: `(${j + 1})`, header: opts.headers?.[j] ?? name(m.lhs), coefs, stats, dropped: m.collinear };
  });
  const stars = opts.stars ? Object.entries(opts.stars).map(([symbol, p]) => ({ symbol, p })).sort((a, b) => a.p - b.p) : DEFAULT_STARS;
  for (const s of stars) if (!(s.p > 0 && s.p <= 1)) throw new OptionError(`stars: the threshold of "${s.symbol}" must be in (0, 1], got ${s.p}`);
  const notes = [
    vcovs.length === 1 ? `Standard errors: ${vcovs[0]}.` : "Standard errors: as in the S.E. type row.",
    `Small-sample correction: ${sscs.join("; ")}.`,
    ...testNote(models),
    ...(opts.notes ?? []),
  ];
  const labels: Record<string, string> = {};
  for (const r of rows) if (dict[r]) labels[r] = dict[r];
  return { kind: "regression", id: opts.id ?? "etable", title: opts.title ?? "Estimation results", rows, labels, columns, notes, brackets: opts.brackets, stars };
}

/** fixest's etable: the table of `fits` in one format ("md", "tex" / "latex", "html", "csv", "text"). */
export function etable(inputs: readonly EtableInput[] | MultiResult<AnyFit>, opts: EtableOptions & { format?: TableFormat | "tex" } = {}): string {
  const fmt = opts.format === "tex" ? "latex" : (opts.format ?? "text");
  return renderTable(etableTable(inputs, opts), fmt);
}
