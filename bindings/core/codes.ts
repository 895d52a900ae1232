// Dense integer codes of id tuples: the one place interacted FE, interacted clusters and the
// intersections of multi-way clustering encode (fe1, fe2, ...) into 0..G-1.

/**
 * Dense codes of the tuples (parts[0][i], parts[1][i], ...), in order of first appearance;
 * -1 where any part is -1 (missing). Interacted FE (fe1^fe2), interacted clusters and the
 * intersections of multi-way clustering all use it.
 */
export function intersectCodes(parts: Int32Array[]): { codes: Int32Array; G: number } {
  const n = parts[0].length;
  const map = new Map<string, number>();
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let key = "";
    let miss = false;
    for (const p of parts) {
      if (p[i] < 0) {
        miss = true;
        break;
      }
      key += p[i] + ",";
    }
    if (miss) {
      out[i] = -1;
      continue;
    }
    let c = map.get(key);
    if (c === undefined) map.set(key, (c = map.size));
    out[i] = c;
  }
  return { codes: out, G: map.size };
}
