// The experiments' measurements against the engine's own probes, computed another way: recall accuracy
// and losses against the per-token probe of each line, the recall's gradient over the gap against the
// gradient-flow probe of one window, the gate holding against the gate probe, and the exploding-update
// count against the worker's spike watch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateTrainConfig, type CellKind } from '../../src/engine/config.js';
import { measureGateHolding } from '../../src/engine/experiments/gateHolding.js';
import { OutcomeRecorder } from '../../src/engine/experiments/outcome.js';
import { recallCorpus, recallLineLength, recallPosition } from '../../src/engine/experiments/recallData.js';
import { RecallProbe } from '../../src/engine/experiments/recallProbe.js';
import type { StepMetrics } from '../../src/engine/measurements.js';
import { probeGates, probeGradientFlow, probeTokenLoss } from '../../src/engine/probes.js';
import { Trainer } from '../../src/engine/trainer.js';
import { EditorProbes } from '../../src/worker/editorProbes.js';

const GAP = 6;

function trained(cell: CellKind, updates = 30): { t: Trainer; lines: string[] } {
  const L = recallLineLength(GAP);
  const c = recallCorpus(GAP, { batch: 8, perStream: 8, heldOut: 40, seed: 5 });
  const t = Trainer.create(
    c.text,
    { task: 'lm', cell, hidden: 12, layers: 1, embedding: 0, bidirectional: false },
    validateTrainConfig({ batch: 8, k1: L, k2: L, resetEvery: L, valShare: c.valShare, evalEvery: 0, lr: 1e-2, seed: 2 }),
    'char',
  );
  for (let i = 0; i < updates; i++) t.step();
  return { t, lines: c.heldOut };
}

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  test(`${cell}: recall accuracy, recall loss and line loss equal the per-token probe of each line`, () => {
    const { t, lines } = trained(cell);
    try {
      const r = recallPosition(GAP);
      const m = new RecallProbe(t.model, t.tokenizer, GAP, lines).measure(t.updates);
      let right = 0;
      let recall = 0;
      let all = 0;
      let count = 0;
      for (const line of lines) {
        const p = probeTokenLoss(t.model, t.tokenizer, line, 1);
        if (p.topIds[r] === t.tokenizer.id(line[0]!)) right++;
        recall += p.lossNats[r]!;
        for (const x of p.lossNats) all += x;
        count += p.lossNats.length;
      }
      assert.equal(m.lines, lines.length);
      assert.equal(m.accuracy, right / lines.length);
      assert.ok(Math.abs(m.lossNats - recall / lines.length) < 1e-4, `recall loss ${m.lossNats} against ${recall / lines.length}`);
      assert.ok(Math.abs(m.lineBits - all / count / Math.LN2) < 1e-4, `line bits ${m.lineBits} against ${all / count / Math.LN2}`);
    } finally {
      t.close();
    }
  });

  test(`${cell}: the recall's gradient over the gap is the gradient-flow probe of a window ending at the mark, and training's gradients are untouched`, () => {
    const { t, lines } = trained(cell, 10);
    try {
      const r = recallPosition(GAP);
      const before = t.model.params.map((p) => Float64Array.from(p.grad));
      const m = new RecallProbe(t.model, t.tokenizer, GAP, lines).measure(t.updates);
      t.model.params.forEach((p, i) => assert.deepEqual(Float64Array.from(p.grad), before[i], `${p.name}'s gradient changed`));
      const net = t.model.unroll(1, r + 1);
      const state = t.model.arena.floats(net.stateSize(1));
      const sums = new Float64Array(r + 1);
      for (const line of lines) {
        const ids = t.tokenizer.encode(line);
        for (let s = 0; s <= r; s++) {
          net.ids[s] = ids[s]!;
          net.targets[s] = ids[s + 1]!;
        }
        const f = probeGradientFlow(t.model, net, state, 1, r + 1, t.model.arena.floats(t.model.parameterCount), { step: 0, start: 0 });
        for (let k = 0; k <= r; k++) sums[k] = sums[k]! + f.fromLast[0]![k]! ** 2;
      }
      for (let k = 0; k <= r; k++) {
        const want = Math.sqrt(sums[k]!);
        assert.ok(Math.abs(m.fromRecall[k]! - want) <= 1e-4 * want + 1e-9, `k = ${k}: ${m.fromRecall[k]} against ${want}`);
      }
      assert.ok(Math.abs(m.keyShare - m.fromRecall[r]! / m.fromRecall[0]!) < 1e-12);
    } finally {
      t.close();
    }
  });
}

for (const cell of ['lstm', 'gru'] as const) {
  test(`${cell}: the gate holding is what the gate probe shows on each line`, () => {
    const { t, lines } = trained(cell);
    try {
      const r = recallPosition(GAP);
      const H = t.modelConfig.hidden;
      const g = measureGateHolding(t.model, t.tokenizer, GAP, lines)!;
      const gate = cell === 'lstm' ? 'f' : 'z';
      const stateName = cell === 'lstm' ? 'c' : 'h';
      assert.equal(g.gate, gate);
      const keep = new Array<number>(H).fill(0);
      const states: number[][] = [];
      for (const line of lines) {
        const p = probeGates(t.model, t.tokenizer, line);
        const gates = p.layers[0]!.gates;
        const f = gates.find((x) => x.name === gate)!.data;
        const s = gates.find((x) => x.name === stateName)!.data;
        for (let u = 0; u < H; u++) {
          let prod = 1;
          for (let q = 1; q <= r; q++) prod *= f[q * H + u]!;
          keep[u] = keep[u]! + prod / lines.length;
        }
        states.push(Array.from(s.subarray(r * H, (r + 1) * H)));
      }
      for (let u = 0; u < H; u++) {
        assert.ok(Math.abs(g.keep[u]! - keep[u]!) < 1e-5, `unit ${u}: keep ${g.keep[u]} against ${keep[u]}`);
        const xs = states.map((row) => row[u]!);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const total = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
        let between = 0;
        for (const key of new Set(lines.map((l) => l[0]!))) {
          const mine = xs.filter((_, j) => lines[j]![0] === key);
          const m = mine.reduce((a, b) => a + b, 0) / mine.length;
          between += mine.length * (m - mean) ** 2;
        }
        const want = total > 1e-12 ? between / total : 0;
        assert.ok(Math.abs(g.selective[u]! - want) < 1e-4, `unit ${u}: selectivity ${g.selective[u]} against ${want}`);
      }
      assert.deepEqual(
        g.holding.slice().sort((a, b) => a - b),
        [...Array(H).keys()].filter((u) => g.keep[u]! >= 0.5 && g.selective[u]! >= 0.5),
      );
    } finally {
      t.close();
    }
  });
}

test('updates flagged exploding are those the worker flags for the editor, with clipping off', () => {
  const norms = [1, 1.2, 0.9, 30, 1, 1, 11, 9, 1, 500, 1, 2, 25, 1];
  const recorder = new OutcomeRecorder('x', 0);
  const watch = new EditorProbes(() => '');
  const trainer = { train: { clipNorm: 0, clipValue: 0 }, lastWindows: () => [[0, 1]] } as never;
  let flagged = 0;
  norms.forEach((gradNorm, i) => {
    const m = { step: i + 1, lossNats: 1, bitsPerToken: 1.44, gradNorm, clipped: false } as StepMetrics;
    recorder.step(m);
    if (watch.watch(trainer, m) !== null) flagged++;
  });
  const o = recorder.finish({ updates: norms.length, parameterCount: 1, validationBits: null, unigramBits: 1, ms: 0 });
  assert.equal(o.explosions, flagged);
  assert.equal(o.explosions, 4, 'expected 30, 11, 500 and 25 flagged: ten times the median of the updates before');
  assert.equal(o.maxNorm, 500);
});
