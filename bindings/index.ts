// Browser-safe public API (no node: imports reachable from here).
export { Engine, createEngine, WASM_MAX_BYTES, fmtBytes } from "./wasm.js";
export * from "./errors.js";
export { parseFormula, formulaColumns, type Formula } from "./formula.js";
export { Frame } from "./frame.js";
export { feols, withVcov, defaultVcov, type Fit, type FeolsOptions, type CoefRow } from "./feols.js";
export { parseVcov, parseSsc, SSC, type VcovSpec, type SscName } from "./vcov.js";
