// Wild cluster bootstrap of one coefficient (Roodman, MacKinnon, Nielsen & Webb 2019,
// "Fast and wild"), on cluster-level aggregates.
//
// With x the treatment partialled on the FEs and controls (sqrt-weighted), e_y the
// outcome partialled likewise, S = x'x, clusters h = 1..G and bootstrap weights v_h:
//   restricted residuals  u(b0) = e_y - b0 x   (unrestricted: b0 = b^)
//   b* - b0               = sum_h v_h (ay_h - b0 ax_h) / S,  ay_h = x_h'e_y, ax_h = x_h'x_h
//   cluster score g of the refitted model
//                         = sum_h v_h (Cy[g,h] - b0 Cx[g,h]),  Cy[g,h] = z_g,h'e_y,h,
//                           Cx[g,h] = z_g,h'x_h, z_g = M_full (x restricted to cluster g)
// so one replication is O(G^2) and everything is linear in b0: each draw is kept as five
// numbers (Ny, Nx, A, Bq, Cq) from which t*(b0) = (Ny - b0 Nx) / sqrt(c (A - 2 b0 Bq + b0^2 Cq))
// follows for any b0 in O(1) (test inversion without re-running the bootstrap).
//
// Naming: _N per observation, _G per cluster, _D per draw.
import { OK, BAD_ARGUMENT } from "./status";
import { rngSeedFork, rngInt } from "./rng";

export const WEIGHTS_RADEMACHER: i32 = 0;
export const WEIGHTS_WEBB: i32 = 1;

/**
 * out_NK[i, k] = x_N[i] / sw_N[i] if codes_N[i] == g0 + k, else 0 (sw_N = 0: sw = 1): the
 * treatment restricted to cluster g0 + k, back in raw (unweighted) units for the demeaning.
 */
export function clusterColumns(out_NK: usize, n: i32, x_N: usize, sw_N: usize, codes_N: usize, g0: i32, K: i32): i32 {
  if (n < 0 || K < 0) return BAD_ARGUMENT;
  memory.fill(out_NK, 0, (<usize>n * <usize>K) << 3);
  for (let i = 0; i < n; i++) {
    const k = load<i32>(codes_N + (<usize>i << 2)) - g0;
    if (k < 0 || k >= K) continue;
    let x = load<f64>(x_N + (<usize>i << 3));
    if (sw_N != 0) x /= load<f64>(sw_N + (<usize>i << 3));
    store<f64>(out_NK + ((<usize>k * <usize>n + <usize>i) << 3), x);
  }
  return OK;
}

/** out_GK[h, k] = sum over rows i of cluster h of z_NK[i, k] y_N[i]. */
export function clusterCross(out_GK: usize, n: i32, K: i32, z_NK: usize, y_N: usize, codes_N: usize, G: i32): i32 {
  if (n < 0 || K < 0 || G <= 0) return BAD_ARGUMENT;
  memory.fill(out_GK, 0, (<usize>G * <usize>K) << 3);
  for (let k = 0; k < K; k++) {
    const z = z_NK + ((<usize>k * <usize>n) << 3);
    const out = out_GK + ((<usize>k * <usize>G) << 3);
    for (let i = 0; i < n; i++) {
      const h = load<i32>(codes_N + (<usize>i << 2));
      const p = out + (<usize>h << 3);
      store<f64>(p, load<f64>(p) + load<f64>(z + (<usize>i << 3)) * load<f64>(y_N + (<usize>i << 3)));
    }
  }
  return OK;
}

/**
 * Bootstrap weights of draws d in [d0, d0 + nd) into v_GD (cluster-major: v[h * nd + dd]).
 * enumerate != 0: draw d is the d-th vector of the full enumeration (Rademacher: bit h of d
 * set -> +1; Webb: base-6 digit h of d). Otherwise stream fork(d) of the key gives v_h for
 * h = 0..G-1 in turn: Rademacher int(2) (1 -> +1, 0 -> -1), Webb the int(6)-th of
 * (-sqrt(3/2), -1, -sqrt(1/2), sqrt(1/2), 1, sqrt(3/2)). rng_4: a generator state (assembly/rng.ts).
 */
export function wildWeights(v_GD: usize, rng_4: usize, kind: i32, enumerate: i32, G: i32, keyHi: u32, keyLo: u32, d0: f64, nd: i32): i32 {
  if (G <= 0 || nd < 0 || kind < 0 || kind > 1) return BAD_ARGUMENT;
  const a = Math.sqrt(0.5), b = Math.sqrt(1.5);
  for (let dd = 0; dd < nd; dd++) {
    const d = d0 + <f64>dd;
    if (enumerate != 0) {
      let rest = d;
      const base: f64 = kind == WEIGHTS_RADEMACHER ? 2 : 6;
      for (let h = 0; h < G; h++) {
        const digit = <i32>(rest - base * Math.floor(rest / base));
        rest = Math.floor(rest / base);
        store<f64>(v_GD + ((<usize>h * <usize>nd + <usize>dd) << 3), webbOrSign(kind, digit, a, b));
      }
    } else {
      rngSeedFork(rng_4, keyHi, keyLo, d);
      for (let h = 0; h < G; h++) {
        const digit = <i32>rngInt(rng_4, kind == WEIGHTS_RADEMACHER ? 2 : 6);
        store<f64>(v_GD + ((<usize>h * <usize>nd + <usize>dd) << 3), webbOrSign(kind, digit, a, b));
      }
    }
  }
  return OK;
}

@inline function webbOrSign(kind: i32, digit: i32, a: f64, b: f64): f64 {
  if (kind == WEIGHTS_RADEMACHER) return digit == 1 ? 1.0 : -1.0;
  switch (digit) {
    case 0: return -b;
    case 1: return -1.0;
    case 2: return -a;
    case 3: return a;
    case 4: return 1.0;
    default: return b;
  }
}

/**
 * For nd draws with weights v_GD (cluster-major), out_5D[dd * 5 + .] = (Ny, Nx, A, Bq, Cq):
 *   Ny = ay'v, Nx = ax'v, sy = Cy v, sx = Cx v, A = sy'sy, Bq = sy'sx, Cq = sx'sx.
 * Cy_GG and Cx_GG are column-major with column g = cluster g's score coefficients over h.
 * sy_GD, sx_GD: scratch of G * nd f64 each.
 */
export function wildDraws(
  sy_GD: usize, sx_GD: usize, out_5D: usize, G: i32, nd: i32, cy_GG: usize, cx_GG: usize, ay_G: usize,
  ax_G: usize, v_GD: usize,
): i32 {
  if (G <= 0 || nd < 0) return BAD_ARGUMENT;
  const bytes = (<usize>G * <usize>nd) << 3;
  memory.fill(sy_GD, 0, bytes);
  memory.fill(sx_GD, 0, bytes);
  const rowBytes = <usize>nd << 3;
  for (let g = 0; g < G; g++) {
    const py = sy_GD + <usize>g * rowBytes;
    const px = sx_GD + <usize>g * rowBytes;
    const colY = cy_GG + ((<usize>g * <usize>G) << 3);
    const colX = cx_GG + ((<usize>g * <usize>G) << 3);
    for (let h = 0; h < G; h++) {
      const cy = load<f64>(colY + (<usize>h << 3));
      const cx = load<f64>(colX + (<usize>h << 3));
      const vh = v_GD + <usize>h * rowBytes;
      const cyv = f64x2.splat(cy), cxv = f64x2.splat(cx);
      let d = 0;
      for (; d + 1 < nd; d += 2) {
        const o = <usize>d << 3;
        const v = v128.load(vh + o);
        v128.store(py + o, f64x2.add(v128.load(py + o), f64x2.mul(cyv, v)));
        v128.store(px + o, f64x2.add(v128.load(px + o), f64x2.mul(cxv, v)));
      }
      for (; d < nd; d++) {
        const o = <usize>d << 3;
        const v = load<f64>(vh + o);
        store<f64>(py + o, load<f64>(py + o) + cy * v);
        store<f64>(px + o, load<f64>(px + o) + cx * v);
      }
    }
  }
  for (let d = 0; d < nd; d++) {
    const o = <usize>d << 3;
    let ny: f64 = 0, nx: f64 = 0, A: f64 = 0, Bq: f64 = 0, Cq: f64 = 0;
    for (let h = 0; h < G; h++) {
      const v = load<f64>(v_GD + <usize>h * rowBytes + o);
      ny += load<f64>(ay_G + (<usize>h << 3)) * v;
      nx += load<f64>(ax_G + (<usize>h << 3)) * v;
      const y = load<f64>(sy_GD + <usize>h * rowBytes + o);
      const x = load<f64>(sx_GD + <usize>h * rowBytes + o);
      A += y * y;
      Bq += y * x;
      Cq += x * x;
    }
    const p = out_5D + ((<usize>d * 5) << 3);
    store<f64>(p, ny);
    store<f64>(p + 8, nx);
    store<f64>(p + 16, A);
    store<f64>(p + 24, Bq);
    store<f64>(p + 32, Cq);
  }
  return OK;
}

export const wild_KERNELS_VERSION: i32 = 1;
