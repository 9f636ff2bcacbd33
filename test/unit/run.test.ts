import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MODEL, DEFAULT_TRAIN } from '../../src/engine/config.js';
import { PROTOCOL_VERSION, type RunDescription, type WorkerCommand, type WorkerEvent } from '../../src/protocol/messages.js';
import { Run, type StartSettings, type WorkerExit, type WorkerPort } from '../../src/extension/run.js';

const v = PROTOCOL_VERSION;
const RUN: RunDescription = {
  model: { ...DEFAULT_MODEL, vocabSize: 3 },
  train: DEFAULT_TRAIN,
  tokenizer: 'char',
  vocabSize: 3,
  parameterCount: 10,
  tensors: [],
  trainTokens: 9,
  validationTokens: 1,
  unigramBits: 1.5,
};
const SETTINGS: StartSettings = {
  model: DEFAULT_MODEL,
  train: DEFAULT_TRAIN,
  tokenizer: 'char',
  maxSteps: 0,
  maxMs: 0,
  autosavePath: '/s/run.safetensors',
  autosaveEveryMs: 1000,
  sampleEveryMs: 0,
  sampleLength: 10,
  temperature: 0.8,
};

class FakeWorker implements WorkerPort {
  commands: WorkerCommand[] = [];
  terminated = false;
  private message: (raw: unknown) => void = () => {};
  private exit: (e: WorkerExit) => void = () => {};
  constructor(private readonly script: (cmd: WorkerCommand, w: FakeWorker) => void) {}
  post(cmd: WorkerCommand): void {
    this.commands.push(cmd);
    queueMicrotask(() => this.script(cmd, this));
  }
  onMessage(l: (raw: unknown) => void): void {
    this.message = l;
  }
  onExit(l: (e: WorkerExit) => void): void {
    this.exit = l;
  }
  async terminate(): Promise<void> {
    this.terminated = true;
    this.exit({ code: 1 });
  }
  emit(e: unknown): void {
    this.message(e);
  }
  die(e: WorkerExit): void {
    this.exit(e);
  }
}

/** A worker that starts, trains when told, answers samples and saves. */
function obedient(cmd: WorkerCommand, w: FakeWorker): void {
  switch (cmd.type) {
    case 'start':
      // A checkpoint's curve comes with a resumed run: every tenth update, up to the checkpoint's 50.
      w.emit({
        v,
        type: 'started',
        run: RUN,
        resumedFromStep: cmd.resumeFrom ? 50 : 0,
        ...(cmd.resumeFrom ? { history: { metrics: [10, 20, 30, 40, 50].map(metrics), validation: [] } } : {}),
      });
      w.emit({ v, type: 'state', state: cmd.paused ? 'paused' : 'running' });
      return;
    case 'pause':
      w.emit({ v, type: 'state', state: 'paused' });
      return;
    case 'resume':
      w.emit({ v, type: 'state', state: 'running' });
      return;
    case 'request':
      if (cmd.method === 'sample') {
        w.emit({ v, type: 'sampleChunk', inReplyTo: cmd.id, text: 'ab', done: false });
        w.emit({ v, type: 'sampleChunk', inReplyTo: cmd.id, text: 'c', done: true });
        w.emit({ v, type: 'sample', inReplyTo: cmd.id, step: 3, temperature: cmd.args[0].temperature, prime: '', text: 'abc' });
        w.emit({ v, type: 'reply', inReplyTo: cmd.id, method: 'sample', result: 'abc' });
      }
      if (cmd.method === 'save') {
        w.emit({ v, type: 'checkpointSaved', path: cmd.args[0], step: 3 });
        w.emit({ v, type: 'reply', inReplyTo: cmd.id, method: 'save', result: { path: cmd.args[0], step: 3 } });
      }
      return;
    default:
      return;
  }
}

function newRun(script = obedient, warnings: string[] = [], resumeFrom?: string) {
  const workers: FakeWorker[] = [];
  const s = new Run({
    runId: 'r1',
    label: 'a.txt',
    file: '/w/a.txt',
    text: 'abcabc',
    start: SETTINGS,
    ...(resumeFrom ? { resumeFrom } : {}),
    workers: () => {
      const w = new FakeWorker(script);
      workers.push(w);
      return w;
    },
    warn: (m) => warnings.push(m),
  });
  return { s, workers, warnings };
}

const metrics = (step: number) => ({
  step,
  tokens: step,
  lossNats: 1,
  bitsPerToken: 1.44,
  lr: 0.002,
  gradNorm: 1,
  clipped: false,
  elapsedMs: step,
  tokensPerSecond: 100,
});

test('a run starts its worker with the text snapshot and settings and reports the run', async () => {
  const { s, workers } = newRun();
  assert.equal(await s.started(), RUN);
  const start = workers[0]!.commands[0]!;
  assert.equal(start.type, 'start');
  assert.equal(start.type === 'start' ? start.text : '', 'abcabc');
  assert.equal(start.v, PROTOCOL_VERSION);
  assert.equal(s.status, 'running');
});

test('samples stream their chunks and resolve with the whole text; saves remember the checkpoint', async () => {
  const { s } = newRun();
  await s.started();
  const chunks: string[] = [];
  const text = await s.sample({ prime: '', length: 3, temperature: 1, topK: 0, topP: 1, greedy: false, seed: 1 }, (c) => chunks.push(c));
  assert.equal(text, 'abc');
  assert.deepEqual(chunks, ['ab', 'c']);
  assert.deepEqual(await s.request('save', '/x.safetensors'), { path: '/x.safetensors', step: 3 });
  assert.deepEqual(s.lastCheckpoint, { path: '/x.safetensors', step: 3 });
  assert.equal(s.history().samples.length, 1);
});

test('history collects metrics, validation and samples for a dashboard opened later', async () => {
  const { s, workers } = newRun();
  await s.started();
  workers[0]!.emit({ v, type: 'metrics', metrics: [metrics(1), metrics(2)] });
  workers[0]!.emit({ v, type: 'validation', metrics: { step: 2, lossNats: 1, bitsPerToken: 1.44, tokens: 1 } });
  const h = s.history();
  assert.deepEqual(
    h.metrics.map((m) => m.step),
    [1, 2],
  );
  assert.equal(h.validation.length, 1);
  assert.equal(h.state, 'running');
  assert.equal(s.latest?.step, 2);
});

test("a run loaded from a checkpoint shows the checkpoint's curve, then its own", async () => {
  const { s, workers } = newRun(obedient, [], '/elsewhere/model.safetensors');
  await s.started();
  workers[0]!.emit({ v, type: 'metrics', metrics: [metrics(51)] });
  assert.deepEqual(
    s.history().metrics.map((m) => m.step),
    [10, 20, 30, 40, 50, 51],
  );
});

test('listeners see every event; a malformed worker message is dropped with a warning', async () => {
  const warnings: string[] = [];
  const { s, workers } = newRun(obedient, warnings);
  const seen: string[] = [];
  s.onEvent((id, e) => seen.push(`${id}:${e.type}`));
  await s.started();
  workers[0]!.emit({ v, type: 'metrics' });
  workers[0]!.emit({ v, type: 'state', state: 'paused' });
  assert.deepEqual(seen, ['r1:started', 'r1:state', 'r1:state'], 'expected every well-formed event, in order');
  assert.equal(s.status, 'paused');
  assert.equal(warnings.length, 1, `expected one warning, got ${JSON.stringify(warnings)}`);
  assert.match(warnings[0]!, /metrics should be a object, got nothing/);
});

test('bad input at start rejects started() and terminates the worker', async () => {
  const { s, workers } = newRun((cmd, w) => {
    if (cmd.type === 'start') w.emit({ v, type: 'error', kind: 'input', message: 'the text has one distinct character' });
  });
  await assert.rejects(s.started(), /one distinct character/);
  assert.equal(workers[0]!.terminated, true, 'expected no worker left running');
  assert.equal(s.status, 'failed');
  assert.equal(s.alive, false);
});

test('a worker that runs out of memory is reported with its reason, and restart resumes from the last checkpoint', async () => {
  const { s, workers } = newRun();
  await s.started();
  workers[0]!.emit({ v, type: 'metrics', metrics: [metrics(40), metrics(50), metrics(60)] });
  workers[0]!.emit({ v, type: 'checkpointSaved', path: '/s/run.safetensors', step: 50 });
  const errors: string[] = [];
  s.onEvent((_id, e) => {
    if (e.type === 'error') errors.push(e.message);
  });
  const pending = s.sample({ prime: '', length: 3, temperature: 1, topK: 0, topP: 1, greedy: false, seed: 1 });
  workers[0]!.commands.pop();
  workers[0]!.die({
    code: 1,
    error: { message: 'Worker terminated due to reaching memory limit: JS heap out of memory', code: 'ERR_WORKER_OUT_OF_MEMORY' },
  });
  await assert.rejects(pending, /ran out of memory/);
  assert.equal(s.status, 'crashed');
  assert.match(s.problem ?? '', /ran out of memory/);
  assert.match(errors[0] ?? '', /last checkpoint \(update 50\) is kept/);
  assert.throws(() => s.pause(), /crashed/);

  await s.restart();
  assert.equal(workers.length, 2);
  const start = workers[1]!.commands[0]!;
  assert.equal(start.type === 'start' ? start.resumeFrom : '', '/s/run.safetensors');
  assert.deepEqual(
    s.history().metrics.map((m) => m.step),
    [40, 50],
    "expected history after the checkpoint dropped, and the checkpoint's curve not drawn twice",
  );
  assert.equal(s.status, 'running');
});

test('dispose terminates the worker without reporting a crash', async () => {
  const { s, workers } = newRun();
  await s.started();
  const events: WorkerEvent[] = [];
  s.onEvent((_id, e) => events.push(e));
  await s.dispose();
  assert.equal(workers[0]!.terminated, true);
  assert.notEqual(s.status, 'crashed');
  assert.deepEqual(events, []);
});

test('dashboard messages drive the run; a failing one is a warning, not an exception', async () => {
  const warnings: string[] = [];
  const { s, workers } = newRun(obedient, warnings);
  await s.started();
  s.handle({ v, type: 'pause' });
  await Promise.resolve();
  assert.equal(s.status, 'paused');
  s.handle({ v, type: 'setLearningRate', lr: -1 });
  assert.match(warnings[0] ?? '', /learning rate must be a positive number/);
  s.handle({ v, type: 'setTemperature', temperature: 0.5 });
  const set = workers[0]!.commands.at(-1)!;
  assert.deepEqual(set, { v, type: 'set', temperature: 0.5 });
});

test('a run loaded again (after a reload) shows its earlier history, cut back to the update its checkpoint holds', async () => {
  const earlier = newRun();
  await earlier.s.started();
  earlier.workers[0]!.emit({ v, type: 'metrics', metrics: [40, 45, 50, 55].map(metrics) });
  earlier.workers[0]!.emit({ v, type: 'validation', metrics: { step: 55, lossNats: 1, bitsPerToken: 1.44, tokens: 1 } });
  // Saved at update 55 with its history; the checkpoint it comes back from holds update 50 (the obedient worker's resume point).
  const saved = earlier.s.history();
  const workers: FakeWorker[] = [];
  const again = new Run({
    runId: 'r1',
    label: 'a.txt',
    file: '/w/a.txt',
    text: 'abcabc',
    start: SETTINGS,
    resumeFrom: '/s/run.safetensors',
    history: saved,
    workers: () => {
      const w = new FakeWorker(obedient);
      workers.push(w);
      return w;
    },
    warn: () => undefined,
  });
  assert.deepEqual(
    again.history().metrics.map((m) => m.step),
    [40, 45, 50, 55],
    'shown at once, before the worker has loaded the checkpoint',
  );
  await again.started();
  assert.deepEqual(
    again.history().metrics.map((m) => m.step),
    [40, 45, 50],
    'the updates after the checkpoint did not happen for the model that was loaded',
  );
  assert.equal(again.history().validation.length, 0);
  assert.equal(again.history().runId, 'r1');
});
