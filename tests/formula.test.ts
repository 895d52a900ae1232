// Tests for bindings/core/formula.ts, the fixest formula parser. They check:
//  1. every supported construct (terms, `*`/`:` expansion and de-duplication, parentheses,
//     intercept markers, i() and sunab() with every kind of argument value, backticks, numbers,
//     strings, fixed effects with `^`, `[x]` and `[[x]]`) parses to the exact expected AST,
//     positions included;
//  2. every rejected input throws FormulaSyntaxError (not just any Error) at the exact 0-based
//     position, marked with a caret under the formula in the tables below, with the expected
//     message (and hint where one matters);
//  3. formulaColumns() and formatFormula() on fixed examples;
//  4. property tests (fast-check, fixed seeds): formulas generated from the grammar round-trip
//     through parse -> format -> parse; random ASTs round-trip through format -> parse; random
//     garbage and token soup either parse or throw FormulaSyntaxError with an in-range position,
//     never another exception.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FormulaSyntaxError } from "../bindings/base/errors.js";
import {
  formatFormula,
  formulaColumns,
  parseFormula,
  type ArgValue,
  type FixefTerm,
  type Formula,
  type Term,
  type Value,
} from "../bindings/core/formula.js";

/** The formula without positions and source text (what must survive a round trip). */
function strip(f: Formula) {
  return {
    lhs: f.lhs,
    intercept: f.intercept,
    terms: f.terms.map(({ pos: _p, ...rest }) => rest),
    fixef: f.fixef.map(({ pos: _p, ...rest }) => rest),
  };
}

function fe(vars: string[], pos: number, slopes: string[] = [], slopeOnly = false): FixefTerm {
  return { vars, slopes, slopeOnly, pos };
}

/** Catches the error thrown by parseFormula(text); fails the test if there is none. */
function errorOf(text: string): FormulaSyntaxError {
  let caught: unknown;
  try {
    parseFormula(text);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${JSON.stringify(text)} to be rejected`).toBeInstanceOf(FormulaSyntaxError);
  return caught as FormulaSyntaxError;
}

describe("parseFormula: accepted constructs", () => {
  it("parses the full fixest example to the exact AST", () => {
    const text =
      'y ~ x1 + x2 + x1:x2 + x1*x2 + i(f, ref = 2) + i(f, x, ref = "east") + sunab(cohort, year)' +
      " | fe1 + fe2 + fe1^fe2 + fe3[slope] + fe4[[slope2]]";
    expect(parseFormula(text)).toEqual({
      text,
      lhs: "y",
      intercept: true,
      terms: [
        { kind: "var", name: "x1", pos: 4 },
        { kind: "var", name: "x2", pos: 9 },
        { kind: "interact", vars: ["x1", "x2"], pos: 14 },
        // x1*x2 adds x1 + x2 + x1:x2, all already present: dropped
        { kind: "i", factor: "f", args: { ref: 2 }, pos: 30 },
        { kind: "i", factor: "f", by: "x", args: { ref: "east" }, pos: 46 },
        { kind: "sunab", cohort: "cohort", period: "year", args: {}, pos: 70 },
      ],
      fixef: [
        fe(["fe1"], 92),
        fe(["fe2"], 98),
        fe(["fe1", "fe2"], 104),
        fe(["fe3"], 114, ["slope"], false),
        fe(["fe4"], 127, ["slope2"], true),
      ],
    } satisfies Formula);
  });

  it("a plain regression", () => {
    expect(parseFormula("wage~educ+exper")).toEqual({
      text: "wage~educ+exper",
      lhs: "wage",
      intercept: true,
      terms: [
        { kind: "var", name: "educ", pos: 5 },
        { kind: "var", name: "exper", pos: 10 },
      ],
      fixef: [],
    });
  });

  it("a*b expands to a + b + a:b", () => {
    expect(parseFormula("y ~ a*b").terms).toEqual([
      { kind: "var", name: "a", pos: 4 },
      { kind: "var", name: "b", pos: 6 },
      { kind: "interact", vars: ["a", "b"], pos: 4 },
    ]);
  });

  it("a*b*c expands in R's order (main effects, two-way, three-way)", () => {
    expect(strip(parseFormula("y ~ a * b * c")).terms).toEqual([
      { kind: "var", name: "a" },
      { kind: "var", name: "b" },
      { kind: "var", name: "c" },
      { kind: "interact", vars: ["a", "b"] },
      { kind: "interact", vars: ["a", "c"] },
      { kind: "interact", vars: ["b", "c"] },
      { kind: "interact", vars: ["a", "b", "c"] },
    ]);
  });

  it(": binds tighter than *: a:b*c is a:b + c + a:b:c", () => {
    expect(strip(parseFormula("y ~ a:b*c")).terms).toEqual([
      { kind: "interact", vars: ["a", "b"] },
      { kind: "var", name: "c" },
      { kind: "interact", vars: ["a", "b", "c"] },
    ]);
  });

  it("three-way x1:x2:x3 is one interaction term", () => {
    expect(parseFormula("y ~ x1:x2:x3").terms).toEqual([{ kind: "interact", vars: ["x1", "x2", "x3"], pos: 4 }]);
  });

  it("parentheses distribute: (a + b):c and (a + b)*c", () => {
    expect(parseFormula("y ~ (a + b):c").terms).toEqual([
      { kind: "interact", vars: ["a", "c"], pos: 5 },
      { kind: "interact", vars: ["b", "c"], pos: 9 },
    ]);
    expect(strip(parseFormula("y ~ (a + b)*c")).terms).toEqual([
      { kind: "var", name: "a" },
      { kind: "var", name: "b" },
      { kind: "var", name: "c" },
      { kind: "interact", vars: ["a", "c"] },
      { kind: "interact", vars: ["b", "c"] },
    ]);
  });

  it("de-duplicates terms keeping the first occurrence; a:b and b:a are the same term", () => {
    expect(parseFormula("y ~ x + z + x + b:a + a:b + a*b").terms).toEqual([
      { kind: "var", name: "x", pos: 4 },
      { kind: "var", name: "z", pos: 8 },
      { kind: "interact", vars: ["b", "a"], pos: 16 },
      { kind: "var", name: "a", pos: 28 },
      { kind: "var", name: "b", pos: 30 },
    ]);
  });

  it("identical i() terms are de-duplicated, different ones kept", () => {
    expect(strip(parseFormula("y ~ i(f, ref = 1) + i(f,ref=1) + i(f, ref = 2)")).terms).toEqual([
      { kind: "i", factor: "f", args: { ref: 1 } },
      { kind: "i", factor: "f", args: { ref: 2 } },
    ]);
  });

  it("names with dots, underscores, digits; backtick-quoted names; unicode letters", () => {
    const f = parseFormula("log_wage.2 ~ x.1 + .hidden + _tmp + `first.treat` + `weird name` + `a\\`b` + âge | `fe 1`");
    expect(f.lhs).toBe("log_wage.2");
    expect(f.terms).toEqual([
      { kind: "var", name: "x.1", pos: 13 },
      { kind: "var", name: ".hidden", pos: 19 },
      { kind: "var", name: "_tmp", pos: 29 },
      { kind: "var", name: "first.treat", pos: 36 },
      { kind: "var", name: "weird name", pos: 52 },
      { kind: "var", name: "a`b", pos: 67 },
      { kind: "var", name: "âge", pos: 76 },
    ]);
    expect(f.fixef).toEqual([fe(["fe 1"], 82)]);
  });

  it("a backticked reserved word is a column; `x` equals x", () => {
    expect(strip(parseFormula("y ~ `TRUE` + `x` + x")).terms).toEqual([
      { kind: "var", name: "TRUE" },
      { kind: "var", name: "x" },
    ]);
  });

  it("a column may be called i or sunab when not called", () => {
    expect(strip(parseFormula("y ~ i + sunab")).terms).toEqual([
      { kind: "var", name: "i" },
      { kind: "var", name: "sunab" },
    ]);
  });

  it("whitespace anywhere (spaces, tabs, newlines)", () => {
    const f = parseFormula("\n y\t~ \n x1 +\n\ti ( f ,\n ref = c ( -1 , 2 ) ) |\n fe1 ^ fe2 [ x1 ]  \n");
    expect(strip(f)).toEqual({
      lhs: "y",
      intercept: true,
      terms: [
        { kind: "var", name: "x1" },
        { kind: "i", factor: "f", args: { ref: [-1, 2] } },
      ],
      fixef: [{ vars: ["fe1", "fe2"], slopes: ["x1"], slopeOnly: false }],
    });
  });

  describe("intercept", () => {
    const cases: [string, boolean, string[]][] = [
      ["y ~ x", true, ["x"]],
      ["y ~ 1 + x", true, ["x"]],
      ["y ~ x + 1", true, ["x"]],
      ["y ~ x - 1", false, ["x"]],
      ["y ~ x-1", false, ["x"]],
      ["y ~ -1 + x", false, ["x"]],
      ["y ~ 0 + x", false, ["x"]],
      ["y ~ x + 0", false, ["x"]],
      ["y ~ x + 0 - 1", false, ["x"]],
      ["y ~ 1", true, []],
      ["y ~ 0", false, []],
      ["y ~ -1", false, []],
      ["y ~ 1 | fe", true, []],
    ];
    it.each(cases)("%s", (text, intercept, vars) => {
      const f = parseFormula(text);
      expect(f.intercept).toBe(intercept);
      expect(f.terms.map((t) => (t.kind === "var" ? t.name : "?"))).toEqual(vars);
    });

    it("y ~ 1 | fe is intercept only with fixed effects", () => {
      expect(parseFormula("y ~ 1 | fe")).toEqual({ text: "y ~ 1 | fe", lhs: "y", intercept: true, terms: [], fixef: [fe(["fe"], 8)] });
    });
  });

  describe("i()", () => {
    const cases: [string, Term][] = [
      ["i(f)", { kind: "i", factor: "f", args: {}, pos: 4 }],
      ["i(f, x)", { kind: "i", factor: "f", by: "x", args: {}, pos: 4 }],
      ["i(f, ref = -1)", { kind: "i", factor: "f", args: { ref: -1 }, pos: 4 }],
      ['i(f, ref = "east")', { kind: "i", factor: "f", args: { ref: "east" }, pos: 4 }],
      ["i(f, ref = 'east')", { kind: "i", factor: "f", args: { ref: "east" }, pos: 4 }],
      ['i(f, ref = c("a", "b"))', { kind: "i", factor: "f", args: { ref: ["a", "b"] }, pos: 4 }],
      ["i(f, ref = c(-1, -1000))", { kind: "i", factor: "f", args: { ref: [-1, -1000] }, pos: 4 }],
      ["i(f, ref = c(2))", { kind: "i", factor: "f", args: { ref: [2] }, pos: 4 }],
      ["i(f, ref = TRUE)", { kind: "i", factor: "f", args: { ref: true }, pos: 4 }],
      [
        'i(`first.treat`, x, ref = "east", keep = c(1, 2), bin = "bin::2", ref2 = 1.5e-3, keep2 = c(1, "b"), bin2 = FALSE)',
        {
          kind: "i", factor: "first.treat", by: "x", pos: 4,
          args: { ref: "east", keep: [1, 2], bin: "bin::2", ref2: 0.0015, keep2: [1, "b"], bin2: false },
        },
      ],
      [
        'i(f, bin = list("a" = c(1, 2), b = 3, `c d` = c("x")))',
        { kind: "i", factor: "f", args: { bin: { a: [1, 2], b: [3], "c d": ["x"] } }, pos: 4 },
      ],
    ];
    it.each(cases)("y ~ %s", (call, term) => {
      expect(parseFormula(`y ~ ${call}`).terms).toEqual([term]);
    });
  });

  describe("sunab()", () => {
    const cases: [string, Term][] = [
      ["sunab(cohort, period)", { kind: "sunab", cohort: "cohort", period: "period", args: {}, pos: 4 }],
      [
        "sunab(`first.treat`, year, ref.p = -1, att = TRUE)",
        { kind: "sunab", cohort: "first.treat", period: "year", args: { "ref.p": -1, att: true }, pos: 4 },
      ],
      [
        "sunab(g, t, ref.c = c(2001, 2002), ref.p = c(-1, -5), bin.rel = \"bin::2\", no_agg = FALSE, bin = list(early = c(2001)))",
        {
          kind: "sunab", cohort: "g", period: "t", pos: 4,
          args: { "ref.c": [2001, 2002], "ref.p": [-1, -5], "bin.rel": "bin::2", no_agg: false, bin: { early: [2001] } },
        },
      ],
    ];
    it.each(cases)("y ~ %s", (call, term) => {
      expect(parseFormula(`y ~ ${call}`).terms).toEqual([term]);
    });
  });

  describe("numbers in arguments", () => {
    const cases: [string, Value][] = [
      ["2", 2],
      ["-2", -2],
      ["2.5", 2.5],
      [".5", 0.5],
      ["-.5", -0.5],
      ["1.", 1],
      ["1e3", 1000],
      ["1E3", 1000],
      ["1e+3", 1000],
      ["-2.5e-3", -0.0025],
      ["2L", 2],
      ["-0", 0],
      ["0", 0],
    ];
    it.each(cases)("ref = %s", (src, value) => {
      const t = parseFormula(`y ~ i(f, ref = ${src})`).terms[0];
      expect(t.kind === "i" && t.args.ref).toBe(value);
    });
    it("-0 is normalised to 0", () => {
      const t = parseFormula("y ~ i(f, ref = -0)").terms[0];
      expect(t.kind === "i" && Object.is(t.args.ref, 0)).toBe(true);
    });
  });

  it("string escapes", () => {
    const t = parseFormula(String.raw`y ~ i(f, ref = c("a\"b", 'c\'d', "e\\f", "g\nh", "it's"))`).terms[0];
    expect(t.kind === "i" && t.args.ref).toEqual(['a"b', "c'd", "e\\f", "g\nh", "it's"]);
  });

  describe("fixed effects", () => {
    const cases: [string, FixefTerm[]][] = [
      ["y ~ x | fe", [fe(["fe"], 8)]],
      ["y ~ x | fe1 + fe2", [fe(["fe1"], 8), fe(["fe2"], 14)]],
      ["y ~ x | fe1^fe2", [fe(["fe1", "fe2"], 8)]],
      ["y ~ x | a^b^c", [fe(["a", "b", "c"], 8)]],
      ["y ~ x | fe[z]", [fe(["fe"], 8, ["z"], false)]],
      ["y ~ x | fe[z1, z2]", [fe(["fe"], 8, ["z1", "z2"], false)]],
      ["y ~ x | fe[[z]]", [fe(["fe"], 8, ["z"], true)]],
      ["y ~ x | fe[[z1,z2]]", [fe(["fe"], 8, ["z1", "z2"], true)]],
      ["y ~ x | id^year[z]", [fe(["id", "year"], 8, ["z"], false)]],
      ["y ~ x | fe + fe[[z]]", [fe(["fe"], 8), fe(["fe"], 13, ["z"], true)]],
      ["y ~ x | fe[[z1]] + fe[[z2]]", [fe(["fe"], 8, ["z1"], true), fe(["fe"], 19, ["z2"], true)]],
      ["y ~ x | a + b + a^b", [fe(["a"], 8), fe(["b"], 12), fe(["a", "b"], 16)]],
    ];
    it.each(cases)("%s", (text, fixef) => {
      expect(parseFormula(text).fixef).toEqual(fixef);
    });
  });
});

describe("parseFormula: errors (class and exact position)", () => {
  // [formula, caret under the offending character, message fragment, hint fragment?]
  const cases: [string, string, string, string?][] = [
    // no formula / no outcome / no "~"
    ["", "^", "empty formula"],
    ["   ", "^", "empty formula"],
    ["y", " ^", "expected '~'"],
    ["y x1 + x2", "  ^", "expected '~'"],
    ["~ x", "^", "missing outcome", "one-sided"],
    ["y ~ x ~ z", "      ^", "second '~'"],
    ["1 ~ x", "^", "expected the outcome column"],
    // multiple outcomes
    ["y1 + y2 ~ x", "   ^", "multiple outcomes"],
    ["c(y1, y2) ~ x", "^", "multiple outcomes"],
    ["cbind(y1, y2) ~ x", "^", "multiple outcomes"],
    // empty or dangling right-hand side
    ["y ~", "  ^", "missing right-hand side"],
    ["y ~ | fe", "    ^", "empty right-hand side", "y ~ 1 | fe"],
    ["y ~ x +", "      ^", "'+' is not followed by a term"],
    ["y ~ x +   ", "      ^", "'+' is not followed by a term"],
    ["y ~ x + | fe", "      ^", "'+' is not followed by a term"],
    ["y ~ x + + z", "        ^", "expected a term"],
    ["y ~ x:", "     ^", "':' is not followed by a term"],
    ["y ~ x *| fe", "      ^", "'*' is not followed by a term"],
    ["y ~ x z", "      ^", "expected '+', '|' or the end"],
    ["y ~ ()", "    ^", "'(' is not followed by a term"],
    // unbalanced brackets
    ["y ~ i(f, ref = 2", "     ^", "unclosed '('", "')'"],
    ["y ~ (a + b", "    ^", "unclosed '('"],
    ["y ~ a + b)", "         ^", "unmatched ')'"],
    ["y ~ i(f, ref = c(1, 2)", "     ^", "unclosed '('"],
    ["y ~ i(f, ref = c(1, 2]", "                     ^", "does not match", "')'"],
    ["y ~ x | fe[z", "          ^", "unclosed '['"],
    ["y ~ x | fe[[z]", "          ^", "unclosed '['"],
    ["y ~ x | fe[z]]", "             ^", "unmatched ']'"],
    ["y ~ x | fe[z)", "            ^", "does not match"],
    ["y ~ " + "(".repeat(70) + "x" + ")".repeat(70), " ".repeat(68) + "^", "nested too deeply"],
    // "|" parts
    ["y ~ x |", "      ^", "empty fixed-effects part"],
    ["y ~ x |   ", "      ^", "empty fixed-effects part"],
    ["y ~ x | fe | z ~ w", "           ^", "IV formulas"],
    ["y ~ x | fe +", "           ^", "'+' is not followed by a fixed effect"],
    ["y ~ x | fe^", "          ^", "'^' is not followed by a fixed-effect name"],
    ["y ~ x | a:b", "         ^", "cannot combine fixed effects", "fe1^fe2"],
    ["y ~ x | a*b", "         ^", "cannot combine fixed effects"],
    ["y ~ x | a - b", "          ^", "removing fixed effects"],
    ["y ~ x | 0", "        ^", "expected a fixed-effect column name"],
    ["y ~ x | i(f)", "        ^", "not allowed among the fixed effects"],
    ["y ~ x | fe[]", "           ^", "expected a slope column name"],
    ["y ~ x | fe[z,]", "            ^", "',' is not followed by a slope"],
    ["y ~ x | fe[z][w]", "             ^", "unexpected '['"],
    ["y ~ x | fe[z]^g", "             ^", "'^' after varying slopes", "fe1^fe2[x]"],
    // duplicate fixed effects
    ["y ~ x | fe + fe", "             ^", "duplicate fixed effect 'fe'"],
    ["y ~ x | a^b + b^a", "              ^", "duplicate fixed effect 'b^a'"],
    ["y ~ x | fe + fe[z]", "             ^", "duplicate fixed effect", "fe[[x]]"],
    ["y ~ x | fe[z] + fe[[z]]", "                ^", "duplicate slope 'z'"],
    ["y ~ x | fe[[z]] + fe[[w, z]]", "                  ^", "duplicate slope 'z'"],
    ["y ~ x | a^a", "          ^", "'a' appears twice in a combined fixed effect"],
    ["y ~ x | fe[z, z]", "              ^", "slope 'z' is listed twice"],
    // removing terms
    ["y ~ x - z", "      ^", "removing terms is not supported"],
    ["y ~ -x", "    ^", "removing terms is not supported"],
    ["y ~ x - i(f)", "      ^", "removing terms is not supported"],
    ["y ~ (a - b)", "       ^", "removing terms is not supported"],
    ["y ~ x - 0", "      ^", "'- 0' is not supported"],
    // intercept / numbers
    ["y ~ 2", "    ^", "can only be 0 or 1"],
    ["y ~ x + 1 - 1", "          ^", "conflicting intercept"],
    ["y ~ 0 + x + 1", "            ^", "conflicting intercept"],
    ["y ~ 1:x", "    ^", "numbers cannot be used inside terms"],
    ["y ~ (1)", "     ^", "numbers cannot be used inside terms"],
    ["y ~ 2x", "    ^", "cannot start with a digit", "backticks"],
    ["y ~ x + 1e", "         ^", "exponent has no digits"],
    ["y ~ i(f, ref = 1e999)", "               ^", "out of range"],
    // unknown functions and operators
    ["y ~ log(x)", "    ^", "log() is not supported", "compute the column first"],
    ["log(y) ~ x", "^", "log() is not supported"],
    ["y ~ x + I(x^2)", "        ^", "I() is not supported"],
    ["y ~ factor(g)", "    ^", "factor() is not supported", "i(x)"],
    ["y ~ x | factor(g)", "        ^", "factor() is not supported"],
    ["y ~ csw(x, z)", "    ^", "csw() is not supported", "stepwise"],
    ["y ~ x:log(z)", "      ^", "log() is not supported"],
    ["y ~ i(log(f))", "      ^", "log() is not supported"],
    ["y ~ fixest::i(f)", "          ^", "'::' is not supported"],
    ["y ~ x^2", "     ^", "'^' is only supported between fixed effects"],
    ["y ~ a/b", "     ^", "'/' (nesting) is not supported"],
    ["y ~ a %in% b", "      ^", "%in%"],
    ["y ~ x $ z", "      ^", "'$' is not supported"],
    ["y ~ x # note", "      ^", "comments are not supported"],
    ["y ~ x; z", "     ^", "unexpected character ';'"],
    ["y ~ x[1]", "     ^", "unexpected '['"],
    ["y ~ x = 2", "      ^", "unexpected '='"],
    ["y ~ .", "    ^", "'.' (all other columns)"],
    ["y ~ TRUE", "    ^", "'TRUE' is not a column name", "`TRUE`"],
    ["y ~ \"x\"", "    ^", "a string is not a column name", "backticks"],
    // i() / sunab() misuse
    ["y ~ i(f):x", "        ^", "i() and sunab() cannot be interacted"],
    ["y ~ x:i(f)", "     ^", "i() and sunab() cannot be interacted"],
    ["y ~ x*i(f)", "     ^", "i() and sunab() cannot be interacted", "i(factor, variable)"],
    ["y ~ i(f)*x", "        ^", "i() and sunab() cannot be interacted"],
    ["y ~ a*b*i(f)", "       ^", "i() and sunab() cannot be interacted"],
    ["y ~ sunab(g, t):x", "               ^", "i() and sunab() cannot be interacted"],
    ["y ~ (x + i(f)):z", "              ^", "i() and sunab() cannot be interacted"],
    ["y ~ i()", "      ^", "i() needs a factor column"],
    ["y ~ i(ref = 1)", "             ^", "i() needs a factor column"],
    ["y ~ i(f, x, z)", "            ^", "at most two columns", "by name"],
    ["y ~ i(f, f)", "         ^", "with itself"],
    ["y ~ i(f, )", "       ^", "',' is not followed by an argument"],
    ["y ~ i(f,, x)", "       ^", "',' is not followed by an argument"],
    ["y ~ i(f, foo = 1)", "         ^", "i() has no argument 'foo'", "ref, keep, bin"],
    ["y ~ i(f, ref.p = 1)", "         ^", "i() has no argument 'ref.p'"],
    ["y ~ i(f, ref = 1, ref = 2)", "                  ^", "'ref' is given twice"],
    ["y ~ i(f, ref = 1, x)", "                  ^", "positional arguments must come before"],
    ["y ~ i(f, ref = east)", "               ^", "argument values must be literals", "\"east\""],
    ["y ~ i(f, ref = )", "             ^", "'=' is not followed by a value"],
    ["y ~ i(f, ref = c())", "               ^", "empty c()"],
    ["y ~ i(f, ref = c(TRUE))", "                 ^", "TRUE/FALSE cannot be elements"],
    ["y ~ i(f, ref = c(1, c(2)))", "                    ^", "c() is not supported in argument values"],
    ["y ~ i(f, ref = - x)", "               ^", "'-' must be followed by a number"],
    ["y ~ i(f, ref = 1:3)", "                ^", "expected ',' or ')'"],
    ["y ~ i(f, ref = NULL)", "               ^", "argument values must be literals"],
    ["y ~ i(f, bin = list())", "               ^", "empty list()"],
    ["y ~ i(f, bin = list(c(1)))", "                    ^", "list() elements must be named"],
    ["y ~ i(f, bin = list(a = 1, a = 2))", "                           ^", "list() name 'a' is given twice"],
    ["y ~ i(f:g)", "       ^", "expected ',' or ')'"],
    ["y ~ i(\"f\")", "      ^", "i() expects a column name here", "backticks"],
    ["y ~ i(2)", "      ^", "i() expects a column name here"],
    ["y ~ i(`ref` = 1)", "      ^", "argument names cannot be quoted"],
    ["y ~ sunab(g)", "           ^", "sunab() needs two columns"],
    ["y ~ sunab(g, t, u)", "                ^", "sunab() takes two columns", "by name"],
    ["y ~ sunab(g, g)", "             ^", "two different columns"],
    ["y ~ sunab(g, t, ref = 1)", "                ^", "sunab() has no argument 'ref'", "ref.p"],
    // interactions repeating a column
    ["y ~ x:x", "     ^", "'x' appears twice in an interaction"],
    ["y ~ a*a", "     ^", "'a' appears twice in an interaction"],
    ["y ~ (a + b + c + d + e + f + g + h + k + l):(m + n + o + p + q + r + s + t + u + v):(a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a0):(b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8 + b9 + b0):(c1 + c2)",
     " ".repeat(183) + "^", "too many terms"],
    ["y ~ (a + b):a", "           ^", "'a' appears twice in an interaction"],
    // lexical errors
    ['y ~ i(f, ref = "a)', "               ^", "unclosed string"],
    ["y ~ `x", "    ^", "unclosed backtick"],
    ["y ~ ``", "    ^", "empty backtick name"],
    ['y ~ i(f, ref = "a\\qb")', "                 ^", "unsupported escape"],
    ["y ~ x @ z", "      ^", "unexpected character '@'"],
  ];

  it.each(cases)("%j", (text, caret, message, hint) => {
    const err = errorOf(text);
    expect(caret.trimEnd().endsWith("^")).toBe(true);
    expect(err.position).toBe(caret.indexOf("^"));
    expect(err.formula).toBe(text);
    expect(err.message).toContain(message);
    expect(err.name).toBe("FormulaSyntaxError");
    if (hint !== undefined) expect(err.hint ?? "").toContain(hint);
  });

  it("non-string input throws FormulaSyntaxError", () => {
    expect(() => parseFormula(42 as unknown as string)).toThrow(FormulaSyntaxError);
  });
});

describe("formulaColumns", () => {
  it("lists every column once, in order of appearance", () => {
    const f = parseFormula(
      "y ~ x1 + x2:x1 + i(f, w, ref = 1) + sunab(g, t) + x3*x2 | id^year + fe[z] + id[[x1, s]]",
    );
    expect(formulaColumns(f)).toEqual(["y", "x1", "x2", "f", "w", "g", "t", "x3", "id", "year", "fe", "z", "s"]);
  });
  it("intercept-only formula with fixed effects", () => {
    expect(formulaColumns(parseFormula("y ~ 1 | fe"))).toEqual(["y", "fe"]);
  });
  it("the outcome is not repeated when it is also a fixed effect", () => {
    expect(formulaColumns(parseFormula("y ~ x | y"))).toEqual(["y", "x"]);
  });
});

describe("formatFormula", () => {
  const cases: [string, string][] = [
    ["y~x", "y ~ x"],
    ["y ~ a*b", "y ~ a + b + a:b"],
    ["y ~ 0 + x", "y ~ x - 1"],
    ["y ~ 1", "y ~ 1"],
    ["y ~ 0", "y ~ 0"],
    ["y ~ -1 | fe", "y ~ 0 | fe"],
    ["y ~ `a b` + `TRUE` + `x` | `f e`[[`s t`]]", "y ~ `a b` + `TRUE` + x | `f e`[[`s t`]]"],
    [
      "y ~ i(f,x,ref='a\"b',keep=c(1,2),bin=list(a=3)) + sunab(g,t,att=TRUE)",
      'y ~ i(f, x, ref = "a\\"b", keep = c(1, 2), bin = list("a" = c(3))) + sunab(g, t, att = TRUE)',
    ],
    ["y ~ x | a^b[z1,z2] + c", "y ~ x | a^b[z1, z2] + c"],
    ["y ~ i(f, ref = -2.5e-3)", "y ~ i(f, ref = -0.0025)"],
  ];
  it.each(cases)("%s", (text, printed) => {
    expect(formatFormula(parseFormula(text))).toBe(printed);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests

const NAME_POOL = [
  "x", "x1", "x.2", "z", "w_3", ".h", "first.treat", "i", "c", "T", "lst", "a", "b", "d", "e", "g", "h", "k", "m",
  "n", "p", "q", "r", "s", "u", "v", "year", "id", "log_wage", "z9",
];
const ws = fc.constantFrom("", " ", "  ", "\t", "\n");

/** A column name as written in a formula: bare, or (equivalently) backticked, or an odd backticked name. */
const nameSrc = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NAME_POOL) },
  { weight: 2, arbitrary: fc.constantFrom(...NAME_POOL).map((n) => "`" + n + "`") },
  { weight: 1, arbitrary: fc.constantFrom("`a b`", "`1st`", "`TRUE`", "`x\\`y`", "`é.t`") },
);

function quoteTest(s: string, q: '"' | "'"): string {
  return q + s.replaceAll("\\", "\\\\").replaceAll(q, "\\" + q) + q;
}

const numSrc = fc.oneof(
  fc.integer({ min: -100000, max: 100000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }).map((d) => String(d)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => d.toExponential()),
  fc.constantFrom(".5", "-.25", "1.", "3L", "1E+2", "-0"),
);
const strSrc = fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom<'"' | "'">('"', "'")).map(([s, q]) => quoteTest(s, q));
const scalarSrc = fc.oneof(numSrc, strSrc);
const vectorSrc = fc.array(scalarSrc, { minLength: 1, maxLength: 3 }).map((v) => `c(${v.join(", ")})`);
const listSrc = fc
  .uniqueArray(fc.tuple(fc.constantFrom("a", "b", '"c d"', "`e`", '"__proto__"'), fc.oneof(scalarSrc, vectorSrc)), {
    minLength: 1,
    maxLength: 3,
    selector: ([k]) => k,
  })
  .map((es) => `list(${es.map(([k, v]) => `${k} = ${v}`).join(", ")})`);
const argValueSrc = fc.oneof(scalarSrc, vectorSrc, listSrc, fc.constantFrom("TRUE", "FALSE"));

function callSrc(fn: string, nPositional: number, allowed: string[]) {
  return fc
    .tuple(
      fc.uniqueArray(fc.constantFrom(...NAME_POOL), { minLength: nPositional, maxLength: nPositional }),
      fc.uniqueArray(fc.constantFrom(...allowed), { maxLength: 3 }),
      fc.array(argValueSrc, { minLength: 3, maxLength: 3 }),
      ws,
    )
    .map(([cols, names, values, s]) => {
      const args = [...cols, ...names.map((n, k) => `${n}${s}=${s}${values[k]}`)];
      return `${fn}(${s}${args.join(`,${s}`)}${s})`;
    });
}
const iSrc = fc.oneof(
  callSrc("i", 1, ["ref", "keep", "bin", "ref2", "keep2", "bin2"]),
  callSrc("i", 2, ["ref", "keep", "bin", "ref2", "keep2", "bin2"]),
);
const sunabSrc = callSrc("sunab", 2, ["ref.c", "ref.p", "bin", "bin.rel", "bin.c", "bin.p", "att", "no_agg"]);

/** RHS expressions from the grammar: sums of products of names / parenthesised sums. */
const { sum: sumSrc } = fc.letrec<{ sum: string; star: string; colon: string; primary: string }>((tie) => ({
  primary: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 5, arbitrary: nameSrc },
    { weight: 1, arbitrary: tie("sum").map((s) => `(${s})`) },
  ),
  colon: fc.array(tie("primary"), { minLength: 1, maxLength: 3 }).chain((ps) => ws.map((s) => ps.join(`${s}:${s}`))),
  star: fc.array(tie("colon"), { minLength: 1, maxLength: 3 }).chain((cs) => ws.map((s) => cs.join(`${s}*${s}`))),
  sum: fc.array(tie("star"), { minLength: 1, maxLength: 3 }).chain((ss) => ws.map((s) => ss.join(`${s}+${s}`))),
}));

const summandSrc = fc.oneof({ weight: 5, arbitrary: sumSrc }, { weight: 1, arbitrary: iSrc }, { weight: 1, arbitrary: sunabSrc });
const interceptSrc = fc.constantFrom<[string, string]>(["", ""], ["", ""], ["1 + ", ""], ["0 + ", ""], ["", " - 1"], ["-1 + ", ""], ["", " + 0"]);
const feTermSrc = fc
  .tuple(
    fc.array(nameSrc, { minLength: 1, maxLength: 3 }),
    fc.constantFrom("", "[]", "[[]]"),
    fc.array(nameSrc, { minLength: 1, maxLength: 2 }),
    ws,
  )
  .map(([vars, brackets, slopes, s]) => {
    const base = vars.join(`${s}^${s}`);
    if (brackets === "") return base;
    const inner = slopes.join(`,${s}`);
    return brackets === "[]" ? `${base}${s}[${inner}]` : `${base}[[${inner}]]`;
  });
const formulaSrc = fc
  .tuple(
    nameSrc,
    fc.oneof(
      fc.array(summandSrc, { minLength: 1, maxLength: 4 }).map((xs) => xs.join(" + ")),
      fc.constantFrom("1", "0"),
    ),
    interceptSrc,
    fc.option(fc.array(feTermSrc, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    ws,
  )
  .map(([lhs, rhs, [pre, post], fes, s]) => {
    const body = rhs === "1" || rhs === "0" ? rhs : `${pre}${rhs}${post}`;
    return `${s}${lhs}${s}~${s}${body}${fes ? `${s}|${s}${fes.join(`${s}+${s}`)}` : ""}${s}`;
  });

/** Parses, or returns the FormulaSyntaxError; any other exception propagates (and fails). */
function tryParse(text: string): Formula | FormulaSyntaxError {
  try {
    return parseFormula(text);
  } catch (e) {
    if (e instanceof FormulaSyntaxError) return e;
    throw e;
  }
}

function checkErrorShape(text: string, e: FormulaSyntaxError): void {
  expect(Number.isInteger(e.position)).toBe(true);
  expect(e.position).toBeGreaterThanOrEqual(0);
  expect(e.position).toBeLessThanOrEqual(text.length);
  expect(e.formula).toBe(text);
}

describe("properties", () => {
  it("formulas generated from the grammar round-trip: parse(format(parse(s))) == parse(s)", () => {
    let parsed = 0;
    let runs = 0;
    let withSpecial = 0;
    fc.assert(
      fc.property(formulaSrc, (text) => {
        runs++;
        const f = tryParse(text);
        if (f instanceof FormulaSyntaxError) {
          // generated formulas can repeat a column in an interaction (x:x), a fixed effect, etc.
          checkErrorShape(text, f);
          return;
        }
        parsed++;
        if (f.terms.some((t) => t.kind === "i" || t.kind === "sunab")) withSpecial++;
        const printed = formatFormula(f);
        const again = parseFormula(printed);
        expect(strip(again)).toEqual(strip(f));
        expect(formatFormula(again)).toBe(printed); // printing is idempotent
        expect(again.text).toBe(printed);
      }),
      { numRuns: 600, seed: 20240611 },
    );
    // the generator must mostly produce valid formulas, or the round trip checks nothing
    expect(parsed).toBeGreaterThan(runs * 0.4);
    expect(withSpecial).toBeGreaterThan(20);
  });

  // Canonical ASTs: distinct terms (by column set), distinct columns within an interaction,
  // fixed effects with distinct column sets.
  const anyName = fc.oneof(fc.constantFrom(...NAME_POOL, "TRUE", "NA", "if", ".", "..1", "_", "i"), fc.string({ minLength: 1, maxLength: 5, unit: "binary" }));
  const number = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => d + 0), // + 0: no -0
  );
  const value: fc.Arbitrary<Value> = fc.oneof(number, fc.string({ maxLength: 5, unit: "binary" }));
  const values = fc.array(value, { minLength: 1, maxLength: 3 });
  const listValue = fc
    .uniqueArray(fc.tuple(fc.string({ maxLength: 4 }), values), { minLength: 1, maxLength: 3, selector: ([k]) => k })
    .map((es) => {
      const o: { [k: string]: Value[] } = {};
      for (const [k, v] of es) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    });
  const argValue: fc.Arbitrary<ArgValue> = fc.oneof(value, values, fc.boolean(), listValue);
  const args = (names: string[]) =>
    fc.uniqueArray(fc.tuple(fc.constantFrom(...names), argValue), { maxLength: 3, selector: ([k]) => k }).map((es) => {
      const o: Record<string, ArgValue> = {};
      for (const [k, v] of es) o[k] = v;
      return o;
    });
  const term: fc.Arbitrary<Term> = fc.oneof(
    anyName.map((name): Term => ({ kind: "var", name, pos: 0 })),
    fc.uniqueArray(anyName, { minLength: 2, maxLength: 3 }).map((vars): Term => ({ kind: "interact", vars, pos: 0 })),
    fc
      .tuple(fc.uniqueArray(anyName, { minLength: 1, maxLength: 2 }), args(["ref", "keep", "bin", "ref2", "keep2", "bin2"]))
      .map(([[factor, by], a]): Term => (by === undefined ? { kind: "i", factor, args: a, pos: 0 } : { kind: "i", factor, by, args: a, pos: 0 })),
    fc
      .tuple(fc.uniqueArray(anyName, { minLength: 2, maxLength: 2 }), args(["ref.c", "ref.p", "bin", "bin.rel", "att", "no_agg"]))
      .map(([[cohort, period], a]): Term => ({ kind: "sunab", cohort, period, args: a, pos: 0 })),
  );
  const sortedJson = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(sortedJson).join(",")}]`
      : v !== null && typeof v === "object"
        ? `{${Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + sortedJson((v as Record<string, unknown>)[k])).join(",")}}`
        : JSON.stringify(v);
  const termKey = (t: Term): string =>
    t.kind === "var" ? JSON.stringify([t.name]) : t.kind === "interact" ? JSON.stringify([...t.vars].sort()) : sortedJson({ ...t, pos: 0 });
  const fixefTerm: fc.Arbitrary<FixefTerm> = fc
    .tuple(fc.uniqueArray(anyName, { minLength: 1, maxLength: 3 }), fc.uniqueArray(anyName, { maxLength: 2 }), fc.boolean())
    .map(([vars, slopes, only]) => ({ vars, slopes, slopeOnly: slopes.length > 0 && only, pos: 0 }));
  const formula: fc.Arbitrary<Formula> = fc
    .tuple(
      anyName,
      fc.uniqueArray(term, { maxLength: 5, selector: termKey }),
      fc.boolean(),
      fc.uniqueArray(fixefTerm, { maxLength: 3, selector: (f) => JSON.stringify([...f.vars].sort()) }),
    )
    .map(([lhs, terms, intercept, fixef]) => ({ text: "", lhs, terms, intercept, fixef }));

  it("random ASTs round-trip: parse(format(ast)) == ast", () => {
    fc.assert(
      fc.property(formula, (ast) => {
        const printed = formatFormula(ast);
        const back = parseFormula(printed);
        expect(strip(back)).toEqual(strip(ast));
        // formulaColumns agrees with the AST it came from
        expect(formulaColumns(back)).toEqual(formulaColumns(ast));
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it("random strings either parse or throw FormulaSyntaxError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: "binary" }), (text) => {
        const r = tryParse(text);
        if (r instanceof FormulaSyntaxError) checkErrorShape(text, r);
        else expect(strip(parseFormula(formatFormula(r)))).toEqual(strip(r));
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it("token soup either parses or throws FormulaSyntaxError; parsed results round-trip", () => {
    const fragment = fc.constantFrom(
      "y", "x", "z", "fe", "~", "+", "-", "*", ":", "^", "|", "(", ")", "[", "]", "[[", "]]", ",", "=",
      "i(", "sunab(", "c(", "list(", "log(", "ref", "ref.p", "att", "1", "0", "-1", "2.5e-3", '"a"', "'b'",
      "`q r`", "`", '"', "TRUE", "FALSE", " ", "\n", ".", "::", "%", "\\",
    );
    let parsed = 0;
    // most soups get a valid start, so that they reach deeper into the parser
    const soup = fc.tuple(fc.constantFrom("", "y ~ ", "y ~ x + ", "y ~ x | "), fc.array(fragment, { maxLength: 25 }));
    fc.assert(
      fc.property(soup.map(([start, xs]) => start + xs.join("")), (text) => {
        const r = tryParse(text);
        if (r instanceof FormulaSyntaxError) {
          checkErrorShape(text, r);
          return;
        }
        parsed++;
        expect(strip(parseFormula(formatFormula(r)))).toEqual(strip(r));
      }),
      { numRuns: 3000, seed: 3 },
    );
    expect(parsed).toBeGreaterThan(20);
  });
});
