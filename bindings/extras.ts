// The tools beyond one model (browser-safe, no node: imports): PSM-DiD, simulation, the
// suite, event studies, placebo inference. Node gets them from node.ts; pages import this.
export { psmDid, logitFit, nnMatch, balanceTable, smd, type PsmDidOptions, type PsmDidResult } from "./psm/psm.js";
export { psmToJson, psmSummary } from "./report/psm.js";
export { simulatePanel, simulateChunks, panelToCsv, type SimPanel } from "./sim/simulate.js";
export { runSuite, type SuiteOptions, type SuiteResult } from "./suite/run.js";
export { DEFAULT_ROLES, parseRoles, type Roles } from "./suite/roles.js";
export * from "./event/index.js";
export { placebo, pValues, preparePlacebo, drawAdoptionYears, type PlaceboOptions, type PlaceboResult, type PlaceboAssignments } from "./inference/placebo.js";
export { wild, type WildOptions, type WildResult } from "./inference/wild.js";
export { feolsCompressed, type CompressInfo } from "./estimators/compress.js";
// reports of the tools (text and JSON), shared by the CLI and the page
export { eventSuiteText, eventSuiteToJson } from "./report/event.js";
export { placeboReport, placeboToJson, wildReport, wildToJson } from "./report/placebo.js";
// post-estimation on a fit (fixef, predict, wald, hypotheses, confint, sup-t bands): here rather
// than in the core entry, which has a size budget (tests/browser.test.ts)
export * from "./post/index.js";
// GLMs with fixed effects (fepois, feglm logit / probit) and their reports: here for the same budget
export { fepois, feglm, withVcovGlm, type GlmFit, type GlmOptions } from "./estimators/glm.js";
export { glmToJson, glmSummary, type GlmJson } from "./report/glm.js";
// multiple estimation (one shared demeaning) and regression tables (fixest's etable)
export { feolsMulti, estimateMulti, planMulti, modelLabel, type MultiModel, type MultiResult, type SplitOptions, type Estimator } from "./estimators/multi.js";
export { expandFormula, isMultiFormula, type MultiFormula } from "./core/multi.js";
export { DemeanCache, type DemeanCacheStats } from "./core/demean-cache.js";
export { etable, etableTable, tableModelOfFit, tableModelOfGlm, tableModelOfJson, FITSTATS, type EtableOptions, type TableModel } from "./report/etable.js";
// out-of-core feols pushed down as SQL (the DuckDB backend is in node.ts; ClickHouse over HTTP)
export { feolsSql, SQL_TOOLS, type FeolsSqlOptions } from "./sql/feols-sql.js";
export type { SqlBackend, SqlDialect, SqlColumn, Row as SqlRow } from "./sql/backend.js";
