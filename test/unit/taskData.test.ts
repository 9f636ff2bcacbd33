// The task file's data path: line-numbered errors, the seeded held-out sample, unknown characters,
// length-bucketed batches, and task checkpoints (format 2) beside language models (still format 1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LengthBatches } from '../../src/engine/buckets.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint.js';
import { decodeSafetensors } from '../../src/engine/safetensors.js';
import { Rng } from '../../src/engine/rng.js';
import { encodeExamples, heldOutIndices, labelSet, splitExamples, type Sequences } from '../../src/engine/taskData.js';
import { batchKeys, TaskTrainer } from '../../src/engine/taskTrainer.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { parseTsv } from '../../src/engine/tsv.js';

test('a task file is read line by line; CRLF and blank lines are fine', () => {
  const ex = parseTsv('Aaron\tmale\r\n\nAbby\tfemale\n', 'names.tsv');
  assert.deepEqual(ex, [
    { input: 'Aaron', output: 'male', line: 1 },
    { input: 'Abby', output: 'female', line: 3 },
  ]);
  assert.deepEqual(labelSet(ex), ['male', 'female']);
});

test('a bad line stops the run with its line number, what is wrong and how many more there are', () => {
  assert.throws(
    () => parseTsv('a\tx\nb x\nc\tx\td\n\tx\n', 'f.tsv'),
    /^RecurrentError: f\.tsv:2: the line has no tab .*\(2 more lines are not input<TAB>output either\)/,
  );
  assert.throws(() => parseTsv('a\tx\nb\t\n', 'f.tsv'), /f\.tsv:2: the line has an empty output/);
  assert.throws(() => parseTsv('a\tx\n\tx\n', 'f.tsv'), /f\.tsv:2: the line has an empty input/);
  assert.throws(() => parseTsv('a\tx\tz\n', 'f.tsv'), /f\.tsv:1: the line has 2 tabs/);
  assert.throws(() => parseTsv('\n\n', 'f.tsv'), /f\.tsv has no examples/);
});

test('the held-out share is a seeded random sample of the lines, not the tail', () => {
  const a = heldOutIndices(1000, 0.1, 7);
  assert.equal(a.length, 100);
  assert.deepEqual(a, heldOutIndices(1000, 0.1, 7), 'the same seed holds out the same lines');
  assert.notDeepEqual(a, heldOutIndices(1000, 0.1, 8));
  assert.ok(a[0]! < 100 && a[99]! > 900, `spread over the file: ${a[0]} .. ${a[99]}`);
  const ex = Array.from({ length: 50 }, (_, i) => ({ input: `n${i}`, output: 'x', line: i + 1 }));
  const { train, heldOut } = splitExamples(ex, 0.2, 1);
  assert.equal(train.length + heldOut.length, 50);
  assert.equal(heldOut.length, 10);
});

test('characters the vocabulary lacks are left out and counted with their lines; labels it lacks are refused', () => {
  const tok = Tokenizer.build('abc', 'char');
  const s = encodeExamples(
    [
      { input: 'abx', output: 'p', line: 4 },
      { input: 'cab', output: 'q', line: 5 },
    ],
    tok,
    ['p', 'q'],
    { maxLength: 2, endToken: false, source: 'f.tsv' },
  );
  assert.deepEqual(
    s.ids.map((x) => [...x]),
    [
      [0, 1],
      [2, 0],
    ],
  );
  assert.equal(s.unknown, 1);
  assert.deepEqual(s.unknownAt, [{ line: 4, token: 'x' }]);
  assert.equal(s.truncated, 1);
  assert.throws(
    () => encodeExamples([{ input: 'a', output: 'r', line: 9 }], tok, ['p', 'q'], { maxLength: 0, endToken: false, source: 'f.tsv' }),
    /f\.tsv:9: the label "r" is not one the model knows/,
  );
});

test('length batches visit every example once per epoch, each batch of nearly one length', () => {
  const rng = new Rng(3);
  const lengths = Array.from({ length: 103 }, () => 1 + rng.int(12));
  const batches = new LengthBatches(lengths, 8);
  for (let epoch = 1; epoch <= 2; epoch++) {
    const seen = new Set<number>();
    let padding = 0;
    for (let k = 0; k < batches.count; k++) {
      const { start, size } = batches.nextBatch(rng);
      const longest = batches.longest(start, size);
      for (let r = 0; r < size; r++) {
        const e = batches.example(start + r);
        seen.add(e);
        padding += longest - lengths[e]!;
      }
    }
    assert.equal(batches.epoch, epoch);
    assert.equal(seen.size, 103, 'every example once');
    assert.ok(padding < 103, `padding stays small (${padding} positions for 103 examples of 1-12)`);
  }
});

test('translate batches by target length after source length, so the decoder runs few padded steps', () => {
  const rng = new Rng(5);
  const ids: Int32Array[] = [];
  const targets: Int32Array[] = [];
  for (let i = 0; i < 4000; i++) {
    const n = 1 + rng.int(10);
    ids.push(new Int32Array(n));
    targets.push(new Int32Array(Math.max(1, n - 2 + rng.int(5))));
  }
  const set: Sequences = {
    ids,
    targets,
    labels: new Int32Array(4000),
    lines: new Int32Array(4000),
    unknown: 0,
    unknownAt: [],
    unknownSymbols: new Map(),
    truncated: 0,
  };
  // decoder steps past each row's target, and source lengths per batch, over one epoch
  const epoch = (keys: number[]) => {
    const batches = new LengthBatches(keys, 16);
    let padding = 0;
    let mixedSources = 0;
    for (let k = 0; k < batches.count; k++) {
      const { start, size } = batches.nextBatch(rng);
      const rows = Array.from({ length: size }, (_, r) => batches.example(start + r));
      const longest = Math.max(...rows.map((e) => targets[e]!.length));
      for (const e of rows) padding += longest - targets[e]!.length;
      if (new Set(rows.map((e) => ids[e]!.length)).size > 1) mixedSources++;
    }
    return { padding, mixedSources, batches: batches.count };
  };
  const bySource = epoch(ids.map((s) => s.length));
  const byBoth = epoch(batchKeys(set));
  assert.ok(bySource.padding > 4000, `by source length alone the decoder pads (${bySource.padding} steps)`);
  assert.ok(byBoth.padding * 5 < bySource.padding, `by both, it pads ${byBoth.padding} steps`);
  assert.ok(
    byBoth.mixedSources <= 10,
    `a batch still holds one source length but at the joins (${byBoth.mixedSources} of ${byBoth.batches})`,
  );
  const noTargets = { ...set, targets: undefined };
  assert.deepEqual(
    batchKeys(noTargets),
    ids.map((s) => s.length),
    'classify and generate batch by length',
  );
});

test('a task checkpoint is format 2 with its task, labels and head; a language model is still written as format 1', () => {
  const text = 'Ann\tf\nBob\tm\nCy\tm\nDee\tf\nEve\tf\n';
  for (const task of ['classify', 'generate'] as const) {
    const t = TaskTrainer.create(text, 'n.tsv', { task, train: { valShare: 0.2 } });
    t.step();
    const bytes = encodeCheckpoint(t.toCheckpoint());
    assert.equal(decodeSafetensors(bytes).metadata['recurrent.format'], '2');
    const back = decodeCheckpoint(bytes);
    assert.equal(back.config.task, task);
    assert.deepEqual(back.config.labels, ['f', 'm']);
    assert.ok(back.tensors.has(task === 'classify' ? 'classifier.weight' : 'label_embedding.weight'));
  }
  const lm = { task: 'lm' as const, cell: 'gru' as const, hidden: 2, layers: 1, embedding: 0, bidirectional: false, vocabSize: 2 };
  const shapes = {
    'rnn.weight_ih_l0': [6, 2],
    'rnn.weight_hh_l0': [6, 2],
    'rnn.bias_ih_l0': [6],
    'rnn.bias_hh_l0': [6],
    'decoder.weight': [2, 2],
    'decoder.bias': [2],
  };
  const tensors = new Map(
    Object.entries(shapes).map(([name, shape]) => [name, { name, shape, data: new Float32Array(shape.reduce((a, b) => a * b)) }]),
  );
  const bytes = encodeCheckpoint({ config: lm, tokenizer: { kind: 'char', vocab: ['a', 'b'] }, tensors, metadata: {} });
  assert.equal(decodeSafetensors(bytes).metadata['recurrent.format'], '1');
  assert.equal(decodeCheckpoint(bytes).config.task, 'lm');
});

test('task training steps and held-out scoring allocate no buffers after the trainer is made', () => {
  const text = Array.from(
    { length: 60 },
    (_, i) => `${'abcdefg'.slice(0, 1 + (i % 7))}${i % 3 === 0 ? 'x' : 'y'}\t${i % 2 ? 'p' : 'q'}`,
  ).join('\n');
  for (const task of ['classify', 'generate'] as const) {
    const t = TaskTrainer.create(text, 'f.tsv', { task, model: { hidden: 8, bidirectional: task === 'classify', layers: 2 } });
    t.step();
    t.validate();
    const before = t.model.arena.allocatedFloats;
    for (let i = 0; i < 20; i++) t.step();
    t.validate();
    assert.equal(t.model.arena.allocatedFloats, before, `${task}: the arena grew while training`);
  }
});
