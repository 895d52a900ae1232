// Vite config of the hdfe web page: `npx vite web` (dev), `npx vite build web` (-> web/dist).
//
// The page (index.html, src/) runs the engine in a module Web Worker; build/hdfe.wasm is an
// asset imported with `?url` and compiled with WebAssembly.instantiateStreaming.
//
// The embedding example (embed-example.html) is copied as is, next to the files it names
// (web/embed-bundle.ts builds them, with code splitting: one engine and one set of classes):
//   hdfe.js          the browser entry (bindings/browser.ts) as a minified ES module
//   hdfe-extras.js   the tools (bindings/extras.ts: fepois / feglm...), sharing hdfe.js's chunks/
//   hdfe.wasm        build/hdfe.wasm
//   mpdta.csv        the example data (tests/fixtures/reference/mpdta.csv)
// These fixed names are what a person copies to their own server. `vite dev` serves the same
// names. After a build, dist/sizes.json records the gzipped sizes of what the page loads
// (embedJs: hdfe.js and the chunks it imports; extrasJs: what hdfe-extras.js adds).
import { defineConfig, type Plugin } from "vite";
import { bundleEmbed, EMBED_ENTRIES } from "./embed-bundle.js";
import { readFileSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";

const WEB = fileURLToPath(new URL("./", import.meta.url));
const REPO = fileURLToPath(new URL("../", import.meta.url));
const WASM = join(REPO, "build/hdfe.wasm");
const EXAMPLE_DATA = join(REPO, "tests/fixtures/reference/mpdta.csv");
const EMBED = join(WEB, "embed-example.html");

function readWasm(): Buffer {
  try {
    return readFileSync(WASM);
  } catch {
    throw new Error(`${WASM} is missing: run \`npm run build:wasm\` first`);
  }
}

const gz = (b: Uint8Array | string) => gzipSync(b, { level: 9 }).length;

function embedFiles(): Plugin {
  let outDir = join(WEB, "dist");
  let embed: Awaited<ReturnType<typeof bundleEmbed>> | null = null;
  return {
    name: "hdfe-embed-files",
    configResolved(c) {
      outDir = c.build.outDir;
    },
    configureServer(server) {
      const files: Record<string, () => Promise<[string, Uint8Array]>> = {
        "/hdfe.wasm": async () => ["application/wasm", readWasm()],
        "/mpdta.csv": async () => ["text/csv", readFileSync(EXAMPLE_DATA)],
      };
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? "").split("?")[0];
        const js = /^\/(hdfe\.js|hdfe-extras\.js|chunks\/[\w-]+\.js)$/.exec(path);
        const f = js ? async (): Promise<[string, Uint8Array]> => ["text/javascript", (await bundleEmbed()).files[js[1]]] : files[path];
        if (!f) return next();
        f().then(
          ([type, body]) => {
            res.setHeader("Content-Type", type);
            res.end(body);
          },
          next,
        );
      });
    },
    async generateBundle() {
      embed = await bundleEmbed();
      for (const [fileName, source] of Object.entries(embed.files)) this.emitFile({ type: "asset", fileName, source });
      this.emitFile({ type: "asset", fileName: "hdfe.wasm", source: readWasm() });
      this.emitFile({ type: "asset", fileName: "mpdta.csv", source: readFileSync(EXAMPLE_DATA) });
      this.emitFile({ type: "asset", fileName: "embed-example.html", source: readFileSync(EMBED, "utf8") });
    },
    writeBundle() {
      // what index.html loads: its module script and CSS, the worker chunk and the wasm asset
      const walk = (d: string): string[] =>
        readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
      const files = walk(join(outDir, "assets")).map((p) => relative(outDir, p));
      const core = embed?.core ?? ["hdfe.js"];
      const extras = embed?.extras ?? [];
      const size = (p: string) => gz(readFileSync(join(outDir, p)));
      const sum = (ps: string[]) => ps.reduce((s, p) => s + size(p), 0);
      const js = files.filter((f) => f.endsWith(".js"));
      const wasm = files.filter((f) => f.endsWith(".wasm"));
      const css = files.filter((f) => f.endsWith(".css"));
      const report = {
        gzip: {
          wasm: sum(wasm),
          pageJs: sum(js),
          pageCss: sum(css),
          embedJs: sum(core),
          extrasJs: sum(extras),
          engine: sum(core) + size("hdfe.wasm"),
        },
        files: Object.fromEntries([...js, ...wasm, ...css, ...core, ...extras, "hdfe.wasm"].map((f) => [f, { bytes: statSync(join(outDir, f)).size, gzip: size(f) }])),
      };
      writeFileSync(join(outDir, "sizes.json"), JSON.stringify(report, null, 2) + "\n");
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      this.info?.(
        `gzipped: wasm ${kb(report.gzip.wasm)}, page JS (main + worker) ${kb(report.gzip.pageJs)}, ` +
          `engine for embedding (hdfe.js + hdfe.wasm) ${kb(report.gzip.engine)}`,
      );
    },
    resolveId(id, importer) {
      // dev only: the embed example imports ./hdfe.js and ./hdfe-extras.js, which the build writes; serve the sources
      const name = id.replace(/^\.?\//, "");
      if ((name === "hdfe.js" || name === "hdfe-extras.js") && importer?.includes("embed-example.html")) {
        return EMBED_ENTRIES[name === "hdfe.js" ? "hdfe" : "hdfe-extras"];
      }
      return null;
    },
  };
}

export default defineConfig({
  root: WEB,
  base: "./",
  plugins: [embedFiles()],
  worker: { format: "es" },
  build: {
    outDir: join(WEB, "dist"),
    emptyOutDir: true,
    target: "es2022",
    // keep the wasm a real file so that it streams (a data: URL would be base64 in the JS)
    assetsInlineLimit: (file: string) => (file.endsWith(".wasm") ? false : undefined),
  },
  server: { fs: { allow: [REPO] } },
  preview: { host: "127.0.0.1" },
});
