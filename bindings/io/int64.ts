// Integers a double cannot hold: the one test the readers (CSV, Arrow, Parquet) and the column
// encoder share (see text.ts for the convention built on it).

const MAX_SAFE_INT = Number.MAX_SAFE_INTEGER;

/** Would reading the integer v as a double change it? */
export function inexactBigInt(v: bigint): boolean {
  const x = Number(v);
  if (x <= MAX_SAFE_INT && x >= -MAX_SAFE_INT) return false;
  return BigInt(x) !== v;
}
