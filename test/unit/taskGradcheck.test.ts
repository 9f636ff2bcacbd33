// The classify and generate networks' gradients against central finite differences in float64, on a
// batch of examples of different lengths (one empty, for classify), padded as training pads them; and
// a padded batch against the same examples run one at a time, which is what padding must not change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CellKind, ModelConfig, Pooling } from '../../src/engine/config.js';
import { Model } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import type { Sequences } from '../../src/engine/taskData.js';
import { TaskNet } from '../../src/engine/taskNet.js';
import { taskGradcheck } from '../../src/engine/taskGradcheck.js';

const BOUND = 1e-6;
const V = 5;
const END = 4;

function sequences(task: 'classify' | 'generate', lengths: number[], labels: number, seed: number): Sequences {
  const rng = new Rng(seed);
  const ids = lengths.map((n) => {
    const s = Int32Array.from({ length: n }, () => rng.int(END));
    if (task === 'generate') s[n - 1] = END;
    return s;
  });
  return {
    ids,
    labels: Int32Array.from(lengths, () => rng.int(labels)),
    lines: new Int32Array(lengths.length),
    unknown: 0,
    unknownAt: [],
    unknownSymbols: new Map(),
    truncated: 0,
  };
}

function config(
  task: 'classify' | 'generate',
  cell: CellKind,
  layers: number,
  embedding: number,
  bidirectional: boolean,
  pooling: Pooling,
): ModelConfig {
  return {
    task,
    cell,
    hidden: 3,
    layers,
    embedding,
    bidirectional,
    vocabSize: V,
    labels: ['a', 'b', 'c'],
    maxLength: 0,
    ...(task === 'classify' ? { pooling } : {}),
  };
}

/** Summed loss of the batch, and (with backward) every parameter's gradient of it. */
function run(model: Model, net: TaskNet, seqs: Sequences, backward: boolean): number {
  const b = seqs.ids.length;
  net.load(seqs, (r) => r, b);
  if (!backward) return net.loss(b);
  model.zeroGrads();
  return net.lossAndBackward(b, 1, new Int32Array(1));
}

const SHAPES = [
  { what: 'one layer, one-hot, last state', layers: 1, embedding: 0, bidirectional: false, pooling: 'last' as Pooling },
  { what: 'two bidirectional layers, one-hot, last states', layers: 2, embedding: 0, bidirectional: true, pooling: 'last' as Pooling },
  { what: 'two bidirectional layers, embedding, mean', layers: 2, embedding: 2, bidirectional: true, pooling: 'mean' as Pooling },
  { what: 'two layers, embedding, mean', layers: 2, embedding: 2, bidirectional: false, pooling: 'mean' as Pooling },
];

for (const cell of ['rnn', 'lstm', 'gru'] as CellKind[]) {
  for (const s of SHAPES) {
    test(`classify, ${cell}, ${s.what}: every gradient matches finite differences on a padded batch`, (t) => {
      checkGradients(t, config('classify', cell, s.layers, s.embedding, s.bidirectional, s.pooling), [4, 1, 0, 6, 3]);
    });
  }
  for (const layers of [1, 2]) {
    test(`generate, ${cell}, ${layers} layer(s): every gradient, the label embedding's too, matches finite differences on a padded batch`, (t) => {
      checkGradients(t, config('generate', cell, layers, layers === 2 ? 2 : 0, false, 'last'), [4, 1, 6, 3]);
    });
  }
}

function checkGradients(t: { diagnostic(s: string): void }, cfg: ModelConfig, lengths: number[]): void {
  const r = taskGradcheck(cfg, { lengths, seed: 3 });
  for (const c of r.tensors) {
    assert.ok(c.checked > 0, `${c.name}: no element checked`);
    assert.ok(
      c.worstRelError < BOUND,
      `${c.name}[${c.worstIndex}]: analytic ${c.analytic}, numeric ${c.numeric}, relative error ${c.worstRelError}, expected < ${BOUND}`,
    );
  }
  t.diagnostic(`worst ${r.worstRelError.toExponential(2)} in ${r.worstTensor}`);
}

for (const task of ['classify', 'generate'] as const) {
  for (const bidirectional of task === 'classify' ? [false, true] : [false]) {
    test(`${task}${bidirectional ? ', bidirectional' : ''}: a padded batch gives each example the loss and the gradients it gets alone`, () => {
      const cfg = config(task, 'lstm', 2, 0, bidirectional, 'last');
      const lengths = task === 'classify' ? [5, 2, 0, 3] : [5, 2, 1, 3];
      const seqs = sequences(task, lengths, 3, 9);
      const model = Model.create(cfg, 4, 'f64');
      const batched = new TaskNet(model, 4, 6, END);
      const alone = new TaskNet(model, 1, 6, END);
      const lossBatch = run(model, batched, seqs, true);
      const gradBatch = model.params.map((p) => Float64Array.from(p.grad));
      let lossAlone = 0;
      const gradAlone = model.params.map((p) => new Float64Array(p.grad.length));
      for (let e = 0; e < lengths.length; e++) {
        const one: Sequences = { ...seqs, ids: [seqs.ids[e]!], labels: seqs.labels.subarray(e, e + 1) };
        lossAlone += run(model, alone, one, true);
        model.params.forEach((p, k) => p.grad.forEach((g, i) => (gradAlone[k]![i] += g)));
      }
      assert.ok(Math.abs(lossBatch - lossAlone) < 1e-12, `summed loss: batch ${lossBatch}, one by one ${lossAlone}`);
      model.params.forEach((p, k) => {
        for (let i = 0; i < p.grad.length; i++) {
          assert.ok(
            Math.abs(gradBatch[k]![i]! - gradAlone[k]![i]!) < 1e-12,
            `${p.name}[${i}]: batch ${gradBatch[k]![i]}, one by one ${gradAlone[k]![i]}`,
          );
        }
      });
    });
  }
}
