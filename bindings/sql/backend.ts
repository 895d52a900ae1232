// The seam between the SQL algebra (bindings/sql/*: text generation, small-matrix math, Fit
// assembly; engine-independent and browser-safe) and the engines that run it: DuckDB
// (bindings/platform/duckdb-engine.ts) and ClickHouse (a sibling backend). The algebra writes
// SQL only through a SqlDialect's hooks for what differs between engines and runs it only
// through a SqlBackend; both are small on purpose.
//
// The SQL the algebra writes keeps to what both DuckDB and ClickHouse 18.16 accept: plain
// SELECT ... FROM (subquery) ... GROUP BY, no window functions, no CTEs, no correlated
// subqueries; every join is written by dialect.join() as `<kind> JOIN (subquery) USING (cols)`
// (ClickHouse: `ANY|ALL LEFT|INNER JOIN`, GLOBAL for Distributed tables); set membership by
// dialect.inSet() (ClickHouse: GLOBAL IN). Every aggregate of a number is a float64 sum
// (dialect.sum) of values already centred or demeaned; counts are dialect.count().
// No alias of a SELECT equals a column of its FROM: 18.16 substitutes an alias for the name
// everywhere in the SELECT (`a + p AS a, q AS p` reads the new p), so new values get the fit's
// alias prefix (sample.ts aliasPrefix) and are renamed one level up (rows.ts, cg.ts).

/** One result row: column name -> value (numbers as JS numbers, keys as strings, NULL as null). */
export type Row = Record<string, number | string | null>;

/** What the algebra needs to know of a column of the source. */
export interface SqlColumn {
  name: string;
  /** the engine's own type name, as reported (for error messages) */
  type: string;
  /** "number": integer, float or decimal; "text": strings; "bool"; "other": dates, lists... */
  kind: "number" | "text" | "bool" | "other";
}

export interface SqlDialect {
  /** "duckdb", "clickhouse": named in errors */
  readonly name: string;
  /** a quoted identifier ("x" / `x`) */
  ident(name: string): string;
  /** an expression as float64 (CAST(e AS DOUBLE) / toFloat64(e)) */
  f64(expr: string): string;
  /** a float64 sum of an expression (sum(CAST(e AS DOUBLE)) / sum(toFloat64(e))) */
  sum(expr: string): string;
  /** the number of rows of a group (count(*) / count()), as an integer */
  count(): string;
  /** true when e is not NULL and a finite number (NaN and +-Inf are false) */
  finite(expr: string): string;
  /** a grouping key of any type as text, for FE levels and clusters (CAST(e AS VARCHAR) / toString(e)) */
  key(expr: string): string;
  /** the text of a join clause: ` LEFT JOIN (sub) USING (a, b)`; ClickHouse adds ANY/ALL and GLOBAL */
  join(kind: "inner" | "left", sub: string, using: string[]): string;
  /** `e IN (sub)` (GLOBAL IN on a Distributed table) */
  inSet(expr: string, sub: string): string;
  /** `e NOT IN (sub)` */
  notInSet(expr: string, sub: string): string;
  /** integer division a / b rounded towards zero */
  intDiv(a: string, b: string): string;
  /** a float64 literal that the engine reads back exactly (17 significant digits, never 1e400) */
  num(v: number): string;
  /** a text literal, quotes escaped */
  str(v: string): string;
}

export interface SqlBackend {
  readonly dialect: SqlDialect;
  /**
   * The data as a relation usable after FROM: a table name or a table function
   * (read_parquet('x/*.parquet'), a Distributed table db.t). Never modified.
   */
  readonly source: string;
  /** A human name of the data for messages (a path, db.table). */
  readonly label: string;
  /**
   * The source is a CSV or Parquet file typed as the in-memory reader types it: a text column
   * where a number is needed is then the in-memory ColumnError, not an engine error.
   */
  readonly fileSource?: boolean;
  /** The columns of the source (step names the phase in errors). */
  columns(step: string): Promise<SqlColumn[]>;
  /** Run a SELECT and return its (small) result. */
  query(sql: string, step: string): Promise<Row[]>;
  /** Run a statement without a result. */
  exec(sql: string, step: string): Promise<void>;
  /**
   * Materialise a SELECT as a table that lives for the fit (DuckDB: CREATE TEMP TABLE;
   * ClickHouse: a Memory/MergeTree table that GLOBAL joins can ship to the shards). Returns the
   * table's name (quoted as needed) for use after FROM / in joins.
   */
  tempTable(prefix: string, selectSql: string, step: string): Promise<string>;
  /** Drop a table made by tempTable (never anything else). */
  dropTable(name: string, step: string): Promise<void>;
  /** Progress of long work (passes, sweeps); the CLI prints it on stderr. */
  progress?(msg: string): void;
}

/** The number of rows scanned by a step of the fit (for the progress report). */
export interface PassLog {
  step: string;
  ms: number;
}
