// Multiple estimation (fixest's `feols(c(y1, y2) ~ x + csw(a, b) | sw0(fe), split = ~g)`):
// the models of a formula (core/multi.ts) over the samples of `split` / `fsplit`, in fixest's
// order (sample, lhs, fixef, rhs) and with fixest's labels. Any estimator taking (data,
// formula, options) can be driven (estimateMulti); the models share one DemeanCache, so those
// with the same sample, FE, weights and settings demean each column once. Every model is
// estimated on its own sample exactly as its plain formula would be (rows missing in its own
// columns removed model by model, as fixest's multiple estimation does): each member equals
// the plain fit of its formula on its subset. feolsMulti fits the members of a group (same
// rows, FE and weights) from one cross-product matrix of their demeaned columns (multi-ols.ts).
import type { Table } from "apache-arrow";
import type { Engine } from "../engine/wasm.js";
import { Frame } from "../core/frame.js";
import { expandFormula, type MultiFormula } from "../core/multi.js";
import { DemeanCache, type DemeanCacheStats } from "../core/demean-cache.js";
import { sortedCodes } from "../core/design.js";
import { HdfeError, OptionError } from "../base/errors.js";
import { feols, type Fit, type FeolsOptions } from "./feols.js";
import { feolsPrefit } from "./multi-ols.js";

export interface SplitOptions {
  /** one estimation per value of this column (fixest `split = ~col`) */
  split?: string;
  /** the full sample first, then one per value (fixest `fsplit = ~col`) */
  fsplit?: string;
}

/** One member of a multiple estimation, labelled as fixest labels it. */
export interface MultiModel<F> {
  /** fixest_id: 1-based position in fixest's order */
  id: number;
  lhs: string;
  /** the RHS label when the RHS is stepwise, else null */
  rhs: string | null;
  /** the FE label ("1" without FE) when the FE part is stepwise, else null */
  fixef: string | null;
  /** the split column and this model's value ("Full sample" for fsplit's first), else null */
  sampleVar: string | null;
  sample: string | null;
  /** the plain formula the model equals, and the subset it is estimated on (null: all rows) */
  formula: string;
  subset: { var: string; value: string } | null;
  fit: F;
}

export interface MultiResult<F> {
  models: MultiModel<F>[];
  /** rows left out of every split sample because the split column is missing there */
  splitMissing: number;
  /** what the shared demeaning did */
  cache: DemeanCacheStats;
  /** members solved from their group's cross-product matrix (feolsMulti; the others one by one) */
  joint: number;
}

/** An estimator as the driver calls it: the model's data (a subsample when split), formula, options. */
export type Estimator<O, F> = (data: Frame, formula: string, opts: O) => F;

export interface MultiSample {
  label: string | null;
  subset: { var: string; value: string } | null;
  rows: Int32Array | null;
}

/** The samples of split / fsplit (fixest: the values sorted as R sorts factor levels). */
export function splitSamples(frame: Frame, opts: SplitOptions): { samples: MultiSample[]; splitVar: string | null; missing: number } {
  if (opts.split && opts.fsplit) throw new OptionError("give split or fsplit, not both");
  const v = opts.split ?? opts.fsplit;
  if (!v) return { samples: [{ label: null, subset: null, rows: null }], splitVar: null, missing: 0 };
  const c = sortedCodes(frame, v); // ColumnError when the column does not exist
  const byLevel: number[][] = c.levels.map(() => []);
  let missing = 0;
  for (let i = 0; i < c.codes.length; i++) {
    if (c.codes[i] < 0) missing++;
    else byLevel[c.codes[i]].push(i);
  }
  const samples: MultiSample[] = opts.fsplit ? [{ label: "Full sample", subset: null, rows: null }] : [];
  c.levels.forEach((lv, l) => {
    if (byLevel[l].length) samples.push({ label: lv, subset: { var: v, value: lv }, rows: Int32Array.from(byLevel[l]) });
  });
  return { samples, splitVar: v, missing };
}

/** The formulas and samples a call expands to, in fixest's order (no estimation). */
export function planMulti(frame: Frame, formula: string, opts: SplitOptions = {}): { formulas: MultiFormula[]; samples: MultiSample[]; labels: { rhs: boolean; fixef: boolean; splitVar: string | null }; missing: number } {
  const e = expandFormula(formula);
  const s = splitSamples(frame, opts);
  return { formulas: e.models, samples: s.samples, labels: { rhs: e.multiRhs, fixef: e.multiFixef, splitVar: s.splitVar }, missing: s.missing };
}

/**
 * Run `estimate` on every model of `formula` and every sample of split / fsplit. The options
 * are passed to each call with a `demeanCache` shared by all (an estimator that does not
 * demean ignores it; one given in opts is used and kept).
 */
export function estimateMulti<O extends object, F>(
  estimate: Estimator<O & { demeanCache?: DemeanCache }, F>,
  data: Table | Frame,
  formula: string,
  opts: O & SplitOptions & { demeanCache?: DemeanCache },
  prefit?: (data: Frame, formulas: MultiFormula[], opts: O & { demeanCache: DemeanCache }) => Map<number, F | Error>,
): MultiResult<F> {
  const frame = data instanceof Frame ? data : Frame.fromArrow(data);
  const { split, fsplit, ...rest } = opts;
  const plan = planMulti(frame, formula, { split, fsplit });
  const cache = opts.demeanCache ?? new DemeanCache();
  const callOpts = { ...(rest as O), demeanCache: cache };
  const models: MultiModel<F>[] = [];
  let joint = 0;
  for (const s of plan.samples) {
    const sub = s.rows ? frame.take(s.rows) : frame;
    // members fitted together (feols: from one cross-product matrix per group), or errors
    // raised for them, taken in their turn; the others are estimated one by one
    const pre = prefit?.(sub, plan.formulas, callOpts);
    for (const [i, m] of plan.formulas.entries()) {
      const id = models.length + 1;
      let fit: F;
      try {
        const p = pre?.get(i);
        if (p instanceof Error) throw p;
        if (p) joint++;
        fit = p ?? estimate(sub, m.formula, callOpts);
      } catch (err) {
        // which member failed, said in the error itself (its class, and the CLI's exit code, kept)
        if (err instanceof HdfeError) err.message = `model ${id} (${m.formula}${s.label ? `, sample ${plan.labels.splitVar} = ${s.label}` : ""}): ${err.message}`;
        throw err;
      }
      models.push({
        id,
        lhs: m.lhs,
        rhs: plan.labels.rhs ? m.rhs : null,
        fixef: plan.labels.fixef ? m.fixef : null,
        sampleVar: plan.labels.splitVar,
        sample: s.label,
        formula: m.formula,
        subset: s.subset,
        fit,
      });
    }
  }
  return { models, splitMissing: plan.missing, cache: { ...cache.stats }, joint };
}

/** feols' budget of kept demeaned values (rows x regressors) for one model, applied here to the whole call */
const KEEP_VALUES = 4_000_000;

/**
 * feols over a multiple estimation: every member a Fit, the demeaning shared. Unless
 * keepData is given, the members keep their demeaned regressors (for withVcov) only while the
 * whole call stays within the budget one feols call has (4 million rows x regressors): forty
 * members of a large panel would otherwise hold forty copies.
 */
export function feolsMulti(eng: Engine, data: Table | Frame, formula: string, opts: FeolsOptions & SplitOptions = {}): MultiResult<Fit> {
  const frame = data instanceof Frame ? data : Frame.fromArrow(data);
  let o = opts;
  if (opts.keepData === undefined) {
    const plan = planMulti(frame, formula, opts);
    const rows = plan.samples.reduce((a, s) => a + (s.rows ? s.rows.length : frame.nrows), 0);
    const cols = plan.formulas.reduce((a, m) => a + m.rhs.split("+").length, 0);
    if (rows * cols > KEEP_VALUES) o = { ...opts, keepData: false };
  }
  if (o.storage === "f32" && !o.demeanCache) {
    // float32 storage demeans in batches of its own and keeps nothing to share
    return estimateMulti((d, f, x) => feols(eng, d, f, { ...x, demeanCache: undefined }), frame, formula, o);
  }
  return estimateMulti((d, f, x) => feols(eng, d, f, x), frame, formula, o, (d, forms, x) => feolsPrefit(eng, d, forms, x, x.demeanCache, !!o.demeanCache));
}

/** A short label of a member for text output: "lhs: FC; rhs: did + Fin; sample: region = east". */
export function modelLabel(m: MultiModel<unknown>): string {
  const parts = [`lhs: ${m.lhs}`];
  if (m.rhs !== null) parts.push(`rhs: ${m.rhs}`);
  if (m.fixef !== null) parts.push(`fixef: ${m.fixef}`);
  if (m.sampleVar !== null) parts.push(`sample: ${m.sampleVar} = ${m.sample}`);
  return `model ${m.id} (${parts.join("; ")})`;
}
