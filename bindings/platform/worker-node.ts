// The one Node worker module (worker_threads) of the library: it serves the demeaning pool
// (platform/demean-node.ts: synchronous jobs, the caller waits on a shared Int32Array) and the
// placebo pool (platform/placebo-node.ts: asynchronous tasks answered by message). Started by
// platform/worker-spawn.ts with the compiled kernels in workerData; it instantiates them with
// engine/wasm.ts createEngine and runs the same TypeScript (engine/kernels.ts demeanPtr, the
// placebo steps) as the calling thread, so there is one arena layout and one set of kernels.
// Messages are typed in platform/worker-protocol.ts; errors cross as ErrorWire and keep their
// class on the other side.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { createEngine, type Engine } from "../engine/wasm.js";
import { demeanPtr, type DemeanDims, type DemeanInfo } from "../engine/kernels.js";
import { errorToWire } from "../base/errors.js";
import {
  basisBlocks, basisDraws, demeanDraws, newConvergence, type PlaceboProblem, type PlaceboBasis,
} from "../inference/placebo.js";
import type { DemeanJob, NodeWorkerData, NodeWorkerMessage, PlaceboReply, PlaceboTask } from "./worker-protocol.js";

/** Demean one job in a fresh engine (its memory is released after a large job). */
export async function runDemeanJob(module: WebAssembly.Module, job: DemeanJob): Promise<void> {
  const eng = await createEngine(module);
  const { n, K } = job;
  const Q = job.groups.length;
  const codesPtr = eng.allocI32(Q * n, "FE codes (worker)");
  eng.i32(codesPtr, Q * n).set(new Int32Array(job.codes));
  const slopePtrs = job.slopes.map((s) => (s ? eng.putF64(new Float64Array(s), "slopes (worker)") : 0));
  const wPtr = job.w ? eng.putF64(new Float64Array(job.w), "weights (worker)") : 0;
  const x = eng.putF64(new Float64Array(job.x), "columns (worker)");
  const d: DemeanDims = { n, codesPtr, groups: job.groups, types: job.types, slopePtrs, wPtr };
  const info = demeanPtr(eng, d, K, x, x, job.tol, job.maxIter, job.algo, job.switchAfter, 1);
  new Float64Array(job.x).set(eng.f64(x, n * K));
  const four = (i: DemeanInfo) => [i.iterations, i.criterion, i.converged ? 1 : 0, i.cgIterations];
  new Float64Array(job.info).set([...four(info), ...(info.columns ?? []).flatMap(four)]);
}

/** The placebo side: one problem and basis per worker, set by init / setBasis tasks. */
class PlaceboServer {
  private P: PlaceboProblem | null = null;
  private B: PlaceboBasis | null = null;

  run(eng: Engine, t: PlaceboTask, post: (r: PlaceboReply, transfer?: ArrayBuffer[]) => void): void {
    const progress = (done: number) => post({ id: t.id, kind: "progress", done });
    if (t.kind === "init") {
      this.P = t.P;
      post({ id: t.id, kind: "done" });
    } else if (t.kind === "basis") {
      const conv = newConvergence();
      const H = basisBlocks(eng, this.P!, t.b0, t.b1, conv);
      post({ id: t.id, kind: "done", data: H, conv }, [H.buffer as ArrayBuffer]);
    } else if (t.kind === "setBasis") {
      this.B = t.B;
      post({ id: t.id, kind: "done" });
    } else if (t.kind === "draws") {
      const b = basisDraws(eng, this.P!, this.B!, t.d0, t.nd, progress);
      post({ id: t.id, kind: "done", data: b }, [b.buffer as ArrayBuffer]);
    } else {
      const conv = newConvergence();
      const r = demeanDraws(eng, this.P!, t.b0, t.b1, progress, false, conv);
      post({ id: t.id, kind: "done", data: r.b, conv }, [r.b.buffer as ArrayBuffer]);
    }
  }
}

function serve(data: NodeWorkerData): void {
  const port = parentPort!;
  const placebo = new PlaceboServer();
  let eng: Promise<Engine> | null = null;
  port.on("message", async (m: NodeWorkerMessage) => {
    if (m.kind === "demean-job") {
      const state = new Int32Array(m.state);
      try {
        await runDemeanJob(data.module, m);
        Atomics.store(state, 0, 1);
      } catch (e) {
        data.port.postMessage(errorToWire(e));
        Atomics.store(state, 0, 2);
      }
      Atomics.notify(state, 0);
      return;
    }
    try {
      eng ??= createEngine(data.module);
      placebo.run(await eng, m, (r, transfer) => port.postMessage(r, transfer ?? []));
    } catch (e) {
      port.postMessage({ id: m.id, kind: "error", error: errorToWire(e) } satisfies PlaceboReply);
    }
  });
}

if (!isMainThread && parentPort && (workerData as Partial<NodeWorkerData> | null)?.tag === "hdfe-worker") {
  serve(workerData as NodeWorkerData);
}
