// Checks every parameter tensor's analytic gradient against central finite differences, in float64,
// with the fourth-order stencil so that truncation error (O(eps^4)) stays far below rounding error:
//   numeric = (8 (L(w + eps) - L(w - eps)) - (L(w + 2 eps) - L(w - 2 eps))) / (12 eps)
// on a random window from a random initial state, with the loss on the window's last k1 positions
// (k1 = steps is full BPTT over the window; k1 < steps checks truncated BPTT's loss range).
import type { ModelConfig } from './config.js';
import { Model } from './model.js';
import { Rng } from './rng.js';

export interface GradcheckOptions {
  /** Streams in the window. */
  batch: number;
  /** Positions in the window (k2). */
  steps: number;
  /** The loss covers the last k1 positions; defaults to all of them. */
  k1?: number;
  seed: number;
  /** Elements checked per tensor, chosen at random when a tensor has more; defaults to all. */
  maxPerTensor?: number;
  /** Finite-difference step; 1e-3 by default. */
  epsilon?: number;
}

export interface TensorCheck {
  name: string;
  checked: number;
  worstRelError: number;
  /** The element with the worst error, and its two gradients. */
  worstIndex: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckResult {
  tensors: TensorCheck[];
  worstRelError: number;
  worstTensor: string;
}

/**
 * |a - n| / max(|a|, |n|, floor). The floor keeps gradients that are zero, or far below what finite
 * differences in float64 resolve (their error is near 1e-12 absolute here), from reading as large errors.
 */
export const RELATIVE_ERROR_FLOOR = 1e-4;

export function relativeError(analytic: number, numeric: number): number {
  const scale = Math.max(Math.abs(analytic), Math.abs(numeric), RELATIVE_ERROR_FLOOR);
  return Math.abs(analytic - numeric) / scale;
}

export function gradcheck(config: ModelConfig, opts: GradcheckOptions): GradcheckResult {
  const B = opts.batch;
  const T = opts.steps;
  const k1 = opts.k1 ?? T;
  const from = T - k1;
  const eps = opts.epsilon ?? 1e-3;
  const rng = new Rng(opts.seed);
  const model = Model.create(config, opts.seed, 'f64');
  const net = model.unroll(B, T);
  const V = config.vocabSize;
  for (let i = 0; i < T * B; i++) {
    net.ids[i] = rng.int(V);
    net.targets[i] = rng.int(V);
  }
  const state = model.arena.floats(net.stateSize(B));
  for (let i = 0; i < state.length; i++) state[i] = rng.uniform(-0.5, 0.5);
  const loss = (): number => {
    net.setState(state, B, T);
    net.forward(B, T);
    net.decode(B, T, from);
    return net.loss(B, T, from);
  };
  model.zeroGrads();
  loss();
  net.backward(B, T, from, 1);

  const tensors: TensorCheck[] = [];
  for (const p of model.params) {
    const n = p.data.length;
    const count = Math.min(n, opts.maxPerTensor ?? n);
    const check: TensorCheck = { name: p.name, checked: count, worstRelError: 0, worstIndex: -1, analytic: 0, numeric: 0 };
    for (let c = 0; c < count; c++) {
      const i = count === n ? c : rng.int(n);
      const w = p.data[i]!;
      const at = (delta: number): number => {
        p.data[i] = w + delta;
        return loss();
      };
      const near = at(eps) - at(-eps);
      const far = at(2 * eps) - at(-2 * eps);
      p.data[i] = w;
      const numeric = (8 * near - far) / (12 * eps);
      const err = relativeError(p.grad[i]!, numeric);
      if (err > check.worstRelError || check.worstIndex < 0) {
        Object.assign(check, { worstRelError: err, worstIndex: i, analytic: p.grad[i]!, numeric });
      }
    }
    tensors.push(check);
  }
  const worst = tensors.reduce((a, b) => (b.worstRelError > a.worstRelError ? b : a));
  return { tensors, worstRelError: worst.worstRelError, worstTensor: worst.name };
}
