// The CSV kernel alone (assembly/csv.ts csvParse, issue 14): a file's bytes copied once into
// WASM memory, every field read into f64 slots, the whole buffer parsed REPS times per wasm
// build, the builds alternating, in one run; MB/s and ns per value are the kernel's own (no
// file I/O, no exception resolution in JS). Also a variant of the same file whose numbers are
// cut to 15 significant digits (the exact path only, no long decimals): the difference is the
// 16-19 digit conversion's cost. Usage:
//   npx tsx bench/csv-kernel.ts [FILE=/tmp/p14/p1m2.csv] [WASM...=build/hdfe.wasm]
// Env: CSVK_REPS (5). Prints one line per (build, file variant) with the load average.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createEngine, type Engine } from "../bindings/engine/wasm.js";
import { CSV_CTX, CSV_CTX_BYTES } from "../bindings/engine/context.js";

const FILE = process.argv[2] ?? "/tmp/p14/p1m2.csv";
const WASMS = process.argv.length > 3 ? process.argv.slice(3) : ["build/hdfe.wasm"];
const REPS = Number(process.env.CSVK_REPS ?? 5);
const load1 = () => loadavg()[0].toFixed(1);

/** The body of a CSV (after its header) with every number cut to at most 15 significant digits. */
function cut15(body: string): string {
  return body.replace(/-?\d+\.\d+/g, (t) => {
    const v = Number(t);
    return String(Number(v.toPrecision(15)));
  });
}

interface Setup { eng: Engine; buf: number; len: number; exc: number; ctx: number; ncol: number; rows: number; excCap: number }

function setup(eng: Engine, body: Uint8Array, ncol: number, rows: number): Setup {
  const buf = eng.alloc(body.length + 16);
  eng.u8(buf, body.length).set(body);
  const excCap = 1 << 20;
  const exc = eng.alloc(excCap * 16), ctx = eng.alloc(CSV_CTX_BYTES), slots = eng.alloc(ncol * 4);
  const s = new Int32Array(ncol);
  for (let j = 0; j < ncol; j++) s[j] = eng.allocF64(rows);
  eng.i32(slots, ncol).set(s);
  const c = eng.i32(ctx, CSV_CTX_BYTES / 4);
  c[CSV_CTX.ncol / 4] = ncol, c[CSV_CTX.delim / 4] = 44, c[CSV_CTX.rowCap / 4] = rows, c[CSV_CTX.excCap / 4] = excCap, c[CSV_CTX.slots / 4] = slots;
  return { eng, buf, len: body.length, exc, ctx, ncol, rows, excCap };
}

function pass(st: Setup): { ms: number; rows: number; exc: number } {
  const t0 = performance.now();
  const rc = st.eng.kernels.csvParse(st.exc, st.ctx, st.buf, st.len);
  const ms = performance.now() - t0;
  if (rc !== 0) throw new Error(`csvParse status ${rc}`);
  const c = st.eng.i32(st.ctx, CSV_CTX_BYTES / 4);
  return { ms, rows: c[CSV_CTX.rows / 4], exc: c[CSV_CTX.exc / 4] };
}

const text = readFileSync(FILE, "latin1");
const nl = text.indexOf("\n");
const ncol = text.slice(0, nl).split(",").length;
const bodies: [string, Uint8Array][] = [["as written", Buffer.from(text.slice(nl + 1), "latin1")]];
bodies.push(["cut to 15 digits", Buffer.from(cut15(text.slice(nl + 1)), "latin1")]);
const rows = text.length - text.replaceAll("\n", "").length; // an upper bound on the rows

const setups: { name: string; variant: string; st: Setup; best: number; res: { rows: number; exc: number } | null }[] = [];
for (const w of WASMS) {
  for (const [variant, body] of bodies) {
    const eng = await createEngine(new WebAssembly.Module(readFileSync(w)));
    setups.push({ name: w, variant, st: setup(eng, body, ncol, rows), best: Infinity, res: null });
  }
}
console.log(`${FILE}: ${ncol} columns; load ${load1()} at the start`);
for (let r = 0; r < REPS; r++) {
  for (const s of setups) {
    const p = pass(s.st);
    s.best = Math.min(s.best, p.ms);
    s.res = p;
  }
}
for (const s of setups) {
  const mb = s.st.len / 1e6, vals = s.res!.rows * ncol;
  const ex = s.st.eng.i32(s.st.exc, 4 * Math.min(s.res!.exc, 10)), body = s.st.eng.u8(s.st.buf, s.st.len);
  const texts: string[] = [];
  for (let k = 0; k < ex.length; k += 4) texts.push(Buffer.from(body.subarray(ex[k + 2], ex[k + 3])).toString("latin1"));
  console.log(`${s.name} [${s.variant}]: best of ${REPS} ${s.best.toFixed(0)} ms, ${(mb / (s.best / 1000)).toFixed(0)} MB/s, ${((s.best * 1e6) / vals).toFixed(1)} ns/value, ${s.res!.rows} rows, ${s.res!.exc} exceptions${texts.length ? ` (${texts.join(" ")})` : ""}`);
}
console.log(`load ${load1()} at the end`);
