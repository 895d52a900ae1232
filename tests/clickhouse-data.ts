// Frames into the 2-shard test cluster: the column types a Frame's columns get in ClickHouse
// and its rows, for tests/clickhouse-cluster.ts loadTable. Numeric columns are
// Nullable(Float64) (NaN = NULL) unless named as integer keys; text columns Nullable(String).
import { Frame } from "../bindings/core/frame.js";
import { Rng } from "../bindings/base/rng.js";
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

/**
 * A generated panel for the engine tests: `firms` firms over up to 8 years (unbalanced), a
 * city per firm (some firms move), a shift `h` drawn per row (25 levels: a third FE that mixes
 * well), three regressors, weights in [0.5, 2), a group `grp` (7 levels)
 * for two-way clustering; `singletons` firms with one row, `na` rows with a missing value
 * (outcome, a regressor, a FE key or the weight, in turn). Fixed seed.
 */
export function genPanel(seed: number, firms: number, o: { singletons?: number; na?: number; cities?: number } = {}): Frame {
  const r = new Rng(seed);
  const cities = o.cities ?? 40;
  const firm: number[] = [], year: number[] = [], city: (string | null)[] = [], grp: number[] = [], h: number[] = [];
  const x1: number[] = [], x2: number[] = [], x3: number[] = [], y: number[] = [], w: number[] = [];
  const fe = Array.from({ length: firms + (o.singletons ?? 0) }, () => r.normal());
  const ye = Array.from({ length: 8 }, () => r.normal());
  const ce = Array.from({ length: cities }, () => r.normal());
  const he = Array.from({ length: 25 }, () => r.normal());
  const nf = firms + (o.singletons ?? 0);
  for (let f = 0; f < nf; f++) {
    const single = f >= firms;
    const start = r.int(3);
    const len = single ? 1 : 2 + r.int(6 - start);
    let c = r.int(cities);
    for (let t = start; t < start + len; t++) {
      if (r.uniform() < 0.05) c = r.int(cities);
      const a = r.normal() + 0.3 * fe[f]!, b = r.normal() + 0.2 * ye[t]!, d = r.uniform() < 0.5 ? 1 : 0;
      const k = r.int(25);
      firm.push(f + 1); year.push(2011 + t); city.push(`c${c}`); grp.push(f % 7); h.push(k);
      x1.push(a + 0.3 * he[k]!); x2.push(b); x3.push(d);
      y.push(0.5 * a - 0.25 * b + 0.8 * d + fe[f]! + ye[t]! + ce[c]! + he[k]! + r.normal());
      w.push(0.5 + 1.5 * r.uniform());
    }
  }
  const n = firm.length;
  const na = o.na ?? 0;
  for (let k = 0; k < na; k++) {
    const i = r.int(n);
    const which = k % 4;
    if (which === 0) y[i] = NaN;
    else if (which === 1) x2[i] = NaN;
    else if (which === 2) city[i] = null;
    else w[i] = NaN;
  }
  return Frame.fromColumns({
    firm: Float64Array.from(firm), year: Float64Array.from(year), city, grp: Float64Array.from(grp), h: Float64Array.from(h),
    x1: Float64Array.from(x1), x2: Float64Array.from(x2), x3: Float64Array.from(x3), y: Float64Array.from(y), w: Float64Array.from(w),
  });
}

/** genPanel's columns renamed to aliases of the fit's SQL (tests of names that clash with them). */
export const CLASH: Record<string, string> = { firm: "f0", year: "k", city: "c0", grp: "g0", h: "g", x1: "w", x2: "v0", x3: "n", y: "s0", w: "sw" };

/** A plain copy of a frame with its columns renamed (names not in `to` kept). */
export function renamed(f: Frame, to: Record<string, string>): Frame {
  const cols: Record<string, import("../bindings/core/frame.js").PlainColumn> = {};
  for (const nm of f.names) {
    if (f.isNumeric(nm)) cols[to[nm] ?? nm] = f.numeric(nm);
    else {
      const c = f.codes(nm);
      cols[to[nm] ?? nm] = Array.from(c.codes, (k) => (k < 0 ? null : c.levels[k]!));
    }
  }
  return Frame.fromColumns(cols);
}

/** The reference panel with its weights column w (cbec_weights.csv, the same rows in order). */
export async function cbecWithWeights(readFile: (p: string) => Promise<{ table: import("apache-arrow").Table }>, fix: URL): Promise<Frame> {
  const cbec = Frame.fromArrow((await readFile(new URL("cbec_panel.csv", fix).pathname)).table);
  const w = Frame.fromArrow((await readFile(new URL("cbec_weights.csv", fix).pathname)).table);
  return cbec.withColumn("w", w.numeric("w"));
}

/** Models of cbec_panel_fixest.json the SQL engines fit (plain regressors, no subsample). */
export const CBEC_FAST = ["t3c2_cl_firm", "t3c1_cl_firm_year", "t3c2_singletons", "weighted", "one_fe", "no_fe_hetero"];

/** Generated-panel cases: formula and options (the same for both engines). */
export const GEN_FAST: [string, Record<string, unknown>][] = [
  ["y ~ x1 + x2 + x3 | firm", { vcov: "iid" }],
  ["y ~ x1 + x2 | firm + year", { vcov: "hetero", weights: "w" }],
  ["y ~ x1 + x2 + x3 | firm + year + h", { vcov: "cluster:firm+grp", weights: "w", fixefTol: 1e-10 }],
];
export const GEN_LARGE: [string, Record<string, unknown>][] = [
  ["y ~ x1 + x2 + x3 | firm + year", { vcov: "cluster:firm+year" }],
  ["y ~ x1 + x2 | firm + city", { vcov: "cluster:city", fixefTol: 1e-10 }],
  ["y ~ x1 + x2 + x3 | firm + year + h", { vcov: "iid", fixefTol: 1e-10, ssc: "none" }],
  ["y ~ x1 + x2 + x3 | firm + year", { vcov: "cluster:firm", weights: "w", fixefRm: "none" }],
];
