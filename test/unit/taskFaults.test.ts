// What a task update does with numbers past float32's range: the contract the command line and the
// worker rely on to stop a run and keep only a good state (taskTrainer.ts step()).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TaskTrainer } from '../../src/engine/taskTrainer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const names = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8').split('\n').slice(0, 400).join('\n');

const sgd = (threads: number) =>
  TaskTrainer.create(names, 'names.tsv', {
    task: 'classify',
    model: { hidden: 8 },
    train: { batch: 8, optimizer: 'sgd', lr: 100, clipNorm: 0, threads },
  });

for (const threads of [1, 2]) {
  test(`${threads} thread(s): an update that carries a weight past the float range comes back NaN at once`, () => {
    const t = sgd(threads);
    try {
      t.step();
      // An output layer of 3e37: the loss stays finite (about 1e38), and one step at lr 100 overflows it.
      const head = t.model.params.find((p) => p.shape.length === 2 && p.shape[0] === t.labels.length)!;
      for (let i = 0; i < head.data.length; i++) head.data[i] = 3e37 * (((i * 7919) % 3) - 1);
      const m = t.step();
      assert.ok(Number.isNaN(m.lossNats), `expected NaN, got loss ${m.lossNats}`);
      assert.equal(t.model.parametersFinite(), false);
    } finally {
      t.close();
    }
  });
}

test('a loss that is not finite changes no parameter', () => {
  const t = sgd(1);
  try {
    t.step();
    const head = t.model.params.find((p) => p.shape.length === 2 && p.shape[0] === t.labels.length)!;
    head.data[0] = Infinity;
    const before = t.model.params.map((p) => Float32Array.from(p.data));
    const updates = t.updates;
    const m = t.step();
    assert.ok(!Number.isFinite(m.lossNats), `expected a non-finite loss, got ${m.lossNats}`);
    t.model.params.forEach((p, k) => assert.deepEqual(p.data, before[k], `${p.name} changed`));
    assert.equal(t.updates, updates, 'the update is not counted');
  } finally {
    t.close();
  }
});
