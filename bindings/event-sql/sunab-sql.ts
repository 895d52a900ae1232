// Sun & Abraham out of core: the cohort x relative-period dummies made in SQL over the event
// panel (sql/event-panel.ts), fitted by the SQL feols, then aggregated to relative periods by
// cohort shares (terms/sunab.ts aggregateSunab; the shares are the cells' row counts, one GROUP
// BY) with the delta-method vcov, and to the ATT by event/sunab.ts sunabAggregate: the same
// names, path, vcov and ATT as the in-memory sunabEventStudy (event/suite.ts).
//
// The cells follow fixest 0.12.2 as terms/sunab.ts does on the panel's rows: a cohort seen with
// both a negative and a non-negative relative period gets one dummy per relative period but -1,
// ordered by (relative period, cohort); never-treated units and the other cohorts are references.
// A cohort adopting in a period the panel does not have is refused (the in-memory tool times it
// from the first period after it, which the SQL panel does not compute).
import { OptionError, SampleError } from "../base/errors.js";
import type { Engine } from "../engine/wasm.js";
import type { SqlBackend } from "../sql/backend.js";
import { eventPanelSql, ViewBackend } from "../sql/event-panel.js";
import { feolsSql } from "../sql/feols-sql.js";
import { aggregateSunab, cellName, type SunabCell } from "../terms/sunab.js";
import { sunabAggregate } from "../event/sunab.js";
import { NEVER_REL, q } from "../event/twfe.js";
import { sunabPath, type SunabSuiteResult } from "../event/suite.js";
import type { EventSqlRoles } from "./roles.js";

/** The name the in-memory tool gives its cohort column (never treated 10000), kept in the formula text. */
const COHORT_SA = "cohort_sa";

export async function sunabEventStudySql(eng: Engine, b: SqlBackend, roles: EventSqlRoles): Promise<SunabSuiteResult> {
  const level = roles.level ?? 0.95;
  const panel = await eventPanelSql(
    b,
    { outcome: roles.outcome, unit: roles.unit, time: roles.time, adopt: roles.adopt, controls: roles.controls, fe: roles.fe, cohortRule: roles.cohortRule },
    { rel: `${COHORT_SA}_rel`, never: NEVER_REL },
  );
  try {
    const off = [...panel.cohortUnits.keys()].filter((c) => Number.isFinite(c) && !panel.periods.includes(c));
    if (off.length > 0) {
      throw new OptionError(
        `sunab out of core: cohort(s) ${off.slice(0, 5).join(", ")} adopt in a period the panel does not have`,
        { cohorts: off.length }, "run --method sunab in memory (it times them from the first period after), or recode the adoption column",
      );
    }
    const d = b.dialect;
    const { p, nev } = panel;
    const rc = await b.query(
      `SELECT ${p}r, ${p}cc, ${d.count()} AS k FROM (SELECT ${p}t - ${p}c AS ${p}r, ${p}c AS ${p}cc FROM (${panel.joined}) WHERE ${p}c < ${nev}) GROUP BY ${p}r, ${p}cc`,
      "sunab: cohort x period cells",
    );
    const cellRows = rc.map((x) => ({ rel: Number(x[`${p}r`]), cohort: Number(x[`${p}cc`]), k: Number(x.k) }));
    const ok = new Set<number>();
    for (const c of new Set(cellRows.map((x) => x.cohort))) {
      const rels = cellRows.filter((x) => x.cohort === c).map((x) => x.rel);
      if (rels.some((r) => r < 0) && rels.some((r) => r >= 0)) ok.add(c);
    }
    const kept = cellRows.filter((x) => ok.has(x.cohort) && x.rel !== -1).sort((a, c) => a.rel - c.rel || a.cohort - c.cohort);
    if (kept.length === 0) throw new SampleError("sunab: no cohort is seen both before and after its adoption");
    const cells: SunabCell[] = kept.map((x) => ({ name: cellName(roles.time, x.rel, x.cohort), rel: x.rel, cohort: x.cohort }));
    const count = new Map(kept.map((x, j) => [cells[j].name, x.k]));
    const base = await panel.view.columns("columns");
    const keep = base.filter((c) => c.name !== `${COHORT_SA}_rel`);
    const dummies = cells.map((c) => `CASE WHEN ${p}t - ${p}c = ${d.num(c.rel)} AND ${p}c = ${d.num(c.cohort)} THEN 1 ELSE 0 END AS ${d.ident(c.name)}`);
    const view = new ViewBackend(
      b, `(SELECT ${[...keep.map((c) => d.ident(c.name)), ...dummies].join(", ")} FROM (${panel.joined}))`,
      [...keep, ...cells.map((c) => ({ name: c.name, type: "DOUBLE", kind: "number" as const }))],
    );
    const fes = [roles.unit, roles.time, ...(roles.fe ?? [])].map(q).join(" + ");
    const rhs = [...cells.map((c) => q(c.name)), ...(roles.controls ?? []).map(q)].join(" + ");
    const text = `${q(roles.outcome)} ~ ${[`sunab(${COHORT_SA}, ${q(roles.time)})`, ...(roles.controls ?? []).map(q)].join(" + ")} | ${fes}`;
    const fit = await feolsSql(view, `${q(roles.outcome)} ~ ${rhs} | ${fes}`, {
      vcov: `cluster:${roles.unit}`, fixefRm: "none", level,
      postFit: {
        formula: text,
        apply: (inp) => aggregateSunab(inp, Float64Array.from(inp.names, (nm) => count.get(nm) ?? 0),
          { period: roles.time, cohort: COHORT_SA, agg: "period", cells, refP: [-1] }, panel.n),
      },
    });
    return { method: "sunab", fit, path: sunabPath(fit, roles.time), att: sunabAggregate(eng, fit, "att", level) };
  } finally {
    for (const t of [...panel.tables].reverse()) await b.dropTable(t, "clean-up").catch(() => undefined);
  }
}
