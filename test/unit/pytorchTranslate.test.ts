// The translate network against PyTorch: checkpoints written by scripts/pytorch_fixtures.py (its
// Translator module: classify's encoder over packed sources, the version 1 language model as decoder
// started from the encoder's final states, PyTorch's initialisation) and, for a padded batch, each
// example's loss and the gradients of the summed loss in float64; and the greedy translations
// PyTorch's module writes one example at a time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCheckpointFile } from '../../src/engine/checkpoint.js';
import { Model } from '../../src/engine/model.js';
import type { Sequences } from '../../src/engine/taskData.js';
import { TaskNet } from '../../src/engine/taskNet.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { TranslationDecoder } from '../../src/engine/translateDecode.js';

interface Fixture {
  checkpoint: string;
  sources: number[][];
  targets: number[][];
  perExample: number[];
  greedy: number[][];
  grads: Record<string, number[]>;
}

const DIR = new URL('../../../test/fixtures/pytorch/', import.meta.url);
const CASES = ['translate_lstm_bi', 'translate_gru_bi_2layers', 'translate_rnn', 'translate_lstm_2layers'];
// As in pytorchTasks.test.ts: float32 against PyTorch's float64 within float32 rounding, float64 to rounding.
const TOL = { f32: { loss: 1e-4, grad: 1e-5 }, f64: { loss: 1e-12, grad: 1e-12 } };

for (const name of CASES) {
  const fx = JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Fixture;
  for (const width of ['f32', 'f64'] as const) {
    test(`${name} (${width}): each example's loss, every gradient of a padded batch and the greedy translations equal PyTorch's`, async (t) => {
      const ck = await readCheckpointFile(fileURLToPath(new URL(fx.checkpoint, DIR)));
      const model = new Model(ck.config, width);
      model.loadTensors(ck.tensors);
      const end = Tokenizer.fromSpec(ck.targetTokenizer!).id('\n')!;
      const n = fx.sources.length;
      const seqs: Sequences = {
        ids: fx.sources.map((s) => Int32Array.from(s)),
        targets: fx.targets.map((s) => Int32Array.from(s)),
        references: fx.targets.map((s) => Int32Array.from(s.slice(0, -1))),
        labels: new Int32Array(n),
        lines: new Int32Array(n),
        unknown: 0,
        unknownAt: [],
        unknownSymbols: new Map(),
        truncated: 0,
      };
      const one = new TaskNet(model, 1, 16, end);
      let worstLoss = 0;
      seqs.ids.forEach((_, e) => {
        one.load(seqs, () => e, 1);
        const d = Math.abs(one.loss(1) - fx.perExample[e]!);
        worstLoss = Math.max(worstLoss, d);
        assert.ok(d <= TOL[width].loss, `example ${e}: loss differs from PyTorch's ${fx.perExample[e]} by ${d}`);
      });
      const net = new TaskNet(model, n, 16, end);
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
      const dec = new TranslationDecoder(model, { maxBatch: n, maxSource: 16, beam: 1 }, end);
      const outs = dec.decode(seqs.ids, (i) => i, n);
      assert.deepEqual(
        outs.map((o) => Array.from(o)),
        fx.greedy,
        'the greedy translations, all examples in one batch',
      );
      t.diagnostic(
        `${name} ${width}: worst loss difference ${worstLoss.toExponential(2)}, worst gradient ${worstGrad.d.toExponential(2)} in ${worstGrad.name}`,
      );
    });
  }
}
