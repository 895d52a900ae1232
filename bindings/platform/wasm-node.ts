// Where Node finds the compiled kernels: the path of build/hdfe.wasm and one compiled
// WebAssembly.Module per process, shared by the Node entry point (loadEngine) and the
// worker-thread pools (demeaning, placebo), which hand it to their workers.
import { readFileSync, existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

/** Path of the compiled kernel module (build/hdfe.wasm, next to dist/ or the sources). */
export function wasmPath(): string {
  for (const p of [join(here, "../build/hdfe.wasm"), join(here, "../../build/hdfe.wasm"), join(here, "hdfe.wasm")]) {
    if (existsSync(p)) return p;
  }
  throw new Error("build/hdfe.wasm not found: run `npm run build:wasm`");
}

let cached: WebAssembly.Module | null = null;

/** The compiled kernel module (compiled once per process). */
export function wasmModule(): WebAssembly.Module {
  if (!cached) cached = new WebAssembly.Module(readFileSync(wasmPath()));
  return cached;
}

let compiling: Promise<WebAssembly.Module> | null = null;

/**
 * The same module, compiled off the main thread (WebAssembly.compile): started early, it
 * overlaps the reading of the data (the CLI starts it before reading --data).
 */
export function wasmModuleAsync(): Promise<WebAssembly.Module> {
  if (cached) return Promise.resolve(cached);
  compiling ??= readFile(wasmPath())
    .then((bytes) => WebAssembly.compile(bytes))
    .then((m) => (cached ??= m));
  return compiling;
}
