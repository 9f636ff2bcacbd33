// The GRU cell as nn.GRU computes it, gate rows in PyTorch's order r, z, n:
//   r = s(x W_ir^T + b_ir + h W_hr^T + b_hr)
//   z = s(x W_iz^T + b_iz + h W_hz^T + b_hz)
//   n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
//   h_p = (1 - z) * n + z * h_{p-1}
// The reset gate multiplies the hidden side's product and its bias, so the two halves of each gate are
// kept apart: act holds the input side (then r, z, n), `hn` the term h W_hn^T + b_hn that dr needs.
import type { Arena } from './arena.js';
import { Cell, type CellParams, type CellShape } from './cell.js';
import type { Floats } from './floats.js';
import { fillRows, gruBackward, gruGates, matmulAB, matmulABt } from './backend.js';

export class GruCell extends Cell {
  readonly stateCount = 1;
  protected readonly biasesTogether = false;
  /** [T, B, H] h_{p-1} W_hn^T + b_hn by position. */
  readonly hn: Floats;
  /** [B, 3H] the hidden side h_{p-1} W_hh^T + b_hh of the current step. */
  private readonly hg: Floats;

  constructor(arena: Arena, params: CellParams, shape: CellShape) {
    super(arena, params, shape, 3, false);
    const { hidden: H, maxBatch: B, maxSteps: T } = shape;
    this.hn = arena.floats(T * B * H);
    this.hg = arena.floats(B * 3 * H);
    // The hidden side differs from the input side in the n rows (times r), so it has its own gradient.
    this.dHid = arena.floats(T * B * 3 * H);
  }

  protected stateBuffer(): Floats {
    return this.h;
  }

  protected recur(b: number, t: number): void {
    const H = this.hidden;
    const G = 3 * H;
    const n = b * H;
    const { act, h, hn, hg } = this;
    const whh = this.params.weightHh.data;
    const bhh = this.params.biasHh.data;
    for (let s = 0; s < t; s++) {
      const p = this.reverse ? t - 1 - s : s;
      const prev = this.prevSlot(p) * n;
      fillRows(hg, 0, bhh, b, G);
      matmulABt(hg, 0, h, prev, whh, 0, b, G, H, true);
      const out = this.outSlot(p) * n;
      // r, z, n and h_p for all b rows in one fused pass (gates.ts, or wasm SIMD)
      gruGates(act, p * b * G, hg, 0, hn, p * n, h, prev, out, b, H);
    }
  }

  protected recurBackward(b: number, t: number): void {
    const H = this.hidden;
    const G = 3 * H;
    const n = b * H;
    const { act, h, hn, dh, dIn, dHid, dhInit } = this;
    const whh = this.params.weightHh.data;
    for (let s = 0; s < t; s++) {
      const p = this.reverse ? s : t - 1 - s;
      const prev = this.prevSlot(p) * n;
      const back = this.reverse ? p + 1 : p - 1;
      const inside = back >= 0 && back < t;
      const target = inside ? dh : dhInit;
      const t0 = inside ? back * n : 0;
      // the gates' gradients and the direct path z h_{p-1} for all b rows in one pass (gates.ts, or wasm SIMD)
      gruBackward(act, p * b * G, dh, p * n, h, prev, hn, p * n, dIn, dHid, target, t0, inside, b, H);
      matmulAB(target, t0, dHid, p * b * G, whh, 0, b, G, H, true);
    }
  }
}
