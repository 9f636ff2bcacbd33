// Which tokens of a translation the dashboard marks: those a shortest edit to the target touches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editDistance } from '../../src/engine/taskEval.js';
import { alignTokens } from '../../src/worker/translationRows.js';

test('the marked tokens are a shortest edit: as many as the edit distance counts, none for a right translation', () => {
  assert.deepEqual(alignTokens([1, 2, 3], [1, 2, 3]), { wrong: [], missed: [], edits: 0 });
  assert.deepEqual(alignTokens([1, 9, 3], [1, 2, 3]), { wrong: [1], missed: [1], edits: 1 }, 'a substitution marks both');
  assert.deepEqual(alignTokens([1, 2, 2, 3], [1, 2, 3]), { wrong: [1], missed: [], edits: 1 }, 'an extra token (either 2 would do)');
  assert.deepEqual(alignTokens([1, 3], [1, 2, 3]), { wrong: [], missed: [1], edits: 1 }, 'a missing token');
  assert.deepEqual(alignTokens([], [4, 5]), { wrong: [], missed: [0, 1], edits: 2 });
  assert.deepEqual(alignTokens([4], [-1]), { wrong: [0], missed: [0], edits: 1 }, 'a target token outside the vocabulary matches nothing');
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 200; i++) {
    const a = Array.from({ length: rand(8) }, () => rand(4));
    const b = Array.from({ length: rand(8) }, () => rand(4));
    const { wrong, missed, edits } = alignTokens(a, b);
    // A substitution marks one of each, an insertion or deletion one: the distance lies between.
    const d = editDistance(a, b);
    assert.equal(edits, d);
    assert.ok(Math.max(wrong.length, missed.length) <= d && d <= wrong.length + missed.length, `${a} vs ${b}: ${d}`);
    assert.equal(a.length - wrong.length, b.length - missed.length, 'the unmarked tokens pair up');
  }
});
