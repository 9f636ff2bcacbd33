// The model's outputs against an independent, deliberately plain implementation of the published
// equations (PyTorch's documentation of nn.RNN, nn.LSTM, nn.GRU, nn.Embedding, nn.Linear and
// cross-entropy), written here with scalar loops over nested arrays and sharing no code with the engine.
// Fixed small weights, two streams with different tokens and non-zero initial states.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FloatWidth } from '../../src/engine/arena.js';
import type { CellKind, ModelConfig } from '../../src/engine/config.js';
import { Model } from '../../src/engine/model.js';

type Vec = number[];
type Mat = number[][];
interface CellWeights {
  wih: Mat;
  whh: Mat;
  bih: Vec;
  bhh: Vec;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const matVec = (W: Mat, x: Vec): Vec => W.map((row) => row.reduce((s, w, k) => s + w * x[k]!, 0));
const add = (...vs: Vec[]): Vec => vs[0]!.map((_, j) => vs.reduce((s, v) => s + v[j]!, 0));

/** One step of a cell: PyTorch's equations, gate rows i,f,g,o (LSTM) and r,z,n (GRU). */
function refStep(cell: CellKind, w: CellWeights, x: Vec, h: Vec, c: Vec): { h: Vec; c: Vec } {
  const H = h.length;
  const gi = add(matVec(w.wih, x), w.bih);
  const gh = add(matVec(w.whh, h), w.bhh);
  const part = (v: Vec, k: number): Vec => v.slice(k * H, (k + 1) * H);
  if (cell === 'rnn') return { h: add(gi, gh).map(Math.tanh), c };
  if (cell === 'lstm') {
    const a = add(gi, gh);
    const i = part(a, 0).map(sigmoid),
      f = part(a, 1).map(sigmoid),
      g = part(a, 2).map(Math.tanh),
      o = part(a, 3).map(sigmoid);
    const cn = c.map((cv, j) => f[j]! * cv + i[j]! * g[j]!);
    return { h: cn.map((cv, j) => o[j]! * Math.tanh(cv)), c: cn };
  }
  const r = add(part(gi, 0), part(gh, 0)).map(sigmoid);
  const z = add(part(gi, 1), part(gh, 1)).map(sigmoid);
  const n = part(gi, 2).map((v, j) => Math.tanh(v + r[j]! * part(gh, 2)[j]!));
  return { h: n.map((nv, j) => (1 - z[j]!) * nv + z[j]! * h[j]!), c };
}

function mat(data: ArrayLike<number>, rows: number, cols: number): Mat {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, k) => data[r * cols + k]!));
}

/**
 * The whole model on one stream: tokens -> (embedding | one-hot) -> layers (forward and, if
 * bidirectional, reverse over the reversed sequence, outputs concatenated) -> decoder -> per-step
 * losses. init[layer][dir] = {h, c}.
 */
function reference(cfg: ModelConfig, model: Model, tokens: number[], targets: number[], init: Array<Array<{ h: Vec; c: Vec }>>) {
  const V = cfg.vocabSize,
    H = cfg.hidden,
    G = { rnn: 1, lstm: 4, gru: 3 }[cfg.cell];
  const p = (name: string) => model.param(name);
  let xs: Vec[] = tokens.map((t) => {
    if (cfg.embedding > 0) return mat(p('embedding.weight').data, V, cfg.embedding)[t]!;
    return Array.from({ length: V }, (_, v) => (v === t ? 1 : 0));
  });
  const finals: Array<Array<{ h: Vec; c: Vec }>> = [];
  for (let l = 0; l < cfg.layers; l++) {
    const dirs = cfg.bidirectional ? ['', '_reverse'] : [''];
    const outs: Vec[][] = [];
    finals.push([]);
    dirs.forEach((suffix, d) => {
      const wih = p(`rnn.weight_ih_l${l}${suffix}`);
      const w: CellWeights = {
        wih: mat(wih.data, G * H, wih.shape[1]!),
        whh: mat(p(`rnn.weight_hh_l${l}${suffix}`).data, G * H, H),
        bih: Array.from(p(`rnn.bias_ih_l${l}${suffix}`).data),
        bhh: Array.from(p(`rnn.bias_hh_l${l}${suffix}`).data),
      };
      let { h, c } = init[l]![d]!;
      const order = xs.map((_, i) => (d === 0 ? i : xs.length - 1 - i));
      const out: Vec[] = new Array(xs.length);
      for (const i of order) {
        ({ h, c } = refStep(cfg.cell, w, xs[i]!, h, c));
        out[i] = h;
      }
      outs.push(out);
      finals[l]!.push({ h, c });
    });
    xs = xs.map((_, i) => outs.flatMap((o) => o[i]!));
  }
  const dw = mat(p('decoder.weight').data, V, xs[0]!.length);
  const db = Array.from(p('decoder.bias').data);
  const losses = xs.map((x, i) => {
    const z = add(matVec(dw, x), db);
    const logSumExp = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    return logSumExp - z[targets[i]!]!;
  });
  return { losses, finals };
}

/** Small fixed weights: a smooth pattern of both signs, no two tensors alike. */
function fixWeights(model: Model): void {
  model.params.forEach((p, k) => {
    for (let i = 0; i < p.data.length; i++) p.data[i] = 0.6 * Math.sin(0.7 * i + 1.9 * k + 0.3);
  });
}

const CASES: Array<{ what: string; layers: number; embedding: number; bidirectional: boolean }> = [
  { what: 'one layer, one-hot input', layers: 1, embedding: 0, bidirectional: false },
  { what: 'two layers, embedding', layers: 2, embedding: 4, bidirectional: false },
  { what: 'bidirectional, one-hot input', layers: 2, embedding: 0, bidirectional: true },
];

for (const width of ['f64', 'f32'] as FloatWidth[]) {
  // float32 stores every activation rounded; over six steps that stays within a few 1e-7.
  const tol = width === 'f64' ? 1e-12 : 1e-5;
  for (const cell of ['rnn', 'lstm', 'gru'] as CellKind[]) {
    for (const c of CASES) {
      test(`${cell} ${c.what} (${width}): losses and final states equal the published equations`, () => {
        const cfg: ModelConfig = {
          task: 'lm',
          cell,
          hidden: 3,
          layers: c.layers,
          embedding: c.embedding,
          bidirectional: c.bidirectional,
          vocabSize: 5,
        };
        const model = new Model(cfg, width);
        fixWeights(model);
        const B = 2,
          T = 6,
          H = 3;
        const streams = [
          [0, 3, 1, 4, 4, 2, 0],
          [2, 2, 1, 0, 3, 4, 1],
        ];
        const net = model.unroll(B, T);
        for (let s = 0; s < T; s++) {
          for (let b = 0; b < B; b++) {
            net.ids[s * B + b] = streams[b]![s]!;
            net.targets[s * B + b] = streams[b]![s + 1]!;
          }
        }
        const state = model.arena.floats(net.stateSize(B));
        for (let i = 0; i < state.length; i++) state[i] = 0.3 * Math.cos(1.1 * i);
        net.setState(state, B, T);
        net.forward(B, T);
        net.decode(B, T, 0);
        const perRow = new Float64Array(T * B);
        const total = net.loss(B, T, 0, perRow, 0);
        const out = model.arena.floats(net.stateSize(B));
        net.getState(out, B, T, T);

        const D = c.bidirectional ? 2 : 1,
          S = cell === 'lstm' ? 2 : 1;
        const slice = (buf: ArrayLike<number>, l: number, d: number, k: number, b: number): Vec =>
          Array.from({ length: H }, (_, j) => buf[(((l * D + d) * S + k) * B + b) * H + j]!);
        let sum = 0;
        for (let b = 0; b < B; b++) {
          const init = Array.from({ length: c.layers }, (_, l) =>
            Array.from({ length: D }, (_, d) => ({
              h: slice(state, l, d, 0, b),
              c: S === 2 ? slice(state, l, d, 1, b) : [0, 0, 0],
            })),
          );
          const ref = reference(cfg, model, streams[b]!.slice(0, T), streams[b]!.slice(1), init);
          for (let s = 0; s < T; s++) {
            const got = perRow[s * B + b]!;
            sum += ref.losses[s]!;
            assert.ok(Math.abs(got - ref.losses[s]!) < tol, `stream ${b} step ${s}: loss expected ${ref.losses[s]}, got ${got}`);
          }
          for (let l = 0; l < c.layers; l++) {
            for (let d = 0; d < D; d++) {
              const want = ref.finals[l]![d]!;
              const gotH = slice(out, l, d, 0, b);
              gotH.forEach((v, j) =>
                assert.ok(Math.abs(v - want.h[j]!) < tol, `stream ${b} layer ${l} dir ${d}: final h[${j}] expected ${want.h[j]}, got ${v}`),
              );
              if (S === 2) {
                slice(out, l, d, 1, b).forEach((v, j) =>
                  assert.ok(Math.abs(v - want.c[j]!) < tol, `stream ${b} layer ${l}: final c[${j}] expected ${want.c[j]}, got ${v}`),
                );
              }
            }
          }
        }
        assert.ok(Math.abs(total - sum) < tol * T * B, `summed loss: expected ${sum}, got ${total}`);
      });
    }
  }
}

test('the stepper, one token at a time, gives the logits of the whole-window forward pass', () => {
  const cfg: ModelConfig = { task: 'lm', cell: 'lstm', hidden: 4, layers: 2, embedding: 0, bidirectional: false, vocabSize: 5 };
  const model = Model.create(cfg, 9, 'f64');
  const tokens = [1, 4, 0, 2, 2, 3];
  const net = model.unroll(1, tokens.length);
  net.ids.set(tokens);
  net.setState(null, 1, tokens.length);
  net.forward(1, tokens.length);
  net.decode(1, tokens.length, 0);
  const stepper = model.stepper();
  for (let round = 0; round < 2; round++) {
    stepper.reset();
    tokens.forEach((t, i) => {
      const logits = stepper.feed(t);
      assert.equal(logits.length, 5);
      for (let v = 0; v < 5; v++) {
        assert.ok(
          Math.abs(logits[v]! - net.logits[i * 5 + v]!) < 1e-13,
          `round ${round} step ${i} logit ${v}: expected ${net.logits[i * 5 + v]}, got ${logits[v]}`,
        );
      }
    });
  }
});

test('initialisation follows PyTorch: rnn tensors within 1/sqrt(H), decoder within 1/sqrt(in), embedding roughly N(0, 1)', () => {
  const cfg: ModelConfig = { task: 'lm', cell: 'gru', hidden: 16, layers: 2, embedding: 32, bidirectional: false, vocabSize: 50 };
  const a = Model.create(cfg, 4);
  const b = Model.create(cfg, 4);
  for (const p of a.params) {
    const bound = p.name.startsWith('rnn.') ? 1 / 4 : p.name.startsWith('decoder.') ? 1 / 4 : Infinity;
    const max = Array.from(p.data).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(max <= bound, `${p.name}: largest |w| ${max}, bound ${bound}`);
    assert.deepEqual(p.data, b.param(p.name).data, `${p.name} differs between two models of the same seed`);
  }
  const e = Array.from(a.param('embedding.weight').data);
  const mean = e.reduce((s, v) => s + v, 0) / e.length;
  const variance = e.reduce((s, v) => s + (v - mean) ** 2, 0) / e.length;
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(variance - 1) < 0.1, `embedding: mean ${mean}, variance ${variance}`);
  const c = Model.create(cfg, 5);
  assert.notDeepEqual(c.param('rnn.weight_hh_l0').data, a.param('rnn.weight_hh_l0').data, 'another seed gives other weights');
});
