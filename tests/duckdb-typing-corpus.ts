// The typing corpus of tests/duckdb-typing.test.ts: small CSVs whose id / number columns are
// spelled in ways that CSV readers type differently (leading zeros, '01' beside '1', ids beyond
// 2^53, '1.0' beside '1', NA spellings, whitespace, quoted numbers, scientific notation, '+1',
// hex, inf / nan, thousands separators, booleans). Each file has an outcome y, a regressor x and
// an id column g used as the fixed effect; the rows are drawn from a fixed seed.
import { Rng } from "../bindings/base/rng.js";

export interface TypingCase {
  name: string;
  /** the spelling of id k (0-based) in row i */
  id: (k: number, i: number) => string;
  /** the spelling of the regressor's value v in row i (default String(v)) */
  x?: (v: number, i: number) => string;
  /** CSV delimiter (default ",") */
  delim?: string;
}

const pad = (k: number, w: number) => String(k + 1).padStart(w, "0");

export const TYPING_CASES: TypingCase[] = [
  { name: "leading zeros", id: (k) => pad(k, 4) },
  { name: "'01' beside '1'", id: (k, i) => (i % 2 ? pad(k, 2) : String(k + 1)) },
  { name: "ids beyond 2^53", id: (k) => String(123456789012345000n + BigInt(k)) },
  { name: "ids beyond 2^53 with '0' padding", id: (k, i) => (i % 3 ? "" : "0") + String(123456789012345000n + BigInt(k)) },
  { name: "'1.0' beside '1'", id: (k, i) => (i % 2 ? `${k + 1}.0` : String(k + 1)) },
  { name: "'1e1' beside '10'", id: (k, i) => (i % 2 ? `${k + 1}e1` : `${(k + 1) * 10}`) },
  { name: "'+1' beside '1'", id: (k, i) => (i % 2 ? `+${k + 1}` : String(k + 1)) },
  { name: "' 1 ' beside '1'", id: (k, i) => (i % 2 ? ` ${k + 1} ` : String(k + 1)) },
  { name: "quoted ids", id: (k, i) => (i % 2 ? `"${pad(k, 3)}"` : String(k + 1)) },
  { name: "'01' beside '1', ' NA ' among them", id: (k, i) => (i % 17 === 0 ? " NA " : i % 2 ? pad(k, 2) : String(k + 1)) },
  { name: "'-07' beside '-7'", id: (k, i) => (i % 2 ? `-${pad(k, 2)}` : `-${k + 1}`) },
  { name: "quoted '1,001' beside '1001'", id: (k, i) => (i % 2 ? `"1,${pad(k, 3)}"` : `1${pad(k, 3)}`) },
  { name: "hex ids", id: (k) => `0x${(k + 1).toString(16)}` },
  { name: "text ids with some numbers", id: (k, i) => (k % 3 ? `f${k}` : i % 2 ? pad(k, 2) : String(k + 1)) },
  { name: "numeric ids with one text value", id: (k, i) => (i === 7 ? "abc" : String(k + 1)) },
  { name: "booleans as ids", id: (k) => (k % 2 ? "true" : "false") },
  { name: "NA spellings in x", id: (k) => String(k + 1), x: (v, i) => (i % 11 === 0 ? ["NA", "N/A", "--", ".", "null", "NULL", "NaN", " NA ", ""][i % 9] : String(v)) },
  { name: "'nan' in x", id: (k) => String(k + 1), x: (v, i) => (i === 5 ? "nan" : String(v)) },
  { name: "'inf' in x", id: (k) => String(k + 1), x: (v, i) => (i === 5 ? "inf" : i === 9 ? "-Infinity" : String(v)) },
  { name: "whitespace in x", id: (k) => String(k + 1), x: (v, i) => (i % 4 === 0 ? ` ${v}\t` : String(v)) },
  { name: "quoted thousands in x", id: (k) => String(k + 1), x: (v, i) => (i % 5 === 0 ? `"1,${String(100 + (i % 900)).padStart(3, "0")}"` : String(v)) },
  { name: "thousands in x, tab-delimited", id: (k) => String(k + 1), x: (v, i) => (i % 5 === 0 ? `1,${String(100 + (i % 900)).padStart(3, "0")}` : String(v)), delim: "\t" },
  { name: "scientific x", id: (k) => String(k + 1), x: (v) => v.toExponential(12) },
  { name: "leading zeros in x", id: (k) => String(k + 1), x: (v, i) => (i % 3 === 0 ? `${v < 0 ? "-" : ""}00${Math.abs(Math.round(v * 100))}` : String(Math.round(v * 100))) },
  { name: "booleans as x", id: (k) => String(k + 1), x: (v) => (v > 0 ? "true" : "false") },
];

/** The CSV text of a case: `rows` rows over `ids` ids, seeded. */
export function typingCsv(c: TypingCase, seed: number, rows = 240, ids = 30): string {
  const r = new Rng(seed);
  const d = c.delim ?? ",";
  const fe = Array.from({ length: ids }, () => r.normal());
  const lines = [["g", "x", "y"].join(d)];
  for (let i = 0; i < rows; i++) {
    const k = i % ids;
    const x = Math.round((r.normal() + 0.5 * fe[k]) * 1e6) / 1e6;
    const y = 1 + 0.7 * x + fe[k] + r.normal();
    lines.push([c.id(k, i), c.x ? c.x(x, i) : String(x), String(y)].join(d));
  }
  return lines.join("\n") + "\n";
}
