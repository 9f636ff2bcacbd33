// The reference matrix kernels: plain TypeScript over either float width, weights stored [out, in] as
// PyTorch stores them. Every buffer is addressed by a base offset so the caller can point into one
// window-sized buffer without making views per step (and a WebAssembly backend can take the same
// arguments as pointers). Sums are accumulated in double precision and rounded once when stored.
//
// The three products share one register-blocked core: a 4x4 block of C is kept in 16 locals while
// the reduction runs, so each loaded element of A and B is used four times.
import type { Floats } from './floats.js';

/**
 * C[c0 + i*ldc + j] (+)= sum_p X[x0 + i*xi + p*xp] * Y[y0 + j*yj + p*yp] for i < I, j < J, p < P.
 */
function blocked(
  C: Floats,
  c0: number,
  ldc: number,
  X: Floats,
  x0: number,
  xi: number,
  xp: number,
  Y: Floats,
  y0: number,
  yj: number,
  yp: number,
  I: number,
  J: number,
  P: number,
  accumulate: boolean,
): void {
  let i = 0;
  for (; i + 4 <= I; i += 4) {
    const xa = x0 + i * xi;
    const ca = c0 + i * ldc;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      let px = xa;
      let py = y0 + j * yj;
      for (let p = 0; p < P; p++) {
        const a0 = X[px],
          a1 = X[px + xi],
          a2 = X[px + 2 * xi],
          a3 = X[px + 3 * xi];
        const b0 = Y[py],
          b1 = Y[py + yj],
          b2 = Y[py + 2 * yj],
          b3 = Y[py + 3 * yj];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s02 += a0 * b2;
        s03 += a0 * b3;
        s10 += a1 * b0;
        s11 += a1 * b1;
        s12 += a1 * b2;
        s13 += a1 * b3;
        s20 += a2 * b0;
        s21 += a2 * b1;
        s22 += a2 * b2;
        s23 += a2 * b3;
        s30 += a3 * b0;
        s31 += a3 * b1;
        s32 += a3 * b2;
        s33 += a3 * b3;
        px += xp;
        py += yp;
      }
      const c = ca + j;
      if (accumulate) {
        C[c] += s00;
        C[c + 1] += s01;
        C[c + 2] += s02;
        C[c + 3] += s03;
        C[c + ldc] += s10;
        C[c + ldc + 1] += s11;
        C[c + ldc + 2] += s12;
        C[c + ldc + 3] += s13;
        C[c + 2 * ldc] += s20;
        C[c + 2 * ldc + 1] += s21;
        C[c + 2 * ldc + 2] += s22;
        C[c + 2 * ldc + 3] += s23;
        C[c + 3 * ldc] += s30;
        C[c + 3 * ldc + 1] += s31;
        C[c + 3 * ldc + 2] += s32;
        C[c + 3 * ldc + 3] += s33;
      } else {
        C[c] = s00;
        C[c + 1] = s01;
        C[c + 2] = s02;
        C[c + 3] = s03;
        C[c + ldc] = s10;
        C[c + ldc + 1] = s11;
        C[c + ldc + 2] = s12;
        C[c + ldc + 3] = s13;
        C[c + 2 * ldc] = s20;
        C[c + 2 * ldc + 1] = s21;
        C[c + 2 * ldc + 2] = s22;
        C[c + 2 * ldc + 3] = s23;
        C[c + 3 * ldc] = s30;
        C[c + 3 * ldc + 1] = s31;
        C[c + 3 * ldc + 2] = s32;
        C[c + 3 * ldc + 3] = s33;
      }
    }
    for (; j < J; j++) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      let px = xa;
      let py = y0 + j * yj;
      for (let p = 0; p < P; p++) {
        const b = Y[py];
        s0 += X[px] * b;
        s1 += X[px + xi] * b;
        s2 += X[px + 2 * xi] * b;
        s3 += X[px + 3 * xi] * b;
        px += xp;
        py += yp;
      }
      const c = ca + j;
      if (accumulate) {
        C[c] += s0;
        C[c + ldc] += s1;
        C[c + 2 * ldc] += s2;
        C[c + 3 * ldc] += s3;
      } else {
        C[c] = s0;
        C[c + ldc] = s1;
        C[c + 2 * ldc] = s2;
        C[c + 3 * ldc] = s3;
      }
    }
  }
  for (; i < I; i++) {
    const xa = x0 + i * xi;
    const ca = c0 + i * ldc;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      let px = xa;
      let py = y0 + j * yj;
      for (let p = 0; p < P; p++) {
        const a = X[px];
        s0 += a * Y[py];
        s1 += a * Y[py + yj];
        s2 += a * Y[py + 2 * yj];
        s3 += a * Y[py + 3 * yj];
        px += xp;
        py += yp;
      }
      const c = ca + j;
      if (accumulate) {
        C[c] += s0;
        C[c + 1] += s1;
        C[c + 2] += s2;
        C[c + 3] += s3;
      } else {
        C[c] = s0;
        C[c + 1] = s1;
        C[c + 2] = s2;
        C[c + 3] = s3;
      }
    }
    for (; j < J; j++) {
      let s = 0;
      let px = xa;
      let py = y0 + j * yj;
      for (let p = 0; p < P; p++) {
        s += X[px] * Y[py];
        px += xp;
        py += yp;
      }
      if (accumulate) C[ca + j] += s;
      else C[ca + j] = s;
    }
  }
}

/** C[M,N] (+)= A[M,K] · B[N,K]^T: a layer's forward product, y = x W^T with W stored [out, in]. */
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
  blocked(C, c0, N, A, a0, K, 1, B, b0, K, 1, M, N, K, accumulate);
}

/** C[M,K] (+)= A[M,N] · B[N,K]: the input gradient, dx = dy W for W stored [out=N, in=K]. */
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
  blocked(C, c0, K, A, a0, N, 1, B, b0, 1, K, M, K, N, accumulate);
}

// matmulAtB reduces over rows, which lie N and K floats apart in A and B: read in place, every step of
// the reduction would touch two new cache lines. It transposes a panel of ROWS_PER_PANEL rows of each
// into scratch and reduces along contiguous memory with the same core (about 2x faster); the sum is then
// rounded once per panel instead of once. Scratch grows to the largest panel seen, then is reused.
const ROWS_PER_PANEL = 64;
let panel32 = { a: new Float32Array(0), b: new Float32Array(0) };
let panel64 = { a: new Float64Array(0), b: new Float64Array(0) };

function panels(like: Floats, N: number, K: number): { a: Floats; b: Floats } {
  if (like instanceof Float64Array) {
    if (panel64.a.length < N * ROWS_PER_PANEL || panel64.b.length < K * ROWS_PER_PANEL) {
      panel64 = {
        a: new Float64Array(Math.max(panel64.a.length, N * ROWS_PER_PANEL)),
        b: new Float64Array(Math.max(panel64.b.length, K * ROWS_PER_PANEL)),
      };
    }
    return panel64;
  }
  if (panel32.a.length < N * ROWS_PER_PANEL || panel32.b.length < K * ROWS_PER_PANEL) {
    panel32 = {
      a: new Float32Array(Math.max(panel32.a.length, N * ROWS_PER_PANEL)),
      b: new Float32Array(Math.max(panel32.b.length, K * ROWS_PER_PANEL)),
    };
  }
  return panel32;
}

/** dst[c, r] = src[s0 + r*cols + c] for r < rows, c < cols: dst is [cols, rows]. */
export function transpose(dst: Floats, d0: number, src: Floats, s0: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = s0 + r * cols;
    for (let c = 0, d = d0 + r; c < cols; c++, d += rows) dst[d] = src[o + c];
  }
}

/** C[N,K] (+)= A[M,N]^T · B[M,K]: the weight gradient, dW[out,in] += dy^T x summed over all M rows. */
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
  if (!accumulate) for (let i = 0; i < N * K; i++) C[c0 + i] = 0;
  const { a: At, b: Bt } = panels(C, N, K);
  for (let m = 0; m < M; m += ROWS_PER_PANEL) {
    const rows = Math.min(ROWS_PER_PANEL, M - m);
    transpose(At, 0, A, a0 + m * N, rows, N);
    transpose(Bt, 0, B, b0 + m * K, rows, K);
    blocked(C, c0, K, At, 0, rows, 1, Bt, 0, rows, 1, N, K, rows, true);
  }
}

/**
 * One-hot input projection: C[m, n] += W[n, ids[i0 + m]] for W [N, K]. x W^T for a one-hot x is one
 * column of W, so the product with K - 1 zeros is never formed.
 */
export function gatherColumnsAdd(C: Floats, c0: number, ids: Int32Array, i0: number, W: Floats, M: number, N: number, K: number): void {
  for (let m = 0; m < M; m++) {
    const col = ids[i0 + m];
    const c = c0 + m * N;
    for (let n = 0, w = col; n < N; n++, w += K) C[c + n] += W[w];
  }
}

/** Backward of gatherColumnsAdd: dW[n, ids[i0 + m]] += dC[m, n]. */
export function scatterColumnsAdd(dW: Floats, ids: Int32Array, i0: number, dC: Floats, c0: number, M: number, N: number, K: number): void {
  for (let m = 0; m < M; m++) {
    const col = ids[i0 + m];
    const c = c0 + m * N;
    for (let n = 0, w = col; n < N; n++, w += K) dW[w] += dC[c + n];
  }
}

/** Embedding lookup: out[m, :] = W[ids[i0 + m], :] for W [V, E]. */
export function gatherRows(out: Floats, o0: number, ids: Int32Array, i0: number, W: Floats, M: number, E: number): void {
  for (let m = 0; m < M; m++) {
    const w = ids[i0 + m] * E;
    const o = o0 + m * E;
    for (let e = 0; e < E; e++) out[o + e] = W[w + e];
  }
}

/** Backward of gatherRows: dW[ids[i0 + m], :] += dOut[m, :]. */
export function scatterRowsAdd(dW: Floats, ids: Int32Array, i0: number, dOut: Floats, o0: number, M: number, E: number): void {
  for (let m = 0; m < M; m++) {
    const w = ids[i0 + m] * E;
    const o = o0 + m * E;
    for (let e = 0; e < E; e++) dW[w + e] += dOut[o + e];
  }
}

/** C[m, :] = bias for every row m < M (then a product accumulates onto it). */
export function fillRows(C: Floats, c0: number, bias: Floats, M: number, N: number): void {
  for (let m = 0; m < M; m++) C.set(bias, c0 + m * N);
}

/** C[m, :] = a + b for every row m < M: the two biases PyTorch keeps for the same gate rows. */
export function fillRowsSum(C: Floats, c0: number, a: Floats, b: Floats, M: number, N: number): void {
  const c = c0;
  for (let n = 0; n < N; n++) C[c + n] = a[n] + b[n];
  for (let m = 1; m < M; m++) C.copyWithin(c0 + m * N, c0, c0 + N);
}

/** db[n] += sum over m < M of dC[m, n]: the bias gradient. */
export function addColumnSums(db: Floats, dC: Floats, c0: number, M: number, N: number): void {
  for (let m = 0; m < M; m++) {
    const c = c0 + m * N;
    for (let n = 0; n < N; n++) db[n] += dC[c + n];
  }
}

/** Sum of squares of X[x0 .. x0+n), in double precision. */
export function sumSquares(X: Floats, x0: number, n: number): number {
  let s = 0;
  for (let i = x0; i < x0 + n; i++) s += X[i] * X[i];
  return s;
}
