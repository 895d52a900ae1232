// Event studies and staggered-adoption DiD (bindings/event/).
//
// Tolerances (stated once, never loosened per model):
//   Sun & Abraham vs fixest 0.12.2 references (tests/fixtures/reference/*_fixest.json):
//     coefficients 1e-8 relative; SEs, t, raw vcov 1e-6 relative; p-values 1e-6 absolute; nobs exact
//   TWFE event study (eventStudy) vs the fixest i(rel, ref = c(-1, -1000)) references: same
//   Cohorts from the adoption column (late entrants, movers): eventStudy / sunabEventStudy vs feols
//     with i(rel, ref = c(-1, -1000)) / sunab() on the same rows: coefficients and SEs 1e-10 relative
//   Callaway & Sant'Anna vs the R `did` package on mpdta, published figures:
//     https://bcallaway11.github.io/did/articles/did-basics.html ("An example with real data",
//     att_gt(yname = "lemp", gname = "first.treat", idname = "countyreal", tname = "year",
//     xformla = ~1, data = mpdta), default doubly robust; aggte(..., type = "dynamic" / "group")):
//       point estimates to the printed 4 decimals; the analytic pre-test p-value 0.16812 to 5 decimals.
//     The printed standard errors there are multiplier-bootstrap SEs (they differ between runs and
//     between the README and the vignette by up to 0.005), so analytic SEs are compared with them
//     at 15% relative. The simple aggregation's analytic SE is compared with a recorded R run
//     (did::aggte(type = "simple", bstrap = FALSE), -0.0399512751551772 / 0.0120340127701854,
//     https://github.com/brycewang-stanford/StatsPAI/blob/2e316287f1d82440a4c1869941af278bad4ae1bf/tests/orig_parity/results/02_mpdta_original_R.json)
//     to 1e-6 relative; the figures -0.0400 (SE about 0.0118) are met to 4 decimals / 1e-3.
//   Borusyak-Jaravel-Spiess: against a dense, independent implementation of the same formulas to 1e-9.
//   Goodman-Bacon: weights sum to 1 and sum w * beta = TWFE coefficient, both to 1e-10.
import { describe, it, expect, beforeAll, vi } from "vitest";
import { Command } from "commander";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, withVcov } from "../bindings/estimators/feols.js";
import { qt, pval2 } from "../bindings/base/stats.js";
import { Rng } from "../bindings/base/rng.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { simulatePanel } from "../bindings/sim/simulate.js";
import {
  sunabDetails, sunabAggregate, eventStudy, attGt, aggte, did2x2, imputationDid, baconDecomposition, runEventSuite,
  preparePanel, sunabEventStudy, type CsResult,
} from "../bindings/event/index.js";
import { PanelError, SampleError } from "../bindings/base/errors.js";
import { robustEventSection } from "../bindings/suite/extensions.js";
import type { SuiteContext } from "../bindings/suite/run.js";
import { register, renderText } from "../cli/commands/event.js";
import { FIX, loadRefs, type RefModel } from "./reference.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const P_ABS = 1e-6;
const SAME_REL = 1e-10;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

let eng: Engine;
const frames: Record<string, Frame> = {};

beforeAll(async () => {
  eng = await loadEngine();
  const frameOf = async (f: string) => Frame.fromArrow((await readFile(new URL(f, FIX).pathname)).table);
  frames.cbec = await frameOf("cbec_panel.csv");
  let mp = await frameOf("mpdta.csv");
  mp = mp.withColumn("first_treat_sa", Float64Array.from(mp.numeric("first.treat"), (v) => (v === 0 ? 10000 : v)));
  frames.mpdta = mp;
  frames.base_stagg = await frameOf("base_stagg.csv");
});

const CONTROLS = ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"];

// ---------------------------------------------------------------------------------------------
describe("Sun & Abraham: sunab() in feols vs fixest 0.12.2", () => {
  const cases = [
    { set: "cbec", file: "cbec_panel_fixest.json", fml: `FC ~ sunab(adopt_sa, year) + ${CONTROLS.join(" + ")} | firm + year`, cl: "firm" },
    { set: "mpdta", file: "mpdta_fixest.json", fml: "lemp ~ sunab(first_treat_sa, year) | countyreal + year", cl: "countyreal" },
    { set: "base_stagg", file: "base_stagg_fixest.json", fml: "y ~ x1 + sunab(year_treated, year) | id + year", cl: "id" },
  ];
  for (const c of cases) {
    for (const m of loadRefs(c.file).filter((x) => x.id.includes("sunab"))) {
      it(`${m.id}: ${m.call}`, () => {
        const att = m.id.endsWith("_att");
        const fml = att ? c.fml.replace(/sunab\((\w+), year\)/, "sunab($1, year, att = TRUE)") : c.fml;
        const fit = feols(eng, frames[c.set], fml, { vcov: `cluster:${c.cl}`, fixefRm: "none" });
        expect(fit.nobs).toBe(m.nobs);
        expect(fit.nobsOrigin).toBe(m.nobs_origin);
        expect(fit.coefNames).toEqual(Object.keys(m.coef));
        for (const k of fit.coefNames) {
          expect(rel(fit.coef[k], m.coef[k]), `coef ${k}`).toBeLessThan(COEF_REL);
          expect(rel(fit.se[k], m.se[k]), `se ${k}`).toBeLessThan(SE_REL);
          expect(rel(fit.tstat[k], m.t[k]), `t ${k}`).toBeLessThan(SE_REL);
          expect(Math.abs(fit.pvalue[k] - m.p[k]), `p ${k}`).toBeLessThan(P_ABS);
        }
        expect(Math.abs(fit.r2 - m.r2)).toBeLessThan(1e-8);
        expect(Math.abs(fit.adjR2 - m.ar2)).toBeLessThan(1e-8);
        // the reference vcov is fixest's vcov of the cohort x period coefficients
        const raw = sunabDetails(fit)!;
        const k = raw.names.length;
        expect(k).toBe(m.vcov_matrix.length);
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            const scale = Math.sqrt(m.vcov_matrix[a][a] * m.vcov_matrix[b][b]);
            expect(Math.abs(raw.V[a + b * k] - m.vcov_matrix[a][b]) / scale).toBeLessThan(SE_REL);
          }
        // summary(fit, agg = "att") from the period-aggregated fit gives the same numbers
        if (att) {
          const per = feols(eng, frames[c.set], c.fml, { vcov: `cluster:${c.cl}`, fixefRm: "none" });
          const agg = sunabAggregate(eng, per, "att");
          for (const r of agg.table) {
            expect(rel(r.estimate, m.coef[r.name]), r.name).toBeLessThan(COEF_REL);
            expect(rel(r.se, m.se[r.name]), r.name).toBeLessThan(SE_REL);
            expect(Math.abs(r.p - m.p[r.name])).toBeLessThan(P_ABS);
          }
        }
      });
    }
  }

  it("aggregated fits keep withVcov() and resampling consistent with the raw regression", () => {
    const fit = feols(eng, frames.mpdta, "lemp ~ sunab(first_treat_sa, year) | countyreal + year", { vcov: "cluster:countyreal", fixefRm: "none" });
    const het = withVcov(eng, fit, "hetero");
    const viaRaw = sunabAggregate(eng, het, "period");
    expect(het.coefNames).toEqual(viaRaw.names);
    for (const r of viaRaw.table) expect(rel(het.se[r.name], r.se)).toBeLessThan(1e-10);
    // regressing the demeaned outcome on the transformed regressors returns the aggregated coefficients
    const I = het.internals;
    const n = het.nobs, k = het.coefNames.length;
    const xty = new Float64Array(k);
    for (let a = 0; a < k; a++) for (let i = 0; i < n; i++) xty[a] += I.xTilde[a * n + i] * I.yTilde[i];
    for (let a = 0; a < k; a++) {
      let b = 0;
      for (let c = 0; c < k; c++) b += I.bread[a + c * k] * xty[c];
      expect(rel(b, het.coefVector[a])).toBeLessThan(1e-9);
    }
    // back to the clustered vcov: identical to the original fit
    const back = withVcov(eng, het, "cluster:countyreal");
    for (const nm of fit.coefNames) expect(rel(back.se[nm], fit.se[nm])).toBeLessThan(1e-10);
    // cohort aggregation: post-treatment cells by cohort, shares = cell counts
    const byCohort = sunabAggregate(eng, fit, "cohort");
    expect(byCohort.names).toEqual(["cohort::2004", "cohort::2006", "cohort::2007"]);
    const raw = sunabDetails(fit)!;
    const cells = raw.names.map((nm, j) => ({ nm, j })).filter((x) => x.nm.endsWith("cohort::2006") && !x.nm.includes("::-"));
    const tot = cells.reduce((s, x) => s + raw.counts[x.j], 0);
    const manual = cells.reduce((s, x) => s + (raw.counts[x.j] / tot) * raw.beta[x.j], 0);
    expect(rel(byCohort.coef[1], manual)).toBeLessThan(1e-12);
  });

  it("fixest conventions: reference cohorts, ref.p, no_agg, and the always-treated quirk", () => {
    // 6 units x 5 periods: cohorts 3, 4, never (99), and one always treated (1)
    const unit: number[] = [], year: number[] = [], coh: number[] = [], y: number[] = [];
    const cohorts = [3, 3, 4, 4, 99, 1];
    const rng = new Rng(7);
    for (let u = 0; u < 6; u++)
      for (let t = 1; t <= 5; t++) {
        unit.push(u);
        year.push(t);
        coh.push(cohorts[u]);
        y.push(u + 0.1 * t + (t >= cohorts[u] ? 1 : 0) + rng.normal() * 0.1);
      }
    const f = Frame.fromColumns({ unit: Float64Array.from(unit), year: Float64Array.from(year), coh: Float64Array.from(coh), y: Float64Array.from(y) });
    const fit = feols(eng, f, "y ~ sunab(coh, year, no_agg = TRUE) | unit + year", { vcov: "iid", fixefRm: "none" });
    // cells by (rel, cohort); -1 is the reference; cohort 99 (not a period) and cohort 1 (always treated) get no dummies
    expect(fit.coefNames).toEqual([
      "year::-3:cohort::4", "year::-2:cohort::3", "year::-2:cohort::4", "year::0:cohort::3", "year::0:cohort::4",
      "year::1:cohort::3", "year::1:cohort::4", "year::2:cohort::3",
    ]);
    // fixest 0.12.2 sets to NA the row at the always-treated cohort's code (4th cohort seen -> 4th row)
    expect(fit.nobs).toBe(29);
    expect(fit.warnings.some((w) => w.includes("always treated"))).toBe(true);
    const f2 = feols(eng, f, 'y ~ sunab(coh, year, ref.p = c(-1, ".F"), no_agg = TRUE) | unit + year', { vcov: "iid", fixefRm: "none" });
    expect(f2.coefNames[0]).toBe("year::-2:cohort::3");
    const agg = feols(eng, f, "y ~ sunab(coh, year) | unit + year", { vcov: "iid", fixefRm: "none" });
    expect(agg.coefNames).toEqual(["year::-3", "year::-2", "year::0", "year::1", "year::2"]);
  });
});

// ---------------------------------------------------------------------------------------------
describe("eventStudy: TWFE event study", () => {
  const check = (es: ReturnType<typeof eventStudy>, m: RefModel, rename: (k: string) => string) => {
    expect(es.nobs).toBe(m.nobs);
    const names = es.fit.coefNames.map(rename);
    expect([...names].sort()).toEqual(Object.keys(m.coef).sort());
    es.fit.coefNames.forEach((k, j) => {
      const r = rename(k);
      expect(rel(es.fit.coefVector[j], m.coef[r]), r).toBeLessThan(COEF_REL);
      expect(rel(es.fit.se[k], m.se[r]), r).toBeLessThan(SE_REL);
      expect(Math.abs(es.fit.pvalue[k] - m.p[r])).toBeLessThan(P_ABS);
    });
  };

  it("cbec: reproduces fixest's event_study model (rows' own adoption year, as the data's rel column)", () => {
    const m = loadRefs("cbec_panel_fixest.json").find((x) => x.id === "event_study")!;
    const es = eventStudy(eng, frames.cbec, { outcome: "FC", unit: "firm", time: "year", adopt: "adopt", controls: CONTROLS, timing: "row", level: 0.9 });
    check(es, m, (k) => k);
    // 90% intervals with the fit's t df; references at 0
    const crit = qt(0.95, es.fit.df);
    for (const p of es.path) {
      if (p.reference) {
        expect(p.rel).toBe(-1);
        expect(p.estimate).toBe(0);
        continue;
      }
      expect(Math.abs(p.ciHigh - (p.estimate + crit * p.se))).toBeLessThan(1e-12);
    }
    expect(es.path.map((p) => p.rel)).toEqual([-9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
    // joint pre-trend test on the 8 leads: chi2 = b' V^-1 b, F = chi2 / 8 with the fit's df
    expect(es.pretrend.q).toBe(8);
    expect(es.pretrend.df2).toBe(es.fit.df);
    expect(Math.abs(es.pretrend.F * 8 - es.pretrend.chi2)).toBeLessThan(1e-9);
    expect(es.pretrend.pF).toBeGreaterThan(0);
    expect(es.pretrend.pF).toBeLessThan(1);
  });

  it("mpdta and base_stagg: unit cohorts reproduce fixest's TWFE event studies", () => {
    const m1 = loadRefs("mpdta_fixest.json").find((x) => x.id === "mpdta_event")!;
    check(eventStudy(eng, frames.mpdta, { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat" }), m1, (k) => k);
    const m2 = loadRefs("base_stagg_fixest.json").find((x) => x.id === "base_stagg_twfe_event")!;
    const es = eventStudy(eng, frames.base_stagg, { outcome: "y", unit: "id", time: "year", adopt: "year_treated", controls: ["x1"] });
    check(es, m2, (k) => k.replace(/^rel::/, "time_to_treatment::"));
  });

  it("one lead: the Wald chi2 is the squared t; binning pools distant periods", () => {
    const es = eventStudy(eng, frames.mpdta, { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat", binLead: -2, ref: -1 });
    expect(es.path.map((p) => p.rel)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(es.path[0].binned).toBe(true);
    expect(es.pretrend.q).toBe(1);
    const t = es.fit.tstat["rel::-2"];
    expect(rel(es.pretrend.chi2, t * t)).toBeLessThan(1e-10);
    expect(Math.abs(es.pretrend.pF - pval2(t, es.fit.df))).toBeLessThan(1e-10);
    const first = eventStudy(eng, frames.mpdta, { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat", ref: "first", binLag: 2 });
    expect(first.refs).toEqual([-4]);
    expect(first.path.find((p) => p.rel === 2)!.binned).toBe(true);
    expect(first.pretrend.q).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
describe("Callaway & Sant'Anna vs the did package on mpdta", () => {
  // did-basics vignette, summary(mw.attgt): group, time, ATT(g,t), printed (bootstrap) SE
  const PUBLISHED: [number, number, number, number][] = [
    [2004, 2004, -0.0105, 0.0243], [2004, 2005, -0.0704, 0.0331], [2004, 2006, -0.1373, 0.0412], [2004, 2007, -0.1008, 0.0358],
    [2006, 2004, 0.0065, 0.023], [2006, 2005, -0.0028, 0.021], [2006, 2006, -0.0046, 0.0175], [2006, 2007, -0.0412, 0.0196],
    [2007, 2004, 0.0305, 0.0147], [2007, 2005, -0.0027, 0.0156], [2007, 2006, -0.0311, 0.0179], [2007, 2007, -0.0261, 0.0175],
  ];
  let res: CsResult;
  const roles = { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat" };
  beforeAll(() => {
    res = attGt(frames.mpdta, roles);
  });
  const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

  it("group-time ATTs, their SEs and the parallel-trends pre-test", () => {
    expect(res.n).toBe(500);
    expect(res.attgt.map((r) => [r.group, r.time])).toEqual(PUBLISHED.map((p) => [p[0], p[1]]));
    res.attgt.forEach((r, j) => {
      expect(round4(r.att)).toBeCloseTo(PUBLISHED[j][2], 10);
      expect(rel(r.se, PUBLISHED[j][3])).toBeLessThan(0.15);
    });
    expect(res.pretest!.df).toBe(5);
    expect(Math.round(res.pretest!.p * 1e5) / 1e5).toBeCloseTo(0.16812, 10);
  });

  it("aggregations: simple, dynamic, group, calendar", () => {
    const simple = aggte(res, "simple");
    expect(round4(simple.overall.estimate)).toBeCloseTo(-0.04, 10);
    expect(rel(simple.overall.estimate, -0.0399512751551772)).toBeLessThan(1e-10);
    expect(rel(simple.overall.se, 0.0120340127701854)).toBeLessThan(1e-6);
    expect(Math.abs(simple.overall.se - 0.0118)).toBeLessThan(1e-3);
    const dyn = aggte(res, "dynamic");
    const DYN: [number, number, number][] = [[-3, 0.0305, 0.0157], [-2, -0.0006, 0.0136], [-1, -0.0245, 0.0144], [0, -0.0199, 0.0124], [1, -0.051, 0.0163], [2, -0.1373, 0.0402], [3, -0.1008, 0.0354]];
    expect(dyn.rows.map((r) => r.egt)).toEqual(DYN.map((d) => d[0]));
    dyn.rows.forEach((r, j) => {
      expect(round4(r.estimate)).toBeCloseTo(DYN[j][1], 10);
      expect(rel(r.se, DYN[j][2])).toBeLessThan(0.15);
    });
    expect(round4(dyn.overall.estimate)).toBeCloseTo(-0.0772, 10);
    expect(rel(dyn.overall.se, 0.0203)).toBeLessThan(0.15);
    // README (same data and call, est_method = "reg", identical point estimates without covariates)
    const grp = aggte(res, "group");
    expect(grp.rows.map((r) => round4(r.estimate))).toEqual([-0.0797, -0.0229, -0.0261]);
    expect(Math.round(grp.overall.estimate * 1e3) / 1e3).toBeCloseTo(-0.031, 10);
    expect(rel(grp.overall.se, 0.0123)).toBeLessThan(0.15);
    const cal = aggte(res, "calendar");
    expect(cal.rows.map((r) => r.egt)).toEqual([2004, 2005, 2006, 2007]);
    // calendar 2004 = ATT(2004, 2004); weights of the others by group size
    expect(cal.rows[0].estimate).toBeCloseTo(res.attgt[0].att, 14);
  });

  it("uniform bands from the seeded multiplier bootstrap (Rademacher and Mammen)", () => {
    const z = 1.959963984540054;
    expect(res.critVal).toBeGreaterThan(z);
    expect(res.critVal).toBeLessThan(4);
    for (const r of res.attgt) {
      expect(rel(r.seBoot, r.se)).toBeLessThan(0.2);
      expect(r.bandLow).toBeLessThan(r.ciLow);
    }
    const again = attGt(frames.mpdta, roles);
    expect(again.critVal).toBe(res.critVal);
    const mammen = attGt(frames.mpdta, { ...roles, bootstrap: { weights: "mammen", draws: 1000, seed: 3 } });
    expect(mammen.critVal).toBeGreaterThan(z);
    mammen.attgt.forEach((r) => expect(rel(r.seBoot, r.se)).toBeLessThan(0.2));
    const b90 = aggte(attGt(frames.mpdta, { ...roles, level: 0.9 }), "dynamic");
    expect(b90.level).toBe(0.9);
    expect(b90.critVal).toBeLessThan(aggte(res, "dynamic").critVal);
  });

  it("OR, IPW and DR coincide without covariates; not-yet-treated controls", () => {
    for (const method of ["reg", "ipw"] as const) {
      const r = attGt(frames.mpdta, { ...roles, method, bootstrap: false });
      r.attgt.forEach((x, j) => {
        expect(Math.abs(x.att - res.attgt[j].att)).toBeLessThan(1e-12);
        expect(rel(x.se, res.attgt[j].se)).toBeLessThan(1e-9);
      });
    }
    // 2x2 building block: DR with a covariate reduces to OR when the propensity score is constant
    const dy = Float64Array.from([1, 2, 0.5, 3, 2.5, 1.5, 0.7, 2.2]);
    const D = Float64Array.from([1, 1, 1, 0, 0, 0, 0, 0]);
    const ones = new Float64Array(8).fill(1);
    const a = did2x2(dy, D, [ones], "dr"), b = did2x2(dy, D, [ones], "reg");
    expect(Math.abs(a.att - b.att)).toBeLessThan(1e-14);
    // with a covariate: OR = mean_T(dy) - mean_T(x'b), b from OLS on the controls; every influence
    // function has mean zero (estimating equations hold at the estimates)
    const rng = new Rng(3);
    const N = 200;
    const x = Float64Array.from({ length: N }, () => rng.normal());
    const Dx = Float64Array.from(x, (v) => (rng.uniform() < 1 / (1 + Math.exp(-0.8 * v)) ? 1 : 0));
    const dyx = Float64Array.from(x, (v, i) => 0.5 + 0.7 * v + 0.3 * Dx[i] + rng.normal());
    const one = new Float64Array(N).fill(1);
    let sxx = 0, sx = 0, sy = 0, sxy = 0, n0 = 0;
    for (let i = 0; i < N; i++) {
      if (Dx[i]) continue;
      n0++;
      sx += x[i];
      sy += dyx[i];
      sxx += x[i] * x[i];
      sxy += x[i] * dyx[i];
    }
    const slope = (sxy - (sx * sy) / n0) / (sxx - (sx * sx) / n0);
    const icpt = (sy - slope * sx) / n0;
    let orAtt = 0, nT = 0;
    for (let i = 0; i < N; i++) {
      if (!Dx[i]) continue;
      nT++;
      orAtt += dyx[i] - icpt - slope * x[i];
    }
    const orFit = did2x2(dyx, Dx, [one, x], "reg");
    expect(Math.abs(orFit.att - orAtt / nT)).toBeLessThan(1e-12);
    for (const m of ["reg", "ipw", "dr"] as const) {
      const e = did2x2(dyx, Dx, [one, x], m);
      expect(Math.abs(e.inf.reduce((s, v) => s + v, 0) / N), m).toBeLessThan(1e-10);
      expect(Math.abs(e.att - 0.3)).toBeLessThan(0.5);
    }
    // not yet treated: in 2007 nobody is still untreated but the never treated, so every ATT(g, 2007) is unchanged
    const ny = attGt(frames.mpdta, { ...roles, controlGroup: "notyet", bootstrap: false });
    ny.attgt.forEach((x, j) => {
      if (x.time === 2007) expect(Math.abs(x.att - res.attgt[j].att)).toBeLessThan(1e-12);
      else if (x.group === 2004) expect(Math.abs(x.att - res.attgt[j].att)).toBeGreaterThan(1e-6);
    });
    expect(ny.attgt[0].n1).toBeGreaterThan(res.attgt[0].n1);
    // DR with a covariate (base-period lpop) runs and stays close to the unconditional estimates
    const cov = attGt(frames.mpdta, { ...roles, controls: ["lpop"], bootstrap: false });
    cov.attgt.forEach((x, j) => expect(Math.abs(x.att - res.attgt[j].att)).toBeLessThan(0.02));
  });
});

// ---------------------------------------------------------------------------------------------
/** Dense solve of a symmetric system (Gaussian elimination with partial pivoting). */
function denseSolve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((r, i) => r[n] / r[i]);
}

/** A small staggered panel with controls, a never-treated group and unequal cohort sizes. */
function smallPanel(seed: number, units = 40, T = 7): Frame {
  const rng = new Rng(seed);
  const cols = { id: [] as number[], t: [] as number[], g: [] as number[], x: [] as number[], y: [] as number[] };
  for (let u = 0; u < units; u++) {
    const g = u % 4 === 0 ? NaN : u % 4 === 1 ? 3 : u % 4 === 2 ? 5 : u % 8 === 3 ? 4 : 6;
    const a = rng.normal();
    for (let t = 1; t <= T; t++) {
      const x = 0.5 * a + 0.3 * t + rng.normal();
      const eff = Number.isFinite(g) && t >= g ? 1 + 0.4 * (t - g) + 0.3 * rng.normal() : 0;
      cols.id.push(u);
      cols.t.push(t);
      cols.g.push(g);
      cols.x.push(x);
      cols.y.push(a + 0.2 * t + 0.7 * x + eff + 0.3 * rng.normal());
    }
  }
  return Frame.fromColumns(Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, Float64Array.from(v)])));
}

describe("Borusyak, Jaravel & Spiess imputation", () => {
  it("matches a dense implementation of the estimator, its weights and Theorem 3's variance", () => {
    const f = smallPanel(11);
    const roles = { outcome: "y", unit: "id", time: "t", adopt: "g", controls: ["x"] };
    const res = imputationDid(eng, f, roles);
    const p = preparePanel(f, roles);
    const T = p.periods.length, U = p.nUnits;
    const D = Array.from(p.t, (t, i) => (p.cohortIdx[p.unit[i]] >= 0 && t >= p.cohortIdx[p.unit[i]] ? 1 : 0));
    // Z = [unit dummies | time dummies 2..T | x]
    const zrow = (i: number) => {
      const z = new Array(U + T - 1 + 1).fill(0);
      z[p.unit[i]] = 1;
      if (p.t[i] > 0) z[U + p.t[i] - 1] = 1;
      z[U + T - 1] = p.X[0][i];
      return z;
    };
    const dim = U + T;
    const ZtZ = Array.from({ length: dim }, () => new Array(dim).fill(0));
    const Zty = new Array(dim).fill(0);
    for (let i = 0; i < p.n; i++) {
      if (D[i]) continue;
      const z = zrow(i);
      for (let a = 0; a < dim; a++) {
        Zty[a] += z[a] * p.y[i];
        for (let b = 0; b < dim; b++) ZtZ[a][b] += z[a] * z[b];
      }
    }
    const gamma = denseSolve(ZtZ, Zty);
    const fit = (i: number) => zrow(i).reduce((s, v, a) => s + v * gamma[a], 0);
    expect(rel(res.beta.x, gamma[dim - 1])).toBeLessThan(1e-9);
    expect(rel(res.fit!.coef.x, gamma[dim - 1])).toBeLessThan(1e-7);
    const estimand = (sel: (i: number) => boolean) => {
      const idx = [...Array(p.n).keys()].filter((i) => D[i] && sel(i));
      const w = 1 / idx.length;
      const b = new Array(dim).fill(0);
      for (const i of idx) zrow(i).forEach((v, a) => (b[a] += w * v));
      const h = denseSolve(ZtZ, b);
      const v = new Float64Array(p.n);
      for (let i = 0; i < p.n; i++) v[i] = D[i] ? (sel(i) ? w : 0) : -zrow(i).reduce((s, z, a) => s + z * h[a], 0);
      const tau = (i: number) => p.y[i] - fit(i);
      const est = [...Array(p.n).keys()].reduce((s, i) => s + v[i] * p.y[i], 0);
      // Eq. 8 within cohort x horizon cells (at most one observation per unit and cell)
      const cell = new Map<string, { num: number; den: number }>();
      for (const i of idx) {
        const key = `${p.cohortIdx[p.unit[i]]},${p.t[i] - p.cohortIdx[p.unit[i]]}`;
        const c = cell.get(key) ?? { num: 0, den: 0 };
        c.num += v[i] * v[i] * tau(i);
        c.den += v[i] * v[i];
        cell.set(key, c);
      }
      const byUnit = new Float64Array(U);
      for (let i = 0; i < p.n; i++) {
        if (!D[i]) byUnit[p.unit[i]] += v[i] * (p.y[i] - fit(i));
        else if (sel(i)) {
          const c = cell.get(`${p.cohortIdx[p.unit[i]]},${p.t[i] - p.cohortIdx[p.unit[i]]}`)!;
          byUnit[p.unit[i]] += v[i] * (tau(i) - c.num / c.den);
        }
      }
      return { est, se: Math.sqrt(byUnit.reduce((s, x) => s + x * x, 0)) };
    };
    const all = estimand(() => true);
    expect(Math.abs(res.overall.estimate - all.est)).toBeLessThan(1e-9);
    expect(rel(res.overall.se, all.se)).toBeLessThan(1e-9);
    for (const h of res.path) {
      const d = estimand((i) => p.t[i] - p.cohortIdx[p.unit[i]] === h.rel);
      expect(Math.abs(h.estimate - d.est)).toBeLessThan(1e-9);
      expect(rel(h.se, d.se)).toBeLessThan(1e-9);
    }
    expect(res.path.map((x) => x.rel)).toEqual([0, 1, 2, 3, 4]);
    expect(res.variance).toContain("Theorem 3");
  });

  it("pre-trend test on untreated observations; absorbed controls are dropped", () => {
    const res = imputationDid(eng, frames.mpdta, { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat", controls: ["lpop"] });
    expect(res.warnings.some((w) => w.includes('"lpop"'))).toBe(true);
    expect(res.pretrend.leads).toBe(3);
    expect(res.pretrend.path.map((x) => x.rel)).toEqual([-3, -2, -1]);
    expect(res.pretrend.wald.q).toBe(3);
    expect(res.pretrend.wald.df2).toBe(499);
    expect(res.nTreated).toBe(291);
    expect(res.overall.nObs).toBe(291);
    // without a never-treated comparison only the leads change, the point estimates stay those of the imputation
    const noPre = imputationDid(eng, frames.mpdta, { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat", pretrendLeads: 1 });
    expect(noPre.pretrend.path.map((x) => x.rel)).toEqual([-1]);
    expect(noPre.overall.estimate).toBeCloseTo(res.overall.estimate, 12);
  });
});

// ---------------------------------------------------------------------------------------------
describe("Goodman-Bacon decomposition", () => {
  const identity = (b: ReturnType<typeof baconDecomposition>) => {
    expect(Math.abs(b.weightSum - 1)).toBeLessThan(1e-10);
    expect(Math.abs(b.weightedSum - b.twfe)).toBeLessThan(1e-10);
    expect(Math.abs(b.twfeFeols - b.twfe)).toBeLessThan(1e-10);
    for (const c of b.comparisons) expect(c.weight).toBeGreaterThanOrEqual(0);
  };

  it("mpdta: weights sum to one and the weighted 2x2 estimates add up to the TWFE coefficient", () => {
    const b = baconDecomposition(eng, frames.mpdta, { outcome: "lemp", unit: "countyreal", time: "year", adopt: "first.treat" });
    identity(b);
    // the fixest reference TWFE DiD on mpdta (treat_post | countyreal + year)
    const twfe = loadRefs("mpdta_fixest.json").find((m) => Object.keys(m.coef).includes("treat_post"))!;
    expect(rel(b.twfe, twfe.coef.treat_post)).toBeLessThan(1e-9);
    expect(b.byType.map((x) => x.type)).toEqual(["treated_vs_never", "earlier_vs_later", "later_vs_earlier"]);
    expect(b.comparisons.length).toBe(9);
  });

  it("balanced synthetic panels, with always-treated units and with the simulator's panel", () => {
    // deterministic balanced panel: never, always, and three adoption cohorts of unequal size
    const rng = new Rng(99);
    const id: number[] = [], t: number[] = [], a: number[] = [], y: number[] = [];
    const plan = [NaN, 1, 3, 3, 5, 7, 7, 7, NaN, 5];
    for (let u = 0; u < 60; u++) {
      const g = plan[u % plan.length];
      const fe = rng.normal();
      for (let s = 1; s <= 8; s++) {
        id.push(u);
        t.push(s);
        a.push(g);
        y.push(fe + 0.1 * s + (s >= g ? 0.5 + 0.2 * (s - g) : 0) + 0.2 * rng.normal());
      }
    }
    const f = Frame.fromColumns({ id: Float64Array.from(id), t: Float64Array.from(t), a: Float64Array.from(a), y: Float64Array.from(y) });
    const b = baconDecomposition(eng, f, { outcome: "y", unit: "id", time: "t", adopt: "a" });
    identity(b);
    expect(b.byType.map((x) => x.type)).toEqual(["treated_vs_never", "earlier_vs_later", "later_vs_earlier", "later_vs_always"]);
    const sim = simulatePanel({ firms: 600, seed: 5 });
    // the simulator's firms that move between cities adopting in different years take their first city's year
    const sb = baconDecomposition(eng, Frame.fromColumns(sim.columns as never), { outcome: "FC", unit: "firm", time: "year", adopt: "adopt", cohortRule: "first" });
    identity(sb);
    expect(sb.warnings.some((w) => w.startsWith("balanced panel"))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
describe("runEventSuite on the simulated panel", () => {
  it("robust estimators recover the planted dynamic path; one grid for the overlay; Bacon table", () => {
    const sim = simulatePanel();
    const frame = Frame.fromColumns(sim.columns as never);
    const truth = sim.truth.fc.attByEventYear;
    const suite = runEventSuite(eng, frame, {
      outcome: "FC", unit: "firm", time: "year", adopt: "adopt", cohortRule: "first", controls: ["Liability", "Q", "Quick", "Eco"], level: 0.95,
    });
    expect(suite.errors).toEqual({});
    for (const method of ["cs", "bjs", "sunab"] as const) {
      let covered = 0;
      for (let h = 0; h <= 4; h++) {
        const pt = suite.overlay.find((x) => x.method === method && x.rel === h)!;
        expect(pt, `${method} ${h}`).toBeDefined();
        if (pt.ciLow <= truth[h] && truth[h] <= pt.ciHigh) covered++;
      }
      expect(covered, method).toBeGreaterThanOrEqual(4);
    }
    expect(suite.grid[0]).toBe(-9);
    expect(suite.grid.at(-1)).toBe(5);
    for (const m of ["twfe", "sunab"] as const) {
      const ref = suite.overlay.find((x) => x.method === m && x.rel === -1)!;
      expect(ref.reference).toBe(true);
    }
    expect(suite.bacon).toBeDefined();
    expect(Math.abs(suite.bacon!.weightSum - 1)).toBeLessThan(1e-10);
    expect(suite.sunab!.att.table.find((r) => r.name === "ATT")!.estimate).toBeGreaterThan(0.15);
    expect(Math.abs(suite.cs!.simple.overall.estimate - sim.truth.fc.att)).toBeLessThan(3 * suite.cs!.simple.overall.se);
    expect(Math.abs(suite.bjs!.overall.estimate - sim.truth.fc.att)).toBeLessThan(3 * suite.bjs!.overall.se + 0.03);
  });
});

// ---------------------------------------------------------------------------------------------
describe("hdfe event (CLI)", () => {
  const run = async (args: string[]): Promise<string> => {
    const program = new Command().exitOverride();
    register(program);
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await program.parseAsync(["node", "hdfe", "event", ...args]);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    return out;
  };
  const data = new URL("mpdta.csv", FIX).pathname;
  const base = ["--data", data, "--outcome", "lemp", "--unit", "countyreal", "--time", "year", "--adopt", "first.treat"];

  it("--method all --json", async () => {
    const j = JSON.parse(await run([...base, "--method", "all", "--level", "0.9", "--json"]));
    expect(j.level).toBe(0.9);
    expect(j.methods).toEqual(["twfe", "sunab", "cs", "bjs", "bacon"]);
    expect(j.overlay.some((x: { method: string }) => x.method === "cs")).toBe(true);
    expect(j.cs.attgt.length).toBe(12);
    expect(Math.abs(j.bacon.weightSum - 1)).toBeLessThan(1e-10);
    expect(j.sunab.coef["year::0"]).toBeCloseTo(-0.0199318167892586, 10);
  });

  it("one method as text", async () => {
    const txt = await run([...base, "--method", "cs", "--control-group", "notyet"]);
    expect(txt).toContain("Callaway & Sant'Anna");
    expect(txt).toContain("not-yet-treated");
    const tw = await run([...base, "--method", "twfe", "--level", "0.9"]);
    expect(tw).toContain("90%");
    expect(tw).toContain("pre-trend");
  });
});

// ---------------------------------------------------------------------------------------------
// Cohorts come from the adoption column: a unit entering the panel after adoption keeps its
// adoption year; a unit whose adoption year varies is an error unless a rule is chosen.

/** Staggered panel (2011-2020) whose units may enter after their adoption year and leave early. */
function entryPanel(seed: number, plan: number[], units = 90): Record<string, Float64Array> {
  const rng = new Rng(seed);
  const c = { id: [] as number[], year: [] as number[], adopt: [] as number[], x: [] as number[], y: [] as number[] };
  for (let u = 0; u < units; u++) {
    const g = plan[u % plan.length];
    const entry = u % 3 === 0 ? 2012 + (u % 6) : 2011;
    const exit = u % 5 === 0 ? 2018 : 2020;
    const a = rng.normal();
    for (let t = entry; t <= exit; t++) {
      const x = 0.4 * a + rng.normal();
      c.id.push(u);
      c.year.push(t);
      c.adopt.push(g);
      c.x.push(x);
      c.y.push(a + 0.1 * (t - 2011) + 0.5 * x + (t >= g ? 0.4 + 0.1 * (t - g) : 0) + 0.3 * rng.normal());
    }
  }
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Float64Array.from(v)]));
}

/** year - adopt, -1000 when never treated: the column fixest's i(rel, ref = c(-1, -1000)) uses. */
const relOf = (f: Frame) => {
  const a = f.numeric("adopt"), t = f.numeric("year");
  return Float64Array.from(t, (v, i) => (Number.isFinite(a[i]) ? v - a[i] : -1000));
};

function writeCsv(cols: Record<string, Float64Array>): string {
  const names = Object.keys(cols);
  const n = cols[names[0]].length;
  const lines = [names.join(",")];
  for (let i = 0; i < n; i++) lines.push(names.map((k) => (Number.isFinite(cols[k][i]) ? String(cols[k][i]) : "")).join(","));
  const file = join(mkdtempSync(join(tmpdir(), "hdfe-event-")), "panel.csv");
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

const ROOT = new URL("..", import.meta.url).pathname;
const hdfe = (...args: string[]) => {
  const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe("cohorts from the adoption column", () => {
  const roles = { outcome: "y", unit: "id", time: "year", adopt: "adopt" };

  const sameAsFeols = (f: Frame, controls: string[]) => {
    const es = eventStudy(eng, f, { ...roles, controls });
    const ref = feols(eng, f.withColumn("rel", relOf(f)), `y ~ i(rel, ref = c(-1, -1000))${controls.map((c) => " + " + c).join("")} | id + year`, { vcov: "cluster:id", fixefRm: "none" });
    expect(es.fit.coefNames).toEqual(ref.coefNames);
    expect(es.nobs).toBe(ref.nobs);
    for (const k of ref.coefNames) {
      expect(rel(es.fit.coef[k], ref.coef[k]), k).toBeLessThan(SAME_REL);
      expect(rel(es.fit.se[k], ref.se[k]), k).toBeLessThan(SAME_REL);
    }
    return { es, ref };
  };

  it("late entrants: the TWFE path equals feols with i(rel, ref = c(-1, -1000)); every estimator uses the adoption year", () => {
    const cols = entryPanel(21, [NaN, 2014, 2016, 2018]);
    const f = Frame.fromColumns(cols);
    // the panel has units entering after their adoption year
    const firstYear = new Map<number, number>();
    cols.id.forEach((u, i) => firstYear.set(u, Math.min(firstYear.get(u) ?? Infinity, cols.year[i])));
    const late = [...firstYear].filter(([u, t0]) => t0 > cols.adopt[cols.id.indexOf(u)]).map(([u]) => u);
    expect(late.length).toBe(7);
    const { es } = sameAsFeols(f, ["x"]);
    expect(es.unidentified).toEqual([]);
    // a late entrant's first relative period is year of entry - adoption year (> 0), not 0
    const u = late[0];
    const i0 = cols.id.indexOf(u);
    expect(preparePanel(f, roles).cohort[preparePanel(f, roles).unitLabels.indexOf(String(u))]).toBe(cols.adopt[i0]);
    // every unit's cohort is its adoption year, whatever periods it is observed in
    const p = preparePanel(f, roles);
    p.unitLabels.forEach((lab, j) => {
      const a = cols.adopt[cols.id.indexOf(Number(lab))];
      expect(Number.isNaN(p.cohort[j]) ? NaN : p.cohort[j]).toBe(a);
    });
    expect(p.warnings).toEqual([]);
    // Sun-Abraham on the panel's cohorts = sunab() on the adoption column (never treated coded 10000)
    const sa = sunabEventStudy(eng, f, roles);
    const fs = f.withColumn("adopt_sa", Float64Array.from(cols.adopt, (v) => (Number.isFinite(v) ? v : 10000)));
    const ref = feols(eng, fs, "y ~ sunab(adopt_sa, year) | id + year", { vcov: "cluster:id", fixefRm: "none" });
    expect(sa.fit.coefNames).toEqual(ref.coefNames);
    for (const k of ref.coefNames) {
      expect(rel(sa.fit.coef[k], ref.coef[k]), k).toBeLessThan(SAME_REL);
      expect(rel(sa.fit.se[k], ref.se[k]), k).toBeLessThan(SAME_REL);
    }
    // CS groups are the adoption years; BJS treats exactly the rows with year >= adopt
    const cs = attGt(f, { ...roles, panel: "unbalanced", bootstrap: false });
    expect([...new Set(cs.attgt.map((r) => r.group))]).toEqual([2014, 2016, 2018]);
    const bjs = imputationDid(eng, f, roles);
    expect(bjs.nTreated).toBe(cols.year.filter((t, i) => t >= cols.adopt[i]).length);
  });

  it("no never-treated unit: still fixest's i(rel) path; terms seen only once every unit is treated are named as not identified", () => {
    const f = Frame.fromColumns(entryPanel(22, [2014, 2017]));
    const { es, ref } = sameAsFeols(f, []);
    // rel 4..6 exist only in 2018-2020, when every unit is treated: collinear with the year effects
    expect(es.unidentified).toEqual([4, 5, 6]);
    expect(ref.collinear).toEqual(["rel::4", "rel::5", "rel::6"]);
    expect(es.path.some((x) => x.rel >= 4)).toBe(false);
    const w = es.warnings.find((x) => x.includes("not identified"))!;
    expect(w).toContain("rel::4, rel::5, rel::6");
    expect(w).toContain("no never-treated unit");
    expect(renderText(runEventSuite(eng, f, { ...roles, methods: ["twfe"] }))).toContain("not identified (collinear with the fixed effects): rel::4, rel::5, rel::6");
  });

  it("every unit adopts in the same year: a SampleError naming the unidentified terms, from the library and the CLI (exit 6)", () => {
    const cols = entryPanel(23, [2015]);
    const f = Frame.fromColumns(cols);
    let err: unknown;
    try {
      eventStudy(eng, f, roles);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SampleError);
    const msg = (err as SampleError).message;
    expect(msg).toContain("every unit in the sample adopts in 2015 and none is never treated");
    expect(msg).toContain("rel::-4, rel::-3, rel::-2, rel::0, rel::1, rel::2, rel::3, rel::4, rel::5 are collinear with the year fixed effects");
    expect((err as SampleError).hint).toMatch(/never-treated units or units adopting later/);
    // with a never-treated group the same cohort is identified
    const withNever = Frame.fromColumns(entryPanel(23, [2015, NaN]));
    expect(eventStudy(eng, withNever, roles).path.filter((x) => !x.reference).length).toBe(9);
    const file = writeCsv(cols);
    const base = ["event", "--data", file, "--outcome", "y", "--unit", "id", "--time", "year", "--adopt", "adopt"];
    const r = hdfe(...base, "--method", "twfe");
    expect(r.code, r.err).toBe(6);
    expect(r.err).toContain("rel::-4, rel::-3");
    // every estimator fails on this design: the command fails too, each reason printed
    const all = hdfe(...base, "--method", "all", "--draws", "10");
    expect(all.code, all.err).toBe(6);
    expect(all.err).toMatch(/cs: not estimated \(no never-treated unit/);
  });

  /** entryPanel with units 1, 2 and 3 moving in 2017 to a location adopting in another year (or never). */
  const movers = () => {
    const cols = entryPanel(24, [NaN, 2014, 2016, 2018]);
    const to: Record<number, number> = { 1: 2019, 2: NaN, 3: 2016 };
    cols.adopt = Float64Array.from(cols.adopt, (a, i) => (cols.id[i] in to && cols.year[i] >= 2017 ? to[cols.id[i]] : a));
    return cols;
  };

  it("a unit whose adoption year varies: a PanelError naming the units; --cohort first / earliest / drop time them explicitly", () => {
    const cols = movers();
    const f = Frame.fromColumns(cols);
    for (const run of [() => eventStudy(eng, f, roles), () => preparePanel(f, roles), () => runEventSuite(eng, f, { ...roles, bootstrap: false })]) {
      let err: unknown;
      try {
        run();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PanelError);
      expect((err as PanelError).message).toBe('3 unit(s) have more than one adoption year in "adopt": "1" (2014, 2019), "2" (2016, never), "3" (2016, 2018)');
      expect((err as PanelError).details).toEqual({ units: 3, examples: ["1", "2", "3"] });
      expect((err as PanelError).hint).toMatch(/define it upstream.*--cohort first/);
    }
    const first = preparePanel(f, { ...roles, cohortRule: "first" });
    const earliest = preparePanel(f, { ...roles, cohortRule: "earliest" });
    const drop = preparePanel(f, { ...roles, cohortRule: "drop" });
    const cohortOf = (p: ReturnType<typeof preparePanel>, u: string) => p.cohort[p.unitLabels.indexOf(u)];
    expect([cohortOf(first, "1"), cohortOf(first, "2"), cohortOf(first, "3")]).toEqual([2014, 2016, 2018]);
    expect([cohortOf(earliest, "1"), cohortOf(earliest, "2"), cohortOf(earliest, "3")]).toEqual([2014, 2016, 2016]);
    expect(first.adoptionVaries).toBe(3);
    // under "first" each has rows whose own treatment differs: 1 and 2 untreated by their rows from 2017, 3 treated in 2017
    expect(first.nonAbsorbing).toBe(3);
    expect(first.warnings[0]).toContain("for 3 of them some rows' own treatment");
    expect(first.warnings[0]).toContain('3 unit(s) have more than one adoption year in "adopt"');
    expect(first.warnings[0]).toContain("each takes the adoption year on its first observed row");
    expect(drop.nUnits).toBe(first.nUnits - 3);
    expect(drop.unitLabels).not.toContain("2");
    expect(drop.warnings[0]).toMatch(/^3 unit\(s\) with more than one adoption year in "adopt" dropped, 26 rows /);
    // the rule's TWFE = fixest's i(rel) on a per-unit adoption column built the same way
    const es = eventStudy(eng, f, { ...roles, cohortRule: "first" });
    const firstAdopt = new Map<number, number>();
    cols.id.forEach((u, i) => (firstAdopt.has(u) ? null : firstAdopt.set(u, cols.adopt[i])));
    const fixed = f.withColumn("adopt", Float64Array.from(cols.id, (u) => firstAdopt.get(u)!));
    const ref = feols(eng, fixed.withColumn("rel", relOf(fixed)), "y ~ i(rel, ref = c(-1, -1000)) | id + year", { vcov: "cluster:id", fixefRm: "none" });
    expect(es.fit.coefNames).toEqual(ref.coefNames);
    for (const k of ref.coefNames) expect(rel(es.fit.coef[k], ref.coef[k]), k).toBeLessThan(SAME_REL);
    // timing "row" keeps each row's own value (the data's rel column) and says so
    const row = eventStudy(eng, f, { ...roles, timing: "row" });
    expect(row.warnings[0]).toMatch(/^3 unit\(s\) have more than one adoption year .* timed from its own value/);
  });

  it("CLI: varying adoption exits 11 (panel) naming the units and the remedy; --cohort first runs and reports them", () => {
    const file = writeCsv(movers());
    const base = ["event", "--data", file, "--outcome", "y", "--unit", "id", "--time", "year", "--adopt", "adopt", "--method", "twfe"];
    const r = hdfe(...base);
    expect(r.code, r.err).toBe(11);
    expect(r.err).toContain('3 unit(s) have more than one adoption year in "adopt": "1" (2014, 2019), "2" (2016, never), "3" (2016, 2018)');
    expect(r.err).toContain("--cohort first");
    const ok = hdfe(...base, "--cohort", "first", "--json");
    expect(ok.code, ok.err).toBe(0);
    expect(ok.err).toContain("warning: 3 unit(s) have more than one adoption year");
    expect(JSON.parse(ok.out).twfe.unidentified).toEqual([]);
    const bad = hdfe(...base, "--cohort", "last");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--cohort must be one of constant, first, earliest, drop");
  });

  it("study panel: 21 firms move between cities with different adoption years; the suite's Figure 1b times them by their first city and says so", () => {
    const r = { outcome: "FC", unit: "firm", time: "year", adopt: "adopt" };
    expect(() => runEventSuite(eng, frames.cbec, { ...r, methods: ["twfe"] })).toThrow(/^21 unit\(s\) have more than one adoption year in "adopt": "7" \(2020, never\), "312" \(2016, 2019\)/);
    // the fixest reference (row timing) is unchanged and reports the movers
    const es = eventStudy(eng, frames.cbec, { ...r, controls: CONTROLS, timing: "row", level: 0.9 });
    expect(es.warnings[0]).toMatch(/^21 unit\(s\) have more than one adoption year .* timed from its own value/);
    const ctx = {
      eng, frame: frames.cbec, roles: { ...r, controls: CONTROLS },
      opts: { eventLevel: 0.9, seed: 20250101 },
    } as unknown as SuiteContext;
    const sec = robustEventSection(ctx);
    expect(sec.results.errors).toEqual({});
    expect(sec.text.some((t) => t.startsWith('21 unit(s) have more than one adoption year in "adopt"') && t.includes("first observed row"))).toBe(true);
    expect(sec.figures[0].notes.some((n) => n.includes("takes the value of its first observed row"))).toBe(true);
    // its TWFE equals fixest's i(rel) with each firm's first-row adoption year
    const frame = frames.cbec;
    const firm = frame.codes("firm").codes, a = frame.numeric("adopt"), yr = frame.numeric("year");
    const firstA = new Map<number, [number, number]>();
    for (let i = 0; i < frame.nrows; i++) {
      const cur = firstA.get(firm[i]);
      if (!cur || yr[i] < cur[0]) firstA.set(firm[i], [yr[i], a[i]]);
    }
    const fixed = frame.withColumn("adopt", Float64Array.from(firm, (u) => firstA.get(u)![1]));
    const twfe = eventStudy(eng, frame, { ...r, controls: CONTROLS, cohortRule: "first", level: 0.9 });
    // always-treated firms (first city adopting in 2011 or before) are dropped by eventStudy: none here
    expect(twfe.warnings.some((w) => w.includes("always-treated"))).toBe(false);
    const ref = feols(eng, fixed.withColumn("rel", relOf(fixed)), `FC ~ i(rel, ref = c(-1, -1000)) + ${CONTROLS.join(" + ")} | firm + year`, { vcov: "cluster:firm", fixefRm: "none" });
    expect(twfe.fit.coefNames).toEqual(ref.coefNames);
    for (const k of ref.coefNames) expect(rel(twfe.fit.coef[k], ref.coef[k]), k).toBeLessThan(SAME_REL);
  });
});
