// The estimation sample of an out-of-core fit, as SQL over the source: the columns checked,
// the rows with a missing value counted per column the way core/design.ts counts them (each
// row under the first column found missing, in the order outcome, regressors, FE, weights,
// zero weights, cluster variables), then FE singletons removed iteratively as core/sample.ts
// removes them (each round counts every FE on the rows kept, then drops the rows alone in a
// level, a row counted under the first FE in which it is alone). Nothing is pulled back but
// counts; the sample is a relation (SQL text) over the source.
import type { Formula } from "../core/formula.js";
import type { Removed } from "../core/sample.js";
import { OptionError, SampleError, SqlEngineError } from "../base/errors.js";
import { argList, notNumericError } from "../core/design.js";
import type { SqlBackend, SqlColumn } from "./backend.js";

/** A regressor term of an out-of-core fit: a numeric column, or i() (dummies made in SQL, terms-sql.ts). */
export type SqlTerm =
  | { kind: "var"; name: string }
  | { kind: "i"; factor: string; by?: string; ref: Set<string>; keep: Set<string> | null };

/** What an out-of-core fit reads: plain columns and i() terms. */
export interface SqlModel {
  y: string;
  terms: SqlTerm[];
  /** the regressors' names (fixest's: x, f::level, f::level:by) and their float64 SQL over the
   *  source, in the design's order; filled by expandTerms (terms-sql.ts) once the levels are read */
  x: string[];
  xSql: string[];
  /** FE dimensions: name (a or a^b) and the columns of the key */
  fe: { name: string; vars: string[] }[];
  weights?: string;
  /** cluster variables by name (a or a^b) and their columns */
  clusters: { name: string; vars: string[] }[];
  intercept: boolean;
}

/** Refuse what the SQL engine does not compute (slopes, sunab(), interactions of regressors). */
export function sqlModel(f: Formula, weights: string | undefined, clusterVars: string[]): SqlModel {
  const terms: SqlTerm[] = [];
  const seen: string[] = [];
  for (const t of f.terms) {
    if (t.kind === "i") {
      const extra = Object.keys(t.args).filter((a) => a !== "ref" && a !== "keep");
      if (extra.length) throw new OptionError(`i(${t.factor}${t.by ? `, ${t.by}` : ""}): the argument ${extra.join(", ")} is not computed by the out-of-core engines`, undefined, "i() takes ref and keep there; bin the factor in the data or fit in memory");
      if (t.factor === f.lhs || t.by === f.lhs) throw new OptionError(`the outcome "${f.lhs}" is also a regressor`);
      const ref = new Set(argList(t.args.ref).map(String));
      const keep = t.args.keep === undefined ? null : new Set(argList(t.args.keep).map(String));
      terms.push({ kind: "i", factor: t.factor, by: t.by, ref, keep });
      continue;
    }
    if (t.kind !== "var") {
      const what = t.kind === "interact" ? `the interaction ${t.vars.join(":")}` : `${t.kind}()`;
      throw new OptionError(
        `${what} is not computed by the out-of-core engines: plain numeric regressors and i() only`,
        undefined,
        "make the column in the data (e.g. a product column) or fit in memory",
      );
    }
    if (t.name === f.lhs) throw new OptionError(`the outcome "${f.lhs}" is also a regressor`);
    if (seen.includes(t.name)) throw new OptionError(`regressor "${t.name}" appears twice in the formula`);
    seen.push(t.name);
    terms.push({ kind: "var", name: t.name });
  }
  const fe = f.fixef.map((t) => {
    if (t.slopes.length) throw new OptionError(`varying slopes (${t.vars.join("^")}[${t.slopes.join(", ")}]) are not computed by the out-of-core engines`);
    return { name: t.vars.join("^"), vars: t.vars };
  });
  return { y: f.lhs, terms, x: [], xSql: [], fe, weights, clusters: clusterVars.map((v) => ({ name: v, vars: v.split("^") })), intercept: f.intercept };
}

/** The columns a term reads, with their role and whether they must be numbers, in the design's order. */
export function termColumns(t: SqlTerm): { name: string; role: string; numeric: boolean }[] {
  if (t.kind === "var") return [{ name: t.name, role: "regressor", numeric: true }];
  return [{ name: t.factor, role: "i() factor", numeric: false }, ...(t.by ? [{ name: t.by, role: "i() variable", numeric: true }] : [])];
}

/**
 * A prefix for the aliases of the SQL that reads the source: no column of the source starts
 * with it, so an alias never equals a column name (ClickHouse 18.16 reads such a name as the
 * alias, or refuses `sum(x) AS x` as a cyclic alias).
 */
export function aliasPrefix(names: Iterable<string>): string {
  const all = [...names];
  for (let i = 0; ; i++) {
    const p = i === 0 ? "hdfe_" : `hdfe${i}_`;
    if (!all.some((n) => n.startsWith(p))) return p;
  }
}

/** Check that every column exists and has a usable type; returns the columns by name. */
export async function checkColumns(b: SqlBackend, m: SqlModel): Promise<Map<string, SqlColumn>> {
  const cols = new Map((await b.columns("columns")).map((c) => [c.name, c]));
  const need = (name: string, role: string, numeric: boolean) => checkColumn(b, cols, name, role, numeric);
  need(m.y, "outcome", true);
  for (const t of m.terms) for (const c of termColumns(t)) need(c.name, c.role, c.numeric);
  for (const f of m.fe) for (const v of f.vars) need(v, "fixed effect", false);
  if (m.weights) need(m.weights, "weights column", true);
  for (const c of m.clusters) for (const v of c.vars) need(v, "cluster variable", false);
  return cols;
}

/** A column of the source that must exist and be a number (or usable as a key): the SqlEngineError naming it otherwise. */
export function checkColumn(b: SqlBackend, cols: Map<string, SqlColumn>, name: string, role: string, numeric: boolean): SqlColumn {
  const c = cols.get(name);
  if (!c) {
    throw new SqlEngineError(
      `${b.dialect.name}: step "columns": ${role} "${name}" is not a column of ${b.label}`,
      { engine: b.dialect.name, step: "columns", column: name, columns: [...cols.keys()].slice(0, 50) },
      `the table has ${[...cols.keys()].slice(0, 12).map((s) => JSON.stringify(s)).join(", ")}${cols.size > 12 ? ", ..." : ""}`,
    );
  }
  const ok = numeric ? c.kind === "number" || c.kind === "bool" : c.kind !== "other";
  if (!ok && numeric && b.fileSource) throw notNumericError(role, name);
  if (!ok) {
    throw new SqlEngineError(
      `${b.dialect.name}: step "columns": ${role} "${name}" of ${b.label} has type ${c.type}, ${numeric ? "not a number" : "not usable as a key"}`,
      { engine: b.dialect.name, step: "columns", column: name, type: c.type },
      numeric ? "cast the column to a number in the data (or use it as a fixed effect)" : "cast the column to text or an integer",
    );
  }
  return c;
}

/** The SQL expressions of a fit's sample, with the names of its columns. */
export interface SampleSql {
  /** FE key expressions (f0, f1, ...) and cluster keys (c0, ...) over the source */
  feKeys: string[];
  clKeys: string[];
  /** the rows with every value present and a positive weight */
  valid: string;
  /** singleton-filter clauses added by removeSingletons */
  filters: string[];
  /** the prefix of every alias given in a SELECT that reads the source (aliasPrefix) */
  p: string;
}

/** The key of an FE or cluster variable: the column itself, or its parts joined as text. */
function keyExpr(b: SqlBackend, vars: string[]): string {
  const d = b.dialect;
  if (vars.length === 1) return d.ident(vars[0]);
  return `concat(${vars.map((v) => d.key(d.ident(v))).join(`, ${d.str("\u001f")}, `)})`;
}

/** Validity of one column: a finite number, or a present key. */
export function okExpr(b: SqlBackend, name: string, numeric: boolean, col: SqlColumn): string {
  const d = b.dialect;
  if (numeric || col.kind === "number") return d.finite(d.ident(name));
  return `(${d.ident(name)} IS NOT NULL)`;
}

/**
 * Count the rows removed for missing values (per column, as core/design.ts) and zero weights,
 * refuse negative weights; one pass.
 */
export async function countMissing(b: SqlBackend, m: SqlModel, cols: Map<string, SqlColumn>): Promise<{ sql: SampleSql; total: number; removed: Removed }> {
  const d = b.dialect;
  const order: { name: string; ok: string }[] = [];
  const add = (name: string, numeric: boolean) => {
    if (!order.some((o) => o.name === name)) order.push({ name, ok: okExpr(b, name, numeric, cols.get(name)!) });
  };
  add(m.y, true);
  for (const t of m.terms) for (const c of termColumns(t)) add(c.name, c.numeric);
  for (const f of m.fe) for (const v of f.vars) add(v, false);
  if (m.weights) add(m.weights, true);
  const nBeforeExtra = order.length;
  for (const c of m.clusters) for (const v of c.vars) add(v, false);
  const w = m.weights ? d.f64(d.ident(m.weights)) : null;
  // each row's first failing check (-1: none; -2: a negative weight; -3: a zero weight): one
  // CASE per row, evaluated until its first failure, then one GROUP BY of a few groups
  const whens = order.slice(0, nBeforeExtra).map((o, j) => `WHEN NOT ${o.ok} THEN ${j}`);
  if (w) whens.push(`WHEN ${w} < 0 THEN -2`, `WHEN ${w} = 0 THEN -3`);
  order.slice(nBeforeExtra).forEach((o, j) => whens.push(`WHEN NOT ${o.ok} THEN ${nBeforeExtra + j}`));
  const fb = whens.length ? `CASE ${whens.join(" ")} ELSE -1 END` : "-1";
  const p = aliasPrefix(cols.keys());
  const rows = await b.query(
    `SELECT ${p}fb AS fb, ${d.count()} AS n${w ? `, min(${p}wv) AS minw` : ""} FROM (SELECT ${fb} AS ${p}fb${w ? `, ${w} AS ${p}wv` : ""} FROM ${b.source}) GROUP BY ${p}fb`,
    "missing values",
  );
  const by = new Map(rows.map((r) => [Number(r.fb), r]));
  const num = (v: unknown) => Number(v ?? 0);
  const neg = by.get(-2);
  if (neg) {
    throw new OptionError(`weights column "${m.weights}" has ${num(neg.n)} negative values (the smallest ${num(neg.minw)})`, { column: m.weights, negative: num(neg.n) });
  }
  const naByColumn: Record<string, number> = {};
  let na = 0;
  order.forEach((o, j) => {
    const c = num(by.get(j)?.n);
    if (c) naByColumn[o.name] = c;
    na += c;
  });
  const r = { n: rows.reduce((acc, x) => acc + num(x.n), 0), zw: num(by.get(-3)?.n) };
  const validParts = order.map((o) => o.ok);
  if (w) validParts.push(`${w} > 0`);
  const sql: SampleSql = {
    feKeys: m.fe.map((f) => keyExpr(b, f.vars)),
    clKeys: m.clusters.map((c) => keyExpr(b, c.vars)),
    valid: validParts.length ? validParts.join(" AND ") : "1 = 1",
    filters: [],
    p,
  };
  const removed: Removed = { na, naByColumn, singletons: 0, singletonLevels: {}, zeroWeight: w ? num(r.zw) : 0 };
  return { sql, total: num(r.n), removed };
}

/** WHERE clause of the sample so far. */
export function whereOf(s: SampleSql): string {
  return [s.valid, ...s.filters].join(" AND ");
}

/**
 * Iterative singleton removal: each round, one GROUP BY per FE on the rows kept counts its
 * levels and those with a single row; only when there are such levels are they kept as a
 * table of the fit (one more pass) and one pass counts the rows dropped per FE (a row alone
 * in two FE counted under the first). Rounds until none is left; returns the level counts of
 * the final sample (the last round's).
 */
export async function removeSingletons(b: SqlBackend, m: SqlModel, s: SampleSql, removed: Removed, tables: string[]): Promise<number[]> {
  const d = b.dialect;
  const Q = m.fe.length;
  for (const f of m.fe) removed.singletonLevels[f.name] = 0;
  for (let round = 1; ; round++) {
    const where = whereOf(s);
    const counts: number[] = [];
    const levels: number[] = [];
    for (let q = 0; q < Q; q++) {
      const step = `singletons (round ${round}, ${m.fe[q].name})`;
      const [r] = await b.query(
        `SELECT ${d.count()} AS g, sum(CASE WHEN ${s.p}c = 1 THEN 1 ELSE 0 END) AS s FROM (SELECT ${s.feKeys[q]} AS ${s.p}k, ${d.count()} AS ${s.p}c FROM ${b.source} WHERE ${where} GROUP BY ${s.feKeys[q]})`,
        step,
      );
      levels.push(Number(r.g));
      counts.push(Number(r.s ?? 0));
    }
    if (!counts.some((c) => c > 0)) return levels;
    const drops: (string | null)[] = [];
    for (let q = 0; q < Q; q++) {
      if (counts[q] === 0) {
        drops.push(null);
        continue;
      }
      const t = await b.tempTable(
        `single${q}`,
        `SELECT ${s.feKeys[q]} AS ${s.p}k FROM ${b.source} WHERE ${where} GROUP BY ${s.feKeys[q]} HAVING ${d.count()} = 1`,
        `singletons (round ${round}, ${m.fe[q].name} levels)`,
      );
      tables.push(t);
      drops.push(t);
    }
    let perFe = counts;
    if (counts.filter((c) => c > 0).length > 1) {
      // a row alone in FE q is counted under q unless it is alone in an earlier FE too
      const inQ = (q: number) => d.inSet(s.feKeys[q], `SELECT ${s.p}k FROM ${drops[q]}`);
      const sel = m.fe.map((_, q) => {
        if (!drops[q]) return `0 AS ${s.p}s${q}`;
        const first = [...Array(q).keys()].filter((p) => drops[p]).map((p) => `NOT ${inQ(p)}`);
        return `sum(CASE WHEN ${[...first, inQ(q)].join(" AND ")} THEN 1 ELSE 0 END) AS ${s.p}s${q}`;
      });
      const [r] = await b.query(`SELECT ${sel.join(", ")} FROM ${b.source} WHERE ${where}`, `singletons (round ${round}, counting)`);
      perFe = m.fe.map((_, q) => Number(r[`${s.p}s${q}`]));
    }
    let dropped = 0;
    m.fe.forEach((f, q) => {
      removed.singletonLevels[f.name] += perFe[q];
      dropped += perFe[q];
      if (drops[q]) s.filters.push(d.notInSet(s.feKeys[q], `SELECT ${s.p}k FROM ${drops[q]}`));
    });
    removed.singletons += dropped;
    b.progress?.(`singletons: round ${round}, ${dropped.toLocaleString("en-US")} rows removed`);
  }
}

/** The empty-sample error, as core/sample.ts words it. */
export function emptySample(removed: Removed): SampleError {
  const byCol = Object.entries(removed.naByColumn).sort((a, b) => b[1] - a[1]);
  return new SampleError(
    `no observations left: ${removed.na} removed for missing values${removed.na ? ` (${byCol.map(([c, v]) => `${v} in "${c}"`).join("; ")})` : ""}` +
      (removed.zeroWeight ? `, ${removed.zeroWeight} for zero weights` : "") +
      (removed.singletons ? `, ${removed.singletons} as FE singletons` : ""),
    { naByColumn: removed.naByColumn, singletons: removed.singletons, zeroWeight: removed.zeroWeight },
    byCol.length ? `check ${byCol.map(([c]) => `"${c}"`).join(", ")} for missing or non-finite values` : "check the data",
  );
}
