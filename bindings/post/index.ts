// Post-estimation on a fit: FE coefficients, predictions, tests and intervals.
export { fixef, type FixefResult, type FixefDim } from "./fixef.js";
export { predict, fitted, residuals, type PredictOptions } from "./predict.js";
export { wald, hypothesis, parseHypothesis, confint, supTBand, nparams, type WaldResult, type HypothesisResult, type Interval, type SupTBand } from "./tests.js";
