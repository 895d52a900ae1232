// Generated panels for benchmarks: n rows of a firm-year panel (10 years per firm),
// optional third FE (city, ~300 levels, firms mostly stay), a treatment and 8 controls.
import { Frame } from "../bindings/frame.js";

export interface GenOptions {
  rows: number;
  years?: number;
  cities?: number;
  seed?: number;
}

function lcg(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function genPanel(o: GenOptions): Frame {
  const n = o.rows, years = o.years ?? 10, cities = o.cities ?? 300;
  const rnd = lcg(o.seed ?? 42);
  const firms = Math.ceil(n / years);
  const firm = new Float64Array(n), year = new Float64Array(n), city = new Float64Array(n);
  const treat = new Float64Array(n), y = new Float64Array(n);
  const X = Array.from({ length: 8 }, () => new Float64Array(n));
  const fa = Float64Array.from({ length: firms }, () => rnd() * 2 - 1);
  const fc = Int32Array.from({ length: firms }, () => Math.floor(rnd() * cities));
  const adopt = Int32Array.from({ length: cities }, () => (rnd() < 0.6 ? 2014 + Math.floor(rnd() * 6) : 9999));
  const norm = () => {
    let s = 0;
    for (let j = 0; j < 6; j++) s += rnd();
    return (s - 3) * 1.41;
  };
  for (let i = 0; i < n; i++) {
    const f = Math.floor(i / years), t = 2011 + (i % years);
    firm[i] = f;
    year[i] = t;
    const c = rnd() < 0.02 ? Math.floor(rnd() * cities) : fc[f];
    city[i] = c;
    treat[i] = t >= adopt[c] ? 1 : 0;
    let v = fa[f] + 0.05 * (t - 2011) + 0.25 * treat[i];
    for (let j = 0; j < 8; j++) {
      const x = norm() + 0.3 * fa[f];
      X[j][i] = x;
      v += 0.1 * (j + 1) * x * 0.1;
    }
    y[i] = v + norm();
  }
  const cols: Record<string, Float64Array> = { y, treat, firm, year, city };
  X.forEach((c, j) => (cols[`x${j + 1}`] = c));
  return Frame.fromColumns(cols);
}

export const CONTROLS = Array.from({ length: 8 }, (_, j) => `x${j + 1}`);
