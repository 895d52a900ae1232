// Demeaning: projecting K columns off Q fixed-effect dimensions.
//
// Works on the FE *coefficients* (as fixest's src/demeaning.cpp), never on N-length
// temporaries, for K columns at once so that one group lookup serves all of them.
// Two solvers share the same setup:
//   - MAP: Gauss-Seidel sweeps over the dimensions, accelerated by Irons-Tuck. The first
//     (largest) dimension is recomputed in closed form in each sweep, so the iterated
//     state is every other dimension: for firm + year that is 10 numbers per column.
//   - CG: conjugate gradient on the normal equations D'WD a = D'Wx, preconditioned by a
//     symmetric block Gauss-Seidel sweep (reghdfe's symmetric Kaczmarz + CG, here in
//     coefficient space). Used when MAP stalls on poorly connected FE graphs
//     (firm + city + year with few movers, worker + firm).
//
// Naming: _N per observation, _Q per FE dimension, _K per column.
// Dimension q has type_Q[q]:
//   0 = plain FE (one coefficient per level, basis 1)
//   1 = varying slope only, fe[[z]] (one coefficient per level, basis z)
//   2 = FE + varying slope, fe[z]   (two coefficients per level, basis 1 and z)
// Coefficients: A[off_q + (g * nc_q + c) * K + k]: a row-major (rows x K) matrix, one row
// per coefficient. Convergence is tested per column and a converged column is frozen (see
// "per-column convergence" below), so results do not depend on the batching of columns.
//
// Why one long file: the MAP, acceleration and CG solvers share the FE-coefficient layout and
// scratch space of one kernel entry point (demean).
import { OK, NOT_CONVERGED, BAD_ARGUMENT } from "./status";

// ---- context of the current call (kernels are not re-entrant; no allocation) ---------
let cN: i32 = 0;
let cQ: i32 = 0;
let cK: i32 = 0;
let cCodes: usize = 0; // Q blocks of N int32
let cGroups: usize = 0; // Q int32
let cTypes: usize = 0; // Q int32
let cZ: usize = 0; // Q int32 pointers
let cW: usize = 0; // N f64 or 0
let cOff: usize = 0; // Q int32: coefficient offsets (f64 units)
let cMoff: usize = 0; // Q int32: Minv offsets
let cRhs: usize = 0; // T f64: D'Wx
let cMinv: usize = 0; // per-level inverse Gram blocks
let cTmp: usize = 0; // max block f64
let cAcc: usize = 0; // K f64
let cKmax: i32 = 0; // columns of the call (cK shrinks as columns converge)
let cR: i32 = 0; // coefficient rows: sum over q of G_q * nc_q
let cR0: i32 = 0; // rows of the first dimension (recomputed in closed form by MAP)
let cCrit: usize = 0; // K f64: per-column criterion
let cMap: usize = 0; // K i32: original column of each active column
let cMapC: usize = 0; // K i32: same, for the columns being retired
let cFlag: usize = 0; // K i32: 1 = column converged in this iteration
let cStalled: bool = false; // a CG column was retired at a breakdown (not converged)

@inline function nc(t: i32): i32 {
  return t == 2 ? 2 : 1;
}
@inline function groupsOf(q: i32): i32 {
  return load<i32>(cGroups + (<usize>q << 2));
}
@inline function typeOf(q: i32): i32 {
  return load<i32>(cTypes + (<usize>q << 2));
}
@inline function offOf(q: i32): usize {
  return <usize>load<i32>(cOff + (<usize>q << 2));
}
@inline function codeOf(q: i32, i: i32): i32 {
  return load<i32>(cCodes + ((<usize>q * <usize>cN + <usize>i) << 2));
}
@inline function slopeOf(q: i32, i: i32): f64 {
  return load<f64>(<usize>load<i32>(cZ + (<usize>q << 2)) + (<usize>i << 3));
}
@inline function weightOf(i: i32): f64 {
  return cW != 0 ? load<f64>(cW + (<usize>i << 3)) : 1.0;
}

/** y_K += a * x_K */
@inline function axpy(y: usize, x: usize, a: f64, K: i32): void {
  let k = 0;
  const av = f64x2.splat(a);
  for (; k + 1 < K; k += 2) {
    const o = <usize>k << 3;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(av, v128.load(x + o))));
  }
  for (; k < K; k++) {
    const o = <usize>k << 3;
    store<f64>(y + o, load<f64>(y + o) + a * load<f64>(x + o));
  }
}

/** acc_K = sum over dims r in [lo, hi), r != skip, of the FE contribution of obs i under coefficients V. */
function gatherRange(i: i32, lo: i32, hi: i32, skip: i32, V: usize): void {
  const K = cK;
  memory.fill(cAcc, 0, <usize>K << 3);
  for (let r = lo; r < hi; r++) {
    if (r == skip) continue;
    const g = codeOf(r, i);
    const t = typeOf(r);
    const base = V + (offOf(r) << 3);
    if (t == 0) {
      axpy(cAcc, base + ((<usize>g * <usize>K) << 3), 1.0, K);
    } else {
      const z = slopeOf(r, i);
      if (t == 1) {
        axpy(cAcc, base + ((<usize>g * <usize>K) << 3), z, K);
      } else {
        axpy(cAcc, base + ((<usize>(g * 2) * <usize>K) << 3), 1.0, K);
        axpy(cAcc, base + ((<usize>(g * 2 + 1) * <usize>K) << 3), z, K);
      }
    }
  }
}

/** out_q[g] += w_i * basis_q(i) * acc for obs i (block q of a coefficient-shaped vector at out). */
@inline function scatterAcc(q: i32, i: i32, w: f64, out: usize): void {
  const K = cK;
  const g = codeOf(q, i);
  const t = typeOf(q);
  out += offOf(q) << 3;
  if (t == 0) {
    axpy(out + ((<usize>g * <usize>K) << 3), cAcc, w, K);
  } else {
    const z = slopeOf(q, i);
    if (t == 1) {
      axpy(out + ((<usize>g * <usize>K) << 3), cAcc, w * z, K);
    } else {
      axpy(out + ((<usize>(g * 2) * <usize>K) << 3), cAcc, w, K);
      axpy(out + ((<usize>(g * 2 + 1) * <usize>K) << 3), cAcc, w * z, K);
    }
  }
}

/** dst_q = Minv_q * src_q for block q (both coefficient-shaped, block offsets off_q). */
function applyMinv(q: i32, src: usize, dst: usize): void {
  const K = cK;
  const G = groupsOf(q);
  const M = cMinv + ((<usize>load<i32>(cMoff + (<usize>q << 2))) << 3);
  const s = src + (offOf(q) << 3), d = dst + (offOf(q) << 3);
  if (nc(typeOf(q)) == 1) {
    for (let g = 0; g < G; g++) {
      const m = load<f64>(M + (<usize>g << 3));
      const o = (<usize>g * <usize>K) << 3;
      for (let k = 0; k < K; k++) store<f64>(d + o + (<usize>k << 3), load<f64>(s + o + (<usize>k << 3)) * m);
    }
  } else {
    for (let g = 0; g < G; g++) {
      const mp = M + (<usize>(g * 4) << 3);
      const m00 = load<f64>(mp), m01 = load<f64>(mp + 8), m11 = load<f64>(mp + 24);
      for (let k = 0; k < K; k++) {
        const p0 = (<usize>(g * 2) * <usize>K + <usize>k) << 3;
        const p1 = (<usize>(g * 2 + 1) * <usize>K + <usize>k) << 3;
        const r0 = load<f64>(s + p0), r1 = load<f64>(s + p1);
        store<f64>(d + p0, m00 * r0 + m01 * r1);
        store<f64>(d + p1, m01 * r0 + m11 * r1);
      }
    }
  }
}

@inline function blockSize(q: i32): usize {
  const c = nc(typeOf(q));
  return <usize>groupsOf(q) * <usize>c * <usize>cK;
}

/** Number of f64 of scratch that demean() needs. */
export function demeanScratch(Q: i32, groups_Q: usize, type_Q: usize, K: i32): f64 {
  let T: f64 = 0, maxq: f64 = 0, minv: f64 = 0;
  for (let q = 0; q < Q; q++) {
    const G = <f64>load<i32>(groups_Q + (<usize>q << 2));
    const c = <f64>nc(load<i32>(type_Q + (<usize>q << 2)));
    const sz = G * c * <f64>K;
    T += sz;
    if (sz > maxq) maxq = sz;
    minv += G * c * c;
  }
  // A, rhs, X, GX, V1, V2 (MAP: V1/V2 hold retiring columns; CG: r, z, p, Ap), tmp, Minv,
  // per-column work (step lengths, criterion, column maps, accumulator)
  return 6 * T + maxq + minv + 14 * <f64>K + 8;
}

/** rhs = D'Wx and the per-level inverse Gram blocks. */
function setup(x_NK: usize): void {
  const n = cN, K = cK;
  for (let q = 0; q < cQ; q++) {
    const G = groupsOf(q);
    const t = typeOf(q);
    const c = nc(t);
    const R = cRhs + (offOf(q) << 3);
    const M = cMinv + ((<usize>load<i32>(cMoff + (<usize>q << 2))) << 3);
    memory.fill(R, 0, <usize>G * <usize>c * <usize>K * 8);
    memory.fill(M, 0, <usize>G * <usize>c * <usize>c * 8);
    for (let i = 0; i < n; i++) {
      const g = codeOf(q, i);
      const w = weightOf(i);
      const z: f64 = t != 0 ? slopeOf(q, i) : 1.0;
      if (t != 2) {
        const b = t == 0 ? 1.0 : z;
        const mp = M + (<usize>g << 3);
        store<f64>(mp, load<f64>(mp) + w * b * b);
        const rp = R + ((<usize>g * <usize>K) << 3);
        for (let k = 0; k < K; k++) {
          const xv = load<f64>(x_NK + ((<usize>k * <usize>n + <usize>i) << 3));
          store<f64>(rp + (<usize>k << 3), load<f64>(rp + (<usize>k << 3)) + w * b * xv);
        }
      } else {
        const mp = M + (<usize>(g * 4) << 3);
        store<f64>(mp, load<f64>(mp) + w);
        store<f64>(mp + 8, load<f64>(mp + 8) + w * z);
        store<f64>(mp + 24, load<f64>(mp + 24) + w * z * z);
        const rp0 = R + ((<usize>(g * 2) * <usize>K) << 3);
        const rp1 = R + ((<usize>(g * 2 + 1) * <usize>K) << 3);
        for (let k = 0; k < K; k++) {
          const xv = load<f64>(x_NK + ((<usize>k * <usize>n + <usize>i) << 3));
          store<f64>(rp0 + (<usize>k << 3), load<f64>(rp0 + (<usize>k << 3)) + w * xv);
          store<f64>(rp1 + (<usize>k << 3), load<f64>(rp1 + (<usize>k << 3)) + w * z * xv);
        }
      }
    }
    for (let g = 0; g < G; g++) {
      if (c == 1) {
        const mp = M + (<usize>g << 3);
        const v = load<f64>(mp);
        // a level without weight (or with a slope variable that is zero throughout) carries
        // no information: its coefficient stays at zero.
        store<f64>(mp, v > 0 ? 1.0 / v : 0.0);
      } else {
        const mp = M + (<usize>(g * 4) << 3);
        const a = load<f64>(mp), b = load<f64>(mp + 8), d = load<f64>(mp + 24);
        const det = a * d - b * b;
        if (a <= 0) {
          store<f64>(mp, 0); store<f64>(mp + 8, 0); store<f64>(mp + 16, 0); store<f64>(mp + 24, 0);
        } else if (det <= 1e-12 * a * d || d <= 0) {
          // slope not identified within this level (z constant): intercept only
          store<f64>(mp, 1.0 / a); store<f64>(mp + 8, 0); store<f64>(mp + 16, 0); store<f64>(mp + 24, 0);
        } else {
          store<f64>(mp, d / det); store<f64>(mp + 8, -b / det); store<f64>(mp + 16, -b / det); store<f64>(mp + 24, a / det);
        }
      }
    }
  }
}

// ---- MAP -----------------------------------------------------------------------------

/** One Gauss-Seidel sweep over all dimensions: updates every block of A in place. */
function sweep(A: usize): void {
  const n = cN, K = cK, Q = cQ;
  for (let q = 0; q < Q; q++) {
    const t = typeOf(q);
    memory.fill(cTmp, 0, blockSize(q) << 3);
    if (Q == 2 && t == 0 && typeOf(1 - q) == 0) {
      // fast path: two plain dimensions
      const r = 1 - q;
      const codes = cCodes + ((<usize>q * <usize>n) << 2);
      const codesR = cCodes + ((<usize>r * <usize>n) << 2);
      const baseR = A + (offOf(r) << 3);
      if (K == 1 && cW == 0) {
        for (let i = 0; i < n; i++) {
          const g = load<i32>(codes + (<usize>i << 2));
          const h = load<i32>(codesR + (<usize>i << 2));
          const tp = cTmp + (<usize>g << 3);
          store<f64>(tp, load<f64>(tp) + load<f64>(baseR + (<usize>h << 3)));
        }
      } else {
        for (let i = 0; i < n; i++) {
          const g = load<i32>(codes + (<usize>i << 2));
          const h = load<i32>(codesR + (<usize>i << 2));
          axpy(cTmp + ((<usize>g * <usize>K) << 3), baseR + ((<usize>h * <usize>K) << 3), weightOf(i), K);
        }
      }
    } else if (Q == 3 && t == 0 && typeOf((q + 1) % 3) == 0 && typeOf((q + 2) % 3) == 0) {
      // fast path: three plain dimensions (e.g. firm + year + city). The same sums in the
      // same order as the general path (acc = x_r1 + x_r2, tmp += w acc), without the
      // accumulator round trip
      const r1 = q == 0 ? 1 : 0, r2 = q == 2 ? 1 : 2;
      const codes = cCodes + ((<usize>q * <usize>n) << 2);
      const codes1 = cCodes + ((<usize>r1 * <usize>n) << 2);
      const codes2 = cCodes + ((<usize>r2 * <usize>n) << 2);
      const base1 = A + (offOf(r1) << 3), base2 = A + (offOf(r2) << 3);
      for (let i = 0; i < n; i++) {
        const o = <usize>i << 2;
        const y = cTmp + ((<usize>load<i32>(codes + o) * <usize>K) << 3);
        const x1 = base1 + ((<usize>load<i32>(codes1 + o) * <usize>K) << 3);
        const x2 = base2 + ((<usize>load<i32>(codes2 + o) * <usize>K) << 3);
        const w = weightOf(i);
        const wv = f64x2.splat(w);
        let k = 0;
        for (; k + 1 < K; k += 2) {
          const b = <usize>k << 3;
          const acc = f64x2.add(v128.load(x1 + b), v128.load(x2 + b));
          v128.store(y + b, f64x2.add(v128.load(y + b), f64x2.mul(wv, acc)));
        }
        for (; k < K; k++) {
          const b = <usize>k << 3;
          store<f64>(y + b, load<f64>(y + b) + w * (load<f64>(x1 + b) + load<f64>(x2 + b)));
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        gatherRange(i, 0, Q, q, A);
        scatterAcc(q, i, weightOf(i), cTmp - (offOf(q) << 3));
      }
    }
    // a_q = Minv_q (rhs_q - tmp)
    const R = cRhs + (offOf(q) << 3);
    const sz = blockSize(q);
    for (let j: usize = 0; j < sz; j++) store<f64>(cTmp + (j << 3), load<f64>(R + (j << 3)) - load<f64>(cTmp + (j << 3)));
    applyMinv(q, cTmp - (offOf(q) << 3), A);
  }
}

// ---- per-column convergence ------------------------------------------------------------
//
// Every coefficient-shaped vector is a row-major (rows x K) matrix: row = one coefficient
// (level g, basis c of dimension q), column = one of the K demeaned columns. Each column
// has its own stopping test; a column that meets it is retired: its residuals are written
// at once and it is removed from every vector (rows x K -> rows x K', in place), so it is
// no longer updated and the remaining columns are processed with a smaller K. Every
// operation of the solvers is column-wise (sweeps, Irons-Tuck step lengths, CG step
// lengths, dot products), so a column's result is bit-identical whatever other columns
// share the call: the batching of columns (and so a split across threads) does not
// change any result.

/** Coefficient offsets (f64 units) of every dimension for K active columns. */
function layout(K: i32): void {
  let rows = 0;
  for (let q = 0; q < cQ; q++) {
    store<i32>(cOff + (<usize>q << 2), rows * K);
    rows += groupsOf(q) * nc(typeOf(q));
  }
}

@inline function mapOf(m: usize, j: i32): i32 {
  return load<i32>(m + (<usize>j << 2));
}

/** Per-column stopping criterion max_j min(|a-b|, |a-b| / (0.1 + |a|)) (fixest's rule) into cCrit. */
function criterionK(a: usize, b: usize, rows: i32): void {
  const K = cK;
  memory.fill(cCrit, 0, <usize>K << 3);
  for (let r = 0; r < rows; r++) {
    const base = (<usize>r * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const o = base + (<usize>k << 3);
      const x = load<f64>(a + o);
      const d = Math.abs(x - load<f64>(b + o));
      const rel = d / (0.1 + Math.abs(x));
      const m = d < rel ? d : rel;
      const p = cCrit + (<usize>k << 3);
      if (m > load<f64>(p)) store<f64>(p, m);
    }
  }
}

/** Flag columns whose criterion is at most tol (cFlag); returns how many. */
function flagConverged(tol: f64): i32 {
  let c = 0;
  for (let k = 0; k < cK; k++) {
    const f = load<f64>(cCrit + (<usize>k << 3)) <= tol;
    store<i32>(cFlag + (<usize>k << 2), f ? 1 : 0);
    if (f) c++;
  }
  return c;
}

/** Copy the columns k with flag_k == want of a rows x K matrix to dst (rows x count); dst may be src. */
function keepColumns(src: usize, dst: usize, rows: i32, want: i32): void {
  const K = cK;
  let d = dst;
  for (let r = 0; r < rows; r++) {
    const base = src + ((<usize>r * <usize>K) << 3);
    for (let k = 0; k < K; k++) {
      if (load<i32>(cFlag + (<usize>k << 2)) != want) continue;
      store<f64>(d, load<f64>(base + (<usize>k << 3)));
      d += 8;
    }
  }
}

/** Same for the column map (int32) and the per-column criterion. */
function keepMap(src: usize, dst: usize, want: i32): void {
  let j = 0;
  for (let k = 0; k < cK; k++) {
    if (load<i32>(cFlag + (<usize>k << 2)) != want) continue;
    store<i32>(dst + (<usize>j << 2), load<i32>(src + (<usize>k << 2)));
    j++;
  }
}

/** out = x - (FE part under coefficients V) for the columns of V (active slot j = column map_j). */
function residualsMapped(V: usize, map: usize, x_NK: usize, out_NK: usize): void {
  const n = cN, K = cK;
  for (let i = 0; i < n; i++) {
    gatherRange(i, 0, cQ, -1, V);
    for (let j = 0; j < K; j++) {
      const p = (<usize>mapOf(map, j) * <usize>n + <usize>i) << 3;
      store<f64>(out_NK + p, load<f64>(x_NK + p) - load<f64>(cAcc + (<usize>j << 3)));
    }
  }
}

/** Same, only for the flagged columns. */
function residualsFlagged(V: usize, x_NK: usize, out_NK: usize): void {
  const n = cN, K = cK;
  for (let i = 0; i < n; i++) {
    gatherRange(i, 0, cQ, -1, V);
    for (let j = 0; j < K; j++) {
      if (load<i32>(cFlag + (<usize>j << 2)) == 0) continue;
      const p = (<usize>mapOf(cMap, j) * <usize>n + <usize>i) << 3;
      store<f64>(out_NK + p, load<f64>(x_NK + p) - load<f64>(cAcc + (<usize>j << 3)));
    }
  }
}

/** Drop the flagged columns (c of them) from the active set: map and layout; K -> K - c. */
function dropFlagged(c: i32): void {
  keepMap(cMap, cMap, 0);
  cK -= c;
  layout(cK);
}

/**
 * CG energy rule: a step may decrease the sum of squared residuals by at most
 * (ENERGY_TOL * tol)^2 of it. Tuned on the reference firm + year + city + region[year] model
 * (18,800 rows, nested and slope FEs: singular, poorly conditioned normal equations), where
 * CG's energy decrease stalls for tens of iterations before falling again; with the factor
 * 1e-2 every column's residuals are within 2e-7 (relative L2) of an exact solve.
 */
const ENERGY_TOL: f64 = 1e-2;
/**
 * ...and a step that decreases it by at most ENERGY_NOISE of its initial value is taken as
 * rounding noise, whatever tol says: a column absorbed by the FE (e.g. a city-year
 * treatment under city^year FE) has nothing left to decrease, and below this CG can only
 * wander at the precision floor until the iteration limit.
 */
const ENERGY_NOISE: f64 = 1e-26;
/** Share of the initial sum of squares below which the running sum is rounding error. */
const SSR_FLOOR: f64 = 1e-14;
/**
 * Stagnation: a column whose criterion has not fallen below STALL_GAIN of its best for
 * STALL_ITERS iterations is retired as not converged (a tolerance below what the FE structure
 * allows: 1e-13 on firm + year + city ran to the 10,000-iteration limit). Slow but steady
 * CG (condition number 1e8: a third in 2,000 iterations) is not stopped.
 */
const STALL_ITERS: i32 = 2000;
const STALL_GAIN: f64 = 0.9;
// ---- CG --------------------------------------------------------------------------------

/** dst = (D'WD) src. */
function applyNormal(src: usize, dst: usize, T: i32): void {
  memory.fill(dst, 0, <usize>T << 3);
  for (let i = 0; i < cN; i++) {
    gatherRange(i, 0, cQ, -1, src);
    const w = weightOf(i);
    for (let q = 0; q < cQ; q++) scatterAcc(q, i, w, dst);
  }
}

/** z = M^{-1} r for the symmetric block Gauss-Seidel preconditioner. y is scratch. */
function precondition(r: usize, z: usize, y: usize): void {
  const Q = cQ, n = cN;
  // forward: y_q = Minv_q (r_q - sum_{s<q} A_qs y_s)
  for (let q = 0; q < Q; q++) {
    const sz = blockSize(q);
    const tmp0 = cTmp - (offOf(q) << 3);
    memory.fill(cTmp, 0, sz << 3);
    if (q > 0) {
      for (let i = 0; i < n; i++) {
        gatherRange(i, 0, q, -1, y);
        scatterAcc(q, i, weightOf(i), tmp0);
      }
    }
    const R = r + (offOf(q) << 3);
    for (let j: usize = 0; j < sz; j++) store<f64>(cTmp + (j << 3), load<f64>(R + (j << 3)) - load<f64>(cTmp + (j << 3)));
    applyMinv(q, tmp0, y);
  }
  // backward: z_q = y_q - Minv_q sum_{s>q} A_qs z_s
  const last = Q - 1;
  memory.copy(z + (offOf(last) << 3), y + (offOf(last) << 3), blockSize(last) << 3);
  for (let q = Q - 2; q >= 0; q--) {
    const sz = blockSize(q);
    const tmp0 = cTmp - (offOf(q) << 3);
    memory.fill(cTmp, 0, sz << 3);
    for (let i = 0; i < n; i++) {
      gatherRange(i, q + 1, Q, -1, z);
      scatterAcc(q, i, weightOf(i), tmp0);
    }
    applyMinv(q, tmp0, z); // z_q = Minv_q tmp (temporarily)
    const Y = y + (offOf(q) << 3), Z = z + (offOf(q) << 3);
    for (let j: usize = 0; j < sz; j++) store<f64>(Z + (j << 3), load<f64>(Y + (j << 3)) - load<f64>(Z + (j << 3)));
  }
}

/**
 * Zero the coefficient of level 0 of every dimension after the first that has an
 * intercept: with several FE the normal equations are singular (one redundant level per
 * extra dimension in a connected graph). CG then runs in the subspace where those stay
 * fixed, which removes the null space it would otherwise drift along.
 */
function pin(v: usize): void {
  for (let q = 1; q < cQ; q++) {
    if (typeOf(q) == 1) continue;
    const base = v + (offOf(q) << 3);
    memory.fill(base, 0, <usize>cK << 3);
  }
}

/** Per-column dot products out_k = sum over rows of a[r, k] b[r, k]. */
function dotK(a: usize, b: usize, rows: i32, out: usize): void {
  const K = cK;
  memory.fill(out, 0, <usize>K << 3);
  for (let r = 0; r < rows; r++) {
    const base = (<usize>r * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const o = base + (<usize>k << 3);
      const p = out + (<usize>k << 3);
      store<f64>(p, load<f64>(p) + load<f64>(a + o) * load<f64>(b + o));
    }
  }
}

/** ssr_k = sum_i w_i (x_ik - (D a_k)_i)^2 for the active columns. */
function ssrK(A: usize, x_NK: usize, out: usize): void {
  const n = cN, K = cK;
  memory.fill(out, 0, <usize>K << 3);
  for (let i = 0; i < n; i++) {
    gatherRange(i, 0, cQ, -1, A);
    const w = weightOf(i);
    for (let j = 0; j < K; j++) {
      const d = load<f64>(x_NK + ((<usize>mapOf(cMap, j) * <usize>n + <usize>i) << 3)) - load<f64>(cAcc + (<usize>j << 3));
      const p = out + (<usize>j << 3);
      store<f64>(p, load<f64>(p) + w * d * d);
    }
  }
}

/**
 * Preconditioned CG from the current A, one step length per column. A column is retired
 * (residuals written, removed from the vectors) when both
 *   - its largest coefficient step meets tol (fixest's rule, as MAP), and
 *   - the decrease of its sum of squared residuals in this step, alpha r'z, is at most
 *     (ENERGY_TOL tol)^2 times that sum: small steps alone do not prove convergence on poorly
 *     conditioned problems, where CG can move slowly long before it is done. (A demeaning
 *     error D e changes the regression coefficients only at second order, since it lies in
 *     the span of the FE, to which exact residuals are orthogonal; this rule keeps the
 *     relative error of the residuals near tol.)
 * Returns the iterations run; the columns still active at the end did not converge (their
 * residuals are left to the caller). critMax receives the largest final criterion of the
 * retired columns.
 */
/** CG compares its residual with the true one every this many iterations... */
const CG_CHECK: i32 = 10;
/** ...and restarts from the true residual when the squared drift exceeds this share of it. */
const CG_DRIFT: f64 = 1e-4;

function pcg(A: usize, r: usize, z: usize, p: usize, Ap: usize, colv: usize, tol: f64, maxIter: i32,
  x_NK: usize, out_NK: usize, critMax: usize): i32 {
  const rz = colv, rzNew = colv + (<usize>cKmax << 3), pAp = colv + (<usize>(2 * cKmax) << 3);
  const rows = cR;
  let T = rows * cK;
  // r = b - A a
  applyNormal(A, Ap, T);
  for (let j = 0; j < T; j++) {
    const o = <usize>j << 3;
    store<f64>(r + o, load<f64>(cRhs + o) - load<f64>(Ap + o));
  }
  pin(r);
  precondition(r, z, Ap);
  pin(z);
  memory.copy(p, z, <usize>T << 3);
  dotK(r, z, rows, rz);
  // sums of squared residuals: at the start, and decreased by alpha r'z at each step
  const ssr = colv + (<usize>(3 * cKmax) << 3);
  ssrK(A, x_NK, ssr);
  const floor = colv + (<usize>(4 * cKmax) << 3);
  for (let k = 0; k < cK; k++) store<f64>(floor + (<usize>k << 3), SSR_FLOOR * load<f64>(ssr + (<usize>k << 3)));
  // stagnation: each column's best criterion and the iteration that set it
  const best = colv + (<usize>(5 * cKmax) << 3), since = colv + (<usize>(6 * cKmax) << 3);
  for (let k = 0; k < cK; k++) {
    store<f64>(best + (<usize>k << 3), Infinity);
    store<f64>(since + (<usize>k << 3), 0);
  }
  let it = 0;
  while (it < maxIter) {
    it++;
    if (it % CG_CHECK == 0) {
      // residual check: the recursively updated residual drifts from b - A a once the
      // iterate nears the precision this FE structure allows, and plain CG then breaks down
      // or wanders. When it has drifted, replace it by the true residual and restart.
      applyNormal(A, z, T);
      for (let j = 0; j < T; j++) {
        const o = <usize>j << 3;
        store<f64>(z + o, load<f64>(cRhs + o) - load<f64>(z + o));
      }
      pin(z);
      pin(r);
      let drift: f64 = 0, norm: f64 = 0;
      for (let j = 0; j < T; j++) {
        const o = <usize>j << 3;
        const t = load<f64>(z + o);
        const d = t - load<f64>(r + o);
        drift += d * d;
        norm += t * t;
      }
      if (drift > CG_DRIFT * norm) {
        memory.copy(r, z, <usize>T << 3);
        precondition(r, z, Ap);
        pin(z);
        memory.copy(p, z, <usize>T << 3);
        dotK(r, z, rows, rz);
        ssrK(A, x_NK, ssr);
      }
    }
    const K = cK;
    applyNormal(p, Ap, T);
    dotK(p, Ap, rows, pAp);
    memory.fill(cCrit, 0, <usize>K << 3);
    for (let row = 0; row < rows; row++) {
      const base = (<usize>row * <usize>K) << 3;
      for (let k = 0; k < K; k++) {
        const den = load<f64>(pAp + (<usize>k << 3));
        if (!(den > 0)) {
          // p'Ap <= 0: either nothing is left (r'z = 0: converged) or a breakdown: p lies in
          // the null space of the singular normal equations, to rounding (the tolerance is
          // below what this FE structure allows). The column is then retired as it is, the
          // most accurate iterate CG reaches, and the call reports non-convergence.
          if (row == 0 && load<f64>(rz + (<usize>k << 3)) > 0) store<f64>(cCrit + (<usize>k << 3), Infinity);
          continue;
        }
        const alpha = load<f64>(rz + (<usize>k << 3)) / den;
        const o = base + (<usize>k << 3);
        const step = alpha * load<f64>(p + o);
        const a = load<f64>(A + o) + step;
        store<f64>(A + o, a);
        store<f64>(r + o, load<f64>(r + o) - alpha * load<f64>(Ap + o));
        const d = Math.abs(step);
        const rel = d / (0.1 + Math.abs(a));
        const m = d < rel ? d : rel;
        const cp = cCrit + (<usize>k << 3);
        if (m > load<f64>(cp)) store<f64>(cp, m);
      }
    }
    let c = flagConverged(tol);
    for (let k = 0; k < K; k++) {
      const den = load<f64>(pAp + (<usize>k << 3));
      const rzk = load<f64>(rz + (<usize>k << 3));
      const drop = den > 0 ? rzk * rzk / den : 0.0;
      const sp = ssr + (<usize>k << 3);
      const left = load<f64>(sp) - drop;
      store<f64>(sp, left);
      const fl = load<f64>(floor + (<usize>k << 3));
      const fp = cFlag + (<usize>k << 2);
      const crit = load<f64>(cCrit + (<usize>k << 3));
      const bp = best + (<usize>k << 3), ip = since + (<usize>k << 3);
      let stalled = false;
      if (crit < STALL_GAIN * load<f64>(bp)) {
        store<f64>(bp, crit);
        store<f64>(ip, <f64>it);
      } else if (<f64>it - load<f64>(ip) > <f64>STALL_ITERS) stalled = true;
      if (crit == Infinity || (stalled && load<i32>(fp) == 0)) {
        store<i32>(fp, 1); // breakdown or stagnation: retire, not converged
        c++;
        cStalled = true;
      } else if (load<i32>(fp) != 0 && !(drop <= ENERGY_TOL * ENERGY_TOL * tol * tol * (left > fl ? left : fl) || drop <= (ENERGY_NOISE / SSR_FLOOR) * fl)) {
        store<i32>(fp, 0);
        c--;
      }
    }
    if (c > 0) {
      for (let k = 0; k < K; k++) {
        if (load<i32>(cFlag + (<usize>k << 2)) == 0) continue;
        const v = load<f64>(cCrit + (<usize>k << 3));
        if (v > load<f64>(critMax)) store<f64>(critMax, v);
      }
      residualsFlagged(A, x_NK, out_NK);
      keepColumns(A, A, rows, 0);
      keepColumns(cRhs, cRhs, rows, 0);
      keepColumns(r, r, rows, 0);
      keepColumns(p, p, rows, 0);
      keepColumns(rz, rz, 1, 0);
      keepColumns(ssr, ssr, 1, 0);
      keepColumns(floor, floor, 1, 0);
      keepColumns(best, best, 1, 0);
      keepColumns(since, since, 1, 0);
      keepColumns(cCrit, cCrit, 1, 0);
      dropFlagged(c);
      T = rows * cK;
      if (cK == 0) break;
    }
    pin(r);
    precondition(r, z, Ap);
    pin(z);
    dotK(r, z, rows, rzNew);
    const K2 = cK;
    for (let row = 0; row < rows; row++) {
      const base = (<usize>row * <usize>K2) << 3;
      for (let k = 0; k < K2; k++) {
        const old = load<f64>(rz + (<usize>k << 3));
        const beta = old > 0 ? load<f64>(rzNew + (<usize>k << 3)) / old : 0.0;
        const o = base + (<usize>k << 3);
        store<f64>(p + o, load<f64>(z + o) + beta * load<f64>(p + o));
      }
    }
    memory.copy(rz, rzNew, <usize>K2 << 3);
  }
  return it;
}

// ---- driver ----------------------------------------------------------------------------

/**
 * MAP: retire the flagged columns (their criterion met tol after the sweep that produced
 * the current state): one more sweep on their coefficients alone, as a lone column would
 * get, then their residuals. V1/V2 are scratch of T (full K) f64 each.
 */
function retireMap(c: i32, A: usize, X: usize, GX: usize, V1: usize, V2: usize, x_NK: usize, out_NK: usize): void {
  const rows = cR, rowsS = cR - cR0;
  if (c == cK) {
    // every active column retires: the packed copies would be A and rhs themselves, so sweep
    // in place (the same operations; V1 and V2 stay untouched, which spares a first fit
    // their fresh pages)
    sweep(A);
    residualsMapped(A, cMap, x_NK, out_NK);
    cK = 0;
    layout(0);
    return;
  }
  // the retiring columns, packed rows x c
  keepColumns(A, V1, rows, 1);
  keepColumns(cRhs, V2, rows, 1);
  keepMap(cMap, cMapC, 1);
  // the others, compacted in place
  keepColumns(A, A, rows, 0);
  keepColumns(cRhs, cRhs, rows, 0);
  keepColumns(X, X, rowsS, 0);
  keepColumns(GX, GX, rowsS, 0);
  const u = cK - c;
  dropFlagged(c);
  const rhs = cRhs;
  cK = c;
  layout(c);
  cRhs = V2;
  sweep(V1);
  residualsMapped(V1, cMapC, x_NK, out_NK);
  cRhs = rhs;
  cK = u;
  layout(u);
}

/**
 * Demean K columns (x_NK, column-major, n rows each) on Q fixed-effect dimensions.
 * Writes residuals to out_NK (may equal x_NK). `codes_QN` holds Q blocks of n int32 codes
 * (0..G_q-1); `z_Q` holds, per dimension, a pointer to its slope variable (or 0).
 * algo: 0 = auto (MAP, switching to CG for the columns that have not converged after
 * `switchAfter` accelerated steps), 1 = MAP only, 2 = CG only.
 * Convergence is per column (see above): results do not depend on which columns share a call.
 * info: f64[4] out = [iterations (MAP steps + CG iterations), largest final criterion,
 * converged (1/0: every column), CG iterations]. MAP steps and CG iterations are the
 * largest over columns.
 * Returns OK, NOT_CONVERGED (residuals still written) or BAD_ARGUMENT.
 */
export function demean(
  n: i32, Q: i32, K: i32,
  codes_QN: usize, groups_Q: usize, type_Q: usize, z_Q: usize, w_N: usize,
  x_NK: usize, out_NK: usize,
  tol: f64, maxIter: i32, algo: i32, switchAfter: i32,
  scratch: usize, offs: usize, info: usize,
): i32 {
  if (n <= 0 || Q <= 0 || K <= 0 || maxIter < 0) return BAD_ARGUMENT;
  cN = n; cQ = Q; cK = K; cKmax = K; cCodes = codes_QN; cGroups = groups_Q; cTypes = type_Q; cZ = z_Q; cW = w_N;
  cOff = offs; cMoff = offs + (<usize>Q << 2);
  let rows = 0, maxq = 0, mtot = 0;
  for (let q = 0; q < Q; q++) {
    const G = groupsOf(q);
    if (G <= 0) return BAD_ARGUMENT;
    const c = nc(typeOf(q));
    store<i32>(cMoff + (<usize>q << 2), mtot);
    const sz = G * c * K;
    rows += G * c;
    if (sz > maxq) maxq = sz;
    mtot += G * c * c;
  }
  cR = rows;
  cR0 = groupsOf(0) * nc(typeOf(0));
  layout(K);
  const T = rows * K;
  const A = scratch;
  cRhs = A + (<usize>T << 3);
  const X = cRhs + (<usize>T << 3);
  const GX = X + (<usize>T << 3);
  const V1 = GX + (<usize>T << 3);
  const V2 = V1 + (<usize>T << 3);
  cTmp = V2 + (<usize>T << 3);
  cMinv = cTmp + (<usize>maxq << 3);
  const colv = cMinv + (<usize>mtot << 3); // 7K f64
  cCrit = colv + (<usize>(7 * K) << 3); // K f64
  cMap = cCrit + (<usize>K << 3); // K i32
  cMapC = cMap + (<usize>K << 2); // K i32
  cFlag = cMapC + (<usize>K << 2); // K i32
  cAcc = cFlag + (<usize>(2 * K) << 2); // K f64 (16-byte aligned: 8 * (T * 6 + ...) + 4 * 4K)
  for (let k = 0; k < K; k++) store<i32>(cMap + (<usize>k << 2), k);
  memory.fill(cCrit, 0, <usize>K << 3);
  cStalled = false;

  setup(x_NK);
  memory.fill(A, 0, <usize>T << 3);

  let iters = 0, cgIters = 0;
  let critMax: f64 = 0;
  if (Q == 1) {
    sweep(A);
    iters = 1;
  } else {
    if (algo != 2) {
      sweep(A);
      const limit = algo == 1 ? maxIter : (switchAfter < maxIter ? switchAfter : maxIter);
      while (iters < limit) {
        iters++;
        const rowsS = cR - cR0;
        let S = rowsS * cK;
        let state = A + ((<usize>cR0 * <usize>cK) << 3);
        memory.copy(X, state, <usize>S << 3);
        sweep(A);
        memory.copy(GX, state, <usize>S << 3);
        sweep(A);
        criterionK(GX, state, rowsS);
        const c = flagConverged(tol);
        if (c > 0) {
          for (let k = 0; k < cK; k++) {
            if (load<i32>(cFlag + (<usize>k << 2)) == 0) continue;
            const v = load<f64>(cCrit + (<usize>k << 3));
            if (v > critMax) critMax = v;
          }
          keepColumns(cCrit, cCrit, 1, 0);
          retireMap(c, A, X, GX, V1, V2, x_NK, out_NK);
          if (cK == 0) break;
          S = rowsS * cK;
          state = A + ((<usize>cR0 * <usize>cK) << 3);
        }
        // Irons-Tuck, one step length per column
        const Kc = cK;
        memory.fill(colv, 0, (<usize>(2 * Kc)) << 3);
        for (let r = 0; r < rowsS; r++) {
          const base = (<usize>r * <usize>Kc) << 3;
          for (let k = 0; k < Kc; k++) {
            const o = base + (<usize>k << 3);
            const x = load<f64>(X + o);
            const gx = load<f64>(GX + o);
            const ggx = load<f64>(state + o);
            const dg = ggx - gx;
            const d2 = dg - gx + x;
            const p0 = colv + (<usize>k << 3), p1 = colv + (<usize>(Kc + k) << 3);
            store<f64>(p0, load<f64>(p0) + dg * d2);
            store<f64>(p1, load<f64>(p1) + d2 * d2);
          }
        }
        for (let r = 0; r < rowsS; r++) {
          const base = (<usize>r * <usize>Kc) << 3;
          for (let k = 0; k < Kc; k++) {
            const den = load<f64>(colv + (<usize>(Kc + k) << 3));
            if (den <= 0) continue;
            const coef = load<f64>(colv + (<usize>k << 3)) / den;
            const o = base + (<usize>k << 3);
            const gx = load<f64>(GX + o);
            const p = state + o;
            const ggx = load<f64>(p);
            store<f64>(p, ggx - coef * (ggx - gx));
          }
        }
      }
      // columns still active: make every block consistent with the accelerated state
      if (cK > 0) sweep(A);
    }
    if (cK > 0 && algo != 1) {
      const rem = maxIter - iters;
      store<f64>(info + 8, critMax);
      cgIters = pcg(A, X, GX, V1, V2, colv, tol, rem > 0 ? rem : 1, x_NK, out_NK, info + 8);
      critMax = load<f64>(info + 8);
      iters += cgIters;
    }
  }
  // columns left (one FE, or not converged): their last criterion, and residuals
  const converged = Q == 1 || (cK == 0 && !cStalled);
  if (Q > 1) {
    for (let k = 0; k < cK; k++) {
      const v = load<f64>(cCrit + (<usize>k << 3));
      if (v > critMax) critMax = v;
    }
  }
  if (cK > 0) residualsMapped(A, cMap, x_NK, out_NK);
  store<f64>(info, <f64>iters);
  store<f64>(info + 8, critMax);
  store<f64>(info + 16, converged ? 1.0 : 0.0);
  store<f64>(info + 24, <f64>cgIters);
  return converged ? OK : NOT_CONVERGED;
}
