// Softmax cross-entropy, the loss of next-token prediction: for logits z and target y,
//   l = -ln softmax(z)_y = logsumexp(z) - z_y     (nats)
// summed over the predicted positions. Forward turns the logits into probabilities in place, the cache
// backward needs, since dl/dz = softmax(z) - onehot(y). A negative target marks a padded position
// (PyTorch's ignore_index): it adds no loss and gets a zero gradient row, so batches of examples of
// different lengths train exactly as the examples one by one.
import type { Floats } from './floats.js';

/**
 * Replaces each of `rows` rows of z [rows, V] (from z0) by its softmax and returns the summed loss in
 * nats against targets[t0 + row]. With perRow, also writes each row's loss to perRow[r0 + row].
 */
export function softmaxCrossEntropyForward(
  z: Floats,
  z0: number,
  targets: Int32Array,
  t0: number,
  rows: number,
  V: number,
  perRow: Floats | null,
  r0: number,
): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = z0 + r * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (z[o + v] > max) max = z[o + v];
    // Subtracting the max keeps exp finite; a NaN logit makes max NaN and the loss NaN, as it should.
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(z[o + v] - max);
    const logSum = max + Math.log(sum);
    const y = targets[t0 + r];
    const loss = y < 0 ? 0 : logSum - z[o + y];
    for (let v = 0; v < V; v++) z[o + v] = Math.exp(z[o + v] - logSum);
    if (perRow !== null) perRow[r0 + r] = loss;
    total += loss;
  }
  return total;
}

/** Turns the probabilities p left by forward into dL/dz = scale * (p - onehot(target)), in place. */
export function softmaxCrossEntropyBackward(
  p: Floats,
  p0: number,
  targets: Int32Array,
  t0: number,
  rows: number,
  V: number,
  scale: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = p0 + r * V;
    const y = targets[t0 + r];
    if (y < 0) {
      p.fill(0, o, o + V);
      continue;
    }
    for (let v = 0; v < V; v++) p[o + v] *= scale;
    p[o + y] -= scale;
  }
}
