// A cache of demeaned columns shared by the models of a multiple estimation (and the suite):
// models that share a sample, fixed effects, weights and demeaning settings demean each
// column once. A group is keyed on the content of what the demeaning depends on (the sample's
// rows, every FE's codes, type and slope values, the weights, tolerance, iteration limit and
// algorithm), compared exactly, never by a hash alone; within a group a column is keyed on the
// identity of its source array (a Frame's numeric column, or an override) and its power-of-two
// scale. The demeaning kernel converges column by column, so a column demeaned in one batch is
// the same bits as demeaned with any other columns: a cached column is the column the model
// would have computed itself.
import type { DemeanInfo } from "../engine/kernels.js";
import type { Sample, FixefRm } from "./sample.js";
import type { Design } from "./design.js";

export interface DemeanCacheStats {
  /**
   * models that demeaned columns not demeaned before (on the model-by-model path one kernel
   * call each; feolsMulti's cross-product path demeans all of a group's new columns in one
   * batch before its members: see kernelCalls)
   */
  demeanCalls: number;
  /** calls of the demeaning kernel made for the cache's columns */
  kernelCalls: number;
  /** columns demeaned, and columns taken from the cache instead */
  columnsDemeaned: number;
  columnsReused: number;
  /** models that found every column in the cache */
  modelsFullyCached: number;
  /** distinct (sample, FE, weights, settings) groups */
  groups: number;
  /** bytes held by the cached columns */
  bytes: number;
}

interface Entry {
  /** null: demeaned by feolsMulti's cross-product path, held in its group matrix only (by `owner`) */
  data: Float64Array | null;
  info: DemeanInfo;
  owner?: object;
}

interface SampleEntry {
  fixefRm: FixefRm;
  valid: Uint8Array;
  fe: { codes: Int32Array; type: number; slope: Float64Array | null }[];
  sample: Sample;
}

interface Group {
  settings: string;
  rows: Int32Array;
  fe: { codes: Int32Array; type: number; slope: Float64Array | null }[];
  w: Float64Array | null;
  cols: Map<Float64Array, Map<number, Entry>>;
}

/** The source of one column of a model: its array (identity) and scale; null = not cacheable. */
export type ColumnKey = { src: Float64Array; scale: number } | null;

export class DemeanCache {
  readonly stats: DemeanCacheStats = { demeanCalls: 0, kernelCalls: 0, columnsDemeaned: 0, columnsReused: 0, modelsFullyCached: 0, groups: 0, bytes: 0 };
  private readonly groups: Group[] = [];
  private readonly samples: SampleEntry[] = [];
  /** columns are no longer added once the cache holds this many bytes (default 2 GiB) */
  readonly maxBytes: number;

  constructor(opts: { maxBytes?: number } = {}) {
    this.maxBytes = opts.maxBytes ?? 2 ** 31;
  }

  /** Drop every cached column and sample. */
  clear(): void {
    this.groups.length = 0;
    this.samples.length = 0;
    this.stats.bytes = 0;
    this.stats.groups = 0;
  }

  /**
   * Demean the model matrix at `mPtr` (K columns of n values, written in place) through the
   * cache: columns found are copied in, the others demeaned in one call of `demean` (given
   * the input and output pointers and their count) and stored. `view(ptr, len)` is a view of
   * WASM memory (rebuilt after the call, which may grow memory); `alloc(len)` scratch for the
   * columns to demean when only some are missing. Returns the combined information of the
   * model's columns (each column's own record: largest iterations and criterion, converged if
   * all were), what the model reports when it demeans its columns itself.
   */
  demean(
    sample: Sample, w: Float64Array | null, settings: string, keys: ColumnKey[], mPtr: number,
    io: { view: (ptr: number, len: number) => Float64Array; alloc: (len: number) => number; demean: (inPtr: number, outPtr: number, K: number) => DemeanInfo },
  ): DemeanInfo {
    const n = sample.n;
    const g = this.group(sample, w, settings);
    const found: (Entry | undefined)[] = keys.map((k) => (k ? held(g.cols.get(k.src)?.get(k.scale)) : undefined));
    const miss = keys.map((_, c) => c).filter((c) => !found[c]);
    const infos: DemeanInfo[] = [];
    if (miss.length) {
      this.stats.demeanCalls++;
      this.stats.kernelCalls++;
      this.stats.columnsDemeaned += miss.length;
      let info: DemeanInfo;
      if (miss.length === keys.length) {
        info = io.demean(mPtr, mPtr, keys.length);
        const M = io.view(mPtr, n * keys.length);
        keys.forEach((k, c) => this.store(g, k, M.slice(c * n, (c + 1) * n), columnOf(info, c)));
        infos.push(...keys.map((_, c) => columnOf(info, c)));
      } else {
        const tmp = io.alloc(n * miss.length);
        {
          const M = io.view(mPtr, n * keys.length);
          const T = io.view(tmp, n * miss.length);
          miss.forEach((c, j) => T.set(M.subarray(c * n, (c + 1) * n), j * n));
        }
        info = io.demean(tmp, tmp, miss.length);
        const M = io.view(mPtr, n * keys.length);
        const T = io.view(tmp, n * miss.length);
        miss.forEach((c, j) => {
          const col = T.slice(j * n, (j + 1) * n);
          M.set(col, c * n);
          this.store(g, keys[c], col, columnOf(info, j));
        });
        infos.push(...miss.map((_, j) => columnOf(info, j)));
      }
    } else this.stats.modelsFullyCached++;
    const M = io.view(mPtr, n * keys.length);
    found.forEach((e, c) => {
      if (!e?.data) return;
      M.set(e.data, c * n);
      this.stats.columnsReused++;
      if (!infos.includes(e.info)) infos.push(e.info);
    });
    return combine(infos);
  }

  /**
   * The demeaned columns of one model without a model matrix (feolsMulti's cross-product
   * path): the columns found are returned as cached, the others demeaned in one batch by
   * `demean` (given their positions in `keys`) and stored. The statistics count as demean()
   * counts them, so a model costs the same calls either way. `owner` (the caller's group
   * matrix) with `hold: false`: the columns are not copied out of WASM memory; the cache
   * records that `owner` holds them (null entries, found only by the same owner), so only a
   * cache private to one call should be used so.
   */
  columns(
    sample: Sample, w: Float64Array | null, settings: string, keys: { src: Float64Array; scale: number }[],
    demean: (miss: number[]) => { cols: Float64Array[] | null; info: DemeanInfo }, owner: object, hold: boolean,
  ): { cols: (Float64Array | null)[]; info: DemeanInfo } {
    const g = this.group(sample, w, settings);
    const found = keys.map((k) => {
      const e = g.cols.get(k.src)?.get(k.scale);
      return e && (e.data || e.owner === owner) ? e : undefined;
    });
    const miss = keys.map((_, c) => c).filter((c) => !found[c]);
    const cols: (Float64Array | null)[] = new Array(keys.length).fill(null);
    const infos: DemeanInfo[] = [];
    if (miss.length) {
      this.stats.demeanCalls++;
      this.stats.columnsDemeaned += miss.length;
      const r = demean(miss);
      miss.forEach((c, j) => {
        cols[c] = r.cols ? r.cols[j] : null;
        this.store(g, keys[c], hold && r.cols ? r.cols[j] : null, columnOf(r.info, j), owner);
      });
      infos.push(...miss.map((_, j) => columnOf(r.info, j)));
    } else this.stats.modelsFullyCached++;
    found.forEach((e, c) => {
      if (!e) return;
      cols[c] = e.data;
      this.stats.columnsReused++;
      if (!infos.includes(e.info)) infos.push(e.info);
    });
    return { cols, info: combine(infos) };
  }

  /**
   * The positions in `keys` of the columns columns() would not find (neither held nor owned
   * by `owner`): feolsMulti's cross-product path demeans them in one batch before its members.
   */
  missing(sample: Sample, w: Float64Array | null, settings: string, keys: { src: Float64Array; scale: number }[], owner: object): number[] {
    const g = this.group(sample, w, settings);
    return keys.map((_, c) => c).filter((c) => {
      const e = g.cols.get(keys[c].src)?.get(keys[c].scale);
      return !(e && (e.data || e.owner === owner));
    });
  }

  /** Count a kernel call made for the cache's columns outside demean() (feolsMulti's batch). */
  countKernelCall(): void {
    this.stats.kernelCalls++;
  }

  /**
   * The sample of a design whose valid rows and FE (the same code arrays, types and slope
   * arrays: the same Frame's columns) were prepared before: the rows and recoded FE are shared
   * (singleton removal depends on nothing else); the missing-value counts are this design's.
   */
  sample(d: Design, fixefRm: FixefRm, make: () => Sample): Sample {
    const hit = this.samples.find((e) => e.fixefRm === fixefRm && e.fe.length === d.fe.length && e.valid.length === d.n &&
      e.fe.every((f, q) => f.codes === d.fe[q].codes && f.type === d.fe[q].type && f.slope === (d.fe[q].slope?.values ?? null)) &&
      sameArray(e.valid, d.valid));
    if (!hit) {
      const s = make();
      this.samples.push({ fixefRm, valid: d.valid, fe: d.fe.map((f) => ({ codes: f.codes, type: f.type, slope: f.slope?.values ?? null })), sample: s });
      return s;
    }
    let na = 0;
    for (const v of Object.values(d.naByColumn)) na += v;
    const s = hit.sample;
    return { ...s, removed: { ...s.removed, na, naByColumn: { ...d.naByColumn }, zeroWeight: d.zeroWeight } };
  }

  private store(g: Group, k: ColumnKey, col: Float64Array | null, info: DemeanInfo, owner?: object): void {
    if (!k || (col && this.stats.bytes + col.byteLength > this.maxBytes)) return;
    let bySrc = g.cols.get(k.src);
    if (!bySrc) g.cols.set(k.src, (bySrc = new Map()));
    if (held(bySrc.get(k.scale))) return;
    bySrc.set(k.scale, { data: col, info, owner });
    if (col) this.stats.bytes += col.byteLength;
  }

  /** The group of this sample, FE, weights and settings (found by exact comparison, or new). */
  private group(s: Sample, w: Float64Array | null, settings: string): Group {
    for (const g of this.groups) if (sameGroup(g, s, w, settings)) return g;
    const g: Group = {
      settings,
      rows: s.rows,
      fe: s.fe.map((d) => ({ codes: d.codes, type: d.type, slope: d.slope?.values ?? null })),
      w,
      cols: new Map(),
    };
    this.groups.push(g);
    this.stats.groups = this.groups.length;
    return g;
  }
}

/** An entry whose column the cache holds (not a placeholder of the cross-product path). */
function held(e: Entry | undefined): Entry | undefined {
  return e?.data ? e : undefined;
}

function sameGroup(g: Group, s: Sample, w: Float64Array | null, settings: string): boolean {
  if (g.settings !== settings || g.rows.length !== s.n || g.fe.length !== s.fe.length) return false;
  if ((g.w === null) !== (w === null)) return false;
  if (!sameArray(g.rows, s.rows)) return false;
  for (let q = 0; q < g.fe.length; q++) {
    const a = g.fe[q];
    const b = s.fe[q];
    if (a.type !== b.type || !sameArray(a.codes, b.codes)) return false;
    if ((a.slope === null) !== !b.slope) return false;
    if (a.slope && b.slope && !sameArray(a.slope, b.slope.values)) return false;
  }
  return !w || sameArray(g.w!, w);
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  // Object.is: NaN equals NaN, 0 and -0 differ (the bits the demeaning sees)
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * The record of column j of a demeaning call (its own iterations and criterion: the column
 * converges alone), or the call's info when the call has no per-column records (threads).
 */
function columnOf(info: DemeanInfo, j: number): DemeanInfo {
  const c = info.columns?.[j];
  return c ? { ...c, threads: info.threads } : info;
}

function combine(infos: DemeanInfo[]): DemeanInfo {
  const max = (f: (i: DemeanInfo) => number) => Math.max(...infos.map(f));
  return {
    iterations: max((i) => i.iterations),
    mapIterations: max((i) => i.mapIterations),
    cgIterations: max((i) => i.cgIterations),
    criterion: max((i) => i.criterion),
    converged: infos.every((i) => i.converged),
    threads: max((i) => i.threads),
    ...(infos.some((i) => i.grew) ? { grew: true } : {}),
  };
}
