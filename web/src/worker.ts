// The page's Web Worker: one hdfe engine per worker (engine/wasm.ts createEngine through
// loadEngine, the same arena code as the calling thread and the Node workers) and the handler of
// web/src/worker-handler.ts. The page only sends requests and renders answers
// (bindings/platform/worker-protocol.ts), so it stays responsive; errors come back as ErrorWire.
/// <reference lib="webworker" />
import wasmUrl from "../../build/hdfe.wasm?url";
import { loadEngine } from "../../bindings/browser.js";
import type { WorkerRequest } from "../../bindings/platform/worker-protocol.js";
import { workerHandler } from "./worker-handler.js";

declare const self: DedicatedWorkerGlobalScope;

const onRequest = workerHandler(loadEngine(wasmUrl), (msg, transfer = []) => self.postMessage(msg, transfer));
self.onmessage = (ev: MessageEvent<WorkerRequest>) => void onRequest(ev.data);
