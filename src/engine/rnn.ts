// The vanilla (Elman) cell, nn.RNN with nonlinearity "tanh":
//   h_p = tanh(x_p W_ih^T + b_ih + h_{p-1} W_hh^T + b_hh)
// Cache: only h (in Cell.h), since tanh' = 1 - h^2.
import type { Arena } from './arena.js';
import { Cell, type CellParams, type CellShape } from './cell.js';
import type { Floats } from './floats.js';
import { matmulAB, matmulABt, tanhBackward, tanhInto } from './backend.js';

export class RnnCell extends Cell {
  readonly stateCount = 1;
  protected readonly biasesTogether = true;

  constructor(arena: Arena, params: CellParams, shape: CellShape) {
    super(arena, params, shape, 1, true);
  }

  protected stateBuffer(): Floats {
    return this.h;
  }

  protected recur(b: number, t: number): void {
    const H = this.hidden;
    const n = b * H;
    const { act, h } = this;
    const whh = this.params.weightHh.data;
    for (let s = 0; s < t; s++) {
      const p = this.reverse ? t - 1 - s : s;
      const a = p * n;
      matmulABt(act, a, h, this.prevSlot(p) * n, whh, 0, b, H, H, true);
      const out = this.outSlot(p) * n;
      tanhInto(act, a, h, out, n);
    }
  }

  protected recurBackward(b: number, t: number): void {
    const H = this.hidden;
    const n = b * H;
    const { dh, h, dIn } = this;
    const whh = this.params.weightHh.data;
    for (let s = 0; s < t; s++) {
      const p = this.reverse ? s : t - 1 - s;
      const a = p * n;
      const out = this.outSlot(p) * n;
      // h = tanh(a)  =>  dL/da = dL/dh (1 - h^2)
      tanhBackward(h, out, dh, a, dIn, a, n);
      // a = ... + h_{p-1} W_hh^T  =>  dL/dh_{p-1} += dL/da W_hh
      const prev = this.reverse ? p + 1 : p - 1;
      if (prev >= 0 && prev < t) matmulAB(dh, prev * n, dIn, a, whh, 0, b, H, H, true);
      else matmulAB(this.dhInit, 0, dIn, a, whh, 0, b, H, H, false);
    }
  }
}
