import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { validateTrainConfig, type TrainConfig } from '../../src/engine/config.js';
import { RecurrentError } from '../../src/engine/errors.js';
import { createOptimizer } from '../../src/engine/optimizer.js';
import type { Param } from '../../src/engine/parameters.js';

interface OptimizerFixture {
  lr: number;
  initial: number[];
  grads: number[][];
  cases: Array<{ name: string; config: Partial<TrainConfig>; after: number[][]; state: Record<string, number[]> }>;
}

// Written by scripts/pytorch_fixtures.py: torch.optim in float64 on fixed gradients.
const FIXTURE = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/pytorch/optimizers.json', import.meta.url), 'utf8'),
) as OptimizerFixture;

function param(name: string, values: number[], Ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): Param {
  return { name, shape: [values.length], data: Ctor.from(values), grad: new Ctor(values.length) };
}

function assertClose(got: ArrayLike<number>, want: readonly number[], tol: number, what: string): void {
  let worst = 0;
  let at = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (d > worst) [worst, at] = [d, i];
  }
  assert.ok(
    worst <= tol,
    `${what}: worst difference ${worst.toExponential(2)} at ${at} (expected ${want[at]}, got ${got[at]}), tolerance ${tol}`,
  );
}

for (const c of FIXTURE.cases) {
  test(`${c.name}: three steps match torch.optim to 1e-12 (float64), with PyTorch's state`, () => {
    const p = param('w', FIXTURE.initial);
    const opt = createOptimizer(validateTrainConfig({ ...c.config, lr: FIXTURE.lr }), [p]);
    FIXTURE.grads.forEach((g, k) => {
      p.grad.set(g);
      opt.step(FIXTURE.lr);
      assertClose(p.data, c.after[k]!, 1e-12, `${c.name} after step ${k + 1}`);
    });
    assert.equal(opt.updates, 3);
    const state = new Map(opt.stateTensors().map((t) => [t.name, t]));
    assert.deepEqual(
      [...state.keys()].sort(),
      Object.keys(c.state)
        .map((s) => `optimizer.w.${s}`)
        .sort(),
      'state slots named as PyTorch names them',
    );
    for (const [slot, want] of Object.entries(c.state))
      assertClose(state.get(`optimizer.w.${slot}`)!.data, want, 1e-6, `${c.name} state ${slot} (float32 copy)`);
  });
}

test('SGD with momentum by hand: b = 0.9 b + g, p -= lr b', () => {
  const p = param('w', [1, -2], Float32Array);
  const opt = createOptimizer(validateTrainConfig({ optimizer: 'sgd', momentum: 0.9, weightDecay: 0 }), [p]);
  p.grad.set([0.5, -1]);
  opt.step(0.1); // b = [0.5, -1], p = [0.95, -1.9]
  p.grad.set([0.5, -1]);
  opt.step(0.1); // b = [0.95, -1.9], p = [0.855, -1.71]
  assertClose(p.data, [0.855, -1.71], 1e-6, 'params after two momentum steps');
});

test('Adam by hand: the first step moves each weight by lr against the sign of its gradient', () => {
  // With t = 1: m/(1-b1) = g and sqrt(v/(1-b2)) = |g|, so the step is lr * g/(|g| + eps).
  const p = param('w', [0, 0, 0]);
  const opt = createOptimizer(validateTrainConfig({ optimizer: 'adam', eps: 1e-8 }), [p]);
  p.grad.set([3, -0.5, 1e3]);
  opt.step(0.01);
  assertClose(p.data, [-0.01, 0.01, -0.01], 1e-8, 'first Adam step');
});

test('a resumed optimizer continues exactly where the saved one was', () => {
  const cfg = validateTrainConfig({ optimizer: 'adamw', weightDecay: 0.1 });
  const a = param('w', FIXTURE.initial);
  const optA = createOptimizer(cfg, [a]);
  a.grad.set(FIXTURE.grads[0]!);
  optA.step(0.1);
  const b = param('w', [...a.data]);
  const optB = createOptimizer(cfg, [b]);
  optB.loadState(new Map(optA.stateTensors().map((t) => [t.name, t])), optA.updates);
  for (const g of FIXTURE.grads.slice(1)) {
    a.grad.set(g);
    b.grad.set(g);
    optA.step(0.1);
    optB.step(0.1);
  }
  // The float32 copy of the state costs at most float32 rounding.
  assertClose(b.data, [...a.data], 1e-6, 'resumed vs continuous run');
});

test('loading state saved by another optimizer is refused with a clear message', () => {
  const p = param('w', [1, 2]);
  const adam = createOptimizer(validateTrainConfig({ optimizer: 'adam' }), [p]);
  const sgd = createOptimizer(validateTrainConfig({ optimizer: 'sgd', momentum: 0.9 }), [p]);
  assert.throws(
    () => adam.loadState(new Map(sgd.stateTensors().map((t) => [t.name, t])), 3),
    (e: unknown) => e instanceof RecurrentError && /no optimizer state optimizer\.w\.exp_avg/.test(e.message),
  );
});

test('step keeps the state buffers it allocated at construction', () => {
  const p = param('w', [1, 2, 3], Float32Array);
  const opt = createOptimizer(validateTrainConfig({ optimizer: 'adam' }), [p]);
  const slots = (opt as unknown as { slots: Array<{ data: Float32Array }> }).slots.map((s) => s.data);
  p.grad.set([1, 1, 1]);
  for (let i = 0; i < 5; i++) opt.step(0.001);
  const after = (opt as unknown as { slots: Array<{ data: Float32Array }> }).slots.map((s) => s.data);
  assert.ok(
    slots.every((s, i) => s === after[i]),
    'state buffers were replaced during step',
  );
});
