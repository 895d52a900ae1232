// The CSV kernel's number conversion (assembly/csv.ts: Eisel-Lemire for 16-19 significant
// digits, the double-double reading behind it, the exact path for <= 15) against Number(), at
// the kernel level: fixed-seed texts of every kind the kernel meets, written as a one-column
// CSV and parsed by csvParse in one pass. Each value is Number(text) bit for bit (Object.is),
// or an exception record (the binding then asks Number() itself); nothing else. The kinds:
// random bit patterns of magnitude 1e-22..1e22 (String(x)), shortest strings of values of
// every magnitude 1e-25..1e25 (and of 1e-7..1e15), random 16-19 digit strings with a point anywhere (leading zeros
// included), the exact midpoints between neighbouring doubles cut to 17-19 digits (and one
// unit of the last digit either side, and exactly, when it has <= 19 digits: ties to even),
// 2^53 + 1 style integers with a point, exponent forms of all of them. The exceptions are
// counted per kind and printed. By design they are: integers of 16+ digits without a point
// (csv.ts's 2^53 check), more than 19 significant digits, a decimal exponent outside the
// table's [-40, 40] (beyond 10^+-22 for <= 15 digits), and the texts neither Eisel-Lemire nor
// the double-double reading decides (ties, exact binary values). Among texts built to avoid all
// but the last (shortest strings of 1e-7..1e15, random digits with a point inside or leading
// zeros) they must be fewer than 1 in 1000.
//
// Tolerances: none (bits).
import { describe, expect, it, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { CSV_CTX, CSV_CTX_BYTES, CSV_STOP } from "../bindings/engine/context.js";
import { SplitMix64 } from "../bindings/base/rng.js";

const RARE = 1e-3; // exceptions per decidable text, at most

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

const F = new Float64Array(1);
const U = new Uint32Array(F.buffer); // little-endian: U[0] low word

/** A fixed-seed source of uint32 words and uniforms. */
function source(seed: number) {
  const g = new SplitMix64(0x2545f491, seed);
  return {
    words: () => g.next(),
    uniform: () => {
      const [hi, lo] = g.next();
      return ((hi >>> 5) * 67108864 + (lo >>> 6)) / 9007199254740992;
    },
    int: (n: number) => Math.floor(((g.next()[0] >>> 0) / 4294967296) * n),
  };
}

/** The double of bits (hi, lo). */
function fromBits(hi: number, lo: number): number {
  U[0] = lo >>> 0;
  U[1] = hi >>> 0;
  return F[0];
}

/** Exact decimal digits and exponent of a positive finite double's midpoint with its next one up: value = D 10^E. */
function midpoint(x: number): { d: string; e: number } {
  F[0] = x;
  const bits = (BigInt(U[1]) << 32n) | BigInt(U[0]);
  const be = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = be === 0 ? frac : frac | (1n << 52n);
  const e2 = (be === 0 ? -1074 : be - 1075) - 1; // midpoint = (2m + 1) 2^e2
  const n = 2n * m + 1n;
  if (e2 >= 0) return { d: (n << BigInt(e2)).toString(), e: 0 };
  return { d: (n * 5n ** BigInt(-e2)).toString(), e: e2 }; // n 2^e2 = n 5^-e2 10^e2
}

/** Digits D (no leading zero) times 10^E as text with a point and no exponent, or with an exponent when `exp`. */
function place(d: string, e: number, exp: boolean): string {
  if (exp) return `${d[0]}.${d.slice(1) || "0"}e${e + d.length - 1}`;
  if (e >= 0) return `${d}${"0".repeat(e)}.0`;
  const k = d.length + e; // digits before the point
  return k > 0 ? `${d.slice(0, k)}.${d.slice(k)}` : `0.${"0".repeat(-k)}${d}`;
}

/** d + delta in the last digit (d a digit string, no sign); keeps the length when it can. */
function bump(d: string, delta: number): string {
  return (BigInt(d) + BigInt(delta)).toString();
}

function kinds(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (k: string, t: string) => {
    const a = out.get(k) ?? [];
    a.push(t);
    out.set(k, a);
  };
  // random bit patterns, magnitudes the table covers
  {
    const r = source(14);
    while ((out.get("bits")?.length ?? 0) < 40000) {
      const [hi, lo] = r.words();
      const x = fromBits(hi, lo);
      if (!Number.isFinite(x) || x === 0 || Math.abs(x) < 1e-22 || Math.abs(x) > 1e22) continue;
      add("bits", String(x));
    }
  }
  // shortest strings of every magnitude
  {
    const r = source(15);
    for (let i = 0; i < 50000; i++) {
      const x = (r.uniform() * 2 - 1) * 10 ** (r.int(23) - 7); // String(x) with a point, or e-7..e-9
      add("shortest", String(x));
      const y = (r.uniform() * 2 - 1) * 10 ** (r.int(51) - 25);
      add("shortest-wide", String(y));
      if (i % 4 === 0) add("shortest-exp", y.toExponential());
    }
  }
  // random 16-19 digit strings with a point
  {
    const r = source(16);
    for (let i = 0; i < 50000; i++) {
      const nd = 16 + r.int(4);
      let d = String(1 + r.int(9));
      for (let k = 1; k < nd; k++) d += String(r.int(10));
      const e = -1 - r.int(nd + 21); // a point in the digits or up to 22 leading zeros after it
      const neg = r.int(2) === 1 ? "-" : "";
      add("digits", neg + place(d, e, false));
      if (i % 5 === 0) add("digits-exp", neg + place(d, e - r.int(20) + 10, true));
    }
  }
  // midpoints between neighbouring doubles, cut to 17-19 digits, +-1, and exact when short
  {
    const r = source(17);
    for (let i = 0; i < 12000; i++) {
      const x = (0.5 + r.uniform()) * 10 ** (r.int(41) - 20);
      const { d, e } = midpoint(x);
      const t = d.replace(/0+$/, ""), te = e + (d.length - t.length);
      if (t.length <= 19) {
        add("midpoint-exact", place(t, te, false));
        add("midpoint-exact", place(t, te, true));
      }
      for (const nd of [17, 18, 19]) {
        if (t.length <= nd) continue;
        const c = t.slice(0, nd), ce = te + (t.length - nd);
        for (const delta of [0, 1, -1]) add("midpoint-cut", place(bump(c, delta), ce, r.int(2) === 1));
      }
    }
    // 2^53 + 1 and its kind: exact halfway integers, written with a point
    for (let k = 53; k <= 63; k++) {
      const h = (1n << BigInt(k)) + (1n << BigInt(k - 53));
      for (const delta of [0n, 1n, -1n]) add("midpoint-exact", `${(h + delta).toString()}.0`);
    }
  }
  return out;
}

interface Outcome { same: number; exceptions: number; differ: string[] }

/** csvParse over the texts as a one-column CSV in one pass; each value against Number(text). */
function check(texts: string[]): Outcome {
  const body = new TextEncoder().encode(texts.join("\n") + "\n");
  const n = texts.length;
  const m = eng.mark();
  const buf = eng.alloc(body.length + 16), exc = eng.alloc(n * 16), ctx = eng.alloc(CSV_CTX_BYTES), slots = eng.alloc(4), out = eng.allocF64(n);
  eng.u8(buf, body.length).set(body);
  const c = eng.i32(ctx, CSV_CTX_BYTES / 4);
  c.fill(0);
  c[CSV_CTX.ncol / 4] = 1, c[CSV_CTX.delim / 4] = 44, c[CSV_CTX.rowCap / 4] = n, c[CSV_CTX.excCap / 4] = n, c[CSV_CTX.slots / 4] = slots;
  eng.i32(slots, 1)[0] = out;
  expect(eng.kernels.csvParse(exc, ctx, buf, body.length)).toBe(0);
  const cc = eng.i32(ctx, CSV_CTX_BYTES / 4);
  expect(cc[CSV_CTX.stop / 4]).toBe(CSV_STOP.input);
  expect(cc[CSV_CTX.rows / 4]).toBe(n);
  const ne = cc[CSV_CTX.exc / 4];
  const isExc = new Uint8Array(n);
  const e = eng.i32(exc, ne * 4);
  for (let k = 0; k < ne; k++) isExc[e[4 * k]] = 1;
  const v = eng.f64(out, n);
  const res: Outcome = { same: 0, exceptions: ne, differ: [] };
  for (let i = 0; i < n; i++) {
    if (isExc[i]) continue;
    if (Object.is(v[i], Number(texts[i]))) res.same++;
    else res.differ.push(`${texts[i]}: kernel ${v[i]}, Number() ${Number(texts[i])}`);
  }
  eng.release(m);
  return res;
}

describe("csvParse numbers against Number(), fixed seeds", () => {
  const all = kinds();
  const counts: Record<string, { texts: number; exceptions: number }> = {};
  for (const [kind, texts] of all) {
    it(`${kind}: every value Number()'s bits or an exception (${texts.length} texts)`, () => {
      const r = check(texts);
      counts[kind] = { texts: texts.length, exceptions: r.exceptions };
      expect(r.differ.slice(0, 5)).toEqual([]);
      expect(r.same + r.exceptions).toBe(texts.length);
      console.log(`csv-eisel-lemire ${kind}: ${texts.length} texts, ${r.exceptions} exceptions`);
      if (kind === "shortest" || kind === "digits") expect(r.exceptions).toBeLessThan(RARE * texts.length);
    });
  }
  it("the kinds together hold over 200k texts", () => {
    let total = 0;
    for (const t of all.values()) total += t.length;
    expect(total).toBeGreaterThan(200000);
  });
});
