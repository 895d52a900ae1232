// Tests and intervals on a fit's coefficients with its variance: joint Wald tests (fixest's
// wald(): F = b' V^-1 b / q with df2 = nobs - nparams), linear hypotheses parsed from a string
// ("Fin = Eco", "Fin + Eco = 0", "2*did - Fin = 0.1"; several joined by ","), confidence
// intervals at any level (t with the fit's df, as fixest's confint) and simultaneous sup-t
// bands (the 1 - alpha quantile of max_j |z_j| over draws z from the normal with the
// coefficients' correlation; fixed seed).
import type { Fit } from "../estimators/feols.js";
import { OptionError } from "../base/errors.js";
import { pf, pval2, qt, qnorm, invSPD } from "../base/stats.js";
import { Rng } from "../base/rng.js";

/** Parameters fixest counts in nparams: the coefficients and every FE level, less one per extra FE. */
export function nparams(fit: Fit): number {
  return fit.coefNames.length + fit.internals.feDof;
}

function pick(fit: Fit, terms: string[] | RegExp | string): number[] {
  const names = fit.coefNames;
  const idx = Array.isArray(terms)
    ? terms.map((t) => {
        const j = names.indexOf(t);
        if (j < 0) throw new OptionError(`"${t}" is not a coefficient of this fit`, { coefficients: names });
        return j;
      })
    : names.map((nm, j) => ((typeof terms === "string" ? new RegExp(terms) : terms).test(nm) ? j : -1)).filter((j) => j >= 0);
  if (!idx.length) throw new OptionError(`no coefficient matches ${String(terms)}`, { coefficients: names });
  return idx;
}

export interface WaldResult {
  terms: string[];
  stat: number;
  p: number;
  df1: number;
  df2: number;
  vcov: string;
}

/** Joint test of R b = r: F = (Rb - r)' (R V R')^-1 (Rb - r) / q on F(q, nobs - nparams). */
function waldOf(fit: Fit, R: number[][], r: number[]): { stat: number; p: number; df1: number; df2: number } {
  const k = fit.coefNames.length, q = R.length;
  const V = fit.vcovMatrix, b = fit.coefVector;
  const d = R.map((row, a) => row.reduce((s, c, j) => s + c * b[j], 0) - r[a]);
  const M = new Float64Array(q * q);
  for (let a = 0; a < q; a++)
    for (let c = 0; c < q; c++) {
      let s = 0;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) s += R[a][i] * V[i + j * k] * R[c][j];
      M[a + c * q] = s;
    }
  const Mi = invSPD(M, q);
  if (!Mi) throw new OptionError("the restrictions are linearly dependent (R V R' is singular)");
  let stat = 0;
  for (let a = 0; a < q; a++) for (let c = 0; c < q; c++) stat += d[a] * Mi[a + c * q] * d[c];
  stat /= q;
  const df2 = fit.nobs - nparams(fit);
  return { stat, p: 1 - pf(stat, q, df2), df1: q, df2 };
}

/** fixest's wald(fit, keep): the named coefficients (or a regular expression on the names) all 0. */
export function wald(fit: Fit, terms: string[] | RegExp | string): WaldResult {
  const idx = pick(fit, terms);
  const k = fit.coefNames.length;
  const R = idx.map((j) => Array.from({ length: k }, (_, i) => (i === j ? 1 : 0)));
  return { terms: idx.map((j) => fit.coefNames[j]), ...waldOf(fit, R, idx.map(() => 0)), vcov: fit.vcovLabel };
}

/**
 * One side of a restriction: terms [+-] [number *] name [* number] or [+-] number, scanned
 * left to right. Names are matched against the fit's coefficients, longest first, so names
 * with "-" or ":" (event-study dummies "rel::-2", interactions) need no quoting; `name` also works.
 */
function side(text: string, names: string[], whole: string): { c: number[]; r: number } {
  const c = new Array<number>(names.length).fill(0);
  let r = 0, i = 0, terms = 0;
  const byLength = names.map((nm, j) => [nm, j] as const).sort((a, b) => b[0].length - a[0].length);
  const bad = (what: string) => new OptionError(`hypothesis "${whole}": ${what}`, { coefficients: names });
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const name = (): number => {
    if (text[i] === "`") {
      const e = text.indexOf("`", i + 1);
      const nm = e < 0 ? text.slice(i + 1) : text.slice(i + 1, e);
      if (e < 0 || !names.includes(nm)) throw bad(`"${nm}" is not a coefficient of this fit`);
      i = e + 1;
      return names.indexOf(nm);
    }
    for (const [nm, j] of byLength) if (text.startsWith(nm, i)) return (i += nm.length), j;
    return -1;
  };
  const num = (): number | null => {
    const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) return null;
    i += m[0].length;
    return Number(m[0]);
  };
  const unknown = () => bad(`"${/^[^\s+*]*/.exec(text.slice(i))![0] || text.slice(i)}" is not a coefficient of this fit`);
  for (ws(); i < text.length; ws()) {
    let sign = 1;
    if (text[i] === "+" || text[i] === "-") (sign = text[i] === "-" ? -1 : 1), i++, ws();
    else if (terms > 0) throw bad(`cannot read "${text.slice(i)}"`);
    terms++;
    let j = name(), f = 1;
    ws();
    if (j < 0) {
      const v = num();
      if (v === null) throw unknown();
      ws();
      if (text[i] !== "*") {
        r += sign * v;
        continue;
      }
      i++, ws();
      j = name();
      if (j < 0) throw unknown();
      f = v;
    } else if (text[i] === "*") {
      i++, ws();
      const v = num();
      if (v === null) throw bad(`a number must follow "*" in "${whole}"`);
      f = v;
    }
    c[j] += sign * f;
  }
  if (terms === 0) throw bad("an empty side");
  return { c, r };
}

/** "a = b", "a + b = 0", "2*a - b = 0.5": coefficients c and constant r of c'b = r. */
export function parseHypothesis(text: string, names: string[]): { c: number[]; r: number } {
  const parts = text.split("=");
  if (parts.length > 2) throw new OptionError(`hypothesis "${text}" has more than one "="`);
  const L = side(parts[0], names, text);
  const Rt = parts.length === 2 ? side(parts[1], names, text) : { c: names.map(() => 0), r: 0 };
  const c = L.c.map((v, j) => v - Rt.c[j]);
  if (c.every((v) => v === 0)) throw new OptionError(`hypothesis "${text}" names no coefficient`);
  return { c, r: Rt.r - L.r };
}

export interface HypothesisResult {
  hypothesis: string;
  /** c'b - r */
  estimate: number;
  se: number;
  t: number;
  /** two-sided, t with the fit's df (as the coefficient table) */
  p: number;
  df: number;
  /** the same as F(1, nobs - nparams), as wald() */
  F: number;
  pF: number;
  df2: number;
}

/** A linear hypothesis c'b = r with the fit's vcov; several joined by "," also give the joint test. */
export function hypothesis(fit: Fit, text: string): HypothesisResult[] & { joint?: WaldResult } {
  const k = fit.coefNames.length;
  const V = fit.vcovMatrix, b = fit.coefVector;
  const list = text.split(",").map((h) => h.trim()).filter(Boolean);
  const rows = list.map((h) => parseHypothesis(h, fit.coefNames));
  const out = rows.map(({ c, r }, a) => {
    const est = c.reduce((s, v, j) => s + v * b[j], 0) - r;
    let v2 = 0;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) v2 += c[i] * V[i + j * k] * c[j];
    const se = Math.sqrt(v2);
    const t = est / se;
    const w = waldOf(fit, [c], [r]);
    return { hypothesis: list[a], estimate: est, se, t, p: pval2(t, fit.df), df: fit.df, F: w.stat, pF: w.p, df2: w.df2 };
  }) as HypothesisResult[] & { joint?: WaldResult };
  if (rows.length > 1) out.joint = { terms: list, ...waldOf(fit, rows.map((x) => x.c), rows.map((x) => x.r)), vcov: fit.vcovLabel };
  return out;
}

export interface Interval {
  name: string;
  estimate: number;
  lower: number;
  upper: number;
}

/** coef +- qt(1 - (1 - level) / 2, df) se, as fixest's confint(). */
export function confint(fit: Fit, level = 0.95, terms?: string[] | RegExp | string): Interval[] {
  if (!(level > 0 && level < 1)) throw new OptionError(`level must be in (0, 1), got ${level}`);
  const idx = terms === undefined ? fit.coefNames.map((_, j) => j) : pick(fit, terms);
  const crit = qt(1 - (1 - level) / 2, fit.df);
  return idx.map((j) => {
    const name = fit.coefNames[j], est = fit.coefVector[j], se = fit.se[name];
    return { name, estimate: est, lower: est - crit * se, upper: est + crit * se };
  });
}

export interface SupTBand {
  level: number;
  /** the simultaneous critical value, and for comparison the pointwise and Bonferroni normal ones */
  crit: number;
  pointwise: number;
  bonferroni: number;
  draws: number;
  seed: number;
  intervals: Interval[];
}

/** Lower Cholesky factor of a symmetric PSD matrix (zero columns where it is singular). */
function cholesky(m: Float64Array, k: number): Float64Array {
  const L = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let s = m[j + j * k];
    for (let l = 0; l < j; l++) s -= L[j + l * k] ** 2;
    const d = s > 1e-14 ? Math.sqrt(s) : 0;
    L[j + j * k] = d;
    for (let i = j + 1; i < k; i++) {
      let t = m[i + j * k];
      for (let l = 0; l < j; l++) t -= L[i + l * k] * L[j + l * k];
      L[i + j * k] = d > 0 ? t / d : 0;
    }
  }
  return L;
}

/**
 * Simultaneous (sup-t) band for a set of coefficients, e.g. an event-study path: the critical
 * value c with P(max_j |z_j| <= c) = level for z ~ N(0, R), R the coefficients' correlation
 * under the fit's vcov, estimated from `draws` draws of bindings/base/rng.ts (fixed seed).
 */
export function supTBand(fit: Fit, terms: string[] | RegExp | string, opts: { level?: number; draws?: number; seed?: number } = {}): SupTBand {
  const level = opts.level ?? 0.95, draws = opts.draws ?? 10_000, seed = opts.seed ?? 1;
  if (!(level > 0 && level < 1)) throw new OptionError(`level must be in (0, 1), got ${level}`);
  if (!(Number.isInteger(draws) && draws >= 100)) throw new OptionError(`draws must be an integer >= 100, got ${draws}`);
  const idx = pick(fit, terms);
  const m = idx.length, k = fit.coefNames.length, V = fit.vcovMatrix;
  const se = idx.map((j) => Math.sqrt(V[j + j * k]));
  const R = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let c = 0; c < m; c++) R[a + c * m] = V[idx[a] + idx[c] * k] / (se[a] * se[c]);
  const L = cholesky(R, m);
  const rng = new Rng(seed);
  const maxes = new Float64Array(draws);
  const u = new Float64Array(m);
  for (let d = 0; d < draws; d++) {
    for (let a = 0; a < m; a++) u[a] = rng.normal();
    let mx = 0;
    for (let a = 0; a < m; a++) {
      let z = 0;
      for (let c = 0; c <= a; c++) z += L[a + c * m] * u[c];
      mx = Math.max(mx, Math.abs(z));
    }
    maxes[d] = mx;
  }
  maxes.sort();
  const crit = maxes[Math.min(draws - 1, Math.ceil(level * draws) - 1)];
  const intervals = idx.map((j, a) => {
    const est = fit.coefVector[j];
    return { name: fit.coefNames[j], estimate: est, lower: est - crit * se[a], upper: est + crit * se[a] };
  });
  return { level, crit, pointwise: qnorm(1 - (1 - level) / 2), bonferroni: qnorm(1 - (1 - level) / (2 * m)), draws, seed, intervals };
}
