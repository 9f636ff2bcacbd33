// Parameters are named and shaped exactly as PyTorch names the module in docs/checkpoint-format.md,
// so a checkpoint moves to and from a PyTorch state_dict without reshuffling.
import { GATES, type ModelConfig } from './config.js';
import type { Floats } from './floats.js';

export interface Param {
  /** PyTorch name, e.g. `rnn.weight_hh_l0_reverse`. */
  readonly name: string;
  /** Row-major shape, e.g. [G*H, H]. */
  readonly shape: readonly number[];
  readonly data: Floats;
  readonly grad: Floats;
}

export interface ParamShape {
  name: string;
  shape: number[];
}

/** Every parameter tensor of a model, in the order PyTorch's state_dict lists them. */
export function parameterShapes(c: ModelConfig): ParamShape[] {
  const H = c.hidden;
  const G = GATES[c.cell];
  const D = c.bidirectional ? 2 : 1;
  const out: ParamShape[] = [];
  if (c.embedding > 0) out.push({ name: 'embedding.weight', shape: [c.vocabSize, c.embedding] });
  for (let k = 0; k < c.layers; k++) {
    const input = k === 0 ? c.embedding || c.vocabSize : H * D;
    for (const suffix of D === 2 ? ['', '_reverse'] : ['']) {
      out.push({ name: `rnn.weight_ih_l${k}${suffix}`, shape: [G * H, input] });
      out.push({ name: `rnn.weight_hh_l${k}${suffix}`, shape: [G * H, H] });
      out.push({ name: `rnn.bias_ih_l${k}${suffix}`, shape: [G * H] });
      out.push({ name: `rnn.bias_hh_l${k}${suffix}`, shape: [G * H] });
    }
  }
  const K = c.labels?.length ?? 0;
  if (c.task === 'classify') {
    // nn.Linear(H*D, K) over the pooled encoder states (the final states of both directions, or their mean).
    out.push({ name: 'classifier.weight', shape: [K, H * D] });
    out.push({ name: 'classifier.bias', shape: [K] });
    return out;
  }
  out.push({ name: 'decoder.weight', shape: [c.vocabSize, H * D] });
  out.push({ name: 'decoder.bias', shape: [c.vocabSize] });
  // generate: nn.Embedding(K, L*S*H), each label's initial state, laid out [layer, state (h, c), H].
  if (c.task === 'generate') out.push({ name: 'label_embedding.weight', shape: [K, c.layers * (c.cell === 'lstm' ? 2 : 1) * H] });
  return out;
}

export function parameterCount(c: ModelConfig): number {
  return parameterShapes(c).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}
