// The benchmark panels live in the shipped library (bindings/sim/bench-panel.ts) so that the CLI
// (`hdfe bench`) and the page can use them; the benchmarks take them from there.
export * from "../bindings/sim/bench-panel.js";
