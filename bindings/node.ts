// Node entry point: the only module of bindings/ that imports from node:. It reads the
// compiled .wasm from disk and re-exports the browser-safe API.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { createEngine, type Engine } from "./wasm.js";
// registers worker-thread demeaning for feols({ threads: n > 1 })
import "./demean-node.js";

export * from "./index.js";
export * from "./extras.js";
export { placeboThreads } from "./placebo-node.js";
// the streaming file reader (CSV in 8 MiB chunks, Parquet, Arrow IPC) for Node callers
export { readFile, type FileReadOptions } from "./io/node.js";
// files and globs through DuckDB's native parallel reader where it reads them as readFile does
export { readFileNative, duckdbAvailable, type NativeReadOptions, type NativeReadResult, type ReaderChoice } from "./io/duckdb-node.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Path of the compiled kernel module (build/hdfe.wasm, next to dist/ or the sources). */
export function wasmPath(): string {
  for (const p of [join(here, "../build/hdfe.wasm"), join(here, "../../build/hdfe.wasm"), join(here, "hdfe.wasm")]) {
    if (existsSync(p)) return p;
  }
  throw new Error("build/hdfe.wasm not found: run `npm run build:wasm`");
}

let cached: WebAssembly.Module | null = null;

/** A fresh engine (its own WASM instance and memory). */
export async function loadEngine(): Promise<Engine> {
  if (!cached) cached = new WebAssembly.Module(readFileSync(wasmPath()));
  return createEngine(cached);
}
