// The kernel backend switch. Layers call the matrix products through here with the reference
// signatures of kernels.ts; a product whose three buffers are Float32Array views into one WasmHeap
// runs in WebAssembly SIMD on pointers into that heap, anything else (Float64Array for gradient
// checks, ordinary arrays, a runtime without wasm SIMD) runs the reference kernel. So the fast path
// is chosen by where a model's buffers were allocated, and the reference stays the single truth the
// fast kernels are tested against.
import type { Floats } from './floats.js';
import * as crossEntropy from './crossEntropy.js';
import * as gates from './gates.js';
import * as reference from './kernels.js';
import { WasmHeap } from './wasmHeap.js';
import { wasmKernelsAvailable } from './wasmKernels.js';

export { fillRows, fillRowsSum, gatherRows, scatterRowsAdd, sumSquares } from './kernels.js';

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
function heapFor(C: Floats, A: Floats | Int32Array, B: Floats | Int32Array): WasmHeap | undefined {
  if (preferred !== 'wasm' || !(C instanceof Float32Array)) return undefined;
  const h = WasmHeap.of(C);
  return h !== undefined && WasmHeap.of(A) === h && WasmHeap.of(B) === h ? h : undefined;
}

/** Byte address of element i of a view in its heap. */
function at(x: Floats | Int32Array, i: number): number {
  return x.byteOffset + 4 * i;
}

/** C[M,N] (+)= A[M,K] · B[N,K]^T. */
export function matmulABt(
  C: Floats,
  c0: number,
  A: Floats,
  a0: number,
  B: Floats,
  b0: number,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
): void {
  const h = heapFor(C, A, B);
  if (h === undefined) reference.matmulABt(C, c0, A, a0, B, b0, M, N, K, accumulate);
  else h.kernels.matmulABt(C.byteOffset + 4 * c0, A.byteOffset + 4 * a0, B.byteOffset + 4 * b0, M, N, K, accumulate ? 1 : 0);
}

/** C[M,K] (+)= A[M,N] · B[N,K]. */
export function matmulAB(
  C: Floats,
  c0: number,
  A: Floats,
  a0: number,
  B: Floats,
  b0: number,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
): void {
  const h = heapFor(C, A, B);
  if (h === undefined) reference.matmulAB(C, c0, A, a0, B, b0, M, N, K, accumulate);
  else h.kernels.matmulAB(C.byteOffset + 4 * c0, A.byteOffset + 4 * a0, B.byteOffset + 4 * b0, M, N, K, accumulate ? 1 : 0);
}

/** C[N,K] (+)= A[M,N]^T · B[M,K]. */
export function matmulAtB(
  C: Floats,
  c0: number,
  A: Floats,
  a0: number,
  B: Floats,
  b0: number,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
): void {
  const h = heapFor(C, A, B);
  if (h === undefined) reference.matmulAtB(C, c0, A, a0, B, b0, M, N, K, accumulate);
  else h.kernels.matmulAtB(C.byteOffset + 4 * c0, A.byteOffset + 4 * a0, B.byteOffset + 4 * b0, M, N, K, accumulate ? 1 : 0, h.packScratch);
}

/** One LSTM step's gates and states (see gates.ts); wasm when all four buffers share a heap. */
export function lstmGates(
  act: Floats,
  a0: number,
  c: Floats,
  cPrev0: number,
  cOut0: number,
  tanhC: Floats,
  tc0: number,
  h: Floats,
  h0: number,
  b: number,
  H: number,
): void {
  const k = heapFor(act, c, tanhC);
  if (k === undefined || WasmHeap.of(h) !== k) gates.lstmGates(act, a0, c, cPrev0, cOut0, tanhC, tc0, h, h0, b, H);
  else
    k.kernels.lstmGates(
      act.byteOffset + 4 * a0,
      c.byteOffset + 4 * cPrev0,
      c.byteOffset + 4 * cOut0,
      tanhC.byteOffset + 4 * tc0,
      h.byteOffset + 4 * h0,
      b,
      H,
    );
}

/** One GRU step's gates and state (see gates.ts); wasm when all four buffers share a heap. */
export function gruGates(
  act: Floats,
  a0: number,
  hg: Floats,
  g0: number,
  hn: Floats,
  hn0: number,
  h: Floats,
  hPrev0: number,
  hOut0: number,
  b: number,
  H: number,
): void {
  const k = heapFor(act, hg, hn);
  if (k === undefined || WasmHeap.of(h) !== k) gates.gruGates(act, a0, hg, g0, hn, hn0, h, hPrev0, hOut0, b, H);
  else
    k.kernels.gruGates(
      act.byteOffset + 4 * a0,
      hg.byteOffset + 4 * g0,
      hn.byteOffset + 4 * hn0,
      h.byteOffset + 4 * hPrev0,
      h.byteOffset + 4 * hOut0,
      b,
      H,
    );
}

/** y = tanh(x) over n floats. */
export function tanhInto(x: Floats, x0: number, y: Floats, y0: number, n: number): void {
  const k = heapFor(y, x, x);
  if (k === undefined) gates.tanhInto(x, x0, y, y0, n);
  else k.kernels.tanhInPlace(x.byteOffset + 4 * x0, y.byteOffset + 4 * y0, n);
}

/** db[N] += sum over rows of dC[M, N] (from c0): a bias gradient. */
export function addColumnSums(db: Floats, dC: Floats, c0: number, M: number, N: number): void {
  const k = heapFor(db, dC, dC);
  if (k === undefined) reference.addColumnSums(db, dC, c0, M, N);
  else k.kernels.addColumnSums(at(db, 0), at(dC, c0), M, N);
}

/**
 * C[m, :] += W[:, ids[i0 + m]] for M rows, W [N, K]: the one-hot input's product as a column gather.
 * scratch (K*N floats in the same heap, or null) lets the wasm kernel transpose W once when M >= K.
 */
export function gatherColumnsAdd(
  C: Floats,
  c0: number,
  ids: Int32Array,
  i0: number,
  W: Floats,
  M: number,
  N: number,
  K: number,
  scratch: Floats | null = null,
): void {
  const k = heapFor(C, ids, W);
  if (k === undefined) reference.gatherColumnsAdd(C, c0, ids, i0, W, M, N, K);
  else
    k.kernels.gatherColumnsAdd(
      at(C, c0),
      at(ids, i0),
      at(W, 0),
      M,
      N,
      K,
      scratch !== null && WasmHeap.of(scratch) === k ? at(scratch, 0) : 0,
    );
}

/** dW[:, ids[i0 + m]] += dC[m, :] for M rows, dW [N, K]; scratch as for gatherColumnsAdd. */
export function scatterColumnsAdd(
  dW: Floats,
  ids: Int32Array,
  i0: number,
  dC: Floats,
  c0: number,
  M: number,
  N: number,
  K: number,
  scratch: Floats | null = null,
): void {
  const k = heapFor(dW, ids, dC);
  if (k === undefined) reference.scatterColumnsAdd(dW, ids, i0, dC, c0, M, N, K);
  else
    k.kernels.scatterColumnsAdd(
      at(dW, 0),
      at(ids, i0),
      at(dC, c0),
      M,
      N,
      K,
      scratch !== null && WasmHeap.of(scratch) === k ? at(scratch, 0) : 0,
    );
}

/**
 * Softmax cross-entropy of rows of z [rows, V] (from z0) against targets[t0 ..]: returns the summed
 * loss in nats and leaves softmax(z) in z, or, when gradScale is a number, the gradient
 * gradScale * (softmax(z) - onehot(y)) directly (forward and backward in one pass).
 */
export function softmaxCrossEntropy(
  z: Floats,
  z0: number,
  targets: Int32Array,
  t0: number,
  rows: number,
  V: number,
  perRow: Floats | null,
  r0: number,
  gradScale: number | null,
): number {
  const k = heapFor(z, targets, targets);
  if (k === undefined || (perRow !== null && (!(perRow instanceof Float32Array) || WasmHeap.of(perRow) !== k))) {
    const total = crossEntropy.softmaxCrossEntropyForward(z, z0, targets, t0, rows, V, perRow, r0);
    if (gradScale !== null) crossEntropy.softmaxCrossEntropyBackward(z, z0, targets, t0, rows, V, gradScale);
    return total;
  }
  return k.kernels.softmaxCrossEntropy(
    at(z, z0),
    at(targets, t0),
    rows,
    V,
    perRow === null ? 0 : at(perRow, r0),
    gradScale === null ? 0 : 1,
    gradScale ?? 0,
  );
}

/** Probabilities p left by softmaxCrossEntropy become scale * (p - onehot(target)). */
export function crossEntropyGradient(p: Floats, p0: number, targets: Int32Array, t0: number, rows: number, V: number, scale: number): void {
  const k = heapFor(p, targets, targets);
  if (k === undefined) crossEntropy.softmaxCrossEntropyBackward(p, p0, targets, t0, rows, V, scale);
  else k.kernels.crossEntropyGradient(at(p, p0), at(targets, t0), rows, V, scale);
}

/** LSTM backward step (see gates.ts); wasm when every buffer shares a heap. */
export function lstmBackward(
  act: Floats,
  a0: number,
  tanhC: Floats,
  tc0: number,
  dh: Floats,
  dh0: number,
  c: Floats,
  cp0: number,
  dc: Floats,
  dIn: Floats,
  d0: number,
  b: number,
  H: number,
): void {
  const k = heapFor(act, tanhC, dh);
  if (k === undefined || WasmHeap.of(c) !== k || WasmHeap.of(dc) !== k || WasmHeap.of(dIn) !== k) {
    gates.lstmBackward(act, a0, tanhC, tc0, dh, dh0, c, cp0, dc, dIn, d0, b, H);
  } else {
    k.kernels.lstmBackward(at(act, a0), at(tanhC, tc0), at(dh, dh0), at(c, cp0), at(dc, 0), at(dIn, d0), b, H);
  }
}

/** GRU backward step (see gates.ts); dIn and dHid at a0 like act. */
export function gruBackward(
  act: Floats,
  a0: number,
  dh: Floats,
  dh0: number,
  h: Floats,
  hp0: number,
  hn: Floats,
  hn0: number,
  dIn: Floats,
  dHid: Floats,
  dPrev: Floats,
  dp0: number,
  accumulate: boolean,
  b: number,
  H: number,
): void {
  const k = heapFor(act, dh, h);
  if (k === undefined || WasmHeap.of(hn) !== k || WasmHeap.of(dIn) !== k || WasmHeap.of(dHid) !== k || WasmHeap.of(dPrev) !== k) {
    gates.gruBackward(act, a0, dh, dh0, h, hp0, hn, hn0, dIn, dHid, dPrev, dp0, accumulate, b, H);
  } else {
    k.kernels.gruBackward(
      at(act, a0),
      at(dh, dh0),
      at(h, hp0),
      at(hn, hn0),
      at(dIn, a0),
      at(dHid, a0),
      at(dPrev, dp0),
      accumulate ? 1 : 0,
      b,
      H,
    );
  }
}

/** da = dh (1 - h^2) over n floats: the vanilla RNN's tanh backward. */
export function tanhBackward(h: Floats, h0: number, dh: Floats, dh0: number, da: Floats, da0: number, n: number): void {
  const k = heapFor(da, h, dh);
  if (k === undefined) gates.tanhBackward(h, h0, dh, dh0, da, da0, n);
  else k.kernels.tanhBackward(at(h, h0), at(dh, dh0), at(da, da0), n);
}

/**
 * The wasm draw of sampling.ts's plain path (no top-k or top-p): a token from softmax(z * invT) with
 * one uniform from rng, -1 when the max of z is not finite (after drawing), or undefined, drawing
 * nothing, where z is not in a wasm heap.
 */
export function sampleSoftmax(z: Floats, V: number, invT: number, rng: { next(): number }): number | undefined {
  const k = heapFor(z, z, z);
  if (k === undefined) return undefined;
  return k.kernels.sampleSoftmax(at(z, 0), V, invT, rng.next());
}

/**
 * Adam/AdamW on one tensor in wasm (optimizer.ts's equations); false, having done nothing, where it cannot run.
 * 1 - b1 and 1 - b2 are computed here in double, as PyTorch computes its scalars, not in float32 in the kernel.
 */
export function adamStep(
  p: Floats,
  g: Floats,
  m: Floats,
  v: Floats,
  b1: number,
  b2: number,
  stepSize: number,
  sqrtBias2: number,
  eps: number,
  l2: number,
  shrink: number,
): boolean {
  const k = heapFor(p, g, m);
  if (k === undefined || WasmHeap.of(v) !== k) return false;
  k.kernels.adamStep(at(p, 0), at(g, 0), at(m, 0), at(v, 0), p.length, b1, 1 - b1, b2, 1 - b2, stepSize, sqrtBias2, eps, l2, shrink);
  return true;
}

/** Adagrad on one tensor in wasm; false where it cannot run. */
export function adagradStep(p: Floats, g: Floats, s: Floats, lr: number, eps: number, wd: number): boolean {
  const k = heapFor(p, g, s);
  if (k === undefined) return false;
  k.kernels.adagradStep(at(p, 0), at(g, 0), at(s, 0), p.length, lr, eps, wd);
  return true;
}

/** RMSprop on one tensor in wasm (1 - alpha in double, as for Adam); false where it cannot run. */
export function rmspropStep(p: Floats, g: Floats, v: Floats, lr: number, alpha: number, eps: number, wd: number): boolean {
  const k = heapFor(p, g, v);
  if (k === undefined) return false;
  k.kernels.rmspropStep(at(p, 0), at(g, 0), at(v, 0), p.length, lr, alpha, 1 - alpha, eps, wd);
  return true;
}

/** SGD (momentum buffer b, or null) on one tensor in wasm; false where it cannot run. */
export function sgdStep(p: Floats, g: Floats, b: Floats | null, lr: number, mu: number, wd: number): boolean {
  const k = heapFor(p, g, b ?? g);
  if (k === undefined) return false;
  k.kernels.sgdStep(at(p, 0), at(g, 0), b === null ? 0 : at(b, 0), p.length, lr, mu, wd);
  return true;
}

/** Sum of squares of all of x, in double precision. */
export function sumOfSquares(x: Floats): number {
  const k = heapFor(x, x, x);
  return k === undefined ? reference.sumSquares(x, 0, x.length) : k.kernels.sumSquares(at(x, 0), x.length);
}

/** x *= c. */
export function scaleInPlace(x: Floats, c: number): void {
  const k = heapFor(x, x, x);
  if (k !== undefined) k.kernels.scaleInPlace(at(x, 0), x.length, c);
  else for (let i = 0; i < x.length; i++) x[i] = x[i]! * c;
}

/** dst += src (same length). */
export function addInto(dst: Floats, src: Floats): void {
  const k = heapFor(dst, src, src);
  if (k !== undefined) k.kernels.addInto(at(dst, 0), at(src, 0), dst.length);
  else for (let i = 0; i < dst.length; i++) dst[i] = dst[i]! + src[i]!;
}
