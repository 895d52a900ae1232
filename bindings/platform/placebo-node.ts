// Placebo draws on worker threads (Node only). Each worker loads its own WASM instance
// (loadEngine) and takes whole blocks of work: basis columns (fixed blocks of BLOCK
// columns), then ranges of draws (draw d always uses stream fork(d)), so the result is
// bit-identical whatever the number of threads.
//
// The workers are the library's one Node worker module (platform/worker-node.ts, started by
// platform/worker-spawn.ts): each instantiates the compiled kernels with createEngine and runs
// the placebo steps on tasks typed in platform/worker-protocol.ts; a worker's error comes
// back with its class (errorFromWire).
import { type Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { Engine } from "../engine/wasm.js";
import type { Fit } from "../estimators/feols.js";
import {
  placebo, preparePlacebo, computeBasis, basisBlockCount, finishBasis, drawBlockCount,
  assemblePlacebo, withSample, planPlaceboDraws, newConvergence, mergeConvergence, BLOCK, type PlaceboOptions, type PlaceboResult, type PlaceboAssignments, type PlaceboBasis,
} from "../inference/placebo.js";
import { errorFromWire, KernelError } from "../base/errors.js";
import { clampThreads } from "../engine/limits.js";
import { spawnWorker, workerScript } from "./worker-spawn.js";
import type { PlaceboReply, PlaceboTaskBody } from "./worker-protocol.js";

// ---------------------------------------------------------------------------------------
// Main side

class Pool {
  private readonly workers: Worker[] = [];
  private next = 1;
  private readonly pending = new Map<number, { resolve: (d?: Float64Array) => void; reject: (e: Error) => void; progress?: (n: number) => void }>();
  /** convergence of the demeaning done by the workers */
  readonly conv = newConvergence();

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = spawnWorker()?.worker;
      if (!w) throw new KernelError("the worker module went missing"); // workerScript() was checked first
      w.on("message", (r: PlaceboReply) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        if (r.kind === "progress") p.progress?.(r.done);
        else {
          this.pending.delete(r.id);
          if (r.kind === "done") {
            if (r.conv) mergeConvergence(this.conv, r.conv);
            p.resolve(r.data);
          }
          else {
            p.reject(errorFromWire(r.error)); // the worker's error class, not a plain Error
          }
        }
      });
      w.on("error", (e) => {
        for (const [id, p] of this.pending) {
          this.pending.delete(id);
          p.reject(e);
        }
      });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(i: number, task: PlaceboTaskBody, progress?: (n: number) => void): Promise<Float64Array | undefined> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      this.workers[i].postMessage({ ...task, id });
    });
  }

  all(task: PlaceboTaskBody): Promise<unknown> {
    return Promise.all(this.workers.map((_, i) => this.run(i, task)));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Split [0, m) into `parts` contiguous ranges (some possibly empty). */
function ranges(m: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) out.push([Math.floor((m * i) / parts), Math.floor((m * (i + 1)) / parts)]);
  return out;
}

/** Default thread count: the machine's cores. */
export function defaultThreads(): number {
  return typeof availableParallelism === "function" ? availableParallelism() : 1;
}

/**
 * placebo() with the work split across `opts.threads` worker threads (default 1: same
 * thread). Identical results for any thread count.
 */
export async function placeboThreads(eng: Engine, fit: Fit, optsIn: PlaceboOptions): Promise<PlaceboResult> {
  const early: string[] = [];
  const threads = clampThreads(optsIn.threads ?? 1, defaultThreads(), (m) => {
    early.push(m);
    optsIn.onWarning?.(m);
  });
  const opts: PlaceboOptions = { ...optsIn, threads };
  const script = threads > 1 ? workerScript() : null;
  if (threads <= 1 || opts.scheme === "time" || !script) {
    const r = placebo(eng, fit, { ...opts, threads: 1 });
    r.warnings.unshift(...early);
    if (threads > 1 && !script && opts.scheme !== "time") {
      const m = "worker threads are not available in this build (no worker-node.js next to the bundle): ran on one thread";
      r.warnings.push(m);
      opts.onWarning?.(m);
    }
    return r;
  }
  // refuse an impossible count before any worker starts
  if (!opts.assignments) planPlaceboDraws(opts.draws ?? 1000, threads, 0, opts.memoryLimit);
  const t0 = performance.now();
  const warnings: string[] = [...early];
  // workers boot while the main thread prepares the problem
  const pool = new Pool(threads);
  try {
    const P = preparePlacebo(eng, fit, opts, (m) => {
      warnings.push(m);
      opts.onWarning?.(m);
    });
    const total = P.nDraws;
    await pool.all({ kind: "init", P });
    let draws: Float64Array;
    let setupMs: number;
    let t1: number;
    const done = new Array<number>(threads).fill(0);
    const report = (i: number) => (n: number) => {
      done[i] = n;
      opts.onProgress?.(done.reduce((a, b) => a + b, 0), total);
    };
    if (P.method === "basis") {
      let B: PlaceboBasis;
      if (P.basisSolver === "direct") {
        B = computeBasis(eng, P, pool.conv); // exact and cheap: no need for the workers
      } else {
        const nb = basisBlockCount(P);
        const parts = await Promise.all(ranges(nb, threads).map(([b0, b1], i) => pool.run(i, { kind: "basis", b0, b1 })));
        const H = new Float64Array(P.U * P.cohortT.length * P.basisCols.length);
        let off = 0;
        for (const p of parts) {
          H.set(p!, off);
          off += p!.length;
        }
        B = finishBasis(eng, P, H);
      }
      await pool.all({ kind: "setBasis", B });
      t1 = performance.now();
      setupMs = t1 - t0;
      const rs = ranges(total, threads);
      const out = await Promise.all(rs.map(([d0, d1], i) => pool.run(i, { kind: "draws", d0, nd: d1 - d0 }, report(i))));
      draws = new Float64Array(total);
      rs.forEach(([d0], i) => draws.set(out[i]!, d0));
    } else {
      t1 = performance.now();
      setupMs = t1 - t0;
      const rs = ranges(drawBlockCount(P), threads);
      const out = await Promise.all(rs.map(([b0, b1], i) => pool.run(i, { kind: "demean", b0, b1 }, report(i))));
      draws = new Float64Array(total);
      rs.forEach(([b0], i) => draws.set(out[i]!, b0 * BLOCK));
    }
    const drawsMs = performance.now() - t1;
    return withSample(fit, assemblePlacebo({ opts, P, draws, warnings, threads, setupMs, drawsMs, conv: pool.conv }));
  } finally {
    await pool.close();
  }
}

/**
 * Draws to replay, from a file (CSV, Arrow, Parquet) with columns draw, the unit (`unit`
 * or "unit") and adopt (`adopt` or "adopt"; empty = never treated). A file without a
 * data row is a DataReadError naming it (0 draws would give no p-value at all).
 */
export async function readAssignmentsFile(file: string, unit: string, adopt: string): Promise<PlaceboAssignments> {
  const [{ readFile }, { Frame }, { ColumnError, DataReadError, OptionError }] = await Promise.all([
    import("./read-node.js"), import("../core/frame.js"), import("../base/errors.js"),
  ]);
  const { table } = await readFile(file);
  if (table.numRows === 0) {
    throw new DataReadError(`the assignments file ${file} has no data rows: 0 draws to replay`, { file },
      "write one row per unit and draw (columns draw, unit, adopt), e.g. with --save-assignments");
  }
  const f = Frame.fromArrow(table);
  const pick = (names: string[], role: string) => {
    const hit = names.find((n) => f.has(n));
    if (!hit) throw new ColumnError(`the assignments file ${file} has no ${role} column (looked for ${names.join(", ")})`, { available: f.names });
    return hit;
  };
  const d = pick(["draw"], "draw");
  const u = pick([unit, "unit"], "unit");
  const a = pick(["adopt", adopt], "adopt");
  const draw = f.numeric(d);
  for (let i = 0; i < draw.length; i++) {
    if (!Number.isInteger(draw[i])) throw new OptionError(`the assignments file ${file}: draw must be a whole number (data row ${i + 1})`);
  }
  const uc = f.codes(u);
  const units = Array.from(uc.codes, (c) => (c < 0 ? "" : uc.levels[c]));
  return { draw: Int32Array.from(draw), unit: units, adopt: f.numeric(a), source: file };
}
