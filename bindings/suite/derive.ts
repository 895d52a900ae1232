// Columns the suite derives from the roles of a panel: shifted DiD terms for in-time
// placebos, relative event time, Sun-Abraham cohort codes.
import type { Frame } from "../core/frame.js";

export interface TimingRoles {
  /** 1 if the unit's location is ever treated */
  zone: string;
  year: string;
  /** first treated year of the unit's location (missing / non-finite if never) */
  adopt: string;
}

/** The DiD term with adoption moved `lead` years earlier (lead = 0 gives the DiD itself). */
export function shiftedDid(f: Frame, r: TimingRoles, lead: number): Float64Array {
  const adopt = f.numeric(r.adopt), year = f.numeric(r.year);
  const zone = f.has(r.zone) ? f.numeric(r.zone) : null;
  const out = new Float64Array(f.nrows);
  for (let i = 0; i < f.nrows; i++) {
    const a = adopt[i];
    if (!Number.isFinite(year[i])) out[i] = NaN;
    else out[i] = Number.isFinite(a) && a < 9999 && (zone === null || zone[i] === 1) && year[i] >= a - lead ? 1 : 0;
  }
  return out;
}

/** year - adopt, or `never` for units never treated. */
export function relativeTime(f: Frame, r: TimingRoles, never = -1000): Float64Array {
  const adopt = f.numeric(r.adopt), year = f.numeric(r.year);
  return Float64Array.from(year, (y, i) => (Number.isFinite(adopt[i]) && adopt[i] < 9999 ? y - adopt[i] : never));
}

/** Units whose adoption value is not the same on all their rows (e.g. firms moving between
 * cities that adopt in different years); never treated (missing or >= 9999) is one value. */
export function adoptionVaries(f: Frame, unit: string, adopt: string, time?: string): { units: number; examples: string[] } {
  const codes = f.codes(unit);
  const a = f.numeric(adopt);
  const t = time ? f.numeric(time) : null;
  const first = new Map<number, number>();
  const varies = new Set<number>();
  for (let i = 0; i < f.nrows; i++) {
    const u = codes.codes[i];
    if (u < 0 || (t && !Number.isFinite(t[i]))) continue;
    const v = Number.isFinite(a[i]) && a[i] < 9999 ? a[i] : Infinity;
    const seen = first.get(u);
    if (seen === undefined) first.set(u, v);
    else if (seen !== v) varies.add(u);
  }
  const ids = [...varies].sort((x, y) => x - y);
  return { units: ids.length, examples: ids.slice(0, 5).map((u) => codes.levels[u]) };
}
