// The estimation sample of a GLM with fixed effects: fixest's fixef.rm for feglm / fepois.
//   "perfect" (default): observations in FE levels whose outcome never varies in the way the
//     likelihood needs (Poisson: only zeros; binomial: only zeros or only ones) are removed:
//     their FE coefficient would go to -Inf / +Inf and the MLE does not exist;
//   "both": the same and FE singletons, iterated together until nothing changes;
//   "singleton": singletons only; "none": nothing removed.
// Every removal is counted per FE, with the levels removed (labels as in the data) and the
// rows (original 0-based indices).
import type { Frame } from "../core/frame.js";
import { recode, gather, type Sample, type SampleFe } from "../core/sample.js";
import { SampleError, SeparationError } from "../base/errors.js";
import type { FamilyName } from "./glm-family.js";
import type { Engine } from "../engine/wasm.js";
import type { DemeanAlgo } from "../engine/kernels.js";
import { irSeparation, binomialSeparation, thresholdSeparation } from "./glm-separation.js";

export type GlmFixefRm = "perfect" | "both" | "singleton" | "none";

export interface GlmRemoved {
  /** rows removed because their FE level had only 0 (Poisson) or only 0 / only 1 (binomial) outcomes */
  perfect: number;
  /** rows removed as FE singletons (fixefRm "both" / "singleton") */
  singletons: number;
  /** per FE: levels removed (either reason) */
  levels: Record<string, number>;
  /** per FE: the labels of the levels removed, in order of removal */
  levelLabels: Record<string, string[]>;
  /** rows removed as separated by the regressors (ppmlhdfe's iterative rectifier, separation "ir") */
  separated: number;
  /** the regressors of the separating combinations found (with FE); empty: none found or FE only */
  separatedBy: string[];
  /** regressors constant (or absent) on the sample left after removing the separated rows */
  constantAfterSeparation: string[];
  /** original (0-based) indices of the rows removed by the FE rules and as separated, ascending */
  rows: number[];
}

/** Which rows of the sample stay: the FE rules applied until nothing changes. */
export function glmRemoval(
  sample: Sample, y: Float64Array, family: FamilyName, rm: GlmFixefRm, frame: Frame,
): { sample: Sample; removed: GlmRemoved } {
  const n = sample.n;
  const keep = new Uint8Array(n).fill(1);
  const dims = sample.fe.filter((d) => d.type !== 1);
  const levels: Record<string, number> = {};
  const levelLabels: Record<string, string[]> = {};
  for (const d of dims) (levels[d.name] = 0), (levelLabels[d.name] = []);
  let perfect = 0;
  let singletons = 0;
  const doPerfect = rm === "perfect" || rm === "both";
  const doSingle = rm === "singleton" || rm === "both";
  for (let changed = dims.length > 0 && rm !== "none"; changed; ) {
    changed = false;
    for (const d of dims) {
      const cnt = new Int32Array(d.levels);
      const pos = new Int32Array(d.levels); // rows with y > 0
      const one = new Int32Array(d.levels); // rows with y == 1 (binomial)
      for (let i = 0; i < n; i++) {
        if (!keep[i]) continue;
        const g = d.codes[i];
        cnt[g]++;
        if (y[i] > 0) pos[g]++;
        if (y[i] === 1) one[g]++;
      }
      const why = new Uint8Array(d.levels); // 1 perfect, 2 singleton
      for (let g = 0; g < d.levels; g++) {
        if (cnt[g] === 0) continue;
        const flat = family === "poisson" ? pos[g] === 0 : pos[g] === 0 || one[g] === cnt[g];
        if (doPerfect && flat) why[g] = 1;
        else if (doSingle && cnt[g] === 1) why[g] = 2;
      }
      const firstRow = new Int32Array(d.levels).fill(-1);
      for (let i = 0; i < n; i++) {
        if (!keep[i] || !why[d.codes[i]]) continue;
        const g = d.codes[i];
        if (firstRow[g] < 0) firstRow[g] = i;
        keep[i] = 0;
        if (why[g] === 1) perfect++;
        else singletons++;
        changed = true;
      }
      for (let g = 0; g < d.levels; g++) {
        if (firstRow[g] < 0) continue;
        levels[d.name]++;
        levelLabels[d.name].push(levelLabel(frame, d.name, sample.rows[firstRow[g]]));
      }
    }
    // Poisson's rule alone removes only y = 0 rows, which leave every other level's count of
    // y > 0 rows as it was: nothing more to find in another pass
    if (family === "poisson" && !doSingle) break;
  }
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (!keep[i]) rows.push(sample.rows[i]);
  if (rows.length === n) {
    throw new SampleError(
      `no observations left: all ${n.toLocaleString("en-US")} rows are in fixed-effect levels whose outcome ` +
        (family === "poisson" ? "is always 0" : "is always 0 or always 1"),
      { perfect, singletons },
      "check the outcome column, or estimate without these fixed effects",
    );
  }
  return { sample: rows.length ? subsetSample(sample, keep) : sample, removed: { perfect, singletons, separated: 0, separatedBy: [], constantAfterSeparation: [], levels, levelLabels, rows } };
}

export interface SeparationInput {
  eng: Engine;
  /** the outcome and the regressor columns (named) on a sample */
  columns: (s: Sample) => { y: Float64Array; X: Float64Array[] };
  names: string[];
  family: FamilyName;
  rm: GlmFixefRm;
  frame: Frame;
  fixefTol: number;
  fixefIter: number;
  fixefAlgo: DemeanAlgo;
  threads: number;
}

/**
 * The rows separated by the regressors removed (glm-separation.ts irSeparation; binomial: the
 * y = 0 side, then the y = 1 side), each removal followed by fixefRm's FE rules again (removing
 * rows can leave FE levels with one outcome value, binomial, or singletons), until nothing
 * changes. Counts are added to `removed`: the FE rules' rows as theirs, the rectifier's as
 * `separated`.
 */
export function separationRemoval(sample: Sample, removed: GlmRemoved, inp: SeparationInput): { sample: Sample; removed: GlmRemoved } {
  const sides: ((v: number) => boolean)[] = inp.family === "poisson" ? [(v) => v === 0] : [(v) => v === 0, (v) => v === 1];
  const by = new Set<string>();
  const sepRows: number[] = [];
  let cur = sample;
  let out = removed;
  for (let changed = true, round = 0; changed && round < 20; round++) {
    changed = false;
    for (const side of sides) {
      const { y, X } = inp.columns(cur);
      const boundary = new Uint8Array(y.length);
      for (let i = 0; i < y.length; i++) boundary[i] = side(y[i]) ? 1 : 0;
      const ir = irSeparation({ ...inp, boundary, X, sample: cur });
      if (!ir.rows.length) continue;
      changed = true;
      ir.by.forEach((b) => by.add(b));
      if (ir.rows.length === cur.n) throw new SampleError(`no observations left: all ${sampleRows(cur, out)} are separated by the regressors`, { separated: cur.n });
      const keep = new Uint8Array(cur.n).fill(1);
      for (const i of ir.rows) (keep[i] = 0), sepRows.push(cur.rows[i]);
      cur = subsetSample(cur, keep);
      const again = glmRemoval(cur, inp.columns(cur).y, inp.family, inp.rm, inp.frame);
      out = mergeRemoved(out, again.removed);
      cur = again.sample;
    }
  }
  if (cur === sample) return { sample, removed };
  const { X } = inp.columns(cur);
  const constant = inp.names.filter((nm, j) => nm !== "(Intercept)" && X[j].every((v) => v === X[j][0]));
  return {
    sample: cur,
    removed: { ...out, separated: sepRows.length, separatedBy: [...by], constantAfterSeparation: constant, rows: [...out.rows, ...sepRows].sort((a, b) => a - b) },
  };
}

/**
 * "N rows of the estimation sample" and, when rows were removed before, how many the data had
 * and why they went (missing values, zero weights, fixef.rm's FE rules, separation): the
 * count of a complete separation is the sample's, not the data's.
 */
export function sampleRows(sample: Sample, removed: GlmRemoved): string {
  const fmt = (v: number) => v.toLocaleString("en-US");
  const r = sample.removed;
  const parts = [
    [r.na, "with missing values"], [r.zeroWeight, "with zero weight"], [removed.perfect, "in FE levels with one outcome value only"],
    [removed.singletons, "FE singletons"], [removed.separated, "separated"],
  ].filter(([v]) => (v as number) > 0).map(([v, why]) => `${fmt(v as number)} ${why}`);
  const before = (r.na + r.zeroWeight + removed.perfect + removed.singletons + removed.separated);
  const head = `${fmt(sample.n)} rows of the estimation sample`;
  return before > 0 ? `${head} (${fmt(sample.n + before)} rows in the data, removed before: ${parts.join(", ")})` : head;
}

/**
 * Binomial separation the one-sided rectifier does not see, removed: `how` "threshold": one
 * regressor at a threshold (glm-separation.ts thresholdSeparation, Stata's check, run before
 * the fit); else, after a failed IRLS, the two-sided rectifier (binomialSeparation: complete
 * or quasi-complete separation by a combination of regressors and FE, started from the
 * failed IRLS's last step of eta when given). The separated rows are removed, then fixefRm's
 * FE rules again, counted as `separated` and in `rows`; null when none is found. Every row
 * separated (complete separation: no row left to estimate on) is a SeparationError naming the
 * regressors.
 */
export function binomialSeparationRemoval(
  sample: Sample, removed: GlmRemoved, inp: SeparationInput, how: "threshold" | { etaStep?: Float64Array },
): { sample: Sample; removed: GlmRemoved } | null {
  const { y, X } = inp.columns(sample);
  const ir = how === "threshold" ? thresholdSeparation(y, X, inp.names) : binomialSeparation({ ...inp, X, sample }, y, how.etaStep);
  if (!ir || !ir.rows.length) return null;
  const by = ir.by.length ? `by ${ir.by.join(" + ")}` : "by the fixed effects";
  if (ir.rows.length === sample.n) {
    throw new SeparationError(
      `complete separation ${by}: the outcome is predicted perfectly in all ${sampleRows(sample, removed)}` +
        "; y = 1 exactly where a combination of the regressors and fixed effects is positive: the coefficients diverge and no maximum likelihood estimate exists",
      { separatedBy: ir.by, rows: sample.n }, "drop or recode the separating regressor(s), or use feols (linear probability model)",
    );
  }
  const keep = new Uint8Array(sample.n).fill(1);
  const sepRows: number[] = [];
  for (const i of ir.rows) (keep[i] = 0), sepRows.push(sample.rows[i]);
  const cur = subsetSample(sample, keep);
  const again = glmRemoval(cur, inp.columns(cur).y, inp.family, inp.rm, inp.frame);
  const out = mergeRemoved(removed, again.removed);
  const { X: Xa } = inp.columns(again.sample);
  const constant = inp.names.filter((nm, j) => nm !== "(Intercept)" && Xa[j].every((v) => v === Xa[j][0]));
  return {
    sample: again.sample,
    removed: {
      ...out, separated: removed.separated + sepRows.length, separatedBy: [...new Set([...removed.separatedBy, ...ir.by])],
      constantAfterSeparation: [...new Set([...removed.constantAfterSeparation, ...constant])], rows: [...out.rows, ...sepRows].sort((a, b) => a - b),
    },
  };
}

/** Two FE-rule removals added up (levels and labels per FE, rows merged). */
function mergeRemoved(a: GlmRemoved, b: GlmRemoved): GlmRemoved {
  const levels = { ...a.levels }, levelLabels = { ...a.levelLabels };
  for (const fe of Object.keys(b.levels)) (levels[fe] = (levels[fe] ?? 0) + b.levels[fe]), (levelLabels[fe] = [...(levelLabels[fe] ?? []), ...b.levelLabels[fe]]);
  return { ...a, perfect: a.perfect + b.perfect, singletons: a.singletons + b.singletons, levels, levelLabels, rows: [...a.rows, ...b.rows].sort((x, y) => x - y) };
}

/** The label of a FE level at an original row: the value, or the values of an interaction joined by "_". */
function levelLabel(frame: Frame, name: string, row: number): string {
  const parts = name.split("^");
  if (!parts.every((p) => frame.has(p))) return String(row);
  return parts.map((p) => {
    const c = frame.codes(p);
    return c.levels[c.codes[row]];
  }).join("_");
}

/** The sample restricted to the rows with keep[i] = 1, FE codes made dense again. */
export function subsetSample(s: Sample, keep: Uint8Array): Sample {
  let n = 0;
  for (let i = 0; i < s.n; i++) n += keep[i];
  const local = new Int32Array(n);
  for (let i = 0, j = 0; i < s.n; i++) if (keep[i]) local[j++] = i;
  const rows = local.map((i) => s.rows[i]);
  const fe: SampleFe[] = s.fe.map((d) => {
    const r = recode(d.codes, local, d.levels);
    const out: SampleFe = { name: d.name, codes: r.codes, levels: r.levels, type: d.type };
    if (d.slope) out.slope = { name: d.slope.name, values: gather(d.slope.values, local) };
    return out;
  });
  return { rows, n, fe, removed: s.removed };
}

/**
 * Check the outcome for the family: Poisson needs y >= 0 (non-integer counts are fine:
 * pseudo-maximum likelihood), binomial needs 0 <= y <= 1. Errors name the column.
 */
export function checkOutcome(y: Float64Array, family: FamilyName, column: string): void {
  let bad = -1;
  let zeroOnly = true;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (family === "poisson" ? v < 0 : v < 0 || v > 1) {
      bad = i;
      break;
    }
    if (v !== 0) zeroOnly = false;
  }
  if (bad >= 0) {
    throw new SampleError(
      family === "poisson"
        ? `outcome "${column}" has negative values (${y[bad]} in estimation row ${bad + 1}): Poisson needs y >= 0`
        : `outcome "${column}" has values outside [0, 1] (${y[bad]} in estimation row ${bad + 1}): ${family} needs 0 <= y <= 1`,
      { column, value: y[bad] },
      family === "poisson" ? "use feols for outcomes that can be negative" : "recode the outcome as 0 / 1 (or a share in [0, 1])",
    );
  }
  if (zeroOnly) throw new SampleError(`outcome "${column}" is 0 in every row of the sample: nothing to estimate`, { column });
}
