// The roles and options of the out-of-core event tools (bindings/event-sql/).
import type { SqlCohortRule } from "../sql/event-panel.js";

export interface EventSqlRoles {
  outcome: string;
  unit: string;
  time: string;
  adopt: string;
  controls?: string[];
  fe?: string[];
  cohortRule?: SqlCohortRule;
  level?: number;
  ref?: number | number[] | "first";
  binLead?: number;
  binLag?: number;
  /** default clustered by unit, as in memory */
  vcov?: string;
}
