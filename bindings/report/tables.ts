// Table renderers: RegressionTable / DataTable -> Markdown, LaTeX, CSV, HTML or text.
// Regression tables are laid out once (layoutRegression: a format-neutral grid, as fixest's
// etable) and then written by one small function per format. Pure, browser-safe.
//
// Why one long file: one layout and one small writer per format (Markdown, LaTeX, CSV, HTML,
// text) over the same grid.
import type { DataTable, ModelColumn, RegressionTable, ReportTable, StarLevel } from "./types.js";
import {
  STARS_LEGEND,
  escapeHtml,
  escapeLatex,
  escapeMarkdown,
  formatCount,
  formatFixed,
  formatNumber,
  formatQuoted,
  formatStat,
  fullPrecision,
  isStarsLegend,
  significanceStars,
  slug,
  wrapText,
} from "./format.js";

export type TableFormat = "md" | "latex" | "csv" | "html" | "text";

export const TABLE_FORMATS: readonly TableFormat[] = ["md", "latex", "csv", "html", "text"];

/** Render one table in one format. */
export function renderTable(t: ReportTable, format: TableFormat): string {
  if (t.kind === "regression") {
    if (format === "csv") return regressionCsv(t);
    const lay = layoutRegression(t);
    switch (format) {
      case "md":
        return regressionMd(lay);
      case "latex":
        return regressionLatex(lay);
      case "html":
        return regressionHtml(lay);
      case "text":
        return regressionText(lay);
    }
  } else {
    const d = layoutData(t);
    switch (format) {
      case "md":
        return dataMd(d);
      case "latex":
        return dataLatex(d);
      case "csv":
        return dataCsv(t);
      case "html":
        return dataHtml(d);
      case "text":
        return dataText(d);
    }
  }
  throw new Error(`renderTable: unknown format "${String(format)}"`);
}

// ---------------------------------------------------------------------------------------------
// Regression layout

type RowKind = "coef" | "se" | "published" | "published-se" | "published-n" | "stat";

interface Cell {
  /** display text without stars: "0.251", "(0.115)", "14,791", "Yes", "" */
  text: string;
  stars?: string;
  /** the text is a number (LaTeX puts it in math mode) */
  num?: boolean;
}

interface Row {
  kind: RowKind;
  /** row label (plain text, unescaped); "" on SE lines */
  label: string;
  cells: Cell[];
}

interface Span {
  text: string;
  span: number;
  start: number;
}

export interface RegressionLayout {
  id: string;
  title: string;
  ncol: number;
  /** spanning headers above the labels, or null when no column has one */
  headers: Span[] | null;
  labels: string[];
  skipped: boolean[];
  /** coefficient block, published block, stats block (empty blocks dropped) */
  blocks: Row[][];
  /** legend line (plain text) then user notes then skipped-column notes */
  legend: string;
  notes: string[];
  hasPublished: boolean;
  brackets?: boolean;
  stars?: StarLevel[];
}

const EMPTY: Cell = { text: "" };

function columnName(c: ModelColumn): string {
  return c.header ? `${c.header} ${c.label}` : c.label;
}

const DROPPED: Cell = { text: "(collinear)" };

function coefCells(c: ModelColumn, name: string, t: RegressionTable): [Cell, Cell] {
  if (c.skipped) return [EMPTY, EMPTY];
  const cell = c.coefs[name];
  if (!cell) return c.dropped?.includes(name) ? [DROPPED, EMPTY] : [EMPTY, EMPTY];
  const est: Cell = Number.isFinite(cell.estimate)
    ? { text: formatNumber(cell.estimate), stars: t.stars ? starsOf(cell.p, t.stars) : significanceStars(cell.p), num: true }
    : { text: "NA" };
  const [open, close] = t.brackets ? ["[", "]"] : ["(", ")"];
  const se: Cell = Number.isFinite(cell.se) ? { text: `${open}${formatNumber(cell.se)}${close}`, num: true } : { text: `${open}NA${close}` };
  return [est, se];
}

/** The stars of p under custom thresholds (the first level whose threshold p is below). */
function starsOf(p: number, levels: StarLevel[]): string {
  if (!Number.isFinite(p)) return "";
  return levels.find((l) => p < l.p)?.symbol ?? "";
}

/** "Standard errors in parentheses. *** p<0.01, ** p<0.05, * p<0.1." (or the table's own brackets and stars). */
function legendOf(t: RegressionTable): string {
  const stars = t.stars ? t.stars.map((l) => `${l.symbol} p<${l.p}`).join(", ") : STARS_LEGEND;
  return `Standard errors in ${t.brackets ? "brackets" : "parentheses"}.${stars ? ` ${stars}.` : ""}`;
}

function latexLegendOf(l: RegressionLayout): string {
  if (!l.stars && !l.brackets) return LATEX_LEGEND;
  const stars = l.stars ? l.stars.map((s) => `$^{${s.symbol}}\\,p<${s.p}$`).join(", ") : LATEX_LEGEND.replace(/^[^$]*/, "").replace(/\.$/, "");
  return `Standard errors in ${l.brackets ? "brackets" : "parentheses"}.${stars ? ` ${stars}.` : ""}`;
}

/** Group adjacent equal headers into spans. */
function headerSpans(cols: ModelColumn[]): Span[] | null {
  if (!cols.some((c) => c.header)) return null;
  const spans: Span[] = [];
  cols.forEach((c, j) => {
    const text = c.header ?? "";
    const last = spans[spans.length - 1];
    if (last && last.text === text) last.span++;
    else spans.push({ text, span: 1, start: j });
  });
  return spans;
}

export function layoutRegression(t: RegressionTable): RegressionLayout {
  const cols = t.columns;
  const label = (name: string) => t.labels?.[name] ?? name;

  const coefRows: Row[] = [];
  for (const name of t.rows) {
    const pairs = cols.map((c) => coefCells(c, name, t));
    coefRows.push({ kind: "coef", label: label(name), cells: pairs.map((p) => p[0]) });
    coefRows.push({ kind: "se", label: "", cells: pairs.map((p) => p[1]) });
  }

  // Published block: the paper's estimate (SE) under the rerun's
  const pubRows: Row[] = [];
  const pubCols = cols.filter((c) => c.published);
  const notes: string[] = [];
  if (pubCols.length) {
    const coefsPublished = [...new Set(pubCols.map((c) => c.published!.coef))];
    let pubLabel = "Published";
    if (coefsPublished.length === 1 && !(t.rows.length === 1 && t.rows[0] === coefsPublished[0])) {
      pubLabel = `Published: ${label(coefsPublished[0])}`;
    } else if (coefsPublished.length > 1) {
      notes.push(
        `Published row: ${cols
          .filter((c) => c.published)
          .map((c) => `${columnName(c)} ${label(c.published!.coef)}`)
          .join("; ")}.`,
      );
    }
    pubRows.push({
      kind: "published",
      label: pubLabel,
      cells: cols.map((c) => (c.published && Number.isFinite(c.published.estimate) ? { text: formatQuoted(c.published.estimate), num: true } : EMPTY)),
    });
    if (pubCols.some((c) => c.published!.se !== undefined)) {
      pubRows.push({
        kind: "published-se",
        label: "",
        cells: cols.map((c) =>
          c.published?.se !== undefined && Number.isFinite(c.published.se) ? { text: `(${formatQuoted(c.published.se)})`, num: true } : EMPTY,
        ),
      });
    }
    if (pubCols.some((c) => c.published!.n !== undefined)) {
      pubRows.push({
        kind: "published-n",
        label: "Published observations",
        cells: cols.map((c) => (c.published?.n !== undefined ? { text: formatCount(c.published.n), num: true } : EMPTY)),
      });
    }
  }

  // Stats block: union of keys in first-appearance order
  const keys: string[] = [];
  for (const c of cols) if (!c.skipped) for (const k of Object.keys(c.stats)) if (!keys.includes(k)) keys.push(k);
  const statRows: Row[] = keys.map((k) => ({
    kind: "stat",
    label: k,
    cells: cols.map((c) => {
      if (c.skipped) return EMPTY;
      const v = c.stats[k];
      return { text: formatStat(k, v), num: typeof v === "number" };
    }),
  }));

  for (const n of t.notes) if (!isStarsLegend(n)) notes.push(n);
  notes.push(...droppedNotes(t));
  cols.forEach((c) => {
    if (c.skipped) notes.push(`Column ${columnName(c)} not estimated: ${c.skipped}`);
  });

  let legend = legendOf(t);
  if (pubCols.length) legend += " Published: the paper's estimate (SE).";

  return {
    id: t.id,
    title: t.title,
    ncol: cols.length,
    headers: headerSpans(cols),
    labels: cols.map((c) => c.label),
    skipped: cols.map((c) => !!c.skipped),
    blocks: [coefRows, pubRows, statRows].filter((b) => b.length > 0),
    legend,
    notes,
    hasPublished: pubCols.length > 0,
    brackets: t.brackets,
    stars: t.stars,
  };
}

/** One note per term a model dropped as collinear: "Age: removed as collinear in (3), (4), (5)." */
function droppedNotes(t: RegressionTable): string[] {
  const label = (name: string) => t.labels?.[name] ?? name;
  const where = new Map<string, string[]>();
  // a column by its label ("(3)") where labels are unique, else with its header ("FC (1)")
  const unique = new Set(t.columns.map((c) => c.label)).size === t.columns.length;
  for (const c of t.columns) for (const n of c.dropped ?? []) where.set(n, [...(where.get(n) ?? []), unique ? c.label : columnName(c)]);
  return [...where].map(([n, cols]) =>
    `${label(n)}: removed because of collinearity (with the fixed effects or the other regressors) in ${cols.length === t.columns.length ? "every column" : cols.join(", ")}.`);
}

/** "R2" -> "R²" in labels (md / html / text). */
function prettyLabel(s: string): string {
  return s.replace(/\bR2\b/g, "R\u00B2");
}

const cellPlain = (c: Cell) => c.text + (c.stars ?? "");

// ---------------------------------------------------------------------------------------------
// Markdown (GitHub pipe tables)

function mdRow(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

function regressionMd(l: RegressionLayout): string {
  const head = l.labels.map((lab, j) => {
    const h = l.headers ? l.headers.find((s) => j >= s.start && j < s.start + s.span)!.text : "";
    return h ? `${escapeMarkdown(h)}<br>${escapeMarkdown(lab)}` : escapeMarkdown(lab);
  });
  const lines = [`**${escapeMarkdown(l.title)}**`, "", mdRow(["", ...head]), mdRow([":---", ...l.labels.map(() => ":---:")])];
  for (const block of l.blocks) {
    for (const r of block) lines.push(mdRow([escapeMarkdown(prettyLabel(r.label)), ...r.cells.map((c) => mdCell(cellPlain(c)))]));
  }
  lines.push("");
  lines.push(`<sub>${escapeMarkdown(l.legend)}</sub>`);
  for (const n of l.notes) lines.push("", `<sub>${escapeMarkdown(n)}</sub>`);
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// LaTeX (booktabs)

function latexCell(c: Cell): string {
  if (!c.text) return "";
  if (c.num) {
    const body = c.text.replace(/,/g, "{,}").replace(/e(-?)(\d+)/, (_, sgn: string, d: string) => `\\times 10^{${sgn}${d}}`);
    // a number printed with an exponent already has a superscript: group it before the stars
    const base = body.includes("^") ? "{" + body + "}" : body;
    return c.stars ? `$${base}^{${c.stars}}$` : `$${body}$`;
  }
  return escapeLatex(c.text);
}

function latexLabel(s: string): string {
  return escapeLatex(s).replace(/\bR2\b/g, "$R^2$");
}

const LATEX_LEGEND = "Standard errors in parentheses. $^{***}\\,p<0.01$, $^{**}\\,p<0.05$, $^{*}\\,p<0.1$.";

/** The paper's own number in a title ("Table 3. Baseline"): LaTeX numbers the caption with it. */
const PAPER_NUMBER = /^Table\s+([A-Za-z]?\d+[A-Za-z]?)\s*[.:]\s+(.+)$/i;

/**
 * Font size for a tabular whose columns hold `chars` characters at most (label column first):
 * about 5 pt per character plus 2 x 6 pt of column separation, against a 345 pt text width.
 */
function latexSize(chars: number[]): string[] {
  const w = 5 * chars.reduce((a, b) => a + b, 0) + 12 * chars.length;
  if (w <= 330) return [];
  if (w <= 365) return ["\\small"];
  if (w <= 415) return ["\\footnotesize"];
  return ["\\footnotesize", "\\setlength{\\tabcolsep}{3pt}"];
}

function latexWrap(id: string, title: string, chars: number[], body: string[], notes: string[]): string {
  const out: string[] = [];
  out.push("% Requires \\usepackage{booktabs} in the preamble.");
  out.push("\\begin{table}[htbp]");
  out.push("\\centering");
  const own = title.match(PAPER_NUMBER);
  // inside the table environment (a group), so the document's numbering is untouched
  if (own) out.push(`\\renewcommand{\\thetable}{${escapeLatex(own[1])}}`);
  out.push(`\\caption{${escapeLatex(own ? own[2] : title)}}`);
  out.push(`\\label{tab:${slug(id)}}`);
  out.push(...latexSize(chars));
  if (!notes.length) out.push(...body);
  else {
    // notes as wide as the tabular (box 0 is scratch, local to the table group)
    out.push("\\sbox0{%", ...body, "}%", "\\usebox0", "\\par\\medskip");
    out.push("\\begin{minipage}{\\wd0}\\footnotesize\\raggedright");
    out.push(notes.map((n, i) => (i === 0 ? `\\textit{Notes:} ${n}` : n)).join("\\par\n"));
    out.push("\\end{minipage}");
  }
  out.push("\\end{table}");
  return out.join("\n") + "\n";
}

function regressionLatex(l: RegressionLayout): string {
  const body: string[] = [];
  body.push(`\\begin{tabular}{l*{${Math.max(1, l.ncol)}}{c}}`);
  body.push("\\toprule");
  if (l.headers) {
    body.push([" ", ...l.headers.map((s) => (s.span > 1 ? `\\multicolumn{${s.span}}{c}{${escapeLatex(s.text)}}` : escapeLatex(s.text)))].join(" & ") + " \\\\");
    const rules = l.headers.filter((s) => s.text && s.span > 1).map((s) => `\\cmidrule(lr){${s.start + 2}-${s.start + s.span + 1}}`);
    if (rules.length) body.push(rules.join(" "));
  }
  body.push([" ", ...l.labels.map(escapeLatex)].join(" & ") + " \\\\");
  for (const block of l.blocks) {
    body.push("\\midrule");
    for (const r of block) body.push([latexLabel(r.label) || " ", ...r.cells.map(latexCell)].join(" & ") + " \\\\");
  }
  body.push("\\bottomrule");
  body.push("\\end{tabular}");
  let legend = latexLegendOf(l);
  if (l.hasPublished) legend += " Published: the paper's estimate (SE).";
  const rows = l.blocks.flat();
  const chars = [
    Math.max(1, ...rows.map((r) => r.label.length)),
    ...l.labels.map((lab, j) => {
      const h = l.headers?.find((s) => s.start === j && s.span === 1)?.text ?? "";
      return Math.max(lab.length, h.length, ...rows.map((r) => cellPlain(r.cells[j]).length));
    }),
  ];
  return latexWrap(l.id, l.title, chars, body, [legend, ...l.notes.map(escapeLatex)]);
}

// ---------------------------------------------------------------------------------------------
// HTML

function regressionHtml(l: RegressionLayout): string {
  const out: string[] = [];
  out.push(`<table class="hdfe-table regression" id="tab-${escapeHtml(slug(l.id))}">`);
  out.push(`<caption>${escapeHtml(l.title)}</caption>`);
  out.push("<thead>");
  if (l.headers) {
    out.push(
      `<tr class="headers"><th></th>${l.headers
        .map((s) => `<th scope="colgroup"${s.span > 1 ? ` colspan="${s.span}"` : ""}${s.text && s.span > 1 ? ' class="span"' : ""}>${escapeHtml(s.text)}</th>`)
        .join("")}</tr>`,
    );
  }
  out.push(`<tr class="labels"><th></th>${l.labels.map((x, j) => `<th scope="col"${l.skipped[j] ? ' class="skipped"' : ""}>${escapeHtml(x)}</th>`).join("")}</tr>`);
  out.push("</thead>");
  const blockClass = (b: Row[]) => (b[0].kind === "stat" ? "stats" : b[0].kind.startsWith("published") ? "published" : "coefs");
  for (const block of l.blocks) {
    out.push(`<tbody class="${blockClass(block)}">`);
    for (const r of block) {
      const cells = r.cells
        .map((c, j) => {
          const cls = [l.skipped[j] ? "skipped" : "", c.num ? "num" : ""].filter(Boolean).join(" ");
          const stars = c.stars ? `<span class="stars">${c.stars}</span>` : "";
          return `<td${cls ? ` class="${cls}"` : ""}>${escapeHtml(c.text)}${stars}</td>`;
        })
        .join("");
      const th = r.label ? `<th scope="row">${escapeHtml(prettyLabel(r.label))}</th>` : "<th></th>";
      out.push(`<tr class="${r.kind}">${th}${cells}</tr>`);
    }
    out.push("</tbody>");
  }
  out.push(
    `<tfoot><tr><td class="notes" colspan="${l.ncol + 1}">${[l.legend, ...l.notes].map((n) => `<p>${escapeHtml(n)}</p>`).join("")}</td></tr></tfoot>`,
  );
  out.push("</table>");
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Text (aligned columns for terminals)

const GAP = "  ";

function center(s: string, w: number): string {
  const pad = w - s.length;
  if (pad <= 0) return s;
  const left = Math.floor(pad / 2);
  return " ".repeat(left) + s + " ".repeat(pad - left);
}

function regressionText(l: RegressionLayout): string {
  const rows = l.blocks.flat();
  const labelW = Math.max(1, ...rows.map((r) => prettyLabel(r.label).length));
  const widths = l.labels.map((lab, j) => Math.max(6, lab.length, ...rows.map((r) => cellPlain(r.cells[j]).length)));
  if (l.headers) {
    for (const s of l.headers) {
      const w = widths.slice(s.start, s.start + s.span).reduce((a, b) => a + b, 0) + GAP.length * (s.span - 1);
      if (s.text.length > w) widths[s.start + s.span - 1] += s.text.length - w;
    }
  }
  const total = labelW + widths.reduce((a, b) => a + GAP.length + b, 0);
  const line = (label: string, cells: string[]) => label.padEnd(labelW) + cells.map((c, j) => GAP + center(c, widths[j])).join("");
  const spanWidth = (s: Span) => widths.slice(s.start, s.start + s.span).reduce((a, b) => a + b, 0) + GAP.length * (s.span - 1);

  const out: string[] = [];
  for (const tl of wrapText(l.title, Math.max(total, 78))) out.push(tl);
  out.push("=".repeat(total));
  if (l.headers) {
    out.push(" ".repeat(labelW) + l.headers.map((s) => GAP + center(s.text, spanWidth(s))).join(""));
    if (l.headers.some((s) => s.span > 1 && s.text)) {
      out.push(" ".repeat(labelW) + l.headers.map((s) => GAP + (s.span > 1 && s.text ? "-".repeat(spanWidth(s)) : " ".repeat(spanWidth(s)))).join(""));
    }
  }
  out.push(line("", l.labels));
  for (const block of l.blocks) {
    out.push("-".repeat(total));
    for (const r of block) out.push(line(prettyLabel(r.label), r.cells.map(cellPlain)));
  }
  out.push("=".repeat(total));
  for (const n of [l.legend, ...l.notes]) out.push(...wrapText(n, Math.max(total, 78)));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180, full precision, one row per coefficient)

export function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLines(rows: string[][]): string {
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** Unique column keys for CSV headers: "(1)", or "FC (1)" when the column has a header. */
function csvKeys(cols: ModelColumn[]): string[] {
  const seen = new Map<string, number>();
  return cols.map((c, j) => {
    let k = columnName(c) || `model ${j + 1}`;
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    if (n > 0) k = `${k} #${n + 1}`;
    return k;
  });
}

/**
 * Columns: kind, name, label, then "<model> estimate", "<model> se", "<model> p" per model.
 * kind is "coef" (estimate/se/p), "published" (the paper's estimate/se; p empty; name is the
 * published coefficient), "published_n", "stat" (value in the estimate column) or "skipped"
 * (the reason in the estimate column). Numbers at full precision; NaN as an empty field.
 */
function regressionCsv(t: RegressionTable): string {
  const cols = t.columns;
  const keys = csvKeys(cols);
  const label = (name: string) => t.labels?.[name] ?? name;
  const rows: string[][] = [["kind", "name", "label", ...keys.flatMap((k) => [`${k} estimate`, `${k} se`, `${k} p`])]];
  for (const name of t.rows) {
    rows.push([
      "coef",
      name,
      label(name),
      ...cols.flatMap((c) => {
        const cell = c.skipped ? undefined : c.coefs[name];
        return cell ? [fullPrecision(cell.estimate), fullPrecision(cell.se), fullPrecision(cell.p)] : ["", "", ""];
      }),
    ]);
  }
  const pubCoefs = [...new Set(cols.filter((c) => c.published).map((c) => c.published!.coef))];
  for (const pc of pubCoefs) {
    rows.push([
      "published",
      pc,
      label(pc),
      ...cols.flatMap((c) => (c.published && c.published.coef === pc ? [fullPrecision(c.published.estimate), fullPrecision(c.published.se), ""] : ["", "", ""])),
    ]);
    if (cols.some((c) => c.published?.coef === pc && c.published.n !== undefined)) {
      rows.push([
        "published_n",
        pc,
        "Published observations",
        ...cols.flatMap((c) => (c.published?.coef === pc && c.published.n !== undefined ? [fullPrecision(c.published.n), "", ""] : ["", "", ""])),
      ]);
    }
  }
  const statKeys: string[] = [];
  for (const c of cols) if (!c.skipped) for (const k of Object.keys(c.stats)) if (!statKeys.includes(k)) statKeys.push(k);
  for (const k of statKeys) {
    rows.push([
      "stat",
      k,
      k,
      ...cols.flatMap((c) => {
        const v = c.skipped ? undefined : c.stats[k];
        return [v === undefined ? "" : typeof v === "number" ? fullPrecision(v) : v, "", ""];
      }),
    ]);
  }
  if (cols.some((c) => c.skipped)) rows.push(["skipped", "", "", ...cols.flatMap((c) => [c.skipped ?? "", "", ""])]);
  return csvLines(rows);
}

// ---------------------------------------------------------------------------------------------
// Data tables

interface DataLayout {
  id: string;
  title: string;
  header: string[];
  cells: string[][];
  /** per column: every non-null value is a number */
  numeric: boolean[];
  notes: string[];
}

/** Columns whose integers are codes or years, printed without thousands separators. */
const NUMERIC_TEXT = /^(?:[<>] )?-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?$/;
const NO_SEPARATOR = /\b(year|years|cohort|period|time|id|code|date)\b/i;

function layoutData(t: DataTable): DataLayout {
  const ncol = Math.max(t.header.length, ...t.rows.map((r) => r.length));
  const digits = t.digits ?? 3;
  const header = Array.from({ length: ncol }, (_, j) => t.header[j] ?? "");
  // a column is numeric (right-aligned, math mode in LaTeX) when its cells are numbers or
  // pre-formatted numbers such as "< 0.002"
  const isNum = (v: unknown) => typeof v === "number" || (typeof v === "string" && NUMERIC_TEXT.test(v));
  const numeric = header.map((_, j) => t.rows.some((r) => isNum(r[j])) && t.rows.every((r) => r[j] === null || r[j] === undefined || r[j] === "" || isNum(r[j])));
  const cells = t.rows.map((r) =>
    header.map((h, j) => {
      const v = r[j];
      if (v === null || v === undefined) return "";
      if (typeof v === "string") return v;
      if (Number.isInteger(v)) return NO_SEPARATOR.test(h) ? String(v) : formatCount(v);
      return formatFixed(v, digits);
    }),
  );
  return { id: t.id, title: t.title, header, cells, numeric, notes: t.notes };
}

function dataMd(d: DataLayout): string {
  const lines = [`**${escapeMarkdown(d.title)}**`, ""];
  lines.push(mdRow(d.header.map(escapeMarkdown)));
  lines.push(mdRow(d.numeric.map((n, j) => (j > 0 && n ? "---:" : ":---"))));
  for (const r of d.cells) lines.push(mdRow(r.map((c, j) => (d.numeric[j] ? mdCell(c) : escapeMarkdown(c)))));
  for (const n of d.notes) lines.push("", `<sub>${escapeMarkdown(n)}</sub>`);
  return lines.join("\n") + "\n";
}

function dataLatex(d: DataLayout): string {
  const spec = d.numeric.map((n, j) => (j > 0 && n ? "r" : "l")).join("");
  const num = (s: string) => (s ? `$${s.replace(/,/g, "{,}")}$` : "");
  const body = [`\\begin{tabular}{${spec || "l"}}`, "\\toprule", d.header.map(escapeLatex).join(" & ") + " \\\\", "\\midrule"];
  for (const r of d.cells) body.push(r.map((c, j) => (d.numeric[j] ? num(c) : escapeLatex(c))).join(" & ") + " \\\\");
  body.push("\\bottomrule", "\\end{tabular}");
  const chars = d.header.map((h, j) => Math.max(h.length, ...d.cells.map((r) => r[j].length)));
  return latexWrap(d.id, d.title, chars, body, d.notes.map(escapeLatex));
}

function dataHtml(d: DataLayout): string {
  const out = [`<table class="hdfe-table data" id="tab-${escapeHtml(slug(d.id))}">`, `<caption>${escapeHtml(d.title)}</caption>`];
  out.push(`<thead><tr>${d.header.map((h, j) => `<th scope="col"${j > 0 && d.numeric[j] ? ' class="num"' : ""}>${escapeHtml(h)}</th>`).join("")}</tr></thead>`);
  out.push("<tbody>");
  for (const r of d.cells) {
    out.push(
      `<tr>${r
        .map((c, j) => (j === 0 && !d.numeric[0] ? `<th scope="row">${escapeHtml(c)}</th>` : `<td${d.numeric[j] ? ' class="num"' : ""}>${escapeHtml(c)}</td>`))
        .join("")}</tr>`,
    );
  }
  out.push("</tbody>");
  if (d.notes.length) out.push(`<tfoot><tr><td class="notes" colspan="${d.header.length}">${d.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join("")}</td></tr></tfoot>`);
  out.push("</table>");
  return out.join("\n") + "\n";
}

function dataText(d: DataLayout): string {
  const all = [d.header, ...d.cells];
  const widths = d.header.map((_, j) => Math.max(1, ...all.map((r) => r[j].length)));
  const total = widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  const line = (r: string[]) => r.map((c, j) => (d.numeric[j] && j > 0 ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join(GAP);
  const out = [...wrapText(d.title, Math.max(total, 78)), "=".repeat(total), line(d.header), "-".repeat(total), ...d.cells.map(line), "=".repeat(total)];
  for (const n of d.notes) out.push(...wrapText(n, Math.max(total, 78)));
  return out.join("\n") + "\n";
}

function dataCsv(t: DataTable): string {
  const ncol = Math.max(t.header.length, ...t.rows.map((r) => r.length));
  const header = Array.from({ length: ncol }, (_, j) => t.header[j] ?? "");
  return csvLines([header, ...t.rows.map((r) => header.map((_, j) => (typeof r[j] === "number" ? fullPrecision(r[j] as number) : ((r[j] as string | null) ?? ""))))]);
}
