// Browser-safe public API (no node: imports reachable from here).
export { Engine, createEngine, WASM_MAX_BYTES, fmtBytes } from "./wasm.js";
export * from "./errors.js";
export { parseFormula, formulaColumns, type Formula } from "./formula.js";
export { Frame } from "./frame.js";
export { feols, withVcov, defaultVcov, type Fit, type FeolsOptions, type CoefRow } from "./feols.js";
export { parseVcov, parseSsc, SSC, type VcovSpec, type SscName } from "./vcov.js";
export { summary, fitToJson, type FitJson } from "./summary.js";
export { psmDid, logitFit, nnMatch, balanceTable, smd, type PsmDidOptions, type PsmDidResult } from "./psm.js";
export { psmToJson, psmSummary } from "./psm-report.js";
export { simulatePanel, simulateChunks, panelToCsv, type SimPanel } from "./simulate.js";
export { runSuite, type SuiteOptions, type SuiteResult } from "./suite/run.js";
export { DEFAULT_ROLES, parseRoles, type Roles } from "./suite/roles.js";
export { checkPanel, findDuplicates } from "./panel.js";
export { readTable, formatFromName, readCsv, createCsvReader } from "./io/index.js";
export * from "./event/index.js";
export { placebo, type PlaceboOptions, type PlaceboResult } from "./placebo.js";
