// The page side of the worker protocol: one Worker (one engine), promises per request id,
// progress callbacks. Errors from the worker arrive as ErrorWire and are rethrown with their own
// class (base/errors.ts errorFromWire: a ColumnError is a ColumnError here too, with its hint);
// only a worker that fails to start gives a WorkerError.
import type {
  ReadyMessage, RequestType, ResultOf, WorkerRequest, WorkerResponse,
} from "../../bindings/platform/worker-protocol.js";
import { errorFromWire } from "../../bindings/base/errors.js";

/** The engine worker itself failed (did not start, or crashed). */
export class WorkerError extends Error {
  override name = "WorkerError";
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void; onProgress?: (done: number, total: number, what: string) => void };

type Body<T extends RequestType> = Omit<Extract<WorkerRequest, { type: T }>, "id" | "type">;

export class EngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** resolves with the engine's initial WASM memory (bytes) once the worker has instantiated it */
  readonly ready: Promise<number>;

  constructor() {
    this.worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "hdfe-engine" });
    let readyResolve!: (n: number) => void, readyReject!: (e: unknown) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    this.worker.onmessage = (ev: MessageEvent<WorkerResponse | ReadyMessage>) => {
      const m = ev.data;
      if (m.type === "ready") return readyResolve(m.wasmBytes);
      if (m.id === 0 && m.type === "error") return readyReject(errorFromWire(m.error));
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === "progress") return p.onProgress?.(m.done, m.total, m.what);
      this.pending.delete(m.id);
      if (m.type === "result") p.resolve(m.result);
      else if (m.type === "error") p.reject(errorFromWire(m.error));
    };
    this.worker.onerror = (ev) => {
      const err = new WorkerError(ev.message || "the engine worker failed to start");
      readyReject(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  request<T extends RequestType>(
    type: T, body: Body<T>, opts: { onProgress?: (done: number, total: number, what: string) => void; transfer?: Transferable[] } = {},
  ): Promise<ResultOf[T]> {
    const id = this.nextId++;
    return new Promise<ResultOf[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress });
      const msg = { ...body, id, type } as unknown as WorkerRequest;
      this.worker.postMessage(msg, opts.transfer ?? []);
    });
  }
}
