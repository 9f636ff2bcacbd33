// A training window rebuilt outside the trainer: a fresh model with a checkpoint's weights, reading the
// windows that start at `starts` (one per stream) of `tokens`, from a given carried state. Tests use it to
// hold the trainer to what a window is, and a saved file to the weights training used.
import type { Checkpoint } from '../../../src/engine/checkpoint.js';
import { Model } from '../../../src/engine/model.js';
import type { Unrolled } from '../../../src/engine/unroll.js';

/** The network of a fresh model with `ck`'s weights, its ids and targets filled with each stream's window of k2. */
export function windowsOf(ck: Checkpoint, tokens: Int32Array, starts: readonly number[], k2: number): { model: Model; net: Unrolled } {
  const model = new Model(ck.config);
  model.loadTensors(ck.tensors);
  const B = starts.length;
  const net = model.unroll(B, k2);
  starts.forEach((start, b) => {
    for (let s = 0; s < k2; s++) {
      net.ids[s * B + b] = tokens[start + s]!;
      net.targets[s * B + b] = tokens[start + s + 1]!;
    }
  });
  return { model, net };
}

/** The mean loss of the windows' last k1 positions from `state` (null: zero), as an update reports it. */
export function windowLoss(net: Unrolled, B: number, k1: number, k2: number, state: Float32Array | null): number {
  net.setState(state, B, k2);
  net.forward(B, k2);
  net.decode(B, k2, k2 - k1);
  return net.loss(B, k2, k2 - k1) / (B * k1);
}
