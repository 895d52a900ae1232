// A table as plain data for equality checks in the reader tests (names, Arrow types, rows and
// every value), shared by tests/io.test.ts and tests/duckdb-read.test.ts.
import type { Table } from "apache-arrow";

export interface Snapshot {
  names: string[];
  types: string[];
  rows: number;
  values: unknown[][];
}

export function snapshot(table: Table): Snapshot {
  return {
    names: table.schema.fields.map((f) => f.name),
    types: table.schema.fields.map((f) => String(f.type)),
    rows: table.numRows,
    values: table.schema.fields.map((_f, k) => {
      const v = table.getChildAt(k)!;
      return Array.from({ length: table.numRows }, (_x, i) => v.get(i));
    }),
  };
}
