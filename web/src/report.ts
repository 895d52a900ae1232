// Phase one of reporting on the page: worker results -> the neutral report structures of
// bindings/report/types.ts (a regression table, an event-study plot, a placebo histogram).
// Renderers (render.ts) turn them into HTML, SVG, LaTeX and CSV.
import type { FitJson } from "../../bindings/report/summary.js";
import type { ModelResult, PlaceboResult } from "../../bindings/platform/worker-protocol.js";
import type { EventPlot, HistogramPlot, ModelColumn, RegressionTable } from "../../bindings/report/types.js";

function column(label: string, fit: FitJson): ModelColumn {
  const coefs: ModelColumn["coefs"] = {};
  for (const name of Object.keys(fit.coef)) {
    coefs[name] = { estimate: fit.coef[name], se: fit.se[name], p: fit.p[name], ci: fit.ci[name] };
  }
  const stats: ModelColumn["stats"] = {};
  for (const fe of Object.keys(fit.fixef_sizes)) stats[`FE: ${fe}`] = "Yes";
  stats["S.E. type"] = fit.vcov;
  stats["Observations"] = fit.nobs;
  // a GLM (web/src/glm-run.ts) reports fixest's pseudo R2 instead
  const glm = (fit as FitJson & { glm?: { pr2: number } }).glm;
  if (glm) stats["Pseudo R2"] = glm.pr2;
  else stats["R2"] = fit.r2;
  if (fit.within_r2 !== null) stats["Within R2"] = fit.within_r2;
  return { label, coefs, stats };
}

/** The fixest etable of the model, and of its event study when there is one. */
export function regressionTable(res: ModelResult): RegressionTable {
  const fits: FitJson[] = [res.fit];
  if (res.event && !("error" in res.event && res.event.error)) fits.push((res.event as { fit: FitJson }).fit);
  const columns = fits.map((f, j) => column(`(${j + 1})`, f));
  const rows: string[] = [];
  for (const f of fits) for (const n of Object.keys(f.coef)) if (!rows.includes(n)) rows.push(n);
  const lhs = res.formula.split("~")[0].trim();
  for (const c of columns) c.header = lhs;
  return {
    kind: "regression",
    id: "model",
    title: `Dependent variable: ${lhs}`,
    rows,
    columns,
    notes: [
      `(1) ${res.formula}`,
      ...(fits.length > 1 ? [`(2) ${fits[1].formula}`] : []),
    ],
  };
}

export function eventFigure(res: ModelResult): EventPlot | null {
  const ev = res.event;
  if (!ev || "error" in ev) return null;
  return {
    kind: "event",
    id: "event-study",
    title: "Event study (TWFE)",
    xLabel: "Years relative to first treatment",
    yLabel: `Effect on ${res.formula.split("~")[0].trim()}`,
    series: [{ label: "TWFE i(rel)", points: ev.points.map((p) => ({ x: p.x, estimate: p.estimate, low: p.low, high: p.high })) }],
    reference: ev.reference,
    notes: [`${ev.formula}; ${Math.round(ev.fit.level * 100)}% confidence intervals, ${ev.fit.vcov}`],
  };
}

export function placeboFigure(p: PlaceboResult): HistogramPlot {
  return {
    kind: "histogram",
    id: "placebo",
    title: `In-space placebo: ${p.draws.length.toLocaleString("en-US")} draws`,
    values: p.draws.filter((x): x is number => x !== null),
    marker: { value: p.estimate, label: `estimate ${p.estimate.toPrecision(4)}` },
    xLabel: `Placebo coefficient of ${p.coef}`,
    notes: [`${p.method}; two-sided p = ${p.p.twoSided.toFixed(4)}`],
  };
}
