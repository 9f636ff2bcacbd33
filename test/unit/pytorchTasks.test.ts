// The classify and generate networks against PyTorch: checkpoints written by scripts/pytorch_fixtures.py
// (its Classifier and Generator modules, with PyTorch's initialisation) and, for a batch of examples of
// different lengths run as PyTorch runs padded batches (pack_padded_sequence; ignore_index), each
// example's loss and the gradients of the summed loss, computed in float64.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCheckpointFile } from '../../src/engine/checkpoint.js';
import { Model } from '../../src/engine/model.js';
import type { Sequences } from '../../src/engine/taskData.js';
import { TaskNet } from '../../src/engine/taskNet.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';

interface Fixture {
  checkpoint: string;
  tokens: number[][];
  labels: number[];
  perExample: number[];
  grads: Record<string, number[]>;
}

const DIR = new URL('../../../test/fixtures/pytorch/', import.meta.url);
const CASES = [
  'task_classify_gru_bi',
  'task_classify_lstm_bi_2layers_mean',
  'task_classify_rnn',
  'task_generate_gru',
  'task_generate_lstm_2layers',
];
// As in pytorchReference.test.ts: float32 against PyTorch's float64 within float32 rounding, float64 to rounding.
const TOL = { f32: { loss: 1e-4, grad: 1e-5 }, f64: { loss: 1e-12, grad: 1e-12 } };

for (const name of CASES) {
  const fx = JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Fixture;
  for (const width of ['f32', 'f64'] as const) {
    test(`${name} (${width}): each example's loss and every gradient of a padded batch equal PyTorch's`, async (t) => {
      const ck = await readCheckpointFile(fileURLToPath(new URL(fx.checkpoint, DIR)));
      const model = new Model(ck.config, width);
      model.loadTensors(ck.tensors);
      const end = Tokenizer.fromSpec(ck.tokenizer).id('\n') ?? -1;
      const n = fx.tokens.length;
      const seqs: Sequences = {
        ids: fx.tokens.map((s) => Int32Array.from(s)),
        labels: Int32Array.from(fx.labels),
        lines: new Int32Array(n),
        unknown: 0,
        unknownAt: [],
        unknownSymbols: new Map(),
        truncated: 0,
      };
      // One example at a time for the per-example losses, then the whole batch for the summed gradients.
      const one = new TaskNet(model, 1, 32, end);
      const perExample = seqs.ids.map((_, e) => {
        one.load(seqs, () => e, 1);
        return one.loss(1);
      });
      let worstLoss = 0;
      perExample.forEach((l, e) => {
        const d = Math.abs(l - fx.perExample[e]!);
        worstLoss = Math.max(worstLoss, d);
        assert.ok(d <= TOL[width].loss, `example ${e}: loss ${l}, PyTorch ${fx.perExample[e]}`);
      });
      const net = new TaskNet(model, n, 32, end);
      net.load(seqs, (r) => r, n);
      model.zeroGrads();
      const sum = net.lossAndBackward(n, 1, new Int32Array(1));
      const want = fx.perExample.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - want) <= TOL[width].loss * n, `summed loss of the padded batch: ${sum}, PyTorch ${want}`);
      assert.deepEqual(model.params.map((p) => p.name).sort(), Object.keys(fx.grads).sort(), 'the same parameter names as PyTorch');
      let worstGrad = { d: 0, name: '' };
      for (const p of model.params) {
        const g = fx.grads[p.name]!;
        const scale = Math.max(1e-3, ...g.map(Math.abs));
        for (let i = 0; i < g.length; i++) {
          const d = Math.abs(p.grad[i]! - g[i]!) / scale;
          if (d > worstGrad.d) worstGrad = { d, name: p.name };
          assert.ok(
            d <= TOL[width].grad,
            `gradient of ${p.name}[${i}]: ${p.grad[i]}, PyTorch ${g[i]} (${d.toExponential(2)} of the tensor's largest)`,
          );
        }
      }
      t.diagnostic(
        `${name} ${width}: worst loss difference ${worstLoss.toExponential(2)}, worst gradient ${worstGrad.d.toExponential(2)} in ${worstGrad.name}`,
      );
    });
  }
}
