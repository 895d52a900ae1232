// Whole-report renderers: Markdown (figures as files beside it) and one self-contained HTML
// file (inline CSS, inline SVG, no external resource of any kind). Pure, browser-safe.
import type { Figure, Report, ReportSection } from "./types.js";
import { escapeHtml, escapeMarkdown, escapeMarkdownBlock, slug } from "./format.js";
import { renderTable } from "./tables.js";
import { renderFigure } from "./svg.js";

export interface MarkdownAssets {
  /** where the figure with this id is (or will be) written, relative to the Markdown file */
  figurePath(id: string): string;
}

/** The report as GitHub Markdown; figures are linked through `assets.figurePath(id)`. */
export function renderMarkdown(r: Report, assets: MarkdownAssets): string {
  const out: string[] = [];
  out.push(`# ${escapeMarkdown(r.title)}`, "");
  if (r.subtitle) out.push(escapeMarkdownBlock(r.subtitle), "");
  if (r.conventions.length) {
    out.push("**Conventions**", "");
    for (const c of r.conventions) out.push(`- ${escapeMarkdown(c)}`);
    out.push("");
  }
  for (const s of r.sections) {
    out.push(`## ${escapeMarkdown(s.title)}`, "");
    if (s.skipped) out.push(`> **Skipped:** ${escapeMarkdown(s.skipped)}`, "");
    for (const p of s.text) out.push(escapeMarkdownBlock(p), "");
    for (const t of s.tables) out.push(renderTable(t, "md"));
    for (const f of s.figures) {
      out.push(`![${escapeMarkdown(f.title)}](${encodeURI(assets.figurePath(f.id)).replace(/[()]/g, (c) => (c === "(" ? "%28" : "%29"))})`, "");
      for (const n of f.notes) out.push(`<sub>${escapeMarkdown(n)}</sub>`, "");
    }
  }
  if (r.footer.length) {
    out.push("---", "");
    for (const l of r.footer) out.push(`<sub>${escapeMarkdown(l)}</sub>  `);
    out.push("");
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
}

const CSS = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #5b6270; --rule: #1a1a1a; --soft: #f4f5f7; --accent: #0b5394; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font: 16px/1.55 "Iowan Old Style", "Palatino Linotype", Palatino, "Book Antiqua", Georgia, "DejaVu Serif", serif; }
main { max-width: 64rem; margin: 0 auto; padding: 2.5rem 1.5rem 3rem; }
h1 { font-size: 1.85rem; line-height: 1.25; margin: 0 0 .4rem; }
h2 { font-size: 1.3rem; margin: 2.6rem 0 .8rem; padding-bottom: .25rem; border-bottom: 1px solid #d6d9de; }
.subtitle { color: var(--muted); margin: 0 0 1.4rem; font-size: 1.05rem; }
.conventions { background: var(--soft); border-left: 4px solid var(--accent); padding: .8rem 1.2rem; margin: 1.2rem 0 1.6rem; }
.conventions h2 { font-size: 1rem; margin: 0 0 .3rem; border: 0; padding: 0; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.conventions ul { margin: 0; padding-left: 1.2rem; }
.conventions li { margin: .15rem 0; }
nav.toc { font-size: .95rem; margin: 0 0 1rem; }
nav.toc ol { margin: .3rem 0; padding-left: 1.4rem; columns: 2 18rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
nav.toc .skipped-mark { color: var(--muted); font-size: .85em; }
.skipped-note { background: #fff6e0; border-left: 4px solid #c98a00; padding: .6rem 1rem; margin: .8rem 0; }
.table-wrap { overflow-x: auto; margin: 1.4rem 0; }
table.hdfe-table { border-collapse: collapse; margin: 0 auto; width: min-content; min-width: min(100%, 36rem); font-size: .92rem; font-variant-numeric: tabular-nums lining-nums; }
table.hdfe-table caption { caption-side: top; text-align: left; font-weight: bold; padding: 0 0 .45rem; font-size: 1rem; }
table.hdfe-table th, table.hdfe-table td { padding: .12rem .75rem; white-space: nowrap; }
table.hdfe-table thead tr:first-child > * { border-top: 2px solid var(--rule); padding-top: .35rem; }
table.hdfe-table thead tr:last-child > * { border-bottom: 1px solid var(--rule); padding-bottom: .3rem; }
table.hdfe-table thead th { font-weight: normal; text-align: center; }
/* long column headers ("+ Size, Age, ROE, Urban, Income, Fiscal") wrap instead of widening the table past the page */
table.hdfe-table thead th:not(:first-child) { white-space: normal; min-width: 4.5rem; max-width: 9rem; }
table.hdfe-table thead th.span { background: linear-gradient(#888, #888) no-repeat center bottom / calc(100% - 1rem) 1px; }
table.hdfe-table tbody + tbody tr:first-child > * { border-top: 1px solid var(--rule); }
table.hdfe-table tbody tr:first-child > * { padding-top: .35rem; }
table.hdfe-table tbody tr:last-child > * { padding-bottom: .35rem; }
table.hdfe-table tbody:last-of-type tr:last-child > * { border-bottom: 2px solid var(--rule); }
table.hdfe-table th[scope=row] { text-align: left; font-weight: normal; padding-right: 1.5rem; }
table.regression td { text-align: center; padding-left: .8rem; padding-right: 1.25rem; }
table.regression tr.se td { color: #3c4250; }
table.regression tr.coef + tr.se > * { padding-bottom: .3rem; }
table.regression tbody.published td { font-style: italic; color: #3c4250; }
table.regression td.skipped, table.regression th.skipped { background: repeating-linear-gradient(135deg, #fff, #fff 5px, #f1f1f1 5px, #f1f1f1 10px); }
table.data td.num, table.data th.num { text-align: right; }
.stars { display: inline-block; width: 0; overflow: visible; font-size: .8em; vertical-align: .4em; line-height: 0; text-align: left; }
table.hdfe-table td.notes { white-space: normal; text-align: left; font-size: .8rem; color: var(--muted); padding-top: .5rem; border: 0; min-width: 20rem; }
table.hdfe-table td.notes p { margin: 0 0 .15rem; }
figure.figure { margin: 1.8rem 0; text-align: center; }
figure.figure svg { width: 100%; max-width: 720px; height: auto; display: block; margin: 0 auto; }
figure.figure figcaption { max-width: 720px; margin: .4rem auto 0; font-size: .85rem; color: var(--muted); text-align: left; }
figure.figure figcaption p { margin: 0 0 .15rem; }
section p { margin: .6rem 0; }
footer { margin-top: 3rem; padding-top: .8rem; border-top: 1px solid #d6d9de; font-size: .8rem; color: var(--muted); }
footer p { margin: .1rem 0; }
@media print {
  @page { margin: 16mm 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .table-wrap { overflow: visible; }
  table.hdfe-table { font-size: 8.5pt; }
  table.hdfe-table caption { font-size: 10pt; }
  table.hdfe-table td.notes, figure.figure figcaption, footer { font-size: 7.5pt; }
  .table-wrap, figure.figure, .conventions { break-inside: avoid; page-break-inside: avoid; }
  figure.figure svg { max-width: 15cm; }
  a { color: inherit; text-decoration: none; }
}
`;

function sectionId(s: ReportSection, i: number): string {
  return `sec-${slug(s.id || String(i + 1))}`;
}

function figureHtml(f: Figure): string {
  const cap = f.notes.length ? `<figcaption>${f.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join("")}</figcaption>` : "";
  return `<figure class="figure" id="fig-${escapeHtml(slug(f.id))}">\n${renderFigure(f)}${cap}</figure>`;
}

/** One self-contained HTML file: inline CSS, inline SVG figures, no external resources. */
export function renderHtml(r: Report): string {
  const out: string[] = [];
  out.push("<!DOCTYPE html>");
  out.push('<html lang="en">');
  out.push("<head>");
  out.push('<meta charset="utf-8">');
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push('<meta name="generator" content="hdfe">');
  out.push(`<title>${escapeHtml(r.title)}</title>`);
  out.push(`<style>${CSS}</style>`);
  out.push("</head>");
  out.push("<body>");
  out.push("<main>");
  out.push("<header>");
  out.push(`<h1>${escapeHtml(r.title)}</h1>`);
  if (r.subtitle) out.push(`<p class="subtitle">${escapeHtml(r.subtitle)}</p>`);
  if (r.conventions.length) {
    out.push(`<section class="conventions" aria-labelledby="conventions-h"><h2 id="conventions-h">Conventions</h2><ul>`);
    for (const c of r.conventions) out.push(`<li>${escapeHtml(c)}</li>`);
    out.push("</ul></section>");
  }
  if (r.sections.length > 1) {
    out.push('<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>');
    r.sections.forEach((s, i) => {
      out.push(`<li><a href="#${escapeHtml(sectionId(s, i))}">${escapeHtml(s.title)}</a>${s.skipped ? ' <span class="skipped-mark">(skipped)</span>' : ""}</li>`);
    });
    out.push("</ol></nav>");
  }
  out.push("</header>");
  r.sections.forEach((s, i) => {
    out.push(`<section id="${escapeHtml(sectionId(s, i))}" class="report-section${s.skipped ? " skipped" : ""}">`);
    out.push(`<h2>${escapeHtml(s.title)}</h2>`);
    if (s.skipped) out.push(`<p class="skipped-note"><strong>Skipped:</strong> ${escapeHtml(s.skipped)}</p>`);
    for (const p of s.text) out.push(`<p>${escapeHtml(p)}</p>`);
    for (const t of s.tables) out.push(`<div class="table-wrap">\n${renderTable(t, "html")}</div>`);
    for (const f of s.figures) out.push(figureHtml(f));
    out.push("</section>");
  });
  if (r.footer.length) out.push(`<footer>${r.footer.map((l) => `<p>${escapeHtml(l)}</p>`).join("")}</footer>`);
  out.push("</main>");
  out.push("</body>");
  out.push("</html>");
  return out.join("\n") + "\n";
}
