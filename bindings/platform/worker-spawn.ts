// Starting the one Node worker module (platform/worker-node.ts) for the demeaning and placebo
// pools. The worker is a typed module of the library, never source text: from the sources
// (tsx, vitest) it is worker-node.ts itself, started through a one-line ES module that
// registers tsx's loader by its public entry point ("tsx/esm/api": on Node 20 the loader
// hooks of the parent are not inherited by workers); from a bundle (dist/cli.js,
// dist/node.js) it is dist/worker-node.js, built next to them (package.json build:js).
import { Worker, MessageChannel, type MessagePort } from "node:worker_threads";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { wasmModule } from "./wasm-node.js";
import type { NodeWorkerData } from "./worker-protocol.js";

let cached: URL | null | undefined;

/** The worker module's URL, or null when this build has none (then the pools run on one thread). */
export function workerScript(): URL | null {
  if (cached !== undefined) return cached;
  cached = resolveScript();
  return cached;
}

function resolveScript(): URL | null {
  const self = new URL(import.meta.url);
  if (self.protocol !== "file:") return null;
  const ts = new URL("./worker-node.ts", self);
  if (fileURLToPath(self).endsWith(".ts") && existsSync(fileURLToPath(ts))) {
    const api = tsxApi();
    if (!api) return null;
    const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(ts.href)});`;
    return new URL("data:text/javascript," + encodeURIComponent(code));
  }
  const js = new URL("./worker-node.js", self);
  return existsSync(fileURLToPath(js)) ? js : null;
}

/** URL of tsx's public ESM API (its package exports "./esm/api"), or null without tsx. */
function tsxApi(): string | null {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  try {
    if (resolve) return resolve("tsx/esm/api");
  } catch {
    // fall through to the CommonJS resolution of the same export
  }
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href;
  } catch {
    return null;
  }
}

export interface SpawnedWorker {
  worker: Worker;
  /** this side of the worker's error port (synchronous jobs) */
  port: MessagePort;
}

/** Start one worker with the compiled kernels; null when the build has no worker module. */
export function spawnWorker(): SpawnedWorker | null {
  const script = workerScript();
  if (!script) return null;
  const { port1, port2 } = new MessageChannel();
  const data: NodeWorkerData = { tag: "hdfe-worker", module: wasmModule(), port: port2 };
  const worker = new Worker(script, { workerData: data, transferList: [port2] });
  return { worker, port: port1 };
}
