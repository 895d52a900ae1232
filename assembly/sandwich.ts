// Meats of sandwich variance estimators. The binding assembles bread * meat * bread and
// applies the small-sample factors (bindings/core/vcov.ts). Inputs are already weighted
// (x and e multiplied by sqrt(w)), so the weighted formulas need no weight argument.
import { OK, BAD_ARGUMENT } from "./status";
import { dotFrom, axpyFrom } from "./vec";

/** out_KK = X'X (column-major k x k). */
export function gram(out_KK: usize, n: i32, k: i32, x_NK: usize): i32 {
  if (n < 0 || k < 0) return BAD_ARGUMENT;
  for (let a = 0; a < k; a++) {
    const pa = x_NK + ((<usize>a * <usize>n) << 3);
    for (let b = a; b < k; b++) {
      const s = dotFrom(pa, x_NK + ((<usize>b * <usize>n) << 3), 0, n);
      store<f64>(out_KK + ((<usize>a + <usize>b * <usize>k) << 3), s);
      store<f64>(out_KK + ((<usize>b + <usize>a * <usize>k) << 3), s);
    }
  }
  return OK;
}

/** Heteroskedasticity-robust meat: sum_i e_i^2 x_i x_i'. */
export function meatHetero(out_KK: usize, n: i32, k: i32, x_NK: usize, e_N: usize): i32 {
  if (n < 0 || k < 0) return BAD_ARGUMENT;
  heteroBlock(n, k, x_NK, k, x_NK, e_N, out_KK, true);
  return OK;
}

/**
 * One block of the heteroskedasticity-robust meat: out (ka x kb, column-major) =
 * sum_i e_i^2 a_i b_i' for two sets of columns (float32 storage demeans X in batches).
 */
export function meatHeteroCross(out: usize, n: i32, ka: i32, a_NK: usize, kb: i32, b_NK: usize, e_N: usize): i32 {
  if (n < 0 || ka < 0 || kb < 0) return BAD_ARGUMENT;
  heteroBlock(n, ka, a_NK, kb, b_NK, e_N, out, false);
  return OK;
}

@inline function heteroBlock(n: i32, ka: i32, a_NK: usize, kb: i32, b_NK: usize, e_N: usize, out: usize, sym: bool): void {
  for (let a = 0; a < ka; a++) {
    const pa = a_NK + ((<usize>a * <usize>n) << 3);
    for (let b = sym ? a : 0; b < kb; b++) {
      const pb = b_NK + ((<usize>b * <usize>n) << 3);
      let s: f64 = 0;
      for (let i = 0; i < n; i++) {
        const o = <usize>i << 3;
        const e = load<f64>(e_N + o);
        s += e * e * load<f64>(pa + o) * load<f64>(pb + o);
      }
      store<f64>(out + ((<usize>a + <usize>b * <usize>ka) << 3), s);
      if (sym) store<f64>(out + ((<usize>b + <usize>a * <usize>ka) << 3), s);
    }
  }
}

/**
 * Cluster-robust meat: sum_g s_g s_g' with s_g = sum_{i in g} e_i x_i.
 * codes_N in 0..G-1; scores_GK scratch of G*k f64 (left holding the cluster scores,
 * row-major by cluster, for bootstrap reuse).
 */
export function meatCluster(
  out_KK: usize, scores_GK: usize, n: i32, k: i32, x_NK: usize, e_N: usize, codes_N: usize, G: i32,
): i32 {
  if (n < 0 || k < 0 || G <= 0) return BAD_ARGUMENT;
  memory.fill(scores_GK, 0, (<usize>G * <usize>k) << 3);
  clusterScores(scores_GK, n, k, x_NK, e_N, codes_N, G, k, 0);
  return scoresCross(out_KK, G, k, scores_GK);
}

/**
 * Add cluster scores of kb columns into columns col0 .. col0+kb-1 of scores_GK (G x k,
 * row-major by cluster): scores[g, col0 + a] += sum_{i in g} e_i x_ia.
 */
export function clusterScores(
  scores_GK: usize, n: i32, kb: i32, x_NK: usize, e_N: usize, codes_N: usize, G: i32, k: i32,
  col0: i32,
): i32 {
  if (n < 0 || kb < 0 || G <= 0 || col0 < 0 || col0 + kb > k) return BAD_ARGUMENT;
  for (let a = 0; a < kb; a++) {
    const pa = x_NK + ((<usize>a * <usize>n) << 3);
    const col = <usize>(col0 + a);
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 3;
      const g = load<i32>(codes_N + (<usize>i << 2));
      const p = scores_GK + ((<usize>g * <usize>k + col) << 3);
      store<f64>(p, load<f64>(p) + load<f64>(e_N + o) * load<f64>(pa + o));
    }
  }
  return OK;
}

/** out_KK = S'S for the cluster scores S (G x k, row-major by cluster). */
export function scoresCross(out_KK: usize, G: i32, k: i32, scores_GK: usize): i32 {
  if (G < 0 || k < 0) return BAD_ARGUMENT;
  memory.fill(out_KK, 0, (<usize>k * <usize>k) << 3);
  // upper triangle column by column: out[0..b, b] += s_g[0..b] s_gb, both contiguous
  for (let g = 0; g < G; g++) {
    const sp = scores_GK + ((<usize>g * <usize>k) << 3);
    for (let b = 0; b < k; b++) {
      const sb = load<f64>(sp + (<usize>b << 3));
      if (sb == 0) continue;
      axpyFrom(out_KK + ((<usize>b * <usize>k) << 3), sp, -sb, 0, b + 1);
    }
  }
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      store<f64>(out_KK + ((<usize>b + <usize>a * <usize>k) << 3), load<f64>(out_KK + ((<usize>a + <usize>b * <usize>k) << 3)));
    }
  }
  return OK;
}

/** out_N = y_N - X b (column-major X, n x k). */
export function residuals(out_N: usize, n: i32, k: i32, x_NK: usize, y_N: usize, coef_K: usize): i32 {
  if (n < 0 || k < 0) return BAD_ARGUMENT;
  memory.copy(out_N, y_N, <usize>n << 3);
  for (let a = 0; a < k; a++) {
    const b = load<f64>(coef_K + (<usize>a << 3));
    if (b == 0) continue;
    axpyFrom(out_N, x_NK + ((<usize>a * <usize>n) << 3), b, 0, n);
  }
  return OK;
}

/** Multiply each of k columns (n rows) elementwise by s_N (e.g. sqrt of weights). */
export function scaleRows(x_NK: usize, n: i32, k: i32, s_N: usize): i32 {
  if (n < 0 || k < 0) return BAD_ARGUMENT;
  for (let a = 0; a < k; a++) {
    const pa = x_NK + ((<usize>a * <usize>n) << 3);
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 3;
      store<f64>(pa + o, load<f64>(pa + o) * load<f64>(s_N + o));
    }
  }
  return OK;
}

/**
 * Weighted sums of squares of K columns: out_K[c] = sum_i w_i (x_ic - m_c)^2 with m_c the
 * weighted mean when centered != 0, else 0. w_N may be 0 (unit weights).
 */
export function colSumSquares(out_K: usize, n: i32, K: i32, x_NK: usize, w_N: usize, centered: i32): i32 {
  if (n <= 0 || K < 0) return BAD_ARGUMENT;
  for (let c = 0; c < K; c++) {
    const p = x_NK + ((<usize>c * <usize>n) << 3);
    let mean: f64 = 0;
    if (centered != 0) {
      let sw: f64 = 0, s: f64 = 0;
      for (let i = 0; i < n; i++) {
        const w: f64 = w_N != 0 ? load<f64>(w_N + (<usize>i << 3)) : 1.0;
        sw += w;
        s += w * load<f64>(p + (<usize>i << 3));
      }
      mean = s / sw;
    }
    let ss: f64 = 0;
    if (w_N == 0) {
      const mv = f64x2.splat(mean);
      let acc = f64x2.splat(0);
      let i = 0;
      for (; i + 1 < n; i += 2) {
        const d = f64x2.sub(v128.load(p + (<usize>i << 3)), mv);
        acc = f64x2.add(acc, f64x2.mul(d, d));
      }
      ss = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
      for (; i < n; i++) {
        const d = load<f64>(p + (<usize>i << 3)) - mean;
        ss += d * d;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const d = load<f64>(p + (<usize>i << 3)) - mean;
        ss += load<f64>(w_N + (<usize>i << 3)) * d * d;
      }
    }
    store<f64>(out_K + (<usize>c << 3), ss);
  }
  return OK;
}

/**
 * out_KK = B M B (the sandwich variance) for symmetric k x k column-major B (bread) and M
 * (meat); work_KK: k*k f64 scratch (left holding B M). Each product walks columns two lanes
 * at a time, four result columns per pass over the left factor; the second product forms
 * only the upper triangle (the result is symmetric) and mirrors it, so k = 2000 costs
 * 1.5 k^3 cache-friendly multiply-adds instead of the 2 k^3 of a plain triple loop in JS.
 */
export function sandwichBMB(out_KK: usize, work_KK: usize, k: i32, b_KK: usize, m_KK: usize): i32 {
  if (k < 0) return BAD_ARGUMENT;
  // (B M) B: the first product skips the zero entries of M (sparse meats of dummies)
  matmulBlocked(k, b_KK, m_KK, work_KK, false);
  matmulBlocked(k, work_KK, b_KK, out_KK, true);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      store<f64>(out_KK + ((<usize>b + <usize>a * <usize>k) << 3), load<f64>(out_KK + ((<usize>a + <usize>b * <usize>k) << 3)));
    }
  }
  return OK;
}

/**
 * c = a b for k x k column-major matrices (c distinct from a and b); `upper`: only the
 * entries c[i, j] with i <= j (and a few below, up to the 4-column block) are formed.
 * Blocked so that a 256 x 128 panel of a stays in cache while every column block of c
 * passes over it: a is read from memory once instead of k / 4 times.
 */
function matmulBlocked(k: i32, a: usize, b: usize, c: usize, upper: bool): void {
  const K = <usize>k;
  memory.fill(c, 0, (K * K) << 3);
  for (let i0 = 0; i0 < k; i0 += 256) {
    const i1 = min(i0 + 256, k);
    for (let l0 = 0; l0 < k; l0 += 128) {
      const l1 = min(l0 + 128, k);
      let j = upper ? (i0 >> 2) << 2 : 0;
      for (; j + 3 < k; j += 4) {
        const rows = upper ? min(i1, j + 4) : i1;
        const c0 = c + ((<usize>j * K) << 3), c1 = c0 + (K << 3), c2 = c1 + (K << 3), c3 = c2 + (K << 3);
        for (let l = l0; l < l1; l++) {
          const bl = b + (<usize>l << 3);
          const f0 = load<f64>(bl + ((<usize>j * K) << 3));
          const f1 = load<f64>(bl + ((<usize>(j + 1) * K) << 3));
          const f2 = load<f64>(bl + ((<usize>(j + 2) * K) << 3));
          const f3 = load<f64>(bl + ((<usize>(j + 3) * K) << 3));
          if (f0 == 0 && f1 == 0 && f2 == 0 && f3 == 0) continue;
          const al = a + ((<usize>l * K) << 3);
          const v0 = f64x2.splat(f0), v1 = f64x2.splat(f1), v2 = f64x2.splat(f2), v3 = f64x2.splat(f3);
          let i = i0;
          for (; i + 1 < rows; i += 2) {
            const o = <usize>i << 3;
            const x = v128.load(al + o);
            v128.store(c0 + o, f64x2.add(v128.load(c0 + o), f64x2.mul(x, v0)));
            v128.store(c1 + o, f64x2.add(v128.load(c1 + o), f64x2.mul(x, v1)));
            v128.store(c2 + o, f64x2.add(v128.load(c2 + o), f64x2.mul(x, v2)));
            v128.store(c3 + o, f64x2.add(v128.load(c3 + o), f64x2.mul(x, v3)));
          }
          for (; i < rows; i++) {
            const o = <usize>i << 3;
            const x = load<f64>(al + o);
            store<f64>(c0 + o, load<f64>(c0 + o) + x * f0);
            store<f64>(c1 + o, load<f64>(c1 + o) + x * f1);
            store<f64>(c2 + o, load<f64>(c2 + o) + x * f2);
            store<f64>(c3 + o, load<f64>(c3 + o) + x * f3);
          }
        }
      }
      for (; j < k; j++) {
        const rows = upper ? min(i1, j + 1) : i1;
        if (rows <= i0) continue;
        const cj = c + ((<usize>j * K) << 3);
        for (let l = l0; l < l1; l++) {
          const f = load<f64>(b + ((<usize>l + <usize>j * K) << 3));
          if (f == 0) continue;
          axpyFrom(cj, a + ((<usize>l * K) << 3), -f, i0, rows);
        }
      }
    }
  }
}
