// The LSTM cell as nn.LSTM computes it, gate rows in PyTorch's order i, f, g, o:
//   [a_i a_f a_g a_o] = x_p W_ih^T + b_ih + h_{p-1} W_hh^T + b_hh
//   i = s(a_i)   f = s(a_f)   g = tanh(a_g)   o = s(a_o)          (s: logistic sigmoid)
//   c_p = f * c_{p-1} + i * g
//   h_p = o * tanh(c_p)
// Cache: the activated gates (in act), c (slots like h) and tanh(c_p), everything backward reads.
import type { Arena } from './arena.js';
import { Cell, type CellParams, type CellShape } from './cell.js';
import type { Floats } from './floats.js';
import { lstmBackward, lstmGates, matmulAB, matmulABt } from './backend.js';

export class LstmCell extends Cell {
  readonly stateCount = 2;
  protected readonly biasesTogether = true;
  /** [T+1, B, H] cell states, slotted like h. */
  readonly c: Floats;
  /** [T, B, H] tanh(c_p) by position. */
  readonly tanhC: Floats;
  /** [B, H] dL/dc flowing to the previous step; after backward, dL/dc of the initial state. */
  readonly dcInit: Floats;
  /**
   * [T, B, H] by position, or null: dL/dc_p arriving from outside the recurrence, added to the gradient
   * carried back into step p. A translate encoder's final cell states feed the decoder (encoder.ts), so
   * the decoder's gradient enters there; a language model has none.
   */
  dcFrom: Floats | null = null;

  constructor(arena: Arena, params: CellParams, shape: CellShape) {
    super(arena, params, shape, 4, true);
    const { hidden: H, maxBatch: B, maxSteps: T } = shape;
    this.c = arena.floats((T + 1) * B * H);
    this.tanhC = arena.floats(T * B * H);
    this.dcInit = arena.floats(B * H);
  }

  protected stateBuffer(k: number): Floats {
    return k === 0 ? this.h : this.c;
  }

  protected recur(b: number, t: number): void {
    const H = this.hidden;
    const G = 4 * H;
    const n = b * H;
    const { act, h, c, tanhC } = this;
    const whh = this.params.weightHh.data;
    for (let s = 0; s < t; s++) {
      const p = this.reverse ? t - 1 - s : s;
      const prev = this.prevSlot(p) * n;
      matmulABt(act, p * b * G, h, prev, whh, 0, b, G, H, true);
      const out = this.outSlot(p) * n;
      // i, f, g, o, c_p, tanh(c_p), h_p for all b rows in one fused pass (gates.ts, or wasm SIMD)
      lstmGates(act, p * b * G, c, prev, out, tanhC, p * n, h, out, b, H);
    }
  }

  protected recurBackward(b: number, t: number): void {
    const H = this.hidden;
    const G = 4 * H;
    const n = b * H;
    const { act, c, tanhC, dh, dIn } = this;
    const dc = this.dcInit; // carries dL/dc_p between steps; zero at the window's end (truncation)
    dc.fill(0, 0, n);
    const whh = this.params.weightHh.data;
    const from = this.dcFrom;
    for (let s = 0; s < t; s++) {
      const p = this.reverse ? s : t - 1 - s;
      const prev = this.prevSlot(p) * n;
      if (from !== null) for (let i = 0, o = p * n; i < n; i++) dc[i] += from[o + i]!;
      // dc and the four gates' pre-activation gradients for all b rows in one pass (gates.ts, or wasm SIMD)
      lstmBackward(act, p * b * G, tanhC, p * n, dh, p * n, c, prev, dc, dIn, p * b * G, b, H);
      const back = this.reverse ? p + 1 : p - 1;
      if (back >= 0 && back < t) matmulAB(dh, back * n, dIn, p * b * G, whh, 0, b, G, H, true);
      else matmulAB(this.dhInit, 0, dIn, p * b * G, whh, 0, b, G, H, false);
    }
  }
}
