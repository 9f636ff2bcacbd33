// Float32 buffers carved out of one WebAssembly.Memory, so the SIMD kernels can address every
// parameter, gradient and activation of a model by pointer. Buffers are handed out by bumping an
// offset while the model and its trainer are built, and never freed one by one: the heap lives as
// long as the model. The memory is shared, so growing it while buffers are still being handed out
// does not detach the views already given (a plain memory's buffer would be detached by grow()).
import {
  createWasmMemory,
  instantiateWasmKernels,
  WASM_MAX_PAGES,
  WASM_PAGE_BYTES,
  wasmKernelSet,
  type WasmKernels,
  type WasmKernelSet,
  type WasmMemory,
} from './wasmKernels.js';

/** 16 bytes: every buffer starts on an f32x4 boundary. */
const ALIGN = 16;

/** Bytes of scratch at the start of each heap that matmulAtB packs a tile of A into (wasm/matmul.ts: P_TILE * I_TILE floats). */
export const PACK_BYTES = 128 * 128 * 4;

/**
 * Where a run of allocations landed: byte offset and word count of each, in order. A heap on another
 * thread replays it to get views of the same bytes from the same constructors (replicas.ts).
 */
export type AllocationPlan = number[];

/** Which heap's kernels run on a buffer: every ArrayBuffer a heap's views live on maps to it. */
const heapOfBuffer = new WeakMap<ArrayBufferLike, WasmHeap>();

export class WasmHeap {
  readonly kernels: WasmKernels;
  private readonly memory: WasmMemory;
  /** Byte address of the kernels' packing scratch (never handed out as a buffer); one per thread. */
  readonly packScratch: number;
  /** Next free byte; byte 0 is never handed out, so a pointer of 0 means nothing. */
  private top = ALIGN + PACK_BYTES;
  private pages: number;
  /** While set, every reservation is appended to it (see record()). */
  private recording: AllocationPlan | null = null;
  /** On a replaying heap, the plan it hands out from, and how far it has got. */
  private readonly replaying: AllocationPlan | null;
  private replayed = 0;

  private constructor(memory: WasmMemory, pages: number, set: WasmKernelSet, packScratch = ALIGN, replay: AllocationPlan | null = null) {
    this.memory = memory;
    this.pages = pages;
    this.packScratch = packScratch;
    this.replaying = replay;
    this.kernels = instantiateWasmKernels(memory, set);
    heapOfBuffer.set(memory.buffer, this);
  }

  /**
   * A heap on another thread over `memory` (another heap's, shared) that allocates nothing: its
   * floats() and ints() hand out, in order, the buffers of `plan`, which the owning heap recorded while
   * the same constructors ran there. So both threads see one set of bytes through their own views, and
   * kernels run on this thread with their own packing scratch at `packScratch`, from the owning heap's
   * kernel `set`, so every thread of a run rounds alike.
   */
  static replay(memory: WasmMemory, set: WasmKernelSet, packScratch: number, plan: AllocationPlan): WasmHeap {
    return new WasmHeap(memory, Math.ceil(memory.buffer.byteLength / WASM_PAGE_BYTES), set, packScratch, plan);
  }

  /** The shared memory, to hand to another thread. */
  get wasmMemory(): WasmMemory {
    return this.memory;
  }

  /** Appends every reservation from now on to `plan`, until record(null). */
  record(plan: AllocationPlan | null): void {
    this.recording = plan;
  }

  /**
   * A heap with room for `floats` floats before it must grow, running the kernel `set` (by default the
   * fastest this runtime validates), or null where wasm kernels cannot run.
   */
  static create(floats = 0, set: WasmKernelSet | null = wasmKernelSet()): WasmHeap | null {
    if (set === null) return null;
    const pages = Math.max(1, Math.ceil((floats * 4 + PACK_BYTES + ALIGN * 64) / WASM_PAGE_BYTES));
    const memory = createWasmMemory(pages);
    return memory === null ? null : new WasmHeap(memory, pages, set);
  }

  /** The heap whose memory `view` lives in, if any. */
  static of(view: ArrayBufferView): WasmHeap | undefined {
    return heapOfBuffer.get(view.buffer);
  }

  /** A zeroed Float32Array of n floats inside the memory. */
  floats(n: number): Float32Array {
    const start = this.reserve(n);
    return new Float32Array(this.buffer(), start, n);
  }

  /** A zeroed Int32Array of n integers inside the memory (token ids the kernels read). */
  ints(n: number): Int32Array {
    const start = this.reserve(n);
    return new Int32Array(this.buffer(), start, n);
  }

  /** A view of n floats already in the memory at byte `offset` (another thread's buffer, see replicaWorker.ts). */
  floatsAt(offset: number, n: number): Float32Array {
    return new Float32Array(this.buffer(), offset, n);
  }

  /**
   * The memory's buffer object, known to map to this heap. V8 gives every shared memory of a thread a
   * new buffer object whenever any of them grows, so views made after another heap grew would
   * otherwise not be found by of() and would run the reference kernels.
   */
  private buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    if (heapOfBuffer.get(b) !== this) heapOfBuffer.set(b, this);
    return b;
  }

  /** The byte offset of a fresh run of n 4-byte words, growing the memory if needed. */
  private reserve(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`wasm heap: cannot allocate ${n} floats`);
    if (this.replaying !== null) return this.replayNext(n);
    const start = this.top;
    this.recording?.push(start, n);
    const end = start + n * 4;
    if (end > this.pages * WASM_PAGE_BYTES) {
      const need = Math.ceil(end / WASM_PAGE_BYTES);
      // Grow at least by half again, so a model built from many small buffers grows a few times only.
      const want = Math.min(WASM_MAX_PAGES, Math.max(need, Math.ceil(this.pages * 1.5)));
      if (need > WASM_MAX_PAGES) throw new Error(`wasm heap: ${end} bytes exceed WebAssembly's 4 GiB`);
      this.memory.grow(want - this.pages);
      this.pages = want;
    }
    this.top = Math.ceil(end / ALIGN) * ALIGN;
    // Fresh pages are zero, and bytes below `top` are never handed out twice.
    return start;
  }

  private replayNext(n: number): number {
    const plan = this.replaying!;
    const i = this.replayed;
    // A mismatch means the two threads built different structures: a bug, never a user's error.
    if (i + 1 >= plan.length || plan[i + 1] !== n) {
      throw new Error(
        `wasm heap replay: allocation ${i / 2} asks for ${n} words, the plan has ${i + 1 < plan.length ? plan[i + 1] : 'none'}`,
      );
    }
    this.replayed = i + 2;
    return plan[i]!;
  }

  get usedBytes(): number {
    return this.top;
  }

  get reservedBytes(): number {
    return this.pages * WASM_PAGE_BYTES;
  }
}
