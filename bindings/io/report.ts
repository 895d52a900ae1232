// What a reader tells the caller about the data it produced. Browser-safe.

export type ColumnKind = "float64" | "string" | "other";

export interface ColumnReport {
  name: string;
  /** "float64" for numeric columns, "string" for text/dictionary columns; "other" only for Arrow/Parquet types
   *  that are neither (dates, nested...). CSV columns are always "float64" or "string". */
  type: ColumnKind;
  /** Nulls produced by missing-value tokens (CSV) or present in the source (Arrow/Parquet). Excludes `unparsable`. */
  missing: number;
  /** Values that were not numbers in a numeric column and became null (CSV with `unparsable: "na"`). */
  unparsable: number;
  /** +Inf / -Inf values kept in a numeric column. */
  infinite: number;
  /** why a column was read differently from what its values suggest (integers beyond 2^53 read as text; CSV
   *  values that are not valid text) */
  note?: string;
}

export interface ReadReport {
  format: "csv" | "arrow" | "parquet";
  rows: number;
  /** Text encoding used to decode a CSV file; null for binary formats. */
  encoding: "utf8" | "gbk" | null;
  /** Field delimiter of a CSV file; null for binary formats. */
  delimiter: string | null;
  columns: ColumnReport[];
  /** Facts about the input outside the columns read (e.g. CSV bytes that are not valid text in columns not
   *  selected). */
  notes?: string[];
}
