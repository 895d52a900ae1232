// The derived mpdta panel of the out-of-core event tests (tests/sql-event.test.ts, tests/clickhouse-event.test.ts).

/**
 * mpdta with counties given two adoption years (every 23rd treated county: 2006 from its third
 * row on; cohort 2007 counties every 31st: never from its fourth row), every 41st county treated
 * from 2003 (always treated), and the outcome missing on every 401st row.
 */
export function moversCsv(mpdta: string): string {
  const lines = mpdta.trim().split("\n");
  const out = [lines[0]];
  const seen = new Map<string, number>();
  let unitIdx = -1;
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].split(",");
    const county = c[1];
    if (!seen.has(county)) seen.set(county, ++unitIdx);
    const u = seen.get(county)!;
    const rowOfUnit = Number(c[0]) - 2003; // mpdta is balanced, 2003-2007
    const ft = Number(c[4]);
    if (ft > 0 && u % 23 === 0 && rowOfUnit >= 2) c[4] = "2006";
    if (ft === 2007 && u % 31 === 0 && rowOfUnit >= 3) c[4] = "0";
    if (u % 41 === 0) c[4] = "2003";
    if (i % 401 === 0) c[3] = "NA";
    out.push(c.join(","));
  }
  return out.join("\n") + "\n";
}
