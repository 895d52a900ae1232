// The event tools out of core (issue 16): hdfe event on a SqlBackend (DuckDB, ClickHouse).
// The panel is prepared in SQL (sql/event-panel.ts: one cohort per unit by the cohort rule,
// always-treated units dropped, leads and lags binned, never-treated units at NEVER_REL), the
// TWFE event study is feols with i(rel) pushed down (sql/feols-sql.ts), and the path, the
// unidentified terms and the pre-trend test are read off the fit by the in-memory code
// (event/twfe.ts eventGrid / checkComparison / eventFormula / eventResult): the same names,
// references, vcov and removed-row counts as eventStudy in memory.
//
// Sun & Abraham: the cohort x relative-period dummies in SQL, aggregated by cohort shares
// (sunab-sql.ts). What is refused, and why (each an OptionError naming what the rows are needed for):
//   cs     its influence-function standard errors and multiplier bootstrap need per-unit values
//          of every (group, time) cell, one row per unit back in this process
//   bjs    the imputation fits the untreated rows' FE and predicts each treated row; its
//          variance needs per-unit weights of every treated row
//   bacon  each 2x2 comparison refits a TWFE on a subpanel (timing groups x windows)
import { OptionError, SampleError } from "../base/errors.js";
import type { SqlBackend } from "../sql/backend.js";
import { eventPanelSql } from "../sql/event-panel.js";
import { feolsSql } from "../sql/feols-sql.js";
import { checkOption } from "../base/options.js";
import {
  NEVER_REL, REL_NAME, eventGrid, checkComparison, eventFormula, eventResult, type EventStudyResult,
} from "../event/twfe.js";
import type { EventSuiteResult, OverlayPoint } from "../event/suite.js";
import type { EventSqlRoles } from "./roles.js";
import type { Engine } from "../engine/wasm.js";
import { sunabEventStudySql } from "./sunab-sql.js";

export type { EventSqlRoles } from "./roles.js";


/** The event tools the out-of-core engines run. */
export const SQL_EVENT_METHODS = ["twfe", "sunab"] as const;

/** Why each other event tool is refused out of core: what it needs the rows for. */
export const SQL_EVENT_REFUSED: Record<string, string> = {
  cs: "its influence-function standard errors and multiplier bootstrap need per-unit values of every (group, time) cell back in memory",
  bjs: "the imputation predicts every treated row from the untreated rows' fixed effects, and its variance needs per-unit weights of each treated row",
  bacon: "each 2x2 comparison refits a TWFE regression on its own subpanel of timing groups and windows",
};

/** The OptionError of an event tool the engine does not run. */
export function refuseEventMethod(method: string, engine: string): OptionError {
  return new OptionError(
    `hdfe event --method ${method} runs in memory only: ${SQL_EVENT_REFUSED[method] ?? "it works on the rows"}; --engine ${engine} runs ${SQL_EVENT_METHODS.join(", ")}`,
    { method, engine },
    `use --method ${SQL_EVENT_METHODS.join(" or ")} with --engine ${engine}, or run --method ${method} in memory (--engine wasm) on data that fits`,
  );
}

/** The TWFE event study out of core: the same result as event/twfe.ts eventStudy (timing "unit"). */
export async function eventStudySql(b: SqlBackend, roles: EventSqlRoles): Promise<EventStudyResult> {
  const level = roles.level ?? 0.95;
  checkOption("level", level);
  if (roles.binLead !== undefined) checkOption("binLead", roles.binLead);
  if (roles.binLag !== undefined) checkOption("binLag", roles.binLag);
  const panel = await eventPanelSql(
    b,
    { outcome: roles.outcome, unit: roles.unit, time: roles.time, adopt: roles.adopt, controls: roles.controls, fe: roles.fe, cohortRule: roles.cohortRule },
    { rel: REL_NAME, never: NEVER_REL, binLead: roles.binLead, binLag: roles.binLag },
  );
  try {
    const warnings = [...panel.warnings];
    if (!(panel.relLo <= panel.relHi)) throw new SampleError("event study: no treated unit in the data");
    const g = eventGrid(panel.relLo, panel.relHi, panel.relCounts.keys(), roles);
    checkComparison(panel.cohortUnits, panel.nUnits, g.terms, roles.time);
    const formula = eventFormula(roles, g.refs);
    const fit = await feolsSql(panel.view, formula, {
      vcov: roles.vcov ?? `cluster:${roles.unit}`, level, fixefRm: "none", onWarning: (m) => warnings.push(m),
    });
    return eventResult(fit, { ...g, formula, level, hasNever: panel.relCounts.has(NEVER_REL), binLead: roles.binLead, binLag: roles.binLag, warnings });
  } finally {
    for (const t of [...panel.tables].reverse()) await b.dropTable(t, "clean-up").catch(() => undefined);
  }
}

/**
 * hdfe event's suite out of core: TWFE and Sun-Abraham estimated, every other method asked for reported as not
 * estimated with its refusal (an OptionError in `causes`, so the CLI's exit code is the one of
 * today's refusal when nothing runs). Problems of the panel itself (a missing column, a unit
 * with two adoption years under "constant", duplicated rows) are thrown, as runEventSuite does.
 */
export async function runEventSuiteSql(eng: Engine, b: SqlBackend, roles: EventSqlRoles, methods: string[], engine: string): Promise<EventSuiteResult> {
  const level = roles.level ?? 0.95;
  const out: EventSuiteResult = { level, grid: [], overlay: [], errors: {}, causes: {}, warnings: [] };
  for (const m of methods) {
    if ((SQL_EVENT_METHODS as readonly string[]).includes(m)) continue;
    const e = refuseEventMethod(m, engine);
    out.errors[m] = e.message;
    out.causes[m] = e;
  }
  if (methods.includes("twfe")) {
    try {
      out.twfe = await eventStudySql(b, roles);
    } catch (e) {
      out.errors.twfe = e instanceof Error ? e.message : String(e);
      out.causes.twfe = e;
    }
  }
  if (methods.includes("sunab")) {
    try {
      out.sunab = await sunabEventStudySql(eng, b, roles);
    } catch (e) {
      out.errors.sunab = e instanceof Error ? e.message : String(e);
      out.causes.sunab = e;
    }
  }
  const overlay: OverlayPoint[] = [];
  for (const r of [out.twfe, out.sunab]) {
    for (const x of r?.path ?? []) overlay.push({ method: r!.method, rel: x.rel, estimate: x.estimate, se: x.se, ciLow: x.ciLow, ciHigh: x.ciHigh, reference: x.reference });
  }
  out.overlay = overlay.sort((a, c) => a.rel - c.rel || a.method.localeCompare(c.method));
  out.grid = [...new Set(out.overlay.map((x) => x.rel))];
  out.warnings = [...new Set([...(out.twfe?.warnings ?? []), ...(out.sunab?.fit.warnings ?? [])])];
  return out;
}
