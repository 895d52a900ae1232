// Text-encoding evidence for the CSV reader: streaming UTF-8 and GBK validators that count valid
// characters and invalid sequences over the whole input, and the rule that picks the encoding
// from those counts. Browser-safe.
//
// The rule ("auto"): UTF-8 unless the bytes are not valid UTF-8 in a way GBK explains, decided on
// the counts of the whole input, never on one stray byte. GBK is chosen only when
//  - the input is not valid UTF-8 and, when it has any valid multi-byte UTF-8 character, there are
//    at least MIN_BAD_UTF8 runs of invalid UTF-8 sequences (adjacent invalid sequences are one run:
//    one stray byte, or a byte inserted into a character, makes a single run), more
//    than the valid three-byte
//    UTF-8 characters (CJK text in UTF-8, rare by accident in GBK) and more than a quarter of all
//    valid multi-byte UTF-8 characters (GBK text is often valid two-byte UTF-8 by accident, as
//    证券 is), so a UTF-8 file with text and a few bad bytes stays UTF-8: its valid characters are
//    never re-decoded (without any valid multi-byte character there is nothing to re-decode, and
//    one stray byte among ASCII is never a GB2312 pair: its second byte is ASCII),
//  - GBK decodes the input with (almost) no errors: at most one invalid GBK sequence per
//    GBK_BAD_RATIO valid GBK characters, and
//  - at least 90% of the two-byte GBK characters lie in the GB2312 region (both bytes >= 0xA1), where Chinese
//    text lives; a Latin-1 letter followed by an ASCII letter is a valid GBK pair outside it.

/** Runs of invalid UTF-8 sequences needed before GBK is considered. */
const MIN_BAD_UTF8 = 2;
/** GBK needs at least one invalid UTF-8 sequence per this many valid multi-byte characters. */
const UTF8_BAD_SHARE = 4;
/** At most one invalid GBK sequence per this many valid GBK characters. */
const GBK_BAD_RATIO = 50;

/** 32-bit words over b[s, e) for skipping ASCII four bytes at a time (null for short ranges). */
interface Words {
  w: Uint32Array | null;
  /** index in b of the first byte of w[0] */
  at: number;
}

function wordsOf(b: Uint8Array, s: number, e: number): Words {
  if (e - s < 64) return { w: null, at: 0 };
  const at = s + ((4 - ((b.byteOffset + s) & 3)) & 3);
  return { w: new Uint32Array(b.buffer, b.byteOffset + at, (e - at) >> 2), at };
}

/** The first index from i (b[i] < 0x80) on whose byte is not ASCII, or e. */
function asciiEnd(b: Uint8Array, words: Words, i: number, e: number): number {
  const w = words.w;
  if (w !== null && e - i >= 16) {
    while (i < e && ((i - words.at) & 3) !== 0) {
      if (b[i] >= 0x80) return i;
      i++;
    }
    let k = (i - words.at) >> 2;
    const nw = w.length;
    while (k < nw && (w[k] & 0x80808080) === 0) k++;
    i = words.at + (k << 2);
  }
  while (i < e && b[i] < 0x80) i++;
  return i;
}

/** Streaming UTF-8 validator (WHATWG decoder semantics: each maximal invalid subpart is one error). */
export class Utf8Stats {
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;
  private pos = 0;
  private seqStart = 0;
  /** Valid multi-byte characters. */
  ok = 0;
  /** Valid three- and four-byte characters (CJK text in UTF-8; rare by accident in GBK). */
  ok3 = 0;
  private len = 0;
  /** Invalid sequences. */
  bad = 0;
  /** Runs of invalid sequences not separated by ASCII or a three-byte character (a byte inserted into a
   *  character can leave a valid two-byte character between two invalid pieces): one stray byte makes
   *  one run. */
  runs = 0;
  private inRun = false;
  /** Byte offset where the first invalid sequence starts (-1: none). */
  firstBad = -1;

  feed(b: Uint8Array, s = 0, e = b.length): void {
    let need = this.need;
    let lo = this.lo;
    let hi = this.hi;
    const base = this.pos - s;
    const words = wordsOf(b, s, e);
    for (let i = s; i < e; i++) {
      const c = b[i];
      if (need === 0) {
        if (c < 0x80) {
          // skip an ASCII run
          this.inRun = false;
          i = asciiEnd(b, words, i, e) - 1;
          continue;
        }
        this.seqStart = base + i;
        this.len = c >= 0xe0 ? 3 : 2;
        if (c >= 0xc2 && c <= 0xdf) {
          need = 1;
          lo = 0x80;
          hi = 0xbf;
        } else if (c === 0xe0) {
          need = 2;
          lo = 0xa0;
          hi = 0xbf;
        } else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) {
          need = 2;
          lo = 0x80;
          hi = 0xbf;
        } else if (c === 0xed) {
          need = 2;
          lo = 0x80;
          hi = 0x9f;
        } else if (c === 0xf0) {
          need = 3;
          lo = 0x90;
          hi = 0xbf;
        } else if (c >= 0xf1 && c <= 0xf3) {
          need = 3;
          lo = 0x80;
          hi = 0xbf;
        } else if (c === 0xf4) {
          need = 3;
          lo = 0x80;
          hi = 0x8f;
        } else {
          this.error(base + i);
        }
      } else if (c < lo || c > hi) {
        // the sequence so far is one error; this byte starts over
        this.error(this.seqStart);
        need = 0;
        lo = 0x80;
        hi = 0xbf;
        i--;
      } else {
        lo = 0x80;
        hi = 0xbf;
        if (--need === 0) {
          this.ok++;
          if (this.len === 3) {
            this.ok3++;
            this.inRun = false;
          }
        }
      }
    }
    this.need = need;
    this.lo = lo;
    this.hi = hi;
    this.pos = base + e;
  }

  /** End of input: an unfinished sequence is an error. */
  end(): void {
    if (this.need > 0) {
      this.error(this.seqStart);
      this.need = 0;
    }
  }

  private error(at: number): void {
    if (this.bad === 0) this.firstBad = at;
    this.bad++;
    if (!this.inRun) this.runs++;
    this.inRun = true;
  }
}

/** Streaming GBK validator (the WHATWG gbk decoder: 0x80, two-byte and four-byte GB18030 sequences). */
export class GbkStats {
  private pend = new Uint8Array(3);
  private nPend = 0;
  private pos = 0;
  private seqStart = 0;
  private thirdAt = 0;
  /** Valid two-byte characters. */
  ok2 = 0;
  /** Two-byte characters with both bytes >= 0xA1 (the GB2312 region: hanzi and full-width symbols). */
  gb2312 = 0;
  /** Valid four-byte sequences and single 0x80 bytes. */
  okOther = 0;
  /** Single 0x80 bytes (the euro sign). */
  euro = 0;
  bad = 0;
  firstBad = -1;

  feed(b: Uint8Array, s = 0, e = b.length): void {
    const p = this.pend;
    let n = this.nPend;
    const base = this.pos - s;
    const words = wordsOf(b, s, e);
    for (let i = s; i < e; i++) {
      const c = b[i];
      if (n === 0) {
        if (c < 0x80) {
          i = asciiEnd(b, words, i, e) - 1;
          continue;
        }
        if (c === 0x80) {
          this.okOther++;
          this.euro++;
          continue;
        }
        if (c === 0xff) {
          this.error(base + i);
          continue;
        }
        this.seqStart = base + i;
        p[0] = c;
        n = 1;
      } else if (n === 1) {
        if (c >= 0x30 && c <= 0x39) {
          p[1] = c;
          n = 2;
        } else if ((c >= 0x40 && c <= 0x7e) || (c >= 0x80 && c <= 0xfe)) {
          this.ok2++;
          if (p[0] >= 0xa1 && c >= 0xa1) this.gb2312++;
          n = 0;
        } else {
          this.error(this.seqStart);
          n = 0;
          if (c < 0x80) i--; // an ASCII byte is read again
        }
      } else if (n === 2) {
        if (c >= 0x81 && c <= 0xfe) {
          p[2] = c;
          this.thirdAt = base + i;
          n = 3;
        } else {
          // the lead and the digit are one error; this byte is read again
          this.error(this.seqStart);
          n = 0;
          i--;
        }
      } else {
        if (c >= 0x30 && c <= 0x39) {
          this.okOther++;
          n = 0;
        } else {
          // an error; the third byte starts over as a lead and this byte is read again
          this.error(this.seqStart);
          p[0] = p[2];
          this.seqStart = this.thirdAt;
          n = 1;
          i--;
        }
      }
    }
    this.nPend = n;
    this.pos = base + e;
  }

  end(): void {
    if (this.nPend > 0) {
      this.error(this.seqStart);
      this.nPend = 0;
    }
  }

  private error(at: number): void {
    if (this.bad === 0) this.firstBad = at;
    this.bad++;
  }
}

/** The "auto" rule on the counts seen so far (see the top of this file). */
export function chooseEncoding(u8: Utf8Stats, gbk: GbkStats): "utf8" | "gbk" {
  const r = u8.runs;
  if (r === 0 || (u8.ok > 0 && (r < MIN_BAD_UTF8 || r * UTF8_BAD_SHARE <= u8.ok || r <= u8.ok3))) return "utf8";
  const good = gbk.ok2 + gbk.okOther;
  if (good === 0 || gbk.bad * GBK_BAD_RATIO > good) return "utf8";
  if (gbk.ok2 === 0 || gbk.gb2312 * 10 < gbk.ok2 * 9) return "utf8";
  return "gbk";
}
