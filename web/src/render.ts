// Phase two on the page: the regression table as fixest prints it (etable layout, fixest's
// significance codes, 6 significant digits), with data-coef / data-model attributes and
// .est / .se cells for scripts and tests. Figures, LaTeX and CSV come from the project's
// renderers (bindings/report: renderFigure, renderTable). Pure string function, no DOM.
import type { RegressionTable } from "../../bindings/report/types.js";
import { fmtNum, stars } from "../../bindings/report/summary.js";

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
  const notes = [...t.notes, "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"];
  out.push(`<tfoot>${notes.map((n) => `<tr><td colspan="${cols.length + 1}">${esc(n)}</td></tr>`).join("")}</tfoot>`);
  out.push("</table>");
  return out.join("\n");
}
