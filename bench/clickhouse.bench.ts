// npm run bench:clickhouse [-- rows...]: the out-of-core feols on a real 2-shard ClickHouse
// cluster (tests/clickhouse-cluster.ts: two local 18.16 servers, a Distributed table). Each
// panel is generated inside ClickHouse (INSERT ... SELECT FROM numbers(N / 2) on each shard:
// firms of 10 years, 2 regressors, firm + year FE), then `y ~ x1 + x2 | firm + year`
// clustered by firm is fitted through the Distributed table; the time of the fit, the rows
// and the bytes on disk are printed as a markdown table. The cluster and its data are removed
// at the end. Default sizes: 1M and 10M rows.
import { startCluster } from "../tests/clickhouse-cluster.js";
import { ClickHouseBackend } from "../bindings/sql/clickhouse.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import { nodeFetch } from "../bindings/platform/http-node.js";

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const rows = sizes.length ? sizes : [1_000_000, 10_000_000];

const c = await startCluster();
const out: string[] = ["| rows | firms | load (s) | fit (s) | on disk (MB) | coef x1 (0.5 planted) | SE x1 |", "|---:|---:|---:|---:|---:|---:|---:|"];
try {
  for (const n of rows) {
    const per = Math.floor(n / 2);
    const cols = "firm UInt64, year UInt16, x1 Float64, x2 Float64, y Float64";
    const t0 = Date.now();
    for (const s of c.shards) {
      await c.query(s.index, "CREATE DATABASE IF NOT EXISTS bench");
      await c.query(s.index, "DROP TABLE IF EXISTS bench.p");
      await c.query(s.index, "DROP TABLE IF EXISTS bench.p_local");
      await c.query(s.index, `CREATE TABLE bench.p_local (${cols}) ENGINE = MergeTree ORDER BY firm`);
      await c.query(s.index, `CREATE TABLE bench.p (${cols}) ENGINE = Distributed(${c.name}, bench, p_local)`);
      // firm ids differ across shards (2k + shard); uniforms from a hash of the row number
      const u = (seed: number) => `(sipHash64(number, ${seed}, ${s.index}) % 1000000) / 1000000.`;
      await c.query(
        s.index,
        `INSERT INTO bench.p_local SELECT firm, year, x1, x2, 0.5 * x1 - 0.3 * x2 + (firm % 97) / 97. + (year - 2000) / 10. + ${u(3)} - 0.5 AS y
         FROM (SELECT number, intDiv(number, 10) * 2 + ${s.index - 1} AS firm, toUInt16(2000 + number % 10) AS year, ${u(1)} + (firm % 13) / 13. AS x1, ${u(2)} AS x2 FROM numbers(${per}))`,
      );
    }
    const load = (Date.now() - t0) / 1000;
    const bytes = Number((await c.query(1, "SELECT sum(bytes) FROM remote('127.0.0.1:" + c.shards[1]!.tcpPort + "', system.parts) WHERE database = 'bench' AND active")).trim())
      + Number((await c.query(1, "SELECT sum(bytes) FROM system.parts WHERE database = 'bench' AND active")).trim());
    const b = new ClickHouseBackend({ url: c.url, table: "bench.p", fetch: nodeFetch, progress: (m) => process.stderr.write(`  ${m}\n`) });
    const t1 = Date.now();
    const fit = await feolsSql(b, "y ~ x1 + x2 | firm + year", { vcov: "cluster:firm" });
    const secs = (Date.now() - t1) / 1000;
    out.push(`| ${fit.nobs.toLocaleString("en-US")} | ${fit.fixefSizes.firm!.toLocaleString("en-US")} | ${load.toFixed(1)} | ${secs.toFixed(1)} | ${(bytes / 1e6).toFixed(0)} | ${fit.coef.x1!.toFixed(6)} | ${fit.se.x1!.toExponential(3)} |`);
    process.stderr.write(out[out.length - 1] + "\n");
    for (const s of c.shards) await c.query(s.index, "DROP TABLE IF EXISTS bench.p"), await c.query(s.index, "DROP TABLE IF EXISTS bench.p_local");
  }
} finally {
  await c.stop();
}
process.stdout.write(out.join("\n") + "\n");
