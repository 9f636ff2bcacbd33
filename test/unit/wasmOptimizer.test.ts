// The optimizers' updates and the clipping reductions in WebAssembly SIMD equal the reference loops of
// optimizer.ts and clip.ts within float32 rounding, over many steps and tensor lengths that are not
// multiples of four; and where a buffer is not in a wasm heap the reference runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as backend from '../../src/engine/backend.js';
import { clipGradients, newClipResult } from '../../src/engine/clip.js';
import { DEFAULT_TRAIN, OPTIMIZER_KINDS, validateTrainConfig } from '../../src/engine/config.js';
import * as reference from '../../src/engine/kernels.js';
import { createOptimizer } from '../../src/engine/optimizer.js';
import type { Param } from '../../src/engine/parameters.js';
import { Rng } from '../../src/engine/rng.js';
import { kernelSetsUnderTest } from './support/kernelSets.js';

for (const { name, heap, skip } of kernelSetsUnderTest()) {
  const LENGTHS = [1, 3, 4, 7, 64, 1001];

  /** Two copies of the same parameters: one in the wasm heap, one in plain arrays (the reference path). */
  function twins(rng: Rng): [Param[], Param[]] {
    const fast: Param[] = [];
    const plain: Param[] = [];
    for (const n of LENGTHS) {
      const data = heap!.floats(n);
      for (let i = 0; i < n; i++) data[i] = rng.uniform(-1, 1);
      fast.push({ name: `p${n}`, shape: [n], data, grad: heap!.floats(n) });
      plain.push({ name: `p${n}`, shape: [n], data: Float32Array.from(data), grad: new Float32Array(n) });
    }
    return [fast, plain];
  }

  /** Largest |a - b| / max(1, |b|): parameters start in [-1, 1] and move by about lr per step. */
  function worstRelative(a: Param[], b: Param[]): number {
    let worst = 0;
    a.forEach((p, k) => {
      for (let i = 0; i < p.data.length; i++) {
        const x = p.data[i]!;
        const y = b[k]!.data[i]!;
        worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)));
      }
    });
    return worst;
  }

  for (const optimizer of OPTIMIZER_KINDS) {
    test(`${name}: ${optimizer} in wasm follows the reference update for 50 steps (with weight decay and momentum)`, { skip }, () => {
      const rng = new Rng(7);
      const [fast, plain] = twins(rng);
      const cfg = validateTrainConfig({ ...DEFAULT_TRAIN, optimizer, lr: 0.01, weightDecay: 0.01, momentum: 0.9 });
      const a = createOptimizer(cfg, fast, (n) => heap!.floats(n));
      const b = createOptimizer(cfg, plain);
      for (let s = 0; s < 50; s++) {
        fast.forEach((p, k) => {
          for (let i = 0; i < p.grad.length; i++) {
            const g = rng.uniform(-1, 1) * (i % 5 === 0 ? 1e-3 : 1);
            p.grad[i] = g;
            plain[k]!.grad[i] = g;
          }
        });
        a.step(0.01);
        b.step(0.01);
      }
      // float32 rounding of each of 50 updates of about lr = 0.01 (the reference rounds once per step too).
      const worst = worstRelative(fast, plain);
      assert.ok(worst < 3e-5, `worst relative difference ${worst}`);
      // The fast path really ran: a wasm-resident update differs from the double-precision reference somewhere.
      assert.ok(
        fast.some((p, k) => p.data.some((x, i) => x !== plain[k]!.data[i])),
        'the wasm update never ran',
      );
    });
  }

  test(`${name}: sum of squares, scaling and adding in wasm equal the reference; plain arrays take the reference`, { skip }, () => {
    const rng = new Rng(3);
    for (const n of LENGTHS) {
      const x = heap!.floats(n);
      const y = heap!.floats(n);
      for (let i = 0; i < n; i++) {
        x[i] = rng.uniform(-2, 2);
        y[i] = rng.uniform(-2, 2);
      }
      const want = reference.sumSquares(x, 0, n);
      assert.ok(Math.abs(backend.sumOfSquares(x) - want) <= 1e-12 * want, `sum of squares, n = ${n}`);
      const sum = Float32Array.from(x, (v, i) => v + y[i]!);
      backend.addInto(x, y);
      assert.deepEqual(Array.from(x), Array.from(sum), `addInto, n = ${n}`);
      const scaled = Float32Array.from(x, (v) => v * 0.25);
      backend.scaleInPlace(x, 0.25);
      assert.deepEqual(Array.from(x), Array.from(scaled), `scaleInPlace, n = ${n}`);
    }
    const plain = Float32Array.of(1, 2, 3);
    backend.addInto(plain, Float32Array.of(1, 1, 1));
    backend.scaleInPlace(plain, 2);
    assert.deepEqual(Array.from(plain), [4, 6, 8]);
    assert.equal(backend.sumOfSquares(plain), 116);
  });

  test(`${name}: clipping by norm gives the same norms and gradients on wasm-resident and plain gradients`, { skip }, () => {
    const rng = new Rng(11);
    const [fast, plain] = twins(rng);
    fast.forEach((p, k) => {
      for (let i = 0; i < p.grad.length; i++) p.grad[i] = plain[k]!.grad[i] = rng.uniform(-3, 3);
    });
    const a = clipGradients(fast, 1, 0, newClipResult());
    const b = clipGradients(plain, 1, 0, newClipResult());
    assert.ok(a.clipped && b.clipped);
    assert.ok(Math.abs(a.normBefore - b.normBefore) <= 1e-12 * b.normBefore, `norm before ${a.normBefore} vs ${b.normBefore}`);
    assert.ok(Math.abs(a.normAfter - b.normAfter) <= 1e-6, `norm after ${a.normAfter} vs ${b.normAfter}`);
    fast.forEach((p, k) => p.grad.forEach((g, i) => assert.ok(Math.abs(g - plain[k]!.grad[i]!) <= 1e-7 * Math.max(1, Math.abs(g)))));
  });
}
