// Text and JSON reports of the inference tools: placebo (randomization inference) and the
// wild cluster bootstrap. Numbers are extracted by the tools (PlaceboResult, WildResult);
// this module only renders them, for the CLI and the page alike.
import type { PlaceboResult } from "../inference/placebo.js";
import type { WildResult } from "../inference/wild.js";

function fmt(x: number, d = 4): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(d) : x.toExponential(2);
}

export function placeboReport(r: PlaceboResult): string {
  const L: string[] = [];
  const schemeText = r.scheme === "space" ? "in-space (adoption years permuted across units)" : r.scheme === "time" ? "in-time (adoption moved earlier)" : "random adoption times";
  L.push(`Placebo inference for ${r.treatment}: ${schemeText}`);
  L.push(`estimate: ${fmt(r.estimate, 6)}   units: ${r.units}   cohorts: ${r.cohorts.join(", ")}`);
  if (r.shifts) {
    L.push("");
    L.push("years earlier   estimate     std.err     t        p");
    for (const s of r.shifts) L.push(`${String(s.shift).padStart(13)}   ${fmt(s.estimate, 6).padStart(10)}   ${fmt(s.se, 6).padStart(9)}   ${fmt(s.t, 3).padStart(6)}   ${fmt(s.p, 4)}`);
  } else {
    if (r.nobs !== undefined && r.removed) {
      const rm = r.removed;
      L.push(`observations: ${r.nobs} (removed: ${rm.na} with missing values, ${rm.singletons} singletons${rm.zeroWeight ? `, ${rm.zeroWeight} zero weights` : ""})`);
    }
    L.push(`draws: ${r.draws.length} (${r.valid} valid), method ${r.method}${r.method === "basis" ? ` (${r.basisColumns} basis columns)` : ""}, seed ${r.seed}, ${r.threads} thread${r.threads > 1 ? "s" : ""}`);
    const qs = quantiles(r.draws, [0.025, 0.5, 0.975]);
    L.push(`placebo coefficients: median ${fmt(qs[1], 5)}, 95% range [${fmt(qs[0], 5)}, ${fmt(qs[2], 5)}]`);
    L.push("");
    L.push("p-value                       p        c     MC s.e.");
    const row = (name: string, v: PlaceboResult["p"]["twoSided"]) => L.push(`${name.padEnd(28)}${fmt(v.p, 4).padStart(7)}${String(v.count).padStart(7)}   ${fmt(v.mcse, 4)}`);
    row("two-sided  |b*| >= |b|", r.p.twoSided);
    row("left       b* <= b", r.p.left);
    row("right      b* >= b", r.p.right);
    L.push(`ties within 1e-7: ${(100 * r.ties.twoSided).toFixed(2)}% (two-sided), ${(100 * r.ties.oneSided).toFixed(2)}% (one-sided)`);
  }
  L.push(`time: setup ${(r.timing.setupMs / 1000).toFixed(3)} s, draws ${(r.timing.drawsMs / 1000).toFixed(3)} s (${Math.round(r.timing.drawsPerSecond).toLocaleString("en-US")} draws/s overall)`);
  for (const w of r.warnings) L.push(`warning: ${w}`);
  return L.join("\n");
}

function quantiles(x: Float64Array, ps: number[]): number[] {
  const v = x.filter(Number.isFinite).sort(); // typed: 8 bytes a draw, numeric order
  return ps.map((p) => (v.length ? v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))] : NaN));
}

export function wildReport(r: WildResult): string {
  const L: string[] = [];
  L.push(`Wild cluster bootstrap (${r.restricted ? "restricted, null imposed" : "unrestricted"}), ${r.weights} weights, clusters: ${r.cluster} (G = ${r.G})`);
  L.push(`H0: ${r.param} = ${r.null}   estimate ${fmt(r.estimate, 6)}   s.e. ${fmt(r.se, 6)}   t ${fmt(r.t, 3)}   p (t(G-1)) ${fmt(r.pAnalytic, 4)}`);
  const rm = r.removed;
  L.push(`observations: ${r.nobs} (removed: ${rm.na} with missing values, ${rm.singletons} singletons${rm.zeroWeight ? `, ${rm.zeroWeight} zero weights` : ""})`);
  L.push(`replications: ${r.B}${r.enumerated ? " (full enumeration)" : `, seed ${r.seed}`}`);
  L.push(`bootstrap p: symmetric ${fmt(r.pSymmetric, 4)}, equal-tailed ${fmt(r.pEqualTailed, 4)}`);
  if (r.ci) L.push(`${Math.round(r.level * 100)}% CI (test inversion): symmetric [${fmt(r.ci[0], 6)}, ${fmt(r.ci[1], 6)}], equal-tailed [${fmt(r.ciEqualTailed![0], 6)}, ${fmt(r.ciEqualTailed![1], 6)}]`);
  L.push(`time: setup ${(r.timing.setupMs / 1000).toFixed(3)} s, replications ${(r.timing.drawsMs / 1000).toFixed(3)} s, interval ${(r.timing.ciMs / 1000).toFixed(3)} s`);
  for (const w of r.warnings) L.push(`warning: ${w}`);
  return L.join("\n");
}

export function placeboToJson(r: PlaceboResult): Record<string, unknown> {
  return {
    ...r,
    draws: Array.from(r.draws, (x) => (Number.isFinite(x) ? x : null)),
    drawIds: Array.from(r.drawIds),
  };
}

/** The wild bootstrap result as a JSON-ready record (the t* draws as a plain array). */
export function wildToJson(r: WildResult): Record<string, unknown> {
  const { tStars, ...rest } = r;
  return { ...rest, tStars: Array.from(tStars) };
}
