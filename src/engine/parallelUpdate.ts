// The work after the backward pass, split between the training threads: the training thread alone took
// 1.5-1.8 ms of a 15-19 ms translate update on two threads (summing the worker's gradients, their norm for
// clipping, and Adam's square roots and divisions over 514,630 parameters) while the worker waited. Each
// thread j of T takes a slice of every tensor, cut at multiples of four floats so that a SIMD kernel's
// scalar tail falls where one thread's would, and in two phases: it sums the threads' gradients over its
// slices and its part of their squared norm; then, once the training thread has the norm, it scales its
// slices by the clip coefficient and runs Adam on them. Element by element that is what clip.ts and
// optimizer.ts compute on one thread; only the norm's double-precision sum is added in another order.
//
// The table lives in the shared memory, so a worker reads it by its byte offset: a header [tensors,
// threads], then per tensor [floats, p, g, m, v, g of worker 1 .. T-1] (byte offsets; g is the model's
// gradient, which the sums go into). The scalars block holds Adam's scalars, the clip coefficient, which
// workers had examples this update, and each thread's partial sum.
import type { WasmKernels } from './wasmKernels.js';

/** Float64 indices of the scalars block. */
export const Scalar = {
  b1: 0,
  c1: 1,
  b2: 2,
  c2: 3,
  stepSize: 4,
  sqrtBias2: 5,
  eps: 6,
  l2: 7,
  shrink: 8,
  /** Scale the gradients by this first when below 1 (clipping by norm). */
  coef: 9,
  /** Then per worker r (1 .. T-1), at active + r: 1 when it ran examples this update, so its gradients count. */
  active: 10,
} as const;

export const TABLE_HEADER = 2;

/** Words of a table row for T threads. */
export function rowWords(threads: number): number {
  return 4 + threads;
}

/** Float64 words of the scalars block for T threads: the scalars, the active flags, one partial sum per thread. */
export function scalarWords(threads: number): number {
  return Scalar.active + 2 * threads;
}

function partialAt(threads: number, j: number): number {
  return Scalar.active + threads + j;
}

/** Thread j's slice [lo, hi) of a tensor of n floats, cut at multiples of 4 (the last thread takes the tail). */
export function sliceOf(n: number, j: number, threads: number): [number, number] {
  const cut = (i: number): number => (i >= threads ? n : Math.floor((n * i) / threads / 4) * 4);
  return [cut(j), cut(j + 1)];
}

/** Phase one on thread j: the active workers' gradients added into the model's over j's slices, and j's part of their squared norm. */
export function reduceSlices(k: WasmKernels, table: Int32Array, scalars: Float64Array, j: number): void {
  const tensors = table[0]!;
  const threads = table[1]!;
  const w = rowWords(threads);
  let sum = 0;
  for (let t = 0; t < tensors; t++) {
    const row = TABLE_HEADER + t * w;
    const [lo, hi] = sliceOf(table[row]!, j, threads);
    if (hi <= lo) continue;
    const g = table[row + 2]! + 4 * lo;
    for (let r = 1; r < threads; r++) if (scalars[Scalar.active + r] === 1) k.addInto(g, table[row + 4 + r]! + 4 * lo, hi - lo);
    sum += k.sumSquares(g, hi - lo);
  }
  scalars[partialAt(threads, j)] = sum;
}

/** Phase two on thread j: the clip coefficient where below 1 (then j's part of the clipped squared norm), and Adam over j's slices. */
export function adamSlices(k: WasmKernels, table: Int32Array, scalars: Float64Array, j: number): void {
  const tensors = table[0]!;
  const threads = table[1]!;
  const w = rowWords(threads);
  const coef = scalars[Scalar.coef]!;
  const s = scalars;
  let sum = 0;
  for (let t = 0; t < tensors; t++) {
    const row = TABLE_HEADER + t * w;
    const [lo, hi] = sliceOf(table[row]!, j, threads);
    if (hi <= lo) continue;
    const n = hi - lo;
    const at = 4 * lo;
    const g = table[row + 2]! + at;
    if (coef < 1) {
      k.scaleInPlace(g, n, coef);
      sum += k.sumSquares(g, n);
    }
    k.adamStep(
      table[row + 1]! + at,
      g,
      table[row + 3]! + at,
      table[row + 4]! + at,
      n,
      s[Scalar.b1]!,
      s[Scalar.c1]!,
      s[Scalar.b2]!,
      s[Scalar.c2]!,
      s[Scalar.stepSize]!,
      s[Scalar.sqrtBias2]!,
      s[Scalar.eps]!,
      s[Scalar.l2]!,
      s[Scalar.shrink]!,
    );
  }
  s[partialAt(threads, j)] = sum;
}

/** The threads' partial sums added, in thread order. */
export function partialSum(scalars: Float64Array, threads: number): number {
  let sum = 0;
  for (let j = 0; j < threads; j++) sum += scalars[partialAt(threads, j)]!;
  return sum;
}
