// feolsMulti's cross-product path, as fixest runs a multiple estimation: the members of one
// sample that share their rows, FE and weights form a group; every distinct column of the
// group (outcomes and regressors) is demeaned once (in one batch, recorded in the DemeanCache
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
import { check, columnsInfo, mergeInfo } from "../engine/kernels.js";
import {
  convergence, demeanReport, demeanWith, finishCollinear, loadFeDims, pow2Scale, putSqrtWeights, screenColumns, sumsOfSquares,
} from "../core/solve.js";
import { computeVcov, type MeatTerm, type VcovSpec } from "../core/vcov.js";
import { keptColumns, subMatrix, invSpd, matVec } from "../core/gram.js";
import { SingularError } from "../base/errors.js";
import {
  feols, assembleFit, assertFinite, clusterCodes, exactFitCheck, feolsSettings, fitStatistics, fixefDof, scoresOf, type Fit, type FeolsOptions,
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
export function feolsPrefit(
  eng: Engine, frame: Frame, formulas: MultiFormula[], opts: FeolsOptions, cache: DemeanCache, hold = true,
): Prefit {
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
    const s = trySettings(opts, f);
    if (!s || s.vspec.type !== "iid" && s.vspec.type !== "hetero" && s.vspec.type !== "cluster") return;
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
      fitGroup(eng, frame, g.members, g.fePart, g.s, opts, cache, out, hold);
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

function trySettings(opts: FeolsOptions, f: Formula): Settings | null {
  try {
    return feolsSettings(opts, f);
  } catch {
    return null; // a bad option: feols reports it, in the member's turn
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
  hold: boolean,
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
    const infos = Q > 0 ? demeanGroup(eng, cache, sample, wRaw, wPtr, members, names, srcs, mPtr, dctx, hold) : null;
    const within = sumsOfSquares(eng, mPtr, n, C, wPtr, false);
    const sqrtW = wRaw ? Float64Array.from(wRaw, Math.sqrt) : null;
    if (wRaw) check(eng.kernels.scaleRows(mPtr, n, C, putSqrtWeights(eng, wRaw)), "scaleRows");
    const gPtr = eng.allocF64(C * C, "cross-products");
    check(eng.kernels.crossProducts(gPtr, n, C, mPtr), "crossProducts");
    const G = eng.getF64(gPtr, C * C);
    // the columns in JS as the fits keep them (demeaned, or raw without FE), for the lazy data;
    // null: the demeaned columns were not copied out (the member's plain fit provides them)
    const held = infos ? infos.cols : null;
    const colJs = !infos || held ? (c: number): Float64Array => (c === names.length ? new Float64Array(n).fill(1) : held ? held[c] : gather(srcs[c], sample.rows)) : null;
    const clusters = clusterCodes(frame, sample, s.vspec);
    const codesPtrs = new Map(Object.values(clusters).map((c) => [c.codes, eng.putI32(c.codes, "cluster codes")] as const));
    const group: GroupData = { eng, frame, design, sample, names, extra, C, n, mPtr, wRaw, sqrtW, pre, within, G, colJs, codesPtrs, s, opts };
    // every member solved from the cross-products, then the residual passes of many members
    // at once, then each member's variance and Fit (its warnings given in its turn)
    const solved = members.map((m) => {
      const warnings: string[] = [];
      try {
        return solveMember(group, m, infos ? infos.byMember.get(m.index)! : null, warnings);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        return { m, err, warnings };
      }
    });
    sharedPasses(group, solved.filter((v): v is Solved => !("err" in v)), clusters);
    for (const v of solved) {
      for (const w of v.warnings) opts.onWarning?.(w);
      try {
        if ("err" in v) throw v.err;
        out.set(v.m.index, finishMember(group, v, clusters));
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        out.set(v.m.index, err);
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
  colJs: ((c: number) => Float64Array) | null;
  /** the cluster codes in WASM memory, put once for the group */
  codesPtrs: Map<Int32Array, number>;
  s: Settings;
  opts: FeolsOptions;
}

/**
 * Demean the group's columns: every column not in the cache (neither held nor demeaned by
 * this group before) in one batch, in place in the group matrix (one kernel call per
 * contiguous run of such columns: one call on a first fit; the kernel splits a batch whose
 * scratch does not fit). The kernel converges column by column, so each column is the same
 * bits as demeaned with its member alone, and its own record (iterations, criterion) is what
 * that member reports for it. Then member by member, in the members' order, through the
 * cache, which counts what each member demeaned first and what it reused as on the
 * model-by-model path. `hold`: the demeaned columns are also copied out for the cache (a
 * cache the caller shares across calls); else they stay in WASM memory only (first-touch
 * pages of fresh copies cost more than the demeaning on a loaded machine), and `cols` is null.
 */
function demeanGroup(
  eng: Engine, cache: DemeanCache, sample: Sample, w: Float64Array | null, wPtr: number, members: Member[], names: string[],
  srcs: Float64Array[], mPtr: number, dctx: Parameters<typeof demeanWith>[0], hold: boolean,
): { cols: Float64Array[] | null; byMember: Map<number, DemeanInfo> } {
  const n = sample.n;
  const settings = `${dctx.tol}|${dctx.maxIter}|${dctx.fixefAlgo}`;
  const cols: Float64Array[] = new Array(names.length);
  const inM = new Uint8Array(names.length); // demeaned in the group matrix
  const own = new Map<number, DemeanInfo>(); // column -> its record, for the columns demeaned here
  const byMember = new Map<number, DemeanInfo>();
  const owner = {};
  eng.scoped(() => {
    const dims = loadFeDims(eng, sample, wPtr);
    const todo = cache.missing(sample, w, settings, names.map((_, c) => ({ src: srcs[c], scale: 1 })), owner);
    for (let i = 0; i < todo.length;) {
      let j = i + 1;
      while (j < todo.length && todo[j] === todo[j - 1] + 1) j++;
      const c0 = todo[i], K = j - i;
      const p = mPtr + c0 * n * 8;
      const info = demeanWith(dctx, dims, K, p, p);
      cache.countKernelCall();
      for (let c = c0; c < c0 + K; c++) {
        own.set(c, columnsInfo(info, [c - c0]));
        inM[c] = 1;
      }
      i = j;
    }
    for (const m of members) {
      const idx = [m.f.lhs, ...m.xNames].map((v) => names.indexOf(v));
      const r = cache.columns(sample, w, settings, idx.map((c) => ({ src: srcs[c], scale: 1 })), (miss) => {
        const W = eng.f64(mPtr, n * names.length);
        const infos = miss.map((p) => own.get(idx[p])!);
        return {
          cols: hold ? miss.map((p) => W.slice(idx[p] * n, (idx[p] + 1) * n)) : null,
          info: { ...mergeInfo(infos, infos[0].threads), columns: infos },
        };
      }, owner, hold);
      const M = eng.f64(mPtr, n * names.length);
      idx.forEach((c, p) => {
        const col = r.cols[p];
        if (col) cols[c] = col;
        if (inM[c]) return;
        // found in the cache from an earlier call (held columns only)
        M.set(col!, c * n);
        inM[c] = 1;
      });
      byMember.set(m.index, r.info);
    }
  });
  return { cols: hold ? cols : null, byMember };
}

/** A member solved from the group's cross-products, before its residual pass. */
interface Solved {
  m: Member;
  info: DemeanInfo | null;
  /** given to onWarning in the member's turn (finishMember's warnings after them) */
  warnings: string[];
  collinear: string[];
  cols: number[];
  names: string[];
  yIdx: number;
  beta: Float64Array;
  bread: Float64Array;
  feDof: number;
  addIntercept: boolean;
  /** from the shared pass (sharedPasses): the SSR and the meat of the first cluster variable (null: iid) */
  shared?: { ssr: number; meat: Float64Array | null };
}

/** One member from the group's cross-products: screen, collinearity, solve. */
function solveMember(g: GroupData, m: Member, info: DemeanInfo | null, warnings: string[]): Solved {
  const { sample, n, C, G, s, opts } = g;
  const f = m.f;
  const warn = (msg: string) => warnings.push(msg);
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
  return { m, info, warnings, collinear, cols, names, yIdx, beta, bread, feDof, addIntercept };
}

/**
 * The residual passes of the solved members of a group that need only their SSR and the
 * scores of the first cluster variable (iid and cluster vcovs), in batches of members whose
 * scores fit in SHARED_BYTES: one pass over the rows per batch (assembly/crossprod.ts
 * membersScores), the bits of each member's own memberScores and colSumSquares. The others
 * (hetero) make their own pass in finishMember.
 */
function sharedPasses(g: GroupData, solved: Solved[], clusters: ReturnType<typeof clusterCodes>): void {
  const { eng, n, C, mPtr, s } = g;
  if (s.vspec.type !== "iid" && s.vspec.type !== "cluster") return;
  const first = s.vspec.type === "cluster" ? clusters[s.vspec.vars[0]] : undefined;
  const G = first?.G ?? 0;
  const budget = Math.max(0, Math.min(SHARED_BYTES, eng.freeBytes / 4));
  for (let b0 = 0; b0 < solved.length;) {
    let bytes = 0;
    let b1 = b0;
    while (b1 < solved.length && (b1 === b0 || bytes + G * solved[b1].cols.length * 8 <= budget)) bytes += G * solved[b1++].cols.length * 8;
    const batch = solved.slice(b0, b1);
    b0 = b1;
    eng.scoped(() => {
      const B = batch.length;
      const kPtr = eng.putI32(batch.map((v) => v.cols.length));
      const colsPtr = eng.putI32(batch.flatMap((v) => v.cols));
      const yPtr = eng.putI32(batch.map((v) => v.yIdx));
      const bPtr = eng.putF64(Float64Array.from(batch.flatMap((v) => Array.from(v.beta))));
      const ssrPtr = eng.allocF64(B);
      const scPtr = first ? eng.allocF64(Math.max(1, bytes / 8), "cluster scores") : 0;
      const work = eng.allocF64(eng.kernels.membersScoresScratch(B), "residual block");
      const cp = first ? (g.codesPtrs.get(first.codes) ?? eng.putI32(first.codes, "cluster codes")) : 0;
      check(eng.kernels.membersScores(ssrPtr, scPtr, work, n, C, mPtr, B, kPtr, colsPtr, yPtr, bPtr, cp, G), "membersScores");
      const ssr = eng.getF64(ssrPtr, B);
      let sp = scPtr;
      batch.forEach((v, j) => {
        const k = v.cols.length;
        let meat: Float64Array | null = null;
        if (first) {
          meat = eng.scoped(() => {
            const out = eng.allocF64(k * k);
            check(eng.kernels.scoresCross(out, G, k, sp), "scoresCross");
            return eng.getF64(out, k * k);
          });
          sp += G * k * 8;
        }
        v.shared = { ssr: ssr[j], meat };
      });
    });
  }
}

/** The scores of one batch of sharedPasses at most (the group matrix is read once per batch). */
const SHARED_BYTES = 256 * 1024 * 1024;

/** A solved member's variance (its residual pass unless shared), statistics and Fit. */
function finishMember(g: GroupData, v: Solved, clusters: ReturnType<typeof clusterCodes>): Fit {
  const { eng, sample, n, s, opts } = g;
  const { m, info, collinear, cols, names, yIdx, beta, bread, feDof, addIntercept } = v;
  const f = m.f;
  const kf = cols.length;
  const hasFe = sample.fe.length > 0;
  const warnings = v.warnings.slice();
  const warn = (msg: string) => {
    warnings.push(msg);
    opts.onWarning?.(msg);
  };
  const { V, ssr, vres } = eng.scoped(() => residualPass(g, cols, yIdx, beta, bread, feDof, addIntercept, clusters, v.shared));
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
    internals: lazyInternals(g, memberSample, m, cols, yIdx, beta, bread, feDof, addIntercept, names),
  });
}

/**
 * The residuals (in WASM), the SSR and the variance of one member: one pass over the rows
 * reading its columns in the group matrix (assembly/crossprod.ts memberScores: residuals and
 * cluster scores together, the bits of the residuals and meatCluster kernels); the hetero
 * meat copies the kept columns together first.
 */
function residualPass(
  g: GroupData, cols: number[], yIdx: number, beta: Float64Array, bread: Float64Array, feDof: number, addIntercept: boolean,
  clusters: ReturnType<typeof clusterCodes>, shared?: Solved["shared"],
) {
  const { eng, n, mPtr, sample, s } = g;
  const kf = cols.length;
  const colsPtr = eng.putI32(cols);
  const bPtr = eng.putF64(beta);
  const ePtr = eng.allocF64(n, "residuals"); // written by the member's first pass (none when shared, until needed)
  let eReady = false;
  const scores = new Map<Int32Array, { ptr: number; G: number }>();
  const pass = (codes: Int32Array | null, G: number) => {
    eReady = true;
    const cp = codes ? (g.codesPtrs.get(codes) ?? eng.putI32(codes, "cluster codes")) : 0;
    const sp = codes ? eng.allocF64(G * kf, "cluster scores") : 0;
    check(eng.kernels.memberScores(ePtr, sp, n, kf, mPtr, colsPtr, yIdx, bPtr, cp, G), "memberScores");
    if (codes) scores.set(codes, { ptr: sp, G });
  };
  const first = s.vspec.type === "cluster" ? clusters[s.vspec.vars[0]] : undefined;
  if (!shared) pass(first?.codes ?? null, first?.G ?? 0);
  const ssr = shared ? shared.ssr : sumsOfSquares(eng, ePtr, n, 1, 0, false)[0];
  const meats = (terms: MeatTerm[]) => terms.map((t) => eng.scoped(() => {
    if (t !== null && shared?.meat && first && t.codes === first.codes) return shared.meat;
    const out = eng.allocF64(kf * kf);
    if (t === null) {
      if (!eReady) pass(null, 0);
      const xPtr = eng.allocF64(n * Math.max(kf, 1), "member regressors");
      const W = eng.f64(0, (eng.memoryBytes >>> 3) | 0); // copyWithin: a memmove inside WASM memory
      cols.forEach((c, a) => W.copyWithin((xPtr >>> 3) + a * n, (mPtr >>> 3) + c * n, (mPtr >>> 3) + (c + 1) * n));
      check(eng.kernels.meatHetero(out, n, kf, xPtr, ePtr), "meatHetero");
    } else {
      if (!scores.has(t.codes)) pass(t.codes, t.G);
      const sc = scores.get(t.codes)!;
      check(eng.kernels.scoresCross(out, sc.G, kf, sc.ptr), "scoresCross");
    }
    return eng.getF64(out, kf * kf);
  }));
  const vres = computeVcov(eng, {
    n, k: kf, bread, x: new Float64Array(0), e: new Float64Array(0), ssr, meats,
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

/**
 * The member's kept data, computed on first access from the group's columns (the bits feols
 * keeps), or, when the call did not keep them (its own cache), from the columns its plain fit
 * demeans again (the same bits); the residuals are this fit's, y~ - X~ b.
 */
function lazyInternals(
  g: GroupData, sample: Sample, m: Member, cols: number[], yIdx: number, beta: Float64Array, bread: Float64Array, feDof: number,
  addIntercept: boolean, names: string[],
): Fit["internals"] {
  const { n, sqrtW } = g;
  const kf = cols.length;
  const keep = g.opts.keepData ?? n * kf <= 4_000_000;
  const colJs = g.colJs;
  let src: { y: Float64Array; x: (a: number) => Float64Array } | undefined;
  const source = () => {
    if (src) return src;
    if (colJs) {
      const weighted = (c: number) => {
        const v = colJs(c);
        return sqrtW ? v.map((x, i) => x * sqrtW[i]) : v.slice();
      };
      src = { y: weighted(yIdx), x: (a) => weighted(cols[a]) };
    } else {
      // lowMemory: false: X~ as demeaned (the in-place QR rebuilds it, to rounding)
      const P = feols(g.eng, g.frame, m.f, { ...g.opts, demeanCache: undefined, keepData: true, lowMemory: false });
      if (P.coefNames.join("\u0000") !== names.join("\u0000")) throw new SingularError(`the plain fit of ${m.f.text} kept other columns than its multiple-estimation member`);
      src = { y: P.internals.yTilde, x: (a) => P.internals.xTilde.subarray(a * n, (a + 1) * n) };
    }
    return src;
  };
  let x: Float64Array | undefined;
  let e: Float64Array | undefined;
  const buildX = () => {
    const out = new Float64Array(n * kf);
    for (let a = 0; a < kf; a++) out.set(source().x(a), a * n);
    return out;
  };
  const xAll = () => (x ??= buildX());
  const res = () => {
    if (!e) {
      // as assembly/sandwich.ts residuals: e = y, then e_i -= b_a x_ia for each nonzero b_a
      const r = source().y.slice();
      for (let a = 0; a < kf; a++) {
        const b = beta[a];
        if (b === 0) continue;
        const xa = source().x(a);
        for (let i = 0; i < n; i++) r[i] -= b * xa[i];
      }
      e = r;
    }
    return e;
  };
  return {
    frame: g.frame, sample, design: { xNames: m.xNames, yName: m.f.lhs }, bread, feDof, hasIntercept: addIntercept, weights: g.wRaw,
    panelId: typeof g.opts.panelId === "string" ? g.opts.panelId.split(/[,+~\s]+/).filter(Boolean) : g.opts.panelId, override: undefined,
    get yTilde() {
      return source().y;
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
