// Status codes returned by kernels. Each non-OK code has its own error class
// (bindings/base/errors.ts), chosen by bindings/engine/kernels.ts statusError; the table
// there mirrors this one (tests/errors.test.ts reads this file to check it).
export const OK: i32 = 0;
/** an iterative kernel stopped at its iteration limit (outputs hold the last iterate): NonConvergenceError */
export const NOT_CONVERGED: i32 = 1;
/** a matrix the kernel must invert or factor is singular: SingularError */
export const SINGULAR: i32 = 2;
/** sizes, counts or pointers the kernel rejects (a bug in the caller): KernelArgumentError */
export const BAD_ARGUMENT: i32 = 3;
/** a group or level without observations where one is needed: EmptyGroupError */
export const EMPTY_GROUP: i32 = 4;
/** fitted probabilities numerically 0 or 1 (logit; outputs filled): SeparationError */
export const SEPARATION: i32 = 5;
