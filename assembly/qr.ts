// Least squares by Householder QR with sequential rank detection.
//
// Columns are taken in the order given (no pivoting), so the column dropped for
// collinearity is the later one, as fixest reports it. Column j is dropped when the norm
// of what is left of it after projecting out the kept columns before it is at most
// sqrt(tol) times its own norm (i.e. the squared ratio, 1 - R^2 of x_j on the earlier
// columns, is at most tol).
import { OK, BAD_ARGUMENT, SINGULAR } from "./status";
import { dotFrom, axpyFrom } from "./vec";

/**
 * a_NK: n x k column-major working copy (destroyed: holds Householder vectors).
 * y_N: n response (destroyed: becomes Q'y).
 * keep_K (i32 out): 1 kept, 0 dropped. coef_K (out): 0 for dropped columns.
 * bread_KK (out, k x k column-major): (X'X)^{-1} on the kept columns, zeros elsewhere.
 * work_K: 2k f64 scratch. Returns the rank via info_out (i32), status as result.
 */
export function qrSolve(
  coef_K: usize, bread_KK: usize, rank_out: usize, keep_K: usize, work_K: usize, n: i32, k: i32,
  a_NK: usize, y_N: usize, tol: f64,
): i32 {
  if (n <= 0 || k < 0) return BAD_ARGUMENT;
  const norms = work_K; // original column norms
  const diag = work_K + (<usize>k << 3); // R diagonal per kept column
  for (let j = 0; j < k; j++) {
    const cp = a_NK + ((<usize>j * <usize>n) << 3);
    store<f64>(norms + (<usize>j << 3), Math.sqrt(dotFrom(cp, cp, 0, n)));
  }
  const stol = Math.sqrt(tol);
  let rank = 0;
  for (let j = 0; j < k; j++) {
    const cp = a_NK + ((<usize>j * <usize>n) << 3);
    const s = dotFrom(cp, cp, rank, n);
    const nrm = Math.sqrt(s);
    const orig = load<f64>(norms + (<usize>j << 3));
    if (rank >= n || orig == 0 || nrm <= stol * orig) {
      store<i32>(keep_K + (<usize>j << 2), 0);
      continue;
    }
    store<i32>(keep_K + (<usize>j << 2), 1);
    // Householder vector v = x - alpha e1 stored in place from row `rank`
    const x0 = load<f64>(cp + (<usize>rank << 3));
    const alpha = x0 > 0 ? -nrm : nrm;
    store<f64>(cp + (<usize>rank << 3), x0 - alpha);
    const vnorm2 = s - x0 * x0 + (x0 - alpha) * (x0 - alpha);
    store<f64>(diag + (<usize>j << 3), alpha);
    if (vnorm2 > 0) {
      // apply H = I - 2 v v' / v'v to later columns and y
      for (let jj = j + 1; jj <= k; jj++) {
        const dp = jj < k ? a_NK + ((<usize>jj * <usize>n) << 3) : y_N;
        const d = dotFrom(cp, dp, rank, n);
        axpyFrom(dp, cp, (2 * d) / vnorm2, rank, n);
      }
    }
    // R row `rank`: diag = alpha, off-diagonals are the rows of later columns (read at rank)
    rank++;
  }
  store<i32>(rank_out, rank);
  // Back-substitution on the kept columns: R b = (Q'y)[0..rank)
  // R[r, c] for kept columns: r-th kept column's diag, later kept column c at row r.
  memory.fill(coef_K, 0, <usize>k << 3);
  memory.fill(bread_KK, 0, (<usize>k * <usize>k) << 3);
  if (rank == 0) return OK;
  // index map: kept position -> column
  // Solve from the last kept column backwards.
  let r = rank - 1;
  for (let j = k - 1; j >= 0; j--) {
    if (load<i32>(keep_K + (<usize>j << 2)) == 0) continue;
    let s = load<f64>(y_N + (<usize>r << 3));
    for (let jj = j + 1; jj < k; jj++) {
      if (load<i32>(keep_K + (<usize>jj << 2)) == 0) continue;
      s -= load<f64>(a_NK + ((<usize>jj * <usize>n + <usize>r) << 3)) * load<f64>(coef_K + (<usize>jj << 3));
    }
    const d = load<f64>(diag + (<usize>j << 3));
    if (d == 0) return SINGULAR;
    store<f64>(coef_K + (<usize>j << 3), s / d);
    r--;
  }
  // Rinv (upper triangular, indexed by columns) into bread_KK temporarily as its upper part,
  // then bread = Rinv Rinv'.
  // Rinv column by column: for kept column c (row position rc), solve R u = e_rc.
  // Use bread_KK's storage: Rinv[j, c] at bread[j + c*k] for j <= c.
  r = 0;
  for (let c = 0; c < k; c++) {
    if (load<i32>(keep_K + (<usize>c << 2)) == 0) continue;
    // solve for rows j = c down to the first kept column, moving upwards
    store<f64>(bread_KK + ((<usize>c + <usize>c * <usize>k) << 3), 1.0 / load<f64>(diag + (<usize>c << 3)));
    let rr = r - 1;
    for (let j = c - 1; j >= 0; j--) {
      if (load<i32>(keep_K + (<usize>j << 2)) == 0) continue;
      // row rr of R: diag at column j, R[rr, jj] = a[jj*n + rr] for kept jj > j
      let s: f64 = 0;
      for (let jj = j + 1; jj <= c; jj++) {
        if (load<i32>(keep_K + (<usize>jj << 2)) == 0) continue;
        s += load<f64>(a_NK + ((<usize>jj * <usize>n + <usize>rr) << 3)) *
          load<f64>(bread_KK + ((<usize>jj + <usize>c * <usize>k) << 3));
      }
      store<f64>(bread_KK + ((<usize>j + <usize>c * <usize>k) << 3), -s / load<f64>(diag + (<usize>j << 3)));
      rr--;
    }
    r++;
  }
  // bread = U U' with U = Rinv (upper); compute in place carefully: B[a,b] = sum_{c>=max(a,b)} U[a,c] U[b,c]
  // U is stored in the upper triangle (a <= c); write B into the lower triangle first, then mirror.
  for (let a = 0; a < k; a++) {
    if (load<i32>(keep_K + (<usize>a << 2)) == 0) continue;
    for (let b = a; b < k; b++) {
      if (load<i32>(keep_K + (<usize>b << 2)) == 0) continue;
      let s: f64 = 0;
      for (let c = b; c < k; c++) {
        if (load<i32>(keep_K + (<usize>c << 2)) == 0) continue;
        s += load<f64>(bread_KK + ((<usize>a + <usize>c * <usize>k) << 3)) *
          load<f64>(bread_KK + ((<usize>b + <usize>c * <usize>k) << 3));
      }
      // slot (b, a), b >= a: lower triangle, or the diagonal U[a,a], which no later step reads
      store<f64>(bread_KK + ((<usize>b + <usize>a * <usize>k) << 3), s);
    }
  }
  // mirror lower to upper
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      store<f64>(bread_KK + ((<usize>a + <usize>b * <usize>k) << 3), load<f64>(bread_KK + ((<usize>b + <usize>a * <usize>k) << 3)));
    }
  }
  return OK;
}

/**
 * After qrSolve on a_NK (same n, k, keep_K and work_K), rebuild the kept columns of the
 * original matrix, X = Q R, in place (the dropped columns are left undefined). Lets the
 * caller run the QR on its only copy of X: about the QR's flops again, one n-vector of
 * scratch (u_N); work_K's first k values are overwritten.
 */
export function qrReconstruct(u_N: usize, work_K: usize, n: i32, k: i32, a_NK: usize, keep_K: usize): i32 {
  if (n <= 0 || k < 0) return BAD_ARGUMENT;
  const diag = work_K + (<usize>k << 3);
  // row position of each kept column, and v'v of its reflector once (in work_K's first k
  // slots, which held the column norms qrSolve no longer needs)
  const vv = work_K;
  let rank = 0;
  for (let j = 0; j < k; j++) {
    if (load<i32>(keep_K + (<usize>j << 2)) == 0) continue;
    const vp = a_NK + ((<usize>j * <usize>n) << 3);
    store<f64>(vv + (<usize>j << 3), dotFrom(vp, vp, rank, n));
    rank++;
  }
  let rj = rank - 1;
  for (let j = k - 1; j >= 0; j--) {
    if (load<i32>(keep_K + (<usize>j << 2)) == 0) continue;
    const cp = a_NK + ((<usize>j * <usize>n) << 3);
    // u = (R[0..rj, j]; 0)
    memory.fill(u_N, 0, <usize>n << 3);
    memory.copy(u_N, cp, <usize>rj << 3);
    store<f64>(u_N + (<usize>rj << 3), load<f64>(diag + (<usize>j << 3)));
    // apply H_c for kept columns c <= j, from the last (row rj) to the first (row 0)
    let rc = rj;
    for (let c = j; c >= 0; c--) {
      if (load<i32>(keep_K + (<usize>c << 2)) == 0) continue;
      const vp = a_NK + ((<usize>c * <usize>n) << 3);
      // the reflector of column c lives in rows rc..n-1 of column c
      const vn = load<f64>(vv + (<usize>c << 3));
      if (vn > 0) {
        const d = dotFrom(vp, u_N, rc, n);
        axpyFrom(u_N, vp, (2 * d) / vn, rc, n);
      }
      rc--;
    }
    memory.copy(cp, u_N, <usize>n << 3);
    rj--;
  }
  return OK;
}
