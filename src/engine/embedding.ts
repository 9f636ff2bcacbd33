// nn.Embedding: the vector of token v is row v of W [V, E]. Cache: the ids, which backward scatters by.
import type { Arena } from './arena.js';
import type { Floats } from './floats.js';
import { gatherRows, scatterRowsAdd } from './kernels.js';
import type { Param } from './parameters.js';

export class Embedding {
  readonly weight: Param;
  readonly dim: number;
  /** [T, B, E] the embedded window. */
  readonly out: Floats;
  /** [T, B, E] dL/dout, written by the layer above. */
  readonly dOut: Floats;
  private ids: Int32Array | null = null;

  constructor(arena: Arena, weight: Param, maxBatch: number, maxSteps: number) {
    this.weight = weight;
    this.dim = weight.shape[1]!;
    this.out = arena.floats(maxSteps * maxBatch * this.dim);
    this.dOut = arena.floats(maxSteps * maxBatch * this.dim);
  }

  /** out[p, r] = W[ids[p, r]] for the rows = t*b ids. */
  forward(ids: Int32Array, rows: number): void {
    this.ids = ids;
    gatherRows(this.out, 0, ids, 0, this.weight.data, rows, this.dim);
  }

  /** dW[ids[p, r]] += dOut[p, r]. */
  backward(rows: number): void {
    scatterRowsAdd(this.weight.grad, this.ids!, 0, this.dOut, 0, rows, this.dim);
  }
}
