// One layer of the stacked network as the layers above and below see it: an input of t*b rows in, an
// output [t, b, width] out, and a gradient buffer for that output which the layer above (or the
// decoder) fills before backward. A unidirectional layer is one cell; bidirectional.ts pairs two.
import type { Cell } from './cell.js';
import type { Floats } from './floats.js';

export interface Layer {
  /** The cells of this layer: [forward] or [forward, reverse]. */
  readonly cells: readonly Cell[];
  /** Features per output row: H, or 2H for a bidirectional layer. */
  readonly width: number;
  /** Holds the output [t, b, width] from outputOffset(b). */
  readonly out: Floats;
  outputOffset(b: number): number;
  /** [t, b, width] dL/d(output), written by the caller before backward. */
  readonly dOut: Floats;
  forward(x: Floats | null, x0: number, ids: Int32Array | null, b: number, t: number): void;
  /** Backpropagates; writes dL/dx into dx [t, b, In] from dx0 unless dx is null. */
  backward(dx: Floats | null, dx0: number, b: number, t: number): void;
}

/** A unidirectional layer: the cell's own buffers are the layer's. */
export class UnidirectionalLayer implements Layer {
  readonly cells: readonly Cell[];
  readonly width: number;
  readonly out: Floats;
  readonly dOut: Floats;

  constructor(private readonly cell: Cell) {
    this.cells = [cell];
    this.width = cell.hidden;
    this.out = cell.h;
    this.dOut = cell.dh;
  }

  outputOffset(b: number): number {
    return this.cell.outputOffset(b);
  }

  forward(x: Floats | null, x0: number, ids: Int32Array | null, b: number, t: number): void {
    this.cell.forward(x, x0, ids, b, t);
  }

  backward(dx: Floats | null, dx0: number, b: number, t: number): void {
    this.cell.backward(dx, dx0, false, b, t);
  }
}
