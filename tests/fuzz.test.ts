// Fuzz: thousands of random and mutated formulas, options and data sets run through the
// whole pipeline (parser, design, sample preparation, WASM kernels, vcov): every input
// ends in a fit with finite or NaN-free coefficients, or in a named HdfeError; never
// another exception, a hang, or a WASM trap. The engine must stay usable afterwards.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { loadEngine } from "../bindings/node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols } from "../bindings/estimators/feols.js";
import { HdfeError } from "../bindings/base/errors.js";
import type { Engine } from "../bindings/engine/wasm.js";

let eng: Engine;
let frame: Frame;
beforeAll(async () => {
  eng = await loadEngine();
  let s = 3;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const n = 120;
  const col = (f: () => number) => Float64Array.from({ length: n }, f);
  frame = Frame.fromColumns({
    y: col(() => r()),
    x: col(() => r() - 0.5),
    z: col(() => (r() < 0.1 ? NaN : r() * 1e6)),
    c: col(() => 5),
    g: col(() => Math.floor(r() * 8)),
    h: col(() => Math.floor(r() * 3)),
    w: col(() => (r() < 0.05 ? 0 : r() * 2)),
    one: col(() => 1),
    s: Array.from({ length: n }, () => (r() < 0.5 ? "a" : "b")),
    big: col(() => (r() - 0.5) * 1e12),
    tiny: col(() => (r() - 0.5) * 1e-12),
  });
});

const cols = ["y", "x", "z", "c", "g", "h", "w", "one", "s", "big", "tiny", "nope"];
const piece = fc.oneof(
  fc.constantFrom(...cols),
  fc.constantFrom("i(g)", "i(h, x)", "i(g, ref = 2)", "x:z", "x*g", "0", "1", "-1", "i(s)", "sunab(g, h)", "log(x)"),
  fc.string({ maxLength: 4 }),
);
const formula = fc
  .tuple(fc.constantFrom("y", "z", "c", "s", "x"), fc.array(piece, { minLength: 0, maxLength: 5 }), fc.array(fc.constantFrom("g", "h", "one", "g^h", "h[x]", "g[[x]]", "s", "z"), { maxLength: 3 }), fc.constantFrom(" + ", " +", "+", " : ", " | "))
  .map(([lhs, rhs, fe, sep]) => `${lhs} ~ ${rhs.join(sep) || "1"}${fe.length ? " | " + fe.join(" + ") : ""}`);
const mutate = fc.tuple(formula, fc.nat(40), fc.constantFrom("", "(", ")", "|", "~", "[", "^", ",", "=", '"', "1e309")).map(([f, i, ch]) => f.slice(0, i) + ch + f.slice(i));
const options = fc.record({
  vcov: fc.constantFrom(undefined, "iid", "hetero", "cluster:g", "cluster:g+h", "cluster:one", "cluster:nope", "bogus"),
  ssc: fc.constantFrom(undefined, "fixest", "full", "none", "stata"),
  weights: fc.constantFrom(undefined, "w", "x"),
  fixefRm: fc.constantFrom("singleton" as const, "none" as const),
});

describe("pipeline fuzz", () => {
  it("every random or mutated formula ends in a fit or a named error", () => {
    let fits = 0, errors = 0;
    fc.assert(
      fc.property(fc.oneof(formula, mutate), options, (f, o) => {
        try {
          const fit = feols(eng, frame, f, o);
          fits++;
          for (const v of fit.coefVector) expect(Number.isFinite(v)).toBe(true);
          expect(fit.nobs).toBeGreaterThan(0);
        } catch (e) {
          if (!(e instanceof HdfeError)) throw e;
          errors++;
          expect(e.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000, seed: 20251128 },
    );
    // both outcomes occur, so the fuzzer exercises estimation as well as validation
    expect(fits).toBeGreaterThan(50);
    expect(errors).toBeGreaterThan(50);
    // the engine is still usable and its arena was fully released
    expect(eng.usedBytes).toBe(0);
    expect(feols(eng, frame, "y ~ x | g").nobs).toBeGreaterThan(0);
  });
});
