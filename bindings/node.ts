// Node entry point: the browser-safe API plus the Node-only modules (the streaming file
// reader, worker-thread demeaning and placebo draws); it loads the compiled .wasm from disk
// (wasm-node.ts).
import { createEngine, type Engine } from "./engine/wasm.js";
import { wasmModuleAsync } from "./platform/wasm-node.js";
// registers worker-thread demeaning for feols({ threads: n > 1 })
import "./platform/demean-node.js";

export * from "./index.js";
export * from "./extras.js";
export { placeboThreads } from "./platform/placebo-node.js";
// the streaming file reader (CSV in 8 MiB chunks, Parquet, Arrow IPC) for Node callers
export { readFile, type FileReadOptions } from "./platform/read-node.js";
// files and globs through DuckDB's native parallel reader where it reads them as readFile does
export { DuckDBBackend, duckdbDialect, type DuckSource } from "./platform/duckdb-engine.js";
export { readFileNative, duckdbAvailable, type NativeReadOptions, type NativeReadResult, type ReaderChoice } from "./platform/duckdb-node.js";
// the same, as column chunks of a bounded number of rows (DuckDB streams the query)
export { streamFileNative, type NativeStream, type ColumnChunk, type TextChunk, type StreamOptions } from "./platform/duckdb-stream.js";

export { wasmPath } from "./platform/wasm-node.js";

/** A fresh engine (its own WASM instance and memory); the module is compiled once per process, off the main thread. */
export async function loadEngine(): Promise<Engine> {
  return createEngine(await wasmModuleAsync());
}
