// Plain TypeScript reference of the LSMR demeaning (assembly/demean-lsmr.ts), for the kernel
// tests: LSMR (Fong & Saunders 2011, scipy's recurrences, no damping) on the explicit sparse
// dummy matrix A = W^1/2 D C, one column at a time, with the column-norm preconditioner C
// (each column of W^1/2 D scaled to unit norm: FixedEffectModels.jl's diagonal
// preconditioner; the kernel's FE + slope blocks are a 2 x 2 variant of it). Different on
// purpose from the kernel: every vector is an N- or P-vector built from the dummy columns,
// the stopping rule is LSMR's own (||A'r|| / (||A|| ||r||) <= atol), and the residuals are
// returned as x - D a.
import type { RefFe } from "./kernels.js";

/** The dummy matrix's columns: for each one, the rows it touches and their values (basis times sqrt(w)). */
function dummyColumns(fe: RefFe[], n: number, w: Float64Array | null): { rows: Int32Array; vals: Float64Array; basis: Float64Array }[] {
  const out: { rows: Int32Array; vals: Float64Array; basis: Float64Array }[] = [];
  for (const d of fe) {
    const bases: ((i: number) => number)[] = d.type === 0 ? [() => 1] : d.type === 1 ? [(i) => d.slope![i]] : [() => 1, (i) => d.slope![i]];
    for (let g = 0; g < d.levels; g++) {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (d.codes[i] === g) idx.push(i);
      for (const b of bases) {
        out.push({ rows: Int32Array.from(idx), vals: Float64Array.from(idx, (i) => b(i) * Math.sqrt(w ? w[i] : 1)), basis: Float64Array.from(idx, b) });
      }
    }
  }
  return out;
}

const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

function symOrtho(a: number, b: number): [number, number, number] {
  if (b === 0) return [Math.sign(a), 0, Math.abs(a)];
  if (a === 0) return [0, Math.sign(b), Math.abs(b)];
  if (Math.abs(b) > Math.abs(a)) {
    const tau = a / b, s = Math.sign(b) / Math.sqrt(1 + tau * tau);
    return [s * tau, s, b / s];
  }
  const tau = b / a, c = Math.sign(a) / Math.sqrt(1 + tau * tau);
  return [c, c * tau, a / c];
}

/**
 * x demeaned on the FE by LSMR: min ||W^1/2 (x - D a)|| over the FE coefficients a; returns the
 * residuals x - D a and the iterations. Stops when ||A'r|| <= atol ||A||_F ||r|| or after maxIter.
 */
export function refLsmrDemean(
  x: Float64Array, fe: RefFe[], w: Float64Array | null, atol = 1e-14, maxIter = 100000,
): { out: Float64Array; iterations: number } {
  const n = x.length;
  const cols = dummyColumns(fe, n, w);
  const scale = cols.map((c) => {
    const s = norm(c.vals);
    return s > 0 ? 1 / s : 0;
  });
  const P = cols.length;
  const Av = (v: Float64Array) => {
    const out = new Float64Array(n);
    cols.forEach((c, j) => {
      const f = v[j] * scale[j];
      if (f !== 0) c.rows.forEach((i, t) => (out[i] += c.vals[t] * f));
    });
    return out;
  };
  const Atu = (u: Float64Array) => Float64Array.from(cols, (c, j) => scale[j] * c.rows.reduce((s, i, t) => s + c.vals[t] * u[i], 0));
  const normA = Math.sqrt(scale.filter((s) => s > 0).length);
  const b = Float64Array.from(x, (v, i) => v * Math.sqrt(w ? w[i] : 1));
  let u = b.slice();
  let beta = norm(u);
  if (beta > 0) u = u.map((v) => v / beta);
  let v = Atu(u);
  let alpha = norm(v);
  if (alpha > 0) v = v.map((t) => t / alpha);
  const y = new Float64Array(P);
  let h = v.slice();
  let hbar = new Float64Array(P);
  let zetabar = alpha * beta, alphabar = alpha, rho = 1, rhobar = 1, cbar = 1, sbar = 0;
  let it = 0;
  const normb = beta;
  while (it < maxIter && alpha * beta !== 0) {
    it++;
    const au = Av(v);
    u = Float64Array.from(au, (t, i) => t - alpha * u[i]);
    beta = norm(u);
    if (beta > 0) {
      u = u.map((t) => t / beta);
      const atu = Atu(u);
      v = Float64Array.from(atu, (t, j) => t - beta * v[j]);
      alpha = norm(v);
      if (alpha > 0) v = v.map((t) => t / alpha);
    }
    const rhoold = rho;
    let c: number, s: number;
    [c, s, rho] = symOrtho(alphabar, beta);
    const thetanew = s * alpha;
    alphabar = c * alpha;
    const rhobarold = rhobar;
    const thetabar = sbar * rho;
    [cbar, sbar, rhobar] = symOrtho(cbar * rho, thetanew);
    const zeta = cbar * zetabar;
    zetabar = -sbar * zetabar;
    hbar = Float64Array.from(h, (t, j) => t - (thetabar * rho / (rhoold * rhobarold)) * hbar[j]);
    for (let j = 0; j < P; j++) y[j] += (zeta / (rho * rhobar)) * hbar[j];
    h = Float64Array.from(v, (t, j) => t - (thetanew / rho) * h[j]);
    // ||A'r|| = |zetabar|; ||r|| from the iterate itself (a reference: no estimate)
    const r = Av(y).map((t, i) => b[i] - t);
    if (Math.abs(zetabar) <= atol * normA * Math.max(norm(r), 1e-300 * normb)) break;
  }
  // x - D a with a = C y
  const out = x.slice();
  cols.forEach((c, j) => {
    const a = y[j] * scale[j];
    if (a !== 0) c.rows.forEach((i, t) => (out[i] -= c.basis[t] * a));
  });
  return { out, iterations: it };
}
