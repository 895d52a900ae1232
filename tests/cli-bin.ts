// The command line as tests run it: the installed entry point bin/hdfe.js on the bundle
// dist/cli.js (`npm test` rebuilds it first with `npm run build:js`), not the TypeScript
// sources through tsx, which cost about 1.5 s of transpiling per spawned command. `assertFresh`
// stops a run whose bundle is older than the sources (a `vitest run` without the rebuild).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

/** Path of the installed entry point. */
export const HDFE_BIN = join(ROOT, "bin/hdfe.js");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Throw when dist/cli.js is older than cli/ or bindings/ (the tests would run stale code). */
export function assertFresh(): void {
  const built = statSync(join(ROOT, "dist/cli.js")).mtimeMs;
  const src = Math.max(newest(join(ROOT, "cli")), newest(join(ROOT, "bindings")));
  if (built < src) throw new Error("dist/cli.js is older than the sources: run `npm run build:js` (npm test does) first");
}
