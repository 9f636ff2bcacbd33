// The matrix kernels against plain triple loops, on shapes that exercise the 4x4 blocks, their
// remainders and the panels of matmulAtB, in both float widths, overwriting and accumulating.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Floats } from '../../src/engine/floats.js';
import {
  addColumnSums,
  gatherColumnsAdd,
  gatherRows,
  matmulAB,
  matmulABt,
  matmulAtB,
  scatterColumnsAdd,
  scatterRowsAdd,
  transpose,
} from '../../src/engine/kernels.js';
import { Rng } from '../../src/engine/rng.js';

function random(rng: Rng, n: number, f64: boolean): Floats {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

function worstDiff(a: Floats, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

// Offsets into larger buffers check that every kernel honours its base offsets.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 4, 4],
  [9, 6, 13],
  [70, 9, 5],
  [130, 17, 3],
];

for (const f64 of [false, true]) {
  const tol = f64 ? 1e-12 : 1e-5;
  const width = f64 ? 'f64' : 'f32';
  test(`matmulABt, matmulAB and matmulAtB equal triple loops (${width})`, () => {
    const rng = new Rng(3);
    for (const [M, N, K] of SHAPES) {
      for (const accumulate of [false, true]) {
        const off = 3;
        // ABt: C[M,N] (+)= A[M,K] B[N,K]^T
        let A = random(rng, off + M * K, f64),
          B = random(rng, off + N * K, f64),
          C = random(rng, off + M * N, f64);
        let want = Float64Array.from(C);
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += A[off + m * K + k]! * B[off + n * K + k]!;
            want[off + m * N + n] = (accumulate ? want[off + m * N + n]! : 0) + s;
          }
        matmulABt(C, off, A, off, B, off, M, N, K, accumulate);
        assert.ok(
          worstDiff(C, want) < tol,
          `ABt ${M}x${N}x${K} acc=${accumulate}: worst difference ${worstDiff(C, want)}, expected < ${tol}`,
        );
        // AB: C[M,K] (+)= A[M,N] B[N,K]
        A = random(rng, off + M * N, f64);
        B = random(rng, off + N * K, f64);
        C = random(rng, off + M * K, f64);
        want = Float64Array.from(C);
        for (let m = 0; m < M; m++)
          for (let k = 0; k < K; k++) {
            let s = 0;
            for (let n = 0; n < N; n++) s += A[off + m * N + n]! * B[off + n * K + k]!;
            want[off + m * K + k] = (accumulate ? want[off + m * K + k]! : 0) + s;
          }
        matmulAB(C, off, A, off, B, off, M, N, K, accumulate);
        assert.ok(
          worstDiff(C, want) < tol,
          `AB ${M}x${N}x${K} acc=${accumulate}: worst difference ${worstDiff(C, want)}, expected < ${tol}`,
        );
        // AtB: C[N,K] (+)= A[M,N]^T B[M,K]
        A = random(rng, off + M * N, f64);
        B = random(rng, off + M * K, f64);
        C = random(rng, off + N * K, f64);
        want = Float64Array.from(C);
        for (let n = 0; n < N; n++)
          for (let k = 0; k < K; k++) {
            let s = 0;
            for (let m = 0; m < M; m++) s += A[off + m * N + n]! * B[off + m * K + k]!;
            want[off + n * K + k] = (accumulate ? want[off + n * K + k]! : 0) + s;
          }
        matmulAtB(C, off, A, off, B, off, M, N, K, accumulate);
        assert.ok(
          worstDiff(C, want) < tol,
          `AtB ${M}x${N}x${K} acc=${accumulate}: worst difference ${worstDiff(C, want)}, expected < ${tol}`,
        );
        assert.equal(C[0], want[0], 'AtB wrote before its offset');
      }
    }
  });
}

test('one-hot column gather equals the product with a one-hot vector, and its scatter is the transpose', () => {
  const rng = new Rng(5);
  const N = 6,
    K = 5,
    M = 7;
  const W = random(rng, N * K, true);
  const ids = Int32Array.from({ length: M }, () => rng.int(K));
  const C = new Float64Array(M * N).fill(0.5);
  gatherColumnsAdd(C, 0, ids, 0, W, M, N, K);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      assert.equal(C[m * N + n], 0.5 + W[n * K + ids[m]!]!, `row ${m} col ${n}`);
    }
  const dC = random(rng, M * N, true);
  const dW = new Float64Array(N * K);
  scatterColumnsAdd(dW, ids, 0, dC, 0, M, N, K);
  const want = new Float64Array(N * K);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) want[n * K + ids[m]!] += dC[m * N + n]!;
  assert.ok(worstDiff(dW, want) < 1e-15, `scatter: worst difference ${worstDiff(dW, want)}`);
});

test('row gather, row scatter, column sums and transpose do what their names say', () => {
  const rng = new Rng(6);
  const V = 5,
    E = 3,
    M = 4;
  const W = random(rng, V * E, true);
  const ids = Int32Array.from([4, 0, 4, 2]);
  const out = new Float64Array(M * E);
  gatherRows(out, 0, ids, 0, W, M, E);
  assert.deepEqual(Array.from(out.subarray(0, E)), Array.from(W.subarray(4 * E, 5 * E)));
  const dW = new Float64Array(V * E);
  scatterRowsAdd(dW, ids, 0, out, 0, M, E);
  assert.deepEqual(
    Array.from(dW.subarray(4 * E, 5 * E)),
    Array.from(W.subarray(4 * E, 5 * E), (x) => 2 * x),
    'token 4 appears twice',
  );
  const db = new Float64Array(E);
  addColumnSums(db, out, 0, M, E);
  for (let e = 0; e < E; e++) assert.ok(Math.abs(db[e]! - (out[e]! + out[E + e]! + out[2 * E + e]! + out[3 * E + e]!)) < 1e-15);
  const t = new Float64Array(M * E);
  transpose(t, 0, out, 0, M, E);
  for (let m = 0; m < M; m++) for (let e = 0; e < E; e++) assert.equal(t[e * M + m], out[m * E + e]);
});
