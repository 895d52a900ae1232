// LSMR (Fong & Saunders 2011, "LSMR: an iterative algorithm for sparse least-squares
// problems"; the recurrences of scipy.sparse.linalg.lsmr without damping) for the FE
// coefficients: min over y of || W^1/2 (D S y - b) ||, a = a0 + S y, b = x - D a0, with the
// diagonal (Jacobi / column-norm) preconditioner S: S S' = Minv, the per-level inverse Gram
// blocks of setup() (1 / sum w b^2 for a plain or slope-only level: S = its square root; for
// a FE + slope level the Cholesky factor of its inverse 2 x 2 block). FixedEffectModels.jl's
// solver; the third algorithm of the demeaning kernel (assembly/demean.ts, algo 3).
//
// Unlike CG on the normal equations, LSMR's Golub-Kahan bidiagonalization keeps a vector u in
// observation space: n x K f64 (row-major: u[i * K + k]) beside the coefficient vectors, and
// two more, A h and A hbar (A = W^1/2 D S), for the energy of each step (below); passed by the
// binding through DM_U with the per-column scalars after them (demeanLsmrScratch: 3 n K + 26 K
// f64). Each iteration is one gather pass (u = A v - alpha u) and one scatter pass
// (v = A'u - beta v) over the rows, the loops of CG's D'WD product (gatherRange, scatterRow)
// split in two, and one streaming pass (A hbar).
//
// Convergence is per column and columns retire as the other solvers' do (assembly/demean.ts,
// "per-column convergence"), with CG's stopping rule (judgeColumn): the largest coefficient
// step meets fixef.tol (fixest's criterion) and the step's decrease of the sum of squared
// residuals, ||A dy||^2 (CG's alpha r'z: the same quantity, computed here from A hbar, since the
// difference of LSMR's running estimates of ||r||^2 is rounding noise at 1e-20 of it), is at
// most (ENERGY_TOL tol)^2 of that sum (LSMR's estimate of ||r||^2).
import {
  geti, getp, nc, groupsOf, typeOf, offOf, gatherRange, scatterRow, flagConverged, keepColumns,
  residualsFlagged, dropFlagged, recordFlagged, judgeColumn, SSR_FLOOR,
} from "./demean";
import { DM_CODES, DM_N, DM_Q, DM_K, DM_KMAX, DM_R, DM_W, DM_MINV, DM_MOFF, DM_CRIT, DM_FLAG, DM_MAP, DM_ACC, DM_U } from "./context";

/**
 * Per-column scalars of LSMR, NSC vectors of Kmax f64 after u: 0 alpha, 1 beta, 2 zetabar,
 * 3 alphabar, 4 rho, 5 rhobar, 6 cbar, 7 sbar, 8 betadd, 9 betad, 10 rhodold, 11 tautildeold,
 * 12 thetatilde, 13 zeta, 14 ||r||^2 estimate, 15 its floor, 16 best criterion, 17 its
 * iteration, 18-20 the step's coefficients (hbar, a, h), 21 decrease of ||r||^2, 22 done
 * (1: nothing left to do), 23 a norm being summed, 24-25 a rotation's c and s.
 */
const NSC = 26;

/** f64 of the LSMR scratch the binding passes through DM_U for n rows and K columns. */
export function demeanLsmrScratch(n: i32, K: i32): f64 {
  return 3 * <f64>n * <f64>K + <f64>(NSC * K);
}

/** Observation-space vector j (0 u, 1 A h, 2 A hbar): n x Kmax f64 each. */
@inline function obs(cx: usize, j: i32): usize {
  return getp(cx, DM_U) + ((<usize>j * <usize>geti(cx, DM_N) * <usize>geti(cx, DM_KMAX)) << 3);
}

@inline function sc(cx: usize, j: i32): usize {
  const kmax = <usize>geti(cx, DM_KMAX);
  return getp(cx, DM_U) + ((3 * <usize>geti(cx, DM_N) * kmax + <usize>j * kmax) << 3);
}
@inline function ld(cx: usize, j: i32, k: i32): f64 {
  return load<f64>(sc(cx, j) + (<usize>k << 3));
}
@inline function st(cx: usize, j: i32, k: i32, v: f64): void {
  store<f64>(sc(cx, j) + (<usize>k << 3), v);
}

/** The inverse Gram blocks of setup() replaced by their factors S (S S' = Minv): c 1 sqrt(m); c 2 [s00 0; s10 s11] at [0], [1], [3]. */
function toFactors(cx: usize): void {
  const Q = geti(cx, DM_Q);
  for (let q = 0; q < Q; q++) {
    const G = groupsOf(cx, q);
    const M = getp(cx, DM_MINV) + ((<usize>load<i32>(getp(cx, DM_MOFF) + (<usize>q << 2))) << 3);
    if (nc(typeOf(cx, q)) == 1) {
      for (let g = 0; g < G; g++) {
        const p = M + (<usize>g << 3);
        store<f64>(p, Math.sqrt(load<f64>(p)));
      }
    } else {
      for (let g = 0; g < G; g++) {
        const p = M + (<usize>(g * 4) << 3);
        const s00 = Math.sqrt(load<f64>(p));
        const s10 = s00 > 0 ? load<f64>(p + 8) / s00 : 0.0;
        const d = load<f64>(p + 24) - s10 * s10;
        store<f64>(p + 8, s10);
        store<f64>(p + 16, 0);
        store<f64>(p, s00);
        store<f64>(p + 24, d > 0 ? Math.sqrt(d) : 0.0);
      }
    }
  }
}

/**
 * dst = S src (mode 0), or, mode 1, dst = S' src - beta_k dst for the columns with beta_k > 0
 * (beta: a per-column vector; the other columns' dst is left as it is).
 */
function applyS(cx: usize, src: usize, dst: usize, mode: i32, beta: usize): void {
  const Q = geti(cx, DM_Q), K = geti(cx, DM_K);
  for (let q = 0; q < Q; q++) {
    const G = groupsOf(cx, q);
    const M = getp(cx, DM_MINV) + ((<usize>load<i32>(getp(cx, DM_MOFF) + (<usize>q << 2))) << 3);
    const s = src + (offOf(cx, q) << 3), d = dst + (offOf(cx, q) << 3);
    if (nc(typeOf(cx, q)) == 1) {
      for (let g = 0; g < G; g++) {
        const m = load<f64>(M + (<usize>g << 3));
        const o = (<usize>g * <usize>K) << 3;
        for (let k = 0; k < K; k++) {
          const p = o + (<usize>k << 3);
          if (mode == 0) store<f64>(d + p, m * load<f64>(s + p));
          else {
            const b = load<f64>(beta + (<usize>k << 3));
            if (b > 0) store<f64>(d + p, m * load<f64>(s + p) - b * load<f64>(d + p));
          }
        }
      }
    } else {
      for (let g = 0; g < G; g++) {
        const mp = M + (<usize>(g * 4) << 3);
        const s00 = load<f64>(mp), s10 = load<f64>(mp + 8), s11 = load<f64>(mp + 24);
        for (let k = 0; k < K; k++) {
          const p0 = (<usize>(g * 2) * <usize>K + <usize>k) << 3;
          const p1 = (<usize>(g * 2 + 1) * <usize>K + <usize>k) << 3;
          const r0 = load<f64>(s + p0), r1 = load<f64>(s + p1);
          if (mode == 0) {
            store<f64>(d + p0, s00 * r0);
            store<f64>(d + p1, s10 * r0 + s11 * r1);
          } else {
            const b = load<f64>(beta + (<usize>k << 3));
            if (!(b > 0)) continue;
            store<f64>(d + p0, s00 * r0 + s10 * r1 - b * load<f64>(d + p0));
            store<f64>(d + p1, s11 * r1 - b * load<f64>(d + p1));
          }
        }
      }
    }
  }
}

/**
 * The observation-space pass: u_i = sqrt(w_i) (x_i - (D V)_i) (mode 0: the start, V = a0) or,
 * mode 1 (V = S v), with Av_i = sqrt(w_i) (D V)_i: u_i = Av_i - alpha u_i and
 * (A h)_i = Av_i - c20 (A h)_i (h = v - c20 h of the previous step); the squared norms of u
 * into slot 23.
 */
function forward(cx: usize, V: usize, U: usize, x_NK: usize, mode: i32): void {
  const n = geti(cx, DM_N), Q = geti(cx, DM_Q), K = geti(cx, DM_K);
  const w = getp(cx, DM_W), acc = getp(cx, DM_ACC), map = getp(cx, DM_MAP);
  const nrm = sc(cx, 23), alpha = sc(cx, 0), ch = sc(cx, 20), AH = obs(cx, 1);
  memory.fill(nrm, 0, <usize>K << 3);
  const fast = mode == 1 && plainDims(cx);
  const codes = getp(cx, DM_CODES);
  const b0 = V + (offOf(cx, 0) << 3), b1 = V + (offOf(cx, 1) << 3), b2 = Q == 3 ? V + (offOf(cx, 2) << 3) : 0;
  const c1 = codes + ((<usize>n) << 2), c2 = codes + ((<usize>(2 * n)) << 2);
  for (let i = 0; i < n; i++) {
    const sw = w != 0 ? Math.sqrt(load<f64>(w + (<usize>i << 3))) : 1.0;
    const ro = (<usize>i * <usize>K) << 3;
    const row = U + ro;
    if (fast) {
      // two or three plain dimensions: the gather without gatherRange's accumulator
      const io = <usize>i << 2;
      const p0 = b0 + ((<usize>load<i32>(codes + io) * <usize>K) << 3);
      const p1 = b1 + ((<usize>load<i32>(c1 + io) * <usize>K) << 3);
      const p2 = Q == 3 ? b2 + ((<usize>load<i32>(c2 + io) * <usize>K) << 3) : 0;
      for (let k = 0; k < K; k++) {
        const o = <usize>k << 3;
        let a = load<f64>(p0 + o) + load<f64>(p1 + o);
        if (Q == 3) a += load<f64>(p2 + o);
        const av = sw * a;
        const u = av - load<f64>(alpha + o) * load<f64>(row + o);
        const hp = AH + ro + o;
        store<f64>(hp, av - load<f64>(ch + o) * load<f64>(hp));
        store<f64>(row + o, u);
        store<f64>(nrm + o, load<f64>(nrm + o) + u * u);
      }
      continue;
    }
    gatherRange(cx, i, 0, Q, -1, V);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 3;
      let u: f64;
      if (mode == 0) {
        u = sw * (load<f64>(x_NK + ((<usize>load<i32>(map + (<usize>k << 2)) * <usize>n + <usize>i) << 3)) - load<f64>(acc + o));
      } else {
        const av = sw * load<f64>(acc + o);
        u = av - load<f64>(alpha + o) * load<f64>(row + o);
        const hp = AH + ro + o;
        store<f64>(hp, av - load<f64>(ch + o) * load<f64>(hp));
      }
      store<f64>(row + o, u);
      store<f64>(nrm + o, load<f64>(nrm + o) + u * u);
    }
  }
}

/** Two or three dimensions, all plain FE (the passes' fast paths). */
function plainDims(cx: usize): bool {
  const Q = geti(cx, DM_Q);
  if (Q < 2 || Q > 3) return false;
  for (let q = 0; q < Q; q++) if (typeOf(cx, q) != 0) return false;
  return true;
}

/** A hbar = A h - c18 A hbar, and the energy of the step, c19^2 ||A hbar||^2, into slot 21. */
function stepEnergy(cx: usize): void {
  const n = geti(cx, DM_N), K = geti(cx, DM_K);
  const AH = obs(cx, 1), AHB = obs(cx, 2), nrm = sc(cx, 23), c18 = sc(cx, 18);
  memory.fill(nrm, 0, <usize>K << 3);
  for (let i = 0; i < n; i++) {
    const ro = (<usize>i * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 3;
      const p = AHB + ro + o;
      const v = load<f64>(AH + ro + o) - load<f64>(c18 + o) * load<f64>(p);
      store<f64>(p, v);
      store<f64>(nrm + o, load<f64>(nrm + o) + v * v);
    }
  }
  for (let k = 0; k < K; k++) {
    const c = ld(cx, 19, k);
    st(cx, 21, k, c * c * ld(cx, 23, k));
  }
}

/** u_k *= inv_k (slot 21 holds 1 / beta_k, or 0), then dst = D' W^1/2 u (coefficient-shaped, rows T). */
function adjoint(cx: usize, U: usize, dst: usize, T: i32): void {
  const n = geti(cx, DM_N), Q = geti(cx, DM_Q), K = geti(cx, DM_K);
  const w = getp(cx, DM_W), inv = sc(cx, 21);
  memory.fill(dst, 0, <usize>T << 3);
  const fast = plainDims(cx);
  const codes = getp(cx, DM_CODES);
  const b0 = dst + (offOf(cx, 0) << 3), b1 = dst + (offOf(cx, 1) << 3), b2 = Q == 3 ? dst + (offOf(cx, 2) << 3) : 0;
  const c1 = codes + ((<usize>n) << 2), c2 = codes + ((<usize>(2 * n)) << 2);
  for (let i = 0; i < n; i++) {
    const row = U + ((<usize>i * <usize>K) << 3);
    for (let k = 0; k < K; k++) {
      const o = <usize>k << 3;
      store<f64>(row + o, load<f64>(row + o) * load<f64>(inv + o));
    }
    const sw = w != 0 ? Math.sqrt(load<f64>(w + (<usize>i << 3))) : 1.0;
    if (fast) {
      const io = <usize>i << 2;
      const p0 = b0 + ((<usize>load<i32>(codes + io) * <usize>K) << 3);
      const p1 = b1 + ((<usize>load<i32>(c1 + io) * <usize>K) << 3);
      const p2 = Q == 3 ? b2 + ((<usize>load<i32>(c2 + io) * <usize>K) << 3) : 0;
      for (let k = 0; k < K; k++) {
        const o = <usize>k << 3;
        const v = sw * load<f64>(row + o);
        store<f64>(p0 + o, load<f64>(p0 + o) + v);
        store<f64>(p1 + o, load<f64>(p1 + o) + v);
        if (Q == 3) store<f64>(p2 + o, load<f64>(p2 + o) + v);
      }
      continue;
    }
    for (let q = 0; q < Q; q++) scatterRow(cx, q, i, sw, row, dst);
  }
}

/** beta_k (slot bj) = sqrt(slot 23), and slot 21 = 1 / beta_k (0 when beta_k is 0). */
function takeNorm(cx: usize, bj: i32): void {
  for (let k = 0; k < geti(cx, DM_K); k++) {
    const b = Math.sqrt(ld(cx, 23, k));
    st(cx, bj, k, b);
    st(cx, 21, k, b > 0 ? 1.0 / b : 0.0);
  }
}

/** alpha_k = ||v_k|| and v_k /= alpha_k, for the columns whose beta_k > 0 (the others keep both). */
function normalizeV(cx: usize, V: usize): void {
  const rows = geti(cx, DM_R), K = geti(cx, DM_K);
  const nrm = sc(cx, 23);
  memory.fill(nrm, 0, <usize>K << 3);
  for (let r = 0; r < rows; r++) {
    const base = V + ((<usize>r * <usize>K) << 3);
    for (let k = 0; k < K; k++) {
      const v = load<f64>(base + (<usize>k << 3));
      store<f64>(nrm + (<usize>k << 3), load<f64>(nrm + (<usize>k << 3)) + v * v);
    }
  }
  for (let k = 0; k < K; k++) {
    if (!(ld(cx, 1, k) > 0)) continue;
    const a = Math.sqrt(ld(cx, 23, k));
    st(cx, 0, k, a);
    st(cx, 23, k, a > 0 ? 1.0 / a : 0.0);
  }
  for (let r = 0; r < rows; r++) {
    const base = V + ((<usize>r * <usize>K) << 3);
    for (let k = 0; k < K; k++) {
      if (!(ld(cx, 1, k) > 0)) continue;
      const p = base + (<usize>k << 3);
      store<f64>(p, load<f64>(p) * ld(cx, 23, k));
    }
  }
}

/** A stable Givens rotation of (a, b): c and s into slots 24 and 25 of column k; returns r. */
function symOrtho(cx: usize, k: i32, a: f64, b: f64): f64 {
  let c: f64, s: f64, r: f64;
  if (b == 0) {
    c = a > 0 ? 1.0 : a < 0 ? -1.0 : 0.0;
    s = 0;
    r = Math.abs(a);
  } else if (a == 0) {
    c = 0;
    s = b > 0 ? 1.0 : -1.0;
    r = Math.abs(b);
  } else if (Math.abs(b) > Math.abs(a)) {
    const tau = a / b;
    s = (b > 0 ? 1.0 : -1.0) / Math.sqrt(1 + tau * tau);
    c = s * tau;
    r = b / s;
  } else {
    const tau = b / a;
    c = (a > 0 ? 1.0 : -1.0) / Math.sqrt(1 + tau * tau);
    s = c * tau;
    r = a / c;
  }
  st(cx, 24, k, c);
  st(cx, 25, k, s);
  return r;
}

/** LSMR's scalar recurrences for column k after a bidiagonalization step: the step's coefficients (slots 18-20) and the new ||r||^2 estimate. */
function recur(cx: usize, k: i32): void {
  if (ld(cx, 22, k) != 0) {
    st(cx, 18, k, 0); st(cx, 19, k, 0); st(cx, 20, k, 0);
    return;
  }
  const alpha = ld(cx, 0, k), beta = ld(cx, 1, k);
  const rhoold = ld(cx, 4, k), rhobarold = ld(cx, 5, k), zetaold = ld(cx, 13, k);
  const rho = symOrtho(cx, k, ld(cx, 3, k), beta);
  const c = ld(cx, 24, k), s = ld(cx, 25, k);
  const thetanew = s * alpha;
  st(cx, 3, k, c * alpha); // alphabar
  const thetabar = ld(cx, 7, k) * rho;
  const rhobar = symOrtho(cx, k, ld(cx, 6, k) * rho, thetanew);
  const cbar = ld(cx, 24, k), sbar = ld(cx, 25, k);
  const zetabar = ld(cx, 2, k);
  const zeta = cbar * zetabar;
  st(cx, 2, k, -sbar * zetabar);
  st(cx, 4, k, rho); st(cx, 5, k, rhobar); st(cx, 6, k, cbar); st(cx, 7, k, sbar); st(cx, 13, k, zeta);
  if (rho == 0 || rhobar == 0) {
    // the Krylov space is exhausted: the current iterate is the solution
    st(cx, 22, k, 1);
    st(cx, 18, k, 0); st(cx, 19, k, 0); st(cx, 20, k, 0);
    return;
  }
  st(cx, 18, k, thetabar * rho / (rhoold * rhobarold));
  st(cx, 19, k, zeta / (rho * rhobar));
  st(cx, 20, k, thetanew / rho);
  // ||r|| estimate (damp = 0: chat = 1, shat = 0, betacheck = 0)
  const betaacute = ld(cx, 8, k);
  const betahat = c * betaacute;
  st(cx, 8, k, -s * betaacute); // betadd
  const thetatildeold = ld(cx, 12, k);
  const rhotildeold = symOrtho(cx, k, ld(cx, 10, k), thetabar);
  const ctildeold = ld(cx, 24, k), stildeold = ld(cx, 25, k);
  const thetatilde = stildeold * rhobar;
  const rhodold = ctildeold * rhobar;
  const betad = -stildeold * ld(cx, 9, k) + ctildeold * betahat;
  const tautildeold = (zetaold - thetatildeold * ld(cx, 11, k)) / rhotildeold;
  const taud = (zeta - thetatilde * tautildeold) / rhodold;
  st(cx, 12, k, thetatilde); st(cx, 10, k, rhodold); st(cx, 9, k, betad); st(cx, 11, k, tautildeold);
  const betadd = ld(cx, 8, k);
  st(cx, 14, k, (betad - taud) * (betad - taud) + betadd * betadd);
}

/**
 * hbar = h - c18 hbar; a += c19 S hbar (the step's criterion into DM_CRIT: fixest's rule on
 * the coefficient steps, Infinity for a column whose step is not finite); h = v - c20 h.
 */
function step(cx: usize, A: usize, V: usize, H: usize, HB: usize, WK: usize): void {
  const rows = geti(cx, DM_R), K = geti(cx, DM_K);
  const crit = getp(cx, DM_CRIT);
  for (let r = 0; r < rows; r++) {
    const base = (<usize>r * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const o = base + (<usize>k << 3);
      store<f64>(HB + o, load<f64>(H + o) - ld(cx, 18, k) * load<f64>(HB + o));
    }
  }
  applyS(cx, HB, WK, 0, 0);
  memory.fill(crit, 0, <usize>K << 3);
  for (let r = 0; r < rows; r++) {
    const base = (<usize>r * <usize>K) << 3;
    for (let k = 0; k < K; k++) {
      const o = base + (<usize>k << 3);
      const d = ld(cx, 19, k) * load<f64>(WK + o);
      const a = load<f64>(A + o) + d;
      store<f64>(A + o, a);
      store<f64>(H + o, load<f64>(V + o) - ld(cx, 20, k) * load<f64>(H + o));
      const ad = Math.abs(d);
      const rel = ad / (0.1 + Math.abs(a));
      const m = ad < rel ? ad : rel;
      const cp = crit + (<usize>k << 3);
      if (m > load<f64>(cp) || !(m == m)) store<f64>(cp, m == m ? m : Infinity);
    }
  }
}

/** The flagged columns retired: criterion into *critMax, residuals, and out of every vector. */
function retire(cx: usize, c: i32, A: usize, V: usize, H: usize, HB: usize, x_NK: usize, out_NK: usize, critMax: usize): void {
  const flag = getp(cx, DM_FLAG), crit = getp(cx, DM_CRIT);
  const rows = geti(cx, DM_R), K = geti(cx, DM_K);
  for (let k = 0; k < K; k++) {
    if (load<i32>(flag + (<usize>k << 2)) == 0) continue;
    const v = load<f64>(crit + (<usize>k << 3));
    if (v > load<f64>(critMax)) store<f64>(critMax, v);
  }
  residualsFlagged(cx, A, x_NK, out_NK);
  keepColumns(cx, A, A, rows, 0);
  keepColumns(cx, V, V, rows, 0);
  keepColumns(cx, H, H, rows, 0);
  keepColumns(cx, HB, HB, rows, 0);
  for (let j = 0; j < 3; j++) keepColumns(cx, obs(cx, j), obs(cx, j), geti(cx, DM_N), 0);
  for (let j = 0; j < NSC; j++) keepColumns(cx, sc(cx, j), sc(cx, j), 1, 0);
  keepColumns(cx, crit, crit, 1, 0);
  dropFlagged(cx, c);
}

/**
 * LSMR from the current coefficients A for the active columns, at most maxIter iterations,
 * retiring columns as they converge (their records: mapSteps + the LSMR iterations, in the
 * "CG iterations" field of the records). A, V, H, HB, W are coefficient vectors of the
 * kernel's scratch (W: work); the Gram blocks become their factors. Returns the iterations
 * run; the columns still active at the end did not converge (residuals left to the caller).
 */
export function lsmr(cx: usize, A: usize, V: usize, H: usize, HB: usize, W: usize, tol: f64, maxIter: i32,
  x_NK: usize, out_NK: usize, critMax: usize, mapSteps: i32): i32 {
  const U = obs(cx, 0), rows = geti(cx, DM_R);
  toFactors(cx);
  // u = W^1/2 (x - D a0) / beta, v = A'u / alpha
  forward(cx, A, U, x_NK, 0);
  takeNorm(cx, 1);
  const K0 = geti(cx, DM_K);
  for (let k = 0; k < K0; k++) st(cx, 0, k, 0);
  adjoint(cx, U, W, rows * K0);
  memory.fill(V, 0, (<usize>rows * <usize>K0) << 3);
  applyS(cx, W, V, 1, sc(cx, 1));
  normalizeV(cx, V);
  memory.copy(H, V, (<usize>rows * <usize>K0) << 3);
  memory.fill(HB, 0, (<usize>rows * <usize>K0) << 3);
  memory.fill(obs(cx, 1), 0, (<usize>geti(cx, DM_N) * <usize>K0) << 3);
  memory.fill(obs(cx, 2), 0, (<usize>geti(cx, DM_N) * <usize>K0) << 3);
  for (let k = 0; k < K0; k++) {
    const alpha = ld(cx, 0, k), beta = ld(cx, 1, k);
    st(cx, 2, k, alpha * beta); st(cx, 3, k, alpha);
    st(cx, 4, k, 1); st(cx, 5, k, 1); st(cx, 6, k, 1); st(cx, 7, k, 0);
    st(cx, 8, k, beta); st(cx, 9, k, 0); st(cx, 10, k, 1); st(cx, 11, k, 0); st(cx, 12, k, 0); st(cx, 13, k, 0);
    st(cx, 14, k, beta * beta); st(cx, 15, k, SSR_FLOOR * beta * beta);
    st(cx, 16, k, Infinity); st(cx, 17, k, 0); st(cx, 20, k, 0);
    st(cx, 22, k, alpha * beta == 0 ? 1.0 : 0.0);
  }
  let it = 0;
  while (it < maxIter) {
    it++;
    const K = geti(cx, DM_K), T = rows * K;
    // u = A v - alpha u, beta = ||u||; v = A'u - beta v, alpha = ||v||
    applyS(cx, V, W, 0, 0);
    forward(cx, W, U, x_NK, 1);
    takeNorm(cx, 1);
    adjoint(cx, U, W, T);
    applyS(cx, W, V, 1, sc(cx, 1));
    normalizeV(cx, V);
    for (let k = 0; k < K; k++) recur(cx, k);
    stepEnergy(cx);
    step(cx, A, V, H, HB, W);
    let c = flagConverged(cx, tol);
    for (let k = 0; k < K; k++) {
      c += judgeColumn(cx, k, ld(cx, 21, k), ld(cx, 14, k), ld(cx, 15, k), sc(cx, 16) + (<usize>k << 3), sc(cx, 17) + (<usize>k << 3), tol, it);
    }
    if (c > 0) {
      recordFlagged(cx, mapSteps, it);
      retire(cx, c, A, V, H, HB, x_NK, out_NK, critMax);
      if (geti(cx, DM_K) == 0) break;
    }
  }
  return it;
}

