// Text the model never saw in training (a character absent from its training text) in the editor: the
// probe reads the stretches around it from a fresh state each, so the rest keeps its heat and hover, and
// only the unknown character and the token after it go without a prediction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TRAIN, type ModelConfig } from '../../src/engine/config.js';
import { Trainer } from '../../src/engine/trainer.js';
import { bucketByHeat } from '../../src/extension/editor/heatScale.js';
import { hoverFacts, hoverMarkdown } from '../../src/extension/editor/hoverText.js';
import { EditorProbes } from '../../src/worker/editorProbes.js';

const TRAINING = 'the cat sat on the mat; the rat ate the hat. '.repeat(4);
const MODEL: Omit<ModelConfig, 'vocabSize'> = { task: 'lm', cell: 'lstm', hidden: 6, layers: 1, embedding: 0, bidirectional: false };
const trainer = Trainer.create(TRAINING, MODEL, { ...DEFAULT_TRAIN, batch: 2, k1: 4, k2: 4, valShare: 0.1, evalEvery: 0 }, 'char');

const probes = new EditorProbes(() => TRAINING);

test('a character the model never saw cuts the probe into stretches instead of failing it', () => {
  const before = 'the cat ';
  const after = 'sat on the hat';
  const text = `${before}\u00e9${after}`; // é never occurs in TRAINING
  assert.throws(() => trainer.probeTokenLoss(text), /not in the model's vocabulary/, 'the engine alone refuses the text');
  const p = probes.probe(trainer, text, 5);
  const tl = p.tokenLoss;
  const u = before.length;
  assert.deepEqual(p.unknown, [u], `expected token ${u} (é) reported unknown, got ${JSON.stringify(p.unknown)}`);
  assert.equal(tl.tokens.join(''), text, 'the tokens cover the whole text');
  assert.deepEqual(
    Array.from(tl.offsets),
    Array.from({ length: text.length + 1 }, (_, i) => i),
    'one offset per character, then the length',
  );
  assert.equal(tl.lossNats.length, text.length - 1);
  // Each stretch is read as if alone: its losses and guesses equal a probe of that stretch by itself.
  const first = trainer.probeTokenLoss(before, 5);
  const second = trainer.probeTokenLoss(after, 5);
  for (let j = 1; j < before.length; j++) assert.equal(tl.lossNats[j - 1], first.lossNats[j - 1], `loss of token ${j} before é`);
  for (let j = 1; j < after.length; j++) {
    assert.equal(tl.lossNats[u + j], second.lossNats[j - 1], `loss of token ${j} after é`);
    assert.deepEqual(
      Array.from(tl.topIds.subarray((u + j) * 5, (u + j + 1) * 5)),
      Array.from(second.topIds.subarray((j - 1) * 5, j * 5)),
      `guesses for token ${j} after é`,
    );
  }
  // No prediction for é itself (index u, lossNats[u-1]) nor for the token after it (lossNats[u]).
  assert.ok(
    Number.isNaN(tl.lossNats[u - 1]!) && Number.isNaN(tl.lossNats[u]!),
    `expected NaN, got ${tl.lossNats[u - 1]} and ${tl.lossNats[u]}`,
  );
  assert.deepEqual(Array.from(tl.topIds.subarray((u - 1) * 5, (u + 1) * 5)), new Array(10).fill(-1));
  assert.ok(!('-1' in p.topTokens), 'no text for the "no guess" id');
  const r = p.reach!;
  assert.equal(r.count, text.length);
  assert.equal(r.norms[u], 0, 'no gradient reaches a character the model cannot read');
  assert.equal(r.saturation.length, 4 * text.length);
});

test('the heat skips the unknown character and the token after it, and keeps the rest', () => {
  const text = 'the cat \u00e9sat on the hat';
  const p = probes.probe(trainer, text, 5);
  const tl = p.tokenLoss;
  const drawn = bucketByHeat(tl.offsets, tl.lossNats, 1, p.unknown).flat();
  const starts = new Set(drawn.map(([a]) => a));
  assert.ok(!starts.has(8) && !starts.has(9), `expected no heat on é (8) or the s after it (9), got starts ${[...starts].join(',')}`);
  const untrained = bucketByHeat(tl.offsets, tl.lossNats, 1).flat().length;
  assert.equal(drawn.length, untrained - 2, 'without the unknown list the NaNs would be drawn as the hottest tokens');
  assert.ok(
    drawn.length > 10,
    `an untrained model finds most tokens surprising: expected heat on the other ${text.length - 3} tokens, got ${drawn.length}`,
  );
});

test('the hover names an unknown character, a token read from a fresh state, and windows from the stretch start', () => {
  const text = 'the cat \u00e9sat on the hat';
  const p = probes.probe(trainer, text, 5);
  const at = hoverFacts(p, 8, 'lstm', 0);
  assert.equal(at.unseen, 'token');
  assert.equal(at.lossNats, null);
  assert.deepEqual(at.top, []);
  assert.equal(at.reach, null);
  assert.match(hoverMarkdown(at), /Never seen in training/);
  const next = hoverFacts(p, 9, 'lstm', 0);
  assert.equal(next.unseen, 'after');
  assert.equal(next.lossNats, null);
  assert.match(hoverMarkdown(next), /Follows a character the model never saw/);
  // 'sat on the hat' starts at 9 and is cut into windows of k2 = 4 from there: [9, 13), [13, 17), ...
  const later = hoverFacts(p, 10, 'lstm', 0);
  assert.equal(later.unseen, undefined);
  assert.equal(later.top.length, 5);
  assert.ok(later.lossNats !== null && Number.isFinite(later.lossNats), `expected a loss for the a of sat, got ${later.lossNats}`);
  assert.equal(later.reach?.stepsToEnd, 2, `expected position 10 two steps before its window's end (12), got ${later.reach?.stepsToEnd}`);
  assert.equal(hoverFacts(p, 6, 'lstm', 0).reach?.stepsToEnd, 0, 'the t before é ends the windows of its stretch, [0, 4) and [4, 7)');
  assert.equal(hoverFacts(p, 7, 'lstm', 0).reach, null, 'the last token before é predicts nothing in its stretch');
});

test('an unknown character outside the basic plane is one token two code units wide', () => {
  const text = 'a cat\u{1F408} sat';
  const p = probes.probe(trainer, text, 3);
  const tl = p.tokenLoss;
  assert.deepEqual(p.unknown, [5]);
  assert.equal(tl.tokens[5], '\u{1F408}');
  assert.equal(tl.offsets[6]! - tl.offsets[5]!, 2);
  assert.equal(tl.tokens.length, 10);
  assert.equal(tl.offsets[10], text.length);
});

test('text of known characters only is probed in one piece, with no unknown list', () => {
  const text = 'the rat sat on the mat';
  const p = probes.probe(trainer, text, 5);
  assert.equal(p.unknown, undefined);
  assert.deepEqual(Array.from(p.tokenLoss.lossNats), Array.from(trainer.probeTokenLoss(text, 5).lossNats));
  const only = probes.probe(trainer, '\u00e9\u00e8', 5);
  assert.deepEqual(only.unknown, [0, 1], 'a text of unknown characters only is two unknown tokens');
  assert.equal(only.tokenLoss.tokens.join(''), '\u00e9\u00e8');
});
