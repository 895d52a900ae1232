// A flat set of named error classes. The CLI maps each class to its own exit code
// (cli/errors.ts); library callers can switch on `err.name` or `instanceof`. Each class
// states its name as a string: minifiers rename classes, so `new.target.name` would read
// "Vt" in a minified bundle (tests/package.test.ts checks the shipped bundles).

export class HdfeError extends Error {
  /** Short advice printed under the message by the CLI. */
  hint?: string;
  /** Structured details (counts, positions, sizes). */
  details?: Record<string, unknown>;
  constructor(message: string, details?: Record<string, unknown>, hint?: string) {
    super(message);
    this.name = "HdfeError";
    this.details = details;
    this.hint = hint;
  }
}

/** Formula text that does not parse; `position` is the 0-based offending character. */
export class FormulaSyntaxError extends HdfeError {
  override name = "FormulaSyntaxError";
  position: number;
  formula: string;
  constructor(message: string, formula: string, position: number, hint?: string) {
    const caret = `${formula}\n${" ".repeat(Math.max(0, position))}^`;
    super(`${message} at position ${position + 1}\n${caret}`, { position, formula }, hint);
    this.position = position;
    this.formula = formula;
  }
}

/** A column named in a formula or option that the data does not have, or of the wrong type. */
export class ColumnError extends HdfeError {
  override name = "ColumnError";
}

/** Bad option values or inconsistent arguments. */
export class OptionError extends HdfeError {
  override name = "OptionError";
}

/** Input files that cannot be read or parsed. */
export class DataReadError extends HdfeError {
  override name = "DataReadError";
}

/** The estimation sample is empty or degenerate (all rows removed, constant outcome...). */
export class SampleError extends HdfeError {
  override name = "SampleError";
}

/** Fixed-effect projections did not reach the tolerance within the iteration limit. */
export class NonConvergenceError extends HdfeError {
  override name = "NonConvergenceError";
}

/** A variance estimate that cannot be computed (one cluster, singular bread...). */
export class VcovError extends HdfeError {
  override name = "VcovError";
}

/** Data or buffers too large for one WASM instance. */
export class WasmMemoryError extends HdfeError {
  override name = "WasmMemoryError";
}

/** A kernel returned an unexpected status (a bug, never a data problem). */
export class KernelError extends HdfeError {
  override name = "KernelError";
}

/** A kernel's SINGULAR status: a matrix it must invert or factor is singular. */
export class SingularError extends KernelError {
  override name = "SingularError";
}

/** A kernel's BAD_ARGUMENT status: sizes, counts or pointers it rejects (a bug in the caller). */
export class KernelArgumentError extends KernelError {
  override name = "KernelArgumentError";
}

/** A kernel's EMPTY_GROUP status: a group or level without observations where one is needed. */
export class EmptyGroupError extends KernelError {
  override name = "EmptyGroupError";
}

/** A kernel's SEPARATION status: fitted probabilities numerically 0 or 1 (a property of the sample). */
export class SeparationError extends SampleError {
  override name = "SeparationError";
}

/** A roles file or panel that cannot support a suite table. */
export class RolesError extends HdfeError {
  override name = "RolesError";
}

/** Duplicate (unit, time) pairs where a panel is required. */
export class PanelError extends HdfeError {
  override name = "PanelError";
}

/**
 * An out-of-core engine (DuckDB, ClickHouse) failed: a query error, a missing or mistyped
 * column of the table, a shard down. Names the engine, the step of the fit and (ClickHouse)
 * the shard; no partial result is returned.
 */
export class SqlEngineError extends HdfeError {
  override name = "SqlEngineError";
}

/** An error as it crosses a thread boundary (postMessage): its class name and fields. */
export interface ErrorWire {
  name: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

const CLASSES: Record<string, { prototype: HdfeError }> = {
  HdfeError, FormulaSyntaxError, ColumnError, OptionError, DataReadError, SampleError, NonConvergenceError, VcovError,
  WasmMemoryError, KernelError, RolesError, PanelError, SqlEngineError, SingularError, KernelArgumentError, EmptyGroupError,
  SeparationError,
};

/** The wire form of any thrown value. */
export function errorToWire(e: unknown): ErrorWire {
  if (e instanceof HdfeError) return { name: e.name, message: e.message, hint: e.hint, details: e.details };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

/**
 * The error back on this side of the boundary, of its own class (so that `instanceof` and the
 * CLI's exit codes hold): the class's constructor is not re-run, its fields are restored.
 */
export function errorFromWire(w: ErrorWire): Error {
  const C = CLASSES[w.name];
  if (!C) {
    const e = new Error(w.message);
    e.name = w.name;
    return e;
  }
  const e = Object.create(C.prototype) as HdfeError;
  const fields: Record<string, unknown> = { name: w.name, message: w.message, hint: w.hint, details: w.details };
  if (w.name === "FormulaSyntaxError" && w.details) Object.assign(fields, { position: w.details.position, formula: w.details.formula });
  for (const [k, v] of Object.entries(fields)) Object.defineProperty(e, k, { value: v, writable: true, configurable: true, enumerable: k !== "message" && k !== "name" });
  Error.captureStackTrace?.(e, errorFromWire);
  return e;
}
