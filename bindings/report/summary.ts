// Reporting a fit: a neutral JSON record (fitToJson) and a fixest-like text table
// (summary). Two phases, as fixest's etable: extract numbers, then render.
import type { CoefRow, Coefficients, Fit } from "../estimators/feols.js";

export interface FitJson {
  formula: string;
  coef: Record<string, number>;
  se: Record<string, number>;
  t: Record<string, number>;
  p: Record<string, number>;
  ci: Record<string, [number, number]>;
  nobs: number;
  removed: { na: number; singletons: number; zero_weight: number; na_by_column: Record<string, number>; singleton_levels: Record<string, number> };
  collinear: string[];
  r2: number;
  adj_r2: number;
  within_r2: number | null;
  rmse: number;
  ssr: number;
  vcov: string;
  ssc: string;
  ssc_detail: string;
  df: number;
  level: number;
  fixef_sizes: Record<string, number>;
  cluster_sizes?: Record<string, number>;
  iterations: number;
  demean: { algo: string; map_iterations: number; cg_iterations: number; /** the Krylov solver of cg_iterations (cg or lsmr) */ krylov: string; criterion: number; threads: number } | null;
  /** how the raw columns were held: f64, or f32 with the largest relative rounding */
  storage: { type: string; max_rel_rounding?: number; batch?: number; passes?: number };
  converged: boolean;
  weights?: string;
  warnings: string[];
  vcov_matrix: number[][];
}

/** The JSON pieces every estimator's coefficient block gives: intervals by name, the vcov as rows. */
export function ciByName(c: Coefficients): Record<string, [number, number]> {
  const ci: Record<string, [number, number]> = {};
  for (const r of c.table) ci[r.name] = [r.ciLow, r.ciHigh];
  return ci;
}

export function vcovRows(c: Coefficients): number[][] {
  const k = c.coefNames.length;
  return Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => c.vcovMatrix[a + b * k]));
}

/**
 * fixest's coefficient table (aligned columns, stars, the codes line) and the line naming the
 * terms dropped as collinear; `stat` is "t" (OLS, IV) or "z" (GLMs).
 */
export function coefTableLines(table: CoefRow[], stat: "t" | "z", collinear: string[]): string[] {
  const out: string[] = [];
  const rows = table.map((r) => [r.name, fmtNum(r.estimate), fmtNum(r.se), fmtNum(r.t, 5), fmtP(r.p), stars(r.p)]);
  const head = ["", "Estimate", "Std. Error", `${stat} value`, `Pr(>|${stat}|)`, ""];
  const all = [head, ...rows];
  const widths = head.map((_, j) => Math.max(...all.map((r) => r[j].length)));
  for (const r of all) out.push(r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join(" ").trimEnd());
  out.push("---");
  out.push("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1");
  if (collinear.length) out.push(`Variables removed because of collinearity: ${collinear.join(", ")}`);
  return out;
}

export function fitToJson(fit: Fit): FitJson {
  const ci = ciByName(fit);
  return {
    formula: fit.formula,
    coef: fit.coef,
    se: fit.se,
    t: fit.tstat,
    p: fit.pvalue,
    ci,
    nobs: fit.nobs,
    removed: {
      na: fit.removed.na,
      singletons: fit.removed.singletons,
      zero_weight: fit.removed.zeroWeight,
      na_by_column: fit.removed.naByColumn,
      singleton_levels: fit.removed.singletonLevels,
    },
    collinear: fit.collinear,
    r2: fit.r2,
    adj_r2: fit.adjR2,
    within_r2: fit.withinR2,
    rmse: fit.rmse,
    ssr: fit.ssr,
    vcov: fit.vcovLabel,
    ssc: fit.ssc,
    ssc_detail: fit.sscLabel,
    df: fit.df,
    level: fit.level,
    fixef_sizes: fit.fixefSizes,
    cluster_sizes: fit.clusterSizes,
    iterations: fit.iterations,
    demean: fit.demean
      ? { algo: fit.demean.algo, map_iterations: fit.demean.mapIterations, cg_iterations: fit.demean.cgIterations, krylov: fit.demean.krylov ?? "cg", criterion: fit.demean.criterion, threads: fit.demean.threads }
      : null,
    storage: fit.storage.type === "f32"
      ? { type: "f32", max_rel_rounding: fit.storage.maxRelRounding, batch: fit.storage.batch, passes: fit.storage.passes }
      : { type: "f64" },
    converged: fit.converged,
    weights: fit.weights,
    warnings: fit.warnings,
    vcov_matrix: vcovRows(fit),
  };
}

/** Significance stars as fixest prints them. */
export function stars(p: number): string {
  return p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : p < 0.1 ? "." : "";
}

/** Format a number with `digits` significant digits, fixest style. */
export function fmtNum(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e7) return Number(x.toPrecision(digits)).toString();
  return x.toExponential(digits - 1).replace(/e([+-])(\d)$/, "e$10$2");
}

function fmtP(p: number): string {
  if (p < 2.2e-16) return "< 2.2e-16";
  return fmtNum(p, 6);
}

/** A fixest-like printed summary. */
export function summary(fit: Fit): string {
  const out: string[] = [];
  const fe = Object.keys(fit.fixefSizes);
  out.push(`OLS estimation, Dep. Var.: ${fit.parsed.lhs}`);
  out.push(`Observations: ${fit.nobs.toLocaleString("en-US")}`);
  const rm: string[] = [];
  if (fit.removed.na) rm.push(`${fit.removed.na} for missing values (${Object.entries(fit.removed.naByColumn).map(([c, n]) => `${c}: ${n}`).join(", ")})`);
  if (fit.removed.singletons) rm.push(`${fit.removed.singletons} fixed-effect singletons`);
  if (fit.removed.zeroWeight) rm.push(`${fit.removed.zeroWeight} with zero weight`);
  if (rm.length) out.push(`Rows removed: ${rm.join("; ")}`);
  if (fit.weights) out.push(`Weights: ${fit.weights}`);
  // as fixest's print: FE with their own intercepts, then each slope as "z (fe: levels)"
  const terms = fit.parsed.fixef.map((t) => ({ name: t.vars.join("^"), slopes: t.slopes, slopeOnly: t.slopeOnly }));
  const size = (f: string) => (fit.fixefSizes[f] ?? 0).toLocaleString("en-US");
  const own = fe.filter((f) => !terms.some((t) => t.name === f) || terms.some((t) => t.name === f && !t.slopeOnly));
  if (own.length) out.push(`Fixed-effects: ${own.map((f) => `${f}: ${size(f)}`).join(",  ")}`);
  const slopes = terms.flatMap((t) => t.slopes.map((z) => `${z} (${t.name}: ${size(t.name)})`));
  if (slopes.length) out.push(`Varying slopes: ${slopes.join(",  ")}`);
  out.push(`Standard-errors: ${fit.vcovLabel}`);
  out.push(`Small-sample correction: ${fit.sscLabel}`);
  out.push(...coefTableLines(fit.table, "t", fit.collinear));
  out.push(`RMSE: ${fmtNum(fit.rmse, 5)}   Adj. R2: ${fmtNum(fit.adjR2, 5)}`);
  out.push(`R2: ${fmtNum(fit.r2, 5)}${fit.withinR2 !== null ? `   Within R2: ${fmtNum(fit.withinR2, 5)}` : ""}`);
  const d = fit.demean;
  const iters = d ? `${d.mapIterations} accelerated projections${d.cgIterations ? ` + ${d.cgIterations} ${d.krylov === "lsmr" ? "LSMR" : "CG"} iterations` : ""}` : `${fit.iterations}`;
  out.push(`t tests on ${fit.df} degrees of freedom${fit.clusterSizes ? ` (clusters: ${Object.entries(fit.clusterSizes).map(([c, g]) => `${c} ${g}`).join(", ")})` : ""}; FE iterations: ${iters}${fit.converged ? "" : " (NOT CONVERGED)"}`);
  if (fit.storage.type === "f32") {
    out.push(
      `Storage: raw columns as float32 (largest relative rounding ${(fit.storage.maxRelRounding ?? 0).toExponential(1)}), ` +
        `arithmetic in float64, normal equations; ${fit.storage.passes} demeaning passes`,
    );
  }
  for (const w of fit.warnings) out.push(`Warning: ${w}`);
  return out.join("\n");
}
