// Scoring a task model on examples: the held-out ones while training, a file with `recurrent eval`.
// Examples run in batches of similar length (the order does not change a sum).
//   classify: accuracy, mean loss (nats per example), per-label counts and the confusion matrix
//             (rows: the true label, columns: the predicted one);
//   generate: mean loss per output token (the end token included) in nats and bits;
//   translate: the same loss per target token given the target before it (teacher forcing), and of
//             the translations the model writes (translateDecode.ts, greedy or beam): the word error
//             rate, the share of examples whose output is not exactly the target, and the token error
//             rate, the summed edit distances (insertions, deletions, substitutions) over the summed
//             target lengths.
import { argmax } from './classifier.js';
import type { Floats } from './floats.js';
import type { Sequences } from './taskData.js';
import type { TaskNet } from './taskNet.js';
import type { TranslationDecoder } from './translateDecode.js';

export interface PerClass {
  examples: number;
  correct: number;
  /** correct / examples (NaN without examples). */
  recall: number;
  /** Of the examples predicted as this label, the share that have it (NaN when none is). */
  precision: number;
}

export interface ClassifyEvaluation {
  task: 'classify';
  examples: number;
  accuracy: number;
  /** Mean -ln p(label | text), nats. */
  loss: number;
  perClass: Record<string, PerClass>;
  /** confusion[true][predicted], label ids as in `labels`. */
  confusion: number[][];
  labels: string[];
}

export interface GenerateEvaluation {
  task: 'generate';
  examples: number;
  /** Output tokens scored, the end tokens included. */
  tokens: number;
  /** Mean -ln p(token | label, text before it), nats. */
  loss: number;
  bitsPerToken: number;
}

export interface TranslateEvaluation {
  task: 'translate';
  examples: number;
  /** Target tokens scored, the end tokens included. */
  tokens: number;
  /** Mean -ln p(token | source, target before it), nats. */
  loss: number;
  bitsPerToken: number;
  /** Share of examples whose translation is not exactly their target. */
  wordErrorRate: number;
  /** Summed edit distance between translation and target over the summed target lengths (tokens, no end token). */
  tokenErrorRate: number;
  /** 1: greedy; K: beam search of width K. */
  beam: number;
  /** Each example's translation (token ids, in example order) and its edit distance from the target. */
  outputs: Int32Array[];
  distances: Int32Array;
}

export type TaskEvaluation = ClassifyEvaluation | GenerateEvaluation | TranslateEvaluation;

/** Levenshtein distance between two token sequences (a -1 in b matches nothing). */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const same = a[i - 1] === b[j - 1] && b[j - 1]! >= 0;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (same ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** translate: the teacher-forced loss and the error rates of the translations `decoder` writes. */
export function evaluateTranslation(
  net: TaskNet,
  decoder: TranslationDecoder,
  seqs: Sequences,
  order: Int32Array = lengthOrder(seqs),
): TranslateEvaluation {
  const n = seqs.ids.length;
  let loss = 0;
  let units = 0;
  for (let s = 0; s < n; s += net.maxBatch) {
    const b = Math.min(net.maxBatch, n - s);
    units += net.load(seqs, (r) => order[s + r]!, b);
    loss += net.loss(b);
  }
  const outputs = new Array<Int32Array>(n);
  const distances = new Int32Array(n);
  let wrong = 0;
  let edits = 0;
  let length = 0;
  for (let s = 0; s < n; s += decoder.maxBatch) {
    const b = Math.min(decoder.maxBatch, n - s);
    const outs = decoder.decode(seqs.ids, (r) => order[s + r]!, b);
    for (let r = 0; r < b; r++) {
      const e = order[s + r]!;
      const ref = seqs.references![e]!;
      const d = editDistance(outs[r]!, ref);
      outputs[e] = outs[r]!;
      distances[e] = d;
      if (d > 0) wrong++;
      edits += d;
      length += ref.length;
    }
  }
  const mean = units > 0 ? loss / units : NaN;
  return {
    task: 'translate',
    examples: n,
    tokens: units,
    loss: mean,
    bitsPerToken: mean / Math.LN2,
    wordErrorRate: n > 0 ? wrong / n : NaN,
    tokenErrorRate: length > 0 ? edits / length : NaN,
    beam: decoder.beam,
    outputs,
    distances,
  };
}

/** Example indices ordered by length, so batches pad little. */
export function lengthOrder(seqs: Sequences): Int32Array {
  const order = Int32Array.from(seqs.ids.keys());
  return order.sort((a, b) => seqs.ids[a]!.length - seqs.ids[b]!.length || a - b);
}

export function evaluateTask(
  net: TaskNet,
  seqs: Sequences,
  labels: readonly string[],
  order: Int32Array = lengthOrder(seqs),
  decoder: TranslationDecoder | null = null,
): TaskEvaluation {
  if (net.task === 'translate') {
    if (decoder === null) throw new Error('evaluating a translate model needs a decoder');
    return evaluateTranslation(net, decoder, seqs, order);
  }
  const n = seqs.ids.length;
  const B = net.maxBatch;
  let loss = 0;
  let units = 0;
  if (net.task === 'generate') {
    for (let s = 0; s < n; s += B) {
      const b = Math.min(B, n - s);
      units += net.load(seqs, (r) => order[s + r]!, b);
      loss += net.loss(b);
    }
    const mean = units > 0 ? loss / units : NaN;
    return { task: 'generate', examples: n, tokens: units, loss: mean, bitsPerToken: mean / Math.LN2 };
  }
  const K = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const probs: Floats = net.classifier!.logits;
  for (let s = 0; s < n; s += B) {
    const b = Math.min(B, n - s);
    net.load(seqs, (r) => order[s + r]!, b);
    loss += net.loss(b);
    for (let r = 0; r < b; r++) confusion[seqs.labels[order[s + r]!]!]![argmax(probs, r * K, K)]!++;
  }
  let correct = 0;
  const perClass: Record<string, PerClass> = {};
  labels.forEach((label, k) => {
    const row = confusion[k]!;
    const examples = row.reduce((a, c) => a + c, 0);
    const predicted = confusion.reduce((a, r) => a + r[k]!, 0);
    correct += row[k]!;
    perClass[label] = {
      examples,
      correct: row[k]!,
      recall: examples > 0 ? row[k]! / examples : NaN,
      precision: predicted > 0 ? row[k]! / predicted : NaN,
    };
  });
  return {
    task: 'classify',
    examples: n,
    accuracy: n > 0 ? correct / n : NaN,
    loss: n > 0 ? loss / n : NaN,
    perClass,
    confusion,
    labels: labels.slice(),
  };
}
