// One-to-many: the generate task's network, the language model of unroll.ts started from a learned
// state for each label instead of the zero state:
//   h_0 (and the LSTM's c_0) of layer k = label_embedding.weight[label] [layer, state (h, c), H]
//   input: the end token, then the text; target: the text, then the end token.
// Examples of different lengths share a batch left-aligned; the positions after an example's end have
// the target -1, which the cross-entropy kernels skip (no loss, zero gradient), so padding changes
// nothing. The loss is averaged over the batch's real targets, as PyTorch's CrossEntropyLoss with
// ignore_index averages. Parameters: the language model's (embedding.weight, rnn.*, decoder.*) and
// label_embedding.weight [K, L*S*H].
import type { Arena } from './arena.js';
import type { Floats } from './floats.js';
import type { Param } from './parameters.js';
import type { Stepper } from './sampling.js';
import { Unrolled, type ParamLookup } from './unroll.js';

/** targets value of a padded position. */
export const PADDING = -1;

export class ConditionedNet {
  readonly net: Unrolled;
  readonly labelEmbedding: Param;
  /** [B] label of each example, filled by the caller. */
  readonly labels: Int32Array;
  /** [layers, states, B, H] the initial state built from the labels. */
  private readonly state: Floats;
  private readonly stateCount: number;

  constructor(model: ParamLookup, maxBatch: number, maxSteps: number) {
    this.net = new Unrolled(model, maxBatch, maxSteps);
    this.labelEmbedding = model.param('label_embedding.weight');
    this.labels = model.arena.ints(maxBatch); // in the arena, so a training thread's replica shares it
    this.stateCount = this.net.stateCount;
    this.state = model.arena.floats(this.net.stateSize(maxBatch));
  }

  /** Runs net.ids over t positions from each example's label state, and decodes every position. */
  forward(b: number, t: number): void {
    const H = this.net.config.hidden;
    const E = this.labelEmbedding.data;
    const blocks = this.net.layers.length * this.stateCount;
    const row = blocks * H;
    for (let k = 0; k < blocks; k++) {
      for (let r = 0; r < b; r++) {
        const from = this.labels[r]! * row + k * H;
        const to = (k * b + r) * H;
        for (let j = 0; j < H; j++) this.state[to + j] = E[from + j]!;
      }
    }
    this.net.setState(this.state, b, t);
    this.net.forward(b, t);
    this.net.decode(b, t, 0);
  }

  /**
   * After lossAndGradient (net.lossAndGradient(b, t, 0, scale)): backpropagates through the window and
   * into each example's row of label_embedding, which receives the gradient of the initial state.
   */
  backward(b: number, t: number, scale: number): void {
    this.net.backward(b, t, 0, scale);
    const H = this.net.config.hidden;
    const G = this.labelEmbedding.grad;
    const row = this.net.layers.length * this.stateCount * H;
    for (let k = 0; k < this.net.layers.length; k++) {
      const cell = this.net.layers[k]!.cells[0]!;
      for (let s = 0; s < this.stateCount; s++) {
        // dhInit, and the LSTM's dcInit, hold dL/d(initial state) after the cell's backward pass.
        const d = s === 0 ? cell.dhInit : (cell as unknown as { dcInit: Floats }).dcInit;
        const at = (k * this.stateCount + s) * H;
        for (let r = 0; r < b; r++) {
          const o = this.labels[r]! * row + at;
          for (let j = 0; j < H; j++) G[o + j] += d[r * H + j]!;
        }
      }
    }
  }
}

/** Batch-1 stepping from a label's state, for sampling a text of that label. */
export class ConditionedStepper implements Stepper {
  private readonly one: Unrolled;
  private readonly state: Floats;
  private label = 0;

  constructor(
    model: ParamLookup,
    private readonly labelEmbedding: Param,
    arena: Arena,
  ) {
    this.one = new Unrolled(model, 1, 1);
    this.state = arena.floats(this.one.stateSize(1));
  }

  /** The label the next reset() starts from. */
  setLabel(label: number): void {
    if (!Number.isInteger(label) || label < 0 || label >= this.labelEmbedding.shape[0]!)
      throw new RangeError(`label id ${label} is out of range`);
    this.label = label;
  }

  reset(): void {
    const n = this.state.length;
    const E = this.labelEmbedding.data;
    for (let i = 0; i < n; i++) this.state[i] = E[this.label * n + i]!;
  }

  feed(token: number): Floats {
    const net = this.one;
    const V = net.config.vocabSize;
    if (!Number.isInteger(token) || token < 0 || token >= V) throw new RangeError(`token id ${token} is outside the vocabulary of ${V}`);
    net.ids[0] = token;
    net.setState(this.state, 1, 1);
    net.forward(1, 1);
    net.getState(this.state, 1, 1, 1);
    net.decode(1, 1, 0);
    return net.logits;
  }
}
