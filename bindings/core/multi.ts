// Multiple estimation, the formula side (fixest syntax): several outcomes `c(y1, y2)` and the
// stepwise functions sw(), sw0(), csw(), csw0(), mvsw() on the right-hand side and in the
// fixed-effects part expand one formula text into the plain formulas of its models, each with
// the labels fixest gives it. Pure text work on the top level of the formula (parentheses,
// backticks and quotes respected); each expanded formula is then parsed by parseFormula as
// usual. Nothing here knows an estimator: bindings/estimators/multi.ts drives any estimator
// taking (data, formula, options) over the models and samples.
import { FormulaSyntaxError } from "../base/errors.js";

/** One model of a multiple estimation, before any sample split. */
export interface MultiFormula {
  /** the plain formula of the model (fixest syntax, no stepwise function left) */
  formula: string;
  lhs: string;
  /** the right-hand side as fixest labels it ("did + Fin"; "1" when empty) */
  rhs: string;
  /** the fixed-effects part as fixest labels it ("firm + year"; "1" without FE) */
  fixef: string;
  lhsIndex: number;
  rhsIndex: number;
  fixefIndex: number;
}

/** What the expansion found: the models (fixest's order: lhs, then fixef, then rhs) and what varies. */
export interface MultiExpansion {
  models: MultiFormula[];
  /** several outcomes, a stepwise RHS, a stepwise FE part */
  multiLhs: boolean;
  multiRhs: boolean;
  multiFixef: boolean;
}

const STEPWISE = new Set(["sw", "sw0", "csw", "csw0", "mvsw"]);
/** fixest refuses mvsw() beyond this many arguments would make 2^k models: so do we */
const MVSW_MAX = 10;

/** Whether a formula text uses multiple-estimation syntax (c() outcomes or a stepwise function). */
export function isMultiFormula(text: string): boolean {
  const e = expandFormula(text);
  return e.multiLhs || e.multiRhs || e.multiFixef;
}

/** Expand `c(y1, y2) ~ x + csw(a, b) | sw0(fe1, fe2)` into its plain formulas. */
export function expandFormula(text: string): MultiExpansion {
  const tilde = splitTop(text, "~");
  if (tilde.length < 2) return single(text);
  const lhsText = tilde[0].text;
  const rest = text.slice(tilde[1].start);
  const parts = splitTop(rest, "|").map((p) => ({ text: p.text, start: p.start + tilde[1].start }));
  // an IV part (`endo ~ inst`) is kept as written; the FE part is the first part without "~"
  const rhsPart = parts[0];
  const fePart = parts.length > 1 && splitTop(parts[1].text, "~").length === 1 ? parts[1] : null;
  const tail = parts.slice(fePart ? 2 : 1).map((p) => ` | ${p.text.trim()}`).join("");

  const lhs = expandLhs(text, lhsText, tilde[0].start);
  const rhs = expandPart(text, rhsPart.text, rhsPart.start);
  const fe = fePart ? expandPart(text, fePart.text, fePart.start) : { alts: [[]], multi: false };
  const models: MultiFormula[] = [];
  lhs.forEach((y, li) => {
    fe.alts.forEach((feTerms, fi) => {
      rhs.alts.forEach((xTerms, ri) => {
        const rhsLabel = xTerms.length ? xTerms.join(" + ") : "1";
        const feLabel = feTerms.length ? feTerms.join(" + ") : "1";
        const formula = `${y} ~ ${rhsLabel}${feTerms.length ? ` | ${feLabel}` : ""}${tail}`;
        models.push({ formula, lhs: y, rhs: rhsLabel, fixef: feLabel, lhsIndex: li, rhsIndex: ri, fixefIndex: fi });
      });
    });
  });
  return { models, multiLhs: lhs.length > 1 || /^\s*c\s*\(/.test(lhsText), multiRhs: rhs.multi, multiFixef: fe.multi };
}

function single(text: string): MultiExpansion {
  return { models: [{ formula: text, lhs: "", rhs: "", fixef: "", lhsIndex: 0, rhsIndex: 0, fixefIndex: 0 }], multiLhs: false, multiRhs: false, multiFixef: false };
}

/** `c(y1, y2)` / `cbind(y1, y2)` -> its outcomes; a plain outcome -> itself. */
function expandLhs(src: string, lhs: string, start: number): string[] {
  const call = asCall(lhs);
  if (!call || (call.name !== "c" && call.name !== "cbind")) return [lhs.trim()];
  const args = splitTop(call.args, ",").map((a) => a.text.trim());
  const empty = args.findIndex((a) => !a);
  if (empty >= 0) throw new FormulaSyntaxError(`empty outcome in ${call.name}(...)`, src, start, "list the outcomes separated by commas: c(y1, y2)");
  const dup = args.find((a, i) => args.indexOf(a) !== i);
  if (dup) throw new FormulaSyntaxError(`outcome "${dup}" appears twice in ${call.name}(...)`, src, start);
  return args;
}

/** The alternatives of one part (RHS or FE): a list of term lists, one per model. */
function expandPart(src: string, part: string, start: number): { alts: string[][]; multi: boolean } {
  const summands = splitTop(part, "+");
  let stepAt = -1;
  let steps: string[][] = [];
  const fixed: string[] = [];
  summands.forEach((s, i) => {
    const call = asCall(s.text);
    if (!call || !STEPWISE.has(call.name)) {
      fixed.push(s.text.trim());
      return;
    }
    if (stepAt >= 0) {
      throw new FormulaSyntaxError("only one stepwise function per part of the formula (fixest's rule)", src, start + s.start,
        "combine the alternatives in one sw() / csw(), or write several formulas");
    }
    stepAt = i;
    const args = splitTop(call.args, ",").map((a) => a.text.trim());
    if (args.some((a) => !a)) throw new FormulaSyntaxError(`empty argument in ${call.name}(...)`, src, start + s.start);
    steps = stepAlternatives(call.name, args, src, start + s.start);
    fixed.push("\u0000"); // where the stepwise terms go
  });
  if (stepAt < 0) return { alts: [fixed.filter((t) => t !== "")], multi: false };
  const alts = steps.map((alt) => fixed.flatMap((t) => (t === "\u0000" ? alt : [t])).filter((t) => t !== ""));
  return { alts, multi: true };
}

function stepAlternatives(name: string, args: string[], src: string, pos: number): string[][] {
  switch (name) {
    case "sw": return args.map((a) => [a]);
    case "sw0": return [[], ...args.map((a) => [a])];
    case "csw": return args.map((_, i) => args.slice(0, i + 1));
    case "csw0": return [[], ...args.map((_, i) => args.slice(0, i + 1))];
    default: {
      if (args.length > MVSW_MAX) {
        throw new FormulaSyntaxError(`mvsw() with ${args.length} arguments makes ${2 ** args.length} models`, src, pos, `use at most ${MVSW_MAX} arguments`);
      }
      // every subset, by size, then in argument order (the empty set first), as fixest
      const out: string[][] = [];
      for (let size = 0; size <= args.length; size++) {
        const rec = (from: number, acc: string[]) => {
          if (acc.length === size) return void out.push(acc);
          for (let i = from; i < args.length; i++) rec(i + 1, [...acc, args[i]]);
        };
        rec(0, []);
      }
      return out;
    }
  }
}

/** `name(args)` spanning the whole (trimmed) text, or null. */
function asCall(text: string): { name: string; args: string } | null {
  const m = /^\s*([A-Za-z][A-Za-z0-9_.]*)\s*\(/.exec(text);
  if (!m) return null;
  const open = m[0].length - 1;
  const close = matchParen(text, open);
  if (close < 0 || text.slice(close + 1).trim() !== "") return null;
  return { name: m[1], args: text.slice(open + 1, close) };
}

function matchParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "`" || c === '"' || c === "'") {
      i = skipQuoted(text, i);
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

function skipQuoted(text: string, i: number): number {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\" && q !== "`") j++;
    else if (text[j] === q) return j;
  }
  return text.length;
}

/** Split at a separator outside parentheses, brackets and quotes (start offsets kept). */
function splitTop(text: string, sep: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "`" || c === '"' || c === "'") {
      i = skipQuoted(text, i);
      continue;
    }
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (depth === 0 && c === sep) {
      out.push({ text: text.slice(from, i), start: from });
      from = i + 1;
    }
  }
  out.push({ text: text.slice(from), start: from });
  return out;
}
