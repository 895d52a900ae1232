// The suite's regression tables, built by etable() (bindings/report/etable.ts) from the fits:
// the suite's conventions (FE rows grouped from the roles, observations, R2 and within R2 to
// 3 decimals, notes as the sections write them) stated once for every section of run.ts.
import type { Fit } from "../estimators/feols.js";
import { etableTable } from "../report/etable.js";
import type { ModelColumn, RegressionTable } from "../report/types.js";
import type { Roles } from "./roles.js";

/** A column the suite could not estimate: kept, empty, with the reason. */
export type SuiteModel = Fit | { skipped: string };

const exactly = (s: string) => `^${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;

/**
 * A regression table of the suite, built by etable(): the fits' coefficients in `rows`, the
 * suite's FE rows (fixef.group from the roles: Firm FE, Year FE, City FE, Region trends =
 * region[time]), observations, R2 and within R2 (3 decimals), the paper's estimates, the notes.
 */
export function suiteTable(env: { roles: Pick<Roles, "unit" | "time" | "city" | "region">; labels: Record<string, string> }, t: {
  id: string; title: string; rows: string[]; models: SuiteModel[]; labels: string[]; headers: (string | undefined)[]; notes: string[];
  published?: (ModelColumn["published"] | undefined)[]; extralines?: Record<string, (string | number)[]>; dict?: Record<string, string>; rename?: Record<string, string>;
}): RegressionTable {
  const { roles } = env;
  return etableTable(t.models, {
    id: t.id, title: t.title, rows: t.rows, dict: t.dict ?? env.labels, labels: t.labels, headers: t.headers, notes: t.notes, defaultNotes: false,
    published: t.published, extralines: t.extralines, rename: t.rename, fitstat: ["nobs", "r2", "wr2"], statDigits: 3,
    fixefGroup: {
      "Firm FE": [exactly(roles.unit)], "Year FE": [exactly(roles.time)], "City FE": [exactly(roles.city)],
      "Region trends": roles.region ? [exactly(roles.region), exactly(`${roles.region}[[${roles.time}]]`)] : [],
    },
  });
}
