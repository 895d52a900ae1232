// feols() of the package entry (bindings/index.ts -> estimators/feols-dispatch.ts) takes IV
// formulas as fixest's feols(y ~ x | fe | endo ~ inst) does: the fit is iv()'s, typed IvFit
// for a literal IV formula (checked by tsc: the assignments below would not compile
// otherwise), Fit for other formulas; feols-only options with an IV formula are an OptionError.
// Checked against fixest: iv_fixest.json iv_cl_firm, coefficients 1e-8 relative, SEs 1e-6
// relative; against iv() and the OLS feols: identical numbers (same code path).
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { feols, iv, Frame, OptionError, type IvFit, type Fit } from "../bindings/index.js";
import { feols as feolsOls } from "../bindings/estimators/feols.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { readFileSync } from "node:fs";
import { FIX } from "./reference.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

let eng: Engine;
let frame: Frame;
beforeAll(async () => {
  eng = await loadEngine();
  frame = Frame.fromArrow((await readFile(new URL("cbec_panel_ext.csv", FIX).pathname)).table);
});

describe("feols() with an IV formula", () => {
  it("is iv(): the fixest 2SLS (iv_cl_firm), typed IvFit", () => {
    const m = (JSON.parse(readFileSync(new URL("iv_fixest.json", FIX), "utf8")) as { id: string; formula: string; coef: Record<string, number>; se: Record<string, number> }[]).find((r) => r.id === "iv_cl_firm")!;
    expect(m.formula).toBe("FC ~ Fin + Eco | firm + year | Export ~ Digitalisation");
    // fixest keeps singletons (fixef.rm "none" here) and the reference is converged (fixefTol 1e-12, as tests/iv.test.ts)
    const opts = { vcov: "cluster:firm", fixefRm: "none", fixefTol: 1e-12 } as const;
    const fit: IvFit = feols(eng, frame, "FC ~ Fin + Eco | firm + year | Export ~ Digitalisation", opts);
    for (const [k, v] of Object.entries(m.coef)) {
      expect(rel(fit.coef[k], v), k).toBeLessThan(COEF_REL);
      expect(rel(fit.se[k], m.se[k]), k).toBeLessThan(SE_REL);
    }
    const direct = iv(eng, frame, m.formula, opts);
    expect(fit.coefVector).toEqual(direct.coefVector);
    expect(fit.iv.fitstat.ivf1.Export.stat).toBe(direct.iv.fitstat.ivf1.Export.stat);
  });

  it("without FE (y ~ x | endo ~ inst) and from a formula held in a plain string (typed Fit, an IvFit at run time)", () => {
    const text: string = "FC ~ Fin + Eco | Export ~ did";
    const fit: Fit = feols(eng, frame, text, { vcov: "hetero" });
    expect("iv" in fit).toBe(true);
    expect(fit.coefNames[0]).toBe("(Intercept)");
    expect(fit.coefNames).toContain("fit_Export");
    expect(fit.coefVector).toEqual(iv(eng, frame, text, { vcov: "hetero" }).coefVector);
  });

  it("an OLS formula is the OLS fit", () => {
    const a: Fit = feols(eng, frame, "FC ~ did + Fin | firm + year");
    const b = feolsOls(eng, frame, "FC ~ did + Fin | firm + year");
    expect(a.coefVector).toEqual(b.coefVector);
    expect("iv" in a).toBe(false);
  });

  it("a feols-only option with an IV formula is an OptionError naming it", () => {
    expect(() => feols(eng, frame, "FC ~ Fin | firm | Export ~ Digitalisation" as string, { storage: "f32" })).toThrow(OptionError);
    expect(() => feols(eng, frame, "FC ~ Fin | firm | Export ~ Digitalisation" as string, { storage: "f32" })).toThrow(/storage/);
  });
});
