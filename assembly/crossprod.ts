// The cross-product matrix of many columns in one pass over the rows (multiple estimation:
// every demeaned outcome and regressor of a group of models, fixest's approach). Rows are
// taken in blocks small enough that the block of every column stays in cache while each pair
// of columns is multiplied, so memory is read once however many columns there are.
import { OK, BAD_ARGUMENT } from "./status";
import { dotFrom } from "./vec";

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
