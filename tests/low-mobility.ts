// A generated low-mobility panel (worker + firm + year, the AKM graph) as CSV text, for the
// tests of conjugate gradient in SQL (tests/sql-duckdb-cg.large.test.ts on DuckDB,
// tests/clickhouse-cg.large.test.ts on the ClickHouse cluster).
import { Rng } from "../bindings/base/rng.js";

/**
 * Workers x years, each worker at one firm and moving to another with probability `move` a
 * year: few movers connect the firms (worker + firm + year FE, the AKM graph), fixed seed.
 */
export function lowMobilityCsv(seed: number, workers: number, firms: number, years: number, move: number): string {
  const r = new Rng(seed);
  const fe = Array.from({ length: firms }, () => r.normal());
  const ye = Array.from({ length: years }, () => 0.3 * r.normal());
  const lines = ["worker,firm,year,x1,x2,y"];
  for (let i = 0; i < workers; i++) {
    const a = r.normal();
    let f = r.int(firms);
    for (let t = 0; t < years; t++) {
      if (t > 0 && r.uniform() < move) f = r.int(firms);
      const x1 = r.normal() + 0.5 * a + 0.3 * fe[f];
      const x2 = r.normal() + ye[t];
      const y = 0.8 * x1 - 0.5 * x2 + a + fe[f] + ye[t] + r.normal();
      lines.push([i + 1, `f${f}`, 2000 + t, x1, x2, y].join(","));
    }
  }
  return lines.join("\n") + "\n";
}
