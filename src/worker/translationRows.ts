// What the dashboard and the editor show of a translation: which of its tokens a shortest edit to the
// target touches (the same edit distance the token error rate counts), so a wrong translation shows
// where it goes wrong rather than only that it does.
import type { Sequences } from '../engine/taskData.js';
import type { Tokenizer } from '../engine/tokenizer.js';
import type { TranslationRow } from '../engine/measurements.js';

/** Held-out translations the dashboard's table shows: the first of the scored sample, the same ones at every evaluation. */
export const TABLE_ROWS = 12;

/**
 * A shortest edit from `output` to `target` (Levenshtein, a -1 in target matching nothing): the output
 * tokens it replaces or deletes, and the target tokens it inserts or replaces.
 */
export function alignTokens(output: ArrayLike<number>, target: ArrayLike<number>): { wrong: number[]; missed: number[]; edits: number } {
  const n = output.length;
  const m = target.length;
  const d = new Int32Array((n + 1) * (m + 1));
  const at = (i: number, j: number): number => i * (m + 1) + j;
  for (let i = 0; i <= n; i++) d[at(i, 0)] = i;
  for (let j = 0; j <= m; j++) d[at(0, j)] = j;
  const same = (i: number, j: number): boolean => output[i - 1] === target[j - 1] && target[j - 1]! >= 0;
  for (let i = 1; i <= n; i++)
    for (let j = 1; j <= m; j++)
      d[at(i, j)] = Math.min(d[at(i - 1, j)]! + 1, d[at(i, j - 1)]! + 1, d[at(i - 1, j - 1)]! + (same(i, j) ? 0 : 1));
  const wrong: number[] = [];
  const missed: number[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[at(i, j)] === d[at(i - 1, j - 1)]! + (same(i, j) ? 0 : 1)) {
      if (!same(i, j)) {
        wrong.push(i - 1);
        missed.push(j - 1);
      }
      i--;
      j--;
    } else if (i > 0 && d[at(i, j)] === d[at(i - 1, j)]! + 1) wrong.push(--i);
    else missed.push(--j);
  }
  return { wrong: wrong.reverse(), missed: missed.reverse(), edits: d[at(n, m)]! };
}

/**
 * The table's rows: the examples of `seqs` on the file lines `shown` (the first TABLE_ROWS of the sample scored
 * while training, so a full evaluation at the end shows the same words), with their translations `outputs`.
 */
export function translationRows(
  seqs: Sequences,
  outputs: readonly Int32Array[],
  fileLines: readonly string[],
  target: Tokenizer,
  shown: ArrayLike<number>,
): TranslationRow[] {
  const at = new Map<number, number>();
  seqs.lines.forEach((line, e) => at.set(line, e));
  const rows: TranslationRow[] = [];
  for (let i = 0; i < Math.min(TABLE_ROWS, shown.length); i++) {
    const line = shown[i]!;
    const e = at.get(line);
    if (e === undefined || outputs[e] === undefined) continue;
    const ref = seqs.references![e]!;
    const out = outputs[e]!;
    const text = (fileLines[line - 1] ?? '').replace(/\r$/, '');
    const tab = text.indexOf('\t');
    rows.push({
      line,
      source: tab < 0 ? text : text.slice(0, tab),
      target: Array.from(ref, (id) => (id >= 0 ? target.token(id) : '?')),
      output: Array.from(out, (id) => target.token(id)),
      ...alignTokens(out, ref),
    });
  }
  return rows;
}
