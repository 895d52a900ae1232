// Sections of the suite contributed by other modules: PSM-DiD (Table 6 col. 3), the
// in-space placebo (Table 7, Figure 2) and the robust staggered-DiD estimators.
import type { SuiteExtension } from "./run.js";

export function suiteExtensions(): SuiteExtension[] {
  return [];
}
