// Sufficient-statistics compression: rows that share every regressor value, fixed-effect
// level, slope value and cluster are estimated as one cell with weight n (its row count),
// outcome the cell mean, and the within-cell sum of squares kept aside. Coefficients, the
// iid, heteroskedasticity-robust and cluster-robust variances, R2 and the SSR are then
// exactly those of the row-level model (the cluster scores of a cell are x_c n_c r_c; the
// heteroskedastic meat needs sum_i e_i^2 = within-cell SS + n_c r_c^2). It pays off when
// regressors are discrete and cells repeat (loan- or worker-level data under firm-year FE),
// and lets such panels fit in one WASM instance however many rows they have.
import type { Table } from "apache-arrow";
import type { Engine } from "../engine/wasm.js";
import { Frame } from "../core/frame.js";
import { parseFormula, type Formula } from "../core/formula.js";
import { buildDesign } from "../core/design.js";
import { prepareSample, gather, recode } from "../core/sample.js";
import { feols, defaultVcov, assembleFit, exactFitCheck, assertFinite, type Fit, type FeolsOptions } from "./feols.js";
import { computeVcov, parseVcov, parseSsc, isHac, type VcovInputs } from "../core/vcov.js";
import { OptionError } from "../base/errors.js";

export interface CompressInfo {
  rows: number;
  cells: number;
}

export function feolsCompressed(
  eng: Engine, data: Table | Frame, formula: string | Formula, opts: FeolsOptions = {},
): Fit & { compression: CompressInfo } {
  const frame = data instanceof Frame ? data : Frame.fromArrow(data);
  const f = typeof formula === "string" ? parseFormula(formula) : formula;
  if (opts.weights) throw new OptionError("compression works on unweighted models; drop --weights or --compress");
  if (opts.storage === "f32") throw new OptionError("compression and float32 storage do not combine: the cells are few, keep float64", undefined, "drop --float32");
  const vspec = opts.vcov === undefined ? defaultVcov(f) : parseVcov(opts.vcov);
  const sscName = parseSsc(opts.ssc);
  if (isHac(vspec)) throw new OptionError("compression: Newey-West, Driscoll-Kraay and Conley variances need one row per observation", undefined, "drop --compress");
  const clusterVars = vspec.type === "cluster" ? vspec.vars : [];
  if (clusterVars.some((v) => v.includes("^"))) throw new OptionError("compression: cluster on interacted variables is not supported");
  const design = buildDesign(frame, f, { extra: clusterVars, override: opts.override });
  const sample = prepareSample(design, opts.fixefRm ?? "singleton");
  const n = sample.n, rows = sample.rows;
  // ---- cell keys: regressor values, FE codes, slopes, cluster codes
  const X = design.X.map((c) => gather(c, rows));
  const cl = clusterVars.map((v) => {
    const c = frame.codes(v).codes;
    return Int32Array.from(rows, (r) => c[r]);
  });
  const keyParts: ArrayLike<number>[] = [...X, ...sample.fe.map((d) => d.codes), ...sample.fe.filter((d) => d.slope).map((d) => d.slope!.values), ...cl];
  const cellOf = new Int32Array(n);
  const map = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let key = "";
    for (const p of keyParts) key += p[i] + "|";
    let c = map.get(key);
    if (c === undefined) map.set(key, (c = map.size));
    cellOf[i] = c;
  }
  const C = map.size;
  const y = gather(design.y, rows);
  const cnt = new Float64Array(C), sy = new Float64Array(C), syy = new Float64Array(C), first = new Int32Array(C).fill(-1);
  let sumY = 0, sumYY = 0;
  for (let i = 0; i < n; i++) {
    const c = cellOf[i];
    cnt[c]++;
    sy[c] += y[i];
    syy[c] += y[i] * y[i];
    sumY += y[i];
    sumYY += y[i] * y[i];
    if (first[c] < 0) first[c] = i;
  }
  const ybar = Float64Array.from(sy, (s, c) => s / cnt[c]);
  let withinCell = 0;
  const wss = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    wss[c] = Math.max(0, syy[c] - cnt[c] * ybar[c] * ybar[c]);
    withinCell += wss[c];
  }
  // ---- the cell-level frame and formula (columns renamed to safe names)
  const cols: Record<string, Float64Array> = { __y: ybar, __n: cnt };
  const xn = design.xNames.map((_, j) => `__x${j}`);
  X.forEach((x, j) => (cols[xn[j]] = Float64Array.from(first, (i) => x[i])));
  const feTerms = sample.fe.map((d, q) => {
    cols[`__fe${q}`] = Float64Array.from(first, (i) => d.codes[i]);
    if (!d.slope) return `__fe${q}`;
    cols[`__z${q}`] = Float64Array.from(first, (i) => d.slope!.values[i]);
    return d.type === 1 ? `__fe${q}[[__z${q}]]` : `__fe${q}[__z${q}]`;
  });
  clusterVars.forEach((_, j) => (cols[`__cl${j}`] = Float64Array.from(first, (i) => cl[j][i])));
  const rhs = xn.length ? xn.join(" + ") : "1";
  const cf = `__y ~ ${rhs}${f.intercept ? "" : " - 1"}${feTerms.length ? " | " + feTerms.join(" + ") : ""}`;
  const cvcov = vspec.type === "cluster" ? `cluster:${clusterVars.map((_, j) => `__cl${j}`).join("+")}` : vspec.type;
  const cfit = feols(eng, Frame.fromColumns(cols), cf, { ...opts, vcov: cvcov, weights: "__n", fixefRm: "none", keepData: true, override: undefined, cells: true });

  // ---- back to the row-level model
  const I = cfit.internals;
  const nameOf = (s: string) => {
    const m = s.match(/^__x(\d+)$/);
    return m ? design.xNames[Number(m[1])] : s;
  };
  const names = cfit.coefNames.map(nameOf);
  const k = names.length;
  const ssr = cfit.ssr + withinCell;
  const tss = sumYY - (sumY * sumY) / n;
  let ytt = 0;
  for (const v of I.yTilde) ytt += v * v;
  const hasFe = sample.fe.length > 0;
  const withinTotal = ytt + withinCell;
  const nparams = k + I.feDof;
  exactFitCheck(n, k, I.feDof);
  const r2 = 1 - ssr / tss;
  const adjR2 = 1 - ((1 - r2) * (n - (f.intercept || hasFe ? 1 : 0))) / (n - nparams);
  // residual vector for the meat: cluster scores use sqrt(n_c) r_c (the weighted fit's own);
  // the heteroskedastic meat needs sqrt(E2_c / n_c) with E2_c the cell's sum of e_i^2
  let e = I.residuals;
  if (vspec.type === "hetero") {
    e = Float64Array.from(I.residuals, (rw, c) => Math.sqrt((wss[c] + rw * rw) / cnt[c]));
  }
  const clusters: VcovInputs["clusters"] = {};
  clusterVars.forEach((v, j) => {
    const r = recode(cl[j], first, frame.codes(v).levels.length);
    clusters[v] = { codes: r.codes, G: r.levels };
  });
  const inputs: VcovInputs = {
    n, rows: C, k, bread: I.bread, x: I.xTilde, e, ssr,
    fe: I.sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type })),
    feDof: I.feDof, clusters, hasIntercept: I.hasIntercept,
  };
  const vres = computeVcov(eng, inputs, vspec, sscName);
  assertFinite(names, cfit.coefVector, vres.V);
  const feNames = sample.fe.map((d) => d.name);
  const rowSample = { ...I.sample, removed: sample.removed, fe: I.sample.fe.map((d, q) => ({ ...d, name: feNames[q] })) };
  const fit = assembleFit({
    f, names, beta: cfit.coefVector, V: vres.V, df: vres.df, level: opts.level ?? 0.95, n, sample: rowSample,
    collinear: cfit.collinear.map(nameOf), r2, adjR2, withinR2: hasFe ? 1 - ssr / withinTotal : null, rmse: Math.sqrt(ssr / n),
    ssr, tss, iterations: cfit.iterations, converged: cfit.converged, demean: cfit.demean, vspec, vlabel: vres.label, sscName,
    K: vres.K, G: vres.G, warnings: [...cfit.warnings, `estimated on ${C.toLocaleString("en-US")} cells of identical rows (${n.toLocaleString("en-US")} rows)`],
    // the cell-level data cannot give other variances: withVcov refuses (as for keepData: false)
    internals: { ...I, xTilde: new Float64Array(0), frame, sample: rowSample },
  });
  return Object.freeze({ ...fit, compression: { rows: n, cells: C } });
}
