// Roles: which column of a user's panel plays which part in the study's model suite.
// roles.json maps role -> column name; missing optional roles skip the tables that need
// them, with a printed reason.
import { RolesError } from "../base/errors.js";
import type { Frame } from "../core/frame.js";

export interface SplitRole {
  /** table label, e.g. "Region" */
  name: string;
  column: string;
  /** display label per level, e.g. {"0": "Non-export", "1": "Export"}; order of keys = column order */
  levels?: Record<string, string>;
}

export interface Roles {
  outcome: string;
  unit: string;
  time: string;
  /** location of the unit (unit of treatment assignment) */
  city: string;
  region?: string;
  province?: string;
  /** first treated year of the unit's city; missing (or >= 9999) if never treated */
  adopt: string;
  /** 1 if the unit's city is ever a pilot; derived from adopt when absent */
  zone?: string;
  /** the DiD term Zone x Post; derived from adopt and time when absent */
  did?: string;
  /** Table 3 firm and city controls */
  controls: string[];
  /** Table 5: firm controls added step by step */
  extraFirmControls?: string[];
  /** Table 5: city controls added step by step */
  extraCityControls?: string[];
  /** Table 4 outcomes */
  altOutcomes?: string[];
  /** Table 9 outcomes */
  mechanisms?: string[];
  /** Table 8 splits */
  splits?: SplitRole[];
  /** Table 6 column 4: DiD terms of the confounding policies (0/1) */
  smartPost?: string;
  innovPost?: string;
  /** inputs from which Agg (eq. 2) is computed when the panel lacks the finished column */
  aggInputs?: { listed: string; area: string; output?: string };
  /** inputs from which SA (Hadlock-Pierce) is computed when the panel lacks it */
  saInputs?: { size: string; age: string; output?: string };
}

/** Roles of the embedded synthetic panel and of ../shared/reference/cbec_panel.csv. */
export const DEFAULT_ROLES: Roles = {
  outcome: "FC",
  unit: "firm",
  time: "year",
  city: "city",
  region: "region",
  province: "province",
  adopt: "adopt",
  zone: "zone",
  did: "did",
  controls: ["Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE"],
  extraFirmControls: ["Size", "Age", "ROE"],
  extraCityControls: ["Urban", "Income", "Fiscal"],
  altOutcomes: ["SA", "lnGovsub", "lnShortloan", "lnLongloan", "lnTotalloan"],
  mechanisms: ["Export", "Digitalisation", "Agg"],
  splits: [
    { name: "Region", column: "region", levels: { east: "East", central: "Central", west: "West" } },
    { name: "Export", column: "export_type", levels: { "0": "Non-export", "1": "Export" } },
    { name: "City tier", column: "tier", levels: { prefecture: "Prefecture", subprovincial: "Sub-provincial", municipality: "Municipality" } },
    { name: "High-tech", column: "hightech", levels: { "0": "Non-high-tech", "1": "High-tech" } },
    { name: "Polluting", column: "polluting", levels: { "0": "Non-polluting", "1": "Polluting" } },
  ],
  smartPost: "smart_post",
  innovPost: "innov_post",
  aggInputs: { listed: "nlisted", area: "area", output: "Agg" },
  saInputs: { size: "Size", age: "Age", output: "SA" },
};

const REQUIRED: (keyof Roles)[] = ["outcome", "unit", "time", "city", "adopt", "controls"];

/** Validate a roles object (from roles.json) and merge it over nothing: every role is explicit. */
export function parseRoles(json: unknown): Roles {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new RolesError("roles file must be a JSON object mapping roles to column names", undefined, `example: ${JSON.stringify({ outcome: "FC", unit: "firm", time: "year", city: "city", adopt: "adopt", controls: ["Fin"] })}`);
  }
  const r = json as Record<string, unknown>;
  const known = new Set<string>([...REQUIRED, "region", "province", "zone", "did", "extraFirmControls", "extraCityControls", "altOutcomes", "mechanisms", "splits", "smartPost", "innovPost", "aggInputs", "saInputs"]);
  for (const k of Object.keys(r)) if (!known.has(k)) throw new RolesError(`unknown role "${k}" in roles file`, { role: k }, `known roles: ${[...known].join(", ")}`);
  for (const k of REQUIRED) if (r[k] === undefined) throw new RolesError(`roles file is missing the required role "${k}"`, { role: k });
  const str = (k: string) => {
    if (r[k] !== undefined && typeof r[k] !== "string") throw new RolesError(`role "${k}" must be a column name (string)`, { role: k });
  };
  const strs = (k: string) => {
    if (r[k] !== undefined && (!Array.isArray(r[k]) || !(r[k] as unknown[]).every((x) => typeof x === "string"))) {
      throw new RolesError(`role "${k}" must be a list of column names`, { role: k });
    }
  };
  ["outcome", "unit", "time", "city", "adopt", "region", "province", "zone", "did", "smartPost", "innovPost"].forEach(str);
  ["controls", "extraFirmControls", "extraCityControls", "altOutcomes", "mechanisms"].forEach(strs);
  if (r.splits !== undefined) {
    if (!Array.isArray(r.splits)) throw new RolesError(`role "splits" must be a list of {name, column, levels?}`);
    for (const s of r.splits as unknown[]) {
      const o = s as Record<string, unknown>;
      if (typeof o?.name !== "string" || typeof o?.column !== "string") throw new RolesError(`each split needs "name" and "column" strings`, { split: s });
    }
  }
  return r as unknown as Roles;
}

/** Columns a role set names that the frame lacks (optional ones only reported). */
export function missingColumns(frame: Frame, cols: (string | undefined)[]): string[] {
  return cols.filter((c): c is string => !!c && !frame.has(c));
}
