// Column selection shared by the readers: resolve requested names, or throw a ColumnError that
// lists what is missing, what exists, and the closest existing name. Browser-safe.

import { ColumnError } from "../base/errors.js";

function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= n; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n];
}

/**
 * The available name closest to `name`, if any: a case-insensitive match first, then a name
 * that starts with it or that it starts with (`county` -> `countyreal`; the nearest in length),
 * then a small edit distance.
 */
export function closestName(name: string, available: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const ci = available.find((a) => a.toLowerCase() === lower);
  if (ci !== undefined) return ci;
  if (lower.length >= 3) {
    const pre = available.filter((a) => {
      const l = a.toLowerCase();
      return l.length >= 3 && (l.startsWith(lower) || lower.startsWith(l));
    });
    if (pre.length) return pre.reduce((x, y) => (Math.abs(y.length - name.length) < Math.abs(x.length - name.length) ? y : x));
  }
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of available) {
    const d = editDistance(lower, a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  return bestD <= limit ? best : undefined;
}

function listNames(names: readonly string[], max = 40): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n));
  return shown.join(", ") + (names.length > max ? `, ... (${names.length} columns)` : "");
}

/**
 * Check that every requested column exists. Returns the requested names without duplicates,
 * in the requested order. Throws ColumnError naming the missing columns, the available ones and
 * a close-match suggestion.
 */
export function resolveColumns(requested: readonly string[], available: readonly string[], what = "data"): string[] {
  const have = new Set(available);
  const out: string[] = [];
  const seen = new Set<string>();
  const missing: string[] = [];
  for (const r of requested) {
    if (seen.has(r)) continue;
    seen.add(r);
    if (have.has(r)) out.push(r);
    else missing.push(r);
  }
  if (missing.length > 0) {
    const suggestions: Record<string, string> = {};
    const parts: string[] = [];
    for (const m of missing) {
      const s = closestName(m, available);
      if (s !== undefined) {
        suggestions[m] = s;
        parts.push(`${JSON.stringify(m)} -> did you mean ${JSON.stringify(s)}?`);
      }
    }
    const msg =
      `${missing.length === 1 ? "column" : "columns"} ${missing.map((m) => JSON.stringify(m)).join(", ")} not found in the ${what}; ` +
      `available: ${listNames(available)}`;
    throw new ColumnError(
      msg,
      { missing, available: [...available], suggestions },
      parts.length > 0 ? parts.join("; ") : "column names are case-sensitive and must match the header exactly",
    );
  }
  return out;
}
