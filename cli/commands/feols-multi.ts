// hdfe feols, the multiple-estimation and table parts: a formula with c() outcomes or a
// stepwise function, or --split / --fsplit, runs every model on one shared demeaning
// (feolsMulti); --json prints a JSON array of per-model objects (fixest's labels id, lhs, rhs,
// fixef, sample_var, sample, then the fit), text prints each model under its label, and
// --etable md|tex|html|csv prints one regression table (etable) of the models.
import type { Frame } from "../../bindings/core/frame.js";
import type { Engine } from "../../bindings/engine/wasm.js";
import type { Fit, FeolsOptions } from "../../bindings/estimators/feols.js";
import { estimateMulti, feolsMulti, modelLabel, type MultiResult, type MultiModel } from "../../bindings/estimators/multi.js";
import { feolsCompressed } from "../../bindings/estimators/compress.js";
import { expandFormula } from "../../bindings/core/multi.js";
import { parseFormula, formulaColumns } from "../../bindings/core/formula.js";
import { fitToJson, summary } from "../../bindings/report/summary.js";
import { etable } from "../../bindings/report/etable.js";
import { OptionError } from "../../bindings/base/errors.js";

export const TABLE_CHOICES = ["md", "tex", "html", "csv", "text"] as const;
export type TableChoice = (typeof TABLE_CHOICES)[number];

/** Whether the call makes several models (or asks for a split), so the multiple path runs. */
export function isMultiCall(formula: string, flags: { split?: string; fsplit?: string }): boolean {
  if (flags.split || flags.fsplit) return true;
  const e = expandFormula(formula);
  return e.multiLhs || e.multiRhs || e.multiFixef;
}

/** Every column the models of a multiple formula use (for the reader), plus the split column. */
export function multiColumns(formula: string, flags: { split?: string; fsplit?: string }, columns: (formula: string) => string[] = (m) => formulaColumns(parseFormula(m))): string[] {
  const cols = expandFormula(formula).models.flatMap((m) => columns(m.formula));
  for (const s of [flags.split, flags.fsplit]) if (s) cols.push(s);
  return [...new Set(cols)];
}

export function runMulti(eng: Engine, frame: Frame, formula: string, opts: FeolsOptions, flags: { split?: string; fsplit?: string; compress?: boolean }): MultiResult<Fit> {
  const split = { split: flags.split, fsplit: flags.fsplit };
  if (flags.compress) return estimateMulti((d, f, o) => feolsCompressed(eng, d, f, { ...o, demeanCache: undefined }), frame, formula, { ...opts, ...split });
  return feolsMulti(eng, frame, formula, { ...opts, ...split });
}

/** One member as JSON: fixest's labels first, then the fit's record (`json`: feols' by default). */
export function memberJson<F>(m: MultiModel<F>, json: (fit: F) => Record<string, unknown> = fitToJson as never): Record<string, unknown> {
  return { id: m.id, lhs: m.lhs, rhs: m.rhs, fixef: m.fixef, sample_var: m.sampleVar, sample: m.sample, ...json(m.fit) };
}

/**
 * What hdfe feols prints for a multiple estimation (or any set of fits with --etable); `show`:
 * a member's JSON record and printed summary (feols' by default; the IV path passes its own).
 */
export function printMulti<F = Fit>(
  r: MultiResult<F>, flags: { json?: boolean; etable?: string },
  show: { json: (fit: F) => Record<string, unknown>; text: (fit: F) => string } = { json: fitToJson as never, text: summary as never },
): string {
  if (flags.etable) return etable(r as never, { format: tableFormat(flags.etable) });
  if (flags.json) return JSON.stringify(r.models.map((m) => memberJson(m, show.json))) + "\n";
  const out = r.models.map((m) => `${modelLabel(m)}\n${show.text(m.fit)}\n`);
  if (r.splitMissing) out.push(`note: ${r.splitMissing} rows with a missing split value are in no split sample\n`);
  return out.join("\n");
}

export function tableFormat(s: string): "md" | "tex" | "html" | "csv" | "text" {
  if (!(TABLE_CHOICES as readonly string[]).includes(s)) throw new OptionError(`the table format must be one of ${TABLE_CHOICES.join(", ")}, got ${JSON.stringify(s)}`);
  return s as TableChoice;
}
