// Plain TypeScript reference implementations of the WASM kernels. They use different
// (simpler, slower) algorithms on purpose: alternating projections in residual space
// without acceleration for demeaning, modified Gram-Schmidt for least squares. Tests
// check the WASM kernels against these, and the benchmarks use them as the baseline.

export interface RefFe {
  codes: Int32Array;
  levels: number;
  /** 0 plain, 1 slope only, 2 FE + slope */
  type: 0 | 1 | 2;
  slope?: Float64Array;
}

/** Project one column off every FE dimension in turn until the largest change is below tol. */
export function refDemean(
  x: Float64Array, fe: RefFe[], w: Float64Array | null, tol = 1e-13, maxIter = 100000,
): { out: Float64Array; iterations: number } {
  const n = x.length;
  const r = x.slice();
  let it = 0;
  for (; it < maxIter; it++) {
    let maxChange = 0;
    for (const d of fe) {
      const G = d.levels;
      if (d.type === 0) {
        const sw = new Float64Array(G), s = new Float64Array(G);
        for (let i = 0; i < n; i++) {
          const wi = w ? w[i] : 1;
          sw[d.codes[i]] += wi;
          s[d.codes[i]] += wi * r[i];
        }
        for (let i = 0; i < n; i++) {
          const g = d.codes[i];
          const m = sw[g] > 0 ? s[g] / sw[g] : 0;
          r[i] -= m;
          if (Math.abs(m) > maxChange) maxChange = Math.abs(m);
        }
      } else {
        const z = d.slope!;
        const a = new Float64Array(G), b = new Float64Array(G), c = new Float64Array(G);
        const r0 = new Float64Array(G), r1 = new Float64Array(G);
        for (let i = 0; i < n; i++) {
          const g = d.codes[i], wi = w ? w[i] : 1;
          a[g] += wi; b[g] += wi * z[i]; c[g] += wi * z[i] * z[i];
          r0[g] += wi * r[i]; r1[g] += wi * z[i] * r[i];
        }
        const c0 = new Float64Array(G), c1 = new Float64Array(G);
        for (let g = 0; g < G; g++) {
          if (d.type === 1) {
            c1[g] = c[g] > 0 ? r1[g] / c[g] : 0;
          } else {
            const det = a[g] * c[g] - b[g] * b[g];
            if (a[g] <= 0) continue;
            if (det <= 1e-12 * a[g] * c[g] || c[g] <= 0) c0[g] = r0[g] / a[g];
            else {
              c0[g] = (c[g] * r0[g] - b[g] * r1[g]) / det;
              c1[g] = (a[g] * r1[g] - b[g] * r0[g]) / det;
            }
          }
        }
        for (let i = 0; i < n; i++) {
          const g = d.codes[i];
          const m = c0[g] + c1[g] * z[i];
          r[i] -= m;
          if (Math.abs(m) > maxChange) maxChange = Math.abs(m);
        }
      }
    }
    if (fe.length === 1 && fe[0].type === 0) {
      it++;
      break;
    }
    if (maxChange < tol) {
      it++;
      break;
    }
  }
  return { out: r, iterations: it };
}

/**
 * Least squares by modified Gram-Schmidt, columns in order; column j is dropped when the
 * squared norm left after orthogonalising is at most tol times its original squared norm.
 */
export function refLeastSquares(
  X: Float64Array[], y: Float64Array, tol = 1e-10,
): { keep: boolean[]; coef: Float64Array; bread: Float64Array } {
  const k = X.length, n = y.length;
  const Qc: Float64Array[] = [];
  const keep: boolean[] = [];
  const R: number[][] = []; // R[r][j] for kept rows r
  const keptIdx: number[] = [];
  for (let j = 0; j < k; j++) {
    const v = X[j].slice();
    const orig = dot(v, v);
    const coefs: number[] = [];
    for (const q of Qc) {
      const c = dot(q, v);
      coefs.push(c);
      for (let i = 0; i < n; i++) v[i] -= c * q[i];
    }
    const nn = dot(v, v);
    if (orig === 0 || nn <= tol * orig) {
      keep.push(false);
      continue;
    }
    keep.push(true);
    const norm = Math.sqrt(nn);
    for (let i = 0; i < n; i++) v[i] /= norm;
    Qc.push(v);
    coefs.push(norm);
    R.push(coefs);
    keptIdx.push(j);
  }
  const m = Qc.length;
  // R upper triangular m x m: column c has coefs[0..c]
  const Rm = new Float64Array(m * m);
  for (let c = 0; c < m; c++) for (let r = 0; r <= c; r++) Rm[r + c * m] = R[c][r];
  const qty = Qc.map((q) => dot(q, y));
  const b = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let s = qty[r];
    for (let c = r + 1; c < m; c++) s -= Rm[r + c * m] * b[c];
    b[r] = s / Rm[r + r * m];
  }
  // Rinv
  const Ri = new Float64Array(m * m);
  for (let c = 0; c < m; c++) {
    Ri[c + c * m] = 1 / Rm[c + c * m];
    for (let r = c - 1; r >= 0; r--) {
      let s = 0;
      for (let l = r + 1; l <= c; l++) s += Rm[r + l * m] * Ri[l + c * m];
      Ri[r + c * m] = -s / Rm[r + r * m];
    }
  }
  const coef = new Float64Array(k);
  const bread = new Float64Array(k * k);
  keptIdx.forEach((j, a) => (coef[j] = b[a]));
  for (let a = 0; a < m; a++)
    for (let bb = 0; bb < m; bb++) {
      let s = 0;
      for (let c = Math.max(a, bb); c < m; c++) s += Ri[a + c * m] * Ri[bb + c * m];
      bread[keptIdx[a] + keptIdx[bb] * k] = s;
    }
  return { keep, coef, bread };
}

export function refGram(X: Float64Array[]): Float64Array {
  const k = X.length;
  const out = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) out[a + b * k] = dot(X[a], X[b]);
  return out;
}

export function refMeatHetero(X: Float64Array[], e: Float64Array): Float64Array {
  const k = X.length, n = e.length;
  const out = new Float64Array(k * k);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) out[a + b * k] += e[i] * e[i] * X[a][i] * X[b][i];
  return out;
}

export function refMeatCluster(X: Float64Array[], e: Float64Array, codes: Int32Array, G: number): Float64Array {
  const k = X.length, n = e.length;
  const S = Array.from({ length: G }, () => new Float64Array(k));
  for (let i = 0; i < n; i++) for (let a = 0; a < k; a++) S[codes[i]][a] += e[i] * X[a][i];
  const out = new Float64Array(k * k);
  for (const s of S) for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) out[a + b * k] += s[a] * s[b];
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
