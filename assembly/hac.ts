// Meats of the serial-correlation and spatial variances (fixest's VCOV.R / vcov.cpp
// conventions): Newey-West over time (a single series, or within panel units), Driscoll-Kraay
// (scores summed by period first) and Conley (scores summed by location first, uniform
// kernel). Outputs first, pointers and lengths in, no allocation, an i32 status out.
// Inputs x and e are already sqrt-weighted, so a score is s_i = x_i e_i.
//
// Bartlett weights: w_l = 1 - l / (L + 1), written as fixest builds them (1 + l * -(1/(L+1))).
// The binding caps L (fixest: at most T - 2) and ranks the periods 0..T-1.
import { OK, BAD_ARGUMENT } from "./status";

@inline function bartlett(l: i32, L: i32): f64 {
  return 1.0 - <f64>l * (1.0 / <f64>(L + 1));
}

/** out_KK += f (a b' + b a') for two length-k vectors (row-major blocks of k f64). */
@inline function addSym(out_KK: usize, k: i32, a: usize, b: usize, f: f64): void {
  for (let q = 0; q < k; q++) {
    const bq = load<f64>(b + (<usize>q << 3)) * f;
    const aq = load<f64>(a + (<usize>q << 3)) * f;
    for (let p = 0; p < k; p++) {
      const o = out_KK + ((<usize>p + <usize>q * <usize>k) << 3);
      store<f64>(o, load<f64>(o) + load<f64>(a + (<usize>p << 3)) * bq + load<f64>(b + (<usize>p << 3)) * aq);
    }
  }
}

/**
 * Driscoll-Kraay meat, and time-series Newey-West when every period holds one row:
 * S_t = sum_{i: time_i = t} x_i e_i (left in scores_TK, row-major by period), then
 * out = sum_t S_t S_t' + sum_{l=1..L} w_l sum_t (S_t S_{t-l}' + S_{t-l} S_t').
 */
export function hacTimeMeat(
  out_KK: usize, scores_TK: usize, n: i32, k: i32, x_NK: usize, e_N: usize, time_N: usize, T: i32, L: i32,
): i32 {
  if (n < 0 || k < 0 || T <= 0 || L < 0) return BAD_ARGUMENT;
  const K = <usize>k;
  memory.fill(scores_TK, 0, (<usize>T * K) << 3);
  memory.fill(out_KK, 0, (K * K) << 3);
  for (let i = 0; i < n; i++) {
    const t = load<i32>(time_N + (<usize>i << 2));
    if (t < 0 || t >= T) return BAD_ARGUMENT;
    const e = load<f64>(e_N + (<usize>i << 3));
    const row = scores_TK + ((<usize>t * K) << 3);
    for (let a = 0; a < k; a++) {
      const p = row + (<usize>a << 3);
      store<f64>(p, load<f64>(p) + e * load<f64>(x_NK + ((<usize>a * <usize>n + <usize>i) << 3)));
    }
  }
  for (let l = 0; l <= L; l++) {
    // lag 0 enters once: half of (S S' + S S')
    const w = l == 0 ? 0.5 : bartlett(l, L);
    for (let t = l; t < T; t++) {
      addSym(out_KK, k, scores_TK + ((<usize>t * K) << 3), scores_TK + ((<usize>(t - l) * K) << 3), w);
    }
  }
  return OK;
}

/**
 * Panel Newey-West meat: order_N lists the rows sorted by unit, then period; pairs of rows of
 * the same unit l = 1..L periods apart enter with weight w_l:
 * out = sum_i s_i s_i' + sum_{l} w_l sum_{i, j: unit_i = unit_j, t_i - t_j = l} (s_i s_j' + s_j s_i').
 * a_K, b_K: scratch of k f64 each. BAD_ARGUMENT on a (unit, period) duplicate.
 */
export function hacPanelMeat(
  out_KK: usize, a_K: usize, b_K: usize, n: i32, k: i32, x_NK: usize, e_N: usize,
  order_N: usize, unit_N: usize, time_N: usize, L: i32,
): i32 {
  if (n < 0 || k < 0 || L < 0) return BAD_ARGUMENT;
  const K = <usize>k;
  memory.fill(out_KK, 0, (K * K) << 3);
  for (let p = 0; p < n; p++) {
    const i = load<i32>(order_N + (<usize>p << 2));
    const ui = load<i32>(unit_N + (<usize>i << 2));
    const ti = load<i32>(time_N + (<usize>i << 2));
    const ei = load<f64>(e_N + (<usize>i << 3));
    for (let c = 0; c < k; c++) store<f64>(a_K + (<usize>c << 3), ei * load<f64>(x_NK + ((<usize>c * <usize>n + <usize>i) << 3)));
    addSym(out_KK, k, a_K, a_K, 0.5);
    for (let q = p - 1; q >= 0; q--) {
      const j = load<i32>(order_N + (<usize>q << 2));
      if (load<i32>(unit_N + (<usize>j << 2)) != ui) break;
      const l = ti - load<i32>(time_N + (<usize>j << 2));
      if (l <= 0) return BAD_ARGUMENT;
      if (l > L) break;
      const ej = load<f64>(e_N + (<usize>j << 3));
      for (let c = 0; c < k; c++) store<f64>(b_K + (<usize>c << 3), ej * load<f64>(x_NK + ((<usize>c * <usize>n + <usize>j) << 3)));
      addSym(out_KK, k, a_K, b_K, bartlett(l, L));
    }
  }
  return OK;
}

const PI_FIXEST: f64 = 3.14159;

/**
 * Conley meat over G locations (scores_GK row-major by location, lat_G / lon_G in radians,
 * sorted by latitude): out = sum_g s_g s_g' + sum_{g < h, d(g, h) <= cutoff} (s_g s_h' + s_h s_g'),
 * uniform kernel. distance 1: haversine on a sphere of diameter 12,752 km; 2 ("triangular"):
 * sqrt(dlat^2 + (cos(mean lat) dlon)^2) in radians against cutoff / 111 degrees. The cutoffs
 * in degrees become radians with pi = 3.14159, as fixest's code does.
 */
export function conleyMeat(
  out_KK: usize, G: i32, k: i32, scores_GK: usize, lat_G: usize, lon_G: usize, cutoff: f64, distance: i32,
): i32 {
  if (G < 0 || k < 0 || !(cutoff >= 0) || distance < 1 || distance > 2) return BAD_ARGUMENT;
  const K = <usize>k;
  memory.fill(out_KK, 0, (K * K) << 3);
  const latCut = (cutoff / 111) * PI_FIXEST / 180;
  const cutSq = ((cutoff * PI_FIXEST / 180) / 111) * ((cutoff * PI_FIXEST / 180) / 111);
  for (let g = 0; g < G; g++) {
    const sg = scores_GK + ((<usize>g * K) << 3);
    const latg = load<f64>(lat_G + (<usize>g << 3));
    const long = load<f64>(lon_G + (<usize>g << 3));
    if (g > 0 && latg < load<f64>(lat_G + (<usize>(g - 1) << 3))) return BAD_ARGUMENT;
    addSym(out_KK, k, sg, sg, 0.5);
    for (let h = g + 1; h < G; h++) {
      const lath = load<f64>(lat_G + (<usize>h << 3));
      const dlat = abs(lath - latg);
      if (dlat > latCut) break;
      let dlon = abs(load<f64>(lon_G + (<usize>h << 3)) - long);
      if (dlon >= PI_FIXEST) dlon = 2 * PI_FIXEST - dlon;
      const cosMean = Math.cos((latg + lath) / 2);
      if (dlon > latCut / cosMean) continue;
      let ok = false;
      if (distance == 1) {
        const sa = Math.sin(dlat / 2), so = Math.sin((load<f64>(lon_G + (<usize>h << 3)) - long) / 2);
        const a = sa * sa + Math.cos(latg) * Math.cos(lath) * so * so;
        ok = 12752 * Math.asin(min(1.0, Math.sqrt(a))) <= cutoff;
      } else {
        const d = dlat * dlat + (cosMean * dlon) * (cosMean * dlon);
        ok = d <= cutSq;
      }
      if (ok) addSym(out_KK, k, sg, scores_GK + ((<usize>h * K) << 3), 1.0);
    }
  }
  return OK;
}
