// Frames into the 2-shard test cluster: the column types a Frame's columns get in ClickHouse
// and its rows, for tests/clickhouse-cluster.ts loadTable. Numeric columns are
// Nullable(Float64) (NaN = NULL) unless named as integer keys; text columns Nullable(String).
import type { Frame } from "../bindings/core/frame.js";
import { loadTable, type Cluster, type ColumnSpec } from "./clickhouse-cluster.js";

export function frameSpecs(f: Frame, ints: string[] = []): ColumnSpec[] {
  return f.names.map((name) => ({
    name,
    type: f.isNumeric(name) ? (ints.includes(name) ? "Int64" : "Nullable(Float64)") : "Nullable(String)",
  }));
}

export function frameRows(f: Frame, specs: ColumnSpec[]): (number | string | null)[][] {
  const cols = specs.map((s) => {
    if (s.type.includes("String")) {
      const c = f.codes(s.name);
      return Array.from(c.codes, (k) => (k < 0 ? null : c.levels[k]!));
    }
    return Array.from(f.numeric(s.name), (v) => (Number.isNaN(v) ? null : v));
  });
  const rows: (number | string | null)[][] = [];
  for (let i = 0; i < f.nrows; i++) rows.push(cols.map((c) => c[i] ?? null));
  return rows;
}

/** Load a frame as db.local on every shard + db.dist over them, rows split by `shardOf`. */
export async function loadFrame(
  c: Cluster,
  f: Frame,
  db: string,
  dist: string,
  shardOf: (row: number) => number,
  ints: string[] = [],
): Promise<ColumnSpec[]> {
  const specs = frameSpecs(f, ints);
  await loadTable(c, db, `${dist}_local`, dist, specs, frameRows(f, specs), shardOf);
  return specs;
}

/** A shard by the firm (hash of its id): the rows of one firm stay on one shard. */
export const byKey = (keys: ArrayLike<number>, shards = 2) => (i: number) => {
  let h = Math.imul(Number(keys[i]) | 0, 0x9e3779b1) >>> 0;
  h ^= h >>> 15;
  return (h >>> 0) % shards;
};
