// Fitted values, residuals and predictions of a fit, as fixest's fitted(), resid() and
// predict(): in sample, y - e in the data's row order (NaN for rows not in the sample); on
// new data, x'b plus the FE coefficients of fixef() and, for varying slopes (fe[x], fe[[x]]),
// each level's slope times x (NaN when a regressor or slope variable is missing or a
// fixed-effect level was not in the estimation sample).
import type { Table } from "apache-arrow";
import type { Fit } from "../estimators/feols.js";
import { Frame } from "../core/frame.js";
import { buildDesign } from "../core/design.js";
import { ColumnError, OptionError } from "../base/errors.js";
import { fixef, rawParts, type FixefResult } from "./fixef.js";

/** Residuals y - yhat on the estimation sample (length nobs, sample order; unweighted). */
export function residuals(fit: Fit): Float64Array {
  return rawParts(fit).resid;
}

/** Fitted values y - e on the estimation sample (length nobs, sample order). */
export function fitted(fit: Fit): Float64Array {
  const { y, resid } = rawParts(fit);
  return y.map((v, i) => v - resid[i]);
}

export interface PredictOptions {
  /** FE coefficients already computed (fixef(fit)), to predict many tables */
  fixef?: FixefResult;
}

/**
 * predict(fit): fitted values for every row of the estimation data (NaN for rows removed);
 * predict(fit, newdata): x'b + FE for each row of newdata.
 */
export function predict(fit: Fit, newdata?: Table | Frame, opts: PredictOptions = {}): Float64Array {
  const I = fit.internals;
  if (newdata === undefined) {
    const out = new Float64Array(I.frame.nrows).fill(NaN);
    const f = fitted(fit);
    I.sample.rows.forEach((r, j) => (out[r] = f[j]));
    return out;
  }
  const frame = newdata instanceof Frame ? newdata : Frame.fromArrow(newdata);
  const n = frame.nrows;
  const f = fit.parsed;
  // the outcome is not needed: a placeholder column stands in for it
  const d = buildDesign(frame, f, { override: { [f.lhs]: new Float64Array(n) } });
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) if (!d.valid[i]) out[i] = NaN;
  fit.coefNames.forEach((name, j) => {
    const b = fit.coefVector[j];
    if (name === "(Intercept)") {
      for (let i = 0; i < n; i++) out[i] += b;
      return;
    }
    const c = d.X[d.xNames.indexOf(name)];
    // a dummy of a factor level absent from newdata is 0 on every row
    if (!c) {
      if (/::/.test(name)) return;
      throw new ColumnError(`regressor "${name}" cannot be built from newdata`, { column: name });
    }
    for (let i = 0; i < n; i++) out[i] += b * c[i];
  });
  if (f.fixef.length) {
    const fe = opts.fixef ?? fixef(fit);
    const dimOf = new Map(fe.dims.map((dm) => [dm.name, dm]));
    for (const term of f.fixef) {
      const name = term.vars.join("^");
      const parts = term.vars.map((v) => frame.codes(v));
      // the term's blocks: its intercepts (plain FE, fe[x]) and its slopes times x (fe[x], fe[[x]])
      const blocks = [
        ...(term.slopeOnly ? [] : [{ dim: dimOf.get(name), z: null as Float64Array | null }]),
        ...term.slopes.map((sl) => ({ dim: dimOf.get(`${name}[[${sl}]]`), z: frame.numeric(sl) })),
      ];
      for (const { dim, z } of blocks) {
        if (!dim) throw new OptionError(`the FE coefficients given (opts.fixef) do not hold "${name}" of this fit`, undefined, "pass fixef(fit) of this fit");
        const byLevel = dim.byLevel;
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(out[i])) continue;
          const label = parts.map((c) => (c.codes[i] < 0 ? null : c.levels[c.codes[i]])).join("_");
          const v = Object.prototype.hasOwnProperty.call(byLevel, label) ? byLevel[label] : undefined;
          out[i] = v === undefined || parts.some((c) => c.codes[i] < 0) ? NaN : out[i] + (z ? v * z[i] : v);
        }
      }
    }
  }
  return out;
}
