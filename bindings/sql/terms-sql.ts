// The regressor columns of an out-of-core fit as SQL over the source: a numeric column as
// itself, an i() term as one dummy column per level (CASE WHEN), with the names and the
// reference rule of the in-memory i() (core/design.ts): the levels of the factor over every
// row where it is present (numbers sorted by value, text by code units, as R sorts factor
// levels), the references left out, keep= kept, `f::level` or `f::level:by` named; a
// reference that is no level of the factor is the same ColumnError. One small query per i()
// term reads its levels; the dummies are then plain regressors of the algebra.
import { OptionError } from "../base/errors.js";
import { checkIRef } from "../core/design.js";
import { fmtLevel } from "../core/frame.js";
import type { SqlBackend, SqlColumn } from "./backend.js";
import type { SqlModel } from "./sample.js";

/** At most this many dummy columns per i() term: the cross-products grow with their square. */
export const MAX_I_LEVELS = 400;

/** Fill m.x (names) and m.xSql (float64 SQL) from m.terms; p is the fit's alias prefix. */
export async function expandTerms(b: SqlBackend, m: SqlModel, cols: Map<string, SqlColumn>, p: string): Promise<void> {
  const d = b.dialect;
  m.x = [];
  m.xSql = [];
  for (const t of m.terms) {
    if (t.kind === "var") {
      m.x.push(t.name);
      m.xSql.push(d.f64(d.ident(t.name)));
      continue;
    }
    const numeric = cols.get(t.factor)!.kind !== "text";
    const fac = d.ident(t.factor);
    const lv = numeric ? d.f64(fac) : fac;
    const present = numeric ? d.finite(fac) : `(${fac} IS NOT NULL)`;
    const rows = await b.query(`SELECT ${lv} AS ${p}lv FROM ${b.source} WHERE ${present} GROUP BY ${lv}`, `levels of i(${t.factor})`);
    const values = rows.map((r) => r[`${p}lv`]);
    const levels = numeric
      ? (values.map(Number).sort((a, c) => a - c))
      : values.map(String).sort((a, c) => (a < c ? -1 : a > c ? 1 : 0));
    const labels = levels.map((v) => (typeof v === "number" ? fmtLevel(v) : v));
    checkIRef(t.factor, t.ref, labels);
    const then = t.by ? d.f64(d.ident(t.by)) : d.num(1);
    let made = 0;
    levels.forEach((v, l) => {
      const lab = labels[l];
      if (t.ref.has(lab) || (t.keep && !t.keep.has(lab))) return;
      const test = typeof v === "number" ? `${lv} = ${d.num(v)}` : `${fac} = ${d.str(v)}`;
      m.x.push(t.by ? `${t.factor}::${lab}:${t.by}` : `${t.factor}::${lab}`);
      m.xSql.push(d.f64(`CASE WHEN ${test} THEN ${then} ELSE ${d.num(0)} END`));
      made++;
    });
    if (made > MAX_I_LEVELS) {
      throw new OptionError(
        `i(${t.factor}) makes ${made} columns: the out-of-core engines fit at most ${MAX_I_LEVELS} per i() term`,
        { column: t.factor, columns: made },
        `put ${t.factor} after "|" as a fixed effect, keep fewer levels (keep = ...), or fit in memory`,
      );
    }
  }
  const dup = m.x.find((nm, i) => m.x.indexOf(nm) !== i);
  if (dup) throw new OptionError(`regressor "${dup}" appears twice in the formula`);
}
