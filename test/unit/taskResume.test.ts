// A task run saved and resumed goes on exactly as the run that never stopped: the same batches in the
// same order (mid-epoch and across epochs), the same optimizer and random state, so the same losses
// and weights bit for bit; on a changed file the batches start a new epoch instead.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint.js';
import { TaskTrainer, type ExampleTask } from '../../src/engine/taskTrainer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// 300 names of every length, so an epoch of batch 16 is 17 updates and 40 updates cross two epochs.
const names = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8')
  .split('\n')
  .filter((_, i) => i % 26 === 0)
  .join('\n');

const make = (task: ExampleTask): TaskTrainer =>
  TaskTrainer.create(names, 'names.tsv', { task, model: { hidden: 16, bidirectional: task === 'classify' }, train: { batch: 16 } });

for (const task of ['classify', 'generate'] as ExampleTask[]) {
  for (const stopAt of [5, 17, 23]) {
    test(`${task}: saved after ${stopAt} updates and resumed, the run goes on bit for bit as the one that never stopped`, () => {
      const straight = make(task);
      const expected = Array.from({ length: 40 }, () => straight.step().lossNats);
      const first = make(task);
      for (let i = 0; i < stopAt; i++) first.step();
      const bytes = encodeCheckpoint(first.toCheckpoint());
      const resumed = TaskTrainer.resume(names, 'names.tsv', decodeCheckpoint(bytes));
      assert.equal(resumed.updates, stopAt);
      assert.equal(resumed.epoch, first.epoch, 'the epoch count carries over');
      for (let i = stopAt; i < 40; i++) {
        const loss = resumed.step().lossNats;
        assert.equal(loss, expected[i], `update ${i + 1}: ${loss} resumed, ${expected[i]} without stopping`);
      }
      resumed.model.params.forEach((p, k) =>
        assert.deepEqual(p.data, straight.model.params[k]!.data, `${p.name} after 40 updates differs from the run that never stopped`),
      );
    });
  }

  test(`${task}: resumed on a changed file, the batches start a new epoch (and the run still trains)`, () => {
    const first = make(task);
    for (let i = 0; i < 5; i++) first.step();
    const changed = names.replace(/^(\S+)\t/, 'Zelda\t');
    const resumed = TaskTrainer.resume(changed, 'names.tsv', decodeCheckpoint(encodeCheckpoint(first.toCheckpoint())));
    const epoch = resumed.epoch;
    resumed.step();
    assert.equal(resumed.epoch, epoch + 1, 'a fresh epoch on another text');
  });
}
