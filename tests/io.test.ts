// Data readers (bindings/io). What this file checks:
//
//  1. Corpus: every case of tests/fixtures/messy/expected.json (BOM, GBK + Chinese headers, quoted
//     delimiters/quotes/newlines, NA tokens, thousands separators, CRLF, CR-only, ragged row,
//     duplicated header, unparsable value, semicolon and tab delimiters, all-empty column, empty
//     header names, Inf, mixed ids, unterminated quote, empty file, UTF-16) gives exactly the
//     expected table (row count, names, types, missing/unparsable/infinite counts, values) or the
//     expected error class with the row/line/column it names -- read three ways that must agree:
//     readCsv (one push), createCsvReader with 1-byte chunks, and readFile from disk (node.ts).
//  2. Chunking property (fast-check): random CSV text (UTF-8 or GBK, BOM or not, LF/CRLF, quoted
//     fields with delimiters/quotes/newlines, Chinese text, NA tokens, numbers in many notations),
//     cut into random chunks (anywhere: inside quotes, CRLF pairs, multi-byte characters) gives
//     the same table and report as one push -- or the same error.
//  3. Numbers: any double written with String/toExponential/toPrecision/toFixed reads back as
//     exactly Number(text); a text column keeps the exact text of its numeric-looking values.
//  4. Encoding detection: auto never picks GBK for valid UTF-8, one stray byte in UTF-8 text never
//     makes it GBK, GBK files with Chinese header names are detected (fixed seeds). Invalid text: an
//     error naming column, row and line in a selected column (UTF-8 and GBK), a report note for the
//     columns not read, a column note when every column is read, an error when invalid bytes would
//     merge two values; UTF-16 without BOM and Parquet / Arrow / gzip / zip bytes named .csv are
//     format errors; an id column mixing 7 and A7 reads as text with stringColumns (real files in a
//     temp dir).
//  5. Round trips: CSV table -> Arrow IPC (file and stream) -> table, and -> Parquet -> table, are
//     identical (names, types, values, nulls; 0 and -0 kept apart). Integers beyond 2^53: CSV,
//     Parquet (INT64, UINT64, integer DECIMAL) and Arrow (Int64 over two batches, Uint64) agree:
//     text with the same note when a double cannot hold a value, numbers when it can. LZ4-compressed Feather (the pyarrow/R default;
//     fixture compressed by the reference `lz4` tool) reads correctly, ZSTD is refused clearly; the
//     LZ4 decoder round-trips random data through a test encoder (overlapping matches, long
//     lengths) and never throws anything but DataReadError on corrupt frames.
//  6. Fuzz: a few thousand random and mutated CSV inputs with random options each end in a table
//     or an HdfeError subclass (never another exception), identically for 1 push and 3 chunks.
//  7. numericColumn / codesColumn: multi-batch and sliced tables (null bitmaps at offset + i),
//     Int32/Int64/Float32/Bool conversion, 2^53 guard, first-appearance codes across batches with
//     different dictionaries.
//  8. readTable / formatFromName / readFile: dispatch, column selection, missing files,
//     a CSV larger than the 8 MiB read chunk streamed from disk.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Bool,
  Float32,
  Int32,
  Int64,
  Uint64,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Field,
  Struct,
  Table,
  tableToIPC,
  vectorFromArray,
  Utf8,
  type DataType,
} from "apache-arrow";
import { HdfeError, DataReadError, ColumnError } from "../bindings/base/errors.js";
import { createCsvReader, readCsv, readCsvStream, type CsvOptions } from "../bindings/io/csv.js";
import { readArrowIpc, writeArrowIpc } from "../bindings/io/arrow.js";
import { lz4FrameDecode } from "../bindings/io/lz4.js";
import { readParquet, writeParquet } from "../bindings/io/parquet.js";
import { numericColumn, codesColumn } from "../bindings/io/columns.js";
import { readTable, formatFromName } from "../bindings/io/index.js";
import { readFile } from "../bindings/platform/read-node.js";
import { encodeGbk } from "./fixtures/messy/gbk.mjs";
import { snapshot, type Snapshot } from "./snapshot.js";

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = join(here, "fixtures", "messy");
const utf8 = (s: string) => new TextEncoder().encode(s);

// ------------------------------------------------------------------------------------------------
// helpers


type Outcome = { ok: true; snap: Snapshot; report: unknown } | { ok: false; name: string; message: string };

function outcome(run: () => { table: Table; report: unknown }): Outcome {
  try {
    const { table, report } = run();
    return { ok: true, snap: snapshot(table), report };
  } catch (err) {
    if (!(err instanceof HdfeError)) throw err;
    return { ok: false, name: err.name, message: err.message };
  }
}

function readChunked(bytes: Uint8Array, opts: CsvOptions, cuts: number[]) {
  const r = createCsvReader(opts);
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    r.push(bytes.slice(prev, c));
    prev = c;
  }
  r.push(bytes.slice(prev));
  return r.finish();
}

function readBytewise(bytes: Uint8Array, opts: CsvOptions) {
  const r = createCsvReader(opts);
  const one = new Uint8Array(1);
  for (let i = 0; i < bytes.length; i++) {
    one[0] = bytes[i];
    r.push(one); // the same buffer every time: push() must not keep it
  }
  return r.finish();
}

// ------------------------------------------------------------------------------------------------
// 1. the corpus

interface Case {
  file: string;
  note: string;
  options: CsvOptions;
  expect: {
    error?: string;
    details?: Record<string, unknown>;
    message?: string[];
    rows?: number;
    encoding?: string;
    delimiter?: string;
    names?: string[];
    columns?: Record<string, { type?: string; missing?: number; unparsable?: number; infinite?: number }>;
    values?: Record<string, unknown[]>;
  };
}

const expected = JSON.parse(readFileSync(join(corpusDir, "expected.json"), "utf8")) as { cases: Case[] };

function fromJsonValue(v: unknown): unknown {
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v;
}

function checkCase(c: Case, got: Outcome) {
  const e = c.expect;
  if (e.error) {
    expect(got.ok, `${c.file}: expected ${e.error}`).toBe(false);
    if (got.ok) return;
    expect(got.name).toBe(e.error);
    for (const m of e.message ?? []) expect(got.message).toContain(m);
    return;
  }
  if (!got.ok) throw new Error(`${c.file} (${c.note}): unexpected ${got.name}: ${got.message}`);
  const report = got.report as { rows: number; encoding: string; delimiter: string; columns: { name: string }[] };
  if (e.rows !== undefined) {
    expect(got.snap.rows).toBe(e.rows);
    expect(report.rows).toBe(e.rows);
  }
  if (e.encoding) expect(report.encoding).toBe(e.encoding);
  if (e.delimiter) expect(report.delimiter).toBe(e.delimiter);
  if (e.names) {
    expect(got.snap.names).toEqual(e.names);
    expect(report.columns.map((x) => x.name)).toEqual(e.names);
  }
  for (const [name, want] of Object.entries(e.columns ?? {})) {
    const col = report.columns.find((x) => x.name === name);
    expect(col, `${c.file}: column ${name} in the report`).toBeDefined();
    expect(col).toMatchObject(want);
    const k = got.snap.names.indexOf(name);
    if (want.type === "float64") expect(got.snap.types[k]).toBe("Float64");
    if (want.type === "string") expect(got.snap.types[k]).toBe("Dictionary<Int32, Utf8>");
  }
  for (const [name, want] of Object.entries(e.values ?? {})) {
    const k = got.snap.names.indexOf(name);
    expect(k, `${c.file}: column ${name}`).toBeGreaterThanOrEqual(0);
    expect(got.snap.values[k]).toEqual(want.map(fromJsonValue));
  }
}

describe("messy corpus (expected.json)", () => {
  it("has a case for every file and a file for every case", () => {
    const files = new Set(expected.cases.map((c) => c.file));
    for (const f of files) expect(() => readFileSync(join(corpusDir, f))).not.toThrow();
    expect(files.size).toBeGreaterThanOrEqual(20);
  });

  for (const c of expected.cases) {
    it(`${c.file}: ${c.note}`, async () => {
      const bytes = new Uint8Array(readFileSync(join(corpusDir, c.file)));
      const whole = outcome(() => readCsv(bytes, c.options));
      checkCase(c, whole);
      // errors carry the details the case names
      if (c.expect.error && c.expect.details) {
        try {
          readCsv(bytes, c.options);
        } catch (err) {
          expect((err as HdfeError).details).toMatchObject(c.expect.details);
        }
      }
      // byte by byte, with the streaming path from the first byte
      expect(outcome(() => readBytewise(bytes, c.options))).toEqual(whole);
      // streaming from the first byte (delimiter fixed: a 1-byte sample cannot show it)
      const delimiter = c.options.delimiter ?? (whole.ok ? (whole.report as { delimiter: string }).delimiter : ",");
      expect(outcome(() => readBytewise(bytes, { ...c.options, delimiter, sniffBytes: 1 }))).toEqual(
        outcome(() => readCsv(bytes, { ...c.options, delimiter })),
      );
      // from disk
      let disk: Outcome;
      try {
        const r = await readFile(join(corpusDir, c.file), { ...c.options, format: "csv" });
        disk = { ok: true, snap: snapshot(r.table), report: r.report };
      } catch (err) {
        if (!(err instanceof HdfeError)) throw err;
        disk = { ok: false, name: err.name, message: err.message };
      }
      expect(disk).toEqual(whole);
    });
  }

  it("errors are the named classes", () => {
    expect(() => readCsv(utf8("a,b\n1\n"))).toThrow(DataReadError);
    expect(() => readCsv(utf8("a,b\n1,2\n"), { columns: ["c"] })).toThrow(ColumnError);
    expect(() => readCsv(utf8("a,b\n1,2\n"), { stringColumns: ["zz"] })).toThrow(ColumnError);
  });
});

// ------------------------------------------------------------------------------------------------
// 2. chunking property

const CHINESE = ["中文", "金融业", "制造业", "证券", "收益率", "上海", "深圳", "公司"];
const numberText = fc.oneof(
  fc.integer({ min: -100000, max: 100000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toExponential(5)),
  fc.constantFrom("0", "-0", "007", "1.50", "+3", ".5", "5.", "1e3", "Inf", "-Inf"),
);
const wordText = fc.oneof(
  fc.constantFrom(...CHINESE),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,6}$/),
  fc.constantFrom('say "hi"', "a,b", "x;y", "two\nlines", "crlf\r\nin", "tab\there", " padded "),
);
const cellText = fc.oneof(
  { weight: 5, arbitrary: numberText },
  { weight: 3, arbitrary: wordText },
  { weight: 1, arbitrary: fc.constantFrom("", "NA", "--", ".", "NULL") },
);

interface CsvSpec {
  delim: string;
  eol: string;
  bom: boolean;
  gbk: boolean;
  header: string[];
  rows: string[][];
  quoteAll: boolean;
  trailingEol: boolean;
}

const csvSpec: fc.Arbitrary<CsvSpec> = fc
  .record({
    delim: fc.constantFrom(",", ";", "\t"),
    eol: fc.constantFrom("\n", "\r\n"),
    bom: fc.boolean(),
    gbk: fc.boolean(),
    ncol: fc.integer({ min: 1, max: 5 }),
    quoteAll: fc.boolean(),
    trailingEol: fc.boolean(),
  })
  .chain((s) =>
    fc.record({
      header: fc.uniqueArray(fc.oneof(fc.constantFrom(...CHINESE), fc.stringMatching(/^[a-z][a-z0-9_]{0,5}$/)), {
        minLength: s.ncol,
        maxLength: s.ncol,
      }),
      rows: fc.array(fc.array(cellText, { minLength: s.ncol, maxLength: s.ncol }), { maxLength: 25 }),
    }).map((r) => ({ ...s, bom: s.bom && !s.gbk, ...r })),
  );

function quoteCell(t: string, delim: string, all: boolean, single = false): string {
  // (an unquoted empty value alone on its line would be a blank line, which is skipped)
  if (all || (single && t === "") || t.includes(delim) || t.includes('"') || t.includes("\n") || t.includes("\r") || t.includes(",")) {
    return `"${t.replace(/"/g, '""')}"`;
  }
  return t;
}

function renderCsv(s: CsvSpec): Uint8Array {
  const lines = [s.header, ...s.rows].map((r) => r.map((t) => quoteCell(t, s.delim, s.quoteAll, s.header.length === 1)).join(s.delim));
  const text = lines.join(s.eol) + (s.trailingEol ? s.eol : "");
  const body = s.gbk ? encodeGbk(text) : utf8(text);
  if (!s.bom) return body;
  const out = new Uint8Array(body.length + 3);
  out.set([0xef, 0xbb, 0xbf]);
  out.set(body, 3);
  return out;
}

describe("chunking property", () => {
  it("random chunk boundaries give identical tables (or identical errors)", () => {
    fc.assert(
      fc.property(
        csvSpec,
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 200 }),
        fc.constantFrom<CsvOptions["encoding"]>("auto", "auto", "utf8", "gbk"),
        fc.boolean(),
        (spec, rawCuts, sniffBytes, encoding, na) => {
          const bytes = renderCsv(spec);
          const opts: CsvOptions = { sniffBytes, encoding, unparsable: na ? "na" : "error" };
          const cuts = rawCuts.map((c) => (bytes.length ? c % (bytes.length + 1) : 0));
          const whole = outcome(() => readCsv(bytes, opts));
          expect(outcome(() => readChunked(bytes, opts, cuts))).toEqual(whole);
          // the default (64 KiB sniff) path too
          const big = { ...opts, sniffBytes: undefined };
          expect(outcome(() => readChunked(bytes, big, cuts))).toEqual(outcome(() => readCsv(bytes, big)));
        },
      ),
      { seed: 101, numRuns: 300 },
    );
  });

  it("reads the generated CSV back as written (types, values, encoding, delimiter)", () => {
    fc.assert(
      fc.property(csvSpec, (spec) => {
        const bytes = renderCsv(spec);
        const { table, report } = readCsv(bytes, { unparsable: "na", encoding: spec.gbk ? "gbk" : "utf8", delimiter: spec.delim });
        expect(table.numRows).toBe(spec.rows.length);
        expect(report.encoding).toBe(spec.gbk ? "gbk" : "utf8");
        const snap = snapshot(table);
        expect(snap.names).toEqual(spec.header);
        const NA = new Set(["", "NA", "--", ".", "NULL"]);
        spec.header.forEach((_h, k) => {
          const col = spec.rows.map((r) => r[k]);
          const got = snap.values[k];
          if (snap.types[k] === "Float64") {
            col.forEach((t, i) => {
              const tt = t.trim();
              if (NA.has(tt)) expect(got[i]).toBeNull();
              else {
                const n = /^[+-]?inf$/i.test(tt) ? (tt.startsWith("-") ? -Infinity : Infinity) : Number(tt);
                if (Number.isNaN(n) || tt === "") expect(got[i]).toBeNull(); // unparsable -> null
                else expect(Object.is(got[i], n) || got[i] === n).toBe(true);
              }
            });
          } else {
            col.forEach((t, i) => expect(got[i]).toBe(NA.has(t.trim()) ? null : t));
          }
        });
      }),
      { seed: 102, numRuns: 200 },
    );
  });

  it("finds the delimiter among , ; TAB", () => {
    fc.assert(
      fc.property(csvSpec, (spec) => {
        if (spec.header.length < 2 || spec.quoteAll) return; // a single column has no delimiter to find
        const bytes = renderCsv(spec);
        // (the encoding given: a GBK file whose only Chinese is one short header name is not detected)
        const { report } = readCsv(bytes, { unparsable: "na", encoding: spec.gbk ? "gbk" : "utf8" });
        expect(report.delimiter).toBe(spec.delim);
      }),
      { seed: 103, numRuns: 200 },
    );
  });
});

// ------------------------------------------------------------------------------------------------
// 3. numbers

describe("numbers", () => {
  it("every notation of a double reads back as exactly Number(text)", () => {
    const texts = fc.double({ noNaN: true }).chain((x) =>
      fc.constantFrom(
        String(x),
        x.toExponential(),
        x.toExponential(3),
        x.toPrecision(17),
        x.toPrecision(6),
        Math.abs(x) < 1e15 ? x.toFixed(4) : String(x),
        Math.abs(x) < 1e15 ? x.toFixed(0) : String(x),
      ),
    );
    fc.assert(
      fc.property(fc.array(texts, { minLength: 1, maxLength: 30 }), (xs) => {
        const { table } = readCsv(utf8("v\n" + xs.join("\n") + "\n"));
        const v = table.getChild("v")!;
        xs.forEach((t, i) => {
          const want = /^-?Infinity$/.test(t) ? Number(t) : Number(t);
          expect(Object.is(v.get(i), want)).toBe(true);
        });
      }),
      { seed: 104, numRuns: 300 },
    );
  });

  it("a text column keeps the exact text of numeric-looking values", () => {
    const num = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).map((x) => x.toFixed(3)),
      fc.constantFrom("007", "1.50", "+3", ".5", "5.", "1e3", "1E+03", "-0", "0.0000001", "Inf", "12345678901234567890"),
    );
    const word = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/).filter((w) => !/^(NA|NaN|NULL|null|inf|infinity)$/i.test(w));
    fc.assert(
      fc.property(fc.array(num, { maxLength: 10 }), fc.array(word, { minLength: 1, maxLength: 12 }), fc.nat(), (ns, ws, seed) => {
        fc.pre(ws.length > ns.length);
        const all = [...ns, ...ws];
        // deterministic shuffle
        let s = seed;
        for (let i = all.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2147483648;
          const j = s % (i + 1);
          [all[i], all[j]] = [all[j], all[i]];
        }
        const { table, report } = readCsv(utf8("id\n" + all.join("\n") + "\n"));
        expect(report.columns[0].type).toBe("string");
        expect(snapshot(table).values[0]).toEqual(all);
      }),
      { seed: 105, numRuns: 300 },
    );
  });

  it("integers a double cannot hold (18-digit ids) make the column text, every id distinct", () => {
    // 123456789012345678 and ...679 are the same double: as numbers the two firms would merge
    const csv = "id,y\n123456789012345678,1\n123456789012345679,2\n 123456789012345679 ,3\n42,4\n";
    for (const { table, report } of [readCsv(utf8(csv)), readBytewise(utf8(csv), {})]) {
      expect(report.columns[0].type).toBe("string");
      expect(report.columns[0].note).toMatch(/3 integers beyond 2\^53/);
      expect(snapshot(table).values[0]).toEqual(["123456789012345678", "123456789012345679", " 123456789012345679 ", "42"]);
      expect(report.columns[1].type).toBe("float64");
      expect(report.columns[1].note).toBeUndefined();
    }
    // a large integer a double holds exactly (JavaScript prints 1e20 this way) stays a number,
    // and so do 16-digit integers below 2^53 and 17-digit decimals
    const ok = readCsv(utf8("a,b,c\n100000000000000000000,9007199254740991,0.30000000000000004\n1,2,3\n"));
    expect(ok.report.columns.map((c) => c.type)).toEqual(["float64", "float64", "float64"]);
    expect(snapshot(ok.table).values.map((v) => v[0])).toEqual([1e20, 9007199254740991, 0.30000000000000004]);
  });

  it("columns longer than the builder's first chunks: numbers and text come back in row order", () => {
    // 5,000 rows cross the 1,024 / 2,048 chunk boundaries of the numeric builder
    const nums = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? "" : String(i * 0.1 + 1e-3 * (i % 13))));
    const words = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? String(i * 1.5) : `w${i}`));
    const csv = "a,b\n" + nums.map((x, i) => `${x},${words[i]}`).join("\n") + "\n";
    const { table, report } = readCsv(utf8(csv));
    expect(report.columns.map((c) => c.type)).toEqual(["float64", "string"]);
    expect(snapshot(table).values[0]).toEqual(nums.map((x) => (x === "" ? null : Number(x))));
    expect(snapshot(table).values[1]).toEqual(words);
  });

  it("thousands separators only with groups of exactly 3 digits", () => {
    expect(() => readCsv(utf8('a\n"1,23"\n"2,000"\n3\n'))).toThrow(/"1,23"/);
    expect(snapshot(readCsv(utf8('a\n"1,000,000"\n"-2,500.25"\n')).table).values[0]).toEqual([1e6, -2500.25]);
    // in ; files a comma is a decimal mark elsewhere: never read as thousands
    expect(() => readCsv(utf8('a;b\n"1,500";1\n2;2\n3;3\n'))).toThrow(DataReadError);
  });

  it("user missing-value tokens that look like numbers win over the number", () => {
    const { table, report } = readCsv(utf8("a\n-999\n1\n-999.0\n"), { na: ["-999"] });
    expect(snapshot(table).values[0]).toEqual([null, 1, -999]);
    expect(report.columns[0].missing).toBe(1);
  });

  it("non-ASCII missing tokens are matched after decoding (UTF-8 and GBK)", () => {
    for (const enc of ["utf8", "gbk"] as const) {
      const text = "a,b\n1,缺失\n缺失,x\n3,y\n";
      const bytes = enc === "gbk" ? encodeGbk(text) : utf8(text);
      // (explicit: the GBK bytes of 缺失 happen to be valid UTF-8 too)
      const { table, report } = readCsv(bytes, { na: ["", "缺失"], encoding: enc });
      expect(report.encoding).toBe(enc);
      expect(snapshot(table).values).toEqual([[1, null, 3], [null, "x", "y"]]);
      expect(report.columns.map((c) => c.missing)).toEqual([1, 1]);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// 4. encoding detection

describe("encoding detection", () => {
  it("auto never picks GBK for valid UTF-8 (random text, Chinese included)", () => {
    const text = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 80 }),
      fc.array(fc.constantFrom(...CHINESE, "东", "中", "é", "ü", "x", " "), { maxLength: 30 }).map((a) => a.join("")),
    );
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 8 }), (cells) => {
        const clean = cells.map((c) => c.replace(/["\r\n\uFEFF]/g, ""));
        const bytes = utf8("h\n" + clean.map((c) => `"${c}"`).join("\n") + "\n");
        const { table, report } = readCsv(bytes, { stringColumns: ["h"], na: [] });
        expect(report.encoding).toBe("utf8");
        expect(snapshot(table).values[0]).toEqual(clean);
      }),
      { numRuns: 500, seed: 20261201 },
    );
  });

  it("one stray byte in UTF-8 text never makes the file GBK", () => {
    // (the file has at least two non-ASCII characters, so valid UTF-8 text survives the stray byte;
    // a file whose only non-ASCII character the byte breaks has nothing valid left to re-decode)
    const word = fc.constantFrom(...CHINESE, "东", "中", "Müller", "café", "abc", "x", "7");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(word, word), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 0x80, max: 0xff }),
        (rows, at, byte) => {
          const clean = utf8("a,b\n东,é\n" + rows.map(([x, y]) => `${x},${y}`).join("\n") + "\n");
          const pos = 4 + (at % (clean.length - 4)); // after the header
          const bytes = new Uint8Array([...clean.subarray(0, pos), byte, ...clean.subarray(pos)]);
          const r = outcome(() => readCsv(bytes));
          if (r.ok) expect((r.report as { encoding: string }).encoding).toBe("utf8");
          else expect(r.name).toBe("DataReadError"); // (a byte inserted into a number: not a number)
        },
      ),
      { numRuns: 3000, seed: 31 },
    );
  });

  it("GBK files with two or more Chinese header names are detected", () => {
    // (证券 and 缺失 are left out: their GBK bytes are valid UTF-8, so they are no evidence either way;
    // a file whose only non-ASCII text is one such word cannot be told apart)
    const word = fc.constantFrom(...CHINESE.filter((w) => w !== "证券"), "平安银行", "万科A", "贵州茅台", "房地产业", "会计年度");
    fc.assert(
      fc.property(fc.uniqueArray(word, { minLength: 2, maxLength: 4 }), fc.array(fc.tuple(word, fc.nat(99)), { maxLength: 10 }), (header, rows) => {
        const text = [header.join(","), ...rows.map(([w, n]) => [w, ...header.slice(1).map(() => n)].join(","))].join("\r\n") + "\r\n";
        const { table, report } = readCsv(encodeGbk(text));
        expect(report.encoding).toBe("gbk");
        expect(snapshot(table).names).toEqual(header);
        if (rows.length > 0) expect(snapshot(table).values[0]).toEqual(rows.map(([w]) => w));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("a GBK file whose first 8 MiB chunk looks like ASCII is still decoded as GBK", () => {
    const head = "name,v\n" + "abc,1\n".repeat(20000); // ASCII only
    const tail = encodeGbk("中文,2\n");
    const bytes = new Uint8Array([...utf8(head), ...tail]);
    const r = readChunked(bytes, {}, [70000]);
    expect(r.report.encoding).toBe("gbk");
    expect(snapshot(r.table).values[0].at(-1)).toBe("中文");
  });
});

describe("invalid text, UTF-16 and binary files named .csv (real files in a temp dir)", () => {
  const latin1 = (s: string) => new Uint8Array([...s].map((ch) => ch.charCodeAt(0))); // one byte per char

  async function withFiles<T>(files: Record<string, Uint8Array>, run: (dir: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-io-"));
    try {
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
      return await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
  const outcomeHint = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      return (e as HdfeError).hint;
    }
    return undefined;
  };

  it("a Latin-1 byte in an unused column leaves a UTF-8 file UTF-8: one-character levels stay distinct", async () => {
    // the file: Chinese header, FE levels 东 / 中, a Latin-1 é (0xE9) in a comment column
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 2 ? "东" : "中"},${(i * 0.5).toFixed(1)},`);
    const head = utf8("地区,收益率,备注\n" + rows.slice(0, 7).join("\n") + "\n");
    const bad = cat(utf8(rows[7]), latin1("caf\u00e9"), utf8("\n" + rows.slice(8).join("\n") + "\n"));
    await withFiles({ "latin1.csv": cat(head, bad) }, async (dir) => {
      const sel = await readFile(join(dir, "latin1.csv"), { columns: ["地区", "收益率"] });
      expect(sel.report.encoding).toBe("utf8");
      expect(codesColumn(sel.table, "地区").levels).toEqual(["中", "东"]);
      expect(sel.report.notes).toEqual([
        '1 byte sequence not valid UTF-8 in columns not read (first at data row 8, line 9, column "备注"); they do not affect the columns read',
      ]);
      // every column read: the comment column carries a note, its values stay distinct
      const all = await readFile(join(dir, "latin1.csv"));
      expect(all.report.encoding).toBe("utf8");
      expect(codesColumn(all.table, "地区").levels).toEqual(["中", "东"]);
      const note = all.report.columns.find((c) => c.name === "备注")!;
      expect(note.note).toBe("1 value not valid UTF-8 (first at data row 8), shown with U+FFFD; distinct values stay distinct");
      expect(snapshot(all.table).values[2][7]).toBe("caf\uFFFD");
      // explicitly utf8: the same
      const forced = await readFile(join(dir, "latin1.csv"), { columns: ["收益率", "地区"], encoding: "utf8" });
      expect(snapshot(forced.table).values).toEqual(snapshot(sel.table).values.reverse());
    });
  });

  it("an invalid byte in a column that is used is an error naming column, row and line", async () => {
    const cases: { bytes: Uint8Array; opts: CsvOptions; column: string; row: number; line: number; count: number }[] = [
      // a text column (the levels)
      { bytes: cat(utf8("id,y\n东,1\n中,2\n"), latin1("\u00e9"), utf8(",3\n东,4\n")), opts: { columns: ["id", "y"] }, column: "id", row: 3, line: 4, count: 1 },
      // a numeric column: a value with a bad byte is not a number either, the encoding is named first
      { bytes: cat(utf8("a,b\n1,x\n2,y\n"), latin1("3\u00ff"), utf8(",z\n"), latin1("\u00ff"), utf8(",w\n")), opts: { columns: ["a"] }, column: "a", row: 3, line: 4, count: 2 },
      // forced text column, explicit utf8, quoted value on a later line
      { bytes: cat(utf8('k,v\n"7",1\n"A7",2\n"multi\nline",3\n"'), latin1("\u00e8"), utf8('",4\n')), opts: { columns: ["k"], stringColumns: ["k"], encoding: "utf8" }, column: "k", row: 4, line: 6, count: 1 },
      // GBK requested, with an invalid GBK byte (0xFF)
      { bytes: cat(encodeGbk("名称,值\n金融业,1\n"), new Uint8Array([0xff]), encodeGbk("制造业,2\n")), opts: { columns: ["名称"], encoding: "gbk" }, column: "名称", row: 2, line: 3, count: 1 },
    ];
    await withFiles(Object.fromEntries(cases.map((c, k) => [`bad${k}.csv`, c.bytes])), async (dir) => {
      for (const [k, c] of cases.entries()) {
        const err = await readFile(join(dir, `bad${k}.csv`), c.opts).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, `case ${k}`).toBeInstanceOf(DataReadError);
        const e = err as DataReadError;
        expect(e.details, `case ${k}`).toMatchObject({ column: c.column, row: c.row, line: c.line, count: c.count });
        expect(e.message).toContain(`column ${JSON.stringify(c.column)}`);
        expect(e.message).toContain(`data row ${c.row} (line ${c.line})`);
        // the same from memory, bytewise
        expect(() => readBytewise(c.bytes, c.opts)).toThrow(e.message);
      }
    });
  });

  it("values that would merge because of invalid bytes are an error, not a silent merge", () => {
    // a\xE9 and a\xE8 both read as "a\uFFFD"
    const bytes = cat(utf8("g,y\n东,1\n"), latin1("a\u00e9"), utf8(",2\n"), latin1("a\u00e8"), utf8(",3\n中,4\n"));
    expect(() => readCsv(bytes)).toThrow(/two different values read the same, "a\uFFFD" \(data rows 2 and 3\)/);
    // the same invalid bytes twice are the same value: no error, a note
    const same = cat(utf8("g,y\n东,1\n"), latin1("a\u00e9"), utf8(",2\n"), latin1("a\u00e9"), utf8(",3\n中,4\n"));
    const r = readCsv(same);
    expect(codesColumn(r.table, "g").levels).toEqual(["东", "a\uFFFD", "中"]);
    expect(r.report.columns[0].note).toMatch(/^2 values not valid UTF-8 \(first at data row 2\)/);
  });

  it("a header that is not valid text: error when every column is read, a hint when a selected name is missing", () => {
    const bytes = cat(utf8("id,"), latin1("caf\u00e9"), utf8(",y\n1,2,3\n"));
    expect(() => readCsv(bytes)).toThrow(/the CSV header is not valid UTF-8.*field 2/);
    expect(snapshot(readCsv(bytes, { columns: ["y", "id"] }).table).values).toEqual([[3], [1]]);
    expect(() => readCsv(bytes, { columns: ["café"] })).toThrow(/the header is not valid UTF-8: field 2/);
    expect(() => readCsv(bytes, { columns: ["café"] })).toThrow(ColumnError);
  });

  it("UTF-16 without a byte-order mark is an encoding error, not garbage column names", async () => {
    const le = (s: string) => new Uint8Array(new Uint16Array([...s].map((c) => c.charCodeAt(0))).buffer);
    const be = (s: string) => {
      const b = le(s);
      for (let i = 0; i < b.length; i += 2) [b[i], b[i + 1]] = [b[i + 1], b[i]];
      return b;
    };
    const files = {
      "le.csv": le("firm,year,y\r\n1,2019,0.5\r\n"),
      "be.csv": be("firm,year,y\n1,2019,0.5\n"),
      "le_chinese.csv": le("证券代码,年份\n1,2019\n"),
      "le_tab.tsv": le("a\tb\n1\t2\n"),
    };
    await withFiles(files, async (dir) => {
      for (const name of Object.keys(files)) {
        await expect(readFile(join(dir, name)), name).rejects.toThrow(/UTF-16.*without a byte-order mark/);
        await expect(readFile(join(dir, name), { columns: ["firm"] }), name).rejects.toThrow(DataReadError);
      }
      await expect(readFile(join(dir, "le.csv"))).rejects.toThrow(/little-endian/);
      await expect(readFile(join(dir, "be.csv"))).rejects.toThrow(/big-endian/);
    });
    // other NUL bytes in the header: not a text file
    expect(() => readCsv(new Uint8Array([0x61, 0x00, 0x00, 0x00, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x2c, 0x68, 0x0a]))).toThrow(/NUL/);
  });

  it("Parquet, Arrow, gzip and xlsx bytes named .csv are format errors", async () => {
    const t = sampleTable();
    const files: Record<string, Uint8Array> = {
      "parquet.csv": writeParquet(t),
      "arrow.csv": writeArrowIpc(t),
      "stream.csv": tableToIPC(t, "stream"),
      "gz.csv": new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]),
      "xlsx.csv": new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00]),
    };
    const want: Record<string, RegExp> = {
      "parquet.csv": /the input is a Parquet file, not CSV text/,
      "arrow.csv": /the input is an Arrow IPC file, not CSV text/,
      "stream.csv": /the input is an Arrow IPC stream, not CSV text/,
      "gz.csv": /gzip/,
      "xlsx.csv": /zip archive/,
    };
    await withFiles(files, async (dir) => {
      for (const [name, re] of Object.entries(want)) {
        await expect(readFile(join(dir, name), { columns: ["x"] }), name).rejects.toThrow(re);
        await expect(readFile(join(dir, name)), name).rejects.toThrow(DataReadError);
        expect(() => readBytewise(files[name], {}), name).toThrow(re);
      }
      // read with the right format, the same bytes are fine
      expect(snapshot((await readFile(join(dir, "parquet.csv"), { format: "parquet" })).table)).toEqual(snapshot(t));
    });
  });

  it("an id column mixing 7 and A7 is read as text when listed in stringColumns", () => {
    const bytes = utf8("id,y\n7,1\nA7,2\n7,3\n07,4\n8,5\n");
    // mostly numbers: by default an error whose hint says how
    expect(() => readCsv(bytes)).toThrow(/column "id" is numeric but has 1 value that is not a number; first at data row 2/);
    expect(outcomeHint(() => readCsv(bytes))).toMatch(/list "id" in stringColumns/);
    const { table, report } = readCsv(bytes, { stringColumns: ["id"] });
    expect(report.columns[0]).toMatchObject({ name: "id", type: "string", missing: 0 });
    expect(snapshot(table).values[0]).toEqual(["7", "A7", "7", "07", "8"]);
    expect(codesColumn(table, "id").levels).toEqual(["7", "A7", "07", "8"]);
  });
});

// ------------------------------------------------------------------------------------------------
// 5. round trips

function sampleTable(): Table {
  const text =
    "id,名称,x,y,flag\n" +
    "000001,平安银行,1.5,,1\n" +
    "000002,万科A,-2.25,1e-300,0\n" +
    "600519,贵州茅台,NA,Inf,1\n" +
    "000002,万科A,3,-Inf,\n" +
    ",,4,5,0\n";
  return readCsv(utf8(text), { stringColumns: ["id"] }).table;
}

describe("Arrow and Parquet round trips", () => {
  it("Arrow IPC file and stream: write then read is identical", () => {
    const t = sampleTable();
    const file = writeArrowIpc(t);
    expect(snapshot(readArrowIpc(file))).toEqual(snapshot(t));
    const stream = tableToIPC(t, "stream");
    expect(snapshot(readArrowIpc(stream))).toEqual(snapshot(t));
    expect(snapshot(readArrowIpc(file, { columns: ["x", "id"] })).names).toEqual(["x", "id"]);
    expect(() => readArrowIpc(file, { columns: ["nope"] })).toThrow(ColumnError);
    expect(() => readArrowIpc(utf8("a,b\n1,2\n"))).toThrow(DataReadError);
  });

  it("Parquet: write then read is identical", async () => {
    const t = sampleTable();
    const pq = writeParquet(t);
    expect(snapshot(await readParquet(pq))).toEqual(snapshot(t));
    const sel = await readParquet(pq.buffer.slice(0) as ArrayBuffer, { columns: ["名称", "y"] });
    expect(snapshot(sel).names).toEqual(["名称", "y"]);
    await expect(readParquet(pq, { columns: ["Y"] })).rejects.toThrow(ColumnError);
    await expect(readParquet(utf8("not parquet at all"))).rejects.toThrow(DataReadError);
  });

  it("Parquet keeps 0 and -0 apart (the writer's dictionary merged them: issue 17, seed 466081230)", async () => {
    const t = readCsv(utf8("x,y\n-0,0\n0,-0\n0,0\n-0,1\n1,NA\n")).table;
    const back = await readParquet(writeParquet(t));
    for (const name of ["x", "y"]) {
      const want = Array.from({ length: 5 }, (_, i) => t.getChild(name)!.get(i));
      const got = Array.from({ length: 5 }, (_, i) => back.getChild(name)!.get(i));
      expect(got.map((v) => (v === null ? "null" : Object.is(v, -0) ? "-0" : String(v)))).toEqual(
        want.map((v) => (v === null ? "null" : Object.is(v, -0) ? "-0" : String(v))),
      );
    }
    expect(Object.is(back.getChild("x")!.get(0), -0)).toBe(true);
    expect(Object.is(back.getChild("x")!.get(1), 0)).toBe(true);
  });

  it("round trips of random generated tables", async () => {
    await fc.assert(
      fc.asyncProperty(csvSpec, async (spec) => {
        const bytes = renderCsv(spec);
        const { table } = readCsv(bytes, { unparsable: "na", encoding: spec.gbk ? "gbk" : "utf8" });
        if (table.numRows === 0) return;
        expect(snapshot(readArrowIpc(writeArrowIpc(table)))).toEqual(snapshot(table));
        expect(snapshot(await readParquet(writeParquet(table)))).toEqual(snapshot(table));
      }),
      { seed: 466081230, numRuns: 60 },
    );
  });

  it("Parquet int64 a double cannot hold becomes text; ints and bools become Float64", async () => {
    const { parquetWriteBuffer } = await import("hyparquet-writer");
    const ok = parquetWriteBuffer({
      columnData: [
        { name: "i", data: [1n, null, 3n], type: "INT64" },
        { name: "b", data: [true, false, null], type: "BOOLEAN" },
        { name: "k", data: new Int32Array([7, 8, 9]), type: "INT32", nullable: false },
      ],
    });
    const t = await readParquet(new Uint8Array(ok));
    expect(snapshot(t).types).toEqual(["Float64", "Float64", "Float64"]);
    expect(snapshot(t).values).toEqual([[1, null, 3], [1, 0, null], [7, 8, 9]]);
    // 2^60 is a double exactly: a number, as CSV reads "1152921504606846976"; 2^60 + 1 is not: text
    const exact = await readParquet(new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "big", data: [2n ** 60n], type: "INT64" }] })));
    expect(snapshot(exact).values).toEqual([[2 ** 60]]);
    const big = await readTable(new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "big", data: [2n ** 60n + 1n], type: "INT64" }] })), { format: "parquet" });
    expect(snapshot(big.table).values).toEqual([["1152921504606846977"]]);
    expect(big.report.columns[0].note).toMatch(/1 integer beyond 2\^53/);
  });

  describe("integers beyond 2^53: one convention for CSV, Parquet and Arrow", () => {
    const TWO53 = 2n ** 53n;
    // each case: the ids, and whether a double holds every one exactly
    const cases: { name: string; ids: (bigint | null)[]; exact: boolean }[] = [
      { name: "2^53 and 2^53 + 1 (the issue: they merged)", ids: [TWO53, TWO53 + 1n, 5n, TWO53], exact: false },
      { name: "negative, with a null", ids: [-(TWO53 + 1n), null, -TWO53, 7n], exact: false },
      { name: "18-digit ids", ids: [123456789012345678n, 123456789012345679n, 123456789012345680n], exact: false },
      { name: "int64 extremes", ids: [2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n - 2n], exact: false },
      { name: "beyond 2^53 but exact (powers of two)", ids: [TWO53, 2n ** 60n, -(2n ** 62n), 3n], exact: true },
      { name: "small ids", ids: [1n, 2n, null, 2n ** 53n - 1n], exact: true },
    ];
    const csvOf = (ids: (bigint | null)[]) => utf8("id,y\n" + ids.map((v, i) => `${v === null ? "" : v},${i}`).join("\n") + "\n");

    for (const c of cases) {
      it(c.name, async () => {
        const { parquetWriteBuffer } = await import("hyparquet-writer");
        const n = c.ids.length;
        const y = Array.from({ length: n }, (_, i) => i);
        const pq = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "id", data: c.ids, type: "INT64" }, { name: "y", data: new Float64Array(y), type: "DOUBLE" }] }));
        // Arrow: two record batches, the big ids in different ones
        const half = Math.ceil(n / 2);
        const arrowTable = new Table([
          new RecordBatch({ id: vectorFromArray(c.ids.slice(0, half), new Int64()).data[0], y: vectorFromArray(y.slice(0, half)).data[0] }),
          new RecordBatch({ id: vectorFromArray(c.ids.slice(half), new Int64()).data[0], y: vectorFromArray(y.slice(half)).data[0] }),
        ]);
        const dir = mkdtempSync(join(tmpdir(), "hdfe-io-"));
        try {
          writeFileSync(join(dir, "ids.parquet"), pq);
          writeFileSync(join(dir, "ids.arrow"), writeArrowIpc(arrowTable));
          writeFileSync(join(dir, "ids.csv"), csvOf(c.ids));
          const got = await Promise.all(["ids.csv", "ids.parquet", "ids.arrow"].map((f) => readFile(join(dir, f))));
          const texts = c.ids.map((v) => (v === null ? null : v.toString()));
          for (const [k, r] of got.entries()) {
            const what = ["csv", "parquet", "arrow"][k];
            const col = r.report.columns[0];
            const values = Array.from({ length: n }, (_, i) => r.table.getChild("id")!.get(i));
            if (c.exact) {
              expect(col.type, what).toBe("float64");
              expect(col.note, what).toBeUndefined();
              expect(Array.from(numericColumn(r.table, "id").values).map((x) => (Number.isNaN(x) ? null : x)), what).toEqual(c.ids.map((v) => (v === null ? null : Number(v))));
            } else {
              expect(col.type, what).toBe("string");
              expect(values, what).toEqual(texts);
              const inexact = c.ids.filter((v) => v !== null && BigInt(Number(v)) !== v).length;
              expect(col.note, what).toBe(got[0].report.columns[0].note); // the same words as CSV
              expect(col.note, what).toMatch(new RegExp(`^read as text: ${inexact} integers? beyond 2\\^53`));
              // as a fixed effect every id is its own level
              expect(codesColumn(r.table, "id").levels, what).toEqual([...new Set(texts.filter((t) => t !== null))]);
            }
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    it("uint64 (Arrow and Parquet): ids above 2^63 stay distinct", async () => {
      const ids = [2n ** 64n - 1n, 2n ** 64n - 2n, 2n ** 63n, 1n];
      const t = new Table({ u: vectorFromArray(ids, new Uint64()) });
      const a = await readTable(writeArrowIpc(t), { format: "arrow" });
      expect(Array.from({ length: 4 }, (_, i) => a.table.getChild("u")!.get(i))).toEqual(ids.map(String));
      expect(a.report.columns[0].note).toMatch(/^read as text: 2 integers beyond 2\^53/);
      const { parquetWriteBuffer } = await import("hyparquet-writer");
      const pq = parquetWriteBuffer({
        columnData: [{ name: "u", data: ids }],
        schema: [{ name: "root", num_children: 1 }, { name: "u", type: "INT64", repetition_type: "REQUIRED", converted_type: "UINT_64" }],
      });
      const p = await readTable(new Uint8Array(pq), { format: "parquet" });
      expect(snapshot(p.table).values[0]).toEqual(ids.map(String));
      expect(p.report.columns[0].note).toBe(a.report.columns[0].note);
    });

    it("Parquet integer DECIMAL(p, 0) ids (INT64 and fixed-length bytes) follow the same rule", async () => {
      const { parquetWriteBuffer } = await import("hyparquet-writer");
      const ids = [123456789012345678n, 123456789012345679n, null, -5n];
      const small = [12n, -7n, null, 2n ** 53n];
      const els = [
        { name: "d", type: "INT64", repetition_type: "OPTIONAL", converted_type: "DECIMAL", precision: 18, scale: 0 },
        { name: "d", type: "FIXED_LEN_BYTE_ARRAY", type_length: 9, repetition_type: "OPTIONAL", converted_type: "DECIMAL", precision: 20, scale: 0 },
      ];
      for (const el of els) {
        const write = (data: (bigint | null)[]) =>
          new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "d", data }], schema: [{ name: "root", num_children: 1 }, el as never] }));
        const big = await readTable(write(ids), { format: "parquet" });
        expect(snapshot(big.table).values[0], el.type).toEqual(["123456789012345678", "123456789012345679", null, "-5"]);
        expect(big.report.columns[0].note, el.type).toMatch(/^read as text: 2 integers beyond 2\^53/);
        const exact = await readTable(write(small), { format: "parquet" });
        expect(exact.report.columns[0].type, el.type).toBe("float64");
        expect(snapshot(exact.table).values[0], el.type).toEqual([12, -7, null, 2 ** 53]);
      }
      // a decimal with a scale is a number (as "1234567890123456.78" is in CSV)
      const scaled = parquetWriteBuffer({
        columnData: [{ name: "d", data: [125n, null] }],
        schema: [{ name: "root", num_children: 1 }, { name: "d", type: "INT64", repetition_type: "OPTIONAL", converted_type: "DECIMAL", precision: 18, scale: 2 }],
      });
      expect(snapshot(await readParquet(new Uint8Array(scaled))).values[0]).toEqual([1.25, null]);
    });

    it("stringColumns reads numeric Arrow / Parquet columns as text; unknown names are ColumnError", async () => {
      const t = new Table({ id: vectorFromArray([7, 8, 7, null], new Int32()), x: vectorFromArray([1.5, 2, NaN, 3]) });
      for (const format of ["arrow", "parquet"] as const) {
        const bytes = format === "arrow" ? writeArrowIpc(t) : writeParquet(t);
        const r = await readTable(bytes, { format, stringColumns: ["id"] });
        expect(r.report.columns.map((c) => c.type), format).toEqual(["string", "float64"]);
        expect(snapshot(r.table).values[0], format).toEqual(["7", "8", "7", null]);
        // a column that is not selected may be listed
        const sel = await readTable(bytes, { format, columns: ["x"], stringColumns: ["id"] });
        expect(snapshot(sel.table).names).toEqual(["x"]);
        await expect(readTable(bytes, { format, stringColumns: ["nope"] })).rejects.toThrow(ColumnError);
      }
    });
  });
});

/** A small greedy LZ4 block compressor (test-only) producing one frame with one compressed block. */
function lz4Frame(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  const table = new Map<number, number>();
  let anchor = 0;
  let i = 0;
  const pushLen = (n: number) => {
    while (n >= 255) {
      out.push(255);
      n -= 255;
    }
    out.push(n);
  };
  const seq = (litEnd: number, offset: number, ml: number) => {
    const lit = litEnd - anchor;
    const tokenPos = out.length;
    out.push(0);
    let token = (lit >= 15 ? 15 : lit) << 4;
    if (lit >= 15) pushLen(lit - 15);
    for (let k = anchor; k < litEnd; k++) out.push(data[k]);
    if (ml > 0) {
      out.push(offset & 255, offset >> 8);
      const m = ml - 4;
      token |= m >= 15 ? 15 : m;
      if (m >= 15) pushLen(m - 15);
    }
    out[tokenPos] = token;
  };
  // the last 5 bytes are always literals (format rule), matches need 4 bytes
  while (i + 12 <= data.length) {
    const key = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    const cand = table.get(key);
    table.set(key, i);
    if (cand !== undefined && i - cand <= 65535) {
      let ml = 4;
      while (i + ml < data.length - 5 && data[cand + ml] === data[i + ml]) ml++;
      seq(i, i - cand, ml);
      i += ml;
      anchor = i;
    } else i++;
  }
  seq(data.length, 0, 0);
  const block = out;
  const frame = [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82];
  const size = block.length;
  frame.push(size & 255, (size >> 8) & 255, (size >> 16) & 255, (size >>> 24) & 127, ...block, 0, 0, 0, 0);
  return new Uint8Array(frame);
}

describe("compressed Feather / LZ4", () => {
  it("reads an LZ4-compressed Feather file and refuses ZSTD with a clear error", async () => {
    const lz4 = new Uint8Array(readFileSync(join(corpusDir, "lz4.feather")));
    const t = readArrowIpc(lz4);
    expect(t.numRows).toBe(5000);
    const x = t.getChild("x")!;
    const id = t.getChild("id")!;
    const name = t.getChild("name")!;
    for (const i of [0, 1, 123, 4321, 4999]) {
      expect(x.get(i)).toBe(Math.round(Math.sin(i) * 1e6) / 1000);
      expect(id.get(i)).toBe(i % 37);
      expect(name.get(i)).toBe(i % 11 === 0 ? null : ["平安银行", "万科A", "贵州茅台", "Acme"][i % 4]);
    }
    const viaFile = await readFile(join(corpusDir, "lz4.feather"), { columns: ["name", "x"] });
    expect(viaFile.report.columns.map((c) => [c.name, c.type])).toEqual([["name", "string"], ["x", "float64"]]);
    expect(codesColumn(viaFile.table, "name").levels).toEqual(["平安银行", "万科A", "贵州茅台", "Acme"].slice(1).concat("平安银行"));
    const zstd = new Uint8Array(readFileSync(join(corpusDir, "zstd.feather")));
    expect(() => readArrowIpc(zstd)).toThrow(/ZSTD/);
    expect(() => readArrowIpc(zstd)).toThrow(DataReadError);
  });

  it("LZ4 decoder round-trips random data (overlapping matches, long literals and matches)", () => {
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 400 })), { maxLength: 20 }).map((runs) => {
        const out: number[] = [];
        for (const [pat, rep] of runs) for (let r = 0; r < rep; r++) out.push(...pat);
        return new Uint8Array(out);
      }),
    );
    fc.assert(
      fc.property(data, (d) => {
        expect(Array.from(lz4FrameDecode(lz4Frame(d)))).toEqual(Array.from(d));
      }),
      { seed: 107, numRuns: 300 },
    );
  });

  it("corrupt LZ4 frames give DataReadError or some bytes, never another exception", () => {
    const base = lz4Frame(new TextEncoder().encode("abcabcabcabcabcabc hello hello hello hello world world world".repeat(20)));
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (ms) => {
        try {
          lz4FrameDecode(mutate(base, ms));
        } catch (err) {
          expect(err).toBeInstanceOf(DataReadError);
        }
      }),
      { seed: 108, numRuns: 1000 },
    );
  });
});

// ------------------------------------------------------------------------------------------------
// 6. fuzz

const SPECIAL = [0x22, 0x2c, 0x3b, 0x09, 0x0a, 0x0d, 0x20, 0xef, 0xbb, 0xbf, 0xff, 0xfe, 0xd6, 0xa4, 0x80, 0x2e, 0x2d, 0x45, 0x4e, 0x41, 0x30, 0x39];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), byte: fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant("dup" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
);

function mutate(src: Uint8Array, ms: { kind: string; at: number; byte?: number; len?: number }[]): Uint8Array {
  let b = Array.from(src);
  for (const m of ms) {
    const at = b.length ? m.at % (b.length + 1) : 0;
    if (m.kind === "insert") b.splice(at, 0, m.byte!);
    else if (m.kind === "delete") b.splice(at, m.len!);
    else if (m.kind === "replace" && b.length) b[at % b.length] = m.byte!;
    else if (m.kind === "dup") b.splice(at, 0, ...b.slice(at, at + m.len!));
  }
  return new Uint8Array(b);
}

const corpusBytes = expected.cases.map((c) => new Uint8Array(readFileSync(join(corpusDir, c.file))));

const fuzzOptions: fc.Arbitrary<CsvOptions> = fc.record(
  {
    encoding: fc.constantFrom<CsvOptions["encoding"]>("auto", "utf8", "gbk"),
    delimiter: fc.constantFrom("auto", ",", ";", "\t", "|"),
    unparsable: fc.constantFrom<CsvOptions["unparsable"]>("error", "na"),
    na: fc.array(fc.constantFrom("", "NA", "-", "0", "缺失", " x "), { maxLength: 4 }),
    columns: fc.array(fc.constantFrom("a", "b", "id", "x", "V2", "证券代码"), { maxLength: 2 }),
    stringColumns: fc.array(fc.constantFrom("a", "id", "x"), { maxLength: 1 }),
    sniffBytes: fc.integer({ min: 1, max: 100 }),
  },
  { requiredKeys: [] },
);

describe("fuzz", () => {
  it("random and mutated inputs end in a table or an HdfeError, the same for 1 push and 3 chunks", () => {
    const input = fc.oneof(
      { weight: 2, arbitrary: fc.tuple(fc.nat({ max: corpusBytes.length - 1 }), fc.array(mutation, { maxLength: 6 })).map(([k, ms]) => mutate(corpusBytes[k], ms)) },
      { weight: 2, arbitrary: fc.tuple(csvSpec, fc.array(mutation, { maxLength: 4 })).map(([s, ms]) => mutate(renderCsv(s), ms)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      { weight: 1, arbitrary: fc.array(fc.constantFrom(...SPECIAL), { maxLength: 60 }).map((a) => new Uint8Array(a)) },
    );
    let tables = 0;
    let errors = 0;
    fc.assert(
      fc.property(input, fuzzOptions, fc.nat(), fc.nat(), (bytes, opts, c1, c2) => {
        const whole = outcome(() => readCsv(bytes, opts)); // rethrows anything that is not an HdfeError
        if (whole.ok) tables++;
        else errors++;
        const n = bytes.length + 1;
        expect(outcome(() => readChunked(bytes, opts, [c1 % n, c2 % n]))).toEqual(whole);
      }),
      { seed: 109, numRuns: 3000 },
    );
    // the fuzz must exercise both outcomes
    expect(tables).toBeGreaterThan(300);
    expect(errors).toBeGreaterThan(300);
  });
});

// ------------------------------------------------------------------------------------------------
// 7. numericColumn / codesColumn

function twoBatchTable(): Table {
  const i32 = new Int32();
  const f1 = new Field("n", i32, true);
  const f2 = new Field("s", new Utf8(), true);
  const schema = new Schema([f1, f2]);
  const batch = (vals: (number | null)[], strs: (string | null)[]) => {
    const n = vectorFromArray(vals, i32).data[0];
    const s = vectorFromArray(strs, new Utf8()).data[0];
    return new RecordBatch(schema, makeData({ type: new Struct([f1, f2]), length: vals.length, nullCount: 0, children: [n, s] }));
  };
  return new Table(schema, [batch([1, null, 3, 4, 5], ["b", "a", null, "b", "c"]), batch([null, 7, 8], ["c", "d", "a"])]);
}

describe("numericColumn / codesColumn", () => {
  it("concatenates batches and respects null bitmaps, also at an offset", () => {
    const t = twoBatchTable();
    const { values, valid } = numericColumn(t, "n");
    expect(Array.from(values).map((x, i) => (valid![i] ? x : null))).toEqual([1, null, 3, 4, 5, null, 7, 8]);
    expect(Number.isNaN(values[1])).toBe(true);
    const sliced = t.slice(1, 7); // rows 1..6: offsets inside both batches
    const r = numericColumn(sliced, "n");
    expect(Array.from(r.values).map((x, i) => (r.valid![i] ? x : null))).toEqual([null, 3, 4, 5, null, 7]);
    const c = codesColumn(sliced, "s");
    expect(Array.from(c.codes)).toEqual([0, -1, 1, 2, 2, 3]);
    expect(c.levels).toEqual(["a", "b", "c", "d"]);
  });

  it("converts Float32, Int64, Bool and guards 2^53", () => {
    const t = new Table({
      f: vectorFromArray([1.5, null, -2], new Float32()),
      i: vectorFromArray([1n, 2n, null], new Int64()),
      b: vectorFromArray([true, null, false], new Bool()),
    });
    const nv = (name: string) => {
      const { values, valid } = numericColumn(t, name);
      return Array.from(values).map((x, i) => (valid && !valid[i] ? null : x));
    };
    expect(nv("f")).toEqual([1.5, null, -2]);
    expect(nv("i")).toEqual([1, 2, null]);
    expect(nv("b")).toEqual([1, null, 0]);
    const slicedBool = t.slice(1);
    const sb = numericColumn(slicedBool, "b");
    expect(Array.from(sb.values).map((x, i) => (sb.valid && !sb.valid[i] ? null : x))).toEqual([null, 0]);
    // (2^60 itself is a double exactly, as in the CSV reader; 2^60 + 1 and 2^53 + 1 are not)
    const big = new Table({ i: vectorFromArray([2n ** 60n + 1n], new Int64()) });
    expect(() => numericColumn(big, "i")).toThrow(ColumnError);
    expect(() => numericColumn(new Table({ i: vectorFromArray([2n ** 53n + 1n], new Int64()) }), "i")).toThrow(ColumnError);
    expect(Array.from(numericColumn(new Table({ i: vectorFromArray([2n ** 60n], new Int64()) }), "i").values)).toEqual([2 ** 60]);
    expect(codesColumn(big, "i").levels).toEqual([(2n ** 60n + 1n).toString()]);
    expect(() => numericColumn(t, "nope")).toThrow(ColumnError);
    const strs = new Table({ s: vectorFromArray(["a"], new Utf8()) });
    expect(() => numericColumn(strs, "s")).toThrow(ColumnError);
  });

  it("returns a Float64 column without copying when it can", () => {
    const { table } = readCsv(utf8("x\n1\n2\n3\n"));
    const { values, valid } = numericColumn(table, "x");
    expect(valid).toBeNull();
    expect(Array.from(values)).toEqual([1, 2, 3]);
  });

  it("codes in first-appearance order across batches with different dictionaries", () => {
    const a = readCsv(utf8("g,v\nz,1\ny,2\n,3\nz,4\n")).table;
    const b = readCsv(utf8("g,v\nx,1\ny,2\nw,3\n")).table;
    const t = a.concat(b);
    expect(t.batches.length).toBe(2);
    const c = codesColumn(t, "g");
    expect(Array.from(c.codes)).toEqual([0, 1, -1, 0, 2, 1, 3]);
    expect(c.levels).toEqual(["z", "y", "x", "w"]);
    const n = codesColumn(t, "v");
    expect(Array.from(n.codes)).toEqual([0, 1, 2, 3, 0, 1, 2]);
    expect(n.levels).toEqual(["1", "2", "3", "4"]);
    const f = codesColumn(readCsv(utf8("x\n2.5\n1\nNA\n2.5\nInf\n")).table, "x");
    expect(Array.from(f.codes)).toEqual([0, 1, -1, 0, -1]);
    expect(f.levels).toEqual(["2.5", "1"]);
  });

  it("CSV string columns are Dictionary<Utf8, Int32> with levels in first-appearance order", () => {
    const { table } = readCsv(utf8("g\nb\na\nb\nNA\nc\n"));
    const col = table.getChild("g")!;
    const d = col.data[0];
    expect(String(d.type)).toBe("Dictionary<Int32, Utf8>");
    expect(Array.from(d.dictionary!)).toEqual(["b", "a", "c"]);
    expect(Array.from(codesColumn(table, "g").codes)).toEqual([0, 1, 0, -1, 2]);
  });

  it("column names that look like numbers keep the header order", () => {
    const { table } = readCsv(utf8("z,2010,1,a\n1,2,3,4\n"));
    expect(table.schema.fields.map((f) => f.name)).toEqual(["z", "2010", "1", "a"]);
  });
});

// ------------------------------------------------------------------------------------------------
// 8. readTable / formatFromName / readFile

describe("readTable, formatFromName, readFile", () => {
  it("formatFromName", () => {
    expect(formatFromName("a/b/data.CSV")).toBe("csv");
    expect(formatFromName("x.tsv")).toBe("csv");
    expect(formatFromName("x.txt")).toBe("csv");
    expect(formatFromName("x.feather")).toBe("arrow");
    expect(formatFromName("x.arrow")).toBe("arrow");
    expect(formatFromName("x.ipc")).toBe("arrow");
    expect(formatFromName("C:\\data\\x.parquet")).toBe("parquet");
    expect(formatFromName("x.pq")).toBe("parquet");
    expect(() => formatFromName("x.xlsx")).toThrow(DataReadError);
    expect(() => formatFromName("x.csv.gz")).toThrow(DataReadError);
  });

  it("readTable dispatches on format and reports", async () => {
    const t = sampleTable();
    const csv = await readTable(utf8("a,b\n1,x\n"), { format: "csv", columns: ["b"] });
    expect(csv.report.format).toBe("csv");
    expect(snapshot(csv.table).names).toEqual(["b"]);
    const arrow = await readTable(writeArrowIpc(t), { format: "arrow", columns: ["x", "名称"] });
    expect(arrow.report).toMatchObject({ format: "arrow", rows: 5, encoding: null, delimiter: null });
    expect(arrow.report.columns).toEqual([
      { name: "x", type: "float64", missing: 1, unparsable: 0, infinite: 0 },
      { name: "名称", type: "string", missing: 1, unparsable: 0, infinite: 0 },
    ]);
    const pq = await readTable(writeParquet(t), { format: "parquet" });
    expect(pq.report.columns.find((c) => c.name === "y")).toMatchObject({ missing: 1, infinite: 2 });
    // @ts-expect-error unknown format
    await expect(readTable(utf8("a"), { format: "xls" })).rejects.toThrow(HdfeError);
  });

  it("readFile: missing file and directory are DataReadError; binary formats from disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-io-"));
    try {
      await expect(readFile(join(dir, "nope.csv"))).rejects.toThrow(DataReadError);
      await expect(readFile(join(dir, "nope.parquet"))).rejects.toThrow(/not found/);
      mkdirSync(join(dir, "d.csv"));
      await expect(readFile(join(dir, "d.csv"))).rejects.toThrow(DataReadError);
      const t = sampleTable();
      writeFileSync(join(dir, "t.arrow"), writeArrowIpc(t));
      writeFileSync(join(dir, "t.parquet"), writeParquet(t));
      expect(snapshot((await readFile(join(dir, "t.arrow"))).table)).toEqual(snapshot(t));
      expect(snapshot((await readFile(join(dir, "t.parquet"), { columns: ["id"] })).table).values[0]).toEqual(
        snapshot(t).values[0],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("readCsvStream reads web streams and async iterables chunk by chunk", async () => {
    const bytes = new Uint8Array(readFileSync(join(corpusDir, "gbk_chinese.csv")));
    const want = snapshot(readCsv(bytes).table);
    const pieces = [bytes.slice(0, 7), bytes.slice(7, 8), bytes.slice(8, 50), bytes.slice(50)];
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of pieces) controller.enqueue(p);
        controller.close();
      },
    });
    expect(snapshot((await readCsvStream(web)).table)).toEqual(want);
    async function* gen() {
      for (const p of pieces) yield p;
    }
    expect(snapshot((await readCsvStream(gen())).table)).toEqual(want);
  });

  it("a reader that failed stays failed", () => {
    const r = createCsvReader();
    expect(() => r.push(utf8("a,b\n1,2,3\n"))).not.toThrow(); // still sniffing
    expect(() => r.finish()).toThrow(DataReadError);
    expect(() => r.finish()).toThrow(/after an error/);
    const r2 = createCsvReader({ sniffBytes: 1 });
    expect(() => r2.push(utf8("a,b\n1,2,3\n"))).toThrow(/more than 2 fields/);
    expect(() => r2.push(utf8("4,5\n"))).toThrow(/after an error/);
  });

  it("readFile streams a CSV larger than its 8 MiB read chunk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-io-"));
    try {
      const parts = ["id,名称,note,v\n"];
      let size = 0;
      for (let i = 0; size < 9.5 * 1024 * 1024; i++) {
        const line = `${i},公司${i % 97},"multi\nline, ""quoted"" ${i % 13}",${(i * 0.37).toFixed(3)}\r\n`;
        parts.push(line);
        size += line.length + 12;
      }
      const bytes = utf8(parts.join(""));
      expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024);
      const path = join(dir, "big.csv");
      writeFileSync(path, bytes);
      const fromDisk = await readFile(path);
      const inMemory = readCsv(bytes);
      expect(fromDisk.report).toEqual(inMemory.report);
      expect(fromDisk.table.numRows).toBe(parts.length - 1);
      const a = snapshot(fromDisk.table);
      const b = snapshot(inMemory.table);
      expect(a.names).toEqual(b.names);
      for (let k = 0; k < a.values.length; k++) expect(a.values[k]).toEqual(b.values[k]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
