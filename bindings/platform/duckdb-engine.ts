// The DuckDB backend of the out-of-core fits (bindings/sql/): a SqlBackend over an in-process
// DuckDB (@duckdb/node-api, loaded lazily). The data is a CSV file (loaded once into a temp
// table as text, typed by the built-in reader's rule: duckdb-csv-types.ts), a Parquet file or
// glob (scanned in place each pass), or a table of a .duckdb database (attached read-only).
// DuckDB spills to disk past its memory limit, so the rows never need to fit in memory; only
// the small results of bindings/sql/ come back to JavaScript.
import { existsSync } from "node:fs";
import { DataReadError, OptionError, SqlEngineError } from "../base/errors.js";
import type { Row, SqlBackend, SqlColumn, SqlDialect } from "../sql/backend.js";
import { loadCsvAsText, typeCsvColumns } from "./duckdb-csv-types.js";

export const duckdbDialect: SqlDialect = {
  name: "duckdb",
  ident: (n) => `"${n.replace(/"/g, '""')}"`,
  f64: (e) => `CAST(${e} AS DOUBLE)`,
  sum: (e) => `sum(${e})`,
  count: () => "count(*)",
  finite: (e) => `(${e} IS NOT NULL AND isfinite(CAST(${e} AS DOUBLE)))`,
  key: (e) => `CAST(${e} AS VARCHAR)`,
  join: (kind, sub, using) => ` ${kind === "inner" ? "INNER" : "LEFT"} JOIN (${sub}) USING (${using.join(", ")})`,
  inSet: (e, sub) => `(${e} IN (${sub}))`,
  notInSet: (e, sub) => `(${e} NOT IN (${sub}))`,
  intDiv: (a, b) => `(${a} // ${b})`,
  // through text: DuckDB reads a bare 0.1 as a DECIMAL, the text cast to DOUBLE is exact
  num: (v) => (Number.isFinite(v) ? `CAST('${Object.is(v, -0) ? 0 : v}' AS DOUBLE)` : "CAST('NaN' AS DOUBLE)"),
  str: (v) => `'${v.replace(/'/g, "''")}'`,
};

export interface DuckSource {
  /** a CSV or Parquet path or glob, or a .duckdb database */
  data: string;
  /** the table of a .duckdb database */
  table?: string;
  /** how to read a file (--format): CSV or Parquet; default from the name */
  format?: "csv" | "parquet";
  /** DuckDB's memory limit (e.g. "8GB"); default DuckDB's own (80% of RAM) */
  memoryLimit?: string;
  /** DuckDB threads (default: DuckDB's own, the cores) */
  threads?: number;
  /** where DuckDB spills (default: DuckDB's own .tmp directory) */
  tempDirectory?: string;
  progress?: (msg: string) => void;
  /** CSV reading, as the in-memory reader's options (FileReadOptions of read-node.ts) */
  csv?: DuckCsvOptions;
}

/** The CSV options of the in-memory reader that DuckDB's read_csv honours (checked by csvReadSql). */
export interface DuckCsvOptions {
  /** missing-value tokens (default DEFAULT_NA) */
  na?: string[];
  /** one character (default: DuckDB's detection) */
  delimiter?: string;
  /** utf8 only: DuckDB reads no GBK (refused with an OptionError) */
  encoding?: string;
  /** columns read as text whatever they look like */
  textColumns?: string[];
  /** numeric columns (at least half their values numbers, the in-memory rule) with other values: those as missing */
  unparsableAsNa?: boolean;
}

/** The CSV options DuckDB cannot honour, refused with an OptionError (GBK: DuckDB reads UTF-8 only). */
export function checkCsvOptions(o: DuckCsvOptions = {}): void {
  const enc = o.encoding?.toLowerCase();
  if (enc === "gbk") {
    throw new OptionError(
      "--encoding gbk: DuckDB's CSV reader reads UTF-8 only, so --engine duckdb cannot read this file",
      { encoding: o.encoding },
      "convert the file to UTF-8 (iconv -f GBK -t UTF-8), or fit it in memory with --engine wasm",
    );
  }
  if (enc !== undefined && enc !== "utf8" && enc !== "utf-8") throw new OptionError(`unknown encoding ${o.encoding}`, undefined, "use utf8 or gbk");
  if (o.delimiter !== undefined && (o.delimiter.length !== 1 || o.delimiter === '"' || o.delimiter === "\n" || o.delimiter === "\r" || o.delimiter.charCodeAt(0) > 127)) {
    throw new OptionError(`--delimiter must be one ASCII character other than a quote or a line break, got ${JSON.stringify(o.delimiter)}`);
  }
}

type Conn = { run(sql: string): Promise<unknown>; runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }>; closeSync?(): void };

export class DuckDBBackend implements SqlBackend {
  readonly dialect = duckdbDialect;
  source = "";
  label = "";
  fileSource = false;
  progress?: (msg: string) => void;
  private con!: Conn;
  private inst!: { closeSync?(): void };
  private seq = 0;
  private made = new Set<string>();

  static async open(src: DuckSource): Promise<DuckDBBackend> {
    const b = new DuckDBBackend();
    await b.init(src);
    return b;
  }

  private async init(src: DuckSource): Promise<void> {
    let mod: typeof import("@duckdb/node-api");
    try {
      mod = await import("@duckdb/node-api");
    } catch {
      throw new OptionError("--engine duckdb needs the @duckdb/node-api package, which cannot be loaded here", undefined, "npm install @duckdb/node-api");
    }
    const cfg: Record<string, string> = { autoinstall_known_extensions: "false", autoload_known_extensions: "false" };
    if (src.memoryLimit) cfg.memory_limit = src.memoryLimit;
    if (src.threads) cfg.threads = String(src.threads);
    if (src.tempDirectory) cfg.temp_directory = src.tempDirectory;
    const inst = await mod.DuckDBInstance.create(":memory:", cfg);
    this.inst = inst as never;
    this.con = (await inst.connect()) as unknown as Conn;
    this.progress = src.progress;
    const d = this.dialect;
    const path = src.data;
    const glob = /[*?[]/.test(path);
    if (!glob && !existsSync(path)) throw new DataReadError(`cannot read ${path}: no such file`, { path });
    const lower = path.toLowerCase();
    if (lower.endsWith(".duckdb") || lower.endsWith(".db") || src.table) {
      if (!src.table) throw new OptionError(`${path} is a DuckDB database: name its table with --table`);
      if (src.format) throw new OptionError(`--format ${src.format} applies to a data file; ${path} is read as a DuckDB database (--table)`);
      await this.exec(`ATTACH ${d.str(path)} AS hdfe_src (READ_ONLY)`, "open database");
      this.source = `hdfe_src.${src.table.split(".").map((p) => d.ident(p)).join(".")}`;
      this.label = `table ${src.table} of ${path}`;
    } else if (src.format ? src.format === "parquet" : lower.endsWith(".parquet") || lower.endsWith(".parq") || (glob && lower.includes("parquet"))) {
      this.source = `read_parquet(${d.str(path)})`;
      this.label = path;
      this.fileSource = true;
    } else {
      // CSV: parsed once by DuckDB's parallel reader into a temp table, every column as text, then
      // typed by the built-in reader's rule (duckdb-csv-types.ts), not by DuckDB's sniffer
      checkCsvOptions(src.csv);
      const t = "hdfe_csv_data";
      this.made.add(t);
      const { names, delimiter } = await loadCsvAsText(this, path, t, src.csv ?? {});
      this.source = t;
      this.label = path;
      this.fileSource = true;
      await typeCsvColumns(this, t, path, names, delimiter, src.csv ?? {});
    }
    if (this.source !== "hdfe_csv_data" && src.csv && Object.values(src.csv).some((v) => v !== undefined)) {
      throw new OptionError(`the CSV options (--na, --delimiter, --encoding, --text-columns, --unparsable-as-na) apply to CSV files only; ${path} is not read as CSV`);
    }
  }

  private fail(e: unknown, step: string, sql: string): never {
    const msg = e instanceof Error ? e.message : String(e);
    throw new SqlEngineError(
      `duckdb: step "${step}" failed: ${msg.split("\n")[0]}`,
      { engine: "duckdb", step, error: msg, sql: sql.length > 2000 ? sql.slice(0, 2000) + " ..." : sql },
      "no result was produced; check the data (its columns and types) or report the SQL in the details",
    );
  }

  async columns(step: string): Promise<SqlColumn[]> {
    const rows = await this.query(`DESCRIBE SELECT * FROM ${this.source}`, step);
    return rows.map((r) => {
      const type = String(r.column_type);
      const t = type.toUpperCase();
      const kind: SqlColumn["kind"] = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL)/.test(t)
        ? "number"
        : t === "VARCHAR" ? "text" : t === "BOOLEAN" ? "bool" : "other";
      return { name: String(r.column_name), type, kind };
    });
  }

  /** Steps longer than a second are reported (each is a pass over the rows or a large table). */
  private timed(step: string, t0: number): void {
    const s = (performance.now() - t0) / 1000;
    if (s >= 1) this.progress?.(`${step}: ${s.toFixed(1)} s`);
  }

  async query(sql: string, step: string): Promise<Row[]> {
    let out: Record<string, unknown>[];
    const t0 = performance.now();
    try {
      out = (await this.con.runAndReadAll(sql)).getRowObjectsJS();
    } catch (e) {
      this.fail(e, step, sql);
    }
    this.timed(step, t0);
    return out.map((r) => {
      const o: Row = {};
      for (const [k, v] of Object.entries(r)) o[k] = v === null || v === undefined ? null : typeof v === "number" || typeof v === "string" ? v : typeof v === "bigint" ? Number(v) : typeof v === "boolean" ? Number(v) : String(v);
      return o;
    });
  }

  async exec(sql: string, step: string): Promise<void> {
    const t0 = performance.now();
    try {
      await this.con.run(sql);
    } catch (e) {
      this.fail(e, step, sql);
    }
    this.timed(step, t0);
  }

  async tempTable(prefix: string, selectSql: string, step: string): Promise<string> {
    const name = `hdfe_${prefix.replace(/[^A-Za-z0-9_]/g, "_")}_${++this.seq}`;
    await this.exec(`CREATE TEMP TABLE ${name} AS ${selectSql}`, step);
    this.made.add(name);
    return name;
  }

  async dropTable(name: string, step: string): Promise<void> {
    if (!this.made.has(name)) throw new SqlEngineError(`duckdb: step "${step}": ${name} is not a table of this fit, not dropped`);
    await this.exec(`DROP TABLE IF EXISTS ${name}`, step);
    this.made.delete(name);
  }

  close(): void {
    this.con.closeSync?.();
    this.inst.closeSync?.();
  }
}
