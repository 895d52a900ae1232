import { defineConfig } from "vitest/config";
import { HEAVY } from "./vitest.config.js";

// `npm run test:large`: the heavy cases (1M-row panels and CSVs), one file at a time so that
// they do not compete for the machine's two cores; no timeout tighter than the work needs.
export default defineConfig({
  test: {
    include: HEAVY,
    setupFiles: ["tests/setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: "forks",
    fileParallelism: false,
  },
});
