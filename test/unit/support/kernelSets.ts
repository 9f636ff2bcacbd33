// The WebAssembly kernel sets a kernel test runs against the reference: every set this runtime
// validates (plain SIMD on Node 20; relaxed SIMD as well on Node 22 and later, see kernelsNode24.test.ts,
// which runs these tests again on the Node 24 that code-server's extension host uses). A runtime with
// no set gets one entry whose tests are skipped, saying why.
import { WasmHeap } from '../../../src/engine/wasmHeap.js';
import { preferWasmKernelSet, wasmKernelSets, type WasmKernelSet } from '../../../src/engine/wasmKernels.js';

export interface KernelSetUnderTest {
  /** Prefix for test names. */
  name: string;
  set: WasmKernelSet | null;
  /** A heap running the set's kernels (null when skipped). */
  heap: WasmHeap | null;
  skip: string | false;
}

export function kernelSetsUnderTest(): KernelSetUnderTest[] {
  const sets = wasmKernelSets();
  if (sets.length === 0)
    return [{ name: 'wasm', set: null, heap: null, skip: 'WebAssembly SIMD with shared memory is not available here' }];
  return sets.map((set) => ({ name: set, set, heap: WasmHeap.create(0, set), skip: false }));
}

/** Runs `body` with new models' heaps on `set` (models built inside it keep that set), then restores the default. */
export function withKernelSet<T>(set: WasmKernelSet | null, body: () => T): T {
  preferWasmKernelSet(set);
  try {
    return body();
  } finally {
    preferWasmKernelSet(null);
  }
}
