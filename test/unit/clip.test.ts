import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clipGradients, newClipResult } from '../../src/engine/clip.js';
import type { Param } from '../../src/engine/parameters.js';

function params(...grads: number[][]): Param[] {
  return grads.map((g, i) => ({ name: `p${i}`, shape: [g.length], data: new Float32Array(g.length), grad: Float32Array.from(g) }));
}

function close(got: number, want: number, what: string, tol = 1e-6): void {
  assert.ok(Math.abs(got - want) <= tol, `${what}: expected ${want}, got ${got}`);
}

test('clipping by norm scales every gradient by max/(norm + 1e-6) over all tensors together, as clip_grad_norm_', () => {
  const ps = params([3, 0], [0, 4]); // global norm 5
  const r = clipGradients(ps, 1, 0, newClipResult());
  assert.equal(r.mode, 'norm');
  assert.equal(r.clipped, true);
  close(r.normBefore, 5, 'norm before');
  const coef = 1 / (5 + 1e-6);
  close(ps[0]!.grad[0]!, 3 * coef, 'first tensor');
  close(ps[1]!.grad[1]!, 4 * coef, 'second tensor');
  close(r.normAfter, 1, 'norm after');
});

test('a norm below the limit leaves gradients untouched', () => {
  const ps = params([0.3, 0.4]);
  const r = clipGradients(ps, 1, 0, newClipResult());
  assert.equal(r.clipped, false);
  assert.deepEqual([...ps[0]!.grad], [Math.fround(0.3), Math.fround(0.4)]);
  close(r.normAfter, 0.5, 'norm after');
});

test('clipping by value clamps each element to [-v, v] and reports both norms', () => {
  const ps = params([2, -3, 0.5], [-0.25]);
  const r = clipGradients(ps, 0, 1, newClipResult());
  assert.equal(r.mode, 'value');
  assert.equal(r.clipped, true);
  assert.deepEqual([...ps[0]!.grad, ...ps[1]!.grad], [1, -1, 0.5, -0.25]);
  close(r.normBefore, Math.sqrt(4 + 9 + 0.25 + 0.0625), 'norm before');
  close(r.normAfter, Math.sqrt(1 + 1 + 0.25 + 0.0625), 'norm after');
});

test('with both limits, value clipping runs first and then the norm limit', () => {
  const ps = params([10, -10, 10, -10]);
  const r = clipGradients(ps, 1, 2, newClipResult());
  assert.equal(r.mode, 'norm');
  close(r.normAfter, 1, 'norm after both', 1e-5);
  close(ps[0]!.grad[0]!, 2 / (4 + 1e-6), 'element after value then norm');
});

test('no clipping configured: the norm is measured and nothing changes', () => {
  const ps = params([30, 40]);
  const r = clipGradients(ps, 0, 0, newClipResult());
  assert.equal(r.mode, 'none');
  assert.equal(r.clipped, false);
  close(r.normBefore, 50, 'norm');
  assert.deepEqual([...ps[0]!.grad], [30, 40]);
});

test('a non-finite norm leaves the gradients alone and is reported, so training can stop', () => {
  const ps = params([1, NaN]);
  const r = clipGradients(ps, 1, 0, newClipResult());
  assert.ok(Number.isNaN(r.normBefore), `expected NaN, got ${r.normBefore}`);
  assert.equal(r.clipped, false);
  assert.equal(ps[0]!.grad[0], 1);
});

test('the result object passed in is the one returned (no allocation per step)', () => {
  const out = newClipResult();
  assert.equal(clipGradients(params([1]), 1, 0, out), out);
});
