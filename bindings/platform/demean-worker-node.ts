// The demeaning worker (Node worker_threads), kept as source text so that it runs the same
// from the TypeScript sources (tsx, vitest) and from the esbuild bundle (dist/cli.js),
// without a loader for a separate .ts file. bindings/platform/demean-node.ts starts it with
// `new Worker(DEMEAN_WORKER_SOURCE, { eval: true, workerData: { module, port } })`.
//
// Protocol (one job at a time per worker):
//   in  (parentPort message): { n, Q, K, groups, types, codes: SAB int32 Q*n,
//        slopes: (SAB f64 n | null)[Q], w: SAB f64 n | null, x: SAB f64 n*K (in and out),
//        tol, maxIter, algo, switchAfter, info: SAB f64 4, state: SAB int32 2 }
//   out: x overwritten with the demeaned columns, info = the kernel's info vector,
//        state[1] = kernel status, then state[0] = 1 (done) or 2 (failed: the error text is
//        posted on `port`), and Atomics.notify(state, 0).
// The worker makes a fresh WASM instance of the compiled module for each job (cheap from a
// compiled module) so that its memory is released after a large job.

export const DEMEAN_WORKER_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { module, port } = workerData;
const PAGE = 65536;
const a16 = (x) => Math.ceil(x / 16) * 16;

function run(job) {
  const inst = new WebAssembly.Instance(module, {
    env: {
      abort(_m, _f, line, col) {
        throw new Error("WASM abort at " + line + ":" + col);
      },
    },
  });
  const k = inst.exports;
  const mem = k.memory;
  const { n, Q, K } = job;
  // layout: small arrays first (the scratch size needs groups and types in memory)
  let top = a16(k.heapBase() >>> 0);
  const take = (bytes) => {
    const p = top;
    top = a16(top + bytes);
    return p;
  };
  const grow = () => {
    const have = mem.buffer.byteLength;
    if (top > have) mem.grow(Math.ceil((top - have) / PAGE));
  };
  const groups = take(Q * 4), types = take(Q * 4), zp = take(Q * 4), info = take(32), ctx = take(job.ctxBytes);
  grow();
  new Int32Array(mem.buffer, groups, Q).set(job.groups);
  new Int32Array(mem.buffer, types, Q).set(job.types);
  const need = k.demeanScratch(Q, groups, types, K);
  const codes = take(Q * n * 4);
  const slopes = job.slopes.map((s) => (s ? take(n * 8) : 0));
  const w = job.w ? take(n * 8) : 0;
  const x = take(n * K * 8);
  const scratch = take(need * 8);
  if (top > 4294967296) throw new Error("worker needs " + top + " bytes of WASM memory, more than 4 GiB");
  grow();
  const buf = mem.buffer;
  new Int32Array(buf, codes, Q * n).set(new Int32Array(job.codes));
  const zv = new Int32Array(buf, zp, Q);
  job.slopes.forEach((s, q) => {
    zv[q] = slopes[q];
    if (s) new Float64Array(buf, slopes[q], n).set(new Float64Array(s));
  });
  if (w) new Float64Array(buf, w, n).set(new Float64Array(job.w));
  new Float64Array(buf, x, n * K).set(new Float64Array(job.x));
  const c = job.ctx;
  const ci = new Int32Array(buf, ctx, job.ctxBytes / 4);
  ci.fill(0);
  const put = (f, v) => (ci[c[f] / 4] = v);
  put("n", n); put("Q", Q); put("Kmax", K); put("codes", codes); put("groups", groups); put("types", types);
  put("z", zp); put("w", w); put("maxIter", job.maxIter); put("algo", job.algo); put("switchAfter", job.switchAfter);
  new Float64Array(buf, ctx + c.tol, 1)[0] = job.tol;
  const st = k.demean(x, info, scratch, ctx, x);
  new Float64Array(job.x).set(new Float64Array(mem.buffer, x, n * K));
  new Float64Array(job.info).set(new Float64Array(mem.buffer, info, 4));
  return st;
}

parentPort.on("message", (job) => {
  const state = new Int32Array(job.state);
  try {
    state[1] = run(job);
    Atomics.store(state, 0, 1);
  } catch (e) {
    port.postMessage(String((e && e.stack) || e));
    Atomics.store(state, 0, 2);
  }
  Atomics.notify(state, 0);
});
`;
