// The recall task the memory experiments train on (Bengio, Simard & Frasconi 1994's information latching;
// Hochreiter & Schmidhuber 1997's experiment 2a): each line is a key, then `gap` distractors, then a mark,
// then the key again. Everything but the key and the first distractor is predictable from what came
// before, so once a model has learned the line's shape, the recall is the only loss left to learn, and
// learning it needs a gradient that crosses the gap.
//
//   C mnopqrstuvwxyzabcdef = C \n        (gap 20: the alphabet in order from a random letter)
//
// The text a run trains on is laid out so that a language model's streams each read whole lines from a
// zero state (recallCorpus), and the lines it is judged on follow as the held-out split. The generator is
// the engine's seeded sfc32, so scripts/recall_torch.py reproduces every line exactly.
import { RecurrentError } from '../errors.js';
import { Rng } from '../rng.js';

export const RECALL_KEYS = 'ABCDEFGH';
export const DISTRACTORS = 'abcdefghijklmnopqrstuvwxyz';
export const RECALL_MARK = '=';

/** Characters per line: key, gap distractors, mark, key, newline. */
export function recallLineLength(gap: number): number {
  return gap + 4;
}

/** Index in a line of the mark, whose next-token prediction is the recall. */
export function recallPosition(gap: number): number {
  return gap + 1;
}

/** `count` lines of the recall task with this gap, from `seed`: two draws per line, key then phase. */
export function recallLines(gap: number, count: number, seed: number): string[] {
  if (!Number.isInteger(gap) || gap < 0) throw new RecurrentError(`the gap must be a whole number of characters, got ${gap}`);
  const rng = new Rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = RECALL_KEYS[rng.int(RECALL_KEYS.length)]!;
    const phase = rng.int(DISTRACTORS.length);
    let line = key;
    for (let j = 0; j < gap; j++) line += DISTRACTORS[(phase + j) % DISTRACTORS.length];
    lines.push(`${line}${RECALL_MARK}${key}\n`);
  }
  return lines;
}

export interface RecallCorpus {
  /** Training lines, then held-out lines. */
  text: string;
  /** The held-out lines, as the text ends with them. */
  heldOut: string[];
  /** Share of the text's tokens that is exactly the held-out lines, for TrainConfig.valShare. */
  valShare: number;
  lineLength: number;
}

/**
 * A recall text for a language model trained with windows of one line (k1 = k2 = lineLength) and a
 * restart from a zero state every line (resetEvery = lineLength), so that every window is one whole
 * line from its key to its newline, read from a zero state: the engine spreads its B streams over the
 * training tokens at floor(b * S / B), S = trainTokens - k2, and wraps a stream at S (streams.ts); with
 * B * perStream + 1 training lines, S = B * perStream lines and every stream starts, and wraps, at a
 * line start. The held-out lines follow, and valShare selects exactly them.
 */
export function recallCorpus(gap: number, o: { batch: number; perStream: number; heldOut: number; seed: number }): RecallCorpus {
  const L = recallLineLength(gap);
  const train = recallLines(gap, o.batch * o.perStream + 1, o.seed);
  // Another stream of the generator: held-out lines are drawn apart from the training lines.
  const heldOut = recallLines(gap, o.heldOut, o.seed + 0x9e3779b9);
  const tokens = (train.length + heldOut.length) * L;
  // floor(tokens * valShare) must be exactly the held-out tokens: half a token of margin against rounding.
  const valShare = (heldOut.length * L + 0.5) / tokens;
  if (valShare > 0.5)
    throw new RecurrentError(`the held-out lines (${heldOut.length}) must be fewer than the training lines (${train.length})`);
  return { text: train.join('') + heldOut.join(''), heldOut, valShare, lineLength: L };
}
