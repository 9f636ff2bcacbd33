// The WebAssembly kernels of the per-step work around the products (bias-gradient column sums,
// softmax cross-entropy forward and fused backward, the one-hot gather and scatter, the LSTM/GRU/RNN
// backward gate loops, the batch-1 softmax draw) equal their TypeScript references within float32
// rounding, on odd shapes that take every SIMD tail, through the same backend calls the engine makes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as backend from '../../src/engine/backend.js';
import * as crossEntropy from '../../src/engine/crossEntropy.js';
import * as gates from '../../src/engine/gates.js';
import * as reference from '../../src/engine/kernels.js';
import { Rng } from '../../src/engine/rng.js';
import { kernelSetsUnderTest } from './support/kernelSets.js';

for (const { name, heap, skip } of kernelSetsUnderTest()) {
  const u = 2 ** -24;

  function random(n: number, rng: Rng, lo = -1, hi = 1): Float32Array {
    const x = heap!.floats(n);
    for (let i = 0; i < n; i++) x[i] = rng.uniform(lo, hi);
    return x;
  }

  function ids(n: number, V: number, rng: Rng): Int32Array {
    const x = heap!.ints(n);
    for (let i = 0; i < n; i++) x[i] = rng.int(V);
    return x;
  }

  /** Fails naming the first element whose error exceeds bound(i). */
  function within(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number, what: string): void {
    assert.equal(got.length, want.length, `${what}: length`);
    for (let i = 0; i < got.length; i++) {
      const err = Math.abs(got[i]! - want[i]!);
      if (!(err <= bound(i)))
        assert.fail(`${what}: element ${i} expected ${want[i]} (reference), got ${got[i]}; error ${err} > bound ${bound(i)}`);
    }
  }

  test(`${name}: bias-gradient column sums equal the reference within float32 rounding`, { skip }, () => {
    const rng = new Rng(5);
    for (const M of [1, 2, 7, 64])
      for (const N of [1, 3, 4, 5, 31, 32, 33, 67, 130]) {
        const dC = random(M * N + 3, rng);
        const db = random(N, rng);
        const want = Float64Array.from(db);
        const mag = Float64Array.from(db, Math.abs);
        reference.addColumnSums(want, dC, 3, M, N);
        reference.addColumnSums(mag, Float64Array.from(dC, Math.abs), 3, M, N);
        backend.addColumnSums(db, dC, 3, M, N);
        within(db, want, (i) => (M + 2) * u * mag[i]!, `column sums M=${M} N=${N}`);
      }
  });

  test(`${name}: one-hot gather and scatter equal the reference, on the strided and the transposed path`, { skip }, () => {
    const rng = new Rng(6);
    for (const [M, N, K] of [
      [3, 7, 11],
      [15, 7, 11],
      [40, 33, 5],
      [64, 20, 89],
      [130, 9, 89],
    ] as const) {
      const W = random(N * K, rng);
      const tok = ids(M, K, rng);
      for (const scratch of [null, heap!.floats(N * K)]) {
        const C = random(M * N, rng);
        const want = Float32Array.from(C);
        reference.gatherColumnsAdd(want, 0, tok, 0, W, M, N, K);
        backend.gatherColumnsAdd(C, 0, tok, 0, W, M, N, K, scratch);
        // one addition per element: the same rounding in both
        within(C, want, () => 0, `gather M=${M} N=${N} K=${K} scratch=${scratch !== null}`);

        const dW = random(N * K, rng);
        const dWant = Float64Array.from(dW);
        const mag = Float64Array.from(dW, Math.abs);
        reference.scatterColumnsAdd(dWant, tok, 0, C, 0, M, N, K);
        reference.scatterColumnsAdd(mag, tok, 0, Float64Array.from(C, Math.abs), 0, M, N, K);
        backend.scatterColumnsAdd(dW, tok, 0, C, 0, M, N, K, scratch);
        within(dW, dWant, (i) => (M + 2) * u * mag[i]!, `scatter M=${M} N=${N} K=${K} scratch=${scratch !== null}`);
      }
    }
  });

  test(
    `${name}: softmax cross-entropy equals the reference: loss, per-row losses, probabilities, and the fused gradient to the bit`,
    { skip },
    () => {
      const rng = new Rng(8);
      for (const [rows, V] of [
        [1, 1],
        [3, 2],
        [5, 11],
        [17, 89],
        [4, 130],
      ] as const) {
        const z = random(rows * V, rng, -8, 8);
        const targets = ids(rows, V, rng);
        const want = Float64Array.from(z);
        const perWant = new Float64Array(rows);
        const lossWant = crossEntropy.softmaxCrossEntropyForward(want, 0, targets, 0, rows, V, perWant, 0);
        const fused = heap!.floats(rows * V);
        fused.set(z);
        const per = heap!.floats(rows);
        const loss = backend.softmaxCrossEntropy(z, 0, targets, 0, rows, V, per, 0, null);
        // exps within ~2 ulp and a V-term float32 sum: the loss within (V + 4) u of its size plus the log's
        assert.ok(
          Math.abs(loss - lossWant) <= (V + 8) * u * (rows + Math.abs(lossWant)),
          `rows=${rows} V=${V}: loss expected ${lossWant}, got ${loss}`,
        );
        within(per, perWant, (i) => (V + 8) * u * (1 + Math.abs(perWant[i]!)), `rows=${rows} V=${V}: per-row loss`);
        within(z, want, (i) => (V + 8) * u * want[i]!, `rows=${rows} V=${V}: probabilities`);

        const scale = 1 / (rows * 3);
        const fusedLoss = backend.softmaxCrossEntropy(fused, 0, targets, 0, rows, V, null, 0, scale);
        assert.equal(fusedLoss, loss, 'the fused pass returns the same loss');
        backend.crossEntropyGradient(z, 0, targets, 0, rows, V, scale);
        for (let i = 0; i < z.length; i++) {
          if (!Object.is(fused[i], z[i]))
            assert.fail(`rows=${rows} V=${V}: fused gradient element ${i} expected ${z[i]} (softmax then gradient), got ${fused[i]}`);
        }
      }
    },
  );

  test(`${name}: softmax cross-entropy gives a NaN loss for a NaN logit`, { skip }, () => {
    const z = heap!.floats(6);
    z.set([0.5, NaN, 1, 2, 3, 0]);
    const targets = heap!.ints(1);
    const loss = backend.softmaxCrossEntropy(z, 0, targets, 0, 1, 6, null, 0, null);
    assert.ok(Number.isNaN(loss), `expected NaN, got ${loss}`);
  });

  test(`${name}: LSTM, GRU and RNN backward gate loops equal the reference within a few float32 roundings`, { skip }, () => {
    const rng = new Rng(9);
    for (const [b, H] of [
      [1, 1],
      [3, 5],
      [2, 8],
      [4, 13],
    ] as const) {
      // LSTM: activated gates in (0, 1) and (-1, 1), as forward leaves them
      const act = random(b * 4 * H, rng, 0.01, 0.99);
      for (let r = 0; r < b; r++) for (let j = 0; j < H; j++) act[r * 4 * H + 2 * H + j] = rng.uniform(-0.99, 0.99);
      const tanhC = random(b * H + 2, rng),
        dh = random(b * H + 1, rng),
        c = random(b * H + 4, rng);
      const dc = random(b * H, rng);
      const dIn = heap!.floats(b * 4 * H + 4);
      const dcWant = Float64Array.from(dc);
      const dInWant = new Float64Array(dIn.length);
      gates.lstmBackward(act, 0, tanhC, 2, dh, 1, c, 4, dcWant, dInWant, 4, b, H);
      backend.lstmBackward(act, 0, tanhC, 2, dh, 1, c, 4, dc, dIn, 4, b, H);
      // every value is a product of at most six factors below 2 in size, sums of two: 8 roundings
      within(dIn, dInWant, () => 16 * u, `LSTM b=${b} H=${H}: dIn`);
      within(dc, dcWant, () => 16 * u, `LSTM b=${b} H=${H}: dc`);

      const g = random(b * 3 * H, rng, 0.01, 0.99);
      for (let r = 0; r < b; r++) for (let j = 0; j < H; j++) g[r * 3 * H + 2 * H + j] = rng.uniform(-0.99, 0.99);
      const hPrev = random(b * H + 3, rng),
        hn = random(b * H, rng, -3, 3);
      for (const accumulate of [false, true]) {
        const dPrev = random(b * H + 1, rng);
        const dPrevWant = Float64Array.from(dPrev);
        const gIn = heap!.floats(b * 3 * H),
          gHid = heap!.floats(b * 3 * H);
        const gInWant = new Float64Array(b * 3 * H),
          gHidWant = new Float64Array(b * 3 * H);
        gates.gruBackward(g, 0, dh, 1, hPrev, 3, hn, 0, gInWant, gHidWant, dPrevWant, 1, accumulate, b, H);
        backend.gruBackward(g, 0, dh, 1, hPrev, 3, hn, 0, gIn, gHid, dPrev, 1, accumulate, b, H);
        within(gIn, gInWant, () => 48 * u, `GRU b=${b} H=${H}: dIn`);
        within(gHid, gHidWant, () => 48 * u, `GRU b=${b} H=${H}: dHid`);
        within(dPrev, dPrevWant, () => 8 * u, `GRU b=${b} H=${H} accumulate=${accumulate}: dh_{p-1}`);
      }

      const h = random(b * H, rng),
        da = heap!.floats(b * H),
        daWant = new Float64Array(b * H);
      gates.tanhBackward(h, 0, dh, 1, daWant, 0, b * H);
      backend.tanhBackward(h, 0, dh, 1, da, 0, b * H);
      within(da, daWant, () => 4 * u, `RNN b=${b} H=${H}: da`);
    }
  });

  test(`${name}: the wasm softmax draw picks the token whose cumulative probability interval holds the uniform`, { skip }, () => {
    const rng = new Rng(10);
    for (let trial = 0; trial < 300; trial++) {
      const V = 1 + rng.int(120);
      const z = random(V, rng, -6, 6);
      const T = [0.3, 1, 2.5][trial % 3]!;
      const uniform = rng.next();
      const token = backend.sampleSoftmax(z, V, 1 / T, { next: () => uniform });
      assert.ok(token !== undefined && token >= 0 && token < V, `trial ${trial}: expected a token below ${V}, got ${token}`);
      // the exact intervals in double: the draw may differ from them only by float32 exps' rounding
      let max = -Infinity;
      for (let i = 0; i < V; i++) max = Math.max(max, z[i]!);
      const e = Array.from(z, (x) => Math.exp((x - max) / T));
      const total = e.reduce((a, b) => a + b, 0);
      const below = e.slice(0, token).reduce((a, b) => a + b, 0);
      const target = uniform * total;
      const tol = 1e-5 * total;
      assert.ok(
        below - tol <= target && target < below + e[token]! + tol,
        `trial ${trial}: u * total = ${target} should lie in token ${token}'s interval [${below}, ${below + e[token]!})`,
      );
    }
  });

  test(`${name}: the softmax draw reads no uniform for logits outside a wasm heap, and reports a non-finite max with -1`, { skip }, () => {
    let draws = 0;
    const counter = {
      next: () => {
        draws++;
        return 0.5;
      },
    };
    assert.equal(backend.sampleSoftmax(new Float32Array([1, 2, 3]), 3, 1, counter), undefined);
    assert.equal(draws, 0, 'no uniform may be drawn on the reference path');
    const z = heap!.floats(3);
    z.set([1, Infinity, 0]);
    assert.equal(backend.sampleSoftmax(z, 3, 1, counter), -1);
  });
}
