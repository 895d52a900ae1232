// Browser Parquet readers measured in Node on the same file (issue 14): hyparquet through
// bindings/io/parquet.ts (today's browser path, into an Arrow table) against parquet-wasm and
// DuckDB-WASM (@duckdb/duckdb-wasm), which are not dependencies: install them into a scratch
// directory and name it, e.g.
//   npm install --prefix /tmp/probe parquet-wasm @duckdb/duckdb-wasm
//   PROBE_DIR=/tmp/probe PQ_FILE=panel.parquet node --import tsx bench/browser-parquet.bench.ts
// Each reader: one untimed read, then the best of PQ_REPS (3) reads of the bytes in memory into
// an Arrow table; wall and CPU time, the 1-minute load average. Prints JSON lines.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { tableFromIPC, type Table } from "apache-arrow";
import { readParquet } from "../bindings/io/parquet.js";

const file = process.env.PQ_FILE!;
const probe = process.env.PROBE_DIR!;
const reps = Number(process.env.PQ_REPS ?? 3);
const bytes = new Uint8Array(readFileSync(file));
const req = createRequire(join(probe, "package.json"));

async function time(name: string, read: () => Promise<Table>): Promise<void> {
  let t = await read();
  let wall = Infinity, cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    t = await read();
    wall = Math.min(wall, performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  console.log(JSON.stringify({ reader: name, rows: t.numRows, cols: t.numCols, wall_ms: Math.round(wall), cpu_ms: Math.round(cpu), mb: +(bytes.length / 1e6).toFixed(1), load: +loadavg()[0].toFixed(1) }));
}

await time("hyparquet (bindings/io/parquet.ts)", () => readParquet(bytes));

const pw = await import(join(probe, "node_modules/parquet-wasm/esm/parquet_wasm.js"));
pw.initSync({ module: readFileSync(join(probe, "node_modules/parquet-wasm/esm/parquet_wasm_bg.wasm")) });
await time("parquet-wasm (to Arrow IPC, then apache-arrow)", async () => {
  const wt = pw.readParquet(bytes);
  return tableFromIPC(wt.intoIPCStream());
});

const duckdb = req("@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs");
const dist = join(probe, "node_modules/@duckdb/duckdb-wasm/dist");
const db = await duckdb.createDuckDB(
  { mvp: { mainModule: join(dist, "duckdb-mvp.wasm"), mainWorker: join(dist, "duckdb-node-mvp.worker.cjs") }, eh: { mainModule: join(dist, "duckdb-eh.wasm"), mainWorker: join(dist, "duckdb-node-eh.worker.cjs") } },
  new duckdb.VoidLogger(), duckdb.NODE_RUNTIME,
);
await db.instantiate();
const con = db.connect();
db.registerFileBuffer("p.parquet", bytes);
await time("DuckDB-WASM (query to Arrow)", async () => tableFromIPC(con.useUnsafe((b: { runQuery(c: number, q: string): Uint8Array }, c: number) => b.runQuery(c, "SELECT * FROM 'p.parquet'"))));
