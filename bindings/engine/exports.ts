// The typed view of the WASM module's exports (assembly/index.ts): what the engine (wasm.ts)
// holds and the wrappers (kernels.ts) call. Pointers are byte offsets into the engine's memory.

export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  demeanScratch(Q: number, groups: number, types: number, K: number): number;
  demean(
    n: number, Q: number, K: number, codes: number, groups: number, types: number, z: number, w: number,
    x: number, out: number, tol: number, maxIter: number, algo: number, switchAfter: number,
    scratch: number, offs: number, info: number,
  ): number;
  qrSolve(
    n: number, k: number, a: number, y: number, tol: number, keep: number, coef: number, bread: number,
    work: number, rankOut: number,
  ): number;
  qrReconstruct(n: number, k: number, a: number, keep: number, work: number, u: number): number;
  gram(n: number, k: number, x: number, out: number): number;
  meatHetero(n: number, k: number, x: number, e: number, out: number): number;
  meatCluster(n: number, k: number, x: number, e: number, codes: number, G: number, scores: number, out: number): number;
  residuals(n: number, k: number, x: number, y: number, coef: number, out: number): number;
  meatHeteroCross(n: number, ka: number, a: number, kb: number, b: number, e: number, out: number): number;
  clusterScores(n: number, kb: number, x: number, e: number, codes: number, G: number, k: number, col0: number, scores: number): number;
  scoresCross(G: number, k: number, scores: number, out: number): number;
  sandwichBMB(k: number, b: number, m: number, work: number, out: number): number;
  widenF32(n: number, k: number, src: number, dst: number): number;
  crossF32(n: number, ka: number, a: number, kb: number, r: number, w: number, out: number): number;
  residualsF32(n: number, k: number, x: number, y: number, coef: number, out: number): number;
  scaleRows(n: number, k: number, x: number, s: number): number;
  colSumSquares(n: number, K: number, x: number, w: number, centered: number, out: number): number;
  hacTimeMeat(out: number, scores: number, n: number, k: number, x: number, e: number, time: number, T: number, L: number): number;
  hacPanelMeat(out: number, a: number, b: number, n: number, k: number, x: number, e: number, order: number, unit: number, time: number, L: number): number;
  conleyMeat(out: number, G: number, k: number, scores: number, lat: number, lon: number, cutoff: number, distance: number): number;
  [name: string]: unknown;
}
