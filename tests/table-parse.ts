// Reading rendered regression tables back (Markdown pipe tables, CSV) and comparing a displayed
// number with the value it came from: shared by the etable tests.
//
// Tolerance: a Markdown number is within half a unit of its last printed digit (plus 1e-12
// relative for the binary-decimal conversion).
import { expect } from "vitest";

const CONVERSION_REL = 1e-12;

/** A displayed number -> its value and half a unit of its last digit. */
export function displayed(s: string): { v: number; half: number } {
  const t = s.replace(/,/g, "");
  const m = t.match(/^(-?)(\d+)(?:\.(\d+))?(?:e(-?\d+))?$/);
  if (!m) throw new Error(`not a number as displayed: ${JSON.stringify(s)}`);
  const decimals = (m[3] ?? "").length - Number(m[4] ?? 0);
  return { v: Number(t), half: 0.5 * 10 ** -decimals };
}

export function expectShown(s: string, x: number, what: string): void {
  const d = displayed(s);
  expect(Math.abs(d.v - x), `${what}: "${s}" for ${x}`).toBeLessThanOrEqual(d.half + CONVERSION_REL * Math.abs(x));
}

/** Rows of a GitHub pipe table: label and cells, Markdown escapes undone. */
export function parseMd(md: string): { header: string[]; rows: { label: string; cells: string[] }[] } {
  const lines = md.split("\n").filter((l) => l.startsWith("|"));
  const split = (l: string) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\([\\*_|<>])/g, "$1").replace(/&lt;/g, "<"));
  const [head, , ...body] = lines;
  return { header: split(head), rows: body.map((l) => { const c = split(l); return { label: c[0], cells: c.slice(1) }; }) };
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') (f += '"'), i++;
      else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ",") row.push(f), (f = "");
    else if (c === "\r" && text[i + 1] === "\n") {
      row.push(f), rows.push(row), (row = []), (f = ""), i++;
    } else f += c;
  }
  return rows;
}

