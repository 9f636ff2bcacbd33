// The translate task's encoder-decoder: every gradient against fourth-order central finite differences
// in float64 on a padded batch (sources and targets of different lengths, an empty source among them),
// a padded batch against its examples one by one, and decoding: greedy against the most probable token
// step by step, beam search against the exhaustive search of a tiny model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CellKind, ModelConfig } from '../../src/engine/config.js';
import { Model } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import type { Sequences } from '../../src/engine/taskData.js';
import { taskGradcheck } from '../../src/engine/taskGradcheck.js';
import { editDistance } from '../../src/engine/taskEval.js';
import { TaskNet } from '../../src/engine/taskNet.js';
import { TranslationDecoder } from '../../src/engine/translateDecode.js';

const BOUND = 1e-6;
const V = 5;
const W = 4;
const END = 0;

function config(cell: CellKind, layers: number, embedding: number, bidirectional: boolean, maxOutput = 8): ModelConfig {
  return {
    task: 'translate',
    cell,
    hidden: 2,
    layers,
    embedding,
    bidirectional,
    vocabSize: V,
    targetVocabSize: W,
    maxLength: 0,
    maxOutput,
  };
}

/** Random sources of these lengths, and targets of those (the end token last). */
function sequences(sourceLengths: number[], targetLengths: number[], seed: number): Sequences {
  const rng = new Rng(seed);
  const ids = sourceLengths.map((n) => Int32Array.from({ length: n }, () => rng.int(V)));
  const references = targetLengths.map((n) => Int32Array.from({ length: n - 1 }, () => 1 + rng.int(W - 1)));
  const targets = references.map((r) => Int32Array.from([...r, END]));
  const n = ids.length;
  return {
    ids,
    targets,
    references,
    labels: new Int32Array(n),
    lines: new Int32Array(n),
    unknown: 0,
    unknownAt: [],
    unknownSymbols: new Map(),
    truncated: 0,
  };
}

function run(model: Model, net: TaskNet, seqs: Sequences, backward: boolean): number {
  const b = seqs.ids.length;
  net.load(seqs, (r) => r, b);
  if (!backward) return net.loss(b);
  model.zeroGrads();
  return net.lossAndBackward(b, 1, new Int32Array(1));
}

const SHAPES = [
  { what: 'one layer, one-hot', layers: 1, embedding: 0, bidirectional: false },
  { what: 'bidirectional, one-hot', layers: 1, embedding: 0, bidirectional: true },
  { what: 'two bidirectional layers, embedding', layers: 2, embedding: 2, bidirectional: true },
  { what: 'two layers, embedding', layers: 2, embedding: 2, bidirectional: false },
];

for (const cell of ['rnn', 'lstm', 'gru'] as CellKind[]) {
  for (const s of SHAPES) {
    test(`translate, ${cell}, ${s.what}: every gradient matches finite differences on a padded batch`, (t) => {
      const r = taskGradcheck(config(cell, s.layers, s.embedding, s.bidirectional), { lengths: [4, 1, 0, 5, 3], seed: 7 });
      for (const c of r.tensors) {
        assert.ok(
          c.worstRelError < BOUND,
          `${c.name}[${c.worstIndex}]: analytic ${c.analytic}, numeric ${c.numeric}, relative error ${c.worstRelError}, expected < ${BOUND}`,
        );
      }
      t.diagnostic(`worst ${r.worstRelError.toExponential(2)} in ${r.worstTensor}`);
    });
  }
}

for (const bidirectional of [false, true]) {
  test(`translate${bidirectional ? ', bidirectional' : ''}: a padded batch gives each example the loss and the gradients it gets alone`, () => {
    const cfg = config('lstm', 2, 0, bidirectional);
    const seqs = sequences([5, 2, 0, 3], [2, 5, 3, 1], 9);
    const model = Model.create(cfg, 4, 'f64');
    const batched = new TaskNet(model, 4, 6, END);
    const alone = new TaskNet(model, 1, 6, END);
    const lossBatch = run(model, batched, seqs, true);
    const gradBatch = model.params.map((p) => Float64Array.from(p.grad));
    let lossAlone = 0;
    const gradAlone = model.params.map((p) => new Float64Array(p.grad.length));
    for (let e = 0; e < seqs.ids.length; e++) {
      const one: Sequences = { ...seqs, ids: [seqs.ids[e]!], targets: [seqs.targets![e]!] };
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

/** ln p(output, then the end token | source), by teacher forcing one example. */
function logProbability(model: Model, source: Int32Array, output: Int32Array): number {
  const net = new TaskNet(model, 1, 16, END);
  const seqs = sequences([0], [1], 1);
  const one: Sequences = { ...seqs, ids: [source], targets: [Int32Array.from([...output, END])] };
  net.load(one, () => 0, 1);
  return -net.loss(1);
}

/** p(next token | source, prefix): the last row of a teacher-forced run of prefix and an end token. */
function nextProbabilities(model: Model, source: Int32Array, prefix: number[]): number[] {
  const net = new TaskNet(model, 1, 16, END);
  const seqs = sequences([0], [1], 1);
  net.load({ ...seqs, ids: [source], targets: [Int32Array.from([...prefix, END])] }, () => 0, 1);
  net.loss(1); // leaves probabilities in the decoder's logits
  const p = net.translator!.decoder.logits;
  return Array.from({ length: W }, (_, y) => p[prefix.length * W + y]!);
}

test('greedy decoding writes the most probable token at each step, and stops at the end token or the limit', () => {
  const cfg = config('gru', 1, 0, true, 6);
  const model = Model.create(cfg, 11, 'f64');
  const sources = sequences([3, 1, 4, 2, 5, 0], [1, 1, 1, 1, 1, 1], 3).ids;
  const outs = new TranslationDecoder(model, { maxBatch: 6, maxSource: 5, beam: 1 }, END).decode(sources, (i) => i, sources.length);
  outs.forEach((out, e) => {
    assert.ok(out.length <= 6, 'within the limit');
    for (let p = 0; p <= out.length && p < 6; p++) {
      const probs = nextProbabilities(model, sources[e]!, Array.from(out.subarray(0, p)));
      const best = probs.indexOf(Math.max(...probs));
      const chosen = p < out.length ? out[p]! : END;
      assert.equal(chosen, best, `example ${e}, step ${p}: wrote ${chosen}, the most probable is ${best} (${probs})`);
    }
  });
});

test('beam search finds the most probable output of a tiny model, which greedy decoding can miss', () => {
  // Targets of 3 symbols and up to 3 tokens: every output can be enumerated.
  let beatGreedy = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const cfg = config('lstm', 1, 0, seed % 2 === 0, 4);
    const model = Model.create(cfg, seed, 'f64');
    // Sharper distributions than at initialisation, so that outputs differ in probability.
    for (const p of model.params) for (let i = 0; i < p.data.length; i++) p.data[i] *= 3;
    const sources = sequences([3, 2, 4], [1, 1, 1], seed).ids;
    const greedy = new TranslationDecoder(model, { maxBatch: 3, maxSource: 4, beam: 1 }, END).decode(sources, (i) => i, 3);
    const beam = new TranslationDecoder(model, { maxBatch: 3, maxSource: 4, beam: 27 }, END).decode(sources, (i) => i, 3);
    sources.forEach((src, e) => {
      let best = { lp: -Infinity, out: [] as number[] };
      const visit = (prefix: number[]): void => {
        const lp = logProbability(model, src, Int32Array.from(prefix));
        if (lp > best.lp) best = { lp, out: prefix };
        if (prefix.length < 3) for (let y = 1; y < W; y++) visit([...prefix, y]);
      };
      visit([]);
      const got = logProbability(model, src, beam[e]!);
      assert.ok(
        Math.abs(got - best.lp) < 1e-9,
        `seed ${seed} example ${e}: beam wrote [${beam[e]}] (${got}), the best is [${best.out}] (${best.lp})`,
      );
      const g = logProbability(model, src, greedy[e]!);
      assert.ok(g <= got + 1e-12, 'greedy is never more probable than the beam');
      if (g < got - 1e-9) beatGreedy++;
    });
  }
  assert.ok(beatGreedy > 0, 'on some example the beam found a more probable output than greedy decoding');
});

test('edit distance counts insertions, deletions and substitutions; an unknown reference token matches nothing', () => {
  assert.equal(editDistance([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(editDistance([1, 2, 3], [1, 3]), 1);
  assert.equal(editDistance([1, 3], [1, 2, 3]), 1);
  assert.equal(editDistance([1, 4, 3], [1, 2, 3]), 1);
  assert.equal(editDistance([], [1, 2]), 2);
  assert.equal(editDistance([3, 1, 2], [1, 2, 3]), 2);
  assert.equal(editDistance([1, 2], [1, -1]), 1);
});
