// Every parameter, gradient and activation buffer of a model or trainer comes from an arena, once, when
// the model or trainer is built: the training loop then allocates nothing, and a later backend can
// place all of them in one WebAssembly.Memory and hand its kernels offsets into it.
import { kernelBackend } from './backend.js';
import type { Floats, FloatsConstructor } from './floats.js';
import { WasmHeap } from './wasmHeap.js';

export type FloatWidth = 'f32' | 'f64';

export class Arena {
  readonly width: FloatWidth;
  private readonly ctor: FloatsConstructor;
  /** Floats handed out so far, for memory reports. */
  private count = 0;
  /** Float32 buffers live in one WebAssembly.Memory when the wasm kernels can run (see backend.ts). */
  private readonly heap: WasmHeap | null;

  /** `heap`: an existing heap to allocate from (a replaying one on a worker thread, see replicas.ts). */
  constructor(width: FloatWidth, heap?: WasmHeap) {
    this.width = width;
    this.ctor = width === 'f64' ? Float64Array : Float32Array;
    this.heap = heap ?? (width === 'f32' && kernelBackend() === 'wasm' ? WasmHeap.create() : null);
  }

  /** The WebAssembly heap the buffers live in, or null for plain arrays. */
  get wasmHeap(): WasmHeap | null {
    return this.heap;
  }

  /** A zeroed buffer of n floats of the arena's width. */
  floats(n: number): Floats {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`arena: cannot allocate ${n} floats`);
    this.count += n;
    return this.heap !== null ? this.heap.floats(n) : new this.ctor(n);
  }

  /** A zeroed Int32Array of n token ids, in the wasm memory when the arena is (so kernels can read it). */
  ints(n: number): Int32Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`arena: cannot allocate ${n} ints`);
    return this.heap !== null ? this.heap.ints(n) : new Int32Array(n);
  }

  /** 'wasm' when the arena's buffers are in a WebAssembly memory the fast kernels run on. */
  get backend(): 'wasm' | 'reference' {
    return this.heap !== null ? 'wasm' : 'reference';
  }

  get allocatedFloats(): number {
    return this.count;
  }

  get allocatedBytes(): number {
    return this.count * (this.width === 'f64' ? 8 : 4);
  }
}
