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
//     coefficient space). Used after MAP by algo 0 (map-cg, auto until issue 14).
//   - LSMR (assembly/demean-lsmr.ts, algo 3): least squares on min ||W^1/2 (D a - x)|| with
//     the diagonal preconditioner; the binding's auto runs it after 20 MAP steps on poorly
//     connected FE graphs (firm + city + year with few movers, worker + firm + year).
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
import {
  DM_N, DM_Q, DM_K, DM_KMAX, DM_CODES, DM_GROUPS, DM_TYPES, DM_Z, DM_W, DM_TOL, DM_MAXITER, DM_ALGO, DM_SWITCH,
  DM_R, DM_R0, DM_STALLED, DM_OFF, DM_MOFF, DM_RHS, DM_MINV, DM_TMP, DM_ACC, DM_CRIT, DM_MAP, DM_MAPC, DM_FLAG, DM_COLS, DM_U,
} from "./context";

// ---- the call's context block (assembly/context.ts): every piece of state of a call lives
// there, in memory the binding owns; nothing survives in module globals.
@inline export function geti(cx: usize, f: usize): i32 {
  return load<i32>(cx + f);
}
@inline export function getp(cx: usize, f: usize): usize {
  return <usize>load<u32>(cx + f);
}
@inline export function seti(cx: usize, f: usize, v: i32): void {
  store<i32>(cx + f, v);
}
@inline export function setp(cx: usize, f: usize, v: usize): void {
  store<u32>(cx + f, <u32>v);
}

@inline export function nc(t: i32): i32 {
  return t == 2 ? 2 : 1;
}
@inline export function groupsOf(cx: usize, q: i32): i32 {
  return load<i32>(getp(cx, DM_GROUPS) + (<usize>q << 2));
}
@inline export function typeOf(cx: usize, q: i32): i32 {
  return load<i32>(getp(cx, DM_TYPES) + (<usize>q << 2));
}
@inline export function offOf(cx: usize, q: i32): usize {
  return <usize>load<i32>(getp(cx, DM_OFF) + (<usize>q << 2));
}
@inline export function codeOf(cx: usize, q: i32, i: i32): i32 {
  return load<i32>(getp(cx, DM_CODES) + ((<usize>q * <usize>geti(cx, DM_N) + <usize>i) << 2));
}
@inline export function slopeOf(cx: usize, q: i32, i: i32): f64 {
  return load<f64>(<usize>load<i32>(getp(cx, DM_Z) + (<usize>q << 2)) + (<usize>i << 3));
}

@inline export function wAt(w: usize, i: i32): f64 {
  return w != 0 ? load<f64>(w + (<usize>i << 3)) : 1.0;
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
export function gatherRange(cx: usize, i: i32, lo: i32, hi: i32, skip: i32, V: usize): void {
  const K = geti(cx, DM_K);
  const acc = getp(cx, DM_ACC), codes = getp(cx, DM_CODES), types = getp(cx, DM_TYPES), offs = getp(cx, DM_OFF);
  const n = <usize>geti(cx, DM_N);
  memory.fill(acc, 0, <usize>K << 3);
  for (let r = lo; r < hi; r++) {
    if (r == skip) continue;
    const g = load<i32>(codes + ((<usize>r * n + <usize>i) << 2));
    const t = load<i32>(types + (<usize>r << 2));
    const base = V + (<usize>load<i32>(offs + (<usize>r << 2)) << 3);
    if (t == 0) {
      axpy(acc, base + ((<usize>g * <usize>K) << 3), 1.0, K);
    } else {
      const z = slopeOf(cx, r, i);
      if (t == 1) {
        axpy(acc, base + ((<usize>g * <usize>K) << 3), z, K);
      } else {
        axpy(acc, base + ((<usize>(g * 2) * <usize>K) << 3), 1.0, K);
        axpy(acc, base + ((<usize>(g * 2 + 1) * <usize>K) << 3), z, K);
      }
    }
  }
}

/** out_q[g] += w_i * basis_q(i) * acc for obs i (block q of a coefficient-shaped vector at out). */
@inline function scatterAcc(cx: usize, q: i32, i: i32, w: f64, out: usize): void {
  scatterRow(cx, q, i, w, getp(cx, DM_ACC), out);
}

/** out_q[g] += w_i * basis_q(i) * src (K values at src) for obs i. */
@inline export function scatterRow(cx: usize, q: i32, i: i32, w: f64, src: usize, out: usize): void {
  const K = geti(cx, DM_K);
  const acc = src;
  const g = codeOf(cx, q, i);
  const t = typeOf(cx, q);
  out += offOf(cx, q) << 3;
  if (t == 0) {
    axpy(out + ((<usize>g * <usize>K) << 3), acc, w, K);
  } else {
    const z = slopeOf(cx, q, i);
    if (t == 1) {
      axpy(out + ((<usize>g * <usize>K) << 3), acc, w * z, K);
    } else {
      axpy(out + ((<usize>(g * 2) * <usize>K) << 3), acc, w, K);
      axpy(out + ((<usize>(g * 2 + 1) * <usize>K) << 3), acc, w * z, K);
    }
  }
}

/** dst_q = Minv_q * src_q for block q (both coefficient-shaped, block offsets off_q). */
function applyMinv(cx: usize, q: i32, src: usize, dst: usize): void {
  const c_minv = getp(cx, DM_MINV);
  const c_moff = getp(cx, DM_MOFF);
  const K = geti(cx, DM_K);
  const G = groupsOf(cx, q);
  const M = c_minv + ((<usize>load<i32>(c_moff + (<usize>q << 2))) << 3);
  const s = src + (offOf(cx, q) << 3), d = dst + (offOf(cx, q) << 3);
  if (nc(typeOf(cx, q)) == 1) {
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

@inline export function blockSize(cx: usize, q: i32): usize {
  const c = nc(typeOf(cx, q));
  return <usize>groupsOf(cx, q) * <usize>c * <usize>geti(cx, DM_K);
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
  // per-column work (step lengths, criterion, column maps, accumulator), the 2Q int32 offsets
  return 6 * T + maxq + minv + 14 * <f64>K + 8 + <f64>Q;
}

/** rhs = D'Wx and the per-level inverse Gram blocks. */
export function setup(cx: usize, x_NK: usize): void {
  const c_w = getp(cx, DM_W);
  const c_minv = getp(cx, DM_MINV);
  const c_moff = getp(cx, DM_MOFF);
  const c_n = geti(cx, DM_N);
  const c_q = geti(cx, DM_Q);
  const n = c_n, K = geti(cx, DM_K);
  for (let q = 0; q < c_q; q++) {
    const G = groupsOf(cx, q);
    const t = typeOf(cx, q);
    const c = nc(t);
    const R = getp(cx, DM_RHS) + (offOf(cx, q) << 3);
    const M = c_minv + ((<usize>load<i32>(c_moff + (<usize>q << 2))) << 3);
    memory.fill(R, 0, <usize>G * <usize>c * <usize>K * 8);
    memory.fill(M, 0, <usize>G * <usize>c * <usize>c * 8);
    for (let i = 0; i < n; i++) {
      const g = codeOf(cx, q, i);
      const w = wAt(c_w, i);
      const z: f64 = t != 0 ? slopeOf(cx, q, i) : 1.0;
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
export function sweep(cx: usize, A: usize): void {
  const c_tmp = getp(cx, DM_TMP);
  const c_w = getp(cx, DM_W);
  const c_codes = getp(cx, DM_CODES);
  const c_n = geti(cx, DM_N);
  const c_q = geti(cx, DM_Q);
  const n = c_n, K = geti(cx, DM_K), Q = c_q;
  for (let q = 0; q < Q; q++) {
    const t = typeOf(cx, q);
    memory.fill(c_tmp, 0, blockSize(cx, q) << 3);
    if (Q == 2 && t == 0 && typeOf(cx, 1 - q) == 0) {
      // fast path: two plain dimensions
      const r = 1 - q;
      const codes = c_codes + ((<usize>q * <usize>n) << 2);
      const codesR = c_codes + ((<usize>r * <usize>n) << 2);
      const baseR = A + (offOf(cx, r) << 3);
      if (K == 1 && c_w == 0) {
        for (let i = 0; i < n; i++) {
          const g = load<i32>(codes + (<usize>i << 2));
          const h = load<i32>(codesR + (<usize>i << 2));
          const tp = c_tmp + (<usize>g << 3);
          store<f64>(tp, load<f64>(tp) + load<f64>(baseR + (<usize>h << 3)));
        }
      } else {
        for (let i = 0; i < n; i++) {
          const g = load<i32>(codes + (<usize>i << 2));
          const h = load<i32>(codesR + (<usize>i << 2));
          axpy(c_tmp + ((<usize>g * <usize>K) << 3), baseR + ((<usize>h * <usize>K) << 3), wAt(c_w, i), K);
        }
      }
    } else if (Q == 3 && t == 0 && typeOf(cx, (q + 1) % 3) == 0 && typeOf(cx, (q + 2) % 3) == 0) {
      // fast path: three plain dimensions (e.g. firm + year + city). The same sums in the
      // same order as the general path (acc = x_r1 + x_r2, tmp += w acc), without the
      // accumulator round trip
      const r1 = q == 0 ? 1 : 0, r2 = q == 2 ? 1 : 2;
      const codes = c_codes + ((<usize>q * <usize>n) << 2);
      const codes1 = c_codes + ((<usize>r1 * <usize>n) << 2);
      const codes2 = c_codes + ((<usize>r2 * <usize>n) << 2);
      const base1 = A + (offOf(cx, r1) << 3), base2 = A + (offOf(cx, r2) << 3);
      for (let i = 0; i < n; i++) {
        const o = <usize>i << 2;
        const y = c_tmp + ((<usize>load<i32>(codes + o) * <usize>K) << 3);
        const x1 = base1 + ((<usize>load<i32>(codes1 + o) * <usize>K) << 3);
        const x2 = base2 + ((<usize>load<i32>(codes2 + o) * <usize>K) << 3);
        const w = wAt(c_w, i);
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
        gatherRange(cx, i, 0, Q, q, A);
        scatterAcc(cx, q, i, wAt(c_w, i), c_tmp - (offOf(cx, q) << 3));
      }
    }
    // a_q = Minv_q (rhs_q - tmp)
    const R = getp(cx, DM_RHS) + (offOf(cx, q) << 3);
    const sz = blockSize(cx, q);
    for (let j: usize = 0; j < sz; j++) store<f64>(c_tmp + (j << 3), load<f64>(R + (j << 3)) - load<f64>(c_tmp + (j << 3)));
    applyMinv(cx, q, c_tmp - (offOf(cx, q) << 3), A);
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
export function layout(cx: usize, K: i32): void {
  const c_off = getp(cx, DM_OFF);
  const c_q = geti(cx, DM_Q);
  let rows = 0;
  for (let q = 0; q < c_q; q++) {
    store<i32>(c_off + (<usize>q << 2), rows * K);
    rows += groupsOf(cx, q) * nc(typeOf(cx, q));
  }
}

@inline export function mapOf(m: usize, j: i32): i32 {
  return load<i32>(m + (<usize>j << 2));
}

/** Per-column stopping criterion max_j min(|a-b|, |a-b| / (0.1 + |a|)) (fixest's rule) into getp(cx, DM_CRIT). */
function criterionK(cx: usize, a: usize, b: usize, rows: i32): void {
  const c_crit = getp(cx, DM_CRIT);
  const K = geti(cx, DM_K);
  memory.fill(c_crit, 0, <usize>K << 3);
  for (let r = 0; r < rows; r++) {
    const base = (<usize>r * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const o = base + (<usize>k << 3);
      const x = load<f64>(a + o);
      const d = Math.abs(x - load<f64>(b + o));
      const rel = d / (0.1 + Math.abs(x));
      const m = d < rel ? d : rel;
      const p = c_crit + (<usize>k << 3);
      if (m > load<f64>(p)) store<f64>(p, m);
    }
  }
}

/** Flag columns whose criterion is at most tol (getp(cx, DM_FLAG)); returns how many. */
export function flagConverged(cx: usize, tol: f64): i32 {
  const c_crit = getp(cx, DM_CRIT);
  const c_flag = getp(cx, DM_FLAG);
  let c = 0;
  for (let k = 0; k < geti(cx, DM_K); k++) {
    const f = load<f64>(c_crit + (<usize>k << 3)) <= tol;
    store<i32>(c_flag + (<usize>k << 2), f ? 1 : 0);
    if (f) c++;
  }
  return c;
}

/** Copy the columns k with flag_k == want of a rows x K matrix to dst (rows x count); dst may be src. */
export function keepColumns(cx: usize, src: usize, dst: usize, rows: i32, want: i32): void {
  const c_flag = getp(cx, DM_FLAG);
  const K = geti(cx, DM_K);
  let d = dst;
  for (let r = 0; r < rows; r++) {
    const base = src + ((<usize>r * <usize>K) << 3);
    for (let k = 0; k < K; k++) {
      if (load<i32>(c_flag + (<usize>k << 2)) != want) continue;
      store<f64>(d, load<f64>(base + (<usize>k << 3)));
      d += 8;
    }
  }
}

/** Same for the column map (int32) and the per-column criterion. */
function keepMap(cx: usize, src: usize, dst: usize, want: i32): void {
  const c_flag = getp(cx, DM_FLAG);
  let j = 0;
  for (let k = 0; k < geti(cx, DM_K); k++) {
    if (load<i32>(c_flag + (<usize>k << 2)) != want) continue;
    store<i32>(dst + (<usize>j << 2), load<i32>(src + (<usize>k << 2)));
    j++;
  }
}

/** out = x - (FE part under coefficients V) for the columns of V (active slot j = column map_j). */
export function residualsMapped(cx: usize, V: usize, map: usize, x_NK: usize, out_NK: usize): void {
  const c_acc = getp(cx, DM_ACC);
  const c_n = geti(cx, DM_N);
  const c_q = geti(cx, DM_Q);
  const n = c_n, K = geti(cx, DM_K);
  for (let i = 0; i < n; i++) {
    gatherRange(cx, i, 0, c_q, -1, V);
    for (let j = 0; j < K; j++) {
      const p = (<usize>mapOf(map, j) * <usize>n + <usize>i) << 3;
      store<f64>(out_NK + p, load<f64>(x_NK + p) - load<f64>(c_acc + (<usize>j << 3)));
    }
  }
}

/** Same, only for the flagged columns. */
export function residualsFlagged(cx: usize, V: usize, x_NK: usize, out_NK: usize): void {
  const c_acc = getp(cx, DM_ACC);
  const c_map = getp(cx, DM_MAP);
  const c_flag = getp(cx, DM_FLAG);
  const c_n = geti(cx, DM_N);
  const c_q = geti(cx, DM_Q);
  const n = c_n, K = geti(cx, DM_K);
  for (let i = 0; i < n; i++) {
    gatherRange(cx, i, 0, c_q, -1, V);
    for (let j = 0; j < K; j++) {
      if (load<i32>(c_flag + (<usize>j << 2)) == 0) continue;
      const p = (<usize>mapOf(c_map, j) * <usize>n + <usize>i) << 3;
      store<f64>(out_NK + p, load<f64>(x_NK + p) - load<f64>(c_acc + (<usize>j << 3)));
    }
  }
}

/** Drop the flagged columns (c of them) from the active set: map and layout; K -> K - c. */
export function dropFlagged(cx: usize, c: i32): void {
  const c_map = getp(cx, DM_MAP);
  keepMap(cx, c_map, c_map, 0);
  seti(cx, DM_K, geti(cx, DM_K) - c);
  layout(cx, geti(cx, DM_K));
}

/** The per-column record of the call's column k (DM_COLS, when the binding passed one). */
export function record(cx: usize, k: i32, mapSteps: i32, cgIters: i32, crit: f64, converged: bool): void {
  const cols = getp(cx, DM_COLS);
  if (cols == 0) return;
  const p = cols + (<usize>(k * 4) << 3);
  store<f64>(p, <f64>(mapSteps + cgIters));
  store<f64>(p + 8, crit);
  store<f64>(p + 16, converged ? 1.0 : 0.0);
  store<f64>(p + 24, <f64>cgIters);
}

/** Records of the flagged (retiring) active columns: flag 1 converged, 2 retired unconverged. */
export function recordFlagged(cx: usize, mapSteps: i32, cgIters: i32): void {
  const c_flag = getp(cx, DM_FLAG), c_crit = getp(cx, DM_CRIT), c_map = getp(cx, DM_MAP);
  for (let k = 0; k < geti(cx, DM_K); k++) {
    const f = load<i32>(c_flag + (<usize>k << 2));
    if (f == 0) continue;
    record(cx, mapOf(c_map, k), mapSteps, cgIters, load<f64>(c_crit + (<usize>k << 3)), f == 1);
  }
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
export const SSR_FLOOR: f64 = 1e-14;
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
function applyNormal(cx: usize, src: usize, dst: usize, T: i32): void {
  const c_w = getp(cx, DM_W);
  const c_n = geti(cx, DM_N);
  const c_q = geti(cx, DM_Q);
  memory.fill(dst, 0, <usize>T << 3);
  for (let i = 0; i < c_n; i++) {
    gatherRange(cx, i, 0, c_q, -1, src);
    const w = wAt(c_w, i);
    for (let q = 0; q < c_q; q++) scatterAcc(cx, q, i, w, dst);
  }
}

/** z = M^{-1} r for the symmetric block Gauss-Seidel preconditioner. y is scratch. */
function precondition(cx: usize, r: usize, z: usize, y: usize): void {
  const c_tmp = getp(cx, DM_TMP);
  const c_w = getp(cx, DM_W);
  const c_n = geti(cx, DM_N);
  const c_q = geti(cx, DM_Q);
  const Q = c_q, n = c_n;
  // forward: y_q = Minv_q (r_q - sum_{s<q} A_qs y_s)
  for (let q = 0; q < Q; q++) {
    const sz = blockSize(cx, q);
    const tmp0 = c_tmp - (offOf(cx, q) << 3);
    memory.fill(c_tmp, 0, sz << 3);
    if (q > 0) {
      for (let i = 0; i < n; i++) {
        gatherRange(cx, i, 0, q, -1, y);
        scatterAcc(cx, q, i, wAt(c_w, i), tmp0);
      }
    }
    const R = r + (offOf(cx, q) << 3);
    for (let j: usize = 0; j < sz; j++) store<f64>(c_tmp + (j << 3), load<f64>(R + (j << 3)) - load<f64>(c_tmp + (j << 3)));
    applyMinv(cx, q, tmp0, y);
  }
  // backward: z_q = y_q - Minv_q sum_{s>q} A_qs z_s
  const last = Q - 1;
  memory.copy(z + (offOf(cx, last) << 3), y + (offOf(cx, last) << 3), blockSize(cx, last) << 3);
  for (let q = Q - 2; q >= 0; q--) {
    const sz = blockSize(cx, q);
    const tmp0 = c_tmp - (offOf(cx, q) << 3);
    memory.fill(c_tmp, 0, sz << 3);
    for (let i = 0; i < n; i++) {
      gatherRange(cx, i, q + 1, Q, -1, z);
      scatterAcc(cx, q, i, wAt(c_w, i), tmp0);
    }
    applyMinv(cx, q, tmp0, z); // z_q = Minv_q tmp (temporarily)
    const Y = y + (offOf(cx, q) << 3), Z = z + (offOf(cx, q) << 3);
    for (let j: usize = 0; j < sz; j++) store<f64>(Z + (j << 3), load<f64>(Y + (j << 3)) - load<f64>(Z + (j << 3)));
  }
}

/**
 * Zero the coefficient of level 0 of every dimension after the first that has an
 * intercept: with several FE the normal equations are singular (one redundant level per
 * extra dimension in a connected graph). CG then runs in the subspace where those stay
 * fixed, which removes the null space it would otherwise drift along.
 */
function pin(cx: usize, v: usize): void {
  const c_q = geti(cx, DM_Q);
  for (let q = 1; q < c_q; q++) {
    if (typeOf(cx, q) == 1) continue;
    const base = v + (offOf(cx, q) << 3);
    memory.fill(base, 0, <usize>geti(cx, DM_K) << 3);
  }
}

/** Per-column dot products out_k = sum over rows of a[r, k] b[r, k]. */
function dotK(cx: usize, a: usize, b: usize, rows: i32, out: usize): void {
  const K = geti(cx, DM_K);
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
function ssrK(cx: usize, A: usize, x_NK: usize, out: usize): void {
  const c_w = getp(cx, DM_W);
  const c_acc = getp(cx, DM_ACC);
  const c_map = getp(cx, DM_MAP);
  const c_n = geti(cx, DM_N);
  const c_q = geti(cx, DM_Q);
  const n = c_n, K = geti(cx, DM_K);
  memory.fill(out, 0, <usize>K << 3);
  for (let i = 0; i < n; i++) {
    gatherRange(cx, i, 0, c_q, -1, A);
    const w = wAt(c_w, i);
    for (let j = 0; j < K; j++) {
      const d = load<f64>(x_NK + ((<usize>mapOf(c_map, j) * <usize>n + <usize>i) << 3)) - load<f64>(c_acc + (<usize>j << 3));
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

/** Vector j of the CG per-column work (Kmax f64 each): 0 r'z, 1 new r'z, 2 p'Ap, 3 ssr, 4 ssr floor, 5 best criterion, 6 its iteration. */
@inline function cgv(cx: usize, colv: usize, j: i32): usize {
  return colv + (<usize>(j * geti(cx, DM_KMAX)) << 3);
}

export function pcg(cx: usize, A: usize, r: usize, z: usize, p: usize, Ap: usize, colv: usize, tol: f64, maxIter: i32,
  x_NK: usize, out_NK: usize, critMax: usize, mapSteps: i32): i32 {
  const rz = cgv(cx, colv, 0), ssr = cgv(cx, colv, 3), floor = cgv(cx, colv, 4);
  const best = cgv(cx, colv, 5), since = cgv(cx, colv, 6);
  const rows = geti(cx, DM_R);
  let T = rows * geti(cx, DM_K);
  // r = b - A a
  applyNormal(cx, A, Ap, T);
  for (let j = 0; j < T; j++) {
    const o = <usize>j << 3;
    store<f64>(r + o, load<f64>(getp(cx, DM_RHS) + o) - load<f64>(Ap + o));
  }
  pin(cx, r);
  precondition(cx, r, z, Ap);
  pin(cx, z);
  memory.copy(p, z, <usize>T << 3);
  dotK(cx, r, z, rows, rz);
  // sums of squared residuals: at the start, and decreased by alpha r'z at each step
  ssrK(cx, A, x_NK, ssr);
  for (let k = 0; k < geti(cx, DM_K); k++) store<f64>(floor + (<usize>k << 3), SSR_FLOOR * load<f64>(ssr + (<usize>k << 3)));
  // stagnation: each column's best criterion and the iteration that set it
  for (let k = 0; k < geti(cx, DM_K); k++) {
    store<f64>(best + (<usize>k << 3), Infinity);
    store<f64>(since + (<usize>k << 3), 0);
  }
  let it = 0;
  while (it < maxIter) {
    it++;
    if (it % CG_CHECK == 0) cgDriftCheck(cx, A, r, z, p, Ap, colv, T, x_NK);
    applyNormal(cx, p, Ap, T);
    dotK(cx, p, Ap, rows, cgv(cx, colv, 2));
    cgStep(cx, A, r, p, Ap, colv);
    const c = cgFlagRetiring(cx, colv, tol, it);
    if (c > 0) {
      recordFlagged(cx, mapSteps, it);
      cgRetire(cx, c, A, r, p, colv, x_NK, out_NK, critMax);
      T = rows * geti(cx, DM_K);
      if (geti(cx, DM_K) == 0) break;
    }
    cgDirection(cx, r, z, p, Ap, colv);
  }
  return it;
}

/**
 * Residual check: the recursively updated residual drifts from b - A a once the iterate nears
 * the precision this FE structure allows, and plain CG then breaks down or wanders. A column
 * whose residual has drifted (judged on that column alone, so that the restart does not
 * depend on the other columns of the call) restarts from its true residual (z is scratch
 * here, and so are the new r'z and p'Ap vectors of the per-column work, and DM_FLAG).
 */
function cgDriftCheck(cx: usize, A: usize, r: usize, z: usize, p: usize, Ap: usize, colv: usize, T: i32, x_NK: usize): void {
  const c_flag = getp(cx, DM_FLAG);
  const rows = geti(cx, DM_R), K = geti(cx, DM_K);
  const rz = cgv(cx, colv, 0), ssr = cgv(cx, colv, 3), v1 = cgv(cx, colv, 1), v2 = cgv(cx, colv, 2);
  applyNormal(cx, A, z, T);
  for (let j = 0; j < T; j++) {
    const o = <usize>j << 3;
    store<f64>(z + o, load<f64>(getp(cx, DM_RHS) + o) - load<f64>(z + o));
  }
  pin(cx, z);
  pin(cx, r);
  // per column: v1 = squared drift, v2 = squared true residual
  memory.fill(v1, 0, <usize>K << 3);
  memory.fill(v2, 0, <usize>K << 3);
  for (let row = 0; row < rows; row++) {
    const base = (<usize>row * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const o = base + (<usize>k << 3);
      const t = load<f64>(z + o);
      const d = t - load<f64>(r + o);
      const pd = v1 + (<usize>k << 3), pn = v2 + (<usize>k << 3);
      store<f64>(pd, load<f64>(pd) + d * d);
      store<f64>(pn, load<f64>(pn) + t * t);
    }
  }
  let any = false;
  for (let k = 0; k < K; k++) {
    const f = load<f64>(v1 + (<usize>k << 3)) > CG_DRIFT * load<f64>(v2 + (<usize>k << 3));
    store<i32>(c_flag + (<usize>k << 2), f ? 1 : 0);
    if (f) any = true;
  }
  if (!any) return;
  for (let row = 0; row < rows; row++) {
    const base = (<usize>row * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      if (load<i32>(c_flag + (<usize>k << 2)) == 0) continue;
      const o = base + (<usize>k << 3);
      store<f64>(r + o, load<f64>(z + o));
    }
  }
  precondition(cx, r, z, Ap);
  pin(cx, z);
  dotK(cx, r, z, rows, v1);
  ssrK(cx, A, x_NK, v2);
  for (let row = 0; row < rows; row++) {
    const base = (<usize>row * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      if (load<i32>(c_flag + (<usize>k << 2)) == 0) continue;
      const o = base + (<usize>k << 3);
      store<f64>(p + o, load<f64>(z + o));
    }
  }
  for (let k = 0; k < K; k++) {
    if (load<i32>(c_flag + (<usize>k << 2)) == 0) continue;
    const o = <usize>k << 3;
    store<f64>(rz + o, load<f64>(v1 + o));
    store<f64>(ssr + o, load<f64>(v2 + o));
  }
}

/** One CG step per column: A += alpha p, r -= alpha Ap with alpha = r'z / p'Ap; the criterion of the step into DM_CRIT. */
function cgStep(cx: usize, A: usize, r: usize, p: usize, Ap: usize, colv: usize): void {
  const c_crit = getp(cx, DM_CRIT);
  const rz = cgv(cx, colv, 0), pAp = cgv(cx, colv, 2);
  const rows = geti(cx, DM_R);
  const K = geti(cx, DM_K);
  memory.fill(c_crit, 0, <usize>K << 3);
  for (let row = 0; row < rows; row++) {
    const base = (<usize>row * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const den = load<f64>(pAp + (<usize>k << 3));
      if (!(den > 0)) {
        // p'Ap <= 0: either nothing is left (r'z = 0: converged) or a breakdown: p lies in
        // the null space of the singular normal equations, to rounding (the tolerance is
        // below what this FE structure allows). The column is then retired as it is, the
        // most accurate iterate CG reaches, and the call reports non-convergence.
        if (row == 0 && load<f64>(rz + (<usize>k << 3)) > 0) store<f64>(c_crit + (<usize>k << 3), Infinity);
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
      const cp = c_crit + (<usize>k << 3);
      if (m > load<f64>(cp)) store<f64>(cp, m);
    }
  }
}

/**
 * The stopping rule of the Krylov solvers (CG and LSMR) for active column k after a step whose
 * criterion is in DM_CRIT and whose flag flagConverged set: the step rule must be met with the
 * energy rule (the step decreased the sum of squared residuals, now `left`, by `drop`, at most
 * (ENERGY_TOL tol)^2 of it, or by rounding noise relative to the floor `fl`); a breakdown
 * (criterion Infinity) or stagnation (the best criterion at bp, set at iteration *ip) retires it
 * unconverged (flag 2). Returns the change in the count of flagged columns.
 */
export function judgeColumn(cx: usize, k: i32, drop: f64, left: f64, fl: f64, bp: usize, ip: usize, tol: f64, it: i32): i32 {
  const fp = getp(cx, DM_FLAG) + (<usize>k << 2);
  const crit = load<f64>(getp(cx, DM_CRIT) + (<usize>k << 3));
  let stalled = false;
  if (crit < STALL_GAIN * load<f64>(bp)) {
    store<f64>(bp, crit);
    store<f64>(ip, <f64>it);
  } else if (<f64>it - load<f64>(ip) > <f64>STALL_ITERS) stalled = true;
  if (crit == Infinity || (stalled && load<i32>(fp) == 0)) {
    store<i32>(fp, 2); // breakdown or stagnation: retire, not converged
    seti(cx, DM_STALLED, 1);
    return 1;
  }
  if (load<i32>(fp) != 0 && !(drop <= ENERGY_TOL * ENERGY_TOL * tol * tol * (left > fl ? left : fl) || drop <= (ENERGY_NOISE / SSR_FLOOR) * fl)) {
    store<i32>(fp, 0);
    return -1;
  }
  return 0;
}

/**
 * Flag the columns to retire after a step (DM_FLAG): converged by both the step rule and the
 * energy rule, or broken down / stagnated (then the call reports non-convergence). Updates the
 * running sums of squares and the stagnation records; returns the number flagged.
 */
function cgFlagRetiring(cx: usize, colv: usize, tol: f64, it: i32): i32 {
  const rz = cgv(cx, colv, 0), pAp = cgv(cx, colv, 2), ssr = cgv(cx, colv, 3), floor = cgv(cx, colv, 4);
  const best = cgv(cx, colv, 5), since = cgv(cx, colv, 6);
  const K = geti(cx, DM_K);
  let c = flagConverged(cx, tol);
  for (let k = 0; k < K; k++) {
    const den = load<f64>(pAp + (<usize>k << 3));
    const rzk = load<f64>(rz + (<usize>k << 3));
    const drop = den > 0 ? rzk * rzk / den : 0.0;
    const sp = ssr + (<usize>k << 3);
    const left = load<f64>(sp) - drop;
    store<f64>(sp, left);
    c += judgeColumn(cx, k, drop, left, load<f64>(floor + (<usize>k << 3)), best + (<usize>k << 3), since + (<usize>k << 3), tol, it);
  }
  return c;
}

/** Retire the c flagged columns: their criterion into *critMax, their residuals, and out of every vector. */
function cgRetire(cx: usize, c: i32, A: usize, r: usize, p: usize, colv: usize, x_NK: usize, out_NK: usize, critMax: usize): void {
  const c_crit = getp(cx, DM_CRIT);
  const c_flag = getp(cx, DM_FLAG);
  const rz = cgv(cx, colv, 0), ssr = cgv(cx, colv, 3), floor = cgv(cx, colv, 4);
  const best = cgv(cx, colv, 5), since = cgv(cx, colv, 6);
  const rows = geti(cx, DM_R);
  const K = geti(cx, DM_K);
  for (let k = 0; k < K; k++) {
    if (load<i32>(c_flag + (<usize>k << 2)) == 0) continue;
    const v = load<f64>(c_crit + (<usize>k << 3));
    if (v > load<f64>(critMax)) store<f64>(critMax, v);
  }
  residualsFlagged(cx, A, x_NK, out_NK);
  keepColumns(cx, A, A, rows, 0);
  keepColumns(cx, getp(cx, DM_RHS), getp(cx, DM_RHS), rows, 0);
  keepColumns(cx, r, r, rows, 0);
  keepColumns(cx, p, p, rows, 0);
  keepColumns(cx, rz, rz, 1, 0);
  keepColumns(cx, ssr, ssr, 1, 0);
  keepColumns(cx, floor, floor, 1, 0);
  keepColumns(cx, best, best, 1, 0);
  keepColumns(cx, since, since, 1, 0);
  keepColumns(cx, c_crit, c_crit, 1, 0);
  dropFlagged(cx, c);
}

/** The next search direction: z = M^-1 r, p = z + beta p with beta = new r'z / old r'z. */
function cgDirection(cx: usize, r: usize, z: usize, p: usize, Ap: usize, colv: usize): void {
  const rz = cgv(cx, colv, 0), rzNew = cgv(cx, colv, 1);
  const rows = geti(cx, DM_R);
  pin(cx, r);
  precondition(cx, r, z, Ap);
  pin(cx, z);
  dotK(cx, r, z, rows, rzNew);
  const K2 = geti(cx, DM_K);
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

// ---- driver ----------------------------------------------------------------------------

/**
 * MAP: retire the flagged columns (their criterion met tol after the sweep that produced
 * the current state): one more sweep on their coefficients alone, as a lone column would
 * get, then their residuals. V1/V2 are scratch of T (full K) f64 each.
 */
function retireMap(cx: usize, c: i32, A: usize, X: usize, GX: usize, V1: usize, V2: usize, x_NK: usize, out_NK: usize): void {
  const c_map = getp(cx, DM_MAP);
  const c_mapc = getp(cx, DM_MAPC);
  const rows = geti(cx, DM_R), rowsS = geti(cx, DM_R) - geti(cx, DM_R0);
  if (c == geti(cx, DM_K)) {
    // every active column retires: the packed copies would be A and rhs themselves, so sweep
    // in place (the same operations; V1 and V2 stay untouched, which spares a first fit
    // their fresh pages)
    sweep(cx, A);
    residualsMapped(cx, A, c_map, x_NK, out_NK);
    seti(cx, DM_K, 0);
    layout(cx, 0);
    return;
  }
  // the retiring columns, packed rows x c
  keepColumns(cx, A, V1, rows, 1);
  keepColumns(cx, getp(cx, DM_RHS), V2, rows, 1);
  keepMap(cx, c_map, c_mapc, 1);
  // the others, compacted in place
  keepColumns(cx, A, A, rows, 0);
  keepColumns(cx, getp(cx, DM_RHS), getp(cx, DM_RHS), rows, 0);
  keepColumns(cx, X, X, rowsS, 0);
  keepColumns(cx, GX, GX, rowsS, 0);
  const u = geti(cx, DM_K) - c;
  dropFlagged(cx, c);
  const rhs = getp(cx, DM_RHS);
  seti(cx, DM_K, c);
  layout(cx, c);
  setp(cx, DM_RHS, V2);
  sweep(cx, V1);
  residualsMapped(cx, V1, c_mapc, x_NK, out_NK);
  setp(cx, DM_RHS, rhs);
  seti(cx, DM_K, u);
  layout(cx, u);
}

/**
 * Lay out the scratch for the call's columns and write the working pointers and counts into
 * the context. Returns false on bad dimensions.
 */
export function prepare(cx: usize, scratch: usize): bool {
  const Q = geti(cx, DM_Q), K = geti(cx, DM_KMAX);
  let rows = 0, maxq = 0, mtot = 0;
  for (let q = 0; q < Q; q++) {
    const G = groupsOf(cx, q);
    if (G <= 0) return false;
    const c = nc(typeOf(cx, q));
    const sz = G * c * K;
    rows += G * c;
    if (sz > maxq) maxq = sz;
    mtot += G * c * c;
  }
  const T = rows * K;
  seti(cx, DM_K, K);
  seti(cx, DM_R, rows);
  seti(cx, DM_R0, groupsOf(cx, 0) * nc(typeOf(cx, 0)));
  seti(cx, DM_STALLED, 0);
  // A, rhs, X, GX, V1, V2 (T f64 each), tmp, Minv, then the per-column vectors
  setp(cx, DM_RHS, scratch + (<usize>T << 3));
  const tmp = scratch + (<usize>(6 * T) << 3);
  setp(cx, DM_TMP, tmp);
  setp(cx, DM_MINV, tmp + (<usize>maxq << 3));
  const colv = tmp + (<usize>(maxq + mtot) << 3); // 7K f64
  const crit = colv + (<usize>(7 * K) << 3); // K f64
  const map = crit + (<usize>K << 3); // K i32
  setp(cx, DM_CRIT, crit);
  setp(cx, DM_MAP, map);
  setp(cx, DM_MAPC, map + (<usize>K << 2)); // K i32
  const flag = map + (<usize>(2 * K) << 2); // K i32
  setp(cx, DM_FLAG, flag);
  const acc = flag + (<usize>(2 * K) << 2); // K f64 (16-byte aligned: 8 * (T * 6 + ...) + 4 * 4K)
  setp(cx, DM_ACC, acc);
  const offs = acc + (<usize>K << 3); // 2Q i32
  setp(cx, DM_OFF, offs);
  setp(cx, DM_MOFF, offs + (<usize>Q << 2));
  let m = 0;
  for (let q = 0; q < Q; q++) {
    const c = nc(typeOf(cx, q));
    store<i32>(offs + (<usize>(Q + q) << 2), m);
    m += groupsOf(cx, q) * c * c;
  }
  layout(cx, K);
  for (let k = 0; k < K; k++) store<i32>(map + (<usize>k << 2), k);
  memory.fill(crit, 0, <usize>K << 3);
  return true;
}

/** Vector j (0 A, 1 rhs, 2 X, 3 GX, 4 V1, 5 V2) of the scratch: T f64 each. */
@inline export function vecOf(cx: usize, scratch: usize, j: i32): usize {
  return scratch + ((<usize>j * <usize>geti(cx, DM_R) * <usize>geti(cx, DM_KMAX)) << 3);
}

/** The per-column step-length vectors (7 Kmax f64) after tmp and Minv. */
@inline export function colvOf(cx: usize): usize {
  return getp(cx, DM_CRIT) - (<usize>(7 * geti(cx, DM_KMAX)) << 3);
}

/** Raise *critMax to the criterion of every flagged column. */
function raiseCritFlagged(cx: usize, critMax: usize): void {
  const c_crit = getp(cx, DM_CRIT);
  const c_flag = getp(cx, DM_FLAG);
  const flag = c_flag, crit = c_crit;
  for (let k = 0; k < geti(cx, DM_K); k++) {
    if (load<i32>(flag + (<usize>k << 2)) == 0) continue;
    const v = load<f64>(crit + (<usize>k << 3));
    if (v > load<f64>(critMax)) store<f64>(critMax, v);
  }
}

/** Irons-Tuck extrapolation of the iterated state from X, GX = G(X) and state = G(G(X)), one step length per column. */
function ironsTuck(cx: usize, X: usize, GX: usize, state: usize, rowsS: i32): void {
  const Kc = geti(cx, DM_K);
  const colv = colvOf(cx);
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

/**
 * Accelerated MAP from A = 0 for at most `limit` steps, retiring columns as they converge
 * (their largest criterion raises *critMax). Returns the steps run; the columns still active
 * at the end are left consistent with the accelerated state.
 */
export function mapPhase(cx: usize, scratch: usize, limit: i32, x_NK: usize, out_NK: usize, critMax: usize): i32 {
  const c_crit = getp(cx, DM_CRIT);
  const tol = load<f64>(cx + DM_TOL);
  const A = vecOf(cx, scratch, 0), X = vecOf(cx, scratch, 2), GX = vecOf(cx, scratch, 3);
  const V1 = vecOf(cx, scratch, 4), V2 = vecOf(cx, scratch, 5);
  const R0 = geti(cx, DM_R0), rowsS = geti(cx, DM_R) - R0;
  sweep(cx, A);
  let iters = 0;
  while (iters < limit) {
    iters++;
    let S = rowsS * geti(cx, DM_K);
    let state = A + ((<usize>R0 * <usize>geti(cx, DM_K)) << 3);
    memory.copy(X, state, <usize>S << 3);
    sweep(cx, A);
    memory.copy(GX, state, <usize>S << 3);
    sweep(cx, A);
    criterionK(cx, GX, state, rowsS);
    const c = flagConverged(cx, tol);
    if (c > 0) {
      recordFlagged(cx, iters, 0);
      raiseCritFlagged(cx, critMax);
      keepColumns(cx, c_crit, c_crit, 1, 0);
      retireMap(cx, c, A, X, GX, V1, V2, x_NK, out_NK);
      if (geti(cx, DM_K) == 0) break;
      S = rowsS * geti(cx, DM_K);
      state = A + ((<usize>R0 * <usize>geti(cx, DM_K)) << 3);
    }
    ironsTuck(cx, X, GX, state, rowsS);
  }
  // columns still active: make every block consistent with the accelerated state
  if (geti(cx, DM_K) > 0) sweep(cx, A);
  return iters;
}
