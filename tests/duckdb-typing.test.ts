// The DuckDB engine and the DuckDB reader type CSV columns as the built-in reader does
// (bindings/platform/duckdb-csv-types.ts, bindings/platform/duckdb-csv-plan.ts): on a corpus of
// tricky id / number spellings (tests/duckdb-typing-corpus.ts) and on random files, the
// out-of-core fit (--engine duckdb) and the in-memory fit give the same sample (nobs, removed
// rows, FE level counts, cluster counts) and numbers, or both fail on the same column; the
// DuckDB reader gives the built-in reader's table and read report.
//
// Tolerances (relative, for every case alike): coefficients 1e-8, standard errors 1e-6.
// Sample counts and reader values: exact. Property tests: fast-check, fixed seeds.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { readFile } from "../bindings/platform/read-node.js";
import { readFileNative } from "../bindings/platform/duckdb-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit } from "../bindings/estimators/feols.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import { DuckDBBackend, type DuckCsvOptions } from "../bindings/platform/duckdb-engine.js";
import { HdfeError } from "../bindings/base/errors.js";
import { TYPING_CASES, typingCsv } from "./duckdb-typing-corpus.js";
import { snapshot } from "./snapshot.js";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

let eng: Engine;
let dir = "";
let seq = 0;
beforeAll(async () => {
  eng = await loadEngine();
  dir = mkdtempSync(join(tmpdir(), "hdfe-duckdb-typing-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function write(text: string): string {
  const p = join(dir, `f${++seq}.csv`);
  writeFileSync(p, text);
  return p;
}

type Outcome = { fit: Fit } | { error: HdfeError };

async function attempt(run: () => Promise<Fit> | Fit): Promise<Outcome> {
  try {
    return { fit: await run() };
  } catch (e) {
    if (!(e instanceof HdfeError)) throw e;
    return { error: e };
  }
}

/** The column an error is about (its details, else the first quoted name in the message). */
function columnOf(e: HdfeError): string | undefined {
  const d = (e as { details?: Record<string, unknown> }).details;
  if (d && typeof d.column === "string") return d.column;
  return /"([^"]+)"/.exec(e.message)?.[1];
}

/** Both engines on one file: the same sample and numbers, or both failing on the same column (and, for a
 *  value that is not a number, the same count and first row). */
async function sameFit(path: string, formula: string, vcov: string, csv: DuckCsvOptions = {}): Promise<"fit" | string> {
  const mem = await attempt(async () => {
    const r = await readFile(path, { na: csv.na, stringColumns: csv.textColumns, unparsable: csv.unparsableAsNa ? "na" : undefined });
    return feols(eng, Frame.fromArrow(r.table), formula, { vcov });
  });
  let b: DuckDBBackend | undefined;
  const sql = await attempt(async () => {
    b = await DuckDBBackend.open({ data: path, threads: 1, csv });
    return feolsSql(b, formula, { vcov });
  });
  b?.close();
  if ("error" in mem) {
    expect("error" in sql, `in memory: ${mem.error.message}; duckdb fitted`).toBe(true);
    const se = (sql as { error: HdfeError }).error;
    expect(columnOf(se), `${mem.error.message} || ${se.message}`).toBe(columnOf(mem.error));
    if (mem.error.name === "DataReadError") {
      expect(se.name).toBe("DataReadError");
      // "column "g" is numeric but has 1 value that is not a number; first at data row 8"
      expect(se.message.split(/[:(]/)[0].trim()).toBe(mem.error.message.split(/[:(]/)[0].trim());
    }
    return mem.error.name;
  }
  expect("fit" in sql, "error" in sql ? `duckdb: ${sql.error.message}` : "").toBe(true);
  const a = mem.fit;
  const s = (sql as { fit: Fit }).fit;
  expect(s.nobs).toBe(a.nobs);
  expect(s.nobsOrigin).toBe(a.nobsOrigin);
  expect(s.removed).toEqual(a.removed);
  expect(s.fixefSizes).toEqual(a.fixefSizes);
  expect(s.clusterSizes).toEqual(a.clusterSizes);
  expect(s.coefNames).toEqual(a.coefNames);
  for (const k of a.coefNames) {
    expect(rel(s.coef[k], a.coef[k]), `coef ${k}`).toBeLessThan(COEF_REL);
    expect(rel(s.se[k], a.se[k]), `se ${k}`).toBeLessThan(SE_REL);
  }
  return "fit";
}

/** The DuckDB reader against the built-in one: the same table and report, or the same error. */
async function sameRead(path: string): Promise<void> {
  const js = await attempt(async () => (await readFile(path)) as never);
  const nat = await attempt(async () => (await readFileNative(path, { reader: "duckdb" })) as never);
  if ("error" in js) {
    expect("error" in nat).toBe(true);
    expect((nat as { error: HdfeError }).error.message).toBe(js.error.message);
    return;
  }
  expect("fit" in nat).toBe(true);
  const a = js.fit as unknown as Awaited<ReturnType<typeof readFile>>;
  const n = (nat as { fit: unknown }).fit as Awaited<ReturnType<typeof readFileNative>>;
  expect(snapshot(n.table)).toEqual(snapshot(a.table));
  expect(n.report).toEqual(a.report);
}

describe("typing corpus: --engine duckdb = in memory", () => {
  for (const c of TYPING_CASES) {
    it(c.name, async () => {
      const path = write(typingCsv(c, 20261202));
      const r = await sameFit(path, "y ~ x | g", "cluster:g");
      // the corpus's error cases are the ones the in-memory reader refuses
      if (r !== "fit") expect(["numeric ids with one text value", "'nan' in x", "booleans as x"]).toContain(c.name);
    });
  }

  it("options: --unparsable-as-na, --text-columns, --na as the in-memory reader takes them", async () => {
    const one = TYPING_CASES.find((c) => c.name === "numeric ids with one text value")!;
    const path = write(typingCsv(one, 7));
    expect(await sameFit(path, "y ~ x | g", "iid", { unparsableAsNa: true })).toBe("fit");
    const zeros = TYPING_CASES.find((c) => c.name === "'01' beside '1'")!;
    const p2 = write(typingCsv(zeros, 7));
    expect(await sameFit(p2, "y ~ x | g", "hetero", { textColumns: ["g"] })).toBe("fit");
    expect(await sameFit(p2, "y ~ x | g", "hetero", { na: ["", "NA", "01"] })).toBe("fit");
  });

  it("a file with 2 FE and 25,000 rows: types decided on the whole file, not a sniffer's sample", async () => {
    const lines = ["g,h,x,y"];
    for (let i = 0; i < 25000; i++) {
      const g = i % 500;
      // past row 20,480 (DuckDB's sample) the ids gain leading zeros and a ' NA ' appears
      const gs = i > 21000 && i % 2 ? String(g).padStart(4, "0") : String(g);
      lines.push([i === 24000 ? " NA " : gs, `h${i % 13}`, String((i % 97) / 7), String(((i * 7919) % 1000) / 100 + (g % 5))].join(","));
    }
    const path = write(lines.join("\n") + "\n");
    expect(await sameFit(path, "y ~ x | g + h", "cluster:g")).toBe("fit");
  });
});

describe("CLI: hdfe feols --engine duckdb = --engine wasm on the corpus's tricky files", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname });
  for (const name of ["'01' beside '1', ' NA ' among them", "NA spellings in x", "quoted thousands in x"]) {
    it(name, () => {
      const path = write(typingCsv(TYPING_CASES.find((c) => c.name === name)!, 20261202));
      const run = (engine: string) => {
        const r = cli(["feols", "--data", path, "-f", "y ~ x | g", "--engine", engine, "--vcov", "cluster:g", "--json"]);
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as { nobs: number; coef: Record<string, number>; se: Record<string, number>; fixefSizes: Record<string, number> };
      };
      const w = run("wasm");
      const d = run("duckdb");
      expect(d.nobs).toBe(w.nobs);
      expect(d.fixefSizes).toEqual(w.fixefSizes);
      expect(rel(d.coef.x, w.coef.x)).toBeLessThan(COEF_REL);
      expect(rel(d.se.x, w.se.x)).toBeLessThan(SE_REL);
    });
  }
  it("a numeric id column with a text value: both exit with the reader's error naming the column", () => {
    const path = write(typingCsv(TYPING_CASES.find((c) => c.name === "numeric ids with one text value")!, 20261202));
    for (const engine of ["wasm", "duckdb"]) {
      const r = cli(["feols", "--data", path, "-f", "y ~ x | g", "--engine", engine]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/DataReadError: column "g" is numeric but has 1 value that is not a number; first at data row 8/);
    }
  });
});

describe("the same errors on both engines", () => {
  // the error line of each engine, from "hdfe: " up to the end of the first line
  const firstError = (args: string[]) => {
    const r = spawnSync(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8", cwd: new URL("..", import.meta.url).pathname });
    return { status: r.status, line: /hdfe: .*/.exec(r.stderr)?.[0] ?? r.stderr };
  };
  const files: Record<string, string> = {
    "a plain file": "y,x,g\n1,1,1\n2,2,1\n3,zz,2\n4,4,2\n",
    "a quoted field with a line break before the bad value": 'y,x,g\n1,1,1\n2,"a\nb",1\n3,zz,2\n4,4,2\n',
    "an empty line before the bad value": "y,x,g\n1,1,1\n\n2,2,1\n3,zz,2\n4,4,2\n",
    "CRLF line ends": "y,x,g\r\n1,1,1\r\n2,2,1\r\n\r\n3,4,2\r\n4,qq,2\r\n",
  };
  for (const [name, text] of Object.entries(files)) {
    it(`an unparsable value: the same data row and file line (${name})`, () => {
      const path = write(text);
      const [w, d] = ["wasm", "duckdb"].map((engine) => firstError(["feols", "--data", path, "-f", "y ~ x | g", "--engine", engine]));
      expect(w.line).toMatch(/DataReadError: .*first at data row \d+ \(line \d+\)/);
      expect(d).toEqual(w);
    });
  }
  it("a text regressor in a CSV and in a Parquet file: the in-memory ColumnError and exit code", async () => {
    const csv = write("y,x,g\n1,a,1\n2,b,1\n3,c,2\n4,d,2\n");
    const pq = csv.replace(/\.csv$/, ".parquet");
    const b = await DuckDBBackend.open({ data: csv });
    await b.exec(`COPY (SELECT * FROM hdfe_csv_data) TO '${pq}' (FORMAT parquet)`, "test");
    b.close();
    for (const path of [csv, pq]) {
      const [w, d] = ["wasm", "duckdb"].map((engine) => firstError(["feols", "--data", path, "-f", "y ~ x | g", "--engine", engine]));
      expect(w.line).toMatch(/^hdfe: ColumnError: regressor "x" is not numeric/);
      expect(d).toEqual(w);
    }
  });
});

describe("typing corpus: --reader duckdb = built-in reader", () => {
  for (const c of TYPING_CASES) {
    it(c.name, async () => {
      await sameRead(write(typingCsv(c, 20261202)));
    });
  }
  // a numeric column past the first 64 KiB (typed by csv.ts there) with a spelling DuckDB's number parser
  // may take otherwise: "+-1" was read as -1 by DuckDB
  const late = ["+-1", "+-1e5", "+-inf", "-+1", "++1", "1_000", "nan", "0x10", "1e", ".", "0001", "1,5", "inf", " 7 "];
  for (const v of late) {
    it(`a late ${JSON.stringify(v)} in a numeric column`, async () => {
      const rows = Array.from({ length: 5000 }, (_, i) => `${i},${(i * 0.37).toFixed(3)}`);
      await sameRead(write(`id,x\n${rows.join("\n")}\n5000,${v}\n`));
    });
  }
});

describe("random files (property): --engine duckdb = in memory, --reader duckdb = built-in", () => {
  const idSpell = fc.constantFrom("plain", "zeros", "plus", "space", "dot0", "quoted", "exp");
  const xSpell = fc.constantFrom("plain", "space", "quoted", "exp", "zeros", "na", "NA ", "thousands");
  it("same sample and numbers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 25 }), idSpell, xSpell, fc.integer({ min: -50000, max: 50000 }), fc.integer({ min: -50000, max: 50000 })), { minLength: 60, maxLength: 120 }), async (rows) => {
        const id = (k: number, s: string) =>
          s === "zeros" ? String(k).padStart(3, "0") : s === "plus" ? `+${k}` : s === "space" ? ` ${k} ` : s === "dot0" ? `${k}.0` : s === "quoted" ? `"${k}"` : s === "exp" ? `${k / 10}e1` : String(k);
        const num = (v: number, s: string) => {
          const t = String(v / 1e4);
          return s === "space" ? `\t${t} ` : s === "quoted" ? `"${t}"` : s === "exp" ? Number(t).toExponential() : s === "zeros" && Number(t) >= 0 ? `00${t}` : s === "na" ? "N/A" : s === "NA " ? " NA " : s === "thousands" ? `"1,${String(Math.abs(v) % 1000).padStart(3, "0")}"` : t;
        };
        const text = ["g,x,y", ...rows.map(([k, si, sx, x, e]) => [id(k, si), num(x, sx), String(0.5 * (x / 1e4) + (k % 4) + e / 1e4)].join(","))].join("\n") + "\n";
        const path = write(text);
        await sameFit(path, "y ~ x | g", "cluster:g");
        await sameRead(path);
      }),
      { seed: 20261202, numRuns: 12, endOnFailure: true },
    );
  }, 300_000);
});
