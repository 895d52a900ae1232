// The WASM instance and the one arena that owns all of its memory.
//
// Kernels in assembly/ never allocate: the binding reserves every buffer here, passes
// pointers, and reads results back through *fresh* typed-array views (views over
// memory.buffer go stale when memory grows, so they are never cached).
import { instantiate } from "@assemblyscript/loader";
import { WasmMemoryError, KernelError } from "../base/errors.js";
import { legacyKernels, type KernelExports, type LegacyKernels } from "./exports.js";

const PAGE = 65536;
/** Hard limit of 32-bit WebAssembly memory. */
export const WASM_MAX_BYTES = 4 * 1024 * 1024 * 1024;

export type WasmSource = BufferSource | WebAssembly.Module | Response | PromiseLike<Response>;

export class Engine {
  /** The kernels (engine/exports.ts: outputs first). */
  readonly kernels: KernelExports;
  /** @deprecated the argument order before outputs came first, for callers not yet moved (bindings/core/vcov.ts). */
  readonly k: LegacyKernels;
  private readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private top: number;
  /** Highest arena offset reached since creation (bytes), for memory reports. */
  peak = 0;

  constructor(exports: KernelExports) {
    this.kernels = exports;
    this.k = legacyKernels(exports);
    this.memory = exports.memory;
    this.base = align16(exports.heapBase() >>> 0);
    this.top = this.base;
  }

  /** Bytes of WASM memory currently committed. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes in use by the arena. */
  get usedBytes(): number {
    return this.top - this.base;
  }

  /** A mark to release back to (stack discipline). */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new KernelError("arena release out of order");
    this.top = mark;
  }

  /** Bytes the arena could still give before hitting the 4 GiB limit. */
  get freeBytes(): number {
    return WASM_MAX_BYTES - this.top;
  }

  /**
   * Grow memory at once so that `bytes` more fit above the arena's top (a model's memory
   * plan), instead of in steps as buffers are allocated. Commits address space only (a page
   * costs when first written); capped at the 4 GiB limit; never shrinks.
   */
  reserve(bytes: number): void {
    const want = Math.min(WASM_MAX_BYTES, align16(this.top + Math.max(0, bytes)));
    const have = this.memory.buffer.byteLength;
    if (want <= have) return;
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch {
      // the allocations will grow (or report) as they go
    }
  }

  /** Reserve `bytes` (16-byte aligned). Grows memory; never wraps past 4 GiB. */
  alloc(bytes: number, what = "buffer"): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new KernelError(`bad allocation size ${bytes} for ${what}`);
    const start = this.top;
    const end = align16(start + bytes);
    if (end > WASM_MAX_BYTES) {
      throw new WasmMemoryError(
        `${what} needs ${fmtBytes(bytes)} but WASM memory is limited to ${fmtBytes(WASM_MAX_BYTES)} ` +
          `(${fmtBytes(start - this.base)} already in use)`,
        { requested: bytes, inUse: start - this.base, limit: WASM_MAX_BYTES },
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      // grow at least 25% to amortise copies, within the limit
      const want = Math.min(Math.max(pages, Math.ceil(have / PAGE / 4)), WASM_MAX_BYTES / PAGE - have / PAGE);
      try {
        this.memory.grow(Math.max(pages, want));
      } catch {
        try {
          this.memory.grow(pages);
        } catch (e) {
          throw new WasmMemoryError(
            `could not grow WASM memory to ${fmtBytes(end)} for ${what}: ${(e as Error).message}`,
            { requested: bytes, inUse: start - this.base, limit: WASM_MAX_BYTES },
          );
        }
      }
    }
    this.top = end;
    if (end - this.base > this.peak) this.peak = end - this.base;
    return start;
  }

  allocF64(n: number, what?: string): number {
    return this.alloc(n * 8, what);
  }

  allocI32(n: number, what?: string): number {
    return this.alloc(n * 4, what);
  }

  /** Fresh Float64Array view (never cache across calls that may allocate). */
  f64(ptr: number, len: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr >>> 0, len);
  }

  f32(ptr: number, len: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr >>> 0, len);
  }

  i32(ptr: number, len: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr >>> 0, len);
  }

  u8(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr >>> 0, len);
  }

  /** Copy a JS array into a new arena buffer; returns its pointer. */
  putF64(src: ArrayLike<number>, what?: string): number {
    const p = this.allocF64(src.length, what);
    this.f64(p, src.length).set(src);
    return p;
  }

  putI32(src: ArrayLike<number>, what?: string): number {
    const p = this.allocI32(src.length, what);
    this.i32(p, src.length).set(src);
    return p;
  }

  /** Copy out of WASM memory into a JS-owned array. */
  getF64(ptr: number, len: number): Float64Array {
    return this.f64(ptr, len).slice();
  }

  getI32(ptr: number, len: number): Int32Array {
    return this.i32(ptr, len).slice();
  }

  /** Run `fn` with an arena scope: everything allocated inside is released after. */
  scoped<T>(fn: () => T): T {
    const m = this.mark();
    try {
      return fn();
    } finally {
      this.release(m);
    }
  }
}

function align16(x: number): number {
  return Math.ceil(x / 16) * 16;
}

export function fmtBytes(b: number): string {
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(2)} GiB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b} B`;
}

/** Instantiate the engine from wasm bytes, a compiled module or a fetch Response. */
export async function createEngine(source: WasmSource): Promise<Engine> {
  const src = source instanceof WebAssembly.Module ? source : await source;
  const { exports } = await instantiate<Record<string, unknown>>(src as never, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new KernelError(`WASM abort at ${line}:${col}`);
      },
    },
  });
  return new Engine(exports as unknown as KernelExports);
}
