// Kernels for float32 storage of the raw columns (bindings/feols-f32.ts): the raw y and X
// are kept as f32 (half the memory of the f64 model matrix) and widened to f64 a batch at
// a time; every sum is taken in f64. Because the FE projection M is symmetric and
// idempotent (W-symmetric when weighted), an entry of the Gram of the demeaned columns
// between batches is sum_i w_i xt_ia x_ib with only one side demeaned, so no demeaned copy
// of X is kept.
import { OK, BAD_ARGUMENT } from "./status";

/** dst_NK (f64) = src_NK (f32), k columns of n values, column-major. */
export function widenF32(dst_NK: usize, n: i32, k: i32, src_NK: usize): i32 {
  if (n < 0 || k < 0) return BAD_ARGUMENT;
  const m = <usize>n * <usize>k;
  let i: usize = 0;
  for (; i + 4 <= m; i += 4) {
    const v = v128.load(src_NK + (i << 2));
    v128.store(dst_NK + (i << 3), f64x2.promote_low_f32x4(v));
    v128.store(dst_NK + (i << 3) + 16, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
  }
  for (; i < m; i++) store<f64>(dst_NK + (i << 3), <f64>load<f32>(src_NK + (i << 2)));
  return OK;
}

/**
 * out (ka x kb, column-major) = A' diag(s) R, with A n x ka in f64 (demeaned) and R n x kb
 * in f32 (raw). s_N may be 0 (no scaling). Four rows at a time: one f32x4 load widened to
 * two f64x2.
 */
export function crossF32(out: usize, n: i32, ka: i32, a_NK: usize, kb: i32, r_NK: usize, s_N: usize): i32 {
  if (n < 0 || ka < 0 || kb < 0) return BAD_ARGUMENT;
  for (let b = 0; b < kb; b++) {
    const pr = r_NK + ((<usize>b * <usize>n) << 2);
    for (let a = 0; a < ka; a++) {
      const pa = a_NK + ((<usize>a * <usize>n) << 3);
      let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
      let i = 0;
      for (; i + 3 < n; i += 4) {
        const r = v128.load(pr + (<usize>i << 2));
        let r0 = f64x2.promote_low_f32x4(r);
        let r1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(r, r, 2, 3, 0, 1));
        const o = <usize>i << 3;
        if (s_N != 0) {
          r0 = f64x2.mul(r0, v128.load(s_N + o));
          r1 = f64x2.mul(r1, v128.load(s_N + o + 16));
        }
        acc0 = f64x2.add(acc0, f64x2.mul(v128.load(pa + o), r0));
        acc1 = f64x2.add(acc1, f64x2.mul(v128.load(pa + o + 16), r1));
      }
      const acc = f64x2.add(acc0, acc1);
      let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
      for (; i < n; i++) {
        const sc: f64 = s_N != 0 ? load<f64>(s_N + (<usize>i << 3)) : 1.0;
        s += load<f64>(pa + (<usize>i << 3)) * sc * <f64>load<f32>(pr + (<usize>i << 2));
      }
      store<f64>(out + ((<usize>a + <usize>b * <usize>ka) << 3), s);
    }
  }
  return OK;
}

/** out_N (f64) = y - X b with y_N and X_NK in f32; columns with b = 0 are skipped. */
export function residualsF32(out_N: usize, n: i32, k: i32, x_NK: usize, y_N: usize, coef_K: usize): i32 {
  if (n < 0 || k < 0) return BAD_ARGUMENT;
  for (let i = 0; i < n; i++) store<f64>(out_N + (<usize>i << 3), <f64>load<f32>(y_N + (<usize>i << 2)));
  for (let a = 0; a < k; a++) {
    const b = load<f64>(coef_K + (<usize>a << 3));
    if (b == 0) continue;
    const pa = x_NK + ((<usize>a * <usize>n) << 2);
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 3;
      store<f64>(out_N + o, load<f64>(out_N + o) - b * <f64>load<f32>(pa + (<usize>i << 2)));
    }
  }
  return OK;
}
