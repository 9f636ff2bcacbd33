// The memory a run needs is known from its configuration before anything is allocated (memory.ts): the
// figure must cover what a real trainer's WebAssembly heap ends up using (every cell, layers, embedding,
// threads, optimizers, after validation, a checkpoint and sampling), without overstating it much, and a
// run that cannot fit is refused before a buffer is built.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../src/engine/config.js';
import { checkTrainingMemory, MemoryError, trainingMemory, WASM_MEMORY_BYTES } from '../../src/engine/memory.js';
import { Trainer } from '../../src/engine/trainer.js';

const TEXT = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8');

const cases: Array<[string, Omit<ModelConfig, 'vocabSize'>, Partial<TrainConfig>]> = [
  ['lstm one-hot', { task: 'lm', cell: 'lstm', hidden: 48, layers: 1, embedding: 0, bidirectional: false }, {}],
  [
    'gru 2 layers, embedding, sgd',
    { task: 'lm', cell: 'gru', hidden: 32, layers: 2, embedding: 16, bidirectional: false },
    { optimizer: 'sgd' },
  ],
  [
    'rnn 3 layers, rmsprop, k1 < k2',
    { task: 'lm', cell: 'rnn', hidden: 40, layers: 3, embedding: 0, bidirectional: false },
    { optimizer: 'rmsprop', k1: 8, k2: 20 },
  ],
  ['lstm, 2 threads', { task: 'lm', cell: 'lstm', hidden: 32, layers: 2, embedding: 0, bidirectional: false }, { threads: 2, batch: 7 }],
  [
    'gru, 3 threads, adamw',
    { task: 'lm', cell: 'gru', hidden: 24, layers: 1, embedding: 8, bidirectional: false },
    { threads: 3, optimizer: 'adamw' },
  ],
];

for (const [name, model, over] of cases) {
  test(`${name}: the estimate covers the heap a trainer really uses, within 10%`, async () => {
    const train: TrainConfig = { ...DEFAULT_TRAIN, batch: 6, k1: 16, k2: 16, evalEvery: 0, threads: 1, ...over };
    const t = Trainer.create(TEXT, model, train, 'char');
    try {
      t.step();
      t.validate('sample');
      t.toCheckpoint();
      t.stepper();
      const heap = t.model.arena.wasmHeap;
      assert.ok(heap, 'the wasm kernels run here');
      const used = heap.usedBytes;
      const estimate = trainingMemory(t.modelConfig, t.train).bytes;
      assert.ok(estimate >= used, `estimated ${estimate} bytes, the heap used ${used}`);
      assert.ok(estimate <= used * 1.1, `estimated ${estimate} bytes, more than 10% over the ${used} the heap used`);
    } finally {
      t.close();
    }
  });
}

test('a run whose windows cannot fit in WebAssembly memory is refused before anything is built, naming what to lower', () => {
  const model = { task: 'lm', cell: 'lstm', hidden: 512, layers: 1, embedding: 0, bidirectional: false } as const;
  const train: TrainConfig = { ...DEFAULT_TRAIN, batch: 512, k1: 4000, k2: 4000, threads: 1 };
  assert.ok(trainingMemory({ ...model, vocabSize: 80 }, train).bytes > WASM_MEMORY_BYTES);
  assert.throws(
    () => Trainer.create(TEXT, model, train, 'char'),
    (e: unknown) => {
      assert.ok(e instanceof MemoryError, `expected a MemoryError, got ${String(e)}`);
      assert.match(
        e.message,
        /needs about [\d.]+ GiB, more than the 4\.0 GiB of WebAssembly memory .*: lower the batch \(512\) or the window \(k2\) \(4000\)/,
      );
      assert.match(
        e.withNames({ batch: '--batch', window: '--seq', hidden: '--hidden', vocabulary: '--max-vocab' }),
        /lower --batch \(512\) or --seq \(4000\), which it grows with, or --hidden \(512\)$/,
      );
      return true;
    },
  );
});

test("a run larger than the machine's memory is refused with the machine's figure", () => {
  const model: ModelConfig = { task: 'lm', cell: 'gru', hidden: 256, layers: 2, embedding: 0, bidirectional: false, vocabSize: 90 };
  const train: TrainConfig = { ...DEFAULT_TRAIN, threads: 1 };
  const need = trainingMemory(model, train).bytes;
  assert.doesNotThrow(() => checkTrainingMemory(model, train, true, need + 1));
  assert.throws(
    () => checkTrainingMemory(model, train, true, need - 1),
    /needs about \d+ MiB, more than this machine's \d+ MiB: lower the hidden size \(256\) or the vocabulary \(90 tokens\)$/,
  );
});
