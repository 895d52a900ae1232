// Variance estimators declared as data (as fixest's R/VCOV.R), and the small-sample
// corrections. The WASM kernels compute meats; everything here is k x k arithmetic.
import type { Engine } from "../engine/wasm.js";
import { check } from "../engine/kernels.js";
import { OptionError, VcovError } from "../base/errors.js";
import { floorEigen } from "../base/stats.js";
import { intersectCodes } from "./codes.js";
import { parseHac, hacLabel, hacMeat, hacDims, type HacSpec, type HacData } from "./hac.js";

export type VcovSpec = { type: "iid" } | { type: "hetero" } | { type: "cluster"; vars: string[] } | HacSpec;
export type { HacSpec } from "./hac.js";

/**
 * The variance estimators, as data: what each reads beyond the scores, where its meat is
 * computed, and the small-sample factors fixest applies (adj: (n-1)/(n-K) or n/(n-K); K by
 * countK with the FE nested in `nests` left out; T / (T-1) under cluster.adj).
 */
export const VCOV_KINDS = {
  iid: { label: "IID", needs: [], meat: "none (s^2 (X'X)^-1)", adj: "n/(n-K) via s^2", nests: "none", df: "n - K" },
  hetero: { label: "Heteroskedasticity-robust (HC1)", needs: [], meat: "meatHetero", adj: "n/(n-K)", nests: "none", df: "n - K" },
  cluster: { label: "Clustered", needs: ["cluster variables"], meat: "meatCluster", adj: "(n-1)/(n-K) G/(G-1)", nests: "clusters", df: "G_min - 1" },
  nw: { label: "Newey-West", needs: ["time (time series) or unit + time (panel)"], meat: "hacTimeMeat / hacPanelMeat", adj: "(n-1)/(n-K) T/(T-1)", nests: "unit and time", df: "T - 1" },
  dk: { label: "Driscoll-Kraay", needs: ["time"], meat: "hacTimeMeat", adj: "(n-1)/(n-K) T/(T-1)", nests: "time", df: "T - 1" },
  conley: { label: "Conley", needs: ["latitude", "longitude"], meat: "conleyMeat", adj: "(n-1)/(n-K)", nests: "none", df: "n - K" },
} as const;

export function isHac(v: VcovSpec): v is HacSpec {
  return v.type === "nw" || v.type === "dk" || v.type === "conley";
}

export type FixefK = "nested" | "full" | "none";

export interface SscSpec {
  /** (n-1)/(n-K) (cluster) or n/(n-K) (hetero) factor */
  adj: boolean;
  fixefK: FixefK;
  /** G/(G-1) factor */
  clusterAdj: boolean;
  /** "min": one G_min/(G_min-1) for all terms of a multi-way vcov; "conventional": each its own */
  clusterDf: "min" | "conventional";
  /** eigenvalue fix for non-PSD multi-way results: fixest floors only when a diagonal is negative */
  eigenFix: "fixest" | "reghdfe";
  /**
   * nesting of FE in clusters (fixef.K = "nested") on the codes: "fixest" only when some
   * cluster variable is not itself a FE (see countK), "always" (reghdfe)
   */
  nestedCodes: "fixest" | "always";
}

export type SscName = "fixest" | "full" | "none" | "stata";

export const SSC: Record<SscName, SscSpec & { label: string }> = {
  fixest: {
    adj: true, fixefK: "nested", clusterAdj: true, clusterDf: "min", eigenFix: "fixest", nestedCodes: "fixest",
    label: 'fixest default: ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE, cluster.df = "min", t.df = "min")',
  },
  full: {
    adj: true, fixefK: "full", clusterAdj: true, clusterDf: "min", eigenFix: "fixest", nestedCodes: "fixest",
    label: 'ssc(fixef.K = "full"): every FE level counted in K (= lm + sandwich::vcovCL HC1, Stata reg i.firm, vce(cluster))',
  },
  none: {
    adj: false, fixefK: "nested", clusterAdj: false, clusterDf: "min", eigenFix: "fixest", nestedCodes: "fixest",
    label: "ssc(adj = FALSE, cluster.adj = FALSE): no small-sample correction (= R plm)",
  },
  stata: {
    adj: true, fixefK: "nested", clusterAdj: true, clusterDf: "min", eigenFix: "reghdfe", nestedCodes: "always",
    label: "Stata reghdfe: (N-1)/(N-K) * G/(G-1), FE nested in clusters not counted (as fixest), negative eigenvalues of multi-way results set to 0",
  },
};

export function parseSsc(s: string | undefined): SscName {
  const v = (s ?? "fixest").toLowerCase();
  if (v === "fixest" || v === "full" || v === "none" || v === "stata") return v;
  if (v === "reghdfe") return "stata";
  throw new OptionError(`unknown small-sample convention "${s}"`, undefined, "use fixest, full, none or stata");
}

/** "iid" | "hetero" | "HC1" | "cluster:firm" | "cluster:firm+year" | "~firm" | "~firm + year" */
export function parseVcov(s: string | VcovSpec): VcovSpec {
  if (typeof s !== "string") return s;
  const v = s.trim();
  const low = v.toLowerCase();
  const hac = parseHac(v);
  if (hac) return hac;
  if (low === "iid" || low === "standard") return { type: "iid" };
  if (low === "hetero" || low === "hc1" || low === "robust" || low === "white") return { type: "hetero" };
  let rest: string | null = null;
  if (low.startsWith("cluster:")) rest = v.slice(8);
  else if (low.startsWith("cluster=")) rest = v.slice(8);
  else if (v.startsWith("~")) rest = v.slice(1);
  else if (low.startsWith("twoway:")) rest = v.slice(7);
  if (rest !== null) {
    const vars = rest.split(/[+,]/).map((x) => x.trim()).filter(Boolean);
    if (vars.length === 0) throw new OptionError(`vcov "${s}" names no cluster variable`);
    if (vars.length > 4) throw new OptionError(`vcov "${s}": at most 4-way clustering is supported`);
    return { type: "cluster", vars };
  }
  throw new OptionError(`unknown vcov "${s}"`, undefined, "use iid, hetero, cluster:var1[+var2], nw:LAG, dk:LAG or conley[:KM | :MILESmi]");
}

export function vcovLabel(v: VcovSpec): string {
  if (v.type === "iid") return "IID";
  if (v.type === "hetero") return "Heteroskedasticity-robust (HC1)";
  if (isHac(v)) return hacLabel(v);
  return v.vars.length === 1 ? `Clustered (${v.vars[0]})` : `Clustered (${v.vars.join(" & ")})`;
}

/** What the vcov needs from the fit. */
export interface VcovInputs {
  n: number;
  k: number;
  /** bread (X'X)^{-1}, k x k column-major */
  bread: Float64Array;
  /** demeaned, sqrt-weighted regressors (n x k column-major) and residuals (n) */
  x: Float64Array;
  e: Float64Array;
  /** length of x's columns and of e when it is not n (sufficient-statistics cells) */
  rows?: number;
  /** the same, already in WASM memory (valid only during the fit) */
  ptrs?: { x: number; e: number };
  ssr: number;
  /** FE dimensions: sizes and codes on the sample, for K and nestedness */
  fe: { name: string; levels: number; codes: Int32Array; type: number }[];
  /** dof of the FE (sum of levels minus redundancies), as counted for fixef.K = "full" */
  feDof: number;
  /** cluster codes on the sample for each cluster variable, by name */
  clusters: Record<string, { codes: Int32Array; G: number }>;
  hasIntercept: boolean;
  /**
   * meats supplied by the fit itself, one per term, when the demeaned regressors are not
   * held (float32 storage streams them); otherwise the kernels run on x and e
   */
  meats?: (terms: MeatTerm[]) => Float64Array[];
  /** periods, units or coordinates on the sample for a HAC / Conley vcov (core/hac.ts hacData) */
  hac?: HacData;
}

/** One meat to compute: cluster codes on the sample with G clusters, or null for hetero. */
export type MeatTerm = { codes: Int32Array; G: number } | null;

export interface VcovResult {
  V: Float64Array;
  /** degrees of freedom for t tests */
  df: number;
  K: number;
  label: string;
  sscLabel: string;
  G?: Record<string, number>;
  eigenFixed: boolean;
}

/** Is every level of FE `fe` within a single cluster? */
export function nestedIn(fe: Int32Array, feLevels: number, cl: Int32Array): boolean {
  const seen = new Int32Array(feLevels).fill(-1);
  for (let i = 0; i < fe.length; i++) {
    const s = seen[fe[i]];
    if (s < 0) seen[fe[i]] = cl[i];
    else if (s !== cl[i]) return false;
  }
  return true;
}


function meatOf(eng: Engine, inp: VcovInputs, codes: Int32Array | null, G: number): Float64Array {
  const { k } = inp;
  const n = inp.rows ?? inp.n;
  return eng.scoped(() => {
    const xp = inp.ptrs ? inp.ptrs.x : eng.putF64(inp.x, "regressors");
    const ep = inp.ptrs ? inp.ptrs.e : eng.putF64(inp.e, "residuals");
    const out = eng.allocF64(k * k);
    if (codes === null) {
      check(eng.kernels.meatHetero(out, n, k, xp, ep), "meatHetero");
    } else {
      const cp = eng.putI32(codes, "cluster codes");
      const sc = eng.allocF64(G * k, "cluster scores");
      check(eng.kernels.meatCluster(out, sc, n, k, xp, ep, cp, G), "meatCluster");
    }
    return eng.getF64(out, k * k);
  });
}

/**
 * bread * meat * bread in WASM (assembly/sandwich.ts: blocked, two lanes): a k = 2000
 * formula spent minutes in the plain-JavaScript triple loop.
 */
export function sandwichOf(eng: Engine, bread: Float64Array, meat: Float64Array, k: number): Float64Array {
  if (k === 0) return new Float64Array(0);
  return eng.scoped(() => {
    const b = eng.putF64(bread, "bread");
    const m = eng.putF64(meat, "meat");
    const work = eng.allocF64(k * k, "sandwich scratch");
    const out = eng.allocF64(k * k, "variance");
    check(eng.kernels.sandwichBMB(out, work, k, b, m), "sandwichBMB");
    return eng.getF64(out, k * k);
  });
}

/**
 * K, the parameter count of the (n-1)/(n-K) and n/(n-K) factors, by fixest's rule (R/VCOV.R,
 * vcov.fixest, section "ssc"; fixest 0.12). Definitions:
 *   nparams   = k + feDof: the regressors plus every FE coefficient, varying slopes included,
 *               minus one level per plain FE beyond the first (what fixef.K = "full" counts);
 *   sizes_ok  = the levels of each FE dimension that has its own intercepts (plain `fe` and
 *               `fe[z]`); a slope-only dimension `fe[[z]]` has none (0);
 *   n_ok      = the number of such dimensions.
 * fixef.K = "full", or no cluster variable (iid, hetero): K = nparams.
 * fixef.K = "none": K = nparams - (sum sizes_ok - (n_ok - 1)): the FE intercepts are dropped,
 *   the slope coefficients stay.
 * fixef.K = "nested" (the default), clustered: a dimension is nested when
 *   - its name is a cluster variable, or it is an interaction `a^b` with a or b a cluster
 *     variable, or else
 *   - every one of its levels lies within one cluster of a cluster variable (checked on the
 *     codes), a check fixest skips when every cluster variable is itself one of the FE: then
 *     only the names count (ssc "stata", nestedCodes "always", checks the codes always, as reghdfe).
 *   If every dimension is nested: K = nparams - (sum sizes_ok - (n_ok - 1)) + 1 (the
 *   intercept); otherwise K = nparams - sum over nested dimensions of (sizes_ok - 1), so
 *   a nested `fe[z]` gives back its G - 1 intercepts but its G slopes stay in K, and a nested
 *   `fe[[z]]` gives back nothing. K is at least k + 1.
 * Cases this covers, each against an R fixest reference (tests/fixest.test.ts): firm / city /
 * two-way clusters with firm + year (cbec t3c1_*: firm and year nested by name, all nested:
 * K = k + 1), firm + year + city (t3c3), region[year] (t3c4: region not nested in firm, its
 * slopes counted), city[year] + year clustered by city (by name) and by region (city nested in
 * region on the codes), firm[year] by firm, city + city[[year]] (cbec_fidelity_fixest.json).
 */
export function countK(inp: VcovInputs, ssc: SscSpec, clusterNames: string[]): number {
  const codes = clusterNames.map((c) => inp.clusters[c]?.codes);
  return countKWith(inp.k, inp.feDof, inp.fe, ssc, clusterNames, (q, c) => nestedIn(inp.fe[q].codes, inp.fe[q].levels, codes[c]));
}

/** Whether countK looks at the codes (nestedOnCodes is called) for these FE and clusters. */
export function nestedByCodes(fe: { name: string }[], ssc: SscSpec, clusterNames: string[]): boolean {
  return ssc.fixefK === "nested" && clusterNames.length > 0 && (ssc.nestedCodes === "always" || !clusterNames.every((c) => fe.some((f) => f.name === c)));
}

/**
 * countK on FE sizes, with the nesting on the codes asked of nestedOnCodes(q, c): FE q lies
 * within the clusters of cluster variable c (out-of-core fits answer it with a query).
 */
export function countKWith(
  k: number, feDof: number, fe: { name: string; levels: number; type: number }[], ssc: SscSpec, clusterNames: string[],
  nestedOnCodes: (q: number, c: number) => boolean,
): number {
  const nparams = k + feDof;
  const inp = { k, fe };
  const own = inp.fe.filter((f) => f.type !== 1);
  const sizesOk = own.reduce((acc, f) => acc + f.levels, 0);
  if (ssc.fixefK === "none") return own.length > 0 ? nparams - (sizesOk - (own.length - 1)) : nparams;
  if (ssc.fixefK === "full" || clusterNames.length === 0 || own.length === 0) return nparams;
  const byName = (f: { name: string }) =>
    clusterNames.includes(f.name) || (f.name.includes("^") && f.name.split("^").some((p) => clusterNames.includes(p)));
  const checkCodes = nestedByCodes(inp.fe, ssc, clusterNames);
  const nested = inp.fe.map((f, q) => byName(f) || (checkCodes && clusterNames.some((_, c) => nestedOnCodes(q, c))));
  let K = nparams;
  if (nested.every(Boolean)) K -= sizesOk - (own.length - 1) - 1;
  else inp.fe.forEach((f, q) => {
    if (nested[q] && f.type !== 1) K -= f.levels - 1;
  });
  return Math.max(K, inp.k + 1);
}

export function computeVcov(eng: Engine, inp: VcovInputs, spec: VcovSpec, sscName: SscName): VcovResult {
  const ssc = SSC[sscName];
  const { n, k, bread } = inp;
  const label = vcovLabel(spec);
  if (isHac(spec)) return hacVcov(eng, inp, spec, ssc);
  if (spec.type === "iid") {
    const K = countK(inp, ssc, []);
    const s2 = inp.ssr / (ssc.adj ? n - K : n);
    const V = bread.map((b) => b * s2);
    return { V, df: n - K, K, label, sscLabel: ssc.label, eigenFixed: false };
  }
  if (spec.type === "hetero") {
    const K = countK(inp, ssc, []);
    const meat = inp.meats ? inp.meats([null])[0] : meatOf(eng, inp, null, 0);
    const V = sandwichOf(eng, bread, meat, k);
    const f = ssc.adj ? n / (n - K) : 1;
    for (let i = 0; i < V.length; i++) V[i] *= f;
    return { V, df: n - K, K, label, sscLabel: ssc.label, eigenFixed: false };
  }
  const cls = spec.vars.map((v) => {
    const c = inp.clusters[v];
    if (!c) throw new VcovError(`cluster variable "${v}" is not available for this fit`);
    return c;
  });
  for (let j = 0; j < cls.length; j++) {
    if (cls[j].G < 2) {
      throw new VcovError(
        `cluster variable "${spec.vars[j]}" has a single cluster in the estimation sample: a cluster-robust variance needs at least 2`,
        { cluster: spec.vars[j], G: cls[j].G },
        "use --vcov hetero, or cluster on a variable with more levels",
      );
    }
  }
  const K = countK(inp, ssc, spec.vars);
  const Gmin = Math.min(...cls.map((c) => c.G));
  const adj = ssc.adj ? (n - 1) / (n - K) : 1;
  const meat = new Float64Array(k * k);
  // inclusion-exclusion over all non-empty subsets of cluster variables
  const m = cls.length;
  const terms: { codes: Int32Array; G: number; sign: number }[] = [];
  for (let mask = 1; mask < 1 << m; mask++) {
    const parts: Int32Array[] = [];
    for (let j = 0; j < m; j++) if (mask & (1 << j)) parts.push(cls[j].codes);
    const { codes, G } = parts.length === 1 ? cls[indexOfBit(mask)] : intersectCodes(parts);
    terms.push({ codes, G, sign: parts.length % 2 === 1 ? 1 : -1 });
  }
  const meats = inp.meats ? inp.meats(terms) : terms.map((t) => meatOf(eng, inp, t.codes, t.G));
  terms.forEach(({ G, sign }, t) => {
    const cadj = ssc.clusterAdj ? (ssc.clusterDf === "min" ? Gmin / (Gmin - 1) : G / (G - 1)) : 1;
    const M = meats[t];
    for (let i = 0; i < M.length; i++) meat[i] += sign * cadj * M[i];
  });
  let V = sandwichOf(eng, bread, meat, k);
  for (let i = 0; i < V.length; i++) V[i] *= adj;
  let eigenFixed = false;
  if (m > 1) {
    let negDiag = false;
    for (let i = 0; i < k; i++) if (V[i + i * k] < 0) negDiag = true;
    if (ssc.eigenFix === "fixest" && negDiag) {
      V = floorEigen(V, k, 1e-10);
      eigenFixed = true;
    } else if (ssc.eigenFix === "reghdfe") {
      const F = floorEigen(V, k, 0);
      let changed = false;
      for (let i = 0; i < V.length; i++) if (Math.abs(F[i] - V[i]) > 1e-14 * Math.abs(V[i]) + 1e-300) changed = true;
      if (changed) {
        V = F;
        eigenFixed = true;
      }
    }
  }
  const G: Record<string, number> = {};
  spec.vars.forEach((v, j) => (G[v] = cls[j].G));
  return { V, df: Gmin - 1, K, label, sscLabel: ssc.label, G, eigenFixed };
}

/** NW / DK / Conley: the meat from core/hac.ts, fixest's factors and t degrees of freedom. */
function hacVcov(eng: Engine, inp: VcovInputs, spec: HacSpec, ssc: SscSpec & { label: string }): VcovResult {
  const h = inp.hac;
  if (!h || h.spec.type !== spec.type) throw new VcovError(`the ${vcovLabel(spec)} variance needs its periods / coordinates on the sample (VcovInputs.hac)`);
  if (inp.rows !== undefined) throw new VcovError(`the ${vcovLabel(spec)} variance needs one row per observation (not available on compressed cells)`);
  const { n, k } = inp;
  const dims = hacDims(h);
  const K = countK({ ...inp, clusters: { ...inp.clusters, ...dims.clusters } }, ssc, dims.names);
  const { meat, lag, T, cutoff } = hacMeat(eng, inp, h);
  const V = sandwichOf(eng, inp.bread, meat, k);
  const f = (ssc.adj ? (n - 1) / (n - K) : 1) * (T > 1 && ssc.clusterAdj ? T / (T - 1) : 1);
  for (let i = 0; i < V.length; i++) V[i] *= f;
  return { V, df: T > 1 ? T - 1 : n - K, K, label: hacLabel(spec, lag, cutoff), sscLabel: ssc.label, eigenFixed: false };
}

function indexOfBit(mask: number): number {
  return 31 - Math.clz32(mask);
}
