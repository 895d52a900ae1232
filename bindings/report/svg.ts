// Figure renderer: EventPlot / HistogramPlot / ScatterPlot -> a self-contained SVG string
// (viewBox, presentation attributes only: no <style>, no scripts, no external fonts or links).
// Every plotted point is one element with class="marker"; legend symbols use "legend-marker".
import type { EventPlot, Figure, HistogramPlot, ScatterPlot } from "./types.js";
import { escapeXml, formatCount, formatNumber, wrapText } from "./format.js";

const W = 720;
const H = 440;
const FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";
const TITLE_SIZE = 15;
const TICK_SIZE = 12;
const LABEL_SIZE = 13;
const LEGEND_SIZE = 12;
/** Okabe-Ito, safe for colour-blind readers; black last. */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
export const MARKERS = ["circle", "square", "triangle", "diamond", "triangle-down", "cross"] as const;
type MarkerShape = (typeof MARKERS)[number];
/** Most bins a histogram draws (Freedman-Diaconis otherwise). */
export const MAX_BINS = 60;

/** Render a figure to a standalone SVG document (no XML prolog, ready to inline in HTML). */
export function renderFigure(f: Figure): string {
  switch (f.kind) {
    case "event":
      return eventSvg(f);
    case "histogram":
      return histogramSvg(f);
    case "scatter":
      return scatterSvg(f);
  }
  throw new Error(`renderFigure: unknown figure kind "${(f as { kind: string }).kind}"`);
}

// ---------------------------------------------------------------------------------------------
// Scales and ticks

/** 1, 2 or 5 times a power of ten, nearest to x. */
function niceNum(x: number): number {
  const e = Math.floor(Math.log10(x));
  const f = x / 10 ** e;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * 10 ** e;
}

export interface NiceScale {
  min: number;
  max: number;
  step: number;
  ticks: number[];
  /** decimals that print every tick exactly */
  decimals: number;
}

/** Round tick values covering [lo, hi] (1, 2 or 5 times a power of ten), about `n` of them. */
export function niceScale(lo: number, hi: number, n = 6): NiceScale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.5 : 1;
    lo -= d;
    hi += d;
  }
  const step = niceNum((hi - lo) / Math.max(1, n - 1));
  const k0 = Math.floor(lo / step + 1e-9);
  const k1 = Math.ceil(hi / step - 1e-9);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks: number[] = [];
  for (let k = k0; k <= k1; k++) ticks.push(Number((k * step).toFixed(decimals)));
  return { min: ticks[0], max: ticks[ticks.length - 1], step, ticks, decimals };
}

function tickLabel(v: number, decimals: number): string {
  const s = v.toFixed(decimals);
  if (/^-0(\.0*)?$/.test(s)) return s.slice(1);
  return s.replace(/^-/, "\u2212");
}

function textWidth(s: string, size: number): number {
  return s.length * size * 0.56;
}

/** Short number for labels inside figures. */
function num(x: number): string {
  return formatNumber(x).replace(/^-/, "\u2212");
}

const r2 = (x: number) => Math.round(x * 100) / 100;

// ---------------------------------------------------------------------------------------------
// SVG building blocks

type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === "number" ? r2(v) : escapeXml(v as string)}"`)
    .join("");
}

const el = (tag: string, a: Attrs, inner?: string) => (inner === undefined ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${inner}</${tag}>`);

function text(x: number, y: number, s: string, a: Attrs = {}): string {
  return el("text", { x, y, ...a }, escapeXml(s));
}

function markerEl(shape: MarkerShape, cx: number, cy: number, r: number, color: string, cls: string, extra: Attrs = {}): string {
  const common: Attrs = { class: cls, fill: color, stroke: "#ffffff", "stroke-width": 1, ...extra };
  switch (shape) {
    case "circle":
      return el("circle", { cx, cy, r, ...common });
    case "square":
      return el("rect", { x: cx - r * 0.9, y: cy - r * 0.9, width: r * 1.8, height: r * 1.8, ...common });
    case "triangle": {
      const h = r * 1.15;
      return el("path", { d: `M${r2(cx)},${r2(cy - h)}L${r2(cx + h)},${r2(cy + h * 0.8)}L${r2(cx - h)},${r2(cy + h * 0.8)}Z`, ...common });
    }
    case "triangle-down": {
      const h = r * 1.15;
      return el("path", { d: `M${r2(cx)},${r2(cy + h)}L${r2(cx + h)},${r2(cy - h * 0.8)}L${r2(cx - h)},${r2(cy - h * 0.8)}Z`, ...common });
    }
    case "diamond": {
      const h = r * 1.3;
      return el("path", { d: `M${r2(cx)},${r2(cy - h)}L${r2(cx + h)},${r2(cy)}L${r2(cx)},${r2(cy + h)}L${r2(cx - h)},${r2(cy)}Z`, ...common });
    }
    case "cross": {
      const h = r;
      const t = r * 0.4;
      const d = `M${r2(cx - t)},${r2(cy - h)}h${r2(2 * t)}v${r2(h - t)}h${r2(h - t)}v${r2(2 * t)}h${r2(-(h - t))}v${r2(h - t)}h${r2(-2 * t)}v${r2(-(h - t))}h${r2(-(h - t))}v${r2(-2 * t)}h${r2(h - t)}Z`;
      return el("path", { d, ...common });
    }
  }
}

interface Layout {
  /** plot area */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  parts: string[];
}

interface LegendItem {
  label: string;
  color: string;
  shape: MarkerShape;
}

function legendRows(items: LegendItem[], width: number): LegendItem[][] {
  const rows: LegendItem[][] = [];
  let cur: LegendItem[] = [];
  let used = 0;
  for (const it of items) {
    const w = 22 + textWidth(it.label, LEGEND_SIZE) + 18;
    if (cur.length && used + w > width) {
      rows.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(it);
    used += w;
  }
  if (cur.length) rows.push(cur);
  return rows;
}

/**
 * Frame: background, wrapped title, a legend row (or rows) under it, then the plot area with
 * room for y tick labels and both axis labels.
 */
function frame(f: Figure, yTickLabels: string[], yLabel: string, xLabel: string, legend: LegendItem[]): Layout {
  const parts: string[] = [];
  parts.push(el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }));
  const titleLines = balancedWrap(f.title, Math.floor((W - 40) / (TITLE_SIZE * 0.56)));
  let y = 12;
  for (const tl of titleLines) {
    y += TITLE_SIZE + 4;
    parts.push(text(W / 2, y, tl, { "text-anchor": "middle", "font-size": TITLE_SIZE, "font-weight": "bold", fill: "#111111" }));
  }
  y += 8;
  const rows = legend.length ? legendRows(legend, W - 80) : [];
  const legendTop = y;
  y += rows.length * 20 + (rows.length ? 6 : 0);
  const tickW = Math.max(16, ...yTickLabels.map((s) => textWidth(s, TICK_SIZE)));
  const x0 = Math.round((yLabel ? 24 : 6) + tickW + 14);
  const x1 = W - 24;
  const y0 = Math.round(y + 6);
  const y1 = H - (xLabel ? 52 : 32);
  // legend, centred, each row
  rows.forEach((row, i) => {
    const widths = row.map((it) => 22 + textWidth(it.label, LEGEND_SIZE) + 18);
    let lx = (W - widths.reduce((a, b) => a + b, 0)) / 2;
    const ly = legendTop + i * 20 + 10;
    const g: string[] = [];
    row.forEach((it, k) => {
      g.push(markerEl(it.shape, lx + 8, ly, 5, it.color, "legend-marker"));
      g.push(text(lx + 22, ly + 4, it.label, { "font-size": LEGEND_SIZE, fill: "#222222" }));
      lx += widths[k];
    });
    parts.push(el("g", { class: "legend" }, g.join("")));
  });
  if (yLabel) {
    const cy = (y0 + y1) / 2;
    parts.push(text(16, cy, yLabel, { "text-anchor": "middle", "font-size": LABEL_SIZE, fill: "#222222", transform: `rotate(-90 16 ${r2(cy)})` }));
  }
  if (xLabel) parts.push(text((x0 + x1) / 2, H - 14, xLabel, { "text-anchor": "middle", "font-size": LABEL_SIZE, fill: "#222222" }));
  return { x0, x1, y0, y1, parts };
}

/** Wrap into as few lines as `width` allows, with lines of similar length. */
function balancedWrap(s: string, width: number): string[] {
  const lines = wrapText(s, width);
  if (lines.length < 2) return lines;
  for (let w = Math.ceil(s.length / lines.length); w < width; w++) {
    const alt = wrapText(s, w);
    if (alt.length <= lines.length) return alt;
  }
  return lines;
}

function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Horizontal gridlines and y tick labels, x ticks and labels, axis lines. */
function axes(L: Layout, ys: NiceScale, sy: (v: number) => number, xTicks: { v: number; label: string }[], sx: (v: number) => number): string {
  const g: string[] = [];
  for (const t of ys.ticks) {
    const y = sy(t);
    g.push(el("line", { x1: L.x0, y1: y, x2: L.x1, y2: y, stroke: "#e6e6e6", "stroke-width": 1 }));
    g.push(text(L.x0 - 8, y + 4, tickLabel(t, ys.decimals), { "text-anchor": "end", "font-size": TICK_SIZE, fill: "#333333" }));
  }
  for (const t of xTicks) {
    const x = sx(t.v);
    g.push(el("line", { x1: x, y1: L.y1, x2: x, y2: L.y1 + 5, stroke: "#444444", "stroke-width": 1 }));
    g.push(text(x, L.y1 + 19, t.label, { "text-anchor": "middle", "font-size": TICK_SIZE, fill: "#333333" }));
  }
  g.push(el("line", { x1: L.x0, y1: L.y1, x2: L.x1, y2: L.y1, stroke: "#444444", "stroke-width": 1 }));
  g.push(el("line", { x1: L.x0, y1: L.y0, x2: L.x0, y2: L.y1, stroke: "#444444", "stroke-width": 1 }));
  return el("g", { class: "axes" }, g.join(""));
}

function svgDoc(f: Figure, body: string[]): string {
  const desc = f.notes.length ? el("desc", {}, escapeXml(f.notes.join(" "))) : "";
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(f.title)}" class="hdfe-figure ${f.kind}" font-family="${escapeXml(FONT)}">` +
    `<title>${escapeXml(f.title)}</title>${desc}\n${body.join("\n")}\n</svg>\n`
  );
}

function emptyNote(L: Layout): string {
  return text((L.x0 + L.x1) / 2, (L.y0 + L.y1) / 2, "No data to plot", { "text-anchor": "middle", "font-size": LABEL_SIZE, fill: "#777777" });
}

function finite(...xs: number[]): boolean {
  return xs.every(Number.isFinite);
}

// ---------------------------------------------------------------------------------------------
// Event study / coefficient plot

function xTicksFor(xs: number[], px: number): { lo: number; hi: number; ticks: { v: number; label: string }[] } {
  if (!xs.length) return { lo: 0, hi: 1, ticks: [] };
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const integers = xs.every(Number.isInteger);
  if (integers && hi - lo <= 30) {
    const every = hi - lo > 15 && px < 700 ? 2 : 1;
    const ticks: { v: number; label: string }[] = [];
    for (let v = lo; v <= hi; v++) if ((v - lo) % every === 0) ticks.push({ v, label: tickLabel(v, 0) });
    return { lo: lo - 0.6, hi: hi + 0.6, ticks };
  }
  const s = niceScale(lo, hi, 8);
  const pad = (hi - lo || 1) * 0.04;
  return { lo: Math.min(lo - pad, s.min), hi: Math.max(hi + pad, s.max), ticks: s.ticks.map((v) => ({ v, label: tickLabel(v, s.decimals) })) };
}

function eventSvg(f: EventPlot): string {
  const series = f.series.map((s, i) => ({ ...s, color: PALETTE[i % PALETTE.length], shape: MARKERS[i % MARKERS.length] }));
  const pts = series.flatMap((s) => s.points.filter((p) => finite(p.x, p.estimate)));
  const yVals = [0, ...pts.flatMap((p) => [p.estimate, p.low, p.high].filter(Number.isFinite))];
  const ys = niceScale(Math.min(...yVals), Math.max(...yVals), 6);
  const legend: LegendItem[] = series.length > 1 ? series.map((s) => ({ label: s.label, color: s.color, shape: s.shape })) : [];
  const L = frame(f, ys.ticks.map((t) => tickLabel(t, ys.decimals)), f.yLabel, f.xLabel, legend);
  const allX = [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  const xt = xTicksFor(f.reference !== undefined && Number.isFinite(f.reference) ? [...allX, f.reference] : allX, L.x1 - L.x0);
  const sx = linear(xt.lo, xt.hi, L.x0, L.x1);
  const sy = linear(ys.min, ys.max, L.y1, L.y0);
  const body = [...L.parts, axes(L, ys, sy, xt.ticks, sx)];
  if (!pts.length) return svgDoc(f, [...body, emptyNote(L)]);

  // zero line, reference period
  body.push(el("line", { class: "zero", x1: L.x0, y1: sy(0), x2: L.x1, y2: sy(0), stroke: "#555555", "stroke-width": 1 }));
  if (f.reference !== undefined && Number.isFinite(f.reference)) {
    const x = sx(f.reference);
    body.push(el("line", { class: "reference", x1: x, y1: L.y0, x2: x, y2: L.y1, stroke: "#555555", "stroke-width": 1.2, "stroke-dasharray": "5 4" }));
  }
  // dodge: series side by side around each x
  let gap = Infinity;
  for (let i = 1; i < allX.length; i++) gap = Math.min(gap, allX[i] - allX[i - 1]);
  if (!Number.isFinite(gap) || gap <= 0) gap = 1;
  const K = series.length;
  const dodge = K > 1 ? Math.min(0.15 * gap, (0.6 * gap) / K) : 0;
  const radius = K > 3 ? 3.5 : 4.5;
  series.forEach((s, i) => {
    const off = (i - (K - 1) / 2) * dodge;
    const g: string[] = [];
    for (const p of s.points) {
      if (!finite(p.x, p.estimate)) continue;
      const x = sx(p.x + off);
      if (finite(p.low, p.high) && p.high !== p.low) {
        const yl = sy(p.low);
        const yh = sy(p.high);
        g.push(el("line", { class: "ci", x1: x, y1: yl, x2: x, y2: yh, stroke: s.color, "stroke-width": 1.6 }));
        g.push(el("line", { class: "ci", x1: x - 3, y1: yl, x2: x + 3, y2: yl, stroke: s.color, "stroke-width": 1.6 }));
        g.push(el("line", { class: "ci", x1: x - 3, y1: yh, x2: x + 3, y2: yh, stroke: s.color, "stroke-width": 1.6 }));
      }
      g.push(markerEl(s.shape, x, sy(p.estimate), radius, s.color, "marker", { "data-x": String(p.x), "data-estimate": String(p.estimate) }));
    }
    body.push(el("g", { class: "series", "data-label": s.label }, g.join("")));
  });
  return svgDoc(f, body);
}

// ---------------------------------------------------------------------------------------------
// Histogram of placebo draws

function quantile(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

/** Bin edges by the Freedman-Diaconis rule (Sturges when the IQR is 0), at most MAX_BINS bins. */
export function histogramBins(values: number[]): { edges: number[]; counts: number[] } {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return { edges: [], counts: [] };
  let lo = v[0];
  let hi = v[v.length - 1];
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 0.5;
    lo -= d;
    hi += d;
  }
  const iqr = quantile(v, 0.75) - quantile(v, 0.25);
  let k: number;
  if (iqr > 0) k = Math.ceil((hi - lo) / ((2 * iqr) / Math.cbrt(v.length)));
  else k = Math.ceil(Math.log2(v.length) + 1);
  k = Math.max(1, Math.min(MAX_BINS, k));
  const w = (hi - lo) / k;
  const edges = Array.from({ length: k + 1 }, (_, i) => (i === k ? hi : lo + i * w));
  const counts = new Array<number>(k).fill(0);
  for (const x of v) counts[Math.min(k - 1, Math.max(0, Math.floor((x - lo) / w)))]++;
  return { edges, counts };
}

function histogramSvg(f: HistogramPlot): string {
  const { edges, counts } = histogramBins(f.values);
  const n = counts.reduce((a, b) => a + b, 0);
  const maxC = Math.max(1, ...counts);
  const ys = niceScale(0, maxC * 1.12, 6);
  const yLabel = "Count";
  const L = frame(f, ys.ticks.map((t) => tickLabel(t, ys.decimals)), yLabel, f.xLabel, []);
  const marker = f.marker && Number.isFinite(f.marker.value) ? f.marker : undefined;
  const xVals = [...(edges.length ? [edges[0], edges[edges.length - 1]] : []), ...(marker ? [marker.value] : [])];
  const xs = niceScale(Math.min(...(xVals.length ? xVals : [0])), Math.max(...(xVals.length ? xVals : [1])), 7);
  const sx = linear(xs.min, xs.max, L.x0, L.x1);
  const sy = linear(ys.min, ys.max, L.y1, L.y0);
  const body = [...L.parts, axes(L, ys, sy, xs.ticks.map((v) => ({ v, label: tickLabel(v, xs.decimals) })), sx)];
  if (!n) return svgDoc(f, [...body, emptyNote(L)]);
  const bars: string[] = [];
  counts.forEach((c, i) => {
    const xa = sx(edges[i]);
    const xb = sx(edges[i + 1]);
    const y = sy(c);
    bars.push(el("rect", { class: "bar", x: xa, y, width: Math.max(0.5, xb - xa), height: L.y1 - y, fill: "#8fb3d9", stroke: "#ffffff", "stroke-width": xb - xa > 4 ? 1 : 0.3, "data-count": String(c), "data-from": String(edges[i]), "data-to": String(edges[i + 1]) }));
  });
  body.push(el("g", { class: "bars" }, bars.join("")));
  const countLabel = `${formatCount(n)} draws`;
  const countW = textWidth(countLabel, TICK_SIZE);
  // the draw count sits top right, or top left when the marker line runs through that corner
  const mx = marker ? sx(marker.value) : NaN;
  const countOnLeft = marker !== undefined && mx >= L.x1 - 4 - countW - 8;
  const countLeft = countOnLeft ? L.x0 + 4 : L.x1 - 4 - countW;
  body.push(text(countOnLeft ? L.x0 + 4 : L.x1 - 4, L.y0 + 14, countLabel, { "text-anchor": countOnLeft ? "start" : "end", "font-size": TICK_SIZE, fill: "#555555" }));
  if (marker) {
    const x = mx;
    body.push(el("line", { class: "marker-line", x1: x, y1: L.y0, x2: x, y2: L.y1, stroke: "#D55E00", "stroke-width": 2 }));
    const label = marker.label;
    const w = textWidth(label, LABEL_SIZE);
    const right = x + 6 + w <= L.x1 - 4 || x - 6 - w < L.x0;
    const a = right ? x + 6 : x - 6 - w;
    // drop the marker label a line when it would overlap the draw count
    const ly = a < countLeft + countW + 6 && a + w > countLeft - 6 ? L.y0 + 34 : L.y0 + 14;
    body.push(text(right ? x + 6 : x - 6, ly, label, { "text-anchor": right ? "start" : "end", "font-size": LABEL_SIZE, "font-weight": "bold", fill: "#D55E00" }));
  }
  return svgDoc(f, body);
}

// ---------------------------------------------------------------------------------------------
// Scatter (Bacon decomposition: weight vs estimate, coloured by comparison type)

function scatterSvg(f: ScatterPlot): string {
  const pts = f.points.filter((p) => finite(p.x, p.y));
  const groups = [...new Set(f.points.map((p) => p.group))];
  const style = new Map(groups.map((g, i) => [g, { color: PALETTE[i % PALETTE.length], shape: MARKERS[i % MARKERS.length] }]));
  const hline = f.hline && Number.isFinite(f.hline.value) ? f.hline : undefined;
  const yVals = [0, ...pts.map((p) => p.y), ...(hline ? [hline.value] : [])];
  const ys = niceScale(Math.min(...yVals), Math.max(...yVals), 6);
  const legend: LegendItem[] = groups.map((g) => ({ label: g, ...style.get(g)! }));
  const L = frame(f, ys.ticks.map((t) => tickLabel(t, ys.decimals)), f.yLabel, f.xLabel, legend);
  const xv = pts.map((p) => p.x);
  const xMin = xv.length ? Math.min(...xv) : 0;
  const xMax = xv.length ? Math.max(...xv) : 1;
  const xs = niceScale(xMin >= 0 ? 0 : xMin, xMax, 7);
  const sx = linear(xs.min, xs.max, L.x0, L.x1);
  const sy = linear(ys.min, ys.max, L.y1, L.y0);
  const body = [...L.parts, axes(L, ys, sy, xs.ticks.map((v) => ({ v, label: tickLabel(v, xs.decimals) })), sx)];
  if (!pts.length) return svgDoc(f, [...body, emptyNote(L)]);
  if (ys.min < 0 && ys.max > 0) body.push(el("line", { class: "zero", x1: L.x0, y1: sy(0), x2: L.x1, y2: sy(0), stroke: "#999999", "stroke-width": 1 }));
  if (hline) {
    const y = sy(hline.value);
    body.push(el("line", { class: "hline", x1: L.x0, y1: y, x2: L.x1, y2: y, stroke: "#444444", "stroke-width": 1.5, "stroke-dasharray": "6 4" }));
    const label = `${hline.label} = ${num(hline.value)}`;
    // a generous width (labels must not touch points even where the font runs wide)
    const w = label.length * TICK_SIZE * 0.62;
    // the place (right end, left end, middle; above or below the line) whose box touches the
    // fewest markers, the first of those in this order
    const ends = [
      { x: L.x1 - 4, anchor: "end" },
      { x: L.x0 + 4, anchor: "start" },
      { x: (L.x0 + L.x1) / 2, anchor: "middle" },
    ];
    const spots = [y - 6, y + TICK_SIZE + 4].flatMap((ty) => ends.map((e) => ({ ...e, y: ty })));
    const touched = (sp: (typeof spots)[number]) => {
      const x0 = sp.anchor === "end" ? sp.x - w : sp.anchor === "middle" ? sp.x - w / 2 : sp.x, x1 = x0 + w;
      const y0 = sp.y - TICK_SIZE, y1 = sp.y + 2;
      return pts.filter((p) => {
        const px = sx(p.x), py = sy(p.y);
        return !(px + 6 < x0 || px - 6 > x1 || py + 6 < y0 || py - 6 > y1);
      }).length;
    };
    const hits = spots.map(touched);
    const sp = spots[hits.indexOf(Math.min(...hits))];
    body.push(text(sp.x, sp.y, label, { class: "hline-label", "text-anchor": sp.anchor, "font-size": TICK_SIZE, fill: "#333333" }));
  }
  for (const g of groups) {
    const st = style.get(g)!;
    const m = pts
      .filter((p) => p.group === g)
      .map((p) => markerEl(st.shape, sx(p.x), sy(p.y), 5, st.color, "marker", { "fill-opacity": 0.85, "data-x": String(p.x), "data-y": String(p.y) }));
    body.push(el("g", { class: "group", "data-group": g }, m.join("")));
  }
  return svgDoc(f, body);
}
