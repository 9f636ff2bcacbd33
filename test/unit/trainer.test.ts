// The truncated-BPTT trainer: windows and carried state as TBPTT(k1, k2) defines them (k1 = k2 = T is
// full BPTT on consecutive windows), bit-for-bit determinism and resumption, no allocation per step,
// refusal to update on a non-finite loss, probes that leave training untouched, and learning on a real
// text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/engine/checkpoint.js';
import { DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../src/engine/config.js';
import { RecurrentError } from '../../src/engine/errors.js';
import { Model } from '../../src/engine/model.js';
import { probeGates } from '../../src/engine/probes.js';
import { scoreText } from '../../src/engine/scoring.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { sotuText } from '../../scripts/sotu.mjs';
import { windowsOf } from './support/windows.js';
import { Trainer } from '../../src/engine/trainer.js';
import { VALIDATION_SAMPLE_TOKENS } from '../../src/engine/validation.js';

const TEXT = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8');
const SMALL: Omit<ModelConfig, 'vocabSize'> = { task: 'lm', cell: 'lstm', hidden: 8, layers: 2, embedding: 0, bidirectional: false };

function config(over: Partial<TrainConfig>): TrainConfig {
  return { ...DEFAULT_TRAIN, batch: 3, k1: 6, k2: 6, valShare: 0.1, evalEvery: 0, ...over };
}

/** The parameters' gradients as one array, in state_dict order. */
function grads(model: Model): Float64Array {
  return Float64Array.from(model.params.flatMap((p) => Array.from(p.grad)));
}

/** The gradients a fresh model with `ck`'s weights computes for one window of each stream. */
function windowGradients(ck: Checkpoint, tokens: Int32Array, starts: number[], k1: number, k2: number, state: Float32Array | null) {
  const { model, net } = windowsOf(ck, tokens, starts, k2);
  const B = starts.length;
  net.setState(state, B, k2);
  net.forward(B, k2);
  net.decode(B, k2, k2 - k1);
  net.loss(B, k2, k2 - k1);
  net.backward(B, k2, k2 - k1, 1 / (B * k1));
  const after = new Float32Array(net.stateSize(B));
  net.getState(after, B, k2, k1);
  return { grads: grads(model), after };
}

/** The carried state in a checkpoint, laid out as the engine keeps it. */
function carried(ck: Checkpoint): Float32Array {
  const parts = [...ck.tensors.values()].filter((t) => t.name.startsWith('state.'));
  return Float32Array.from(parts.flatMap((t) => Array.from(t.data)));
}

function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${what}[${i}]: expected ${want[i]}, got ${got[i]}`);
  }
}

for (const [k1, k2] of [
  [6, 6],
  [2, 5],
] as const) {
  test(`TBPTT(k1=${k1}, k2=${k2}): each update is the window of the last k2 tokens from the carried state, loss on the last k1, state after step k1 carried`, () => {
    const trainer = Trainer.create(TEXT, SMALL, config({ optimizer: 'sgd', momentum: 0, lr: 0.5, clipNorm: 0, k1, k2 }), 'char');
    const tokens = trainer.tokenizer.encode(TEXT);
    const B = 3;
    const S = trainer.trainTokens - k2;
    const starts = Array.from({ length: B }, (_, b) => Math.floor((b * S) / B));
    let ck = trainer.toCheckpoint();
    let state: Float32Array | null = null;
    for (let update = 0; update < 3; update++) {
      const want = windowGradients(
        ck,
        tokens,
        starts.map((s) => s + update * k1),
        k1,
        k2,
        state,
      );
      trainer.step();
      assertSame(grads(trainer.model), want.grads, `update ${update + 1}: gradients`);
      ck = trainer.toCheckpoint();
      assertSame(carried(ck), want.after, `update ${update + 1}: carried state`);
      state = want.after;
    }
  });
}

test('k1 = k2 = T is full BPTT: the carried state is the final state of the previous window', () => {
  const T = 5;
  const trainer = Trainer.create(TEXT, { ...SMALL, cell: 'gru', layers: 1 }, config({ k1: T, k2: T, batch: 1 }), 'char');
  const tokens = trainer.tokenizer.encode(TEXT);
  const ck = trainer.toCheckpoint();
  trainer.step();
  // One window of 2T from a zero state, run with the weights before the first update: its state
  // after T steps is what the second window must start from.
  const model = new Model(ck.config);
  model.loadTensors(ck.tensors);
  const net = model.unroll(1, 2 * T);
  net.ids.set(tokens.subarray(0, 2 * T));
  net.setState(null, 1, 2 * T);
  net.forward(1, 2 * T);
  const mid = new Float32Array(net.stateSize(1));
  net.getState(mid, 1, 2 * T, T);
  assertSame(carried(trainer.toCheckpoint()), mid, 'state carried after the first window');
});

test('the same seed, data and config give the same loss curve to the last bit; another seed does not', () => {
  const run = (seed: number) => {
    const t = Trainer.create(TEXT, SMALL, config({ seed, clipNorm: 0.5 }), 'char');
    return Array.from({ length: 6 }, () => t.step().lossNats);
  };
  const a = run(7);
  assertSame(run(7), a, 'losses of a second run');
  assert.notDeepEqual(run(8), a, 'seed 8 should differ from seed 7');
});

test('a run resumed from its checkpoint (through the file encoding) continues exactly as if it had not stopped', () => {
  const cfg = config({ optimizer: 'adam', lr: 0.01, seed: 3, k1: 4, k2: 7 });
  const straight = Trainer.create(TEXT, SMALL, cfg, 'char');
  const want = Array.from({ length: 8 }, () => straight.step().lossNats);
  const first = Trainer.create(TEXT, SMALL, cfg, 'char');
  for (let i = 0; i < 4; i++) first.step();
  const resumed = Trainer.resume(TEXT, decodeCheckpoint(encodeCheckpoint(first.toCheckpoint())));
  assert.equal(resumed.updates, 4);
  const got = Array.from({ length: 4 }, () => resumed.step().lossNats);
  assertSame(got, want.slice(4), 'losses after resuming');
  assert.equal(resumed.updates, 8);
});

test('a step allocates no buffers: the arena does not grow and the metrics object is reused', () => {
  const t = Trainer.create(TEXT, SMALL, config({ clipNorm: 1e-3 }), 'char');
  const m = t.step();
  const floats = t.model.arena.allocatedFloats;
  const data = t.model.params.map((p) => p.data);
  for (let i = 0; i < 3; i++) assert.equal(t.step(), m, 'step() should return the same metrics object');
  assert.equal(t.model.arena.allocatedFloats, floats, 'arena floats after three more steps');
  t.model.params.forEach((p, i) => assert.equal(p.data, data[i], `${p.name} buffer replaced`));
  assert.equal(t.lastClip(), t.lastClip(), 'the clip event is reused');
});

test('a non-finite loss leaves parameters, update count and streams untouched', () => {
  const t = Trainer.create(TEXT, SMALL, config({}), 'char');
  t.step();
  const bias = t.model.param('decoder.bias');
  bias.data[0] = NaN;
  const before = t.toCheckpoint();
  const goodWindows = t.lastWindows().map((w) => [...w]);
  const m = t.step();
  assert.ok(Number.isNaN(m.lossNats), `lossNats: expected NaN, got ${m.lossNats}`);
  const brokenWindows = t.lastWindows().map((w) => [...w]);
  assert.deepEqual(
    brokenWindows.map(([s], b) => s - goodWindows[b]![0]!),
    goodWindows.map(() => t.train.k1),
    'the failed step names the windows it read, k1 after the last good ones',
  );
  t.step();
  assert.deepEqual(
    t.lastWindows().map((w) => [...w]),
    brokenWindows,
    'streams that did not move read the same windows again',
  );
  assert.equal(t.updates, 1, 'update count');
  const after = t.toCheckpoint();
  for (const [name, tensor] of before.tensors) assertSame(after.tensors.get(name)!.data, tensor.data, name);
  assert.equal(
    after.metadata['recurrent.training']!.replace(/"elapsedMs":[^,]+/, ''),
    before.metadata['recurrent.training']!.replace(/"elapsedMs":[^,]+/, ''),
  );
});

test('clipping by norm is reported with the norms and the windows that produced it', () => {
  const t = Trainer.create(TEXT, SMALL, config({ clipNorm: 1e-3, k1: 3, k2: 5 }), 'char');
  const m = t.step();
  const e = t.lastClip();
  assert.ok(m.clipped && e !== null, 'expected the step to clip');
  assert.equal(e.mode, 'norm');
  assert.ok(e.normBefore > e.normAfter && Math.abs(e.normAfter - 1e-3) < 1e-6, `norms ${e.normBefore} -> ${e.normAfter}`);
  assert.equal(e.spans.length, 3);
  for (const [s, end] of e.spans) assert.equal(end - s, 6, 'a window reads k2 inputs and one more target');
  assert.deepEqual(
    e.spans,
    t.lastWindows().map((w) => [...w]),
    'the clip names the windows of its update',
  );
  const starts = e.spans.map(([s]) => s);
  t.step();
  assert.deepEqual(
    t.lastWindows().map(([s], b) => s - starts[b]!),
    [3, 3, 3],
    'the next windows start k1 later',
  );
  const u = Trainer.create(TEXT, SMALL, config({ clipNorm: 0 }), 'char');
  u.step();
  assert.equal(u.lastClip(), null);
});

test('gradientFlow measures the next window without changing the run', () => {
  const cfg = config({ seed: 5 });
  const a = Trainer.create(TEXT, SMALL, cfg, 'char');
  const b = Trainer.create(TEXT, SMALL, cfg, 'char');
  a.step();
  b.step();
  const gradsBefore = grads(a.model);
  const flow = a.gradientFlow();
  assertSame(grads(a.model), gradsBefore, 'gradients after gradientFlow');
  assert.equal(flow.window, 6);
  assert.equal(flow.fromLast.length, 2);
  for (let l = 0; l < 2; l++) {
    assert.equal(flow.fromLast[l]!.length, 6);
    assert.ok(flow.fromLast[l]![0]! > 0, `layer ${l}: the last loss reaches the last state`);
    // At the last position only the last loss depends on h, so both measures agree there.
    assert.ok(
      Math.abs(flow.perStep[l]![5]! - flow.fromLast[l]![0]!) <= 1e-6 * flow.fromLast[l]![0]!,
      `layer ${l}: perStep[T-1] ${flow.perStep[l]![5]} vs fromLast[0] ${flow.fromLast[l]![0]}`,
    );
  }
  assertSame([a.step().lossNats, a.step().lossNats], [b.step().lossNats, b.step().lossNats], 'losses after the probe');
});

test('probeTokenLoss gives -ln p(t_i | t_<i) from a zero state, as the stepper computes it, with sorted top-k', () => {
  const t = Trainer.create(TEXT, SMALL, config({ k1: 4, k2: 4 }), 'char');
  for (let i = 0; i < 3; i++) t.step();
  const text = TEXT.slice(100, 119);
  const probe = t.probeTokenLoss(text, 3);
  const ids = t.tokenizer.encode(text);
  assert.equal(probe.lossNats.length, ids.length - 1);
  assert.equal(probe.offsets.length, ids.length + 1);
  assert.equal(probe.k, 3);
  const stepper = t.stepper();
  stepper.reset();
  for (let i = 0; i + 1 < ids.length; i++) {
    const z = Array.from(stepper.feed(ids[i]!));
    const max = Math.max(...z);
    const logSum = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    const want = logSum - z[ids[i + 1]!]!;
    assert.ok(Math.abs(probe.lossNats[i]! - want) < 1e-5, `token ${i + 1}: expected ${want}, got ${probe.lossNats[i]}`);
    const best = z.indexOf(max);
    assert.equal(probe.topIds[i * 3], best, `token ${i + 1}: most likely id`);
    assert.ok(
      probe.topProbs[i * 3]! >= probe.topProbs[i * 3 + 1]! && probe.topProbs[i * 3 + 1]! >= probe.topProbs[i * 3 + 2]!,
      'top-k sorted',
    );
  }
});

test('probeGates over windows with the state carried equals one window over the whole text', () => {
  const t = Trainer.create(TEXT, SMALL, config({ k1: 4, k2: 4 }), 'char');
  t.step();
  const text = TEXT.slice(0, 15);
  const chunked = t.probeGates(text);
  const whole = probeGates(t.model, t.tokenizer, text);
  assert.deepEqual(
    chunked.layers.map((l) => l.gates.map((g) => g.name).join('')),
    ['ifgoch', 'ifgoch'],
  );
  chunked.layers.forEach((l, i) =>
    l.gates.forEach((g, j) => assertSame(g.data, whole.layers[i]!.gates[j]!.data, `layer ${i} gate ${g.name}`)),
  );
  const [i, , gg] = chunked.layers[0]!.gates;
  assert.ok(i!.data.every((v) => v > 0 && v < 1) && gg!.data.every((v) => v > -1 && v < 1), 'sigmoid gates in (0, 1), g in (-1, 1)');
  assert.equal(i!.data.length, 15 * 8);
});

test('validation, unigram entropy and tensor norms report what they say', () => {
  const t = Trainer.create(TEXT, SMALL, config({}), 'char');
  const v = t.validate('sample');
  const full = t.validate('full');
  const expectedSample = Math.min(t.validationTokens, VALIDATION_SAMPLE_TOKENS);
  assert.ok(v.tokens > expectedSample - 40 && v.tokens <= expectedSample, `sample tokens ${v.tokens}, expected about ${expectedSample}`);
  assert.ok(full.tokens > t.validationTokens - 40 && full.tokens <= t.validationTokens, `full: ${full.tokens} of ${t.validationTokens}`);
  assert.ok(
    Math.abs(v.lossNats - Math.log(t.tokenizer.size)) < 0.2,
    `an untrained model is near uniform: ${v.lossNats} vs ln V = ${Math.log(t.tokenizer.size)}`,
  );
  assert.ok(Math.abs(v.bitsPerToken - v.lossNats / Math.LN2) < 1e-12);
  assert.ok(t.unigramBits() > 3.5 && t.unigramBits() < 5, `unigram entropy of English characters: ${t.unigramBits()}`);
  const none = Trainer.create(TEXT, SMALL, config({ valShare: 0 }), 'char');
  assert.ok(Number.isNaN(none.validate().lossNats));
  const norms = t.tensorNorms();
  assert.deepEqual(
    norms.map((n) => n.name),
    t.model.params.map((p) => p.name),
  );
  assert.ok(
    norms.every((n) => n.paramNorm > 0 && n.gradNorm === 0),
    'no step yet: parameters set, gradients zero',
  );
});

test('bad configurations get a RecurrentError naming the problem', () => {
  assert.throws(
    () => Trainer.create(TEXT.slice(0, 50), SMALL, config({ k1: 64, k2: 64 }), 'char'),
    (e: unknown) => e instanceof RecurrentError && /k2/.test(e.message),
  );
  assert.throws(
    () => Trainer.create(TEXT, { ...SMALL, bidirectional: true }, config({}), 'char'),
    (e: unknown) => e instanceof RecurrentError && /bidirectional/.test(e.message),
  );
});

test('learning: on a real text the loss falls well below the unigram entropy within 150 updates', () => {
  const t = Trainer.create(
    TEXT,
    { task: 'lm', cell: 'lstm', hidden: 32, layers: 1, embedding: 0, bidirectional: false },
    config({ batch: 16, k1: 24, k2: 24, optimizer: 'adam', lr: 0.02, seed: 1 }),
    'char',
  );
  const unigram = t.unigramBits();
  let last = Infinity;
  for (let i = 0; i < 150; i++) last = t.step().bitsPerToken;
  const v = t.validate();
  assert.ok(last < unigram - 1, `training: expected below ${unigram - 1} bits per char, got ${last}`);
  assert.ok(v.bitsPerToken < unigram - 0.8, `validation: expected below ${unigram - 0.8} bits per char, got ${v.bitsPerToken}`);
  // Text the run never read (the 2021 address), through the checkpoint as a file would carry it.
  const ck = decodeCheckpoint(encodeCheckpoint(t.toCheckpoint()));
  const saved = new Model(ck.config);
  saved.loadTensors(ck.tensors);
  const held = scoreText(saved, Tokenizer.fromSpec(ck.tokenizer), sotuText().slice(-20000));
  assert.ok(held.bitsPerToken < unigram - 0.7, `held-out text: expected below ${unigram - 0.7} bits per char, got ${held.bitsPerToken}`);
  assert.ok(
    Math.abs(held.bitsPerToken - v.bitsPerToken) < 0.4,
    `held-out text scores ${held.bitsPerToken} bits per char, the run's validation ${v.bitsPerToken}: they should agree`,
  );
});

test('periodic validation is spaced so it reads at most a quarter of the tokens trained, and every evalEvery updates when that allows', () => {
  const due = (over: Partial<TrainConfig>, updates: number): number[] => {
    const t = Trainer.create(TEXT, { ...SMALL, layers: 1, cell: 'rnn' }, config({ evalEvery: 100, ...over }), 'char');
    const at: number[] = [];
    for (let u = 0; u < updates; u++) {
      t.step();
      if (t.validationDue()) {
        at.push(t.updates);
        t.validate('sample');
      }
    }
    return at;
  };
  // Batch 1, windows of 25: 2,500 tokens per 100 updates against a sample of ~4,200 validation tokens.
  const sample = Math.min(Math.floor(TEXT.length * 0.1), VALIDATION_SAMPLE_TOKENS);
  const spaced = due({ batch: 1, k1: 25, k2: 25 }, 1500);
  const every = Math.ceil((4 * sample) / 2500) * 100;
  assert.deepEqual(spaced, [every, 2 * every], `validations at ${spaced}, expected every ${every} updates`);
  // Batch 8, windows of 64: 51,200 tokens per 100 updates, so every 100.
  assert.deepEqual(due({ batch: 8, k1: 64, k2: 64 }, 300), [100, 200, 300]);
  assert.deepEqual(due({ batch: 8, k1: 64, k2: 64, evalEvery: 0 }, 300), []);
});

test('divergence: an untrained or a learning model is not diverged; one far worse than the unigram entropy and its start is', () => {
  const t = Trainer.create(TEXT, SMALL, config({ optimizer: 'adam', lr: 0.01 }), 'char');
  const start = t.validate('sample');
  assert.equal(t.diverged(start), false, `the untrained model (${start.bitsPerToken} bits) is where the run starts`);
  for (let i = 0; i < 30; i++) t.step();
  assert.equal(t.diverged(t.validate('sample')), false);
  // Every prediction on one token: far worse than the unigram entropy and than the start.
  t.model.param('decoder.bias').data.fill(0).set([40], 0);
  const broken = t.validate('sample');
  assert.ok(t.diverged(broken), `${broken.bitsPerToken} bits with unigram ${t.unigramBits()}`);
  assert.ok(t.diverged({ ...broken, bitsPerToken: NaN, lossNats: NaN }), 'a non-finite validation is diverged');
});
