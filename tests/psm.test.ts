// PSM-DiD (suite Table 6, column 3): the WASM kernels against their TypeScript references
// (bindings/ref/psm.ts) on random data, matching invariants, and the whole pipeline against
// R MatchIt 4.5.1 + fixest (tests/fixtures/reference/cbec_psm_matchit.json).
//
// Tolerances:
//   vs R: logit coefficients and SEs 1e-6 relative; log-likelihood 1e-8 relative;
//         matched row / treated / control counts and DiD nobs exact; sum of weights 1e-9
//         relative (a floating-point sum); SMD before and after 1e-6 absolute; DiD
//         coefficient and SE 1e-6 relative.
//   kernels vs references: logit coefficients, inverse information, eta, mu and the
//         log-likelihood 1e-9 relative (Cholesky of the equilibrated normal equations vs
//         Gram-Schmidt QR), same iteration count; match matrices exact; weights 1e-12.
//
// The reference numbers are reproduced with compat "matchit-4.5.1": MatchIt 4.5.1 compares
// integer-truncated distance differences (C integer abs), see assembly/match.ts. The DiD
// SE is reproduced by fixest's default: clustered by firm, ssc(adj, fixef.K = "nested",
// cluster.adj), with singletons kept (fixef.rm = "none", fixest's default).
import { describe, it, expect, beforeAll, vi } from "vitest";
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { logitFit, nnMatch, psmDid, smd, type MOrder, type PsmDidOptions } from "../bindings/psm/psm.js";
import { psmToJson } from "../bindings/report/psm.js";
import { refLogitIrls, refNnMatch, refMatchWeights } from "../bindings/ref/psm.js";
import { SampleError } from "../bindings/base/errors.js";
import { register } from "../cli/commands/psm.js";

const COEF_REL = 1e-6;
const SE_REL = 1e-6;
const LL_REL = 1e-8;
const SUMW_REL = 1e-9;
const SMD_ABS = 1e-6;
const DID_REL = 1e-6;
const KERNEL_REL = 1e-9;
const WEIGHT_ABS = 1e-12;

const FIX = new URL("./fixtures/reference/", import.meta.url);
const COVS = ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"];
const DID_FORMULA = "FC ~ did + Fin + Eco + Top1 + Quick + Liability + Q + PE | firm + year";

interface RefVariant {
  id: string;
  matchit_args: string;
  n_matched_rows: number;
  n_treated_matched: number;
  n_control_matched: number;
  sum_weights: number;
  smd_before: Record<string, number>;
  smd_after: Record<string, number>;
  did_coef: number;
  did_se: number;
  did_nobs: number;
}
interface RefPsm {
  rows: number;
  logit_coef: Record<string, number>;
  logit_se: Record<string, number>;
  logit_loglik: number;
  variants: RefVariant[];
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

let eng: Engine;
let cbec: Frame;
const ref: RefPsm = JSON.parse(readFileSync(new URL("cbec_psm_matchit.json", FIX), "utf8"));

beforeAll(async () => {
  eng = await loadEngine();
  const { table } = await readFile(new URL("cbec_panel.csv", FIX).pathname);
  cbec = Frame.fromArrow(table);
});

// ---------------------------------------------------------------------------
describe("logit kernel vs reference (R glm.fit transcription)", () => {
  const cases = [
    { name: "n 400, k 3", n: 400, k: 3, weights: false, seed: 1 },
    { name: "n 1000, k 6, skewed column", n: 1000, k: 6, weights: false, seed: 2 },
    { name: "n 300, k 4, prior weights", n: 300, k: 4, weights: true, seed: 3 },
    { name: "n 50, k 2, rare outcome", n: 50, k: 2, weights: false, seed: 4, rare: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rnd = lcg(c.seed * 7919);
      const { n, k } = c;
      const x = new Float64Array(n * k);
      x.fill(1, 0, n);
      for (let j = 1; j < k; j++) for (let i = 0; i < n; i++) x[j * n + i] = j === 5 ? Math.exp(4 * rnd()) * 100 : rnd() * 4 - 2;
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let e = c.rare ? -2.5 : 0.3;
        for (let j = 1; j < k; j++) e += (j % 2 ? 0.7 : -0.4) * x[j * n + i] * (j === 5 ? 0.001 : 1);
        y[i] = rnd() < 1 / (1 + Math.exp(-e)) ? 1 : 0;
      }
      const w = c.weights ? Float64Array.from({ length: n }, () => 0.2 + 2 * rnd()) : null;
      const got = logitFit(eng, x, n, k, y, w);
      const want = refLogitIrls(x, n, k, y, w);
      expect(got.converged).toBe(true);
      expect(got.iterations).toBe(want.iterations);
      for (let j = 0; j < k; j++) expect(rel(got.coef[j], want.coef[j])).toBeLessThan(KERNEL_REL);
      for (let a = 0; a < k * k; a++) {
        const scale = Math.sqrt(want.vcov[(a % k) * (k + 1)] * want.vcov[Math.floor(a / k) * (k + 1)]);
        expect(Math.abs(got.vcov[a] - want.vcov[a]) / scale).toBeLessThan(KERNEL_REL);
      }
      for (let i = 0; i < n; i++) {
        expect(Math.abs(got.eta[i] - want.eta[i])).toBeLessThan(KERNEL_REL * Math.max(1, Math.abs(want.eta[i])));
        expect(rel(got.mu[i], want.mu[i])).toBeLessThan(KERNEL_REL);
      }
      expect(rel(got.loglik, want.loglik)).toBeLessThan(KERNEL_REL);
      expect(rel(got.deviance, -2 * want.loglik)).toBeLessThan(KERNEL_REL);
    });
  }

  it("strict step halving changes nothing when the deviance falls; maxIter is honoured", () => {
    const rnd = lcg(99);
    const n = 500;
    const x = new Float64Array(3 * n);
    x.fill(1, 0, n);
    for (let i = n; i < 3 * n; i++) x[i] = rnd() * 2 - 1;
    const y = Float64Array.from({ length: n }, (_, i) => (rnd() < 1 / (1 + Math.exp(-(x[n + i] - 2 * x[2 * n + i]))) ? 1 : 0));
    const a = logitFit(eng, x, n, 3, y);
    const b = logitFit(eng, x, n, 3, y, null, { strict: true });
    expect(Array.from(b.coef)).toEqual(Array.from(a.coef));
    expect(b.halvings).toBe(0);
    const c = logitFit(eng, x, n, 3, y, null, { maxIter: 1 });
    expect(c.converged).toBe(false);
    expect(c.iterations).toBe(1);
  });

  it("perfect separation is reported, not hidden", () => {
    const n = 40;
    const x = new Float64Array(2 * n);
    x.fill(1, 0, n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[n + i] = i - 19.5;
      y[i] = i >= 20 ? 1 : 0;
    }
    const got = logitFit(eng, x, n, 2, y);
    expect(got.separated || !got.converged).toBe(true);
  });

  it("a collinear design throws SampleError", () => {
    const n = 20;
    const x = new Float64Array(3 * n);
    x.fill(1, 0, n);
    for (let i = 0; i < n; i++) {
      x[n + i] = i % 7;
      x[2 * n + i] = 2 * (i % 7) + 1;
    }
    const y = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    expect(() => logitFit(eng, x, n, 3, y)).toThrow(SampleError);
  });
});

// ---------------------------------------------------------------------------
function randomMatchData(seed: number, n: number, ties: boolean, scale: number) {
  const rnd = lcg(seed);
  const dist = Float64Array.from({ length: n }, () => {
    const d = rnd() * scale;
    return ties ? Math.round(d * 20) / 20 : d;
  });
  const treat = Int32Array.from({ length: n }, () => (rnd() < 0.4 ? 1 : 0));
  const strata = Int32Array.from({ length: n }, () => Math.floor(rnd() * 4) * 3 - 2);
  return { dist, treat, strata };
}

function treatedOrder(dist: Float64Array, treat: Int32Array, mOrder: MOrder, given: Int32Array): Int32Array {
  const tIdx: number[] = [];
  treat.forEach((t, i) => t === 1 && tIdx.push(i));
  const ranks = tIdx.map((_, t) => t);
  if (mOrder === "largest") ranks.sort((a, b) => dist[tIdx[b]] - dist[tIdx[a]] || a - b);
  if (mOrder === "smallest") ranks.sort((a, b) => dist[tIdx[a]] - dist[tIdx[b]] || a - b);
  if (mOrder === "random") return given;
  return Int32Array.from(ranks);
}

describe("matching kernel vs reference (MatchIt's linear scans)", () => {
  const combos: { ratio: number; replace: boolean; caliper: number | null; mOrder: MOrder; strata: boolean; compat: boolean; ties: boolean; scale: number }[] = [];
  for (const ratio of [1, 2, 3])
    for (const replace of [false, true])
      for (const mOrder of ["largest", "smallest", "data", "random"] as MOrder[])
        for (const strata of [false, true])
          for (const compat of [false, true]) {
            const i = combos.length;
            combos.push({
              ratio, replace, mOrder, strata, compat, ties: i % 2 === 0, scale: compat ? 12 : 1,
              caliper: i % 3 === 0 ? null : compat ? 1.5 : i % 3 === 1 ? 0.02 : 0.004,
            });
          }
  for (const [ci, c] of combos.entries()) {
    const name = `ratio ${c.ratio}, ${c.replace ? "replace" : "no replace"}, ${c.mOrder}, caliper ${c.caliper}, ` +
      `${c.strata ? "strata" : "pooled"}, ${c.compat ? "MatchIt 4.5.1" : "documented"}${c.ties ? ", ties" : ""}`;
    it(name, () => {
      const n = 300 + (ci % 5) * 37;
      const { dist, treat, strata } = randomMatchData(1000 + ci, n, c.ties, c.scale);
      const got = nnMatch(eng, dist, treat, {
        ratio: c.ratio, replace: c.replace, caliper: c.caliper, mOrder: c.mOrder, seed: ci, strata: c.strata ? strata : null,
        compat: c.compat ? "matchit-4.5.1" : "none",
      });
      const order = treatedOrder(dist, treat, got.mOrder, got.order);
      expect(Array.from(got.order)).toEqual(Array.from(order));
      const mm = refNnMatch(dist, treat, { ratio: c.ratio, replace: c.replace, caliper: c.caliper, order, strata: c.strata ? strata : null, compat: c.compat });
      expect(Array.from(got.matchMatrix)).toEqual(Array.from(mm));
      const w = refMatchWeights(treat, mm, c.ratio);
      for (let i = 0; i < n; i++) expect(Math.abs(got.weights[i] - w[i])).toBeLessThan(WEIGHT_ABS);
    });
  }
});

describe("matching invariants", () => {
  for (const replace of [false, true])
    for (const ratio of [1, 2]) {
      it(`${ratio}:1 ${replace ? "with" : "without"} replacement, caliper 0.01, strata`, () => {
        const { dist, treat, strata } = randomMatchData(77 + ratio, 2000, false, 1);
        const cal = 0.01;
        const m = nnMatch(eng, dist, treat, { ratio, replace, caliper: cal, strata });
        const used = new Map<number, number>();
        const tIdx: number[] = [];
        treat.forEach((t, i) => t === 1 && tIdx.push(i));
        let nt = 0;
        tIdx.forEach((g, t) => {
          const row = Array.from(m.matchMatrix.subarray(t * ratio, (t + 1) * ratio)).filter((c) => c >= 0);
          if (row.length) nt++;
          expect(new Set(row).size).toBe(row.length); // never the same control twice for one unit
          for (const c of row) {
            expect(treat[c]).toBe(0);
            expect(strata[c]).toBe(strata[g]);
            expect(Math.abs(dist[c] - dist[g])).toBeLessThanOrEqual(cal);
            used.set(c, (used.get(c) ?? 0) + 1);
          }
        });
        if (!replace) for (const v of used.values()) expect(v).toBe(1);
        else expect([...used.values()].some((v) => v > 1)).toBe(true);
        expect(m.nTreated).toBe(nt);
        expect(m.nControl).toBe(used.size);
        const sumW = m.weights.reduce((a, b) => a + b, 0);
        expect(Math.abs(sumW - (m.nTreated + m.nControl))).toBeLessThan(1e-9);
      });
    }

  it("ties go to the left (lower) neighbour, then to data order, as MatchIt", () => {
    // treated at 0.5; controls at 0.4 and 0.6 (equidistant), and two controls tied at 0.45
    const dist = Float64Array.from([0.5, 0.6, 0.4, 0.45, 0.45]);
    const treat = Int32Array.from([1, 0, 0, 0, 0]);
    const m = nnMatch(eng, dist, treat, { ratio: 3 });
    // nearest: a 0.45 (the later row of the tied pair sits next to the treated unit in
    // stable order), then the other 0.45, then 0.4 vs 0.6 tie -> left (0.4)
    expect(Array.from(m.matchMatrix)).toEqual([4, 3, 2]);
  });

  it("sorted search handles 200,000 rows without replacement (a quadratic scan would take hours; time is measured in bench/, not asserted)", () => {
    const { dist, treat } = randomMatchData(5, 200_000, false, 1);
    const m = nnMatch(eng, dist, treat, { replace: false, caliper: 0.001 });
    expect(m.nTreated).toBeGreaterThan(0);
  });
});

describe("balance: MatchIt's standardised mean difference", () => {
  it("uses the treated SD of the full sample before and after", () => {
    const x = [1, 2, 3, 4, 10, 20];
    const t = Int32Array.from([1, 1, 1, 0, 0, 0]);
    const sdT = 1; // sd(1, 2, 3)
    expect(smd(x, t, null).smd).toBeCloseTo((2 - 34 / 3) / sdT, 14);
    const w = Float64Array.from([1, 1, 0, 2, 0, 1]);
    expect(smd(x, t, w).smd).toBeCloseTo((1.5 - 28 / 3) / sdT, 14);
  });
});

// ---------------------------------------------------------------------------
function variantOptions(v: RefVariant): Partial<PsmDidOptions> {
  const a = v.matchit_args;
  const o: Partial<PsmDidOptions> = { replace: /replace = TRUE/.test(a) };
  const cal = a.match(/caliper = ([\d.]+)/);
  if (cal) o.caliper = Number(cal[1]);
  // MatchIt's std.caliper defaults to TRUE
  o.stdCaliper = !/std\.caliper = FALSE/.test(a);
  if (/link = "linear.logit"/.test(a)) o.distance = "linear.logit";
  const mo = a.match(/m\.order = "(\w+)"/);
  if (mo) o.mOrder = mo[1] as MOrder;
  return o;
}

describe("PSM-DiD against R MatchIt 4.5.1 + fixest (cbec_psm_matchit.json)", () => {
  const runs = new Map<string, ReturnType<typeof psmDid>>();
  const run = (v: RefVariant) => {
    if (!runs.has(v.id)) {
      runs.set(v.id, psmDid(eng, cbec, {
        treatment: "zone", covariates: COVS, compat: "matchit-4.5.1", ...variantOptions(v),
        did: { formula: DID_FORMULA, fixefRm: "none" },
      }));
    }
    return runs.get(v.id)!;
  };

  it("propensity-score logit: coefficients, SEs, log-likelihood, sample", () => {
    const r = run(ref.variants[0]);
    expect(r.sampleRows.length).toBe(ref.rows);
    for (const [nm, b] of Object.entries(ref.logit_coef)) expect(rel(r.logit.coef[nm], b)).toBeLessThan(COEF_REL);
    for (const [nm, s] of Object.entries(ref.logit_se)) expect(rel(r.logit.se[nm], s)).toBeLessThan(SE_REL);
    expect(rel(r.logit.loglik, ref.logit_loglik)).toBeLessThan(LL_REL);
    expect(r.logit.converged).toBe(true);
  });

  for (const v of ref.variants) {
    describe(v.id, () => {
      it("matched counts and weights", () => {
        const r = run(v);
        expect(r.matching.nRows).toBe(v.n_matched_rows);
        expect(r.matching.nTreated).toBe(v.n_treated_matched);
        expect(r.matching.nControl).toBe(v.n_control_matched);
        expect(r.matchedRows.length).toBe(v.n_matched_rows);
        expect(rel(r.matching.sumWeights, v.sum_weights)).toBeLessThan(SUMW_REL);
      });
      it("balance before and after", () => {
        const r = run(v);
        for (const b of r.balance) {
          expect(Math.abs(b.smdBefore - v.smd_before[b.name])).toBeLessThan(SMD_ABS);
          expect(Math.abs(b.smdAfter - v.smd_after[b.name])).toBeLessThan(SMD_ABS);
        }
        expect(r.balance.map((b) => b.name).sort()).toEqual(Object.keys(v.smd_after).sort());
      });
      it("DiD on the matched sample (fixest default vcov: clustered by firm)", () => {
        const r = run(v);
        expect(r.did.nobs).toBe(v.did_nobs);
        expect(rel(r.did.coef.did, v.did_coef)).toBeLessThan(DID_REL);
        expect(rel(r.did.se.did, v.did_se)).toBeLessThan(DID_REL);
        expect(r.did.vcovLabel).toMatch(/firm/);
      });
    });
  }

  it("the documented matching (compat none) respects the caliper the reference ignored", () => {
    const v = ref.variants[0];
    const r = psmDid(eng, cbec, { treatment: "zone", covariates: COVS, ...variantOptions(v), did: { formula: DID_FORMULA, fixefRm: "none" } });
    const pos = new Map<number, number>();
    r.sampleRows.forEach((row, j) => pos.set(row, j));
    const treatedRows = Array.from(r.sampleRows).filter((row) => cbec.numeric("zone")[row] === 1);
    let t = 0;
    for (const row of treatedRows) {
      const c = r.matching.matchMatrix[t++];
      if (c >= 0) expect(Math.abs(r.distance[pos.get(row)!] - r.distance[pos.get(c)!])).toBeLessThanOrEqual(0.05);
    }
    expect(r.matching.nTreated).toBeLessThan(v.n_treated_matched);
  });

  it("year-by-year matching keeps every pair within its year", () => {
    const r = psmDid(eng, cbec, {
      treatment: "zone", covariates: COVS, by: "year", replace: false, caliper: 0.05,
      did: { formula: DID_FORMULA, fixefRm: "none" },
    });
    const year = cbec.numeric("year");
    const zone = cbec.numeric("zone");
    const treatedRows = Array.from(r.sampleRows).filter((row) => zone[row] === 1);
    let pairs = 0;
    treatedRows.forEach((row, t) => {
      const c = r.matching.matchMatrix[t];
      if (c < 0) return;
      pairs++;
      expect(year[c]).toBe(year[row]);
      expect(zone[c]).toBe(0);
    });
    expect(pairs).toBe(r.matching.nTreated);
    expect(r.matching.nControl).toBe(r.matching.nTreated); // 1:1 without replacement
    expect(r.did.nobs).toBe(r.matching.nRows);
    expect(Number.isFinite(r.did.coef.did)).toBe(true);
  });
});

describe("hdfe psm (CLI command)", () => {
  it("prints JSON that matches the library call", async () => {
    const program = new Command().exitOverride();
    register(program);
    const chunks: string[] = [];
    const out = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    });
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await program.parseAsync([
        "node", "hdfe", "psm", "--data", new URL("cbec_panel.csv", FIX).pathname, "--treatment", "zone",
        "--covariates", COVS.join(","), "--replace", "--caliper", "0.05", "--compat", "matchit-4.5.1",
        "--fixef-rm", "none", "--did-formula", DID_FORMULA, "--json",
      ]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const j = JSON.parse(chunks.join("")) as ReturnType<typeof psmToJson>;
    const v = ref.variants[0];
    expect(j.matching.n_matched_rows).toBe(v.n_matched_rows);
    expect(rel(j.did.coef.did, v.did_coef)).toBeLessThan(DID_REL);
    expect(j.balance.length).toBe(COVS.length + 1);
  });
});
