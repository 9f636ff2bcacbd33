// A bidirectional layer: one cell reads the window forwards, a second (the `_reverse` parameters) reads
// it from the last position to the first, and position p's output is [h_fwd_p, h_rev_p] (2H features),
// as nn.RNN/LSTM/GRU(bidirectional=True) concatenate them. Only for tasks that see the whole input.
import type { Arena } from './arena.js';
import type { Cell } from './cell.js';
import type { Floats } from './floats.js';
import type { Layer } from './layer.js';

export class BidirectionalLayer implements Layer {
  readonly cells: readonly Cell[];
  readonly width: number;
  /** [T, B, 2H] the concatenated outputs. */
  readonly out: Floats;
  /** [T, B, 2H] dL/d(concatenated outputs). */
  readonly dOut: Floats;

  constructor(
    arena: Arena,
    private readonly fwd: Cell,
    private readonly rev: Cell,
  ) {
    this.cells = [fwd, rev];
    this.width = 2 * fwd.hidden;
    this.out = arena.floats(fwd.maxSteps * fwd.maxBatch * this.width);
    this.dOut = arena.floats(fwd.maxSteps * fwd.maxBatch * this.width);
  }

  outputOffset(): number {
    return 0;
  }

  forward(x: Floats | null, x0: number, ids: Int32Array | null, b: number, t: number): void {
    const { fwd, rev, out } = this;
    fwd.forward(x, x0, ids, b, t);
    rev.forward(x, x0, ids, b, t);
    const H = fwd.hidden;
    const rows = t * b;
    const f0 = fwd.outputOffset(b);
    const r0 = rev.outputOffset(b);
    for (let m = 0; m < rows; m++) {
      const o = m * 2 * H;
      for (let j = 0; j < H; j++) {
        out[o + j] = fwd.h[f0 + m * H + j];
        out[o + H + j] = rev.h[r0 + m * H + j];
      }
    }
  }

  backward(dx: Floats | null, dx0: number, b: number, t: number): void {
    const { fwd, rev, dOut } = this;
    const H = fwd.hidden;
    const rows = t * b;
    for (let m = 0; m < rows; m++) {
      const o = m * 2 * H;
      for (let j = 0; j < H; j++) {
        fwd.dh[m * H + j] = dOut[o + j];
        rev.dh[m * H + j] = dOut[o + H + j];
      }
    }
    // Both directions read the same input, so their input gradients add.
    fwd.backward(dx, dx0, false, b, t);
    rev.backward(dx, dx0, true, b, t);
  }
}
