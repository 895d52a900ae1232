// The wild cluster bootstrap out of core: the cluster aggregates of inference/wild.ts
// (WildAggregates: Cy, Cx G x G, ay, ax, S, bhat) from per-cluster sums pulled back from the
// engine, so that the replications, p-values and intervals run in memory on the same numbers
// (inference/wild.ts wildFromAggregates; composed by the CLI, cli/sql-tools.ts). With d_0 the
// demeaned outcome and X~ = d_1..d_k the fit's demeaned kept regressors (j the tested one,
// the others the controls C):
//   x = d_j - C delta, e_y = d_0 - C gamma (FWL: delta, gamma from the fit's cross-products),
//   z_h = M_FE(x 1_h) for each cluster h (G columns, demeaned in SQL in batches of BATCH),
//   Cy[h, g] = sum_{i in g} z_h,i e_y,i - (X~_g'e_y,g)' A^-1 (X~'z_h), A = X~'X~
//   Cx[h, g] = sum_{i in g} z_h,i x_i  - (X~_g'x_g)'  A^-1 (X~'z_h)
// (M_X~ M_FE (x 1_h) paired with e_y or x on cluster g's rows, as the in-memory tool's
// projection off [controls, x]). Pulled back: per batch of m clusters a G x m(2 + k) table;
// once, a G x (2 + 2k) table: G^2 (2 + k) + G (2 + 2k) numbers in all (G = 240, k = 3:
// 288,000). Clusters in label order (numbers by value, text by code units), as in memory,
// so the same seed draws the same weight of each cluster.
// Regression weights w (the column w of the demeaned rows, 1 without weights): the FE
// demeaning is weighted and every sum above is a sum of w times the product, as the in-memory
// tool's sqrt(w)-scaled columns give (the same algebra on sqrt(w) x, sqrt(w) e_y).
import { OptionError } from "../base/errors.js";
import type { WildAggregates } from "../base/aggregates.js";
import type { SqlFitState } from "./feols-sql.js";
import { demean, demeanedSql, derivedCtx, dropSince } from "./demean.js";
import { invSpd, subMatrix, matVec } from "./linalg.js";

/** Cluster columns demeaned per pass of the FE solver. */
export const WILD_BATCH = 32;

/** The wild bootstrap's cluster aggregates (base/aggregates.ts, the type inference/wild.ts draws from), with what the engine returned. */
export interface WildSqlAggregates extends WildAggregates {
  /** the clusters' labels in the order of the aggregates */
  labels: string[];
  /** the numbers pulled back from the engine for the aggregates */
  pulled: number;
}

/** The cluster aggregates of coefficient `param`, the bootstrap clustered by the fit's (only) cluster variable. */
export async function wildAggregatesSql(st: SqlFitState, param: string, cluster: string, checkG: (G: number) => void): Promise<WildSqlAggregates> {
  const { ctx, dm, G: XX, nv } = st;
  const b = ctx.b;
  const d = b.dialect;
  const p = ctx.s.p;
  const { a, k, dcol, xExpr, eExpr } = fwlSql(st, param, `"${param}" is not a coefficient of the fit`);
  const A = invSpd(subMatrix(XX, nv, dcol), k);
  if (!A) throw new OptionError("the regressors' cross-product matrix is singular");
  const ck = st.clusterCol[0];

  // per cluster: its label, x_g'e_y, x_g'x, X~_g'e_y, X~_g'x
  const sums = [`${d.sum(`w * ${xExpr} * ${eExpr}`)} AS ${p}ay`, `${d.sum(`w * ${xExpr} * ${xExpr}`)} AS ${p}ax`];
  dcol.forEach((c, i) => sums.push(`${d.sum(`w * d${c} * ${eExpr}`)} AS ${p}ke${i}`, `${d.sum(`w * d${c} * ${xExpr}`)} AS ${p}kx${i}`));
  const per = await b.query(`SELECT ${d.key(ck)} AS ${p}key, ${sums.join(", ")} FROM (${demeanedSql(ctx, dm)}) GROUP BY ${ck}`, "wild: cluster sums");
  const numeric = clusterIsNumeric(st, cluster);
  const labels = per.map((r) => String(r[`${p}key`]));
  const order = labels.map((_, g) => g).sort(numeric ? (u, v) => Number(labels[u]) - Number(labels[v]) : (u, v) => (labels[u] < labels[v] ? -1 : labels[u] > labels[v] ? 1 : 0));
  const G = order.length;
  checkG(G);
  const sorted = order.map((g) => per[g]);
  const lab = order.map((g) => labels[g]);
  const rank = new Map(lab.map((l, g) => [l, g]));
  const ay = Float64Array.from(sorted, (r) => Number(r[`${p}ay`]));
  const ax = Float64Array.from(sorted, (r) => Number(r[`${p}ax`]));
  const ke = sorted.map((r) => Float64Array.from(dcol, (_, i) => Number(r[`${p}ke${i}`])));
  const kx = sorted.map((r) => Float64Array.from(dcol, (_, i) => Number(r[`${p}kx${i}`])));
  // A^-1 X~_g'e_y and A^-1 X~_g'x per cluster g
  const ae = ke.map((v) => matVec(A, Array.from(v), k));
  const axg = kx.map((v) => matVec(A, Array.from(v), k));
  let S = 0, xy = 0;
  for (let g = 0; g < G; g++) (S += ax[g]), (xy += ay[g]);
  const bhat = xy / S;

  // the G cluster columns x 1_h, demeaned by the FE in batches
  const lit = clusterLiteral(st, cluster);
  const pass = [{ alias: "ey", expr: eExpr }, { alias: "xp", expr: xExpr }, ...dcol.map((c, i) => ({ alias: `xk${i}`, expr: `d${c}` }))];
  const cy = new Float64Array(G * G), cx = new Float64Array(G * G);
  const warnings: string[] = [];
  let failed = 0, worst = 0, pulled = per.length * (2 + 2 * k);
  for (let h0 = 0; h0 < G; h0 += WILD_BATCH) {
    const m = Math.min(WILD_BATCH, G - h0);
    const exprs = Array.from({ length: m }, (_, h) => `CASE WHEN ${ck} = ${lit(lab[h0 + h])} THEN ${xExpr} ELSE ${d.num(0)} END`);
    const before = ctx.tables.length;
    const c2 = derivedCtx(ctx, dm, exprs, pass);
    const dm2 = await demean(c2, st.demeanOpts);
    if (!dm2.converged) (failed++, (worst = Math.max(worst, dm2.criterion)));
    const sel: string[] = [];
    for (let h = 0; h < m; h++) {
      sel.push(`${d.sum(`w * d${h} * ey`)} AS ${p}y${h}`, `${d.sum(`w * d${h} * xp`)} AS ${p}x${h}`);
      for (let i = 0; i < k; i++) sel.push(`${d.sum(`w * d${h} * xk${i}`)} AS ${p}k${h}_${i}`);
    }
    const rows = await b.query(`SELECT ${d.key(ck)} AS ${p}key, ${sel.join(", ")} FROM (${demeanedSql(c2, dm2)}) GROUP BY ${ck}`, `wild: cluster columns ${h0 + 1}-${h0 + m} of ${G}`);
    pulled += rows.length * m * (2 + k);
    await dropSince(ctx, before, "wild: clean-up");
    // X~'z_h (summed over the clusters), then the projection off X~
    const xz = Array.from({ length: m }, () => new Float64Array(k));
    for (const r of rows) for (let h = 0; h < m; h++) for (let i = 0; i < k; i++) xz[h][i] += Number(r[`${p}k${h}_${i}`]);
    for (const r of rows) {
      const g = rank.get(String(r[`${p}key`]));
      if (g === undefined) throw new OptionError(`wild: cluster ${String(r[`${p}key`])} appeared between two passes over the same sample`);
      for (let h = 0; h < m; h++) {
        let py = 0, px = 0;
        for (let i = 0; i < k; i++) (py += ae[g][i] * xz[h][i]), (px += axg[g][i] * xz[h][i]);
        cy[(h0 + h) * G + g] = Number(r[`${p}y${h}`]) - py;
        cx[(h0 + h) * G + g] = Number(r[`${p}x${h}`]) - px;
      }
    }
    b.progress?.(`wild: cluster columns ${h0 + m} of ${G} demeaned (${dm2.method}${dm2.sweeps > 1 ? `, ${dm2.sweeps} sweeps` : ""})`);
  }
  if (failed > 0) {
    warnings.push(`the FE projections of the cluster columns did not converge in ${failed} of ${Math.ceil(G / WILD_BATCH)} batches ` +
      `(largest criterion ${worst.toExponential(2)}, tolerance ${st.demeanOpts.tol}): the bootstrap may be inaccurate; raise --fixef-iter or loosen --fixef-tol`);
  }
  return { G, S, bhat, cy, cx, ay, ax, warnings, labels: lab, pulled };
}

/**
 * Frisch-Waugh-Lovell for coefficient `param` of a fit out of core: with d_j its demeaned
 * regressor and C the other kept regressors (the controls), x = d_j - C delta and
 * e_y = d_0 - C gamma as SQL over demeanedSql's rows (delta, gamma from the fit's
 * cross-products), the controls' columns and the inverse of their cross-product matrix.
 */
export function fwlSql(st: SqlFitState, param: string, missing: string) {
  const { ctx, kept, names, G: XX, nv } = st;
  const d = ctx.b.dialect;
  const a = names.indexOf(param);
  if (a < 0) throw new OptionError(missing, { coefficients: names }, `coefficients: ${names.join(", ")}`);
  const k = kept.length;
  const dcol = kept.map((c) => c + 1); // column of d_ for each kept regressor
  const ctrl = dcol.filter((_, i) => i !== a);
  let xExpr = `d${dcol[a]}`;
  let eExpr = "d0";
  let ctrlInv: Float64Array | null = null;
  if (ctrl.length) {
    const inv = invSpd(subMatrix(XX, nv, ctrl), ctrl.length);
    if (!inv) throw new OptionError("the controls' cross-product matrix is singular");
    ctrlInv = inv;
    const delta = matVec(inv, ctrl.map((c) => XX[c + dcol[a] * nv]), ctrl.length);
    const gamma = matVec(inv, ctrl.map((c) => XX[c]), ctrl.length);
    xExpr = `(d${dcol[a]} - ${ctrl.map((c, i) => `${d.num(delta[i])} * d${c}`).join(" - ")})`;
    eExpr = `(d0 - ${ctrl.map((c, i) => `${d.num(gamma[i])} * d${c}`).join(" - ")})`;
  }
  return { a, k, dcol, ctrl, xExpr, eExpr, ctrlInv };
}

/** Whether the clusters sort as numbers (one numeric column), as the in-memory frame sorts its levels. */
function clusterIsNumeric(st: SqlFitState, cluster: string): boolean {
  const vars = cluster.split("^");
  const col = vars.length === 1 ? st.ctx.cols.get(vars[0]) : undefined;
  return !!col && (col.kind === "number" || col.kind === "bool");
}

/** A cluster label as a literal comparable with the key column (its own type; text for a^b keys). */
function clusterLiteral(st: SqlFitState, cluster: string): (label: string) => string {
  const d = st.ctx.b.dialect;
  const vars = cluster.split("^");
  const col = vars.length === 1 ? st.ctx.cols.get(vars[0]) : undefined;
  return (l) => (col && col.kind !== "text" ? `CAST(${d.str(l)} AS ${col.type})` : d.str(l));
}

