// The one typed schema of hdfe's numeric and enumerated options, shared by the library and
// the command line. Each option is declared once, by its library name, with its type and
// range; `checkOption` validates a value of either origin (a number or string from a library
// caller, a string from commander) against it and returns the typed value, or throws an
// OptionError that names the option as the caller spells it ("fixefIter" in the library,
// "--fixef-iter" on the command line), the range and the value given (shortened).
import { OptionError } from "./errors.js";

export type OptionSpec =
  | { type: "int"; min: number; max: number }
  | { type: "number"; min?: number; max?: number; /** min and max excluded */ open?: boolean }
  | { type: "choice"; values: readonly string[] };

/** The largest int32: counts (iterations, draws, replications) are int32 in the kernels. */
export const INT32_MAX = 2 ** 31 - 1;
/** seeds: integers with |seed| <= 2^53 (bindings/base/rng.ts) */
const SEED: OptionSpec = { type: "int", min: -(2 ** 53), max: 2 ** 53 };
const LEVEL: OptionSpec = { type: "number", min: 0, max: 1, open: true };
const COUNT: OptionSpec = { type: "int", min: 1, max: INT32_MAX };
const TOLERANCE: OptionSpec = { type: "number", min: 0, max: 1, open: true };

/** Every checked option, by its library name (the CLI's commander attribute name is the same). */
export const OPTIONS = {
  seed: SEED,
  level: LEVEL,
  fixefTol: TOLERANCE,
  fixefIter: COUNT,
  collinTol: TOLERANCE,
  batch: COUNT,
  /** worker threads: more than cores are clamped with a warning (engine/limits.ts clampThreads) */
  threads: { type: "int", min: 1, max: 1024 },
  /** placebo draws, bootstrap replications */
  draws: COUNT,
  B: COUNT,
  /** the suite's in-space placebo draws: 0 leaves the placebo section out */
  suiteDraws: { type: "int", min: 0, max: INT32_MAX },
  ratio: COUNT,
  firms: { type: "int", min: 1, max: 1e8 },
  caliper: { type: "number", min: 0 },
  null: { type: "number" },
  binLead: { type: "int", min: -INT32_MAX, max: -1 },
  binLag: { type: "int", min: 0, max: INT32_MAX },
  /** the multiplier-bootstrap draws of Callaway-Sant'Anna bands (bindings/event/cs.ts needs 10) */
  csDraws: { type: "int", min: 10, max: INT32_MAX },
  fixefRm: { type: "choice", values: ["singleton", "none"] },
  /** fepois / feglm (estimators/glm.ts): fixest's fixef.rm for GLMs, the family, the IRLS stopping rules */
  glmFixefRm: { type: "choice", values: ["perfect", "both", "singleton", "none"] },
  /** fepois / feglm: which separation is removed (estimators/glm-separation.ts) */
  separation: { type: "choice", values: ["ir", "fe", "none"] },
  glmFamily: { type: "choice", values: ["logit", "probit"] },
  glmTol: TOLERANCE,
  coefTol: TOLERANCE,
  glmIter: COUNT,
  /** the in-memory demeaning (engine/kernels.ts DemeanAlgo); out of core: auto, map, cg (sql/demean.ts) */
  fixefAlgo: { type: "choice", values: ["auto", "map", "cg", "lsmr"] },
  storage: { type: "choice", values: ["f64", "f32"] },
  format: { type: "choice", values: ["csv", "arrow", "parquet"] },
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** A value as echoed in a message: JSON-quoted and cut to `max` characters. */
export function clip(value: unknown, max = 80): string {
  if (typeof value !== "string") return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}... (${value.length.toLocaleString("en-US")} characters)`;
}

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const fmtBound = (x: number) => (x === 2 ** 53 ? "2^53" : x === -(2 ** 53) ? "-2^53" : String(x));

/** What a spec accepts, as read in a message: "a positive integer", "a number > 0 and < 1"... */
export function describeSpec(spec: OptionSpec): string {
  if (spec.type === "choice") return `one of ${spec.values.join(", ")}`;
  if (spec.type === "int") {
    if (spec.max === INT32_MAX && spec.min === 1) return "a positive integer";
    if (spec.max === INT32_MAX && spec.min === 0) return "a non-negative integer";
    return `an integer from ${fmtBound(spec.min)} to ${fmtBound(spec.max)}`;
  }
  const { min, max, open } = spec;
  const lo = min === undefined ? "" : open ? `> ${min}` : `>= ${min}`;
  const hi = max === undefined ? "" : open ? `< ${max}` : `<= ${max}`;
  return `a number${lo || hi ? " " : ""}${[lo, hi].filter(Boolean).join(" and ")}`;
}

/**
 * The typed value of `value` under `spec`, or undefined when it does not conform. Strings are
 * parsed (whole numbers also in exponent notation: R users write B = 1e4); numbers are checked
 * as they are.
 */
export function conform(spec: OptionSpec, value: unknown): number | string | undefined {
  if (spec.type === "choice") {
    const v = typeof value === "string" ? value.trim() : value;
    return typeof v === "string" && spec.values.includes(v) ? v : undefined;
  }
  let x: number;
  if (typeof value === "number") x = value;
  else if (typeof value === "string") {
    const v = value.trim();
    if (!NUM_RE.test(v) && !(spec.type === "int" && INT_RE.test(v))) return undefined;
    x = Number(v);
  } else return undefined;
  if (!Number.isFinite(x)) return undefined;
  if (spec.type === "int") return Number.isInteger(x) && x >= spec.min && x <= spec.max ? x : undefined;
  const { min, max, open } = spec;
  if (min !== undefined && (open ? !(x > min) : !(x >= min))) return undefined;
  if (max !== undefined && (open ? !(x < max) : !(x <= max))) return undefined;
  return x;
}

/** A message for a value that does not conform (null when it does): "must be a positive integer". */
export function checkValue(spec: OptionSpec, value: unknown): string | null {
  return conform(spec, value) === undefined ? `must be ${describeSpec(spec)}` : null;
}

/**
 * `value` checked against the schema entry `name` (or `spec`), returned typed; throws an
 * OptionError naming the option as `label` (default: `name`). Undefined values are the
 * caller's default and are not passed here.
 */
export function checkOption(name: OptionName, value: unknown, label?: string): number;
export function checkOption(name: OptionName | null, value: unknown, label: string, spec: OptionSpec): number | string;
export function checkOption(name: OptionName | null, value: unknown, label?: string, spec?: OptionSpec): number | string {
  const s: OptionSpec = spec ?? OPTIONS[name as OptionName];
  const typed = conform(s, value);
  if (typed !== undefined) return typed;
  const who = label ?? String(name);
  throw new OptionError(`${who} must be ${describeSpec(s)}, got ${clip(value)}`, { option: who, value: typeof value === "string" ? value.slice(0, 200) : value });
}

/** A choice option checked against the schema, typed as its values. */
export function checkChoice<T extends string>(name: OptionName, value: unknown, label?: string): T {
  return checkOption(name, value, label) as unknown as T;
}
