// The seeded generator of every kernel that draws (assembly/permute.ts placebo draws,
// assembly/wild.ts bootstrap weights): splitmix64 seeding and xoshiro128** 1.1, bit for bit
// the generator of bindings/base/rng.ts (Rng(seed).fork(stream)), so draws are identical in
// Node and browsers and whatever the split of draws across threads.
//
// The state (4 u32, RNG_STATE_BYTES) lives in memory the binding owns and is passed as a
// pointer (`rng_4`), written by the calls like any output: nothing is kept in the module.
import { OK, BAD_ARGUMENT } from "./status";

/** Bytes of a generator state (bindings/engine/context.ts RNG_STATE_BYTES). */
export const RNG_STATE_BYTES: usize = 16;

const GOLDEN: u64 = 0x9e3779b97f4a7c15;

@inline function mix64(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** Seed rng_4 as `Rng.fork(stream)` of a generator whose key is (keyHi, keyLo). */
export function rngSeedFork(rng_4: usize, keyHi: u32, keyLo: u32, stream: f64): void {
  const key = ((<u64>keyHi) << 32) | <u64>keyLo;
  const child = mix64(mix64(key) + (<u64>stream + 1) * GOLDEN);
  // seedFromKey: two splitmix64 outputs
  const a = mix64(child + GOLDEN);
  const c = mix64(child + GOLDEN + GOLDEN);
  let s0 = <u32>(a >> 32);
  const s1 = <u32>a, s2 = <u32>(c >> 32), s3 = <u32>c;
  if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
  store<u32>(rng_4, s0);
  store<u32>(rng_4, s1, 4);
  store<u32>(rng_4, s2, 8);
  store<u32>(rng_4, s3, 12);
}

/** Next raw 32-bit output of the generator at rng_4 (xoshiro128**). */
export function rngNextU32(rng_4: usize): u32 {
  let s0 = load<u32>(rng_4), s1 = load<u32>(rng_4, 4), s2 = load<u32>(rng_4, 8), s3 = load<u32>(rng_4, 12);
  const r = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  store<u32>(rng_4, s0);
  store<u32>(rng_4, s1, 4);
  store<u32>(rng_4, s2, 8);
  store<u32>(rng_4, s3, 12);
  return r;
}

/** Unbiased integer in [0, n) for 1 <= n <= 2^31 (rejection sampling, as Rng.int). */
export function rngInt(rng_4: usize, n: u32): u32 {
  const limit: u64 = 0x100000000 - (<u64>0x100000000 % <u64>n);
  let x = <u64>rngNextU32(rng_4);
  while (x >= limit) x = <u64>rngNextU32(rng_4);
  return <u32>(x % <u64>n);
}

/** out_M = the first m raw outputs of stream `stream` (for bit-identity tests); rng_4 is the state used. */
export function rngStream(out_M: usize, rng_4: usize, keyHi: u32, keyLo: u32, stream: f64, m: i32): i32 {
  if (m < 0) return BAD_ARGUMENT;
  rngSeedFork(rng_4, keyHi, keyLo, stream);
  for (let i = 0; i < m; i++) store<u32>(out_M + (<usize>i << 2), rngNextU32(rng_4));
  return OK;
}
