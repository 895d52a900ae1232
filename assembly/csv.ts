// The CSV fast path's parsing loop (issue 14; driven by bindings/platform/csv-wasm.ts): whole
// lines of a plain CSV (no quotes, ASCII, one delimiter byte) split into fields, and the wanted
// fields' numbers parsed straight from the bytes into f64 destinations in the arena (the placed
// model matrix, or a scratch block), with exactly the semantics of bindings/io/csv.ts
// AutoColumn.add: the exact path for <= 15 significant digits (Eisel-Lemire beyond 10^+-22);
// 16-19 digits with a point or an exponent by Eisel-Lemire on the exact u64 significand
// (eiselLemire: the correctly rounded double, Number()'s), and when it cannot decide, without
// an exponent, the double-double reading (bindings/io/decimal.ts readLongDecimal's value, ported operation for operation:
// plain IEEE f64, no FMA, so the bits are JavaScript's; its "is the text canonical" flag is
// not needed, see longDecimal). Digits are read 8 at a time (SWAR) into an exact u64 while
// there are <= 19 significant ones. Anything else in a wanted field (a missing-value token,
// an empty field, inf, spaces, a long integer, an undecided long number, text) is not guessed:
// it is written as an exception record
// (row, field, start, end) for the binding to resolve with the built-in reader's own code.
// Structural surprises (a quote, a byte >= 0x80, a row with another field count) stop the call
// with a reason: the binding then gives up the fast path.
//
// State: the context block of assembly/context.ts (CSV_*), written by the binding before each
// call; nothing survives in the module. Blank lines (CR or LF at a row start) are skipped, CR,
// LF and CRLF end a line, as in csv.ts. Only whole lines are parsed: a line that runs past the
// end of the buffer is left (CSV_USED stops at its start) for the next call.
import { OK, BAD_ARGUMENT } from "./status";
import { POW10_QMIN, POW10_QMAX, POW10_128 } from "./pow10-table";
import { CSV_NCOL, CSV_DELIM, CSV_ROWCAP, CSV_EXCCAP, CSV_SLOTS, CSV_ROWS, CSV_EXC, CSV_USED, CSV_STOP } from "./context";

/** the buffer ended: more input (or the end of the file) is needed */
export const CSV_STOP_INPUT: i32 = 0;
/** CSV_ROWCAP rows were parsed */
export const CSV_STOP_ROWS: i32 = 1;
/** the exception buffer could not hold another row's records */
export const CSV_STOP_EXC: i32 = 2;
/** a '"' byte (quoting is the built-in reader's business) */
export const CSV_STOP_QUOTE: i32 = 3;
/** a byte >= 0x80 (the encoding is decided on the whole file by the built-in reader) */
export const CSV_STOP_HIGH: i32 = 4;
/** a row whose field count is not CSV_NCOL (the built-in reader's error names it) */
export const CSV_STOP_FIELDS: i32 = 5;

const LF: u32 = 10;
const CR: u32 = 13;
const QUOTE: u32 = 34;
const SPLIT: f64 = 134217729.0; // 2^27 + 1 (Dekker)

/** 10^k for 0 <= k <= 22 (exact doubles) */
@inline function p10(k: i32): f64 {
  switch (k) {
    case 0: return 1e0;
    case 1: return 1e1;
    case 2: return 1e2;
    case 3: return 1e3;
    case 4: return 1e4;
    case 5: return 1e5;
    case 6: return 1e6;
    case 7: return 1e7;
    case 8: return 1e8;
    case 9: return 1e9;
    case 10: return 1e10;
    case 11: return 1e11;
    case 12: return 1e12;
    case 13: return 1e13;
    case 14: return 1e14;
    case 15: return 1e15;
    case 16: return 1e16;
    case 17: return 1e17;
    case 18: return 1e18;
    case 19: return 1e19;
    case 20: return 1e20;
    case 21: return 1e21;
    default: return 1e22;
  }
}

/** 2^-k as a double (exact) */
@inline function pow2neg(k: i32): f64 {
  return reinterpret<f64>(<u64>(1023 - k) << 52);
}

/** the low part of a * b = p exactly (Dekker's product, as decimal.ts twoProd) */
@inline function twoProdErr(a: f64, b: f64, p: f64): f64 {
  const t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  const u = SPLIT * b;
  const bh = u - (u - b), bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

@inline function byteAt(b: usize, p: i32): u32 {
  return <u32>load<u8>(b + <usize>p);
}

/** Are the 8 bytes of x (little-endian: the first byte lowest) all ASCII digits? (simdjson's test) */
@inline function eightDigits(x: u64): bool {
  return ((x & 0xf0f0f0f0f0f0f0f0) | (((x + 0x0606060606060606) & 0xf0f0f0f0f0f0f0f0) >> 4)) == 0x3333333333333333;
}

/** The integer the 8 ASCII digits of x spell (simdjson's parse_eight_digits_unrolled). */
@inline function eightValue(x: u64): u64 {
  let v = x & 0x0f0f0f0f0f0f0f0f;
  v = (v * 2561) >> 8;
  v = ((v & 0x00ff00ff00ff00ff) * 6553601) >> 16;
  return ((v & 0x0000ffff0000ffff) * 42949672960001) >> 32;
}

/**
 * decimal.ts readLongDecimal's value for M = hi 10^r + lo significant digits (hi: the first
 * 15, lo: the r <= 4 next ones) scaled by 10^e10, |e10| <= 22: the double-double product or
 * quotient (decimalDD) rounded when both ends of its error interval round to the same double
 * (roundDD), else NaN (undecided: Number() decides in JS). AutoColumn.add takes this value
 * whenever readLongDecimal decides it and its canonical flag is decided too; when the flag is
 * undecided it takes Number() of the text, which is the same correctly rounded double (the
 * flag only says whether the text is what String(v) prints, which a numeric column never
 * uses), so the flag is not computed here.
 */
function longDecimal(hi: f64, r: i32, lo: f64, e10: i32): f64 {
  if (hi == 0 || e10 > 22 || e10 < -22) return NaN; // no significant digit: undecided in decimal.ts
  let mh = hi, ml: f64 = 0;
  if (r > 0) {
    const q = p10(r);
    const pp = hi * q;
    const pe = twoProdErr(hi, q, pp);
    const s1 = pp + lo;
    const bb = s1 - pp;
    const se = pp - (s1 - bb) + (lo - bb);
    const t = se + pe;
    mh = s1 + t;
    ml = t - (mh - s1);
  }
  let dh: f64, dl: f64;
  if (e10 >= 0) {
    const d = p10(e10);
    const pp = mh * d;
    const t = twoProdErr(mh, d, pp) + ml * d;
    dh = pp + t;
    dl = t - (dh - pp);
  } else {
    const d = p10(-e10);
    const q1 = mh / d;
    const pp = q1 * d;
    const pe = twoProdErr(q1, d, pp);
    const rr = (mh - pp - pe + ml) / d;
    dh = q1 + rr;
    dl = rr - (dh - q1);
  }
  const eps = Math.abs(dh) * pow2neg(96);
  const ra = dl + eps, rb = dl - eps;
  return dh + ra == dh && dh + rb == dh ? dh : NaN;
}

/** The high 64 bits of the 128-bit product a b (32-bit limbs: WASM has no 64 x 64 -> 128). */
@inline function mulHi64(a: u64, b: u64): u64 {
  const al = a & 0xffffffff, ah = a >> 32, bl = b & 0xffffffff, bh = b >> 32;
  const ll = al * bl, lh = al * bh, hl = ah * bl;
  const cross = (ll >> 32) + (lh & 0xffffffff) + hl; // < 2^64
  return ah * bh + (lh >> 32) + (cross >> 32);
}

/**
 * The double nearest w 10^q (w != 0 exact, POW10_QMIN <= q <= POW10_QMAX), or NaN when it cannot be
 * decided here (then Number() decides in JS): the Eisel-Lemire algorithm as Go strconv
 * eiselLemire64 (from Wuffs; Lemire, "Number Parsing at a Gigabyte per Second"): w normalised,
 * times the truncated 128-bit mantissa of 10^q (assembly/pow10-table.ts), the product's top
 * 54 bits rounded to 53, with its two ambiguity checks (the truncation could carry into the
 * kept bits; an exact halfway point) answered by "undecided", never guessed. Every double it
 * returns is the correctly rounded one, so it is Number()'s and the built-in reader's.
 */
function eiselLemire(w: u64, q: i32): f64 {
  if (w == 0 || q < POW10_QMIN || q > POW10_QMAX) return NaN;
  const lz = clz<u64>(w);
  const man = w << lz;
  let exp2 = <i64>(((217706 * q) >> 16) + 64 + 1023) - <i64>lz;
  const e = POW10_128 + (<usize>(q - POW10_QMIN) << 4);
  const thi = load<u64>(e);
  let xHi = mulHi64(man, thi);
  let xLo = man * thi;
  if ((xHi & 0x1ff) == 0x1ff && xLo + man < man) {
    // the neglected low half of the entry could carry: widen the product with it
    const tlo = load<u64>(e, 8);
    const yHi = mulHi64(man, tlo), yLo = man * tlo;
    let mHi = xHi;
    const mLo = xLo + yHi;
    if (mLo < xLo) mHi++;
    if ((mHi & 0x1ff) == 0x1ff && mLo + 1 == 0 && yLo + man < man) return NaN;
    xHi = mHi;
    xLo = mLo;
  }
  const msb = xHi >> 63;
  let mant = xHi >> (msb + 9);
  exp2 -= <i64>(1 ^ msb);
  if (xLo == 0 && (xHi & 0x1ff) == 0 && (mant & 3) == 1) return NaN; // halfway: undecided
  mant += mant & 1;
  mant >>= 1;
  if (mant >> 53 > 0) {
    mant >>= 1;
    exp2 += 1;
  }
  if (exp2 <= 0 || exp2 >= 0x7ff) return NaN;
  return reinterpret<f64>((<u64>exp2 << 52) | (mant & 0x000fffffffffffff));
}

/** Significant digits of the nd digits from b[ip] (intLen before a point): those after the leading zeros (and the point). */
function sigDigits(b: usize, ip: i32, p: i32, nd: i32, intLen: i32): i32 {
  let q = ip;
  while (q < p) {
    const c = byteAt(b, q);
    if (c != 48 && c != 46) break;
    q++;
  }
  return nd - (q - ip) + (q > ip + intLen ? 1 : 0);
}

/**
 * The number starting at b[s] in a numeric column of csv.ts (AutoColumn.add's grammar
 * [-+]digits[.digits][e[-+]digits] without thousands separators), written to `dest` (NaN when
 * this kernel does not decide it); returns where the grammar stopped (the field ends there
 * when that byte is a delimiter or a line end; len when the buffer ended first).
 */
@inline function parseInto(b: usize, s: i32, len: i32, dest: usize): i32 {
  let p = s;
  let neg = false;
  if (p < len) {
    const c0 = byteAt(b, p);
    if (c0 == 45) {
      neg = true;
      p++;
    } else if (c0 == 43) p++;
  }
  // the digits as an integer (exact while there are <= 19 significant ones; = AutoColumn's m
  // when there are <= 15 digits)
  let M: u64 = 0;
  const ip = p;
  while (p + 8 <= len) {
    const x = load<u64>(b + <usize>p);
    if (!eightDigits(x)) break;
    M = M * 100000000 + eightValue(x);
    p += 8;
  }
  while (p < len) {
    const d = byteAt(b, p) - 48;
    if (d > 9) break;
    M = M * 10 + <u64>d;
    p++;
  }
  const intLen = p - ip;
  let fracLen = 0;
  let dot = false;
  if (p < len && byteAt(b, p) == 46) {
    dot = true;
    p++;
    const fp = p;
    while (p + 8 <= len) {
      const x = load<u64>(b + <usize>p);
      if (!eightDigits(x)) break;
      M = M * 100000000 + eightValue(x);
      p += 8;
    }
    while (p < len) {
      const d = byteAt(b, p) - 48;
      if (d > 9) break;
      M = M * 10 + <u64>d;
      p++;
    }
    fracLen = p - fp;
  }
  const nd = intLen + fracLen;
  let ex = 0;
  let hasExp = false;
  let bad = nd == 0;
  if (p < len && (byteAt(b, p) | 32) == 101 && nd > 0) {
    hasExp = true;
    p++;
    let eneg = false;
    if (p < len) {
      const c = byteAt(b, p);
      if (c == 45 || c == 43) {
        eneg = c == 45;
        p++;
      }
    }
    const ep = p;
    while (p < len) {
      const d = byteAt(b, p) - 48;
      if (d > 9) break;
      if (ex < 100000) ex = ex * 10 + <i32>d;
      p++;
    }
    if (p == ep) bad = true;
    if (eneg) ex = -ex;
  }
  let v: f64 = NaN;
  if (!bad) {
    if (nd > 15) {
      // Number() in JS for an integer (and its 2^53 check), > 19 significant digits, an
      // exponent Eisel-Lemire does not decide (csv.ts takes Number() for every exponent:
      // the correctly rounded double, which Eisel-Lemire's decided value is)
      if (hasExp || dot) {
        // M is exact with <= 19 significant digits (always when nd <= 19), and not 0 when
        // there is a significant digit
        if (M != 0 && (nd <= 19 || sigDigits(b, ip, p, nd, intLen) <= 19)) {
          v = eiselLemire(M, ex - fracLen);
          if (v != v && !hasExp) {
            // undecided by Eisel-Lemire (an exact binary value just above its truncated
            // product, a halfway point, q out of the table): the double-double reading
            const sd = sigDigits(b, ip, p, nd, intLen);
            const r = sd > 15 ? sd - 15 : 0;
            const scale = <u64>p10(r);
            v = longDecimal(<f64>(M / scale), r, <f64>(M % scale), -fracLen);
          }
          if (neg) v = -v;
        }
      }
    } else {
      const e10 = ex - fracLen;
      const m = <f64>M;
      if (e10 == 0) v = m;
      else if (e10 > 0 && e10 <= 22) v = m * p10(e10);
      else if (e10 < 0 && e10 >= -22) v = m / p10(-e10);
      else v = eiselLemire(M, e10); // an exponent beyond 10^22 (csv.ts: Number() of the text)
      if (neg) v = -v;
    }
  }
  store<f64>(dest, v);
  return p;
}

/**
 * Parse whole lines of buf[0, len). For field j of row i (rows counted from 0 in this call),
 * slot j (a u32 pointer in the CSV_SLOTS table, 0 = not read) receives the value at
 * slot + 8 i, or NaN with an exception record [i, j, start, end] (i32, byte offsets into buf)
 * in out_exc. Stops at the end of the input (the unfinished line left), after CSV_ROWCAP rows,
 * when the exception buffer could not hold another row, or at a structural surprise
 * (CSV_STOP_*); CSV_ROWS, CSV_EXC and CSV_USED count the whole rows before the stop.
 */
export function csvParse(out_exc: usize, ctx: usize, buf: usize, len: i32): i32 {
  const ncol = load<i32>(ctx + CSV_NCOL);
  const d = <u32>load<i32>(ctx + CSV_DELIM);
  const rowCap = load<i32>(ctx + CSV_ROWCAP);
  const excCap = load<i32>(ctx + CSV_EXCCAP);
  const slots = <usize>load<u32>(ctx + CSV_SLOTS);
  if (ncol < 1 || len < 0 || rowCap < 0 || excCap < ncol || slots == 0 || d == LF || d == CR || d == QUOTE || d >= 128) return BAD_ARGUMENT;
  let pos = 0; // start of the current line
  let row = 0;
  let nexc = 0;
  let stop = CSV_STOP_INPUT;
  for (;;) {
    // skip blank lines
    while (pos < len) {
      const c = byteAt(buf, pos);
      if (c != LF && c != CR) break;
      pos++;
    }
    if (pos >= len) break;
    if (row >= rowCap) {
      stop = CSV_STOP_ROWS;
      break;
    }
    if (nexc + ncol > excCap) {
      stop = CSV_STOP_EXC;
      break;
    }
    let p = pos;
    let j = 0;
    let rowExc = nexc;
    let whole = false; // the line ended inside the buffer
    let surprise = CSV_STOP_INPUT;
    for (;;) {
      const fs = p;
      const slot = j < ncol ? <usize>load<u32>(slots + (<usize>j << 2)) : 0;
      let c: u32 = 0;
      let number = false; // the grammar ran to the field's end
      if (slot != 0) {
        p = parseInto(buf, fs, len, slot + (<usize>row << 3));
        if (p < len) {
          c = byteAt(buf, p);
          number = c == d || c == LF || c == CR;
        }
      }
      if (!number) {
        while (p < len) {
          c = byteAt(buf, p);
          if (c == d || c == LF || c == CR) break;
          if (c == QUOTE || c >= 128) {
            surprise = c == QUOTE ? CSV_STOP_QUOTE : CSV_STOP_HIGH;
            break;
          }
          p++;
        }
      }
      if (surprise != CSV_STOP_INPUT || p >= len) break; // a surprise, or the line goes on past the buffer
      if (j >= ncol) {
        surprise = CSV_STOP_FIELDS;
        break;
      }
      if (slot != 0) {
        const dest = slot + (<usize>row << 3);
        if (!number) store<f64>(dest, NaN);
        const v = load<f64>(dest);
        if (v != v) {
          const r = out_exc + (<usize>rowExc << 4);
          store<i32>(r, row);
          store<i32>(r + 4, j);
          store<i32>(r + 8, fs);
          store<i32>(r + 12, p);
          rowExc++;
        }
      }
      j++;
      p++;
      if (c != d) {
        whole = true; // a line end
        break;
      }
    }
    if (surprise == CSV_STOP_INPUT && whole && j != ncol) surprise = CSV_STOP_FIELDS;
    if (surprise != CSV_STOP_INPUT) {
      stop = surprise;
      break;
    }
    if (!whole) break;
    row++;
    nexc = rowExc;
    pos = p;
  }
  store<i32>(ctx + CSV_ROWS, row);
  store<i32>(ctx + CSV_EXC, nexc);
  store<i32>(ctx + CSV_USED, pos);
  store<i32>(ctx + CSV_STOP, stop);
  return OK;
}
