// hdfe WASM core: every kernel works on (pointer, length) over memory owned by the
// TypeScript arena (bindings/engine/wasm.ts). Kernels never allocate and return status codes
// (assembly/status.ts).
export { heapBase } from "./memory";
export { demean } from "./demean-entry";
export { demeanScratch } from "./demean";
export { demeanLsmrScratch } from "./demean-lsmr";
export { demeanContextLayout, csvContextLayout } from "./context";
export { csvParse } from "./csv";
export * from "./qr";
export * from "./sandwich";
export * from "./crossprod";
export * from "./f32";
export * from "./logit";
export * from "./match";
export * from "./permute";
export { rngStream } from "./rng";
export * from "./wild";
export * from "./hac";
export * from "./glm";
