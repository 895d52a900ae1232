// Shared by tests/sql-placebo.test.ts (DuckDB) and tests/sql-placebo-clickhouse.test.ts (the
// 2-shard ClickHouse cluster): `hdfe placebo` run through the CLI (bin/hdfe.js on the bundle),
// a generated panel with a staggered adoption by city (missing values, singletons), and the
// comparison of an out-of-core run with the in-memory one.
//
// Tolerances (stated once, for both files; never loosened per case):
//   p-values (two-sided, left, right: p and count), valid draws, ties   exact (the same draws for the same seed)
//   draw ids, units, cohorts, nobs, removed rows (and why)              exact
//   estimate                                                            1e-10 relative
//   each placebo coefficient b*                                         1e-10 of max(|b*|, |estimate|)
// Both runs with --fixef-tol FIXEF_TOL (1e-12), as the wild comparisons. The absolute scale of
// the draws' bound: a draw near 0 has no relative precision to speak of (measured on cbec: the
// draws agree to 1e-14 absolute, 1e-9 relative for a draw of 1e-5).
import { expect } from "vitest";
import { Rng } from "../bindings/base/rng.js";
import { hdfe, hdfeAsync } from "./sql-inference-setup.js";

export { hdfe, hdfeAsync, FIXEF_TOL } from "./sql-inference-setup.js";
export const P_EXACT = 0;
export const EST_REL = 1e-10;
export const DRAW_ABS = 1e-10;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** What `hdfe placebo --json` prints (the fields these tests read). */
export interface PlaceboJson {
  estimate: number;
  draws: (number | null)[];
  drawIds: number[];
  valid: number;
  p: Record<"twoSided" | "left" | "right", { p: number; count: number; mcse: number }>;
  ties: { twoSided: number; oneSided: number };
  method: string;
  units: number;
  cohorts: number[];
  basisColumns: number;
  basisSolver?: string;
  nobs: number;
  removed: Record<string, unknown>;
  warnings: string[];
}

/** `hdfe placebo <args> --json` started asynchronously (two runs side by side on two cores), its JSON (the run must succeed). */
export async function placeboJsonAsync(args: string[]): Promise<PlaceboJson> {
  const r = await hdfeAsync(["placebo", ...args, "--json"], () => {});
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PlaceboJson;
}

/** `hdfe placebo <args> --json`, its JSON (the run must succeed). */
export function placeboJson(args: string[]): PlaceboJson {
  const r = hdfe(["placebo", ...args, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PlaceboJson;
}

/** An out-of-core run `s` against the in-memory run `m` of the same options (tolerances above). */
export function expectSamePlacebo(s: PlaceboJson, m: PlaceboJson): void {
  expect(s.units).toBe(m.units);
  expect(s.cohorts).toEqual(m.cohorts);
  expect(s.drawIds).toEqual(m.drawIds);
  expect(s.nobs).toBe(m.nobs);
  expect(s.removed).toEqual(m.removed);
  expect(s.valid).toBe(m.valid);
  for (const k of ["twoSided", "left", "right"] as const) {
    expect(Math.abs(s.p[k].p - m.p[k].p), k).toBeLessThanOrEqual(P_EXACT);
    expect(s.p[k].count, k).toBe(m.p[k].count);
  }
  expect(s.ties).toEqual(m.ties);
  expect(s.warnings).toEqual(m.warnings);
  expect(rel(s.estimate, m.estimate)).toBeLessThan(EST_REL);
  expect(s.draws.length).toBe(m.draws.length);
  let worst = 0;
  for (let d = 0; d < m.draws.length; d++) {
    const a = s.draws[d], b = m.draws[d];
    if (a === null || b === null) {
      expect(a, `draw ${d}`).toBe(b);
      continue;
    }
    worst = Math.max(worst, Math.abs(a - b) / Math.max(Math.abs(b), Math.abs(m.estimate)));
  }
  expect(worst).toBeLessThan(DRAW_ABS);
}

/**
 * A generated panel: `firms` firms over 2011-2020 (unbalanced), each in a city (30 cities, a few
 * firms move), cities in 5 provinces (strata) adopting in 2014, 2016, 2018 or never; did =
 * 1{year >= adopt}; the city also as text (cityname k1..k30: text order is not number order);
 * an industry (8 levels, a third FE), two regressors, weights in [0.5, 2);
 * `singletons` firms seen once, missing values in y and x1 (empty and NA). Fixed seed. CSV text.
 */
export function placeboPanelCsv(seed: number, firms: number, singletons = 20): string {
  const r = new Rng(seed);
  const cohorts = [2014, 2016, 2018, NaN];
  const cityAdopt = Array.from({ length: 30 }, (_, c) => cohorts[c % 4]);
  const ce = Array.from({ length: 30 }, () => r.normal());
  const ye = Array.from({ length: 10 }, () => r.normal());
  const lines = ["firm,year,city,province,ind,adopt,did,x1,x2,w,y,cityname"];
  for (let f = 0; f < firms + singletons; f++) {
    const fe = r.normal();
    const single = f >= firms;
    const start = r.int(3);
    const len = single ? 1 : 4 + r.int(7 - start);
    let c = r.int(30);
    const ind = r.int(8);
    for (let t = start; t < Math.min(10, start + len); t++) {
      if (r.uniform() < 0.02) c = r.int(30);
      const year = 2011 + t;
      const a = cityAdopt[c];
      const did = Number.isFinite(a) && year >= a ? 1 : 0;
      const x1 = r.normal() + 0.3 * fe, x2 = r.normal() + 0.2 * ye[t];
      const y = 0.04 * did + 0.5 * x1 - 0.25 * x2 + fe + ye[t] + ce[c] + 0.1 * ind + r.normal();
      const u = r.uniform();
      const cell = (v: number, miss: boolean) => (miss ? (u < 0.5 ? "" : "NA") : v.toFixed(6));
      lines.push([f + 1, year, c + 1, (c % 5) + 1, `i${ind}`, Number.isFinite(a) ? a : "", did, cell(x1, r.uniform() < 0.01), x2.toFixed(6),
        (0.5 + 1.5 * r.uniform()).toFixed(4), cell(y, r.uniform() < 0.015), `k${c + 1}`].join(","));
    }
  }
  return lines.join("\n") + "\n";
}
