// Every WASM kernel against its plain TypeScript reference (bindings/ref/kernels.ts) on
// small random inputs, including aliasing (output buffer = input buffer) and degenerate
// cases (one group; every row in one FE level; weights; varying slopes; several columns).
//
// Tolerances: demeaned values within 1e-9 absolute (kernel run to a coefficient-change
// tolerance of 1e-11, the reference to 1e-13); least-squares coefficients and bread within 1e-9 relative; meats within 1e-11
// relative (same sums, different order).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFileSync } from "node:fs";
import { createEngine, type Engine } from "../bindings/engine/wasm.js";
import { demeanPtr, check, type FeType, type DemeanAlgo } from "../bindings/engine/kernels.js";
import { DEMEAN_CTX, DEMEAN_CTX_BYTES } from "../bindings/engine/context.js";
import { receiveMessageOnPort } from "node:worker_threads";
import { spawnWorker } from "../bindings/platform/worker-spawn.js";
import type { DemeanJob } from "../bindings/platform/worker-protocol.js";
import { errorFromWire, KernelArgumentError, type ErrorWire } from "../bindings/base/errors.js";
import { feols } from "../bindings/estimators/feols.js";
import { Frame } from "../bindings/core/frame.js";
import { demeanThreaded, closeDemeanThreads, splitColumns } from "../bindings/platform/demean-node.js";
import { refDemean, refLeastSquares, refGram, refMeatHetero, refMeatCluster, type RefFe } from "../bindings/ref/kernels.js";
import { putDemeanInput } from "./demean-input.js";

const DEMEAN_ABS = 1e-9;
const LSQ_REL = 1e-9;
const MEAT_REL = 1e-11;

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randFe(rnd: () => number, n: number, levels: number): Int32Array {
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) c[i] = i < levels ? i : Math.floor(rnd() * levels);
  return c;
}

function runDemean(eng: Engine, cols: Float64Array[], fe: RefFe[], w: Float64Array | null, alias: boolean, algo: DemeanAlgo, tol = 1e-11, maxIter = 100000) {
  return eng.scoped(() => {
    const { d, x, n, K } = putDemeanInput(eng, cols, fe, w);
    const out = alias ? x : eng.allocF64(n * K);
    const info = demeanPtr(eng, d, K, x, out, tol, maxIter, algo);
    return { out: cols.map((_, k) => eng.getF64(out + k * n * 8, n)), info };
  });
}

let eng: Engine;
beforeAll(async () => {
  eng = await createEngine(readFileSync(new URL("../build/hdfe.wasm", import.meta.url)));
});

describe("demean kernel vs reference", () => {
  const cases: { name: string; n: number; fe: [number, FeType][]; K: number; weights: boolean; alias: boolean }[] = [
    { name: "one FE (closed form)", n: 200, fe: [[17, 0]], K: 1, weights: false, alias: false },
    { name: "two FE", n: 500, fe: [[40, 0], [9, 0]], K: 1, weights: false, alias: false },
    { name: "two FE, 5 columns, aliased", n: 500, fe: [[40, 0], [9, 0]], K: 5, weights: false, alias: true },
    { name: "two FE weighted", n: 400, fe: [[30, 0], [7, 0]], K: 3, weights: true, alias: false },
    { name: "three FE", n: 600, fe: [[50, 0], [12, 0], [8, 0]], K: 2, weights: false, alias: false },
    { name: "three FE weighted, aliased", n: 600, fe: [[50, 0], [12, 0], [8, 0]], K: 2, weights: true, alias: true },
    { name: "FE + varying slope", n: 500, fe: [[40, 0], [6, 2]], K: 2, weights: false, alias: false },
    { name: "slope only", n: 500, fe: [[40, 0], [6, 1]], K: 1, weights: true, alias: false },
    { name: "all rows one level", n: 100, fe: [[1, 0]], K: 2, weights: false, alias: false },
    { name: "one level + another FE", n: 100, fe: [[10, 0], [1, 0]], K: 1, weights: false, alias: false },
  ];
  for (const c of cases)
  for (const algo of ["auto", "map", "cg"] as DemeanAlgo[]) {
    it(`${c.name} (${algo})`, () => {
      const rnd = lcg(c.n * 31 + c.K);
      const fe: RefFe[] = c.fe.map(([G, type]) => {
        const d: RefFe = { codes: randFe(rnd, c.n, G), levels: G, type };
        if (type !== 0) d.slope = Float64Array.from({ length: c.n }, () => rnd() * 10 - 3);
        return d;
      });
      const w = c.weights ? Float64Array.from({ length: c.n }, () => 0.2 + rnd() * 3) : null;
      const cols = Array.from({ length: c.K }, () => Float64Array.from({ length: c.n }, () => rnd() * 4 - 2 + (rnd() < 0.05 ? 50 : 0)));
      const got = runDemean(eng, cols.map((x) => x.slice()), fe, w, c.alias, algo);
      expect(got.info.converged).toBe(true);
      for (let k = 0; k < c.K; k++) {
        const ref = refDemean(cols[k], fe, w).out;
        let maxd = 0;
        for (let i = 0; i < c.n; i++) maxd = Math.max(maxd, Math.abs(ref[i] - got.out[k][i]));
        expect(maxd).toBeLessThan(DEMEAN_ABS);
      }
    });
  }

  it("reports non-convergence with a tiny iteration limit", () => {
    const rnd = lcg(7);
    const n = 2000;
    // a poorly connected 3-FE structure converges slowly
    const fe: RefFe[] = [
      { codes: randFe(rnd, n, 400), levels: 400, type: 0 },
      { codes: randFe(rnd, n, 300), levels: 300, type: 0 },
      { codes: randFe(rnd, n, 200), levels: 200, type: 0 },
    ];
    const x = Float64Array.from({ length: n }, () => rnd());
    const res = eng.scoped(() => {
      const codes = eng.allocI32(3 * n);
      fe.forEach((d, q) => eng.i32(codes + q * n * 4, n).set(d.codes));
      const xp = eng.putF64(x);
      return demeanPtr(eng, { n, codesPtr: codes, groups: [400, 300, 200], types: [0, 0, 0], slopePtrs: [0, 0, 0], wPtr: 0 }, 1, xp, xp, 1e-14, 1);
    });
    expect(res.converged).toBe(false);
    expect(res.criterion).toBeGreaterThan(1e-14);
  });
});

describe("least squares kernel vs reference", () => {
  function qr(X: Float64Array[], y: Float64Array, tol = 1e-10) {
    return eng.scoped(() => {
      const n = y.length, k = X.length;
      const a = eng.allocF64(n * Math.max(k, 1));
      X.forEach((c, j) => eng.f64(a + j * n * 8, n).set(c));
      const yp = eng.putF64(y);
      const keep = eng.allocI32(Math.max(k, 1)), coef = eng.allocF64(Math.max(k, 1)), bread = eng.allocF64(Math.max(k * k, 1));
      const work = eng.allocF64(2 * Math.max(k, 1)), rank = eng.allocI32(1);
      check(eng.kernels.qrSolve(coef, bread, rank, keep, work, n, k, a, yp, tol), "qr");
      return { keep: Array.from(eng.getI32(keep, k), (v) => v === 1), coef: eng.getF64(coef, k), bread: eng.getF64(bread, k * k), rank: eng.getI32(rank, 1)[0] };
    });
  }
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

  it("full rank random design", () => {
    const rnd = lcg(11);
    const n = 300, k = 6;
    const X = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rnd() - 0.5));
    const y = Float64Array.from({ length: n }, (_, i) => X.reduce((s, c, j) => s + (j + 1) * c[i], 0) + rnd());
    const got = qr(X, y), ref = refLeastSquares(X, y);
    expect(got.keep).toEqual(ref.keep);
    for (let j = 0; j < k; j++) expect(rel(got.coef[j], ref.coef[j])).toBeLessThan(LSQ_REL);
    for (let j = 0; j < k * k; j++) expect(rel(got.bread[j], ref.bread[j])).toBeLessThan(LSQ_REL);
  });

  it("drops exactly collinear later columns and all-zero columns, in order", () => {
    const rnd = lcg(12);
    const n = 200;
    const a = Float64Array.from({ length: n }, () => rnd());
    const b = Float64Array.from({ length: n }, () => rnd());
    const c = Float64Array.from(a, (v, i) => 2 * v - 3 * b[i]); // = 2a - 3b
    const z = new Float64Array(n);
    const d = Float64Array.from({ length: n }, () => rnd());
    const X = [a, b, c, z, d];
    const y = Float64Array.from({ length: n }, (_, i) => a[i] - d[i] + 0.1 * rnd());
    const got = qr(X, y), ref = refLeastSquares(X, y);
    expect(got.keep).toEqual([true, true, false, false, true]);
    expect(got.keep).toEqual(ref.keep);
    expect(got.rank).toBe(3);
    for (let j = 0; j < 5; j++) expect(Math.abs(got.coef[j] - ref.coef[j])).toBeLessThan(1e-9);
    for (let j = 0; j < 25; j++) expect(Math.abs(got.bread[j] - ref.bread[j])).toBeLessThan(1e-7 * Math.max(1, Math.abs(ref.bread[j])));
  });

  it("single column and one observation per column edge", () => {
    const y = Float64Array.from([1, 2, 3, 4]);
    const x = Float64Array.from([1, 1, 1, 1]);
    const got = qr([x], y);
    expect(got.coef[0]).toBeCloseTo(2.5, 12);
    expect(got.bread[0]).toBeCloseTo(0.25, 12);
  });
});

describe("sandwich meats vs reference", () => {
  const rnd = lcg(21);
  const n = 257, k = 4, G = 13;
  const X = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rnd() - 0.5));
  const e = Float64Array.from({ length: n }, () => rnd() - 0.5);
  const codes = randFe(rnd, n, G);
  const load = () => {
    const x = eng.allocF64(n * k);
    X.forEach((c, j) => eng.f64(x + j * n * 8, n).set(c));
    return x;
  };
  const close = (a: Float64Array, b: Float64Array) => {
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(MEAT_REL * Math.max(1, Math.abs(b[i])));
  };
  it("gram", () => {
    const got = eng.scoped(() => {
      const x = load(), out = eng.allocF64(k * k);
      check(eng.kernels.gram(out, n, k, x), "gram");
      return eng.getF64(out, k * k);
    });
    close(got, refGram(X));
  });
  it("hetero", () => {
    const got = eng.scoped(() => {
      const x = load(), ep = eng.putF64(e), out = eng.allocF64(k * k);
      check(eng.kernels.meatHetero(out, n, k, x, ep), "hetero");
      return eng.getF64(out, k * k);
    });
    close(got, refMeatHetero(X, e));
  });
  it("cluster", () => {
    const got = eng.scoped(() => {
      const x = load(), ep = eng.putF64(e), cp = eng.putI32(codes), sc = eng.allocF64(G * k), out = eng.allocF64(k * k);
      check(eng.kernels.meatCluster(out, sc, n, k, x, ep, cp, G), "cluster");
      return eng.getF64(out, k * k);
    });
    close(got, refMeatCluster(X, e, codes, G));
  });
  it("cluster with one cluster per observation equals hetero", () => {
    const ids = Int32Array.from({ length: n }, (_, i) => i);
    close(refMeatCluster(X, e, ids, n), refMeatHetero(X, e));
    const got = eng.scoped(() => {
      const x = load(), ep = eng.putF64(e), cp = eng.putI32(ids), sc = eng.allocF64(n * k), out = eng.allocF64(k * k);
      check(eng.kernels.meatCluster(out, sc, n, k, x, ep, cp, n), "cluster");
      return eng.getF64(out, k * k);
    });
    close(got, refMeatHetero(X, e));
  });
  it("bad arguments return a status, not a trap", () => {
    expect(eng.kernels.meatCluster(0, 0, 10, 2, 0, 0, 0, 0)).toBe(3);
  });
});

describe("per-column convergence: results do not depend on the batching of columns", () => {
  // Each column meets the stopping rule on its own and is then frozen, so demeaning a
  // column alone, with others, or in any split of the K columns gives the same bits.
  const structures: { name: string; n: number; fe: [number, FeType][]; weights: boolean }[] = [
    { name: "two FE", n: 3000, fe: [[300, 0], [10, 0]], weights: false },
    { name: "three FE weighted", n: 3000, fe: [[300, 0], [60, 0], [10, 0]], weights: true },
    { name: "FE + varying slope", n: 2000, fe: [[200, 0], [8, 2]], weights: false },
    { name: "poorly connected three FE", n: 2000, fe: [[400, 0], [300, 0], [200, 0]], weights: false },
  ];
  for (const s of structures)
  for (const algo of ["auto", "map", "cg"] as DemeanAlgo[]) {
    it(`${s.name} (${algo})`, () => {
      const rnd = lcg(s.n + s.fe.length);
      const fe: RefFe[] = s.fe.map(([G, type]) => {
        const d: RefFe = { codes: randFe(rnd, s.n, G), levels: G, type };
        if (type !== 0) d.slope = Float64Array.from({ length: s.n }, () => rnd() * 10 - 3);
        return d;
      });
      const w = s.weights ? Float64Array.from({ length: s.n }, () => 0.2 + rnd() * 3) : null;
      // columns that converge at very different speeds: constant within levels, pure noise,
      // a scaled copy, a zero column, and mixtures
      const noise = () => Float64Array.from({ length: s.n }, () => rnd() * 2 - 1);
      const cols = [
        noise(),
        Float64Array.from(fe[0].codes, (g) => g * 0.37),
        Float64Array.from({ length: s.n }, (_, i) => fe[0].codes[i] * 0.01 + fe[1].codes[i] + rnd()),
        new Float64Array(s.n),
        noise().map((v) => v * 1e6),
        noise(),
        Float64Array.from({ length: s.n }, (_, i) => (i % 7) - 3),
      ];
      const K = cols.length;
      const together = runDemean(eng, cols.map((c) => c.slice()), fe, w, true, algo, 1e-9);
      const alone = cols.map((c) => runDemean(eng, [c.slice()], fe, w, false, algo, 1e-9));
      const split = [
        runDemean(eng, cols.slice(0, 3).map((c) => c.slice()), fe, w, false, algo, 1e-9),
        runDemean(eng, cols.slice(3).map((c) => c.slice()), fe, w, true, algo, 1e-9),
      ];
      const reversed = runDemean(eng, cols.slice().reverse().map((c) => c.slice()), fe, w, false, algo, 1e-9);
      for (let k = 0; k < K; k++) {
        const a = together.out[k];
        expect(alone[k].out[0]).toEqual(a);
        expect(k < 3 ? split[0].out[k] : split[1].out[k - 3]).toEqual(a);
        expect(reversed.out[K - 1 - k]).toEqual(a);
      }
      // iterations and convergence: the largest over the columns
      expect(together.info.iterations).toBe(Math.max(...alone.map((r) => r.info.iterations)));
      expect(together.info.cgIterations).toBe(Math.max(...alone.map((r) => r.info.cgIterations)));
      expect(together.info.converged).toBe(alone.every((r) => r.info.converged));
    });
  }
});

describe("multi-threaded demeaning (worker threads) equals one thread bit for bit", () => {
  it("splits columns into contiguous, balanced groups", () => {
    expect(splitColumns(10, 3)).toEqual([{ start: 0, count: 4 }, { start: 4, count: 3 }, { start: 7, count: 3 }]);
    expect(splitColumns(2, 4)).toEqual([{ start: 0, count: 1 }, { start: 1, count: 1 }]);
  });
  const cases: { name: string; fe: [number, FeType][]; weights: boolean; algo: DemeanAlgo }[] = [
    { name: "two FE", fe: [[500, 0], [10, 0]], weights: false, algo: "auto" },
    { name: "three FE weighted, CG", fe: [[500, 0], [80, 0], [10, 0]], weights: true, algo: "cg" },
    { name: "FE + varying slope, MAP", fe: [[300, 0], [6, 2]], weights: false, algo: "map" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const n = 4000, K = 7;
      const rnd = lcg(99 + c.fe.length);
      const fe: RefFe[] = c.fe.map(([G, type]) => {
        const d: RefFe = { codes: randFe(rnd, n, G), levels: G, type };
        if (type !== 0) d.slope = Float64Array.from({ length: n }, () => rnd() * 10 - 3);
        return d;
      });
      const w = c.weights ? Float64Array.from({ length: n }, () => 0.2 + rnd() * 3) : null;
      const cols = Array.from({ length: K }, (_, k) => Float64Array.from({ length: n }, (_, i) => rnd() * (k + 1) + fe[0].codes[i] * 0.01 * k));
      const run = (threads: number, alias: boolean) =>
        eng.scoped(() => {
          const { d: dims, x } = putDemeanInput(eng, cols, fe, w);
          const out = alias ? x : eng.allocF64(n * K);
          const info = threads === 1
            ? demeanPtr(eng, dims, K, x, out, 1e-10, 10000, c.algo)
            : demeanThreaded(eng, dims, K, x, out, 1e-10, 10000, c.algo, 20, threads);
          return { out: eng.getF64(out, n * K), info };
        });
      const one = run(1, true);
      for (const [t, alias] of [[2, true], [3, false], [7, true]] as [number, boolean][]) {
        const got = run(t, alias);
        expect(got.info.threads).toBe(Math.min(t, K));
        expect(got.info.iterations).toBe(one.info.iterations);
        expect(got.info.cgIterations).toBe(one.info.cgIterations);
        expect(got.out).toEqual(one.out);
      }
    });
  }
  afterAll(() => closeDemeanThreads());
});

describe("difficult FE structure: low-mobility worker + firm + year", () => {
  // A matched employer-employee panel where workers rarely move, and only to a
  // neighbouring firm: the worker-firm graph is a long chain, the kind of structure on which
  // alternating projections stall (pyfixest's "difficult" benchmark). Reference: workers
  // absorbed exactly by their means, firm + year solved densely (pivoted Cholesky).
  const W = 3000, F = 200, T = 8, MOVE = 0.05;
  const rnd = lcg(12345);
  const worker: number[] = [], firm: number[] = [], year: number[] = [];
  for (let w = 0; w < W; w++) {
    let f = Math.floor(rnd() * F);
    for (let t = 0; t < T; t++) {
      if (t > 0 && rnd() < MOVE) f = Math.min(F - 1, Math.max(0, f + (rnd() < 0.5 ? -1 : 1)));
      worker.push(w);
      firm.push(f);
      year.push(t);
    }
  }
  const n = worker.length;
  const fe: RefFe[] = [
    { codes: Int32Array.from(worker), levels: W, type: 0 },
    { codes: Int32Array.from(firm), levels: F, type: 0 },
    { codes: Int32Array.from(year), levels: T, type: 0 },
  ];
  const firmEffect = Float64Array.from({ length: F }, () => rnd());
  const x = Float64Array.from({ length: n }, (_, i) => firm[i] / F + rnd());
  const y = Float64Array.from({ length: n }, (_, i) => 0.5 * x[i] + 3 * firmEffect[firm[i]] + (worker[i] % 7) + 0.1 * year[i] + rnd());

  /** Exact projection off plain FEs: dimension 0 by group means, the others by a dense solve. */
  function exactDemean(cols: Float64Array[], dims: RefFe[]): Float64Array[] {
    const d0 = dims[0];
    const cnt = new Float64Array(d0.levels);
    for (let i = 0; i < n; i++) cnt[d0.codes[i]]++;
    const within = (v: Float64Array) => {
      const s = new Float64Array(d0.levels);
      for (let i = 0; i < n; i++) s[d0.codes[i]] += v[i];
      return Float64Array.from(v, (vi, i) => vi - s[d0.codes[i]] / cnt[d0.codes[i]]);
    };
    const V: Float64Array[] = [];
    for (const d of dims.slice(1)) {
      for (let g = 0; g < d.levels; g++) V.push(within(Float64Array.from(d.codes, (c) => (c === g ? 1 : 0))));
    }
    const m = V.length;
    const dot = (a: Float64Array, b: Float64Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += a[i] * b[i];
      return s;
    };
    const G = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let b = a; b < m; b++) G[a * m + b] = G[b * m + a] = dot(V[a], V[b]);
    const L = new Float64Array(m * m), ok = new Uint8Array(m);
    for (let j = 0; j < m; j++) {
      let s = G[j * m + j];
      for (let k = 0; k < j; k++) if (ok[k]) s -= L[j * m + k] ** 2;
      if (s <= 1e-10 * G[j * m + j]) continue; // a redundant level (one per extra FE)
      ok[j] = 1;
      const ljj = Math.sqrt(s);
      L[j * m + j] = ljj;
      for (let i = j + 1; i < m; i++) {
        let t = G[i * m + j];
        for (let k = 0; k < j; k++) if (ok[k]) t -= L[i * m + k] * L[j * m + k];
        L[i * m + j] = t / ljj;
      }
    }
    return cols.map((col) => {
      const xt = within(col);
      const z = new Float64Array(m), beta = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        if (!ok[j]) continue;
        let s = dot(V[j], xt);
        for (let k = 0; k < j; k++) if (ok[k]) s -= L[j * m + k] * z[k];
        z[j] = s / L[j * m + j];
      }
      for (let j = m - 1; j >= 0; j--) {
        if (!ok[j]) continue;
        let s = z[j];
        for (let k = j + 1; k < m; k++) if (ok[k]) s -= L[k * m + j] * beta[k];
        beta[j] = s / L[j * m + j];
      }
      for (let a = 0; a < m; a++) if (beta[a] !== 0) for (let i = 0; i < n; i++) xt[i] -= beta[a] * V[a][i];
      return xt;
    });
  }
  const relErr = (a: Float64Array, b: Float64Array) => {
    let e = 0, s = 0;
    for (let i = 0; i < a.length; i++) {
      e += (a[i] - b[i]) ** 2;
      s += b[i] ** 2;
    }
    return Math.sqrt(e / s);
  };
  let exact: Float64Array[];
  beforeAll(() => {
    exact = exactDemean([y, x], fe);
  });

  it("MAP stalls, CG converges; both against the exact projection", () => {
    const map = runDemean(eng, [y.slice(), x.slice()], fe, null, false, "map", 1e-8, 1000);
    const cg = runDemean(eng, [y.slice(), x.slice()], fe, null, false, "cg", 1e-8, 1000);
    const auto = runDemean(eng, [y.slice(), x.slice()], fe, null, false, "auto", 1e-8, 1000);
    // MAP: 1000 accelerated steps are not enough, and its residuals are visibly off
    expect(map.info.converged).toBe(false);
    expect(map.info.mapIterations).toBe(1000);
    for (let k = 0; k < 2; k++) expect(relErr(map.out[k], exact[k])).toBeGreaterThan(1e-4);
    // CG (alone, or after 20 MAP steps in auto): converged, close to the exact solution
    for (const r of [cg, auto]) {
      expect(r.info.converged).toBe(true);
      expect(r.info.cgIterations).toBeGreaterThan(0);
      expect(r.info.cgIterations).toBeLessThan(1000);
      for (let k = 0; k < 2; k++) expect(relErr(r.out[k], exact[k])).toBeLessThan(1e-9);
    }
    expect(auto.info.mapIterations).toBe(20);
  });

  it("feols: fixefAlgo map / cg / auto, iterations reported in the fit", () => {
    const frame = Frame.fromColumns({ y, x, worker: fe[0].codes, firm: fe[1].codes, year: fe[2].codes });
    const bRef = exact[1].reduce((s, v, i) => s + v * exact[0][i], 0) / exact[1].reduce((s, v) => s + v * v, 0);
    const fit = (algo: DemeanAlgo) =>
      feols(eng, frame, "y ~ x | worker + firm + year", { fixefAlgo: algo, fixefIter: 1000, fixefRm: "none", vcov: "iid" });
    const warned: string[] = [];
    const map = feols(eng, frame, "y ~ x | worker + firm + year", {
      fixefAlgo: "map", fixefIter: 1000, fixefRm: "none", vcov: "iid", onWarning: (m) => warned.push(m),
    });
    expect(map.converged).toBe(false);
    expect(warned.join()).toMatch(/did not converge/);
    expect(map.demean).toMatchObject({ algo: "map", mapIterations: 1000, cgIterations: 0, threads: 1 });
    for (const algo of ["cg", "auto"] as DemeanAlgo[]) {
      const f = fit(algo);
      expect(f.converged).toBe(true);
      expect(f.demean!.algo).toBe(algo);
      expect(f.demean!.cgIterations).toBeGreaterThan(0);
      expect(f.iterations).toBe(f.demean!.mapIterations + f.demean!.cgIterations);
      expect(Math.abs(f.coef.x - bRef) / Math.abs(bRef)).toBeLessThan(1e-10);
    }
    expect(() => feols(eng, frame, "y ~ x | worker", { fixefAlgo: "lsqr" as DemeanAlgo })).toThrow(/fixefAlgo/);
    expect(() => feols(eng, frame, "y ~ x | worker", { threads: 0 })).toThrow(/threads/);
  });
});

describe("demeaning scratch larger than the free WASM memory: columns in batches", () => {
  it("gives the same bits as one call", async () => {
    const eng2 = await createEngine(readFileSync(new URL("../build/hdfe.wasm", import.meta.url)));
    const rnd = lcg(4242);
    const n = 20000, K = 6;
    const fe: RefFe[] = [
      { codes: randFe(rnd, n, 5000), levels: 5000, type: 0 },
      { codes: randFe(rnd, n, 40), levels: 40, type: 0 },
    ];
    const cols = Array.from({ length: K }, (_, k) => Float64Array.from({ length: n }, (_, i) => rnd() * (k + 1) + fe[1].codes[i] * k));
    const whole = runDemean(eng2, cols.map((c) => c.slice()), fe, null, true, "auto", 1e-10);
    const peakWhole = eng2.peak;
    // leave room for the data and the scratch of about 2.5 columns, as a huge model would
    const per = eng2.scoped(() => {
      const g = eng2.putI32([5000, 40]), t = eng2.putI32([0, 0]);
      return { one: eng2.kernels.demeanScratch(2, g, t, 1), two: eng2.kernels.demeanScratch(2, g, t, 2) };
    });
    const perCol = (per.two - per.one) * 8, fixed = per.one * 8 - perCol;
    const data = n * 4 * 2 + n * K * 8 + 4096;
    const batched = eng2.scoped(() => {
      eng2.alloc(eng2.freeBytes - 64 * 1024 * 1024 - data - fixed - 2.5 * perCol, "ballast");
      const before = eng2.usedBytes;
      const r = runDemean(eng2, cols.map((c) => c.slice()), fe, null, true, "auto", 1e-10);
      return { ...r, extra: eng2.peak - before };
    });
    expect(batched.extra).toBeLessThan(data + fixed + 3 * perCol); // 2 columns of scratch at a time, not 6
    expect(batched.out).toEqual(whole.out);
    expect(batched.info.iterations).toBe(whole.info.iterations);
    expect(peakWhole).toBeGreaterThan(0);
  });
});

describe("fe + fe[[z]] on the same codes is demeaned as fe[z]", () => {
  // a slope variable far from zero within levels (a year) makes the intercepts and slopes
  // nearly collinear; demeaned apart they crept and stopped early, joined it is a 2 x 2 solve
  // (MAP alone is not run: with firm + city[year] on a raw year it needs > 100,000 sweeps
  // at 1e-11, joined or not)
  for (const algo of ["auto", "cg"] as DemeanAlgo[]) {
    it(`${algo}: the same bits as the fe[z] dimension, and the reference`, () => {
      const rnd = lcg(2011);
      const n = 3000;
      const city = randFe(rnd, n, 60), firm = randFe(rnd, n, 300);
      const year = Float64Array.from({ length: n }, () => 2011 + Math.floor(rnd() * 10));
      const cols = [0, 1].map(() => Float64Array.from({ length: n }, (_, i) => rnd() + 0.01 * (city[i] % 7) * year[i]));
      const apart: RefFe[] = [
        { codes: firm, levels: 300, type: 0 },
        { codes: city, levels: 60, type: 0 },
        { codes: city, levels: 60, type: 1, slope: year },
      ];
      const joined: RefFe[] = [{ codes: firm, levels: 300, type: 0 }, { codes: city, levels: 60, type: 2, slope: year }];
      const a = runDemean(eng, cols.map((x) => x.slice()), apart, null, false, algo);
      const j = runDemean(eng, cols.map((x) => x.slice()), joined, null, false, algo);
      expect(a.info.converged).toBe(true);
      expect(a.info.iterations).toBe(j.info.iterations);
      for (let k = 0; k < cols.length; k++) {
        const ref = refDemean(cols[k], joined, null).out;
        let maxd = 0;
        for (let i = 0; i < n; i++) {
          expect(a.out[k][i]).toBe(j.out[k][i]);
          maxd = Math.max(maxd, Math.abs(ref[i] - a.out[k][i]));
        }
        expect(maxd).toBeLessThan(DEMEAN_ABS);
      }
    });
  }
});

describe("context blocks: one layout in assembly/context.ts and engine/context.ts", () => {
  it("the demeaning context offsets agree", async () => {
    const e = await createEngine(readFileSync(new URL("../build/hdfe.wasm", import.meta.url)));
    const fields = Object.values(DEMEAN_CTX);
    const got = e.scoped(() => {
      const p = e.allocI32(fields.length + 1);
      e.kernels.demeanContextLayout(p);
      return Array.from(e.i32(p, fields.length + 1));
    });
    expect(got).toEqual([...fields, DEMEAN_CTX_BYTES]);
  });
});

describe("the Node worker module: a demeaning job's error keeps its class across the thread", () => {
  it("a kernel's BAD_ARGUMENT in the worker comes back as KernelArgumentError", async () => {
    const s = spawnWorker();
    expect(s).not.toBeNull();
    try {
      const n = 4;
      const sab = (bytes: number) => new SharedArrayBuffer(bytes);
      const codes = sab(n * 4);
      new Int32Array(codes).set([0, 0, 1, 1]);
      const job: DemeanJob = {
        kind: "demean-job", n, groups: [2], types: [0], codes, slopes: [null], w: null, K: 1, x: sab(n * 8),
        tol: 1e-8, maxIter: -1, algo: "auto", switchAfter: 20, info: sab(32), state: sab(8),
      };
      s!.worker.postMessage(job);
      const state = new Int32Array(job.state);
      while (Atomics.load(state, 0) === 0) await new Promise((r) => setTimeout(r, 20));
      expect(Atomics.load(state, 0)).toBe(2);
      const wire = receiveMessageOnPort(s!.port)?.message as ErrorWire;
      const back = errorFromWire(wire);
      expect(back).toBeInstanceOf(KernelArgumentError);
      expect(back.name).toBe("KernelArgumentError");
    } finally {
      await s!.worker.terminate();
    }
  });
});
