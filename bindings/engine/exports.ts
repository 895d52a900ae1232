// The typed view of the WASM module's exports (assembly/index.ts): what the engine (wasm.ts)
// holds as `eng.kernels` and the wrappers (kernels.ts) and tools call. Pointers are byte
// offsets into the engine's memory.
//
// Convention (every kernel): outputs first (results, then buffers the kernel writes as
// scratch), then sizes and inputs; a context block (engine/context.ts) or an RNG state
// (engine/rng.ts) counts as written state and comes with the outputs. Returns a status
// (assembly/status.ts, mapped to an error class by kernels.ts statusError).

export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  // assembly/demean.ts, assembly/context.ts
  demeanScratch(Q: number, groups: number, types: number, K: number): number;
  /** assembly/demean-lsmr.ts: the extra scratch (f64) of algo lsmr for n rows and K columns */
  demeanLsmrScratch(n: number, K: number): number;
  /** ctx: a demeaning context block (engine/context.ts) */
  demean(out: number, info: number, scratch: number, ctx: number, x: number): number;
  demeanContextLayout(out: number): number;
  // assembly/csv.ts (the CSV fast path; ctx: a CSV context block, engine/context.ts CSV_CTX)
  csvParse(exc: number, ctx: number, buf: number, len: number): number;
  csvContextLayout(out: number): number;
  // assembly/qr.ts
  qrSolve(
    coef: number, bread: number, rankOut: number, keep: number, work: number, n: number, k: number, a: number, y: number,
    tol: number,
  ): number;
  qrReconstruct(u: number, work: number, n: number, k: number, a: number, keep: number): number;
  // assembly/sandwich.ts
  gram(out: number, n: number, k: number, x: number): number;
  meatHetero(out: number, n: number, k: number, x: number, e: number): number;
  meatCluster(out: number, scores: number, n: number, k: number, x: number, e: number, codes: number, G: number): number;
  residuals(out: number, n: number, k: number, x: number, y: number, coef: number): number;
  meatHeteroCross(out: number, n: number, ka: number, a: number, kb: number, b: number, e: number): number;
  clusterScores(scores: number, n: number, kb: number, x: number, e: number, codes: number, G: number, k: number, col0: number): number;
  scoresCross(out: number, G: number, k: number, scores: number): number;
  sandwichBMB(out: number, work: number, k: number, b: number, m: number): number;
  scaleRows(x: number, n: number, k: number, s: number): number;
  colSumSquares(out: number, n: number, K: number, x: number, w: number, centered: number): number;
  // assembly/crossprod.ts
  crossProducts(out: number, n: number, C: number, x: number): number;
  memberScores(e: number, scores: number, n: number, k: number, x: number, cols: number, ycol: number, coef: number, codes: number, G: number): number;
  membersScoresScratch(B: number): number;
  membersScores(
    ssr: number, scores: number, work: number, n: number, C: number, x: number, B: number, k: number, cols: number, ycol: number, coef: number,
    codes: number, G: number,
  ): number;
  // assembly/hac.ts
  hacTimeMeat(out: number, scores: number, n: number, k: number, x: number, e: number, time: number, T: number, L: number): number;
  hacPanelMeat(out: number, a: number, b: number, n: number, k: number, x: number, e: number, order: number, unit: number, time: number, L: number): number;
  conleyMeat(out: number, G: number, k: number, scores: number, lat: number, lon: number, cutoff: number, distance: number): number;
  // assembly/f32.ts
  widenF32(dst: number, n: number, k: number, src: number): number;
  crossF32(out: number, n: number, ka: number, a: number, kb: number, r: number, w: number): number;
  residualsF32(out: number, n: number, k: number, x: number, y: number, coef: number): number;
  // assembly/rng.ts (state: RNG_STATE_BYTES, engine/context.ts), assembly/permute.ts (placebo draws)
  rngStream(out: number, rng: number, keyHi: number, keyLo: number, stream: number, m: number): number;
  orthonormalize(x: number, keep: number, n: number, k: number, tol: number): number;
  projectOut(v: number, n: number, k: number, q: number, K: number): number;
  basisColumns(out: number, n: number, unit: number, yearIdx: number, K: number, unitK: number, tK: number): number;
  unitYearAggregate(
    out: number, cell: number, n: number, K: number, v: number, w: number, unit: number, yearIdx: number, U: number, T: number,
    C: number, cohortT: number,
  ): number;
  treatColumns(out: number, n: number, unit: number, yearIdx: number, U: number, K: number, assign: number, cohortT: number): number;
  treatStats(num: number, den: number, raw: number, n: number, K: number, d: number, dt: number, sw: number, e: number): number;
  permDraws(
    outAssign: number, outB: number, work: number, assign: number, idx: number, rng: number, scheme: number, U: number, keyHi: number,
    keyLo: number, d0: number, nd: number, nStrata: number, strataStart: number, order: number, cohort0: number, nCand: number,
    cand: number, given: number, C: number, gram: number, g: number, raw: number, collinTol: number,
  ): number;
  // assembly/wild.ts
  clusterColumns(out: number, n: number, x: number, sw: number, codes: number, g0: number, K: number): number;
  clusterCross(out: number, n: number, K: number, z: number, y: number, codes: number, G: number): number;
  wildWeights(v: number, rng: number, kind: number, enumerate: number, G: number, keyHi: number, keyLo: number, d0: number, nd: number): number;
  wildDraws(sy: number, sx: number, out: number, G: number, nd: number, cy: number, cx: number, ay: number, ax: number, v: number): number;
  // assembly/glm.ts (the per-step passes of the fepois / feglm IRLS; family 0 Poisson, 1 logit, 2 probit)
  glmStart(eta: number, mu: number, n: number, family: number, y: number, pw: number): number;
  glmDeviance(out: number, n: number, family: number, y: number, mu: number, pw: number): number;
  glmLinkinv(mu: number, out: number, n: number, family: number, eta: number, y: number, pw: number): number;
  glmWorking(
    z: number, w: number, r: number, m0: number, n: number, family: number, y: number, eta: number, mu: number, off: number,
    pw: number, feZ: number,
  ): number;
  glmEta(eta: number, feZ: number, n: number, K: number, m: number, x: number, cols: number, beta: number, z: number, off: number): number;
  glmHalve(eta: number, n: number, etaOld: number): number;
  glmCross(A: number, b: number, n: number, K: number, m: number, x: number, cols: number, w: number, zt: number): number;
  // assembly/logit.ts, assembly/match.ts (PSM)
  logitScratch(n: number, k: number): number;
  logitIrls(
    coef: number, vcov: number, eta: number, mu: number, info: number, scratch: number, n: number, k: number, x: number,
    y: number, w: number, tol: number, maxIter: number, strict: number,
  ): number;
  nnMatchScratch(n: number): number;
  nnMatch(
    ordT: number, matchTR: number, scratch: number, n: number, dist: number, treat: number, strata: number, ratio: number,
    replace: number, caliper: number, order: number, compat: number,
  ): number;
  matchWeights(weights: number, counts: number, n: number, treat: number, n1: number, ratio: number, matchTR: number): number;
}
