// Sample preparation: apply the validity mask, remove fixed-effect singletons
// (iteratively, as reghdfe and pyfixest do), and re-encode FE codes densely on the rows kept.
import type { Design } from "./design.js";
import type { FeType } from "../engine/kernels.js";
import { SampleError } from "../base/errors.js";

export type FixefRm = "singleton" | "none";

export interface SampleFe {
  name: string;
  codes: Int32Array;
  levels: number;
  type: FeType;
  slope?: { name: string; values: Float64Array };
}

export interface Removed {
  /** rows with a missing or non-finite value in a used column */
  na: number;
  naByColumn: Record<string, number>;
  /** rows dropped because they were alone in a fixed-effect level */
  singletons: number;
  /** FE levels removed as singletons, per FE */
  singletonLevels: Record<string, number>;
  zeroWeight: number;
}

export interface Sample {
  /** original row index of each observation kept */
  rows: Int32Array;
  n: number;
  fe: SampleFe[];
  removed: Removed;
}

export function prepareSample(d: Design, fixefRm: FixefRm = "singleton"): Sample {
  const keep = d.valid.slice();
  let na = 0;
  for (const v of Object.values(d.naByColumn)) na += v;
  const singletonLevels: Record<string, number> = {};
  let singletons = 0;
  if (fixefRm === "singleton" && d.fe.length > 0) {
    const dims = d.fe.filter((f) => f.type !== 1);
    const counts = dims.map((f) => new Int32Array(f.levels));
    for (const f of dims) singletonLevels[f.name] = 0;
    for (;;) {
      counts.forEach((c) => c.fill(0));
      for (let i = 0; i < d.n; i++) {
        if (!keep[i]) continue;
        for (let q = 0; q < dims.length; q++) counts[q][dims[q].codes[i]]++;
      }
      let dropped = 0;
      for (let q = 0; q < dims.length; q++) {
        const c = counts[q];
        const codes = dims[q].codes;
        for (let i = 0; i < d.n; i++) {
          if (keep[i] && c[codes[i]] === 1) {
            keep[i] = 0;
            c[codes[i]] = 0;
            singletonLevels[dims[q].name]++;
            dropped++;
          }
        }
      }
      singletons += dropped;
      if (!dropped) break;
    }
  }
  let n = 0;
  for (let i = 0; i < d.n; i++) n += keep[i];
  if (n === 0) {
    // name the columns responsible (each row is counted under the first column found missing)
    const byCol = Object.entries(d.naByColumn).sort((a, b) => b[1] - a[1]);
    const cols = byCol.map(([c, m]) => `${m} in "${c}"${m === d.n ? ", every row" : ""}`).join("; ");
    throw new SampleError(
      `no observations left: ${na} removed for missing values${na ? ` (${cols})` : ""}` +
        (d.zeroWeight ? `, ${d.zeroWeight} for zero weights` : "") +
        (singletons ? `, ${singletons} as FE singletons` : ""),
      { naByColumn: d.naByColumn, singletons, zeroWeight: d.zeroWeight },
      byCol.length ? `check ${byCol.map(([c]) => `"${c}"`).join(", ")} for missing or non-finite values` : "check the data",
    );
  }
  const rows = new Int32Array(n);
  for (let i = 0, j = 0; i < d.n; i++) if (keep[i]) rows[j++] = i;
  // every row kept (rows is then 0..n-1) and codes already dense in first-appearance order:
  // the design's arrays are the sample's (no n-length copies)
  const all = n === d.n;
  const fe: SampleFe[] = d.fe.map((f) => {
    const { codes, levels } = all && isFirstAppearance(f.codes, f.levels) ? { codes: f.codes, levels: f.levels } : recode(f.codes, rows, f.levels);
    const out: SampleFe = { name: f.name, codes, levels, type: f.type };
    if (f.slope) out.slope = { name: f.slope.name, values: all ? f.slope.values : gather(f.slope.values, rows) };
    return out;
  });
  return {
    rows,
    n,
    fe,
    removed: { na, naByColumn: { ...d.naByColumn }, singletons, singletonLevels, zeroWeight: d.zeroWeight },
  };
}

/** Whether codes use every one of 0..nLevels-1, each first appearing after the ones below it. */
export function isFirstAppearance(codes: Int32Array, nLevels: number): boolean {
  let next = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === next) next++;
    else if (c > next || c < 0) return false;
  }
  return next === nLevels;
}

/** Dense codes on the subset `rows`, in order of first appearance. */
export function recode(codes: Int32Array, rows: Int32Array, nLevels: number): { codes: Int32Array; levels: number; map: Int32Array } {
  const map = new Int32Array(nLevels).fill(-1);
  const out = new Int32Array(rows.length);
  let next = 0;
  for (let j = 0; j < rows.length; j++) {
    const c = codes[rows[j]];
    let m = map[c];
    if (m < 0) m = map[c] = next++;
    out[j] = m;
  }
  return { codes: out, levels: next, map };
}

export function gather(v: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let j = 0; j < rows.length; j++) out[j] = v[rows[j]];
  return out;
}
