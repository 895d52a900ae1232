// feols out of core: the data stays in a SQL engine (DuckDB, ClickHouse) and only small
// results come back (counts, k x k cross-products, T x T systems, per-cluster score sums
// summed again in the engine). Same Fit as feols (estimators/feols.ts), same numbers:
//   columns -> missing values -> singletons -> means -> FE coefficient tables (demean.ts)
//   -> one pass for the within cross-products -> solve here -> one pass per variance term.
// Passes over the rows: 1 (missing) + Q per singleton round (+1 with Q > 1) + 1 (means)
// + 1 (one FE) | 2 (two FE, one small) | Q per sweep (projections) + 1 (cross-products)
// + 1 per variance term (iid and hetero: 1; one-way cluster: 1; two-way: 3).
import { parseFormula, type Formula } from "../core/formula.js";
import { parseVcov, parseSsc, SSC, countKWith, nestedByCodes, vcovLabel, type VcovSpec, type SscName } from "../core/vcov.js";
import type { Sample } from "../core/sample.js";
import type { PostFit } from "../core/expansions.js";
import type { Frame } from "../core/frame.js";
import { assembleFit, defaultVcov, exactFitCheck, type Fit } from "../estimators/feols.js";
import { OptionError, SampleError, VcovError } from "../base/errors.js";
import { floorEigen } from "../base/stats.js";
import type { SqlBackend } from "./backend.js";
import { sqlModel, checkColumns, countMissing, removeSingletons, whereOf, emptySample } from "./sample.js";
import { demean, demeanedSql, type SqlFixefAlgo, type FixefAlgoOption } from "./demean.js";
import { rowsSql, type DemeanCtx, type DemeanResult } from "./rows.js";
import { expandTerms } from "./terms-sql.js";
import { keptColumns, subMatrix, invSpd, matVec, sandwich } from "./linalg.js";

export interface FeolsSqlOptions {
  vcov?: string | VcovSpec;
  ssc?: SscName | string;
  weights?: string;
  fixefRm?: "singleton" | "none";
  fixefTol?: number;
  fixefIter?: number;
  /** more than one FE: projections switching to CG when they stall (auto, default), or one of them */
  fixefAlgo?: FixefAlgoOption;
  collinTol?: number;
  level?: number;
  onWarning?: (msg: string) => void;
  /**
   * A step on the coefficients before the Fit is assembled (the out-of-core Sun-Abraham: its
   * cohort x period cells aggregated, core/expansions.ts PostFit; xTilde empty), and the formula
   * text the Fit then reports. Standard errors, df and K stay those of the regression fitted.
   */
  postFit?: { formula: string; apply(inp: PostFit): PostFit };
  /** run before the fit's tables are dropped, with its demeaned rows in the engine (the out-of-core wild bootstrap, sql/wild-sql.ts) */
  onDemeaned?: (st: SqlFitState) => Promise<void>;
  /**
   * Further values of the source's rows carried through the demeaned rows under their alias
   * (SQL over the source; aliases other than f*, c*, w, v*, d*): what a tool reads beside the
   * model (the placebo's unit, year and adoption columns, sql/placebo-sql.ts). Rows missing
   * them stay in the sample.
   */
  carry?: { alias: string; expr: string }[];
}

/** A fit out of core with its FE tables alive: what the out-of-core tools build on. */
export interface SqlFitState {
  fit: Fit;
  ctx: DemeanCtx;
  dm: DemeanResult;
  /** the kept regressors: column d{kept[a] + 1} of demeanedSql is coefficient names[a] */
  kept: number[];
  names: string[];
  /** cross-products of d0..d{nv-1} (nv x nv, column-major) and the inverse of the kept regressors' block */
  G: Float64Array;
  nv: number;
  bread: Float64Array;
  /** the SQL column of each cluster variable in demeanedSql's rows (f{q} or c{j}) */
  clusterCol: string[];
  n: number;
  demeanOpts: { tol: number; maxIter: number; levels: number[]; algo: SqlFixefAlgo };
}

/** The tools the out-of-core engines run (the CLI refuses the others by this list). */
export const SQL_TOOLS = ["feols", "wild", "placebo"];

export async function feolsSql(b: SqlBackend, formula: string | Formula, opts: FeolsSqlOptions = {}): Promise<Fit> {
  const tables: string[] = [];
  try {
    return await fitSql(b, formula, opts, tables);
  } finally {
    for (const t of tables.reverse()) await b.dropTable(t, "clean-up").catch(() => undefined);
  }
}

async function fitSql(b: SqlBackend, formula: string | Formula, opts: FeolsSqlOptions, tables: string[]): Promise<Fit> {
  const f = typeof formula === "string" ? parseFormula(formula) : formula;
  const vspec = opts.vcov === undefined ? defaultVcov(f) : parseVcov(opts.vcov);
  const sscName = parseSsc(opts.ssc);
  if (vspec.type !== "iid" && vspec.type !== "hetero" && vspec.type !== "cluster") {
    throw new OptionError(`the ${vspec.type} variance is not computed by the out-of-core engines`, undefined, "use iid, hetero or cluster:v1[+v2]");
  }
  const tol = opts.fixefTol ?? 1e-8;
  const maxIter = opts.fixefIter ?? 10000;
  const collinTol = opts.collinTol ?? 1e-10;
  const level = opts.level ?? 0.95;
  if (!(tol > 0)) throw new OptionError(`fixefTol must be positive, got ${tol}`);
  if (!(level > 0 && level < 1)) throw new OptionError(`level must be in (0, 1), got ${level}`);
  // every option is checked before the first query
  const algo = opts.fixefAlgo ?? "auto";
  if (algo === "lsmr") throw new OptionError("fixefAlgo lsmr is an in-memory solver: out of core (--engine duckdb | clickhouse) fixefAlgo must be auto, map or cg", { option: "fixefAlgo", value: algo });
  if (algo !== "auto" && algo !== "map" && algo !== "cg") throw new OptionError(`fixefAlgo must be auto, map or cg, got ${String(algo)}`);
  const warnings: string[] = [];
  const warn = (m: string) => (warnings.push(m), opts.onWarning?.(m));
  const d = b.dialect;

  const clusterVars = vspec.type === "cluster" ? vspec.vars : [];
  const m = sqlModel(f, opts.weights, clusterVars);
  const cols = await checkColumns(b, m);
  const { sql: s, removed } = await countMissing(b, m, cols);
  await expandTerms(b, m, cols, s.p);
  const Q = m.fe.length;
  // the level counts of the sample come from the last singleton round, else from the means pass
  const sized = (opts.fixefRm ?? "singleton") === "singleton" && Q > 0 ? await removeSingletons(b, m, s, removed, tables) : null;

  // means and level counts of the sample
  const addIntercept = Q === 0 && f.intercept;
  const center = Q > 0 || f.intercept;
  const raw = [d.f64(d.ident(m.y)), ...m.xSql];
  const wx = m.weights ? d.f64(d.ident(m.weights)) : d.f64("1");
  const p = s.p;
  const mom = [`${d.count()} AS ${p}n`, `${d.sum(wx)} AS ${p}sw`, ...raw.map((e, j) => `${d.sum(`${wx} * ${e}`)} AS ${p}s${j}`), ...(sized ? [] : s.feKeys.map((k, q) => `count(DISTINCT ${k}) AS ${p}g${q}`))];
  const [mr] = await b.query(`SELECT ${mom.join(", ")} FROM ${b.source} WHERE ${whereOf(s)}`, "means");
  const n = Number(mr[`${p}n`]);
  if (n === 0) throw emptySample(removed);
  const sw = Number(mr[`${p}sw`]);
  const means = raw.map((_, j) => Number(mr[`${p}s${j}`]) / sw);
  const levels = sized ?? m.fe.map((_, q) => Number(mr[`${p}g${q}`]));
  b.progress?.(`sample: ${n.toLocaleString("en-US")} rows (${removed.na} with missing values, ${removed.singletons} singletons, ${removed.zeroWeight} zero weights removed)`);

  // v_0 = outcome, then the regressors (with the intercept first when there is no FE)
  const xNames = addIntercept ? ["(Intercept)", ...m.x] : m.x;
  const vExpr = [center ? `(${raw[0]} - ${d.num(means[0])})` : raw[0]];
  if (addIntercept) vExpr.push(d.f64("1"));
  m.x.forEach((_, j) => vExpr.push(center ? `(${raw[j + 1]} - ${d.num(means[j + 1])})` : raw[j + 1]));
  const shift = [means[0], ...(addIntercept ? [0] : []), ...means.slice(1)].map((v) => (center ? v : 0));
  // cluster keys that are not an FE of the model are carried through the joins
  const clusterCol = m.clusters.map((c, j) => {
    const q = m.fe.findIndex((fe) => fe.name === c.name);
    return q >= 0 ? `f${q}` : `c${j}`;
  });
  const carry = [...m.clusters.flatMap((_, j) => (clusterCol[j] === `c${j}` ? [{ alias: `c${j}`, expr: s.clKeys[j] }] : [])), ...(opts.carry ?? [])];
  const ctx: DemeanCtx = { b, m, s, cols, vExpr, carry, tables };
  const dm = await demean(ctx, { tol, maxIter, levels, algo });
  if (!dm.converged) {
    warn(`fixed-effect ${dm.method === "cg" ? "CG" : "projections"} did not converge in ${dm.sweeps} sweeps${dm.cgIterations ? ` and ${dm.cgIterations} CG iterations` : ""} (largest change ${dm.criterion.toExponential(2)}, tolerance ${tol})`);
  }

  // within cross-products of d_0..d_k, and the centred sums of squares before the demeaning
  const nv = vExpr.length;
  const ymean = means[0];
  const xp: string[] = [`${d.sum(`w * (v0 + ${d.num(shift[0] - ymean)}) * (v0 + ${d.num(shift[0] - ymean)})`)} AS pre0`];
  for (let a = 1; a < nv; a++) xp.push(`${d.sum(`w * v${a} * v${a}`)} AS pre${a}`);
  for (let a = 0; a < nv; a++) for (let c = a; c < nv; c++) xp.push(`${d.sum(`w * d${a} * d${c}`)} AS g${a}_${c}`);
  const [xr] = await b.query(`SELECT ${xp.join(", ")} FROM (${demeanedSql(ctx, dm)})`, "cross-products");
  const G = new Float64Array(nv * nv);
  for (let a = 0; a < nv; a++) for (let c = a; c < nv; c++) G[a + c * nv] = G[c + a * nv] = Number(xr[`g${a}_${c}`]);
  const pre = Array.from({ length: nv }, (_, a) => Number(xr[`pre${a}`]));

  const { names, kept, collinear } = screen(f, Q, xNames, G, pre, collinTol);
  const kf = kept.length;
  const Gx = subMatrix(G, nv, kept.map((j) => j + 1));
  const bread = invSpd(Gx, kf);
  if (!bread) throw new VcovError("the within cross-product matrix of the kept regressors is not positive definite");
  const xy = kept.map((j) => G[j + 1]);
  const beta = matVec(bread, xy, kf);

  // residual passes: e = d0 - sum_j beta_j d_j; ssr, then the meat of each variance term
  const eExpr = `(d0 - ${kept.map((j, a) => `${d.num(beta[a])} * d${j + 1}`).join(" - ") || "0"})`;
  const resid = `SELECT *, ${eExpr} AS e FROM (${demeanedSql(ctx, dm)})`;
  const feDof = Q === 0 ? 0 : levels.reduce((a, v) => a + v, 0) - (Q - 1);
  exactFitCheck(n, kf, feDof);
  const dk = kept.map((j) => `d${j + 1}`);
  const v = await variance(b, { n, kf, dk, resid, bread, feDof, m, levels, vspec, sscName, clusterCol, ctx });

  // the intercept of a model without FE, from the centred fit: b0 = b0c + ybar - xbar'b (V likewise)
  let betaR = beta;
  let V = v.V;
  if (addIntercept && kept[0] === 0) {
    const t = Float64Array.from(kept, (j) => -shift[j + 1]);
    t[0] = 1;
    betaR = beta.slice();
    betaR[0] = beta[0] + shift[0] + kept.reduce((acc, j, a) => (a === 0 ? acc : acc - shift[j + 1] * beta[a]), 0);
    V = reparam(v.V, t, kf);
  }
  const ssr = v.ssr;
  const tss = pre[0];
  const hasFe = Q > 0;
  const r2 = 1 - ssr / tss;
  const adjR2 = 1 - ((1 - r2) * (n - (f.intercept || hasFe ? 1 : 0))) / (n - (kf + feDof));
  let out: PostFit = { names, beta: betaR, V, xTilde: new Float64Array(0), bread: addIntercept ? V : bread, feDof };
  if (opts.postFit) out = opts.postFit.apply(out);
  const sample: Sample = {
    rows: new Int32Array(0), n,
    fe: m.fe.map((fe, q) => ({ name: fe.name, codes: new Int32Array(0), levels: levels[q], type: 0 })),
    removed,
  };
  const fit = assembleFit({
    f: opts.postFit ? { ...f, text: opts.postFit.formula } : f, names: out.names, beta: out.beta, V: out.V, df: v.df, level, n, sample, collinear, r2, adjR2, withinR2: hasFe ? 1 - ssr / G[0] : null,
    rmse: Math.sqrt(ssr / n), ssr, tss, iterations: dm.sweeps + dm.cgIterations, converged: dm.converged,
    demean: dm.method === "projections" || dm.method === "cg"
      ? { algo: dm.method === "cg" ? (dm.sweeps ? "auto" : "cg") : "map", mapIterations: dm.sweeps, cgIterations: dm.cgIterations, criterion: dm.criterion, threads: 1 }
      : null,
    storage: { type: "f64" }, vspec, vlabel: vcovLabel(vspec), sscName, K: v.K, G: v.G, warnings, weights: opts.weights,
    internals: {
      // an out-of-core fit holds no rows: withVcov and the resampling tools refuse it
      frame: null as unknown as Frame, sample, design: { xNames: m.x, yName: m.y }, bread: out.V, feDof: out.feDof, hasIntercept: addIntercept,
      yTilde: new Float64Array(0), xTilde: new Float64Array(0), residuals: new Float64Array(0), weights: null,
      scores: new Float64Array(0),
    },
  });
  await opts.onDemeaned?.({ fit, ctx, dm, kept, names, G, nv, bread, clusterCol, n, demeanOpts: { tol, maxIter, levels, algo } });
  return fit;
}

/** Absorbed and zero columns (core/solve.ts screenColumns), then collinear ones (in-order Cholesky, the QR's rule). */
function screen(f: Formula, Q: number, xNames: string[], G: Float64Array, pre: number[], collinTol: number) {
  const nv = xNames.length + 1;
  if (Q > 0 && G[0] <= 1e-20 * Math.max(pre[0], 1e-300)) {
    throw new SampleError(`the outcome "${f.lhs}" is constant within the fixed effects: nothing left to explain`, { outcome: f.lhs }, "check the outcome column or the fixed effects");
  }
  const collinear: string[] = [];
  const cand: number[] = [];
  xNames.forEach((name, c) => {
    const within = G[c + 1 + (c + 1) * nv];
    const absorbed = Q > 0 && (pre[c + 1] === 0 || within <= collinTol * pre[c + 1]);
    if (absorbed || within === 0) collinear.push(name);
    else cand.push(c);
  });
  const Gc = subMatrix(G, nv, cand.map((c) => c + 1));
  const keptIdx = keptColumns(Gc, cand.length, collinTol);
  const kept = keptIdx.map((i) => cand[i]);
  cand.forEach((c) => (kept.includes(c) ? null : collinear.push(xNames[c])));
  collinear.sort((a, c) => xNames.indexOf(a) - xNames.indexOf(c));
  if (kept.length === 0 && xNames.length > 0) {
    throw new SampleError(
      `every regressor was removed as collinear (${collinear.join(", ")}): the estimation is void`,
      { collinear },
      Q > 0 ? "a regressor that does not vary within the fixed effects is absorbed by them" : undefined,
    );
  }
  return { names: kept.map((c) => xNames[c]), kept, collinear };
}

/** T V T' with T the identity but for its first row t (the intercept's reparametrisation). */
function reparam(V: Float64Array, t: Float64Array, k: number): Float64Array {
  const T = new Float64Array(k * k);
  for (let i = 0; i < k; i++) T[i + i * k] = 1;
  for (let j = 0; j < k; j++) T[0 + j * k] = t[j];
  const TV = new Float64Array(k * k);
  for (let c = 0; c < k; c++) for (let p = 0; p < k; p++) for (let a = 0; a < k; a++) TV[a + c * k] += T[a + p * k] * V[p + c * k];
  const out = new Float64Array(k * k);
  for (let c = 0; c < k; c++) for (let p = 0; p < k; p++) for (let a = 0; a < k; a++) out[a + c * k] += TV[a + p * k] * T[c + p * k];
  return out;
}

interface VarianceArgs {
  n: number;
  kf: number;
  dk: string[];
  resid: string;
  bread: Float64Array;
  feDof: number;
  m: ReturnType<typeof sqlModel>;
  levels: number[];
  vspec: VcovSpec;
  sscName: SscName;
  clusterCol: string[];
  ctx: DemeanCtx;
}

/** SSR and the variance (computeVcov of core/vcov.ts, with meats summed in the engine). */
async function variance(b: SqlBackend, a: VarianceArgs): Promise<{ V: Float64Array; ssr: number; df: number; K: number; G?: Record<string, number> }> {
  const d = b.dialect;
  const { n, kf, dk, vspec } = a;
  const ssc = SSC[a.sscName];
  const fe = a.m.fe.map((f, q) => ({ name: f.name, levels: a.levels[q], type: 0 }));
  const pairs: [number, number][] = [];
  for (let i = 0; i < kf; i++) for (let j = i; j < kf; j++) pairs.push([i, j]);
  const fill = (r: Record<string, unknown>, prefix: string) => {
    const M = new Float64Array(kf * kf);
    for (const [i, j] of pairs) M[i + j * kf] = M[j + i * kf] = Number(r[`${prefix}${i}_${j}`]);
    return M;
  };
  if (vspec.type !== "cluster") {
    const sel = [`${d.sum("w * e * e")} AS ssr`];
    if (vspec.type === "hetero") for (const [i, j] of pairs) sel.push(`${d.sum(`w * w * e * e * ${dk[i]} * ${dk[j]}`)} AS h${i}_${j}`);
    const [r] = await b.query(`SELECT ${sel.join(", ")} FROM (${a.resid})`, vspec.type === "hetero" ? "residuals and hetero meat" : "residuals");
    const ssr = Number(r.ssr);
    const K = countKWith(kf, a.feDof, fe, ssc, [], () => false);
    if (vspec.type === "iid") {
      const s2 = ssr / (ssc.adj ? n - K : n);
      return { V: a.bread.map((x) => x * s2), ssr, df: n - K, K };
    }
    const V = sandwich(a.bread, fill(r, "h"), kf);
    const fct = ssc.adj ? n / (n - K) : 1;
    return { V: V.map((x) => x * fct), ssr, df: n - K, K };
  }
  // clusters: inclusion-exclusion over the non-empty subsets of cluster variables
  const mc = vspec.vars.length;
  const terms: { keys: string[]; sign: number; G: number; M: Float64Array }[] = [];
  let ssr = NaN;
  for (let mask = 1; mask < 1 << mc; mask++) {
    const idx = [...Array(mc).keys()].filter((j) => mask & (1 << j));
    const keys = idx.map((j) => a.clusterCol[j]);
    const inner = `SELECT ${keys.join(", ")}, ${d.sum("w * e * e")} AS q, ${dk.map((x, i) => `${d.sum(`w * e * ${x}`)} AS s${i}`).join(", ")} FROM (${a.resid}) GROUP BY ${keys.join(", ")}`;
    const outer = [`${d.count()} AS g`, `${d.sum("q")} AS ssr`, ...pairs.map(([i, j]) => `${d.sum(`s${i} * s${j}`)} AS c${i}_${j}`)];
    const name = idx.map((j) => vspec.vars[j]).join(" x ");
    const [r] = await b.query(`SELECT ${outer.join(", ")} FROM (${inner})`, `cluster scores (${name})`);
    if (mask === 1) ssr = Number(r.ssr);
    terms.push({ keys, sign: idx.length % 2 === 1 ? 1 : -1, G: Number(r.g), M: fill(r, "c") });
    b.progress?.(`cluster scores (${name}): ${Number(r.g).toLocaleString("en-US")} clusters`);
  }
  const single = vspec.vars.map((_, j) => terms[(1 << j) - 1].G);
  single.forEach((G, j) => {
    if (G < 2) {
      throw new VcovError(
        `cluster variable "${vspec.vars[j]}" has a single cluster in the estimation sample: a cluster-robust variance needs at least 2`,
        { cluster: vspec.vars[j], G }, "use --vcov hetero, or cluster on a variable with more levels",
      );
    }
  });
  const nested = await nestedFlags(b, a, fe, ssc);
  const K = countKWith(kf, a.feDof, fe, ssc, vspec.vars, (q, c) => nested[q][c]);
  const Gmin = Math.min(...single);
  const meat = new Float64Array(kf * kf);
  for (const t of terms) {
    const cadj = ssc.clusterAdj ? (ssc.clusterDf === "min" ? Gmin / (Gmin - 1) : t.G / (t.G - 1)) : 1;
    for (let i = 0; i < meat.length; i++) meat[i] += t.sign * cadj * t.M[i];
  }
  let V = sandwich(a.bread, meat, kf);
  const adj = ssc.adj ? (n - 1) / (n - K) : 1;
  V = V.map((x) => x * adj);
  if (mc > 1) {
    let negDiag = false;
    for (let i = 0; i < kf; i++) if (V[i + i * kf] < 0) negDiag = true;
    if (ssc.eigenFix === "fixest" && negDiag) V = floorEigen(V, kf, 1e-10);
    else if (ssc.eigenFix === "reghdfe") V = floorEigen(V, kf, 0);
  }
  const Gs: Record<string, number> = {};
  vspec.vars.forEach((nm, j) => (Gs[nm] = single[j]));
  return { V, ssr, df: Gmin - 1, K, G: Gs };
}

/** For fixef.K = "nested" on the codes: is each FE within one cluster of each cluster variable? One query per pair. */
async function nestedFlags(b: SqlBackend, a: VarianceArgs, fe: { name: string }[], ssc: (typeof SSC)[SscName]): Promise<boolean[][]> {
  const vars = (a.vspec as { vars: string[] }).vars;
  const out = fe.map(() => vars.map(() => false));
  if (!nestedByCodes(fe, ssc, vars)) return out;
  const rows = rowsSql(a.ctx);
  for (let q = 0; q < fe.length; q++) {
    for (let c = 0; c < vars.length; c++) {
      const key = a.clusterCol[c];
      if (key === `f${q}`) {
        out[q][c] = true;
        continue;
      }
      const [r] = await b.query(`SELECT ${b.dialect.count()} AS bad FROM (SELECT f${q} FROM (${rows}) GROUP BY f${q} HAVING count(DISTINCT ${key}) > 1)`, `nesting (${fe[q].name} in ${vars[c]})`);
      out[q][c] = Number(r.bad) === 0;
    }
  }
  return out;
}
