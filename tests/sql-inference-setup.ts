// Shared by tests/sql-inference.test.ts (DuckDB) and tests/sql-inference-clickhouse.test.ts (the
// 2-shard ClickHouse cluster): `hdfe wild` run through the CLI (bin/hdfe.js on the bundle) and the
// comparison of an out-of-core run with the in-memory one.
//
// Tolerances (stated once, for both files; never loosened per case):
//   bootstrap p-values (symmetric, equal-tailed)     exact (the same draws for the same seed)
//   G, B, enumerated, nobs, removed rows (and why)   exact
//   estimate, s.e., t, both confidence intervals     1e-10 relative
//   each bootstrap t*                                1e-10 of max(1, |t*|)
// Both runs with --fixef-tol FIXEF_TOL (1e-12): at the default 1e-10 the two demeanings by
// projections stop at different points and the intervals differed by 1.8e-10 (ClickHouse, gen).
// (measured at about 1e-13 for the intervals and 7e-12 for t* on the cbec panel: the engines
// sum in another order; the fit's own tolerances, 1e-8 / 1e-6, are far looser.)
import { expect } from "vitest";
import { spawnSync, spawn } from "node:child_process";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

export const P_EXACT = 0;
/**
 * The FE tolerance of both runs (--fixef-tol; the CLI's default is 1e-10): the engines and
 * memory demean by projections stopped at the tolerance, so their demeaned columns agree to
 * about it; 1e-12 keeps that far below WILD_REL.
 */
export const FIXEF_TOL = 1e-12;
export const WILD_REL = 1e-10;
export const TSTAR_ABS = 1e-10;

const ROOT = new URL("..", import.meta.url).pathname;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** What `hdfe wild --json` prints (the fields these tests read). */
export interface WildJson {
  estimate: number;
  se: number;
  t: number;
  pSymmetric: number;
  pEqualTailed: number;
  ci: [number, number] | null;
  ciEqualTailed: [number, number] | null;
  B: number;
  G: number;
  enumerated: boolean;
  restricted: boolean;
  weights: string;
  nobs: number;
  removed: Record<string, unknown>;
  tStars: number[];
}

export interface CliRun { status: number | null; stdout: string; stderr: string }

/** `hdfe <args>` from the sources. */
export function hdfe(args: string[]): CliRun {
  const r = spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `hdfe wild <args> --json`, its JSON (the run must succeed). */
export function wildJson(args: string[]): WildJson {
  const r = hdfe(["wild", ...args, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as WildJson;
}

/**
 * `hdfe <args>` started asynchronously; `onStderr` sees stderr as it comes (e.g. to stop a
 * shard once a step is reached). Resolves with the exit code and the output.
 */
export function hdfeAsync(args: string[], onStderr: (all: string) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [HDFE_BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    p.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
      onStderr(stderr);
    });
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** An out-of-core run `s` against the in-memory run `m` of the same options (tolerances above). */
export function expectSameWild(s: WildJson, m: WildJson): void {
  expect(s.G).toBe(m.G);
  expect(s.B).toBe(m.B);
  expect(s.enumerated).toBe(m.enumerated);
  expect(s.restricted).toBe(m.restricted);
  expect(s.weights).toBe(m.weights);
  expect(s.nobs).toBe(m.nobs);
  expect(s.removed).toEqual(m.removed);
  expect(Math.abs(s.pSymmetric - m.pSymmetric)).toBeLessThanOrEqual(P_EXACT);
  expect(Math.abs(s.pEqualTailed - m.pEqualTailed)).toBeLessThanOrEqual(P_EXACT);
  for (const k of ["estimate", "se", "t"] as const) expect(rel(s[k], m[k]), k).toBeLessThan(WILD_REL);
  expect(m.ci).not.toBeNull();
  for (const k of ["ci", "ciEqualTailed"] as const) {
    for (const e of [0, 1]) expect(rel(s[k]![e], m[k]![e]), `${k}[${e}]`).toBeLessThan(WILD_REL);
  }
  expect(s.tStars.length).toBe(m.tStars.length);
  let worst = 0;
  for (let d = 0; d < m.tStars.length; d++) worst = Math.max(worst, Math.abs(s.tStars[d] - m.tStars[d]) / Math.max(1, Math.abs(m.tStars[d])));
  expect(worst).toBeLessThan(TSTAR_ABS);
}
