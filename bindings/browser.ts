// Browser entry point: the browser-safe API (index.ts) plus what a page needs to read a file
// and print a fit, and loadEngine(url), which streams and compiles the .wasm while it
// downloads (WebAssembly.instantiateStreaming, through createEngine(fetch(url))).
// Nothing reachable from here imports node: modules (tests/browser.test.ts checks this).
//
//   import { loadEngine, readTable, Frame, feols, summary } from "hdfe/browser";
//   const eng = await loadEngine(wasmUrl);   // serve build/hdfe.wasm as application/wasm
import { createEngine, type Engine } from "./engine/wasm.js";

export * from "./index.js";
export { readTable, formatFromName, type DataFormat, type ReadOptions, type ReadResult } from "./io/index.js";
export { summary, fitToJson, fmtNum, stars, type FitJson } from "./report/summary.js";

/**
 * A fresh engine (its own WASM instance and memory) from the URL of build/hdfe.wasm.
 * The server must send it as `application/wasm` for streaming compilation; a Response
 * (or a promise of one) is accepted too, e.g. from a cache.
 */
export async function loadEngine(url: string | URL | Response | PromiseLike<Response>): Promise<Engine> {
  if (typeof url === "string" || url instanceof URL) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`could not fetch the hdfe engine from ${String(url)}: HTTP ${res.status}`);
    return createEngine(res);
  }
  return createEngine(url);
}
