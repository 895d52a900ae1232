// Demeaning by alternating projections on the fixed-effect coefficients
// (Gauss-Seidel over the FE dimensions, as fixest's src/demeaning.cpp), accelerated by
// Irons-Tuck, for K columns at once so that one group lookup serves all of them.
//
// Naming: _N per observation, _Q per FE dimension, _G per FE level, _K per column.
//
// Dimension q has type_Q[q]:
//   0 = plain FE (one coefficient per level, basis 1)
//   1 = varying slope only, fe[[z]] (one coefficient per level, basis z)
//   2 = FE + varying slope, fe[z]   (two coefficients per level, basis 1 and z)
// Dimensions should come ordered by decreasing number of levels: the state that is
// iterated (and accelerated) is every dimension but the first, whose coefficients are
// recomputed in closed form in each sweep.
//
// Layout of coefficients: A[off_q + ((g * nc_q + c) * K + k)].
import { OK, NOT_CONVERGED, BAD_ARGUMENT } from "./status";

@inline function nc(t: i32): i32 {
  return t == 2 ? 2 : 1;
}

/** Number of f64 of scratch that demean() needs. */
export function demeanScratch(Q: i32, groups_Q: usize, type_Q: usize, K: i32): f64 {
  let T: f64 = 0, maxq: f64 = 0, minv: f64 = 0, S: f64 = 0;
  for (let q = 0; q < Q; q++) {
    const G = <f64>load<i32>(groups_Q + (<usize>q << 2));
    const c = <f64>nc(load<i32>(type_Q + (<usize>q << 2)));
    const sz = G * c * <f64>K;
    T += sz;
    if (sz > maxq) maxq = sz;
    minv += G * c * c;
    if (q > 0) S += sz;
  }
  // A, rhsX, tmp, Minv, X, GX, per-column vectors
  return 2 * T + maxq + minv + 2 * S + 6 * <f64>K + 8;
}

// --- basis helpers -------------------------------------------------------------------

/** Sum over dims r != skip of the fitted FE contribution for obs i, column k. */
@inline function contrib(
  i: i32, k: i32, K: i32, Q: i32, skip: i32, n: i32,
  codes_QN: usize, type_Q: usize, z_Q: usize, A: usize, off_Q: usize,
): f64 {
  let s: f64 = 0;
  for (let r = 0; r < Q; r++) {
    if (r == skip) continue;
    const g = load<i32>(codes_QN + ((<usize>r * <usize>n + <usize>i) << 2));
    const t = load<i32>(type_Q + (<usize>r << 2));
    const base = A + ((<usize>load<i32>(off_Q + (<usize>r << 2))) << 3);
    if (t == 0) {
      s += load<f64>(base + ((<usize>g * <usize>K + <usize>k) << 3));
    } else {
      const z = load<f64>(<usize>load<i32>(z_Q + (<usize>r << 2)) + (<usize>i << 3));
      if (t == 1) {
        s += load<f64>(base + ((<usize>g * <usize>K + <usize>k) << 3)) * z;
      } else {
        s += load<f64>(base + ((<usize>(g * 2) * <usize>K + <usize>k) << 3)) +
          load<f64>(base + ((<usize>(g * 2 + 1) * <usize>K + <usize>k) << 3)) * z;
      }
    }
  }
  return s;
}

/**
 * Precompute per-dimension inverse Gram blocks (Minv) and rhsX = sum_i w_i basis_i x_ik.
 * Returns OK, or BAD_ARGUMENT for a level with zero total weight.
 */
function setup(
  n: i32, Q: i32, K: i32, codes_QN: usize, groups_Q: usize, type_Q: usize, z_Q: usize,
  w_N: usize, x_NK: usize, rhs: usize, minv: usize, off_Q: usize, moff_Q: usize,
): i32 {
  for (let q = 0; q < Q; q++) {
    const G = load<i32>(groups_Q + (<usize>q << 2));
    const t = load<i32>(type_Q + (<usize>q << 2));
    const c = nc(t);
    const R = rhs + ((<usize>load<i32>(off_Q + (<usize>q << 2))) << 3);
    const M = minv + ((<usize>load<i32>(moff_Q + (<usize>q << 2))) << 3);
    memory.fill(R, 0, <usize>G * <usize>c * <usize>K * 8);
    memory.fill(M, 0, <usize>G * <usize>c * <usize>c * 8);
    const zp: usize = t == 0 ? 0 : <usize>load<i32>(z_Q + (<usize>q << 2));
    const codes = codes_QN + ((<usize>q * <usize>n) << 2);
    for (let i = 0; i < n; i++) {
      const g = load<i32>(codes + (<usize>i << 2));
      const w: f64 = w_N != 0 ? load<f64>(w_N + (<usize>i << 3)) : 1.0;
      const z: f64 = zp != 0 ? load<f64>(zp + (<usize>i << 3)) : 1.0;
      if (t == 0) {
        const mp = M + (<usize>g << 3);
        store<f64>(mp, load<f64>(mp) + w);
        const rp = R + ((<usize>g * <usize>K) << 3);
        for (let k = 0; k < K; k++) {
          const xp = x_NK + ((<usize>k * <usize>n + <usize>i) << 3);
          store<f64>(rp + (<usize>k << 3), load<f64>(rp + (<usize>k << 3)) + w * load<f64>(xp));
        }
      } else if (t == 1) {
        const mp = M + (<usize>g << 3);
        store<f64>(mp, load<f64>(mp) + w * z * z);
        const rp = R + ((<usize>g * <usize>K) << 3);
        for (let k = 0; k < K; k++) {
          const xp = x_NK + ((<usize>k * <usize>n + <usize>i) << 3);
          store<f64>(rp + (<usize>k << 3), load<f64>(rp + (<usize>k << 3)) + w * z * load<f64>(xp));
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
    // invert
    for (let g = 0; g < G; g++) {
      if (c == 1) {
        const mp = M + (<usize>g << 3);
        const v = load<f64>(mp);
        // a level with no weight (or a slope variable that is zero throughout the level)
        // carries no information: its coefficient is fixed at zero.
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
  return OK;
}

/** One Gauss-Seidel sweep over all dimensions: updates every block of A in place. */
function sweep(
  n: i32, Q: i32, K: i32, codes_QN: usize, groups_Q: usize, type_Q: usize, z_Q: usize,
  w_N: usize, A: usize, rhs: usize, minv: usize, tmp: usize, off_Q: usize, moff_Q: usize,
): void {
  for (let q = 0; q < Q; q++) {
    const G = load<i32>(groups_Q + (<usize>q << 2));
    const t = load<i32>(type_Q + (<usize>q << 2));
    const c = nc(t);
    const zp: usize = t == 0 ? 0 : <usize>load<i32>(z_Q + (<usize>q << 2));
    memory.fill(tmp, 0, <usize>G * <usize>c * <usize>K * 8);
    const codes = codes_QN + ((<usize>q * <usize>n) << 2);
    if (Q == 2 && t == 0 && load<i32>(type_Q + (<usize>(1 - q) << 2)) == 0) {
      // fast path: two plain dimensions
      const r = 1 - q;
      const codesR = codes_QN + ((<usize>r * <usize>n) << 2);
      const baseR = A + ((<usize>load<i32>(off_Q + (<usize>r << 2))) << 3);
      if (K == 1) {
        if (w_N == 0) {
          for (let i = 0; i < n; i++) {
            const g = load<i32>(codes + (<usize>i << 2));
            const h = load<i32>(codesR + (<usize>i << 2));
            const tp = tmp + (<usize>g << 3);
            store<f64>(tp, load<f64>(tp) + load<f64>(baseR + (<usize>h << 3)));
          }
        } else {
          for (let i = 0; i < n; i++) {
            const g = load<i32>(codes + (<usize>i << 2));
            const h = load<i32>(codesR + (<usize>i << 2));
            const tp = tmp + (<usize>g << 3);
            store<f64>(tp, load<f64>(tp) + load<f64>(w_N + (<usize>i << 3)) * load<f64>(baseR + (<usize>h << 3)));
          }
        }
      } else {
        for (let i = 0; i < n; i++) {
          const g = load<i32>(codes + (<usize>i << 2));
          const h = load<i32>(codesR + (<usize>i << 2));
          const w: f64 = w_N != 0 ? load<f64>(w_N + (<usize>i << 3)) : 1.0;
          const tp = tmp + ((<usize>g * <usize>K) << 3);
          const ap = baseR + ((<usize>h * <usize>K) << 3);
          let k = 0;
          const wv = f64x2.splat(w);
          for (; k + 1 < K; k += 2) {
            const o = <usize>k << 3;
            v128.store(tp + o, f64x2.add(v128.load(tp + o), f64x2.mul(wv, v128.load(ap + o))));
          }
          for (; k < K; k++) {
            const o = <usize>k << 3;
            store<f64>(tp + o, load<f64>(tp + o) + w * load<f64>(ap + o));
          }
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        const g = load<i32>(codes + (<usize>i << 2));
        const w: f64 = w_N != 0 ? load<f64>(w_N + (<usize>i << 3)) : 1.0;
        const z: f64 = zp != 0 ? load<f64>(zp + (<usize>i << 3)) : 1.0;
        for (let k = 0; k < K; k++) {
          const o = contrib(i, k, K, Q, q, n, codes_QN, type_Q, z_Q, A, off_Q);
          if (c == 1) {
            const tp = tmp + ((<usize>g * <usize>K + <usize>k) << 3);
            store<f64>(tp, load<f64>(tp) + w * z * o);
          } else {
            const tp0 = tmp + ((<usize>(g * 2) * <usize>K + <usize>k) << 3);
            const tp1 = tmp + ((<usize>(g * 2 + 1) * <usize>K + <usize>k) << 3);
            store<f64>(tp0, load<f64>(tp0) + w * o);
            store<f64>(tp1, load<f64>(tp1) + w * z * o);
          }
        }
      }
    }
    // solve the per-level normal equations
    const base = A + ((<usize>load<i32>(off_Q + (<usize>q << 2))) << 3);
    const R = rhs + ((<usize>load<i32>(off_Q + (<usize>q << 2))) << 3);
    const M = minv + ((<usize>load<i32>(moff_Q + (<usize>q << 2))) << 3);
    if (c == 1) {
      for (let g = 0; g < G; g++) {
        const m = load<f64>(M + (<usize>g << 3));
        const o = (<usize>g * <usize>K) << 3;
        for (let k = 0; k < K; k++) {
          const p = o + (<usize>k << 3);
          store<f64>(base + p, (load<f64>(R + p) - load<f64>(tmp + p)) * m);
        }
      }
    } else {
      for (let g = 0; g < G; g++) {
        const mp = M + (<usize>(g * 4) << 3);
        const m00 = load<f64>(mp), m01 = load<f64>(mp + 8), m11 = load<f64>(mp + 24);
        for (let k = 0; k < K; k++) {
          const p0 = (<usize>(g * 2) * <usize>K + <usize>k) << 3;
          const p1 = (<usize>(g * 2 + 1) * <usize>K + <usize>k) << 3;
          const r0 = load<f64>(R + p0) - load<f64>(tmp + p0);
          const r1 = load<f64>(R + p1) - load<f64>(tmp + p1);
          store<f64>(base + p0, m00 * r0 + m01 * r1);
          store<f64>(base + p1, m01 * r0 + m11 * r1);
        }
      }
    }
  }
}

/**
 * Demean K columns (x_NK, column-major, n rows each) on Q fixed-effect dimensions.
 * Writes residuals to out_NK (may equal x_NK). `codes_QN` holds Q blocks of n int32 codes
 * (0..G_q-1); `z_Q` holds, per dimension, a pointer to its slope variable (or 0).
 * info: f64[4] out = [sweeps, max criterion reached, converged (1/0), 0].
 * Returns OK, NOT_CONVERGED (residuals still written) or BAD_ARGUMENT.
 */
export function demean(
  n: i32, Q: i32, K: i32,
  codes_QN: usize, groups_Q: usize, type_Q: usize, z_Q: usize, w_N: usize,
  x_NK: usize, out_NK: usize,
  tol: f64, maxIter: i32,
  scratch: usize, offs: usize, info: usize,
): i32 {
  if (n <= 0 || Q <= 0 || K <= 0) return BAD_ARGUMENT;
  // offs: i32 scratch of 2*Q entries (coefficient and Minv offsets), in f64 units
  const off_Q = offs, moff_Q = offs + (<usize>Q << 2);
  let T = 0, maxq = 0, mtot = 0;
  for (let q = 0; q < Q; q++) {
    const G = load<i32>(groups_Q + (<usize>q << 2));
    const c = nc(load<i32>(type_Q + (<usize>q << 2)));
    store<i32>(off_Q + (<usize>q << 2), T);
    store<i32>(moff_Q + (<usize>q << 2), mtot);
    const sz = G * c * K;
    T += sz;
    if (sz > maxq) maxq = sz;
    mtot += G * c * c;
  }
  const off1 = Q > 1 ? load<i32>(off_Q + 4) : T;
  const S = T - off1; // size of the iterated state
  const A = scratch;
  const rhs = A + (<usize>T << 3);
  const tmp = rhs + (<usize>T << 3);
  const minv = tmp + (<usize>maxq << 3);
  const X = minv + (<usize>mtot << 3);
  const GX = X + (<usize>S << 3);
  const colv = GX + (<usize>S << 3); // 6K f64 per-column work

  setup(n, Q, K, codes_QN, groups_Q, type_Q, z_Q, w_N, x_NK, rhs, minv, off_Q, moff_Q);
  memory.fill(A, 0, <usize>T << 3);

  let sweeps = 0;
  let crit: f64 = 0;
  let converged = true;
  const state = A + (<usize>off1 << 3);
  if (Q == 1) {
    sweep(n, Q, K, codes_QN, groups_Q, type_Q, z_Q, w_N, A, rhs, minv, tmp, off_Q, moff_Q);
    sweeps = 1;
  } else {
    converged = false;
    let iter = 0;
    // first sweep from zero
    sweep(n, Q, K, codes_QN, groups_Q, type_Q, z_Q, w_N, A, rhs, minv, tmp, off_Q, moff_Q);
    sweeps = 1;
    while (iter < maxIter) {
      iter++;
      memory.copy(X, state, <usize>S << 3);
      sweep(n, Q, K, codes_QN, groups_Q, type_Q, z_Q, w_N, A, rhs, minv, tmp, off_Q, moff_Q);
      memory.copy(GX, state, <usize>S << 3);
      sweep(n, Q, K, codes_QN, groups_Q, type_Q, z_Q, w_N, A, rhs, minv, tmp, off_Q, moff_Q);
      sweeps += 2;
      // convergence: every coefficient moved by at most tol (absolute, or relative to 0.1+|a|)
      crit = 0;
      for (let j = 0; j < S; j++) {
        const a = load<f64>(GX + (<usize>j << 3));
        const b = load<f64>(state + (<usize>j << 3));
        const d = Math.abs(a - b);
        const rel = d / (0.1 + Math.abs(a));
        const m = d < rel ? d : rel;
        if (m > crit) crit = m;
      }
      if (crit <= tol) { converged = true; break; }
      // Irons-Tuck, one step length per column
      for (let k = 0; k < K; k++) {
        store<f64>(colv + (<usize>k << 3), 0);
        store<f64>(colv + (<usize>(K + k) << 3), 0);
      }
      for (let j = 0; j < S; j++) {
        const k = j % K;
        const x = load<f64>(X + (<usize>j << 3));
        const gx = load<f64>(GX + (<usize>j << 3));
        const ggx = load<f64>(state + (<usize>j << 3));
        const dg = ggx - gx;
        const d2 = dg - gx + x;
        const p0 = colv + (<usize>k << 3), p1 = colv + (<usize>(K + k) << 3);
        store<f64>(p0, load<f64>(p0) + dg * d2);
        store<f64>(p1, load<f64>(p1) + d2 * d2);
      }
      for (let j = 0; j < S; j++) {
        const k = j % K;
        const den = load<f64>(colv + (<usize>(K + k) << 3));
        if (den <= 0) continue;
        const coef = load<f64>(colv + (<usize>k << 3)) / den;
        const gx = load<f64>(GX + (<usize>j << 3));
        const p = state + (<usize>j << 3);
        const ggx = load<f64>(p);
        store<f64>(p, ggx - coef * (ggx - gx));
      }
    }
    // final sweep so every block is consistent with the accelerated state
    sweep(n, Q, K, codes_QN, groups_Q, type_Q, z_Q, w_N, A, rhs, minv, tmp, off_Q, moff_Q);
    sweeps++;
  }
  // residuals
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < n; i++) {
      const p = (<usize>k * <usize>n + <usize>i) << 3;
      const f = contrib(i, k, K, Q, -1, n, codes_QN, type_Q, z_Q, A, off_Q);
      store<f64>(out_NK + p, load<f64>(x_NK + p) - f);
    }
  }
  store<f64>(info, <f64>sweeps);
  store<f64>(info + 8, crit);
  store<f64>(info + 16, converged ? 1.0 : 0.0);
  return converged ? OK : NOT_CONVERGED;
}

/** Pointer to the coefficients left in scratch by the last demean() (for FE recovery). */
export function demeanCoefPtr(scratch: usize): usize {
  return scratch;
}
