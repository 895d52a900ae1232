// Reporting: neutral structures (types.ts) and pure renderers (strings in, strings out).
export type * from "./types.js";
export { renderTable, layoutRegression, TABLE_FORMATS, type TableFormat, type RegressionLayout } from "./tables.js";
export { renderFigure, histogramBins, niceScale, MAX_BINS, type NiceScale } from "./svg.js";
export { renderMarkdown, renderHtml, type MarkdownAssets } from "./document.js";
export {
  significanceStars,
  STARS_LEGEND,
  formatNumber,
  formatCount,
  formatFixed,
  formatPValue,
  formatStat,
  fullPrecision,
  escapeHtml,
  escapeLatex,
  escapeMarkdown,
} from "./format.js";
