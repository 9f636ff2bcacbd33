import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sotuText } from '../../scripts/sotu.mjs';
import { checkDocumentKind, checkTrainingText, firstPart } from '../../src/extension/textChecks.js';

test('empty and whitespace-only texts are refused with what to do', () => {
  assert.throws(() => checkTrainingText('', 'a.txt', 'char', 50), /^RecurrentError: a\.txt is empty: a model needs text to learn from/);
  assert.throws(() => checkTrainingText(' \n\t', 'a.txt', 'char', 50), /a\.txt is empty \(only whitespace\)/);
});

test('binary content is refused', () => {
  assert.throws(() => checkTrainingText('PK\u0003\u0004\0\0abc', 'a.zip', 'char', 50), /a\.zip looks binary/);
  assert.throws(() => checkTrainingText('\ufffd'.repeat(50) + 'x'.repeat(100), 'b.bin', 'char', 50), /looks binary/);
});

test('a text with a single distinct symbol is refused, for chars and for words', () => {
  assert.throws(
    () => checkTrainingText('aaaaaaa', 'a.txt', 'char', 50),
    /holds only one distinct character \("a"\): there is nothing to predict/,
  );
  assert.throws(() => checkTrainingText('la la  la\nla', 'a.txt', 'word', 50), /one distinct word \("la"\)/);
  assert.doesNotThrow(() => checkTrainingText('ab', 'a.txt', 'char', 50));
});

test('a real text passes, and the size limit is reported rather than thrown', () => {
  const sotu = sotuText().slice(0, 200000);
  assert.deepEqual(checkTrainingText(sotu, 'sotu.txt', 'char', 50), { tooLarge: false, limitChars: 50 * 1024 * 1024 });
  const v = checkTrainingText(sotu, 'sotu.txt', 'char', 0.1);
  assert.equal(v.tooLarge, true);
  assert.equal(v.limitChars, 104857);
});

test('the first part never splits a surrogate pair and prefers a line end', () => {
  const text = 'ab\ud83d\ude00cd';
  assert.equal(firstPart(text, 3), 'ab', 'expected the half emoji left out');
  const lines = 'x'.repeat(995) + '\n' + 'y'.repeat(100);
  assert.equal(firstPart(lines, 1000), 'x'.repeat(995) + '\n');
  assert.equal(firstPart('abc', 10), 'abc');
});

test('notebook cells and output panels are not trainable files', () => {
  assert.throws(() => checkDocumentKind('vscode-notebook-cell', 'cell 1'), /cell 1 is a notebook cell, not a text file/);
  assert.throws(() => checkDocumentKind('output', 'Log'), /is an output panel/);
  assert.doesNotThrow(() => checkDocumentKind('file', 'a.txt'));
  assert.doesNotThrow(() => checkDocumentKind('untitled', 'Untitled-1'));
});
