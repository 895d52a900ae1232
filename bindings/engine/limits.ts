// Bounds on the work a caller can ask of the inference tools (placebo draws, bootstrap
// replications, worker threads), checked before anything is allocated. Browser-safe: the
// caller passes the core count (bindings/platform/placebo-node.ts reads it in Node).
//
// Counts must be whole numbers within range (OptionError). The memory a run keeps per draw
// (the placebo coefficient and its id, a bootstrap replication's five sums and its t*,
// replayed assignments, the copies a thread split makes) is planned from the count before
// the first array is made; above the limit (default 1 GiB) the run stops with the numbers
// and what to do (WasmMemoryError, the CLI's memory exit code) instead of growing until
// the process dies.
import { OptionError, WasmMemoryError } from "../base/errors.js";
import { checkOption } from "../base/options.js";
import { fmtBytes } from "./wasm.js";

/** Default bound on the per-draw memory of one placebo or bootstrap run. */
export const DRAW_MEMORY_LIMIT = 2 ** 30;
/** Draw ids are int32. */
export const MAX_DRAWS = 2 ** 31 - 1;

/**
 * `value` as a whole number in [min, max]; `name` is how the caller spells the option
 * (e.g. "draws", "B", "--threads"). Rejects NaN, fractions, infinities and numeric strings
 * that are not numbers. The wording is the option schema's (bindings/base/options.ts).
 */
export function checkCount(name: string, value: unknown, min = 1, max = MAX_DRAWS): number {
  return checkOption(null, value, name, { type: "int", min, max }) as number;
}

export interface DrawPlan {
  /** what is planned, e.g. "placebo draws" */
  what: string;
  /** the option name to name in the advice, e.g. "draws" or "B" */
  option: string;
  count: number;
  /** bytes kept per draw */
  bytesPerDraw: number;
  /** "draw" (default) or e.g. "replication" */
  unit?: string;
  /** what those bytes are, for the message */
  parts: string;
  /** bytes that do not depend on the count */
  fixedBytes?: number;
  /** default DRAW_MEMORY_LIMIT */
  limit?: number;
  /** extra advice */
  hint?: string;
}

/** Bytes a run of `count` draws keeps; throws WasmMemoryError above the limit. */
export function planDrawMemory(p: DrawPlan): number {
  const limit = p.limit ?? DRAW_MEMORY_LIMIT;
  if (!(limit > 0)) throw new OptionError(`memoryLimit must be a positive number of bytes, got ${limit}`);
  const fixed = p.fixedBytes ?? 0;
  const bytes = fixed + p.count * p.bytesPerDraw;
  if (bytes <= limit) return bytes;
  const most = Math.max(0, Math.floor((limit - fixed) / p.bytesPerDraw));
  throw new WasmMemoryError(
    `${p.count.toLocaleString("en-US")} ${p.what} need ${fmtBytes(bytes)} (${p.bytesPerDraw} bytes a ${p.unit ?? "draw"}: ${p.parts}` +
      `${fixed ? `, plus ${fmtBytes(fixed)}` : ""}), over the limit of ${fmtBytes(limit)}`,
    { count: p.count, bytesPerDraw: p.bytesPerDraw, fixedBytes: fixed, bytes, limit, most },
    `use at most ${most.toLocaleString("en-US")} ${p.option}` +
      ` (the Monte-Carlo s.e. of a p-value is at most 0.5/sqrt(${p.option}): 0.0005 at 1,000,000)` +
      `${p.hint ? `; ${p.hint}` : ""}; or raise the limit (--memory-limit, or memoryLimit in the library)`,
  );
}

/**
 * Threads actually used: `requested` validated (a whole number >= 1) and clamped to the
 * cores available. More threads than cores cannot be faster (each thread has its own WASM
 * instance and copy of the problem, and the results are identical for any count), so the
 * request is clamped with a warning rather than refused: a script written for a larger
 * machine still runs.
 */
export function clampThreads(requested: unknown, cores: number, warn?: (m: string) => void, name = "threads"): number {
  const t = checkCount(name, requested, 1, 1024);
  const c = Math.max(1, Math.floor(cores));
  if (t <= c) return t;
  warn?.(`threads = ${t} but this machine has ${c} core${c > 1 ? "s" : ""}: using ${c} (more threads than cores only add memory and time; results are the same)`);
  return c;
}
