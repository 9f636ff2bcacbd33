// Scoring a text as `recurrent eval` does: one sequence from a zero state, in windows with the state
// carried, characters outside the vocabulary left out and counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sotuText } from '../../scripts/sotu.mjs';
import { RecurrentError } from '../../src/engine/errors.js';
import { Model } from '../../src/engine/model.js';
import { probeTokenLoss } from '../../src/engine/probes.js';
import { Rng } from '../../src/engine/rng.js';
import { scoreText } from '../../src/engine/scoring.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';

const TEXT = sotuText().slice(0, 6000);

function model(vocabSize: number, cell: 'rnn' | 'lstm' | 'gru' = 'lstm', embedding = 0): Model {
  const m = new Model({ task: 'lm', cell, hidden: 13, layers: 2, embedding, bidirectional: false, vocabSize });
  m.initialize(new Rng(7));
  return m;
}

test('the score does not depend on the window beyond float rounding, and equals the editor probe over one window', () => {
  const tok = Tokenizer.build(TEXT, 'char');
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    const m = model(tok.size, cell, cell === 'gru' ? 5 : 0);
    const small = scoreText(m, tok, TEXT, { window: 7 });
    const large = scoreText(m, tok, TEXT, { window: 4096 });
    const probe = probeTokenLoss(m, tok, TEXT, 0);
    assert.equal(small.scored, TEXT.length - 1);
    let worst = 0;
    for (let i = 0; i < small.perToken.length; i++) {
      worst = Math.max(worst, Math.abs(small.perToken[i]! - large.perToken[i]!), Math.abs(small.perToken[i]! - probe.lossNats[i]!));
    }
    assert.ok(worst < 1e-5, `${cell}: windows of 7 and 4096 and the probe differ by up to ${worst} nats`);
    assert.ok(Math.abs(small.lossNats - large.lossNats) < 1e-6, `${cell}: mean ${small.lossNats} vs ${large.lossNats}`);
  }
});

test('a character outside the vocabulary is left out: not scored, counted, and the state carries across it', () => {
  const tok = Tokenizer.build(TEXT, 'char');
  const m = model(tok.size);
  const at = 500;
  const withUnknown = TEXT.slice(0, at) + '\u2019' + TEXT.slice(at, 1000) + '\r';
  const plain = TEXT.slice(0, 1000);
  const a = scoreText(m, tok, withUnknown);
  const b = scoreText(m, tok, plain);
  assert.equal(a.tokens, 1002);
  assert.equal(a.unknown.count, 2);
  assert.deepEqual(Array.from(a.unknown.positions), [at, 1001]);
  assert.deepEqual(
    [...a.unknown.symbols.entries()],
    [
      ['\u2019', 1],
      ['\r', 1],
    ],
  );
  assert.equal(a.scored, b.scored, 'every known token but the first is scored');
  assert.ok(Number.isNaN(a.perToken[at - 1]!), 'the unknown token has no score');
  // Token `at + 1` of the text with the unknown is token `at` of the plain one, predicted from the same known context.
  assert.ok(Math.abs(a.perToken[at]! - b.perToken[at - 1]!) < 1e-6, `${a.perToken[at]} vs ${b.perToken[at - 1]}`);
  assert.ok(Math.abs(a.lossNats - b.lossNats) < 1e-6, `the means agree: ${a.lossNats} vs ${b.lossNats}`);
  assert.throws(
    () => scoreText(m, tok, withUnknown, { policy: 'error' }),
    (e: unknown) => e instanceof RecurrentError && /2 character\(s\).*"\u2019" \(U\+2019\) at offset 500/.test(e.message),
  );
});

test('unknown characters at the start: scoring begins at the first known one', () => {
  const tok = Tokenizer.build(TEXT, 'char');
  const m = model(tok.size);
  const s = scoreText(m, tok, '\u2019\u2019' + TEXT.slice(0, 50));
  assert.equal(s.unknown.count, 2);
  assert.equal(s.scored, 49);
  assert.ok(Number.isNaN(s.perToken[0]!) && Number.isNaN(s.perToken[1]!), 'nothing to predict the first known token from');
  assert.ok(Number.isFinite(s.perToken[2]!));
  const none = scoreText(m, tok, '\u2019\u2019');
  assert.equal(none.scored, 0);
  assert.ok(Number.isNaN(none.lossNats));
});

test('a word vocabulary scores words it lacks as its unknown token, as training did, and counts them', () => {
  const tok = Tokenizer.build(TEXT, 'word', { maxVocab: 200 });
  const m = model(tok.size);
  const s = scoreText(m, tok, TEXT.slice(0, 2000));
  assert.ok(s.unknown.count > 0, 'rare words fall outside a vocabulary of 200');
  assert.equal(s.scored, s.tokens - 1);
  assert.equal(s.unknown.positions.length, 0);
});

test('a long text is scored in the memory of one window', () => {
  const tok = Tokenizer.build(TEXT, 'char');
  const m = model(tok.size, 'rnn');
  const before = m.arena.allocatedFloats;
  scoreText(m, tok, TEXT.slice(0, 1000));
  const small = m.arena.allocatedFloats - before;
  const long = TEXT.repeat(60);
  const mid = m.arena.allocatedFloats;
  const s = scoreText(m, tok, long);
  assert.equal(s.scored, long.length - 1);
  assert.equal(m.arena.allocatedFloats - mid, small, 'the model arena grows by one window whatever the text length');
});
