// etable with IV and GLM fits beside feols: the produced Markdown and CSV are read back and every
// number is checked against the fit it came from (coefficients fit_<endo> of the second stage,
// fixest's IV statistics ivf1 / ivwald1 per endogenous regressor, ivf2, wh, sargan, cd; the
// GLM statistics sq.cor, pr2, apr2, wpr2, ll, deviance, aic, bic; the family row; the note on
// z-based p-values), a table vcov recomputed by each estimator's own function, the saved JSON
// of IV and GLM fits, and the LaTeX compiled with pdflatex (skipped without it, failing
// under CI=true).
//
// Tolerances: Markdown numbers within half a unit of their last printed digit (plus 1e-12
// relative, tests/table-parse.ts); CSV numbers exact.
import { describe, it, expect, beforeAll } from "vitest";
import { hasLatex, LATEX_SKIP_WHY, expectLatexCompiles } from "./latex.js";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit } from "../bindings/estimators/feols.js";
import { iv, ivWithVcov, type IvFit } from "../bindings/estimators/iv.js";
import { fepois, feglm, withVcovGlm, type GlmFit } from "../bindings/estimators/glm.js";
import { etable, etableTable, tableModelOfJson } from "../bindings/report/etable.js";
import { ivFitToJson } from "../bindings/report/iv.js";
import { glmToJson } from "../bindings/report/glm.js";
import { fitToJson } from "../bindings/report/summary.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";
import { expectShown, parseMd, parseCsv } from "./table-parse.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

let eng: Engine;
let ols: Fit, iv1: IvFit, ivOver: IvFit, iv2: IvFit, pois: GlmFit, logit: GlmFit;
let all: (Fit | GlmFit)[];

beforeAll(async () => {
  eng = await loadEngine();
  const f = Frame.fromArrow((await readFile(new URL("cbec_panel_ext.csv", FIX).pathname)).table);
  ols = feols(eng, f, "FC ~ Fin + Eco | firm + year");
  iv1 = iv(eng, f, "FC ~ Fin + Eco | firm + year | Export ~ Digitalisation");
  ivOver = iv(eng, f, "FC ~ Fin + Eco | firm + year | Export ~ Digitalisation + did");
  iv2 = iv(eng, f, "FC ~ Fin | firm + year | Export + Agg ~ did + Digitalisation + Eco");
  pois = fepois(eng, f, "Digitalisation ~ did + Fin + Eco | firm + year");
  logit = feglm(eng, f, "FC_hi ~ did + Fin + Eco | firm", { family: "logit" });
  all = [ols, iv1, ivOver, iv2, pois, logit];
}, 240_000);

const isGlm = (m: Fit | GlmFit): m is GlmFit => "zstat" in m;
const ivOf = (m: Fit | GlmFit) => ("iv" in m ? (m as IvFit).iv : null);

/** Each statistic by fixest's name as the fit holds it (undefined: the model type has none). */
function statOf(m: Fit | GlmFit, key: string): number | undefined {
  const info = ivOf(m);
  if (key.includes("::")) {
    const [k, e] = key.split("::");
    return info ? (k === "ivf1" ? info.fitstat.ivf1[e]?.stat : info.fitstat.ivwald1[e]?.stat) : undefined;
  }
  if (isGlm(m)) {
    const s = m.stats;
    return ({ nobs: m.nobs, "sq.cor": s.sqCor, pr2: s.pr2, apr2: s.apr2, wpr2: s.wpr2 ?? undefined, ll: s.loglik, deviance: s.deviance, aic: s.aic, bic: s.bic } as Record<string, number | undefined>)[key];
  }
  const base: Record<string, number | undefined> = { nobs: m.nobs, r2: m.r2 };
  if (info) Object.assign(base, { ivf2: info.fitstat.ivf2.stat, wh: info.fitstat.wh.stat, sargan: info.fitstat.sargan?.stat, cd: info.fitstat.cd });
  return base[key];
}

const STATS: [string, string][] = [
  ["nobs", "Observations"], ["r2", "R²"],
  ["ivf1::Export", "F-test (1st stage), Export"], ["ivf1::Agg", "F-test (1st stage), Agg"], ["ivwald1::Export", "Wald (1st stage), Export"],
  ["ivf2", "F-test (2nd stage)"], ["wh", "Wu-Hausman"], ["sargan", "Sargan"], ["cd", "Cragg-Donald"],
  ["sq.cor", "Squared Cor."], ["pr2", "Pseudo R²"], ["apr2", "Adj. Pseudo R²"], ["wpr2", "Within Pseudo R²"],
  ["ll", "Log-Likelihood"], ["deviance", "Deviance"], ["aic", "AIC"], ["bic", "BIC"],
];
const FITSTAT = ["nobs", "r2", "ivf", "ivwald1", "ivf2", "wh", "sargan", "cd", "sq.cor", "pr2", "apr2", "wpr2", "ll", "deviance", "aic", "bic", "family"];
const STAR = (p: number) => (p < 0.01 ? "***" : p < 0.05 ? "**" : p < 0.1 ? "*" : "");

describe("etable of feols, IV and GLM fits: Markdown read back", () => {
  it("every coefficient (fit_ names), SE, star and statistic is the fit's; empty where a model has none", () => {
    const md = etable(all, { format: "md", fitstat: FITSTAT });
    const { header, rows } = parseMd(md);
    expect(header.slice(1)).toEqual(all.map((m, j) => `${m.parsed.lhs}<br>(${j + 1})`));
    const labels = rows.map((r) => r.label);
    for (const n of ["fit_Export", "fit_Agg", "did", "Fin", "Eco"]) expect(labels).toContain(n);
    let checked = 0;
    for (let r = 0; r < rows.length; r++) {
      const name = rows[r].label;
      if (!all.some((m) => name in m.coef)) continue;
      all.forEach((m, j) => {
        if (!(name in m.coef)) return expect(rows[r].cells[j]).toBe("");
        const c = rows[r].cells[j].match(/^(.*?)(\**)$/)!;
        expectShown(c[1], m.coef[name], `${name} (${j + 1})`);
        expect(c[2]).toBe(STAR(m.pvalue[name]));
        expectShown(rows[r + 1].cells[j].slice(1, -1), m.se[name], `se ${name} (${j + 1})`);
        checked++;
      });
    }
    expect(checked).toBe(all.reduce((a, m) => a + m.coefNames.length, 0));
    const stat = (label: string) => rows.find((x) => x.label === label)?.cells;
    for (const [key, label] of STATS) {
      const cells = stat(label);
      expect(cells, label).toBeDefined();
      all.forEach((m, j) => {
        const v = statOf(m, key);
        if (v === undefined) expect(cells![j], `${label} (${j + 1})`).toBe("");
        else expectShown(cells![j], v, `${label} (${j + 1})`);
      });
    }
    expect(stat("Family")).toEqual(["OLS", "OLS", "OLS", "OLS", "Poisson", "Logit"]);
    // a statistic only some models have is still a row; one no model has would be empty everywhere
    expect(stat("Sargan")!.filter(Boolean).length).toBe(2); // over-identified: (3) and (4)
    expect(md).toContain("p-values (and stars) from z statistics (normal distribution) in (5), (6); from t statistics elsewhere.");
  });

  it("default statistics follow the models: GLM columns add sq.cor, pr2, bic; IV columns the first-stage F", () => {
    const t = etableTable([ols, iv1, pois]);
    const keys = Object.keys(t.columns[0].stats);
    expect(keys).toEqual(expect.arrayContaining(["Observations", "R2", "Within R2", "Squared Cor.", "Pseudo R2", "BIC", "F-test (1st stage), Export", "Family"]));
    expect(t.columns[1].stats["F-test (1st stage), Export"]).toBe(iv1.iv.fitstat.ivf1.Export.stat);
    expect(t.columns[2].stats.BIC).toBe(pois.stats.bic);
    expect(etableTable([ols, iv1]).columns[0].stats.Family).toBeUndefined(); // one family: no row (fixest)
    expect(etableTable([iv1]).notes.some((n) => /z statistics/.test(n))).toBe(false);
    expect(etableTable([pois]).notes).toContain("p-values (and stars) from z statistics (normal distribution).");
  });

  it("a table vcov is recomputed by each estimator (IV statistics and GLM variances too)", () => {
    const t = etableTable([iv1, pois], { vcov: "hetero", engine: eng, fitstat: ["ivf1", "pr2"] });
    const ivH = ivWithVcov(eng, iv1, "hetero"), poisH = withVcovGlm(eng, pois, "hetero");
    expect(t.columns[0].coefs.fit_Export.se).toBe(ivH.se.fit_Export);
    expect(t.columns[0].stats["F-test (1st stage), Export"]).toBe(ivH.iv.fitstat.ivf1.Export.stat);
    expect(ivH.iv.fitstat.ivf1.Export.stat).not.toBe(iv1.iv.fitstat.ivf1.Export.stat); // ivf1's df2 moves with the vcov
    expect(t.columns[1].coefs.did.se).toBe(poisH.se.did);
    expect(t.notes[0]).toBe(`Standard errors: ${ivH.vcovLabel}.`);
  });
});

describe("etable of IV and GLM fits: CSV to the bit, saved JSON alike", () => {
  it("every number equals the fit's", () => {
    const rows = parseCsv(etable(all, { format: "csv", fitstat: FITSTAT }));
    const head = rows[0];
    const col = (j: number) => head.indexOf(`${all[j].parsed.lhs} (${j + 1}) estimate`);
    let n = 0;
    for (const r of rows.slice(1)) {
      all.forEach((m, j) => {
        const cell = r[col(j)];
        if (r[0] === "coef") {
          if (!(r[1] in m.coef)) return expect(cell).toBe("");
          expect(Number(cell)).toBe(m.coef[r[1]]);
          expect(Number(r[col(j) + 1])).toBe(m.se[r[1]]);
          expect(Number(r[col(j) + 2])).toBe(m.pvalue[r[1]]);
          n++;
          return;
        }
        const st = STATS.find(([, label]) => label.replace("²", "2") === r[1]);
        if (!st) return;
        const v = statOf(m, st[0]);
        expect(cell, `${r[1]} (${j + 1})`).toBe(v === undefined ? "" : String(v));
        n++;
      });
    }
    expect(n).toBe(all.reduce((a, m) => a + m.coefNames.length, 0) + STATS.length * all.length);
  });

  it("the saved JSON of IV and GLM fits (ivFitToJson, glmToJson) gives the same table", () => {
    const json = (m: Fit | GlmFit) => (isGlm(m) ? glmToJson(m) : ivOf(m) ? ivFitToJson(m as IvFit) : fitToJson(m));
    const saved = all.map((m) => tableModelOfJson(JSON.parse(JSON.stringify(json(m)))));
    const opts = { format: "csv" as const, fitstat: FITSTAT };
    expect(etable(saved, opts)).toBe(etable(all, opts));
  });
});


describe("etable of IV and GLM fits: LaTeX", () => {
  it("pdflatex is there under CI (the compile test must not be skipped)", () => {
    if (process.env.CI === "true") expect(hasLatex, LATEX_SKIP_WHY).toBe(true);
  });
  it.skipIf(!hasLatex)(`compiles with pdflatex and booktabs${hasLatex ? "" : ` (SKIPPED: ${LATEX_SKIP_WHY})`}`, () => {
    const tex = etable(all, { format: "tex", fitstat: FITSTAT, dict: { fit_Export: "Export (IV) & fit_%" } });
    expectLatexCompiles(tex);
  });
});

describe("hdfe etable of saved IV and GLM fits", () => {
  const ROOT = new URL("..", import.meta.url).pathname;
  const DATA = new URL("cbec_panel_ext.csv", FIX).pathname;
  const hdfe = (...args: string[]) => spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  it("reads hdfe feols (IV) --json and hdfe fepois --json, prints the library's table", () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-etable-cli-"));
    try {
      const a = hdfe("feols", "--data", DATA, "-f", "FC ~ Fin + Eco | firm + year | Export ~ Digitalisation", "--json");
      expect(a.status, a.stderr).toBe(0);
      const b = hdfe("fepois", "--data", DATA, "-f", "Digitalisation ~ did + Fin + Eco | firm + year", "--json");
      expect(b.status, b.stderr).toBe(0);
      writeFileSync(join(dir, "iv.json"), a.stdout);
      writeFileSync(join(dir, "pois.json"), b.stdout);
      const t = hdfe("etable", join(dir, "iv.json"), join(dir, "pois.json"), "--table", "csv");
      expect(t.status, t.stderr).toBe(0);
      const models = [a.stdout, b.stdout].map((s) => tableModelOfJson(JSON.parse(s)));
      expect(t.stdout).toBe(etable(models, { format: "csv" }));
      // and the numbers are those of the library's own fits
      const csv = parseCsv(t.stdout);
      const fe = csv.find((r) => r[1] === "fit_Export")!;
      expect(Number(fe[3])).toBe(iv1.coef.fit_Export);
      const bic = csv.find((r) => r[1] === "BIC")!;
      expect(Number(bic[6])).toBe(pois.stats.bic);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
  it("hdfe feols (IV) --etable and hdfe fepois --etable print the library's table of the fit", () => {
    const a = hdfe("feols", "--data", DATA, "-f", "FC ~ Fin + Eco | firm + year | Export ~ Digitalisation", "--etable", "csv");
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toBe(etable([iv1], { format: "csv" }));
    const b = hdfe("fepois", "--data", DATA, "-f", "Digitalisation ~ did + Fin + Eco | firm + year", "--etable", "md");
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toBe(etable([pois], { format: "md" }));
    const c = hdfe("fepois", "--data", DATA, "-f", "Digitalisation ~ did", "--etable", "md", "--json");
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--json or --etable/);
  }, 300_000);
});
