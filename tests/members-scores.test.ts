// membersScores (assembly/crossprod.ts): the residual, SSR and cluster-score pass of many
// members of a multiple-estimation group at once must give, member by member, the bits of
// memberScores followed by colSumSquares (the one-member kernels). Fixed seed; exact
// comparison (same operations in the same order), and BAD_ARGUMENT on bad indices.
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import { Rng } from "../bindings/base/rng.js";
import type { Engine } from "../bindings/engine/wasm.js";

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

describe("membersScores kernel", () => {
  it("equals memberScores + colSumSquares per member, to the bit, over several row blocks and an odd n", () => {
    const rng = new Rng(19);
    const n = 1537, C = 7, G = 41;
    const X = Float64Array.from({ length: n * C }, () => rng.normal());
    const codes = Int32Array.from({ length: n }, () => rng.int(G));
    const members = [
      { cols: [1, 2], y: 0 },
      { cols: [1, 2, 3, 4], y: 5 },
      { cols: [6, 3], y: 0 },
      { cols: [2], y: 6 },
    ];
    const betas = members.map((m, j) => Float64Array.from(m.cols, (_, a) => (j === 1 && a === 2 ? 0 : rng.normal())));
    eng.scoped(() => {
      const xp = eng.putF64(X);
      const cp = eng.putI32(codes);
      const B = members.length;
      const kSum = members.reduce((a, m) => a + m.cols.length, 0);
      const ssr = eng.allocF64(B);
      const sc = eng.allocF64(G * kSum);
      const work = eng.allocF64(eng.kernels.membersScoresScratch(B));
      const kP = eng.putI32(members.map((m) => m.cols.length));
      const colsP = eng.putI32(members.flatMap((m) => m.cols));
      const yP = eng.putI32(members.map((m) => m.y));
      const bP = eng.putF64(Float64Array.from(betas.flatMap((b) => Array.from(b))));
      expect(eng.kernels.membersScores(ssr, sc, work, n, C, xp, B, kP, colsP, yP, bP, cp, G)).toBe(0);
      const ssrAll = eng.getF64(ssr, B);
      const scAll = eng.getF64(sc, G * kSum);
      let off = 0;
      members.forEach((m, j) => {
        const k = m.cols.length;
        const e = eng.allocF64(n);
        const s1 = eng.allocF64(G * k);
        expect(eng.kernels.memberScores(e, s1, n, k, xp, eng.putI32(m.cols), m.y, eng.putF64(betas[j]), cp, G)).toBe(0);
        const ss = eng.allocF64(1);
        expect(eng.kernels.colSumSquares(ss, n, 1, e, 0, 0)).toBe(0);
        expect(Object.is(ssrAll[j], eng.getF64(ss, 1)[0]), `member ${j} ssr`).toBe(true);
        expect(Array.from(scAll.subarray(off, off + G * k)), `member ${j} scores`).toEqual(Array.from(eng.getF64(s1, G * k)));
        off += G * k;
      });
      // without codes: the SSR only
      const ssr2 = eng.allocF64(B);
      expect(eng.kernels.membersScores(ssr2, 0, work, n, C, xp, B, kP, colsP, yP, bP, 0, 0)).toBe(0);
      expect(Array.from(eng.getF64(ssr2, B))).toEqual(Array.from(ssrAll));
      // a column index outside the matrix, a code outside 0..G-1
      const bad = eng.putI32([1, C]);
      expect(eng.kernels.membersScores(ssr, sc, work, n, C, xp, 1, eng.putI32([2]), bad, yP, bP, cp, G)).toBe(3);
      expect(eng.kernels.membersScores(ssr, sc, work, n, C, xp, B, kP, colsP, yP, bP, cp, G - 1)).toBe(3);
    });
  });
});
