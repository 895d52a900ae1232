// Unbounded work in the inference tools (issue 12): draws / B / threads validated in the
// library, the draws' memory planned before anything is allocated, a replay file without
// rows refused naming the file, progress lines off a terminal. Via the library and via the
// real CLI (bin/hdfe.js on dist/, rebuilt by esbuild when older than the sources).
//
// Tolerances: none needed: counts, error classes, exit codes and byte counts are exact;
// thread-count results are compared bit for bit.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, statSync, readdirSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, type Fit, type FeolsOptions } from "../bindings/estimators/feols.js";
import { OPTIONS } from "../bindings/base/options.js";
import { optionSpec } from "../cli/options.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { placebo, preparePlacebo, planPlaceboDraws, type PlaceboOptions } from "../bindings/inference/placebo.js";
import { placeboThreads, readAssignmentsFile } from "../bindings/platform/placebo-node.js";
import { wild, planWild, WILD_BYTES_PER_DRAW } from "../bindings/inference/wild.js";
import { planSuiteDraws, SUITE_BYTES_PER_DRAW } from "../bindings/suite/run.js";
import { checkCount, clampThreads, DRAW_MEMORY_LIMIT } from "../bindings/engine/limits.js";
import { OptionError, WasmMemoryError, DataReadError } from "../bindings/base/errors.js";
import { progressBar, progressLine } from "../cli/progress.js";

const ROOT = new URL("..", import.meta.url).pathname;
const DATA = join(ROOT, "tests/fixtures/reference/cbec_panel.csv");
const FORMULA = "FC ~ did + Fin | firm + year";
const ROLES = { treatment: "did", unit: "city", adopt: "adopt", year: "year" } as const;
const BAD = [0, -1, 1.5, NaN, "abc", Infinity] as const;
const CORES = availableParallelism();

let eng: Engine;
let fit: Fit;
let dir: string;
let readCache: Awaited<ReturnType<typeof readFile>>;

beforeAll(async () => {
  eng = await loadEngine();
  readCache = await readFile(DATA);
  fit = feols(eng, Frame.fromArrow(readCache.table), FORMULA, { vcov: "cluster:firm", keepColumns: ["city", "year"] });
  dir = mkdtempSync(join(tmpdir(), "hdfe-limits-"));
});

describe("one option schema for the library and the CLI (bindings/base/options.ts)", () => {
  // each case: the library option, a bad value, the CLI flag of hdfe feols and the message
  // both must give (the library names the option, the CLI its flag; the rest is the same words)
  const cases: [keyof FeolsOptions, unknown, string, string][] = [
    ["fixefIter", 1.5, "--fixef-iter", "must be a positive integer, got 1.5"],
    ["fixefIter", 0, "--fixef-iter", "must be a positive integer, got 0"],
    ["fixefTol", -1e-8, "--fixef-tol", "must be a number > 0 and < 1, got -1e-8"],
    ["level", 1, "--level", "must be a number > 0 and < 1, got 1"],
    ["fixefAlgo", "lsqr", "--fixef-algo", 'must be one of auto, map, cg, lsmr, got "lsqr"'],
    ["threads", 0, "--threads", "must be an integer from 1 to 1024, got 0"],
  ];
  it("the same values are refused with the same words by feols() and by hdfe feols", () => {
    const frame = Frame.fromArrow(readCache.table);
    for (const [opt, bad, flag, words] of cases) {
      let lib = "";
      try {
        feols(eng, frame, FORMULA, { [opt]: bad } as FeolsOptions);
      } catch (e) {
        expect(e, opt).toBeInstanceOf(OptionError);
        lib = (e as Error).message;
      }
      expect(lib, opt).toBe(`${opt} ${words}`);
      const r = hdfe("feols", "--data", DATA, "-f", FORMULA, flag, String(bad));
      expect(r.code, `${flag} ${String(bad)}: ${r.err}`).toBe(2);
      expect(r.err).toContain(`${flag} ${words.replace(/got (.*)$/, (_m, v) => `got ${JSON.stringify(String(v).replace(/^"|"$/g, ""))}`)}`);
    }
  }, 120_000);
  it("every option the CLI checks is an entry of the library schema", () => {
    expect(Object.keys(OPTIONS)).toEqual(expect.arrayContaining(["fixefIter", "fixefTol", "level", "threads", "draws", "B", "seed"]));
    for (const [cmd, attr] of [["feols", "fixefIter"], ["placebo", "draws"], ["wild", "B"], ["event", "draws"], ["suite", "draws"]] as const) {
      expect(optionSpec(cmd, attr), `${cmd} ${attr}`).toBeDefined();
      expect(Object.values(OPTIONS), `${cmd} ${attr}`).toContain(optionSpec(cmd, attr));
    }
  });
});

describe("counts are whole numbers in range (OptionError)", () => {
  it("checkCount", () => {
    for (const v of BAD) expect(() => checkCount("draws", v), String(v)).toThrow(OptionError);
    expect(() => checkCount("draws", "")).toThrow(OptionError);
    expect(checkCount("draws", 7)).toBe(7);
    expect(checkCount("draws", "1e3")).toBe(1000);
    expect(checkCount("draws", 0, 0)).toBe(0);
    expect(() => checkCount("draws", 2 ** 31)).toThrow(/must be a positive integer/);
  });

  it("placebo draws", () => {
    for (const v of BAD) {
      expect(() => placebo(eng, fit, { ...ROLES, scheme: "space", draws: v as number }), String(v)).toThrow(OptionError);
      expect(() => placebo(eng, fit, { ...ROLES, scheme: "random-time", draws: v as number }), String(v)).toThrow(/draws must be a positive integer, got/);
    }
  });

  it("wild B", () => {
    for (const v of BAD) expect(() => wild(eng, fit, { param: "did", cluster: "city", B: v as number }), String(v)).toThrow(/B must be a positive integer, got/);
  });

  it("threads: 0, -1, 1.5, abc and 2000 are errors; more than the cores is clamped with a warning", async () => {
    for (const v of [...BAD, 2000]) {
      await expect(placeboThreads(eng, fit, { ...ROLES, scheme: "space", draws: 10, threads: v as number }), String(v)).rejects.toThrow(OptionError);
    }
    const seen: string[] = [];
    expect(clampThreads(64, 2, (m) => seen.push(m))).toBe(2);
    expect(seen[0]).toMatch(/threads = 64 but this machine has 2 cores: using 2/);
    expect(clampThreads(2, 2, (m) => seen.push(m))).toBe(2);
    expect(seen.length).toBe(1);
  });

  it("placeboThreads with 64 threads runs on at most the cores, same draws as one thread", async () => {
    const opts: PlaceboOptions = { ...ROLES, scheme: "space", draws: 20, seed: 3 };
    const one = placebo(eng, fit, opts);
    const warnings: string[] = [];
    const many = await placeboThreads(eng, fit, { ...opts, threads: 64, onWarning: (m) => warnings.push(m) });
    expect(many.threads).toBe(Math.min(64, CORES));
    expect(Array.from(many.draws)).toEqual(Array.from(one.draws));
    if (CORES < 64) expect(warnings.some((w) => w.includes(`using ${CORES}`))).toBe(true);
  });
});

describe("the draws' memory is planned before allocating (WasmMemoryError)", () => {
  it("placebo: 12 bytes a draw on one thread, refused above the limit with the numbers", () => {
    expect(planPlaceboDraws(1000)).toBe(12_000);
    // threads: the ids go to every worker, and each worker returns its own results
    expect(planPlaceboDraws(1000, 2)).toBe(1000 * (8 + 4 * 3 + 8));
    // replays keep the cohort of every unit (4 bytes) in each copy
    expect(planPlaceboDraws(1000, 1, 50)).toBe(1000 * (12 + 4 * 50 * 2));
    expect(planPlaceboDraws(100, 1, 0, 1200)).toBe(1200);
    expect(() => planPlaceboDraws(101, 1, 0, 1200)).toThrow(WasmMemoryError);
    try {
      placebo(eng, fit, { ...ROLES, scheme: "space", draws: 1e9 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WasmMemoryError);
      const err = e as WasmMemoryError;
      expect(err.details).toMatchObject({ count: 1e9, bytesPerDraw: 12, bytes: 12e9, limit: DRAW_MEMORY_LIMIT, most: Math.floor(DRAW_MEMORY_LIMIT / 12) });
      expect(err.message).toMatch(/1,000,000,000 placebo draws need 11\.18 GiB .* over the limit of 1\.00 GiB/);
      expect(err.hint).toMatch(/use at most 89,478,485 draws/);
    }
  });

  it("placebo: memoryLimit is the bound (the same draws run under a larger one)", () => {
    const opts: PlaceboOptions = { ...ROLES, scheme: "space", draws: 300, seed: 2 };
    expect(() => placebo(eng, fit, { ...opts, memoryLimit: 300 * 12 - 1 })).toThrow(WasmMemoryError);
    expect(placebo(eng, fit, { ...opts, memoryLimit: 300 * 12 }).draws.length).toBe(300);
    expect(() => placebo(eng, fit, { ...opts, memoryLimit: -1 })).toThrow(OptionError);
  });

  it("placebo: the WASM scratch is planned against what the arena has left", () => {
    const opts: PlaceboOptions = { ...ROLES, scheme: "space", draws: 10, method: "demean" };
    // leave 1 MiB of the 4 GiB (address space only: the filler is never touched)
    expect(() => eng.scoped(() => {
      eng.alloc(eng.freeBytes - 2 ** 20, "filler");
      placebo(eng, fit, opts);
    })).toThrow(/the placebo needs [\d.]+ MiB of WASM memory \(14,729 rows: .* for blocks of 32 draws\) but only 1\.0 MiB of the 4 GiB remain/);
    expect(placebo(eng, fit, opts).draws.length).toBe(10);
  });

  it("wild: 48 bytes a replication, refused before anything is allocated", () => {
    expect(WILD_BYTES_PER_DRAW).toBe(48);
    expect(planWild(1000)).toBe(48_000);
    expect(() => wild(eng, fit, { param: "did", cluster: "city", B: 1e9 })).toThrow(/1,000,000,000 bootstrap replications need 44\.70 GiB/);
    expect(() => wild(eng, fit, { param: "did", cluster: "city", B: 200, memoryLimit: 200 * 48 - 1 })).toThrow(WasmMemoryError);
    expect(wild(eng, fit, { param: "did", cluster: "city", B: 200, memoryLimit: 200 * 48, ci: false }).tStars.length).toBe(200);
    // the interval's four bounds report progress (each costs O(B) a step)
    const seen: string[] = [];
    wild(eng, fit, { param: "did", cluster: "city", B: 200, onIntervalProgress: (d, t) => seen.push(`${d}/${t}`) });
    expect(seen).toEqual(["1/4", "2/4", "3/4", "4/4"]);
  });

  it("suite: a whole number >= 0 (0 skips the placebo), the report's copies counted", () => {
    expect(planSuiteDraws(0)).toBe(0);
    expect(planSuiteDraws(500)).toBe(500);
    for (const v of [-1, 1.5, NaN, "abc"]) expect(() => planSuiteDraws(v), String(v)).toThrow(OptionError);
    expect(() => planSuiteDraws(1e9)).toThrow(WasmMemoryError);
    const most = Math.floor(DRAW_MEMORY_LIMIT / (12 + SUITE_BYTES_PER_DRAW));
    expect(planSuiteDraws(most)).toBe(most);
    expect(() => planSuiteDraws(most + 1)).toThrow(WasmMemoryError);
  });
});

describe("replayed draws", () => {
  it("a file with only a header is a DataReadError naming the file", async () => {
    const f = join(dir, "header-only.csv");
    writeFileSync(f, "draw,city,adopt\n");
    await expect(readAssignmentsFile(f, "city", "adopt")).rejects.toThrow(DataReadError);
    await expect(readAssignmentsFile(f, "city", "adopt")).rejects.toThrow(f);
  });

  it("empty assignments given to the library are an OptionError naming their source", () => {
    const assignments = { draw: new Int32Array(0), unit: [], adopt: new Float64Array(0), source: "mine.csv" };
    expect(() => preparePlacebo(eng, fit, { ...ROLES, scheme: "space", assignments })).toThrow(/assignments \(mine\.csv\) have no rows: 0 draws/);
  });

  it("a written file replays (rows are read)", async () => {
    const f = join(dir, "two.csv");
    const P = preparePlacebo(eng, fit, { ...ROLES, scheme: "space", draws: 2 });
    const lines = ["draw,city,adopt"];
    for (let d = 0; d < 2; d++) for (const u of P.unitLabels) lines.push(`${d},${u},`);
    writeFileSync(f, lines.join("\n") + "\n");
    const a = await readAssignmentsFile(f, "city", "adopt");
    expect(a.draw.length).toBe(2 * P.U);
    expect(a.source).toBe(f);
  });
});

describe("progress off a terminal", () => {
  it("a line per interval with the count, elapsed time and ETA (clock injected), a last line at the end", () => {
    let t = 0;
    const out: string[] = [];
    const bar = progressBar("draws", { tty: false, intervalMs: 1000, write: (s) => out.push(s), now: () => t });
    for (let k = 1; k <= 10; k++) {
      t = k * 400;
      bar.update(k * 100, 1000);
    }
    bar.end();
    // lines at t = 1200, 2400, 3600 (each >= 1000 after the last), then the last count
    expect(out).toEqual([
      progressLine("draws", 300, 1000, 1200) + "\n",
      progressLine("draws", 600, 1000, 2400) + "\n",
      progressLine("draws", 900, 1000, 3600) + "\n",
      progressLine("draws", 1000, 1000, 4000) + "\n",
    ]);
    expect(out[0]).toBe("draws: 300 of 1,000 (30%), elapsed 1.2 s, ETA 2.8 s\n");
    expect(out[3]).toBe("draws: 1,000 of 1,000 (100%), elapsed 4.0 s\n");
  });

  it("a short run prints nothing; interval 0 prints every step", () => {
    const out: string[] = [];
    const quiet = progressBar("x", { tty: false, intervalMs: 1000, write: (s) => out.push(s), now: () => 0 });
    quiet.update(1, 2);
    quiet.update(2, 2);
    quiet.end();
    expect(out).toEqual([]);
    const all = progressBar("x", { tty: false, intervalMs: 0, write: (s) => out.push(s), now: () => 0 });
    all.update(1, 2);
    all.update(2, 2);
    all.end();
    expect(out.length).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------
// The real CLI

function built(): void {
  const dist = join(ROOT, "dist/cli.js");
  const newest = ["cli", "cli/commands", "bindings", "bindings/suite"].flatMap((d) =>
    readdirSync(join(ROOT, d)).filter((f) => f.endsWith(".ts")).map((f) => statSync(join(ROOT, d, f)).mtimeMs));
  if (!existsSync(dist) || statSync(dist).mtimeMs < Math.max(...newest) || !existsSync(join(ROOT, "build/hdfe.wasm"))) {
    const r = spawnSync("npm", ["run", existsSync(join(ROOT, "build/hdfe.wasm")) ? "build:js" : "build"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stderr}`);
  }
}

function hdfe(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/hdfe.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const PLACEBO = ["placebo", "--data", DATA, "-f", FORMULA, "--treatment", "did", "--unit", "city", "--adopt", "adopt", "--year", "year"];
const WILD = ["wild", "--data", DATA, "-f", FORMULA, "--param", "did", "--cluster", "city"];

describe("CLI (bin/hdfe.js)", () => {
  beforeAll(() => built(), 120_000);

  it("placebo --draws 0, -1, 1.5, abc exit 2; 1e9 exits 9 with the numbers; nothing on stdout", () => {
    for (const [v, code] of [["0", 2], ["-1", 2], ["1.5", 2], ["abc", 2], ["1e9", 9]] as const) {
      const r = hdfe(...PLACEBO, `--draws=${v}`);
      expect(r.code, `${v}: ${r.err}`).toBe(code);
      expect(r.out).toBe("");
      if (code === 2) expect(r.err).toMatch(/^hdfe: OptionError: --draws must be a positive integer, got/);
      else {
        expect(r.err).toMatch(/^hdfe: WasmMemoryError: 1,000,000,000 placebo draws need .* GiB .* over the limit of 1\.00 GiB/);
        expect(r.err).toMatch(/hint: use at most [\d,]+ draws/);
        expect(r.err).not.toMatch(/^read /m); // refused before the data is read
      }
    }
  }, 120_000);

  it("wild --B 0, -1, 1.5, abc exit 2; 1e9 exits 9", () => {
    for (const [v, code] of [["0", 2], ["-1", 2], ["1.5", 2], ["abc", 2], ["1e9", 9]] as const) {
      const r = hdfe(...WILD, `--B=${v}`);
      expect(r.code, `${v}: ${r.err}`).toBe(code);
      expect(r.out).toBe("");
      expect(r.err).toMatch(code === 2 ? /OptionError: --B must be a positive integer, got/ : /WasmMemoryError: 1,000,000,000 bootstrap replications need 44\.70 GiB/);
    }
  }, 120_000);

  it("--memory-limit raises or lowers the bound", () => {
    const r = hdfe(...PLACEBO, "--draws", "1000", "--memory-limit", "0.00001", "--json");
    expect(r.code, r.err).toBe(9);
    expect(hdfe(...PLACEBO, "--draws", "10", "--memory-limit", "0").code).toBe(2);
  }, 120_000);

  it("placebo --threads 0 exits 2; --threads 64 runs on the cores with a warning", () => {
    const z = hdfe(...PLACEBO, "--draws", "20", "--threads", "0");
    expect(z.code).toBe(2);
    expect(z.err).toMatch(/--threads must be an integer from 1 to 1024, got "0"/);
    const r = hdfe(...PLACEBO, "--draws", "20", "--threads", "64", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.threads).toBe(Math.min(64, CORES));
    expect(j.draws.length).toBe(20);
    if (CORES < 64) expect(r.err).toMatch(new RegExp(`warning: threads = 64 but this machine has ${CORES} cores?: using ${CORES}`));
  }, 120_000);

  it("feols --threads 64 runs on the cores with a warning and the one-thread numbers", () => {
    const one = hdfe("feols", "--data", DATA, "-f", FORMULA, "--json");
    const many = hdfe("feols", "--data", DATA, "-f", FORMULA, "--threads", "64", "--json");
    expect(one.code, one.err).toBe(0);
    expect(many.code, many.err).toBe(0);
    expect(JSON.parse(many.out).coef).toEqual(JSON.parse(one.out).coef);
    if (CORES < 64) expect(many.err).toMatch(new RegExp(`warning: threads = 64 but this machine has ${CORES} cores?: using ${CORES}`));
  }, 120_000);

  it("an assignments file with only a header exits 5 naming the file", () => {
    const f = join(dir, "cli-header-only.csv");
    writeFileSync(f, "draw,city,adopt\n");
    const r = hdfe(...PLACEBO, "--assignments", f);
    expect(r.code, r.err).toBe(5);
    expect(r.err).toContain(`DataReadError: the assignments file ${f} has no data rows: 0 draws`);
    expect(r.out).toBe("");
  }, 120_000);

  it("progress lines on a non-terminal stderr (--progress-interval 0), stdout stays one JSON object", () => {
    const r = hdfe(...PLACEBO, "--draws", "5000", "--progress-interval", "0", "--json");
    expect(r.code, r.err).toBe(0);
    const lines = r.err.split("\n").filter((l) => l.startsWith("placebo draws: "));
    expect(lines.length).toBeGreaterThanOrEqual(2); // the draw kernel reports every 2048 draws
    expect(lines[0]).toMatch(/^placebo draws: 2,048 of 5,000 \(40%\), elapsed [\d.]+ s, ETA [\d.]+ s$/);
    expect(lines.at(-1)).toMatch(/^placebo draws: 5,000 of 5,000 \(100%\), elapsed [\d.]+ s$/);
    const j = JSON.parse(r.out);
    expect(j.draws.length).toBe(5000);
    expect(j.drawIds[4999]).toBe(4999);
    const w = hdfe(...WILD, "--B", "1999", "--progress-interval", "0", "--json");
    expect(w.code, w.err).toBe(0);
    expect(w.err).toMatch(/^bootstrap replications: 512 of 1,999 \(25%\)/m);
    expect(w.err).toMatch(/^confidence interval bounds: 4 of 4 \(100%\), elapsed [\d.]+ s$/m);
    expect(JSON.parse(w.out).tStars.length).toBe(1999);
    expect(hdfe(...PLACEBO, "--draws", "10", "--progress-interval", "-1").code).toBe(2);
  }, 120_000);

  it("suite --draws 1e9 exits 9 and -1 exits 2 before anything is written", () => {
    const out = join(dir, "suite-out");
    const r = hdfe("suite", "--draws", "1e9", "--out", out);
    expect(r.code, r.err).toBe(9);
    expect(r.err).toMatch(/WasmMemoryError: 1,000,000,000 placebo draws need .* report copies/);
    expect(hdfe("suite", "--draws", "-1", "--out", out).code).toBe(2);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
