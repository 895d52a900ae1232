// The rows of an out-of-core fit as SQL, shared by the FE solvers (demean.ts: one FE, Schur,
// projections; cg.ts: conjugate gradient): the sample's rows with the FE keys f0.., the carried
// cluster keys, the weight w and the centred columns v0..vk, and those rows joined to
// per-level coefficient tables (one nested join each: ClickHouse 18.16 joins once per SELECT).
import type { SqlBackend, SqlColumn } from "./backend.js";
import type { SqlModel, SampleSql } from "./sample.js";
import { whereOf } from "./sample.js";

export interface DemeanCtx {
  b: SqlBackend;
  m: SqlModel;
  s: SampleSql;
  cols: Map<string, SqlColumn>;
  /** SQL of the centred columns v_0 .. v_k (outcome, then the regressors of the fit) */
  vExpr: string[];
  /** cluster keys carried through (name -> SQL over the source), besides the FE keys */
  carry: { alias: string; expr: string }[];
  /** temp tables made for the fit (dropped at the end) */
  tables: string[];
  /** the rows as given SQL instead of read from the source (a demeaning of new columns over a fit's demeaned rows: derivedCtx) */
  rows?: string;
}

export interface DemeanResult {
  tables: { q: number; table: string }[];
  /** "cg": conjugate gradient, from the projections' state when they stalled (auto) or from zero */
  method: "none" | "one-fe" | "schur" | "projections" | "cg";
  /** projection sweeps (each one GROUP BY per FE) */
  sweeps: number;
  /** CG iterations (each one mat-vec: one GROUP BY per FE), 0 without CG */
  cgIterations: number;
  converged: boolean;
  criterion: number;
}

/**
 * The rows of the sample: FE keys f0.., carried keys, the weight w and v0..vk. Named twice:
 * with the fit's alias prefix where the source is read (no alias equals a column of the
 * source, sample.ts aliasPrefix), then plainly for the algebra above.
 */
export function rowsSql(c: DemeanCtx): string {
  if (c.rows !== undefined) return c.rows;
  const d = c.b.dialect;
  const p = c.s.p;
  const sel = [
    ...c.s.feKeys.map((k, q) => [k, `f${q}`]),
    ...c.carry.map((k) => [k.expr, k.alias]),
    [c.m.weights ? d.f64(d.ident(c.m.weights)) : d.f64("1"), "w"],
    ...c.vExpr.map((e, j) => [e, `v${j}`]),
  ];
  const inner = `SELECT ${sel.map(([e, a]) => `${e} AS ${p}${a}`).join(", ")} FROM ${c.b.source} WHERE ${whereOf(c.s)}`;
  return `SELECT ${sel.map(([, a]) => `${p}${a} AS ${a}`).join(", ")} FROM (${inner})`;
}

/** The rows joined to coefficient tables, one nested join each. */
export function joinedSql(c: DemeanCtx, tabs: { q: number; table: string }[]): string {
  let sql = rowsSql(c);
  for (const t of tabs) sql = `SELECT * FROM (${sql})${c.b.dialect.join("inner", `SELECT * FROM ${t.table}`, [`f${t.q}`])}`;
  return sql;
}

