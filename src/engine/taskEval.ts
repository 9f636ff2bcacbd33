// Scoring a classify or generate model on examples: the held-out ones while training, a file with
// `recurrent eval`. Examples run in batches of similar length (the order does not change a sum).
//   classify: accuracy, mean loss (nats per example), per-label counts and the confusion matrix
//             (rows: the true label, columns: the predicted one);
//   generate: mean loss per output token (the end token included) in nats and bits.
import { argmax } from './classifier.js';
import type { Floats } from './floats.js';
import type { Sequences } from './taskData.js';
import type { TaskNet } from './taskNet.js';

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

export type TaskEvaluation = ClassifyEvaluation | GenerateEvaluation;

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
): TaskEvaluation {
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
