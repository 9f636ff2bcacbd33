// What a model makes of the recall task (recallData.ts), measured on held-out lines read from a zero
// state, without touching its training (the parameters' gradients are kept aside and put back):
//   - accuracy: the share of lines where the most likely token after the mark is the line's key;
//   - the recall loss, nats, at that position, and the loss of every character of the lines (bits per
//     character, the line's first character excepted: nothing comes before it);
//   - how much of the recall loss's gradient reaches back: fromRecall[k] = ||dL_r / dh_(r-k)|| over the
//     lines, r the mark's position, for k = 0..r, so that fromRecall[r] is the gradient at the key itself.
// A model that cannot carry the key across the gap scores chance (1 / the number of keys) and its
// gradient at the key is a vanishing share of the gradient at the mark.
import type { Model } from '../model.js';
import type { Tokenizer } from '../tokenizer.js';
import type { Unrolled } from '../unroll.js';
import { hiddenGradientNorms } from '../probes.js';
import { RecurrentError } from '../errors.js';
import { recallPosition } from './recallData.js';

export interface RecallMeasure {
  /** Updates trained when measured. */
  step: number;
  /** Held-out lines read. */
  lines: number;
  accuracy: number;
  /** Loss of the recall, nats per line. */
  lossNats: number;
  /** Held-out bits per character over the whole lines (the key after the newline's prediction excepted); a classifier's (heldOutProbe.ts): bits per line. */
  lineBits: number;
  /** [k] for k = 0..gap+1: ||dL_r / dh_(r-k)||, over the lines, first layer (where the key enters); empty for a classifier. */
  fromRecall: number[];
  /** fromRecall at the key (k = gap + 1) over fromRecall at the mark (k = 0); NaN for a classifier. */
  keyShare: number;
}

/** Lines read side by side in one window. */
const PROBE_BATCH = 64;

/** A probe of one gap for one model: its window is allocated once and reused (a model's buffers are never freed). */
export class RecallProbe {
  private readonly net: Unrolled;
  /** Positions up to the mark, whose next token is the recall. */
  private readonly steps: number;
  /** Positions with a target inside the line: all but the newline. */
  private readonly lineSteps: number;
  private readonly stash: Float64Array[];
  private readonly ids: Int32Array[];

  constructor(
    private readonly model: Model,
    tokenizer: Tokenizer,
    readonly gap: number,
    lines: readonly string[],
  ) {
    if (lines.length === 0) throw new RecurrentError('the recall probe needs at least one held-out line');
    this.steps = recallPosition(gap) + 1;
    this.ids = lines.map((line) => tokenizer.encode(line));
    this.lineSteps = this.ids[0]!.length - 1;
    if (this.ids.some((line) => line.length !== this.lineSteps + 1 || line.length < this.steps + 1))
      throw new RecurrentError(`the held-out lines must all be one line of the recall task at gap ${gap}`);
    this.net = model.unroll(Math.min(PROBE_BATCH, lines.length), this.lineSteps);
    this.stash = model.params.map((p) => new Float64Array(p.grad.length));
  }

  measure(step: number): RecallMeasure {
    const { net, model, steps: t } = this;
    const r = t - 1;
    const V = model.config.vocabSize;
    const B = net.maxBatch;
    const ids = this.ids;
    for (const [i, p] of model.params.entries()) this.stash[i]!.set(p.grad);
    const sums = new Float64Array(t);
    const norms = net.layers.map(() => new Float32Array(t));
    const T = this.lineSteps;
    let correct = 0;
    let loss = 0;
    let lineLoss = 0;
    try {
      for (let at = 0; at < ids.length; at += B) {
        const b = Math.min(B, ids.length - at);
        const fill = (steps: number): void => {
          for (let j = 0; j < b; j++) {
            const line = ids[at + j]!;
            for (let s = 0; s < steps; s++) {
              net.ids[s * b + j] = line[s]!;
              net.targets[s * b + j] = line[s + 1]!;
            }
          }
        };
        // The whole lines: the recall's prediction and every character's loss.
        fill(T);
        net.setState(null, b, T);
        net.forward(b, T);
        net.decode(b, T, 0);
        for (let j = 0; j < b; j++) {
          const row = (r * b + j) * V;
          let best = 0;
          for (let v = 1; v < V; v++) if (net.logits[row + v]! > net.logits[row + best]!) best = v;
          if (best === net.targets[r * b + j]) correct++;
        }
        lineLoss += net.loss(b, T, 0);
        // Up to the mark: the recall's loss alone, backpropagated.
        fill(t);
        net.setState(null, b, t);
        net.forward(b, t);
        net.decode(b, t, r);
        loss += net.loss(b, t, r);
        model.zeroGrads();
        net.backward(b, t, r, 1);
        hiddenGradientNorms(net, b, t, norms);
        const first = norms[0]!; // the layer the key enters
        // Sum of squares over the lines, so the result is the norm over all of them.
        for (let k = 0; k < t; k++) sums[k] = sums[k]! + first[r - k]! * first[r - k]!;
      }
    } finally {
      for (const [i, p] of model.params.entries()) p.grad.set(this.stash[i]!);
    }
    const fromRecall = Array.from(sums, (s) => Math.sqrt(s));
    return {
      step,
      lines: ids.length,
      accuracy: correct / ids.length,
      lossNats: loss / ids.length,
      lineBits: lineLoss / (ids.length * T) / Math.LN2,
      fromRecall,
      keyShare: fromRecall[0]! > 0 ? fromRecall[r]! / fromRecall[0]! : 0,
    };
  }
}
