// The whole text's per-token loss in parallel streams (textLoss.ts, the editor's heat of a large file)
// equals the batch-1 probe's (probes.ts) read from the same start: from the text's start when the
// context covers it, from `context` tokens before each stretch otherwise; characters the model cannot
// read have no loss and the text after them is read afresh; on one thread and on two, and again after
// the training threads have ended.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_TRAIN, type TrainConfig } from '../../src/engine/config.js';
import { TextLoss } from '../../src/engine/textLoss.js';
import { Trainer } from '../../src/engine/trainer.js';

const TEXT = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8');
const MODEL = { task: 'lm' as const, cell: 'lstm' as const, hidden: 24, layers: 2, embedding: 0, bidirectional: false };

function trainer(threads: number): Trainer {
  const train: TrainConfig = { ...DEFAULT_TRAIN, batch: 6, k1: 16, k2: 16, valShare: 0.1, evalEvery: 0, threads };
  const t = Trainer.create(TEXT, MODEL, train, 'char');
  for (let i = 0; i < 5; i++) t.step();
  return t;
}

/** The batch-1 probe's loss of each token of `text` after the first, read from its start. */
function probed(t: Trainer, text: string): Float32Array {
  return t.probeTokenLoss(text, 0).lossNats;
}

/** Float32 sums over other batch layouts differ in the last bits; a wrong state or token differs by far more. */
function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= 2e-5 * Math.max(1, Math.abs(want)), `${what}: expected ${want} (batch-1 probe), got ${got}`);
}

for (const threads of [1, 2]) {
  test(`${threads} thread(s): with context over the whole text, every token's loss is the batch-1 probe's`, () => {
    const t = trainer(threads);
    try {
      const text = TEXT.slice(0, 3000);
      const ids = t.tokenizer.encode(text);
      const job = new TextLoss(ids, t.lossWindows(), 100_000);
      assert.equal(job.streams, 6, 'all six streams of the batch read, on the training threads too');
      assert.equal(job.run(), true);
      const want = probed(t, text);
      assert.equal(job.lossNats.length, want.length);
      want.forEach((w, i) => close(job.lossNats[i]!, w, `token ${i + 1}`));
    } finally {
      t.close();
    }
  });

  test(`${threads} thread(s): a stretch reads its context afresh, and unreadable tokens cut the text`, () => {
    const t = trainer(threads);
    try {
      const text = TEXT.slice(0, 6000);
      const ids = t.tokenizer.encode(text);
      const context = 64;
      // Stretches of 1000 predictions: the one from 2000 reads positions 1936 on.
      const job = new TextLoss(ids, t.lossWindows(), context);
      job.run();
      const from = 2000;
      const fresh = probed(t, text.slice(from - context, from + 301));
      for (let i = 0; i < 300; i++) close(job.lossNats[from + i]!, fresh[context + i]!, `token ${from + i + 1}`);
      // -1 at 4000: no loss for it or for the token after it; the text from 4001 is read from its start.
      const cut = Int32Array.from(ids);
      cut[4000] = -1;
      const after = new TextLoss(cut, t.lossWindows(), context);
      after.run();
      assert.ok(
        Number.isNaN(after.lossNats[3999]!) && Number.isNaN(after.lossNats[4000]!),
        'no prediction of or from the unreadable token',
      );
      const resumed = probed(t, text.slice(4001, 4200));
      for (let i = 0; i < 150; i++) close(after.lossNats[4001 + i]!, resumed[i]!, `token ${4002 + i} after the cut`);
      close(after.lossNats[3998]!, job.lossNats[3998]!, 'the token before the cut');
    } finally {
      t.close();
    }
  });
}

test('after the training threads end, the loss runs on the training thread alone and gives the same values', () => {
  const t = trainer(2);
  const text = TEXT.slice(0, 2500);
  const ids = t.tokenizer.encode(text);
  const before = new TextLoss(ids, t.lossWindows(), 100_000);
  before.run();
  t.close();
  const after = new TextLoss(ids, t.lossWindows(), 100_000);
  assert.equal(after.streams, 3, "the training thread's three streams");
  after.run();
  before.lossNats.forEach((w, i) => close(after.lossNats[i]!, w, `token ${i + 1}`));
});

test('run(until) stops between windows and goes on where it stopped', () => {
  const t = trainer(1);
  try {
    const ids = t.tokenizer.encode(TEXT.slice(0, 4000));
    const whole = new TextLoss(ids, t.lossWindows(), 200);
    whole.run();
    const sliced = new TextLoss(ids, t.lossWindows(), 200);
    let slices = 0;
    while (!sliced.run(0)) slices++;
    assert.ok(slices > 3, `expected several windows, got ${slices}`);
    assert.deepEqual(sliced.lossNats, whole.lossNats);
  } finally {
    t.close();
  }
});
