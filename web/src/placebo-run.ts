// In-space placebo in the worker: bindings/inference/placebo.ts (no refits: FWL on the fit's demeaned
// data), run in chunks so that progress reaches the page while it computes. The chunks are
// the ones bindings/platform/placebo-node.ts hands to its threads (fixed blocks of basis columns,
// ranges of draws; draw d always uses stream fork(d) of the seed; the direct basis solver in
// one piece), so the draws are bit-identical to one placebo() call in Node.
import {
  preparePlacebo, basisBlockCount, basisBlocks, directBasis, finishBasis, basisDraws, demeanDraws, drawBlockCount, assemblePlacebo,
  placebo, withSample, BLOCK, type PlaceboOptions, type PlaceboResult,
} from "../../bindings/inference/placebo.js";
import { OptionError, type Engine, type Fit, type Frame } from "../../bindings/browser.js";
import type { ModelSpec, PlaceboSpec } from "../../bindings/platform/worker-protocol.js";
import { adoptColumn } from "./spec.js";

export type Progress = (done: number, total: number, what: string) => void;

/** Steps of progress per phase (setup: basis columns; draws). */
const STEPS = 40;

function now(): number {
  return performance.now();
}

/** placebo(eng, fit, opts), in chunks, reporting progress after each. */
export function placeboChunked(eng: Engine, fit: Fit, opts: PlaceboOptions, onProgress: Progress): PlaceboResult {
  if (opts.scheme === "time" || opts.assignments) return placebo(eng, fit, { ...opts, onProgress: (d, t) => onProgress(d, t, "draws") });
  const t0 = now();
  const warnings: string[] = [];
  const P = preparePlacebo(eng, fit, opts, (m) => {
    warnings.push(m);
    opts.onWarning?.(m);
  });
  const total = P.nDraws;
  const draws = new Float64Array(total);
  let t1: number;
  if (P.method === "basis") {
    let H: Float64Array;
    if (P.basisSolver === "direct") {
      H = directBasis(eng, P);
      onProgress(1, 1, "placebo setup (basis)");
    } else {
      const nb = basisBlockCount(P);
      const per = P.U * P.cohortT.length * BLOCK;
      H = new Float64Array(P.U * P.cohortT.length * P.basisCols.length);
      const bStep = Math.max(1, Math.ceil(nb / STEPS));
      for (let b = 0; b < nb; b += bStep) {
        const b1 = Math.min(nb, b + bStep);
        H.set(basisBlocks(eng, P, b, b1), b * per);
        onProgress(b1, nb, "placebo setup (basis columns)");
      }
    }
    const B = finishBasis(eng, P, H);
    t1 = now();
    const dStep = Math.max(1, Math.ceil(total / STEPS));
    for (let d = 0; d < total; d += dStep) {
      const m = Math.min(dStep, total - d);
      draws.set(basisDraws(eng, P, B, d, m), d);
      onProgress(d + m, total, "placebo draws");
    }
  } else {
    t1 = now();
    const nb = drawBlockCount(P);
    for (let b = 0; b < nb; b++) {
      draws.set(demeanDraws(eng, P, b, b + 1).b, b * BLOCK);
      onProgress(Math.min(total, (b + 1) * BLOCK), total, "placebo draws");
    }
  }
  const t2 = now();
  return withSample(fit, assemblePlacebo({ opts, P, draws, warnings, threads: 1, setupMs: t1 - t0, drawsMs: t2 - t1 }));
}

/**
 * The frame and options of the page's in-space placebo: adds the adoption column as
 * bindings/inference/placebo.ts reads it (first-treatment year, never treated = NaN; mpdta codes never
 * treated as 0) under a fresh name, and keeps the unit and year complete in the sample.
 */
export function placeboSetup(frame: Frame, spec: ModelSpec, p: PlaceboSpec): { frame: Frame; opts: PlaceboOptions; keep: string[] } {
  if (!spec.timing) {
    throw new OptionError("the placebo needs the first-treatment and time columns", undefined, "choose them under Treatment timing");
  }
  if (!p.unit) throw new OptionError("choose the unit across which adoption years are reassigned");
  let adopt = "adopt";
  while (frame.has(adopt)) adopt += "_";
  const f = frame.withColumn(adopt, adoptColumn(frame.numeric(spec.timing.firstTreat)));
  return {
    frame: f,
    keep: [p.unit, spec.timing.year],
    opts: { treatment: spec.treatment, scheme: "space", unit: p.unit, adopt, year: spec.timing.year, draws: p.draws, seed: p.seed },
  };
}
