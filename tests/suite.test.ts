// The suite (hdfe suite): every regression it runs on the reference panel with a roles
// file agrees with the fixest reference model of the same specification; on the embedded
// synthetic panel the planted effects come back; bad roles and thin panels give clear
// skip reasons while the rest of the report is still produced.
//
// Tolerances: against fixest as in tests/fixest.test.ts (coefficients 1e-8 relative, SEs
// 1e-6 relative, nobs exact). Planted-effect checks are statistical: the planted ATT must
// lie inside the baseline 95% CI; the pre-trend Wald test must not reject at 5%.
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { simulatePanel } from "../bindings/sim/simulate.js";
import { runSuite, type SuiteResult } from "../bindings/suite/run.js";
import { DEFAULT_ROLES, parseRoles } from "../bindings/suite/roles.js";
import { RolesError, NonConvergenceError } from "../bindings/base/errors.js";
import type { Engine } from "../bindings/engine/wasm.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const FIX = new URL("./fixtures/reference/", import.meta.url);
type Rec = { nobs: number; coef: Record<string, number>; se: Record<string, number> };
const refs: Record<string, Rec & { id: string }> = Object.fromEntries(
  (JSON.parse(readFileSync(new URL("cbec_panel_fixest.json", FIX), "utf8")) as (Rec & { id: string })[]).map((m) => [m.id, m]),
);

let eng: Engine;
let onRef: SuiteResult;
let onSim: SuiteResult;
let sim: ReturnType<typeof simulatePanel>;

beforeAll(async () => {
  eng = await loadEngine();
  const { table } = await readFile(new URL("cbec_panel.csv", FIX).pathname);
  // the reference panel has no Table 4/5 extras except SA, and fixest keeps singletons
  const roles = parseRoles({
    outcome: "FC", unit: "firm", time: "year", city: "city", region: "region", adopt: "adopt", zone: "zone", did: "did",
    controls: ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"],
    altOutcomes: ["SA"], mechanisms: ["Export", "Digitalisation", "Agg"],
    splits: DEFAULT_ROLES.splits, smartPost: "smart_post", innovPost: "innov_post",
  });
  onRef = await runSuite(eng, Frame.fromArrow(table), roles, { fixefRm: "none", draws: 0 });
  sim = simulatePanel({});
  onSim = await runSuite(eng, Frame.fromColumns(sim.columns), DEFAULT_ROLES, { draws: 0 });
});

function agree(got: Rec, refId: string, rename: Record<string, string> = {}) {
  const ref = refs[refId];
  expect(got.nobs, refId).toBe(ref.nobs);
  for (const [k, v] of Object.entries(ref.coef)) {
    const g = rename[k] ?? k;
    expect(Math.abs(got.coef[g] - v) / Math.abs(v), `${refId} coef ${k}`).toBeLessThan(COEF_REL);
    expect(Math.abs(got.se[g] - ref.se[k]) / ref.se[k], `${refId} se ${k}`).toBeLessThan(SE_REL);
  }
}

describe("suite on the reference panel agrees with fixest", () => {
  it("Table 3, all four columns", () => {
    const t3 = onRef.results.table3 as Rec[];
    agree(t3[0], "t3c1_cl_firm");
    agree(t3[1], "t3c2_cl_firm");
    agree(t3[2], "t3c3_cl_firm");
    agree(t3[3], "t3c4_cl_firm");
  });
  it("Table 4 (SA) and Table 9 (mechanisms)", () => {
    agree((onRef.results.table4 as Rec[])[0], "outcome_SA");
    const t9 = onRef.results.table9 as (Rec & { outcome: string })[];
    for (const m of t9) agree(m, `outcome_${m.outcome}`);
  });
  it("Table 6: in-time placebos and confounding policies", () => {
    const t6 = onRef.results.table6 as Record<string, Rec>;
    agree(t6.lead1, "placebo_time_1");
    agree(t6.lead2, "placebo_time_2");
    agree(t6.confounders, "confounders");
  });
  it("Figure 1: TWFE event study", () => {
    agree(onRef.results.figure1 as Rec, "event_study");
    // rows timed by their own adoption year, as the reference's rel column; the 21 firms that move
    // between cities adopting in different years are counted and the rule stated
    const f1 = onRef.results.figure1 as { timing: string; adoption_varies: number };
    expect(f1.timing).toBe("row");
    expect(f1.adoption_varies).toBe(21);
    const text = onRef.report.sections.find((s) => s.id === "figure1")!.text;
    expect(text.some((t) => t.includes("21 firm(s) with more than one adopt value") && t.includes("e.g. 7, 312"))).toBe(true);
  });
  it("Table 8: every subsample", () => {
    const t8 = onRef.results.table8 as Record<string, Rec>;
    const ids: Record<string, string> = {
      "region=east": "region_east", "region=central": "region_central", "region=west": "region_west",
      "export_type=0": "export_type_0", "export_type=1": "export_type_1", "hightech=0": "hightech_0", "hightech=1": "hightech_1",
      "polluting=0": "polluting_0", "polluting=1": "polluting_1", "tier=prefecture": "tier_prefecture",
      "tier=subprovincial": "tier_subprovincial", "tier=municipality": "tier_municipality",
    };
    for (const [k, id] of Object.entries(ids)) agree(t8[k], id);
  });
  it("sections without data are skipped with a reason, the rest is there", () => {
    const t5 = onRef.report.sections.find((s) => s.id === "table5")!;
    expect(t5.skipped).toMatch(/no extra controls/);
    expect(onRef.report.sections.filter((s) => !s.skipped).length).toBeGreaterThanOrEqual(7);
  });
});

describe("suite on the embedded synthetic panel recovers the planted effects", () => {
  it("planted ATT inside the baseline 95% CI", () => {
    const base = onSim.report.sections.find((s) => s.id === "table3")!.tables[0];
    if (base.kind !== "regression") throw new Error("table3 is a regression table");
    const c = base.columns[1].coefs.did;
    expect(c.ci![0]).toBeLessThan(sim.truth.fc.att);
    expect(c.ci![1]).toBeGreaterThan(sim.truth.fc.att);
  });
  it("event-study leads jointly insignificant, effect positive after adoption", () => {
    const f1 = onSim.results.figure1 as { pretrend_wald: { p_F: number }; path: { x: number; estimate: number }[] };
    expect(f1.pretrend_wald.p_F).toBeGreaterThan(0.05);
    const post = f1.path.filter((p) => p.x >= 0 && p.x <= 3);
    for (const p of post) expect(p.estimate).toBeGreaterThan(0.05);
  });
  it("east shows the largest effect", () => {
    const t8 = onSim.results.table8 as Record<string, Rec>;
    const e = t8["region=east"].coef.did;
    expect(e).toBeGreaterThan(t8["region=central"].coef.did);
    expect(e).toBeGreaterThan(t8["region=west"].coef.did);
  });
  it("mechanisms positive, innovative-city effect but no smart-city effect", () => {
    const t9 = onSim.results.table9 as (Rec & { outcome: string })[];
    for (const m of t9) expect(m.coef.did, m.outcome).toBeGreaterThan(0);
    const conf = (onSim.results.table6 as Record<string, Rec & { p: Record<string, number> }>).confounders;
    expect(conf.p.innov_post).toBeLessThan(0.05);
    expect(conf.p.smart_post).toBeGreaterThan(0.05);
  });
});

describe("bad roles and thin panels", () => {
  it("a roles file with an unknown role or a missing required role is a RolesError", () => {
    expect(() => parseRoles({ outcome: "FC" })).toThrow(RolesError);
    expect(() => parseRoles({ ...DEFAULT_ROLES, colour: "x" })).toThrow(/unknown role "colour"/);
    expect(() => parseRoles({ ...DEFAULT_ROLES, controls: "Fin" })).toThrow(/list of column names/);
  });
  it("a model whose FE projections do not converge is never reported: its column or section says why", async () => {
    const sim = simulatePanel({ firms: 300, seed: 7 });
    // every model stops at one iteration: the baseline cannot be estimated, and the suite stops
    // with the baseline's own error (exit 7 on the command line), not a table of unconverged numbers
    const err = await runSuite(eng, Frame.fromColumns(sim.columns), DEFAULT_ROLES, { draws: 0, fixefIter: 1, fixefTol: 1e-14 }).catch((e) => e);
    expect(err).toBeInstanceOf(NonConvergenceError);
    expect(err.message).toMatch(/^the baseline model \(Table 3, column 2\) could not be estimated: .*converge/);
    // a looser limit: everything converges and is reported as usual
    const ok = await runSuite(eng, Frame.fromColumns(sim.columns), DEFAULT_ROLES, { draws: 0, fixefIter: 10_000 });
    expect(ok.report.sections.find((x) => x.id === "table3")!.skipped).toBeUndefined();
  });

  it("duplicated (unit, time) pairs stop the suite with the rows named, unless allowed", async () => {
    const f = Frame.fromColumns(sim.columns);
    const rows = Array.from({ length: f.nrows }, (_, i) => i);
    const dup = f.take([...rows, 3, 10]);
    await expect(runSuite(eng, dup, DEFAULT_ROLES, { draws: 0 })).rejects.toThrow(/2 duplicated \(firm, year\) pairs: firm \d+, year \d+ \(rows 4, \d+\)/);
    const ok = await runSuite(eng, dup, DEFAULT_ROLES, { draws: 0, allowDuplicates: true });
    expect(ok.report.conventions.join(" ")).toMatch(/2 duplicated \(firm, year\) rows kept/);
  });

  it("a panel without a required column stops with the column named", async () => {
    const f = Frame.fromColumns(sim.columns).take(Array.from({ length: 200 }, (_, i) => i));
    await expect(runSuite(eng, f, { ...DEFAULT_ROLES, controls: ["Nope"] })).rejects.toThrow(/lacks the columns the suite needs: Nope/);
  });
  it("a split level with too few rows is reported, the other levels still estimated", () => {
    const t8 = onSim.report.sections.find((s) => s.id === "table8")!;
    const tier = t8.tables.find((t) => t.id === "table8_tier");
    expect(tier).toBeDefined();
    const thin = Frame.fromColumns(sim.columns);
    const hi = thin.numeric("hightech");
    const rows = Array.from({ length: thin.nrows }, (_, i) => i).filter((i) => hi[i] === 0 || i % 400 === 0);
    return runSuite(eng, thin.take(rows), DEFAULT_ROLES, { draws: 0 }).then((r) => {
      const sec = r.report.sections.find((s) => s.id === "table8")!;
      expect(sec.text.join(" ")).toMatch(/High-tech = High-tech: \d+ rows: too few to estimate/);
      expect((r.results.table8 as Record<string, unknown>)["hightech=0"]).toBeDefined();
    });
  });
});
