// Every event-study estimator on one panel and one horizon grid, for an overlay figure
// (TWFE event study, Sun & Abraham, Callaway & Sant'Anna, Borusyak-Jaravel-Spiess) plus the
// Goodman-Bacon table of the static TWFE DiD. Two phases: numbers here, rendering elsewhere.
import type { Engine } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import { feols, type Fit } from "../estimators/feols.js";
import { preparePanel, type PanelRoles } from "./panel.js";
import { eventStudy, panelFrame, q, type EventStudyResult, type EventPoint } from "./twfe.js";
import { sunabAggregate, type SunabAggregation } from "./sunab.js";
import { attGt, type CsResult, type CsControlGroup, type CsMethod, type BootstrapOptions } from "./cs.js";
import { aggte, type AggteResult } from "./cs-aggte.js";
import { imputationDid, type BjsResult } from "./bjs.js";
import { baconDecomposition, type BaconResult } from "./bacon.js";

export type EventMethod = "twfe" | "sunab" | "cs" | "bjs";

export interface EventSuiteRoles extends PanelRoles {
  /** extra fixed effects for the regression-based estimators (TWFE, SA, BJS ignores them) */
  fe?: string[];
  /** confidence level of every interval (the study uses 0.90). Default 0.95 */
  level?: number;
  controlGroup?: CsControlGroup;
  csMethod?: CsMethod;
  /** CS on a balanced panel (did's default) or on pairwise 2x2 panels (default here: keeps every unit; see cs.ts) */
  csPanel?: "balanced" | "unbalanced";
  /** give the controls to CS as covariates (base-period values; default false: unconditional parallel trends) */
  csCovariates?: boolean;
  bootstrap?: BootstrapOptions | false;
  /** TWFE event study: reference period(s) and binning (see eventStudy) */
  ref?: number | number[] | "first";
  binLead?: number;
  binLag?: number;
  /** estimators to run; default all four plus the Bacon table */
  methods?: (EventMethod | "bacon")[];
  /** restrict the grid to rel in [minRel, maxRel] */
  minRel?: number;
  maxRel?: number;
}

export interface OverlayPoint {
  method: EventMethod;
  rel: number;
  estimate: number;
  se: number;
  ciLow: number;
  ciHigh: number;
  /** normalised reference period (estimate 0 by construction) */
  reference: boolean;
}

export interface SunabSuiteResult {
  method: "sunab";
  fit: Fit;
  path: EventPoint[];
  att: SunabAggregation;
}

export interface EventSuiteResult {
  level: number;
  grid: number[];
  overlay: OverlayPoint[];
  twfe?: EventStudyResult;
  sunab?: SunabSuiteResult;
  cs?: { attgt: CsResult; dynamic: AggteResult; simple: AggteResult; group: AggteResult };
  bjs?: BjsResult;
  bacon?: BaconResult;
  /** estimator -> error message, for estimators that could not run on this panel */
  errors: Record<string, string>;
  /** estimator -> the error thrown (its class says why: SampleError, OptionError...) */
  causes: Record<string, unknown>;
  warnings: string[];
}

/** Sun & Abraham on the panel's unit cohorts (never treated coded 10000, as fixest's examples). */
export function sunabEventStudy(eng: Engine, frame: Frame, roles: PanelRoles & { fe?: string[]; level?: number }): SunabSuiteResult {
  const p = preparePanel(frame, roles, { dropAlwaysTreated: true });
  const cohort = Float64Array.from(p.unit, (u) => (p.cohortIdx[u] >= 0 ? p.periods[p.cohortIdx[u]] : 10000));
  const pf = panelFrame(frame, p, roles.fe ?? [], { cohort_sa: cohort });
  const rhs = [`sunab(cohort_sa, ${q(roles.time)})`, ...(roles.controls ?? []).map(q)].join(" + ");
  const fes = [roles.unit, roles.time, ...(roles.fe ?? [])].map(q).join(" + ");
  const level = roles.level ?? 0.95;
  const fit = feols(eng, pf, `${q(roles.outcome)} ~ ${rhs} | ${fes}`, { vcov: `cluster:${roles.unit}`, fixefRm: "none", level });
  return { method: "sunab", fit, path: sunabPath(fit, roles.time), att: sunabAggregate(eng, fit, "att", level) };
}

/** The relative-period path of a Sun-Abraham fit aggregated by period (`<time>::<rel>`), with -1 as the reference (in memory and out of core). */
export function sunabPath(fit: Fit, time: string): EventPoint[] {
  const path: EventPoint[] = [];
  const prefix = `${time}::`;
  for (const row of fit.table) {
    if (!row.name.startsWith(prefix)) continue;
    const rel = Number(row.name.slice(prefix.length));
    if (!Number.isFinite(rel)) continue;
    path.push({ rel, estimate: row.estimate, se: row.se, ciLow: row.ciLow, ciHigh: row.ciHigh, p: row.p, reference: false, binned: false });
  }
  path.push({ rel: -1, estimate: 0, se: 0, ciLow: 0, ciHigh: 0, p: NaN, reference: true, binned: false });
  path.sort((a, b) => a.rel - b.rel);
  return path;
}

export function runEventSuite(eng: Engine, frame: Frame, roles: EventSuiteRoles): EventSuiteResult {
  const level = roles.level ?? 0.95;
  const methods = new Set(roles.methods ?? ["twfe", "sunab", "cs", "bjs", "bacon"]);
  const base: PanelRoles = {
    outcome: roles.outcome, unit: roles.unit, time: roles.time, adopt: roles.adopt, controls: roles.controls, cohortRule: roles.cohortRule,
  };
  // problems of the panel itself (columns, duplicates, a unit with more than one adoption year)
  // stop every estimator: raised here rather than reported per estimator
  preparePanel(frame, base, { dropAlwaysTreated: false });
  const out: EventSuiteResult = { level, grid: [], overlay: [], errors: {}, causes: {}, warnings: [] };
  const attempt = <T>(name: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      out.errors[name] = e instanceof Error ? e.message : String(e);
      out.causes[name] = e;
      return undefined;
    }
  };
  const push = (method: EventMethod, pts: { rel: number; estimate: number; se: number; ciLow: number; ciHigh: number; reference?: boolean }[]) => {
    for (const x of pts) {
      out.overlay.push({ method, rel: x.rel, estimate: x.estimate, se: x.se, ciLow: x.ciLow, ciHigh: x.ciHigh, reference: x.reference ?? false });
    }
  };
  if (methods.has("twfe")) {
    out.twfe = attempt("twfe", () => eventStudy(eng, frame, { ...base, fe: roles.fe, level, ref: roles.ref, binLead: roles.binLead, binLag: roles.binLag }));
    if (out.twfe) push("twfe", out.twfe.path);
  }
  if (methods.has("sunab")) {
    out.sunab = attempt("sunab", () => sunabEventStudy(eng, frame, { ...base, fe: roles.fe, level }));
    if (out.sunab) push("sunab", out.sunab.path);
  }
  if (methods.has("cs")) {
    out.cs = attempt("cs", () => {
      const attgt = attGt(frame, {
        ...base, controls: roles.csCovariates ? roles.controls : [], level, controlGroup: roles.controlGroup, method: roles.csMethod,
        panel: roles.csPanel ?? "unbalanced", bootstrap: roles.bootstrap,
      });
      const o = { naRm: true };
      return { attgt, dynamic: aggte(attgt, "dynamic", o), simple: aggte(attgt, "simple", o), group: aggte(attgt, "group", o) };
    });
    if (out.cs) push("cs", out.cs.dynamic.rows.map((r) => ({ rel: r.egt, estimate: r.estimate, se: r.se, ciLow: r.ciLow, ciHigh: r.ciHigh })));
  }
  if (methods.has("bjs")) {
    out.bjs = attempt("bjs", () => imputationDid(eng, frame, { ...base, level }));
    if (out.bjs) {
      push("bjs", out.bjs.pretrend.path);
      push("bjs", out.bjs.path);
    }
  }
  if (methods.has("bacon")) {
    out.bacon = attempt("bacon", () => baconDecomposition(eng, frame, { outcome: roles.outcome, unit: roles.unit, time: roles.time, adopt: roles.adopt, cohortRule: roles.cohortRule }));
  }
  const lo = roles.minRel ?? -Infinity, hi = roles.maxRel ?? Infinity;
  out.overlay = out.overlay.filter((x) => x.rel >= lo && x.rel <= hi).sort((a, b) => a.rel - b.rel || a.method.localeCompare(b.method));
  out.grid = [...new Set(out.overlay.map((x) => x.rel))].sort((a, b) => a - b);
  for (const r of [out.twfe, out.cs?.attgt, out.bjs, out.bacon]) for (const w of r?.warnings ?? []) if (!out.warnings.includes(w)) out.warnings.push(w);
  for (const w of out.sunab?.fit.warnings ?? []) if (!out.warnings.includes(w)) out.warnings.push(w);
  return out;
}
