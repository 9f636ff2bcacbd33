// Training threads (replicas.ts): splitting each update's streams over worker threads must give the
// update one thread gives, within float32 rounding of the summed gradients, for every cell, uneven
// shares, truncated BPTT with k1 < k2, checkpoints moved between thread counts, and validation; it must
// allocate nothing per step and stop cleanly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setKernelBackend } from '../../src/engine/backend.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint.js';
import { DEFAULT_TRAIN, type CellKind, type ModelConfig, type TrainConfig } from '../../src/engine/config.js';
import { RecurrentError } from '../../src/engine/errors.js';
import { Model } from '../../src/engine/model.js';
import { BatchSplit } from '../../src/engine/replicas.js';
import { Control, KERNEL_SET_CODES } from '../../src/engine/replicaThread.js';
import { Trainer } from '../../src/engine/trainer.js';
import { kernelSetsUnderTest, withKernelSet } from './support/kernelSets.js';

const TEXT = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8');

function model(cell: CellKind, layers = 2): Omit<ModelConfig, 'vocabSize'> {
  return { task: 'lm', cell, hidden: 24, layers, embedding: 0, bidirectional: false };
}

function config(over: Partial<TrainConfig>): TrainConfig {
  return { ...DEFAULT_TRAIN, batch: 5, k1: 12, k2: 12, valShare: 0.1, evalEvery: 0, ...over };
}

/** Largest |a - b| over every parameter of two trainers. */
function paramDistance(a: Trainer, b: Trainer): number {
  let worst = 0;
  a.model.params.forEach((p, i) => {
    const q = b.model.params[i]!;
    for (let k = 0; k < p.data.length; k++) worst = Math.max(worst, Math.abs(p.data[k]! - q.data[k]!));
  });
  return worst;
}

/** Runs `steps` updates on each trainer, checking that their losses and gradient norms agree step by step. */
function runSide(a: Trainer, b: Trainer, steps: number, what: string): void {
  for (let s = 0; s < steps; s++) {
    const ma = { ...a.step() };
    const mb = b.step();
    assert.ok(
      Math.abs(ma.lossNats - mb.lossNats) <= 1e-5 * Math.abs(ma.lossNats),
      `${what} step ${s}: loss ${ma.lossNats} vs ${mb.lossNats}`,
    );
    assert.ok(
      Math.abs(ma.gradNorm - mb.gradNorm) <= 1e-4 * ma.gradNorm,
      `${what} step ${s}: gradient norm ${ma.gradNorm} vs ${mb.gradNorm}`,
    );
  }
}

for (const [cell, threads, over] of [
  ['lstm', 2, {}],
  ['gru', 3, { k1: 8, k2: 12 }],
  ['rnn', 2, { batch: 4, k1: 5, k2: 9 }],
] as Array<[CellKind, number, Partial<TrainConfig>]>) {
  test(`${cell}, ${threads} threads${over.k1 !== undefined ? `, k1 ${over.k1} < k2 ${over.k2}` : ''}: the same updates as one thread`, () => {
    const one = Trainer.create(TEXT, model(cell), config({ ...over, threads: 1 }), 'char');
    const many = Trainer.create(TEXT, model(cell), config({ ...over, threads }), 'char');
    try {
      assert.equal(many.threads, threads);
      runSide(one, many, 12, cell);
      assert.ok(paramDistance(one, many) < 2e-5, `parameters differ by ${paramDistance(one, many)}`);
      const v1 = one.validate('sample').lossNats;
      const v2 = many.validate('sample').lossNats;
      assert.ok(Math.abs(v1 - v2) < 1e-5, `validation ${v1} vs ${v2}`);
    } finally {
      many.close();
    }
  });
}

test('a checkpoint written with two threads resumes on one (and back) where the two-thread run goes on', () => {
  const a = Trainer.create(TEXT, model('lstm'), config({ threads: 2 }), 'char');
  for (let s = 0; s < 4; s++) a.step();
  const ck = decodeCheckpoint(encodeCheckpoint(a.toCheckpoint()));
  const b = Trainer.resume(TEXT, ck, { threads: 1 });
  const c = Trainer.resume(TEXT, ck);
  try {
    assert.equal(b.threads, 1);
    assert.equal(c.threads, 2, 'without an override the recorded thread count is kept');
    runSide(a, b, 5, 'resumed on one thread');
    for (let s = 0; s < 5; s++) c.step();
    assert.ok(
      paramDistance(a, b) < 2e-5 && paramDistance(a, c) < 1e-7,
      `parameters differ by ${paramDistance(a, b)} / ${paramDistance(a, c)}`,
    );
  } finally {
    a.close();
    c.close();
  }
});

test('threads are capped by the batch, and the reference kernels (plain arrays) train on one thread', () => {
  const capped = Trainer.create(TEXT, model('gru', 1), config({ batch: 2, threads: 8 }), 'char');
  try {
    assert.equal(capped.threads, 2);
    assert.ok(Number.isFinite(capped.step().lossNats));
  } finally {
    capped.close();
  }
  setKernelBackend('reference');
  try {
    const plain = Trainer.create(TEXT, model('gru', 1), config({ threads: 4 }), 'char');
    assert.equal(plain.threads, 1);
    assert.ok(Number.isFinite(plain.step().lossNats));
  } finally {
    setKernelBackend('wasm');
  }
});

test('with threads a step allocates nothing, probes still work, and a closed trainer refuses to step', () => {
  const t = Trainer.create(TEXT, model('lstm'), config({ threads: 2 }), 'char');
  t.step();
  t.validate('sample');
  t.gradientFlow();
  const floats = t.model.arena.allocatedFloats;
  const m = t.step();
  t.step();
  assert.equal(t.model.arena.allocatedFloats, floats, 'arena floats after more steps');
  assert.equal(t.step(), m, 'the metrics object is reused');
  const flow = t.gradientFlow();
  assert.equal(flow.fromLast.length, 2);
  assert.ok(flow.fromLast[0]!.every((x) => Number.isFinite(x)));
  t.close();
  t.close();
  assert.throws(() => t.step(), /closed/);
});

for (const { name, set, skip } of kernelSetsUnderTest()) {
  test(`${name}: the worker threads run the training thread's kernel set, whichever this runtime would pick`, { skip }, () => {
    // The kernel sets round differently (fused multiply-add or not), so a worker choosing its own
    // would make a run's bits depend on how its streams were shared; finish() refuses that.
    const m = withKernelSet(set, () => Model.create({ ...model('lstm', 1), vocabSize: 20 }, 1));
    assert.equal(m.arena.wasmHeap?.kernels.set, set);
    const split = new BatchSplit(m, 4, 6, 2);
    try {
      split.start(6, 0, 6, 1);
      assert.ok(Number.isFinite(split.finish()));
      assert.equal(split['remotes'][0]!.thread.control[Control.KernelSet], KERNEL_SET_CODES[set!]);
    } finally {
      split.close();
    }
  });
}

test('a worker thread that fails a command is reported with its reason, and the split closes', () => {
  const m = Model.create({ ...model('lstm', 1), vocabSize: 20 }, 1);
  const split = new BatchSplit(m, 4, 6, 2);
  const { thread } = split['remotes'][0]!;
  try {
    thread.command(99); // a command no worker knows, as a corrupted control block would carry
    assert.throws(
      () => split.finish(),
      (e: unknown) =>
        e instanceof RecurrentError &&
        /training thread 1 \(streams 2-3\) failed: unknown command 99; train with threads: 1/.test(e.message),
    );
    assert.throws(() => split.start(6, 0, 6, 1), /closed/);
  } finally {
    split.close();
  }
});
