// Exact reading of decimal numbers with 16 to 19 significant digits (shortest round-trip
// doubles as JavaScript, Python and pandas write them) straight from bytes, without building
// a string for Number() and printing String(v) back to check the text. Browser-safe.
//
// The value M x 10^e (M < 10^19, |e| <= 22) is formed in double-double arithmetic (about 104
// bits): M = hi 10^r + lo exactly, then one exact-product or division step by the power of
// ten. Its rounding to a double is accepted only when both ends of the error interval round
// to the same double; otherwise the caller falls back to Number(). The same machinery says
// whether the text is the one String(v) prints: no number with one digit less reads as v
// (then the text is shortest), and the text is the closest of its length to v.
// Anything it cannot decide is reported as undecided, never guessed.

const P10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) P10.push(p);

const SPLIT = 134217729; // 2^27 + 1 (Dekker)
const EPS_REL = 2 ** -96; // bound on the double-double error, relative (computed ~2^-103)
const HALF_UNIT_REL = 2 ** -50; // rounding of the half-unit of the last digit, relative

// double-double results (no allocation per call)
let dh = 0, dl = 0;

/** (dh, dl) = a * b exactly (Dekker; no FMA in JavaScript). */
function twoProd(a: number, b: number): void {
  const p = a * b;
  const t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  const u = SPLIT * b;
  const bh = u - (u - b), bl = b - bh;
  dh = p;
  dl = ah * bh - p + ah * bl + al * bh + al * bl;
}

/** (dh, dl) = (hi 10^r + lo) 10^e, |error| < 2^-100 |value|; false when |e| > 22. */
function decimalDD(hi: number, r: number, lo: number, e: number): boolean {
  if (e > 22 || e < -22) return false;
  let mh = hi, ml = 0;
  if (r > 0) {
    twoProd(hi, P10[r]);
    const p = dh, pe = dl;
    const s = p + lo; // two-sum of p and lo
    const bb = s - p;
    const se = p - (s - bb) + (lo - bb);
    const t = se + pe;
    mh = s + t;
    ml = t - (mh - s);
  }
  if (e >= 0) {
    const d = P10[e];
    twoProd(mh, d);
    const p = dh;
    const t = dl + ml * d;
    dh = p + t;
    dl = t - (dh - p);
  } else {
    const d = P10[-e];
    const q1 = mh / d;
    twoProd(q1, d);
    const rr = (mh - dh - dl + ml) / d;
    dh = q1 + rr;
    dl = rr - (dh - q1);
  }
  return true;
}

/** The double nearest (dh + dl) when the error interval does not straddle a rounding point, else NaN. */
function roundDD(): number {
  const eps = Math.abs(dh) * EPS_REL;
  const a = dl + eps, b = dl - eps;
  return dh + a === dh && dh + b === dh ? dh : NaN;
}

// neighbouring doubles through the bits (v > 0, finite)
const F = new Float64Array(1);
const U = new Uint32Array(F.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1; // index of the low word

function nextUp(v: number): number {
  F[0] = v;
  if (U[LOW] === 0xffffffff) {
    U[LOW] = 0;
    U[1 - LOW]++;
  } else U[LOW]++;
  return F[0];
}

function nextDown(v: number): number {
  F[0] = v;
  if (U[LOW] === 0) {
    U[LOW] = 0xffffffff;
    U[1 - LOW]--;
  } else U[LOW]--;
  return F[0];
}

export interface LongDecimal {
  /** the value (correctly rounded), or NaN when undecided: use Number() on the text */
  value: number;
  /** 1: the text is what String(value) prints; 0: it is not; -1: undecided */
  canonical: number;
}

const out: LongDecimal = { value: NaN, canonical: -1 };

/**
 * Read bytes[s, e) of the form [-+]digits[.digits] (no exponent; the caller has checked the
 * syntax). Returns a shared object (copy what you keep). Digits beyond 19 significant ones,
 * zero, and scales beyond 10^+-22 are undecided.
 */
export function readLongDecimal(b: Uint8Array, s: number, e: number): LongDecimal {
  out.value = NaN;
  out.canonical = -1;
  let p = s;
  const neg = b[p] === 45;
  const plus = b[p] === 43;
  if (neg || plus) p++;
  const ip = p;
  let hi = 0, lo = 0, sd = 0, r = 0, intLen = 0, fracLen = 0, dot = false, last = 0;
  for (; p < e; p++) {
    const c = b[p];
    if (c === 46) {
      dot = true;
      continue;
    }
    const d = c - 48;
    if (dot) fracLen++;
    else intLen++;
    last = d;
    if (sd === 0 && d === 0) continue; // leading zeros
    if (sd < 15) hi = hi * 10 + d;
    else {
      lo = lo * 10 + d;
      r++;
    }
    sd++;
    if (sd > 19) return out;
  }
  if (sd === 0) return out;
  const e10 = -fracLen;
  if (!decimalDD(hi, r, lo, e10)) return out;
  const xh = dh, xl = dl;
  const v = roundDD();
  if (v !== v) return out;
  out.value = neg ? -v : v;
  // what String(v) cannot print: a sign "+", no digit before the point, a leading zero, a
  // trailing zero after the point, an integer (JavaScript pads shortest digits with zeros:
  // left to the caller), magnitudes under 1e-6 (exponent form)
  if (plus || !dot || intLen === 0 || fracLen === 0 || last === 0 || (intLen > 1 && b[ip] === 48) || v < 1e-6) {
    out.canonical = !dot ? -1 : 0;
    return out;
  }
  // shortest: neither neighbour with one digit less reads as v. They sit d and 10 - d units
  // of the last digit below and above x (d = the last digit); each reads as v when it is
  // within half the gap to the adjacent double on its side.
  const unit = 1 / P10[-e10];
  const gapUp = nextUp(v) - v, gapDown = v - nextDown(v);
  const eps = Math.abs(xh) * EPS_REL;
  for (let side = 0; side < 2; side++) {
    const off = side === 0 ? -last * unit : (10 - last) * unit; // t - x
    const t = xl + off; // t - v (xl is x - v, within eps)
    const gap = (t >= 0 ? gapUp : gapDown) / 2;
    const err = eps + Math.abs(off) * 2 ** -50;
    const dist = Math.abs(t);
    if (dist + err < gap) {
      out.canonical = 0;
      return out;
    }
    if (!(dist - err > gap)) return out;
  }
  // closest of its length: |x - v| against half a unit of the last digit
  const half = unit / 2;
  const dist = Math.abs(xl);
  if (dist + eps < half * (1 - HALF_UNIT_REL)) out.canonical = 1;
  else if (dist - eps > half * (1 + HALF_UNIT_REL)) out.canonical = 0;
  return out;
}
