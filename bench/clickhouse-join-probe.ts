// node --import tsx bench/clickhouse-join-probe.ts [rows]: where does ClickHouse 18.16 do the
// join of a per-level table to the rows of a Distributed table? Two shapes of the same sum
// (the within sum of squares after the firm means), each timed twice on a 2-shard cluster
// (tests/clickhouse-cluster.ts), and the query shard 2 received read back from its query_log:
//   nested (the SQL of bindings/sql/ today): FROM (SELECT .. FROM dist WHERE ..) GLOBAL JOIN t
//     -> the shards send their rows, the initiator joins and sums;
//   flat: FROM dist GLOBAL JOIN t USING (firm) WHERE .., the aggregate in the same SELECT
//     -> t is shipped to every shard, each joins and sums its rows, the initiator adds two rows.
// Results: bench/results/clickhouse.md. The cluster and its data are removed at the end.
import { startCluster } from "../tests/clickhouse-cluster.js";

const N = Number(process.argv[2] ?? 10_000_000);
const c = await startCluster();
const timed = async (sql: string, shard = 1) => {
  const t0 = Date.now();
  const r = (await c.query(shard, sql)).trim();
  return `${((Date.now() - t0) / 1000).toFixed(2)} s  ${r.slice(0, 200)}`;
};
try {
  for (const s of c.shards) {
    const cols = "firm UInt64, year UInt16, x Float64, y Float64";
    await c.query(s.index, "CREATE DATABASE IF NOT EXISTS p");
    await c.query(s.index, `CREATE TABLE p.l (${cols}) ENGINE = MergeTree ORDER BY firm`);
    await c.query(s.index, `CREATE TABLE p.d (${cols}) ENGINE = Distributed(${c.name}, p, l)`);
    await c.query(s.index, `INSERT INTO p.l SELECT intDiv(number, 10) * 2 + ${s.index - 1}, 2000 + number % 10, (sipHash64(number, 1, ${s.index}) % 1000) / 1000., (sipHash64(number, 2, ${s.index}) % 1000) / 1000. FROM numbers(${Math.floor(N / 2)})`);
  }
  await c.query(1, "CREATE TABLE p.m ENGINE = Memory AS SELECT firm, sum(y) / count() AS a0 FROM p.d GROUP BY firm");
  for (let rep = 0; rep < 2; rep++) {
    process.stdout.write(`nested: ${await timed("SELECT sum((y - a0) * (y - a0)) AS ss, count() AS n FROM (SELECT firm, y FROM p.d WHERE x >= 0) GLOBAL ALL INNER JOIN (SELECT firm, a0 FROM p.m) USING firm SETTINGS log_queries = 1")}\n`);
    process.stdout.write(`flat:   ${await timed("SELECT sum((y - a0) * (y - a0)) AS ss, count() AS n FROM p.d GLOBAL ALL INNER JOIN (SELECT firm, a0 FROM p.m) USING firm WHERE x >= 0 SETTINGS log_queries = 1")}\n`);
  }
  await c.query(2, "SYSTEM FLUSH LOGS").catch(() => undefined);
  process.stdout.write(`shard 2 received:\n${await timed("SELECT DISTINCT substring(query, 1, 200) FROM system.query_log WHERE query LIKE '%p.l%' AND type = 2 AND is_initial_query = 0 FORMAT TSV", 2)}\n`);
} finally {
  await c.stop();
}
