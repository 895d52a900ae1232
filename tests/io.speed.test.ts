// CSV at scale. What this file checks: a generated 1,000,000-row numeric CSV (6 columns: two
// integer ids, four decimals in fixed and precision notation; about 42 MB) streams through
// createCsvReader in 8 MiB chunks with every row, type and spot-checked value exact; 100k rows
// of full-precision doubles (16-17 digits) read back to the bit. The
// speed is printed but not asserted (house rule: speed is measured in bench/:
// `node --import tsx bench/csv.bench.ts`).

import { describe, expect, it } from "vitest";
import { createCsvReader } from "../bindings/io/csv.js";

function generate(rows: number): { bytes: Uint8Array; y: Float64Array } {
  const parts: string[] = ["id,year,y,x1,x2,fe\n"];
  const y = new Float64Array(rows);
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < rows; i++) {
    const yi = (rnd() * 100 - 50).toFixed(6);
    y[i] = Number(yi);
    parts.push(`${i % 5000},${2000 + (i % 20)},${yi},${(rnd() * 10).toFixed(4)},${(rnd() - 0.5).toPrecision(8)},${Math.floor(rnd() * 300)}\n`);
  }
  return { bytes: new TextEncoder().encode(parts.join("")), y };
}

describe("CSV speed", () => {
  it("parses a 1M-row numeric CSV exactly (speed printed)", () => {
    const { bytes, y } = generate(1_000_000);
    const CHUNK = 8 << 20;
    let best = 0;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const r = createCsvReader();
      for (let o = 0; o < bytes.length; o += CHUNK) r.push(bytes.subarray(o, Math.min(bytes.length, o + CHUNK)));
      const { table, report } = r.finish();
      const secs = (performance.now() - t0) / 1000;
      const mbs = bytes.length / 1e6 / secs;
      best = Math.max(best, mbs);
      expect(table.numRows).toBe(1_000_000);
      expect(report.columns.every((c) => c.type === "float64" && c.missing === 0)).toBe(true);
      const col = table.getChild("y")!;
      for (const i of [0, 1, 777_777, 999_999]) expect(col.get(i)).toBe(y[i]);
    }
    console.log(`CSV parse: ${(bytes.length / 1e6).toFixed(1)} MB, best of 3: ${best.toFixed(1)} MB/s`);
  });

  it("full-precision doubles (16-17 digits, the exact double-double path): all 300,000 values exact", () => {
    const rows = 100_000;
    let seed = 777;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const cols = [new Float64Array(rows), new Float64Array(rows), new Float64Array(rows)];
    const parts: string[] = ["a,b,c\n"];
    for (let i = 0; i < rows; i++) {
      cols[0][i] = rnd() * 100 - 50;
      cols[1][i] = (rnd() - 0.5) * 1e-3;
      cols[2][i] = rnd() * 1e6;
      parts.push(`${cols[0][i]},${cols[1][i]},${cols[2][i]}\n`);
    }
    const reader = createCsvReader();
    reader.push(new TextEncoder().encode(parts.join("")));
    const { table, report } = reader.finish();
    expect(report.columns.map((c) => c.type)).toEqual(["float64", "float64", "float64"]);
    ["a", "b", "c"].forEach((name, j) => {
      const v = table.getChild(name)!.toArray() as Float64Array;
      let bad = 0;
      for (let i = 0; i < rows; i++) if (!Object.is(v[i], cols[j][i])) bad++;
      expect(bad, name).toBe(0);
    });
  });
});
