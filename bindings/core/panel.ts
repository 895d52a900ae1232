// Panel checks shared by the panel tools (suite, event studies, placebo): duplicated
// (unit, time) pairs are an error unless the caller opts to keep them.
import type { Frame } from "./frame.js";
import { PanelError } from "../base/errors.js";

export interface DuplicateReport {
  /** number of rows whose (unit, time) pair appeared before */
  duplicates: number;
  /** up to 5 examples: unit label, time, row numbers (1-based) */
  examples: { unit: string; time: number; rows: number[] }[];
}

export function findDuplicates(f: Frame, unit: string, time: string): DuplicateReport {
  const u = f.codes(unit), t = f.numeric(time);
  const first = new Map<string, number>();
  const examples = new Map<string, { unit: string; time: number; rows: number[] }>();
  let duplicates = 0;
  for (let i = 0; i < f.nrows; i++) {
    if (u.codes[i] < 0 || !Number.isFinite(t[i])) continue;
    const key = `${u.codes[i]}|${t[i]}`;
    const j = first.get(key);
    if (j === undefined) {
      first.set(key, i);
      continue;
    }
    duplicates++;
    const ex = examples.get(key);
    if (ex) ex.rows.push(i + 1);
    else if (examples.size < 5) examples.set(key, { unit: u.levels[u.codes[i]], time: t[i], rows: [j + 1, i + 1] });
  }
  return { duplicates, examples: [...examples.values()] };
}

/** Throws PanelError when (unit, time) pairs repeat, unless allowDuplicates. */
export function checkPanel(f: Frame, unit: string, time: string, allowDuplicates = false): DuplicateReport {
  const rep = findDuplicates(f, unit, time);
  if (rep.duplicates && !allowDuplicates) {
    const ex = rep.examples.map((e) => `${unit} ${e.unit}, ${time} ${e.time} (rows ${e.rows.join(", ")})`).join("; ");
    throw new PanelError(
      `${rep.duplicates} duplicated (${unit}, ${time}) pair${rep.duplicates > 1 ? "s" : ""}: ${ex}`,
      { ...rep },
      "remove the duplicates, or pass --allow-duplicates to keep them (each row is then an observation)",
    );
  }
  return rep;
}
