// Placed columns (issue 14): the outcome and the plain regressors of one model written by the
// reader straight into the engine's arena, in the layout of the model matrix solveF64 builds
// (column-major [y | x1 .. xk], `rows` values a column), so that the fit demeans them in place
// instead of copying JS columns into a fresh matrix (fresh memory costs ~3.5 ms per MB here).
//
// The block holds the values the reader produced (NaN for a missing value, as the JS columns
// hold them). A Frame made with `Frame.withPlaced` serves these columns as fresh views over
// WASM memory (views go stale when memory grows: never cached) until the fit consumes the
// block: the fit then compacts its sample's rows in place and demeans them, and any later
// read of a placed column is a ColumnError instead of demeaned numbers.
import type { Engine } from "../engine/wasm.js";
import { ColumnError } from "../base/errors.js";

/**
 * Numeric columns the caller wants written straight into WASM memory: when a reader knows the
 * rows (DuckDB from its result; the WASM CSV fast path at the end of the file), `make(rows)`
 * gives the block and these columns are written into it, in the block's order, instead of into
 * JS arrays. They are then left out of the table (the report still lists them). `engine`: the
 * engine `make` allocates in, for a reader that parses in it (platform/csv-wasm.ts).
 */
export interface PlaceRequest {
  names: string[];
  make(rows: number): Promise<PlacedColumns>;
  engine?: Promise<Engine>;
}

export class PlacedColumns {
  /** arena offset of the block (allocated at the arena's top when made; never released by the fit) */
  readonly ptr: number;
  private consumedBy: string | null = null;

  /** `names`: [outcome, regressor 1, ...] in model-matrix order; `rows`: the values a column. */
  constructor(
    readonly eng: Engine,
    readonly names: readonly string[],
    readonly rows: number,
  ) {
    this.ptr = eng.allocF64(rows * names.length, "placed model matrix");
  }

  /** The column index of `name`, or -1. */
  index(name: string): number {
    return this.names.indexOf(name);
  }

  /** A fresh view of column `c` (rebuilt on every call: memory may have grown). */
  view(c: number): Float64Array {
    if (this.consumedBy !== null) {
      throw new ColumnError(
        `column "${this.names[c]}" was read into WASM memory for one fit and consumed by it (${this.consumedBy})`,
        { column: this.names[c] },
        "read the file again (or without the placed path) to fit another model",
      );
    }
    return this.eng.f64(this.ptr + c * this.rows * 8, this.rows);
  }

  get consumed(): boolean {
    return this.consumedBy !== null;
  }

  /** Give the block back (a reader that did not fill it): it must still be the arena's last allocation. */
  release(): void {
    if (this.consumedBy !== null) return;
    this.consumedBy = "released";
    this.eng.release(this.ptr);
  }

  /** The fit takes the block as its model matrix (its values are overwritten from here on). */
  consume(by: string): number {
    if (this.consumedBy !== null) this.view(0); // throws
    this.consumedBy = by;
    return this.ptr;
  }
}

/**
 * Compact rows `keep` (ascending original row indices, n of them) of a K-column block of N
 * rows per column into the first n * K values, in place: column c moves to [c n, (c + 1) n).
 * Safe forwards: every write lands at or before the value being read, and later reads lie
 * after it (c n + j <= c N + keep[j] < the next source).
 */
export function compactRowsInPlace(M: Float64Array, N: number, K: number, keep: Int32Array): void {
  const n = keep.length;
  if (n === N) return;
  for (let c = 0; c < K; c++) {
    const src = c * N;
    const dst = c * n;
    for (let j = 0; j < n; j++) M[dst + j] = M[src + keep[j]];
  }
}

/**
 * Re-derive a design's y and X from its placed block after memory may have grown (the views a
 * design took are detached by a grow): every path that reads them as arrays sees the values.
 */
export function refreshPlacedViews(d: { y: Float64Array; X: Float64Array[]; placed?: PlacedColumns }): void {
  const p = d.placed;
  if (p === undefined || p.consumed) return;
  d.y = p.view(0);
  for (let j = 0; j < d.X.length; j++) d.X[j] = p.view(j + 1);
}
