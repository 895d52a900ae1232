// The suite's regression tables are built by etable(): the options it uses (rows, rename,
// fixefGroup, extralines, published, statDigits, skipped columns, notes only) checked on small
// tables, and the suite's Table 3 / Table 6 on the reference panel checked number by number
// against the suite's own results records (results.json), which come from the fits directly.
//
// Tolerances: coefficients, SEs and p-values exact (the same doubles); R2 rows equal the fit's
// R2 rounded to 3 decimals, the SE rows the alternative SE rounded to 4 (as the suite states).
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit } from "../bindings/estimators/feols.js";
import { etableTable } from "../bindings/report/etable.js";
import { runSuite, type SuiteResult } from "../bindings/suite/run.js";
import { DEFAULT_ROLES, parseRoles } from "../bindings/suite/roles.js";
import { OptionError } from "../bindings/base/errors.js";
import type { RegressionTable } from "../bindings/report/types.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";

let eng: Engine;
let frame: Frame;
let a: Fit, b: Fit;
let res: SuiteResult;

beforeAll(async () => {
  eng = await loadEngine();
  frame = Frame.fromArrow((await readFile(new URL("cbec_panel.csv", FIX).pathname)).table);
  a = feols(eng, frame, "FC ~ did + Fin | firm + year");
  b = feols(eng, frame, "FC ~ did + Fin | firm + year + region[year]");
  const roles = parseRoles({
    outcome: "FC", unit: "firm", time: "year", city: "city", region: "region", adopt: "adopt", zone: "zone", did: "did",
    controls: ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"], altOutcomes: ["SA"], mechanisms: ["Export", "Digitalisation", "Agg"],
    splits: DEFAULT_ROLES.splits, smartPost: "smart_post", innovPost: "innov_post",
  });
  res = await runSuite(eng, frame, roles, { fixefRm: "none", draws: 0, extensions: false });
}, 240_000);

describe("etable options the suite uses", () => {
  it("fixefGroup rows (Yes / No / Partial), grouped FE without rows of their own", () => {
    const t = etableTable([a, b], { fixefGroup: { "Panel FE": ["^firm$", "^year$"], Trends: ["^region$", "^region\\[\\[year\\]\\]$"], Half: ["^firm$", "^city$"] } });
    expect(t.columns.map((c) => [c.stats["Panel FE"], c.stats.Trends, c.stats.Half])).toEqual([["Yes", "No", "Partial"], ["Yes", "Yes", "Partial"]]);
    expect(Object.keys(t.columns[1].stats).filter((k) => /firm|year|region/.test(k))).toEqual([]);
  });

  it("dropSection (fixest's drop.section): no FE rows, or no slope rows", () => {
    const keys = (o: Parameters<typeof etableTable>[1]) => Object.keys(etableTable([a, b], o).columns[1].stats);
    expect(keys({})).toEqual(expect.arrayContaining(["firm", "year", "region", "year (region)"]));
    expect(keys({ dropSection: ["slopes"] })).toEqual(expect.arrayContaining(["firm", "year", "region"]));
    expect(keys({ dropSection: ["slopes"] })).not.toContain("year (region)");
    expect(keys({ dropSection: ["fixef"] })).toEqual(["year (region)", "Observations", "R2", "Within R2"]);
    expect(keys({ dropSection: ["fixef", "slopes"] })).toEqual(["Observations", "R2", "Within R2"]);
  });

  it("rows, rename (merged into one row), labels, headers, published, extralines, statDigits, a skipped column, notes only", () => {
    const lead = feols(eng, frame.withColumn("x_alias", frame.numeric("did")), "FC ~ x_alias + Fin | firm + year");
    const t: RegressionTable = etableTable([a, { skipped: "not estimable" }, lead], {
      rows: ["did"], rename: { x_alias: "did" }, labels: ["A", "B", "C"], headers: ["h1", undefined, "h3"],
      published: [{ coef: "did", estimate: 0.1 }, undefined, undefined], extralines: { Extra: [1, "", 3] }, statDigits: 3,
      defaultNotes: false, notes: ["only this"],
    });
    expect(t.rows).toEqual(["did"]);
    expect(t.columns.map((c) => c.label)).toEqual(["A", "B", "C"]);
    expect(t.columns.map((c) => c.header)).toEqual(["h1", undefined, "h3"]);
    expect(t.columns[2].coefs.did.estimate).toBe(lead.coef.x_alias);
    expect(t.columns[2].coefs.did.se).toBe(lead.se.x_alias);
    expect(Object.keys(t.columns[0].coefs)).toEqual(["did"]); // Fin is not a row
    expect(t.columns[1]).toMatchObject({ skipped: "not estimable", coefs: {} });
    expect(t.columns[0].published).toEqual({ coef: "did", estimate: 0.1 });
    expect(t.columns[2].stats.Extra).toBe(3);
    expect(t.columns[0].stats.R2).toBe(Number(a.r2.toFixed(3)));
    expect(t.columns[0].stats.Observations).toBe(a.nobs);
    expect(t.notes).toEqual(["only this"]);
    expect(() => etableTable([a, b], { labels: ["one"] })).toThrow(OptionError);
    expect(() => etableTable([a, b], { extralines: { x: [1] } })).toThrow(/extralines/);
  });
});

describe("the suite's tables through etable carry the fits' numbers", () => {
  const table = (id: string) => res.report.sections.flatMap((s) => s.tables).find((t) => t.id === id) as RegressionTable;
  it("Table 3: coefficients, FE groups from the formulas, rounded R2 and SE rows", () => {
    const t = table("table3");
    const rec = res.results.table3 as { coef: Record<string, number>; se: Record<string, number>; p: Record<string, number>; r2: number; nobs: number; se_alternatives: Record<string, number> }[];
    expect(t.columns.length).toBe(4);
    t.columns.forEach((c, j) => {
      for (const n of t.rows) {
        if (!(n in rec[j].coef)) {
          expect(c.coefs[n]).toBeUndefined();
          continue;
        }
        expect(c.coefs[n].estimate).toBe(rec[j].coef[n]);
        expect(c.coefs[n].se).toBe(rec[j].se[n]);
        expect(c.coefs[n].p).toBe(rec[j].p[n]);
      }
      expect(c.stats.Observations).toBe(rec[j].nobs);
      expect(c.stats.R2).toBe(Number(rec[j].r2.toFixed(3)));
      expect(c.stats["SE hetero"]).toBe(Number(rec[j].se_alternatives.hetero.toFixed(4)));
      expect([c.stats["Firm FE"], c.stats["Year FE"], c.stats["City FE"], c.stats["Region trends"]]).toEqual(["Yes", "Yes", j >= 2 ? "Yes" : "No", j === 3 ? "Yes" : "No"]);
    });
  });
  it("Table 6: the shifted DiD terms on the DiD row", () => {
    const t = table("table6");
    const rec = res.results.table6 as Record<string, { coef: Record<string, number>; se: Record<string, number> }>;
    expect(t.columns[0].coefs.did.estimate).toBe(rec.lead1.coef.did_lead1);
    expect(t.columns[1].coefs.did.se).toBe(rec.lead2.se.did_lead2);
    expect(t.columns[2].coefs.did.estimate).toBe(rec.confounders.coef.did);
  });
});
