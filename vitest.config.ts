import { defineConfig } from "vitest/config";

// `npm test`: every suite except the heavy ones (1M+ rows), which `npm run test:large` runs
// (vitest.large.config.ts); .ci/run runs both. Property tests share one fixed fast-check seed
// (tests/setup.ts), printed with the counterexample on failure.
// (and the pack-and-install test, which runs npm pack, npm install and a browser)
export const HEAVY = [
  "tests/large.test.ts", "tests/io.speed.test.ts", "tests/package.test.ts", "tests/sql-duckdb.large.test.ts", "tests/sql-duckdb-cg.large.test.ts", "tests/clickhouse.large.test.ts", "tests/clickhouse-cg.large.test.ts",
  // the placebo out of core in DuckDB against in memory (35-50 s: every case runs both engines)
  "tests/sql-placebo.test.ts",
  // starts a two-server ClickHouse cluster (about 30 s before any test runs)
  "tests/clickhouse.test.ts", "tests/clickhouse-event.test.ts", "tests/sql-inference-clickhouse.test.ts", "tests/sql-placebo-clickhouse.test.ts",
];

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    exclude: ["**/node_modules/**", ...HEAVY],
    setupFiles: ["tests/setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // both cores: most files spawn the CLI or wait on a browser or a database server, so two
    // forks keep the machine busy (vitest's default leaves one core idle on a 2-core machine)
    maxWorkers: 2,
  },
});
