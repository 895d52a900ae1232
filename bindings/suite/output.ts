// Files of a suite report: report.md, report.html, results.json, every table as CSV,
// Markdown and LaTeX, every figure as SVG. Browser-safe: the caller supplies `write`.
import type { SuiteResult } from "./run.js";
import { renderTable } from "../report/tables.js";
import { renderFigure } from "../report/svg.js";
import { renderMarkdown, renderHtml } from "../report/document.js";

export function writeSuiteReport(res: SuiteResult, write: (rel: string, content: string) => void): number {
  let count = 0;
  const put = (rel: string, content: string) => {
    write(rel, content);
    count++;
  };
  for (const s of res.report.sections) {
    for (const t of s.tables) {
      put(`tables/${t.id}.csv`, renderTable(t, "csv"));
      put(`tables/${t.id}.md`, renderTable(t, "md"));
      put(`tables/${t.id}.tex`, renderTable(t, "latex"));
    }
    for (const f of s.figures) put(`figures/${f.id}.svg`, renderFigure(f));
  }
  put("report.md", renderMarkdown(res.report, { figurePath: (id) => `figures/${id}.svg` }));
  put("report.html", renderHtml(res.report));
  put("results.json", JSON.stringify(res.results, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v instanceof Float64Array ? Array.from(v) : v), 2));
  return count;
}
