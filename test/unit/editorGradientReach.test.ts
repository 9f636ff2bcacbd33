import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeGradientReach } from '../../src/engine/gradientReach.js';
import { Model } from '../../src/engine/model.js';

const ids = Int32Array.from({ length: 41 }, (_, i) => (i * 7 + (i >> 2)) % 5);

test("the gradient reach of a vanilla RNN with small recurrent weights falls away from the window's end", () => {
  const model = Model.create({ task: 'lm', cell: 'rnn', hidden: 8, layers: 1, embedding: 0, bidirectional: false, vocabSize: 5 }, 3, 'f64');
  model.param('rnn.weight_hh_l0').data.forEach((v, i, a) => {
    a[i] = v * 0.3;
  });
  const r = probeGradientReach(model, ids, 20);
  assert.equal(r.window, 20);
  assert.equal(r.count, 41);
  // window [0, 20): its last position 19 receives the most, position 0 far less
  const end = r.norms[19]!;
  const start = r.norms[0]!;
  assert.ok(end > 0, `expected a gradient at the window's end, got ${end}`);
  assert.ok(start < end * 1e-3, `expected the gradient 19 steps back to be below 1e-3 of the end's, got ${start} vs ${end}`);
  assert.equal(r.norms[40], 0, 'expected no reach for the last token, which predicts nothing');
  assert.deepEqual(r.gates, []);
});

test("the probe leaves the model's gradients as they were", () => {
  const model = Model.create(
    { task: 'lm', cell: 'lstm', hidden: 6, layers: 2, embedding: 4, bidirectional: false, vocabSize: 5 },
    5,
    'f64',
  );
  model.params.forEach((p) => p.grad.fill(0.125));
  const r = probeGradientReach(model, ids, 16);
  for (const p of model.params)
    assert.ok(
      p.grad.every((g) => g === 0.125),
      `expected ${p.name}'s gradient unchanged`,
    );
  assert.equal(r.norms.length, 2 * 41);
  assert.deepEqual(r.gates, ['i', 'f', 'g', 'o']);
  assert.equal(r.saturation.length, 2 * 4 * 41);
  assert.ok(
    r.saturation.every((s) => s >= 0 && s <= 1),
    'expected saturation shares in [0, 1]',
  );
});

test('a pinned forget gate shows as saturated at every position', () => {
  const model = Model.create(
    { task: 'lm', cell: 'lstm', hidden: 4, layers: 1, embedding: 0, bidirectional: false, vocabSize: 5 },
    7,
    'f64',
  );
  const b = model.param('rnn.bias_ih_l0').data;
  for (let j = 4; j < 8; j++) b[j] = 20; // f rows: sigmoid(20) ~ 1
  const r = probeGradientReach(model, ids, 8);
  const N = r.count;
  for (let t = 0; t < N - 1; t++) assert.equal(r.saturation[1 * N + t], 1, `expected f saturated at ${t}, got ${r.saturation[1 * N + t]}`);
});

test("the reach at a window's last position is the norm of dL/dh there, decoder^T (p - y)", () => {
  const model = Model.create(
    { task: 'lm', cell: 'rnn', hidden: 3, layers: 1, embedding: 0, bidirectional: false, vocabSize: 5 },
    11,
    'f64',
  );
  const short = Int32Array.from([1, 2]); // one input, one target
  const r = probeGradientReach(model, short, 4);
  // forward by hand: h = tanh(W_ih[:, 1] + b_ih + b_hh), p = softmax(W h + c)
  const wih = model.param('rnn.weight_ih_l0').data,
    bih = model.param('rnn.bias_ih_l0').data,
    bhh = model.param('rnn.bias_hh_l0').data;
  const W = model.param('decoder.weight').data,
    c = model.param('decoder.bias').data;
  const h = [0, 1, 2].map((j) => Math.tanh(wih[j * 5 + 1]! + bih[j]! + bhh[j]!));
  const z = [0, 1, 2, 3, 4].map((v) => c[v]! + h.reduce((s, hj, j) => s + W[v * 3 + j]! * hj, 0));
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp(x - m));
  const sum = e.reduce((a, b) => a + b, 0);
  const d = e.map((x, v) => x / sum - (v === 2 ? 1 : 0));
  const dh = [0, 1, 2].map((j) => d.reduce((s, dv, v) => s + dv * W[v * 3 + j]!, 0));
  const want = Math.hypot(...dh);
  // norms are stored as float32: equal to the float64 computation to float32 precision
  assert.ok(Math.abs(r.norms[0]! - want) < 1e-7 * want, `expected ${want}, got ${r.norms[0]}`);
});
