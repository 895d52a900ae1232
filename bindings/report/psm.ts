// Reporting a PSM-DiD result in two phases: a neutral JSON record (psmToJson), then text
// (psmSummary): the logit, the matched counts, the balance table and the DiD.
import type { PsmDidResult } from "../psm/psm.js";
import { fitToJson, summary, fmtNum, type FitJson } from "./summary.js";

export interface PsmJson {
  logit: {
    coef: Record<string, number>;
    se: Record<string, number>;
    z: Record<string, number>;
    loglik: number;
    iterations: number;
    converged: boolean;
    separated: boolean;
  };
  distance: string;
  caliper: number | null;
  matching: {
    ratio: number;
    replace: boolean;
    m_order: string;
    by: string | null;
    compat: string;
    treated_total: number;
    control_total: number;
    n_treated_matched: number;
    n_control_matched: number;
    n_matched_rows: number;
    sum_weights: number;
  };
  balance: { name: string; mean_treated_before: number; mean_control_before: number; smd_before: number; mean_treated_after: number; mean_control_after: number; smd_after: number }[];
  did: FitJson;
  warnings: string[];
}

export function psmToJson(r: PsmDidResult): PsmJson {
  const m = r.matching;
  return {
    logit: {
      coef: r.logit.coef, se: r.logit.se, z: r.logit.z, loglik: r.logit.loglik, iterations: r.logit.iterations,
      converged: r.logit.converged, separated: r.logit.separated,
    },
    distance: r.distanceType,
    caliper: r.caliper,
    matching: {
      ratio: m.ratio, replace: m.replace, m_order: m.mOrder, by: m.by, compat: m.compat, treated_total: m.treatedTotal,
      control_total: m.controlTotal, n_treated_matched: m.nTreated, n_control_matched: m.nControl, n_matched_rows: m.nRows,
      sum_weights: m.sumWeights,
    },
    balance: r.balance.map((b) => ({
      name: b.name, mean_treated_before: b.meanTreatedBefore, mean_control_before: b.meanControlBefore, smd_before: b.smdBefore,
      mean_treated_after: b.meanTreatedAfter, mean_control_after: b.meanControlAfter, smd_after: b.smdAfter,
    })),
    did: fitToJson(r.did),
    warnings: r.warnings,
  };
}

function table(head: string[], rows: string[][]): string[] {
  const all = [head, ...rows];
  const widths = head.map((_, j) => Math.max(...all.map((r) => r[j].length)));
  return all.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ").trimEnd());
}

export function psmSummary(r: PsmDidResult): string {
  const out: string[] = [];
  const m = r.matching;
  out.push(`Propensity score: logit, ${r.sampleRows.length.toLocaleString("en-US")} rows` +
    (r.removedMissing ? ` (${r.removedMissing} removed for missing values)` : "") +
    `, log-likelihood ${fmtNum(r.logit.loglik, 8)}, ${r.logit.iterations} IRLS iterations${r.logit.converged ? "" : " (NOT CONVERGED)"}`);
  out.push(...table(["", "Estimate", "Std. Error", "z value"],
    r.logit.names.map((nm) => [nm, fmtNum(r.logit.coef[nm]), fmtNum(r.logit.se[nm]), fmtNum(r.logit.z[nm], 5)])));
  out.push("");
  const cal = r.caliper === null ? "no caliper" : `caliper ${fmtNum(r.caliper)} (${r.distanceType === "logit" ? "score" : "linear logit"} units)`;
  out.push(`Matching: ${m.ratio}:1 nearest neighbour on the ${r.distanceType === "logit" ? "propensity score" : "linear logit"}, ` +
    `${m.replace ? "with" : "without"} replacement, ${cal}, m.order ${m.mOrder}` + (m.by ? `, exact within ${m.by}` : "") +
    (m.compat !== "none" ? `, compat ${m.compat}` : ""));
  out.push(...table(["", "Treated", "Control"], [
    ["All", String(m.treatedTotal), String(m.controlTotal)],
    ["Matched", String(m.nTreated), String(m.nControl)],
    ["Unmatched", String(m.treatedTotal - m.nTreated), String(m.controlTotal - m.nControl)],
  ]));
  out.push(`Matched rows: ${m.nRows}, sum of weights ${fmtNum(m.sumWeights, 8)}`);
  out.push("");
  out.push("Balance (standardised mean differences, treated SD; after = matching weights):");
  out.push(...table(["", "Mean T", "Mean C", "SMD before", "Mean T (m)", "Mean C (m)", "SMD after"],
    r.balance.map((b) => [
      b.name, fmtNum(b.meanTreatedBefore, 5), fmtNum(b.meanControlBefore, 5), fmtNum(b.smdBefore, 4),
      fmtNum(b.meanTreatedAfter, 5), fmtNum(b.meanControlAfter, 5), fmtNum(b.smdAfter, 4),
    ])));
  out.push("");
  out.push("DiD on the matched sample (weights = matching weights):");
  out.push(summary(r.did));
  for (const w of r.warnings) if (!r.did.warnings.some((d) => w.endsWith(d))) out.push(`Warning: ${w}`);
  return out.join("\n");
}
