// The variance of a GLM with fixed effects, from the scores and bread of the converged
// IRLS step, through core/vcov.ts (the meats and small-sample rules of feols):
//   bread  (X~' W X~)^{-1}, X~ the regressors demeaned with the working weights W;
//   scores s_i = x~_i W_i r_i (r the working residual), given to the meat kernels as
//          x = sqrt(W) x~ and e = sqrt(W) r;
//   iid    bread x (n - 1) / (n - K) (the dispersion of Poisson and binomial is 1; fixest's
//          cov.iid times its adj factor), bread alone with ssc "none";
//   hetero, clusters: exactly as feols (n / (n - K), (n - 1) / (n - K), G / (G - 1), K by
//          fixest's fixef.K = "nested" rule), p-values from the normal distribution.
import type { Engine } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import type { Sample } from "../core/sample.js";
import { clusterCodes } from "./feols.js";
import { computeVcov, countK, SSC, vcovLabel, type VcovInputs, type VcovSpec, type SscName } from "../core/vcov.js";

export interface GlmVcovData {
  n: number;
  k: number;
  /** the scores' factors: sqrt(W) x~ (the demeaned kept regressors, n x k) and sqrt(W) r (glm-irls.ts) */
  x: Float64Array;
  e: Float64Array;
  bread: Float64Array;
  feDof: number;
  hasIntercept: boolean;
  sample: Sample;
  frame: Frame;
}

export interface GlmVcov {
  V: Float64Array;
  K: number;
  label: string;
  G?: Record<string, number>;
  eigenFixed: boolean;
}

export function glmVcov(eng: Engine, d: GlmVcovData, spec: VcovSpec, sscName: SscName): GlmVcov {
  const { n, k } = d;
  const inputs: VcovInputs = {
    n, k, bread: d.bread, x: d.x, e: d.e, ssr: 0,
    fe: d.sample.fe.map((f) => ({ name: f.name, levels: f.levels, codes: f.codes, type: f.type })),
    feDof: d.feDof, clusters: clusterCodes(d.frame, d.sample, spec), hasIntercept: d.hasIntercept,
  };
  if (spec.type === "iid") {
    const ssc = SSC[sscName];
    const K = countK(inputs, ssc, []);
    const f = ssc.adj ? (n - 1) / (n - K) : 1;
    return { V: d.bread.map((b) => b * f), K, label: vcovLabel(spec), eigenFixed: false };
  }
  const v = computeVcov(eng, inputs, spec, sscName);
  return { V: v.V, K: v.K, label: v.label, G: v.G, eigenFixed: v.eigenFixed };
}
