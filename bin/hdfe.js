#!/usr/bin/env node
// Installed entry point: the bundled CLI (npm run build writes dist/cli.js).
//
// V8 runs a WebAssembly function's first calls in its baseline tier (Liftoff) and never moves
// a running call to the optimized code: each kernel of the first fit of a process (one long
// call per column batch) ran 2-5x slower than in a repeated fit, and a command line only ever
// makes that first fit. The process is ours, so compile the kernels for the optimizing tier
// only (still lazily, on first call: the whole module eagerly would take about 0.4 s).
import { setFlagsFromString } from "node:v8";

if (!process.execArgv.some((a) => /^--(no-)?liftoff$/.test(a))) setFlagsFromString("--no-liftoff");
await import("../dist/cli.js");
