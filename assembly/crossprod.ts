// The cross-product matrix of many columns in one pass over the rows (multiple estimation:
// every demeaned outcome and regressor of a group of models, fixest's approach). Rows are
// taken in blocks small enough that the block of every column stays in cache while each pair
// of columns is multiplied, so memory is read once however many columns there are.
import { OK, BAD_ARGUMENT } from "./status";
import { dotFrom, axpyFrom } from "./vec";

/** rows per block: 512 rows of 64 columns is 256 KiB */
const BLOCK: i32 = 512;

/**
 * out_CC (C x C, column-major, symmetric) = X'X for the n x C column-major matrix x_NC.
 * Each entry is the sum over row blocks of the two-lane dot product of the block.
 */
export function crossProducts(out_CC: usize, n: i32, C: i32, x_NC: usize): i32 {
  if (n < 0 || C < 0) return BAD_ARGUMENT;
  memory.fill(out_CC, 0, (<usize>C * <usize>C) << 3);
  for (let r0: i32 = 0; r0 < n; r0 += BLOCK) {
    const r1 = r0 + BLOCK < n ? r0 + BLOCK : n;
    for (let a: i32 = 0; a < C; a++) {
      const pa = x_NC + ((<usize>a * <usize>n) << 3);
      for (let b: i32 = a; b < C; b++) {
        const o = out_CC + ((<usize>a + <usize>b * <usize>C) << 3);
        store<f64>(o, load<f64>(o) + dotFrom(pa, x_NC + ((<usize>b * <usize>n) << 3), r0, r1));
      }
    }
  }
  for (let a: i32 = 0; a < C; a++) {
    for (let b: i32 = a + 1; b < C; b++) {
      store<f64>(out_CC + ((<usize>b + <usize>a * <usize>C) << 3), load<f64>(out_CC + ((<usize>a + <usize>b * <usize>C) << 3)));
    }
  }
  return OK;
}

/**
 * One member of a group, read from the group matrix without copying its columns: e_N =
 * y - X b with X the columns cols_K (i32 indices) of the n x C matrix x_NC and y its column
 * `ycol`; with codes_N (non-zero pointer), also the cluster scores scores_GK (G x k,
 * row-major by cluster, zeroed here) = sum_{i in g} e_i x_i, in one pass over the rows. The
 * same operations in the same order as assembly/sandwich.ts residuals (coefficients equal to
 * 0 skipped) and clusterScores, so the results are theirs to the bit.
 */
export function memberScores(
  e_N: usize, scores_GK: usize, n: i32, k: i32, x_NC: usize, cols_K: usize, ycol: i32, coef_K: usize, codes_N: usize, G: i32,
): i32 {
  if (n < 0 || k < 0 || ycol < 0 || (codes_N != 0 && G <= 0)) return BAD_ARGUMENT;
  for (let i: i32 = 0; codes_N != 0 && i < n; i++) if (<u32>load<i32>(codes_N + (<usize>i << 2)) >= <u32>G) return BAD_ARGUMENT;
  const yp = x_NC + ((<usize>ycol * <usize>n) << 3);
  if (codes_N != 0) memory.fill(scores_GK, 0, (<usize>G * <usize>k) << 3);
  // row blocks that stay in cache: the residuals of the block column by column (two lanes),
  // then the block's scores column by column; per element and per (cluster, column) the
  // operations run in the order of the one-member kernels
  for (let r0: i32 = 0; r0 < n; r0 += BLOCK) {
    const r1 = r0 + BLOCK < n ? r0 + BLOCK : n;
    memory.copy(e_N + (<usize>r0 << 3), yp + (<usize>r0 << 3), <usize>(r1 - r0) << 3);
    for (let a: i32 = 0; a < k; a++) {
      const b = load<f64>(coef_K + (<usize>a << 3));
      if (b == 0) continue;
      const xp = x_NC + ((<usize>load<i32>(cols_K + (<usize>a << 2)) * <usize>n) << 3);
      axpyFrom(e_N, xp, b, r0, r1);
    }
    if (codes_N == 0) continue;
    for (let a: i32 = 0; a < k; a++) {
      const xp = x_NC + ((<usize>load<i32>(cols_K + (<usize>a << 2)) * <usize>n) << 3);
      for (let i: i32 = r0; i < r1; i++) {
        const o = <usize>i << 3;
        const p = scores_GK + ((<usize>load<i32>(codes_N + (<usize>i << 2)) * <usize>k + <usize>a) << 3);
        store<f64>(p, load<f64>(p) + load<f64>(e_N + o) * load<f64>(xp + o));
      }
    }
  }
  return OK;
}

/** f64 of scratch membersScores needs for B members. */
export function membersScoresScratch(B: i32): i32 {
  return BLOCK + 2 * B;
}

/**
 * Many members of a group in one pass over the rows (the members' residuals are not kept):
 * for each block of rows, every member's residual block e = y - X b (as memberScores: y
 * copied, then b_a x_a subtracted for each nonzero b_a, in column order), its sum of squares
 * and, with codes_N (non-zero pointer), its cluster scores, so that the group matrix is read
 * from memory once for all B members instead of once per member. Member m has k_B[m]
 * columns, the next k_B[m] entries of cols (i32 indices into the n x C matrix x_NC) and of
 * coef (f64), outcome column ycol_B[m]; its scores are the next G * k_B[m] f64 of scores
 * (G x k row-major by cluster, zeroed here). ssr_B[m] = sum_i e_i^2 in the order of
 * assembly/sandwich.ts colSumSquares (two lanes over even pairs, then the last odd row), and
 * the scores in the order of clusterScores: both equal to the bit what memberScores followed
 * by colSumSquares give for the member alone. work: membersScoresScratch(B) f64.
 */
export function membersScores(
  ssr_B: usize, scores: usize, work: usize, n: i32, C: i32, x_NC: usize, B: i32, k_B: usize, cols: usize, ycol_B: usize,
  coef: usize, codes_N: usize, G: i32,
): i32 {
  if (n < 0 || C < 0 || B < 0 || (codes_N != 0 && G <= 0)) return BAD_ARGUMENT;
  let kTot: usize = 0;
  for (let m: i32 = 0; m < B; m++) {
    const k = load<i32>(k_B + (<usize>m << 2));
    const yc = load<i32>(ycol_B + (<usize>m << 2));
    if (k < 0 || yc < 0 || yc >= C) return BAD_ARGUMENT;
    for (let a: i32 = 0; a < k; a++) {
      const c = load<i32>(cols + ((kTot + <usize>a) << 2));
      if (c < 0 || c >= C) return BAD_ARGUMENT;
    }
    kTot += <usize>k;
  }
  for (let i: i32 = 0; codes_N != 0 && i < n; i++) if (<u32>load<i32>(codes_N + (<usize>i << 2)) >= <u32>G) return BAD_ARGUMENT;
  if (codes_N != 0) memory.fill(scores, 0, (<usize>G * kTot) << 3);
  const eb = work; // the residual block
  const lanes = work + (<usize>BLOCK << 3); // two f64 per member: the sum of squares' lanes
  memory.fill(lanes, 0, <usize>B << 4);
  for (let r0: i32 = 0; r0 < n; r0 += BLOCK) {
    const r1 = r0 + BLOCK < n ? r0 + BLOCK : n;
    const len = r1 - r0;
    const off = <usize>r0 << 3;
    let k0: usize = 0; // the member's first entry in cols and coef
    let sp = scores; // the member's scores
    for (let m: i32 = 0; m < B; m++) {
      const k = load<i32>(k_B + (<usize>m << 2));
      const yp = x_NC + ((<usize>load<i32>(ycol_B + (<usize>m << 2)) * <usize>n) << 3);
      memory.copy(eb, yp + off, <usize>len << 3);
      for (let a: i32 = 0; a < k; a++) {
        const b = load<f64>(coef + ((k0 + <usize>a) << 3));
        if (b == 0) continue;
        const xp = x_NC + ((<usize>load<i32>(cols + ((k0 + <usize>a) << 2)) * <usize>n) << 3);
        axpyFrom(eb, xp + off, b, 0, len);
      }
      // the sum of squares: r0 is even (BLOCK is), so the lanes pair the rows as over the whole column
      const lp = lanes + (<usize>m << 4);
      let acc = v128.load(lp);
      let j: i32 = 0;
      for (; j + 1 < len; j += 2) {
        const v = v128.load(eb + (<usize>j << 3));
        acc = f64x2.add(acc, f64x2.mul(v, v));
      }
      v128.store(lp, acc);
      if (r1 == n) {
        let ss = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
        if (j < len) {
          const d = load<f64>(eb + (<usize>j << 3));
          ss += d * d;
        }
        store<f64>(ssr_B + (<usize>m << 3), ss);
      }
      if (codes_N != 0) {
        for (let a: i32 = 0; a < k; a++) {
          const xp = x_NC + ((<usize>load<i32>(cols + ((k0 + <usize>a) << 2)) * <usize>n) << 3) + off;
          const cp = codes_N + (<usize>r0 << 2);
          for (let i: i32 = 0; i < len; i++) {
            const p = sp + ((<usize>load<i32>(cp + (<usize>i << 2)) * <usize>k + <usize>a) << 3);
            store<f64>(p, load<f64>(p) + load<f64>(eb + (<usize>i << 3)) * load<f64>(xp + (<usize>i << 3)));
          }
        }
        sp += (<usize>G * <usize>k) << 3;
      }
      k0 += <usize>k;
    }
  }
  if (n == 0) for (let m: i32 = 0; m < B; m++) store<f64>(ssr_B + (<usize>m << 3), 0);
  return OK;
}
