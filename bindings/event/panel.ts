// Panel preparation shared by the event-study estimators: roles -> dense unit and period
// indices, the outcome and controls on usable rows, and one treatment cohort per unit
// (its first treated period) so that every estimator sees the same staggered design.
//
// Cohort of a unit: the first period t with t >= adopt_it among its rows (adopt may vary within a
// unit when units move between treated and untreated locations); if no row is treated and the
// unit's adopt is one finite value, that value (adoption after the unit leaves the panel); else
// never treated. A cohort of 0 (the `did` package's code for never treated, when 0 is not a
// period), a non-finite value or one after the last period means never treated. Treatment is
// taken as absorbing from the cohort on; units whose rows say otherwise are counted.
import type { Frame } from "../frame.js";
import { ColumnError, PanelError, SampleError } from "../errors.js";

export interface PanelRoles {
  outcome: string;
  unit: string;
  time: string;
  /** first treated period of the unit's location; NaN / missing / 0 / beyond the panel = never */
  adopt: string;
  controls?: string[];
}

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
  /** units whose rows do not follow an absorbing treatment from the cohort on */
  nonAbsorbing: number;
  /** rows dropped for a missing value */
  droppedNa: number;
}

export interface PanelOptions {
  /** drop units treated in or before the first period (default true: they have no pre-period) */
  dropAlwaysTreated?: boolean;
  /** keep only units observed in every period (the `did` package's default) */
  balance?: boolean;
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
  const yAll = frame.numeric(roles.outcome);
  const tAll = frame.numeric(roles.time);
  const aAll = frame.numeric(roles.adopt);
  const uCodes = frame.codes(roles.unit);
  const XAll = controls.map((c) => frame.numeric(c));
  const warnings: string[] = [];

  // periods from every row with a unit and a time (missing outcomes do not hide a period)
  const pset = new Set<number>();
  for (let i = 0; i < N; i++) if (uCodes.codes[i] >= 0 && Number.isFinite(tAll[i])) pset.add(tAll[i]);
  const periods = [...pset].sort((a, b) => a - b);
  if (periods.length < 2) throw new SampleError("an event study needs at least two periods", { periods: periods.length });

  // unit cohorts from all rows with a unit and a time
  const U0 = uCodes.levels.length;
  const firstTreated = new Float64Array(U0).fill(Infinity);
  const adoptSeen = new Float64Array(U0).fill(NaN);
  const adoptVaries = new Uint8Array(U0);
  const lastSeen = new Float64Array(U0).fill(-Infinity);
  for (let i = 0; i < N; i++) {
    const u = uCodes.codes[i];
    if (u < 0 || !Number.isFinite(tAll[i])) continue;
    const a = isNever(aAll[i], periods) ? NaN : aAll[i];
    lastSeen[u] = Math.max(lastSeen[u], tAll[i]);
    if (Number.isFinite(a) && tAll[i] >= a) firstTreated[u] = Math.min(firstTreated[u], tAll[i]);
    if (Number.isNaN(adoptSeen[u])) adoptSeen[u] = a;
    else if (!(adoptSeen[u] === a || (Number.isNaN(a) && Number.isNaN(adoptSeen[u])))) adoptVaries[u] = 1;
  }
  const cohortU = new Float64Array(U0).fill(NaN);
  for (let u = 0; u < U0; u++) {
    if (Number.isFinite(firstTreated[u])) cohortU[u] = firstTreated[u];
    else if (!adoptVaries[u] && Number.isFinite(adoptSeen[u])) cohortU[u] = adoptSeen[u];
  }
  let nonAbsorbing = 0;
  {
    const bad = new Uint8Array(U0);
    for (let i = 0; i < N; i++) {
      const u = uCodes.codes[i];
      if (u < 0 || !Number.isFinite(tAll[i])) continue;
      const a = isNever(aAll[i], periods) ? NaN : aAll[i];
      const dRow = Number.isFinite(a) && tAll[i] >= a;
      const dUnit = Number.isFinite(cohortU[u]) && tAll[i] >= cohortU[u];
      if (dRow !== dUnit) bad[u] = 1;
    }
    for (let u = 0; u < U0; u++) nonAbsorbing += bad[u];
    if (nonAbsorbing > 0) {
      warnings.push(
        `${nonAbsorbing} unit(s) change treatment status other than once from untreated to treated (e.g. they move between locations); ` +
          "they are treated as absorbing from their first treated period",
      );
    }
  }
  const dropAlways = opts.dropAlwaysTreated ?? true;
  let droppedAlwaysTreated = 0;
  const dropUnit = new Uint8Array(U0);
  for (let u = 0; u < U0; u++) {
    if (Number.isFinite(cohortU[u]) && cohortU[u] <= periods[0]) {
      if (dropAlways) {
        dropUnit[u] = 1;
        droppedAlwaysTreated++;
      }
    }
  }
  if (droppedAlwaysTreated > 0) {
    warnings.push(`${droppedAlwaysTreated} always-treated unit(s) (treated in or before the first period ${periods[0]}) dropped: they have no untreated period`);
  }

  // usable rows
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

  // dense re-coding of units on the rows kept
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
  return {
    roles, n, rows, unit, unitLabels, nUnits: unitLabels.length, t, periods, y, X, cohort, cohortIdx, warnings,
    droppedAlwaysTreated, nonAbsorbing, droppedNa,
  };
}

/** Treated indicator D_it = 1{t >= cohort_i}. */
export function treated(p: Panel): Uint8Array {
  return Uint8Array.from(p.t, (ti, r) => (p.cohortIdx[p.unit[r]] >= 0 && ti >= p.cohortIdx[p.unit[r]] ? 1 : 0));
}
