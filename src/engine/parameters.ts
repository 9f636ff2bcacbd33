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

/** (embedding) and the recurrent stack of nn.RNN/LSTM/GRU(bidirectional=D==2), under `prefix`. */
function stack(out: ParamShape[], prefix: string, c: ModelConfig, V: number, H: number, D: number): void {
  const G = GATES[c.cell];
  if (c.embedding > 0) out.push({ name: `${prefix}embedding.weight`, shape: [V, c.embedding] });
  for (let k = 0; k < c.layers; k++) {
    const input = k === 0 ? c.embedding || V : H * D;
    for (const suffix of D === 2 ? ['', '_reverse'] : ['']) {
      out.push({ name: `${prefix}rnn.weight_ih_l${k}${suffix}`, shape: [G * H, input] });
      out.push({ name: `${prefix}rnn.weight_hh_l${k}${suffix}`, shape: [G * H, H] });
      out.push({ name: `${prefix}rnn.bias_ih_l${k}${suffix}`, shape: [G * H] });
      out.push({ name: `${prefix}rnn.bias_hh_l${k}${suffix}`, shape: [G * H] });
    }
  }
}

/** Every parameter tensor of a model, in the order PyTorch's state_dict lists them. */
export function parameterShapes(c: ModelConfig): ParamShape[] {
  const H = c.hidden;
  const D = c.bidirectional ? 2 : 1;
  const out: ParamShape[] = [];
  if (c.task === 'translate') {
    // The encoder as classify's (under encoder.), the decoder the language model of version 1 (under
    // decoder.) over the target vocabulary, D*H units wide: it starts from the encoder's final states,
    // both directions concatenated, layer by layer.
    const W = c.targetVocabSize!;
    stack(out, 'encoder.', c, c.vocabSize, H, D);
    stack(out, 'decoder.', c, W, H * D, 1);
    out.push({ name: 'decoder.decoder.weight', shape: [W, H * D] });
    out.push({ name: 'decoder.decoder.bias', shape: [W] });
    return out;
  }
  stack(out, '', c, c.vocabSize, H, D);
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
