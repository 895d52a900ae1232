// The cold-start changes of issue 14: numeric id factorisation on typed arrays (against the
// Map-based encoding it replaced), the design's FE codes reused as the sample's when no row
// is removed, one memory.grow to a model's plan, and the QR in place by default (against the
// QR on a copy). Property tests use fast-check with fixed seeds.
//
// Tolerances: codes, levels and counts exact; the in-place QR against the QR on a copy of X:
// coefficients 1e-12 relative, SEs 1e-10 relative (the same Householder steps; the rebuilt
// X = QR differs from X by rounding).
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { loadEngine } from "../bindings/node.js";
import { Frame, numericCodes, fmtLevel } from "../bindings/core/frame.js";
import { buildDesign } from "../bindings/core/design.js";
import { prepareSample, isFirstAppearance } from "../bindings/core/sample.js";
import { parseFormula } from "../bindings/core/formula.js";
import { feols } from "../bindings/estimators/feols.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { lowMobilityColumns } from "../bench/lowmob.js";

const COEF_REL = 1e-12;
const SE_REL = 1e-10;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** The encoding numericCodes replaced: a Map in first-appearance order. */
function mapCodes(v: Float64Array): { codes: Int32Array; values: number[] } {
  const map = new Map<number, number>();
  const codes = new Int32Array(v.length);
  const values: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) {
      codes[i] = -1;
      continue;
    }
    let c = map.get(x);
    if (c === undefined) {
      c = values.length;
      map.set(x, c);
      values.push(x);
    }
    codes[i] = c;
  }
  return { codes, values };
}

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

describe("numeric id factorisation", () => {
  it("equals the Map encoding on ids, runs, decimals, zeros of both signs, NaN and infinities", () => {
    const special = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 2 ** 53, -(2 ** 53), 1e-300, 5e-324];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constantFrom(...special), fc.double()), { maxLength: 3000 }),
        (xs) => {
          const v = Float64Array.from(xs);
          const got = numericCodes(v);
          const want = mapCodes(v);
          expect(got.codes).toEqual(want.codes);
          // a Map keeps 0 for -0 only when 0 came first: compare as a Map does (SameValueZero)
          expect(Array.from(got.values, (x) => (x === 0 ? 0 : x))).toEqual(want.values.map((x) => (x === 0 ? 0 : x)));
        },
      ),
      { seed: 14, numRuns: 200 },
    );
  });

  it("integer ids (the direct-table path) equal the Map encoding, in narrow and wide ranges", () => {
    const special = [0, -0, NaN, Infinity, -Infinity];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -40, max: 40 }), fc.constantFrom(...special), fc.integer({ min: -(2 ** 31), max: 2 ** 31 })), { maxLength: 3000 }),
        fc.integer({ min: 0, max: 2 }),
        (xs, shift) => {
          // shift 2: ids near 2^52, beyond the table's range unless all equal
          const v = Float64Array.from(xs, (x) => (shift === 0 ? x : shift === 1 ? x * 3 + 2011 : x + 2 ** 52));
          const got = numericCodes(v);
          const want = mapCodes(v);
          expect(got.codes).toEqual(want.codes);
          expect(Array.from(got.values, (x) => (x === 0 ? 0 : x))).toEqual(want.values.map((x) => (x === 0 ? 0 : x)));
        },
      ),
      { seed: 19, numRuns: 300 },
    );
  });

  it("grows its table past many distinct values (25,000 ids, 50,000 rows)", () => {
    const v = Float64Array.from({ length: 50_000 }, (_, i) => ((i * 7919) % 25_000) * 1.5 - 3);
    const got = numericCodes(v);
    const want = mapCodes(v);
    expect(got.values.length).toBe(25_000);
    let differ = 0;
    for (let i = 0; i < v.length; i++) if (got.codes[i] !== want.codes[i]) differ++;
    expect(differ).toBe(0);
  });

  it("Frame.codes makes the level labels on first use, as fmtLevel does", () => {
    const f = Frame.fromColumns({ id: Float64Array.from([3, 1.5, 3, -2, NaN]) });
    const c = f.codes("id");
    expect(Array.from(c.codes)).toEqual([0, 1, 0, 2, -1]);
    expect(Array.from(c.values!)).toEqual([3, 1.5, -2]);
    expect(c.levels).toEqual([3, 1.5, -2].map(fmtLevel));
    expect(c.levels).toBe(c.levels); // made once
  });
});

describe("sample: FE codes reused when no row is removed", () => {
  it("isFirstAppearance accepts only dense first-appearance codes", () => {
    expect(isFirstAppearance(Int32Array.from([0, 1, 0, 2, 1]), 3)).toBe(true);
    expect(isFirstAppearance(Int32Array.from([1, 0]), 2)).toBe(false);
    expect(isFirstAppearance(Int32Array.from([0, 2, 1]), 3)).toBe(false);
    expect(isFirstAppearance(Int32Array.from([0, 0]), 2)).toBe(false); // level 1 unused
    expect(isFirstAppearance(Int32Array.from([0, -1]), 1)).toBe(false);
  });

  it("shares the design's codes with every row kept, recodes densely when rows go", () => {
    const cols = lowMobilityColumns({ rows: 2000, seed: 3 });
    const f = parseFormula("y ~ x | worker + firm + year");
    const full = Frame.fromColumns(cols);
    const d = buildDesign(full, f);
    const s = prepareSample(d, "none");
    expect(s.n).toBe(d.n);
    s.fe.forEach((fe, q) => expect(fe.codes).toBe(d.fe[q].codes));
    // a missing outcome in the first row: the worker of row 0 keeps 9 rows, codes stay dense
    const y = cols.y.slice();
    y[0] = NaN;
    const d2 = buildDesign(Frame.fromColumns({ ...cols, y }), f);
    const s2 = prepareSample(d2, "none");
    expect(s2.n).toBe(d.n - 1);
    s2.fe.forEach((fe) => expect(isFirstAppearance(fe.codes, fe.levels)).toBe(true));
  });
});

describe("WASM memory and the QR", () => {
  it("reserve grows memory once to the plan; the allocations then do not grow it", () => {
    const before = eng.memoryBytes;
    const bytes = before + 32 * 1024 * 1024;
    eng.scoped(() => {
      eng.reserve(bytes);
      const grown = eng.memoryBytes;
      expect(grown).toBeGreaterThanOrEqual(eng.usedBytes + bytes);
      eng.alloc(bytes - 1024);
      expect(eng.memoryBytes).toBe(grown);
    });
  });

  it("the default in-place QR equals the QR on a copy (lowMemory: false), weighted and clustered", () => {
    const frame = Frame.fromColumns(lowMobilityColumns({ rows: 6000, seed: 5 }));
    for (const opts of [{ weights: "w", vcov: "cluster:firm" }, { vcov: "hetero" }]) {
      const a = feols(eng, frame, "y ~ x + w | worker + year", opts);
      const b = feols(eng, frame, "y ~ x + w | worker + year", { ...opts, lowMemory: false });
      expect(a.coefNames).toEqual(b.coefNames);
      for (const k of a.coefNames) {
        expect(rel(a.coef[k], b.coef[k])).toBeLessThan(COEF_REL);
        expect(rel(a.se[k], b.se[k])).toBeLessThan(SE_REL);
      }
    }
  });
});
