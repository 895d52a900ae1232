// Nearest-neighbour matching on a scalar distance (propensity score or its logit), as
// MatchIt 4.5.1's nn_matchC_vec, in O(n log n).
//
// MatchIt sorts all units by distance (stable, so ties keep data order) and, for each
// treated unit taken in m.order, scans left and right to the nearest control that can
// still be matched (and is not already matched to this treated unit); a side whose
// nearest eligible control is outside the caliper yields nothing; between the two sides
// the left (lower distance) wins ties: |d_left - d| <= |d_right - d|. Ratio m is done in
// m rounds over all treated units. Exact strata are matched separately.
//
// Here: controls alone are sorted by (stratum, distance, row); each treated unit's place
// among them is found by binary search once; used controls are skipped with two
// union-find "next available" arrays (left and right), so a search costs near O(1)
// instead of a linear scan over treated and used units.
//
// compat 1 reproduces MatchIt 4.5.1 bit for bit, two defects included:
//  - its `abs(distance[i] - distance[k])` resolves to the C integer abs, so distance
//    differences are truncated to integers before comparison: a caliper below 1 only
//    binds for differences >= 1, and the left neighbour wins whenever both differences
//    are below 1 (verified against the recorded MatchIt 4.5.1 results);
//  - in rounds r > 0 (ratio > 1) the "already matched to this treated unit" test compares
//    0-based row numbers with the 1-based ones it stored, so it excludes the row after
//    each earlier match (within the exact stratum) instead of the match itself.
// compat 0 is the documented behaviour (real absolute differences, true exclusion).
import { OK, BAD_ARGUMENT } from "./status";

@inline function ldf(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}
@inline function ldi(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
@inline function sti(p: usize, i: i32, v: i32): void {
  store<i32>(p + (<usize>i << 2), v);
}
@inline function stf(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

@inline function adist(x: f64, compat: i32): f64 {
  return compat == 1 ? Math.abs(Math.trunc(x)) : Math.abs(x);
}

// sort modes
const BY_STRATUM_DIST: i32 = 0; // (stratum, distance) ascending
const BY_DIST_DESC: i32 = 1; // distance descending ("largest")
const BY_DIST_ASC: i32 = 2; // distance ascending ("smallest")
const BY_STRATUM: i32 = 3; // stratum only (data order within)

/** Strictly before (ties are left to the stable merge: data order). */
@inline function before(a: i32, b: i32, mode: i32, dist_N: usize, strata_N: usize): bool {
  if (mode == BY_STRATUM_DIST) {
    if (strata_N) {
      const sa = ldi(strata_N, a), sb = ldi(strata_N, b);
      if (sa != sb) return sa < sb;
    }
    return ldf(dist_N, a) < ldf(dist_N, b);
  }
  if (mode == BY_STRATUM) return ldi(strata_N, a) < ldi(strata_N, b);
  if (mode == BY_DIST_DESC) return ldf(dist_N, a) > ldf(dist_N, b);
  return ldf(dist_N, a) < ldf(dist_N, b);
}

/** Stable bottom-up merge sort of m i32 indices at a_M, using tmp_M (m i32). */
function mergeSort(m: i32, a_M: usize, tmp_M: usize, mode: i32, dist_N: usize, strata_N: usize): void {
  let src = a_M;
  let dst = tmp_M;
  for (let width = 1; width < m; width <<= 1) {
    for (let lo = 0; lo < m; lo += 2 * width) {
      const mid = min(lo + width, m);
      const hi = min(lo + 2 * width, m);
      let i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        const x = ldi(src, i), y = ldi(src, j);
        if (before(y, x, mode, dist_N, strata_N)) {
          sti(dst, o++, y);
          j++;
        } else {
          sti(dst, o++, x);
          i++;
        }
      }
      while (i < mid) sti(dst, o++, ldi(src, i++));
      while (j < hi) sti(dst, o++, ldi(src, j++));
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != a_M) memory.copy(a_M, src, <usize>m << 2);
}

/** Largest available position <= q (or -1). parL is indexed by position + 1. */
@inline function findL(parL: usize, q: i32): i32 {
  let x = q + 1;
  if (x <= 0) return -1;
  while (ldi(parL, x) != x) {
    const g = ldi(parL, ldi(parL, x));
    sti(parL, x, g);
    x = g;
  }
  return x - 1;
}

/** Smallest available position >= q (or n0). */
@inline function findR(parR: usize, q: i32): i32 {
  let x = q;
  while (ldi(parR, x) != x) {
    const g = ldi(parR, ldi(parR, x));
    sti(parR, x, g);
    x = g;
  }
  return x;
}

/** Is control row c excluded for treated rank t in round r (already matched to it)? */
@inline function inRow(match_TR: usize, t: i32, ratio: i32, r: i32, c: i32, next_N: usize): bool {
  for (let j = 0; j < r; j++) {
    const m = ldi(match_TR, t * ratio + j);
    if (m < 0) continue;
    if ((next_N ? ldi(next_N, m) : m) == c) return true;
  }
  return false;
}

/** i32 slots of scratch nnMatch needs for n units. */
export function nnMatchScratch(n: i32): i32 {
  return 9 * n + 8;
}

/**
 * n units; dist_N (f64) finite distances; treat_N (i32) 1 treated / 0 control;
 * strata_N (i32 codes, any values) or 0 for no exact matching.
 * ratio m >= 1; replace 0/1; caliper in distance units (< 0 or NaN: none).
 * order: 0 largest distance first, 1 smallest first, 2 data order, 3 as given in ord_T.
 * compat: 0 documented behaviour, 1 MatchIt 4.5.1 exactly (see the header).
 * ord_T (i32, n1): treated ranks (0..n1-1, data order) in processing order; input for
 * order 3, written otherwise.
 * match_TR (i32 out, n1 * m, row-major by treated rank): matched control row or -1.
 * scratch: nnMatchScratch(n) i32.
 */
/** The processing order of the treated units (as treated ranks) into ord_T; BAD_ARGUMENT for a bad given order. */
function treatedOrder(ord_T: usize, tIdx: usize, tmp: usize, n1: i32, order: i32, dist_N: usize, strata_N: usize): i32 {
  if (order == 3) {
    for (let j = 0; j < n1; j++) {
      const t = ldi(ord_T, j);
      if (t < 0 || t >= n1) return BAD_ARGUMENT;
    }
  } else {
    for (let j = 0; j < n1; j++) sti(ord_T, j, ldi(tIdx, j));
    if (order != 2) mergeSort(n1, ord_T, tmp, order == 0 ? BY_DIST_DESC : BY_DIST_ASC, dist_N, strata_N);
    // row index -> treated rank (tIdx is increasing): binary search
    for (let j = 0; j < n1; j++) {
      const g = ldi(ord_T, j);
      let a = 0, b = n1 - 1;
      while (a < b) {
        const m = (a + b) >> 1;
        if (ldi(tIdx, m) < g) a = m + 1;
        else b = m;
      }
      sti(ord_T, j, a);
    }
  }
  return OK;
}

/** Each treated unit's place among the sorted controls (pos) and its stratum's segment [lo, hi). */
function placeTreated(
  pos: usize, loA: usize, hiA: usize, tIdx: usize, ctrl: usize, n0: i32, n1: i32, dist_N: usize, strata_N: usize,
): void {
  for (let t = 0; t < n1; t++) {
    const g = ldi(tIdx, t);
    const s = strata_N ? ldi(strata_N, g) : 0;
    const d = ldf(dist_N, g);
    // lo: first control with stratum >= s
    let a = 0, b = n0;
    while (a < b) {
      const m = (a + b) >> 1;
      const cs = strata_N ? ldi(strata_N, ldi(ctrl, m)) : 0;
      if (cs < s) a = m + 1;
      else b = m;
    }
    const lo = a;
    b = n0;
    while (a < b) {
      const m = (a + b) >> 1;
      const cs = strata_N ? ldi(strata_N, ldi(ctrl, m)) : 0;
      if (cs <= s) a = m + 1;
      else b = m;
    }
    const hi = a;
    // pos: number of controls in the segment before (d, g) in (distance, row) order
    a = lo;
    b = hi;
    while (a < b) {
      const m = (a + b) >> 1;
      const c = ldi(ctrl, m);
      const dc = ldf(dist_N, c);
      if (dc < d || (dc == d && c < g)) a = m + 1;
      else b = m;
    }
    sti(pos, t, a);
    sti(loA, t, lo);
    sti(hiA, t, hi);
  }
}

/** MatchIt 4.5.1's off-by-one exclusion: the next row of the same stratum (-1 none) into next_N. */
function nextRowOfStratum(next_N: usize, all: usize, tmp: usize, n: i32, dist_N: usize, strata_N: usize): void {
  if (strata_N) {
    for (let i = 0; i < n; i++) sti(all, i, i);
    mergeSort(n, all, tmp, BY_STRATUM, dist_N, strata_N);
    for (let j = 0; j < n; j++) {
      const a = ldi(all, j);
      const b = j + 1 < n ? ldi(all, j + 1) : -1;
      sti(next_N, a, b >= 0 && ldi(strata_N, b) == ldi(strata_N, a) ? b : -1);
    }
  } else {
    for (let i = 0; i < n; i++) sti(next_N, i, i + 1 < n ? i + 1 : -1);
  }
}

/** The ratio rounds of greedy nearest-neighbour matching over the placed treated units. */
function matchRounds(
  match_TR: usize, ord_T: usize, tIdx: usize, ctrl: usize, pos: usize, loA: usize, hiA: usize, parL: usize, parR: usize,
  next_N: usize, n1: i32, dist_N: usize, ratio: i32, replace: i32, useCal: bool, caliper: f64, compat: i32,
): void {
  for (let r = 0; r < ratio; r++) {
    for (let j = 0; j < n1; j++) {
      const t = ldi(ord_T, j);
      const lo = ldi(loA, t), hi = ldi(hiA, t);
      if (lo == hi) continue;
      const p = ldi(pos, t);
      const di = ldf(dist_N, ldi(tIdx, t));
      let kl = findL(parL, p - 1);
      while (kl >= lo && r > 0 && inRow(match_TR, t, ratio, r, ldi(ctrl, kl), next_N)) kl = findL(parL, kl - 1);
      if (kl < lo) kl = -1;
      else if (useCal && adist(di - ldf(dist_N, ldi(ctrl, kl)), compat) > caliper) kl = -1;
      let kr = findR(parR, p);
      while (kr < hi && r > 0 && inRow(match_TR, t, ratio, r, ldi(ctrl, kr), next_N)) kr = findR(parR, kr + 1);
      if (kr >= hi) kr = -1;
      else if (useCal && adist(di - ldf(dist_N, ldi(ctrl, kr)), compat) > caliper) kr = -1;
      let k: i32;
      if (kl >= 0 && kr >= 0) {
        k = adist(ldf(dist_N, ldi(ctrl, kl)) - di, compat) <= adist(ldf(dist_N, ldi(ctrl, kr)) - di, compat) ? kl : kr;
      } else if (kl >= 0) k = kl;
      else if (kr >= 0) k = kr;
      else continue;
      sti(match_TR, t * ratio + r, ldi(ctrl, k));
      if (!replace) {
        sti(parL, k + 1, k); // position k unavailable: left search continues at k - 1
        sti(parR, k, k + 1);
      }
    }
  }
}

export function nnMatch(
  ord_T: usize, match_TR: usize, scratch: usize, n: i32, dist_N: usize, treat_N: usize,
  strata_N: usize, ratio: i32, replace: i32, caliper: f64, order: i32, compat: i32,
): i32 {
  if (n <= 0 || ratio < 1 || order < 0 || order > 3 || compat < 0 || compat > 1) return BAD_ARGUMENT;
  let n1 = 0;
  for (let i = 0; i < n; i++) {
    const t = ldi(treat_N, i);
    if (t != 0 && t != 1) return BAD_ARGUMENT;
    if (!isFinite(ldf(dist_N, i))) return BAD_ARGUMENT;
    n1 += t;
  }
  const n0 = n - n1;
  const useCal = caliper >= 0;
  // scratch layout (i32): ctrl n0 | tmp n | tIdx n1 | pos n1 | lo n1 | hi n1 | parL n0+1 | parR n0+1
  //                       | all n | next n (compat, ratio > 1)
  const ctrl = scratch;
  const tmp = ctrl + (<usize>n0 << 2);
  const tIdx = tmp + (<usize>n << 2);
  const pos = tIdx + (<usize>n1 << 2);
  const loA = pos + (<usize>n1 << 2);
  const hiA = loA + (<usize>n1 << 2);
  const parL = hiA + (<usize>n1 << 2);
  const parR = parL + (<usize>(n0 + 1) << 2);
  const all = parR + (<usize>(n0 + 1) << 2);
  const nextA = all + (<usize>n << 2);

  let c0 = 0, c1 = 0;
  for (let i = 0; i < n; i++) {
    if (ldi(treat_N, i) == 1) sti(tIdx, c1++, i);
    else sti(ctrl, c0++, i);
  }
  for (let j = 0; j < n1 * ratio; j++) sti(match_TR, j, -1);
  if (n1 == 0) return OK;

  // processing order of the treated units
  const st = treatedOrder(ord_T, tIdx, tmp, n1, order, dist_N, strata_N);
  if (st != OK) return st;
  if (n0 == 0) return OK;

  mergeSort(n0, ctrl, tmp, BY_STRATUM_DIST, dist_N, strata_N);

  placeTreated(pos, loA, hiA, tIdx, ctrl, n0, n1, dist_N, strata_N);
  for (let q = 0; q <= n0; q++) {
    sti(parL, q, q);
    sti(parR, q, q);
  }
  let next_N: usize = 0;
  if (compat == 1 && ratio > 1) {
    next_N = nextA;
    nextRowOfStratum(next_N, all, tmp, n, dist_N, strata_N);
  }
  matchRounds(match_TR, ord_T, tIdx, ctrl, pos, loA, hiA, parL, parR, next_N, n1, dist_N, ratio, replace, useCal, caliper, compat);
  return OK;
}

/**
 * MatchIt's ATT matching weights from a match matrix (weights_matrixC + weights.matrix):
 * a matched treated unit gets 1; each control gets the sum over the treated units it was
 * matched to of 1 / (number of controls matched to that treated unit); control weights
 * are then rescaled to sum to the number of distinct matched controls.
 * counts_4 (i32 out): matched treated, matched controls, matched rows, filled pairs.
 */
export function matchWeights(
  weights_N: usize, counts_4: usize, n: i32, treat_N: usize, n1: i32, ratio: i32, match_TR: usize,
): i32 {
  if (n <= 0 || ratio < 1 || n1 < 0) return BAD_ARGUMENT;
  memory.fill(weights_N, 0, <usize>n << 3);
  let t = 0;
  let nt = 0, pairs = 0;
  for (let i = 0; i < n; i++) {
    if (ldi(treat_N, i) != 1) continue;
    if (t >= n1) return BAD_ARGUMENT;
    let m = 0;
    for (let r = 0; r < ratio; r++) {
      const c = ldi(match_TR, t * ratio + r);
      if (c >= 0) {
        if (c >= n || ldi(treat_N, c) == 1) return BAD_ARGUMENT;
        m++;
      }
    }
    if (m > 0) {
      const inv = 1.0 / <f64>m;
      for (let r = 0; r < ratio; r++) {
        const c = ldi(match_TR, t * ratio + r);
        if (c >= 0) stf(weights_N, c, ldf(weights_N, c) + inv);
      }
      stf(weights_N, i, ldf(weights_N, i) + 1.0);
      nt++;
      pairs += m;
    }
    t++;
  }
  if (t != n1) return BAD_ARGUMENT;
  let s: f64 = 0;
  let nc = 0;
  for (let i = 0; i < n; i++) {
    if (ldi(treat_N, i) == 1) continue;
    const w = ldf(weights_N, i);
    if (w > 0) {
      s += w;
      nc++;
    }
  }
  if (s > 0) {
    const f = <f64>nc / s;
    for (let i = 0; i < n; i++) if (ldi(treat_N, i) != 1) stf(weights_N, i, ldf(weights_N, i) * f);
  }
  sti(counts_4, 0, nt);
  sti(counts_4, 1, nc);
  sti(counts_4, 2, nt + nc);
  sti(counts_4, 3, pairs);
  return OK;
}
