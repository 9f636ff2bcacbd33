// The recall task's data: the lines, the layout that makes every language-model window one whole line
// from a zero state, the held-out split, and the PyTorch script's generator, which must write every
// line the engine writes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { keyedExamples } from '../../src/engine/experiments/keyedExamples.js';
import { recallCorpus, recallLineLength, recallLines, RECALL_KEYS } from '../../src/engine/experiments/recallData.js';
import { validateTrainConfig } from '../../src/engine/config.js';
import { Trainer } from '../../src/engine/trainer.js';

test('a recall line is the key, the alphabet in order from a random letter, the mark and the key again', () => {
  const lines = recallLines(30, 200, 7);
  assert.equal(lines.length, 200);
  const keys = new Set<string>();
  for (const line of lines) {
    assert.equal(line.length, recallLineLength(30));
    assert.match(line, /^([A-H])([a-z]{30})=\1\n$/);
    keys.add(line[0]!);
    const d = line.slice(1, 31);
    for (let i = 1; i < d.length; i++)
      assert.equal((d.charCodeAt(i) - d.charCodeAt(i - 1) + 26) % 26, 1, `distractors in order in ${line}`);
  }
  assert.equal(keys.size, RECALL_KEYS.length, 'expected every key among 200 lines');
  assert.deepEqual(recallLines(30, 200, 7), lines, 'expected the same lines from the same seed');
  assert.notDeepEqual(recallLines(30, 200, 8), lines);
});

test('the held-out split is exactly the held-out lines, and every training window is one line from a zero state', () => {
  for (const [gap, batch, perStream] of [
    [5, 4, 3],
    [20, 32, 32],
    [2, 8, 8],
  ] as const) {
    const L = recallLineLength(gap);
    const c = recallCorpus(gap, { batch, perStream, heldOut: 9, seed: 3 });
    assert.equal(c.text.length, (batch * perStream + 1 + 9) * L);
    assert.equal(c.text.slice(-9 * L), c.heldOut.join(''));
    const t = Trainer.create(
      c.text,
      { task: 'lm', cell: 'rnn', hidden: 4, layers: 1, embedding: 0, bidirectional: false },
      validateTrainConfig({ batch, k1: L, k2: L, resetEvery: L, valShare: c.valShare, evalEvery: 0 }),
      'char',
    );
    try {
      assert.equal(t.validationTokens, 9 * L, `gap ${gap}: expected the held-out split to hold the 9 held-out lines`);
      // Two passes over the training lines: each window starts at a line's key, and every stream's state is zeroed before it.
      for (let u = 0; u < 2 * perStream + 3; u++) {
        t.step();
        for (const [a] of t.lastWindows())
          assert.equal(a % L, 0, `gap ${gap}, update ${u + 1}: a window starts at ${a}, not at a line start`);
        const fresh = new Uint8Array(batch);
        (t as unknown as { streams: { freshStarts(f: Uint8Array, u: number): void } }).streams.freshStarts(fresh, t.updates);
        assert.ok(
          fresh.every((f) => f === 1),
          `gap ${gap}: expected every stream to start its next window from a zero state`,
        );
      }
    } finally {
      t.close();
    }
  }
});

test(
  "scripts/recall_torch.py's generator writes the engine's lines, byte for byte",
  { skip: existsSync('/usr/bin/python3') ? false : 'skipped: no /usr/bin/python3' },
  () => {
    const c = recallCorpus(13, { batch: 6, perStream: 5, heldOut: 9, seed: 4242 });
    const r = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        "import sys, hashlib; sys.path.insert(0, 'scripts'); import recall_torch as r; t, h = r.recall_corpus(13, 6, 5, 9, 4242); print(hashlib.sha256(''.join(t + h).encode()).hexdigest())",
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0 && /No module named 'torch'/.test(r.stderr)) return; // the script imports torch at the top
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), createHash('sha256').update(c.text).digest('hex'));
  },
);

test("the bidirectional experiment's lines: the key and random distractors, the key at the start or the end, labelled with the key", () => {
  for (const place of ['start', 'end'] as const) {
    const text = keyedExamples(40, place, 300, 5);
    const lines = text.split('\n').slice(0, -1);
    assert.equal(lines.length, 300);
    for (const line of lines) assert.match(line, place === 'start' ? /^([A-H])[a-z]{40}\t\1$/ : /^[a-z]{40}([A-H])\t\1$/);
    assert.equal(new Set(lines.map((l) => l.at(-1))).size, RECALL_KEYS.length, 'expected every key among 300 lines');
    assert.ok(new Set(lines).size > 295, 'expected random distractors: held-out lines that are new lines');
    assert.equal(keyedExamples(40, place, 300, 5), text, 'expected the same lines from the same seed');
  }
});
