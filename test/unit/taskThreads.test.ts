// Task training on two and three threads against one: each update's examples split between the
// training thread and worker threads over one shared memory (taskReplicas.ts) must give the same
// updates within float32 rounding of the summed gradients, with batches that do not divide evenly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RecurrentError } from '../../src/engine/errors.js';
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

test('the update split between the threads (summed gradients, clipping by norm, Adam) follows one thread, and by value it stays whole', () => {
  // parallelUpdate.ts: each thread sums, clips and steps a slice of every tensor. The file is cut so that
  // the epoch's last batch has one example: there the workers, which ran before, have none, and their
  // gradients of the update before must not count.
  const lines = words.split('\n');
  const fileOf = (n: number): string => lines.slice(0, n).join('\n');
  const trainSize = (n: number): number =>
    TaskTrainer.create(fileOf(n), 'examples.tsv', { task: 'translate', train: { batch: 4 } }).trainSet.ids.length;
  let n = 40;
  while (trainSize(n) % 4 !== 1) n++;
  const text = fileOf(n);
  const run = (threads: number, train: Record<string, unknown>) => {
    const t = TaskTrainer.create(text, 'examples.tsv', {
      task: 'translate',
      model: { hidden: 12, layers: 1, bidirectional: true },
      train: { batch: 4, threads, ...train },
    });
    try {
      let seen = 0;
      const steps = Array.from({ length: 20 }, () => {
        const m = t.step();
        const examples = m.examples - seen;
        seen = m.examples;
        return { loss: m.lossNats, norm: m.gradNorm, clipped: m.clipped, examples };
      });
      const sliced = (t as unknown as { split: { slicesUpdates: boolean } | null }).split?.slicesUpdates ?? false;
      return { steps, sliced, updates: t.updates, params: t.model.params.map((p) => Float32Array.from(p.data)) };
    } finally {
      t.close();
    }
  };
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['clipping every update', { clipNorm: 0.05 }, true],
    ['clipping off', { clipNorm: 0 }, true],
    ['AdamW', { optimizer: 'adamw', weightDecay: 0.1 }, true],
    ['clipping by value (on the training thread)', { clipNorm: 0, clipValue: 0.01 }, false],
    ['SGD (on the training thread)', { optimizer: 'sgd', lr: 0.1 }, false],
  ];
  for (const [name, train, sliced] of cases) {
    const one = run(1, train);
    assert.ok(
      one.steps.some((s) => s.examples === 1),
      `${name}: an update of one example, which leaves the workers without any (${one.steps.map((s) => s.examples).join(' ')})`,
    );
    for (const threads of [2, 3]) {
      const many = run(threads, train);
      assert.equal(many.sliced, sliced, `${name}, ${threads} threads: the update is ${sliced ? '' : 'not '}split`);
      assert.equal(many.updates, 20, `${name}: every update counted`);
      many.steps.forEach((s, i) => {
        const o = one.steps[i]!;
        assert.ok(
          Math.abs(s.loss - o.loss) <= 1e-5 * o.loss,
          `${name}, update ${i + 1}: loss ${s.loss} on ${threads} threads, ${o.loss} on 1`,
        );
        assert.ok(
          Math.abs(s.norm - o.norm) <= 1e-5 * o.norm,
          `${name}, update ${i + 1}: norm ${s.norm} on ${threads} threads, ${o.norm} on 1`,
        );
        assert.equal(s.clipped, o.clipped, `${name}, update ${i + 1}: clipped`);
      });
      if (name === 'clipping every update')
        assert.ok(
          many.steps.every((s) => s.clipped),
          'a norm of 0.05 clips every update',
        );
      many.params.forEach((p, k) => {
        for (let i = 0; i < p.length; i++)
          assert.ok(
            Math.abs(p[i]! - one.params[k]![i]!) <= 2e-5,
            `${name}, ${threads} threads: parameter ${k}[${i}]: ${p[i]} vs ${one.params[k]![i]}`,
          );
      });
    }
  }
});

test('a task worker that fails a command is reported with its reason, and the trainer stops its threads', () => {
  const t = TaskTrainer.create(names, 'examples.tsv', { task: 'classify', model: { hidden: 8 }, train: { batch: 8, threads: 2 } });
  try {
    t.step();
    const split = t['split']!;
    split['remotes'][0]!.thread.command(99); // a command no worker knows, as a corrupted control block would carry
    assert.throws(
      () => split['awaitCommand'](),
      (e: unknown) => e instanceof RecurrentError && /^training thread 1 failed: unknown command 99; train with threads: 1/.test(e.message),
    );
    assert.throws(() => t.step(), /closed/);
  } finally {
    t.close();
  }
});
