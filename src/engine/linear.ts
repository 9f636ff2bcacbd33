// nn.Linear, the decoder from hidden states to logits: y = x W^T + b, W [V, In].
// Cache: a reference to its input x, which the weight gradient reads.
import type { Floats } from './floats.js';
import { addColumnSums, fillRows, matmulAB, matmulABt, matmulAtB } from './backend.js';
import type { Param } from './parameters.js';

export class Linear {
  readonly weight: Param;
  readonly bias: Param;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private x: Floats | null = null;
  private x0 = 0;

  constructor(weight: Param, bias: Param) {
    this.weight = weight;
    this.bias = bias;
    this.outFeatures = weight.shape[0]!;
    this.inFeatures = weight.shape[1]!;
  }

  /** y[rows, V] from y0 = x[rows, In] (from x0) W^T + b. */
  forward(y: Floats, y0: number, x: Floats, x0: number, rows: number): void {
    this.x = x;
    this.x0 = x0;
    fillRows(y, y0, this.bias.data, rows, this.outFeatures);
    matmulABt(y, y0, x, x0, this.weight.data, 0, rows, this.outFeatures, this.inFeatures, true);
  }

  /** dW += dy^T x, db += sum dy, and dx (+)= dy W into dx[rows, In] from dx0. */
  backward(dy: Floats, dy0: number, dx: Floats, dx0: number, rows: number, accumulateDx: boolean): void {
    matmulAtB(this.weight.grad, 0, dy, dy0, this.x!, this.x0, rows, this.outFeatures, this.inFeatures, true);
    addColumnSums(this.bias.grad, dy, dy0, rows, this.outFeatures);
    matmulAB(dx, dx0, dy, dy0, this.weight.data, 0, rows, this.outFeatures, this.inFeatures, accumulateDx);
  }
}
