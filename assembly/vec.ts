// Vector helpers shared by the kernels (inlined where used; not WASM exports: index.ts does
// not re-export this module). Two lanes at a time; the same operations in the same order
// wherever they are used.

/** sum_{i in [from, n)} a_i b_i, two lanes at a time */
@inline export function dotFrom(a: usize, b: usize, from: i32, n: i32): f64 {
  let i = from;
  let acc = f64x2.splat(0);
  if ((i & 1) != 0 && i < n) {
    acc = f64x2.replace_lane(acc, 0, load<f64>(a + (<usize>i << 3)) * load<f64>(b + (<usize>i << 3)));
    i++;
  }
  for (; i + 1 < n; i += 2) {
    const o = <usize>i << 3;
    acc = f64x2.add(acc, f64x2.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) s += load<f64>(a + (<usize>i << 3)) * load<f64>(b + (<usize>i << 3));
  return s;
}

/** y_i -= f x_i for i in [from, n) */
@inline export function axpyFrom(y: usize, x: usize, f: f64, from: i32, n: i32): void {
  let i = from;
  if ((i & 1) != 0 && i < n) {
    store<f64>(y + (<usize>i << 3), load<f64>(y + (<usize>i << 3)) - f * load<f64>(x + (<usize>i << 3)));
    i++;
  }
  const fv = f64x2.splat(f);
  for (; i + 1 < n; i += 2) {
    const o = <usize>i << 3;
    v128.store(y + o, f64x2.sub(v128.load(y + o), f64x2.mul(fv, v128.load(x + o))));
  }
  for (; i < n; i++) store<f64>(y + (<usize>i << 3), load<f64>(y + (<usize>i << 3)) - f * load<f64>(x + (<usize>i << 3)));
}
