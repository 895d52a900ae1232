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
import { SampleError } from "../base/errors.js";
import type { FamilyName } from "./glm-family.js";

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
  /** original (0-based) indices of the rows removed by the FE rules, ascending */
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
  return { sample: rows.length ? subsetSample(sample, keep) : sample, removed: { perfect, singletons, levels, levelLabels, rows } };
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
