// The files of the embedding example (embed-example.html), built by esbuild with code
// splitting so that the core entry and the tools share one copy of the engine and classes:
//   hdfe.js         the browser entry (bindings/browser.ts): feols, IV, readers, summary
//   hdfe-extras.js  the tools (bindings/extras.ts): fepois / feglm and their reports, ...
//   chunks/*.js     the code the two share (imported by both)
// Used by web/vite.config.ts (build and dev server) and tests/embed-example.test.ts.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const REPO = fileURLToPath(new URL("../", import.meta.url));
export const EMBED_ENTRIES = { hdfe: join(REPO, "bindings/browser.ts"), "hdfe-extras": join(REPO, "bindings/extras.ts") };

export interface EmbedBundle {
  /** output files by path relative to the page ("hdfe.js", "chunks/chunk-XXXX.js") */
  files: Record<string, Uint8Array>;
  /** what a page using only hdfe.js loads: hdfe.js and the chunks it imports */
  core: string[];
  /** what hdfe-extras.js adds on top of the core */
  extras: string[];
}

export async function bundleEmbed(): Promise<EmbedBundle> {
  const outdir = join(REPO, ".embed-out"); // never written (write: false): names the outputs
  const res = await build({
    entryPoints: EMBED_ENTRIES,
    bundle: true,
    splitting: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    outdir,
    chunkNames: "chunks/[name]-[hash]",
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
  });
  const rel = (p: string) => p.slice(outdir.length + 1).split("\\").join("/");
  const files = Object.fromEntries(res.outputFiles.map((f) => [rel(f.path), f.contents]));
  const outputs = res.metafile!.outputs;
  const byRel = Object.fromEntries(Object.entries(outputs).map(([p, o]) => [rel(join(REPO, p)), o]));
  const closure = (start: string): string[] => {
    const seen = new Set<string>();
    const visit = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const imp of byRel[f]?.imports ?? []) if (imp.kind === "import-statement") visit(rel(join(REPO, imp.path)));
    };
    visit(start);
    return [...seen];
  };
  const core = closure("hdfe.js");
  const extras = closure("hdfe-extras.js").filter((f) => !core.includes(f));
  return { files, core, extras };
}
