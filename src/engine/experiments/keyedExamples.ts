// The bidirectional experiment's examples (readingDirection.ts), a task file for the classifier: each line
// is a key (`A`-`H`) and `gap` random distractors (`a`-`z`), the key at the start or at the end, and its
// label is the key:
//
//   Cqhxbmwoaz	C     (start: the forward reader must carry the key to its last step)
//   qhxbmwoazC	C     (end: the forward reader reads it last)
//
// The distractors are drawn at random (not in order, as recallData.ts's are: a classifier has no loss on
// them to learn), so that held-out lines are new lines. The generator is the engine's seeded sfc32.
import { RecurrentError } from '../errors.js';
import { Rng } from '../rng.js';
import { DISTRACTORS, RECALL_KEYS } from './recallData.js';

export type KeyPlace = 'start' | 'end';

/** `count` lines `text<TAB>key\n` with the key at `place` of `gap` distractors, from `seed`. */
export function keyedExamples(gap: number, place: KeyPlace, count: number, seed: number): string {
  if (!Number.isInteger(gap) || gap < 0) throw new RecurrentError(`the gap must be a whole number of characters, got ${gap}`);
  const rng = new Rng(seed);
  let out = '';
  for (let i = 0; i < count; i++) {
    const key = RECALL_KEYS[rng.int(RECALL_KEYS.length)]!;
    let noise = '';
    for (let j = 0; j < gap; j++) noise += DISTRACTORS[rng.int(DISTRACTORS.length)];
    out += `${place === 'start' ? key + noise : noise + key}\t${key}\n`;
  }
  return out;
}
