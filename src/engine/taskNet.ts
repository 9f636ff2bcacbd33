// The classify and generate networks behind one face, so that training (taskTrainer.ts) and evaluation
// (taskEval.ts) load a batch of examples, run it and read its loss the same way for both:
//   classify: a unit is an example; the loss is -ln p(label | text).
//   generate: a unit is an output token (the end token included); the loss is -ln p(token | label, text before it).
// Buffers are sized for maxBatch examples of up to maxSteps tokens (generate: text and end token).
import { ClassifierNet } from './classifier.js';
import { ConditionedNet, PADDING } from './conditioned.js';
import type { Floats } from './floats.js';
import type { Sequences } from './taskData.js';
import type { ParamLookup } from './unroll.js';

export class TaskNet {
  readonly task: 'classify' | 'generate';
  readonly maxBatch: number;
  readonly maxSteps: number;
  readonly classifier: ClassifierNet | null;
  readonly generator: ConditionedNet | null;
  /** generate: the end token, which is also the first input. */
  private readonly endToken: number;
  private t = 0;

  constructor(model: ParamLookup, maxBatch: number, maxSteps: number, endToken: number) {
    const task = model.config.task;
    if (task !== 'classify' && task !== 'generate') throw new Error(`task net: task ${task} is not classify or generate`);
    this.task = task;
    this.maxBatch = maxBatch;
    this.maxSteps = Math.max(1, maxSteps);
    this.endToken = endToken;
    this.classifier = task === 'classify' ? new ClassifierNet(model, maxBatch, this.maxSteps) : null;
    this.generator = task === 'generate' ? new ConditionedNet(model, maxBatch, this.maxSteps) : null;
  }

  /** The window of the loaded batch: its longest example. A training thread's replica is told it. */
  get window(): number {
    return this.t;
  }

  set window(t: number) {
    if (t > this.maxSteps) throw new Error(`task net: a window of ${t} exceeds the ${this.maxSteps} it was sized for`);
    this.t = t;
  }

  /**
   * Loads examples pick(offset + 0 .. offset + b-1) of seqs (left-aligned, padded to the longest) and
   * returns the units whose loss they score.
   */
  load(seqs: Sequences, pickAt: (i: number) => number, b: number, offset = 0): number {
    let t = 0;
    for (let r = 0; r < b; r++) t = Math.max(t, seqs.ids[pickAt(offset + r)]!.length);
    if (t > this.maxSteps) throw new Error(`task net: an example of ${t} tokens exceeds the ${this.maxSteps} it was sized for`);
    this.t = t;
    let units = 0;
    if (this.classifier !== null) {
      const enc = this.classifier.encoder;
      enc.ids.fill(0, 0, t * b);
      for (let r = 0; r < b; r++) {
        const e = pickAt(offset + r);
        const seq = seqs.ids[e]!;
        for (let p = 0; p < seq.length; p++) enc.ids[p * b + r] = seq[p]!;
        enc.lengths[r] = seq.length;
        this.classifier.targets[r] = seqs.labels[e]!;
      }
      return b;
    }
    const g = this.generator!;
    const { ids, targets } = g.net;
    ids.fill(0, 0, t * b);
    targets.fill(PADDING, 0, t * b);
    for (let r = 0; r < b; r++) {
      const e = pickAt(offset + r);
      const seq = seqs.ids[e]!;
      // input: the end token, then the text; target: the text, then the end token (seq ends with it)
      for (let p = 0; p < seq.length; p++) {
        ids[p * b + r] = p === 0 ? this.endToken : seq[p - 1]!;
        targets[p * b + r] = seq[p]!;
      }
      units += seq.length;
      g.labels[r] = seqs.labels[e]!;
    }
    return units;
  }

  /** Forward and summed loss of the loaded batch, probabilities left in the logits. perRow: classify only. */
  loss(b: number, perRow: Floats | null = null): number {
    if (this.classifier !== null) {
      this.classifier.forward(b);
      return this.classifier.loss(b, perRow);
    }
    const g = this.generator!;
    if (this.t === 0) return 0;
    g.forward(b, this.t);
    return g.net.loss(b, this.t, 0);
  }

  /**
   * Forward, summed loss and backward of `scale` times the summed loss into every parameter's grad
   * (which the caller zeroes). correctOut[0] receives classify's count of right predictions.
   */
  lossAndBackward(b: number, scale: number, correctOut: Int32Array): number {
    if (this.classifier !== null) {
      const c = this.classifier;
      c.forward(b);
      correctOut[0] = c.correct(b);
      const loss = c.lossAndGradient(b, scale);
      if (Number.isFinite(loss)) c.backward(b);
      return loss;
    }
    const g = this.generator!;
    correctOut[0] = 0;
    if (this.t === 0) return 0;
    g.forward(b, this.t);
    const loss = g.net.lossAndGradient(b, this.t, 0, scale);
    if (Number.isFinite(loss)) g.backward(b, this.t, scale);
    return loss;
  }
}
