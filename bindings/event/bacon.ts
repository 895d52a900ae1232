// Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD coefficient (balanced panel,
// binary absorbing treatment, no controls) into every 2x2 comparison with its weight:
//   treated vs never treated            s_kU = (n_k + n_U)^2 n_kU (1 - n_kU) Dk (1 - Dk) / V
//   earlier vs later treated (k < l)    s^k_kl = ((n_k + n_l)(1 - Dl))^2 n_kl (1 - n_kl)
//                                               (Dk - Dl)/(1 - Dl) (1 - Dk)/(1 - Dl) / V
//   later vs earlier (already) treated  s^l_kl = ((n_k + n_l) Dk)^2 n_kl (1 - n_kl) (Dl / Dk) (Dk - Dl)/Dk / V
// with n_k group shares, Dk the share of periods group k is treated, n_ab = n_a / (n_a + n_b) and
// V the variance of the two-way demeaned treatment (Theorem 1). Always-treated units form a group
// with Dk = 1: they only enter as controls in "later vs always treated" comparisons. The weights
// sum to one and sum_s w_s beta_s is the TWFE coefficient (an identity, tested to 1e-10).
import type { Engine } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import { feols } from "../estimators/feols.js";
import { SampleError } from "../base/errors.js";
import { preparePanel, type PanelRoles } from "./panel.js";
import { panelFrame, q } from "./twfe.js";

export type BaconType = "treated_vs_never" | "earlier_vs_later" | "later_vs_earlier" | "later_vs_always";

export interface BaconComparison {
  type: BaconType;
  /** cohort (first treated period) of the group whose change is the "treatment" */
  treated: number;
  /** cohort of the comparison group; NaN for never treated, -Infinity for always treated */
  control: number;
  estimate: number;
  weight: number;
}

export interface BaconResult {
  method: "bacon";
  comparisons: BaconComparison[];
  byType: { type: BaconType; weight: number; estimate: number; count: number }[];
  /** TWFE coefficient from the closed form on the balanced panel */
  twfe: number;
  /** the same from feols(y ~ D | unit + time) */
  twfeFeols: number;
  weightSum: number;
  weightedSum: number;
  nUnits: number;
  periods: number[];
  warnings: string[];
}

export interface BaconOptions extends Omit<PanelRoles, "controls"> {
  /** balance the panel by dropping units with missing periods (default true); false throws on an unbalanced panel */
  balance?: boolean;
}

export function baconDecomposition(eng: Engine, frame: Frame, opts: BaconOptions): BaconResult {
  const roles: PanelRoles = { outcome: opts.outcome, unit: opts.unit, time: opts.time, adopt: opts.adopt, cohortRule: opts.cohortRule };
  const p = preparePanel(frame, roles, { dropAlwaysTreated: false, balance: opts.balance ?? true });
  const T = p.periods.length;
  const U = p.nUnits;
  if (p.n !== U * T) throw new SampleError("the Goodman-Bacon decomposition needs a balanced panel", { rows: p.n, units: U, periods: T });
  const warnings = [...p.warnings];
  // wide outcome
  const Y = new Float64Array(U * T);
  for (let r = 0; r < p.n; r++) Y[p.unit[r] * T + p.t[r]] = p.y[r];
  // timing groups: start index (0 = always treated), T = never treated
  const start = Int32Array.from(p.cohortIdx, (c) => (c < 0 ? T : Math.max(c, 0)));
  const groupStarts = [...new Set(start)].sort((a, b) => a - b);
  const G = groupStarts.length;
  const members = groupStarts.map((s) => {
    const out: number[] = [];
    for (let u = 0; u < U; u++) if (start[u] === s) out.push(u);
    return out;
  });
  const share = members.map((m) => m.length / U);
  const Dbar = groupStarts.map((s) => (T - s) / T);
  // group mean outcome by period
  const ybar = members.map((m) => {
    const v = new Float64Array(T);
    for (const u of m) for (let t = 0; t < T; t++) v[t] += Y[u * T + t];
    for (let t = 0; t < T; t++) v[t] /= m.length;
    return v;
  });
  const meanOver = (v: Float64Array, a: number, b: number) => {
    let s = 0;
    for (let t = a; t < b; t++) s += v[t];
    return s / (b - a);
  };
  // variance of the two-way demeaned D (balanced: exact closed form)
  const Dit = (u: number, t: number) => (t >= start[u] ? 1 : 0);
  const Di = Float64Array.from({ length: U }, (_, u) => (T - start[u]) / T);
  const Dt = new Float64Array(T);
  let Dall = 0;
  for (let u = 0; u < U; u++) for (let t = 0; t < T; t++) Dt[t] += Dit(u, t) / U;
  for (let t = 0; t < T; t++) Dall += Dt[t] / T;
  let VD = 0, cov = 0;
  for (let u = 0; u < U; u++)
    for (let t = 0; t < T; t++) {
      const d = Dit(u, t) - Di[u] - Dt[t] + Dall;
      VD += d * d;
      cov += d * Y[u * T + t];
    }
  if (VD === 0) throw new SampleError("the treatment does not vary within units and periods: no TWFE DiD to decompose");
  const twfe = cov / VD;
  VD /= U * T;

  const comps: BaconComparison[] = [];
  const label = (gi: number) => (groupStarts[gi] === T ? NaN : groupStarts[gi] === 0 ? -Infinity : p.periods[groupStarts[gi]]);
  const never = groupStarts.indexOf(T);
  for (let a = 0; a < G; a++) {
    const sa = groupStarts[a];
    if (sa === T) continue;
    // treated vs never
    if (never >= 0 && sa > 0) {
      const nk = share[a], nU = share[never];
      const nkU = nk / (nk + nU);
      const w = ((nk + nU) ** 2 * nkU * (1 - nkU) * Dbar[a] * (1 - Dbar[a])) / VD;
      const est = meanOver(ybar[a], sa, T) - meanOver(ybar[a], 0, sa) - (meanOver(ybar[never], sa, T) - meanOver(ybar[never], 0, sa));
      comps.push({ type: "treated_vs_never", treated: label(a), control: NaN, estimate: est, weight: w });
    }
    for (let b = a + 1; b < G; b++) {
      const sb = groupStarts[b];
      if (sb === T) continue;
      // a treated earlier (sa < sb)
      const nk = share[a], nl = share[b];
      const nkl = nk / (nk + nl);
      const Dk = Dbar[a], Dl = Dbar[b];
      if (sa > 0) {
        const w = (((nk + nl) * (1 - Dl)) ** 2 * nkl * (1 - nkl) * ((Dk - Dl) / (1 - Dl)) * ((1 - Dk) / (1 - Dl))) / VD;
        const est = meanOver(ybar[a], sa, sb) - meanOver(ybar[a], 0, sa) - (meanOver(ybar[b], sa, sb) - meanOver(ybar[b], 0, sa));
        comps.push({ type: "earlier_vs_later", treated: label(a), control: label(b), estimate: est, weight: w });
      }
      const w2 = (((nk + nl) * Dk) ** 2 * nkl * (1 - nkl) * (Dl / Dk) * ((Dk - Dl) / Dk)) / VD;
      const est2 = meanOver(ybar[b], sb, T) - meanOver(ybar[b], sa, sb) - (meanOver(ybar[a], sb, T) - meanOver(ybar[a], sa, sb));
      comps.push({ type: sa === 0 ? "later_vs_always" : "later_vs_earlier", treated: label(b), control: label(a), estimate: est2, weight: w2 });
    }
  }
  const types: BaconType[] = ["treated_vs_never", "earlier_vs_later", "later_vs_earlier", "later_vs_always"];
  const byType = types
    .map((type) => {
      const c = comps.filter((x) => x.type === type);
      const w = c.reduce((s, x) => s + x.weight, 0);
      return { type, weight: w, estimate: w > 0 ? c.reduce((s, x) => s + x.weight * x.estimate, 0) / w : NaN, count: c.length };
    })
    .filter((x) => x.count > 0);
  const weightSum = comps.reduce((s, x) => s + x.weight, 0);
  const weightedSum = comps.reduce((s, x) => s + x.weight * x.estimate, 0);
  // feols check on the same balanced panel
  const D = new Float64Array(p.n);
  for (let r = 0; r < p.n; r++) D[r] = Dit(p.unit[r], p.t[r]);
  const pf = panelFrame(frame, p, [], { bacon_D: D });
  const fit = feols(eng, pf, `${q(opts.outcome)} ~ bacon_D | ${q(opts.unit)} + ${q(opts.time)}`, { vcov: "iid", fixefRm: "none", fixefTol: 1e-12 });
  return {
    method: "bacon", comparisons: comps, byType, twfe, twfeFeols: fit.coef.bacon_D ?? NaN, weightSum, weightedSum,
    nUnits: U, periods: p.periods, warnings,
  };
}
