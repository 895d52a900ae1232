// The event-study panel as SQL over the source (the out-of-core twin of event/panel.ts
// preparePanel, for bindings/event-sql/): the periods, one cohort per unit by the cohort rule,
// always-treated units dropped (counted), rows with a missing outcome or control left out
// (counted), duplicated (unit, period) rows refused, and the panel's rows as a relation with the
// relative period (leads and lags binned, never-treated units coded `never`). Only small results
// come back: the periods, counts, at most five example units, the relative periods and cohorts.
//
// The SQL keeps to backend.ts's portable subset (ClickHouse 18.16): GROUP BY and joins of
// subqueries, no window functions; the per-unit cohorts are a temp table of the fit (one row per
// unit, it stays in the engine and is joined back, GLOBAL on a Distributed table); every alias of
// a SELECT that reads the source has the fit's prefix (sample.ts aliasPrefix).
//
// Cohort rules as in memory: "constant" (a unit with two adoption years is a PanelError naming
// units), "first" (the adoption value at the unit's first period; should a unit have two rows in
// that period with different values, the smaller), "earliest", "drop". Never treated: a missing
// or non-finite adoption value, 0 when 0 is not a period, or one after the last period. The
// example units named in messages are the first five by their key (in memory: by first row).
import { ColumnError, OptionError, PanelError, SampleError, SqlEngineError } from "../base/errors.js";
import type { Row, SqlBackend, SqlColumn, SqlDialect } from "./backend.js";
import { aliasPrefix, okExpr } from "./sample.js";

export type SqlCohortRule = "constant" | "first" | "earliest" | "drop";

export interface EventPanelRoles {
  outcome: string;
  unit: string;
  time: string;
  adopt: string;
  controls?: string[];
  /** extra fixed effects carried into the panel's rows (not checked for missing values here: the fit counts them) */
  fe?: string[];
  cohortRule?: SqlCohortRule;
}

export interface EventPanelOptions {
  /** the name of the relative-period column of the panel's rows, and its value for never-treated units */
  rel: string;
  never: number;
  binLead?: number;
  binLag?: number;
}

export interface EventPanelSql {
  /** the panel's rows (unit, time, outcome, controls, fe and the relative period) as a backend's source */
  view: SqlBackend;
  periods: number[];
  warnings: string[];
  /** rows and units of the panel */
  n: number;
  nUnits: number;
  droppedAlwaysTreated: number;
  adoptionVaries: number;
  nonAbsorbing: number;
  droppedNa: number;
  /** smallest and largest relative period of treated rows, before binning */
  relLo: number;
  relHi: number;
  /** rows by relative period after binning (never-treated rows under `never`) */
  relCounts: Map<number, number>;
  /** units by cohort of the panel (NaN: never treated) */
  cohortUnits: Map<number, number>;
  /** the SQL of the panel's rows with the period p_t and cohort p_c (NEV for never) columns, and the prefix */
  joined: string;
  p: string;
  nev: string;
  /** temp tables made (the caller drops them) */
  tables: string[];
}

/** The never-treated code of the cohort table (any adoption period is below it). */
const NEV = 1e300;

/** A backend whose source is a relation over another backend's (the panel's rows). */
export class ViewBackend implements SqlBackend {
  readonly dialect: SqlDialect;
  readonly label: string;
  constructor(private readonly base: SqlBackend, readonly source: string, private readonly cols: SqlColumn[]) {
    this.dialect = base.dialect;
    this.label = `the event-study panel of ${base.label}`;
  }
  async columns(): Promise<SqlColumn[]> {
    return this.cols;
  }
  query(sql: string, step: string): Promise<Row[]> {
    return this.base.query(sql, step);
  }
  exec(sql: string, step: string): Promise<void> {
    return this.base.exec(sql, step);
  }
  tempTable(prefix: string, sql: string, step: string): Promise<string> {
    return this.base.tempTable(prefix, sql, step);
  }
  dropTable(name: string, step: string): Promise<void> {
    return this.base.dropTable(name, step);
  }
  progress(msg: string): void {
    this.base.progress?.(msg);
  }
}

/** The roles' columns checked: present (else SqlEngineError, as every out-of-core step), numbers where memory wants numbers. */
async function checkRoles(b: SqlBackend, r: EventPanelRoles, o: EventPanelOptions): Promise<Map<string, SqlColumn>> {
  const cols = new Map((await b.columns("columns")).map((c) => [c.name, c]));
  const controls = r.controls ?? [];
  const need = (name: string, role: string) => {
    const c = cols.get(name);
    if (!c) {
      throw new SqlEngineError(
        `${b.dialect.name}: step "columns": ${role} "${name}" is not a column of ${b.label}`,
        { engine: b.dialect.name, step: "columns", column: name },
        `the table has ${[...cols.keys()].slice(0, 12).map((s) => JSON.stringify(s)).join(", ")}${cols.size > 12 ? ", ..." : ""}`,
      );
    }
    if (c.kind === "other") {
      throw new SqlEngineError(`${b.dialect.name}: step "columns": ${role} "${name}" of ${b.label} has type ${c.type}, not usable`, { engine: b.dialect.name, step: "columns", column: name, type: c.type });
    }
    return c;
  };
  for (const [c, role] of [[r.outcome, "outcome"], [r.time, "time"], [r.adopt, "adoption"], ...controls.map((x) => [x, "control"])] as const) {
    if (need(c, role).kind !== "number" && cols.get(c)!.kind !== "bool") throw new ColumnError(`column "${c}" must be numeric`, { column: c });
  }
  need(r.unit, "unit");
  for (const f of r.fe ?? []) need(f, "fixed effect");
  const roles = [r.outcome, r.unit, r.time, ...controls, ...(r.fe ?? [])];
  if (roles.includes(o.rel)) throw new OptionError(`a column named "${o.rel}" is the event study's relative period: rename the column "${o.rel}" of the data`);
  return cols;
}

/** Number of a result cell (NULL as 0). */
const num = (v: unknown) => Number(v ?? 0);

/** The panel; on an error (a PanelError of the cohort rule, a duplicate...) the temp tables made so far are dropped. */
export async function eventPanelSql(b: SqlBackend, r: EventPanelRoles, o: EventPanelOptions): Promise<EventPanelSql> {
  const tables: string[] = [];
  try {
    return await buildPanel(b, r, o, tables);
  } catch (e) {
    for (const t of [...tables].reverse()) await b.dropTable(t, "clean-up").catch(() => undefined);
    throw e;
  }
}

async function buildPanel(b: SqlBackend, r: EventPanelRoles, o: EventPanelOptions, tables: string[]): Promise<EventPanelSql> {
  const d = b.dialect;
  const cols = await checkRoles(b, r, o);
  const p = aliasPrefix([...cols.keys(), o.rel]);
  const U = d.ident(r.unit);
  const T = d.f64(d.ident(r.time));
  const A = d.f64(d.ident(r.adopt));
  const base = `${okExpr(b, r.unit, false, cols.get(r.unit)!)} AND ${d.finite(T)}`;
  const ok = [r.outcome, ...(r.controls ?? [])].map((c) => d.finite(d.ident(c))).join(" AND ");
  const warnings: string[] = [];

  // periods from every row with a unit and a time (missing outcomes do not hide a period)
  const pr = await b.query(`SELECT ${p}t FROM (SELECT ${T} AS ${p}t FROM ${b.source} WHERE ${base}) GROUP BY ${p}t`, "event panel: periods");
  const periods = pr.map((x) => num(x[`${p}t`])).sort((a, c) => a - c);
  if (periods.length < 2) throw new SampleError("an event study needs at least two periods", { periods: periods.length });
  const nev = d.num(NEV);
  const last = periods[periods.length - 1];
  const adoptExpr = `CASE WHEN NOT ${d.finite(A)} THEN ${nev}${periods.includes(0) ? "" : ` WHEN ${A} = ${d.num(0)} THEN ${nev}`} WHEN ${A} > ${d.num(last)} THEN ${nev} ELSE ${A} END`;
  const rowsTa = `SELECT ${U}, ${T} AS ${p}t, ${adoptExpr} AS ${p}a FROM ${b.source} WHERE ${base}`;
  const units = await b.tempTable(
    "event_units",
    `SELECT ${U}, min(${p}t) AS ${p}ft, min(${p}a) AS ${p}amin, max(${p}a) AS ${p}amax, ${d.count()} AS ${p}n FROM (${rowsTa}) GROUP BY ${U}`,
    "event panel: units",
  );
  tables.push(units);
  const rule = r.cohortRule ?? "constant";
  const vary = `${p}amin <> ${p}amax`;
  const [vr] = await b.query(`SELECT sum(CASE WHEN ${vary} THEN 1 ELSE 0 END) AS v, sum(CASE WHEN ${vary} THEN ${p}n ELSE 0 END) AS vn FROM ${units}`, "event panel: adoption years");
  const varying = num(vr.v);
  const exampleText = varying > 0 ? await varyingExamples(b, { rowsTa, units, vary, U, p, varying }) : "";
  if (varying > 0 && rule === "constant") {
    throw new PanelError(
      `${varying} unit(s) have more than one adoption year in "${r.adopt}": ${exampleText}`,
      { units: varying },
      "an event study needs one cohort per unit (e.g. units that move between locations): define it upstream, " +
        "or choose a rule: --cohort first (the adoption year on the unit's first observed row), --cohort earliest (its earliest adoption year) " +
        "or --cohort drop (leave these units out)",
    );
  }
  const cohorts = await cohortTable(b, { units, rowsTa, U, p, rule, vary, nev, first: periods[0] });
  tables.push(cohorts);
  const nonAbsorbing = varying > 0 && rule !== "drop" ? await countNonAbsorbing(b, { rowsTa, cohorts, U, p, nev }) : 0;
  if (varying > 0 && rule === "drop") {
    warnings.push(`${varying} unit(s) with more than one adoption year in "${r.adopt}" dropped, ${num(vr.vn)} rows (${exampleText}) (cohort rule "drop")`);
  } else if (varying > 0) {
    warnings.push(
      `${varying} unit(s) have more than one adoption year in "${r.adopt}" (${exampleText}); ` +
        (rule === "first" ? "each takes the adoption year on its first observed row" : "each takes its earliest adoption year") +
        ` (cohort rule "${rule}")` +
        (nonAbsorbing > 0 ? `; for ${nonAbsorbing} of them some rows' own treatment 1{${r.time} >= ${r.adopt}} differs from the cohort's` : ""),
    );
  }
  const [al] = await b.query(`SELECT sum(${p}al) AS k, sum(${p}al * ${p}n) AS rows FROM ${cohorts}`, "event panel: always treated");
  const droppedAlwaysTreated = num(al.k);
  if (droppedAlwaysTreated > 0) {
    warnings.push(`${droppedAlwaysTreated} always-treated unit(s), ${num(al.rows)} rows (treated in or before the first period ${periods[0]}) dropped: they have no untreated period`);
  }

  // the rows of the units kept (and, for the checks, of every unit but those the drop rule leaves out)
  const keepCols = [...new Set([r.unit, r.time, r.outcome, ...(r.controls ?? []), ...(r.fe ?? [])])];
  const inner = `SELECT ${keepCols.map((c) => d.ident(c)).join(", ")}, ${T} AS ${p}t FROM ${b.source} WHERE ${base} AND ${ok}`;
  await checkDuplicates(b, { inner, cohorts, U, p, time: r.time, rule });
  const droppedNa = await countMissingRows(b, { base, ok, cohorts, U, p });
  const joined = `SELECT * FROM (${inner})${d.join("inner", `SELECT ${U}, ${p}c FROM ${cohorts} WHERE ${p}keep = 1`, [U])}`;
  const treated = `${p}c < ${nev}`;
  const relRaw = `(${p}t - ${p}c)`;
  const whens = [`WHEN NOT (${treated}) THEN ${d.num(o.never)}`];
  if (o.binLead !== undefined) whens.push(`WHEN ${relRaw} < ${d.num(o.binLead)} THEN ${d.num(o.binLead)}`);
  if (o.binLag !== undefined) whens.push(`WHEN ${relRaw} > ${d.num(o.binLag)} THEN ${d.num(o.binLag)}`);
  const view = `(SELECT ${keepCols.map((c) => d.ident(c)).join(", ")}, CASE ${whens.join(" ")} ELSE ${relRaw} END AS ${d.ident(o.rel)} FROM (${joined}))`;
  const viewCols = [...keepCols.map((c) => cols.get(c)!), { name: o.rel, type: "DOUBLE", kind: "number" as const }];

  const [st] = await b.query(
    `SELECT ${d.count()} AS n, min(CASE WHEN ${treated} THEN ${relRaw} ELSE ${nev} END) AS lo, max(CASE WHEN ${treated} THEN ${relRaw} ELSE ${d.num(-NEV)} END) AS hi FROM (${joined})`,
    "event panel: rows",
  );
  const n = num(st.n);
  if (n === 0) throw new SampleError("no usable row left for the event study");
  const cu = await b.query(`SELECT ${p}c, ${d.count()} AS k FROM (SELECT ${U}, ${p}c FROM (${joined}) GROUP BY ${U}, ${p}c) GROUP BY ${p}c`, "event panel: cohorts");
  const cohortUnits = new Map(cu.map((x) => [num(x[`${p}c`]) >= NEV ? NaN : num(x[`${p}c`]), num(x.k)]));
  const rc = await b.query(`SELECT ${p}r, ${d.count()} AS k FROM (SELECT ${d.ident(o.rel)} AS ${p}r FROM ${view}) GROUP BY ${p}r`, "event panel: relative periods");
  const relCounts = new Map(rc.map((x) => [num(x[`${p}r`]), num(x.k)] as [number, number]).sort((a, c) => a[0] - c[0]));
  const offGrid = [...cohortUnits].filter(([c]) => Number.isFinite(c) && c > periods[0] && !periods.includes(c));
  if (offGrid.length > 0) {
    warnings.push(
      `${offGrid.reduce((s, [, k]) => s + k, 0)} unit(s) adopt in a period the panel does not have (${offGrid.map(([c]) => c).sort((a, c) => a - c).slice(0, 5).join(", ")}): ` +
        "the TWFE event study times them from that year, the other estimators from the first period after it",
    );
  }
  return {
    view: new ViewBackend(b, view, viewCols), periods, warnings, n, nUnits: [...cohortUnits.values()].reduce((s, k) => s + k, 0),
    droppedAlwaysTreated, adoptionVaries: varying, nonAbsorbing, droppedNa, relLo: num(st.lo), relHi: num(st.hi), relCounts, cohortUnits,
    joined, p, nev, tables,
  };
}

interface UnitsSql {
  rowsTa: string;
  units: string;
  vary: string;
  U: string;
  p: string;
  varying: number;
}

/** The first five units (by key) whose adoption year varies, with their values: `"u" (2004, never)`. */
async function varyingExamples(b: SqlBackend, a: UnitsSql): Promise<string> {
  const d = b.dialect;
  const pick = `SELECT ${a.U} FROM ${a.units} WHERE ${a.vary} ORDER BY ${a.U} LIMIT 5`;
  const rows = await b.query(
    `SELECT ${a.p}u, ${a.p}a FROM (SELECT ${a.U} AS ${a.p}u, ${a.p}a FROM (${a.rowsTa}) WHERE ${d.inSet(a.U, pick)}) GROUP BY ${a.p}u, ${a.p}a`,
    "event panel: units with more than one adoption year",
  );
  const byUnit = new Map<string, number[]>();
  for (const x of rows) {
    const u = String(x[`${a.p}u`]);
    (byUnit.get(u) ?? byUnit.set(u, []).get(u)!).push(num(x[`${a.p}a`]));
  }
  const keys = [...byUnit.keys()].sort((x, y) => (Number.isFinite(Number(x)) && Number.isFinite(Number(y)) ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0));
  const show = (v: number) => (v >= NEV ? "never" : String(v));
  const text = keys.map((u) => `"${u}" (${byUnit.get(u)!.sort((x, y) => x - y).map(show).join(", ")})`).join(", ");
  return text + (a.varying > keys.length ? ", ..." : "");
}

/** The per-unit cohort table: key, cohort p_c (NEV: never), p_v (adoption varies), p_n rows, p_al (always treated, dropped), p_keep. */
async function cohortTable(
  b: SqlBackend, a: { units: string; rowsTa: string; U: string; p: string; rule: SqlCohortRule; vary: string; nev: string; first: number },
): Promise<string> {
  const d = b.dialect;
  const { p, U } = a;
  let from = a.units;
  let c = `${p}amin`;
  if (a.rule === "first") {
    const atFirst = `SELECT ${U}, min(${p}a) AS ${p}af FROM (SELECT * FROM (${a.rowsTa})${d.join("inner", `SELECT ${U}, ${p}ft FROM ${a.units}`, [U])}) WHERE ${p}t = ${p}ft GROUP BY ${U}`;
    from = `(SELECT * FROM ${a.units}${d.join("inner", atFirst, [U])})`;
    c = `CASE WHEN ${a.vary} THEN ${p}af ELSE ${p}amin END`;
  }
  const dropV = a.rule === "drop" ? `${a.vary}` : "1 = 0";
  const always = `NOT (${dropV}) AND ${c} < ${a.nev} AND ${c} <= ${d.num(a.first)}`;
  const sel = [
    U, `${c} AS ${p}c`, `CASE WHEN ${a.vary} THEN 1 ELSE 0 END AS ${p}v`, `${p}n`,
    `CASE WHEN ${always} THEN 1 ELSE 0 END AS ${p}al`, `CASE WHEN (${dropV}) OR (${always}) THEN 0 ELSE 1 END AS ${p}keep`,
  ];
  return b.tempTable("event_cohorts", `SELECT ${sel.join(", ")} FROM ${from}`, "event panel: cohorts");
}

/** Units whose adoption year varies with rows whose own treatment 1{t >= adopt} differs from 1{t >= cohort}. */
async function countNonAbsorbing(b: SqlBackend, a: { rowsTa: string; cohorts: string; U: string; p: string; nev: string }): Promise<number> {
  const d = b.dialect;
  const { p, U, nev } = a;
  const own = `CASE WHEN ${p}a < ${nev} AND ${p}t >= ${p}a THEN 1 ELSE 0 END`;
  const coh = `CASE WHEN ${p}c < ${nev} AND ${p}t >= ${p}c THEN 1 ELSE 0 END`;
  const j = `SELECT * FROM (${a.rowsTa})${d.join("inner", `SELECT ${U}, ${p}c FROM ${a.cohorts} WHERE ${p}v = 1`, [U])}`;
  const [r] = await b.query(`SELECT ${d.count()} AS k FROM (SELECT ${U} FROM (${j}) WHERE ${own} <> ${coh} GROUP BY ${U})`, "event panel: non-absorbing units");
  return num(r.k);
}

/** One row per unit and period (rows of units the drop rule leaves out aside, always-treated ones included, as in memory). */
async function checkDuplicates(b: SqlBackend, a: { inner: string; cohorts: string; U: string; p: string; time: string; rule: SqlCohortRule }): Promise<void> {
  const d = b.dialect;
  const { p, U } = a;
  const rows = a.rule === "drop" ? `SELECT * FROM (${a.inner}) WHERE ${d.notInSet(U, `SELECT ${U} FROM ${a.cohorts} WHERE ${p}v = 1`)}` : a.inner;
  const dup = await b.query(
    `SELECT ${p}u, ${p}tt FROM (SELECT ${U} AS ${p}u, ${p}t AS ${p}tt, ${d.count()} AS ${p}k FROM (${rows}) GROUP BY ${U}, ${p}t) WHERE ${p}k > 1 ORDER BY ${p}u LIMIT 1`,
    "event panel: duplicates",
  );
  if (dup.length > 0) {
    const u = String(dup[0][`${p}u`]);
    const t = num(dup[0][`${p}tt`]);
    throw new PanelError(`unit "${u}" has two rows for ${a.time} = ${t}`, { unit: u, time: t }, "an event study needs one row per unit and period");
  }
}

/** Rows left out for a missing unit or time (any unit), or a missing outcome or control (units kept). */
async function countMissingRows(b: SqlBackend, a: { base: string; ok: string; cohorts: string; U: string; p: string }): Promise<number> {
  const d = b.dialect;
  const [r1] = await b.query(`SELECT sum(CASE WHEN ${a.base} THEN 0 ELSE 1 END) AS k FROM ${b.source}`, "event panel: missing units or periods");
  const j = `SELECT ${a.U} FROM ${b.source} WHERE ${a.base} AND NOT (${a.ok})`;
  const [r2] = await b.query(
    `SELECT ${d.count()} AS k FROM (SELECT * FROM (${j})${d.join("inner", `SELECT ${a.U} FROM ${a.cohorts} WHERE ${a.p}keep = 1`, [a.U])})`,
    "event panel: missing values",
  );
  return num(r1.k) + num(r2.k);
}
