// etable: the produced tables read back. Golden files are not enough: the Markdown and the CSV
// are parsed and every number is checked against the fit it came from (Markdown: equal to the
// fit's number rounded as displayed, i.e. within half a unit of the last digit printed; CSV:
// full precision, equal to the bit). The LaTeX is compiled with pdflatex (booktabs); without
// pdflatex the compile test is skipped and says why, and fails under CI=true
// (.ci/install-latex.sh installs it).
//
// Tolerances: Markdown numbers within half a unit of their last printed digit (plus 1e-12
// relative for the binary-decimal conversion); CSV numbers exact.
import { describe, it, expect, beforeAll } from "vitest";
import { hasLatex, LATEX_SKIP_WHY, expectLatexCompiles } from "./latex.js";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { withVcov, type Fit } from "../bindings/estimators/feols.js";
import { feolsMulti } from "../bindings/estimators/multi.js";
import { etable, etableTable, tableModelOfJson } from "../bindings/report/etable.js";
import { fitToJson } from "../bindings/report/summary.js";
import { OptionError } from "../bindings/base/errors.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";
import { expectShown, parseMd, parseCsv } from "./table-parse.js";

let eng: Engine;
let fits: Fit[];
const DICT = { did: "Zone x Post", Fin: "Financial leverage" };

beforeAll(async () => {
  eng = await loadEngine();
  const frame = Frame.fromArrow((await readFile(new URL("cbec_panel.csv", FIX).pathname)).table);
  // no FE (intercept), one FE, two FE; two outcomes: FE rows, within R2 and empty cells all occur
  fits = feolsMulti(eng, frame, "c(FC, SA) ~ did + csw(Fin, Eco) | csw0(firm, year)", { fixefRm: "none" }).models.map((m) => m.fit);
});

const STAR = (p: number, levels: [string, number][]) => levels.find(([, t]) => p < t)?.[0] ?? "";

describe("etable Markdown: every number is the fit's, as displayed", () => {
  it("coefficients (stars by the stated thresholds), SEs in parentheses, FE rows, fit statistics", () => {
    const md = etable(fits, { format: "md", dict: DICT, fitstat: ["nobs", "r2", "ar2", "wr2", "rmse", "pr2"] });
    const { header, rows } = parseMd(md);
    expect(header.slice(1)).toEqual(fits.map((f, j) => `${f.parsed.lhs}<br>(${j + 1})`));
    expect(md.replace(/&lt;/g, "<").replace(/\\\*/g, "*")).toContain("*** p<0.01, ** p<0.05, * p<0.1");
    const inverse = Object.fromEntries(Object.entries(DICT).map(([k, v]) => [v, k]));
    let checked = 0;
    for (let r = 0; r < rows.length; r++) {
      const { label, cells } = rows[r];
      const name = inverse[label] ?? label;
      if (!fits.some((f) => name in f.coef)) continue;
      const se = rows[r + 1];
      expect(se.label).toBe("");
      fits.forEach((f, j) => {
        if (!(name in f.coef)) {
          expect(cells[j]).toBe("");
          expect(se.cells[j]).toBe("");
          return;
        }
        const m = cells[j].match(/^(.*?)(\**)$/)!;
        expectShown(m[1], f.coef[name], `coef ${name} (${j + 1})`);
        expect(m[2], `stars ${name} (${j + 1})`).toBe(STAR(f.pvalue[name], [["***", 0.01], ["**", 0.05], ["*", 0.1]]));
        expect(se.cells[j]).toMatch(/^\(.*\)$/);
        expectShown(se.cells[j].slice(1, -1), f.se[name], `se ${name} (${j + 1})`);
        checked += 2;
      });
    }
    expect(checked).toBe(fits.reduce((a, f) => a + 2 * f.coefNames.length, 0));
    const stat = (label: string) => rows.find((x) => x.label === label)!.cells;
    fits.forEach((f, j) => {
      expect(stat("firm")[j]).toBe("firm" in f.fixefSizes ? "Yes" : "No");
      expect(stat("year")[j]).toBe("year" in f.fixefSizes ? "Yes" : "No");
      expect(Number(stat("Observations")[j].replace(/,/g, ""))).toBe(f.nobs);
      expectShown(stat("R²")[j], f.r2, "r2");
      expectShown(stat("Adj. R²")[j], f.adjR2, "ar2");
      if (f.withinR2 === null) expect(stat("Within R²")[j]).toBe("");
      else expectShown(stat("Within R²")[j], f.withinR2, "wr2");
      expectShown(stat("RMSE")[j], f.rmse, "rmse");
      expect(stat("Pseudo R²")[j]).toBe(""); // a statistic OLS does not have: empty cell
    });
  });

  it("brackets, custom stars (thresholds stated), keep / drop / order, renaming", () => {
    const stars = { "+": 0.2, "++": 0.02 };
    const md = etable(fits, { format: "md", brackets: true, stars, dict: DICT, drop: ["Intercept"], order: ["^Eco$", "^Fin$"] });
    const { rows } = parseMd(md);
    const coefLabels = rows.filter((r) => r.label && r.cells.some((c) => /^-?\d/.test(c)) && !["Observations", "R²", "Within R²"].includes(r.label)).map((r) => r.label);
    expect(coefLabels).toEqual(["Eco", "Financial leverage", "Zone x Post"]);
    expect(md.replace(/&lt;/g, "<")).toContain("Standard errors in brackets. ++ p<0.02, + p<0.2.");
    const did = rows.findIndex((r) => r.label === "Zone x Post");
    fits.forEach((f, j) => {
      const m = rows[did].cells[j].match(/^(.*?)(\+*)$/)!;
      expectShown(m[1], f.coef.did, "did");
      expect(m[2]).toBe(STAR(f.pvalue.did, [["++", 0.02], ["+", 0.2]]));
      expect(rows[did + 1].cells[j]).toMatch(/^\[.*\]$/);
      expectShown(rows[did + 1].cells[j].slice(1, -1), f.se.did, "did se");
    });
  });

  it("a vcov for the whole table: SEs recomputed with withVcov, and the note names vcov and ssc", () => {
    const md = etable(fits, { format: "md", vcov: "hetero", engine: eng });
    const { rows } = parseMd(md);
    const did = rows.findIndex((r) => r.label === "did");
    fits.forEach((f, j) => {
      const h = withVcov(eng, f, "hetero");
      expectShown(rows[did + 1].cells[j].slice(1, -1), h.se.did, "hetero se");
    });
    expect(md).toContain(`Standard errors: ${withVcov(eng, fits[0], "hetero").vcovLabel}.`);
    expect(md).toContain(`Small-sample correction: ${fits[0].sscLabel}.`);
    expect(() => etable(fits, { vcov: "hetero" })).toThrow(OptionError);
  });

  it("HTML carries the same cells as the Markdown (the same layout)", () => {
    const opts = { dict: DICT, fitstat: ["nobs", "r2", "wr2"] };
    const md = parseMd(etable(fits, { ...opts, format: "md" })).rows.map((r) => r.cells);
    const html = etable(fits, { ...opts, format: "html" });
    const unescape = (x: string) => x.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    const rows = [...html.matchAll(/<tr class="(?:coef|se|stat)">(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => unescape(c[1])));
    expect(rows).toEqual(md);
  });

  it("refuses unknown fit statistics by name, lists the known ones", () => {
    expect(() => etable(fits, { fitstat: ["nobs", "bogus"] })).toThrow(/bogus/);
  });
});

describe("etable CSV: full precision, read back to the bit", () => {
  it("every coefficient, SE, p and statistic equals the fit's", () => {
    const rows = parseCsv(etable(fits, { format: "csv", fitstat: ["nobs", "r2", "wr2", "rmse"] }));
    const head = rows[0];
    const col = (j: number, what: string) => head.indexOf(`${fits[j].parsed.lhs} (${j + 1}) ${what}`);
    let n = 0;
    for (const r of rows.slice(1)) {
      fits.forEach((f, j) => {
        if (r[0] === "coef") {
          if (!(r[1] in f.coef)) return expect(r[col(j, "estimate")]).toBe("");
          expect(Number(r[col(j, "estimate")])).toBe(f.coef[r[1]]);
          expect(Number(r[col(j, "se")])).toBe(f.se[r[1]]);
          expect(Number(r[col(j, "p")])).toBe(f.pvalue[r[1]]);
          n++;
        } else if (r[1] === "Observations") expect(Number(r[col(j, "estimate")])).toBe(f.nobs);
        else if (r[1] === "R2") expect(Number(r[col(j, "estimate")])).toBe(f.r2);
        else if (r[1] === "RMSE") expect(Number(r[col(j, "estimate")])).toBe(f.rmse);
        else if (r[1] === "Within R2") expect(r[col(j, "estimate")]).toBe(f.withinR2 === null ? "" : String(f.withinR2));
      });
    }
    expect(n).toBe(fits.reduce((a, f) => a + f.coefNames.length, 0));
  });

  it("a table of saved fit JSON (hdfe feols --json) equals the table of the fits", () => {
    const saved = fits.map((f) => tableModelOfJson(JSON.parse(JSON.stringify(fitToJson(f)))));
    expect(etable(saved, { format: "csv" })).toBe(etable(fits, { format: "csv" }));
    expect(etableTable(saved).rows).toEqual(etableTable(fits).rows);
  });
});


describe("etable LaTeX", () => {
  it("pdflatex is there under CI (the compile test must not be skipped)", () => {
    if (process.env.CI === "true") expect(hasLatex, LATEX_SKIP_WHY).toBe(true);
  });
  it.skipIf(!hasLatex)(`compiles with pdflatex and booktabs${hasLatex ? "" : ` (SKIPPED: ${LATEX_SKIP_WHY})`}`, () => {
    const tex = etable(fits, { format: "tex", dict: { ...DICT, did: "Zone $\\times$ Post & more_%" }, title: "Table 3. Multi & co_% #1", stars: { "\\dagger": 0.1 } });
    expectLatexCompiles(tex);
  });
});
