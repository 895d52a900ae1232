// The typed schema of the CLI's numeric and enumerated options, checked in one place (a
// preAction hook registered by cli/index.ts) for every command before its action runs: a
// value that is not a number, not a whole number or out of range is an OptionError (exit 2)
// naming the option, its range and the value given (shortened). Commands still convert the
// (validated) strings themselves.
import type { Command } from "commander";
import { OptionError } from "../bindings/base/errors.js";

export type OptionSpec =
  | { type: "int"; min: number; max: number }
  | { type: "number"; min?: number; max?: number; /** min and max excluded */ open?: boolean }
  | { type: "choice"; values: readonly string[] };

const INT32_MAX = 2 ** 31 - 1;
/** seeds: integers with |seed| <= 2^53 (bindings/base/rng.ts) */
const SEED: OptionSpec = { type: "int", min: -(2 ** 53), max: 2 ** 53 };
const LEVEL: OptionSpec = { type: "number", min: 0, max: 1, open: true };
const COUNT: OptionSpec = { type: "int", min: 1, max: INT32_MAX };

/** Options shared by every command that has them (attribute names as commander gives them). */
const COMMON: Record<string, OptionSpec> = {
  seed: SEED,
  level: LEVEL,
  fixefTol: { type: "number", min: 0, max: 1, open: true },
  fixefIter: COUNT,
  batch: COUNT,
  ratio: COUNT,
  firms: COUNT,
  caliper: { type: "number", min: 0 },
  null: { type: "number" },
  binLead: { type: "int", min: -INT32_MAX, max: -1 },
  binLag: { type: "int", min: 0, max: INT32_MAX },
  fixefRm: { type: "choice", values: ["singleton", "none"] },
  fixefAlgo: { type: "choice", values: ["auto", "map", "cg"] },
  format: { type: "choice", values: ["csv", "arrow", "parquet"] },
};

/** fepois / feglm (cli/commands/glm.ts): fixest's GLM removal rules and the IRLS tolerances. */
const GLM: Record<string, OptionSpec> = {
  fixefRm: { type: "choice", values: ["perfect", "both", "singleton", "none"] },
  glmTol: { type: "number", min: 0, max: 1, open: true },
  coefTol: { type: "number", min: 0, max: 1, open: true },
  glmIter: COUNT,
};

/** Per-command differences from COMMON. */
// Placebo draws, bootstrap B and placebo / wild / suite threads are counts the library checks
// itself (bindings/engine/limits.ts: the same ranges and memory plans for library callers and the page).
const BY_COMMAND: Record<string, Record<string, OptionSpec>> = {
  feols: { threads: { type: "int", min: 1, max: 256 } },
  fepois: { threads: { type: "int", min: 1, max: 256 }, ...GLM },
  feglm: { threads: { type: "int", min: 1, max: 256 }, family: { type: "choice", values: ["logit", "probit"] }, ...GLM },
  suite: { eventLevel: LEVEL },
  // multiplier-bootstrap draws of the CS bands (bindings/event/cs.ts needs 10)
  event: { draws: { type: "int", min: 10, max: INT32_MAX } },
};

export function optionSpec(command: string, attr: string): OptionSpec | undefined {
  return BY_COMMAND[command]?.[attr] ?? COMMON[attr];
}

/** A value as echoed in a message: JSON-quoted and cut to `max` characters. */
export function clip(value: string, max = 80): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}... (${value.length.toLocaleString("en-US")} characters)`;
}

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const fmtBound = (x: number) => (Math.abs(x) >= 2 ** 31 ? (x < 0 ? "-2^53" : x === 2 ** 53 ? "2^53" : String(x)) : String(x));

/** Check one value; returns an error message or null. */
export function checkValue(spec: OptionSpec, value: string): string | null {
  const v = value.trim();
  if (spec.type === "choice") {
    return spec.values.includes(v) ? null : `must be one of ${spec.values.join(", ")}`;
  }
  if (spec.type === "int") {
    const range = `an integer from ${fmtBound(spec.min)} to ${fmtBound(spec.max)}`;
    // whole numbers also in exponent notation (R users write B = 1e4)
    if (!INT_RE.test(v) && !(NUM_RE.test(v) && Number.isInteger(Number(v)))) return `must be ${range}`;
    const x = Number(v);
    return x >= spec.min && x <= spec.max ? null : `must be ${range}`;
  }
  const { min, max, open } = spec;
  const lo = min === undefined ? "" : open ? `> ${min}` : `>= ${min}`;
  const hi = max === undefined ? "" : open ? `< ${max}` : `<= ${max}`;
  const what = `a number${lo || hi ? " " : ""}${[lo, hi].filter(Boolean).join(" and ")}`;
  if (!NUM_RE.test(v)) return `must be ${what}`;
  const x = Number(v);
  if (!Number.isFinite(x)) return `must be ${what}`;
  if (min !== undefined && (open ? !(x > min) : !(x >= min))) return `must be ${what}`;
  if (max !== undefined && (open ? !(x < max) : !(x <= max))) return `must be ${what}`;
  return null;
}

/** Validate every option of `cmd` that has a spec (given on the command line or defaulted). */
export function validateOptions(cmd: Command): void {
  const values = cmd.opts() as Record<string, unknown>;
  for (const opt of cmd.options) {
    const attr = opt.attributeName();
    const spec = optionSpec(cmd.name(), attr);
    const value = values[attr];
    if (!spec || typeof value !== "string") continue;
    const why = checkValue(spec, value);
    if (why) {
      const flag = opt.long ?? opt.flags;
      throw new OptionError(`${flag} ${why}, got ${clip(value)}`, { option: flag, value: value.slice(0, 200) }, `hdfe ${cmd.name()} --help describes the options`);
    }
  }
}
