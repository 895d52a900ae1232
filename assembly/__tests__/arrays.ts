// Small typed-array builders shared by the as-pect specs.
export function f64s(vals: f64[]): Float64Array {
  const a = new Float64Array(vals.length);
  for (let i = 0; i < vals.length; i++) a[i] = vals[i];
  return a;
}

export function i32s(vals: i32[]): Int32Array {
  const a = new Int32Array(vals.length);
  for (let i = 0; i < vals.length; i++) a[i] = vals[i];
  return a;
}
