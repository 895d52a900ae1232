// Randomization inference (in-space / in-time placebo draws) by Frisch-Waugh-Lovell.
//
// The coefficient of a placebo treatment D* in y ~ D* + controls | FE is
//   b* = (D~*' e_y) / (D~*' D~*)
// with D~* = D* demeaned on the FEs (weighted) and residualised on the demeaned controls,
// and e_y = y~ residualised on the controls. Nothing here refits a model.
//
// Two ways to get D~*' D~*:
//   - general: build each draw's D* (treatColumns), demean it with the demean kernel (the
//     binding), residualise (projectOut), and reduce (treatStats);
//   - basis: when a draw only says which unit gets which cohort, D* = sum over treated
//     units u of B(u, c(u)) with B(u, c) = 1{row in u and year >= c}. The binding demeans
//     each basis column once and forms the Gram matrix G and the products g with e_y
//     (unitYearAggregate); each draw is then O(R^2) arithmetic (permDraws).
//
// Draw d always uses the stream fork(d) of the seed's key (assembly/rng.ts, the twin of
// bindings/base/rng.ts), so draws are identical in Node and browsers and whatever the split
// of draws across threads.
//
// Naming: _N per observation, _U per unit, _T per distinct year, _C per cohort,
// _B per basis column (B = U * C, index u * C + c), _K per column of a block, _D per draw.
import { OK, BAD_ARGUMENT } from "./status";
import { dotFrom, axpyFrom } from "./vec";
import { rngSeedFork, rngInt } from "./rng";


// ---- linear algebra helpers ---------------------------------------------------------------

/**
 * Orthonormalise the k columns of x_NK in place (classical Gram-Schmidt, twice: "CGS2").
 * A column whose norm after projection is at most sqrt(tol) times its norm before is
 * collinear with the earlier ones: it is zeroed and keep_K[j] = 0 (else 1).
 */
export function orthonormalize(x_NK: usize, keep_K: usize, n: i32, k: i32, tol: f64): i32 {
  if (n <= 0 || k < 0) return BAD_ARGUMENT;
  for (let j = 0; j < k; j++) {
    const xj = x_NK + ((<usize>j * <usize>n) << 3);
    const before = Math.sqrt(dotFrom(xj, xj, 0, n));
    for (let pass = 0; pass < 2; pass++) {
      for (let l = 0; l < j; l++) {
        if (load<i32>(keep_K + (<usize>l << 2)) == 0) continue;
        const xl = x_NK + ((<usize>l * <usize>n) << 3);
        axpyFrom(xj, xl, dotFrom(xl, xj, 0, n), 0, n);
      }
    }
    const after = Math.sqrt(dotFrom(xj, xj, 0, n));
    if (!(before > 0) || after <= Math.sqrt(tol) * before) {
      memory.fill(xj, 0, <usize>n << 3);
      store<i32>(keep_K + (<usize>j << 2), 0);
      continue;
    }
    const inv = 1.0 / after;
    for (let i = 0; i < n; i++) store<f64>(xj + (<usize>i << 3), load<f64>(xj + (<usize>i << 3)) * inv);
    store<i32>(keep_K + (<usize>j << 2), 1);
  }
  return OK;
}

/** v_NK -= Q (Q' v) for K columns, with Q_Nk orthonormal (zero columns allowed). Twice for stability. */
export function projectOut(v_NK: usize, n: i32, k: i32, q_Nk: usize, K: i32): i32 {
  if (n < 0 || k < 0 || K < 0) return BAD_ARGUMENT;
  for (let c = 0; c < K; c++) {
    const v = v_NK + ((<usize>c * <usize>n) << 3);
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < k; j++) {
        const q = q_Nk + ((<usize>j * <usize>n) << 3);
        const f = dotFrom(q, v, 0, n);
        if (f != 0) axpyFrom(v, q, f, 0, n);
      }
    }
  }
  return OK;
}

// ---- basis columns and their aggregates ----------------------------------------------------

/** out_NK[i, k] = 1 if unit_N[i] == unit_K[k] and yearIdx_N[i] >= t_K[k], else 0. */
export function basisColumns(out_NK: usize, n: i32, unit_N: usize, yearIdx_N: usize, K: i32, unit_K: usize, t_K: usize): i32 {
  if (n < 0 || K < 0) return BAD_ARGUMENT;
  memory.fill(out_NK, 0, (<usize>n * <usize>K) << 3);
  for (let i = 0; i < n; i++) {
    const u = load<i32>(unit_N + (<usize>i << 2));
    const t = load<i32>(yearIdx_N + (<usize>i << 2));
    for (let k = 0; k < K; k++) {
      if (load<i32>(unit_K + (<usize>k << 2)) == u && t >= load<i32>(t_K + (<usize>k << 2))) {
        store<f64>(out_NK + ((<usize>k * <usize>n + <usize>i) << 3), 1.0);
      }
    }
  }
  return OK;
}

/**
 * Aggregate K columns onto the basis: out_BK[u*C + c, k] = sum over rows i of unit u with
 * yearIdx >= cohortT_C[c] of w_i v_NK[i, k] (w_N = 0 pointer: w = 1).
 * cell_UT is scratch of U*T f64.
 */
export function unitYearAggregate(
  out_BK: usize, cell_UT: usize, n: i32, K: i32, v_NK: usize, w_N: usize, unit_N: usize,
  yearIdx_N: usize, U: i32, T: i32, C: i32, cohortT_C: usize,
): i32 {
  if (n < 0 || K < 0 || U <= 0 || T <= 0 || C < 0) return BAD_ARGUMENT;
  const B = <usize>U * <usize>C;
  for (let k = 0; k < K; k++) {
    memory.fill(cell_UT, 0, (<usize>U * <usize>T) << 3);
    const v = v_NK + ((<usize>k * <usize>n) << 3);
    for (let i = 0; i < n; i++) {
      const u = load<i32>(unit_N + (<usize>i << 2));
      const t = load<i32>(yearIdx_N + (<usize>i << 2));
      let x = load<f64>(v + (<usize>i << 3));
      if (w_N != 0) x *= load<f64>(w_N + (<usize>i << 3));
      const p = cell_UT + ((<usize>u * <usize>T + <usize>t) << 3);
      store<f64>(p, load<f64>(p) + x);
    }
    // suffix sums over years, per unit
    for (let u = 0; u < U; u++) {
      const row = cell_UT + ((<usize>u * <usize>T) << 3);
      for (let t = T - 2; t >= 0; t--) {
        store<f64>(row + (<usize>t << 3), load<f64>(row + (<usize>t << 3)) + load<f64>(row + (<usize>(t + 1) << 3)));
      }
    }
    const out = out_BK + ((<usize>k * B) << 3);
    for (let u = 0; u < U; u++) {
      const row = cell_UT + ((<usize>u * <usize>T) << 3);
      for (let c = 0; c < C; c++) {
        const t = load<i32>(cohortT_C + (<usize>c << 2));
        store<f64>(out + ((<usize>u * <usize>C + <usize>c) << 3), t < T ? load<f64>(row + (<usize>t << 3)) : 0.0);
      }
    }
  }
  return OK;
}

// ---- general path: one column per draw ------------------------------------------------------

/**
 * out_NK[i, k] = 1{yearIdx_N[i] >= cohortT_C[a]} with a = assign_UK[unit_N[i], k] (cohort
 * index, -1 = never treated: 0).
 */
export function treatColumns(
  out_NK: usize, n: i32, unit_N: usize, yearIdx_N: usize, U: i32, K: i32, assign_UK: usize,
  cohortT_C: usize,
): i32 {
  if (n < 0 || K < 0 || U <= 0) return BAD_ARGUMENT;
  for (let k = 0; k < K; k++) {
    const a = assign_UK + ((<usize>k * <usize>U) << 2);
    const out = out_NK + ((<usize>k * <usize>n) << 3);
    for (let i = 0; i < n; i++) {
      const c = load<i32>(a + (<usize>load<i32>(unit_N + (<usize>i << 2)) << 2));
      let d: f64 = 0;
      if (c >= 0 && load<i32>(yearIdx_N + (<usize>i << 2)) >= load<i32>(cohortT_C + (<usize>c << 2))) d = 1;
      store<f64>(out + (<usize>i << 3), d);
    }
  }
  return OK;
}

/**
 * For K raw treatment columns d_NK and their demeaned, sqrt-weighted, residualised versions
 * dt_NK: num_K = sum sw d e, den_K = sum sw d dt, raw_K = sum sw^2 d^2 (sw_N = 0: sw = 1).
 */
export function treatStats(
  num_K: usize, den_K: usize, raw_K: usize, n: i32, K: i32, d_NK: usize, dt_NK: usize, sw_N: usize,
  e_N: usize,
): i32 {
  if (n < 0 || K < 0) return BAD_ARGUMENT;
  for (let k = 0; k < K; k++) {
    const d = d_NK + ((<usize>k * <usize>n) << 3);
    const dt = dt_NK + ((<usize>k * <usize>n) << 3);
    let num: f64 = 0, den: f64 = 0, raw: f64 = 0;
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 3;
      const x = load<f64>(d + o);
      if (x == 0) continue;
      const s = sw_N != 0 ? load<f64>(sw_N + o) : 1.0;
      num += s * x * load<f64>(e_N + o);
      den += s * x * load<f64>(dt + o);
      raw += s * s * x * x;
    }
    store<f64>(num_K + (<usize>k << 3), num);
    store<f64>(den_K + (<usize>k << 3), den);
    store<f64>(raw_K + (<usize>k << 3), raw);
  }
  return OK;
}

// ---- the per-draw loop ----------------------------------------------------------------------

export const SCHEME_SPACE: i32 = 0;
export const SCHEME_RANDOM_TIME: i32 = 1;
export const SCHEME_GIVEN: i32 = 2;

/**
 * Draws d in [d0, d0 + nd).
 *
 * Assignment of draw d (cohort index per unit, -1 never treated):
 *   SCHEME_SPACE: stream fork(d); the units are listed by stratum (order_U: unit at each
 *     position, strata are the position ranges strataStart_S1[s] .. strataStart_S1[s+1]);
 *     cohort0_U holds the observed cohort at each position; each stratum's values are
 *     shuffled in turn by Fisher-Yates (Rng.shuffle) and position p's value goes to unit
 *     order_U[p]. The multiset of cohorts (never treated included) is kept in each stratum.
 *   SCHEME_RANDOM_TIME: stream fork(d); positions in turn; a position with cohort0 >= 0
 *     gets cand_M[int(nCand)], the others stay never treated.
 *   SCHEME_GIVEN: given_UD[(d - d0) * U + u].
 * If outAssign_UD != 0 the assignments are written there ((d - d0) * U + u).
 * If gram_BB != 0: b*_d = sum_a g_B[a] / sum_ab gram_BB[a, b] over the basis columns
 * a = u * C + c(u) of the treated units, NaN when the denominator is at most collinTol
 * times sum_a raw_B[a] (the placebo treatment is absorbed by the FEs and controls).
 * Scratch: work_U (U i32), assign_U (U i32), idx_U (U i32), rng_4 (a generator state, assembly/rng.ts).
 */
export function permDraws(
  outAssign_UD: usize, outB_D: usize, work_U: usize, assign_U: usize, idx_U: usize, rng_4: usize, scheme: i32,
  U: i32, keyHi: u32, keyLo: u32, d0: f64, nd: i32, nStrata: i32, strataStart_S1: usize,
  order_U: usize, cohort0_U: usize, nCand: i32, cand_M: usize, given_UD: usize, C: i32, gram_BB: usize,
  g_B: usize, raw_B: usize, collinTol: f64,
): i32 {
  if (U <= 0 || nd < 0 || scheme < 0 || scheme > 2) return BAD_ARGUMENT;
  if (scheme == SCHEME_RANDOM_TIME && nCand <= 0) return BAD_ARGUMENT;
  const B = <usize>U * <usize>C;
  for (let dd = 0; dd < nd; dd++) {
    if (scheme == SCHEME_GIVEN) {
      memory.copy(assign_U, given_UD + ((<usize>dd * <usize>U) << 2), <usize>U << 2);
    } else {
      rngSeedFork(rng_4, keyHi, keyLo, d0 + <f64>dd);
      if (scheme == SCHEME_SPACE) {
        memory.copy(work_U, cohort0_U, <usize>U << 2);
        for (let s = 0; s < nStrata; s++) {
          const lo = load<i32>(strataStart_S1 + (<usize>s << 2));
          const hi = load<i32>(strataStart_S1 + (<usize>(s + 1) << 2));
          for (let i = hi - lo - 1; i > 0; i--) {
            const j = <i32>rngInt(rng_4, <u32>(i + 1));
            const pi = work_U + (<usize>(lo + i) << 2);
            const pj = work_U + (<usize>(lo + j) << 2);
            const t = load<i32>(pi);
            store<i32>(pi, load<i32>(pj));
            store<i32>(pj, t);
          }
        }
      } else {
        for (let p = 0; p < U; p++) {
          const c0 = load<i32>(cohort0_U + (<usize>p << 2));
          store<i32>(work_U + (<usize>p << 2), c0 >= 0 ? load<i32>(cand_M + (<usize>rngInt(rng_4, <u32>nCand) << 2)) : -1);
        }
      }
      for (let p = 0; p < U; p++) {
        store<i32>(assign_U + (<usize>load<i32>(order_U + (<usize>p << 2)) << 2), load<i32>(work_U + (<usize>p << 2)));
      }
    }
    if (outAssign_UD != 0) memory.copy(outAssign_UD + ((<usize>dd * <usize>U) << 2), assign_U, <usize>U << 2);
    if (gram_BB == 0) continue;
    // treated basis columns, ascending (rows of the Gram matrix visited in order)
    let R = 0;
    let num: f64 = 0, raw: f64 = 0;
    for (let u = 0; u < U; u++) {
      const c = load<i32>(assign_U + (<usize>u << 2));
      if (c < 0) continue;
      const a = <i32>(<usize>u * <usize>C + <usize>c);
      store<i32>(idx_U + (<usize>R << 2), a);
      R++;
      num += load<f64>(g_B + (<usize>a << 3));
      raw += load<f64>(raw_B + (<usize>a << 3));
    }
    let diag: f64 = 0, off: f64 = 0;
    for (let r = 0; r < R; r++) {
      const a = <usize>load<i32>(idx_U + (<usize>r << 2));
      const row = gram_BB + ((a * B) << 3);
      diag += load<f64>(row + (a << 3));
      let acc: f64 = 0;
      for (let s = r + 1; s < R; s++) acc += load<f64>(row + (<usize>load<i32>(idx_U + (<usize>s << 2)) << 3));
      off += acc;
    }
    const den = diag + 2 * off;
    store<f64>(outB_D + (<usize>dd << 3), R > 0 && den > collinTol * raw ? num / den : NaN);
  }
  return OK;
}

export const permute_KERNELS_VERSION: i32 = 1;
