// A real 2-shard ClickHouse cluster for the tests and the bench: two `clickhouse-server`
// processes (Debian's 18.16) on loopback ports chosen free at run time, each with its own data
// directory under one temp dir and its own config file, both listing the same `remote_servers`
// cluster (shard 1 = server 1, shard 2 = server 2). No daemon, no systemd: the processes are
// children of this one, stopped by their PID (stop()) and killed on exit if still alive; the
// temp dir is removed. Nothing else on the machine is touched.
//
// Each server has its own config file rather than one shared file with `-- --tcp_port=...`
// overrides: 18.16 decides which shard of a Distributed table is itself from the tcp_port in the
// config file, so with a shared file the second server took shard 1 for itself and read its own
// rows twice (checked: count() over 1 + 2 rows gave 4 on server 2).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CLUSTER_NAME = "hdfe_two_shards";

/** The server binary, or null when ClickHouse is not installed. */
export function clickhouseServerBinary(): string | null {
  for (const p of ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"]) if (existsSync(p)) return p;
  const which = spawnSync("sh", ["-c", "command -v clickhouse-server"], { encoding: "utf8" });
  const found = which.stdout.trim();
  return which.status === 0 && found ? found : null;
}

export const underCi = process.env.CI === "true" || process.env.CI === "1";

/** A free loopback TCP port (bound, read, released). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return reject(new Error("no port"));
      const port = addr.port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Shard {
  index: number; // 1-based, as in the cluster config
  httpPort: number;
  tcpPort: number;
  url: string;
  dir: string;
  proc: ChildProcess | null;
}

export interface Cluster {
  name: string;
  dir: string;
  shards: Shard[];
  /** URL of server 1 (the initiator the backend talks to). */
  url: string;
  /** SQL over HTTP to one shard (1-based); the body is the query; returns the response text. */
  query(shard: number, sql: string, body?: string): Promise<string>;
  /** Stop one server by its PID: SIGTERM (then SIGKILL after 10 s), or SIGKILL at once (a crash). */
  stopShard(shard: number, signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Stop every server this harness started and remove the temp dir. */
  stop(): Promise<void>;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>${process.env.HDFE_CH_MAX_MEMORY ?? "4000000000"}</max_memory_usage><load_balancing>in_order</load_balancing></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

function configXml(s: Shard, all: Shard[]): string {
  const shards = all
    .map((o) => `<shard><replica><host>127.0.0.1</host><port>${o.tcpPort}</port></replica></shard>`)
    .join("");
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${s.dir}/server.log</log><errorlog>${s.dir}/server.err.log</errorlog>
    <size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${s.httpPort}</http_port>
  <tcp_port>${s.tcpPort}</tcp_port>
  <path>${s.dir}/</path>
  <tmp_path>${s.dir}/tmp/</tmp_path>
  <user_files_path>${s.dir}/user_files/</user_files_path>
  <format_schema_path>${s.dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>32</max_concurrent_queries>
  <keep_alive_timeout>10</keep_alive_timeout>
  <remote_servers><${CLUSTER_NAME}>${shards}</${CLUSTER_NAME}></remote_servers>
  <macros><shard>${s.index}</shard><replica>r${s.index}</replica></macros>
</yandex>
`;
}

async function httpQuery(url: string, sql: string, body?: string): Promise<string> {
  const target = body === undefined ? url : `${url}/?query=${encodeURIComponent(sql)}`;
  const res = await fetch(target, { method: "POST", body: body ?? sql });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse ${url}: HTTP ${res.status}: ${text.trim()}`);
  return text;
}

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHook = false;
function killLive(): void {
  for (const p of live) if (p.pid !== undefined && p.exitCode === null) {
    try { process.kill(p.pid, "SIGKILL"); } catch { /* already gone */ }
  }
  for (const d of liveDirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* a server may still hold it; best effort */ }
  }
}
/** The servers die with this process: on exit, and on SIGINT / SIGTERM (which skip "exit"). */
function killOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on("exit", killLive);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      killLive();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
}

function waitExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.once("exit", () => { clearTimeout(t); resolve(true); });
  });
}

async function stopProc(s: Shard, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  const p = s.proc;
  if (!p || p.pid === undefined) return;
  s.proc = null;
  if (p.exitCode === null && p.signalCode === null) {
    process.kill(p.pid, signal);
    if (!(await waitExit(p, 10_000))) {
      process.kill(p.pid, "SIGKILL");
      await waitExit(p, 5_000);
    }
  }
  live.delete(p);
}

async function waitReady(s: Shard, ms: number): Promise<void> {
  const until = Date.now() + ms;
  let last = "";
  while (Date.now() < until) {
    if (s.proc && s.proc.exitCode !== null) break;
    try {
      if ((await httpQuery(s.url, "SELECT 1")).trim() === "1") return;
    } catch (e) {
      last = String((e as Error).message ?? e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  let log = "";
  try { log = readFileSync(join(s.dir, "server.err.log"), "utf8").slice(-2000); } catch { /* none */ }
  throw new Error(`ClickHouse shard ${s.index} (http ${s.httpPort}) did not answer SELECT 1: ${last}\n${log}`);
}

/** Start two servers and wait until both answer `SELECT 1` over HTTP. */
export async function startCluster(opts: { shards?: number; readyMs?: number } = {}): Promise<Cluster> {
  const bin = clickhouseServerBinary();
  if (!bin) throw new Error("clickhouse-server is not installed (bash .ci/install-clickhouse.sh)");
  const n = opts.shards ?? 2;
  const dir = mkdtempSync(join(tmpdir(), "hdfe-clickhouse-"));
  liveDirs.add(dir);
  const shards: Shard[] = [];
  const ports = new Set<number>();
  const pick = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!ports.has(p)) { ports.add(p); return p; }
    }
  };
  for (let i = 1; i <= n; i++) {
    const sdir = join(dir, `shard${i}`);
    mkdirSync(join(sdir, "tmp"), { recursive: true });
    mkdirSync(join(sdir, "user_files"), { recursive: true });
    shards.push({ index: i, httpPort: await pick(), tcpPort: await pick(), url: "", dir: sdir, proc: null });
  }
  killOnExit();
  for (const s of shards) {
    s.url = `http://127.0.0.1:${s.httpPort}`;
    writeFileSync(join(s.dir, "users.xml"), USERS_XML);
    writeFileSync(join(s.dir, "config.xml"), configXml(s, shards));
    const p = spawn(bin, [`--config-file=${join(s.dir, "config.xml")}`], { cwd: s.dir, stdio: ["ignore", "ignore", "pipe"] });
    p.stderr?.resume();
    live.add(p);
    s.proc = p;
  }
  const cluster: Cluster = {
    name: CLUSTER_NAME,
    dir,
    shards,
    url: shards[0]!.url,
    query: (i, sql, body) => httpQuery(shards[i - 1]!.url, sql, body),
    stopShard: (i, signal) => stopProc(shards[i - 1]!, signal),
    stop: async () => {
      await Promise.all(shards.map((s) => stopProc(s)));
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
  try {
    await Promise.all(shards.map((s) => waitReady(s, opts.readyMs ?? 60_000)));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

export interface ColumnSpec { name: string; type: string }

/** One value in ClickHouse's RowBinary: Float64 / Int64 / Int32 / UInt8 / String, Nullable of them. */
function rowBinary(type: string, v: number | string | null, out: number[]): void {
  const nullable = /^Nullable\((.*)\)$/.exec(type);
  const t = nullable ? nullable[1]! : type;
  const missing = v === null || (typeof v === "number" && Number.isNaN(v) && nullable !== null);
  if (nullable) out.push(missing ? 1 : 0);
  if (missing && nullable) return;
  if (v === null) throw new Error(`NULL in non-Nullable column of type ${type}`);
  const dv = new DataView(new ArrayBuffer(8));
  if (t === "Float64") {
    dv.setFloat64(0, Number(v), true);
  } else if (t === "Int64") {
    dv.setBigInt64(0, BigInt(v), true);
  } else if (t === "Int32") {
    dv.setInt32(0, Number(v), true);
    for (let i = 0; i < 4; i++) out.push(dv.getUint8(i));
    return;
  } else if (t === "UInt8") {
    out.push(Number(v) & 255);
    return;
  } else if (t === "String") {
    const bytes = new TextEncoder().encode(String(v));
    let n = bytes.length;
    do { out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0)); n >>>= 7; } while (n > 0);
    for (const b of bytes) out.push(b);
    return;
  } else {
    throw new Error(`rowBinary: type ${type} not supported by the harness`);
  }
  for (let i = 0; i < 8; i++) out.push(dv.getUint8(i));
}

/**
 * Create `db.local` (MergeTree) on every shard and `db.dist` (Distributed over them) on every
 * shard, and load `rows` (one array per row, in `columns` order) split across the shards by
 * `shardOf(rowIndex)` (0-based shard). Values go as RowBinary, bit for bit (18.16's text
 * parser reads some decimals 1 ulp off); NaN in a Nullable column is NULL.
 */
export async function loadTable(
  c: Cluster,
  db: string,
  local: string,
  dist: string,
  columns: ColumnSpec[],
  rows: (number | string | null)[][],
  shardOf: (row: number) => number,
  localColumns?: (shard: number) => ColumnSpec[],
): Promise<void> {
  const nShards = c.shards.length;
  rows.forEach((_, i) => {
    const k = shardOf(i);
    if (!Number.isInteger(k) || k < 0 || k >= nShards) throw new Error(`loadTable: row ${i} goes to shard index ${k}, not 0..${nShards - 1}`);
  });
  const decl = (cs: ColumnSpec[]) => cs.map((k) => `${k.name} ${k.type}`).join(", ");
  for (const s of c.shards) {
    const mine = localColumns?.(s.index) ?? columns;
    await c.query(s.index, `CREATE DATABASE IF NOT EXISTS ${db}`);
    await c.query(s.index, `CREATE TABLE ${db}.${local} (${decl(mine)}) ENGINE = MergeTree ORDER BY tuple()`);
    await c.query(s.index, `CREATE TABLE ${db}.${dist} (${decl(columns)}) ENGINE = Distributed(${c.name}, ${db}, ${local})`);
    const out: number[] = [];
    rows.forEach((r, i) => {
      if (shardOf(i) !== s.index - 1) return;
      for (const k of mine) rowBinary(k.type, r[columns.findIndex((x) => x.name === k.name)] ?? null, out);
    });
    if (out.length > 0) await insertBinary(c.shards[s.index - 1]!.url, `INSERT INTO ${db}.${local} FORMAT RowBinary`, new Uint8Array(out));
  }
}

async function insertBinary(url: string, sql: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  const res = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, { method: "POST", body });
  if (!res.ok) throw new Error(`ClickHouse ${url}: HTTP ${res.status}: ${(await res.text()).trim()}`);
}
