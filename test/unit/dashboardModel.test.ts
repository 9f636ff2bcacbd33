// The dashboard's history reducer on recorded event streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardModel, MAX_SAMPLES } from '../../webview/model/dashboardModel.js';
import { PROTOCOL_VERSION, type RunHistory, type ToWebview, type WorkerEvent } from '../../src/protocol/messages.js';
import { history, session, toJson } from './support/syntheticSession.js';

const v = PROTOCOL_VERSION;
const empty = (runId: string): RunHistory => ({
  runId,
  label: runId,
  file: 'a.txt',
  run: null,
  metrics: [],
  validation: [],
  clips: [],
  samples: [],
  gradientFlow: null,
  gates: null,
  state: 'running',
});
const ev = (runId: string, event: WorkerEvent): ToWebview => ({ v, type: 'event', runId, event });

test('an empty history gives an empty current run and marks every view', () => {
  const m = new DashboardModel();
  const dirty = m.receive({ v, type: 'history', current: empty('r1'), others: [] });
  assert.equal(m.current?.runId, 'r1');
  assert.equal(m.current?.loss.length, 0);
  assert.equal(dirty.size, 9, `expected all 9 views dirty, got ${[...dirty]}`);
});

test('a recorded session replays into the current run, with earlier runs kept for comparison', () => {
  const m = new DashboardModel();
  for (const msg of session(1200, 300)) m.receive(msg);
  const cur = m.current!;
  assert.equal(cur.last?.step, 1500, `expected last step 1500, got ${cur.last?.step}`);
  assert.equal(cur.loss.points, 1500);
  assert.equal(cur.validation.points, 15, `validation every 100 steps to 1500, got ${cur.validation.points}`);
  assert.deepEqual(
    m.others().map((r) => r.runId),
    ['rnn-1', 'gru-1'],
  );
  assert.equal(cur.samples[0]!.step, 1500, 'newest sample first');
  assert.equal(cur.gradientFlow?.step, 1500);
  assert.ok(cur.gates !== null && cur.gates.layers.length === 2);
});

test('a session that went through JSON (typed arrays as arrays, NaN as strings) replays the same', () => {
  const direct = new DashboardModel();
  const viaJson = new DashboardModel();
  for (const msg of session(300, 100)) {
    direct.receive(msg);
    viaJson.receive(JSON.parse(toJson(msg)) as ToWebview);
  }
  const a = direct.current!,
    b = viaJson.current!;
  assert.ok(b.gradientFlow!.fromLast[0] instanceof Float32Array, 'fromLast restored as Float32Array');
  assert.deepEqual(Array.from(b.gradientFlow!.fromLast[0]!), Array.from(a.gradientFlow!.fromLast[0]!));
  assert.ok(b.gates!.layers[0]!.gates[0]!.data instanceof Float32Array);
  assert.deepEqual(b.loss.all(), a.loss.all());
});

test('a NaN loss is kept as a gap, the error is shown in the header, and training state follows events', () => {
  const m = new DashboardModel();
  m.receive({ v, type: 'history', current: empty('r1'), others: [] });
  const metric = (step: number, loss: number) => ({
    step,
    tokens: step,
    lossNats: loss,
    bitsPerToken: loss / Math.LN2,
    lr: 1e-3,
    gradNorm: loss,
    clipped: false,
    elapsedMs: step,
    tokensPerSecond: 1,
  });
  m.receive(ev('r1', { v, type: 'metrics', metrics: [metric(1, 2), metric(2, NaN)] }));
  const dirty = m.receive(ev('r1', { v, type: 'error', kind: 'nonFinite', message: 'loss became NaN', step: 2 }));
  m.receive(ev('r1', { v, type: 'finished', step: 2, reason: 'nonFinite' }));
  const r = m.current!;
  assert.equal(r.loss.nonFinitePoints, 1);
  assert.equal(r.error?.step, 2);
  assert.equal(r.state, 'finished');
  assert.ok(dirty.has('header'), `error marks the header dirty, got ${[...dirty]}`);
});

test("a run started from a checkpoint draws the checkpoint's curve once, even when it restarts", () => {
  const m = new DashboardModel();
  m.receive({ v, type: 'history', current: empty('r1'), others: [] });
  const point = (step: number) => ({
    step,
    tokens: step,
    lossNats: 1 / step,
    bitsPerToken: 1,
    lr: 1e-3,
    gradNorm: 1,
    clipped: false,
    elapsedMs: step,
    tokensPerSecond: 1,
  });
  const run = session(1, 1).find((x) => x.type === 'history')!;
  const description = run.type === 'history' ? run.current.run! : null;
  const started: WorkerEvent = {
    v,
    type: 'started',
    run: description!,
    resumedFromStep: 40,
    history: { metrics: [10, 20, 30, 40].map(point), validation: [{ step: 40, lossNats: 1, bitsPerToken: 1.44, tokens: 5 }] },
  };
  const dirty = m.receive(ev('r1', started));
  assert.ok(dirty.has('loss'));
  m.receive(ev('r1', { v, type: 'metrics', metrics: [point(41)] }));
  m.receive(ev('r1', started)); // a crash restart from the same checkpoint
  const r = m.current!;
  assert.equal(r.loss.points, 5);
  assert.equal(r.validation.points, 1);
  assert.equal(r.last?.step, 41);
});

test('an event for an earlier run only redraws the views that compare runs', () => {
  const m = new DashboardModel();
  m.receive({ v, type: 'history', current: empty('cur'), others: [empty('old')] });
  const dirty = m.receive(
    ev('old', {
      v,
      type: 'gradientFlow',
      flow: { step: 1, window: 2, fromLast: [new Float32Array([1, 0.5])], perStep: [new Float32Array([1, 1])], start: 0 },
    }),
  );
  assert.deepEqual([...dirty].sort(), ['compare', 'flow']);
});

test('streamed sample chunks join into one sample that stops pending when done', () => {
  const m = new DashboardModel();
  m.receive({ v, type: 'history', current: empty('r1'), others: [] });
  m.receive(ev('r1', { v, type: 'sampleChunk', inReplyTo: 7, text: 'Hel', done: false }));
  m.receive(ev('r1', { v, type: 'sampleChunk', inReplyTo: 7, text: 'lo', done: false }));
  assert.equal(m.current!.samples[0]!.pending, true);
  m.receive(ev('r1', { v, type: 'sample', step: 3, temperature: 0.7, prime: 'He', text: 'Hello', inReplyTo: 7 }));
  assert.equal(m.current!.samples.length, 1, `chunks and final sample are one entry, got ${m.current!.samples.length}`);
  assert.deepEqual([m.current!.samples[0]!.text, m.current!.samples[0]!.pending], ['Hello', false]);
});

test('samples are bounded, newest first', () => {
  const m = new DashboardModel();
  m.receive({ v, type: 'history', current: empty('r1'), others: [] });
  for (let i = 0; i < MAX_SAMPLES + 20; i++) m.receive(ev('r1', { v, type: 'sample', step: i, temperature: 1, prime: '', text: `s${i}` }));
  assert.equal(m.current!.samples.length, MAX_SAMPLES);
  assert.equal(m.current!.samples[0]!.step, MAX_SAMPLES + 19);
});

test('messages of another protocol version or unknown type are dropped with a warning', () => {
  const warnings: string[] = [];
  const m = new DashboardModel(2048, (w) => warnings.push(w));
  const dirty = m.receive({ v: 99, type: 'history' } as unknown as ToWebview);
  m.receive({ v, type: 'mystery' } as unknown as ToWebview);
  assert.equal(dirty.size, 0);
  assert.equal(warnings.length, 2, `expected 2 warnings, got ${JSON.stringify(warnings)}`);
  assert.equal(m.current, null);
});

test('a history of a million steps loads into bounded memory', () => {
  const h = history('big', 'lstm', 1000, 'running');
  const metrics = [];
  for (let s = 1; s <= 1_000_000; s++) metrics.push({ ...h.metrics[s % 1000]!, step: s, clipped: s % 5000 === 0 });
  const m = new DashboardModel();
  m.loadHistory({ ...h, metrics }, []);
  const r = m.current!;
  assert.ok(r.loss.length <= 2048 && r.gradNorm.length <= 2048, `got ${r.loss.length} and ${r.gradNorm.length} buckets`);
  assert.equal(r.clipCount, 200, `expected 200 clipped steps, got ${r.clipCount}`);
  assert.equal(
    r.loss.all().reduce((a, b) => a + b.flagged, 0),
    200,
  );
});

test('the recorded RNN-then-LSTM session (real engine output through JSON) loads whole', async () => {
  const { readFileSync } = await import('node:fs');
  const msg = JSON.parse(readFileSync('test/fixtures/sessions/rnn-then-lstm-sotu.json', 'utf8')) as ToWebview;
  const m = new DashboardModel();
  m.receive(msg);
  const lstm = m.current!;
  const rnn = m.others()[0]!;
  assert.deepEqual([lstm.run?.model.cell, rnn.run?.model.cell], ['lstm', 'rnn']);
  assert.equal(lstm.loss.points, lstm.last!.step, 'one metric per update');
  assert.equal(lstm.loss.nonFinitePoints, 0);
  assert.ok(lstm.gradientFlow!.fromLast[0] instanceof Float32Array && lstm.gradientFlow!.fromLast[0]!.length === lstm.gradientFlow!.window);
  const gates = lstm.gates!.layers[0]!.gates.map((g) => g.name).join('');
  assert.equal(gates, 'ifgoch', `LSTM probes i f g o c h, got ${gates}`);
  assert.equal(lstm.gates!.layers[0]!.gates[0]!.data.length, lstm.gates!.tokens.length * lstm.gates!.hidden);
});

test("a task's scores: per-update and held-out series by name, the latest confusion matrix, and samples by label", () => {
  const m = new DashboardModel();
  m.receive({ v, type: 'history', current: empty('c'), others: [] });
  assert.equal(m.current!.hasScores, false, 'a language model scores nothing beside its loss');
  const step = (s: number, accuracy: number): WorkerEvent =>
    ({
      v,
      type: 'metrics',
      metrics: [
        {
          step: s,
          tokens: s * 40,
          lossNats: 0.6,
          bitsPerToken: 0.87,
          lr: 5e-3,
          gradNorm: 1,
          clipped: false,
          elapsedMs: s * 10,
          tokensPerSecond: 4000,
          examples: s * 32,
          epoch: 0,
          scores: { accuracy },
        },
      ],
    }) as WorkerEvent;
  m.receive({ v, type: 'event', runId: 'c', event: step(1, 0.5) });
  const dirty = m.receive({ v, type: 'event', runId: 'c', event: step(2, 0.75) });
  assert.ok(dirty.has('scores'));
  const confusion = {
    labels: ['female', 'male'],
    counts: [
      [40, 10],
      [5, 45],
    ],
  };
  m.receive({
    v,
    type: 'event',
    runId: 'c',
    event: {
      v,
      type: 'validation',
      metrics: { step: 2, lossNats: 0.4, bitsPerToken: 0.58, tokens: 100, examples: 100, scores: { accuracy: 0.85 }, confusion },
    },
  });
  m.receive({
    v,
    type: 'event',
    runId: 'c',
    event: { v, type: 'sample', step: 2, temperature: 0.8, prime: '', text: 'Ann\nBea', label: 'female' },
  });
  const r = m.current!;
  assert.equal(r.hasScores, true);
  assert.deepEqual(
    r.trainScores
      .get('accuracy')!
      .all()
      .map((b) => b.mean),
    [0.5, 0.75],
  );
  assert.equal(r.heldOutScores.get('accuracy')!.all()[0]!.last, 0.85);
  assert.deepEqual(r.confusion, { step: 2, ...confusion });
  assert.equal(r.samples[0]!.label, 'female');
});

test("a translator's held-out error rates and its latest table of translations, whatever the message holds", () => {
  const m = new DashboardModel();
  m.receive({ v, type: 'history', current: empty('t'), others: [] });
  const row = { line: 3, source: 'abba', target: ['AE1', 'B', 'AH0'], output: ['AE1', 'B', 'AA0'], wrong: [2], missed: [2], edits: 1 };
  const validation = (step: number, rows: unknown[]): WorkerEvent =>
    ({
      v,
      type: 'validation',
      metrics: {
        step,
        lossNats: 1,
        bitsPerToken: 1.44,
        tokens: 400,
        examples: 100,
        scores: { wordErrorRate: 0.9, tokenErrorRate: 0.4 },
        translations: rows,
      },
    }) as WorkerEvent;
  m.receive({ v, type: 'event', runId: 't', event: validation(100, [row]) });
  const dirty = m.receive({ v, type: 'event', runId: 't', event: validation(200, [{ ...row, wrong: ['2', 'x'], output: 'AE1' }]) });
  assert.ok(dirty.has('scores'));
  const r = m.current!;
  assert.equal(r.hasScores, true);
  assert.deepEqual([...r.heldOutScores.keys()], ['wordErrorRate', 'tokenErrorRate']);
  // A malformed row (a recording edited by hand) is read as far as it goes, never thrown on.
  assert.deepEqual(r.translations, { step: 200, rows: [{ ...row, output: [], wrong: [] }] });
});
