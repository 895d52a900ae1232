// feolsMulti's cross-product path, as fixest runs a multiple estimation: the members of one
// sample that share their rows, FE and weights form a group; every distinct column of the
// group (outcomes and regressors) is demeaned once (through the DemeanCache, in the batches
// the model-by-model path would use), ONE cross-product matrix of all of them is computed in
// one WASM pass (assembly/crossprod.ts), and each member is solved from its submatrix: the
// absorbed-column screen of the single fit (core/solve.ts screenColumns), the in-order
// Cholesky that drops collinear columns by the QR's rule (core/gram.ts keptColumns), the
// inverse as the bread, then one pass over the rows for the residuals, the SSR and the meat.
// Each member is the Fit feols returns for its formula (same names, sample, removed counts,
// collinear terms, warnings); the numbers agree with its QR fit to rounding (about 1e-13).
// The kept data (yTilde, residuals, xTilde, scores) are computed on first access.
//
// Members it does not take (terms other than plain variables, no intercept without FE, HAC
// vcov, float32 storage, overrides, extreme magnitudes, a group too large for memory) are
// left to feols, model by model.
import type { Engine } from "../engine/wasm.js";
import { WASM_MAX_BYTES } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import { parseFormula, type Formula } from "../core/formula.js";
import { buildDesign, type Design } from "../core/design.js";
import { prepareSample, gather, type Sample } from "../core/sample.js";
import type { MultiFormula } from "../core/multi.js";
import type { DemeanCache } from "../core/demean-cache.js";
import type { DemeanInfo } from "../engine/kernels.js";
import { check } from "../engine/kernels.js";
import {
  convergence, demeanReport, demeanWith, finishCollinear, loadFeDims, pow2Scale, putSqrtWeights, screenColumns, sumsOfSquares,
} from "../core/solve.js";
import { computeVcov, type VcovSpec } from "../core/vcov.js";
import { keptColumns, subMatrix, invSpd, matVec } from "../core/gram.js";
import { SingularError } from "../base/errors.js";
import {
  assembleFit, assertFinite, clusterCodes, exactFitCheck, feolsSettings, fitStatistics, fixefDof, scoresOf, type Fit, type FeolsOptions,
} from "./feols.js";

/** A member's fit, or the error its fit raised (thrown by the driver in the member's turn). */
export type Prefit = Map<number, Fit | Error>;

interface Member {
  index: number;
  f: Formula;
  xNames: string[];
}

type Settings = ReturnType<typeof feolsSettings>;

/**
 * The fits of the members of `formulas` (indices into it) that the cross-product path takes,
 * on the data `frame` (one sample of a split), sharing `cache`.
 */
export function feolsPrefit(eng: Engine, frame: Frame, formulas: MultiFormula[], opts: FeolsOptions, cache: DemeanCache): Prefit {
  const out: Prefit = new Map();
  if (opts.storage === "f32" || opts.cells || opts.override) return out;
  const hasNa = new Map<string, boolean>();
  const naOf = (name: string) => {
    let v = hasNa.get(name);
    if (v === undefined) {
      const col = frame.numeric(name);
      v = false;
      for (let i = 0; i < col.length && !v; i++) v = !Number.isFinite(col[i]);
      hasNa.set(name, v);
    }
    return v;
  };
  const groups = new Map<string, { members: Member[]; fePart: string; s: Settings }>();
  formulas.forEach((m, index) => {
    const f = tryParse(m.formula);
    if (!f || !eligible(f, frame)) return;
    const s = feolsSettings(opts, f);
    if (s.vspec.type !== "iid" && s.vspec.type !== "hetero" && s.vspec.type !== "cluster") return;
    const xNames = f.terms.map((t) => (t.kind === "var" ? t.name : ""));
    const bar = m.formula.indexOf("|");
    const fePart = bar < 0 ? "" : m.formula.slice(bar + 1).trim();
    const na = [f.lhs, ...xNames].filter(naOf).sort();
    const key = JSON.stringify([fePart, s.vspec, na]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { members: [], fePart, s }));
    g.members.push({ index, f, xNames });
  });
  for (const g of groups.values()) {
    try {
      fitGroup(eng, frame, g.members, g.fePart, g.s, opts, cache, out);
    } catch (err) {
      // a failure of the whole group (no observation left...): each member is left to feols,
      // which reports it with the member's own design
      if (!(err instanceof Error)) throw err;
      for (const m of g.members) out.delete(m.index);
    }
  }
  return out;
}

function tryParse(text: string): Formula | null {
  try {
    return parseFormula(text);
  } catch {
    return null; // feols reports it, in the member's turn
  }
}

/** Plain numeric regressors (at least one), an intercept, one outcome not among them. */
function eligible(f: Formula, frame: Frame): boolean {
  const plain = (v: string) => /^[A-Za-z.][A-Za-z0-9._]*$/.test(v) && frame.isNumeric(v); // written bare in the group's formula
  if (!f.intercept || f.terms.length === 0 || !plain(f.lhs)) return false;
  return f.terms.every((t) => t.kind === "var" && t.name !== f.lhs && plain(t.name));
}

/** The group's columns: the union design (every outcome and regressor of the members) on the shared sample. */
function groupDesign(frame: Frame, members: Member[], fePart: string, s: Settings, opts: FeolsOptions) {
  const names: string[] = [];
  for (const m of members) for (const v of [m.f.lhs, ...m.xNames]) if (!names.includes(v)) names.push(v);
  const [y0, ...rest] = names;
  const text = `${y0} ~ ${rest.length ? rest.join(" + ") : "1"}${fePart ? ` | ${fePart}` : ""}`;
  const clusterVars = s.vspec.type === "cluster" ? s.vspec.vars : [];
  const extra = [...clusterVars.filter((v) => !v.includes("^")), ...(opts.keepColumns ?? [])];
  const design = buildDesign(frame, parseFormula(text), { weights: opts.weights, extra });
  return { design, names, extra };
}

function fitGroup(
  eng: Engine, frame: Frame, members: Member[], fePart: string, s: Settings, opts: FeolsOptions, cache: DemeanCache, out: Prefit,
): void {
  const { design, names, extra } = groupDesign(frame, members, fePart, s, opts);
  const fixefRm = opts.fixefRm ?? "singleton";
  const sample = cache.sample(design, fixefRm, () => prepareSample(design, fixefRm));
  const n = sample.n;
  const srcs = [design.y, ...design.X];
  if (srcs.some((v) => pow2Scale(v, sample.rows) !== 1)) return; // extreme magnitudes: feols rescales them
  const wRaw = design.weights ? gather(design.weights, sample.rows) : null;
  if (wRaw && pow2Scale(wRaw, null, { even: true }) !== 1) return;
  const Q = sample.fe.length;
  const ones = Q === 0; // the intercept column
  const C = names.length + (ones ? 1 : 0);
  const kmax = Math.max(...members.map((m) => m.xNames.length)) + (ones ? 1 : 0);
  const feCells = sample.fe.reduce((a, d) => a + d.levels * (d.type === 2 ? 2 : 1), 0);
  const need = n * 8 * (C + kmax + 4) + n * 4 * (Q + 2) + 64 * feCells + (1 << 26);
  if (need > WASM_MAX_BYTES - eng.usedBytes) return; // too large together: model by model
  eng.reserve(need);
  eng.scoped(() => {
    const mPtr = eng.allocF64(n * C, "group columns");
    {
      const M = eng.f64(mPtr, n * C);
      const identity = n === design.n;
      srcs.forEach((src, c) => {
        if (identity) M.set(src, c * n);
        else for (let j = 0, o = c * n; j < n; j++) M[o + j] = src[sample.rows[j]];
      });
      if (ones) M.fill(1, names.length * n, C * n);
    }
    const wPtr = wRaw ? eng.putF64(wRaw, "weights") : 0;
    const pre = sumsOfSquares(eng, mPtr, n, C, wPtr, true);
    const dctx = { eng, tol: s.tol, maxIter: s.maxIter, fixefAlgo: s.fixefAlgo, threads: s.threads };
    const infos = Q > 0 ? demeanGroup(eng, cache, sample, wRaw, wPtr, members, names, srcs, mPtr, dctx) : null;
    const within = sumsOfSquares(eng, mPtr, n, C, wPtr, false);
    const sqrtW = wRaw ? Float64Array.from(wRaw, Math.sqrt) : null;
    if (wRaw) check(eng.kernels.scaleRows(mPtr, n, C, putSqrtWeights(eng, wRaw)), "scaleRows");
    const gPtr = eng.allocF64(C * C, "cross-products");
    check(eng.kernels.crossProducts(gPtr, n, C, mPtr), "crossProducts");
    const G = eng.getF64(gPtr, C * C);
    // the columns in JS as the fits keep them (demeaned, or raw without FE), for the lazy data
    const colJs = (c: number): Float64Array => (c === names.length ? new Float64Array(n).fill(1) : infos ? infos.cols[c] : gather(srcs[c], sample.rows));
    const group: GroupData = { eng, frame, design, sample, names, extra, C, n, mPtr, wRaw, sqrtW, pre, within, G, colJs, s, opts };
    const clusters = clusterCodes(frame, sample, s.vspec);
    for (const m of members) {
      try {
        out.set(m.index, fitMember(group, m, infos ? infos.byMember.get(m.index)! : null, clusters));
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        out.set(m.index, err);
      }
    }
  });
}

interface GroupData {
  eng: Engine;
  frame: Frame;
  design: Design;
  sample: Sample;
  names: string[];
  extra: string[];
  C: number;
  n: number;
  mPtr: number;
  wRaw: Float64Array | null;
  sqrtW: Float64Array | null;
  pre: Float64Array;
  within: Float64Array;
  G: Float64Array;
  colJs: (c: number) => Float64Array;
  s: Settings;
  opts: FeolsOptions;
}

/**
 * Demean the group's columns member by member, in the members' order, through the cache (a
 * member demeans the columns not demeaned before it in one batch: the calls and batches of
 * the model-by-model path), writing each into the group matrix once.
 */
function demeanGroup(
  eng: Engine, cache: DemeanCache, sample: Sample, w: Float64Array | null, wPtr: number, members: Member[], names: string[],
  srcs: Float64Array[], mPtr: number, dctx: Parameters<typeof demeanWith>[0],
): { cols: Float64Array[]; byMember: Map<number, DemeanInfo> } {
  const n = sample.n;
  const settings = `${dctx.tol}|${dctx.maxIter}|${dctx.fixefAlgo}`;
  const cols: Float64Array[] = new Array(names.length);
  const byMember = new Map<number, DemeanInfo>();
  eng.scoped(() => {
    const dims = loadFeDims(eng, sample, wPtr);
    for (const m of members) {
      const idx = [m.f.lhs, ...m.xNames].map((v) => names.indexOf(v));
      const r = cache.columns(sample, w, settings, idx.map((c) => ({ src: srcs[c], scale: 1 })), (miss) =>
        eng.scoped(() => {
          const K = miss.length;
          const tmp = eng.allocF64(n * K, "demeaning batch");
          {
            const M = eng.f64(mPtr, n * names.length);
            const T = eng.f64(tmp, n * K);
            miss.forEach((p, j) => T.set(M.subarray(idx[p] * n, (idx[p] + 1) * n), j * n));
          }
          const info = demeanWith(dctx, dims, K, tmp, tmp);
          const T = eng.f64(tmp, n * K);
          return { cols: miss.map((_, j) => T.slice(j * n, (j + 1) * n)), info };
        }));
      const M = eng.f64(mPtr, n * names.length);
      idx.forEach((c, p) => {
        if (cols[c]) return;
        cols[c] = r.cols[p];
        M.set(r.cols[p], c * n);
      });
      byMember.set(m.index, r.info);
    }
  });
  return { cols, byMember };
}

/** One member from the group's cross-products: screen, collinearity, solve, residual pass, vcov, Fit. */
function fitMember(g: GroupData, m: Member, info: DemeanInfo | null, clusters: ReturnType<typeof clusterCodes>): Fit {
  const { eng, sample, n, C, G, s, opts } = g;
  const f = m.f;
  const warnings: string[] = [];
  const warn = (msg: string) => {
    warnings.push(msg);
    opts.onWarning?.(msg);
  };
  if (info) convergence({ tol: s.tol, maxIter: s.maxIter, strictConvergence: opts.strictConvergence, warn }, info);
  const hasFe = sample.fe.length > 0;
  const addIntercept = !hasFe;
  const xNames = addIntercept ? ["(Intercept)", ...m.xNames] : m.xNames;
  const yIdx = g.names.indexOf(f.lhs);
  const xIdx = xNames.map((v) => (v === "(Intercept)" && addIntercept ? g.names.length : g.names.indexOf(v)));
  const ctx = { sample, f, collinTol: s.collinTol, xNames };
  const { collinear, cand } = screenColumns(ctx, [g.pre[yIdx], ...xIdx.map((c) => g.pre[c])], [g.within[yIdx], ...xIdx.map((c) => g.within[c])]);
  const candCols = cand.map((c) => xIdx[c]);
  const keptPos = keptColumns(subMatrix(G, C, candCols), cand.length, s.collinTol);
  cand.forEach((c, j) => (keptPos.includes(j) ? null : collinear.push(xNames[c])));
  finishCollinear(ctx, collinear, keptPos.length);
  const cols = keptPos.map((j) => candCols[j]);
  const names = keptPos.map((j) => xNames[cand[j]]);
  const kf = cols.length;
  const bread = invSpd(subMatrix(G, C, cols), kf);
  if (!bread) throw new SingularError(`the cross-product matrix of ${f.text} is not positive definite after removing collinear columns`);
  const beta = matVec(bread, cols.map((c) => G[c + yIdx * C]), kf);
  const feDof = fixefDof(sample);
  exactFitCheck(n, kf, feDof);
  const { V, ssr, vres } = eng.scoped(() => residualPass(g, cols, yIdx, beta, bread, feDof, addIntercept, clusters));
  if (vres.eigenFixed) warn("the multi-way clustered variance was not positive semi-definite: eigenvalues floored");
  assertFinite(names, beta, V, { y: f.lhs, sy: 1, sx: names.map(() => 1) });
  const tss = g.pre[yIdx];
  const { r2, adjR2, withinR2, rmse } = fitStatistics({ ssr, tss, within0: g.within[yIdx] }, n, kf + feDof, true, hasFe, 1, 1);
  const memberSample = memberSampleOf(g, f);
  return assembleFit({
    f, names, beta, V, df: vres.df, level: s.level, n, sample: memberSample, collinear, r2, adjR2, withinR2, rmse, ssr, tss,
    iterations: info?.iterations ?? 0, converged: info?.converged ?? true, demean: info ? demeanReport(s, info) : null,
    storage: { type: "f64" }, vspec: s.vspec as VcovSpec, vlabel: vres.label, sscName: s.sscName, K: vres.K, G: vres.G, warnings,
    weights: opts.weights,
    internals: lazyInternals(g, memberSample, m, cols, yIdx, beta, bread, feDof, addIntercept),
  });
}

/** The residuals (in WASM), the SSR and the variance of one member: one pass over its kept columns. */
function residualPass(
  g: GroupData, cols: number[], yIdx: number, beta: Float64Array, bread: Float64Array, feDof: number, addIntercept: boolean,
  clusters: ReturnType<typeof clusterCodes>,
) {
  const { eng, n, C, mPtr, sample, s } = g;
  const kf = cols.length;
  const xPtr = eng.allocF64(n * Math.max(kf, 1), "member regressors");
  {
    const M = eng.f64(mPtr, n * C);
    const X = eng.f64(xPtr, n * kf);
    cols.forEach((c, a) => X.set(M.subarray(c * n, (c + 1) * n), a * n));
  }
  const ePtr = eng.allocF64(n, "residuals");
  check(eng.kernels.residuals(ePtr, n, kf, xPtr, mPtr + yIdx * n * 8, eng.putF64(beta)), "residuals");
  const ssr = sumsOfSquares(eng, ePtr, n, 1, 0, false)[0];
  const vres = computeVcov(eng, {
    n, k: kf, bread, x: new Float64Array(0), e: new Float64Array(0), ptrs: { x: xPtr, e: ePtr }, ssr,
    fe: sample.fe.map((d) => ({ name: d.name, levels: d.levels, codes: d.codes, type: d.type })),
    feDof, clusters, hasIntercept: addIntercept,
  }, s.vspec, s.sscName);
  return { V: vres.V, ssr, vres };
}

/**
 * The member's sample: the group's rows and FE, with the member's own missing-value counts
 * (its own design's when a column of the group has missing values, else the group's, which
 * are then the member's: only the FE, weights and extra columns remove rows).
 */
function memberSampleOf(g: GroupData, f: Formula): Sample {
  const anyNa = Object.keys(g.design.naByColumn).some((c) => g.names.includes(c));
  if (!anyNa) return g.sample;
  const d = buildDesign(g.frame, f, { weights: g.opts.weights, extra: g.extra });
  let na = 0;
  for (const v of Object.values(d.naByColumn)) na += v;
  return { ...g.sample, removed: { ...g.sample.removed, na, naByColumn: { ...d.naByColumn }, zeroWeight: d.zeroWeight } };
}

/** The member's kept data, computed on first access from the group's columns (the bits feols keeps). */
function lazyInternals(
  g: GroupData, sample: Sample, m: Member, cols: number[], yIdx: number, beta: Float64Array, bread: Float64Array, feDof: number,
  addIntercept: boolean,
): Fit["internals"] {
  const { n, sqrtW } = g;
  const kf = cols.length;
  const weighted = (c: number) => {
    const v = g.colJs(c);
    return sqrtW ? v.map((x, i) => x * sqrtW[i]) : v;
  };
  const keep = g.opts.keepData ?? n * kf <= 4_000_000;
  let y: Float64Array | undefined;
  let x: Float64Array | undefined;
  let e: Float64Array | undefined;
  const buildX = () => {
    const out = new Float64Array(n * kf);
    cols.forEach((c, a) => out.set(weighted(c), a * n));
    return out;
  };
  const xAll = () => (x ??= buildX());
  const yT = () => (y ??= weighted(yIdx).slice());
  const res = () => {
    if (!e) {
      // as assembly/sandwich.ts residuals: e = y, then e_i -= b_a x_ia for each nonzero b_a
      const r = yT().slice();
      cols.forEach((c, a) => {
        const b = beta[a];
        if (b === 0) return;
        const xa = keep ? xAll().subarray(a * n, (a + 1) * n) : weighted(c);
        for (let i = 0; i < n; i++) r[i] -= b * xa[i];
      });
      e = r;
    }
    return e;
  };
  return {
    frame: g.frame, sample, design: { xNames: m.xNames, yName: m.f.lhs }, bread, feDof, hasIntercept: addIntercept,
    weights: g.wRaw, panelId: typeof g.opts.panelId === "string" ? g.opts.panelId.split(/[,+~\s]+/).filter(Boolean) : g.opts.panelId,
    override: undefined,
    get yTilde() {
      return yT();
    },
    get xTilde() {
      return keep ? xAll() : new Float64Array(0);
    },
    get residuals() {
      return res();
    },
    get scores() {
      return scoresOf(keep ? xAll() : buildX(), res(), n, kf);
    },
  };
}
