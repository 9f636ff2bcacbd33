import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MODEL, DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../src/engine/config.js';
import { RecurrentError } from '../../src/engine/errors.js';
import type { StepMetrics } from '../../src/engine/measurements.js';
import { parameterCount, parameterShapes } from '../../src/engine/parameters.js';
import {
  PROTOCOL_VERSION,
  type SamplingRequest,
  type StartCommand,
  type WorkerCommand,
  type WorkerEvent,
} from '../../src/protocol/messages.js';
import type { Checkpoint } from '../../src/engine/checkpoint.js';
import { History } from '../../src/engine/history.js';
import type { EngineLike } from '../../src/worker/engineApi.js';
import type { RunTrainer } from '../../src/worker/runTrainer.js';
import { textHeat } from '../../src/engine/textLoss.js';
import { HEAT_CONTEXT_TOKENS } from '../../src/worker/editorProbes.js';
import { TIMING, RunLoop } from '../../src/worker/runLoop.js';

/** A scripted model: each update takes 5 ms of the fake clock, loss falls as 1/(1+step). */
class FakeTrainer implements RunTrainer {
  readonly modelConfig: ModelConfig = { ...DEFAULT_MODEL, hidden: 4, vocabSize: 3 };
  readonly tokenizer = {
    kind: 'char' as const,
    size: 3,
    /** One token per character; 'x' is a character the model never saw. */
    encodeLenient: (text: string) => ({
      ids: Int32Array.from(text, (c) => (c === 'x' ? -1 : 'abc'.indexOf(c) & 3)),
      offsets: Int32Array.from({ length: text.length + 1 }, (_, i) => i),
      unknown: [...text].filter((c) => c === 'x').length,
    }),
  };
  /** Loss windows of 2 streams x 4 steps, 10 ms of the fake clock each: every position's loss is its target id + 1. */
  lossWindowsRun = 0;
  /** The update count at each loss window. */
  lossWindowsAt: number[] = [];
  lossWindows() {
    return {
      streams: 2,
      steps: 4,
      run: (_ids: Int32Array, targets: Int32Array, _fresh: Uint8Array, t: number, out: Float32Array) => {
        this.clock.t += 10;
        this.lossWindowsRun++;
        this.lossWindowsAt.push(this.updates);
        for (let i = 0; i < t * 2; i++) out[i] = targets[i]! + 1;
      },
    };
  }
  readonly trainTokens = 90;
  readonly validationTokens = 10;
  /** A real history: empty for a new run, the checkpoint's curve for a resumed one. */
  kept = History.parse(undefined);
  updates = 0;
  lr: number | null = null;
  nanAt = Infinity;
  throwAt = Infinity;
  /** close() calls; a closed trainer's threads are gone, so it refuses to step like the engine's must. */
  closed = 0;
  private readonly reused = {} as StepMetrics;
  constructor(
    readonly train: TrainConfig,
    private readonly clock: { t: number },
  ) {}
  get threads(): number {
    return this.train.threads;
  }
  step(): StepMetrics {
    if (this.closed) throw new Error('stepped a closed trainer');
    if (this.updates + 1 >= this.throwAt)
      throw new RecurrentError('training thread 1 (streams 16-31) stopped; train with threads: 1 to go on');
    this.clock.t += 5;
    const step = ++this.updates;
    const lossNats = step >= this.nanAt ? NaN : 1 / (1 + step);
    if (Number.isFinite(lossNats)) this.updates = step;
    else this.updates = step - 1;
    // Like the engine, one metrics object reused for every step.
    return Object.assign(this.reused, {
      step,
      tokens: step * 8,
      lossNats,
      bitsPerToken: lossNats / Math.LN2,
      lr: this.lr ?? this.train.lr,
      gradNorm: 1,
      clipped: step % 10 === 0,
      elapsedMs: this.clock.t,
      tokensPerSecond: 1000,
    });
  }
  spike(m: StepMetrics) {
    return Number.isFinite(m.lossNats)
      ? null
      : { step: m.step, mode: 'norm' as const, normBefore: NaN, normAfter: NaN, spans: [[0, 4]] as Array<[number, number]> };
  }
  lastClip() {
    return { step: this.updates, mode: 'norm' as const, normBefore: 9, normAfter: 5, spans: [[0, 4]] as Array<[number, number]> };
  }
  validate() {
    return { step: this.updates, lossNats: 0.5, bitsPerToken: 0.72, tokens: 10 };
  }
  validationDue() {
    return this.train.evalEvery > 0 && this.updates % this.train.evalEvery === 0;
  }
  setLearningRate(lr: number | null) {
    this.lr = lr;
  }
  /** Fake-clock ms a gradient flow probe takes, and when each began. */
  flowCostMs = 0;
  flowAt: number[] = [];
  gradientFlow() {
    this.flowAt.push(this.clock.t);
    this.clock.t += this.flowCostMs;
    return { step: this.updates, window: 2, fromLast: [Float32Array.of(1, 0.5)], perStep: [Float32Array.of(1, 1)], start: 0 };
  }
  probeGates(text: string, _label: string) {
    if (!text) throw new RecurrentError('the probe text is empty; give some text');
    return { tokens: [...text], layers: [], hidden: 4 };
  }
  tensorNorms() {
    return [{ name: 'decoder.bias', paramNorm: 1, gradNorm: 0.1 }];
  }
  describe() {
    return {
      model: this.modelConfig,
      train: this.train,
      tokenizer: this.tokenizer.kind,
      vocabSize: this.tokenizer.size,
      parameterCount: parameterCount(this.modelConfig),
      tensors: parameterShapes(this.modelConfig),
      trainTokens: this.trainTokens,
      validationTokens: this.validationTokens,
      unigramBits: 1.5,
      segments: this.kept.segments.map((s) => ({ ...s })),
    };
  }
  history() {
    return this.kept;
  }
  toCheckpoint() {
    return { step: this.updates } as unknown as Checkpoint;
  }
  periodicSamples(base: SamplingRequest) {
    return [base];
  }
  probeEditor(): never {
    throw new RecurrentError('no editor probe in the fake');
  }
  locateTokens(spans: readonly number[]) {
    return spans.slice();
  }
  predictLines(): never {
    throw new RecurrentError('no line predictions in the fake');
  }
  textHeat(text: string) {
    return textHeat(this.tokenizer.encodeLenient(text), () => this.lossWindows(), HEAT_CONTEXT_TOKENS);
  }
  close() {
    this.closed++;
  }
  async sample(r: SamplingRequest, onToken: (t: string) => void) {
    let out = '';
    for (let i = 0; i < r.length; i++) {
      const c = 'abc'[(r.seed + i) % 3]!;
      this.clock.t += 1;
      onToken(c);
      out += c;
    }
    return out;
  }
}

function harness(opts: { nanAt?: number; throwAt?: number; disk?: { full: boolean }; flowCostMs?: number } = {}) {
  const clock = { t: 0 };
  const saved: Array<{ path: string; step: number }> = [];
  const resumedWith: Array<{ threads: number }> = [];
  const ownFolders: boolean[] = [];
  let trainer: FakeTrainer | null = null;
  /** The fake's checkpoints are { step } alone. */
  const stepOf = (c: Checkpoint): number => (c as unknown as { step: number }).step;
  const engine: EngineLike = {
    create: ({ text, train }) => {
      if (text.length < 2) throw new RecurrentError('the text is too short to train on');
      trainer = new FakeTrainer(train, clock);
      if (opts.nanAt) trainer.nanAt = opts.nanAt;
      if (opts.throwAt) trainer.throwAt = opts.throwAt;
      if (opts.flowCostMs) trainer.flowCostMs = opts.flowCostMs;
      return trainer;
    },
    resume: ({ train }, c) => {
      resumedWith.push({ threads: train.threads });
      trainer = new FakeTrainer({ ...DEFAULT_TRAIN, threads: train.threads }, clock);
      trainer.updates = stepOf(c);
      // The checkpoint's curve: every tenth update trained elsewhere, and a validation at 20 and at 40.
      trainer.kept.begin({ by: 'pytorch', device: 'cuda', processes: 8 }, 0);
      for (let s = 10; s <= trainer.updates; s += 10) trainer.kept.record({ ...trainer.step(), step: s });
      trainer.updates = stepOf(c);
      for (const step of [20, 40]) trainer.kept.recordValidation({ step, lossNats: 1, bitsPerToken: 1 / Math.LN2, tokens: 9 });
      trainer.kept = History.parse(trainer.kept.encode(trainer.updates)); // as the checkpoint has it
      trainer.kept.begin({ by: 'recurrent-studio' }, trainer.updates);
      return trainer;
    },
    readCheckpoint: async () => ({ step: 40 }) as unknown as Checkpoint,
    writeCheckpoint: async (path, c, ownFolder) => {
      if (opts.disk?.full) throw new RecurrentError(`cannot write a checkpoint to ${path}: the disk is full`);
      saved.push({ path, step: stepOf(c) });
      ownFolders.push(ownFolder === true);
    },
  };
  const events: WorkerEvent[] = [];
  const transfers: ArrayBuffer[][] = [];
  const loop = new RunLoop(engine, {
    post: (e, t) => {
      events.push(e);
      transfers.push(t);
    },
    now: () => clock.t,
    defer: (f) => setImmediate(f),
  });
  const send = (c: Record<string, unknown>): void => loop.handle({ v: PROTOCOL_VERSION, ...c } as WorkerCommand);
  const until = async (pred: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 2000 && !pred(); i++) await new Promise((r) => setImmediate(r));
    assert.ok(pred(), `timed out waiting for ${what}; events: ${events.map((e) => e.type).join(' ')}`);
  };
  return { loop, send, events, transfers, saved, ownFolders, resumedWith, clock, until, trainer: () => trainer! };
}

function start(over: Partial<StartCommand> = {}): Record<string, unknown> {
  return {
    type: 'start',
    text: 'abcabc',
    model: DEFAULT_MODEL,
    train: { ...DEFAULT_TRAIN, evalEvery: 50 },
    tokenizer: 'char',
    maxSteps: 0,
    maxMs: 0,
    autosaveEveryMs: 0,
    sampleEveryMs: 0,
    sampleLength: 5,
    temperature: 1,
    ...over,
  };
}

const of = <T extends WorkerEvent['type']>(events: WorkerEvent[], type: T) =>
  events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);

test('a run reports started, trains to maxSteps, and finishes with a final checkpoint', async () => {
  const h = harness();
  h.send(start({ maxSteps: 120, autosavePath: '/ckpt/run.safetensors' }));
  await h.until(() => of(h.events, 'finished').length > 0, 'finished');
  const started = of(h.events, 'started')[0]!;
  assert.equal(started.run.vocabSize, 3);
  assert.equal(started.run.unigramBits, 1.5);
  assert.ok(started.run.parameterCount > 0, `expected a parameter count, got ${started.run.parameterCount}`);
  const steps = of(h.events, 'metrics').flatMap((e) => e.metrics.map((m) => m.step));
  assert.deepEqual(
    steps,
    Array.from({ length: 120 }, (_, i) => i + 1),
    'expected every update reported once, in order',
  );
  assert.deepEqual(of(h.events, 'finished')[0], { v: PROTOCOL_VERSION, type: 'finished', step: 120, reason: 'steps' });
  assert.deepEqual(h.saved.at(-1), { path: '/ckpt/run.safetensors', step: 120 });
  assert.equal(of(h.events, 'state').at(-1)!.state, 'finished');
  assert.ok(of(h.events, 'validation').length >= 3, 'expected validation before, at 50 and 100, and at the end');
  assert.equal(of(h.events, 'clip').flatMap((e) => e.clips).length, 12, 'expected one clip event per clipped update');
});

test('metrics are batched: a few events a second of fake time, not one per update', async () => {
  const h = harness();
  h.send(start({ maxSteps: 1000 }));
  await h.until(() => of(h.events, 'finished').length > 0, 'finished');
  // 1000 updates x 5 ms = 5 s of fake time: at most 1000/250 * 5 plus flushes at validation (every 50).
  const batches = of(h.events, 'metrics').length;
  const maxBatches = Math.ceil(5000 / TIMING.metricsEveryMs) + 1000 / 50 + 2;
  assert.ok(batches <= maxBatches, `expected at most ${maxBatches} metrics events, got ${batches}`);
});

test('the gradient flow probe runs every 5 s, or where it is costly at most a twentieth of the time', async () => {
  for (const cost of [0, 400]) {
    const h = harness({ flowCostMs: cost });
    h.send(start({ maxSteps: 4000 }));
    await h.until(() => of(h.events, 'finished').length > 0, 'finished');
    const at = h.trainer().flowAt;
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.equal(of(h.events, 'gradientFlow').length, at.length, 'each probe is reported');
    // 4000 updates of 5 ms: 20 s of training. A 400 ms probe every 5 s would take 7 % of the run.
    const every = Math.max(TIMING.gradientFlowEveryMs, cost / TIMING.gradientFlowShare);
    assert.ok(at.length >= 3, `${cost} ms probes: expected several, got them at ${at.join(', ')}`);
    for (const g of gaps)
      assert.ok(g >= every && g <= every + cost + TIMING.sliceMs + 5, `${cost} ms probes ${g} ms apart, expected ${every}`);
  }
});

test('gradient flow arrays are transferred as owned copies', async () => {
  const h = harness();
  h.send(start({ maxSteps: 30 }));
  await h.until(() => of(h.events, 'finished').length > 0, 'finished');
  const i = h.events.findIndex((e) => e.type === 'gradientFlow');
  assert.ok(i >= 0, 'expected a gradient flow event');
  assert.equal(h.transfers[i]!.length, 2, 'expected the fromLast and perStep buffers in the transfer list');
  const j = h.events.findIndex((e) => e.type === 'metrics');
  assert.equal(h.transfers[j]!.length, 0, 'metrics carry no buffers');
});

test('pause holds training until resume; stop saves and reports stopped', async () => {
  const h = harness();
  h.send(start({ autosavePath: '/c.safetensors' }));
  await h.until(() => h.trainer()?.updates > 20, 'some updates');
  h.send({ type: 'pause' });
  await h.until(() => of(h.events, 'state').at(-1)?.state === 'paused', 'paused');
  const at = h.trainer().updates;
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.equal(h.trainer().updates, at, `expected no updates while paused, went from ${at} to ${h.trainer().updates}`);
  assert.equal(h.trainer().closed, 0, 'a paused run resumes on the same threads');
  h.send({ type: 'resume' });
  await h.until(() => h.trainer().updates > at + 10, 'training after resume');
  h.send({ type: 'stop' });
  await h.until(() => of(h.events, 'finished').length > 0, 'finished');
  assert.equal(of(h.events, 'finished')[0]!.reason, 'stopped');
  assert.equal(h.saved.at(-1)!.step, h.trainer().updates);
  assert.equal(h.trainer().closed, 1, 'a stopped run ends its training threads');
});

test('a run that reaches maxSteps closes its trainer once and still answers samples', async () => {
  const h = harness();
  h.send(start({ maxSteps: 20 }));
  await h.until(() => of(h.events, 'finished').length > 0, 'finished');
  assert.equal(h.trainer().closed, 1);
  h.send({
    type: 'request',
    id: 3,
    method: 'sample',
    args: [{ prime: '', length: 10, temperature: 1, topK: 0, topP: 1, greedy: false, seed: 0 }],
  });
  await h.until(() => of(h.events, 'sample').length > 0, 'sample');
  assert.equal(of(h.events, 'sample')[0]!.text.length, 10);
  h.send({ type: 'stop' });
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(h.trainer().closed, 1, 'stop after the end does nothing more');
  assert.deepEqual(of(h.events, 'error'), []);
});

test('a step that throws stops the run where it was, reports why and closes the trainer', async () => {
  const h = harness({ throwAt: 25 });
  h.send(start({}));
  await h.until(() => of(h.events, 'state').at(-1)?.state === 'stopped', 'stopped');
  const errors = of(h.events, 'error');
  assert.equal(errors.length, 1, `expected one error, got ${JSON.stringify(errors)}`);
  assert.match(errors[0]!.message, /training thread 1 \(streams 16-31\) stopped/);
  assert.equal(h.trainer().closed, 1);
  assert.equal(
    of(h.events, 'metrics')
      .flatMap((e) => e.metrics)
      .at(-1)!.step,
    24,
    'the updates before the failure are reported',
  );
  h.send({ type: 'resume' });
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.equal(h.trainer().updates, 24, 'a stopped run does not train again');
  assert.equal(of(h.events, 'error').length, 1);
});

test('a second start is refused and the running trainer stays open', async () => {
  const h = harness();
  h.send(start({ paused: true }));
  await h.until(() => of(h.events, 'state').length > 0, 'paused state');
  const first = h.trainer();
  h.send(start({ paused: true }));
  await h.until(() => of(h.events, 'error').length > 0, 'error');
  assert.equal(h.trainer(), first);
  assert.equal(first.closed, 0);
});

test('a sample request streams chunks and ends with the whole text, named by its id', async () => {
  const h = harness();
  h.send(start({ paused: true }));
  await h.until(() => of(h.events, 'state').length > 0, 'paused state');
  h.send({
    type: 'request',
    id: 7,
    method: 'sample',
    args: [{ prime: '', length: 200, temperature: 1, topK: 0, topP: 1, greedy: false, seed: 0 }],
  });
  await h.until(() => of(h.events, 'reply').length > 0, 'reply');
  const chunks = of(h.events, 'sampleChunk');
  assert.ok(chunks.length >= 3, `expected the 200 tokens (1 ms each) in several chunks, got ${chunks.length}`);
  assert.ok(chunks.every((c) => c.inReplyTo === 7));
  assert.equal(chunks.at(-1)!.done, true);
  const sample = of(h.events, 'sample')[0]!;
  assert.equal(chunks.map((c) => c.text).join(''), sample.text);
  assert.equal(sample.inReplyTo, 7);
  assert.deepEqual(of(h.events, 'reply'), [{ v: PROTOCOL_VERSION, type: 'reply', inReplyTo: 7, method: 'sample', result: sample.text }]);
  assert.ok(h.events.indexOf(sample) < h.events.indexOf(of(h.events, 'reply')[0]!), 'the sample is reported before the reply');
  assert.equal(h.trainer().updates, 0, 'a run started paused must not train');
});

test('a save request writes the checkpoint, reports it to all, and replies with its path and update', async () => {
  const h = harness();
  h.send(start({ paused: true, resumeFrom: '/c.safetensors' }));
  await h.until(() => of(h.events, 'state').length > 0, 'paused state');
  h.send({ type: 'request', id: 2, method: 'save', args: ['/x.safetensors'] });
  await h.until(() => of(h.events, 'reply').length > 0, 'reply');
  assert.deepEqual(h.saved, [{ path: '/x.safetensors', step: 40 }]);
  assert.deepEqual(of(h.events, 'checkpointSaved'), [{ v: PROTOCOL_VERSION, type: 'checkpointSaved', path: '/x.safetensors', step: 40 }]);
  assert.deepEqual(of(h.events, 'reply')[0]!.result, { path: '/x.safetensors', step: 40 });
});

test('bad text at start is an input error and nothing starts', async () => {
  const h = harness();
  h.send(start({ text: 'a' }));
  await h.until(() => h.events.length > 0, 'an event');
  assert.deepEqual(h.events, [{ v: PROTOCOL_VERSION, type: 'error', kind: 'input', message: 'the text is too short to train on' }]);
});

test('a failing request answers with an error naming its id; training goes on', async () => {
  const h = harness();
  h.send(start({ paused: true }));
  await h.until(() => of(h.events, 'state').length > 0, 'paused state');
  h.send({ type: 'request', id: 4, method: 'probeGates', args: [''] });
  await h.until(() => of(h.events, 'error').length > 0, 'error');
  assert.deepEqual(of(h.events, 'error')[0], {
    v: PROTOCOL_VERSION,
    type: 'error',
    kind: 'input',
    message: 'the probe text is empty; give some text',
    inReplyTo: 4,
  });
  h.send({ type: 'request', id: 5, method: 'probeGates', args: ['ab'] });
  await h.until(() => of(h.events, 'reply').length > 0, 'reply');
  assert.equal(of(h.events, 'gates').length, 1, 'the probe goes out as a gates event');
  assert.deepEqual(of(h.events, 'reply')[0], { v: PROTOCOL_VERSION, type: 'reply', inReplyTo: 5, method: 'probeGates', result: undefined });
});

test('a non-finite loss stops the run with the step and no checkpoint over the last good one', async () => {
  const h = harness({ nanAt: 33 });
  h.send(start({ autosavePath: '/c.safetensors' }));
  await h.until(() => of(h.events, 'finished').length > 0, 'finished');
  const err = of(h.events, 'error')[0]!;
  assert.equal(err.kind, 'nonFinite');
  assert.equal(err.step, 33);
  assert.match(err.message, /loss became NaN at update 33/);
  assert.equal(of(h.events, 'finished')[0]!.reason, 'nonFinite');
  assert.deepEqual(h.saved, [], 'expected no checkpoint written after the loss went non-finite');
  assert.equal(h.trainer().closed, 1);
});

test('resume continues from the checkpoint step and says so', async () => {
  const h = harness();
  h.send(start({ resumeFrom: '/c.safetensors', maxSteps: 5 }));
  await h.until(() => of(h.events, 'finished').length > 0, 'finished');
  const started = of(h.events, 'started')[0]!;
  assert.equal(started.resumedFromStep, 40);
  assert.equal(of(h.events, 'finished')[0]!.step, 45, 'maxSteps counts the updates of this run');
  // The curve so far comes with it; the validation at update 40 is made again as the run starts.
  assert.deepEqual(
    started.history?.metrics.map((m) => m.step),
    [10, 20, 30, 40],
  );
  assert.deepEqual(
    started.history?.validation.map((v) => v.step),
    [20],
  );
  assert.deepEqual(
    started.run.segments?.map((s) => [s.by, s.from, s.to]),
    [
      ['pytorch', 0, 40],
      ['recurrent-studio', 40, 40],
    ],
  );
});

test('resume trains on the threads of the start command, not those recorded in the checkpoint', async () => {
  const h = harness();
  h.send(start({ resumeFrom: '/c.safetensors', paused: true, train: { ...DEFAULT_TRAIN, threads: 3 } }));
  await h.until(() => of(h.events, 'started').length > 0, 'started');
  assert.deepEqual(h.resumedWith, [{ threads: 3 }]);
  assert.equal(of(h.events, 'started')[0]!.run.train.threads, 3);
});

test('set changes the learning rate of the trainer', async () => {
  const h = harness();
  h.send(start({ paused: true }));
  await h.until(() => of(h.events, 'state').length > 0, 'paused state');
  h.send({ type: 'set', lr: 0.5 });
  assert.equal(h.trainer().lr, 0.5);
});

test("a whole file's heat is computed in slices: requests made meanwhile are answered first, training waits, a newer one replaces it", async () => {
  const h = harness();
  h.send(start());
  await h.until(() => h.trainer().updates > 3, 'training');
  // 400 characters in 2 streams of 4 steps at 10 ms a window: about 50 windows, 500 ms of the fake clock.
  const text = 'abc'.repeat(100) + 'x' + 'cab'.repeat(33);
  h.send({ type: 'request', id: 1, method: 'probeHeat', args: ['ab'.repeat(100)] });
  h.send({ type: 'request', id: 2, method: 'probeHeat', args: [text] });
  await h.until(() => h.trainer().lossWindowsRun > 0, 'the heat to start');
  h.send({ type: 'request', id: 3, method: 'probeGates', args: ['ab'] });
  await h.until(() => of(h.events, 'reply').some((r) => r.inReplyTo === 2), 'the heat');
  const replies = of(h.events, 'reply');
  assert.ok(
    replies.findIndex((r) => r.inReplyTo === 3) < replies.findIndex((r) => r.inReplyTo === 2),
    'the gate probe asked for during the heat is answered before it',
  );
  const at = h.trainer().lossWindowsAt;
  assert.ok(
    at.length > 40 && at.every((u) => u === at[0]),
    `expected no update between the heat's windows, got updates ${[...new Set(at)].join(', ')}`,
  );
  const replaced = of(h.events, 'error').find((e) => e.inReplyTo === 1);
  assert.match(replaced?.message ?? '', /a newer loss heat request replaced this one/);
  const heat = replies.find((r) => r.inReplyTo === 2)!.result as import('../../src/protocol/messages.js').FileHeat;
  assert.equal(heat.offsets.length, text.length + 1);
  assert.deepEqual(heat.unknown, [300]);
  assert.equal(heat.lossNats.length, text.length - 1);
  // lossNats[i - 1] is token i's: its id + 1, NaN for the unknown 'x' and the token after it.
  const ids = h.trainer().tokenizer.encodeLenient(text).ids;
  for (let i = 1; i < text.length; i++) {
    const want = i === 300 || i === 301 ? NaN : ids[i]! + 1;
    assert.ok(
      Object.is(heat.lossNats[i - 1], want) || heat.lossNats[i - 1] === want,
      `token ${i}: expected ${want}, got ${heat.lossNats[i - 1]}`,
    );
  }
  assert.ok(heat.wallMs >= 400, `expected the fake clock's ~500 ms, got ${heat.wallMs}`);
  await h.until(() => h.trainer().updates > at[0]! + 8, 'training to go on after the heat');
  h.send({ type: 'stop' });
  await h.until(() => of(h.events, 'finished').length > 0, 'the run to stop');
});

test('an autosave that fails (a full disk) is said once and training goes on; the next one that works is saved', async () => {
  const disk = { full: false };
  const h = harness({ disk });
  h.send(start({ autosavePath: '/store/run.safetensors', autosaveEveryMs: 100 }));
  await h.until(() => h.saved.length >= 1, 'a first autosave');
  assert.deepEqual(h.ownFolders, [true], "an autosave's folder is the run's own, made again if it was deleted");
  disk.full = true;
  const before = h.saved.length;
  await h.until(() => of(h.events, 'error').length >= 1, 'the failure to be said');
  const at = h.trainer().updates;
  // Several intervals (an autosave every 20 updates of fake time) fail while training goes on.
  await h.until(() => h.trainer().updates > at + 100, 'training to go on');
  const errors = of(h.events, 'error');
  assert.equal(errors.length, 1, `expected the failure said once, got ${errors.map((e) => e.message).join(' | ')}`);
  assert.match(
    errors[0]!.message,
    /^autosave failed: cannot write a checkpoint to \/store\/run\.safetensors: the disk is full; training goes on, the checkpoint of update \d+ stands, and the next autosave tries again$/,
  );
  assert.equal(errors[0]!.inReplyTo, undefined);
  assert.equal(of(h.events, 'state').at(-1)!.state, 'running');
  disk.full = false;
  await h.until(() => h.saved.length > before, 'an autosave once there is room again');
  h.send({ type: 'stop' });
  await h.until(() => of(h.events, 'finished').length > 0, 'stopped');
});
