// The probes of a task model's recurrent cells (taskProbes.ts) and its line predictions (taskPredict.ts),
// against what the networks compute otherwise: a gate probe's hidden states are the states the
// classifier's head reads; the gradient reaching the head's state is W^T (p - onehot(label)); a sample
// of examples averages what each example gives alone; the probes leave training's gradients as they
// were; and a generate model's labels by Bayes' rule come from the likelihoods its evaluation scores.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { evaluateTask } from '../../src/engine/taskEval.js';
import { encodeKnown, END_OF_TEXT, type Sequences } from '../../src/engine/taskData.js';
import { TaskNet } from '../../src/engine/taskNet.js';
import { TaskProbes, type ProbeExample } from '../../src/engine/taskProbes.js';
import { TaskTrainer, type TaskModelOptions } from '../../src/engine/taskTrainer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const names = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8')
  .split('\n')
  .filter((_, i) => i % 13 === 0)
  .join('\n');

function trained(task: 'classify' | 'generate', model: Partial<TaskModelOptions> = {}): TaskTrainer {
  const t = TaskTrainer.create(names, 'names.tsv', { task, model: { hidden: 12, ...model }, train: { batch: 16 } });
  for (let i = 0; i < 30; i++) t.step();
  return t;
}

function seqsOf(examples: readonly ProbeExample[]): Sequences {
  return {
    ids: examples.map((e) => e.ids),
    labels: Int32Array.from(examples, (e) => e.label),
    lines: new Int32Array(examples.length),
    unknown: 0,
    unknownAt: [],
    unknownSymbols: new Map(),
    truncated: 0,
  };
}

const close = (a: number, b: number, what: string, rel = 1e-5): void =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1e-12, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

test('classify: the gate probe holds the hidden states the head reads (forward after the last token, reverse after the first)', () => {
  const t = trained('classify', { bidirectional: true, layers: 2 });
  const probe = t.probeGates('Marguerite');
  assert.deepEqual(probe.tokens, [...'Marguerite']);
  assert.deepEqual(
    probe.layers.map((l) => `${l.layer} ${l.direction}`),
    ['0 forward', '0 reverse', '1 forward', '1 reverse'],
  );
  const net = new TaskNet(t.model, 1, 16, -1);
  const ids = Int32Array.from(encodeKnown(t.tokenizer, 'Marguerite', () => undefined));
  net.load(seqsOf([{ ids, label: 0 }]), (i) => i, 1);
  net.classifier!.forward(1);
  const features = net.classifier!.encoder.features;
  const H = 12;
  const h = (l: number): Float32Array => probe.layers[l]!.gates.find((g) => g.name === 'h')!.data;
  for (let j = 0; j < H; j++) {
    close(h(2)[9 * H + j]!, features[j]!, `top forward h at the last token, unit ${j}`);
    close(h(3)[0 * H + j]!, features[H + j]!, `top reverse h at the first token, unit ${j}`);
  }
});

test("classify: the gradient reaching the head's state is W^T (p - onehot(label)); k tokens back it comes through the cell", () => {
  const t = trained('classify');
  const probes = new TaskProbes(t.model, t.tokenizer, -1);
  const label = t.labels.indexOf('female');
  const e = probes.example('Annabelle', label);
  const flow = probes.gradientFlow([e], e, t.updates);
  const p = t.predictions().classify(['Annabelle'])[0]!;
  const W = t.model.param('classifier.weight');
  const K = t.labels.length;
  const H = 12;
  let s = 0;
  for (let j = 0; j < H; j++) {
    let g = 0;
    for (let k = 0; k < K; k++) {
      const pk = p.ranked.find((r) => r.label === t.labels[k])!.probability;
      g += W.data[k * H + j]! * (pk - (k === label ? 1 : 0));
    }
    s += g * g;
  }
  close(flow.fromLast[0]![0]!, Math.sqrt(s), '|dL/dh| at the last token');
  assert.equal(flow.fromLast[0]!.length, 9);
  // One example's loss sits at its end: per position, the same numbers read from the other side.
  for (let k = 0; k < 9; k++) close(flow.perStep[0]![8 - k]!, flow.fromLast[0]![k]!, `position ${8 - k}`);
  assert.deepEqual(flow.tokens, [...'Annabelle']);
  assert.deepEqual(flow.curves, ['layer 1']);
});

for (const task of ['classify', 'generate'] as const) {
  test(`${task}: the gradient-flow curves of a sample are the root mean square of its examples' own, and training's gradients are left as they were`, () => {
    const t = trained(task, task === 'classify' ? { bidirectional: true } : { cell: 'lstm' });
    const probes = new TaskProbes(t.model, t.tokenizer, task === 'generate' ? t.tokenizer.id(END_OF_TEXT)! : -1);
    const sample = ['Al', 'Bernadette', 'Cyd', 'Dominique'].map((n, i) => probes.example(n, i % t.labels.length));
    const grads = t.model.params.map((p) => Float32Array.from(p.grad));
    const together = probes.gradientFlow(sample, sample[1]!, t.updates);
    t.model.params.forEach((p, k) => assert.deepEqual(p.grad, grads[k], `${p.name}'s gradient changed`));
    const alone = sample.map((e) => probes.gradientFlow([e], e, t.updates));
    assert.equal(together.examples, 4);
    together.fromLast.forEach((curve, c) => {
      for (let k = 0; k < curve.length; k++) {
        const having = alone.filter((a) => a.fromLast[c]!.length > k && k < sample[alone.indexOf(a)]!.ids.length);
        const rms = Math.sqrt(having.reduce((s, a) => s + a.fromLast[c]![k]! ** 2, 0) / having.length);
        close(curve[k]!, rms, `${together.curves![c]} k=${k}`, 1e-4);
      }
    });
    if (task === 'generate') {
      // The last position's gradient comes from the last loss alone, whole loss or not.
      const e = sample[1]!;
      const one = alone[1]!;
      close(one.perStep[0]![e.ids.length - 1]!, one.fromLast[0]![0]!, 'the last position');
      assert.equal(one.tokens![0], END_OF_TEXT, 'generate reads the end token first');
    } else {
      assert.deepEqual(together.curves, ['layer 1 →', 'layer 1 ←']);
    }
  });
}

test('generate: gates are read from the label state, after the end token the model starts from', () => {
  const t = trained('generate');
  const probe = t.probeGates('Anna', 'male');
  assert.equal(probe.label, 'male');
  assert.deepEqual(probe.tokens, [END_OF_TEXT, 'A', 'n', 'n', 'a']);
  assert.deepEqual(
    probe.layers[0]!.gates.map((g) => g.name),
    ['r', 'z', 'n', 'h'],
  );
  assert.throws(() => t.probeGates('Anna', 'other'), /knows no label "other"/);
  const fallback = t.probeExample();
  assert.ok(fallback.text.length > 0 && t.labels.includes(fallback.label), `a default probe example: ${JSON.stringify(fallback)}`);
  assert.equal(t.probeGates().tokens.length, [...fallback.text].length + 1);
});

test("generate: labels by Bayes' rule from the likelihoods the evaluation scores", () => {
  const t = trained('generate');
  const prior = [0.3, 0.7];
  const [post] = t.predictions().posterior(['Maria'], prior);
  assert.ok(post, 'a posterior');
  close(
    post.ranked.reduce((a, r) => a + r.probability, 0),
    1,
    'probabilities add up',
  );
  const end = t.tokenizer.id(END_OF_TEXT)!;
  const ids = Int32Array.from([...encodeKnown(t.tokenizer, 'Maria', () => undefined), end]);
  const net = new TaskNet(t.model, 4, 16, end);
  const nats = t.labels.map((_, k) => {
    const e = evaluateTask(net, seqsOf([{ ids, label: k }]), t.labels);
    assert.equal(e.task, 'generate');
    return e.loss;
  });
  nats.forEach((n, k) => close(post.natsPerToken[k]!, n, `-ln p per token under ${t.labels[k]}`));
  const odds = Math.log(prior[0]!) - nats[0]! * ids.length - (Math.log(prior[1]!) - nats[1]! * ids.length);
  const p0 = 1 / (1 + Math.exp(-odds));
  close(post.ranked.find((r) => r.label === t.labels[0])!.probability, p0, `p(${t.labels[0]} | Maria)`);
  assert.equal(post.tokens, 6);
});

test('held-out scoring is due every evalEvery updates; a clipped update says so', () => {
  const t = TaskTrainer.create(names, 'names.tsv', {
    task: 'classify',
    model: { hidden: 8 },
    train: { batch: 8, evalEvery: 3, clipNorm: 1e-3 },
  });
  const due: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    const m = t.step();
    due.push(t.validationDue());
    assert.ok(m.clipped, 'a threshold of 1e-3 clips every update');
    const c = t.lastClip();
    assert.ok(c && c.step === m.step && c.normBefore > c.normAfter, `the clip of update ${m.step}: ${JSON.stringify(c)}`);
  }
  assert.deepEqual(due, [false, false, true, false, false, true]);
});
