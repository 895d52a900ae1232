// A small seeded PRNG that gives the same numbers in Node and in every browser.
//
// - Seeding: splitmix64 (Steele, Lea & Flood 2014), carried out in 32-bit halves with
//   Math.imul and unsigned shifts: no BigInt, no platform-dependent arithmetic.
// - Generator: xoshiro128** 1.1 (Blackman & Vigna), 128 bits of state in four uint32
//   words, period 2^128 - 1, output with 32-bit operations only.
// - Streams: `fork(stream)` derives a child key from this generator's *key* (not from its
//   current state) and the stream number, so `rng.fork(7)` is the same generator whether
//   the parent has drawn nothing or a million numbers. Independent streams per firm /
//   city / chunk make simulations order- and chunk-independent.
// - Transcendental functions: Math.log / Math.exp / Math.pow are "implementation-
//   approximated" in ECMAScript and differ in the last bit between engines. `dlog` and
//   `dexp` below use only + - * / (correctly rounded IEEE 754, no FMA contraction in JS)
//   and exact bit manipulation, so their results are bit-identical everywhere.
//   Math.sqrt is relied on: every engine lowers it to the IEEE 754 (correctly rounded)
//   hardware square root.

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

// ---------------------------------------------------------------------------
// 64-bit helpers on (hi, lo) uint32 pairs

/** High 32 bits of the 64-bit product of two uint32 values. */
function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** (ah,al) * (bh,bl) mod 2^64, written into out[0] (hi), out[1] (lo). */
function mul64(ah: number, al: number, bh: number, bl: number, out: Uint32Array): void {
  const lo = Math.imul(al, bl) >>> 0;
  const hi = (mulhi32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  out[0] = hi;
  out[1] = lo;
}

const tmp = new Uint32Array(2);

/** The splitmix64 output function (finaliser) applied to (hi, lo); result in out. */
function mix64(hi: number, lo: number, out: Uint32Array): void {
  // z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9
  let l = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
  let h = (hi ^ (hi >>> 30)) >>> 0;
  mul64(h, l, 0xbf58476d, 0x1ce4e5b9, tmp);
  h = tmp[0];
  l = tmp[1];
  // z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
  l = (l ^ ((l >>> 27) | (h << 5))) >>> 0;
  h = (h ^ (h >>> 27)) >>> 0;
  mul64(h, l, 0x94d049bb, 0x133111eb, tmp);
  h = tmp[0];
  l = tmp[1];
  // z ^ (z >>> 31)
  out[0] = (h ^ (h >>> 31)) >>> 0;
  out[1] = (l ^ ((l >>> 31) | (h << 1))) >>> 0;
}

/** 64-bit add of (ah,al) + (bh,bl) into out. */
function add64(ah: number, al: number, bh: number, bl: number, out: Uint32Array): void {
  const lo = (al + bl) >>> 0;
  const carry = lo < al >>> 0 ? 1 : 0;
  out[0] = (ah + bh + carry) >>> 0;
  out[1] = lo;
}

/**
 * The splitmix64 generator: `next()` advances a 64-bit state by the golden gamma and
 * returns the mixed value as [hi, lo] uint32 words. Exposed for seeding and tests.
 */
export class SplitMix64 {
  private hi: number;
  private lo: number;
  private readonly out = new Uint32Array(2);
  constructor(hi: number, lo: number) {
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }
  /** Next output as [hi, lo] (uint32 words; a fresh array each call). */
  next(): [number, number] {
    add64(this.hi, this.lo, 0x9e3779b9, 0x7f4a7c15, this.out);
    this.hi = this.out[0];
    this.lo = this.out[1];
    mix64(this.hi, this.lo, this.out);
    return [this.out[0], this.out[1]];
  }
}

/** Split a seed (integer, |seed| < 2^53) into uint32 words; negatives wrap mod 2^64. */
function seedWords(seed: number): [number, number] {
  if (!Number.isInteger(seed) || Math.abs(seed) > TWO53) {
    throw new RangeError(`seed must be an integer with |seed| <= 2^53, got ${seed}`);
  }
  if (seed >= 0) return [Math.floor(seed / TWO32) >>> 0, seed >>> 0];
  const m = -seed;
  let hi = ~(Math.floor(m / TWO32) >>> 0) >>> 0;
  let lo = ~(m >>> 0) >>> 0;
  lo = (lo + 1) >>> 0;
  if (lo === 0) hi = (hi + 1) >>> 0;
  return [hi, lo];
}

// ---------------------------------------------------------------------------
// Bit-exact transcendental functions

const dv = new DataView(new ArrayBuffer(8));
const LN2_HI = 6.93147180369123816490e-1; // low 32 bits zero: k * LN2_HI exact for |k| < 2^20
const LN2_LO = 1.90821492927058770002e-10;
const LOG2E = 1.4426950408889634;

/** 2^k as a double for integer k in [-1074, 1023]. */
function pow2(k: number): number {
  if (k >= -1022) {
    dv.setUint32(0, 0, true);
    dv.setUint32(4, ((k + 1023) << 20) >>> 0, true);
    return dv.getFloat64(0, true);
  }
  // subnormal: 2^-1022 * 2^(k+1022), exact
  return 2.2250738585072014e-308 * pow2(k + 1022);
}

// 1/n! for the exp Taylor polynomial (computed once; IEEE division is exact-rounded).
const INV_FACT: number[] = [];
{
  let f = 1;
  for (let n = 0; n <= 14; n++) {
    if (n > 0) f *= n;
    INV_FACT.push(1 / f);
  }
}

/** Natural logarithm, bit-identical on every engine (error below 2 ulp). */
export function dlog(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let k = 0;
  dv.setFloat64(0, x, true);
  let hi = dv.getUint32(4, true);
  if (hi < 0x00100000) {
    // subnormal: scale up by 2^54 (exact)
    dv.setFloat64(0, x * 18014398509481984, true);
    hi = dv.getUint32(4, true);
    k = -54;
  }
  k += (hi >>> 20) - 1023;
  dv.setUint32(4, ((hi & 0x000fffff) | 0x3ff00000) >>> 0, true);
  let m = dv.getFloat64(0, true); // in [1, 2)
  if (m > Math.SQRT2) {
    m *= 0.5;
    k += 1;
  }
  // log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  const p =
    1 / 3 +
    s2 *
      (1 / 5 +
        s2 *
          (1 / 7 +
            s2 *
              (1 / 9 +
                s2 *
                  (1 / 11 +
                    s2 * (1 / 13 + s2 * (1 / 15 + s2 * (1 / 17 + s2 * (1 / 19 + s2 * (1 / 21 + s2 / 23)))))))));
  const logm = 2 * s + 2 * s * s2 * p;
  return k * LN2_HI + (logm + k * LN2_LO);
}

/** Exponential, bit-identical on every engine (error below 2 ulp). */
export function dexp(x: number): number {
  if (x !== x) return NaN;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.2) return 0;
  const k = Math.round(x * LOG2E);
  const r = x - k * LN2_HI - k * LN2_LO; // |r| <= 0.3466
  let p = INV_FACT[14];
  for (let n = 13; n >= 0; n--) p = INV_FACT[n] + r * p;
  if (k > 1023) return p * pow2(1023) * pow2(k - 1023);
  if (k < -1022) return p * pow2(-1022) * pow2(k + 1022);
  return p * pow2(k);
}

/** x^a for x > 0 (dexp(a * dlog(x))); 0^a = 0 for a > 0. */
export function dpow(x: number, a: number): number {
  if (x === 0) return a > 0 ? 0 : a === 0 ? 1 : Infinity;
  return dexp(a * dlog(x));
}

/** Logistic function 1 / (1 + e^-x), bit-identical everywhere. */
export function sigmoid(x: number): number {
  return 1 / (1 + dexp(-x));
}

// ---------------------------------------------------------------------------
// The generator

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Seeded xoshiro128** generator. `new Rng(seed)` seeds its 128-bit state with two
 * splitmix64 outputs of the 64-bit seed; the same seed gives the same sequence on any
 * JavaScript engine.
 */
export class Rng {
  private kh: number;
  private kl: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = 0;
  private hasSpare = false;

  constructor(seed = 0) {
    const [hi, lo] = seedWords(seed);
    this.kh = hi;
    this.kl = lo;
    this.seedFromKey();
  }

  /** High word of the 64-bit key this generator was made from (the seed, or a derived key). */
  get keyHi(): number {
    return this.kh;
  }
  /** Low word of the key. */
  get keyLo(): number {
    return this.kl;
  }

  private seedFromKey(): void {
    const sm = new SplitMix64(this.kh, this.kl);
    const [a, b] = sm.next();
    const [c, d] = sm.next();
    this.s0 = a | 0;
    this.s1 = b | 0;
    this.s2 = c | 0;
    this.s3 = d | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // never all-zero
    this.hasSpare = false;
  }

  /** A generator with the given raw xoshiro128** state (for tests against published vectors). */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    r.s0 = state[0] | 0;
    r.s1 = state[1] | 0;
    r.s2 = state[2] | 0;
    r.s3 = state[3] | 0;
    return r;
  }

  /**
   * An independent generator for stream number `stream` (integer in [0, 2^53)). Depends
   * only on this generator's key and `stream`, never on how much has been drawn.
   * Nested forks (`rng.fork(a).fork(b)`) are allowed.
   */
  fork(stream: number): Rng {
    if (!Number.isInteger(stream) || stream < 0 || stream >= TWO53) {
      throw new RangeError(`stream must be an integer in [0, 2^53), got ${stream}`);
    }
    const [sh, sl] = seedWords(stream);
    const out = new Uint32Array(2);
    // key' = mix(mix(key) + (stream + 1) * golden gamma): distinct streams give distinct keys
    mix64(this.kh, this.kl, out);
    add64(sh, sl, 0, 1, tmp); // stream + 1
    mul64(tmp[0], tmp[1], 0x9e3779b9, 0x7f4a7c15, tmp);
    add64(out[0], out[1], tmp[0], tmp[1], out);
    mix64(out[0], out[1], out);
    const child = new Rng(0);
    child.kh = out[0];
    child.kl = out[1];
    child.seedFromKey();
    return child;
  }

  /** Next raw output as an unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO53;
  }

  /** Unbiased integer in [0, n) for integer n in [1, 2^53] (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO53) {
      throw new RangeError(`int(n) needs an integer n in [1, 2^53], got ${n}`);
    }
    if (n <= TWO32) {
      const limit = TWO32 - (TWO32 % n);
      let x = this.nextU32();
      while (x >= limit) x = this.nextU32();
      return x % n;
    }
    const limit = TWO53 - (TWO53 % n);
    let x = this.uniform() * TWO53;
    while (x >= limit) x = this.uniform() * TWO53;
    return x % n;
  }

  /** true with probability p. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Standard normal by Marsaglia's polar method (pairs; the second is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * dlog(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /** exp(mu + sigma * Z). */
  lognormal(mu: number, sigma: number): number {
    return dexp(mu + sigma * this.normal());
  }

  /** Exponential with rate 1. */
  exponential(): number {
    return -dlog(1 - this.uniform());
  }

  /** Pareto type I: xm * U^(-1/alpha), U in (0, 1]. */
  pareto(xm: number, alpha: number): number {
    return xm * dexp(-dlog(1 - this.uniform()) / alpha);
  }

  /** Pareto type I truncated to [xm, hi] (inverse CDF of the truncated law). */
  paretoTrunc(xm: number, alpha: number, hi: number): number {
    const c = 1 - dpow(xm / hi, alpha);
    return xm * dpow(1 - this.uniform() * c, -1 / alpha);
  }

  /**
   * Poisson(lambda): inversion by sequential search for lambda < 30, otherwise a rounded
   * normal approximation (mean lambda, variance lambda, floored at 0).
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      let p = dexp(-lambda);
      let f = p;
      const u = this.uniform();
      let k = 0;
      while (u > f && k < 1000) {
        k++;
        p *= lambda / k;
        f += p;
      }
      return k;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** Index drawn with probability proportional to cum[i] - cum[i-1] (cum: increasing, cum[n-1] = total). */
  pickCumulative(cum: Float64Array | number[]): number {
    const total = cum[cum.length - 1];
    const u = this.uniform() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * A tiny xorshift32 generator of uniforms in [0, 1) for the benchmark panels (fast, not for
 * inference: the placebo, bootstrap and simulation draws use Rng).
 */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
