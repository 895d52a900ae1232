// In-space placebo for the worker: keep the adoption years, reassign which units get them
// (a seeded permutation of the unit-level first-treatment years), rebuild the DiD term and
// refit; the distribution of placebo coefficients gives a permutation p-value.
import { Rng } from "../../bindings/rng.js";
import { OptionError, type Engine, type Fit, type Frame } from "../../bindings/browser.js";
import type { ModelSpec, PlaceboResult, PlaceboSpec } from "../../bindings/worker-protocol.js";
import { didColumn } from "./spec.js";

export type FitFn = (eng: Engine, frame: Frame, spec: ModelSpec, override?: Record<string, Float64Array>) => Fit;

export async function runPlacebo(
  eng: Engine, frame: Frame, spec: ModelSpec, p: PlaceboSpec, fitModel: FitFn,
  onProgress: (done: number, total: number) => void,
): Promise<PlaceboResult> {
  if (!spec.timing) throw new OptionError("the placebo needs the first-treatment and year columns", undefined, "choose them under Treatment timing");
  if (!(Number.isInteger(p.draws) && p.draws >= 1 && p.draws <= 100_000)) throw new OptionError(`draws must be an integer in 1..100000, got ${p.draws}`);
  const fit = fitModel(eng, frame, spec);
  const coef = spec.treatment;
  if (!(coef in fit.coef)) throw new OptionError(`the treatment "${coef}" was dropped from the model`);
  const estimate = fit.coef[coef];
  const units = frame.codes(p.unit);
  const first = frame.numeric(spec.timing.firstTreat);
  const year = frame.numeric(spec.timing.year);
  const G = units.levels.length;
  const g = new Float64Array(G).fill(NaN);
  for (let i = 0; i < frame.nrows; i++) {
    const u = units.codes[i];
    if (u >= 0 && Number.isNaN(g[u])) g[u] = first[i];
  }
  const rng = new Rng(p.seed);
  const draws: number[] = [];
  const perm = new Float64Array(G);
  const gi = new Float64Array(frame.nrows);
  const every = Math.max(1, Math.floor(p.draws / 100));
  for (let d = 0; d < p.draws; d++) {
    perm.set(g);
    for (let j = G - 1; j > 0; j--) {
      const k = rng.int(j + 1);
      const t = perm[j];
      perm[j] = perm[k];
      perm[k] = t;
    }
    for (let i = 0; i < frame.nrows; i++) gi[i] = units.codes[i] >= 0 ? perm[units.codes[i]] : NaN;
    const f = fitModel(eng, frame, spec, { [coef]: didColumn(gi, year) });
    draws.push(f.coef[coef] ?? NaN);
    if ((d + 1) % every === 0 || d + 1 === p.draws) onProgress(d + 1, p.draws);
  }
  const ok = draws.filter(Number.isFinite);
  const pValue = ok.filter((b) => Math.abs(b) >= Math.abs(estimate) - 1e-12).length / ok.length;
  return {
    coef, estimate, draws, seed: p.seed, pValue, elapsedMs: 0,
    method: `first-treatment years of ${p.unit} permuted across its ${G} units (seed ${p.seed})`,
  };
}
