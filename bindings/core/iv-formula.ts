// The instrumental-variables part of a fixest formula:
//
//   y ~ exo | fe1 + fe2 | endo1 + endo2 ~ inst1 + inst2      (and without FE: y ~ exo | endo ~ inst)
//
// The last top-level "|" part holds a "~": it is split off here and the rest is an ordinary
// formula for parseFormula (core/formula.ts). The endogenous side takes column names, the
// instrument side column names and interactions (a:b), each one design column. Errors carry
// positions in the whole text.
import { FormulaSyntaxError } from "../base/errors.js";
import { parseFormula, formulaColumns, type Formula, type Term } from "./formula.js";

export interface IvFormula {
  /** the whole text as written */
  text: string;
  /** y ~ exo | fe: the formula without its IV part */
  main: Formula;
  /** endogenous regressors (column names), in order */
  endo: string[];
  /** excluded instruments, each one design column (var or interaction) */
  inst: Term[];
}

/** Top-level positions of `ch` in `text` (outside parentheses, brackets, backticks and strings). */
function topLevel(text: string, ch: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "`" || c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === ch && depth === 0) out.push(i);
  }
  return out;
}

/** Where the IV part starts (after its "|"), or -1 when the formula has none. */
function ivStart(text: string): number {
  const bars = topLevel(text, "|");
  if (bars.length === 0) return -1;
  const last = bars[bars.length - 1];
  return topLevel(text.slice(last + 1), "~").length > 0 ? last + 1 : -1;
}

/** Whether the formula has an IV part (`| endo ~ inst`). */
export function isIvFormula(text: string): boolean {
  return typeof text === "string" && ivStart(text) >= 0;
}

/** Parse `side` as the right-hand side of a formula, reporting errors at `offset` in `text`. */
function parseSide(text: string, side: string, offset: number): Formula {
  const prefix = "`.iv` ~ ";
  try {
    return parseFormula(prefix + side);
  } catch (e) {
    if (!(e instanceof FormulaSyntaxError)) throw e;
    const msg = e.message.replace(/ at position \d+\n[\s\S]*$/, "");
    throw new FormulaSyntaxError(msg, text, Math.max(offset, offset + e.position - prefix.length), e.hint);
  }
}

export function parseIvFormula(text: string): IvFormula {
  if (typeof text !== "string") throw new FormulaSyntaxError("formula must be a string", String(text), 0);
  const start = ivStart(text);
  if (start < 0) throw new FormulaSyntaxError("no instrumental-variables part (| endo ~ inst)", text, text.length, "write y ~ exo | fe | endo ~ inst");
  const bar = start - 1;
  const mainText = text.slice(0, bar).trimEnd();
  if (mainText.trim() === "") throw new FormulaSyntaxError("missing outcome and regressors before the IV part", text, 0, "write y ~ exo | endo ~ inst (y ~ 1 | endo ~ inst without exogenous regressors)");
  const main = parseFormula(mainText);
  const part = text.slice(start);
  const tilde = topLevel(part, "~");
  if (tilde.length > 1) throw new FormulaSyntaxError("the IV part has more than one '~'", text, start + tilde[1]);
  const endoText = part.slice(0, tilde[0]);
  const instText = part.slice(tilde[0] + 1);
  if (endoText.trim() === "") throw new FormulaSyntaxError("no endogenous regressor before '~' in the IV part", text, start + tilde[0], "write | endo ~ inst");
  if (instText.trim() === "") throw new FormulaSyntaxError("no instrument after '~' in the IV part", text, start + tilde[0], "write | endo ~ inst");
  const e = parseSide(text, endoText, start);
  const z = parseSide(text, instText, start + tilde[0] + 1);
  if (e.fixef.length || z.fixef.length) throw new FormulaSyntaxError("a fourth '|' part is not supported", text, bar);
  const posE = (t: Term) => start + t.pos - "`.iv` ~ ".length;
  const posZ = (t: Term) => start + tilde[0] + 1 + t.pos - "`.iv` ~ ".length;
  const endo: string[] = [];
  for (const t of e.terms) {
    if (t.kind !== "var") throw new FormulaSyntaxError("an endogenous regressor must be a column name", text, posE(t), "compute the column first");
    endo.push(t.name);
  }
  for (const t of z.terms) {
    if (t.kind !== "var" && t.kind !== "interact") {
      throw new FormulaSyntaxError(`${t.kind}() is not supported among the instruments`, text, posZ(t), "use column names or interactions a:b");
    }
  }
  if (endo.length === 0) throw new FormulaSyntaxError("no endogenous regressor in the IV part", text, start);
  const instNames = z.terms.map((t) => (t.kind === "var" ? t.name : t.kind === "interact" ? t.vars.join(":") : ""));
  if (z.terms.length < endo.length) {
    throw new FormulaSyntaxError(
      `under-identified: ${endo.length} endogenous regressors (${endo.join(", ")}) but ${z.terms.length} instrument${z.terms.length === 1 ? "" : "s"} (${instNames.join(", ")})`,
      text, start + tilde[0] + 1, "an IV model needs at least as many excluded instruments as endogenous regressors",
    );
  }
  const sun = main.terms.find((t) => t.kind === "sunab");
  if (sun) throw new FormulaSyntaxError("sunab() is not supported in an IV formula", text, sun.pos, "estimate the event study with feols");
  const exoNames = main.terms.map((t) => (t.kind === "var" ? t.name : t.kind === "interact" ? t.vars.join(":") : ""));
  const feCols = new Set(main.fixef.flatMap((f) => [...f.vars, ...f.slopes]));
  e.terms.forEach((t, j) => {
    const nm = endo[j];
    if (nm === main.lhs) throw new FormulaSyntaxError(`the outcome "${nm}" is also endogenous`, text, posE(t));
    if (exoNames.includes(nm)) {
      throw new FormulaSyntaxError(`"${nm}" is both endogenous and exogenous`, text, posE(t), `remove "${nm}" from the regressors before the first '|'`);
    }
    if (feCols.has(nm)) throw new FormulaSyntaxError(`endogenous "${nm}" is also a fixed effect`, text, posE(t));
  });
  z.terms.forEach((t, j) => {
    const nm = instNames[j];
    if (nm === main.lhs) throw new FormulaSyntaxError(`the outcome "${nm}" cannot be an instrument`, text, posZ(t));
    if (endo.includes(nm)) throw new FormulaSyntaxError(`"${nm}" is both endogenous and an instrument`, text, posZ(t));
    if (exoNames.includes(nm)) {
      throw new FormulaSyntaxError(`instrument "${nm}" is also an exogenous regressor`, text, posZ(t), "an exogenous regressor instruments itself: list it once, before the first '|'");
    }
  });
  return { text, main, endo, inst: z.terms };
}

/** Every data column an IV formula reads (main formula, endogenous, instruments). */
export function ivFormulaColumns(f: IvFormula): string[] {
  const cols = formulaColumns(f.main);
  for (const c of f.endo) cols.push(c);
  for (const t of f.inst) {
    if (t.kind === "var") cols.push(t.name);
    else if (t.kind === "interact") cols.push(...t.vars);
  }
  return [...new Set(cols)];
}

/** The name of an instrument term's design column. */
export function instName(t: Term): string {
  return t.kind === "var" ? t.name : t.kind === "interact" ? t.vars.join(":") : "";
}
