// The placebo (randomization inference) out of core: the sums that the basis method of
// inference/placebo.ts needs, computed in the engine while the fit's FE tables live, so that
// the draws run in memory on the same numbers (inference/placebo-cells.ts; composed by the CLI,
// cli/sql-tools.ts). A draw only says which unit gets which cohort: D* = sum_u B(u, c(u)),
// B(u, c) = 1{row in unit u and year >= c}. Everything the draws need is a sum over the rows
// of a unit from a year on, so it is pulled back per (unit, year) cell and summed over the
// years in memory:
//   cells (one GROUP BY unit, year): rows, sum w, sum w e_y (the outcome residualised on the
//     controls, FWL as sql/wild-sql.ts fwlSql), sum w d_c for each control, the adoption year's
//     and the strata's min and max (constant within a unit?), rows whose treatment is not
//     1{year >= adopt}: U x T x (kc + 8) numbers;
//   basis columns: each needed B(u, c) demeaned by the fit's FE in SQL, BATCH columns per FE
//     solve (sql/demean.ts derivedCtx, as the wild bootstrap's cluster columns), and of each
//     demeaned column its sum of w times it per cell: U x T numbers a column.
// Column of the source read beside the model are carried through the fit's rows
// (feols-sql.ts FeolsSqlOptions.carry) under the aliases of PLACEBO_CARRY.
import type { SqlBackend, SqlColumn } from "./backend.js";
import type { PlaceboCell } from "../base/aggregates.js";
import type { SqlFitState } from "./feols-sql.js";
import { checkColumn } from "./sample.js";
import { demean, demeanedSql, derivedCtx, dropSince, rowsSql, SMALL_FE } from "./demean.js";
import { solvePsd } from "./linalg.js";
import { fwlSql } from "./wild-sql.js";

/** Basis columns demeaned per pass of the FE solver. */
export const PLACEBO_BATCH = 128;
/** Adoption years at or above this are never treated (inference/placebo.ts NEVER). */
const NEVER = 9999;
/** An adoption year that is missing or never: sorts above every real one. */
const NEVER_SQL = 1e300;

/** The placebo's columns (the CLI's --unit, --year, --adopt, --strata, --treatment). */
export interface PlaceboSqlRoles {
  treatment: string;
  unit: string;
  year: string;
  adopt: string;
  strata?: string;
}

/** How the roles' columns are carried and read: checked before the fit runs. */
export interface PlaceboCarry {
  carry: { alias: string; expr: string }[];
  unitNumeric: boolean;
  strataNumeric: boolean;
  /** the treatment is a numeric column of the source (checked against the adoption years) */
  treatmentColumn: boolean;
}

/** Check the roles' columns (SqlEngineError naming a missing one) and the SQL that carries them through the fit's rows. */
export async function placeboCarry(b: SqlBackend, roles: PlaceboSqlRoles): Promise<PlaceboCarry> {
  const d = b.dialect;
  const cols = new Map<string, SqlColumn>((await b.columns("placebo: columns")).map((c) => [c.name, c]));
  const unit = checkColumn(b, cols, roles.unit, "unit column (--unit)", false);
  checkColumn(b, cols, roles.year, "year column (--year)", true);
  checkColumn(b, cols, roles.adopt, "adoption column (--adopt)", true);
  const strata = roles.strata ? checkColumn(b, cols, roles.strata, "strata column (--strata)", false) : null;
  const tc = cols.get(roles.treatment);
  const isNum = (c: SqlColumn | null | undefined) => !!c && (c.kind === "number" || c.kind === "bool");
  const carry = [
    { alias: "pu", expr: d.key(d.ident(roles.unit)) },
    { alias: "py", expr: d.f64(d.ident(roles.year)) },
    { alias: "pa", expr: d.f64(d.ident(roles.adopt)) },
  ];
  if (isNum(unit)) carry.push({ alias: "pv", expr: d.f64(d.ident(roles.unit)) });
  if (strata) carry.push({ alias: "ps", expr: isNum(strata) ? d.f64(d.ident(roles.strata!)) : d.key(d.ident(roles.strata!)) });
  if (isNum(tc)) carry.push({ alias: "pt", expr: d.f64(d.ident(roles.treatment)) });
  return { carry, unitNumeric: isNum(unit), strataNumeric: isNum(strata), treatmentColumn: isNum(tc) };
}

export type { PlaceboCell } from "../base/aggregates.js";

/** The cells, and the controls' cross-product inverse (kc x kc, null without controls). */
export interface PlaceboCellsSql {
  cells: PlaceboCell[];
  kc: number;
  ctrlInv: Float64Array | null;
  pulled: number;
}

/** The (unit, year) cells of the fit's sample (one GROUP BY on its demeaned rows). */
export async function placeboCellsSql(st: SqlFitState, roles: PlaceboSqlRoles, pc: PlaceboCarry, missing: string): Promise<PlaceboCellsSql> {
  const { ctx, dm } = st;
  const b = ctx.b;
  const d = b.dialect;
  const p = ctx.s.p;
  const { ctrl, eExpr, ctrlInv } = fwlSql(st, roles.treatment, missing);
  const adopt = `CASE WHEN ${d.finite("pa")} AND pa < ${d.num(NEVER)} THEN pa ELSE ${d.num(NEVER_SQL)} END`;
  const sel = [
    `${d.count()} AS ${p}n`, `${d.sum("w")} AS ${p}w`, `${d.sum(`w * ${eExpr}`)} AS ${p}ey`,
    ...ctrl.map((c, i) => `${d.sum(`w * d${c}`)} AS ${p}c${i}`),
    `min(${adopt}) AS ${p}amin`, `max(${adopt}) AS ${p}amax`,
  ];
  const has = (a: string) => pc.carry.some((c) => c.alias === a);
  if (has("pv")) sel.push(`min(pv) AS ${p}uv`);
  if (has("ps")) sel.push(`min(ps) AS ${p}smin`, `max(ps) AS ${p}smax`, `${d.sum("CASE WHEN ps IS NULL THEN 1 ELSE 0 END")} AS ${p}smiss`);
  if (has("pt")) {
    const did = `CASE WHEN ${d.finite("pa")} AND pa < ${d.num(NEVER)} AND py >= pa THEN 1 ELSE 0 END`;
    sel.push(`${d.sum(`CASE WHEN pt = ${did} THEN 0 ELSE 1 END`)} AS ${p}mis`);
  }
  const yearKey = `CASE WHEN ${d.finite("py")} THEN py ELSE NULL END`;
  const rows = await b.query(
    `SELECT pu AS ${p}u, ${yearKey} AS ${p}y, ${sel.join(", ")} FROM (${demeanedSql(ctx, dm)}) GROUP BY pu, ${yearKey}`, "placebo: unit x year cells",
  );
  const num = (v: unknown) => (v === null || v === undefined ? NaN : Number(v));
  const cells = rows.map((r): PlaceboCell => {
    const y = num(r[`${p}y`]);
    const amin = num(r[`${p}amin`]), amax = num(r[`${p}amax`]);
    const sv = (v: unknown) => (v === null || v === undefined ? null : pc.strataNumeric ? Number(v) : String(v));
    return {
      unit: r[`${p}u`] === null ? null : String(r[`${p}u`]),
      unitValue: has("pv") ? num(r[`${p}uv`]) : null,
      year: Number.isFinite(y) ? y : null,
      n: Number(r[`${p}n`]),
      w: Number(r[`${p}w`]),
      ey: Number(r[`${p}ey`]),
      ctrl: Float64Array.from(ctrl, (_, i) => Number(r[`${p}c${i}`])),
      adoptMin: amin >= NEVER_SQL ? Infinity : amin,
      adoptMax: amax >= NEVER_SQL ? Infinity : amax,
      strataMin: has("ps") ? sv(r[`${p}smin`]) : null,
      strataMax: has("ps") ? sv(r[`${p}smax`]) : null,
      strataMissing: has("ps") ? Number(r[`${p}smiss`]) : 0,
      mismatch: has("pt") ? Number(r[`${p}mis`]) : 0,
    };
  });
  b.progress?.(`placebo: ${cells.length.toLocaleString("en-US")} unit x year cells`);
  return { cells, kc: ctrl.length, ctrlInv, pulled: cells.length * (ctrl.length + 10) };
}

/** A basis column B(u, c): the unit's text key and the first year of its cohort. */
export interface BasisSpec {
  unit: string;
  year: number;
}

/** How the FE solves of the basis columns went. */
export interface BasisSqlResult {
  /** nCells sums per column, in the order of the specs */
  sums: Float64Array;
  batches: number;
  failed: number;
  criterion: number;
  pulled: number;
}

/**
 * Each basis column demeaned by the fit's FE in the engine (PLACEBO_BATCH per solve), and per
 * demeaned column its sum of w times it over each (unit, year) cell; `cell` gives a cell's
 * index (0..nCells-1) from its unit key and year (-1: not a cell of the plan).
 */
export async function basisColumnsSql(
  st: SqlFitState, specs: BasisSpec[], nCells: number, cell: (unit: string, year: number) => number,
): Promise<BasisSqlResult> {
  const { ctx, dm } = st;
  const b = ctx.b;
  const d = b.dialect;
  const p = ctx.s.p;
  const nc = specs.length;
  const sums = new Float64Array(nCells * nc);
  let failed = 0, criterion = 0, pulled = 0, batches = 0;
  for (let x0 = 0; x0 < nc; x0 += PLACEBO_BATCH) {
    const m = Math.min(PLACEBO_BATCH, nc - x0);
    const exprs = specs.slice(x0, x0 + m).map((s) => `CASE WHEN pu = ${d.str(s.unit)} AND py >= ${d.num(s.year)} THEN ${d.num(1)} ELSE ${d.num(0)} END`);
    const before = ctx.tables.length;
    const c2 = derivedCtx(ctx, dm, exprs, []);
    const dm2 = await demean(c2, st.demeanOpts);
    batches++;
    if (!dm2.converged) (failed++, (criterion = Math.max(criterion, dm2.criterion)));
    const sel = Array.from({ length: m }, (_, h) => `${d.sum(`w * d${h}`)} AS ${p}s${h}`);
    const rows = await b.query(
      `SELECT pu AS ${p}u, py AS ${p}y, ${sel.join(", ")} FROM (${demeanedSql(c2, dm2)}) GROUP BY pu, py`,
      `placebo: basis columns ${x0 + 1}-${x0 + m} of ${nc}`,
    );
    await dropSince(ctx, before, "placebo: clean-up");
    pulled += rows.length * m;
    for (const r of rows) {
      const i = cell(String(r[`${p}u`]), Number(r[`${p}y`]));
      if (i < 0) continue;
      for (let h = 0; h < m; h++) sums[(x0 + h) * nCells + i] = Number(r[`${p}s${h}`]);
    }
    b.progress?.(`placebo: basis columns ${x0 + m} of ${nc} demeaned (${dm2.method}${dm2.sweeps > 1 ? `, ${dm2.sweeps} sweeps` : ""})`);
  }
  return { sums, batches, failed, criterion, pulled };
}

/**
 * B'P_F B without demeaning any column, where the FE allow it (none; one; two with one of at
 * most SMALL_FE levels, sql/demean.ts's exact case): with f the large FE (D_f its weights), k
 * the small one's levels, R[f, u, c] = sum of w over firm f's rows in unit u from cohort c's
 * first year on, N[f, k] the firm x level weights and C = diag(n_k) - N'D^-1 N,
 *   B_a'P_F B_b = sum_f R[f, a] R[f, b] / D_f + s_a' C^- s_b,  s_a[k] = rs_a[k] - sum_f N[f, k] R[f, a] / D_f,
 * (inference/placebo.ts directBasis, the in-memory direct solver) from GROUP BYs over the
 * sample's rows and joins on the large FE: firm x unit x C, firm x level, unit x level x C and
 * unit pair x C^2 numbers. Returns nc x nc (specs order), or null when the FE are of another kind
 * (the columns are then demeaned, basisColumnsSql).
 */
export async function directProjectionSql(
  st: SqlFitState, specs: { unit: string; cohort: number }[], cohortYears: number[],
): Promise<{ pf: Float64Array; pulled: number } | null> {
  const { ctx } = st;
  const b = ctx.b;
  const d = b.dialect;
  const p = ctx.s.p;
  const Q = ctx.m.fe.length;
  const levels = st.demeanOpts.levels;
  const nc = specs.length, C = cohortYears.length;
  const pf = new Float64Array(nc * nc);
  if (Q === 0) return { pf, pulled: 0 };
  let big = 0, sm = -1;
  if (Q === 2) {
    sm = levels[1] <= SMALL_FE ? 1 : levels[0] <= SMALL_FE ? 0 : -1;
    if (sm < 0) return null;
    big = 1 - sm;
  } else if (Q > 2) return null;
  const rows = rowsSql(ctx);
  const before = ctx.tables.length;
  const from = (yc: number) => `CASE WHEN py >= ${d.num(yc)} THEN w ELSE ${d.num(0)} END`;
  const rc = cohortYears.map((y, c) => `${d.sum(from(y))} AS ${p}r${c}`);
  const tfu = await b.tempTable("pl_fu", `SELECT f${big} AS ${p}f, pu AS ${p}u, ${rc.join(", ")} FROM (${rows}) GROUP BY f${big}, pu`, "placebo: firm x unit sums");
  ctx.tables.push(tfu);
  const tf = await b.tempTable("pl_f", `SELECT f${big} AS ${p}f, ${d.sum("w")} AS ${p}D FROM (${rows}) GROUP BY f${big}`, "placebo: firm weights");
  ctx.tables.push(tf);
  const side = (s: string) => `SELECT ${p}f, ${p}u AS ${p}u${s}, ${cohortYears.map((_, c) => `${p}r${c} AS ${p}${s}${c}`).join(", ")} FROM ${tfu}`;
  const withD = (sql: string) => `SELECT * FROM (${sql})${d.join("inner", `SELECT ${p}f, ${p}D FROM ${tf}`, [`${p}f`])}`;
  const pairs = `SELECT * FROM (${side("a")})${d.join("inner", side("b"), [`${p}f`])}`;
  const m2: string[] = [];
  for (let c = 0; c < C; c++) for (let e = 0; e < C; e++) m2.push(`${d.sum(`${p}a${c} * ${p}b${e} / ${p}D`)} AS ${p}m${c}_${e}`);
  const rr = await b.query(`SELECT ${p}ua AS ${p}xa, ${p}ub AS ${p}xb, ${m2.join(", ")} FROM (${withD(pairs)}) GROUP BY ${p}ua, ${p}ub`, "placebo: firm projection of the basis pairs");
  let pulled = rr.length * C * C;
  b.progress?.(`placebo: the basis pairs projected off ${ctx.m.fe[big].name} (${rr.length.toLocaleString("en-US")} unit pairs sharing a level)`);
  // the columns of each unit, by cohort
  const colsOf = new Map<string, number[]>();
  specs.forEach((s, x) => (colsOf.get(s.unit) ?? colsOf.set(s.unit, []).get(s.unit)!).push(x));
  for (const r of rr) {
    const xa = colsOf.get(String(r[`${p}xa`])), xb = colsOf.get(String(r[`${p}xb`]));
    if (!xa || !xb) continue;
    for (const x of xa) for (const y of xb) pf[x * nc + y] += Number(r[`${p}m${specs[x].cohort}_${specs[y].cohort}`]);
  }
  if (sm >= 0) pulled += await smallFeTerm(st, { big, sm, tfu, tf, rows, specs, cohortYears, colsOf, pf });
  await dropSince(ctx, before, "placebo: clean-up");
  return { pf, pulled };
}

/** pf += s_a' C^- s_b, the small FE's part of the two-FE projection (directProjectionSql); returns the numbers pulled. */
async function smallFeTerm(
  st: SqlFitState,
  x: { big: number; sm: number; tfu: string; tf: string; rows: string; specs: { unit: string; cohort: number }[]; cohortYears: number[]; colsOf: Map<string, number[]>; pf: Float64Array },
): Promise<number> {
  const { ctx } = st;
  const b = ctx.b;
  const d = b.dialect;
  const p = ctx.s.p;
  const { big, sm, tfu, tf, rows, specs, cohortYears, colsOf, pf } = x;
  const C = cohortYears.length, nc = specs.length;
  const tfk = await b.tempTable("pl_fk", `SELECT f${big} AS ${p}f, f${sm} AS ${p}k, ${d.sum("w")} AS ${p}N FROM (${rows}) GROUP BY f${big}, f${sm}`, "placebo: firm x small FE weights");
  ctx.tables.push(tfk);
  const lev = await b.query(`SELECT ${d.key(`f${sm}`)} AS ${p}kk, ${d.sum("w")} AS ${p}n FROM (${rows}) GROUP BY f${sm}`, "placebo: small FE weights");
  const m = lev.length;
  const kIdx = new Map(lev.map((r, i) => [String(r[`${p}kk`]), i]));
  // C = diag(n_k) - N'D^-1 N
  const Cm = new Float64Array(m * m);
  lev.forEach((r, i) => (Cm[i + i * m] = Number(r[`${p}n`])));
  const kside = (s: string) => `SELECT ${p}f, ${p}k AS ${p}k${s}, ${p}N AS ${p}N${s} FROM ${tfk}`;
  const withD = (sql: string) => `SELECT * FROM (${sql})${d.join("inner", `SELECT ${p}f, ${p}D FROM ${tf}`, [`${p}f`])}`;
  const kk = `SELECT * FROM (${kside("a")})${d.join("inner", kside("b"), [`${p}f`])}`;
  const cr = await b.query(`SELECT ${d.key(`${p}ka`)} AS ${p}xa, ${d.key(`${p}kb`)} AS ${p}xb, ${d.sum(`${p}Na * ${p}Nb / ${p}D`)} AS ${p}s FROM (${withD(kk)}) GROUP BY ${p}ka, ${p}kb`, "placebo: small FE system");
  for (const r of cr) Cm[kIdx.get(String(r[`${p}xa`]))! + kIdx.get(String(r[`${p}xb`]))! * m] -= Number(r[`${p}s`]);
  // s[u, k, c] = rs - sum_f N[f, k] R[f, u, c] / D_f
  const from = (yc: number) => `CASE WHEN py >= ${d.num(yc)} THEN w ELSE ${d.num(0)} END`;
  const rs = await b.query(
    `SELECT pu AS ${p}xu, ${d.key(`f${sm}`)} AS ${p}xk, ${cohortYears.map((y, c) => `${d.sum(from(y))} AS ${p}r${c}`).join(", ")} FROM (${rows}) GROUP BY pu, f${sm}`,
    "placebo: unit x small FE sums",
  );
  const fuk = `SELECT * FROM (SELECT ${p}f, ${p}u, ${cohortYears.map((_, c) => `${p}r${c}`).join(", ")} FROM ${tfu})${d.join("inner", `SELECT ${p}f, ${p}k, ${p}N FROM ${tfk}`, [`${p}f`])}`;
  const nd = await b.query(
    `SELECT ${p}u AS ${p}xu, ${d.key(`${p}k`)} AS ${p}xk, ${cohortYears.map((_, c) => `${d.sum(`${p}N * ${p}r${c} / ${p}D`)} AS ${p}q${c}`).join(", ")} FROM (${withD(fuk)}) GROUP BY ${p}u, ${p}k`,
    "placebo: firm projection of the small FE",
  );
  const S = new Float64Array(m * nc);
  const add = (rowsIn: typeof rs, col: string, sign: number) => {
    for (const r of rowsIn) {
      const xs = colsOf.get(String(r[`${p}xu`]));
      const k = kIdx.get(String(r[`${p}xk`]));
      if (!xs || k === undefined) continue;
      for (const xx of xs) S[k + xx * m] += sign * Number(r[`${p}${col}${specs[xx].cohort}`]);
    }
  };
  add(rs, "r", 1);
  add(nd, "q", -1);
  b.progress?.(`placebo: the ${m} levels of ${ctx.m.fe[sm].name} eliminated (Schur complement)`);
  const L = solvePsd(Cm, m, S, nc);
  for (let a = 0; a < nc; a++) {
    for (let c = 0; c < nc; c++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += S[k + a * m] * L[k + c * m];
      pf[a * nc + c] += s;
    }
  }
  return m * m + rs.length * C + nd.length * C;
}
