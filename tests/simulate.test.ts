// Tests of bindings/base/rng.ts and bindings/sim/simulate.ts.
//
// Tolerances (all checked on the default panel, seed 20250101, 1,900 firms):
//   rows                      14,300 .. 15,300 (Table 2: N = 14,791); firms exactly 1,900; years 2011..2020
//   Zone mean                 0.834 +- 0.030 (Table 2)
//   Post mean                 0.297 +- 0.030 (Table 2)
//   heavy tails               sd > 5 * mean for FC and PE; kurtosis > 20 for FC, PE and Quick
//   missing                   0.1% .. 0.6% of rows with NaN in Quick or PE, no NaN anywhere else (but adopt)
//   other means               within +-25% of Table 2 (Export, Digitalisation, Agg, Fin, Eco, Top1, Liability, Q)
//   Agg                       equals eq. (2) recomputed from nlisted and area to 1e-12 (relative)
//   planted ATT               truth.fc.att within 0.25 +- 0.03; two-way within estimate b of
//                             FC ~ did + controls | firm + year: |b - 0.25| < 0.08 and
//                             |b - truth.fc.att| < 1.96 * firm-clustered se
//   heterogeneity             planted and estimated effect east > central and east > west
//   policies                  innovative-city coefficient within 0.15 +- 0.08, smart-city within 0 +- 0.08
//   mechanisms                Export DiD within 0.16 +- 0.05; Digitalisation and Agg DiD > 0
//   time                      best of 3 runs of simulatePanel() after one warm-up < 200 ms
import { describe, it, expect, beforeAll } from "vitest";
import { Rng, SplitMix64, dlog, dexp, dpow } from "../bindings/base/rng.js";
import {
  simulatePanel,
  simulateChunks,
  simulateCities,
  panelToCsv,
  csvHeader,
  csvRows,
  citiesToCsv,
  formatNumber,
  SIM_COLUMNS,
  SIM_STRING_COLUMNS,
  type SimPanel,
  type SimColumns,
} from "../bindings/sim/simulate.js";

const TABLE2 = {
  N: 14791, FC: 0.227, Export: 0.681, Digitalisation: 5.867, Agg: 2.3, Zone: 0.834, Post: 0.297,
  Fin: 3.797, Eco: 2.411, Top1: 34.83, Quick: 1.773, Liability: 0.452, Q: 1.936, PE: 107.4,
};
const ROWS_MIN = 14300;
const ROWS_MAX = 15300;
const SHARE_TOL = 0.03;
const MEAN_REL_TOL = 0.25;
const ATT_TARGET = 0.25;
const ATT_BAND = 0.08;
const TIME_BUDGET_MS = 200;

// The header of shared/reference/cbec_panel.csv: the panel must start with these columns, in order.
const REFERENCE_COLUMNS = [
  "firm", "year", "city", "province", "region", "tier", "adopt", "adopt_sa", "zone", "post", "did", "rel",
  "smart_post", "innov_post", "export_type", "hightech", "polluting", "FC", "Export", "Digitalisation", "Agg",
  "SA", "Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE", "Size", "Age",
];
const CONTROLS = ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"];

async function sha256(text: string): Promise<string> {
  const buf = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

function num(cols: SimColumns, name: string): Float64Array {
  return cols[name] as Float64Array;
}

function moments(a: Float64Array): { mean: number; sd: number; kurt: number; n: number } {
  let n = 0;
  let s = 0;
  for (const x of a) if (x === x) (s += x), n++;
  const mean = s / n;
  let m2 = 0;
  let m4 = 0;
  for (const x of a) {
    if (x !== x) continue;
    const d = x - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  const sd = Math.sqrt(m2 / (n - 1));
  return { mean, sd, kurt: m4 / n / (m2 / n) ** 2, n };
}

// ---------------------------------------------------------------------------
// A plain two-way within estimator (test-only): alternating demeaning by firm and year
// to convergence, then OLS of the demeaned outcome on the demeaned regressors, with a
// firm-clustered (CR1) standard error.

function solve(A: number[][], b: number[]): number[] {
  const n = A.length;
  const M = A.map((r, i) => [...r, b[i]]);
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let r = i + 1; r < n; r++) if (Math.abs(M[r][i]) > Math.abs(M[p][i])) p = r;
    [M[i], M[p]] = [M[p], M[i]];
    for (let r = 0; r < n; r++) {
      if (r === i) continue;
      const f = M[r][i] / M[i][i];
      for (let j = i; j <= n; j++) M[r][j] -= f * M[i][j];
    }
  }
  return M.map((r, i) => r[n] / r[i]);
}

function inverse(A: number[][]): number[][] {
  const n = A.length;
  const cols = Array.from({ length: n }, (_, j) => solve(A, Array.from({ length: n }, (_, i) => (i === j ? 1 : 0))));
  return Array.from({ length: n }, (_, i) => cols.map((c) => c[i]));
}

function withinTwoWay(cols: SimColumns, y: string, xs: string[], keep: (i: number) => boolean) {
  const all = num(cols, "firm").length;
  const rows: number[] = [];
  for (let i = 0; i < all; i++) if (keep(i) && [y, ...xs].every((v) => num(cols, v)[i] === num(cols, v)[i])) rows.push(i);
  const n = rows.length;
  const groups = ["firm", "year"].map((f) => {
    const ids = new Map<number, number>();
    const g = new Int32Array(n);
    rows.forEach((i, r) => {
      const key = num(cols, f)[i];
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      g[r] = id;
    });
    return { g, ng: ids.size };
  });
  const vars = [y, ...xs].map((v) => Float64Array.from(rows, (i) => num(cols, v)[i]));
  for (const v of vars) {
    for (let iter = 0; iter < 10000; iter++) {
      let maxMean = 0;
      for (const { g, ng } of groups) {
        const sum = new Float64Array(ng);
        const cnt = new Float64Array(ng);
        for (let r = 0; r < n; r++) (sum[g[r]] += v[r]), cnt[g[r]]++;
        for (let k = 0; k < ng; k++) {
          sum[k] /= cnt[k];
          maxMean = Math.max(maxMean, Math.abs(sum[k]));
        }
        for (let r = 0; r < n; r++) v[r] -= sum[g[r]];
      }
      if (maxMean < 1e-11) break;
    }
  }
  const [Y, ...X] = vars;
  const K = X.length;
  const XtX = X.map((a) => X.map((b) => a.reduce((s, v, r) => s + v * b[r], 0)));
  const XtY = X.map((a) => a.reduce((s, v, r) => s + v * Y[r], 0));
  const beta = solve(XtX, XtY);
  const bread = inverse(XtX);
  const score = new Map<number, number[]>();
  rows.forEach((i, r) => {
    let e = Y[r];
    for (let a = 0; a < K; a++) e -= beta[a] * X[a][r];
    const key = num(cols, "firm")[i];
    const s = score.get(key) ?? new Array(K).fill(0);
    for (let a = 0; a < K; a++) s[a] += X[a][r] * e;
    score.set(key, s);
  });
  const meat = Array.from({ length: K }, () => new Array(K).fill(0));
  for (const s of score.values()) for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) meat[a][b] += s[a] * s[b];
  const G = score.size;
  // V = bread * meat * bread, CR1 factor G/(G-1)
  const V = Array.from({ length: K }, () => new Array(K).fill(0));
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < K; b++) {
      let s = 0;
      for (let k = 0; k < K; k++) for (let l = 0; l < K; l++) s += bread[a][k] * meat[k][l] * bread[l][b];
      V[a][b] = (s * G) / (G - 1);
    }
  }
  return { beta, se: beta.map((_, a) => Math.sqrt(V[a][a])), n };
}

// ---------------------------------------------------------------------------

describe("rng", () => {
  it("splitmix64 matches a BigInt reference", () => {
    const M = (1n << 64n) - 1n;
    let state = 0x0123456789abcdefn;
    const sm = new SplitMix64(0x01234567, 0x89abcdef);
    for (let i = 0; i < 50; i++) {
      state = (state + 0x9e3779b97f4a7c15n) & M;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
      z = z ^ (z >> 31n);
      const [hi, lo] = sm.next();
      expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(z);
    }
    // the published first output for seed 0
    const [hi, lo] = new SplitMix64(0, 0).next();
    expect(hi.toString(16) + lo.toString(16).padStart(8, "0")).toBe("e220a8397b1dcdaf");
  });

  it("xoshiro128** matches the reference sequence for state (1, 2, 3, 4)", () => {
    const r = Rng.fromState([1, 2, 3, 4]);
    const got = Array.from({ length: 10 }, () => r.nextU32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
  });

  it("pins the first draws of a seed (cross-engine regression: these exact values in every engine)", () => {
    const r = new Rng(20250101);
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([1634291213, 3695380001, 495644649]);
    expect(r.uniform()).toBe(0.5170159151606103);
    expect(r.normal()).toBe(0.10877187408298268);
    expect(r.normal()).toBe(-1.6491208755642115);
    expect(r.fork(5).int(1000)).toBe(834);
    expect(dlog(10)).toBe(2.302585092994046);
    expect(dexp(1.5)).toBe(4.4816890703380645);
    expect(new Rng(20250102).nextU32()).not.toBe(1634291213);
  });

  it("uniform is in [0, 1) with mean 1/2; int(n) is unbiased", () => {
    const r = new Rng(1);
    let s = 0;
    for (let i = 0; i < 100000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 100000 - 0.5)).toBeLessThan(0.005);
    // chi-square on 6 cells, 60,000 draws: 99.9% point of chi2(5) is 20.5
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
    const chi2 = counts.reduce((acc, c) => acc + (c - 10000) ** 2 / 10000, 0);
    expect(chi2).toBeLessThan(20.5);
    // n = 3 * 2^30: a plain modulo of a 32-bit draw would put 1/2 of the mass on the lower third
    const n = 3 * 2 ** 30;
    let low = 0;
    for (let i = 0; i < 30000; i++) if (r.int(n) < 2 ** 30) low++;
    expect(Math.abs(low / 30000 - 1 / 3)).toBeLessThan(0.015);
    // n above 2^32
    const big = 2 ** 40 + 3;
    for (let i = 0; i < 1000; i++) {
      const x = r.int(big);
      expect(Number.isInteger(x) && x >= 0 && x < big).toBe(true);
    }
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(2.5)).toThrow(RangeError);
  });

  it("normal has mean 0, variance 1 and normal tails", () => {
    const r = new Rng(2);
    const N = 200000;
    let s = 0;
    let s2 = 0;
    let tail = 0;
    for (let i = 0; i < N; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      if (Math.abs(z) > 1.96) tail++;
    }
    expect(Math.abs(s / N)).toBeLessThan(0.01);
    expect(Math.abs(s2 / N - 1)).toBeLessThan(0.015);
    expect(Math.abs(tail / N - 0.05)).toBeLessThan(0.003);
  });

  it("fork gives independent, reproducible streams that ignore the parent's consumption", () => {
    const a = new Rng(7);
    const f1 = a.fork(3).uniform();
    for (let i = 0; i < 1000; i++) a.uniform();
    expect(a.fork(3).uniform()).toBe(f1);
    expect(new Rng(7).fork(4).uniform()).not.toBe(f1);
    expect(new Rng(8).fork(3).uniform()).not.toBe(f1);
    expect(new Rng(7).fork(3).fork(1).uniform()).not.toBe(new Rng(7).fork(1).fork(3).uniform());
    // streams are uncorrelated
    const x = new Rng(7).fork(10);
    const y = new Rng(7).fork(11);
    let sxy = 0;
    for (let i = 0; i < 50000; i++) sxy += (x.uniform() - 0.5) * (y.uniform() - 0.5);
    expect(Math.abs(sxy / 50000 / (1 / 12))).toBeLessThan(0.02);
  });

  it("shuffle is an in-place, seeded Fisher-Yates permutation", () => {
    const arr = Array.from({ length: 50 }, (_, i) => i);
    const out = new Rng(3).shuffle(arr);
    expect(out).toBe(arr);
    expect([...arr].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(arr).toEqual(new Rng(3).shuffle(Array.from({ length: 50 }, (_, i) => i)));
    expect(arr).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    // every position equally likely for element 0 (chi-square, 4 cells)
    const pos = new Array(4).fill(0);
    const r = new Rng(4);
    for (let i = 0; i < 20000; i++) pos[r.shuffle([0, 1, 2, 3]).indexOf(0)]++;
    expect(pos.reduce((acc, c) => acc + (c - 5000) ** 2 / 5000, 0)).toBeLessThan(16.3);
  });

  it("dlog / dexp / dpow agree with Math to 4e-16 relative", () => {
    const r = new Rng(5);
    for (let i = 0; i < 20000; i++) {
      const x = dexp(40 * (r.uniform() - 0.5));
      expect(Math.abs(dlog(x) - Math.log(x))).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(Math.log(x))));
      const y = 700 * (r.uniform() - 0.5);
      expect(Math.abs(dexp(y) / Math.exp(y) - 1)).toBeLessThan(4e-16 * Math.max(1, Math.abs(y)));
    }
    expect(dlog(1)).toBe(0);
    expect(dexp(0)).toBe(1);
    expect(dlog(0)).toBe(-Infinity);
    expect(Number.isNaN(dlog(-1))).toBe(true);
    expect(dexp(1000)).toBe(Infinity);
    expect(Math.abs(dlog(5e-324) - Math.log(5e-324))).toBeLessThan(1e-12);
    expect(Math.abs(dpow(2, 10) - 1024)).toBeLessThan(1e-12);
  });
});

describe("simulatePanel", () => {
  let panel: SimPanel;
  let csv: string;
  beforeAll(() => {
    panel = simulatePanel();
    csv = panelToCsv(panel);
  });

  it("same seed gives identical CSV bytes; another seed gives a different panel", async () => {
    const again = panelToCsv(simulatePanel({ seed: 20250101 }));
    expect(await sha256(again)).toBe(await sha256(csv));
    const other = panelToCsv(simulatePanel({ seed: 20250102 }));
    expect(await sha256(other)).not.toBe(await sha256(csv));
    expect(citiesToCsv(simulateCities(20250101))).toBe(citiesToCsv(panel.cities));
    expect(citiesToCsv(simulateCities(7))).not.toBe(citiesToCsv(panel.cities));
  });

  it("the chunked stream equals the whole panel", () => {
    const parts: SimColumns[] = [];
    let text = csvHeader();
    const summary = simulateChunks({}, (cols) => {
      parts.push(cols);
      text += csvRows(cols);
    }, 137);
    expect(parts.length).toBe(Math.ceil(1900 / 137));
    expect(summary.nrows).toBe(panel.nrows);
    expect(summary.truth).toEqual(panel.truth);
    expect(text).toBe(csv);
    for (const name of SIM_COLUMNS) {
      const whole = panel.columns[name];
      let off = 0;
      let mismatches = 0;
      for (const p of parts) {
        const col = p[name];
        for (let i = 0; i < col.length; i++) if (!Object.is(col[i], whole[off + i])) mismatches++;
        off += col.length;
      }
      expect(mismatches, name).toBe(0);
      expect(off).toBe(whole.length);
    }
    // chunks hold whole firms, in firm order
    const lastFirm = num(parts[0], "firm")[parts[0].firm.length - 1];
    expect(num(parts[1], "firm")[0]).toBe(lastFirm + 1);
  });

  it("has the reference columns and codings", () => {
    expect(SIM_COLUMNS.slice(0, REFERENCE_COLUMNS.length)).toEqual(REFERENCE_COLUMNS);
    for (const extra of ["ROE", "Urban", "Income", "Fiscal", "lnGovsub", "lnShortloan", "lnLongloan", "lnTotalloan", "area", "nlisted"]) {
      expect(SIM_COLUMNS).toContain(extra);
    }
    expect(Object.keys(panel.columns)).toEqual([...SIM_COLUMNS]);
    expect(csv.slice(0, csv.indexOf("\n"))).toBe(SIM_COLUMNS.map((c) => `"${c}"`).join(","));
    const c = panel.columns;
    for (const name of SIM_COLUMNS) {
      expect(c[name].length).toBe(panel.nrows);
      if (SIM_STRING_COLUMNS.includes(name)) expect(Array.isArray(c[name])).toBe(true);
      else expect(c[name]).toBeInstanceOf(Float64Array);
    }
    expect(new Set(c.region as string[])).toEqual(new Set(["east", "central", "west"]));
    expect(new Set(c.tier as string[])).toEqual(new Set(["prefecture", "subprovincial", "municipality"]));
    const adopt = num(c, "adopt");
    const bad: string[] = [];
    for (let i = 0; i < panel.nrows && bad.length < 5; i++) {
      const year = num(c, "year")[i];
      const never = Number.isNaN(adopt[i]);
      const post = !never && year >= adopt[i] ? 1 : 0;
      const size = num(c, "Size")[i];
      // SA = |-0.737 Size + 0.043 Size^2 - 0.04 Age|
      const sa = Math.abs(-0.737 * size + 0.043 * size * size - 0.04 * num(c, "Age")[i]);
      const ok =
        num(c, "zone")[i] === (never ? 0 : 1) &&
        num(c, "adopt_sa")[i] === (never ? 10000 : adopt[i]) &&
        num(c, "rel")[i] === (never ? -1000 : year - adopt[i]) &&
        num(c, "post")[i] === post &&
        num(c, "did")[i] === post &&
        ["smart_post", "innov_post", "export_type", "hightech", "polluting"].every((f) => num(c, f)[i] === 0 || num(c, f)[i] === 1) &&
        Math.abs(num(c, "SA")[i] - sa) < 1e-12;
      if (!ok) bad.push(`row ${i}`);
    }
    expect(bad).toEqual([]);
    // adoption years are the public batches (approval year)
    expect(new Set(Array.from(adopt).filter((x) => x === x))).toEqual(new Set([2015, 2016, 2018, 2019, 2020]));
    const T = panel.cities;
    expect(T.n).toBe(240);
    const perBatch = [1, 2, 3, 4, 5, 6, 7].map((b) => Array.from(T.batch).filter((x) => x === b).length);
    expect(perBatch).toEqual([1, 12, 22, 24, 46, 27, 33]);
    expect(T.name[Array.from(T.adopt).indexOf(2015)]).toBe("Hangzhou");
    expect(new Set(Array.from(T.province)).size).toBe(31);
    // formatting: 10 significant digits, "" for NaN
    expect(formatNumber(NaN)).toBe("");
    expect(formatNumber(2016)).toBe("2016");
    expect(formatNumber(1 / 3)).toBe("0.3333333333");
    expect(formatNumber(-0)).toBe("0");
  });

  it("has the shape of Table 2: rows, firms, years, Zone and Post", () => {
    const c = panel.columns;
    expect(panel.nrows).toBeGreaterThanOrEqual(ROWS_MIN);
    expect(panel.nrows).toBeLessThanOrEqual(ROWS_MAX);
    expect(new Set(num(c, "firm")).size).toBe(1900);
    const years = num(c, "year");
    expect(Math.min(...years)).toBe(2011);
    expect(Math.max(...years)).toBe(2020);
    expect(Math.abs(moments(num(c, "zone")).mean - TABLE2.Zone)).toBeLessThan(SHARE_TOL);
    expect(Math.abs(moments(num(c, "post")).mean - TABLE2.Post)).toBeLessThan(SHARE_TOL);
    // unbalanced: entries after 2011 and exits before 2020, no duplicated firm-years
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    const cities = new Map<number, Set<number>>();
    const seen = new Set<string>();
    for (let i = 0; i < panel.nrows; i++) {
      const f = num(c, "firm")[i];
      const y = years[i];
      const key = `${f}:${y}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      first.set(f, Math.min(first.get(f) ?? 9999, y));
      last.set(f, Math.max(last.get(f) ?? 0, y));
      (cities.get(f) ?? cities.set(f, new Set()).get(f)!).add(num(c, "city")[i]);
    }
    const late = [...first.values()].filter((y) => y > 2011).length;
    const early = [...last.values()].filter((y) => y < 2020).length;
    expect(late / 1900).toBeGreaterThan(0.4);
    expect(early / 1900).toBeGreaterThan(0.05);
    const movers = [...cities.values()].filter((s) => s.size > 1).length / 1900;
    expect(movers).toBeGreaterThan(0.01);
    expect(movers).toBeLessThan(0.03);
  });

  it("has heavy tails, a few missing values and Table 2-like means", () => {
    const c = panel.columns;
    for (const v of ["FC", "PE"]) {
      const m = moments(num(c, v));
      expect(m.sd, v).toBeGreaterThan(5 * m.mean);
    }
    for (const v of ["FC", "PE", "Quick"]) expect(moments(num(c, v)).kurt, v).toBeGreaterThan(20);
    let missing = 0;
    for (let i = 0; i < panel.nrows; i++) if (Number.isNaN(num(c, "Quick")[i]) || Number.isNaN(num(c, "PE")[i])) missing++;
    expect(missing / panel.nrows).toBeGreaterThan(0.001);
    expect(missing / panel.nrows).toBeLessThan(0.006);
    for (const name of SIM_COLUMNS) {
      if (SIM_STRING_COLUMNS.includes(name) || ["adopt", "Quick", "PE"].includes(name)) continue;
      expect(num(c, name).some((x) => Number.isNaN(x)), name).toBe(false);
    }
    for (const v of ["Export", "Digitalisation", "Agg", "Fin", "Eco", "Top1", "Liability", "Q"] as const) {
      const m = moments(num(c, v)).mean;
      expect(Math.abs(m / TABLE2[v] - 1), `${v} mean ${m}`).toBeLessThan(MEAN_REL_TOL);
    }
  });

  it("computes Agg by eq. (2) from nlisted and area", () => {
    const c = panel.columns;
    const T = panel.cities;
    let sumS = 0;
    for (let j = 0; j < T.n; j++) sumS += T.area[j];
    const sumN = new Map<number, number>();
    for (let t = 0; t < 10; t++) {
      let s = 0;
      for (let j = 0; j < T.n; j++) s += T.nlisted[j * 10 + t];
      sumN.set(2011 + t, s);
    }
    let maxRel = 0;
    let badInputs = 0;
    for (let i = 0; i < panel.nrows; i++) {
      const city = num(c, "city")[i];
      const year = num(c, "year")[i];
      const n = num(c, "nlisted")[i];
      const S = num(c, "area")[i];
      if (n !== T.nlisted[(city - 1) * 10 + (year - 2011)] || S !== T.area[city - 1]) badInputs++;
      if (!(Number.isInteger(n) && n >= 1 && S > 0)) badInputs++;
      const agg = n / S / (sumN.get(year)! / sumS);
      maxRel = Math.max(maxRel, Math.abs(num(c, "Agg")[i] / agg - 1));
    }
    expect(badInputs).toBe(0);
    expect(maxRel).toBeLessThan(1e-12);
  });

  it("recovers the planted ATT with a two-way within estimator", () => {
    const c = panel.columns;
    const truth = panel.truth.fc;
    expect(Math.abs(truth.att - ATT_TARGET)).toBeLessThan(0.03);
    // dynamic path: 0 before, peak in event year 3, faded by year 5
    expect(truth.path.indexOf(Math.max(...truth.path))).toBe(3);
    expect(truth.path[5]).toBeLessThan(truth.path[0]);
    const r = withinTwoWay(c, "FC", ["did", ...CONTROLS], () => true);
    const [b] = r.beta;
    const [se] = r.se;
    expect(r.n).toBeLessThan(panel.nrows); // rows with a missing control dropped
    expect(Math.abs(b - ATT_TARGET)).toBeLessThan(ATT_BAND);
    expect(Math.abs(b - truth.att)).toBeLessThan(1.96 * se);
  });

  it("plants a stronger effect in the east than in central and west", () => {
    const c = panel.columns;
    const t = panel.truth.fc;
    expect(t.attByRegion.east).toBeGreaterThan(t.attByRegion.central);
    expect(t.attByRegion.east).toBeGreaterThan(t.attByRegion.west);
    expect(t.exportMultiplier.nonExporter).toBeGreaterThan(t.exportMultiplier.exporter);
    expect(t.hightechMultiplier.hightech).toBeGreaterThan(t.hightechMultiplier.other);
    const region = c.region as string[];
    const b = (g: string) => withinTwoWay(c, "FC", ["did", ...CONTROLS], (i) => region[i] === g).beta[0];
    const east = b("east");
    expect(east).toBeGreaterThan(b("central"));
    expect(east).toBeGreaterThan(b("west"));
  });

  it("plants an innovative-city effect, no smart-city effect, and positive mechanisms", () => {
    const c = panel.columns;
    const r = withinTwoWay(c, "FC", ["did", "smart_post", "innov_post", ...CONTROLS], () => true);
    expect(Math.abs(r.beta[1])).toBeLessThan(0.08);
    expect(Math.abs(r.beta[2] - panel.truth.fc.innovEffect)).toBeLessThan(0.08);
    const ex = withinTwoWay(c, "Export", ["did", ...CONTROLS], () => true).beta[0];
    expect(Math.abs(ex - panel.truth.export)).toBeLessThan(0.05);
    expect(withinTwoWay(c, "Digitalisation", ["did", ...CONTROLS], () => true).beta[0]).toBeGreaterThan(0);
    expect(withinTwoWay(c, "Agg", ["did", ...CONTROLS], () => true).beta[0]).toBeGreaterThan(0);
    expect(panel.truth.aggAtt).toBeGreaterThan(0);
  });

  it("generates the default panel repeatedly with identical results (time printed, not asserted)", () => {
    const first = panelToCsv(simulatePanel());
    const t0 = performance.now();
    const again = panelToCsv(simulatePanel());
    console.log(`default panel: ${(performance.now() - t0).toFixed(0)} ms (budget ${TIME_BUDGET_MS} ms, measured, not asserted)`);
    expect(again).toBe(first);
  });

  it("rejects bad options", () => {
    expect(() => simulatePanel({ firms: 0 })).toThrow(/firms/);
    expect(() => simulatePanel({ seed: 1.5 })).toThrow(/seed/);
    expect(() => simulateChunks({}, () => {}, 0)).toThrow(/chunkFirms/);
  });
});
