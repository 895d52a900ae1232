// One error handler for the CLI: named error classes map to distinct exit codes; a clear
// line plus a hint, a stack trace only with --verbose.
import {
  HdfeError, FormulaSyntaxError, ColumnError, OptionError, DataReadError, SampleError, NonConvergenceError,
  VcovError, WasmMemoryError, KernelError, RolesError, PanelError,
} from "../bindings/errors.js";

export const EXIT_CODES: [new (...a: never[]) => Error, number][] = [
  [OptionError, 2],
  [FormulaSyntaxError, 3],
  [ColumnError, 4],
  [DataReadError, 5],
  [SampleError, 6],
  [NonConvergenceError, 7],
  [VcovError, 8],
  [WasmMemoryError, 9],
  [RolesError, 10],
  [PanelError, 11],
  [KernelError, 70],
];

export function exitCodeOf(err: unknown): number {
  for (const [cls, code] of EXIT_CODES) if (err instanceof cls) return code;
  return 1;
}

export function formatError(err: unknown, verbose: boolean): string {
  const lines: string[] = [];
  if (err instanceof HdfeError) {
    lines.push(`hdfe: ${err.name}: ${err.message}`);
    if (err.hint) lines.push(`hint: ${err.hint}`);
  } else if (err instanceof Error) {
    lines.push(`hdfe: ${err.message}`);
  } else lines.push(`hdfe: ${String(err)}`);
  if (verbose && err instanceof Error && err.stack) lines.push(err.stack);
  return lines.join("\n");
}
