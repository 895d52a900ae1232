// The messy-file corpus (tests/fixtures/messy, cases listed in its expected.json) as the two
// DuckDB reader tests read it: where the files are, and each case's file, note and read options.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FileReadOptions } from "../bindings/platform/read-node.js";

export const corpusDir = fileURLToPath(new URL("fixtures/messy/", import.meta.url));
export const expected = JSON.parse(readFileSync(join(corpusDir, "expected.json"), "utf8")) as {
  cases: { file: string; note: string; options: FileReadOptions }[];
};
