// Model spec -> fixest formula and vcov string. Pure; used by the page (formula preview) and
// by the worker (estimation), so the formula a person sees is the one that is estimated.
import type { ModelSpec } from "../../bindings/platform/worker-protocol.js";

const BARE = /^(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*$/;

/** A column name as a formula term: bare R names as is, anything else in backticks. */
export function term(name: string): string {
  return BARE.test(name) ? name : "`" + name.replace(/`/g, "") + "`";
}

function rhsFe(spec: ModelSpec): string {
  return spec.fixef.length ? " | " + spec.fixef.map(term).join(" + ") : "";
}

/** `outcome ~ treatment + controls | fe1 + fe2`, or with an instrument `outcome ~ controls | fe | treatment ~ instrument` */
export function formulaOf(spec: ModelSpec): string {
  if (spec.instrument) {
    const exo = spec.controls.filter((c) => c !== spec.treatment && c !== spec.instrument).map(term);
    return `${term(spec.outcome)} ~ ${exo.length ? exo.join(" + ") : "1"}${rhsFe(spec)} | ${term(spec.treatment)} ~ ${term(spec.instrument)}`;
  }
  const rhs = [spec.treatment, ...spec.controls.filter((c) => c !== spec.treatment)].filter(Boolean).map(term);
  return `${term(spec.outcome)} ~ ${rhs.length ? rhs.join(" + ") : "1"}${rhsFe(spec)}`;
}

/** The TWFE event study on relative time `rel` (never treated = -1000, reference period -1). */
export function eventFormulaOf(spec: ModelSpec, rel: string): string {
  const rhs = [`i(${term(rel)}, ref = c(-1, -1000))`, ...spec.controls.filter((c) => c !== spec.treatment).map(term)];
  return `${term(spec.outcome)} ~ ${rhs.join(" + ")}${rhsFe(spec)}`;
}

/** The vcov option of feols; undefined means fixest's default (clustered by the first FE). */
export function vcovOf(spec: ModelSpec): string | undefined {
  if (spec.vcov === "cluster") return spec.cluster.length ? "cluster:" + spec.cluster.join("+") : undefined;
  return spec.vcov;
}

/** Column names that must be complete for the model (used to keep clusters in the sample). */
export function clusterColumns(spec: ModelSpec): string[] {
  return spec.vcov === "cluster" ? spec.cluster : [];
}

/** 1 when firstTreat > 0 (and finite, below the 9999 "never" codes) and year >= firstTreat. */
export function didColumn(firstTreat: Float64Array, year: Float64Array): Float64Array {
  const out = new Float64Array(year.length);
  for (let i = 0; i < year.length; i++) {
    const g = firstTreat[i];
    const t = year[i];
    out[i] = !Number.isFinite(t) ? NaN : isTreatedCohort(g) && t >= g ? 1 : 0;
  }
  return out;
}

/** year - firstTreat, -1000 for units never treated. */
export function relColumn(firstTreat: Float64Array, year: Float64Array): Float64Array {
  const out = new Float64Array(year.length);
  for (let i = 0; i < year.length; i++) out[i] = isTreatedCohort(firstTreat[i]) ? year[i] - firstTreat[i] : -1000;
  return out;
}

/** The first-treatment year, NaN for never treated (0, missing or a 9999+ code). */
export function adoptColumn(firstTreat: Float64Array): Float64Array {
  return Float64Array.from(firstTreat, (g) => (isTreatedCohort(g) ? g : NaN));
}

function isTreatedCohort(g: number): boolean {
  return Number.isFinite(g) && g > 0 && g < 9999;
}
