// The roles and options of the out-of-core event tools (bindings/event-sql/): the panel's
// roles (sql/event-panel.ts) plus the event study's own options.
import type { EventPanelRoles } from "../sql/event-panel.js";

export interface EventSqlRoles extends EventPanelRoles {
  level?: number;
  ref?: number | number[] | "first";
  binLead?: number;
  binLag?: number;
  /** default clustered by unit, as in memory */
  vcov?: string;
}
