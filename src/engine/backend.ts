// The kernel backend switch. Layers call the matrix products through here with the reference
// signatures of kernels.ts; a product whose three buffers are Float32Array views into one WasmHeap
// runs in WebAssembly SIMD on pointers into that heap, anything else (Float64Array for gradient
// checks, ordinary arrays, a runtime without wasm SIMD) runs the reference kernel. So the fast path
// is chosen by where a model's buffers were allocated, and the reference stays the single truth the
// fast kernels are tested against.
import type { Floats } from './floats.js';
import * as gates from './gates.js';
import * as reference from './kernels.js';
import { WasmHeap } from './wasmHeap.js';
import { wasmKernelsAvailable } from './wasmKernels.js';

export { addColumnSums, fillRows, fillRowsSum, gatherColumnsAdd, gatherRows, scatterColumnsAdd, scatterRowsAdd, sumSquares } from './kernels.js';

export type KernelBackend = 'wasm' | 'reference';

let preferred: KernelBackend = 'wasm';

/**
 * Chooses the kernels for buffers allocated from now on and for every product from now on:
 * 'reference' turns the wasm path off everywhere (for comparisons); 'wasm' uses it where it can run.
 */
export function setKernelBackend(b: KernelBackend): void {
  preferred = b;
}

/** The backend that a new float32 model gets on this runtime. */
export function kernelBackend(): KernelBackend {
  return preferred === 'wasm' && wasmKernelsAvailable() ? 'wasm' : 'reference';
}

/** The heap that runs a product on C, A and B in wasm, or undefined for the reference. */
function heapFor(C: Floats, A: Floats, B: Floats): WasmHeap | undefined {
  if (preferred !== 'wasm' || !(C instanceof Float32Array)) return undefined;
  const h = WasmHeap.of(C);
  return h !== undefined && WasmHeap.of(A) === h && WasmHeap.of(B) === h ? h : undefined;
}

/** C[M,N] (+)= A[M,K] · B[N,K]^T. */
export function matmulABt(
  C: Floats, c0: number, A: Floats, a0: number, B: Floats, b0: number,
  M: number, N: number, K: number, accumulate: boolean,
): void {
  const h = heapFor(C, A, B);
  if (h === undefined) reference.matmulABt(C, c0, A, a0, B, b0, M, N, K, accumulate);
  else h.kernels.matmulABt(C.byteOffset + 4 * c0, A.byteOffset + 4 * a0, B.byteOffset + 4 * b0, M, N, K, accumulate ? 1 : 0);
}

/** C[M,K] (+)= A[M,N] · B[N,K]. */
export function matmulAB(
  C: Floats, c0: number, A: Floats, a0: number, B: Floats, b0: number,
  M: number, N: number, K: number, accumulate: boolean,
): void {
  const h = heapFor(C, A, B);
  if (h === undefined) reference.matmulAB(C, c0, A, a0, B, b0, M, N, K, accumulate);
  else h.kernels.matmulAB(C.byteOffset + 4 * c0, A.byteOffset + 4 * a0, B.byteOffset + 4 * b0, M, N, K, accumulate ? 1 : 0);
}

/** C[N,K] (+)= A[M,N]^T · B[M,K]. */
export function matmulAtB(
  C: Floats, c0: number, A: Floats, a0: number, B: Floats, b0: number,
  M: number, N: number, K: number, accumulate: boolean,
): void {
  const h = heapFor(C, A, B);
  if (h === undefined) reference.matmulAtB(C, c0, A, a0, B, b0, M, N, K, accumulate);
  else h.kernels.matmulAtB(C.byteOffset + 4 * c0, A.byteOffset + 4 * a0, B.byteOffset + 4 * b0, M, N, K, accumulate ? 1 : 0);
}

/** One LSTM step's gates and states (see gates.ts); wasm when all four buffers share a heap. */
export function lstmGates(
  act: Floats, a0: number, c: Floats, cPrev0: number, cOut0: number, tanhC: Floats, tc0: number, h: Floats, h0: number, b: number, H: number,
): void {
  const k = heapFor(act, c, tanhC);
  if (k === undefined || WasmHeap.of(h) !== k) gates.lstmGates(act, a0, c, cPrev0, cOut0, tanhC, tc0, h, h0, b, H);
  else k.kernels.lstmGates(act.byteOffset + 4 * a0, c.byteOffset + 4 * cPrev0, c.byteOffset + 4 * cOut0, tanhC.byteOffset + 4 * tc0, h.byteOffset + 4 * h0, b, H);
}

/** One GRU step's gates and state (see gates.ts); wasm when all four buffers share a heap. */
export function gruGates(
  act: Floats, a0: number, hg: Floats, g0: number, hn: Floats, hn0: number, h: Floats, hPrev0: number, hOut0: number, b: number, H: number,
): void {
  const k = heapFor(act, hg, hn);
  if (k === undefined || WasmHeap.of(h) !== k) gates.gruGates(act, a0, hg, g0, hn, hn0, h, hPrev0, hOut0, b, H);
  else k.kernels.gruGates(act.byteOffset + 4 * a0, hg.byteOffset + 4 * g0, hn.byteOffset + 4 * hn0, h.byteOffset + 4 * hPrev0, h.byteOffset + 4 * hOut0, b, H);
}

/** y = tanh(x) over n floats. */
export function tanhInto(x: Floats, x0: number, y: Floats, y0: number, n: number): void {
  const k = heapFor(y, x, x);
  if (k === undefined) gates.tanhInto(x, x0, y, y0, n);
  else k.kernels.tanhInPlace(x.byteOffset + 4 * x0, y.byteOffset + 4 * y0, n);
}
