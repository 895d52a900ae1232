// The small results an out-of-core engine pulls back for the inference tools, as types: the
// engine side (bindings/sql/) computes them and the tools (bindings/inference/) draw from
// them. The two are sibling floors and may not import each other, so the shapes live here,
// below both, once.

/**
 * The cluster aggregates of the wild bootstrap's partialled model (clusters in label order):
 * x'x (S), bhat, the G x G matrices Cy[g * G + h] = z_g,h'e_y,h and Cx[g * G + h] = z_g,h'x_h,
 * and ay[g] = x_g'e_y,g, ax[g] = x_g'x_g. In memory from the fit's demeaned data
 * (inference/wild.ts clusterAggregates); out of core from per-cluster sums pulled back from the
 * engine (sql/wild-sql.ts).
 */
export interface WildAggregates {
  G: number;
  S: number;
  bhat: number;
  cy: Float64Array;
  cx: Float64Array;
  ay: Float64Array;
  ax: Float64Array;
  warnings: string[];
}

/** One (unit, year) cell of the placebo's sample (sql/placebo-sql.ts makes them, inference/placebo-cells.ts uses them). */
export interface PlaceboCell {
  /** the unit as the engine's text key (null: missing) and, for a numeric unit column, its value */
  unit: string | null;
  unitValue: number | null;
  /** null: missing or not finite */
  year: number | null;
  n: number;
  /** sum w, sum w e_y, sum w d_c per control */
  w: number;
  ey: number;
  ctrl: Float64Array;
  /** adoption years (never = Infinity) min and max */
  adoptMin: number;
  adoptMax: number;
  /** strata min and max (numbers, or text keys), rows with a missing stratum */
  strataMin: number | string | null;
  strataMax: number | string | null;
  strataMissing: number;
  /** rows whose treatment is not 1{year >= adopt} */
  mismatch: number;
}
