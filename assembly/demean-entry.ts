// The demeaning kernel's entry point (exported by assembly/index.ts): the call's algorithm
// chosen from its context block, the algorithms themselves in assembly/demean.ts (alternating
// projections, CG) and assembly/demean-lsmr.ts (LSMR). A file of its own so that the two
// algorithm files import only downwards (demean-lsmr.ts uses demean.ts's passes; this file
// uses both).
import { OK, NOT_CONVERGED, BAD_ARGUMENT } from "./status";
import { DM_N, DM_Q, DM_K, DM_KMAX, DM_TOL, DM_MAXITER, DM_ALGO, DM_SWITCH, DM_R, DM_STALLED, DM_CRIT, DM_MAP, DM_U } from "./context";
import { geti, getp, prepare, vecOf, colvOf, setup, sweep, mapPhase, pcg, record, mapOf, residualsMapped } from "./demean";
import { lsmr } from "./demean-lsmr";

/**
 * Demean the columns of x_NK (column-major, n rows each) on the fixed-effect dimensions the
 * context block `cx` describes (assembly/context.ts: n, Q, Kmax columns, the FE codes as Q
 * blocks of n int32 0..G_q-1, level counts, types, slope pointers, weights, tol, maxIter,
 * algo, switchAfter). Writes residuals to out_NK (may equal x_NK).
 * algo: 0 = MAP, switching to CG for the columns that have not converged after (the binding's
 * "map-cg"; its "auto" is MAP then LSMR, two calls of this kernel: engine/kernels.ts demeanAuto),
 * `switchAfter` accelerated steps), 1 = MAP only, 2 = CG only, 3 = LSMR only
 * (assembly/demean-lsmr.ts; its scratch through DM_U, its iterations in the CG field).
 * Convergence is per column (see above): results do not depend on which columns share a call.
 * info: f64[4] out = [iterations (MAP steps + CG iterations), largest final criterion,
 * converged (1/0: every column), CG iterations]. MAP steps and CG iterations are the
 * largest over columns. scratch: demeanScratch() f64. When the context's DM_COLS is set, each
 * column's own record (the same four numbers for that column: what it would report alone)
 * is written there.
 * Returns OK, NOT_CONVERGED (residuals still written) or BAD_ARGUMENT.
 */
export function demean(out_NK: usize, info: usize, scratch: usize, cx: usize, x_NK: usize): i32 {
  const n = geti(cx, DM_N), Q = geti(cx, DM_Q), K = geti(cx, DM_KMAX);
  const maxIter = geti(cx, DM_MAXITER), algo = geti(cx, DM_ALGO), switchAfter = geti(cx, DM_SWITCH);
  if (n <= 0 || Q <= 0 || K <= 0 || maxIter < 0 || algo < 0 || algo > 3) return BAD_ARGUMENT;
  if (algo == 3 && getp(cx, DM_U) == 0) return BAD_ARGUMENT;
  if (!prepare(cx, scratch)) return BAD_ARGUMENT;
  const A = vecOf(cx, scratch, 0);
  setup(cx, x_NK);
  memory.fill(A, 0, (<usize>geti(cx, DM_R) * <usize>K) << 3);

  let iters = 0, cgIters = 0;
  const critMax = info + 8;
  store<f64>(critMax, 0);
  if (Q == 1) {
    sweep(cx, A);
    iters = 1;
  } else {
    if (algo == 3) {
      cgIters = lsmr(cx, A, vecOf(cx, scratch, 2), vecOf(cx, scratch, 3), vecOf(cx, scratch, 4), vecOf(cx, scratch, 5),
        load<f64>(cx + DM_TOL), maxIter > 0 ? maxIter : 1, x_NK, out_NK, critMax, 0);
      iters = cgIters;
    }
    if (algo != 2 && algo != 3) {
      const limit = algo == 1 ? maxIter : (switchAfter < maxIter ? switchAfter : maxIter);
      iters = mapPhase(cx, scratch, limit, x_NK, out_NK, critMax);
    }
    if (geti(cx, DM_K) > 0 && (algo == 0 || algo == 2)) {
      const rem = maxIter - iters;
      cgIters = pcg(cx, A, vecOf(cx, scratch, 2), vecOf(cx, scratch, 3), vecOf(cx, scratch, 4), vecOf(cx, scratch, 5),
        colvOf(cx), load<f64>(cx + DM_TOL), rem > 0 ? rem : 1, x_NK, out_NK, critMax, iters);
      iters += cgIters;
    }
  }
  // columns left (one FE, or not converged): their last criterion, and residuals
  const Kleft = geti(cx, DM_K);
  const converged = Q == 1 || (Kleft == 0 && geti(cx, DM_STALLED) == 0);
  if (Q > 1) {
    const crit = getp(cx, DM_CRIT), map = getp(cx, DM_MAP);
    for (let k = 0; k < Kleft; k++) {
      const v = load<f64>(crit + (<usize>k << 3));
      if (v > load<f64>(critMax)) store<f64>(critMax, v);
      record(cx, mapOf(map, k), iters - cgIters, cgIters, v, false);
    }
  } else {
    for (let k = 0; k < K; k++) record(cx, k, 1, 0, 0, true);
  }
  if (Kleft > 0) residualsMapped(cx, A, getp(cx, DM_MAP), x_NK, out_NK);
  store<f64>(info, <f64>iters);
  store<f64>(info + 16, converged ? 1.0 : 0.0);
  store<f64>(info + 24, <f64>cgIters);
  return converged ? OK : NOT_CONVERGED;
}
