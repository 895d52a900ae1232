// The derived mpdta panel of the out-of-core event tests (tests/sql-event.test.ts,
// tests/clickhouse-event.test.ts) and their two comparisons (the tolerances are the test
// file's, stated at its top and passed in).
import { expect } from "vitest";
import type { EventStudyResult } from "../bindings/event/twfe.js";
import type { RefModel } from "./reference.js";
import type { SunabSuiteResult } from "../bindings/event/suite.js";

export interface Tolerances { coef: number; se: number }
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/**
 * mpdta with counties given two adoption years (every 23rd treated county: 2006 from its third
 * row on; cohort 2007 counties every 31st: never from its fourth row), every 41st county treated
 * from 2003 (always treated), and the outcome missing on every 401st row.
 */
export function moversCsv(mpdta: string): string {
  const lines = mpdta.trim().split("\n");
  const out = [lines[0]];
  const seen = new Map<string, number>();
  let unitIdx = -1;
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].split(",");
    const county = c[1];
    if (!seen.has(county)) seen.set(county, ++unitIdx);
    const u = seen.get(county)!;
    const rowOfUnit = Number(c[0]) - 2003; // mpdta is balanced, 2003-2007
    const ft = Number(c[4]);
    if (ft > 0 && u % 23 === 0 && rowOfUnit >= 2) c[4] = "2006";
    if (ft === 2007 && u % 31 === 0 && rowOfUnit >= 3) c[4] = "0";
    if (u % 41 === 0) c[4] = "2003";
    if (i % 401 === 0) c[3] = "NA";
    out.push(c.join(","));
  }
  return out.join("\n") + "\n";
}

/** The out-of-core result (DuckDB or ClickHouse) equals the in-memory one (names, counts exact; numbers to the tolerances). */
export function expectSameEvent(s: EventStudyResult, m: EventStudyResult, tol: Tolerances): void {
  expect(s.formula).toBe(m.formula);
  expect(s.refs).toEqual(m.refs);
  expect(s.unidentified).toEqual(m.unidentified);
  expect(s.warnings).toEqual(m.warnings);
  expect(s.fit.coefNames).toEqual(m.fit.coefNames);
  expect(s.fit.nobs).toBe(m.fit.nobs);
  expect(s.fit.nobsOrigin).toBe(m.fit.nobsOrigin);
  expect(s.fit.removed).toEqual(m.fit.removed);
  expect(s.fit.fixefSizes).toEqual(m.fit.fixefSizes);
  expect(s.fit.clusterSizes).toEqual(m.fit.clusterSizes);
  expect(s.fit.df).toBe(m.fit.df);
  expect(s.path.map((p) => [p.rel, p.reference, p.binned])).toEqual(m.path.map((p) => [p.rel, p.reference, p.binned]));
  m.path.forEach((p, i) => {
    if (p.reference) return expect(s.path[i].estimate).toBe(0);
    expect(rel(s.path[i].estimate, p.estimate), `estimate ${p.rel}`).toBeLessThan(tol.coef);
    expect(rel(s.path[i].se, p.se), `se ${p.rel}`).toBeLessThan(tol.se);
    expect(rel(s.path[i].ciLow, p.ciLow), `ciLow ${p.rel}`).toBeLessThan(tol.se);
    expect(rel(s.path[i].ciHigh, p.ciHigh), `ciHigh ${p.rel}`).toBeLessThan(tol.se);
  });
  expect(s.pretrend.q).toBe(m.pretrend.q);
  if (m.pretrend.q > 0) expect(rel(s.pretrend.chi2, m.pretrend.chi2)).toBeLessThan(tol.se);
}

/** Every coefficient and SE of a fixest reference (names mapped to ours). */
export function expectFixestEvent(s: EventStudyResult, ref: RefModel, name: (k: string) => string, tol: Tolerances): void {
  expect(s.fit.nobs).toBe(ref.nobs);
  const names = s.fit.coefNames.map(name);
  expect([...names].sort()).toEqual(Object.keys(ref.coef).sort());
  s.fit.coefNames.forEach((k, j) => {
    expect(rel(s.fit.coef[k], ref.coef[names[j]]), `coef ${k}`).toBeLessThan(tol.coef);
    expect(rel(s.fit.se[k], ref.se[names[j]]), `se ${k}`).toBeLessThan(tol.se);
  });
}

/** Sun-Abraham out of core = in memory: aggregated fit (names, counts exact), path and ATT. */
export function expectSameSunab(s: SunabSuiteResult, m: SunabSuiteResult, tol: Tolerances): void {
  expect(s.fit.coefNames).toEqual(m.fit.coefNames);
  expect(s.fit.formula).toBe(m.fit.formula);
  expect(s.fit.nobs).toBe(m.fit.nobs);
  expect(s.fit.removed).toEqual(m.fit.removed);
  expect(s.fit.K).toBe(m.fit.K);
  expect(s.fit.df).toBe(m.fit.df);
  expect(s.fit.warnings).toEqual(m.fit.warnings);
  for (const k of m.fit.coefNames) {
    expect(rel(s.fit.coef[k], m.fit.coef[k]), `coef ${k}`).toBeLessThan(tol.coef);
    expect(rel(s.fit.se[k], m.fit.se[k]), `se ${k}`).toBeLessThan(tol.se);
  }
  expect(s.path.map((p) => [p.rel, p.reference])).toEqual(m.path.map((p) => [p.rel, p.reference]));
  expect(s.att.names).toEqual(m.att.names);
  m.att.table.forEach((r, i) => {
    expect(rel(s.att.table[i].estimate, r.estimate), `att ${r.name}`).toBeLessThan(tol.coef);
    expect(rel(s.att.table[i].se, r.se), `att se ${r.name}`).toBeLessThan(tol.se);
  });
}

/** Sun-Abraham against fixest's sunab(): every coefficient and SE of `id`, and the ATT of `${id}_att`. */
export function expectFixestSunab(s: SunabSuiteResult, refs: RefModel[], id: string, tol: Tolerances): void {
  const ref = refs.find((x) => x.id === id)!;
  expect(s.fit.nobs).toBe(ref.nobs);
  expect([...s.fit.coefNames].sort()).toEqual(Object.keys(ref.coef).sort());
  for (const k of s.fit.coefNames) {
    expect(rel(s.fit.coef[k], ref.coef[k]), `coef ${k}`).toBeLessThan(tol.coef);
    expect(rel(s.fit.se[k], ref.se[k]), `se ${k}`).toBeLessThan(tol.se);
  }
  const att = refs.find((x) => x.id === `${id}_att`)!;
  const j = s.att.names.indexOf("ATT");
  expect(rel(s.att.table[j].estimate, att.coef.ATT)).toBeLessThan(tol.coef);
  expect(rel(s.att.table[j].se, att.se.ATT)).toBeLessThan(tol.se);
}
