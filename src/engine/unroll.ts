// The stacked model unrolled over a window of t <= maxSteps positions and b <= maxBatch streams:
//   tokens [t, b] -> (embedding) -> layer 0 -> ... -> layer L-1 -> decoder -> logits -> cross-entropy
// with every buffer sized once for (maxBatch, maxSteps). The window starts from a given state and its
// state after any step can be read back, which is how truncated BPTT carries state between windows.
//
// The loss may cover only the last positions [from, t) of the window (truncated BPTT with k1 < k2
// runs k2 steps and takes the loss on the last k1); the decoder runs only on those rows.
import type { Arena } from './arena.js';
import { BidirectionalLayer } from './bidirectional.js';
import type { Cell, CellParams, CellShape } from './cell.js';
import type { ModelConfig } from './config.js';
import { crossEntropyGradient, softmaxCrossEntropy } from './backend.js';
import { Embedding } from './embedding.js';
import type { Floats } from './floats.js';
import { GruCell } from './gru.js';
import { UnidirectionalLayer, type Layer } from './layer.js';
import { Linear } from './linear.js';
import { LstmCell } from './lstm.js';
import type { Param } from './parameters.js';
import { RnnCell } from './rnn.js';

export interface ParamLookup {
  readonly config: ModelConfig;
  readonly arena: Arena;
  param(name: string): Param;
}

/** The cell of cfg.cell over these parameters and buffers. */
export function makeCell(cfg: ModelConfig, arena: Arena, params: CellParams, shape: CellShape): Cell {
  switch (cfg.cell) {
    case 'rnn':
      return new RnnCell(arena, params, shape);
    case 'lstm':
      return new LstmCell(arena, params, shape);
    case 'gru':
      return new GruCell(arena, params, shape);
  }
}

export class Unrolled {
  readonly config: ModelConfig;
  readonly maxBatch: number;
  readonly maxSteps: number;
  /** [T, B] input token ids of the window, filled by the caller. */
  readonly ids: Int32Array;
  /** [T, B] the token each position predicts, filled by the caller when a loss is taken. */
  readonly targets: Int32Array;
  /**
   * [T, B, V] rows for positions [from, t): logits after decode(), probabilities after loss(),
   * dL/dlogits after backward().
   */
  readonly logits: Floats;
  readonly embedding: Embedding | null;
  readonly layers: readonly Layer[];
  readonly decoder: Linear;
  /** States per cell: 1 (h) or 2 (h, c). */
  readonly stateCount: number;
  private readonly directions: number;
  /** Whether `logits` holds dL/dlogits already (lossAndGradient), rather than probabilities (loss). */
  private gradientReady = false;

  constructor(model: ParamLookup, maxBatch: number, maxSteps: number) {
    const cfg = model.config;
    const arena = model.arena;
    this.config = cfg;
    this.maxBatch = maxBatch;
    this.maxSteps = maxSteps;
    this.directions = cfg.bidirectional ? 2 : 1;
    this.stateCount = cfg.cell === 'lstm' ? 2 : 1;
    // In the arena, so that the wasm kernels can read the ids and targets where the floats are.
    this.ids = arena.ints(maxSteps * maxBatch);
    this.targets = arena.ints(maxSteps * maxBatch);
    this.logits = arena.floats(maxSteps * maxBatch * cfg.vocabSize);
    this.embedding = cfg.embedding > 0 ? new Embedding(arena, model.param('embedding.weight'), maxBatch, maxSteps) : null;
    const layers: Layer[] = [];
    for (let k = 0; k < cfg.layers; k++) {
      const inputSize = k === 0 ? cfg.embedding || cfg.vocabSize : cfg.hidden * this.directions;
      const cells = (cfg.bidirectional ? ['', '_reverse'] : ['']).map((suffix) => {
        const params: CellParams = {
          weightIh: model.param(`rnn.weight_ih_l${k}${suffix}`),
          weightHh: model.param(`rnn.weight_hh_l${k}${suffix}`),
          biasIh: model.param(`rnn.bias_ih_l${k}${suffix}`),
          biasHh: model.param(`rnn.bias_hh_l${k}${suffix}`),
        };
        const shape: CellShape = {
          hidden: cfg.hidden,
          inputSize,
          oneHot: k === 0 && cfg.embedding === 0,
          reverse: suffix !== '',
          maxBatch,
          maxSteps,
        };
        return makeCell(cfg, arena, params, shape);
      });
      layers.push(cells.length === 2 ? new BidirectionalLayer(arena, cells[0]!, cells[1]!) : new UnidirectionalLayer(cells[0]!));
    }
    this.layers = layers;
    this.decoder = new Linear(model.param('decoder.weight'), model.param('decoder.bias'));
  }

  /** Floats of the whole state for b streams, laid out [layer, direction, state (h, c), b, H]. */
  stateSize(b: number): number {
    return this.layers.length * this.directions * this.stateCount * b * this.config.hidden;
  }

  /** Sets the initial state of a window of t steps from src (as stateSize says), or zero with null. */
  setState(src: Floats | null, b: number, t: number): void {
    const n = b * this.config.hidden;
    let at = 0;
    for (const layer of this.layers) {
      for (const cell of layer.cells) {
        for (let k = 0; k < this.stateCount; k++, at += n) {
          if (src === null) cell.clearState(k, b, t);
          else cell.setState(k, src, at, b, t);
        }
      }
    }
  }

  /** Copies into dst the state after `steps` steps of the last forward window (of t steps). */
  getState(dst: Floats, b: number, t: number, steps: number): void {
    const n = b * this.config.hidden;
    let at = 0;
    for (const layer of this.layers) {
      for (const cell of layer.cells) {
        for (let k = 0; k < this.stateCount; k++, at += n) cell.getState(k, dst, at, b, t, steps);
      }
    }
  }

  /** Runs every layer over positions 0..t-1 of `ids`, from the state set before. */
  forward(b: number, t: number): void {
    const rows = t * b;
    let x: Floats | null = null;
    let x0 = 0;
    if (this.embedding !== null) {
      this.embedding.forward(this.ids, rows);
      x = this.embedding.out;
    }
    for (const layer of this.layers) {
      layer.forward(x, x0, x === null ? this.ids : null, b, t);
      x = layer.out;
      x0 = layer.outputOffset(b);
    }
  }

  /** Logits of positions [from, t) into `logits` rows 0 .. (t-from)*b. */
  decode(b: number, t: number, from: number): void {
    const top = this.layers[this.layers.length - 1]!;
    this.decoder.forward(this.logits, 0, top.out, top.outputOffset(b) + from * b * top.width, (t - from) * b);
  }

  /**
   * After decode: the summed loss in nats of positions [from, t) against `targets`, leaving
   * probabilities in `logits`. perRow, if given, receives each row's loss from r0.
   */
  loss(b: number, t: number, from: number, perRow: Floats | null = null, r0 = 0): number {
    this.gradientReady = false;
    return softmaxCrossEntropy(this.logits, 0, this.targets, from * b, (t - from) * b, this.config.vocabSize, perRow, r0, null);
  }

  /**
   * After decode: the summed loss in nats of positions [from, t), as loss() returns it, leaving
   * dL/dlogits = scale * (softmax - onehot) in `logits` in the same pass; backward() with the same
   * scale then starts from there.
   */
  lossAndGradient(b: number, t: number, from: number, scale: number): number {
    this.gradientReady = true;
    return softmaxCrossEntropy(this.logits, 0, this.targets, from * b, (t - from) * b, this.config.vocabSize, null, 0, scale);
  }

  /**
   * After loss (or lossAndGradient with this scale): backpropagates scale * (summed loss of positions
   * [from, t)) through the window, adding into every parameter's grad. Positions before `from` get gradient only through time.
   */
  backward(b: number, t: number, from: number, scale: number): void {
    const V = this.config.vocabSize;
    const rows = (t - from) * b;
    if (!this.gradientReady) crossEntropyGradient(this.logits, 0, this.targets, from * b, rows, V, scale);
    this.gradientReady = false;
    const top = this.layers[this.layers.length - 1]!;
    const skipped = from * b * top.width;
    top.dOut.fill(0, 0, skipped);
    this.decoder.backward(this.logits, 0, top.dOut, skipped, rows, false);
    for (let k = this.layers.length - 1; k >= 0; k--) {
      const below = k > 0 ? this.layers[k - 1]!.dOut : this.embedding !== null ? this.embedding.dOut : null;
      this.layers[k]!.backward(below, 0, b, t);
    }
    this.embedding?.backward(t * b);
  }
}
