// The embedding example (web/embed-example.html) run in Node on the files a page would load:
// web/embed-bundle.ts builds hdfe.js, hdfe-extras.js and their shared chunks (the same build
// the Vite config emits), they are written next to hdfe.wasm and mpdta.csv, and the example's
// module script is imported as is, with `document.getElementById` and a `fetch` of the
// directory's files provided (the page's only browser APIs). The two printed fits (feols and
// fepois) must equal, character for character, what the Node entry prints for the same
// models. tests/e2e/web.e2e.test.ts runs the same page in Chromium. Also checks the size
// budget of the split build: hdfe.js, the chunks it imports and the wasm under 160 KB gzipped.
import { describe, it, expect, beforeAll } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { loadEngine, Frame, feols } from "../bindings/node.js";
import { fepois } from "../bindings/extras.js";
import { summary } from "../bindings/report/summary.js";
import { glmSummary } from "../bindings/report/glm.js";
import { readFile } from "../bindings/platform/read-node.js";
import { bundleEmbed, type EmbedBundle } from "../web/embed-bundle.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ENGINE_BUDGET_GZIP = 160 * 1024; // as tests/browser.test.ts
let dir: string;
let bundle: EmbedBundle;

beforeAll(async () => {
  bundle = await bundleEmbed();
  dir = mkdtempSync(join(tmpdir(), "hdfe-embed-"));
  for (const [p, bytes] of Object.entries(bundle.files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), bytes);
  }
  copyFileSync(join(ROOT, "build/hdfe.wasm"), join(dir, "hdfe.wasm"));
  copyFileSync(join(ROOT, "tests/fixtures/reference/mpdta.csv"), join(dir, "mpdta.csv"));
}, 120_000);

describe("web/embed-example.html", () => {
  it("prints the feols and the fepois fits as the Node entry does", async () => {
    const html = readFileSync(join(ROOT, "web/embed-example.html"), "utf8");
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(script).toContain('from "./hdfe-extras.js"');
    writeFileSync(join(dir, "example.mjs"), script);
    const elements: Record<string, { textContent: string }> = {};
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = { document: g.document, fetch: g.fetch };
    g.document = { getElementById: (id: string) => (elements[id] ??= { textContent: "" }) };
    g.fetch = async (u: string | URL) => {
      const bytes = readFileSync(join(dir, String(u).replace(/^\.\//, "")));
      return new Response(bytes, { headers: { "Content-Type": String(u).endsWith(".wasm") ? "application/wasm" : "text/plain" } });
    };
    try {
      await import(pathToFileURL(join(dir, "example.mjs")).href);
    } finally {
      g.document = saved.document;
      g.fetch = saved.fetch;
    }
    const eng = await loadEngine();
    let data = Frame.fromArrow((await readFile(join(ROOT, "tests/fixtures/reference/mpdta.csv"))).table);
    const first = data.numeric("first.treat"), year = data.numeric("year");
    data = data.withColumn("treat_post", first.map((v, i) => (v > 0 && year[i] >= v ? 1 : 0)));
    const fit = feols(eng, data, "lemp ~ treat_post | countyreal + year", { vcov: "cluster:countyreal" });
    data = data.withColumn("emp", data.numeric("lemp").map(Math.exp));
    const pois = fepois(eng, data, "emp ~ treat_post | countyreal + year", { vcov: "cluster:countyreal" });
    expect(elements["hdfe-model"].textContent).toBe(summary(fit));
    expect(elements["hdfe-glm"].textContent).toBe(glmSummary(pois));
    expect(elements["hdfe-glm"].textContent).toContain("Poisson estimation, Dep. Var.: emp");
  }, 120_000);

  it("hdfe-extras.js shares the core's chunks (one engine, one Frame class), and the core stays under budget", () => {
    expect(bundle.core).toContain("hdfe.js");
    expect(bundle.core.length).toBeGreaterThan(1);
    expect(bundle.extras).toEqual(["hdfe-extras.js"]);
    const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
    const engine = bundle.core.reduce((s, f) => s + gz(bundle.files[f]), 0) + gz(readFileSync(join(ROOT, "build/hdfe.wasm")));
    console.log(`embed engine gzipped (hdfe.js + chunks + wasm): ${(engine / 1024).toFixed(1)} KB`);
    expect(engine).toBeLessThan(ENGINE_BUDGET_GZIP);
  });
});
