// The package as a stranger gets it: `npm pack`, installed into an empty project, then
//   - Node (ESM): `import { loadEngine, feols, Frame, readFile, ... } from "hdfe"` runs one fit
//     (mpdta TWFE DiD, R fixest's mpdta_twfe), error classes keep their names, and tsc checks
//     the consumer's types against the shipped declarations (dist/types);
//   - the browser: a page script importing "hdfe" and "hdfe/extras" is bundled by esbuild for
//     the browser (the "browser" export condition), served on 127.0.0.1 and run in Debian's
//     Chromium: one fit, the engine shared by the two entry points (instanceof holds across
//     them), error names intact in the minified bundles.
// Tolerances: coefficient 1e-8 relative, SE 1e-6 relative (as every fixest comparison).
// Needs a built tree (npm run build) and the npm cache that `npm ci` fills (installs with
// --prefer-offline). Chromium: as the e2e test, a missing browser fails under CI and skips
// elsewhere.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, extname } from "node:path";
import { fileURLToPath } from "node:url";

const COEF_REL = 1e-8;
const SE_REL = 1e-6;

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const underCi = process.env.CI === "true" || process.env.CI === "1";
const REF = (JSON.parse(readFileSync(join(ROOT, "tests/fixtures/reference/mpdta_fixest.json"), "utf8")) as { id: string; coef: Record<string, number>; se: Record<string, number> }[])
  .find((m) => m.id === "mpdta_twfe")!;

let proj = "";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// npm as a user runs it: without the npm_* variables of the npm/npx that started vitest, and
// without node_modules/.bin on PATH (a dependency ships an old npm there)
const CLEAN_ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  PATH: (process.env.PATH ?? "").split(":").filter((d) => !d.includes("node_modules")).join(":"),
};

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, env: CLEAN_ENV });
  // the tail only: a stack through a minified bundle prints whole lines of it
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

// What a consumer writes: the same script for Node and (bundled) for the page.
const CONSUMER = `
import { loadEngine, feols, Frame, readTable, ColumnError, HdfeError, Engine } from "hdfe";
import { simulatePanel, feolsCompressed } from "hdfe/extras";

export async function check(engine, csvBytes) {
  const { table } = await readTable(csvBytes, { format: "csv" });
  const f = Frame.fromArrow(table);
  const ft = f.numeric("first.treat"), yr = f.numeric("year");
  const d = new Float64Array(f.nrows);
  for (let i = 0; i < f.nrows; i++) d[i] = ft[i] > 0 && yr[i] >= ft[i] ? 1 : 0;
  const fit = feols(engine, f.withColumn("treat_post", d), "lemp ~ treat_post | countyreal + year", { vcov: "cluster:countyreal" });
  const out = { coef: fit.coef.treat_post, se: fit.se.treat_post, engineIsEngine: engine instanceof Engine };
  try { feols(engine, f, "lemp ~ nosuchcolumn | year"); } catch (e) {
    out.errName = e.name; out.isColumnError = e instanceof ColumnError; out.isHdfeError = e instanceof HdfeError;
  }
  try { new Frame([1, 2, 3]); } catch (e) { out.frameErr = e.name; }
  // tools of the extras entry with the core entry's engine and classes: one copy of the core,
  // so an error thrown inside extras is an instance of the core's class
  const sim = simulatePanel({ firms: 40, seed: 3 });
  out.simRows = sim.nrows;
  const cfit = feolsCompressed(engine, f.withColumn("treat_post", d), "lemp ~ treat_post | year", { vcov: "iid" });
  out.compressedCoef = cfit.coef.treat_post;
  try { feolsCompressed(engine, f, "lemp ~ nosuchcolumn | year"); } catch (e) {
    out.extrasErrIsCore = e instanceof ColumnError;
  }
  return out;
}
`;

function expectResult(r: Record<string, unknown>): void {
  expect(rel(r.coef as number, REF.coef.treat_post)).toBeLessThan(COEF_REL);
  expect(rel(r.se as number, REF.se.treat_post)).toBeLessThan(SE_REL);
  expect(r.errName).toBe("ColumnError");
  expect(r.isColumnError).toBe(true);
  expect(r.isHdfeError).toBe(true);
  expect(r.frameErr).toBe("ColumnError");
  expect(r.engineIsEngine).toBe(true);
  expect(r.simRows as number).toBeGreaterThan(0);
  expect(Number.isFinite(r.compressedCoef as number)).toBe(true);
  expect(r.extrasErrIsCore).toBe(true);
}

beforeAll(() => {
  for (const f of ["build/hdfe.wasm", "dist/node.js", "dist/browser.js", "dist/extras.js", "dist/types/node.d.ts"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build first`);
  }
  proj = mkdtempSync(join(tmpdir(), "hdfe-pack-"));
  // the tree is built; --ignore-scripts so that packing does not rebuild it
  const tgz = run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", proj], ROOT).trim().split("\n").pop()!;
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(proj, tgz)], proj);
  writeFileSync(join(proj, "consumer.js"), CONSUMER);
  copyFileSync(join(ROOT, "tests/fixtures/reference/mpdta.csv"), join(proj, "mpdta.csv"));
}, 300_000);

afterAll(() => {
  if (proj) rmSync(proj, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("ships the bundles, the .wasm and the declarations, and nothing from the dev folders", () => {
    const pkg = join(proj, "node_modules/hdfe");
    for (const f of ["dist/node.js", "dist/browser.js", "dist/extras.js", "dist/types/node.d.ts", "dist/types/browser.d.ts", "dist/types/extras.d.ts", "build/hdfe.wasm", "bin/hdfe.js"]) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(existsSync(join(pkg, "bench"))).toBe(false);
    expect(existsSync(join(pkg, "tests"))).toBe(false);
  });

  it("imports in Node (ESM) and runs one fit as R fixest does", () => {
    writeFileSync(join(proj, "node-main.js"), `
import { readFileSync } from "node:fs";
import { loadEngine } from "hdfe";
import { check } from "./consumer.js";
const eng = await loadEngine();
process.stdout.write(JSON.stringify(await check(eng, new Uint8Array(readFileSync("mpdta.csv")))));
`);
    expectResult(JSON.parse(run(process.execPath, ["node-main.js"], proj)));
  });

  it("the shipped types check a TypeScript consumer (tsc --strict), loadEngine and readFile included", () => {
    writeFileSync(join(proj, "typed.ts"), `
import { loadEngine, feols, Frame, readFile, summary, type Fit, type FeolsOptions, ColumnError } from "hdfe";
import { placebo, type PlaceboOptions } from "hdfe/extras";
const opts: FeolsOptions = { vcov: "hetero" };
async function main(): Promise<number> {
  const eng = await loadEngine();
  const { table } = await readFile("mpdta.csv");
  const fit: Fit = feols(eng, Frame.fromArrow(table), "lemp ~ lpop | year", opts);
  const text: string = summary(fit);
  const err: ColumnError = new ColumnError("x");
  const p: PlaceboOptions | undefined = undefined;
  void placebo; void p; void err;
  return text.length + fit.coef.lpop;
}
void main;
`);
    writeFileSync(join(proj, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")] },
      files: ["typed.ts"],
    }));
    const r = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: proj, encoding: "utf8" });
    expect(r.stdout + r.stderr, "tsc output").toBe("");
    expect(r.status).toBe(0);
  });

  it("the published bundles keep their error names after minification", async () => {
    const pkg = join(proj, "node_modules/hdfe");
    const core = await import(join(pkg, "dist/browser.js"));
    for (const name of ["HdfeError", "ColumnError", "FormulaSyntaxError", "OptionError", "DataReadError", "SampleError", "NonConvergenceError", "VcovError", "WasmMemoryError", "KernelError", "RolesError", "PanelError", "SingularError", "KernelArgumentError", "EmptyGroupError", "SeparationError"]) {
      const Cls = core[name];
      expect(Cls, name).toBeTypeOf("function");
      const e = name === "FormulaSyntaxError" ? new Cls("bad", "y ~", 2) : new Cls("m");
      expect(e.name).toBe(name);
    }
  });
});

const haveChromium = existsSync(CHROMIUM);
const MIME: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".csv": "text/csv" };

describe.skipIf(!haveChromium && !underCi)("the packed package in a bundled browser page", () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it("bundles for the browser and runs one fit in Chromium, one core shared by hdfe and hdfe/extras", async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing under CI: .ci/install-chromium.sh must install it`);
    const site = join(proj, "site");
    writeFileSync(join(proj, "page-main.js"), `
import { loadEngine } from "hdfe";
import { check } from "./consumer.js";
window.__result = (async () => {
  const eng = await loadEngine("hdfe.wasm");
  const csv = new Uint8Array(await (await fetch("mpdta.csv")).arrayBuffer());
  return check(eng, csv);
})();
`);
    const esbuild = await import("esbuild");
    await esbuild.build({ absWorkingDir: proj, entryPoints: ["page-main.js"], bundle: true, platform: "browser", format: "esm", outfile: join(site, "page.js"), logLevel: "warning" });
    const bundled = readFileSync(join(site, "page.js"), "utf8");
    expect(bundled).not.toMatch(/from\s*["']node:/);
    copyFileSync(join(proj, "node_modules/hdfe/build/hdfe.wasm"), join(site, "hdfe.wasm"));
    copyFileSync(join(proj, "mpdta.csv"), join(site, "mpdta.csv"));
    writeFileSync(join(site, "index.html"), `<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>`);
    expect(readdirSync(site).sort()).toEqual(["hdfe.wasm", "index.html", "mpdta.csv", "page.js"]);
    server = createServer((req, res) => {
      const file = join(site, (req.url ?? "/") === "/" ? "index.html" : (req.url ?? "").slice(1).split("?")[0]);
      if (!file.startsWith(site) || !existsSync(file)) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
    });
    await new Promise<void>((ok) => server!.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort()));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
      const r = await page.evaluate(() => (window as unknown as { __result: Promise<Record<string, unknown>> }).__result);
      expect(errors).toEqual([]);
      expectResult(r);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
