// Separation by the regressors (Correia, Guimaraes and Zylkin 2019, "Verifying the existence
// of maximum likelihood estimates for generalized linear models"; ppmlhdfe): when some
// combination of regressors and FE is >= 0 where y = 0 and = 0 where y > 0 (Poisson), the MLE
// of the rows it singles out is at infinity: their fitted mean goes to 0 and the IRLS creeps.
// The FE-level case (a level with only zeros) is removed up front (glm-sample.ts); this module
// finds the rows of the general case from the fitted means, to report them (which rows, why).

/**
 * Indices of the rows whose fitted mean sits at the boundary of the outcome's range:
 * Poisson y = 0 with mu < 1e-10 mean(y); binomial y = 0 with mu < 1e-10 or y = 1 with
 * 1 - mu < 1e-10.
 */
export function separatedRows(family: string, y: Float64Array, mu: Float64Array): number[] {
  const bad: number[] = [];
  let meanY = 0;
  for (let i = 0; i < y.length; i++) meanY += y[i] / y.length;
  const lo = 1e-10 * Math.max(meanY, 1e-300);
  for (let i = 0; i < y.length; i++) {
    const sep = family === "poisson" ? y[i] === 0 && mu[i] < lo : (y[i] === 0 && mu[i] < 1e-10) || (y[i] === 1 && 1 - mu[i] < 1e-10);
    if (sep) bad.push(i);
  }
  return bad;
}
