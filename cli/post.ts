// The feols command's HAC / spatial variance flags (--panel-id, --coords) and its
// post-estimation flags (--wald, --hypothesis): flags -> library options, fit -> lines / JSON.
import { parseVcov, isHac, type VcovSpec } from "../bindings/core/vcov.js";
import { hacVars, hacColumns } from "../bindings/core/hac.js";
import { wald, hypothesis, type WaldResult, type HypothesisResult } from "../bindings/post/tests.js";
import type { Fit } from "../bindings/estimators/feols.js";
import { OptionError } from "../bindings/base/errors.js";
import { listOf } from "./data.js";

export interface HacFlags {
  vcov?: string;
  panelId?: string;
  coords?: string;
}

/** The vcov to pass to feols, its panel id and the columns it reads. */
export function hacSetup(flags: HacFlags): { vcov?: string | VcovSpec; panelId?: string[]; columns: string[] } {
  const panelId = flags.panelId === undefined ? undefined : listOf(flags.panelId);
  if (panelId && panelId.length !== 2) throw new OptionError(`--panel-id takes unit,time, got "${flags.panelId}"`);
  const coords = flags.coords === undefined ? undefined : listOf(flags.coords);
  if (coords && coords.length !== 2) throw new OptionError(`--coords takes lat,lon, got "${flags.coords}"`);
  if (!flags.vcov) {
    if (coords) throw new OptionError("--coords applies to --vcov conley:KM only");
    return { vcov: undefined, panelId, columns: [] };
  }
  let spec = parseVcov(flags.vcov);
  if (!isHac(spec)) {
    if (coords || panelId) throw new OptionError(`--panel-id and --coords apply to --vcov nw:LAG, dk:LAG or conley:KM, not "${flags.vcov}"`);
    return { vcov: flags.vcov, columns: [] };
  }
  if (spec.type === "conley") {
    if (panelId) throw new OptionError("--panel-id applies to nw / dk; Conley reads --coords lat,lon");
    // without --coords the columns are named lat and lon (the file's columns are not listed before reading)
    const [lat, lon] = coords ?? [spec.lat ?? "lat", spec.lon ?? "lon"];
    spec = { ...spec, lat, lon };
  } else if (coords) throw new OptionError("--coords applies to --vcov conley:KM only");
  return { vcov: spec, panelId, columns: hacColumns(hacVars(spec, panelId, [])) };
}

export interface PostFlags {
  wald?: string;
  hypothesis?: string;
}

export interface PostResults {
  wald?: WaldResult;
  hypotheses?: HypothesisResult[];
  joint?: WaldResult;
}

export function postResults(fit: Fit, flags: PostFlags): PostResults | null {
  if (!flags.wald && !flags.hypothesis) return null;
  const out: PostResults = {};
  if (flags.wald) out.wald = wald(fit, flags.wald);
  if (flags.hypothesis) {
    const h = hypothesis(fit, flags.hypothesis);
    out.hypotheses = [...h];
    if (h.joint) out.joint = h.joint;
  }
  return out;
}

const g = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(6) : x.toExponential(3));

export function postLines(r: PostResults): string[] {
  const lines: string[] = [];
  const w = (x: WaldResult, what: string) =>
    lines.push(`Wald test, ${what}: stat = ${g(x.stat)}, p = ${g(x.p)}, on ${x.df1} and ${x.df2} DoF, VCOV: ${x.vcov}.`);
  if (r.wald) w(r.wald, `H0: ${r.wald.terms.join(" = ")} = 0`);
  for (const h of r.hypotheses ?? []) {
    lines.push(`Hypothesis ${h.hypothesis}: estimate ${g(h.estimate)}, SE ${g(h.se)}, t ${g(h.t)}, p ${g(h.p)} (t, ${h.df} DoF); F(1, ${h.df2}) p ${g(h.pF)}`);
  }
  if (r.joint) w(r.joint, `jointly ${r.joint.terms.join(", ")}`);
  return lines;
}
