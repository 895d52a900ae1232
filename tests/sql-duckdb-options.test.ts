// The DuckDB engine reads a CSV file with the in-memory reader's options (--na, --delimiter,
// --encoding, --text-columns, --unparsable-as-na): the same file and option give the same fit
// on both engines; an option DuckDB cannot honour (GBK) is refused. And --engine auto decides
// before reading the file, from its rows against the memory plan (HDFE_WASM_MEMORY_LIMIT).
//
// Tolerances (relative, once for the file; the shared expectSameFit of sql-duckdb-setup.ts):
//   coefficients 1e-8; standard errors 1e-6; r2 / within r2 1e-8 absolute.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { readFile, type FileReadOptions } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols } from "../bindings/estimators/feols.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import { DuckDBBackend, type DuckCsvOptions } from "../bindings/platform/duckdb-engine.js";
import { OptionError } from "../bindings/base/errors.js";
import { Rng } from "../bindings/base/rng.js";
import { countRows } from "../bindings/platform/row-count.js";
import { ClickHouseBackend } from "../bindings/sql/clickhouse.js";
import { expectSameFit, rel, COEF_REL, SE_REL } from "./sql-duckdb-setup.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
import { placeboPanelCsv, expectSamePlacebo } from "./sql-placebo-setup.js";
assertFresh();

/** A firm x year panel; `cell` writes each value (the options' quirks), `sep` the delimiter. Fixed seed. */
function panel(seed: number, sep: string, cell: (col: string, v: number, i: number) => string, textIds = false): string {
  const r = new Rng(seed);
  const lines = [["firm", "year", "x1", "x2", "y"].join(sep)];
  let i = 0;
  for (let g = 0; g < 120; g++) {
    const a = r.normal();
    // textIds: ids 6 and 6.0, one firm when firm is read as numbers, two when read as text
    const id = !textIds ? String(g) : g % 2 === 0 ? String(g) : `${g - 1}.0`;
    for (let t = 0; t < 6; t++, i++) {
      const x1 = r.normal() + 0.5 * a;
      const x2 = r.normal();
      const y = 0.7 * x1 - 0.4 * x2 + a + 0.2 * t + r.normal();
      lines.push([id, 2000 + t, cell("x1", x1, i), cell("x2", x2, i), cell("y", y, i)].join(sep));
    }
  }
  return lines.join("\n") + "\n";
}

let eng: Engine;
let dir: string;
const file = (name: string) => join(dir, name);
const opened: DuckDBBackend[] = [];

beforeAll(async () => {
  eng = await loadEngine();
  dir = mkdtempSync(join(tmpdir(), "hdfe-sql-options-"));
  const plain = (_: string, v: number) => String(v);
  writeFileSync(file("semi.csv"), panel(11, ";", plain));
  writeFileSync(file("na.csv"), panel(12, ",", (c, v, i) => (c === "x1" && i % 17 === 3 ? "-999" : c === "y" && i % 23 === 5 ? "?" : String(v))));
  writeFileSync(file("ids.csv"), panel(13, ",", plain, true));
  writeFileSync(file("unparsable.csv"), panel(14, ",", (c, v, i) => (c === "x2" && i % 29 === 7 ? "n.a." : String(v))));
  writeFileSync(file("all.csv"), panel(15, "\t", (c, v, i) => (c === "x1" && i % 19 === 2 ? "-999" : c === "x2" && i % 31 === 1 ? "bad" : String(v)), true));
});
afterAll(() => {
  for (const b of opened) b.close();
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
});

const fm = "y ~ x1 + x2 | firm + year";
const cases: [string, string, FileReadOptions, DuckCsvOptions][] = [
  ["--delimiter", "semi.csv", { delimiter: ";" }, { delimiter: ";" }],
  ["--na", "na.csv", { na: ["-999", "?"] }, { na: ["-999", "?"] }],
  ["--text-columns", "ids.csv", { stringColumns: ["firm"] }, { textColumns: ["firm"] }],
  ["--unparsable-as-na", "unparsable.csv", { unparsable: "na" }, { unparsableAsNa: true }],
  ["--encoding utf8", "semi.csv", { encoding: "utf8", delimiter: ";" }, { encoding: "utf8", delimiter: ";" }],
  ["all of them", "all.csv", { delimiter: "\t", na: ["-999"], stringColumns: ["firm"], unparsable: "na" }, { delimiter: "\t", na: ["-999"], textColumns: ["firm"], unparsableAsNa: true }],
];

describe("CSV options: the DuckDB engine's fit equals the in-memory fit of the same file", () => {
  for (const [name, f, mem, duck] of cases) {
    it(name, async () => {
      const frame = Frame.fromArrow((await readFile(file(f), mem)).table);
      const a = feols(eng, frame, fm, { vcov: "cluster:firm" });
      const b = await DuckDBBackend.open({ data: file(f), threads: 2, csv: duck });
      opened.push(b);
      const s = await feolsSql(b, fm, { vcov: "cluster:firm" });
      expectSameFit(s, a);
    });
  }
  it("the options change the fit (they are not ignored): firm read as text has twice the firms", async () => {
    const plainIds = await DuckDBBackend.open({ data: file("ids.csv"), threads: 2 });
    const textIds = await DuckDBBackend.open({ data: file("ids.csv"), threads: 2, csv: { textColumns: ["firm"] } });
    opened.push(plainIds, textIds);
    const p = await feolsSql(plainIds, fm, { vcov: "iid" });
    const t = await feolsSql(textIds, fm, { vcov: "iid" });
    expect(t.fixefSizes.firm).toBe(2 * p.fixefSizes.firm);
  });
  it("GBK, an unknown encoding and a bad delimiter are OptionErrors naming why", async () => {
    await expect(DuckDBBackend.open({ data: file("semi.csv"), csv: { encoding: "gbk" } })).rejects.toThrow(/UTF-8 only/);
    await expect(DuckDBBackend.open({ data: file("semi.csv"), csv: { encoding: "gbk" } })).rejects.toBeInstanceOf(OptionError);
    await expect(DuckDBBackend.open({ data: file("semi.csv"), csv: { encoding: "latin9" } })).rejects.toBeInstanceOf(OptionError);
    await expect(DuckDBBackend.open({ data: file("semi.csv"), csv: { delimiter: ";;" } })).rejects.toBeInstanceOf(OptionError);
  });
});

describe("fixefAlgo on ClickHouse (CG runs there since the 18.16 alias fix: tests/clickhouse-cg.large.test.ts)", () => {
  it("an unknown fixefAlgo is refused before any query (no server at this address)", async () => {
    const b = new ClickHouseBackend({ url: "http://127.0.0.1:9", table: "hd.none" });
    await expect(feolsSql(b, fm, { fixefAlgo: "lsmr" as never })).rejects.toBeInstanceOf(OptionError);
  });
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [HDFE_BIN, ...args], { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname, env: { ...process.env, ...env } });

describe("CLI: the engine is decided before reading", () => {
  it("a CSV's rows: exact for a short file, estimated from the size for a long one", async () => {
    const short = await countRows(file("semi.csv"), "csv");
    expect(short).toEqual({ rows: 720, estimated: "" });
    const long = file("long.csv");
    const body = panel(16, ",", (_, v) => String(v));
    writeFileSync(long, body + body.split("\n").slice(1).join("\n").repeat(150));
    const n = (await countRows(long, "csv"))!;
    expect(n.estimated).toMatch(/file size/);
    expect(Math.abs(n.rows - 151 * 720) / (151 * 720)).toBeLessThan(0.05);
  });
  it("--engine auto over the plan fits out of core with a note; --engine wasm exits 9 naming --engine duckdb", () => {
    const args = ["feols", "--data", file("semi.csv"), "--delimiter", ";", "-f", fm, "--vcov", "cluster:firm", "--json"];
    const small = { HDFE_WASM_MEMORY_LIMIT: "10000" };
    const mem = cli([...args, "--engine", "wasm"]);
    expect(mem.status, mem.stderr).toBe(0);
    const auto = cli(args, small);
    expect(auto.status, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/note: the model needs about .* 720 rows .*--engine duckdb instead/);
    expect(auto.stderr).toMatch(/duckdb: sample: /);
    const a = JSON.parse(mem.stdout), s = JSON.parse(auto.stdout);
    expect(s.nobs).toBe(a.nobs);
    expect(Object.keys(s.coef)).toEqual(["x1", "x2"]);
    for (const k of Object.keys(a.coef)) {
      expect(rel(s.coef[k], a.coef[k]), k).toBeLessThan(COEF_REL);
      expect(rel(s.se[k], a.se[k]), k).toBeLessThan(SE_REL);
    }
    const refused = cli([...args, "--engine", "wasm"], small);
    expect(refused.status).toBe(9);
    expect(refused.stderr).toMatch(/WasmMemoryError/);
    expect(refused.stderr).toMatch(/--engine duckdb/);
  });
  it("--engine duckdb --encoding gbk exits 2 saying DuckDB reads UTF-8 only", () => {
    const r = cli(["feols", "--data", file("semi.csv"), "-f", fm, "--engine", "duckdb", "--encoding", "gbk"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/OptionError: --encoding gbk: DuckDB's CSV reader reads UTF-8 only/);
  });
  it("--reader js and --format arrow are refused out of core; --format csv reads a file whatever its name", () => {
    const args = ["feols", "--data", file("semi.csv"), "-f", fm, "--delimiter", ";", "--json"];
    const js = cli([...args, "--engine", "duckdb", "--reader", "js"]);
    expect(js.status).toBe(2);
    expect(js.stderr).toMatch(/OptionError: --reader js is the in-memory reader/);
    const arrow = cli([...args, "--engine", "duckdb", "--format", "arrow"]);
    expect(arrow.status).toBe(2);
    expect(arrow.stderr).toMatch(/OptionError: --engine duckdb reads CSV and Parquet files/);
    // a CSV named .txt: DuckDB reads it as CSV when told, and the fit equals the in-memory one
    const txt = file("semi.txt");
    writeFileSync(txt, readFileSync(file("semi.csv")));
    const out = cli(["feols", "--data", txt, "-f", fm, "--delimiter", ";", "--json", "--format", "csv", "--engine", "duckdb"]);
    expect(out.status, out.stderr).toBe(0);
    const mem = cli([...args, "--engine", "wasm"]);
    expect(mem.status, mem.stderr).toBe(0);
    const a = JSON.parse(out.stdout), b = JSON.parse(mem.stdout);
    for (const k of Object.keys(b.coef)) expect(rel(a.coef[k], b.coef[k])).toBeLessThan(COEF_REL);
  });
  it("reading options given to --engine clickhouse are refused before any query (no server at this address)", () => {
    const base = ["feols", "-f", fm, "--engine", "clickhouse", "--url", "http://127.0.0.1:9", "--table", "db.t"];
    for (const [extra, msg] of [
      [["--reader", "js"], /--reader "js" chooses how a file is read into memory/],
      [["--format", "parquet"], /--format applies to --data files/],
      [["--na", "-999", "--delimiter", ";"], /--na, --delimiter read CSV files; --engine clickhouse reads the table/],
    ] as [string[], RegExp][]) {
      const r = cli([...base, ...extra]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
  it("hdfe wild and hdfe placebo under --engine auto over the plan run out of core with a note, as with --engine duckdb", () => {
    const small = { HDFE_WASM_MEMORY_LIMIT: "10000" };
    const wildArgs = ["wild", "--data", file("semi.csv"), "--delimiter", ";", "-f", fm, "--param", "x1", "--cluster", "firm", "--B", "199", "--json"];
    const wAuto = cli(wildArgs, small);
    expect(wAuto.status, wAuto.stderr).toBe(0);
    expect(wAuto.stderr).toMatch(/note: .*--engine duckdb instead/);
    const wDuck = cli([...wildArgs, "--engine", "duckdb"]);
    expect(wDuck.status, wDuck.stderr).toBe(0);
    const a = JSON.parse(wAuto.stdout), b = JSON.parse(wDuck.stdout);
    expect(a.pSymmetric).toBe(b.pSymmetric);
    expect(a.nobs).toBe(b.nobs);
    // two DuckDB runs may add in another order (parallel aggregation): the interval to the file's coefficient tolerance
    for (let j = 0; j < 2; j++) expect(rel(a.ci[j], b.ci[j])).toBeLessThan(COEF_REL);
    // the same over the plan with --engine wasm: the plan's error naming --engine duckdb
    const wMem = cli([...wildArgs, "--engine", "wasm"], small);
    expect(wMem.status).toBe(9);
    expect(wMem.stderr).toMatch(/--engine duckdb/);
    const gen = file("placebo-gen.csv");
    writeFileSync(gen, placeboPanelCsv(20261202, 120));
    const plArgs = ["placebo", "--data", gen, "-f", "y ~ did + x1 | firm + year", "--treatment", "did", "--unit", "city", "--adopt", "adopt", "--year", "year", "--draws", "99", "--json"];
    const pAuto = cli(plArgs, small);
    expect(pAuto.status, pAuto.stderr).toBe(0);
    expect(pAuto.stderr).toMatch(/note: .*--engine duckdb instead/);
    const pDuck = cli([...plArgs, "--engine", "duckdb"]);
    expect(pDuck.status, pDuck.stderr).toBe(0);
    expectSamePlacebo(JSON.parse(pAuto.stdout), JSON.parse(pDuck.stdout));
    // an option out of core cannot run (--scheme time): over the plan, the plan's error, not a fallback
    const pTime = cli([...plArgs, "--scheme", "time"], small);
    expect(pTime.status).toBe(9);
    expect(pTime.stderr).toMatch(/WasmMemoryError/);
  });
});
