// The IV fit statistics as fixest's fitstat names them, and the first-stage tables.
//   vcov-dependent (stageStats, recomputed by ivWithVcov): first-stage coefficients under the
//     model's vcov, ivf1 / ivwald1 per endogenous regressor (df2 = the first stage's ssc
//     residual df, which depends on the vcov through fixef.K = "nested"), ivf2, ivwald2;
//   fixed (fixedStats): Wu-Hausman, Sargan (over-identified only), Cragg-Donald.
// F statistics are written in their Wald form b' (X'X)^-1_sub b / df1 / (SSR / df2), equal to the
// restricted-minus-unrestricted SSR form without its cancellation.
// Two conventions differ from fixest 0.12.1 on purpose or by necessity, both documented:
//   - Sargan with weights: fixest divides a weighted SSR by an unweighted total sum of squares
//     (its statistic is wrong, negative in the reference); here both are weighted:
//     n (1 - r'Wr / TSS_w(e)), r the residuals of the structural residuals e on the instruments.
//   - Cragg-Donald ignores the weights in fixest (proj_on_U demeans without them); kept, to
//     report the number fixest reports.
import type { Engine } from "../engine/wasm.js";
import { computeVcov, type VcovSpec, type SscName } from "../core/vcov.js";
import type { HacData } from "../core/hac.js";
import { ibeta, pchisq, pval2, qt } from "../base/stats.js";
import type { CoefRow, Coefficients, Fit } from "./feols.js";
import { qrLs, dot, sub, quadInv, minCanCor2, gramW, colSums } from "./iv-linalg.js";

export interface FTest {
  stat: number;
  p: number;
  df1: number;
  df2: number;
  /** the variance the Wald statistic used */
  vcov?: string;
}

export interface FirstStage extends Coefficients {
  endo: string;
  /** fixest's label of the first stage: "Export ~ Digitalisation + Fin + Eco | firm + year" */
  formula: string;
  tstat: Record<string, number>;
  vcovLabel: string;
  df: number;
  nobs: number;
  r2: number;
  adjR2: number;
  withinR2: number | null;
  rmse: number;
  ssr: number;
  ivf1: FTest;
  ivwald1: FTest;
}

export interface IvFitstat {
  ivf1: Record<string, FTest>;
  ivwald1: Record<string, FTest>;
  ivf2: FTest;
  ivwald2: FTest;
  /** Wu-Hausman endogeneity test (iid, as fixest) */
  wh: FTest;
  /** Sargan over-identification test, null when exactly identified */
  sargan: { stat: number; p: number; df: number } | null;
  /** Cragg-Donald weak-instrument statistic */
  cd: number;
}

export interface IvInfo {
  endo: string[];
  /** the excluded instruments kept */
  inst: string[];
  firstStages: FirstStage[];
  fitstat: IvFitstat;
}

/** What the statistics need from the fit (kept on the fit for ivWithVcov). */
export interface IvBase {
  n: number;
  feDof: number;
  fe: { name: string; levels: number; codes: Int32Array; type: number }[];
  hasIntercept: boolean;
  endo: string[];
  instNames: string[];
  /** first-stage regressors (kept), demeaned and sqrt-weighted, and their names */
  aNames: string[];
  A: Float64Array[];
  aFlat: Float64Array;
  breadA: Float64Array;
  firstBeta: Float64Array[];
  firstResid: Float64Array[];
  firstSsr: number[];
  firstTss: number[];
  firstWithin: number[];
  /** the FE part of the formula ("" without FE) */
  mainText: string;
  fitNames: string[];
  /** SSR of the second stage on the fitted values (ivf2) */
  ssrIv: number;
  level: number;
  fixed: Pick<IvFitstat, "wh" | "sargan" | "cd">;
}

/** P(F > f) for F(d1, d2), accurate in the far tail. */
export function pfUpper(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 1;
  return ibeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

function ftest(stat: number, df1: number, df2: number, vcov?: string): FTest {
  return { stat, p: pfUpper(stat, df1, df2), df1, df2, ...(vcov ? { vcov } : {}) };
}

export function stageStats(
  eng: Engine, b: IvBase, fit: Fit, clusters: Record<string, { codes: Int32Array; G: number }>, vspec: VcovSpec, ssc: SscName,
  hac?: HacData,
): IvInfo {
  const kA = b.aNames.length;
  const zIdx = b.instNames.map((nm) => b.aNames.indexOf(nm));
  const q = zIdx.length;
  const level = fit.level;
  const firstStages: FirstStage[] = [];
  const ivf1: Record<string, FTest> = {};
  const ivwald1: Record<string, FTest> = {};
  const exoLabel = b.aNames.filter((nm) => nm !== "(Intercept)");
  b.endo.forEach((endo, j) => {
    const beta = b.firstBeta[j];
    const ssr = b.firstSsr[j];
    const v = computeVcov(eng, {
      n: b.n, k: kA, bread: b.breadA, x: b.aFlat, e: b.firstResid[j], ssr, fe: b.fe, feDof: b.feDof, clusters, hasIntercept: b.hasIntercept, hac,
    }, vspec, ssc);
    const crit = qt(1 - (1 - level) / 2, v.df);
    const table: CoefRow[] = b.aNames.map((name, a) => {
      const se = Math.sqrt(v.V[a + a * kA]);
      const t = beta[a] / se;
      return { name, estimate: beta[a], se, t, p: pval2(t, v.df), ciLow: beta[a] - crit * se, ciHigh: beta[a] + crit * se };
    });
    const rec = (key: keyof CoefRow) => Object.fromEntries(table.map((r) => [r.name, r[key] as number]));
    const df2 = b.n - v.K;
    const piZ = zIdx.map((a) => beta[a]);
    const f1 = ftest(quadInv(piZ, sub(b.breadA, kA, zIdx)) / q / (ssr / df2), q, df2);
    const w1 = ftest(quadInv(piZ, sub(v.V, kA, zIdx)) / q, q, df2, v.label);
    ivf1[endo] = f1;
    ivwald1[endo] = w1;
    const r2 = 1 - ssr / b.firstTss[j];
    const nparams = kA + b.feDof;
    firstStages.push({
      endo, formula: `${endo} ~ ${exoLabel.join(" + ")}${b.mainText ? ` | ${b.mainText}` : ""}`,
      coefNames: [...b.aNames], coef: rec("estimate"), se: rec("se"), tstat: rec("t"), pvalue: rec("p"), table,
      vcovMatrix: v.V, vcovLabel: v.label, df: v.df, nobs: b.n, r2,
      adjR2: 1 - ((1 - r2) * (b.n - 1)) / (b.n - nparams),
      withinR2: b.fe.length ? 1 - ssr / b.firstWithin[j] : null, rmse: Math.sqrt(ssr / b.n), ssr, ivf1: f1, ivwald1: w1,
    });
  });
  const k = fit.coefNames.length;
  const fitIdx = b.fitNames.map((nm) => fit.coefNames.indexOf(nm));
  const bFit = fitIdx.map((a) => fit.coefVector[a]);
  const p = fitIdx.length;
  const df2 = fit.nobs - fit.K;
  const ivf2 = ftest(quadInv(bFit, sub(fit.internals.bread, k, fitIdx)) / p / (b.ssrIv / df2), p, df2);
  const ivwald2 = ftest(quadInv(bFit, sub(fit.vcovMatrix, k, fitIdx)) / p, p, df2, fit.vcovLabel);
  return { endo: [...b.endo], inst: [...b.instNames], firstStages, fitstat: { ivf1, ivwald1, ivf2, ivwald2, ...b.fixed } };
}

export interface FixedInputs {
  n: number;
  /** demeaned, sqrt-weighted outcome, endogenous, second-stage regressors, structural residuals */
  y: Float64Array;
  E: Float64Array[];
  X: Float64Array[];
  e: Float64Array;
  coefNames: string[];
  fitNames: string[];
  /** first-stage regressors (kept) and their (A'A)^-1 */
  A: Float64Array[];
  breadA: Float64Array;
  nparams: number;
  collinTol: number;
  /** excluded instruments kept */
  q: number;
  /** sampling weights on the sample (null: none) */
  w: Float64Array | null;
  /** endogenous, instruments and exogenous as Cragg-Donald sees them (demeaned without weights) */
  cd: { E: Float64Array[]; Z: Float64Array[]; W: Float64Array[] };
}

/** Wu-Hausman, Sargan and Cragg-Donald: statistics that do not depend on the vcov. */
export function fixedStats(eng: Engine, s: FixedInputs): Pick<IvFitstat, "wh" | "sargan" | "cd"> {
  const { n } = s;
  const p = s.E.length;
  // Wu-Hausman: y ~ E + fit_E + W, the fitted values' coefficients tested with an iid variance
  const wh = qrLs(eng, n, [...s.E, ...s.X], s.y, s.collinTol, true);
  const whDf2 = n - (s.nparams + p);
  let whTest: FTest = { stat: NaN, p: NaN, df1: p, df2: whDf2 };
  if (wh.keep.every(Boolean)) {
    const kw = p + s.X.length;
    const idx = s.fitNames.map((nm) => p + s.coefNames.indexOf(nm));
    const stat = quadInv(idx.map((a) => wh.beta[a]), sub(wh.bread, kw, idx)) / p / (wh.ssr / whDf2);
    whTest = ftest(stat, p, whDf2);
  }
  // Sargan: n (1 - r'r / TSS(e)), r = e - A (A'A)^-1 A'e, all weighted
  let sargan: IvFitstat["sargan"] = null;
  if (s.q > p) {
    const kA = s.A.length;
    const Ae = s.A.map((a) => dot(a, s.e));
    let explained = 0;
    for (let a = 0; a < kA; a++) for (let c = 0; c < kA; c++) explained += Ae[a] * s.breadA[a + c * kA] * Ae[c];
    const ee = dot(s.e, s.e);
    let sw = 0;
    let se = 0;
    for (let i = 0; i < n; i++) {
      const sq = s.w ? Math.sqrt(s.w[i]) : 1;
      sw += sq * sq;
      se += sq * s.e[i];
    }
    const tss = ee - (se * se) / sw;
    const stat = n * (1 - (ee - explained) / tss);
    const df = s.q - p;
    sargan = { stat, p: 1 - pchisq(stat, df), df };
  }
  // Cragg-Donald: endogenous and instruments net of the exogenous, smallest canonical correlation
  const cdCols = [...s.cd.W, ...s.cd.E, ...s.cd.Z];
  const cc2 = minCanCor2(gramW(eng, n, cdCols), colSums(cdCols), n, s.cd.W.length, p, s.cd.Z.length);
  const cd = ((n - p - s.q - 1) / s.q) * (cc2 / (1 - cc2));
  return { wh: whTest, sargan, cd };
}

/** A warning per endogenous regressor whose first-stage F is under `threshold`, naming its instruments. */
export function weakWarnings(info: IvInfo, threshold: number, warn: (m: string) => void): void {
  for (const fs of info.firstStages) {
    if (!(fs.ivf1.stat < threshold)) continue;
    const ts = info.inst.map((z) => `${z} (t = ${fs.tstat[z].toFixed(2)})`).join(", ");
    warn(
      `weak instrument${info.inst.length > 1 ? "s" : ""} for "${fs.endo}": first-stage F = ${fs.ivf1.stat.toPrecision(4)} < ${threshold} ` +
        `with ${ts}; 2SLS is then biased toward OLS and its tests are unreliable`,
    );
  }
}
