// feols() as fixest users call it: an IV formula (y ~ exo | fe | endo ~ inst, or y ~ exo |
// endo ~ inst without FE) is a 2SLS fit by iv(), any other formula an OLS fit by feols.ts.
// IvFit extends Fit (the same coefficients, variance, sample and internals, plus the first
// stages and IV statistics), so a caller typed for Fit takes either. The overloads keep the
// types: a literal IV formula gives IvFit, other formulas Fit. This is the feols() of the
// package entry (bindings/index.ts); estimators/feols.ts stays OLS-only (iv.ts is built on it).
import type { Table } from "apache-arrow";
import type { Engine } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import type { Formula } from "../core/formula.js";
import { isIvFormula, type IvFormula } from "../core/iv-formula.js";
import { OptionError } from "../base/errors.js";
import { feols as feolsOls, type FeolsOptions, type Fit } from "./feols.js";
import { iv, type IvFit, type IvOptions } from "./iv.js";

/** A formula written with an IV part: "y ~ x | fe | endo ~ inst" or "y ~ x | endo ~ inst". */
export type IvFormulaText = `${string}~${string}|${string}~${string}`;

/** The options iv() takes (IvOptions); any other feols option with an IV formula is an error. */
const IV_KEYS: readonly (keyof IvOptions)[] = [
  "vcov", "panelId", "ssc", "weights", "fixefRm", "fixefTol", "fixefIter", "fixefAlgo", "threads", "collinTol", "level", "keepColumns",
  "onWarning", "strictConvergence", "weakF",
];

export function feols(eng: Engine, data: Table | Frame, formula: IvFormulaText | IvFormula, opts?: IvOptions): IvFit;
export function feols(eng: Engine, data: Table | Frame, formula: string | Formula, opts?: FeolsOptions): Fit;
export function feols(eng: Engine, data: Table | Frame, formula: string | Formula | IvFormula, opts: FeolsOptions & IvOptions = {}): Fit | IvFit {
  const isIv = typeof formula === "string" ? isIvFormula(formula) : "endo" in formula;
  if (!isIv) return feolsOls(eng, data, formula as string | Formula, opts);
  const other = Object.keys(opts).filter((k) => opts[k as keyof typeof opts] !== undefined && !(IV_KEYS as readonly string[]).includes(k));
  if (other.length) {
    throw new OptionError(
      `option${other.length > 1 ? "s" : ""} ${other.join(", ")} ${other.length > 1 ? "are" : "is"} not available for IV (2SLS) formulas`,
      { options: other }, `IV fits take ${IV_KEYS.join(", ")}`,
    );
  }
  return iv(eng, data, formula as string | IvFormula, opts);
}
