// The native (DuckDB) read path gives what today's reader gives: the same rows, values, types,
// read report, and the same error (class and message) when the file cannot be read.
//
// Tolerances: none. Values are compared exactly (===, NaN/null as the Arrow vector returns them),
// reports and error messages with toEqual. The tests also check that DuckDB really read the
// plain files (reader === "duckdb"), so that a path that always fell back could not pass.
// Property tests: fast-check with fixed seeds.

import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { corpusDir, expected } from "./messy-corpus.js";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Float64, Utf8, makeData, Table, vectorFromArray, type Vector } from "apache-arrow";
import { HdfeError, OptionError, DataReadError } from "../bindings/base/errors.js";
import { readFile, type FileReadOptions } from "../bindings/platform/read-node.js";
import { readFileNative, duckdbAvailable } from "../bindings/platform/duckdb-node.js";
import { writeParquet } from "../bindings/io/parquet.js";
import { tableFromData } from "../bindings/io/build.js";
import { snapshot, type Snapshot } from "./snapshot.js";
import { NumAcc } from "../bindings/platform/duckdb-node.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const here = dirname(fileURLToPath(import.meta.url));

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hdfe-duckdb-read-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});


type Outcome = { ok: true; snap: Snapshot; report: unknown } | { ok: false; name: string; message: string };

async function outcome(run: () => Promise<{ table: Table; report: unknown }>): Promise<Outcome> {
  try {
    const { table, report } = await run();
    return { ok: true, snap: snapshot(table), report };
  } catch (err) {
    if (!(err instanceof HdfeError)) throw err;
    return { ok: false, name: err.name, message: err.message };
  }
}

/** Both readers on one file: the outcomes, and which reader the native path used. */
/** why the last read through readFileNative did not use DuckDB (printed when a test expects it to) */
let fallbackWhy = "";

async function both(path: string, opts: FileReadOptions = {}) {
  const js = await outcome(() => readFile(path, opts));
  let reader = "";
  const native = await outcome(async () => {
    const r = await readFileNative(path, { ...opts, reader: "duckdb" });
    reader = r.reader;
    fallbackWhy = r.fallback ?? "";
    return r;
  });
  return { js, native, reader };
}

const available = await duckdbAvailable();

describe.runIf(available)("DuckDB read path = today's reader", () => {
  it("the messy corpus: same outcome for every file; the plain ones read by DuckDB", async () => {
    const byDuck: string[] = [];
    for (const c of expected.cases) {
      const { js, native, reader } = await both(join(corpusDir, c.file), { ...c.options, format: "csv" });
      expect(native, `${c.file} (${c.note})`).toEqual(js);
      if (reader === "duckdb") byDuck.push(c.file);
    }
    for (const f of ["crlf.csv", "quoted.csv", "semicolon.csv", "tab.tsv", "na_tokens.csv", "inf.csv", "bom_utf8.csv"]) {
      expect(byDuck, f).toContain(f);
    }
    // what DuckDB does not read as csv.ts does went to today's reader
    for (const f of ["gbk_chinese.csv", "utf16.csv", "unparsable.csv", "ragged.csv"]) expect(byDuck, f).not.toContain(f);
  });

  it("numeric tokens DuckDB and csv.ts might read differently", async () => {
    const tokens = [
      "1_000", "nan", "NaN", "inf", "-Inf", "+infinity", "INF", "infinit", "0x10", "1e5", "1E-3", "+1", ".5", "5.", "-0",
      " 7 ", "\t3", "1.5e", "1e+", "1,234", '"1,234"', '"12"', '" 12 "', '"1\n"', "1d5", "00012", "1e400", "1e-400",
      "12345678901234567", "9007199254740993", "-9007199254740993", "123456789012345678", "0.1000000000000000055511151231257827",
      "#1", "--", "N/A", "null", "NULL", ".", '""', '"NA"', " NA", "  ", "x",
    ];
    let duck = 0;
    for (const [i, t] of tokens.entries()) {
      const body = ["id,x,s", `1,${t},a`, "2,2.5,b", "3,,c", "4,-1,a"].join("\n") + "\n";
      const path = join(dir, `tok${i}.csv`);
      writeFileSync(path, body);
      for (const opts of [{}, { unparsable: "na" as const }, { na: ["", "NA"] }]) {
        const { js, native, reader } = await both(path, opts);
        expect(native, `${JSON.stringify(t)} ${JSON.stringify(opts)}`).toEqual(js);
        if (reader === "duckdb") duck++;
      }
    }
    expect(duck).toBeGreaterThan(20);
  });

  it("text columns: quoting, spaces, missing-value tokens, mostly-numeric text, ids beyond 2^53", async () => {
    const cells = ['"a"', " b ", '"x, y"', '"he said ""hi"""', '"multi\nline"', "NA", " NA ", '""', "12", "é漢字", ' "q"', '"q" ', "ab\"c", "9007199254740993"];
    let duck = 0;
    for (const [i, cell] of cells.entries()) {
      const rows = ["g,y", `${cell},1`, "alpha,2", "beta,3", `${cell},4`];
      const path = join(dir, `text${i}.csv`);
      writeFileSync(path, rows.join("\r\n") + "\r\n");
      const { js, native, reader } = await both(path);
      expect(native, JSON.stringify(cell)).toEqual(js);
      if (reader === "duckdb") duck++;
      const forced = await both(path, { stringColumns: ["g"] });
      expect(forced.native, `${JSON.stringify(cell)} forced`).toEqual(forced.js);
    }
    expect(duck).toBeGreaterThan(5);
    // a column of integers beyond 2^53 (ids kept as text, with the note)
    writeFileSync(join(dir, "bigid.csv"), "id,y\n123456789012345678,1\n123456789012345679,2\n");
    const big = await both(join(dir, "bigid.csv"));
    expect(big.native).toEqual(big.js);
  });

  it("random CSV files: same rows, values and report", async () => {
    const cell = fc.oneof(
      { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).map((x) => String(x)) },
      { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)) },
      { weight: 4, arbitrary: fc.integer({ min: -1e6, max: 1e6 }).map(String) },
      { weight: 1, arbitrary: fc.constantFrom("", "NA", "inf", "-inf", "1e3", "007", "1.50", " 4 ", '"5"') },
    );
    const bad = fc.constantFrom("nan", "1_0", "x", '"1\n"', " NA");
    const text = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom("a", "b", "c d", '"e,f"', "NA", "", "g_h", "甲", '"x ""y"""') },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 50 }).map(String) },
    );
    const file = fc.record({
      delim: fc.constantFrom(",", ";", "\t"),
      eol: fc.constantFrom("\n", "\r\n"),
      numCols: fc.integer({ min: 1, max: 4 }),
      rows: fc.integer({ min: 0, max: 40 }),
      seedCells: fc.array(fc.tuple(cell, cell, cell, cell, text), { minLength: 40, maxLength: 40 }),
      select: fc.boolean(),
      dirty: fc.option(fc.tuple(fc.nat({ max: 39 }), fc.nat({ max: 3 }), bad), { freq: 3 }),
    });
    let k = 0;
    let duck = 0;
    await fc.assert(
      fc.asyncProperty(file, async (f) => {
        const d = f.delim;
        const fix = (s: string) => (s.startsWith('"') ? s : s.includes(d) ? `"${s}"` : s);
        const header = [...Array.from({ length: f.numCols }, (_x, j) => `x${j}`), "g"].join(d);
        const lines = [header];
        for (let r = 0; r < f.rows; r++) {
          const row = [...f.seedCells[r]];
          if (f.dirty && f.dirty[0] === r) row[f.dirty[1]] = f.dirty[2];
          lines.push([...row.slice(0, f.numCols).map((s) => fix(String(s))), fix(row[4])].join(d));
        }
        const path = join(dir, `rand${k++}.csv`);
        writeFileSync(path, lines.join(f.eol) + f.eol);
        const opts: FileReadOptions = f.select ? { columns: ["g", "x0"] } : {};
        for (const o of [opts, { ...opts, unparsable: "na" as const }]) {
          const { js, native, reader } = await both(path, o);
          expect(native).toEqual(js);
          if (reader === "duckdb") duck++;
        }
      }),
      { seed: 20261201, numRuns: 40 },
    );
    expect(duck).toBeGreaterThan(30); // of 80 reads
  });

  it("null slots of a DuckDB vector never count as values (whatever the buffer holds there)", () => {
    // DuckDB leaves null slots uninitialised: here they hold 2^60, NaN and Infinity
    const items = new Float64Array([1, 2 ** 60, 3, NaN, Infinity, 4]);
    const validity = new BigUint64Array([0b100101n]); // rows 0, 2, 5 valid
    const acc = new NumAcc();
    acc.push(items, validity, 6);
    expect(acc.big).toBe(false);
    expect(acc.nans).toBe(0);
    expect(acc.infinite).toBe(0);
    expect(acc.nulls).toBe(3);
    expect(Array.from(acc.finish())).toEqual([1, NaN, 3, NaN, NaN, 4]);
    // the same values when valid are counted
    const all = new NumAcc();
    all.push(items, null, 6);
    expect([all.big, all.nans, all.infinite, all.nulls]).toEqual([true, 1, 1, 0]);
  });

  it("Parquet: same table and report", async () => {
    const n = 500;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const g: (string | null)[] = [];
    for (let i = 0; i < n; i++) {
      x[i] = i % 17 === 0 ? NaN : Math.sin(i) * 1e3;
      y[i] = i % 5;
      g.push(i % 23 === 0 ? null : `firm${(i * 7) % 31}`);
    }
    const table = new Table({
      x: vectorFromArray(Array.from(x, (v) => (v !== v ? null : v)), new Float64()),
      y: vectorFromArray(Array.from(y), new Float64()),
      g: vectorFromArray(g, new Utf8()),
      k: vectorFromArray(Int32Array.from({ length: n }, (_v, i) => i * 1000 - 7)),
      b: vectorFromArray(Array.from({ length: n }, (_v, i) => (i % 11 === 0 ? null : i % 3 === 0))),
    });
    const path = join(dir, "p.parquet");
    writeFileSync(path, writeParquet(table));
    for (const opts of [{}, { columns: ["g", "x"] }, { columns: ["b", "k"] }, { columns: ["nope"] }]) {
      const { js, native, reader } = await both(path, opts);
      expect(native).toEqual(js);
      if (js.ok) expect(reader, fallbackWhy).toBe("duckdb");
    }
  });

  it("globs of CSV files read as their concatenation, in name order", async () => {
    const sub = join(dir, "parts");
    rmSync(sub, { recursive: true, force: true });
    mkdtempSync(sub);
    writeFileSync(join(dir, "parts-all.csv"), "");
    const all: string[] = ["firm,year,y"];
    const partsDir = mkdtempSync(join(dir, "csvparts-"));
    for (let p = 0; p < 3; p++) {
      const lines = ["firm,year,y"];
      for (let i = 0; i < 20; i++) {
        const line = `${p === 1 && i === 3 ? "NA" : `f${(p * 20 + i) % 7}`},${2000 + i},${i === 5 ? "NA" : (p * 20 + i) / 8}`;
        lines.push(line);
        all.push(line);
      }
      writeFileSync(join(partsDir, `part-${p}.csv`), lines.join("\n") + "\n");
    }
    writeFileSync(join(dir, "parts-all.csv"), all.join("\n") + "\n");
    const whole = await outcome(() => readFile(join(dir, "parts-all.csv")));
    const glob = await readFileNative(join(partsDir, "part-*.csv"), { reader: "duckdb" });
    expect(glob.reader).toBe("duckdb");
    expect(glob.files.map((f) => f.split("/").pop())).toEqual(["part-0.csv", "part-1.csv", "part-2.csv"]);
    expect({ ok: true, snap: snapshot(glob.table), report: glob.report }).toEqual(whole);
    // a glob today's reader must take (one part not plain): the same concatenation
    const tail = "f1,2030,nan\nf2,2031,1.5\nf3,2032,2\n";
    writeFileSync(join(partsDir, "part-3.csv"), "firm,year,y\n" + tail);
    writeFileSync(join(dir, "parts-all.csv"), all.join("\n") + "\n" + tail);
    const whole2 = await outcome(() => readFile(join(dir, "parts-all.csv"), { unparsable: "na" }));
    const glob2 = await readFileNative(join(partsDir, "part-*.csv"), { reader: "duckdb", unparsable: "na" });
    expect(glob2.reader).toBe("js");
    expect({ ok: true, snap: snapshot(glob2.table), report: glob2.report }).toEqual(whole2);
    await expect(readFileNative(join(partsDir, "none-*.csv"), { reader: "duckdb" })).rejects.toThrow(DataReadError);
  });

  it("globs of Parquet files", async () => {
    const partsDir = mkdtempSync(join(dir, "pqparts-"));
    const xs: number[] = [];
    const gs: string[] = [];
    for (let p = 0; p < 3; p++) {
      const x = Array.from({ length: 10 }, (_v, i) => p * 10 + i + 0.25);
      const g = x.map((v) => `g${Math.floor(v) % 4}`);
      xs.push(...x);
      gs.push(...g);
      writeFileSync(join(partsDir, `p${p}.parquet`), writeParquet(new Table({ x: vectorFromArray(x, new Float64()), g: vectorFromArray(g, new Utf8()) })));
    }
    const r = await readFileNative(join(partsDir, "*.parquet"), { reader: "duckdb" });
    expect(r.reader).toBe("duckdb");
    expect(readdirSync(partsDir).length).toBe(3);
    const s = snapshot(r.table);
    expect(s.rows).toBe(30);
    expect(s.values[0]).toEqual(xs);
    expect(s.values[1]).toEqual(gs);
    expect(r.report.rows).toBe(30);
  });

  it("reader option: js is today's reader; unknown names are an OptionError", async () => {
    const path = join(corpusDir, "crlf.csv");
    const r = await readFileNative(path, { reader: "js" });
    expect(r.reader).toBe("js");
    await expect(readFileNative(path, { reader: "fast" as never })).rejects.toThrow(OptionError);
    void makeData;
    void tableFromData;
    void (null as unknown as Vector);
  });

  it("hdfe feols --data: the same result with --reader duckdb and --reader js; a bad --reader exits 2", () => {
    const root = join(here, "..");
    const path = join(dir, "panel.csv");
    const lines = ["firm,year,city,y,x"];
    for (let i = 0; i < 600; i++) {
      const f = Math.floor(i / 6);
      lines.push(`F${f},${2010 + (i % 6)},${i === 7 ? "NA" : `c${f % 9}`},${(Math.sin(i) + f / 50).toFixed(6)},${Math.cos(i * 1.3)}`);
    }
    writeFileSync(path, lines.join("\n") + "\n");
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [HDFE_BIN, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
    const args = ["feols", "--data", path, "-f", "y ~ x | firm + year + city", "--json"];
    const duck = run(...args, "--reader", "duckdb");
    const js = run(...args, "--reader", "js");
    expect(duck.status, duck.stderr).toBe(0);
    expect(js.status, js.stderr).toBe(0);
    const a = JSON.parse(duck.stdout);
    expect(a).toEqual(JSON.parse(js.stdout));
    expect(JSON.stringify(a)).toContain("coef");
    expect(duck.stderr).toBe(js.stderr);
    const bad = run(...args, "--reader", "fast");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown reader");
  });
});
