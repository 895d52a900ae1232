// Plain-TypeScript references of the HAC and spatial meats (assembly/hac.ts), written from
// the definitions rather than the kernels' loop order: tests compare the two on small random
// inputs. x is n x k column-major (sqrt-weighted), e the residuals; the scores are x_i e_i.

const bartlett = (l: number, L: number) => 1 - l * (1 / (L + 1));

function score(x: Float64Array, e: Float64Array, n: number, k: number, i: number): number[] {
  return Array.from({ length: k }, (_, a) => x[a * n + i] * e[i]);
}

function addOuter(M: Float64Array, k: number, a: number[], b: number[], f: number): void {
  for (let q = 0; q < k; q++) for (let p = 0; p < k; p++) M[p + q * k] += f * (a[p] * b[q] + b[p] * a[q]);
}

/** Driscoll-Kraay (or time-series Newey-West: one row per period), periods 0..T-1. */
export function refTimeMeat(x: Float64Array, e: Float64Array, n: number, k: number, time: Int32Array, T: number, L: number): Float64Array {
  const S = Array.from({ length: T }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < n; i++) {
    const s = score(x, e, n, k, i);
    for (let a = 0; a < k; a++) S[time[i]][a] += s[a];
  }
  const M = new Float64Array(k * k);
  for (let t = 0; t < T; t++) addOuter(M, k, S[t], S[t], 0.5);
  for (let l = 1; l <= L; l++) for (let t = l; t < T; t++) addOuter(M, k, S[t], S[t - l], bartlett(l, L));
  return M;
}

/** Panel Newey-West: pairs of rows of one unit l = 1..L periods apart (all pairs searched). */
export function refPanelMeat(x: Float64Array, e: Float64Array, n: number, k: number, unit: Int32Array, time: Int32Array, L: number): Float64Array {
  const M = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    const si = score(x, e, n, k, i);
    addOuter(M, k, si, si, 0.5);
    for (let j = 0; j < n; j++) {
      const l = time[i] - time[j];
      if (unit[i] === unit[j] && l >= 1 && l <= L) addOuter(M, k, si, score(x, e, n, k, j), bartlett(l, L));
    }
  }
  return M;
}

/** Distance of two points (radians) in fixest's two metrics; "triangular" in radians. */
export function refDistance(lat1: number, lon1: number, lat2: number, lon2: number, distance: "triangular" | "spherical"): number {
  if (distance === "spherical") {
    const a = Math.sin((lat2 - lat1) / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin((lon2 - lon1) / 2) ** 2;
    return 12752 * Math.asin(Math.min(1, Math.sqrt(a)));
  }
  let dlon = Math.abs(lon2 - lon1);
  if (dlon >= 3.14159) dlon = 6.28318 - dlon;
  return Math.hypot(lat2 - lat1, Math.cos((lat1 + lat2) / 2) * dlon);
}

/**
 * Conley meat over locations (scores G x k, row-major), every pair within the cutoff (km;
 * triangular distances compared in radians with cutoff / 111 degrees, pi = 3.14159).
 */
export function refConleyMeat(
  scores: Float64Array, G: number, k: number, lat: Float64Array, lon: Float64Array, cutoff: number, distance: "triangular" | "spherical",
): Float64Array {
  const M = new Float64Array(k * k);
  const lim = distance === "spherical" ? cutoff : ((cutoff * 3.14159) / 180) / 111;
  const row = (g: number) => Array.from(scores.subarray(g * k, g * k + k));
  // fixest also screens spherical pairs by latitude and longitude gaps, in degrees of ~111 km
  const degCut = ((cutoff / 111) * 3.14159) / 180;
  const screened = (g: number, h: number) =>
    Math.abs(lat[g] - lat[h]) <= degCut && refDistance(0, lon[g], 0, lon[h], "triangular") <= degCut / Math.cos((lat[g] + lat[h]) / 2);
  for (let g = 0; g < G; g++) {
    for (let h = 0; h < G; h++) {
      const near = screened(g, h) && refDistance(lat[g], lon[g], lat[h], lon[h], distance) <= lim;
      if (h === g || near) addOuter(M, k, row(g), row(h), 0.5);
    }
  }
  return M;
}
