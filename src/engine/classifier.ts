// Many-to-one: the classify task's network over a batch of examples of different lengths,
//   tokens -> encoder (encoder.ts: 1-4 layers, bidirectional or not, pooled) -> classifier (nn.Linear
//   over the pooled features) -> softmax over the labels -> cross-entropy against the example's label.
// Parameters as PyTorch names them (docs/checkpoint-format.md, "Version 2"): embedding.weight, rnn.*,
// classifier.weight [K, F], classifier.bias [K].
import { softmaxCrossEntropy } from './backend.js';
import { Encoder } from './encoder.js';
import type { Floats } from './floats.js';
import { Linear } from './linear.js';
import type { ParamLookup } from './unroll.js';

export class ClassifierNet {
  readonly encoder: Encoder;
  readonly head: Linear;
  readonly labelCount: number;
  /** [B] the label of each example, filled by the caller when a loss is taken. */
  readonly targets: Int32Array;
  /** [B, K] logits after forward(); probabilities after loss(); dL/dlogits after lossAndGradient(). */
  readonly logits: Floats;

  constructor(model: ParamLookup, maxBatch: number, maxSteps: number) {
    this.encoder = new Encoder(model, maxBatch, maxSteps);
    this.head = new Linear(model.param('classifier.weight'), model.param('classifier.bias'));
    this.labelCount = this.head.outFeatures;
    this.targets = model.arena.ints(maxBatch);
    this.logits = model.arena.floats(maxBatch * this.labelCount);
  }

  /** Encodes the b examples of encoder.ids/lengths and computes their logits. */
  forward(b: number): void {
    this.encoder.forward(b);
    this.head.forward(this.logits, 0, this.encoder.features, 0, b);
  }

  /** After forward: how many of the b examples' largest logit is their target's (ties count against). */
  correct(b: number): number {
    const K = this.labelCount;
    let n = 0;
    for (let r = 0; r < b; r++) if (argmax(this.logits, r * K, K) === this.targets[r]) n++;
    return n;
  }

  /** After forward: the summed loss in nats, leaving probabilities in `logits`; perRow gets each example's. */
  loss(b: number, perRow: Floats | null = null): number {
    return softmaxCrossEntropy(this.logits, 0, this.targets, 0, b, this.labelCount, perRow, 0, null);
  }

  /** After forward: the summed loss, leaving dL/dlogits = scale * (softmax - onehot) in `logits`. */
  lossAndGradient(b: number, scale: number): number {
    return softmaxCrossEntropy(this.logits, 0, this.targets, 0, b, this.labelCount, null, 0, scale);
  }

  /** After lossAndGradient: backpropagates into every parameter's grad. */
  backward(b: number): void {
    this.head.backward(this.logits, 0, this.encoder.dFeatures, 0, b, false);
    this.encoder.backward(b);
  }
}

/** Index of the largest of x[o .. o + n); the first on ties. */
export function argmax(x: Floats, o: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[o + i]! > x[o + best]!) best = i;
  return best;
}
