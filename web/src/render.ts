// Phase two: the neutral structures (report.ts) -> HTML (fixest-style table), LaTeX, CSV and
// SVG (event-study plot, placebo histogram). Pure string functions: no DOM, testable in Node.
import type { EventPlot, HistogramPlot, RegressionTable } from "../../bindings/report/types.js";
import { fmtNum, stars } from "../../bindings/summary.js";

/** Digits printed for estimates and SEs (as fixest's summary prints them). */
export const DIGITS = 6;

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function statText(v: string | number): string {
  if (typeof v === "string") return v;
  return Number.isInteger(v) ? v.toLocaleString("en-US") : fmtNum(v, 5);
}

function statKeys(t: RegressionTable): { fe: string[]; other: string[] } {
  const keys: string[] = [];
  for (const c of t.columns) for (const k of Object.keys(c.stats)) if (!keys.includes(k)) keys.push(k);
  return { fe: keys.filter((k) => k.startsWith("FE: ")), other: keys.filter((k) => !k.startsWith("FE: ")) };
}

/** A fixest etable as an HTML table; coefficient cells carry data-coef / data-model and .est / .se. */
export function tableHtml(t: RegressionTable, id = "coef-table"): string {
  const cols = t.columns;
  const { fe, other } = statKeys(t);
  const out: string[] = [];
  out.push(`<table id="${esc(id)}" class="etable">`);
  out.push(`<caption>${esc(t.title)}</caption>`);
  out.push(`<thead><tr><th scope="col"></th>${cols.map((c) => `<th scope="col">${esc(c.label)}</th>`).join("")}</tr>`);
  out.push(`<tr class="depvar"><th scope="row">Dependent Var.:</th>${cols.map((c) => `<td>${esc(c.header ?? "")}</td>`).join("")}</tr></thead>`);
  out.push("<tbody class=\"coefs\">");
  for (const name of t.rows) {
    out.push(`<tr data-coef="${esc(name)}"><th scope="row">${esc(t.labels?.[name] ?? name)}</th>`);
    cols.forEach((c, j) => {
      const cell = c.coefs[name];
      if (!cell) return out.push(`<td data-model="${j + 1}"></td>`);
      out.push(
        `<td data-model="${j + 1}"><span class="est">${fmtNum(cell.estimate, DIGITS)}</span>` +
          `<span class="stars">${stars(cell.p)}</span><br><span class="se">(${fmtNum(cell.se, DIGITS)})</span></td>`,
      );
    });
    out.push("</tr>");
  }
  out.push("</tbody>");
  if (fe.length) {
    out.push(`<tbody class="fe"><tr class="section"><th scope="rowgroup" colspan="${cols.length + 1}">Fixed-Effects</th></tr>`);
    for (const k of fe) out.push(`<tr><th scope="row">${esc(k.slice(4))}</th>${cols.map((c) => `<td>${c.stats[k] ? "Yes" : "No"}</td>`).join("")}</tr>`);
    out.push("</tbody>");
  }
  out.push(`<tbody class="stats"><tr class="section"><th scope="rowgroup" colspan="${cols.length + 1}">Fit statistics</th></tr>`);
  for (const k of other) {
    out.push(`<tr data-stat="${esc(k)}"><th scope="row">${esc(k)}</th>${cols.map((c) => `<td>${c.stats[k] === undefined ? "" : esc(statText(c.stats[k]))}</td>`).join("")}</tr>`);
  }
  out.push("</tbody>");
  out.push(`<tfoot>${t.notes.map((n) => `<tr><td colspan="${cols.length + 1}">${esc(n)}</td></tr>`).join("")}</tfoot>`);
  out.push("</table>");
  return out.join("\n");
}

function tex(s: string): string {
  return s.replace(/\\/g, "\\textbackslash{}").replace(/([&%$#_{}])/g, "\\$1").replace(/~/g, "\\textasciitilde{}").replace(/\^/g, "\\textasciicircum{}");
}

/** The same table as a LaTeX tabular (booktabs), as fixest's etable(tex = TRUE). */
export function tableLatex(t: RegressionTable): string {
  const cols = t.columns;
  const { fe, other } = statKeys(t);
  const L: string[] = [];
  L.push("\\begin{tabular}{l" + "c".repeat(cols.length) + "}");
  L.push("\\toprule");
  L.push(" & " + cols.map((c) => tex(c.label)).join(" & ") + " \\\\");
  L.push("Dependent Var.: & " + cols.map((c) => tex(c.header ?? "")).join(" & ") + " \\\\");
  L.push("\\midrule");
  for (const name of t.rows) {
    L.push(tex(name) + " & " + cols.map((c) => (c.coefs[name] ? `$${fmtNum(c.coefs[name].estimate, DIGITS)}^{${stars(c.coefs[name].p).replace(/\./, "\\cdot")}}$` : "")).join(" & ") + " \\\\");
    L.push("  & " + cols.map((c) => (c.coefs[name] ? `$(${fmtNum(c.coefs[name].se, DIGITS)})$` : "")).join(" & ") + " \\\\");
  }
  if (fe.length) {
    L.push("\\midrule");
    L.push(`\\emph{Fixed-effects} & ${cols.map(() => "").join(" & ")} \\\\`);
    for (const k of fe) L.push(tex(k.slice(4)) + " & " + cols.map((c) => (c.stats[k] ? "Yes" : "No")).join(" & ") + " \\\\");
  }
  L.push("\\midrule");
  for (const k of other) L.push(tex(k) + " & " + cols.map((c) => (c.stats[k] === undefined ? "" : tex(statText(c.stats[k])))).join(" & ") + " \\\\");
  L.push("\\bottomrule");
  L.push("\\end{tabular}");
  for (const n of t.notes) L.push("% " + n);
  return L.join("\n") + "\n";
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per model and coefficient, numbers at full precision. */
export function tableCsv(t: RegressionTable, formulas: string[]): string {
  const lines = ["model,formula,term,estimate,std_error,p_value,ci_low,ci_high"];
  t.columns.forEach((c, j) => {
    for (const name of t.rows) {
      const cell = c.coefs[name];
      if (!cell) continue;
      lines.push(
        [c.label, formulas[j] ?? "", name, cell.estimate, cell.se, cell.p, cell.ci?.[0] ?? "", cell.ci?.[1] ?? ""]
          .map((v) => csvField(String(v))).join(","),
      );
    }
  });
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// SVG

const W = 640;
const H = 340;
const M = { top: 36, right: 20, bottom: 52, left: 64 };

function niceTicks(lo: number, hi: number, n = 6): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) || 1;
    lo -= d / 2;
    hi += d / 2;
  }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickLabel(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

interface Frame2d {
  x: (v: number) => number;
  y: (v: number) => number;
  parts: string[];
}

function axes(title: string, xLabel: string, yLabel: string, xl: [number, number], yl: [number, number], xt: number[], yt: number[]): Frame2d {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + ((v - xl[0]) / (xl[1] - xl[0])) * pw;
  const y = (v: number) => M.top + ph - ((v - yl[0]) / (yl[1] - yl[0])) * ph;
  const p: string[] = [];
  p.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" class="plot-bg"/>`);
  for (const v of yt) {
    p.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    p.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${esc(tickLabel(v))}</text>`);
  }
  for (const v of xt) {
    p.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" class="axis"/>`);
    p.push(`<text x="${x(v).toFixed(1)}" y="${M.top + ph + 17}" text-anchor="middle" class="tick">${esc(tickLabel(v))}</text>`);
  }
  p.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" class="axis"/>`);
  p.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" class="axis"/>`);
  p.push(`<text x="${W / 2}" y="20" text-anchor="middle" class="title">${esc(title)}</text>`);
  p.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle" class="label">${esc(xLabel)}</text>`);
  p.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(yLabel)}</text>`);
  return { x, y, parts: p };
}

function svgDoc(id: string, title: string, desc: string, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" id="${esc(id)}" class="figure" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${esc(id)}-t ${esc(id)}-d">` +
    `<title id="${esc(id)}-t">${esc(title)}</title><desc id="${esc(id)}-d">${esc(desc)}</desc>` +
    `<style>.plot-bg{fill:#fff}.grid{stroke:#e6e8ec}.axis{stroke:#5b6270}.tick{font:11px system-ui,sans-serif;fill:#4a5160}` +
    `.title{font:600 14px system-ui,sans-serif;fill:#1d2330}.label{font:12px system-ui,sans-serif;fill:#2e3442}` +
    `.zero{stroke:#8a919e;stroke-dasharray:4 3}.ref{stroke:#b0b6c1;stroke-dasharray:2 3}.ci{stroke:#2f6fdb;stroke-width:1.6}` +
    `.pt{fill:#2f6fdb}.pt.ref-pt{fill:#fff;stroke:#2f6fdb;stroke-width:1.5}.line{fill:none;stroke:#2f6fdb;stroke-opacity:.35}` +
    `.bar{fill:#9db8e8;stroke:#fff;stroke-width:.5}.marker{stroke:#d9342b;stroke-width:2}.marker-t{font:600 11px system-ui,sans-serif;fill:#d9342b}</style>` +
    parts.join("") +
    "</svg>"
  );
}

/** Event-study coefficients with confidence intervals; dashed zero line and reference period. */
export function eventSvg(fig: EventPlot): string {
  const pts = fig.series.flatMap((s) => s.points);
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => [p.low, p.high, 0]).filter(Number.isFinite);
  const xl: [number, number] = [Math.min(...xs) - 0.6, Math.max(...xs) + 0.6];
  const yt = niceTicks(Math.min(...ys), Math.max(...ys));
  const yl: [number, number] = [Math.min(yt[0], ...ys), Math.max(yt[yt.length - 1], ...ys)];
  const step = Math.max(1, Math.ceil((xl[1] - xl[0]) / 16));
  const xt: number[] = [];
  for (let v = Math.ceil(xl[0]); v <= xl[1]; v++) if (v % step === 0) xt.push(v);
  const f = axes(fig.title, fig.xLabel, fig.yLabel, xl, yl, xt, yt);
  const p = f.parts;
  p.push(`<line x1="${f.x(xl[0])}" x2="${f.x(xl[1])}" y1="${f.y(0).toFixed(1)}" y2="${f.y(0).toFixed(1)}" class="zero"/>`);
  if (fig.reference !== undefined) {
    const rx = f.x(fig.reference + 0.5).toFixed(1);
    p.push(`<line x1="${rx}" x2="${rx}" y1="${M.top}" y2="${H - M.bottom}" class="ref"/>`);
  }
  for (const s of fig.series) {
    p.push(`<polyline class="line" points="${s.points.map((q) => `${f.x(q.x).toFixed(1)},${f.y(q.estimate).toFixed(1)}`).join(" ")}"/>`);
    for (const q of s.points) {
      const cx = f.x(q.x).toFixed(1);
      const isRef = q.x === fig.reference;
      if (!isRef) p.push(`<line x1="${cx}" x2="${cx}" y1="${f.y(q.low).toFixed(1)}" y2="${f.y(q.high).toFixed(1)}" class="ci"/>`);
      p.push(`<circle cx="${cx}" cy="${f.y(q.estimate).toFixed(1)}" r="3.5" class="pt${isRef ? " ref-pt" : ""}"><title>${q.x}: ${fmtNum(q.estimate, 4)} [${fmtNum(q.low, 4)}, ${fmtNum(q.high, 4)}]</title></circle>`);
    }
  }
  return svgDoc(fig.id, fig.title, fig.notes.join(" "), p);
}

/** Histogram of placebo draws with the actual estimate marked. */
export function histogramSvg(fig: HistogramPlot): string {
  const v = fig.values.filter(Number.isFinite).sort((a, b) => a - b);
  const mk = fig.marker?.value;
  let lo = v[0], hi = v[v.length - 1];
  if (mk !== undefined && Number.isFinite(mk)) {
    lo = Math.min(lo, mk);
    hi = Math.max(hi, mk);
  }
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const nb = Math.max(10, Math.min(60, Math.round(Math.sqrt(v.length) * 1.5)));
  const w = (hi - lo) / nb;
  const counts = new Array<number>(nb).fill(0);
  for (const x of v) counts[Math.min(nb - 1, Math.floor((x - lo) / w))]++;
  const cmax = Math.max(...counts, 1);
  const yt = niceTicks(0, cmax, 5).filter((t) => Number.isInteger(t));
  const xt = niceTicks(lo, hi, 7);
  const xl: [number, number] = [Math.min(lo, xt[0]), Math.max(hi, xt[xt.length - 1])];
  const f = axes(fig.title, fig.xLabel, "Draws", xl, [0, Math.max(cmax, yt[yt.length - 1])], xt.filter((t) => t >= xl[0] && t <= xl[1]), yt);
  const p = f.parts;
  counts.forEach((c, i) => {
    if (!c) return;
    const x0 = f.x(lo + i * w), x1 = f.x(lo + (i + 1) * w);
    p.push(`<rect x="${x0.toFixed(1)}" y="${f.y(c).toFixed(1)}" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="${(f.y(0) - f.y(c)).toFixed(1)}" class="bar"/>`);
  });
  if (fig.marker && mk !== undefined) {
    const x = f.x(mk).toFixed(1);
    p.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" class="marker"/>`);
    const right = f.x(mk) > W / 2;
    p.push(`<text x="${(f.x(mk) + (right ? -6 : 6)).toFixed(1)}" y="${M.top + 14}" text-anchor="${right ? "end" : "start"}" class="marker-t">${esc(fig.marker.label)}</text>`);
  }
  return svgDoc(fig.id, fig.title, fig.notes.join(" "), p);
}
