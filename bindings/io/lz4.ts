// LZ4 frame decompression (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md), used for
// LZ4-compressed Arrow IPC buffers: pyarrow's and R arrow's write_feather() compress with LZ4 by
// default. Decode only; checksums are skipped, not verified. Browser-safe.

import { DataReadError } from "../base/errors.js";

const MAGIC = 0x184d2204;

function bad(why: string): DataReadError {
  return new DataReadError(`corrupt LZ4 data: ${why}`);
}

class Out {
  buf: Uint8Array;
  len = 0;
  constructor(cap: number) {
    this.buf = new Uint8Array(Math.max(64, cap));
  }
  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

function readU32(b: Uint8Array, p: number): number {
  if (p + 4 > b.length) throw bad("truncated");
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/** Decompress one LZ4 block src[s, e) onto `out` (matches may reach back into earlier output). */
function decodeBlock(src: Uint8Array, s: number, e: number, out: Out): void {
  let ip = s;
  while (ip < e) {
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= e) throw bad("truncated literal length");
        b = src[ip++];
        lit += b;
      } while (b === 255);
    }
    if (ip + lit > e) throw bad("literals run past the block");
    out.ensure(lit);
    out.buf.set(src.subarray(ip, ip + lit), out.len);
    out.len += lit;
    ip += lit;
    if (ip >= e) break; // the last sequence has literals only
    if (ip + 2 > e) throw bad("truncated match offset");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > out.len) throw bad("match offset out of range");
    let ml = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= e) throw bad("truncated match length");
        b = src[ip++];
        ml += b;
      } while (b === 255);
    }
    out.ensure(ml);
    const buf = out.buf;
    let m = out.len - offset;
    let op = out.len;
    if (offset >= ml) {
      buf.copyWithin(op, m, m + ml);
      op += ml;
    } else {
      for (let k = 0; k < ml; k++) buf[op++] = buf[m++]; // overlapping copy repeats the pattern
    }
    out.len = op;
  }
}

/** Decompress a buffer of one or more LZ4 frames (skippable frames are skipped). */
export function lz4FrameDecode(src: Uint8Array): Uint8Array {
  let p = 0;
  const out = new Out(src.length * 4);
  while (p < src.length) {
    const magic = readU32(src, p);
    p += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      p += 4 + readU32(src, p); // skippable frame
      continue;
    }
    if (magic !== MAGIC) throw bad("not an LZ4 frame");
    if (p + 3 > src.length) throw bad("truncated frame header");
    const flg = src[p++];
    p++; // BD: block maximum size, not needed
    if (flg >> 6 !== 1) throw bad("unsupported frame version");
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    if (contentSize) {
      const lo = readU32(src, p);
      const hi = readU32(src, p + 4);
      p += 8;
      // a hint only: LZ4 expands at most ~255x, so never trust a larger claim
      const size = hi * 2 ** 32 + lo;
      if (size <= src.length * 256) out.ensure(size);
    }
    if (dictId) throw bad("frames that need a dictionary are not supported");
    p++; // header checksum
    for (;;) {
      const word = readU32(src, p);
      p += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (p + size > src.length) throw bad("truncated block");
      if (word & 0x80000000) {
        out.ensure(size);
        out.buf.set(src.subarray(p, p + size), out.len);
        out.len += size;
      } else {
        decodeBlock(src, p, p + size, out);
      }
      p += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) p += 4;
  }
  return out.buf.subarray(0, out.len);
}
