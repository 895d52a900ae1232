// Formula expansions: the registry through which the core reaches terms it does not define
// itself (today sunab(); tomorrow e.g. IV or GLM helpers). A term kind registers how it
// becomes design columns and, optionally, how the fitted coefficient table is transformed
// after the fit (aggregation). The core (design, feols) only calls through this registry,
// so it imports nothing from the modules that implement the terms (bindings/terms/).
import type { Formula, Term } from "./formula.js";
import type { Frame } from "./frame.js";
import { OptionError } from "../base/errors.js";

/** Terms that a registered expansion builds (every kind but plain columns, interactions and i()). */
export type SpecialTerm = Exclude<Term, { kind: "var" | "interact" | "i" }>;
export type SpecialKind = SpecialTerm["kind"];

/** What feols hands to a post-fit hook and gets back. */
export interface PostFit {
  names: string[];
  beta: Float64Array;
  V: Float64Array;
  /**
   * demeaned regressors (n x k, may be empty when feols keeps no data) and bread (k x k). For an
   * aggregation A they become Z = X B A' C^-1 and C = A B A' (B = the raw bread): regressing on Z
   * gives A beta, (Z'Z)^-1 = C, and every sandwich built from Z and the raw residuals equals
   * A V A', so withVcov() and resampling keep working on the reported coefficients.
   */
  xTilde: Float64Array;
  bread: Float64Array;
  /** FE degrees of freedom; raised by (k_raw - k_reported) so that K stays that of the raw model */
  feDof: number;
}

/** The design columns built so far, as the post-fit hook sees them. */
export interface DesignColumns {
  xNames: string[];
  X: Float64Array[];
}

export interface TermExpansion<T extends SpecialTerm = SpecialTerm> {
  kind: T["kind"];
  /**
   * Appends the term's columns to `names`/`cols`; rows to drop (NA) are reported through
   * `markCodes` (code -1).
   */
  columns(
    t: T, frame: Frame, n: number, markCodes: (name: string, codes: Int32Array) => void,
    names: string[], cols: Float64Array[],
  ): void;
  /** Replaces the fitted coefficients (e.g. by their aggregation); absent = unchanged. */
  postFit?(
    t: T, f: Formula, design: DesignColumns, rows: Int32Array, w: Float64Array | null, inp: PostFit,
    warn: (m: string) => void,
  ): PostFit;
}

const REGISTRY = new Map<SpecialKind, TermExpansion>();

/** Registers (or replaces) the expansion of one term kind. */
export function registerExpansion<T extends SpecialTerm>(e: TermExpansion<T>): void {
  REGISTRY.set(e.kind, e as unknown as TermExpansion);
}

/** The expansion of a special term; an OptionError when none is registered. */
export function expansionOf(t: SpecialTerm): TermExpansion {
  const e = REGISTRY.get(t.kind);
  if (!e) {
    throw new OptionError(`${t.kind}() terms are not available in this build`, undefined,
      `import the module that registers ${t.kind}() (bindings/terms/) before fitting`);
  }
  return e;
}

/**
 * Applies the post-fit hook of each special term kind of the formula once, with the first term
 * of that kind, in formula order.
 */
export function applyPostFit(
  f: Formula, design: DesignColumns, rows: Int32Array, w: Float64Array | null, inp: PostFit, warn: (m: string) => void,
): PostFit {
  let out = inp;
  const seen = new Set<SpecialKind>();
  for (const t of f.terms) {
    if (t.kind === "var" || t.kind === "interact" || t.kind === "i" || seen.has(t.kind)) continue;
    seen.add(t.kind);
    const e = expansionOf(t);
    if (e.postFit) out = e.postFit(t, f, design, rows, w, out, warn);
  }
  return out;
}
