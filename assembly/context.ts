// Context blocks: the state of one kernel call, in WASM memory the binding owns.
//
// A kernel with more state than fits in a few arguments (the demeaning: dimensions, pointers
// to the FE codes, and the working pointers and counts of its solvers) reads and writes it
// in a block the binding allocates in its arena and passes as one pointer (`ctx`). Nothing
// of a call survives in module globals, so calls are independent and a block can be
// inspected after a call. The offsets below are the layout, defined once here and mirrored
// by bindings/engine/context.ts (tests/kernels.test.ts checks the two agree through
// demeanContextLayout). Pointer fields are u32 (wasm32); counts are i32; f64 fields are
// 8-byte aligned.

// ---- demeaning (assembly/demean.ts) --------------------------------------------------
// written by the binding before the call:
export const DM_N: usize = 0; // i32 rows
export const DM_Q: usize = 4; // i32 FE dimensions
export const DM_KMAX: usize = 8; // i32 columns of the call
export const DM_CODES: usize = 12; // ptr: Q blocks of n int32 codes
export const DM_GROUPS: usize = 16; // ptr: Q int32 level counts
export const DM_TYPES: usize = 20; // ptr: Q int32 dimension types
export const DM_Z: usize = 24; // ptr: Q int32 pointers to slope variables (or 0)
export const DM_W: usize = 28; // ptr: n f64 weights, or 0
export const DM_TOL: usize = 32; // f64 convergence tolerance
export const DM_MAXITER: usize = 40; // i32 iteration limit
export const DM_ALGO: usize = 44; // i32 0 auto, 1 MAP, 2 CG, 3 LSMR
export const DM_SWITCH: usize = 48; // i32 accelerated steps before auto switches to CG
// working state, written by the kernel:
export const DM_K: usize = 52; // i32 active columns (shrinks as columns converge)
export const DM_R: usize = 56; // i32 coefficient rows: sum over q of G_q * nc_q
export const DM_R0: usize = 60; // i32 rows of the first dimension (closed form in MAP)
export const DM_STALLED: usize = 64; // i32 1 = a CG column was retired at a breakdown
export const DM_OFF: usize = 68; // ptr: Q int32 coefficient offsets (f64 units)
export const DM_MOFF: usize = 72; // ptr: Q int32 offsets of the inverse Gram blocks
export const DM_RHS: usize = 76; // ptr: D'Wx, coefficient-shaped
export const DM_MINV: usize = 80; // ptr: per-level inverse Gram blocks
export const DM_TMP: usize = 84; // ptr: one block of f64
export const DM_ACC: usize = 88; // ptr: K f64 accumulator
export const DM_CRIT: usize = 92; // ptr: K f64 per-column criterion
export const DM_MAP: usize = 96; // ptr: K i32 original column of each active column
export const DM_MAPC: usize = 100; // ptr: K i32 the same for the columns being retired
export const DM_FLAG: usize = 104; // ptr: K i32 1 = column converged in this iteration (2 = retired unconverged)
// written by the binding, filled by the kernel:
export const DM_COLS: usize = 108; // ptr: Kmax x 4 f64 per-column records, or 0 for none: record k (the
// call's column k) = [iterations (MAP steps + CG iterations), final criterion, converged 1/0, CG iterations]
// written by the binding for LSMR (algo 3), else 0:
export const DM_U: usize = 112; // ptr: demeanLsmrScratch(n, Kmax) f64 (assembly/demean-lsmr.ts: u, A h, A hbar, 3 n x Kmax, then per-column scalars)
export const DM_BYTES: usize = 116;

/** out_F = the demeaning context's field offsets in the order of bindings/engine/context.ts, then its size. */
export function demeanContextLayout(out_F: usize): i32 {
  store<i32>(out_F + 0, <i32>DM_N);
  store<i32>(out_F + 4, <i32>DM_Q);
  store<i32>(out_F + 8, <i32>DM_KMAX);
  store<i32>(out_F + 12, <i32>DM_CODES);
  store<i32>(out_F + 16, <i32>DM_GROUPS);
  store<i32>(out_F + 20, <i32>DM_TYPES);
  store<i32>(out_F + 24, <i32>DM_Z);
  store<i32>(out_F + 28, <i32>DM_W);
  store<i32>(out_F + 32, <i32>DM_TOL);
  store<i32>(out_F + 36, <i32>DM_MAXITER);
  store<i32>(out_F + 40, <i32>DM_ALGO);
  store<i32>(out_F + 44, <i32>DM_SWITCH);
  store<i32>(out_F + 48, <i32>DM_K);
  store<i32>(out_F + 52, <i32>DM_R);
  store<i32>(out_F + 56, <i32>DM_R0);
  store<i32>(out_F + 60, <i32>DM_STALLED);
  store<i32>(out_F + 64, <i32>DM_OFF);
  store<i32>(out_F + 68, <i32>DM_MOFF);
  store<i32>(out_F + 72, <i32>DM_RHS);
  store<i32>(out_F + 76, <i32>DM_MINV);
  store<i32>(out_F + 80, <i32>DM_TMP);
  store<i32>(out_F + 84, <i32>DM_ACC);
  store<i32>(out_F + 88, <i32>DM_CRIT);
  store<i32>(out_F + 92, <i32>DM_MAP);
  store<i32>(out_F + 96, <i32>DM_MAPC);
  store<i32>(out_F + 100, <i32>DM_FLAG);
  store<i32>(out_F + 104, <i32>DM_COLS);
  store<i32>(out_F + 108, <i32>DM_U);
  store<i32>(out_F + 112, <i32>DM_BYTES);
  return 0;
}

// ---- CSV fast path (assembly/csv.ts csvParse) ------------------------------------------
// written by the binding before each call:
export const CSV_NCOL: usize = 0; // i32 fields a row has (the header's)
export const CSV_DELIM: usize = 4; // i32 the delimiter byte
export const CSV_ROWCAP: usize = 8; // i32 rows this call may write (it stops at a line start)
export const CSV_EXCCAP: usize = 12; // i32 exception records the buffer holds
export const CSV_SLOTS: usize = 16; // ptr: NCOL u32 destinations (f64 values, row i at +8 i), 0 = field not read
// written by the kernel:
export const CSV_ROWS: usize = 20; // i32 rows parsed by this call
export const CSV_EXC: usize = 24; // i32 exception records written
export const CSV_USED: usize = 28; // i32 bytes consumed (whole lines, up to the last line end parsed)
export const CSV_STOP: usize = 32; // i32 why it stopped: CSV_STOP_* of assembly/csv.ts
export const CSV_BYTES: usize = 36;

/** out_F = the CSV context's field offsets in the order of bindings/engine/context.ts CSV_CTX, then its size. */
export function csvContextLayout(out_F: usize): i32 {
  store<i32>(out_F + 0, <i32>CSV_NCOL);
  store<i32>(out_F + 4, <i32>CSV_DELIM);
  store<i32>(out_F + 8, <i32>CSV_ROWCAP);
  store<i32>(out_F + 12, <i32>CSV_EXCCAP);
  store<i32>(out_F + 16, <i32>CSV_SLOTS);
  store<i32>(out_F + 20, <i32>CSV_ROWS);
  store<i32>(out_F + 24, <i32>CSV_EXC);
  store<i32>(out_F + 28, <i32>CSV_USED);
  store<i32>(out_F + 32, <i32>CSV_STOP);
  store<i32>(out_F + 36, <i32>CSV_BYTES);
  return 0;
}
