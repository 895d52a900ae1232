// fixef(): the fixed-effect coefficients of a fit, normalised as fixest's fixef() does
// (fixest 0.12): the first FE is never a reference; in each connected component of the FE
// graph the level of every other FE at the component's first observation (sample row order)
// is set to 0 and its value moved into the first FE. Sorted by level (numeric levels
// numerically), with the references and the count of identified levels reported.
//
// The FE sum of each observation is d_i = y_i - x_i'b - e_i (raw units); the coefficients
// solve d = sum_q alpha_q[g_q(i)], exactly in the FE span, by alternating (weighted) group
// means to machine precision (one or two FE), or by preconditioned conjugate gradient (three
// or more, and with varying slopes: fe[x] / fe[[x]] add a block of slope coefficients per level,
// named "fe[[x]]" as fixest's fixef() names them, multiplying x on each row; slopes are not
// normalised, only the intercepts are). With three or more FE the rule is applied to each FE q >= 2 against the first FE
// (components of the first and q-th FE's graph); fixest's own choice there was not checked
// against a reference.
import type { Fit } from "../estimators/feols.js";
import { buildDesign } from "../core/design.js";
import { gather, type Sample } from "../core/sample.js";
import { OptionError, NonConvergenceError } from "../base/errors.js";

export interface FixefDim {
  /** the FE ("firm", "fe1^fe2"), or fixest's name of its slopes: "firm[[x]]" */
  name: string;
  /** the slope variable of a varying-slope block (its values multiply x) */
  slope?: string;
  /** level labels, sorted as fixest sorts them */
  levels: string[];
  values: Float64Array;
  /** the same as a record, label -> value */
  byLevel: Record<string, number>;
  /** labels of the levels set to 0 (none for the first FE) */
  references: string[];
  /** levels whose value is identified (levels minus references) */
  identified: number;
}

export interface FixefResult {
  dims: FixefDim[];
  /** connected components of the FE graph (1 for a connected panel; 1 with a single FE) */
  components: number;
  /** sweeps of the alternating group means, and the largest change of the last */
  iterations: number;
  change: number;
  /** rule stated as fixest applies it */
  rule: string;
}

const RULE =
  "fixest fixef(): the first FE is never a reference; in each connected component of the FE graph, " +
  "the level of each other FE at the component's first observation (row order) is set to 0";

/** y, the regressors and the residuals of a fit in raw units on its sample rows. */
export function rawParts(fit: Fit): { y: Float64Array; xb: Float64Array; resid: Float64Array } {
  const I = fit.internals;
  if (I.sample.n !== fit.nobs || I.residuals.length < fit.nobs) {
    throw new OptionError("this fit holds cells, not rows (feolsCompressed): fixef / predict / residuals need the row-level fit", undefined, "refit without --compress");
  }
  const d = buildDesign(I.frame, fit.parsed, { weights: fit.weights, override: I.override });
  const rows = I.sample.rows;
  const n = fit.nobs;
  const y = gather(d.y, rows);
  const xb = new Float64Array(n);
  fit.coefNames.forEach((name, j) => {
    const b = fit.coefVector[j];
    if (name === "(Intercept)") {
      for (let i = 0; i < n; i++) xb[i] += b;
      return;
    }
    const c = d.X[d.xNames.indexOf(name)];
    if (!c) throw new OptionError(`regressor "${name}" is not in the fit's design: fixef / predict need the plain regression`);
    for (let i = 0; i < n; i++) xb[i] += b * c[rows[i]];
  });
  const resid = fit.internals.residuals.slice(0, n);
  if (I.weights) for (let i = 0; i < n; i++) resid[i] /= Math.sqrt(I.weights[i]);
  return { y, xb, resid };
}

/** Label of each sample level of FE term q (interactions joined with "_", as fixest). */
function levelLabels(fit: Fit, q: number): { labels: string[]; sortKey: (a: number, b: number) => number } {
  const I = fit.internals;
  const term = fit.parsed.fixef[q];
  const fe = I.sample.fe[q];
  const parts = term.vars.map((v) => I.frame.codes(v));
  const labels = new Array<string>(fe.levels);
  const firstRow = new Int32Array(fe.levels).fill(-1);
  for (let j = 0; j < I.sample.n; j++) {
    const g = fe.codes[j];
    if (firstRow[g] >= 0) continue;
    firstRow[g] = I.sample.rows[j];
    labels[g] = parts.map((c) => c.levels[c.codes[firstRow[g]]]).join("_");
  }
  const numeric = parts.length === 1 && parts[0].values !== undefined;
  const vals = numeric ? Float64Array.from(firstRow, (r) => parts[0].values![parts[0].codes[r]]) : null;
  const sortKey = vals ? (a: number, b: number) => vals[a] - vals[b] : (a: number, b: number) => (labels[a] < labels[b] ? -1 : labels[a] > labels[b] ? 1 : 0);
  return { labels, sortKey };
}

/** Coefficients of d = sum_q alpha_q[codes_q] by alternating weighted group means. */
function solveFe(d: Float64Array, codes: Int32Array[], sizes: number[], w: Float64Array | null, maxIter = 10_000): { alpha: Float64Array[]; iterations: number; change: number } {
  const n = d.length;
  const Q = codes.length;
  const alpha = sizes.map((G) => new Float64Array(G));
  const wsum = sizes.map((G, q) => {
    const s = new Float64Array(G);
    for (let i = 0; i < n; i++) s[codes[q][i]] += w ? w[i] : 1;
    return s;
  });
  const r = d.slice(); // r = d - sum_q alpha_q
  const scale = Math.max(1e-300, ...Array.from(d, Math.abs));
  let change = Infinity, it = 0;
  for (; it < maxIter && change > 1e-15 * scale; it++) {
    change = 0;
    for (let q = 0; q < Q; q++) {
      const c = codes[q], a = alpha[q];
      const acc = new Float64Array(sizes[q]);
      for (let i = 0; i < n; i++) acc[c[i]] += (w ? w[i] : 1) * r[i];
      for (let g = 0; g < sizes[q]; g++) {
        const step = acc[g] / wsum[q][g];
        acc[g] = step;
        a[g] += step;
        change = Math.max(change, Math.abs(step));
      }
      for (let i = 0; i < n; i++) r[i] -= acc[c[i]];
    }
    if (Q === 1) break;
  }
  if (change > 1e-10 * scale) throw new NonConvergenceError(`fixef: the FE coefficients did not converge in ${maxIter} sweeps (last change ${change})`);
  return { alpha, iterations: it, change };
}

/**
 * The same by conjugate gradient on the normal equations D'WD alpha = D'W d, preconditioned
 * by the diagonal (three or more FE, where alternating means crawl when two FE are almost
 * nested; and varying slopes, whose block of D holds the slope variable z instead of 1: block
 * b of alpha multiplies z_b[i] on row i). The system is singular but consistent: CG from 0
 * stays in the range.
 */
function solveFeCg(d: Float64Array, codes: Int32Array[], sizes: number[], w: Float64Array | null, zs: (Float64Array | null)[] = [], maxIter = 20_000): { alpha: Float64Array[]; iterations: number; change: number } {
  const n = d.length, Q = codes.length;
  const off = sizes.map((_, q) => sizes.slice(0, q).reduce((a, b) => a + b, 0));
  const m = off[Q - 1] + sizes[Q - 1];
  const wi = (i: number) => (w ? w[i] : 1);
  const Dt = (v: Float64Array) => {
    const out = new Float64Array(m);
    for (let q = 0; q < Q; q++) {
      const zq = zs[q];
      if (zq) for (let i = 0; i < n; i++) out[off[q] + codes[q][i]] += wi(i) * zq[i] * v[i];
      else for (let i = 0; i < n; i++) out[off[q] + codes[q][i]] += wi(i) * v[i];
    }
    return out;
  };
  const D = (a: Float64Array) => {
    const out = new Float64Array(n);
    for (let q = 0; q < Q; q++) {
      const zq = zs[q];
      if (zq) for (let i = 0; i < n; i++) out[i] += a[off[q] + codes[q][i]] * zq[i];
      else for (let i = 0; i < n; i++) out[i] += a[off[q] + codes[q][i]];
    }
    return out;
  };
  // the diagonal of D'WD: group weight sums (sums of w z^2 for slopes; 1 where a level has no variation)
  const diag = new Float64Array(m);
  for (let q = 0; q < Q; q++) for (let i = 0; i < n; i++) diag[off[q] + codes[q][i]] += wi(i) * (zs[q] ? zs[q]![i] * zs[q]![i] : 1);
  for (let j = 0; j < m; j++) if (!(diag[j] > 0)) diag[j] = 1;
  const x = new Float64Array(m);
  const r = Dt(d);
  const z = r.map((v, j) => v / diag[j]);
  const p = z.slice();
  let rz = r.reduce((s, v, j) => s + v * z[j], 0);
  const r0 = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
  let it = 0, change = Infinity;
  for (; it < maxIter; it++) {
    const Ap = Dt(D(p));
    const pAp = p.reduce((s, v, j) => s + v * Ap[j], 0);
    if (!(pAp > 0)) break;
    const alpha = rz / pAp;
    change = 0;
    for (let j = 0; j < m; j++) {
      x[j] += alpha * p[j];
      r[j] -= alpha * Ap[j];
      change = Math.max(change, Math.abs(alpha * p[j]));
    }
    const rn = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    if (rn <= 1e-14 * r0) break;
    for (let j = 0; j < m; j++) z[j] = r[j] / diag[j];
    const rz1 = r.reduce((s, v, j) => s + v * z[j], 0);
    const beta = rz1 / rz;
    rz = rz1;
    for (let j = 0; j < m; j++) p[j] = z[j] + beta * p[j];
  }
  // the solution reproduces d: check on the rows, as the alternating means do
  const fitD = D(x);
  let worst = 0, scale = 1e-300;
  for (let i = 0; i < n; i++) (worst = Math.max(worst, Math.abs(fitD[i] - d[i]))), (scale = Math.max(scale, Math.abs(d[i])));
  if (worst > 1e-8 * scale) throw new NonConvergenceError(`fixef: the FE coefficients did not converge in ${it} CG iterations (largest row error ${worst})`);
  return { alpha: sizes.map((G, q) => x.slice(off[q], off[q] + G)), iterations: it, change };
}

/** Connected components of the graph joining levels of FE 0 and FE q through observations. */
function components(c0: Int32Array, G0: number, cq: Int32Array, Gq: number): Int32Array {
  const parent = Int32Array.from({ length: G0 + Gq }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (let i = 0; i < c0.length; i++) {
    const a = find(c0[i]), b = find(G0 + cq[i]);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  }
  return Int32Array.from({ length: G0 + Gq }, (_, i) => find(i));
}

/** The blocks of FE coefficients: each term's intercepts (plain FE, fe[x]) and slopes (fe[x], fe[[x]]). */
function feBlocks(fe: Sample["fe"]): { q: number; name: string; slope?: string; codes: Int32Array; G: number; z: Float64Array | null }[] {
  return fe.flatMap((f, q) => {
    const out: { q: number; name: string; slope?: string; codes: Int32Array; G: number; z: Float64Array | null }[] = [];
    if (f.type !== 1) out.push({ q, name: f.name, codes: f.codes, G: f.levels, z: null });
    if (f.type !== 0) out.push({ q, name: `${f.name}[[${f.slope!.name}]]`, slope: f.slope!.name, codes: f.codes, G: f.levels, z: f.slope!.values });
    return out;
  });
}

export function fixef(fit: Fit): FixefResult {
  const I = fit.internals;
  if (I.sample.fe.length === 0) throw new OptionError("this fit has no fixed effects");
  const fe = feBlocks(I.sample.fe);
  const { y, xb, resid } = rawParts(fit);
  const n = fit.nobs;
  const d = Float64Array.from(y, (v, i) => v - xb[i] - resid[i]);
  const codes = fe.map((f) => f.codes);
  const sizes = fe.map((f) => f.G);
  const slopes = fe.some((f) => f.z);
  const { alpha, iterations, change } = slopes || fe.length >= 3
    ? solveFeCg(d, codes, sizes, I.weights ?? null, fe.map((f) => f.z))
    : solveFe(d, codes, sizes, I.weights ?? null);
  // normalisation among the intercepts: the other FE at each component's first observation is 0
  // (slope coefficients are not normalised: a slope times z is not a constant to move)
  const refs: Set<number>[] = fe.map(() => new Set<number>());
  const icpt = fe.map((f, b) => (f.z ? -1 : b)).filter((b) => b >= 0);
  const b0 = icpt[0];
  let nComp = 1;
  for (const q of icpt.slice(1)) {
    const comp = components(codes[b0], sizes[b0], codes[q], sizes[q]);
    const shift = new Float64Array(comp.length);
    const done = new Uint8Array(comp.length);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const c = comp[codes[b0][i]];
      if (done[c]) continue;
      done[c] = 1;
      count++;
      shift[c] = alpha[q][codes[q][i]];
      refs[q].add(codes[q][i]);
    }
    for (let l = 0; l < sizes[q]; l++) alpha[q][l] -= shift[comp[sizes[b0] + l]];
    for (let l = 0; l < sizes[b0]; l++) alpha[b0][l] += shift[comp[l]];
    nComp = Math.max(nComp, count);
  }
  const dims: FixefDim[] = fe.map((f, q) => {
    const { labels, sortKey } = levelLabels(fit, f.q);
    const order = Array.from({ length: f.G }, (_, g) => g).sort(sortKey);
    const values = Float64Array.from(order, (g) => alpha[q][g]);
    const levels = order.map((g) => labels[g]);
    const byLevel: Record<string, number> = {};
    levels.forEach((l, j) => (byLevel[l] = values[j]));
    const references = order.filter((g) => refs[q].has(g)).map((g) => labels[g]);
    return { name: f.name, ...(f.slope ? { slope: f.slope } : {}), levels, values, byLevel, references, identified: f.G - references.length };
  });
  return { dims, components: nComp, iterations, change, rule: RULE };
}
