// The fixed-effect part of an out-of-core fit, as coefficient tables: for each FE q a table
// A_q(f_q, a{q}_0 .. a{q}_k) such that the demeaned column c of a row is
//   d_c = v_c - sum_q A_q[f_q].a{q}_c
// (v_c the centred outcome and regressors). The tables stay in the engine; they are joined
// back to the rows (one join per FE, nested: ClickHouse 18.16 joins once per SELECT).
//   - one FE: the weighted level means (one GROUP BY);
//   - two FE, one with at most SMALL_FE levels (years): the large FE eliminated in closed form,
//     the T x T Schur system solved here (../shared/docs/scale.md): two GROUP BY passes;
//   - otherwise alternating projections as SQL, one GROUP BY per FE per sweep, stopping when
//     the largest coefficient change of a sweep is at most tol; when they have not converged
//     after SWITCH_AFTER accelerated steps (auto), conjugate gradient (cg.ts) from their state.
import { rowsSql, joinedSql, type DemeanCtx, type DemeanResult } from "./rows.js";
import { solvePsd } from "./linalg.js";
import { cgSolve } from "./cg.js";

export { rowsSql, joinedSql, type DemeanCtx, type DemeanResult } from "./rows.js";

/** The FE solver of more than one FE (the in-memory --fixef-algo): projections switching to CG when they stall, or one of them. */
export type SqlFixefAlgo = "auto" | "map" | "cg";
/** The algorithms an option may name (the in-memory ones: lsmr is refused out of core by feolsSql). */
export type FixefAlgoOption = SqlFixefAlgo | "lsmr";
/** auto: accelerated projection steps (two sweeps each) before CG takes over, as in memory (kernels.ts switchAfter). */
export const SWITCH_AFTER = 20;

/** A small FE (Schur elimination of the other) has at most this many levels. */
export const SMALL_FE = 100;

/** v_c minus the coefficients of the tables given. */
function minusA(c: DemeanCtx, j: number, tabs: { q: number }[]): string {
  return tabs.length ? `(v${j} - ${tabs.map((t) => `a${t.q}_${j}`).join(" - ")})` : `v${j}`;
}

/** Rows with the keys, w, v0..vk and the demeaned d0..dk. */
export function demeanedSql(c: DemeanCtx, r: DemeanResult): string {
  const keys = [...c.s.feKeys.map((_, q) => `f${q}`), ...c.carry.map((k) => k.alias)];
  const sel = [...keys, "w", ...c.vExpr.map((_, j) => `v${j}`), ...c.vExpr.map((_, j) => `${minusA(c, j, r.tables)} AS d${j}`)];
  return `SELECT ${sel.join(", ")} FROM (${joinedSql(c, r.tables)})`;
}

/** One sweep's table for FE q: weighted means of v minus the other FE's coefficients. */
async function levelMeans(c: DemeanCtx, q: number, others: { q: number; table: string }[], step: string): Promise<string> {
  const d = c.b.dialect;
  const sel = c.vExpr.map((_, j) => `${d.sum(`w * ${minusA(c, j, others)}`)} / ${d.sum("w")} AS a${q}_${j}`);
  const t = await c.b.tempTable(`fe${q}`, `SELECT f${q}, ${sel.join(", ")} FROM (${joinedSql(c, others)}) GROUP BY f${q}`, step);
  c.tables.push(t);
  return t;
}

export interface DemeanOpts {
  tol: number;
  maxIter: number;
  levels: number[];
  /** default "auto" */
  algo?: SqlFixefAlgo;
}

export async function demean(c: DemeanCtx, opts: DemeanOpts): Promise<DemeanResult> {
  const Q = c.m.fe.length;
  if (Q === 0) return { tables: [], method: "none", sweeps: 0, cgIterations: 0, converged: true, criterion: 0 };
  if (Q === 1) {
    const t = await levelMeans(c, 0, [], `FE means (${c.m.fe[0].name})`);
    return { tables: [{ q: 0, table: t }], method: "one-fe", sweeps: 1, cgIterations: 0, converged: true, criterion: 0 };
  }
  if (Q === 2) {
    const small = opts.levels[1] <= SMALL_FE ? 1 : opts.levels[0] <= SMALL_FE ? 0 : -1;
    if (small >= 0) return schur(c, 1 - small, small);
  }
  const algo = opts.algo ?? "auto";
  if (algo === "cg") return cgSolve(c, { x0: null, tol: opts.tol, maxIter: opts.maxIter, sweeps: 0 });
  return projections(c, opts.tol, opts.maxIter, algo === "auto" ? SWITCH_AFTER : Infinity);
}

/**
 * Two FE, `sm` small: per level t of the small FE its weight n_t and sums s_t(v); per level g
 * of the large FE its weight n_g, sums s_g(v) and cell weights p_gt; then
 *   (D2'M1D2)[t,u] = n_t [t = u] - sum_g p_gt p_gu / n_g,  (D2'M1 v)[t] = s_t(v) - sum_g p_gt s_g(v) / n_g
 * solved here for the small FE's coefficients a_t, and the large FE's follow per level:
 *   a_g = (s_g(v) - sum_t p_gt a_t) / n_g.
 */
async function schur(c: DemeanCtx, big: number, sm: number): Promise<DemeanResult> {
  const { b } = c;
  const d = b.dialect;
  const nv = c.vExpr.length;
  const rows = rowsSql(c);
  const sums = c.vExpr.map((_, j) => `${d.sum(`w * v${j}`)} AS s${j}`);
  const ts = await b.tempTable(`small`, `SELECT f${sm}, ${d.sum("w")} AS n, ${sums.join(", ")} FROM (${rows}) GROUP BY f${sm}`, `small FE sums (${c.m.fe[sm].name})`);
  c.tables.push(ts);
  const levels = await b.query(`SELECT ${d.key(`f${sm}`)} AS kt, n, ${c.vExpr.map((_, j) => `s${j}`).join(", ")} FROM ${ts}`, `small FE sums (${c.m.fe[sm].name})`);
  const T = levels.length;
  const feVars = c.m.fe[sm].vars;
  const col = feVars.length === 1 ? c.cols.get(feVars[0])! : null;
  // a level of the small FE as a literal of the key's own type
  const lit = (kt: string) => (col && col.kind !== "text" ? `CAST(${d.str(kt)} AS ${col.type})` : d.str(kt));
  const lits = levels.map((r) => lit(String(r.kt)));
  const pivot = lits.map((l, t) => `${d.sum(`CASE WHEN f${sm} = ${l} THEN w ELSE 0 END`)} AS p${t}`);
  const fw = await b.tempTable(`large`, `SELECT f${big}, ${d.sum("w")} AS n, ${sums.join(", ")}, ${pivot.join(", ")} FROM (${rows}) GROUP BY f${big}`, `large FE sums (${c.m.fe[big].name})`);
  c.tables.push(fw);
  const agg: string[] = [];
  for (let t = 0; t < T; t++) for (let u = t; u < T; u++) agg.push(`${d.sum(`p${t} * p${u} / n`)} AS m${t}_${u}`);
  for (let t = 0; t < T; t++) for (let j = 0; j < nv; j++) agg.push(`${d.sum(`p${t} * s${j} / n`)} AS b${t}_${j}`);
  const [r] = await b.query(`SELECT ${agg.join(", ")} FROM ${fw}`, `small FE system (${c.m.fe[sm].name})`);
  const A = new Float64Array(T * T);
  const B = new Float64Array(T * nv);
  for (let t = 0; t < T; t++) {
    for (let u = t; u < T; u++) {
      const v = -Number(r[`m${t}_${u}`]) + (t === u ? Number(levels[t].n) : 0);
      A[t + u * T] = v;
      A[u + t * T] = v;
    }
    for (let j = 0; j < nv; j++) B[t + j * T] = Number(levels[t][`s${j}`]) - Number(r[`b${t}_${j}`]);
  }
  const X = solvePsd(A, T, B, nv);
  const caseOf = (j: number) => `CASE ${lits.map((l, t) => `WHEN f${sm} = ${l} THEN ${d.num(X[t + j * T])}`).join(" ")} ELSE ${d.num(0)} END`;
  const as = await b.tempTable(`fe${sm}`, `SELECT f${sm}, ${c.vExpr.map((_, j) => `${caseOf(j)} AS a${sm}_${j}`).join(", ")} FROM ${ts}`, `small FE coefficients`);
  c.tables.push(as);
  const ag = c.vExpr.map((_, j) => `(s${j} - (${lits.map((_, t) => `p${t} * ${d.num(X[t + j * T])}`).join(" + ")})) / n AS a${big}_${j}`);
  const abig = await b.tempTable(`fe${big}`, `SELECT f${big}, ${ag.join(", ")} FROM ${fw}`, `large FE coefficients`);
  c.tables.push(abig);
  return { tables: [{ q: big, table: abig }, { q: sm, table: as }], method: "schur", sweeps: 1, cgIterations: 0, converged: true, criterion: 0 };
}

/**
 * Alternating projections (Gauss-Seidel over the FE), one GROUP BY per FE per sweep, with
 * Irons-Tuck acceleration on the coefficients of FE 2..Q (as fixest: the first FE's follow
 * from the others): from X, GX = F(X) and GGX = F(GX), per column
 *   X' = GGX - c (GGX - GX),  c = <GGX - GX, GGX - 2 GX + X> / |GGX - 2 GX + X|^2,
 * the inner products summed over the level tables in the engine. Stops when the largest
 * coefficient change of a sweep is at most tol; after `switchAfter` accelerated steps without
 * converging, hands its last state to CG (cg.ts) for the iterations left.
 */
async function projections(c: DemeanCtx, tol: number, maxIter: number, switchAfter: number): Promise<DemeanResult> {
  const { b } = c;
  const d = b.dialect;
  const Q = c.m.fe.length;
  const nv = c.vExpr.length;
  const drop = async (ts: (string | null)[]) => {
    for (const t of ts) {
      if (!t || !c.tables.includes(t)) continue;
      await b.dropTable(t, "projections");
      c.tables.splice(c.tables.indexOf(t), 1);
    }
  };
  let sweeps = 0;
  // one Gauss-Seidel sweep from the state (tables of FE 1..Q-1; null = zero): all Q tables
  const F = async (state: (string | null)[]): Promise<string[]> => {
    sweeps++;
    const out: string[] = [];
    for (let q = 0; q < Q; q++) {
      const others: { q: number; table: string }[] = [];
      for (let h = 0; h < Q; h++) {
        if (h === q) continue;
        const t = h < q ? out[h] : state[h];
        if (t) others.push({ q: h, table: t });
      }
      out.push(await levelMeans(c, q, others, `projections (sweep ${sweeps}, ${c.m.fe[q].name})`));
    }
    return out;
  };
  // the columns of the FE q tables named p<i>_<j>, joined on the level
  const zip = (q: number, ts: string[]) => {
    let sql = `SELECT f${q}, ${c.vExpr.map((_, j) => `a${q}_${j} AS p0_${j}`).join(", ")} FROM ${ts[0]}`;
    for (let i = 1; i < ts.length; i++) {
      sql = `SELECT * FROM (${sql})${d.join("inner", `SELECT f${q}, ${c.vExpr.map((_, j) => `a${q}_${j} AS p${i}_${j}`).join(", ")} FROM ${ts[i]}`, [`f${q}`])}`;
    }
    return sql;
  };
  let X: (string | null)[] = await F(new Array(Q).fill(null));
  let last: string[] = X as string[];
  let crit = Infinity;
  let steps = 0;
  while (sweeps < maxIter) {
    const GX = await F(X);
    const GGX = await F(GX);
    // largest change of the last sweep, and the Irons-Tuck inner products over FE 2..Q
    crit = 0;
    const num = new Float64Array(nv);
    const den = new Float64Array(nv);
    for (let q = 0; q < Q; q++) {
      const sel = c.vExpr.map((_, j) => `max(abs(p2_${j} - p1_${j})) AS m${j}`);
      if (q > 0) {
        for (let j = 0; j < nv; j++) {
          sel.push(`${d.sum(`(p2_${j} - p1_${j}) * (p2_${j} - 2 * p1_${j} + p0_${j})`)} AS n${j}`);
          sel.push(`${d.sum(`(p2_${j} - 2 * p1_${j} + p0_${j}) * (p2_${j} - 2 * p1_${j} + p0_${j})`)} AS d${j}`);
        }
      }
      const [r] = await b.query(`SELECT ${sel.join(", ")} FROM (${zip(q, [X[q] ?? GX[q], GX[q], GGX[q]])})`, `projections (sweep ${sweeps}, acceleration)`);
      for (let j = 0; j < nv; j++) {
        crit = Math.max(crit, Number(r[`m${j}`]));
        if (q > 0) {
          num[j] += Number(r[`n${j}`]);
          den[j] += Number(r[`d${j}`]);
        }
      }
    }
    b.progress?.(`projections: sweep ${sweeps}, largest coefficient change ${crit.toExponential(2)}`);
    last = GGX;
    if (crit <= tol || sweeps >= maxIter) {
      await drop([...X, ...GX]);
      break;
    }
    if (++steps >= switchAfter) {
      // stalled: CG from the last sweep's tables (every FE)
      await drop([...X, ...GX]);
      b.progress?.(`projections: not converged after ${steps} accelerated steps (${sweeps} sweeps, largest change ${crit.toExponential(2)}): conjugate gradient`);
      return cgSolve(c, { x0: GGX.map((t, q) => ({ q, table: t })), tol, maxIter: Math.max(1, maxIter - sweeps), sweeps });
    }
    // the extrapolated state (FE 2..Q); the first FE's table is recomputed by the next sweep
    const next: (string | null)[] = [null];
    for (let q = 1; q < Q; q++) {
      const cj = Array.from(den, (dv, j) => (dv > 0 ? num[j] / dv : 0));
      const sel = c.vExpr.map((_, j) => `p1_${j} - ${d.num(cj[j])} * (p1_${j} - p0_${j}) AS a${q}_${j}`);
      const t = await b.tempTable(`fe${q}`, `SELECT f${q}, ${sel.join(", ")} FROM (${zip(q, [GX[q], GGX[q]])})`, `projections (sweep ${sweeps}, extrapolation)`);
      c.tables.push(t);
      next.push(t);
    }
    await drop([...X, ...GX, ...GGX]);
    X = next;
  }
  const converged = crit <= tol;
  return { tables: last.map((t, q) => ({ q, table: t })), method: "projections", sweeps, cgIterations: 0, converged, criterion: crit };
}

/**
 * A demeaning of new columns over a fit's demeaned rows (the out-of-core tools: a batch of
 * bootstrap cluster columns, of placebo treatments): v_j = exprs[j], SQL over the fit's keys,
 * w, v_c and d_c, demeaned by the same FE with demean(); `pass` names further values of the
 * fit's rows (SQL over them) carried through the joins under their alias, for the
 * cross-products. Aliases renamed one level up (no alias equals a column of its FROM).
 */
export function derivedCtx(c: DemeanCtx, r: DemeanResult, exprs: string[], pass: { alias: string; expr: string }[]): DemeanCtx {
  const p = c.s.p;
  const carry = [...c.carry.map((k) => ({ alias: k.alias, expr: k.alias })), ...pass];
  const sel = [...c.s.feKeys.map((_, q) => [`f${q}`, `f${q}`]), ...carry.map((k) => [k.expr, k.alias]), ["w", "w"], ...exprs.map((e, j) => [e, `v${j}`])];
  const inner = `SELECT ${sel.map(([e, a]) => `${e} AS ${p}${a}`).join(", ")} FROM (${demeanedSql(c, r)})`;
  const rows = `SELECT ${sel.map(([, a]) => `${p}${a} AS ${a}`).join(", ")} FROM (${inner})`;
  return { ...c, vExpr: exprs, carry, rows };
}

/** Drop the temp tables a derived demeaning added to the fit's list after `from` (one batch's). */
export async function dropSince(c: DemeanCtx, from: number, step: string): Promise<void> {
  const made = c.tables.splice(from);
  for (const t of made.reverse()) await c.b.dropTable(t, step);
}
