// Reporting an IV fit: the JSON record of a feols fit (fitToJson) with an `iv` block
// (first stages, fit statistics under fixest's fitstat names), and a fixest-like printed
// summary: the second stage as feols prints a fit, the IV tests under it, and optionally
// each first stage.
import type { IvFit, FirstStage, FTest } from "../estimators/iv.js";
import { ciByName, fitToJson, summary, fmtNum, stars, vcovRows, type FitJson } from "./summary.js";

export interface FTestJson {
  stat: number;
  p: number;
  df1: number;
  df2: number;
  vcov?: string;
}

export interface FirstStageJson {
  endo: string;
  formula: string;
  nobs: number;
  coef: Record<string, number>;
  se: Record<string, number>;
  t: Record<string, number>;
  p: Record<string, number>;
  ci: Record<string, [number, number]>;
  r2: number;
  adj_r2: number;
  within_r2: number | null;
  rmse: number;
  ssr: number;
  vcov: string;
  df: number;
  vcov_matrix: number[][];
  ivf1: FTestJson;
  ivwald1: FTestJson;
}

export interface IvFitJson extends FitJson {
  iv: {
    endo: string[];
    inst: string[];
    first_stages: FirstStageJson[];
    /** keyed as fixest's fitstat: "ivf1::<endo>", "ivwald1::<endo>", ivf2, ivwald2, wh, sargan, cd */
    fitstat: Record<string, FTestJson | { stat: number; p: number; df: number } | number | null>;
    weak_instruments: string[];
  };
}

const ftJson = (t: FTest): FTestJson => ({ stat: t.stat, p: t.p, df1: t.df1, df2: t.df2, ...(t.vcov ? { vcov: t.vcov } : {}) });

function firstStageJson(fs: FirstStage): FirstStageJson {
  const ci = ciByName(fs);
  return {
    endo: fs.endo, formula: fs.formula, nobs: fs.nobs, coef: fs.coef, se: fs.se, t: fs.tstat, p: fs.pvalue, ci,
    r2: fs.r2, adj_r2: fs.adjR2, within_r2: fs.withinR2, rmse: fs.rmse, ssr: fs.ssr, vcov: fs.vcovLabel, df: fs.df,
    vcov_matrix: vcovRows(fs),
    ivf1: ftJson(fs.ivf1), ivwald1: ftJson(fs.ivwald1),
  };
}

export function ivFitToJson(fit: IvFit, weakF = 10): IvFitJson {
  const st = fit.iv.fitstat;
  const fitstat: IvFitJson["iv"]["fitstat"] = {};
  for (const e of fit.iv.endo) fitstat[`ivf1::${e}`] = ftJson(st.ivf1[e]);
  for (const e of fit.iv.endo) fitstat[`ivwald1::${e}`] = ftJson(st.ivwald1[e]);
  fitstat.ivf2 = ftJson(st.ivf2);
  fitstat.ivwald2 = ftJson(st.ivwald2);
  fitstat.wh = ftJson(st.wh);
  fitstat.sargan = st.sargan;
  fitstat.cd = st.cd;
  return {
    ...fitToJson(fit),
    iv: {
      endo: fit.iv.endo, inst: fit.iv.inst, first_stages: fit.iv.firstStages.map(firstStageJson), fitstat,
      weak_instruments: fit.iv.firstStages.filter((f) => f.ivf1.stat < weakF).map((f) => f.endo),
    },
  };
}

function fmtP(p: number): string {
  return p < 2.2e-16 ? "< 2.2e-16" : `= ${fmtNum(p, 5)}`;
}

function testLine(label: string, t: { stat: number; p: number; df1?: number; df2?: number; df?: number }): string {
  const dof = t.df !== undefined ? `${t.df} DoF` : `${t.df1} and ${(t.df2 ?? 0).toLocaleString("en-US")} DoF`;
  return `${label}: stat = ${fmtNum(t.stat, 5)}, p ${fmtP(t.p)}, on ${dof}.`;
}

/** fixest-like print of an IV fit: the second stage, its IV tests, and (firstStages) each first stage. */
export function ivSummary(fit: IvFit, opts: { firstStages?: boolean } = {}): string {
  const lines = summary(fit).split("\n");
  lines[0] = `TSLS estimation, Dep. Var.: ${fit.parsed.lhs}, Endo.: ${fit.iv.endo.join(", ")}, Instr.: ${fit.iv.inst.join(", ")}`;
  lines.splice(1, 0, `Second stage: Dep. Var.: ${fit.parsed.lhs}`);
  const st = fit.iv.fitstat;
  const out = [...lines];
  for (const e of fit.iv.endo) out.push(testLine(`F-test (1st stage), ${e}`, st.ivf1[e]));
  for (const e of fit.iv.endo) out.push(testLine(`Wald (1st stage), ${e}`, st.ivwald1[e]));
  out.push(testLine("F-test (2nd stage)", st.ivf2));
  out.push(testLine("Wald (2nd stage)", st.ivwald2));
  out.push(Number.isFinite(st.wh.stat) ? testLine("Wu-Hausman", st.wh) : "Wu-Hausman: not available (collinear regressors)");
  if (st.sargan) out.push(testLine("Sargan", st.sargan));
  out.push(`Cragg-Donald: ${fmtNum(st.cd, 5)}`);
  if (opts.firstStages) for (const fs of fit.iv.firstStages) out.push("", firstStageText(fs));
  return out.join("\n");
}

/** One first stage as a coefficient table. */
export function firstStageText(fs: FirstStage): string {
  const out = [`First stage: Dep. Var.: ${fs.endo}   (${fs.formula})`, `Observations: ${fs.nobs.toLocaleString("en-US")}`, `Standard-errors: ${fs.vcovLabel}`];
  const rows = fs.table.map((r) => [r.name, fmtNum(r.estimate), fmtNum(r.se), fmtNum(r.t, 5), r.p < 2.2e-16 ? "< 2.2e-16" : fmtNum(r.p, 6), stars(r.p)]);
  const head = ["", "Estimate", "Std. Error", "t value", "Pr(>|t|)", ""];
  const all = [head, ...rows];
  const widths = head.map((_, j) => Math.max(...all.map((r) => r[j].length)));
  for (const r of all) out.push(r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join(" ").trimEnd());
  out.push(`RMSE: ${fmtNum(fs.rmse, 5)}   Adj. R2: ${fmtNum(fs.adjR2, 5)}   R2: ${fmtNum(fs.r2, 5)}${fs.withinR2 !== null ? `   Within R2: ${fmtNum(fs.withinR2, 5)}` : ""}`);
  out.push(testLine("F-test (instruments)", fs.ivf1));
  out.push(testLine("Wald (instruments)", fs.ivwald1));
  return out.join("\n");
}
