// The browser entry must bundle for browsers: esbuild (platform=browser) follows every import
// reachable from bindings/browser.ts and the worker protocol, and a plugin records any
// `node:` import or Node builtin (fs, path, worker_threads...) instead of resolving it. The
// same check on bindings/node.ts must find node:fs, which shows the check can fail.
// Also guards the size budget: engine = minified browser bundle + .wasm, gzipped < 160 KB.
// (150 KB until the core entry gained 2SLS and the HAC / Conley variances, with their kernels:
// 157 KB; the SQL engine, GLMs, multiple estimation and post-estimation went to extras.ts.)
import { describe, it, expect } from "vitest";
import { build, type Plugin } from "esbuild";
import { builtinModules } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ENGINE_BUDGET_GZIP = 160 * 1024;

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split("/")[0]]));

interface Hit {
  path: string;
  importer: string;
}

function nodeImportTrap(hits: Hit[]): Plugin {
  return {
    name: "node-import-trap",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.startsWith("node:") ? args.path.slice(5) : args.path;
        if (args.path.startsWith("node:") || BUILTINS.has(bare) || BUILTINS.has(bare.split("/")[0])) {
          hits.push({ path: args.path, importer: args.importer.replace(ROOT, "") });
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
}

async function bundle(entry: string, minify = false) {
  const hits: Hit[] = [];
  const res = await build({
    entryPoints: [ROOT + entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    minify,
    metafile: true,
    logLevel: "silent",
    // the Node entry's DuckDB reader loads a native addon: not bundled (the browser entry never reaches it)
    external: ["@duckdb/*"],
    plugins: [nodeImportTrap(hits)],
  });
  return { hits, code: res.outputFiles[0].contents, inputs: Object.keys(res.metafile!.inputs) };
}

describe("browser bundle", () => {
  it("bindings/browser.ts reaches no node: import and no Node builtin", async () => {
    const { hits, inputs } = await bundle("bindings/browser.ts");
    expect(hits, `node imports reachable from bindings/browser.ts:\n${hits.map((h) => `  ${h.importer} -> ${h.path}`).join("\n")}`).toEqual([]);
    expect(inputs.some((p) => p.endsWith("bindings/node.ts"))).toBe(false);
    expect(inputs.some((p) => p.endsWith("bindings/platform/read-node.ts"))).toBe(false);
    expect(inputs.some((p) => p.endsWith("bindings/estimators/feols.ts"))).toBe(true);
  });

  it("the worker protocol is types only", async () => {
    const { hits, code } = await bundle("bindings/platform/worker-protocol.ts", true);
    expect(hits).toEqual([]);
    expect(code.length).toBeLessThan(64);
  });

  it("the check catches node: imports (bindings/node.ts reaches node:fs)", async () => {
    const { hits } = await bundle("bindings/node.ts");
    expect(hits.map((h) => h.path)).toContain("node:fs");
  });

  it.skipIf(!existsSync(ROOT + "build/hdfe.wasm"))("engine (minified bindings + wasm) stays under 160 KB gzipped", async () => {
    const { code } = await bundle("bindings/browser.ts", true);
    const js = gzipSync(code, { level: 9 }).length;
    const wasm = gzipSync(readFileSync(ROOT + "build/hdfe.wasm"), { level: 9 }).length;
    console.log(`engine gzipped: bindings ${(js / 1024).toFixed(1)} KB + wasm ${(wasm / 1024).toFixed(1)} KB = ${((js + wasm) / 1024).toFixed(1)} KB`);
    expect(js + wasm).toBeLessThan(ENGINE_BUDGET_GZIP);
  });
});
