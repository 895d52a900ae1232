// The ClickHouse engine of the out-of-core fits: a SqlDialect for ClickHouse 18.16 (Debian's,
// the oldest SQL we meet: no window functions, joins as `GLOBAL ALL LEFT JOIN (sub) USING (..)`,
// GLOBAL IN for sets, so that a right side computed over every shard is shipped to each shard of
// a Distributed table) and a SqlBackend that speaks ClickHouse's HTTP interface through the
// global fetch (browser-safe: no node: imports). Only small results cross the wire: the algebra
// of bindings/sql/ sends aggregates, ClickHouse returns per-level sums and k x k products.
//
// Settings sent with every query: wait_end_of_query=1 (the server buffers the result, so an
// error met late is an HTTP error, never a 200 with half a result), join_use_nulls=1 (an
// unmatched LEFT JOIN row gives NULL, as in DuckDB, not 0), max_execution_time (--timeout),
// output_format_json_quote_denormals=1 (NaN and Inf come back as text, not as null).
// Temporary tables live in one HTTP session (session_id) on the server the URL names, the
// initiator; they vanish with the session, so a failed fit leaves nothing behind.
import { SqlEngineError } from "../base/errors.js";
import type { Row, SqlBackend, SqlColumn, SqlDialect } from "./backend.js";

const MIN_NORMAL = 2.2250738585072014e-308;

/** ClickHouse 18.16's SQL. */
export const clickhouseDialect: SqlDialect = {
  name: "clickhouse",
  ident: (name) => "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`",
  f64: (e) => `toFloat64(${e})`,
  sum: (e) => `sum(toFloat64(${e}))`,
  count: () => "count()",
  // isFinite of NULL is NULL, and NOT NULL is NULL: a 0/1 that is never NULL
  finite: (e) => `ifNull(isFinite(toFloat64(${e})), 0)`,
  key: (e) => `toString(${e})`,
  join: (kind, sub, using) => ` GLOBAL ALL ${kind === "inner" ? "INNER" : "LEFT"} JOIN (${sub}) USING (${using.join(", ")})`,
  inSet: (e, sub) => `(${e} GLOBAL IN (${sub}))`,
  notInSet: (e, sub) => `(${e} GLOBAL NOT IN (${sub}))`,
  intDiv: (a, b) => `intDiv(${a}, ${b})`,
  num: chNumber,
  str: (v) => `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\0/g, "\\0")}'`,
};

/**
 * A float64 literal that 18.16 reads back bit for bit: JS's shortest round-trip digits in
 * exponent form (always a Float64 literal, never an integer type); subnormals, which 18.16's
 * literal parser refuses, as an exact product of two normal numbers.
 */
export function chNumber(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0e0" : "0e0";
  if (Math.abs(v) < MIN_NORMAL) return `(${(v * 2 ** 600).toExponential()} * ${(2 ** -600).toExponential()})`;
  return v.toExponential();
}

/** The kind of a ClickHouse type name (Nullable / LowCardinality unwrapped). */
export function chKind(type: string): SqlColumn["kind"] {
  let t = type.trim();
  for (;;) {
    const m = /^(Nullable|LowCardinality)\((.*)\)$/.exec(t);
    if (!m) break;
    t = m[2]!.trim();
  }
  if (/^(U?Int(8|16|32|64)|Float(32|64)|Decimal(32|64|128)?\(.*\))$/.test(t)) return "number";
  if (/^(String|FixedString\(\d+\)|Enum(8|16)?\(.*\)|Date|DateTime(\(.*\))?|UUID)$/.test(t)) return "text";
  return "other";
}

export interface ClickHouseOptions {
  /** http(s)://[user:password@]host:port of a server of the cluster (the initiator) */
  url: string;
  /** db.table (a Distributed table for a cluster, or any table) */
  table: string;
  /** seconds a query may run (max_execution_time); 0 or absent: no limit */
  timeoutSec?: number;
  progress?: (msg: string) => void;
  /** fetch to use (the global one by default) */
  fetch?: typeof fetch;
}

interface ShardAddress { shard: number; host: string; address: string; port: number }

/** The parts of a ClickHouse error text: code, message, the shard address it names (if any). */
export function parseChError(text: string): { code: number | null; message: string; addresses: string[] } {
  const m = /Code:\s*(\d+),\s*e\.displayText\(\)\s*=\s*([\s\S]*?)(?:,\s*e\.what\(\)\s*=\s*[\w:]+\s*)?$/.exec(text.trim());
  const code = m ? Number(m[1]) : null;
  let message = (m ? m[2]! : text).trim().replace(/^DB::\w+:\s*/, "");
  const addresses = [...new Set([...text.matchAll(/(?:\(|Received from |from )\[?([\w.\-:]+?)\]?:(\d{2,5})\b/g)].map((a) => `${a[1]}:${a[2]}`))];
  // the first line says what went wrong; connection logs of every retry follow
  const first = message.split("\n")[0]!.replace(/\s*Log:\s*$/, "").trim();
  if (first) message = first;
  return { code, message, addresses };
}

let sessions = 0;

export class ClickHouseBackend implements SqlBackend {
  readonly dialect = clickhouseDialect;
  readonly source: string;
  readonly label: string;
  progress?: (msg: string) => void;
  private readonly endpoint: string;
  private readonly auth: string | null;
  private readonly timeoutSec: number;
  private readonly fetchFn: typeof fetch;
  private readonly session: string;
  private readonly made = new Set<string>();
  private shardList: ShardAddress[] | null = null;
  private cluster: string | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(o: ClickHouseOptions) {
    const u = parseUrl(o.url);
    this.endpoint = u.endpoint;
    this.auth = u.auth;
    const parts = o.table.split(".");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new SqlEngineError(`clickhouse: --table must be DB.TABLE, got ${JSON.stringify(o.table)}`, { engine: "clickhouse", step: "connect" });
    }
    this.source = parts.map((p) => clickhouseDialect.ident(p)).join(".");
    this.label = `${o.table} at ${u.endpoint}`;
    this.timeoutSec = o.timeoutSec ?? 0;
    this.progress = o.progress;
    this.fetchFn = o.fetch ?? globalThis.fetch.bind(globalThis);
    this.session = `hdfe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}-${++sessions}`;
  }

  /** The shards of the Distributed table (empty for a plain table), known after columns(). */
  get shards(): readonly ShardAddress[] {
    return this.shardList ?? [];
  }

  /**
   * The columns of the table. For a Distributed table, also the columns of each shard's local
   * table: a column that a shard lacks, or holds with a type of another kind (text where the
   * Distributed table says a number), comes back of kind "other" with the shard named in its
   * type, so the fit refuses it at this step rather than fail or parse text midway.
   */
  async columns(step: string): Promise<SqlColumn[]> {
    const rows = await this.query(`DESCRIBE TABLE ${this.source}`, step);
    // any name works: in 18.16 an alias wins over a column of the same name in the whole
    // SELECT, so the SQL that reads the source gives aliases a prefix no column has (sample.ts aliasPrefix)
    const cols: SqlColumn[] = rows.map((r) => ({ name: String(r.name), type: String(r.type), kind: chKind(String(r.type)) }));
    const local = await this.discoverShards(step);
    if (!local) return cols;
    const d = clickhouseDialect;
    for (const sh of this.shardsOnce()) {
      const there = new Map(
        (await this.query(
          `SELECT name, type FROM remote(${d.str(`${sh.address}:${sh.port}`)}, system.columns) WHERE database = ${d.str(local.db)} AND table = ${d.str(local.table)}`,
          `${step} (shard ${sh.shard})`,
        )).map((r) => [String(r.name), String(r.type)]),
      );
      const at = `shard ${sh.shard} (${sh.host}:${sh.port}) ${local.db}.${local.table}`;
      if (there.size === 0) {
        throw new SqlEngineError(`clickhouse: step "${step}" on ${at}: the shard has no table ${local.db}.${local.table}`, { engine: "clickhouse", step, shard: sh.shard });
      }
      for (const c of cols) {
        const t = there.get(c.name);
        if (t === undefined) {
          c.kind = "other";
          c.type = `${c.type}, missing on ${at}`;
        } else if (chKind(t) !== c.kind && c.kind !== "other") {
          c.kind = "other";
          c.type = `${c.type}, but ${t} on ${at}`;
        }
      }
    }
    return cols;
  }

  private shardsOnce(): ShardAddress[] {
    const seen = new Set<number>();
    return this.shards.filter((s) => !seen.has(s.shard) && seen.add(s.shard));
  }

  /** The cluster behind a Distributed table and its shards' addresses; the local table's name. */
  private async discoverShards(step: string): Promise<{ db: string; table: string } | null> {
    const [r] = await this.query(`SHOW CREATE TABLE ${this.source}`, step);
    const text = r ? String(Object.values(r)[0] ?? "") : "";
    const m = /ENGINE\s*=\s*Distributed\(\s*'?([\w.\-]+)'?\s*,\s*'?([\w.\-]+)'?\s*,\s*'?([\w.\-]+)'?/i.exec(text);
    if (!m) {
      this.shardList = [];
      return null;
    }
    if (!this.shardList) {
      this.cluster = m[1]!;
      const rows = await this.query(
        `SELECT shard_num, host_name, host_address, port FROM system.clusters WHERE cluster = ${clickhouseDialect.str(this.cluster)} ORDER BY shard_num, replica_num`,
        step,
      );
      this.shardList = rows.map((x) => ({ shard: Number(x.shard_num), host: String(x.host_name), address: String(x.host_address), port: Number(x.port) }));
      this.progress?.(`clickhouse: ${this.label} is Distributed over cluster ${this.cluster} (${this.shardsOnce().length} shards)`);
    }
    return { db: m[2]!, table: m[3]! };
  }

  query(sql: string, step: string): Promise<Row[]> {
    return this.serial(async () => toRows(await this.post(`${sql}\nFORMAT JSONCompact`, step), step, this));
  }

  exec(sql: string, step: string): Promise<void> {
    return this.serial(async () => { await this.post(sql, step); });
  }

  async tempTable(prefix: string, selectSql: string, step: string): Promise<string> {
    const name = clickhouseDialect.ident(`hdfe_${prefix.replace(/[^\w]/g, "_")}_${++this.seq}`);
    await this.exec(`CREATE TEMPORARY TABLE ${name} ENGINE = Memory AS ${selectSql}`, step);
    this.made.add(name);
    return name;
  }

  async dropTable(name: string, step: string): Promise<void> {
    if (!this.made.has(name)) throw new SqlEngineError(`clickhouse: refusing to drop ${name}, a table hdfe did not make`, { engine: "clickhouse", step });
    await this.exec(`DROP TEMPORARY TABLE IF EXISTS ${name}`, step);
    this.made.delete(name);
  }

  /** One query at a time: a ClickHouse session runs one query at a time. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async post(body: string, step: string): Promise<string> {
    const params = new URLSearchParams({
      session_id: this.session,
      session_timeout: String(Math.max(600, Math.ceil(this.timeoutSec) + 60)),
      wait_end_of_query: "1",
      join_use_nulls: "1",
      output_format_json_quote_denormals: "1",
      max_execution_time: String(Math.max(0, Math.ceil(this.timeoutSec))),
    });
    const headers: Record<string, string> = { "Content-Type": "text/plain; charset=utf-8" };
    if (this.auth) headers.Authorization = this.auth;
    const signal = this.timeoutSec > 0 ? AbortSignal.timeout((this.timeoutSec + 30) * 1000) : undefined;
    let res: Response;
    try {
      const send = () => this.fetchFn(`${this.endpoint}/?${params}`, { method: "POST", body, headers, signal });
      try {
        res = await send();
      } catch (e) {
        // a kept-alive connection the server closed meanwhile (its keep_alive_timeout): the
        // request never reached it, so it is sent once more on a fresh connection
        if (!isStaleSocket(e)) throw e;
        res = await send();
      }
    } catch (e) {
      const why = (e as Error).name === "TimeoutError" ? `no answer within ${this.timeoutSec + 30} s` : describeFetchError(e);
      throw new SqlEngineError(
        `clickhouse: step "${step}": the server at ${this.endpoint} does not answer (${why})`,
        { engine: "clickhouse", step, url: this.endpoint },
        "check that the server is up and --url names its HTTP port (8123 by default)",
      );
    }
    const text = await res.text();
    if (!res.ok) throw this.failure(step, res.status, text);
    return text;
  }

  /** A ClickHouse error as a SqlEngineError naming the step and, when it can tell, the shard. */
  private failure(step: string, status: number, text: string): SqlEngineError {
    const { code, message, addresses } = parseChError(text);
    const shard = this.shardOf(addresses);
    // a timeout met by the server --url names (waiting for the shards) names no shard: say so
    const where = shard ? ` on shard ${shard.shard} (${shard.host}:${shard.port})` : code === 159 && this.shards.length ? ` on the initiator (${this.endpoint})` : "";
    let what = message;
    let hint: string | undefined;
    if (code === 159) {
      what = `query timeout: ${message}`;
      hint = "raise --timeout (seconds, 0 = none) or fit a smaller sample";
    } else if (code === 279 || code === 209 || code === 210) {
      what = `${shard ? "the shard" : "a shard"} does not answer: ${message}`;
      hint = "a server of the cluster is down; no partial result was kept";
    } else if (code === 60) {
      hint = "check --table (DB.TABLE) and that the table exists on the server --url names";
    } else if (code === 81) {
      hint = "check the database part of --table";
    } else if (code === 47) {
      hint = shard ? "the shard's local table lacks a column the Distributed table declares" : undefined;
    }
    return new SqlEngineError(
      `clickhouse: step "${step}"${where}: ${what}`,
      { engine: "clickhouse", step, code, status, shard: shard?.shard, address: shard ? `${shard.host}:${shard.port}` : undefined },
      hint,
    );
  }

  private shardOf(addresses: string[]): ShardAddress | null {
    for (const a of addresses) {
      const i = a.lastIndexOf(":");
      const host = a.slice(0, i);
      const port = Number(a.slice(i + 1));
      const s = this.shards.find((x) => x.port === port && (x.host === host || x.address === host));
      if (s) return s;
    }
    return null;
  }
}

function parseUrl(url: string): { endpoint: string; auth: string | null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SqlEngineError(`clickhouse: --url ${JSON.stringify(url)} is not a URL`, { engine: "clickhouse", step: "connect" }, "e.g. --url http://127.0.0.1:8123");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new SqlEngineError(`clickhouse: --url must be http:// or https:// (the HTTP interface), got ${u.protocol}`, { engine: "clickhouse", step: "connect" });
  }
  const auth = u.username ? `Basic ${btoa(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`)}` : null;
  return { endpoint: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`, auth };
}

function isStaleSocket(e: unknown): boolean {
  const code = (e as { cause?: { code?: string } }).cause?.code;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET";
}

function describeFetchError(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

/** JSONCompact -> rows: floats as numbers (nan / inf from their text), 64-bit integers as numbers when exact. */
function toRows(text: string, step: string, b: ClickHouseBackend): Row[] {
  let j: { meta: { name: string; type: string }[]; data: unknown[][] };
  try {
    j = JSON.parse(text);
  } catch {
    throw new SqlEngineError(`clickhouse: step "${step}": the answer of ${b.label} is not JSON: ${text.slice(0, 200)}`, { engine: "clickhouse", step });
  }
  const conv = j.meta.map((m) => converter(m.type));
  return j.data.map((r) => {
    const row: Row = {};
    j.meta.forEach((m, c) => { row[m.name] = conv[c]!(r[c]); });
    return row;
  });
}

function converter(type: string): (v: unknown) => number | string | null {
  const t = type.replace(/^Nullable\((.*)\)$/, "$1");
  if (/^Float(32|64)$/.test(t)) {
    return (v) => (v === null ? null : typeof v === "number" ? v : v === "nan" || v === "-nan" ? NaN : v === "inf" || v === "+inf" ? Infinity : v === "-inf" ? -Infinity : Number(v));
  }
  if (/^U?Int(8|16|32|64)$/.test(t)) {
    return (v) => {
      if (v === null) return null;
      if (typeof v === "number") return v;
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : String(v);
    };
  }
  return (v) => (v === null ? null : typeof v === "number" ? v : String(v));
}
