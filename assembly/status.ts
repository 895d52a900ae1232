// Status codes returned by kernels; bindings/base/errors.ts maps them to named errors.
export const OK: i32 = 0;
export const NOT_CONVERGED: i32 = 1;
export const SINGULAR: i32 = 2;
export const BAD_ARGUMENT: i32 = 3;
export const EMPTY_GROUP: i32 = 4;
