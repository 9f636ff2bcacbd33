// Every parameter tensor's gradient against central finite differences in float64 (gradcheck.ts):
// each cell, one-hot and embedded input, stacked and bidirectional, full and truncated windows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CellKind, ModelConfig } from '../../src/engine/config.js';
import { gradcheck, relativeError } from '../../src/engine/gradcheck.js';

const BOUND = 1e-6;

const SHAPES: Array<{ what: string; layers: number; embedding: number; bidirectional: boolean; k1?: number }> = [
  { what: 'one layer, one-hot input', layers: 1, embedding: 0, bidirectional: false },
  { what: 'two layers, embedding', layers: 2, embedding: 3, bidirectional: false },
  { what: 'two bidirectional layers, one-hot input', layers: 2, embedding: 0, bidirectional: true },
  { what: 'two layers, truncated loss (k1 = 2 of k2 = 5)', layers: 2, embedding: 0, bidirectional: false, k1: 2 },
];

for (const cell of ['rnn', 'lstm', 'gru'] as CellKind[]) {
  for (const s of SHAPES) {
    test(`${cell}, ${s.what}: every gradient matches finite differences (worst relative error < ${BOUND})`, (t) => {
      const config: ModelConfig = {
        task: 'lm',
        cell,
        hidden: 3,
        layers: s.layers,
        embedding: s.embedding,
        bidirectional: s.bidirectional,
        vocabSize: 5,
      };
      const r = gradcheck(config, { batch: 2, steps: 5, k1: s.k1, seed: 11 });
      t.diagnostic(`worst ${r.worstRelError.toExponential(2)} in ${r.worstTensor}`);
      for (const c of r.tensors) {
        assert.ok(c.checked > 0, `${c.name}: no element checked`);
        assert.ok(
          c.worstRelError < BOUND,
          `${c.name}[${c.worstIndex}]: analytic ${c.analytic}, numeric ${c.numeric}, relative error ${c.worstRelError}, expected < ${BOUND}`,
        );
      }
    });
  }
}

test('a wrong gradient is caught: the relative error of a 1% mistake is far above the bound', () => {
  assert.ok(relativeError(0.101, 0.1) > 1e-3, `got ${relativeError(0.101, 0.1)}`);
  assert.ok(relativeError(1e-12, 0) < BOUND, 'gradients far below what finite differences resolve are not errors');
});
