// float32 storage of the raw columns (feols storage: "f32", `hdfe feols --float32`).
//
// The raw outcome and regressors are rounded to float32 and kept in WASM memory at 4 bytes a
// value; nothing else is rounded. Columns are widened to float64 a batch at a time, demeaned
// and reduced to the Gram matrix at once. One demeaned side is enough: the FE projection M
// is symmetric and idempotent (W-symmetric when weighted), so (M x_a)' W (M x_b) =
// (M x_a)' W x_b, and no demeaned copy of X is kept. The coefficients solve the normal
// equations with sequential rank detection (fixest also solves X'X by Cholesky); the
// residuals are M (y - X b). A robust vcov demeans the kept columns a second time, adding
// their cluster scores batch by batch; the hetero meat pairs batches when not all columns
// fit at once. Memory: 4 (k+1) + 16 bytes per row plus FE codes, against 8 (k+3) for
// float64 storage.
import type { DemeanInfo } from "../engine/kernels.js";
import { check, demeanScratchBytes, mergeInfo } from "../engine/kernels.js";
import { OptionError, SampleError, WasmMemoryError } from "../base/errors.js";
import { fmtBytes } from "../engine/wasm.js";
import { invSPD } from "../base/stats.js";
import type { MeatTerm } from "./vcov.js";
import {
  convergence, demeanReport, demeanScratchPlan, demeanWith, finishCollinear, loadFeDims, putSqrtWeights, screenColumns, sumsOfSquares,
  PLAN_SLACK, type PlanShape, type SolveContext, type Solved, type StorageReport,
} from "./solve.js";

/** Bytes kept free for small buffers (k x k matrices, FE sizes, cluster scores of small G). */
const RESERVE = 4 * 1024 * 1024;

/**
 * Bytes of WASM memory a model in float32 storage needs at the least: raw columns (f32),
 * residuals, one demeaning column (two for a hetero vcov) and its scratch, weights and
 * their square roots, slopes, FE codes and the codes of each cluster term.
 */
export function planF32(s: PlanShape): number {
  const { n, k, Q } = s;
  const cols = 1 + (s.hetero ? 2 : 1) + (s.weighted ? 2 : 0) + (s.slopes ?? 0);
  return n * 4 * (k + 1) + n * 8 * cols + n * 4 * (Q + (s.clusterTerms ?? 0)) + demeanScratchPlan(s.feCells) + PLAN_SLACK;
}

export function solveF32(ctx: SolveContext): Solved {
  const { eng, sample, n, xNames, w } = ctx;
  const k = xNames.length;
  const K1 = k + 1;
  const Q = sample.fe.length;
  const { rawPtr, maxRel } = storeRawF32(ctx);
  const wPtr = w ? eng.putF64(w, "weights") : 0;
  const swPtr = w ? putSqrtWeights(eng, w) : 0;
  const dims = Q > 0 ? loadFeDims(eng, sample, wPtr) : null;
  const storage: StorageReport = { type: "f32", maxRelRounding: maxRel, batch: 0, passes: 1 };
  const plan = f32Plan(ctx, dims);
  const { gram, pre, within, infos } = gramPass(ctx, plan, { rawPtr, wPtr, swPtr, K1, storage });
  const { collinear, cand } = screenColumns(ctx, pre, within);
  const { kept, names, beta, bread } = choleskySolve(ctx, gram, K1, cand, collinear);
  const { ePtr, ssr, e, rinfo } = residualsPass(ctx, plan, { rawPtr, swPtr, kept, beta });
  if (rinfo) infos.push(rinfo);
  const info = infos.length ? convergence(ctx, mergeInfo(infos, infos[0].threads)) : null;
  const meats = meatsF32(ctx, plan, dims, { rawPtr, swPtr, ePtr, kept, storage });
  return {
    names, beta, bread, collinear, e, ePtr, xPtr: 0, xTilde: new Float64Array(0), yTilde: new Float64Array(0),
    ssr, tss: pre[0], within0: within[0], iterations: info ? info.iterations : 0, converged: info ? info.converged : true,
    demean: info ? demeanReport(ctx, info) : null, meats, storage,
  };
}

// ---- the steps of solveF32

/** The outcome and regressors as float32 columns (outcome first) in the arena; warns when rounding changed values. */
function storeRawF32(ctx: SolveContext): { rawPtr: number; maxRel: number } {
  const { eng, design, sample, n, xNames, addIntercept } = ctx;
  const k = xNames.length;
  const K1 = k + 1;
  const rawPtr = eng.alloc(n * K1 * 4, "raw columns (float32)");
  let maxRel = 0;
  {
    const R = eng.f32(rawPtr, n * K1);
    const rows = sample.rows;
    const identity = n === design.n;
    const put = (src: Float64Array, off: number, name: string, f: number) => {
      for (let j = 0; j < n; j++) {
        // extreme magnitudes are first scaled by a power of two (exact, see pow2Scale)
        const v = (identity ? src[j] : src[rows[j]]) * f;
        R[off + j] = v;
        const r = R[off + j];
        if (r !== v) {
          if (!Number.isFinite(r)) {
            throw new OptionError(
              `column "${name}" has a value (${v}) outside the float32 range (|x| < 3.4e38)`,
              { column: name, value: v },
              'rescale the column or use storage "f64" (drop --float32)',
            );
          }
          const rel = Math.abs(r - v) / Math.abs(v);
          if (rel > maxRel) maxRel = rel;
        }
      }
    };
    put(design.y, 0, design.yName, ctx.scale?.y ?? 1);
    for (let c = 0; c < k; c++) {
      const off = (c + 1) * n;
      if (addIntercept && c === 0) R.fill(1, off, off + n);
      else put(design.X[addIntercept ? c - 1 : c], off, xNames[c], ctx.scale?.x[c] ?? 1);
    }
  }
  if (maxRel > 1e-6) {
    ctx.warn(
      `float32 storage changed some values by up to ${maxRel.toExponential(1)} relative (magnitudes below 1.2e-38 lose precision): ` +
        "rescale those columns or use float64 storage",
    );
  }
  return { rawPtr, maxRel };
}

/** How many demeaning columns fit next to what is allocated, and the demeaning of a batch. */
interface F32Plan {
  room(): number;
  batchOf(want: number): number;
  demeanCols(K: number, ptr: number): DemeanInfo | null;
}

function f32Plan(ctx: SolveContext, dims: ReturnType<typeof loadFeDims> | null): F32Plan {
  const { eng, n } = ctx;
  const colBytes = n * 8;
  // with lsmr its n-row vectors per column too (auto takes them only for the columns its projections leave)
  const scratch = dims ? demeanScratchBytes(eng, dims, ctx.fixefAlgo) : { fixed: 0, perCol: 0 };
  const room = () => Math.floor((eng.freeBytes - scratch.fixed - RESERVE) / (colBytes + scratch.perCol));
  const batchOf = (want: number) => {
    const b = Math.min(want, ctx.batch ?? want, room());
    if (b < 1) {
      throw new WasmMemoryError(
        `float32 storage: no room left for one demeaning column of ${fmtBytes(colBytes)} next to the raw columns`,
        { rows: n, columnBytes: colBytes, free: eng.freeBytes },
        "use fewer regressors or a subsample (e.g. by period)",
      );
    }
    return b;
  };
  const demeanCols = (K: number, ptr: number): DemeanInfo | null => (dims ? demeanWith(ctx, dims, K, ptr, ptr) : null);
  return { room, batchOf, demeanCols };
}

/**
 * Pass 1: sums of squares and the Gram matrix, a batch of columns at a time. The diagonal is
 * each demeaned column's sum of squares; an entry (a, j > a) is the demeaned column a against
 * the raw column j (M idempotent), whichever batch j is in, so the result does not depend on
 * the batch size (and so on the memory free).
 */
function gramPass(
  ctx: SolveContext, plan: F32Plan, x: { rawPtr: number; wPtr: number; swPtr: number; K1: number; storage: StorageReport },
) {
  const { eng, n } = ctx;
  const { rawPtr, wPtr, swPtr, K1, storage } = x;
  const { batchOf, demeanCols } = plan;
  const gram = new Float64Array(K1 * K1);
  const pre = new Float64Array(K1);
  const within = new Float64Array(K1);
  const infos: DemeanInfo[] = [];
  eng.scoped(() => {
    const B = batchOf(K1);
    storage.batch = B;
    const scr = eng.allocF64(n * B, "demeaning batch");
    const cross = eng.allocF64(B * K1);
    for (let c0 = 0; c0 < K1; c0 += B) {
      const b = Math.min(B, K1 - c0);
      const rest = K1 - c0;
      check(eng.kernels.widenF32(scr, n, b, rawPtr + c0 * n * 4), "widenF32");
      pre.set(sumsOfSquares(eng, scr, n, b, wPtr, true), c0);
      const info = demeanCols(b, scr);
      if (info) infos.push(info);
      within.set(sumsOfSquares(eng, scr, n, b, wPtr, false), c0);
      if (swPtr) check(eng.kernels.scaleRows(scr, n, b, swPtr), "scaleRows");
      check(eng.kernels.crossF32(cross, n, b, scr, rest, rawPtr + c0 * n * 4, swPtr), "crossF32");
      const C = eng.f64(cross, b * rest);
      for (let a = 0; a < b; a++) {
        gram[c0 + a + (c0 + a) * K1] = within[c0 + a];
        for (let j = a + 1; j < rest; j++) gram[c0 + a + (c0 + j) * K1] = gram[c0 + j + (c0 + a) * K1] = C[a + j * b];
      }
    }
  });
  return { gram, pre, within, infos };
}

/**
 * The normal equations: Cholesky in formula order, dropping a column when what is left of it
 * after the kept ones is at most collinTol of its sum of squares (the QR's rule); then the
 * coefficients and the bread.
 */
function choleskySolve(ctx: SolveContext, gram: Float64Array, K1: number, cand: number[], collinear: string[]) {
  const { xNames, collinTol } = ctx;
  const kept: number[] = []; // raw column indices (1-based: 0 is the outcome)
  const L: number[][] = []; // rows of the Cholesky factor of the kept Gram
  for (const c of cand) {
    const r = c + 1;
    const l: number[] = [];
    let d = gram[r + r * K1];
    for (let t = 0; t < kept.length; t++) {
      let s = gram[kept[t] + r * K1];
      for (let u = 0; u < t; u++) s -= L[t][u] * l[u];
      l.push(s / L[t][t]);
      d -= l[t] * l[t];
    }
    if (d <= collinTol * gram[r + r * K1]) collinear.push(xNames[c]);
    else {
      l.push(Math.sqrt(d));
      L.push(l);
      kept.push(r);
    }
  }
  finishCollinear(ctx, collinear, kept.length);
  const kf = kept.length;
  const names = kept.map((r) => xNames[r - 1]);
  // L L' beta = X~'y: forward then back substitution
  const z = new Float64Array(kf);
  for (let t = 0; t < kf; t++) {
    let s = gram[kept[t]];
    for (let u = 0; u < t; u++) s -= L[t][u] * z[u];
    z[t] = s / L[t][t];
  }
  const beta = new Float64Array(kf);
  for (let t = kf - 1; t >= 0; t--) {
    let s = z[t];
    for (let u = t + 1; u < kf; u++) s -= L[u][t] * beta[u];
    beta[t] = s / L[t][t];
  }
  const Gk = new Float64Array(kf * kf);
  for (let a = 0; a < kf; a++) for (let b = 0; b < kf; b++) Gk[a + b * kf] = gram[kept[a] + kept[b] * K1];
  const bread = invSPD(Gk, kf);
  if (!bread) throw new SampleError("the regressors' Gram matrix is not positive definite after rank detection", { names });
  return { kept, names, beta, bread };
}

/** Residuals M (y - X b), sqrt-weighted (allocated after pass 1, whose batch can use the room), and their sum of squares. */
function residualsPass(
  ctx: SolveContext, plan: F32Plan, x: { rawPtr: number; swPtr: number; kept: number[]; beta: Float64Array },
) {
  const { eng, n, xNames } = ctx;
  const k = xNames.length;
  const { rawPtr, swPtr, kept, beta } = x;
  const ePtr = eng.allocF64(n, "residuals");
  eng.scoped(() => {
    const full = new Float64Array(k);
    kept.forEach((r, t) => (full[r - 1] = beta[t]));
    check(eng.kernels.residualsF32(ePtr, n, k, rawPtr + n * 4, rawPtr, eng.putF64(full)), "residualsF32");
  });
  const rinfo = plan.demeanCols(1, ePtr);
  if (swPtr) check(eng.kernels.scaleRows(ePtr, n, 1, swPtr), "scaleRows");
  const ssr = sumsOfSquares(eng, ePtr, n, 1, 0, false)[0];
  const e = eng.getF64(ePtr, n);
  return { ePtr, ssr, e, rinfo };
}

/** The meats: the kept columns demeaned again, batch by batch, against the residuals. */
function meatsF32(
  ctx: SolveContext, plan: F32Plan, dims: ReturnType<typeof loadFeDims> | null,
  x: { rawPtr: number; swPtr: number; ePtr: number; kept: number[]; storage: StorageReport },
): (terms: MeatTerm[]) => Float64Array[] {
  const { eng, sample, n } = ctx;
  const colBytes = n * 8;
  const { rawPtr, swPtr, ePtr, kept, storage } = x;
  const kf = kept.length;
  const { room, batchOf, demeanCols } = plan;
  const feCodePtr = (codes: Int32Array): number => {
    if (!dims) return 0;
    const r = dims.order.findIndex((q) => sample.fe[q].codes === codes);
    return r >= 0 ? dims.codesPtr + r * n * 4 : 0;
  };
  return (terms: MeatTerm[]): Float64Array[] =>
    eng.scoped(() => {
      const hetero = terms.some((t) => t === null);
      const codePtrs = terms.map((t) => (t === null ? 0 : feCodePtr(t.codes) || eng.putI32(t.codes, "cluster codes")));
      const S = terms.map((t) => {
        if (t === null) return 0;
        const p = eng.allocF64(t.G * kf, "cluster scores");
        eng.f64(p, t.G * kf).fill(0);
        return p;
      });
      let h = batchOf(Math.max(kf, 1));
      const paired = hetero && h < kf;
      if (paired) {
        // two slots: a block and its partner
        h = Math.min(h, Math.floor(room() / 2));
        if (h < 1) {
          throw new WasmMemoryError(
            `float32 storage: the hetero vcov needs two demeaning columns of ${fmtBytes(colBytes)} and there is room for one`,
            { rows: n, columnBytes: colBytes, free: eng.freeBytes },
            "use a clustered vcov, fewer regressors or a subsample",
          );
        }
      }
      const slotA = eng.allocF64(n * h, "demeaning batch");
      const slotB = paired ? eng.allocF64(n * h, "demeaning batch") : 0;
      const blk = eng.allocF64(h * h);
      const H = new Float64Array(kf * kf);
      const fill = (slot: number, j0: number, m: number) => {
        for (let a = 0; a < m; a++) check(eng.kernels.widenF32(slot + a * n * 8, n, 1, rawPtr + kept[j0 + a] * n * 4), "widenF32");
        demeanCols(m, slot);
        if (swPtr) check(eng.kernels.scaleRows(slot, n, m, swPtr), "scaleRows");
        storage.passes! += m / kf;
      };
      // entries (a, b) with a <= b are taken and mirrored, so that each is the same sum
      // (same operand order) whatever the blocks: results do not depend on the batch
      const place = (i0: number, mi: number, j0: number, mj: number) => {
        const Bv = eng.f64(blk, mi * mj);
        for (let a = 0; a < mi; a++) {
          for (let b = 0; b < mj; b++) {
            if (i0 + a <= j0 + b) H[i0 + a + (j0 + b) * kf] = H[j0 + b + (i0 + a) * kf] = Bv[a + b * mi];
          }
        }
      };
      for (let i0 = 0; i0 < kf; i0 += h) {
        const mi = Math.min(h, kf - i0);
        fill(slotA, i0, mi);
        terms.forEach((t, i) => {
          if (t) check(eng.kernels.clusterScores(S[i], n, mi, slotA, ePtr, codePtrs[i], t.G, kf, i0), "clusterScores");
        });
        if (!hetero) continue;
        check(eng.kernels.meatHeteroCross(blk, n, mi, slotA, mi, slotA, ePtr), "meatHeteroCross");
        place(i0, mi, i0, mi);
        for (let j0 = i0 + h; paired && j0 < kf; j0 += h) {
          const mj = Math.min(h, kf - j0);
          fill(slotB, j0, mj);
          check(eng.kernels.meatHeteroCross(blk, n, mi, slotA, mj, slotB, ePtr), "meatHeteroCross");
          place(i0, mi, j0, mj);
        }
      }
      storage.passes = Math.round(storage.passes! * 100) / 100;
      return terms.map((t, i) => {
        if (t === null) return H;
        const out = eng.allocF64(kf * kf);
        check(eng.kernels.scoresCross(out, t.G, kf, S[i]), "scoresCross");
        return eng.getF64(out, kf * kf);
      });
    });
}
