// The R fixest references (tests/fixtures/reference/*_fixest.json, copied from
// ../shared/reference): their record type, loading, and the fixest call -> hdfe formula and
// options. Tolerances stay at the top of each test file.
import { readFileSync } from "node:fs";
import type { FeolsOptions } from "../bindings/estimators/feols.js";

export const FIX = new URL("./fixtures/reference/", import.meta.url);

export interface RefModel {
  id: string;
  call: string;
  nobs: number;
  nobs_origin: number;
  coef: Record<string, number>;
  se: Record<string, number>;
  t: Record<string, number>;
  p: Record<string, number>;
  r2: number;
  ar2: number;
  wr2: number | null;
  rmse: number;
  ssr: number;
  fixef_sizes: Record<string, number> | null;
  collin_var: string | string[] | null;
  fixef_removed: Record<string, number> | null;
  obs_removed: number;
  vcov_matrix: number[][];
}

export function loadRefs(file: string): RefModel[] {
  return JSON.parse(readFileSync(new URL(file, FIX), "utf8"));
}

/** fixest call -> formula and options (null for calls that are not feols(..., vcov = ...)) */
export function parseCall(call: string): { formula: string; opts: FeolsOptions } | null {
  const m = call.match(/^feols\((.*?), vcov = ([^,]+?)(?:, (.*))?\)$/);
  if (!m) return null;
  const [, formula, vc, rest = ""] = m;
  const vcov = vc.startsWith("~") ? "cluster:" + vc.slice(1).replace(/\s/g, "") : vc.replace(/"/g, "");
  const opts: FeolsOptions = { vcov, fixefRm: /fixef\.rm = "singleton"/.test(rest) ? "singleton" : "none" };
  if (/fixef\.K = "full"/.test(rest)) opts.ssc = "full";
  if (/adj = FALSE/.test(rest)) opts.ssc = "none";
  const w = rest.match(/weights = ~(\w+)/);
  if (w) opts.weights = w[1];
  return { formula, opts };
}

/** The collinear names of a reference model as a list. */
export function collinOf(m: RefModel): string[] {
  return m.collin_var === null ? [] : Array.isArray(m.collin_var) ? m.collin_var : [m.collin_var];
}
