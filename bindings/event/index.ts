// Event studies and staggered-adoption DiD (browser-safe: no node: imports).
export { preparePanel, COHORT_RULES, type Panel, type PanelRoles, type PanelOptions, type CohortRule } from "./panel.js";
export { waldTest, type WaldTest } from "./wald.js";
export { eventStudy, NEVER_REL, type EventStudyOptions, type EventStudyResult, type EventPoint } from "./twfe.js";
export {
  sunabAggregate, sunabDetails, sunabMap, type SunabAgg, type SunabAggregation, type SunabRaw, type SunabCell, type AggRow,
} from "./sunab.js";
export {
  attGt, did2x2, multiplierBootstrap,
  type CsOptions, type CsResult, type AttGtRow, type CsControlGroup, type CsMethod, type BootstrapOptions,
} from "./cs.js";
export { aggte, type AggteType, type AggteResult, type AggteRow, type AggteOptions } from "./cs-aggte.js";
export { imputationDid, type BjsOptions, type BjsResult, type BjsEstimate } from "./bjs.js";
export { baconDecomposition, type BaconOptions, type BaconResult, type BaconComparison, type BaconType } from "./bacon.js";
export {
  runEventSuite, sunabEventStudy, type EventSuiteRoles, type EventSuiteResult, type OverlayPoint, type EventMethod,
  type SunabSuiteResult,
} from "./suite.js";
