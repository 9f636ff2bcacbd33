// The fused batch-1 step (wasm/step.ts through fastStepper.ts) gives the logits of the window-of-one
// ModelStepper on the reference kernels, step after step with the state carried, for every cell kind,
// 1-4 layers, one-hot and embedding inputs, on sizes that take every tail of its loops; it starts
// again from zero on reset(), follows the weights as training changes them, and is chosen only where
// the model lives in a wasm heap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setKernelBackend } from '../../src/engine/backend.js';
import { validateModelConfig, type CellKind } from '../../src/engine/config.js';
import { FastStepper } from '../../src/engine/fastStepper.js';
import { Model } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import type { Stepper } from '../../src/engine/sampling.js';
import { ModelStepper } from '../../src/engine/stepper.js';
import { wasmKernelsAvailable, type WasmKernelSet } from '../../src/engine/wasmKernels.js';
import { kernelSetsUnderTest, withKernelSet } from './support/kernelSets.js';

const skip = wasmKernelsAvailable() ? false : 'WebAssembly SIMD with shared memory is not available here';

/**
 * Float32 sums in another order than the reference's differ by a few units in the last place of the
 * terms' magnitudes (at most 1.2e-7 on logits of order 1 in these runs); 2e-6 is far above that and
 * far below what a wrong row, a missing bias or a stale state gives.
 */
const TOLERANCE = 2e-6;

interface Shape {
  hidden: number;
  vocab: number;
  embedding: number;
}

/** A model whose heap runs the kernel `set` (null: this runtime's fastest). */
function model(cell: CellKind, layers: number, shape: Shape, oneHot: boolean, seed = 5, set: WasmKernelSet | null = null): Model {
  const config = validateModelConfig({
    cell,
    hidden: shape.hidden,
    layers,
    embedding: oneHot ? 0 : shape.embedding,
    vocabSize: shape.vocab,
  });
  return withKernelSet(set, () => Model.create(config, seed));
}

function referenceStepper(m: Model): ModelStepper {
  return new ModelStepper(m.unroll(1, 1), m.arena);
}

/** The reference stepper's logits for `token`, on the TypeScript kernels. */
function referenceFeed(s: Stepper, token: number): Float64Array {
  setKernelBackend('reference');
  try {
    return Float64Array.from(s.feed(token));
  } finally {
    setKernelBackend('wasm');
  }
}

/** Feeds both steppers `steps` random tokens and fails at the first logit further apart than TOLERANCE. */
function agree(fast: Stepper, ref: Stepper, vocab: number, steps: number, rng: Rng, what: string): void {
  for (let s = 0; s < steps; s++) {
    const token = rng.int(vocab);
    const got = fast.feed(token);
    const want = referenceFeed(ref, token);
    assert.equal(got.length, vocab, `${what}: logits length`);
    for (let v = 0; v < vocab; v++) {
      const err = Math.abs(got[v]! - want[v]!);
      if (!(err <= TOLERANCE * Math.max(1, Math.abs(want[v]!)))) {
        assert.fail(`${what}, step ${s}, logit ${v}: expected ${want[v]} (reference), got ${got[v]}; error ${err}`);
      }
    }
  }
}

// 21: the products' 16-column pass, a 4-column pass and a single column; GH rows and V = 11 leave
// 1-3 rows after the blocks of four. 3: fewer than four of everything, so only the tails run.
const shapes: Shape[] = [
  { hidden: 21, vocab: 11, embedding: 5 },
  { hidden: 3, vocab: 3, embedding: 2 },
];

for (const { name, set, skip } of kernelSetsUnderTest()) {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    for (const oneHot of [true, false]) {
      test(
        `${name}: fused ${cell} step (${oneHot ? 'one-hot' : 'embedding'} input, 1-4 layers) equals the reference stepper over 150 steps`,
        { skip },
        () => {
          for (const shape of shapes) {
            for (let layers = 1; layers <= 4; layers++) {
              const m = model(cell, layers, shape, oneHot, 5, set);
              const fast = m.stepper();
              assert.ok(fast instanceof FastStepper, 'a float32 model in a wasm heap gets the fused stepper');
              assert.equal(m.arena.wasmHeap?.kernels.set, set, `the model runs the ${set} kernels`);
              agree(
                fast,
                referenceStepper(m),
                shape.vocab,
                150,
                new Rng(layers),
                `${cell} H=${shape.hidden} V=${shape.vocab} layers=${layers}`,
              );
            }
          }
        },
      );
    }
  }

  test(`${name}: fused step on the benchmark model (LSTM 128, 89 symbols) equals the reference stepper`, { skip }, () => {
    const m = model('lstm', 1, { hidden: 128, vocab: 89, embedding: 0 }, true, 5, set);
    agree(m.stepper(), referenceStepper(m), 89, 100, new Rng(3), 'LSTM 128');
  });
}

test('reset() returns the fused stepper to the zero state: the same tokens give the same logits again', { skip }, () => {
  const m = model('lstm', 2, shapes[0]!, false);
  const fast = m.stepper();
  const tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
  const run = (): number[][] => tokens.map((t) => Array.from(fast.feed(t)));
  const first = run();
  const carried = run();
  assert.notDeepEqual(carried[0], first[0], 'without reset the second pass starts from the state the first left');
  fast.reset();
  assert.deepEqual(run(), first);
  // and the reference, from its own zero state, agrees with the reset stepper
  fast.reset();
  agree(fast, referenceStepper(m), shapes[0]!.vocab, 40, new Rng(8), 'after reset');
});

test('the fused stepper reads the weights where they are, so it follows a training update', { skip }, () => {
  const m = model('gru', 2, shapes[0]!, true);
  const fast = m.stepper();
  const ref = referenceStepper(m);
  const rng = new Rng(4);
  agree(fast, ref, shapes[0]!.vocab, 20, rng, 'before the update');
  for (const p of m.params) for (let i = 0; i < p.data.length; i++) p.data[i] += rng.uniform(-0.05, 0.05);
  agree(fast, ref, shapes[0]!.vocab, 20, rng, 'after the update');
});

test('float64 models and models on the reference backend keep the window-of-one stepper', { skip }, () => {
  const config = validateModelConfig({ cell: 'lstm', hidden: 4, layers: 1, embedding: 0, vocabSize: 5 });
  assert.ok(Model.create(config, 1, 'f64').stepper() instanceof ModelStepper);
  setKernelBackend('reference');
  try {
    assert.ok(Model.create(config, 1).stepper() instanceof ModelStepper);
  } finally {
    setKernelBackend('wasm');
  }
  assert.throws(() => Model.create({ ...config, bidirectional: true }, 1).stepper(), /bidirectional/);
});

test('the fused stepper refuses tokens outside the vocabulary', { skip }, () => {
  const fast = model('rnn', 1, shapes[0]!, true).stepper();
  for (const bad of [-1, 11, 2.5, Number.NaN]) assert.throws(() => fast.feed(bad), RangeError);
});
