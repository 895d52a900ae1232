// A low-mobility worker + firm + year panel (the hard FE graph of issue 14): workers observed
// every year, a small share of them ("movers") changing firm once, so that worker and firm
// effects are connected only through the movers. Deterministic for a seed. Columns: y, x
// (correlated with the firm effect), w (positive weights), worker, firm, year.
import { Frame } from "../bindings/core/frame.js";
import { xorshift32 } from "../bindings/base/rng.js";

export interface LowMobilityOptions {
  rows: number;
  /** years per worker (default 10) */
  years?: number;
  /** workers per firm on average (default 10) */
  workersPerFirm?: number;
  /** share of workers who change firm once (default 0.03) */
  movers?: number;
  seed?: number;
}

/** The panel as Float64Array columns (ids as numbers). */
export function lowMobilityColumns(o: LowMobilityOptions): Record<string, Float64Array> {
  const years = o.years ?? 10;
  const workers = Math.ceil(o.rows / years);
  const n = workers * years;
  const firms = Math.max(2, Math.round(workers / (o.workersPerFirm ?? 10)));
  const rnd = xorshift32(o.seed ?? 14);
  const norm = () => {
    let s = 0;
    for (let j = 0; j < 6; j++) s += rnd();
    return (s - 3) * 1.41;
  };
  const fa = Float64Array.from({ length: firms }, norm);
  const ya = Float64Array.from({ length: years }, (_, t) => 0.02 * t + 0.1 * norm());
  const worker = new Float64Array(n), firm = new Float64Array(n), year = new Float64Array(n);
  const y = new Float64Array(n), x = new Float64Array(n), w = new Float64Array(n);
  const moverShare = o.movers ?? 0.03;
  for (let i = 0; i < workers; i++) {
    const wa = norm();
    const f0 = Math.floor(rnd() * firms);
    const moves = rnd() < moverShare;
    // a mover's second firm and the year they move (1..years-1)
    const f1 = moves ? Math.floor(rnd() * firms) : f0;
    const at = moves ? 1 + Math.floor(rnd() * (years - 1)) : years;
    for (let t = 0; t < years; t++) {
      const r = i * years + t;
      const f = t < at ? f0 : f1;
      worker[r] = i;
      firm[r] = f;
      year[r] = 2001 + t;
      x[r] = 0.5 * fa[f] + 0.3 * wa + norm();
      y[r] = 0.5 * x[r] + wa + fa[f] + ya[t] + norm();
      w[r] = 0.5 + rnd();
    }
  }
  return { y, x, w, worker, firm, year };
}

export function lowMobilityPanel(o: LowMobilityOptions): Frame {
  return Frame.fromColumns(lowMobilityColumns(o));
}

/** The model of the comparison: weighted, worker + firm + year. */
export const LOWMOB_FORMULA = "y ~ x | worker + firm + year";
