// Serial-correlation and spatial variances as fixest computes them (R/VCOV.R, fixest 0.12):
// Newey-West over a time series or within panel units, Driscoll-Kraay, Conley. This file
// parses their specifications, finds their columns on the estimation sample and runs the
// meat kernels (assembly/hac.ts); core/vcov.ts applies the sandwich and the small-sample
// factors (T / (T - 1), (n - 1) / (n - K) with K by fixest's nesting rule).
import type { Engine } from "../engine/wasm.js";
import { check } from "../engine/kernels.js";
import { ColumnError, OptionError, VcovError } from "../base/errors.js";
import { invSPD } from "../base/stats.js";
import { numericCodes, type Frame } from "./frame.js";
import { intersectCodes } from "./codes.js";
import { recode, type Sample } from "./sample.js";

export type HacSpec =
  | { type: "nw"; lag?: number; unit?: string; time?: string }
  | { type: "dk"; lag?: number; time?: string }
  /** cutoff in km (a cutoff given in miles is converted, `unit: "mi"` keeps how to label it); none: fixest's rule of thumb (conleyDefaultCutoff) */
  | { type: "conley"; cutoff?: number; unit?: "km" | "mi"; lat?: string; lon?: string; distance?: "triangular" | "spherical" };

/** fixest's miles to km factor (check_set_cutoff: "100mi" is 100 * 1.60934 km). */
export const KM_PER_MILE = 1.60934;

export type HacType = HacSpec["type"];

/**
 * "nw" | "nw:2" | "NW(2)" | "NW(2) ~ firm + year" | "NW ~ t" | "dk:1" | "DK(2) ~ year" |
 * "conley:100" | "conley:100km" | "conley:100mi" | "conley" (fixest's default cutoff) | "conley:100:spherical" |
 * 'conley(100, distance = "spherical") ~ lat + lon' | 'conley("100mi")';
 * null when the string is no HAC specification.
 */
export function parseHac(s: string): HacSpec | null {
  const m = s.trim().match(/^(nw|newey_?west|dk|driscoll_?kraay|conley)\s*(?:\((.*)\)|:([^~]*))?\s*(?:~(.*))?$/i);
  if (!m) return null;
  const kind = m[1].toLowerCase();
  const type: HacType = kind.startsWith("n") ? "nw" : kind.startsWith("d") ? "dk" : "conley";
  const args = (m[2] ?? m[3] ?? "").split(m[2] !== undefined ? "," : ":").map((a) => a.trim()).filter(Boolean);
  const vars = (m[4] ?? "").split(/[+,]/).map((v) => v.trim()).filter(Boolean);
  let num: number | undefined;
  let unit: "km" | "mi" | undefined;
  let distance: "triangular" | "spherical" | undefined;
  for (const a of args) {
    const kv = a.match(/^(\w+)\s*=\s*"?([^"]*)"?$/);
    const key = kv ? kv[1].toLowerCase() : null;
    const val = kv ? kv[2].trim() : a.replace(/"/g, "");
    if (key === "distance" || (key === null && type === "conley" && (num !== undefined || /^(triangular|spherical)$/i.test(val)))) {
      const d = val.toLowerCase();
      if (d !== "triangular" && d !== "spherical") throw new OptionError(`vcov "${s}": distance must be "triangular" or "spherical", got "${val}"`);
      distance = d;
    } else if (key === null || key === "lag" || key === "cutoff") {
      // fixest's units: a number is km; "100mi" (m, mi, mil, mile, miles) is miles, "100km" (k) km
      const u = type === "conley" ? val.match(/^([0-9.eE+-]+)\s*(k|km|m|mi|mil|mile|miles)$/i) : null;
      if (u) unit = u[2].toLowerCase().startsWith("k") ? "km" : "mi";
      num = Number(u ? u[1] : val);
      if (!Number.isFinite(num)) throw new OptionError(`vcov "${s}": "${val}" is not a number${type === "conley" ? ' (a cutoff is km, or miles with "mi": 100mi)' : ""}`);
    } else throw new OptionError(`vcov "${s}": unknown argument "${kv![1]}"`);
  }
  if (type === "conley") {
    if (num !== undefined && !(num > 0)) throw new OptionError(`vcov "${s}": Conley needs a positive cutoff (km, or miles as 100mi), e.g. conley:100; none for fixest's default`);
    if (vars.length !== 0 && vars.length !== 2) throw new OptionError(`vcov "${s}": give the coordinates as ~ lat + lon`);
    const spec: HacSpec = { type, lat: vars[0], lon: vars[1], distance };
    if (num !== undefined) spec.cutoff = unit === "mi" ? num * KM_PER_MILE : num;
    if (unit === "mi") spec.unit = "mi";
    return spec;
  }
  if (num !== undefined && !(Number.isInteger(num) && num >= 0)) throw new OptionError(`vcov "${s}": the lag must be a non-negative integer, got ${num}`);
  if (vars.length > 2) throw new OptionError(`vcov "${s}": give at most a unit and a time variable (~ unit + time)`);
  if (type === "dk") return { type, lag: num, time: vars[vars.length - 1] };
  return vars.length === 2 ? { type, lag: num, unit: vars[0], time: vars[1] } : { type, lag: num, time: vars[0] };
}

/** fixest's label; a Conley cutoff in its unit ("Conley (100mi)"), `cutoff` the km used when the spec has none. */
export function hacLabel(s: HacSpec, lag?: number, cutoff?: number): string {
  if (s.type === "conley") {
    const km = s.cutoff ?? cutoff;
    if (km === undefined) return "Conley";
    return s.unit === "mi" ? `Conley (${km / KM_PER_MILE}mi)` : `Conley (${km}km)`;
  }
  const what = s.type === "nw" ? "Newey-West" : "Driscoll-Kraay";
  return lag === undefined ? what : `${what} (L=${lag})`;
}

/** The columns a HAC variance reads: unit / time (from the spec or the panel id) or coordinates. */
export interface HacVars {
  unit?: string;
  time?: string;
  lat?: string;
  lon?: string;
}

export function hacVars(s: HacSpec, panelId: string[] | undefined, names: string[]): HacVars {
  if (s.type === "conley") {
    const lat = s.lat ?? names.find((c) => /^lat(itude)?$/i.test(c));
    const lon = s.lon ?? names.find((c) => /^(lon|lng|long|longitude)$/i.test(c));
    if (!lat || !lon) throw new OptionError("Conley standard errors need coordinates: no latitude / longitude column found", undefined, "name them with --coords lat,lon (conley(100) ~ lat + lon)");
    return { lat, lon };
  }
  const pid = panelId ?? [];
  if (s.type === "dk") {
    const time = s.time ?? pid[pid.length - 1];
    if (!time) throw new OptionError("Driscoll-Kraay standard errors need a time variable", undefined, "give --panel-id unit,time (panelId) or DK(L) ~ time");
    return { time };
  }
  if (s.time) return { unit: s.unit, time: s.time };
  if (pid.length === 2) return { unit: pid[0], time: pid[1] };
  throw new OptionError("Newey-West standard errors need a time variable (and a unit for a panel)", undefined, "give --panel-id unit,time (panelId), NW(L) ~ unit + time, or NW(L) ~ t for a time series");
}

export function hacColumns(v: HacVars): string[] {
  return [v.unit, v.time, v.lat, v.lon].filter((c): c is string => !!c);
}

/** Everything a HAC meat needs, on the estimation sample. */
export interface HacData {
  spec: HacSpec;
  vars: HacVars;
  /** periods (0..T-1, sorted) and their count; unit codes for a panel Newey-West */
  time?: Int32Array;
  T: number;
  unit?: Int32Array;
  G?: number;
  lat?: Float64Array;
  lon?: Float64Array;
}

function sampleCodes(frame: Frame, sample: Sample, col: string): { codes: Int32Array; G: number; map: Int32Array } {
  const c = frame.codes(col);
  for (let j = 0; j < sample.n; j++) {
    if (c.codes[sample.rows[j]] < 0) {
      throw new VcovError(`column "${col}" is missing in rows of the estimation sample`, { column: col }, `refit with keepColumns: ["${col}"]`);
    }
  }
  const r = recode(c.codes, sample.rows, c.levels.length);
  return { codes: r.codes, G: r.levels, map: r.map };
}

/** Periods ranked 0..T-1 in the order of their values (fixest: to_integer(time, sorted = TRUE)). */
function periods(frame: Frame, sample: Sample, col: string): { codes: Int32Array; T: number } {
  const r = sampleCodes(frame, sample, col);
  const c = frame.codes(col);
  const orig = new Int32Array(r.G);
  r.map.forEach((m, o) => {
    if (m >= 0) orig[m] = o;
  });
  const idx = Array.from({ length: r.G }, (_, g) => g);
  if (c.values) idx.sort((a, b) => c.values![orig[a]] - c.values![orig[b]]);
  else idx.sort((a, b) => (c.levels[orig[a]] < c.levels[orig[b]] ? -1 : c.levels[orig[a]] > c.levels[orig[b]] ? 1 : 0));
  const rank = new Int32Array(r.G);
  idx.forEach((g, t) => (rank[g] = t));
  return { codes: r.codes.map((g) => rank[g]), T: r.G };
}

export function hacData(frame: Frame, sample: Sample, s: HacSpec, panelId?: string[]): HacData {
  const vars = hacVars(s, panelId, frame.names);
  if (s.type === "conley") {
    const grab = (col: string) => {
      const v = frame.numeric(col);
      const out = new Float64Array(sample.n);
      for (let j = 0; j < sample.n; j++) {
        out[j] = v[sample.rows[j]];
        if (!Number.isFinite(out[j])) throw new VcovError(`coordinate "${col}" is missing in rows of the estimation sample`, { column: col }, `refit with keepColumns: ["${col}"]`);
      }
      return out;
    };
    return { spec: s, vars, T: 0, lat: grab(vars.lat!), lon: grab(vars.lon!) };
  }
  const t = periods(frame, sample, vars.time!);
  if (vars.unit) {
    const u = sampleCodes(frame, sample, vars.unit);
    return { spec: s, vars, time: t.codes, T: t.T, unit: u.codes, G: u.G };
  }
  if (s.type === "nw" && t.T < sample.n) {
    throw new VcovError(`Newey-West for a time series: "${vars.time}" repeats periods (${t.T} distinct values in ${sample.n} rows)`, { column: vars.time }, "give a panel unit (NW(L) ~ unit + time) or use Driscoll-Kraay");
  }
  return { spec: s, vars, time: t.codes, T: t.T };
}

/** The HAC dimensions whose FE fixest leaves out of K (fixef.K = "nested"), with their codes. */
export function hacDims(h: HacData): { names: string[]; clusters: Record<string, { codes: Int32Array; G: number }> } {
  const clusters: Record<string, { codes: Int32Array; G: number }> = {};
  if (h.spec.type === "conley") return { names: [], clusters };
  if (h.spec.type === "nw" && h.unit) clusters[h.vars.unit!] = { codes: h.unit, G: h.G! };
  clusters[h.vars.time!] = { codes: h.time!, G: h.T };
  return { names: Object.keys(clusters), clusters };
}

export interface HacMeatInputs {
  n: number;
  k: number;
  x: Float64Array;
  e: Float64Array;
  ptrs?: { x: number; e: number };
  /** column 0 is the intercept (left out of the automatic time-series lag) */
  hasIntercept?: boolean;
}

/** The meat, the lag used and T (0 for Conley), the Conley cutoff used (km). */
export function hacMeat(eng: Engine, inp: HacMeatInputs, h: HacData): { meat: Float64Array; lag?: number; T: number; cutoff?: number } {
  const { n, k } = inp;
  if (!inp.ptrs && inp.x.length < n * k) throw new OptionError("this fit holds no demeaned regressors (float32 storage or keepData: false): refit to use a HAC or Conley variance");
  return eng.scoped(() => {
    const xp = inp.ptrs ? inp.ptrs.x : eng.putF64(inp.x, "regressors");
    const ep = inp.ptrs ? inp.ptrs.e : eng.putF64(inp.e, "residuals");
    const out = eng.allocF64(k * k, "meat");
    const s = h.spec;
    if (s.type === "conley") {
      const cutoff = conley(eng, out, xp, ep, n, k, h, s.cutoff, s.distance === "spherical" ? 1 : 2);
      return { meat: eng.getF64(out, k * k), T: 0, cutoff };
    }
    const T = h.T;
    const panel = s.type === "nw" && h.unit !== undefined;
    const lag0 = s.lag ?? (panel || s.type === "dk" ? Math.floor(T ** 0.25) : Math.floor(bwNeweyWest(inp, h.time!)));
    // fixest runs its lag loop while l < min(L + 1, T - 1)
    const L = Math.max(0, Math.min(lag0, T - 2));
    const tp = eng.putI32(h.time!, "periods");
    if (panel) {
      const order = panelOrder(h.unit!, h.time!);
      const op = eng.putI32(order, "panel order");
      const up = eng.putI32(h.unit!, "units");
      const a = eng.allocF64(k), b = eng.allocF64(k);
      const st = eng.kernels.hacPanelMeat(out, a, b, n, k, xp, ep, op, up, tp, L);
      if (st === 3) throw new VcovError(`Newey-West: (unit, time) pairs repeat in the estimation sample ("${h.vars.unit}", "${h.vars.time}")`, undefined, "remove the duplicates, or use Driscoll-Kraay (DK), which allows them");
      check(st, "hacPanelMeat");
    } else {
      const sc = eng.allocF64(T * k, "period scores");
      check(eng.kernels.hacTimeMeat(out, sc, n, k, xp, ep, tp, T, L), "hacTimeMeat");
    }
    return { meat: eng.getF64(out, k * k), lag: lag0, T };
  });
}

/** Rows sorted by unit, then period: two stable counting sorts (codes are dense), O(n). */
function panelOrder(unit: Int32Array, time: Int32Array): Int32Array {
  const byTime = countingSort(time, Int32Array.from({ length: unit.length }, (_, i) => i));
  return countingSort(unit, byTime);
}

function countingSort(key: Int32Array, idx: Int32Array): Int32Array {
  let K = 0;
  for (let i = 0; i < key.length; i++) if (key[i] >= K) K = key[i] + 1;
  const start = new Int32Array(K + 1);
  for (let i = 0; i < key.length; i++) start[key[i] + 1]++;
  for (let g = 0; g < K; g++) start[g + 1] += start[g];
  const out = new Int32Array(idx.length);
  for (const i of idx) out[start[key[i]]++] = i;
  return out;
}

/** The Conley meat into `out`; returns the cutoff used (km): the given one or fixest's default. */
function conley(eng: Engine, out: number, xp: number, ep: number, n: number, k: number, h: HacData, given: number | undefined, distance: number): number {
  let lat = h.lat!, lon = h.lon!;
  const rng = (v: Float64Array) => v.reduce((a, x) => [Math.min(a[0], x), Math.max(a[1], x)], [Infinity, -Infinity]);
  const [lo0, lo1] = rng(lon), [la0, la1] = rng(lat);
  if (lo0 < -360 || lo1 > 360 || lo1 - lo0 > 360) throw new ColumnError(`Conley: longitude "${h.vars.lon}" spans [${lo0}, ${lo1}], outside [-180, 180], [0, 360] or [-360, 0]`);
  if (la0 < -180 || la1 > 180 || la1 - la0 > 180) throw new ColumnError(`Conley: latitude "${h.vars.lat}" spans [${la0}, ${la1}], outside [-90, 90], [0, 180] or [-180, 0]`);
  if (lo1 > 180) lon = lon.map((v) => v - 180);
  else if (lo0 < -180) lon = lon.map((v) => v + 180);
  if (la1 > 90) lat = lat.map((v) => v - 90);
  else if (la0 < -90) lat = lat.map((v) => v + 90);
  const cutoff = given ?? conleyDefaultCutoff(lat, lon);
  // locations: distinct (lat, lon) pairs (hashed in O(n)), sorted by latitude, then longitude
  const pair = intersectCodes([numericCodes(lat).codes, numericCodes(lon).codes]);
  const G = pair.G;
  const first = new Int32Array(G).fill(-1);
  for (let i = 0; i < n; i++) if (first[pair.codes[i]] < 0) first[pair.codes[i]] = i;
  const byLat = Int32Array.from({ length: G }, (_, g) => g).sort((a, b) => lat[first[a]] - lat[first[b]] || lon[first[a]] - lon[first[b]]);
  const rank = new Int32Array(G);
  byLat.forEach((g, r) => (rank[g] = r));
  const codes = pair.codes.map((g) => rank[g]);
  const gLat = Array.from(byLat, (g) => lat[first[g]]), gLon = Array.from(byLat, (g) => lon[first[g]]);
  const rad = (d: number) => (d / 180) * Math.PI;
  const cp = eng.putI32(codes, "location codes");
  const sc = eng.allocF64(G * k, "location scores");
  eng.f64(sc, G * k).fill(0);
  check(eng.kernels.clusterScores(sc, n, k, xp, ep, cp, G, k, 0), "clusterScores");
  const lap = eng.putF64(gLat.map(rad), "latitudes");
  const lop = eng.putF64(gLon.map(rad), "longitudes");
  check(eng.kernels.conleyMeat(out, G, k, sc, lap, lop, cutoff, distance), "conleyMeat");
  return cutoff;
}

/** Great-circle distance in km as fixest's cutoff rule computes it (radius 6371 km). */
function greatCircleKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 6371 * 2 * Math.asin(Math.min(1, Math.sqrt(a)));
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/**
 * fixest's rule of thumb when no cutoff is given (R/VCOV.R cutoff_deduce): the distinct
 * locations sorted by (lat, lon) and by (lon, lat); in each order, the distance from a location
 * to the nearest of its next three; the sum of the two medians, rounded down to two significant
 * digits (to tens at least above 20 km). Coordinates as normalized for the meat; km.
 */
export function conleyDefaultCutoff(lat: Float64Array, lon: Float64Array): number {
  const seen = new Set<string>();
  const pts: [number, number][] = [];
  for (let i = 0; i < lat.length; i++) {
    const key = `${lat[i]},${lon[i]}`;
    if (!seen.has(key)) (seen.add(key), pts.push([lat[i], lon[i]]));
  }
  const N = pts.length;
  if (N < 4) throw new VcovError(`Conley: ${N} distinct locations are too few for the default cutoff`, undefined, "give the cutoff, e.g. conley:100 (km) or conley:100mi");
  const nearest = (order: [number, number][]) => {
    const d: number[] = [];
    for (let i = 0; i < N - 3; i++) {
      let m = Infinity;
      for (let j = 1; j <= 3; j++) m = Math.min(m, greatCircleKm(order[i][0], order[i][1], order[i + j][0], order[i + j][1]));
      d.push(m);
    }
    return median(d);
  };
  const byLat = [...pts].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const byLon = [...pts].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const c = nearest(byLat) + nearest(byLon);
  let m = Math.floor(Math.log10(c)) - 1;
  if (c > 20) m = Math.max(m, 1);
  return Math.floor(c / 10 ** m) * 10 ** m;
}

/**
 * sandwich::bwNeweyWest(scores, weights = 1) as fixest calls it for a time series: Bartlett
 * kernel, VAR(1) prewhitening by OLS without intercept, scores of the intercept left out
 * (unless it is the only column), rows in period order.
 */
export function bwNeweyWest(inp: HacMeatInputs, time: Int32Array): number {
  const { n, x, e } = inp;
  const keep = Array.from({ length: inp.k }, (_, a) => a).filter((a) => inp.k === 1 || !(inp.hasIntercept && a === 0));
  const k = keep.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a] - time[b]);
  const U = Array.from({ length: n }, (_, p) => keep.map((a) => x[a * n + order[p]] * e[order[p]]));
  // VAR(1): u_t = A u_{t-1} + r_t, A = C D^-1, C = sum u_t u_{t-1}', D = sum u_{t-1} u_{t-1}'
  const C = new Float64Array(k * k), D = new Float64Array(k * k);
  for (let t = 1; t < n; t++) {
    for (let b = 0; b < k; b++) for (let a = 0; a < k; a++) {
      C[a + b * k] += U[t][a] * U[t - 1][b];
      D[a + b * k] += U[t - 1][a] * U[t - 1][b];
    }
  }
  const Di = invSPD(D, k);
  if (!Di) throw new VcovError("Newey-West: the automatic lag (bwNeweyWest) failed, the scores are degenerate", undefined, "give the lag, e.g. NW(2)");
  const hw = new Float64Array(n - 1);
  for (let t = 1; t < n; t++) {
    let s = 0;
    for (let a = 0; a < k; a++) {
      let pred = 0;
      for (let b = 0; b < k; b++) {
        let A = 0;
        for (let c = 0; c < k; c++) A += C[a + c * k] * Di[c + b * k];
        pred += A * U[t - 1][b];
      }
      s += U[t][a] - pred;
    }
    hw[t - 1] = s;
  }
  const m = Math.floor(3 * (n / 100) ** (2 / 9));
  const nn = n - 1;
  const sigma = (j: number) => {
    let s = 0;
    for (let t = 0; t < nn - j; t++) s += hw[t] * hw[t + j];
    return s / nn;
  };
  let s0 = sigma(0), s1 = 0;
  for (let j = 1; j <= m; j++) {
    const sj = sigma(j);
    s0 += 2 * sj;
    s1 += 2 * j * sj;
  }
  return 1.1447 * ((s1 / s0) ** 2) ** (1 / 3) * n ** (1 / 3);
}
