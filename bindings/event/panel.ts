// Panel preparation shared by the event-study estimators: roles -> dense unit and period
// indices, the outcome and controls on usable rows, and one treatment cohort per unit so that
// every estimator (TWFE, Sun-Abraham, Callaway-Sant'Anna, imputation, Goodman-Bacon) sees the
// same staggered design.
//
// Cohort of a unit: its value of the adoption column, whatever periods the unit is observed in
// (a unit entering the panel after adoption keeps its adoption year, as year - adopt in fixest's
// i(rel) does). Never treated: a missing / non-finite value, 0 (the `did` package's code, when 0
// is not a period) or one after the last period. A unit with more than one adoption year (e.g. it
// moves between locations adopting in different years) is an error naming the units, unless the
// caller chooses a rule (cohortRule "first": the value on its first observed row; "earliest": its
// earliest adoption year; "drop": leave such units out); the units so timed or dropped are counted
// in a warning. Treatment is absorbing from the cohort on.
import type { Frame } from "../core/frame.js";
import { ColumnError, OptionError, PanelError, SampleError } from "../base/errors.js";

export interface PanelRoles {
  outcome: string;
  unit: string;
  time: string;
  /** the unit's adoption (first treated) period; NaN / missing / 0 / beyond the panel = never */
  adopt: string;
  controls?: string[];
  /** units whose adoption year varies: "constant" (default) throws a PanelError naming them;
   *  "first" takes the value on the unit's first observed row, "earliest" its earliest adoption year,
   *  "drop" leaves those units out */
  cohortRule?: CohortRule;
}

export type CohortRule = "constant" | "first" | "earliest" | "drop";
export const COHORT_RULES: readonly CohortRule[] = ["constant", "first", "earliest", "drop"];

export interface Panel {
  roles: PanelRoles;
  /** number of rows used */
  n: number;
  /** frame row of each used row */
  rows: Int32Array;
  unit: Int32Array;
  unitLabels: string[];
  nUnits: number;
  /** period index (into periods) of each row */
  t: Int32Array;
  /** sorted distinct periods */
  periods: number[];
  y: Float64Array;
  X: Float64Array[];
  /** cohort (first treated period) by unit; NaN = never treated */
  cohort: Float64Array;
  /** index into periods of each unit's cohort (the first period at or after it); -1 never treated.
   *  Relative periods are periods[t] - periods[cohortIdx] in every estimator. */
  cohortIdx: Int32Array;
  warnings: string[];
  /** units dropped as always treated (cohort at or before the first period) */
  droppedAlwaysTreated: number;
  /** units whose adoption year varies (timed or dropped by cohortRule; 0 under "constant") */
  adoptionVaries: number;
  /** of those, units some of whose rows' own treatment 1{t >= adopt_it} differs from 1{t >= cohort} */
  nonAbsorbing: number;
  /** rows dropped for a missing value */
  droppedNa: number;
}

export interface PanelOptions {
  /** drop units treated in or before the first period (default true: they have no pre-period) */
  dropAlwaysTreated?: boolean;
  /** keep only units observed in every period (the `did` package's default) */
  balance?: boolean;
  /** false when the caller times rows by their own adoption value (TWFE timing "row") and uses no
   *  unit cohort: a varying adoption year is then neither an error nor reported here. Default true */
  unitCohorts?: boolean;
}

export function isNever(a: number, periods: number[]): boolean {
  if (!Number.isFinite(a)) return true;
  if (a === 0 && !periods.includes(0)) return true;
  return a > periods[periods.length - 1];
}

export function preparePanel(frame: Frame, roles: PanelRoles, opts: PanelOptions = {}): Panel {
  const controls = roles.controls ?? [];
  for (const c of [roles.outcome, roles.time, roles.adopt, ...controls]) {
    if (!frame.isNumeric(c)) throw new ColumnError(`column "${c}" must be numeric`, { column: c });
  }
  const N = frame.nrows;
  const cols: PanelColumns = {
    N, yAll: frame.numeric(roles.outcome), tAll: frame.numeric(roles.time), aAll: frame.numeric(roles.adopt),
    uCodes: frame.codes(roles.unit), XAll: controls.map((c) => frame.numeric(c)),
  };
  const { tAll, uCodes } = cols;
  const warnings: string[] = [];

  // periods from every row with a unit and a time (missing outcomes do not hide a period)
  const pset = new Set<number>();
  for (let i = 0; i < N; i++) if (uCodes.codes[i] >= 0 && Number.isFinite(tAll[i])) pset.add(tAll[i]);
  const periods = [...pset].sort((a, b) => a - b);
  if (periods.length < 2) throw new SampleError("an event study needs at least two periods", { periods: periods.length });

  const C = unitCohorts(cols, roles, opts, periods, warnings);
  const { dropUnit, droppedAlwaysTreated } = unitsToDrop(C, opts, periods, warnings);
  const { keep, droppedNa } = usableRows(cols, roles, opts, periods, dropUnit, warnings);
  const R = recodeUnits(cols, keep, periods, C.cohortU, warnings);
  return {
    roles, n: R.n, rows: R.rows, unit: R.unit, unitLabels: R.unitLabels, nUnits: R.nUnits, t: R.t, periods, y: R.y, X: R.X,
    cohort: R.cohort, cohortIdx: R.cohortIdx, warnings, droppedAlwaysTreated, adoptionVaries: C.varying.length,
    nonAbsorbing: C.nonAbsorbing, droppedNa,
  };
}

// ---- the steps of preparePanel

interface PanelColumns {
  N: number;
  yAll: Float64Array;
  tAll: Float64Array;
  aAll: Float64Array;
  uCodes: ReturnType<Frame["codes"]>;
  XAll: Float64Array[];
}

/**
 * Each unit's cohort from the adoption column, over all rows with a unit and a time, by the
 * cohort rule (constant, first, earliest, drop); the units whose adoption year varies, and how
 * many of them have rows whose own treatment differs from the cohort's.
 */
function unitCohorts(cols: PanelColumns, roles: PanelRoles, opts: PanelOptions, periods: number[], warnings: string[]) {
  const { N, tAll, aAll, uCodes } = cols;
  const U0 = uCodes.levels.length;
  const given = roles.cohortRule;
  if (given !== undefined && !COHORT_RULES.includes(given)) {
    throw new OptionError(`cohort rule must be one of ${COHORT_RULES.join(", ")}, got "${String(given)}"`);
  }
  const needCohort = opts.unitCohorts ?? true;
  const rule = needCohort ? (given ?? "constant") : "first";
  const adoptFirst = new Float64Array(U0).fill(NaN); // adopt on the unit's first observed row
  const firstTime = new Float64Array(U0).fill(Infinity);
  const adoptMin = new Float64Array(U0).fill(Infinity); // earliest finite adoption year
  const adoptSeen = new Float64Array(U0).fill(NaN);
  const seen = new Uint8Array(U0);
  const adoptVaries = new Uint8Array(U0);
  const values: Set<number>[] = [];
  const rowsOf = new Int32Array(U0);
  for (let i = 0; i < N; i++) {
    const u = uCodes.codes[i];
    if (u < 0 || !Number.isFinite(tAll[i])) continue;
    rowsOf[u]++;
    const a = isNever(aAll[i], periods) ? NaN : aAll[i];
    if (tAll[i] < firstTime[u]) {
      firstTime[u] = tAll[i];
      adoptFirst[u] = a;
    }
    if (a < adoptMin[u]) adoptMin[u] = a;
    if (!seen[u]) {
      seen[u] = 1;
      adoptSeen[u] = a;
    } else if (!(adoptSeen[u] === a || (Number.isNaN(a) && Number.isNaN(adoptSeen[u])))) {
      adoptVaries[u] = 1;
    }
    if (adoptVaries[u] || values[u]) (values[u] ??= new Set([adoptSeen[u]])).add(a);
  }
  const varying: number[] = [];
  for (let u = 0; u < U0; u++) if (adoptVaries[u]) varying.push(u);
  const showAdopt = (a: number) => (Number.isNaN(a) ? "never" : String(a));
  const examples = varying.slice(0, 5).map((u) => `"${uCodes.levels[u]}" (${[...values[u]].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b)).map(showAdopt).join(", ")})`);
  const exampleText = examples.join(", ") + (varying.length > examples.length ? ", ..." : "");
  if (varying.length > 0 && rule === "constant") {
    throw new PanelError(
      `${varying.length} unit(s) have more than one adoption year in "${roles.adopt}": ${exampleText}`,
      { units: varying.length, examples: varying.slice(0, 5).map((u) => uCodes.levels[u]) },
      "an event study needs one cohort per unit (e.g. units that move between locations): define it upstream, " +
        "or choose a rule: --cohort first (the adoption year on the unit's first observed row), --cohort earliest (its earliest adoption year) " +
        "or --cohort drop (leave these units out)",
    );
  }
  const cohortU = new Float64Array(U0).fill(NaN);
  for (let u = 0; u < U0; u++) {
    if (!adoptVaries[u]) cohortU[u] = adoptSeen[u];
    else if (rule === "first" || rule === "drop") cohortU[u] = adoptFirst[u];
    else cohortU[u] = Number.isFinite(adoptMin[u]) ? adoptMin[u] : NaN;
  }
  // units whose rows' treatment 1{t >= adopt_it} differs from the unit's 1{t >= cohort}
  let nonAbsorbing = 0;
  if (varying.length > 0 && needCohort && rule === "drop") {
    const rows = varying.reduce((s, u) => s + rowsOf[u], 0);
    warnings.push(`${varying.length} unit(s) with more than one adoption year in "${roles.adopt}" dropped, ${rows} rows (${exampleText}) (cohort rule "drop")`);
  } else if (varying.length > 0 && needCohort) {
    const bad = new Uint8Array(U0);
    for (let i = 0; i < N; i++) {
      const u = uCodes.codes[i];
      if (u < 0 || !Number.isFinite(tAll[i]) || !adoptVaries[u]) continue;
      const a = isNever(aAll[i], periods) ? NaN : aAll[i];
      const dRow = Number.isFinite(a) && tAll[i] >= a;
      const dUnit = Number.isFinite(cohortU[u]) && tAll[i] >= cohortU[u];
      if (dRow !== dUnit) bad[u] = 1;
    }
    for (let u = 0; u < U0; u++) nonAbsorbing += bad[u];
    warnings.push(
      `${varying.length} unit(s) have more than one adoption year in "${roles.adopt}" (${exampleText}); ` +
        (rule === "first" ? "each takes the adoption year on its first observed row" : "each takes its earliest adoption year") +
        ` (cohort rule "${rule}")` +
        (nonAbsorbing > 0 ? `; for ${nonAbsorbing} of them some rows' own treatment 1{${roles.time} >= ${roles.adopt}} differs from the cohort's` : ""),
    );
  }
  return { U0, rule, needCohort, cohortU, varying, adoptVaries, rowsOf, nonAbsorbing };
}

/** Units left out: those of the drop rule, and the always-treated (treated in or before the first period). */
function unitsToDrop(C: ReturnType<typeof unitCohorts>, opts: PanelOptions, periods: number[], warnings: string[]) {
  const { U0, rule, needCohort, cohortU, varying, adoptVaries, rowsOf } = C;
  const dropAlways = opts.dropAlwaysTreated ?? true;
  let droppedAlwaysTreated = 0;
  const dropUnit = new Uint8Array(U0);
  if (rule === "drop" && needCohort) for (const u of varying) dropUnit[u] = 1;
  for (let u = 0; u < U0; u++) {
    if (!dropUnit[u] && Number.isFinite(cohortU[u]) && cohortU[u] <= periods[0]) {
      if (dropAlways) {
        dropUnit[u] = 1;
        droppedAlwaysTreated++;
      }
    }
  }
  if (droppedAlwaysTreated > 0) {
    let rows = 0;
    for (let u = 0; u < U0; u++) if (dropUnit[u] && !(rule === "drop" && adoptVaries[u])) rows += rowsOf[u];
    warnings.push(`${droppedAlwaysTreated} always-treated unit(s), ${rows} rows (treated in or before the first period ${periods[0]}) dropped: they have no untreated period`);
  }
  return { dropUnit, droppedAlwaysTreated };
}

/** Rows with a unit, a time, an outcome and every control, of units kept; one per unit and period; balanced on request. */
function usableRows(
  cols: PanelColumns, roles: PanelRoles, opts: PanelOptions, periods: number[], dropUnit: Uint8Array, warnings: string[],
) {
  const { N, yAll, tAll, uCodes, XAll } = cols;
  const U0 = uCodes.levels.length;
  let keep: number[] = [];
  let droppedNa = 0;
  for (let i = 0; i < N; i++) {
    const u = uCodes.codes[i];
    if (u < 0 || !Number.isFinite(tAll[i])) {
      droppedNa++;
      continue;
    }
    if (dropUnit[u]) continue;
    let ok = Number.isFinite(yAll[i]);
    for (const x of XAll) if (!Number.isFinite(x[i])) ok = false;
    if (!ok) {
      droppedNa++;
      continue;
    }
    keep.push(i);
  }
  // duplicates
  {
    const seen = new Set<string>();
    for (const i of keep) {
      const key = `${uCodes.codes[i]}|${tAll[i]}`;
      if (seen.has(key)) {
        throw new PanelError(`unit "${uCodes.levels[uCodes.codes[i]]}" has two rows for ${roles.time} = ${tAll[i]}`, {
          unit: uCodes.levels[uCodes.codes[i]], time: tAll[i],
        }, "an event study needs one row per unit and period");
      }
      seen.add(key);
    }
  }
  if (opts.balance) {
    const cnt = new Int32Array(U0);
    for (const i of keep) cnt[uCodes.codes[i]]++;
    const before = new Set(keep.map((i) => uCodes.codes[i])).size;
    keep = keep.filter((i) => cnt[uCodes.codes[i]] === periods.length);
    const after = new Set(keep.map((i) => uCodes.codes[i])).size;
    if (after < before) warnings.push(`balanced panel: ${before - after} of ${before} unit(s) not observed (with complete data) in all ${periods.length} periods dropped`);
  }
  if (keep.length === 0) throw new SampleError("no usable row left for the event study");
  return { keep, droppedNa };
}

/** Dense re-coding of units on the rows kept; each row's period index, outcome and controls; cohorts as period indices. */
function recodeUnits(cols: PanelColumns, keep: number[], periods: number[], cohortU: Float64Array, warnings: string[]) {
  const { yAll, tAll, uCodes, XAll } = cols;
  const U0 = uCodes.levels.length;
  const uMap = new Int32Array(U0).fill(-1);
  const unitLabels: string[] = [];
  const cohortList: number[] = [];
  const n = keep.length;
  const rows = Int32Array.from(keep);
  const unit = new Int32Array(n);
  const t = new Int32Array(n);
  const y = new Float64Array(n);
  const X = XAll.map(() => new Float64Array(n));
  const pIndex = new Map(periods.map((p, j) => [p, j]));
  for (let r = 0; r < n; r++) {
    const i = rows[r];
    const u0 = uCodes.codes[i];
    if (uMap[u0] < 0) {
      uMap[u0] = unitLabels.length;
      unitLabels.push(uCodes.levels[u0]);
      cohortList.push(cohortU[u0]);
    }
    unit[r] = uMap[u0];
    t[r] = pIndex.get(tAll[i])!;
    y[r] = yAll[i];
    XAll.forEach((x, j) => (X[j][r] = x[i]));
  }
  const cohort = Float64Array.from(cohortList);
  // a cohort inside the period range that is not a period value is mapped to the first period after it
  const cohortIdx = Int32Array.from(cohortList, (c) => (Number.isFinite(c) ? periods.findIndex((p) => p >= c) : -1));
  const offGrid = cohortList.filter((c) => Number.isFinite(c) && c > periods[0] && !pIndex.has(c));
  if (offGrid.length > 0) {
    warnings.push(
      `${offGrid.length} unit(s) adopt in a period the panel does not have (${[...new Set(offGrid)].slice(0, 5).join(", ")}): ` +
        "the TWFE event study times them from that year, the other estimators from the first period after it",
    );
  }
  return { n, rows, unit, unitLabels, nUnits: unitLabels.length, t, y, X, cohort, cohortIdx };
}

/** Treated indicator D_it = 1{t >= cohort_i}. */
export function treated(p: Panel): Uint8Array {
  return Uint8Array.from(p.t, (ti, r) => (p.cohortIdx[p.unit[r]] >= 0 && ti >= p.cohortIdx[p.unit[r]] ? 1 : 0));
}
