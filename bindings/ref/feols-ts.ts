// The same algorithm as the WASM path, written in plain TypeScript: coefficient-space
// Gauss-Seidel demeaning with Irons-Tuck acceleration (plain FEs), Householder QR,
// cluster-robust meat. It is the baseline the benchmarks compare the WASM kernels with
// (same arithmetic, no SIMD, JS typed arrays), and a second opinion in tests.

export interface TsFeolsInput {
  y: Float64Array;
  X: Float64Array[];
  fe: { codes: Int32Array; levels: number }[];
  cluster: { codes: Int32Array; G: number };
  tol?: number;
  maxIter?: number;
  /** loops written out for 2 and 3 FE (same bits as the generic loop) */
  specialised?: boolean;
}

export interface TsFeolsOutput {
  coef: Float64Array;
  se: Float64Array;
  iterations: number;
}

/**
 * Demean K columns (column-major in x, n rows) on plain FEs, in place. `specialised` takes
 * loops written out for 2 and 3 FE (as the WASM kernel has), with the same sums in the same
 * order, so the result has the same bits as the generic loop: the baseline is as specialised
 * as the kernel it is compared with.
 */
export function demeanTs(
  x: Float64Array, n: number, K: number, fe: { codes: Int32Array; levels: number }[], tol = 1e-8, maxIter = 10000, specialised = false,
): number {
  const Q = fe.length;
  const order = fe.map((_, q) => q).sort((a, b) => fe[b].levels - fe[a].levels);
  const dims = order.map((q) => fe[q]);
  const off: number[] = [];
  let T = 0;
  for (const d of dims) {
    off.push(T);
    T += d.levels * K;
  }
  const A = new Float64Array(T), rhs = new Float64Array(T), inv: Float64Array[] = [];
  for (let q = 0; q < Q; q++) {
    const d = dims[q];
    const cnt = new Float64Array(d.levels);
    for (let i = 0; i < n; i++) {
      const g = d.codes[i];
      cnt[g]++;
      for (let k = 0; k < K; k++) rhs[off[q] + g * K + k] += x[k * n + i];
    }
    inv.push(cnt.map((c) => (c > 0 ? 1 / c : 0)));
  }
  const tmp = new Float64Array(Math.max(...dims.map((d) => d.levels)) * K);
  const acc = new Float64Array(K);
  const sweepGeneric = () => {
    for (let q = 0; q < Q; q++) {
      const d = dims[q];
      tmp.fill(0, 0, d.levels * K);
      for (let i = 0; i < n; i++) {
        acc.fill(0);
        for (let r = 0; r < Q; r++) {
          if (r === q) continue;
          const b = off[r] + dims[r].codes[i] * K;
          for (let k = 0; k < K; k++) acc[k] += A[b + k];
        }
        const t = d.codes[i] * K;
        for (let k = 0; k < K; k++) tmp[t + k] += acc[k];
      }
      const iv = inv[q];
      for (let g = 0; g < d.levels; g++)
        for (let k = 0; k < K; k++) A[off[q] + g * K + k] = (rhs[off[q] + g * K + k] - tmp[g * K + k]) * iv[g];
    }
  };
  // the sweep with the other dimensions' lookups written out (Q = 2 or 3): acc = 0 + A[r1] (+ A[r2])
  // in ascending r, exactly as the generic loop adds them
  const sweepSpecial = () => {
    for (let q = 0; q < Q; q++) {
      const d = dims[q], cq = d.codes;
      tmp.fill(0, 0, d.levels * K);
      const r1 = q === 0 ? 1 : 0, r2 = Q === 3 ? (q === 2 ? 1 : 2) : -1;
      const c1 = dims[r1].codes, o1 = off[r1];
      const c2 = r2 >= 0 ? dims[r2].codes : c1, o2 = r2 >= 0 ? off[r2] : 0;
      if (r2 < 0) {
        for (let i = 0; i < n; i++) {
          const b1 = o1 + c1[i] * K, t = cq[i] * K;
          for (let k = 0; k < K; k++) tmp[t + k] += 0 + A[b1 + k];
        }
      } else {
        for (let i = 0; i < n; i++) {
          const b1 = o1 + c1[i] * K, b2 = o2 + c2[i] * K, t = cq[i] * K;
          for (let k = 0; k < K; k++) tmp[t + k] += 0 + A[b1 + k] + A[b2 + k];
        }
      }
      const iv = inv[q], oq = off[q];
      for (let g = 0; g < d.levels; g++)
        for (let k = 0; k < K; k++) A[oq + g * K + k] = (rhs[oq + g * K + k] - tmp[g * K + k]) * iv[g];
    }
  };
  const sweep = specialised && (Q === 2 || Q === 3) ? sweepSpecial : sweepGeneric;
  let iters = 0;
  if (Q === 1) {
    sweep();
    iters = 1;
  } else {
    const s0 = off[1], S = T - s0;
    const X = new Float64Array(S), GX = new Float64Array(S);
    sweep();
    while (iters < maxIter) {
      iters++;
      X.set(A.subarray(s0));
      sweep();
      GX.set(A.subarray(s0));
      sweep();
      let crit = 0;
      for (let j = 0; j < S; j++) {
        const a = GX[j], dd = Math.abs(a - A[s0 + j]);
        crit = Math.max(crit, Math.min(dd, dd / (0.1 + Math.abs(a))));
      }
      if (crit <= tol) break;
      const num = new Float64Array(K), den = new Float64Array(K);
      for (let j = 0; j < S; j++) {
        const k = j % K, dg = A[s0 + j] - GX[j], d2 = dg - GX[j] + X[j];
        num[k] += dg * d2;
        den[k] += d2 * d2;
      }
      for (let j = 0; j < S; j++) {
        const k = j % K;
        if (den[k] > 0) A[s0 + j] -= (num[k] / den[k]) * (A[s0 + j] - GX[j]);
      }
    }
    sweep();
  }
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let r = 0; r < Q; r++) {
      const b = off[r] + dims[r].codes[i] * K;
      for (let k = 0; k < K; k++) acc[k] += A[b + k];
    }
    for (let k = 0; k < K; k++) x[k * n + i] -= acc[k];
  }
  return iters;
}

/** y ~ X | fe, clustered: the full pipeline in plain TypeScript (no collinearity handling). */
export function feolsTs(inp: TsFeolsInput): TsFeolsOutput {
  const n = inp.y.length, k = inp.X.length, K = k + 1;
  const M = new Float64Array(n * K);
  M.set(inp.y, 0);
  inp.X.forEach((c, j) => M.set(c, (j + 1) * n));
  const iterations = demeanTs(M, n, K, inp.fe, inp.tol ?? 1e-8, inp.maxIter ?? 10000, inp.specialised ?? false);
  // Householder QR on [X | y]
  const a = M.slice(n); // X columns
  const y = M.slice(0, n);
  const diag = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = j; i < n; i++) s += a[j * n + i] ** 2;
    const nrm = Math.sqrt(s), x0 = a[j * n + j], alpha = x0 > 0 ? -nrm : nrm;
    a[j * n + j] = x0 - alpha;
    const vn = s - x0 * x0 + (x0 - alpha) ** 2;
    diag[j] = alpha;
    for (let jj = j + 1; jj <= k; jj++) {
      const col = jj < k ? a.subarray(jj * n, jj * n + n) : y;
      let d = 0;
      for (let i = j; i < n; i++) d += a[j * n + i] * col[i];
      const f = (2 * d) / vn;
      for (let i = j; i < n; i++) col[i] -= f * a[j * n + i];
    }
  }
  const coef = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    let s = y[j];
    for (let jj = j + 1; jj < k; jj++) s -= a[jj * n + j] * coef[jj];
    coef[j] = s / diag[j];
  }
  // Rinv and bread
  const Ri = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    Ri[c + c * k] = 1 / diag[c];
    for (let r = c - 1; r >= 0; r--) {
      let s = 0;
      for (let l = r + 1; l <= c; l++) s += a[l * n + r] * Ri[l + c * k];
      Ri[r + c * k] = -s / diag[r];
    }
  }
  const bread = new Float64Array(k * k);
  for (let p = 0; p < k; p++)
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let c = Math.max(p, q); c < k; c++) s += Ri[p + c * k] * Ri[q + c * k];
      bread[p + q * k] = s;
    }
  // residuals and cluster meat
  const e = M.slice(0, n);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) e[i] -= coef[j] * M[(j + 1) * n + i];
  const { codes, G } = inp.cluster;
  const S = new Float64Array(G * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < n; i++) S[codes[i] * k + j] += e[i] * M[(j + 1) * n + i];
  const meat = new Float64Array(k * k);
  for (let g = 0; g < G; g++) for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) meat[p + q * k] += S[g * k + p] * S[g * k + q];
  // V = bread meat bread * (n-1)/(n-K) * G/(G-1); FE nested in the cluster are not counted
  const V = new Float64Array(k * k);
  for (let p = 0; p < k; p++)
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let r = 0; r < k; r++) for (let t = 0; t < k; t++) s += bread[p + r * k] * meat[r + t * k] * bread[t + q * k];
      V[p + q * k] = s;
    }
  const Kdof = k + inp.fe.slice(1).reduce((s, f) => s + f.levels - 1, 0) + 1;
  const adj = ((n - 1) / (n - Kdof)) * (G / (G - 1));
  const se = Float64Array.from({ length: k }, (_, j) => Math.sqrt(V[j + j * k] * adj));
  return { coef, se, iterations };
}
