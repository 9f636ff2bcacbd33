// The classify, generate and translate networks behind one face, so that training (taskTrainer.ts) and
// evaluation (taskEval.ts) load a batch of examples, run it and read its loss the same way for all:
//   classify: a unit is an example; the loss is -ln p(label | text).
//   generate: a unit is an output token (the end token included); the loss is -ln p(token | label, text before it).
//   translate: a unit is a target token (the end token included); the loss is -ln p(token | source, target before it).
// Buffers are sized for maxBatch examples of up to maxSteps tokens (generate and translate's targets:
// with the end token).
import { ClassifierNet } from './classifier.js';
import { ConditionedNet, PADDING } from './conditioned.js';
import type { Floats } from './floats.js';
import type { Sequences } from './taskData.js';
import { TranslatorNet } from './translator.js';
import type { ParamLookup, Unrolled } from './unroll.js';

export class TaskNet {
  readonly task: 'classify' | 'generate' | 'translate';
  readonly maxBatch: number;
  readonly maxSteps: number;
  readonly classifier: ClassifierNet | null;
  readonly generator: ConditionedNet | null;
  readonly translator: TranslatorNet | null;
  /** generate and translate: the end token, which is also the decoder's first input. */
  private readonly endToken: number;
  private t = 0;

  constructor(model: ParamLookup, maxBatch: number, maxSteps: number, endToken: number) {
    const task = model.config.task;
    if (task === 'lm') throw new Error('task net: a language model is not a task model');
    this.task = task;
    this.maxBatch = maxBatch;
    this.maxSteps = Math.max(1, maxSteps);
    this.endToken = endToken;
    this.classifier = task === 'classify' ? new ClassifierNet(model, maxBatch, this.maxSteps) : null;
    this.generator = task === 'generate' ? new ConditionedNet(model, maxBatch, this.maxSteps) : null;
    this.translator = task === 'translate' ? new TranslatorNet(model, maxBatch, this.maxSteps, this.maxSteps) : null;
  }

  /** The network whose logits score output tokens: generate's language model, translate's decoder. */
  private get writer(): Unrolled {
    return this.generator?.net ?? this.translator!.decoder;
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
    // The window is the longest output the batch writes (translate: the encoder finds its own).
    const out = this.translator !== null ? seqs.targets! : seqs.ids;
    let t = 0;
    for (let r = 0; r < b; r++) t = Math.max(t, out[pickAt(offset + r)]!.length);
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
    if (this.translator !== null) {
      const enc = this.translator.encoder;
      let s = 0;
      for (let r = 0; r < b; r++) s = Math.max(s, seqs.ids[pickAt(offset + r)]!.length);
      if (s > this.maxSteps) throw new Error(`task net: a source of ${s} tokens exceeds the ${this.maxSteps} it was sized for`);
      enc.ids.fill(0, 0, s * b);
      for (let r = 0; r < b; r++) {
        const src = seqs.ids[pickAt(offset + r)]!;
        for (let p = 0; p < src.length; p++) enc.ids[p * b + r] = src[p]!;
        enc.lengths[r] = src.length;
      }
    }
    const w = this.writer;
    const { ids, targets } = w;
    ids.fill(0, 0, t * b);
    targets.fill(PADDING, 0, t * b);
    for (let r = 0; r < b; r++) {
      const e = pickAt(offset + r);
      const seq = out[e]!;
      // input: the end token, then the text; target: the text, then the end token (seq ends with it)
      for (let p = 0; p < seq.length; p++) {
        ids[p * b + r] = p === 0 ? this.endToken : seq[p - 1]!;
        targets[p * b + r] = seq[p]!;
      }
      units += seq.length;
      if (this.generator !== null) this.generator.labels[r] = seqs.labels[e]!;
    }
    return units;
  }

  /** Forward and summed loss of the loaded batch, probabilities left in the logits. perRow: classify only. */
  loss(b: number, perRow: Floats | null = null): number {
    if (this.classifier !== null) {
      this.classifier.forward(b);
      return this.classifier.loss(b, perRow);
    }
    if (this.t === 0) return 0;
    if (this.translator !== null) this.translator.forward(b, this.t);
    else this.generator!.forward(b, this.t);
    return this.writer.loss(b, this.t, 0);
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
    correctOut[0] = 0;
    if (this.t === 0) return 0;
    const g = this.generator;
    if (g !== null) g.forward(b, this.t);
    else this.translator!.forward(b, this.t);
    const loss = this.writer.lossAndGradient(b, this.t, 0, scale);
    if (!Number.isFinite(loss)) return loss;
    if (g !== null) g.backward(b, this.t, scale);
    else this.translator!.backward(b, this.t, scale);
    return loss;
  }
}
