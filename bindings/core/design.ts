// From a parsed formula and a Frame to the numbers a model needs: outcome, regressor
// columns with fixest's names, fixed-effect codes (with varying slopes), weights, and a
// per-row validity mask with the reason each removed row was removed.
import type { Formula, Term, FixefTerm, ArgValue } from "./formula.js";
import { Frame, fmtLevel } from "./frame.js";
import { ColumnError, FormulaSyntaxError, OptionError } from "../base/errors.js";
import type { FeType } from "../engine/kernels.js";
import { intersectCodes } from "./codes.js";
import { expansionOf } from "./expansions.js";
import type { PlacedColumns } from "./placed.js";

export interface FeDim {
  /** fixest's name: "firm", "fe1^fe2", or the FE part of "region[year]" */
  name: string;
  /** codes over all rows of the frame, -1 where missing */
  codes: Int32Array;
  levels: number;
  type: FeType;
  slope?: { name: string; values: Float64Array };
}

export interface Design {
  n: number;
  yName: string;
  y: Float64Array;
  xNames: string[];
  X: Float64Array[];
  fe: FeDim[];
  weights: Float64Array | null;
  /** count of rows with a missing/non-finite value, by the first column found missing */
  naByColumn: Record<string, number>;
  /** 1 if the row has every value it needs */
  valid: Uint8Array;
  /** rows removed for a zero weight */
  zeroWeight: number;
  intercept: boolean;
  /**
   * the frame's placed columns (core/placed.ts) when y and X are exactly its columns in order
   * (views over WASM memory): the float64 fit uses the block in place as its model matrix
   */
  placed?: PlacedColumns;
}

export interface DesignOptions {
  weights?: string;
  /** extra columns that must be present and non-missing (cluster variables, split flags) */
  extra?: string[];
  /** external numeric columns (e.g. a permuted treatment) that replace a named column */
  override?: Record<string, Float64Array>;
}

/** A column of the formula that must be numeric and is not (also the out-of-core engines' error for a file's text column). */
export function notNumericError(role: string, name: string): ColumnError {
  return new ColumnError(
    `${role} "${name}" is not numeric`,
    { column: name },
    role === "regressor" ? `use i(${name}) for a categorical regressor or put it after "|" as a fixed effect` : undefined,
  );
}

export function buildDesign(frame: Frame, f: Formula, opts: DesignOptions = {}): Design {
  const n = frame.nrows;
  const valid = new Uint8Array(n).fill(1);
  const naByColumn: Record<string, number> = {};
  const num = (name: string, role: string): Float64Array => {
    if (opts.override?.[name]) return opts.override[name];
    if (!frame.isNumeric(name)) throw notNumericError(role, name);
    return frame.numeric(name);
  };
  const markNum = (name: string, v: Float64Array) => {
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (valid[i] && !Number.isFinite(v[i])) {
        valid[i] = 0;
        c++;
      }
    }
    if (c) naByColumn[name] = (naByColumn[name] ?? 0) + c;
  };
  const markCodes = (name: string, codes: Int32Array) => {
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (valid[i] && codes[i] < 0) {
        valid[i] = 0;
        c++;
      }
    }
    if (c) naByColumn[name] = (naByColumn[name] ?? 0) + c;
  };

  for (const t of f.terms) {
    const used = t.kind === "var" ? [t.name] : t.kind === "interact" ? t.vars : t.kind === "i" ? [t.factor, t.by ?? ""] : [t.cohort, t.period];
    if (used.includes(f.lhs)) {
      throw new FormulaSyntaxError(`the outcome "${f.lhs}" is also a regressor`, f.text, t.pos, `remove "${f.lhs}" from the right-hand side`);
    }
  }
  const y = num(f.lhs, "outcome");
  markNum(f.lhs, y);

  const xNames: string[] = [];
  const X: Float64Array[] = [];
  for (const t of f.terms) expandTerm(t, frame, n, num, markNum, markCodes, xNames, X);

  const fe: FeDim[] = [];
  for (const ft of f.fixef) fe.push(buildFe(ft, frame, n, num, markNum, markCodes));

  let weights: Float64Array | null = null;
  let zeroWeight = 0;
  if (opts.weights) {
    weights = num(opts.weights, "weights");
    markNum(opts.weights, weights);
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      if (weights[i] < 0) {
        throw new OptionError(`weights column "${opts.weights}" has a negative value ${weights[i]} at row ${i + 1}`, {
          column: opts.weights,
          row: i + 1,
        });
      }
      if (weights[i] === 0) {
        valid[i] = 0;
        zeroWeight++;
      }
    }
  }
  for (const e of opts.extra ?? []) markCodes(e, frame.codes(e).codes);

  const dup = xNames.find((nm, i) => xNames.indexOf(nm) !== i);
  if (dup) throw new OptionError(`regressor "${dup}" appears twice in the formula`);

  const placed = placedModelMatrix(frame, f, xNames, opts);
  return { n, yName: f.lhs, y, xNames, X, fe, weights, naByColumn, valid, zeroWeight, intercept: f.intercept, ...(placed ? { placed } : {}) };
}

/** The frame's placed block when it is this model's [y | X] exactly (plain variables, in order, none overridden). */
function placedModelMatrix(frame: Frame, f: Formula, xNames: string[], opts: DesignOptions): PlacedColumns | undefined {
  const p = frame.placed;
  if (p === null || p.consumed || !f.terms.every((t) => t.kind === "var")) return undefined;
  const want = [f.lhs, ...xNames];
  if (want.length !== p.names.length || want.some((nm, c) => p.names[c] !== nm || opts.override?.[nm] !== undefined)) return undefined;
  return p;
}

type NumFn = (name: string, role: string) => Float64Array;
type MarkNum = (name: string, v: Float64Array) => void;
type MarkCodes = (name: string, c: Int32Array) => void;

function expandTerm(
  t: Term, frame: Frame, n: number, num: NumFn, markNum: MarkNum, markCodes: MarkCodes,
  names: string[], cols: Float64Array[],
): void {
  if (t.kind === "var") {
    const v = num(t.name, "regressor");
    markNum(t.name, v);
    names.push(t.name);
    cols.push(v);
  } else if (t.kind === "interact") {
    const out = new Float64Array(n).fill(1);
    for (const nm of t.vars) {
      const v = num(nm, "regressor");
      markNum(nm, v);
      for (let i = 0; i < n; i++) out[i] *= v[i];
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i]) && t.vars.every((nm) => Number.isFinite(num(nm, "regressor")[i]))) {
        throw new ColumnError(
          `the interaction ${t.vars.join(":")} overflows float64 at row ${i + 1} (${t.vars.map((nm) => `${nm} = ${num(nm, "regressor")[i]}`).join(", ")})`,
          { column: t.vars.join(":"), row: i + 1 },
          "rescale the columns of the interaction",
        );
      }
    }
    names.push(t.vars.join(":"));
    cols.push(out);
  } else if (t.kind === "i") {
    const fac = sortedCodes(frame, t.factor);
    markCodes(t.factor, fac.codes);
    let by: Float64Array | null = null;
    if (t.by) {
      by = num(t.by, "regressor");
      markNum(t.by, by);
    }
    const ref = new Set(argList(t.args.ref).map(String));
    checkIRef(t.factor, ref, fac.levels);
    const keepArg = t.args.keep;
    const keep = keepArg === undefined ? null : new Set(argList(keepArg).map(String));
    for (let l = 0; l < fac.levels.length; l++) {
      const lab = fac.levels[l];
      if (ref.has(lab)) continue;
      if (keep && !keep.has(lab)) continue;
      const col = new Float64Array(n);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (fac.codes[i] === l) {
          col[i] = by ? by[i] : 1;
          any = true;
        }
      }
      if (!any) continue;
      names.push(by ? `${t.factor}::${lab}:${t.by}` : `${t.factor}::${lab}`);
      cols.push(col);
    }
  } else {
    expansionOf(t).columns(t, frame, n, markCodes, names, cols);
  }
}

/** Codes re-ordered so that levels are sorted as R sorts factor levels (numeric or lexical). */
export function sortedCodes(frame: Frame, name: string): { codes: Int32Array; levels: string[]; values?: Float64Array } {
  const c = frame.codes(name);
  const idx = c.levels.map((_, i) => i);
  if (c.values) idx.sort((a, b) => c.values![a] - c.values![b]);
  else idx.sort((a, b) => (c.levels[a] < c.levels[b] ? -1 : c.levels[a] > c.levels[b] ? 1 : 0));
  const rank = new Int32Array(idx.length);
  idx.forEach((old, r) => (rank[old] = r));
  const codes = new Int32Array(c.codes.length);
  for (let i = 0; i < codes.length; i++) codes[i] = c.codes[i] < 0 ? -1 : rank[c.codes[i]];
  return {
    codes,
    levels: idx.map((i) => c.levels[i]),
    values: c.values ? Float64Array.from(idx, (i) => c.values![i]) : undefined,
  };
}

function buildFe(ft: FixefTerm, frame: Frame, n: number, num: NumFn, markNum: MarkNum, markCodes: MarkCodes): FeDim {
  let codes: Int32Array;
  let levels: number;
  if (ft.vars.length === 1) {
    const c = frame.codes(ft.vars[0]);
    codes = c.codes;
    levels = c.values ? c.values.length : c.levels.length; // numeric: labels not needed
    markCodes(ft.vars[0], codes);
  } else {
    // interacted FE: encode the tuple of codes densely
    const parts = ft.vars.map((v) => {
      const c = frame.codes(v);
      markCodes(v, c.codes);
      return c;
    });
    const tuple = intersectCodes(parts.map((c) => c.codes));
    codes = tuple.codes;
    levels = tuple.G;
  }
  const name = ft.vars.join("^");
  if (ft.slopes.length === 0) return { name, codes, levels, type: 0 };
  if (ft.slopes.length > 1) {
    throw new OptionError(`fixed effect "${name}" has ${ft.slopes.length} varying slopes; hdfe supports one per term`, undefined,
      `write ${name}[${ft.slopes[0]}] + ${name}[[${ft.slopes[1]}]]`);
  }
  const z = num(ft.slopes[0], "slope variable");
  markNum(ft.slopes[0], z);
  return { name, codes, levels, type: ft.slopeOnly ? 1 : 2, slope: { name: ft.slopes[0], values: z } };
}

/**
 * i(f, ref = ...): at least one reference value must be a level of f (sorted labels), else a
 * ColumnError naming the levels (fixest would drop another level for collinearity instead).
 */
export function checkIRef(factor: string, ref: Set<string>, levels: string[]): void {
  if (ref.size === 0 || levels.some((l) => ref.has(l))) return;
  const few = levels.slice(0, 6).join(", ") + (levels.length > 6 ? `, ... (${levels.length} levels)` : "");
  throw new ColumnError(
    `i(${factor}, ref = ${[...ref].join(", ")}): ${ref.size > 1 ? "none of these values is" : `"${[...ref][0]}" is not`} a level of "${factor}" (levels: ${few})`,
    { column: factor, ref: [...ref], levels: levels.slice(0, 20) },
    "use one of the levels listed as the reference",
  );
}

/** An i() / sunab() argument as a list of labels (numbers as fmtLevel writes them). */
export function argList(a: ArgValue | undefined): (string | number)[] {
  if (a === undefined) return [];
  if (Array.isArray(a)) return a.map((v) => (typeof v === "number" ? fmtLevel(v) : v));
  if (typeof a === "number") return [fmtLevel(a)];
  if (typeof a === "string") return [a];
  throw new OptionError(`unsupported argument value ${JSON.stringify(a)}`);
}

/** What a memory plan needs to know of a model, counted from the formula before building it. */
export interface DesignShape {
  /** rows with every value the model needs (singletons not yet removed) */
  n: number;
  /** regressor columns (intercept included; i() counts the levels present, minus references) */
  k: number;
  Q: number;
  slopes: number;
  /** FE coefficients (sum of levels present, twice for FE + slope; interacted FE bounded by the rows) */
  feCells: number;
}

/**
 * The size of the design of `f` on `frame` without building it: O(rows) per column read,
 * no n x k allocation, so that a model too large for memory is refused before its
 * regressor columns exist (i() with 100k levels on 1M rows would be 800 GB of columns).
 * sunab() terms are not counted (their columns depend on the cohorts): a lower bound.
 */
export function designShape(frame: Frame, f: Formula, opts: DesignOptions = {}): DesignShape {
  const n = frame.nrows;
  const valid = new Uint8Array(n).fill(1);
  const numeric = (name: string) => (opts.override?.[name] ? opts.override[name] : frame.isNumeric(name) ? frame.numeric(name) : null);
  const markNum = (name: string) => {
    const v = numeric(name);
    if (v) for (let i = 0; i < n; i++) if (!Number.isFinite(v[i])) valid[i] = 0;
  };
  const markCodes = (name: string) => {
    const c = frame.codes(name).codes;
    for (let i = 0; i < n; i++) if (c[i] < 0) valid[i] = 0;
  };
  markNum(f.lhs);
  for (const t of f.terms) {
    if (t.kind === "var") markNum(t.name);
    else if (t.kind === "interact") t.vars.forEach(markNum);
    else if (t.kind === "i") {
      markCodes(t.factor);
      if (t.by) markNum(t.by);
    }
  }
  for (const ft of f.fixef) {
    ft.vars.forEach(markCodes);
    ft.slopes.forEach(markNum);
  }
  if (opts.weights) {
    const w = numeric(opts.weights);
    markNum(opts.weights);
    if (w) for (let i = 0; i < n; i++) if (w[i] === 0) valid[i] = 0;
  }
  for (const e of opts.extra ?? []) markCodes(e);
  let rows = 0;
  for (let i = 0; i < n; i++) rows += valid[i];
  // which levels occur on the sample's rows; the count of levels of a numeric column from its
  // values (its labels are made on first use: 100k strings for a firm id the fit never prints)
  const present = (name: string): Uint8Array => {
    const c = frame.codes(name);
    const seen = new Uint8Array(c.values ? c.values.length : c.levels.length);
    for (let i = 0; i < n; i++) if (valid[i]) seen[c.codes[i]] = 1;
    return seen;
  };
  let k = f.fixef.length === 0 && f.intercept ? 1 : 0;
  for (const t of f.terms) {
    if (t.kind === "var" || t.kind === "interact") k++;
    else if (t.kind === "i") {
      const labels = frame.codes(t.factor).levels;
      const ref = new Set(argList(t.args.ref).map(String));
      const keep = t.args.keep === undefined ? null : new Set(argList(t.args.keep).map(String));
      present(t.factor).forEach((p, l) => {
        if (p && !ref.has(labels[l]) && (!keep || keep.has(labels[l]))) k++;
      });
    }
  }
  let feCells = 0;
  let slopes = 0;
  for (const ft of f.fixef) {
    let levels = 1;
    for (const v of ft.vars) levels *= present(v).reduce((a, p) => a + p, 0);
    levels = Math.min(levels, rows);
    if (ft.slopes.length > 0) slopes++;
    feCells += levels * (ft.slopes.length > 0 && !ft.slopeOnly ? 2 : 1);
  }
  return { n: rows, k, Q: f.fixef.length, slopes, feCells };
}
