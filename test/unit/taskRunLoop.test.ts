// The worker's run loop (runLoop.ts) on the real engine (worker/engine.ts) with a task file: the start
// command's model task picks the TaskTrainer, and what the loop reports of it is what the dashboard and
// the editor read: the examples and the learned-nothing baseline, held-out accuracy and a confusion
// matrix (classify), texts per label (generate), word and token error rates with a table of held-out
// translations and the encoder's and decoder's gradient flow (translate), and a prediction for each line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TRAIN, type Task } from '../../src/engine/config.js';
import { TASK_DEFAULTS } from '../../src/engine/taskTrainer.js';
import { PROTOCOL_VERSION, type StartCommand, type WorkerCommand, type WorkerEvent } from '../../src/protocol/messages.js';
import { engine } from '../../src/worker/engine.js';
import { RunLoop } from '../../src/worker/runLoop.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const names = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8')
  .split('\n')
  .filter((_, i) => i % 17 === 0)
  .join('\n');
// Every fourth of the sample workspace's pronunciations (word<TAB>phonemes), 516 lines.
const words = readFileSync(join(root, 'sample-workspace/pronunciations.tsv'), 'utf8')
  .split('\n')
  .filter((_, i) => i % 4 === 0)
  .join('\n');

function run(task: Exclude<Task, 'lm'>, over: Partial<StartCommand> = {}) {
  const events: WorkerEvent[] = [];
  const loop = new RunLoop(engine, { post: (e) => events.push(e), now: () => performance.now(), defer: (f) => setImmediate(f) });
  const d = TASK_DEFAULTS[task];
  const start: StartCommand = {
    type: 'start',
    text: names,
    source: 'names.tsv',
    model: { task, ...d.model, hidden: 8, bidirectional: task === 'classify' },
    train: { ...DEFAULT_TRAIN, ...d.train, batch: 16, evalEvery: 10, threads: 1 },
    tokenizer: 'char',
    maxSteps: 25,
    maxMs: 0,
    autosaveEveryMs: 0,
    sampleEveryMs: 0,
    sampleLength: 20,
    temperature: 1,
    ...over,
  };
  loop.handle({ v: PROTOCOL_VERSION, ...start } as WorkerCommand);
  let id = 0;
  const request = async (method: string, ...args: unknown[]): Promise<Extract<WorkerEvent, { type: 'reply' | 'error' }>> => {
    const mine = ++id;
    loop.handle({ v: PROTOCOL_VERSION, type: 'request', id: mine, method, args } as WorkerCommand);
    await until(() => events.some((e) => (e.type === 'reply' || e.type === 'error') && e.inReplyTo === mine), `the reply to ${method}`);
    return events.find((e) => (e.type === 'reply' || e.type === 'error') && e.inReplyTo === mine) as Extract<
      WorkerEvent,
      { type: 'reply' | 'error' }
    >;
  };
  const until = async (pred: () => boolean, what: string): Promise<void> => {
    // A state, not a time: the loop yields between slices, so each turn lets it move on.
    for (let i = 0; i < 200_000 && !pred(); i++) await new Promise((r) => setImmediate(r));
    assert.ok(pred(), `never saw ${what}; events: ${events.map((e) => (e.type === 'error' ? `error ${e.message}` : e.type)).join(' ')}`);
  };
  const stop = (): void => loop.handle({ v: PROTOCOL_VERSION, type: 'stop' } as WorkerCommand);
  return { events, request, until, stop };
}

const of = <T extends WorkerEvent['type']>(events: WorkerEvent[], type: T) =>
  events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);

test('classify: the loop reports examples, held-out accuracy with its confusion matrix, and predicts the lines of the file', async () => {
  const r = run('classify');
  await r.until(() => of(r.events, 'finished').length > 0, 'finished');
  const started = of(r.events, 'started')[0]!.run;
  assert.equal(started.model.task, 'classify');
  assert.deepEqual(
    started.model.labels,
    ['female', 'male'].filter((l) => started.model.labels!.includes(l)),
  );
  assert.equal(started.examples?.lossPer, 'example');
  assert.ok(
    started.examples!.train > 5 * started.examples!.heldOut,
    `train ${started.examples!.train}, held out ${started.examples!.heldOut}`,
  );
  assert.match(started.examples!.baseline, /^always "(female|male)"$/);
  assert.ok(started.examples!.baselineScores['accuracy']! > 0.4);
  const steps = of(r.events, 'metrics').flatMap((e) => e.metrics);
  assert.deepEqual(
    steps.map((m) => m.step),
    Array.from({ length: 25 }, (_, i) => i + 1),
  );
  steps.forEach((m, i) => {
    assert.ok(m.scores!['accuracy']! >= 0 && m.scores!['accuracy']! <= 1, `update ${m.step}: accuracy ${m.scores!['accuracy']}`);
    const added = m.examples! - (i ? steps[i - 1]!.examples! : 0);
    assert.ok(added > 0 && added <= 16, `update ${m.step} added ${added} examples, a batch at most`);
  });
  assert.notEqual(steps[0]!.scores, steps[1]!.scores, 'each update keeps its own scores, not the engine reused object');
  const validations = of(r.events, 'validation').map((e) => e.metrics);
  assert.deepEqual(
    validations.map((v) => v.step),
    [0, 10, 20, 25],
  );
  for (const v of validations) {
    const c = v.confusion!;
    assert.deepEqual(c.labels, started.model.labels);
    assert.equal(
      c.counts.flat().reduce((a, b) => a + b, 0),
      started.examples!.heldOut,
    );
    const right = c.counts.reduce((a, row, k) => a + row[k]!, 0);
    assert.equal(v.scores!['accuracy'], right / started.examples!.heldOut, 'accuracy is the confusion matrix diagonal');
  }
  assert.equal(of(r.events, 'sample').length, 0, 'a classifier writes no periodic samples');

  const reply = await r.request('predictLines', [
    ['Aaron', 'male'],
    ['Zoë', 'female'],
  ]);
  assert.equal(reply.type, 'reply');
  const preds = (reply as Extract<WorkerEvent, { type: 'reply' }>).result as Array<{
    output: string;
    probability: number;
    ranked: Array<{ output: string; probability: number }>;
    unknown: number;
  }>;
  assert.equal(preds.length, 2);
  for (const p of preds) {
    assert.ok(started.model.labels!.includes(p.output));
    assert.equal(p.ranked[0]!.output, p.output);
    assert.ok(Math.abs(p.ranked.reduce((a, x) => a + x.probability, 0) - 1) < 1e-5, 'two labels: the alternatives sum to one');
  }
  const gates = await r.request('probeGates', '', '');
  assert.equal(gates.type, 'reply');
  assert.equal(of(r.events, 'gates')[0]!.probe.layers.length, 2, 'both directions of the bidirectional encoder');
  const refused = await r.request('sample', { prime: '', length: 5, temperature: 1, topK: 0, topP: 1, greedy: false, seed: 1 });
  assert.equal(refused.type, 'error');
  assert.match((refused as Extract<WorkerEvent, { type: 'error' }>).message, /does not write text/);
});

test('generate: the loop samples texts per label, scores the held-out texts in bits per character, and ranks labels for a line', async () => {
  const r = run('generate', { sampleEveryMs: 1, maxSteps: 0 });
  await r.until(
    () => of(r.events, 'sample').length >= 2 && of(r.events, 'validation').length >= 2,
    'two samples and a validation after updates',
  );
  r.stop();
  await r.until(() => of(r.events, 'finished').length > 0, 'finished');
  const started = of(r.events, 'started')[0]!.run;
  assert.equal(started.examples?.lossPer, 'token');
  const samples = of(r.events, 'sample');
  assert.ok(samples.length >= 2, `expected periodic samples, got ${samples.length}`);
  assert.deepEqual(new Set(samples.slice(0, 2).map((s) => s.label)), new Set(started.model.labels));
  for (const s of samples) assert.equal(s.text.split('\n').length, 5, `five texts for ${s.label}: ${JSON.stringify(s.text)}`);
  const v = of(r.events, 'validation').at(-1)!.metrics;
  assert.ok(v.bitsPerToken > 1 && v.bitsPerToken < 6, `bits per character ${v.bitsPerToken}`);
  assert.equal(v.scores, undefined);
  const reply = await r.request('predictLines', [['Aaron', 'male']]);
  const [p] = (reply as Extract<WorkerEvent, { type: 'reply' }>).result as Array<{ output: string; bitsPerToken: number }>;
  assert.ok(started.model.labels!.includes(p!.output));
  assert.ok(p!.bitsPerToken > 0 && Number.isFinite(p!.bitsPerToken));
  const one = await r.request('sample', {
    prime: '',
    length: 20,
    temperature: 1,
    topK: 0,
    topP: 1,
    greedy: false,
    seed: 3,
    label: 'male',
    count: 3,
  });
  assert.equal(((one as Extract<WorkerEvent, { type: 'reply' }>).result as string).split('\n').length, 3);
  const unknown = await r.request('sample', {
    prime: '',
    length: 5,
    temperature: 1,
    topK: 0,
    topP: 1,
    greedy: false,
    seed: 1,
    label: 'robot',
  });
  assert.equal(unknown.type, 'error');
});

test('translate: the loop scores held-out translations by word and token error rate, shows a table of them, and the encoder and decoder gradient flow', async () => {
  const d = TASK_DEFAULTS.translate;
  const r = run('translate', {
    text: words,
    source: 'words.tsv',
    model: { task: 'translate', ...d.model, hidden: 16, bidirectional: true },
    maxSteps: 0,
  });
  await r.until(
    () => of(r.events, 'validation').length >= 3 && of(r.events, 'gradientFlow').length >= 1,
    'three validations and a gradient-flow probe',
  );
  r.stop();
  await r.until(() => of(r.events, 'finished').length > 0, 'finished');
  const started = of(r.events, 'started')[0]!.run;
  assert.equal(started.model.task, 'translate');
  assert.equal(started.examples?.lossPer, 'token');
  const validations = of(r.events, 'validation').map((e) => e.metrics);
  for (const v of validations) {
    const { wordErrorRate, tokenErrorRate } = v.scores!;
    assert.ok(wordErrorRate! >= 0 && wordErrorRate! <= 1, `word error rate ${wordErrorRate}`);
    assert.ok(tokenErrorRate! >= 0 && tokenErrorRate! <= wordErrorRate! * 10, `token error rate ${tokenErrorRate}`);
    const rows = v.translations!;
    assert.equal(rows.length, Math.min(12, started.examples!.heldOut));
    const lines = words.split('\n');
    for (const row of rows) {
      assert.equal(lines[row.line - 1]!.split('\t')[0], row.source, 'the source as the file writes it');
      assert.equal(row.target.join(' '), lines[row.line - 1]!.split('\t')[1], 'phonemes, one token each');
      assert.ok(row.wrong.every((i) => i >= 0 && i < row.output.length));
      assert.ok(row.missed.every((i) => i >= 0 && i < row.target.length));
      assert.equal(row.edits === 0, row.output.join(' ') === row.target.join(' '));
      if (row.edits === 0) assert.deepEqual([row.wrong, row.missed], [[], []]);
      else assert.ok(row.wrong.length + row.missed.length > 0, `${row.source}: ${row.output.join(' ')} is not ${row.target.join(' ')}`);
    }
    const right = rows.filter((row) => row.wrong.length + row.missed.length === 0).length;
    assert.ok(right <= rows.length);
  }
  assert.equal(validations.at(-1)!.examples, started.examples!.heldOut, 'the final evaluation translates every held-out line');
  const tableLines = validations.map((v) => v.translations!.map((row) => row.line).join(','));
  assert.deepEqual(new Set(tableLines).size, 1, 'the table shows the same words at every evaluation, the final one of all included');
  const flow = of(r.events, 'gradientFlow')[0]!.flow;
  assert.deepEqual(flow.curves, ['encoder layer 1 →', 'encoder layer 1 ←', 'decoder layer 1']);
  for (const curve of flow.fromLast) assert.ok(curve[0]! > 0 && Number.isFinite(curve[0]!), 'every cell gets gradient from the end token');
  assert.equal(flow.tokens!.length, flow.perStep[0]!.length, 'one column per source token and decoder input');
  assert.ok(flow.tokens!.includes('⇒'), 'the decoder starts after the source');

  const reply = await r.request('predictLines', [
    ['abandon', 'AH0 B AE1 N D AH0 N'],
    ['zebra', ''],
  ]);
  assert.equal(reply.type, 'reply', JSON.stringify(reply));
  const [p, q] = (reply as Extract<WorkerEvent, { type: 'reply' }>).result as Array<{
    output: string;
    distance?: number;
    targetTokens?: number;
  }>;
  assert.match(p!.output, /^([A-Z]+[0-2]?( |$))*$/, `phonemes: ${p!.output}`);
  assert.equal(p!.targetTokens, 7);
  assert.ok(p!.distance! >= 0 && (p!.distance === 0) === (p!.output === 'AH0 B AE1 N D AH0 N'));
  assert.equal(q!.distance, undefined, 'a line without an output is not scored');
  const gates = await r.request('probeGates', 'abandon', '');
  assert.equal(gates.type, 'reply');
  const probe = of(r.events, 'gates')[0]!.probe;
  assert.deepEqual(probe.tokens, [...'abandon']);
  assert.equal(probe.layers.length, 2, "the bidirectional encoder's two directions");
  const refused = await r.request('sample', { prime: '', length: 5, temperature: 1, topK: 0, topP: 1, greedy: false, seed: 1 });
  assert.match((refused as Extract<WorkerEvent, { type: 'error' }>).message, /translator/);
});
