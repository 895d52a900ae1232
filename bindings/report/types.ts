// Neutral structures the suite extracts numbers into; renderers (bindings/report/*)
// turn them into Markdown, LaTeX, CSV, HTML and SVG. Two phases, as fixest's etable.

/** One estimated coefficient as reported. */
export interface CoefCell {
  estimate: number;
  se: number;
  p: number;
  /** optional confidence interval */
  ci?: [number, number];
}

/** One column of a regression table (one model). */
export interface ModelColumn {
  /** "(1)", "(2)"... or a short label such as "East" */
  label: string;
  /** header above the label, e.g. the outcome ("FC") or the subsample */
  header?: string;
  coefs: Record<string, CoefCell>;
  /** rows under the coefficients: "Observations" -> 14734, "R2" -> 0.41, "Firm FE" -> "Yes" */
  stats: Record<string, string | number>;
  /** the published number for the key coefficient, if the paper reports one */
  published?: { coef: string; estimate: number; se?: number; n?: number };
  /** why a column could not be estimated (the table keeps the column, empty) */
  skipped?: string;
  /** terms of this model removed as collinear (with the FE or earlier regressors) */
  dropped?: string[];
}

export interface RegressionTable {
  kind: "regression";
  /** "table3", "table4" ... used for file names */
  id: string;
  title: string;
  /** coefficient names to show, in order */
  rows: string[];
  /** display labels of coefficient names ("did" -> "Zone x Post") */
  labels?: Record<string, string>;
  columns: ModelColumn[];
  /** lines printed under the table (vcov used, corrections, stars legend...) */
  notes: string[];
  /** SEs in [brackets] instead of (parentheses) */
  brackets?: boolean;
  /** significance stars, most stars first, each given when p < its threshold (default *** 0.01, ** 0.05, * 0.1) */
  stars?: StarLevel[];
}

export interface StarLevel {
  symbol: string;
  p: number;
}

export interface DataTable {
  kind: "data";
  id: string;
  title: string;
  header: string[];
  rows: (string | number | null)[][];
  notes: string[];
  /** digits for numbers (default 3) */
  digits?: number;
}

export type ReportTable = RegressionTable | DataTable;

/** A line-and-interval series for coefficient plots (event studies, estimator overlays). */
export interface CoefSeries {
  label: string;
  points: { x: number; estimate: number; low: number; high: number }[];
}

export interface EventPlot {
  kind: "event";
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: CoefSeries[];
  /** x of the reference period (drawn as a dashed vertical line), if any */
  reference?: number;
  notes: string[];
}

export interface HistogramPlot {
  kind: "histogram";
  id: string;
  title: string;
  values: number[];
  /** the true estimate, marked by a vertical line */
  marker?: { value: number; label: string };
  xLabel: string;
  notes: string[];
}

export interface ScatterPlot {
  kind: "scatter";
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  points: { x: number; y: number; group: string }[];
  /** horizontal reference line (e.g. the TWFE estimate) */
  hline?: { value: number; label: string };
  notes: string[];
}

export type Figure = EventPlot | HistogramPlot | ScatterPlot;

export interface ReportSection {
  id: string;
  title: string;
  /** free paragraphs (plain text; renderers escape them) */
  text: string[];
  tables: ReportTable[];
  figures: Figure[];
  /** why the section was skipped, if it was */
  skipped?: string;
}

export interface Report {
  title: string;
  subtitle?: string;
  /** conventions used: vcov, small-sample correction, singleton rule, seeds, data source */
  conventions: string[];
  sections: ReportSection[];
  /** timing and environment lines */
  footer: string[];
}
