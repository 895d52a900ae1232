// Multi-threaded demeaning for Node (worker_threads), as fixest does with OpenMP: the K
// columns are split into contiguous groups; the calling thread demeans the first group in
// its own engine while each worker demeans one other group in its own WASM instance (the
// compiled module is shared). Each worker receives copies of the FE codes, weights, slopes
// and its columns, and its demeaned columns are copied back into the engine's memory.
//
// The kernel tests convergence per column, so a column's result does not depend on the
// columns that share its call: the result is bit-identical to one thread.
//
// feols stays synchronous: the calling thread waits on a shared Int32Array (Atomics.wait,
// allowed on Node's main thread) and reads worker errors with receiveMessageOnPort.
// Importing this module installs it (setParallelDemean); feols uses it when threads > 1.
import { receiveMessageOnPort, type Worker, type MessagePort } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { Engine } from "../engine/wasm.js";
import { KernelError, errorFromWire, type ErrorWire } from "../base/errors.js";
import { demeanPtr, infoOf, mergeInfo, setParallelDemean, type KernelAlgo, type DemeanDims, type DemeanInfo } from "../engine/kernels.js";
import { spawnWorker } from "./worker-spawn.js";
import type { DemeanJob } from "./worker-protocol.js";

interface PoolWorker {
  worker: Worker;
  port: MessagePort;
  dead: boolean;
}

const pool: PoolWorker[] = [];

function spawn(): PoolWorker | null {
  const s = spawnWorker();
  if (!s) return null;
  s.worker.unref(); // idle workers never keep the process alive
  s.port.unref();
  const pw: PoolWorker = { worker: s.worker, port: s.port, dead: false };
  s.worker.on("error", () => (pw.dead = true));
  s.worker.on("exit", () => (pw.dead = true));
  return pw;
}

/** Up to m live workers (fewer when this build has no worker module). */
function workers(m: number): PoolWorker[] {
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i].dead) pool.splice(i, 1);
  while (pool.length < m) {
    const pw = spawn();
    if (!pw) break;
    pool.push(pw);
  }
  return pool.slice(0, m);
}

/**
 * Default thread count for the CLI: 1. Measured on the 2-core development machine
 * (y ~ treat + 8 controls | firm + year [+ city]; steady-state runs in one process): 5M rows
 * 2 FE 1.5 s on one thread vs 2.3-2.5 s on two, 3 FE 7.8-8.1 s vs 7.2-13.7 s; 1M rows 2 FE
 * 0.26 vs 0.31-0.42 s, 3 FE 2.1-2.7 vs 2.0-3.6 s. The sweeps are bound by memory access (FE
 * code lookups, coefficient gathers), which two threads share, and each thread repeats the
 * lookups for its own columns; the copies to the workers come on top. Pass threads > 1 on
 * machines with more cores and memory bandwidth (the results are the same bits).
 */
export function defaultThreads(): number {
  return 1;
}

/** Cores Node can use. */
export function cores(): number {
  return availableParallelism();
}

/** Stop the idle workers (they are unref'd, so this is only needed to free them early). */
export async function closeDemeanThreads(): Promise<void> {
  const all = pool.splice(0);
  await Promise.all(all.map((p) => p.worker.terminate()));
}

/** Contiguous split of K columns into t groups, sizes as equal as possible. */
export function splitColumns(K: number, t: number): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  let start = 0;
  for (let j = 0; j < t; j++) {
    const count = Math.floor(K / t) + (j < K % t ? 1 : 0);
    if (count > 0) out.push({ start, count });
    start += count;
  }
  return out;
}

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(bytes, 8));
}

/** The ParallelDemean installed by this module. */
export function demeanThreaded(
  eng: Engine, d: DemeanDims, K: number, xPtr: number, outPtr: number, tol: number, maxIter: number,
  algo: KernelAlgo, switchAfter: number, threads: number,
): DemeanInfo {
  const want = splitColumns(K, Math.min(threads, K));
  const ws = want.length < 2 ? [] : workers(want.length - 1);
  const parts = ws.length + 1 < want.length ? splitColumns(K, ws.length + 1) : want;
  if (parts.length < 2) return demeanPtr(eng, d, K, xPtr, outPtr, tol, maxIter, algo, switchAfter, 1);
  const n = d.n;
  const inputs = sharedInputs(eng, d);
  const jobs = parts.slice(1).map((part, j) => {
    const x = shared(n * part.count * 8);
    new Float64Array(x).set(eng.f64(xPtr + part.start * n * 8, n * part.count));
    const job: DemeanJob = {
      kind: "demean-job", n, groups: [...d.groups], types: [...d.types], ...inputs, K: part.count, x,
      tol, maxIter, algo, switchAfter, info: shared(32 * (part.count + 1)), state: shared(8),
    };
    ws[j].worker.postMessage(job);
    return { part, job, pw: ws[j] };
  });
  // this thread: the first group, in place in the engine
  const first = demeanPtr(eng, d, parts[0].count, xPtr, outPtr, tol, maxIter, algo, switchAfter, 1);
  const infos: DemeanInfo[] = [first];
  let failure: Error | null = null;
  for (const { part, job, pw } of jobs) {
    const done = waitFor(job, pw);
    if (done !== 1) {
      const wire = receiveMessageOnPort(pw.port)?.message as ErrorWire | undefined;
      failure ??= done === 2 && wire ? errorFromWire(wire) : new KernelError("demeaning in a worker thread failed: the worker exited");
      pw.dead = true;
      continue;
    }
    eng.f64(outPtr + part.start * n * 8, n * part.count).set(new Float64Array(job.x));
    const iv = new Float64Array(job.info);
    infos.push({ ...infoOf(iv, 1), columns: Array.from({ length: part.count }, (_, k) => infoOf(iv.subarray(4 * (k + 1), 4 * (k + 2)), 1)) });
  }
  if (failure) throw failure; // the worker's error class (a WasmMemoryError stays one)
  // each column's own record, in the call's order (the parts are contiguous, in order)
  const columns = infos.every((i) => i.columns) ? infos.flatMap((i) => i.columns!) : undefined;
  return { ...mergeInfo(infos, parts.length), ...(columns ? { columns } : {}) };
}

/** The inputs every worker reads (FE codes, slopes, weights): one shared copy each, out of the engine's memory. */
function sharedInputs(eng: Engine, d: DemeanDims): Pick<DemeanJob, "codes" | "slopes" | "w"> {
  const n = d.n, Q = d.groups.length;
  const codes = shared(Q * n * 4);
  new Int32Array(codes).set(eng.i32(d.codesPtr, Q * n));
  const copyF64 = (p: number) => {
    const s = shared(n * 8);
    new Float64Array(s).set(eng.f64(p, n));
    return s;
  };
  return { codes, slopes: d.slopePtrs.map((p) => (p ? copyF64(p) : null)), w: d.wPtr ? copyF64(d.wPtr) : null };
}

/** Wait for a job's state flag: 1 done, 2 failed, 0 the worker died. */
function waitFor(job: DemeanJob, pw: PoolWorker): number {
  const state = new Int32Array(job.state);
  while (Atomics.load(state, 0) === 0) {
    Atomics.wait(state, 0, 0, 1000);
    if (Atomics.load(state, 0) === 0 && pw.dead) break;
  }
  return Atomics.load(state, 0);
}

setParallelDemean(demeanThreaded);
