// The DuckDB side of the native reader (Node only): the connection (@duckdb/node-api, loaded
// lazily: the package is optional at run time), a query's result as chunks, and the column
// accumulators that copy the chunks' typed vectors into one array per column.
//
// Costs, measured with `node --cpu-prof` on `hdfe feols --data` at 1M rows x 12 columns: a
// result is materialised by DuckDB's threads (one async round trip; a round trip per 2048-row
// chunk cost 2-3x more here), then read chunk by chunk synchronously. The accumulators are
// allocated once at the result's row count (DuckDB knows it once materialised): growing them
// by doubling and trimming at the end cost as much as the copies themselves. A DOUBLE vector
// is a Float64Array view over DuckDB's memory: one bulk copy per vector, never value by value.

import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Not a file DuckDB reads the way today's reader does: today's reader takes it. */
export class NotPlain extends Error {}

/** A query's result, chunk by chunk. */
export interface ChunkSource {
  /** rows of the whole result when known in advance (a materialised result), else null */
  rows: number | null;
  /** the next chunk, or null at the end */
  next(): Promise<RawChunk | null>;
}

export interface Duck {
  /** `stream: true`: chunks as DuckDB produces them (bounded memory, rows unknown in advance) */
  query(sql: string, opts?: { stream?: boolean }): Promise<ChunkSource>;
  rows(sql: string): Promise<unknown[][]>;
  /** another connection to the same database (a stream's own: a query on a connection ends the stream open on it) */
  connect(): Promise<Duck>;
}

export interface Vector {
  items?: ArrayLike<number | bigint | boolean>;
  validity: { data: BigUint64Array | null };
  getItem(i: number): unknown;
}

/** A chunk through the raw bindings: DOUBLE columns as Float64Array views over DuckDB's memory
 *  (node-api's vector objects cost more than the copy), other columns as node-api vectors. */
export interface RawChunk {
  rowCount: number;
  doubles(i: number): { items: Float64Array; validity: BigUint64Array | null };
  vector(i: number): Vector;
}

let duckPromise: Promise<Duck | null> | null = null;

/** Chunks handed out between two releases of the spent ones (releaseChunks). */
export const RELEASE_EVERY = 16;

let gcFn: ((o?: { type?: string }) => void) | null | undefined;

/** V8's collector (globalThis.gc when exposed, else exposed once here), or null when it cannot be had. */
function collector(): ((o?: { type?: string }) => void) | null {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: unknown }).gc;
    if (typeof g === "function") gcFn = g as never;
    else {
      try {
        setFlagsFromString("--expose-gc");
        gcFn = runInNewContext("gc") as never;
      } catch {
        gcFn = null;
      }
    }
  }
  return gcFn ?? null;
}

/**
 * Give back the memory of the chunks already copied. Each result chunk is a native DataChunk
 * that node-bindings frees in a finalizer, and finalizers run only after a collection and on a
 * turn of the event loop: a drain that only awaits resolved promises never yields one, so every
 * chunk of the result stayed allocated until the end and each new one took fresh pages (the
 * copy of 1M x 12 DOUBLE columns spent most of its time in DuckDB's result_get_chunk, first-
 * touching ~100 MB). A young-generation collection and one event-loop turn every RELEASE_EVERY
 * chunks let malloc reuse the same pages (measured: chunk fetching 2.2 s -> 0.15 s under load 13).
 */
export async function releaseChunks(): Promise<void> {
  const gc = collector();
  if (gc === null) return;
  gc({ type: "minor" });
  await new Promise<void>((r) => setImmediate(r));
}

/** DuckDB's worker threads: every core (HDFE_DUCKDB_THREADS overrides). */
export function duckThreads(): number {
  const env = Number(process.env.HDFE_DUCKDB_THREADS);
  return Number.isInteger(env) && env > 0 ? env : Math.max(1, availableParallelism());
}

/** The DuckDB connection, or null when @duckdb/node-api cannot be loaded here. */
export function loadDuckDB(): Promise<Duck | null> {
  if (duckPromise === null) {
    duckPromise = (async () => {
      let mod: typeof import("@duckdb/node-api");
      try {
        mod = await import("@duckdb/node-api");
      } catch {
        return null;
      }
      // nothing is downloaded at run time: CSV and Parquet are in the core binary
      const inst = await mod.DuckDBInstance.create(":memory:", {
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
        preserve_insertion_order: "true",
        threads: String(duckThreads()),
      });
      const B = (await import("@duckdb/node-bindings")).default;
      const wrap = (ch: unknown): RawChunk | null => {
        if (!ch) return null;
        const k = B.data_chunk_get_size(ch as never);
        if (k === 0) return null;
        return {
          rowCount: k,
          doubles(i: number) {
            const v = B.data_chunk_get_vector(ch as never, i);
            const d = B.vector_get_data(v, k * 8);
            const val = B.vector_get_validity(v, Math.ceil(k / 64) * 8);
            return {
              items: new Float64Array(d.buffer, d.byteOffset, k),
              validity: val ? new BigUint64Array(val.buffer, val.byteOffset, Math.ceil(k / 64)) : null,
            };
          },
          vector(i: number) {
            return mod.DuckDBVector.create(B.data_chunk_get_vector(ch as never, i), k) as unknown as Vector;
          },
        };
      };
      const duckOn = (con: import("@duckdb/node-api").DuckDBConnection): Duck => ({
        async query(sql: string, opts: { stream?: boolean } = {}): Promise<ChunkSource> {
          const stream = opts.stream === true || process.env.HDFE_DUCKDB_FETCH === "stream";
          if (stream) {
            const res = (await con.stream(sql)) as unknown as { result: unknown };
            let at = 0;
            return {
              rows: null,
              next: async () => {
                if (++at % RELEASE_EVERY === 0) await releaseChunks();
                return wrap(await B.fetch_chunk(res.result as never));
              },
            };
          }
          const res = (await con.run(sql)) as unknown as { result: unknown };
          const count = B.result_chunk_count(res.result as never);
          const rows = B.row_count(res.result as never);
          let at = 0;
          return {
            rows,
            next: async () => {
              if (at >= count) return null;
              if (at > 0 && at % RELEASE_EVERY === 0) await releaseChunks();
              return wrap(B.result_get_chunk(res.result as never, at++));
            },
          };
        },
        async rows(sql: string) {
          const r = await con.runAndReadAll(sql);
          return r.getRows() as unknown[][];
        },
        connect: async () => duckOn(await inst.connect()),
      });
      return duckOn(await inst.connect());
    })();
  }
  return duckPromise;
}

/** Is DuckDB installed and loadable? */
export async function duckdbAvailable(): Promise<boolean> {
  return (await loadDuckDB()) !== null;
}

/** An SQL string literal. */
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------------
// Column accumulation: one Float64Array / Int32Array per column, filled chunk by chunk

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** DuckDB's validity mask (64-bit words) as 32-bit words, or null when every row is valid. */
function validityWords(validity: BigUint64Array | null): Uint32Array | null {
  return validity === null ? null : new Uint32Array(validity.buffer, validity.byteOffset, validity.length * 2);
}

/** The words, or null when rows [from, from + k) are all valid (the usual chunk: no test per row). */
function allValid(w: Uint32Array | null, from: number, k: number): Uint32Array | null {
  if (w === null) return null;
  for (let i = from; i < from + k; ) {
    if ((i & 31) === 0 && i + 32 <= from + k) {
      if (w[i >>> 5] !== 0xffffffff) return w;
      i += 32;
    } else {
      if ((w[i >>> 5] & (1 << (i & 31))) === 0) return w;
      i++;
    }
  }
  return null;
}

/** Row i of the vector is null (its slot holds no value). */
function isNullAt(w: Uint32Array | null, i: number): boolean {
  return w !== null && (w[i >>> 5] & (1 << (i & 31))) === 0;
}

/** Room for `n + k` values in `a` (doubling; exact when the total was planned). */
function ensure<T extends Float64Array | Int32Array>(a: T, n: number, k: number, make: (len: number) => T): T {
  if (n + k <= a.length) return a;
  let cap = Math.max(a.length * 2, 1 << 16);
  while (cap < n + k) cap *= 2;
  const b = make(cap);
  b.set(a.subarray(0, n));
  return b;
}

/** The numeric column accumulator of the DuckDB path (exported for its test: null slots never count). */
export class NumAcc {
  values: Float64Array;
  n = 0;
  nulls = 0; // nulls from DuckDB (missing-value tokens / source nulls)
  nans = 0; // NaN values from DuckDB (not nulls)
  infinite = 0;
  big = false; // an integer-valued number beyond 2^53
  /** `rows`: the total when known (the array is allocated once, at that size) */
  constructor(rows = 0) {
    this.values = new Float64Array(rows);
  }
  /** Allocate the array once at the result's size (before the first push). */
  plan(rows: number): void {
    if (this.n === 0 && rows > this.values.length) this.values = new Float64Array(rows);
  }
  /** Start the next batch in a new array of `rows` (the arrays handed out stay as they are; the counts go on). */
  reset(rows: number): void {
    this.n = 0;
    this.values = new Float64Array(rows);
  }
  private reserve(k: number): Float64Array {
    return (this.values = ensure(this.values, this.n, k, (len) => new Float64Array(len)));
  }
  /** Append `k` values of a vector from row `from`: a typed-array view over DuckDB's memory plus its validity words. */
  push(items: ArrayLike<number>, validity: BigUint64Array | null, k: number, from = 0): void {
    const out = this.reserve(k);
    const o = this.n;
    if (ArrayBuffer.isView(items) && !(items instanceof BigInt64Array || items instanceof BigUint64Array)) {
      const t = items as unknown as Float64Array;
      out.set(from === 0 && t.length === k ? t : t.subarray(from, from + k), o);
    } else {
      for (let i = 0; i < k; i++) out[o + i] = Number(items[from + i]);
    }
    // one pass: a null slot holds whatever DuckDB's buffer had there (not a value), so it is
    // set to NaN and counted before any check; only valid slots count as NaN / infinite / big
    let nans = 0;
    let inf = 0;
    let big = false;
    const w = allValid(validityWords(validity), from, k);
    for (let i = 0; i < k; i++) {
      const v = out[o + i];
      // finite and within +-2^53 (the common case): one subtraction and two comparisons
      if (w === null && v - v === 0 && v <= MAX_SAFE && v >= -MAX_SAFE) continue;
      if (isNullAt(w, from + i)) {
        out[o + i] = NaN;
        this.nulls++;
        continue;
      }
      if (v !== v) nans++;
      else if (v === Infinity || v === -Infinity) inf++;
      else if ((v > MAX_SAFE || v < -MAX_SAFE) && Number.isInteger(v)) big = true;
    }
    this.nans += nans;
    this.infinite += inf;
    if (big) this.big = true;
    this.n = o + k;
  }
  /** The values so far (no copy when the array was planned to the size). */
  finish(): Float64Array {
    return this.values.length === this.n ? this.values : this.values.slice(0, this.n);
  }
}

/** A text column: codes in order of first appearance, one level per distinct string. */
export class StrAcc {
  codes: Int32Array;
  n = 0;
  levels: string[] = [];
  counts: number[] = [];
  index = new Map<string, number>();
  nulls = 0;
  constructor(
    private readonly na: Set<string> | null,
    rows = 0,
  ) {
    this.codes = new Int32Array(rows);
  }
  plan(rows: number): void {
    if (this.n === 0 && rows > this.codes.length) this.codes = new Int32Array(rows);
  }
  reset(rows: number): void {
    this.n = 0;
    this.codes = new Int32Array(rows);
  }
  push(vec: Vector, k: number, from = 0): void {
    const codes = (this.codes = ensure(this.codes, this.n, k, (len) => new Int32Array(len)));
    const o = this.n;
    for (let i = 0; i < k; i++) {
      const s = vec.getItem(from + i) as string | null;
      if (s === null) {
        codes[o + i] = -1;
        this.nulls++;
        continue;
      }
      let c = this.index.get(s);
      if (c === undefined) {
        // csv.ts: missing-value tokens are compared after trimming spaces and tabs
        c = this.na !== null && this.na.has(s.replace(/^[ \t]+|[ \t]+$/g, "")) ? -1 : this.levels.length;
        if (c >= 0) {
          this.levels.push(s);
          this.counts.push(0);
        }
        this.index.set(s, c);
      }
      codes[o + i] = c;
      if (c < 0) this.nulls++;
      else this.counts[c]++;
    }
    this.n = o + k;
  }
  finish(): Int32Array {
    return this.codes.length === this.n ? this.codes : this.codes.slice(0, this.n);
  }
}

export type Acc = NumAcc | StrAcc;

/** Copy rows [from, from + k) of a chunk (all by default) into the accumulators (bulk copies of the typed vectors). */
export function pushChunk(chunk: RawChunk, accs: Acc[], from = 0, k = chunk.rowCount - from): void {
  for (let o = 0; o < accs.length; o++) {
    const acc = accs[o];
    if (acc instanceof StrAcc) acc.push(chunk.vector(o), k, from);
    else {
      const { items, validity } = chunk.doubles(o);
      acc.push(items, validity, k, from);
    }
  }
}
