// Browser-safe core API (no node: imports reachable from here): the engine, formulas,
// feols and its variance, readers. The heavier tools (suite, placebo, PSM, event studies,
// simulation) are in ./extras.js so that a page embedding one model stays small.
export { Engine, createEngine, WASM_MAX_BYTES, fmtBytes } from "./engine/wasm.js";
export * from "./base/errors.js";
export { parseFormula, formulaColumns, type Formula } from "./core/formula.js";
export { Frame } from "./core/frame.js";
// feols(): OLS, or 2SLS by iv() for an IV formula (y ~ x | fe | endo ~ inst), typed by overloads
export { feols, type IvFormulaText } from "./estimators/feols-dispatch.js";
export { withVcov, defaultVcov, type Fit, type FeolsOptions, type CoefRow } from "./estimators/feols.js";
export { parseVcov, parseSsc, SSC, type VcovSpec, type SscName } from "./core/vcov.js";
export { summary, fitToJson, type FitJson } from "./report/summary.js";
export { checkPanel, findDuplicates } from "./core/panel.js";
export { readTable, formatFromName, readCsv, createCsvReader } from "./io/index.js";
export { iv, ivWithVcov, type IvFit, type IvOptions, type IvInfo, type FirstStage, type FTest, type IvFitstat } from "./estimators/iv.js";
export { parseIvFormula, isIvFormula, type IvFormula } from "./core/iv-formula.js";
export { ivSummary, ivFitToJson, firstStageText, type IvFitJson } from "./report/iv.js";
export { VCOV_KINDS } from "./core/vcov.js";
