// Parser for R fixest model formulas:
//
//   y ~ x1 + x2 + x1:x2 + x1*x2 + i(f, ref = 2) + i(f, x, ref = "east") + sunab(cohort, year)
//     | fe1 + fe2 + fe1^fe2 + fe[slope] + fe[[slope]]
//
// A hand-written tokenizer feeds a recursive-descent parser; nothing is evaluated. No `node:`
// imports: this module also runs in browsers.
//
// Grammar (precedence from loosest to tightest: `+`/`-`, `*`, `:`):
//
//   formula   := name "~" rhs ( "|" fixef )? EOF
//   rhs       := ( "+" | "-" )? summand ( ( "+" | "-" ) summand )*
//   summand   := NUMBER (0 or 1 only: intercept)  |  star
//   star      := colon ( "*" colon )*
//   colon     := primary ( ":" primary )*
//   primary   := name | "i" "(" args ")" | "sunab" "(" args ")" | "(" star ( "+" star )* ")"
//   fixef     := feterm ( "+" feterm )*
//   feterm    := name ( "^" name )* ( "[" names "]" | "[[" names "]]" )?
//   args      := arg ( "," arg )*          positional column names first, then name "=" literal
//   literal   := "-"? NUMBER | STRING | TRUE | FALSE | "c" "(" value ( "," value )* ")"
//              | "list" "(" key "=" ( value | c(...) ) ( "," ... )* ")"
//   name      := bare R name (letters, digits, ".", "_"; not starting with a digit or ".digit")
//              | `backtick quoted`
//
// Semantics follow R's formula rules: `a*b` is `a + b + a:b`, `(a + b):c` is `a:c + b:c`,
// repeated terms are dropped (keeping the first; `a:b` and `b:a` are the same term).
//
// Why one long file: tokenizer, recursive-descent parser, R's expansion rules and the
// formatter are one grammar; each part is short and they are read together.

import { FormulaSyntaxError } from "../base/errors.js";

export type Value = number | string;
/** c(...) -> array; list("a" = c(..)) -> object; TRUE/FALSE -> boolean. */
export type ArgValue = Value | Value[] | boolean | { [k: string]: Value[] };
export type Term =
  | { kind: "var"; name: string; pos: number }
  | { kind: "interact"; vars: string[]; pos: number }
  | { kind: "i"; factor: string; by?: string; args: Record<string, ArgValue>; pos: number }
  | { kind: "sunab"; cohort: string; period: string; args: Record<string, ArgValue>; pos: number };
export interface FixefTerm {
  /** fe1^fe2 -> ["fe1", "fe2"] (interacted FE); plain fe -> ["fe"]. */
  vars: string[];
  /** fe[x] or fe[x1, x2] -> slopes ["x"] / ["x1", "x2"]; fe[[x]] likewise. */
  slopes: string[];
  /** true for fe[[x]] (slopes without the FE itself); false for fe[x] (FE + slopes) and plain fe. */
  slopeOnly: boolean;
  pos: number;
}
export interface Formula {
  text: string;
  /** Outcome column. */
  lhs: string;
  /** Right-hand-side terms, in order, after expansion and de-duplication. */
  terms: Term[];
  /** false when "- 1", "-1", "+ 0" or "0 +" appears on the RHS (purely syntactic). */
  intercept: boolean;
  /** Fixed effects, after the "|". */
  fixef: FixefTerm[];
}

/** Named arguments accepted by i() (fixest: i(factor_var, var, ref, keep, bin, ref2, keep2, bin2)). */
const I_ARGS = ["ref", "keep", "bin", "ref2", "keep2", "bin2"];
/** Named arguments accepted by sunab() (fixest: sunab(cohort, period, ref.c, ref.p, bin, ...)). */
const SUNAB_ARGS = ["ref.c", "ref.p", "bin", "bin.rel", "bin.c", "bin.p", "att", "no_agg"];
/** Words that are not column names when written bare (use backticks for such a column). */
const RESERVED = new Set([
  "TRUE", "FALSE", "NULL", "NA", "NaN", "Inf", "NA_integer_", "NA_real_", "NA_character_",
  "if", "else", "repeat", "while", "function", "for", "in", "next", "break",
]);
const MAX_NESTING = 64;
const MAX_TERMS = 10_000;
const MAX_STAR_FACTORS = 12;

// ---------------------------------------------------------------------------------------------
// Tokenizer

type TokType =
  | "name" | "num" | "str" | "eof"
  | "~" | "+" | "-" | "*" | ":" | "::" | "^" | "|" | "(" | ")" | "[" | "[[" | "]" | "," | "=" | "/";

interface Tok {
  type: TokType;
  pos: number;
  /** Identifier text (name tokens, unescaped for backticks) or string contents. */
  text: string;
  /** Numeric value of a num token. */
  num: number;
  /** name token written in backticks. */
  quoted: boolean;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v" || c === "\u00a0";
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}
function isAsciiLetter(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}
const UNICODE_LETTER = /^\p{L}$/u;
const UNICODE_NAME_CHAR = /^[\p{L}\p{M}\p{Nd}]$/u;
/** Code point at `i` as a string (one or two UTF-16 units). */
function charAt(s: string, i: number): string {
  const cp = s.codePointAt(i);
  return cp === undefined ? "" : String.fromCodePoint(cp);
}
function isNameStart(c: string): boolean {
  if (c.length === 0) return false;
  if (isAsciiLetter(c) || c === "_" || c === ".") return true;
  return c.charCodeAt(0) > 127 && UNICODE_LETTER.test(c);
}
function isNameChar(c: string): boolean {
  if (c.length === 0) return false;
  if (isAsciiLetter(c) || isDigit(c) || c === "_" || c === ".") return true;
  return c.charCodeAt(0) > 127 && UNICODE_NAME_CHAR.test(c);
}

const ESCAPES: Record<string, string> = {
  "\\": "\\", '"': '"', "'": "'", "`": "`", n: "\n", t: "\t", r: "\r",
};

const SINGLE: Record<string, TokType> = {
  "~": "~", "+": "+", "-": "-", "*": "*", "^": "^", "|": "|", "(": "(", ")": ")",
  "]": "]", ",": ",", "=": "=", "/": "/",
};

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  const fail = (msg: string, pos: number, hint?: string): never => {
    throw new FormulaSyntaxError(msg, src, pos, hint);
  };
  const push = (type: TokType, pos: number, text = "", num = 0, quoted = false) => {
    toks.push({ type, pos, text, num, quoted });
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === "." && isDigit(src[i + 1]))) {
      while (isDigit(src[i])) i++;
      if (src[i] === ".") {
        i++;
        while (isDigit(src[i])) i++;
      }
      if (src[i] === "e" || src[i] === "E") {
        let k = i + 1;
        if (src[k] === "+" || src[k] === "-") k++;
        if (!isDigit(src[k])) fail("malformed number: the exponent has no digits", i);
        while (isDigit(src[k])) k++;
        i = k;
      }
      const raw = src.slice(start, i);
      if (src[i] === "L") i++; // R integer suffix: 2L
      if (i < src.length && isNameChar(charAt(src, i))) {
        fail("a name cannot start with a digit", start, "quote such a column name with backticks, e.g. `2020_value`");
      }
      const num = Number(raw);
      if (!Number.isFinite(num)) fail("number out of range", start);
      push("num", start, raw, num);
      continue;
    }
    const ch = charAt(src, i);
    if (isNameStart(ch)) {
      while (i < src.length) {
        const d = charAt(src, i);
        if (!isNameChar(d)) break;
        i += d.length;
      }
      push("name", start, src.slice(start, i));
      continue;
    }
    if (c === "`" || c === '"' || c === "'") {
      i++;
      let text = "";
      for (;;) {
        if (i >= src.length) {
          fail(c === "`" ? "unclosed backtick" : `unclosed string (missing ${c})`, start);
        }
        const d = src[i];
        if (d === c) {
          i++;
          break;
        }
        if (d === "\\") {
          const e = src[i + 1];
          if (e === undefined || !(e in ESCAPES)) {
            fail(`unsupported escape sequence '\\${e ?? ""}'`, i, "supported escapes: \\\\ \\\" \\' \\` \\n \\t \\r");
          }
          text += ESCAPES[e];
          i += 2;
          continue;
        }
        text += d;
        i++;
      }
      if (c === "`") {
        if (text.length === 0) fail("empty backtick name", start);
        push("name", start, text, 0, true);
      } else {
        push("str", start, text);
      }
      continue;
    }
    if (c === ":" || c === "[") {
      // ":" or "::", "[" or "[["
      const doubled = src[i + 1] === c;
      push((doubled ? c + c : c) as TokType, start);
      i += doubled ? 2 : 1;
      continue;
    }
    const single = SINGLE[c];
    if (single !== undefined) {
      push(single, start);
      i++;
      continue;
    }
    if (c === "%") fail("operators like %in% are not supported", start);
    if (c === "$") fail("'$' is not supported", start, "write the column name directly");
    if (c === "#") fail("comments are not supported in formulas", start);
    fail(`unexpected character '${ch}'`, start);
  }
  push("eof", src.length);
  checkBrackets(src, toks);
  return toks;
}

/** Every "(" / "[" / "[[" closed by the matching ")" / "]" / "]]", nesting bounded. */
function checkBrackets(src: string, toks: Tok[]): void {
  const stack: { ch: "(" | "["; pos: number }[] = [];
  for (const t of toks) {
    if (t.type === "(") stack.push({ ch: "(", pos: t.pos });
    else if (t.type === "[") stack.push({ ch: "[", pos: t.pos });
    else if (t.type === "[[") stack.push({ ch: "[", pos: t.pos }, { ch: "[", pos: t.pos + 1 });
    else if (t.type === ")" || t.type === "]") {
      const want = t.type === ")" ? "(" : "[";
      const top = stack.pop();
      if (top === undefined) throw new FormulaSyntaxError(`unmatched '${t.type}'`, src, t.pos);
      if (top.ch !== want) {
        const close = top.ch === "(" ? ")" : "]";
        throw new FormulaSyntaxError(
          `'${t.type}' does not match the '${top.ch}' at position ${top.pos + 1}`, src, t.pos,
          `expected '${close}' here`,
        );
      }
    }
    if (stack.length > MAX_NESTING) {
      throw new FormulaSyntaxError("brackets nested too deeply", src, stack[stack.length - 1].pos);
    }
  }
  if (stack.length > 0) {
    const top = stack[stack.length - 1];
    throw new FormulaSyntaxError(`unclosed '${top.ch}'`, src, top.pos,
      `add the matching '${top.ch === "(" ? ")" : "]"}'`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

/** A term while expanding: a set of numeric columns (product), or one i()/sunab() term. */
interface PTerm {
  vars: string[];
  special?: Extract<Term, { kind: "i" | "sunab" }>;
  pos: number;
}

function describe(t: Tok): string {
  switch (t.type) {
    case "eof": return "end of formula";
    case "name": return t.quoted ? `\`${t.text}\`` : `'${t.text}'`;
    case "num": return `number ${t.text}`;
    case "str": return "a string";
    default: return `'${t.type}'`;
  }
}

function termKey(t: PTerm): string {
  if (t.special) {
    const { pos: _pos, ...rest } = t.special;
    return "s" + canonical(rest);
  }
  return "v" + JSON.stringify([...t.vars].sort());
}

/** JSON with sorted object keys, for structural equality. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical((v as Record<string, unknown>)[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

function dedupe(terms: PTerm[]): PTerm[] {
  const seen = new Set<string>();
  const out: PTerm[] = [];
  for (const t of terms) {
    const k = termKey(t);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(t);
    }
  }
  return out;
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

class Parser {
  private k = 0;
  private readonly src: string;
  private readonly toks: Tok[];
  constructor(src: string, toks: Tok[]) {
    this.src = src;
    this.toks = toks;
  }

  private peek(offset = 0): Tok {
    return this.toks[Math.min(this.k + offset, this.toks.length - 1)];
  }
  private next(): Tok {
    const t = this.toks[this.k];
    if (this.k < this.toks.length - 1) this.k++;
    return t;
  }
  private fail(msg: string, pos: number, hint?: string): never {
    throw new FormulaSyntaxError(msg, this.src, pos, hint);
  }
  /** After operator `op` something must follow: at the end of input, "|", a closer or ",", blame `op`. */
  private expectTermAfter(op: Tok, what = "a term"): void {
    const t = this.peek();
    if (t.type === "eof" || t.type === "|" || t.type === ")" || t.type === "]" || t.type === ",") {
      const opText = op.type === "name" ? op.text : op.type;
      this.fail(`'${opText}' is not followed by ${what}`, op.pos);
    }
  }

  parse(): Formula {
    const first = this.peek();
    if (first.type === "eof") this.fail("empty formula", 0, "a formula looks like y ~ x1 + x2 | fe");
    if (first.type === "~") {
      this.fail("missing outcome before '~'", first.pos, "one-sided formulas are not supported: write y ~ ...");
    }
    const lhs = this.parseLhs();
    const tilde = this.next(); // checked by parseLhs
    const rhsStart = this.peek();
    if (rhsStart.type === "eof") this.fail("missing right-hand side after '~'", tilde.pos, "write y ~ 1 for an intercept-only model");
    if (rhsStart.type === "|") {
      this.fail("empty right-hand side before '|'", rhsStart.pos, "write y ~ 1 | fe for a model with only fixed effects");
    }
    const { terms, intercept } = this.parseRhs();
    let fixef: FixefTerm[] = [];
    const bar = this.peek();
    if (bar.type === "|") {
      this.next();
      if (this.peek().type === "eof") this.fail("empty fixed-effects part after '|'", bar.pos, "remove the '|' or name fixed effects after it");
      fixef = this.parseFixef();
    }
    const end = this.peek();
    if (end.type !== "eof") this.unexpected(end, "expected '+', '|' or the end of the formula");
    return { text: this.src, lhs, terms, intercept, fixef };
  }

  private parseLhs(): string {
    const t = this.peek();
    if (t.type !== "name") {
      this.fail(`expected the outcome column, found ${describe(t)}`, t.pos, "a formula looks like y ~ x1 + x2 | fe");
    }
    const hasTilde = this.toks.some((x) => x.type === "~");
    if (this.peek(1).type === "(") {
      if (!t.quoted && (t.text === "c" || t.text === "cbind") && hasTilde) {
        this.fail("multiple outcomes are a multiple estimation", t.pos, "estimate them with feolsMulti() (hdfe feols does it)");
      }
      this.unknownFunction(t);
    }
    this.checkColumnName(t);
    this.next();
    const after = this.peek();
    if (after.type === "~") return t.text;
    if ((after.type === "+" || after.type === ",") && hasTilde) {
      this.fail("multiple outcomes are not supported", after.pos, "estimate one outcome per formula");
    }
    if (after.type === "eof") this.fail("expected '~' after the outcome", after.pos, "a formula looks like y ~ x1 + x2 | fe");
    return this.fail(`expected '~' after the outcome, found ${describe(after)}`, after.pos,
      hasTilde ? "the outcome must be a single column name" : "a formula looks like y ~ x1 + x2 | fe");
  }

  private checkColumnName(t: Tok): void {
    if (t.quoted) return;
    if (RESERVED.has(t.text)) {
      this.fail(`'${t.text}' is not a column name`, t.pos, `if a column is called ${t.text}, write it in backticks: \`${t.text}\``);
    }
    if (t.text === ".") {
      this.fail("'.' (all other columns) is not supported", t.pos, "list the regressors explicitly");
    }
  }

  private unknownFunction(t: Tok): never {
    const name = t.text;
    let hint = `compute the column first (e.g. a new column for ${name}(...)) and use its name`;
    if (name === "factor" || name === "as.factor") hint = "use i(x) to expand a factor into dummies, or put it after '|' as a fixed effect";
    else if (["sw", "sw0", "csw", "csw0", "mvsw"].includes(name)) hint = "a stepwise function makes several models: estimate them with feolsMulti() (hdfe feols does it)";
    else if (name === "c" || name === "list") hint = `${name}(...) is only allowed as an argument value of i() or sunab()`;
    return this.fail(`${name}() is not supported: functions other than i() and sunab() cannot be used in a formula`, t.pos, hint);
  }

  private unexpected(t: Tok, msg: string, hint?: string): never {
    if (t.type === "::") this.fail("'::' is not supported", t.pos, "write i(...) or sunab(...) without a package prefix");
    if (t.type === "^") this.fail("'^' is only supported between fixed effects (after '|')", t.pos, "for powers of a column, compute the column first");
    if (t.type === "/") this.fail("'/' (nesting) is not supported", t.pos);
    if (t.type === "~") this.fail("unexpected second '~'", t.pos);
    if (t.type === "=") this.fail("unexpected '='", t.pos, "named arguments are only allowed inside i() and sunab()");
    if (t.type === "[" || t.type === "[[") this.fail(`unexpected '${t.type}'`, t.pos, "varying slopes fe[x] are only allowed after '|'");
    return this.fail(`${msg}, found ${describe(t)}`, t.pos, hint);
  }

  // ------------------------------------------------------------------ RHS

  private parseRhs(): { terms: Term[]; intercept: boolean } {
    let terms: PTerm[] = [];
    let include: Tok | undefined; // "1"
    let remove: { pos: number; text: string } | undefined; // "0" or "-1"
    let sign: Tok | undefined;
    const lead = this.peek();
    if (lead.type === "+" || lead.type === "-") {
      sign = this.next();
      this.expectTermAfter(sign);
    }
    for (;;) {
      const t = this.peek();
      const after = this.peek(1).type;
      const negative = sign !== undefined && sign.type === "-";
      if (t.type === "num" && (after === "+" || after === "-" || after === "|" || after === "eof")) {
        this.next();
        if (t.num !== 0 && t.num !== 1) {
          this.fail(`a number on its own can only be 0 or 1 (intercept), not ${t.text}`, t.pos,
            "for a constant column, compute it first");
        }
        if (negative && t.num === 0) this.fail("'- 0' is not supported", sign!.pos, "write '+ 1' to keep the intercept");
        const removes = negative || t.num === 0;
        const markerPos = negative ? sign!.pos : t.pos;
        if (removes) remove ??= { pos: markerPos, text: negative ? "- 1" : "0" };
        else include ??= t;
        if (include && remove) {
          this.fail(`conflicting intercept terms: '1' keeps the intercept, '${remove.text}' removes it`, markerPos);
        }
      } else {
        if (negative) {
          this.fail("removing terms is not supported", sign!.pos, "'-' may only be used as '- 1' to remove the intercept");
        }
        terms = dedupe(terms.concat(this.parseStar()));
        if (terms.length > MAX_TERMS) this.fail("formula expands to too many terms", t.pos);
      }
      const op = this.peek();
      if (op.type !== "+" && op.type !== "-") break;
      sign = this.next();
      this.expectTermAfter(sign);
    }
    return { terms: terms.map(toTerm), intercept: remove === undefined };
  }

  private parseStar(): PTerm[] {
    const factors: PTerm[][] = [this.parseColon()];
    const ops: Tok[] = [];
    while (this.peek().type === "*") {
      const op = this.next();
      this.expectTermAfter(op);
      ops.push(op);
      if (ops.length >= MAX_STAR_FACTORS) this.fail("too many '*' factors in one term", op.pos);
      factors.push(this.parseColon());
    }
    if (factors.length === 1) return factors[0];
    factors.forEach((f, idx) => {
      if (f.some((t) => t.special)) this.specialInteraction(ops[idx === 0 ? 0 : idx - 1]);
    });
    // All non-empty subsets of the factors, by size, then in index order (R's expansion order).
    const out: PTerm[] = [];
    const n = factors.length;
    const combo: number[] = [];
    const rec = (from: number, size: number) => {
      if (combo.length === size) {
        let acc = factors[combo[0]];
        for (let j = 1; j < combo.length; j++) acc = this.cross(acc, factors[combo[j]], ops[combo[j] - 1]);
        out.push(...acc);
        if (out.length > MAX_TERMS) this.fail("formula expands to too many terms", ops[0].pos);
        return;
      }
      for (let i = from; i < n; i++) {
        combo.push(i);
        rec(i + 1, size);
        combo.pop();
      }
    };
    for (let size = 1; size <= n; size++) rec(0, size);
    return dedupe(out);
  }

  private parseColon(): PTerm[] {
    let acc = this.parsePrimary();
    while (this.peek().type === ":") {
      const op = this.next();
      this.expectTermAfter(op);
      const rhs = this.parsePrimary();
      if (acc.some((t) => t.special) || rhs.some((t) => t.special)) this.specialInteraction(op);
      acc = this.cross(acc, rhs, op);
    }
    return acc;
  }

  private specialInteraction(op: Tok): never {
    return this.fail(`i() and sunab() cannot be interacted with other terms using '${op.type}'`, op.pos,
      "to interact a factor with a variable, use i(factor, variable)");
  }

  /** Products of every term of `a` with every term of `b`. */
  private cross(a: PTerm[], b: PTerm[], op: Tok): PTerm[] {
    const out: PTerm[] = [];
    for (const x of a) {
      for (const y of b) {
        for (const v of y.vars) {
          if (x.vars.includes(v)) {
            this.fail(`'${v}' appears twice in an interaction`, op.pos,
              "R would reduce x:x to x; for a squared column, compute it first");
          }
        }
        out.push({ vars: [...x.vars, ...y.vars], pos: x.pos });
        if (out.length > MAX_TERMS) this.fail("formula expands to too many terms", op.pos);
      }
    }
    return dedupe(out);
  }

  private parsePrimary(): PTerm[] {
    const t = this.peek();
    if (t.type === "name") {
      if (this.peek(1).type === "(") {
        if (t.text === "i") return [{ vars: [], special: this.parseI(), pos: t.pos }];
        if (t.text === "sunab") return [{ vars: [], special: this.parseSunab(), pos: t.pos }];
        this.unknownFunction(t);
      }
      this.checkColumnName(t);
      this.next();
      return [{ vars: [t.text], pos: t.pos }];
    }
    if (t.type === "(") {
      const open = this.next();
      this.expectTermAfter(open);
      let acc = this.parseStar();
      for (;;) {
        const op = this.peek();
        if (op.type === ")") break;
        if (op.type === "+") {
          this.next();
          this.expectTermAfter(op);
          acc = dedupe(acc.concat(this.parseStar()));
          continue;
        }
        if (op.type === "-") this.fail("removing terms is not supported", op.pos);
        this.unexpected(op, "expected '+' or ')'");
      }
      this.next();
      return acc;
    }
    if (t.type === "num") {
      this.fail("numbers cannot be used inside terms or interactions", t.pos,
        "0 and 1 may only appear on their own, to drop or keep the intercept");
    }
    if (t.type === "str") this.fail("a string is not a column name", t.pos, "quote column names with backticks, not quotes");
    return this.unexpected(t, "expected a term (a column name, i() or sunab())");
  }

  // ------------------------------------------------------------------ i() / sunab()

  private parseCall(fn: string, allowed: string[]): {
    positional: Tok[];
    args: Record<string, ArgValue>;
    close: Tok;
  } {
    this.next(); // name
    const open = this.next(); // "("
    const positional: Tok[] = [];
    const args: Record<string, ArgValue> = {};
    if (this.peek().type === ")") return { positional, args, close: this.next() };
    let sep: Tok = open;
    let named = false;
    for (;;) {
      const t = this.peek();
      if (sep !== open) this.expectTermAfter(sep, "an argument");
      if (t.type === "name" && this.peek(1).type === "=") {
        if (t.quoted) this.fail("argument names cannot be quoted", t.pos);
        if (!allowed.includes(t.text)) {
          this.fail(`${fn}() has no argument '${t.text}'`, t.pos, `valid arguments: ${allowed.join(", ")}`);
        }
        if (Object.prototype.hasOwnProperty.call(args, t.text)) this.fail(`argument '${t.text}' is given twice`, t.pos);
        this.next();
        const eq = this.next();
        this.expectTermAfter(eq, "a value");
        args[t.text] = this.parseLiteral();
        named = true;
      } else {
        if (named) this.fail("positional arguments must come before named arguments", t.pos);
        if (t.type !== "name") {
          this.fail(`${fn}() expects a column name here, found ${describe(t)}`, t.pos,
            t.type === "str" ? "quote column names with backticks, not quotes" : undefined);
        }
        if (this.peek(1).type === "(") this.unknownFunction(t);
        this.checkColumnName(t);
        this.next();
        const after = this.peek();
        if (after.type !== "," && after.type !== ")") {
          this.unexpected(after, `${fn}() takes plain column names: expected ',' or ')'`);
        }
        positional.push(t);
      }
      const end = this.peek();
      if (end.type === ")") return { positional, args, close: this.next() };
      if (end.type !== ",") this.unexpected(end, "expected ',' or ')'");
      sep = this.next();
    }
  }

  private parseI(): Extract<Term, { kind: "i" }> {
    const pos = this.peek().pos;
    const { positional, args, close } = this.parseCall("i", I_ARGS);
    if (positional.length === 0) this.fail("i() needs a factor column: i(factor) or i(factor, variable)", close.pos);
    if (positional.length > 2) {
      this.fail("i() takes at most two columns: i(factor, variable)", positional[2].pos,
        `pass further arguments by name (${I_ARGS.join(", ")})`);
    }
    if (positional.length === 2 && positional[1].text === positional[0].text) {
      this.fail(`i() interacts '${positional[0].text}' with itself`, positional[1].pos);
    }
    if (positional.length === 2) {
      return { kind: "i", factor: positional[0].text, by: positional[1].text, args, pos };
    }
    return { kind: "i", factor: positional[0].text, args, pos };
  }

  private parseSunab(): Extract<Term, { kind: "sunab" }> {
    const pos = this.peek().pos;
    const { positional, args, close } = this.parseCall("sunab", SUNAB_ARGS);
    if (positional.length < 2) this.fail("sunab() needs two columns: sunab(cohort, period)", close.pos);
    if (positional.length > 2) {
      this.fail("sunab() takes two columns: sunab(cohort, period)", positional[2].pos,
        `pass further arguments by name (${SUNAB_ARGS.join(", ")})`);
    }
    if (positional[1].text === positional[0].text) this.fail("sunab() needs two different columns", positional[1].pos);
    return { kind: "sunab", cohort: positional[0].text, period: positional[1].text, args, pos };
  }

  /** number, string, TRUE/FALSE, c(...) or list(...). */
  private parseLiteral(): ArgValue {
    const t = this.peek();
    if (t.type === "name" && !t.quoted && (t.text === "TRUE" || t.text === "FALSE")) {
      this.next();
      return t.text === "TRUE";
    }
    if (t.type === "name" && !t.quoted && this.peek(1).type === "(" && (t.text === "c" || t.text === "list")) {
      return t.text === "c" ? this.parseVector() : this.parseList();
    }
    return this.parseScalar();
  }

  private parseScalar(): Value {
    const t = this.peek();
    if (t.type === "num") {
      this.next();
      return t.num;
    }
    if (t.type === "str") {
      this.next();
      return t.text;
    }
    if (t.type === "-") {
      const minus = this.next();
      const n = this.peek();
      if (n.type !== "num") this.fail("'-' must be followed by a number here", minus.pos);
      this.next();
      return -n.num + 0; // + 0 turns -0 into 0
    }
    if (t.type === "name" && !t.quoted && (t.text === "TRUE" || t.text === "FALSE")) {
      this.fail("TRUE/FALSE cannot be elements of c() or list()", t.pos);
    }
    if (t.type === "name" && this.peek(1).type === "(") {
      this.fail(`${t.text}() is not supported in argument values`, t.pos, "use numbers, strings, TRUE/FALSE, c(...) or list(...)");
    }
    if (t.type === "name") {
      this.fail("argument values must be literals", t.pos,
        `use numbers, strings, TRUE/FALSE, c(...) or list(...); for a level named ${t.text}, write "${t.text}"`);
    }
    return this.unexpected(t, "expected a value");
  }

  private parseVector(): Value[] {
    const name = this.next();
    this.next(); // "("
    const out: Value[] = [];
    if (this.peek().type === ")") this.fail("empty c()", name.pos, "omit the argument instead");
    for (;;) {
      out.push(this.parseScalar());
      const t = this.peek();
      if (t.type === ")") {
        this.next();
        return out;
      }
      if (t.type !== ",") this.unexpected(t, "expected ',' or ')'");
      const comma = this.next();
      this.expectTermAfter(comma, "a value");
    }
  }

  private parseList(): { [k: string]: Value[] } {
    const name = this.next();
    this.next(); // "("
    const out: { [k: string]: Value[] } = {};
    if (this.peek().type === ")") this.fail("empty list()", name.pos, "omit the argument instead");
    for (;;) {
      const key = this.peek();
      if ((key.type !== "name" && key.type !== "str") || this.peek(1).type !== "=") {
        this.fail("list() elements must be named: list(\"name\" = c(...))", key.pos);
      }
      if (Object.prototype.hasOwnProperty.call(out, key.text)) this.fail(`list() name '${key.text}' is given twice`, key.pos);
      this.next();
      const eq = this.next();
      this.expectTermAfter(eq, "a value");
      const v = this.peek();
      const value = v.type === "name" && !v.quoted && v.text === "c" && this.peek(1).type === "("
        ? this.parseVector()
        : [this.parseScalar()];
      setOwn(out, key.text, value);
      const t = this.peek();
      if (t.type === ")") {
        this.next();
        return out;
      }
      if (t.type !== ",") this.unexpected(t, "expected ',' or ')'");
      const comma = this.next();
      this.expectTermAfter(comma, "an element");
    }
  }

  // ------------------------------------------------------------------ fixed effects

  private parseFixef(): FixefTerm[] {
    const out: FixefTerm[] = [];
    for (;;) {
      const fe = this.parseFeTerm();
      const key = JSON.stringify([...fe.vars].sort());
      for (const prev of out) {
        if (JSON.stringify([...prev.vars].sort()) !== key) continue;
        const what = fe.vars.join("^");
        if (!prev.slopeOnly && !fe.slopeOnly) {
          const withSlopes = prev.slopes.length > 0 || fe.slopes.length > 0;
          this.fail(`duplicate fixed effect '${what}'`, fe.pos, withSlopes
            ? `${what}[x] already includes the fixed effect ${what}; write ${what}[[x]] for the slopes alone`
            : "each fixed effect may appear once");
        }
        const shared = fe.slopes.find((s) => prev.slopes.includes(s));
        if (shared !== undefined) this.fail(`duplicate slope '${shared}' for fixed effect '${what}'`, fe.pos);
      }
      out.push(fe);
      const t = this.peek();
      if (t.type === "+") {
        const plus = this.next();
        this.expectTermAfter(plus, "a fixed effect");
        continue;
      }
      if (t.type === "eof") return out;
      if (t.type === "|") {
        this.fail("only one '|' is supported here: IV formulas (y ~ x | fe | endo ~ inst) are estimated by iv()", t.pos, "hdfe feols and the package's feols() take IV formulas (2SLS by iv())");
      }
      if (t.type === ":" || t.type === "*") {
        this.fail(`'${t.type}' cannot combine fixed effects`, t.pos, "combine fixed effects with '^', e.g. fe1^fe2");
      }
      if (t.type === "-") this.fail("removing fixed effects is not supported", t.pos);
      if (t.type === "^" && fe.slopes.length > 0) {
        this.fail("'^' after varying slopes", t.pos, "combine the fixed effects first, then add slopes: fe1^fe2[x]");
      }
      this.unexpected(t, "expected '+' or the end of the formula");
    }
  }

  private parseFeName(): Tok {
    const t = this.peek();
    if (t.type !== "name") {
      if (t.type === "num") this.fail("expected a fixed-effect column name", t.pos, "quote names starting with a digit in backticks");
      this.unexpected(t, "expected a fixed-effect column name");
    }
    if (this.peek(1).type === "(") {
      if (t.text === "i" || t.text === "sunab") {
        this.fail(`${t.text}() is not allowed among the fixed effects`, t.pos, "move it before the '|'");
      }
      this.unknownFunction(t);
    }
    this.checkColumnName(t);
    return this.next();
  }

  private parseFeTerm(): FixefTerm {
    const first = this.parseFeName();
    const vars = [first.text];
    while (this.peek().type === "^") {
      const hat = this.next();
      this.expectTermAfter(hat, "a fixed-effect name");
      const t = this.parseFeName();
      if (vars.includes(t.text)) this.fail(`'${t.text}' appears twice in a combined fixed effect`, t.pos);
      vars.push(t.text);
    }
    const open = this.peek();
    if (open.type !== "[" && open.type !== "[[") return { vars, slopes: [], slopeOnly: false, pos: first.pos };
    this.next();
    const slopeOnly = open.type === "[[";
    const slopes: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type !== "name") this.unexpected(t, "expected a slope column name");
      if (this.peek(1).type === "(") this.unknownFunction(t);
      this.checkColumnName(t);
      if (slopes.includes(t.text)) this.fail(`slope '${t.text}' is listed twice`, t.pos);
      this.next();
      slopes.push(t.text);
      const sep = this.peek();
      if (sep.type === ",") {
        const comma = this.next();
        this.expectTermAfter(comma, "a slope");
        continue;
      }
      if (sep.type !== "]") this.unexpected(sep, `expected ',' or '${slopeOnly ? "]]" : "]"}'`);
      this.next();
      if (slopeOnly) {
        const second = this.peek();
        if (second.type !== "]") this.unexpected(second, "expected ']]' to close '[['");
        this.next();
      }
      return { vars, slopes, slopeOnly, pos: first.pos };
    }
  }
}

function toTerm(t: PTerm): Term {
  if (t.special) return t.special;
  if (t.vars.length === 1) return { kind: "var", name: t.vars[0], pos: t.pos };
  return { kind: "interact", vars: t.vars, pos: t.pos };
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Parses a fixest formula. Throws FormulaSyntaxError (with the 0-based `position` of the
 * offending character, in UTF-16 code units; at the end of input, the last operator or
 * `text.length`) for anything outside the supported grammar.
 */
export function parseFormula(text: string): Formula {
  if (typeof text !== "string") throw new FormulaSyntaxError("formula must be a string", String(text), 0);
  return new Parser(text, tokenize(text)).parse();
}

/** Every data column a formula reads (lhs, regressors, factors, slopes, FE vars), de-duplicated, in order of appearance. */
export function formulaColumns(f: Formula): string[] {
  const seen = new Set<string>();
  const add = (c: string | undefined) => {
    if (c !== undefined) seen.add(c);
  };
  add(f.lhs);
  for (const t of f.terms) {
    switch (t.kind) {
      case "var": add(t.name); break;
      case "interact": t.vars.forEach(add); break;
      case "i": add(t.factor); add(t.by); break;
      case "sunab": add(t.cohort); add(t.period); break;
    }
  }
  for (const fe of f.fixef) {
    fe.vars.forEach(add);
    fe.slopes.forEach(add);
  }
  return [...seen];
}

/** True when `name` can be written without backticks. */
function isBareName(name: string): boolean {
  if (name.length === 0 || RESERVED.has(name) || name === ".") return false;
  const first = charAt(name, 0);
  if (!isNameStart(first)) return false;
  if (first === "." && isDigit(name[1])) return false;
  for (let i = 0; i < name.length;) {
    const c = charAt(name, i);
    if (!isNameChar(c)) return false;
    i += c.length;
  }
  return true;
}

function quote(s: string, q: string): string {
  let out = q;
  for (const c of s) {
    if (c === "\\") out += "\\\\";
    else if (c === q) out += "\\" + q;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else out += c;
  }
  return out + q;
}

function formatName(name: string): string {
  return isBareName(name) ? name : quote(name, "`");
}

function formatValue(v: Value): string {
  return typeof v === "number" ? String(v) : quote(v, '"');
}

function formatArg(v: ArgValue): string {
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  if (typeof v === "number" || typeof v === "string") return formatValue(v);
  if (Array.isArray(v)) return `c(${v.map(formatValue).join(", ")})`;
  const entries = Object.keys(v).map((k) => `${quote(k, '"')} = c(${v[k].map(formatValue).join(", ")})`);
  return `list(${entries.join(", ")})`;
}

function formatArgs(args: Record<string, ArgValue>): string {
  return Object.keys(args).map((k) => `, ${k} = ${formatArg(args[k])}`).join("");
}

function formatTerm(t: Term): string {
  switch (t.kind) {
    case "var": return formatName(t.name);
    case "interact": return t.vars.map(formatName).join(":");
    case "i": return `i(${formatName(t.factor)}${t.by !== undefined ? ", " + formatName(t.by) : ""}${formatArgs(t.args)})`;
    case "sunab": return `sunab(${formatName(t.cohort)}, ${formatName(t.period)}${formatArgs(t.args)})`;
  }
}

/** Prints a formula back as text that parseFormula reads to the same AST (positions aside). */
export function formatFormula(f: Formula): string {
  let rhs: string;
  if (f.terms.length === 0) rhs = f.intercept ? "1" : "0";
  else rhs = f.terms.map(formatTerm).join(" + ") + (f.intercept ? "" : " - 1");
  let out = `${formatName(f.lhs)} ~ ${rhs}`;
  if (f.fixef.length > 0) {
    const fes = f.fixef.map((fe) => {
      const base = fe.vars.map(formatName).join("^");
      if (fe.slopes.length === 0) return base;
      const inner = fe.slopes.map(formatName).join(", ");
      return fe.slopeOnly ? `${base}[[${inner}]]` : `${base}[${inner}]`;
    });
    out += " | " + fes.join(" + ");
  }
  return out;
}
