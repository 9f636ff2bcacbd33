// Task training on two and three threads against one: each update's examples split between the
// training thread and worker threads over one shared memory (taskReplicas.ts) must give the same
// updates within float32 rounding of the summed gradients, with batches that do not divide evenly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TaskTrainer, type ExampleTask } from '../../src/engine/taskTrainer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const names = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8').split('\n').slice(0, 1500).join('\n');
const words = readFileSync(join(root, 'sample-workspace/pronunciations.tsv'), 'utf8').split('\n').slice(0, 1500).join('\n');

for (const task of ['classify', 'generate', 'translate'] as ExampleTask[]) {
  test(`${task}: 2 and 3 threads follow 1 thread within float32 rounding over 25 updates (a batch of 13)`, () => {
    const run = (threads: number): { losses: number[]; held: number; params: Float32Array[]; threads: number } => {
      const t = TaskTrainer.create(task === 'translate' ? words : names, 'examples.tsv', {
        task,
        model: { hidden: 12, layers: task === 'generate' ? 1 : 2, bidirectional: task !== 'generate' },
        train: { batch: 13, threads },
      });
      try {
        const losses = Array.from({ length: 25 }, () => t.step().lossNats);
        return { losses, held: t.validate().loss, params: t.model.params.map((p) => Float32Array.from(p.data)), threads: t.threads };
      } finally {
        t.close();
      }
    };
    const one = run(1);
    for (const threads of [2, 3]) {
      const many = run(threads);
      assert.equal(many.threads, threads, 'the threads asked for run');
      many.losses.forEach((l, i) =>
        assert.ok(
          Math.abs(l - one.losses[i]!) <= 1e-5 * Math.abs(one.losses[i]!),
          `update ${i + 1}: ${l} on ${threads} threads, ${one.losses[i]} on 1`,
        ),
      );
      assert.ok(Math.abs(many.held - one.held) <= 1e-5 * one.held, `held-out loss ${many.held} vs ${one.held}`);
      many.params.forEach((p, k) => {
        for (let i = 0; i < p.length; i++)
          assert.ok(Math.abs(p[i]! - one.params[k]![i]!) <= 2e-5, `parameter ${k}[${i}]: ${p[i]} vs ${one.params[k]![i]}`);
      });
    }
  });
}
