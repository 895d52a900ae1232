// Conjugate gradient in SQL on the FE normal equations D'W D a = D'W v, all columns at once,
// for the poorly connected FE graphs (firm + year + city with few movers, worker + firm) on
// which the alternating projections of demean.ts stall. The unknowns are the per-level
// coefficient tables; the preconditioner is Jacobi (the diagonal of D'WD: the weight of each
// level). Per FE q and iteration one table
//   S_q(f{q}, n{q}, a{q}_j, r{q}_j, p{q}_j)   (level weight, iterate, residual, direction)
// and one pass over the rows for the mat-vec: D p per row from the Q tables (nested joins),
// then GROUP BY f{q} per FE, the cost of one projection sweep; p'Ap = sum_i w_i (Dp)_i^2 comes
// from the same pass. Everything else is per-level work on the small tables.
//
// Stopping rule, per column, the in-memory one (assembly/demean.ts pcg): a column is frozen
// when its largest coefficient step meets tol (fixest's min(|d|, |d| / (0.1 + |a|))) and the
// decrease of its sum of squared residuals in that step, alpha r'z, is at most
// (ENERGY_TOL tol)^2 of what is left (or below ENERGY_NOISE of the initial sum: rounding).
// A frozen column keeps its coefficients, so a column's result does not depend on the others.
import type { DemeanCtx, DemeanResult } from "./rows.js";
import { joinedSql } from "./rows.js";

/** The energy rule's factor and rounding floor: the in-memory kernel's (assembly/demean.ts). */
const ENERGY_TOL = 1e-2;
const ENERGY_NOISE = 1e-26;

type Tab = { q: number; table: string };

export interface CgStart {
  /** the coefficient tables to start from (f{q}, a{q}_j for every q), or null: from zero */
  x0: Tab[] | null;
  tol: number;
  maxIter: number;
  /** projection sweeps run before (for the result and the progress lines) */
  sweeps: number;
}

/** fixest's step criterion of a coefficient step `st` to the new value `a`, as SQL. */
function critSql(st: string, a: string): string {
  return `CASE WHEN abs(${a}) > 0.9 THEN abs(${st}) / (0.1 + abs(${a})) ELSE abs(${st}) END`;
}

export async function cgSolve(c: DemeanCtx, start: CgStart): Promise<DemeanResult> {
  const { b } = c;
  const d = b.dialect;
  const Q = c.m.fe.length;
  const J = c.vExpr.map((_, j) => j);
  const mk = async (prefix: string, sql: string, step: string) => {
    const t = await b.tempTable(prefix, sql, step);
    c.tables.push(t);
    return t;
  };
  const drop = async (ts: string[]) => {
    for (const t of ts) {
      if (!c.tables.includes(t)) continue;
      await b.dropTable(t, "cg");
      c.tables.splice(c.tables.indexOf(t), 1);
    }
  };
  const sumOver = async (sel: (q: number) => string[], from: (q: number) => string, step: string) => {
    const out = J.map(() => 0);
    const mx = J.map(() => 0);
    for (let q = 0; q < Q; q++) {
      const [r] = await b.query(`SELECT ${sel(q).join(", ")} FROM ${from(q)}`, step);
      for (const j of J) {
        out[j] += Number(r[`s${j}`]);
        if (r[`m${j}`] !== undefined) mx[j] = Math.max(mx[j], Number(r[`m${j}`]));
      }
    }
    return { sum: out, max: mx };
  };

  // r0 = D'W (v - D x0), the level weights n, and the initial sum of squares (from FE 0's pass)
  const x0 = start.x0 ?? [];
  const e = (j: number) => (x0.length ? `(v${j} - ${x0.map((t) => `a${t.q}_${j}`).join(" - ")})` : `v${j}`);
  let S: string[] = [];
  let ssr0 = J.map(() => 0);
  for (let q = 0; q < Q; q++) {
    const sel = [`f${q}`, `${d.sum("w")} AS n${q}`, ...J.map((j) => `${d.sum(`w * ${e(j)}`)} AS r${q}_${j}`)];
    if (q === 0) sel.push(...J.map((j) => `${d.sum(`w * ${e(j)} * ${e(j)}`)} AS ee${j}`));
    const R = await mk(`cgr${q}`, `SELECT ${sel.join(", ")} FROM (${joinedSql(c, x0)}) GROUP BY f${q}`, `cg (start, ${c.m.fe[q].name})`);
    if (q === 0) {
      const [r] = await b.query(`SELECT ${J.map((j) => `${d.sum(`ee${j}`)} AS e${j}`).join(", ")} FROM ${R}`, "cg (start)");
      ssr0 = J.map((j) => Number(r[`e${j}`]));
    }
    const xq = x0.find((t) => t.q === q);
    const a = J.map((j) => (xq ? `a${q}_${j}` : `${d.num(0)} AS a${q}_${j}`));
    const from = xq ? `(SELECT * FROM ${R})${d.join("inner", `SELECT * FROM ${xq.table}`, [`f${q}`])}` : R;
    const rest = J.map((j) => `r${q}_${j}, r${q}_${j} / n${q} AS p${q}_${j}`);
    S.push(await mk(`cgs${q}`, `SELECT f${q}, n${q}, ${[...a, ...rest].join(", ")} FROM ${from}`, `cg (start, ${c.m.fe[q].name})`));
    await drop([R]);
  }
  let rz = (await sumOver((q) => J.map((j) => `${d.sum(`r${q}_${j} * r${q}_${j} / n${q}`)} AS s${j}`), (q) => S[q], "cg (start)")).sum;
  const ssr = ssr0.slice();
  const floor = ssr0.map((v) => 1e-14 * v);
  // per column: still iterating, converged (vs broken down), its final criterion
  const active = rz.map((v) => v > 0);
  const ok = active.map(() => true);
  const crit = J.map(() => 0);
  let it = 0;
  while (active.some(Boolean) && it < start.maxIter) {
    it++;
    const step = `cg (iteration ${it}`;
    // the mat-vec: Ap per FE, and p'Ap = sum w (Dp)^2 from FE 0's pass
    const tabs: Tab[] = S.map((t, q) => ({ q, table: t }));
    const dp = (j: number) => `(${S.map((_, h) => `p${h}_${j}`).join(" + ")})`;
    const AP: string[] = [];
    for (let q = 0; q < Q; q++) {
      const sel = [`f${q}`, ...J.map((j) => `${d.sum(`w * ${dp(j)}`)} AS ap${q}_${j}`)];
      if (q === 0) sel.push(...J.map((j) => `${d.sum(`w * ${dp(j)} * ${dp(j)}`)} AS pp${j}`));
      AP.push(await mk(`cgap${q}`, `SELECT ${sel.join(", ")} FROM (${joinedSql(c, tabs)}) GROUP BY f${q}`, `${step}, mat-vec ${c.m.fe[q].name})`));
    }
    const [pr] = await b.query(`SELECT ${J.map((j) => `${d.sum(`pp${j}`)} AS s${j}`).join(", ")} FROM ${AP[0]}`, `${step})`);
    const pAp = J.map((j) => Number(pr[`s${j}`]));
    const alpha = J.map((j) => (active[j] && pAp[j] > 0 ? rz[j] / pAp[j] : 0));
    J.forEach((j) => {
      if (active[j] && !(pAp[j] > 0)) (active[j] = false), (ok[j] = false), (crit[j] = Infinity); // breakdown
    });
    const joined = (q: number) => `(SELECT * FROM ${S[q]})${d.join("inner", `SELECT * FROM ${AP[q]}`, [`f${q}`])}`;
    const rNew = (q: number, j: number) => `(r${q}_${j} - ${d.num(alpha[j])} * ap${q}_${j})`;
    const aNew = (q: number, j: number) => `(a${q}_${j} + ${d.num(alpha[j])} * p${q}_${j})`;
    const nx = await sumOver(
      (q) => J.flatMap((j) => [`${d.sum(`${rNew(q, j)} * ${rNew(q, j)} / n${q}`)} AS s${j}`, `max(${critSql(`${d.num(alpha[j])} * p${q}_${j}`, aNew(q, j))}) AS m${j}`]),
      joined, `${step})`,
    );
    const beta = J.map((j) => (active[j] && rz[j] > 0 ? nx.sum[j] / rz[j] : 0));
    const next: string[] = [];
    for (let q = 0; q < Q; q++) {
      // the new a, r, p under the prefix first, renamed one level up: in ClickHouse 18.16 an
      // alias is seen by the whole SELECT, so `a + alpha p AS a, ... AS p` would read the new p
      // (and the r inside the new p the new r), which put CG's coefficients off on ClickHouse
      const u = c.s.p;
      const sel = J.map((j) => `${aNew(q, j)} AS ${u}a${q}_${j}, ${rNew(q, j)} AS ${u}r${q}_${j}, ${rNew(q, j)} / n${q} + ${d.num(beta[j])} * p${q}_${j} AS ${u}p${q}_${j}`);
      const names = J.flatMap((j) => [`a${q}_${j}`, `r${q}_${j}`, `p${q}_${j}`]);
      const inner = `SELECT f${q}, n${q}, ${sel.join(", ")} FROM ${joined(q)}`;
      next.push(await mk(`cgs${q}`, `SELECT f${q}, n${q}, ${names.map((nm) => `${u}${nm} AS ${nm}`).join(", ")} FROM (${inner})`, `${step}, update ${c.m.fe[q].name})`));
    }
    await drop([...S, ...AP]);
    S = next;
    // the stopping rule, per column (a frozen column has alpha = 0: nothing changes any more)
    for (const j of J) {
      if (!active[j]) continue;
      const dropE = alpha[j] * rz[j];
      ssr[j] -= dropE;
      crit[j] = nx.max[j];
      const energy = dropE <= ENERGY_TOL * ENERGY_TOL * start.tol * start.tol * Math.max(ssr[j], floor[j]) || dropE <= (ENERGY_NOISE / 1e-14) * floor[j];
      if ((crit[j] <= start.tol && energy) || nx.sum[j] === 0) active[j] = false;
      rz[j] = nx.sum[j];
    }
    b.progress?.(`cg: iteration ${it}${start.sweeps ? ` (after ${start.sweeps} projection sweeps)` : ""}, largest step ${Math.max(...crit.filter((_, j) => active[j]), 0).toExponential(2)}, ${active.filter(Boolean).length} of ${J.length} columns left`);
  }
  J.forEach((j) => (active[j] ? (ok[j] = false) : null));
  // the coefficient tables alone, for the joins of the fit's later passes
  const out: Tab[] = [];
  for (let q = 0; q < Q; q++) {
    out.push({ q, table: await mk(`fe${q}`, `SELECT f${q}, ${J.map((j) => `a${q}_${j}`).join(", ")} FROM ${S[q]}`, "cg (coefficients)") });
  }
  await drop(S);
  return { tables: out, method: "cg", sweeps: start.sweeps, cgIterations: it, converged: ok.every(Boolean), criterion: Math.max(...crit) };
}
