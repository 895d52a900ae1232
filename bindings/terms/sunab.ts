// Sun & Abraham (2021) interaction-weighted event study, with fixest 0.12.2's conventions
// (R/did.R: sunab() and aggregate.fixest(); src: cpp_find_never_always_treated).
//
// Two halves:
//   sunabColumns   the design side: cohort x relative-period dummies for a sunab() term, named
//                  "<period>::<rel>:cohort::<cohort>" and ordered by (rel, cohort), as fixest's
//                  i(factor_var = period, f2 = cohort) names and orders them.
//   sunabPostFit   the post-fit side (hook called by feols through the core registry): aggregates the cohort x period coefficients
//                  to relative periods ("<period>::<rel>"), to the ATT or to cohorts, with shares
//                  = (weighted) counts of non-zero rows of each dummy in the estimation sample,
//                  and the delta-method vcov A V A' (V = the fit's vcov, so K and df are those of
//                  the cohort x period regression, as fixest's summary(agg = ...)).
//
// fixest rules reproduced:
//   - "case 1": when `period` is numeric and already relative (has 0, negative and positive
//     values) it is used as is; otherwise rel = period - cohort, and every cohort value that
//     never appears among the period values (e.g. 10000, or 0) is a reference cohort (rel := -1).
//   - reference periods ref.p (default -1 only: the earliest relative period is NOT a reference
//     in 0.12.2; ".F" / ".L" name the first / last relative period), extra reference cohorts ref.c.
//   - never-/always-treated detection runs cohort by cohort over rows sorted (stably) by cohort
//     codes in order of first appearance; a cohort that is not seen with both a negative and a
//     non-negative relative period is a reference cohort (no dummies). Like the C++ loop, the
//     first row of every cohort but the first is not inspected.
//   - always-treated cohorts (only rel >= 0, i.e. cohort <= first period while inside the period
//     range) are reference cohorts too (their rows keep all-zero dummies), and fixest 0.12.2 then
//     sets to NA the rows whose position among the non-missing rows equals the integer code of
//     such a cohort (`res[qui_NA, ] = NA` with qui_NA holding cohort codes). Both are reproduced
//     for parity and reported as warnings; drop always-treated units before estimating.
//     A cohort value below the first period is not a period value, so it is treated as never
//     treated (fixest documents this). eventStudy()/runEventSuite() drop such units themselves.
//
// This module is the sunab() formula expansion: it registers itself with the core's registry
// (bindings/core/expansions.ts) when imported; the aggregation tool of event studies
// (sunabAggregate, sunabDetails) lives in bindings/event/sunab.ts.
import type { Term, Formula, ArgValue } from "../core/formula.js";
import type { Frame } from "../core/frame.js";
import { fmtLevel } from "../core/frame.js";
import { ColumnError, OptionError } from "../base/errors.js";
import { invSPD } from "../base/stats.js";
import { registerExpansion, type PostFit, type DesignColumns } from "../core/expansions.js";

type SunabTerm = Extract<Term, { kind: "sunab" }>;

/** One cohort x relative-period dummy. */
export interface SunabCell {
  name: string;
  rel: number;
  cohort: number;
}

interface DesignMeta {
  term: SunabTerm;
  cells: SunabCell[];
  refP: number[];
  warnings: string[];
}

/** Design metadata keyed by the first dummy column (the same array object reaches the hook). */
const DESIGN_META = new WeakMap<Float64Array, DesignMeta>();

function argNumbers(a: ArgValue | undefined, name: string, F: number, L: number): number[] | null {
  if (a === undefined) return null;
  const list = Array.isArray(a) ? a : [a];
  return list.map((v) => {
    if (typeof v === "number") return v;
    if (v === ".F") return F;
    if (v === ".L") return L;
    throw new OptionError(`sunab(): ${name} must be numbers (or ".F" / ".L"), got ${JSON.stringify(v)}`);
  });
}

function argBool(a: ArgValue | undefined, name: string): boolean {
  if (a === undefined) return false;
  if (typeof a === "boolean") return a;
  throw new OptionError(`sunab(): ${name} must be TRUE or FALSE`);
}

export function cellName(period: string, rel: number, cohort: number): string {
  return `${period}::${fmtLevel(rel)}:cohort::${fmtLevel(cohort)}`;
}

/** Unsupported arguments and non-numeric columns are errors. */
function checkSunabTerm(t: SunabTerm, frame: Frame): void {
  for (const k of ["bin", "bin.rel", "bin.c", "bin.p"]) {
    if (t.args[k] !== undefined) {
      throw new OptionError(`sunab(): argument '${k}' is not supported`, undefined, "bin the cohort or period column yourself before the estimation");
    }
  }
  for (const [col, role] of [[t.cohort, "cohort"], [t.period, "period"]] as const) {
    if (!frame.isNumeric(col)) throw new ColumnError(`sunab(): the ${role} column "${col}" must be numeric`, { column: col });
  }
}

/** Rows with both a cohort and a period; the missing ones are reported through markCodes. */
function completeRows(
  t: SunabTerm, C: Float64Array, P: Float64Array, n: number, markCodes: (name: string, codes: Int32Array) => void,
): number[] {
  const idx: number[] = [];
  const naCohort = new Int32Array(n);
  const naPeriod = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const okC = Number.isFinite(C[i]), okP = Number.isFinite(P[i]);
    if (!okC) naCohort[i] = -1;
    else if (!okP) naPeriod[i] = -1;
    if (okC && okP) idx.push(i);
  }
  markCodes(t.cohort, naCohort);
  markCodes(t.period, naPeriod);
  if (idx.length === 0) throw new ColumnError(`sunab(): no row has both ${t.cohort} and ${t.period}`);
  return idx;
}

/** Relative period of every complete row (fixest's "case 1" or period - cohort, reference cohorts -1). */
function relativePeriods(t: SunabTerm, C: Float64Array, P: Float64Array, n: number, idx: number[]): Float64Array {
  const periodUnik = new Set<number>();
  const cohortUnik = new Set<number>();
  for (const i of idx) {
    periodUnik.add(P[i]);
    cohortUnik.add(C[i]);
  }
  let pmin = Infinity, pmax = -Infinity;
  for (const p of periodUnik) {
    pmin = Math.min(pmin, p);
    pmax = Math.max(pmax, p);
  }
  const rel = new Float64Array(n).fill(NaN);
  if (periodUnik.has(0) && pmin < 0 && pmax > 0) {
    for (const i of idx) rel[i] = P[i]; // case 1: already relative periods
    return rel;
  }
  const refs = new Set([...cohortUnik].filter((c) => !periodUnik.has(c)));
  if (refs.size === cohortUnik.size) {
    throw new ColumnError(
      `sunab(): not a single value of "${t.cohort}" is a value of "${t.period}"; the cohort must be the first treated period`,
      { cohort: t.cohort, period: t.period },
    );
  }
  for (const i of idx) rel[i] = refs.has(C[i]) ? -1 : P[i] - C[i];
  return rel;
}

/** Cohort codes in order of first appearance (fixest's to_index_internal), 1-based. */
function cohortCodes(C: Float64Array, n: number, idx: number[]): { cohortInt: Int32Array; cohortOfCode: Float64Array; nCodes: number } {
  const codeOf = new Map<number, number>();
  const cohortInt = new Int32Array(n);
  for (const i of idx) {
    let c = codeOf.get(C[i]);
    if (c === undefined) codeOf.set(C[i], (c = codeOf.size + 1));
    cohortInt[i] = c;
  }
  const cohortOfCode = new Float64Array(codeOf.size + 1);
  for (const [v, c] of codeOf) cohortOfCode[c] = v;
  return { cohortInt, cohortOfCode, nCodes: codeOf.size };
}

/** fixest's C++ scan over rows sorted stably by cohort code: reference cohorts and the always-treated ones. */
function referenceCohorts(idx: number[], cohortInt: Int32Array, nCodes: number, rel: Float64Array): { refCodes: Set<number>; always: number[] } {
  const byCode: number[][] = Array.from({ length: nCodes + 1 }, () => []);
  for (const i of idx) byCode[cohortInt[i]].push(i);
  const sorted: number[] = [];
  for (let c = 1; c <= nCodes; c++) sorted.push(...byCode[c]);
  const refCodes = new Set<number>();
  const always: number[] = [];
  let j = cohortInt[sorted[0]];
  let isNeg = rel[sorted[0]] < 0, isPos = !isNeg, isOk = false;
  for (let s = 1; s < sorted.length; s++) {
    const i = sorted[s];
    if (cohortInt[i] === j) {
      if (!isOk) {
        if (rel[i] < 0) {
          isNeg = true;
          isOk = isPos;
        } else {
          isPos = true;
          isOk = isNeg;
        }
      }
    } else {
      if (!isOk) {
        if (isPos) always.push(j);
        refCodes.add(j);
      }
      j = cohortInt[i];
      isNeg = false;
      isPos = false;
      isOk = false;
    }
  }
  if (!isOk) {
    if (isPos) always.push(j);
    refCodes.add(j);
  }
  return { refCodes, always };
}

/** The dummy columns of the cells left once reference cohorts, periods and ref.c are removed. */
function cellDummies(
  t: SunabTerm, C: Float64Array, n: number, idx: number[], rel: Float64Array, isRef: (i: number) => boolean,
): { cells: SunabCell[]; out: Float64Array[] } {
  const cellKey = new Map<string, SunabCell>();
  const keep = new Uint8Array(n);
  for (const i of idx) {
    if (isRef(i)) continue;
    keep[i] = 1;
    const key = `${rel[i]},${C[i]}`;
    if (!cellKey.has(key)) cellKey.set(key, { name: cellName(t.period, rel[i], C[i]), rel: rel[i], cohort: C[i] });
  }
  const cells = [...cellKey.values()].sort((a, b) => a.rel - b.rel || a.cohort - b.cohort);
  if (cells.length === 0) {
    throw new ColumnError(`sunab(${t.cohort}, ${t.period}): no cohort x relative-period cell is left once the references are removed`);
  }
  const colOf = new Map<string, number>();
  cells.forEach((c, j) => colOf.set(`${c.rel},${c.cohort}`, j));
  const out = cells.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    out[colOf.get(`${rel[i]},${C[i]}`)!][i] = 1;
  }
  return { cells, out };
}

/** fixest 0.12.2: res[-IS_NA, ][qui_NA, ] = NA with qui_NA = always-treated cohort codes. */
function alwaysTreatedQuirk(
  t: SunabTerm, n: number, idx: number[], always: number[], cohortOfCode: Float64Array,
  markCodes: (name: string, codes: Int32Array) => void,
): string[] {
  if (always.length === 0) return [];
  const quirk = new Int32Array(n);
  const rowsNa: number[] = [];
  for (const code of always) {
    const i = idx[code - 1];
    if (i !== undefined) {
      quirk[i] = -1;
      rowsNa.push(i + 1);
    }
  }
  markCodes(`sunab(${t.cohort}, ${t.period})`, quirk);
  return [
    `sunab(): cohort(s) ${always.map((c) => fmtLevel(cohortOfCode[c])).join(", ")} are always treated; as fixest 0.12.2, ` +
      `their rows are kept as controls with zero dummies and row(s) ${rowsNa.join(", ")} are set to NA. Drop always-treated units before estimating.`,
  ];
}

/**
 * The cohort x relative-period dummies of a sunab() term, appended to `names`/`cols`; rows fixest
 * sets to NA are reported through `markCodes` (code -1).
 */
export function sunabColumns(
  t: SunabTerm, frame: Frame, n: number, markCodes: (name: string, codes: Int32Array) => void,
  names: string[], cols: Float64Array[],
): void {
  checkSunabTerm(t, frame);
  const C = frame.numeric(t.cohort);
  const P = frame.numeric(t.period);
  const idx = completeRows(t, C, P, n, markCodes);
  const rel = relativePeriods(t, C, P, n, idx);
  let F = Infinity, L = -Infinity;
  for (const i of idx) {
    F = Math.min(F, rel[i]);
    L = Math.max(L, rel[i]);
  }
  const refP = argNumbers(t.args["ref.p"], "ref.p", F, L) ?? [-1];
  const refC = argNumbers(t.args["ref.c"], "ref.c", F, L) ?? [];
  argBool(t.args.att, "att");
  argBool(t.args.no_agg, "no_agg");
  const { cohortInt, cohortOfCode, nCodes } = cohortCodes(C, n, idx);
  const { refCodes, always } = referenceCohorts(idx, cohortInt, nCodes, rel);
  const refPSet = new Set(refP);
  const refCSet = new Set(refC);
  const isRef = (i: number) => refCodes.has(cohortInt[i]) || refPSet.has(rel[i]) || refCSet.has(C[i]);
  const { cells, out } = cellDummies(t, C, n, idx, rel, isRef);
  const warnings = alwaysTreatedQuirk(t, n, idx, always, cohortOfCode, markCodes);
  for (let j = 0; j < cells.length; j++) {
    names.push(cells[j].name);
    cols.push(out[j]);
  }
  DESIGN_META.set(out[0], { term: t, cells, refP, warnings });
}

// ---------------------------------------------------------------------------------------------
// Aggregation

export type SunabAgg = "period" | "att" | "cohort" | "none";

/** Output of an aggregation: the reported names and the linear map A (kOut x kRaw, column-major). */
export interface SunabMap {
  names: string[];
  A: Float64Array;
  /** for each output row: the raw indices it aggregates (one index for kept coefficients) */
  members: number[][];
  /** shares of each member (sum to 1) */
  shares: number[][];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * fixest's aggregate.fixest(x, agg, full = TRUE) for a sunab fit: `counts` are the (weighted)
 * numbers of non-zero rows of each raw column in the estimation sample.
 */
export function sunabMap(names: string[], counts: Float64Array, period: string, agg: SunabAgg): SunabMap {
  const k = names.length;
  const p = escapeRe(period);
  const any = new RegExp(`^${p}::(-?\\d+):cohort::(.+)$`);
  const parsed = names.map((nm) => {
    const m = nm.match(any);
    return m ? { rel: Number(m[1]), relText: m[1], cohort: m[2] } : null;
  });
  let groups: { name: string; idx: number[] }[] = [];
  let removed: boolean[];
  if (agg === "none") {
    groups = [];
    removed = names.map(() => false);
  } else if (agg === "period") {
    const byRel = new Map<string, number[]>();
    parsed.forEach((q, j) => {
      if (!q) return;
      const key = q.relText;
      if (!byRel.has(key)) byRel.set(key, []);
      byRel.get(key)!.push(j);
    });
    groups = [...byRel].map(([rel, idx]) => ({ name: `${period}::${rel}`, idx }));
    removed = parsed.map((q) => q !== null);
  } else if (agg === "att") {
    const idx = parsed.flatMap((q, j) => (q && !q.relText.startsWith("-") ? [j] : []));
    groups = idx.length ? [{ name: "ATT", idx }] : [];
    removed = parsed.map((q) => q !== null);
  } else {
    const byC = new Map<string, number[]>();
    parsed.forEach((q, j) => {
      if (!q || q.relText.startsWith("-")) return;
      if (!byC.has(q.cohort)) byC.set(q.cohort, []);
      byC.get(q.cohort)!.push(j);
    });
    groups = [...byC].map(([c, idx]) => ({ name: `cohort::${c}`, idx }));
    removed = parsed.map((q) => q !== null);
  }
  const first = removed.indexOf(true);
  const outNames: string[] = [];
  const members: number[][] = [];
  const shares: number[][] = [];
  const pushKept = (j: number) => {
    outNames.push(names[j]);
    members.push([j]);
    shares.push([1]);
  };
  if (groups.length === 0 || first < 0) {
    for (let j = 0; j < k; j++) if (agg === "none" || !removed[j]) pushKept(j);
  } else {
    for (let j = 0; j < first; j++) pushKept(j);
    for (const g of groups) {
      const c = g.idx.map((j) => counts[j]);
      const tot = c.reduce((s, v) => s + v, 0);
      outNames.push(g.name);
      members.push(g.idx);
      shares.push(c.map((v) => v / tot));
    }
    for (let j = first + 1; j < k; j++) if (!removed[j]) pushKept(j);
  }
  const kOut = outNames.length;
  const A = new Float64Array(kOut * k);
  members.forEach((mem, r) => mem.forEach((j, s) => (A[r + j * kOut] = shares[r][s])));
  return { names: outNames, A, members, shares };
}

/** M (rows x k) * S (k x k) * M' for column-major M (rows x k). */
function quad(M: Float64Array, rows: number, S: Float64Array, k: number): Float64Array {
  const MS = new Float64Array(rows * k);
  for (let j = 0; j < k; j++)
    for (let l = 0; l < k; l++) {
      const s = S[l + j * k];
      if (s === 0) continue;
      for (let r = 0; r < rows; r++) MS[r + j * rows] += M[r + l * rows] * s;
    }
  const out = new Float64Array(rows * rows);
  for (let a = 0; a < rows; a++)
    for (let b = 0; b < rows; b++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += MS[a + j * rows] * M[b + j * rows];
      out[a + b * rows] = s;
    }
  return out;
}

export type { PostFit };

/** The cohort x period regression behind an aggregated sunab fit (see sunabDetails). */
export interface SunabRaw {
  period: string;
  cohort: string;
  agg: SunabAgg;
  names: string[];
  beta: Float64Array;
  /** vcov of the raw coefficients under the fit's original vcov */
  V: Float64Array;
  counts: Float64Array;
  cells: SunabCell[];
  refP: number[];
  xTilde: Float64Array;
  bread: Float64Array;
  feDof: number;
  map: SunabMap;
  /** the vcov reported by the fit the hook produced (to know whether withVcov changed it) */
  reportedV: Float64Array;
}

const RAW = new WeakMap<Float64Array, SunabRaw>();

/**
 * Post-fit hook for feols: with a sunab() term, replaces the cohort x period coefficients by
 * their aggregation (period by default, "att" with sunab(..., att = TRUE), none with no_agg = TRUE).
 */
export function sunabPostFit(
  term: SunabTerm, _f: Formula, design: DesignColumns, rows: Int32Array, w: Float64Array | null,
  inp: PostFit, warn: (m: string) => void,
): PostFit {
  const firstCol = design.X[design.xNames.findIndex((nm) => nm.startsWith(`${term.period}::`) && nm.includes(":cohort::"))];
  const meta = firstCol ? DESIGN_META.get(firstCol) : undefined;
  for (const m of meta?.warnings ?? []) warn(m);
  const agg: SunabAgg = argBool(term.args.no_agg, "no_agg") ? "none" : argBool(term.args.att, "att") ? "att" : "period";
  const k = inp.names.length;
  const n = rows.length;
  const counts = new Float64Array(k);
  inp.names.forEach((nm, j) => {
    const d = design.xNames.indexOf(nm);
    if (d < 0) return;
    const col = design.X[d];
    let s = 0;
    for (let r = 0; r < n; r++) if (col[rows[r]] !== 0) s += w ? w[r] : 1;
    counts[j] = s;
  });
  return aggregateSunab(inp, counts, { period: term.period, cohort: term.cohort, agg, cells: meta?.cells ?? [], refP: meta?.refP ?? [-1] }, n);
}

/**
 * The aggregation of a sunab regression's cohort x period coefficients (`inp`, with the (weighted)
 * counts of non-zero rows of each raw column), recorded so that sunabRawOf / sunabAggregate find
 * the raw regression from the reported coefficients. Used by the post-fit hook above and by the
 * out-of-core Sun-Abraham (bindings/event-sql/), whose counts come from a GROUP BY.
 */
export function aggregateSunab(
  inp: PostFit, counts: Float64Array, o: { period: string; cohort: string; agg: SunabAgg; cells: SunabCell[]; refP: number[] }, n: number,
): PostFit {
  const map = sunabMap(inp.names, counts, o.period, o.agg);
  const out = applyMap(map, inp, n);
  RAW.set(out.beta, {
    period: o.period, cohort: o.cohort, agg: o.agg, names: inp.names, beta: inp.beta, V: inp.V, counts,
    cells: o.cells, refP: o.refP, xTilde: inp.xTilde, bread: inp.bread, feDof: inp.feDof, map,
    reportedV: out.V,
  });
  return out;
}

export function applyMap(map: SunabMap, inp: PostFit, n: number): PostFit {
  const k = inp.names.length;
  const kOut = map.names.length;
  const A = map.A;
  const beta = new Float64Array(kOut);
  for (let r = 0; r < kOut; r++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += A[r + j * kOut] * inp.beta[j];
    beta[r] = s;
  }
  if (kOut === k && map.members.every((m, r) => m.length === 1 && m[0] === r)) {
    return { ...inp, names: map.names, beta };
  }
  const V = quad(A, kOut, inp.V, k);
  const C = quad(A, kOut, inp.bread, k);
  const Ci = invSPD(C, kOut);
  if (!Ci) throw new OptionError("sunab aggregation: the aggregated bread is singular");
  // Z = X B A' C^-1 (n x kOut)
  const BAt = new Float64Array(k * kOut); // k x kOut
  for (let r = 0; r < kOut; r++)
    for (let j = 0; j < k; j++) {
      const a = A[r + j * kOut];
      if (a === 0) continue;
      for (let l = 0; l < k; l++) BAt[l + r * k] += inp.bread[l + j * k] * a;
    }
  const T = new Float64Array(k * kOut); // B A' C^-1
  for (let c = 0; c < kOut; c++)
    for (let r = 0; r < kOut; r++) {
      const ci = Ci[r + c * kOut];
      if (ci === 0) continue;
      for (let l = 0; l < k; l++) T[l + c * k] += BAt[l + r * k] * ci;
    }
  let xTilde = new Float64Array(0);
  if (inp.xTilde.length === n * k) {
    xTilde = new Float64Array(n * kOut);
    for (let c = 0; c < kOut; c++) {
      const o = xTilde.subarray(c * n, (c + 1) * n);
      for (let l = 0; l < k; l++) {
        const t = T[l + c * k];
        if (t === 0) continue;
        const x = inp.xTilde.subarray(l * n, (l + 1) * n);
        for (let i = 0; i < n; i++) o[i] += x[i] * t;
      }
    }
  }
  return { names: map.names, beta, V, xTilde, bread: C, feDof: inp.feDof + (k - kOut) };
}

/** The raw cohort x period regression behind reported coefficients (a fit's coefVector), or null. */
export function sunabRawOf(beta: Float64Array): SunabRaw | null {
  return RAW.get(beta) ?? null;
}

registerExpansion<SunabTerm>({ kind: "sunab", columns: sunabColumns, postFit: sunabPostFit });
