// A model and its tokenizer from a checkpoint, for the commands that only run it forward.
import type { Checkpoint } from '../engine/checkpoint.js';
import { Model } from '../engine/model.js';
import { probeTokenLoss } from '../engine/probes.js';
import type { Stepper } from '../engine/sampling.js';
import { Tokenizer } from '../engine/tokenizer.js';

export function loadModel(ck: Checkpoint): { model: Model; tokenizer: Tokenizer; stepper: Stepper } {
  const model = new Model(ck.config);
  model.loadTensors(ck.tensors);
  return { model, tokenizer: Tokenizer.fromSpec(ck.tokenizer), stepper: model.stepper() };
}

/** The evaluation contract: tokens of `text` and -ln p(t_i | t_<i) for i = 1..N-1, from a zero state. */
export function evaluateText(ck: Checkpoint, text: string): { tokens: number; perToken: Float32Array } {
  const model = new Model(ck.config);
  model.loadTensors(ck.tensors);
  const probe = probeTokenLoss(model, Tokenizer.fromSpec(ck.tokenizer), text, 0);
  return { tokens: probe.tokens.length, perToken: probe.lossNats };
}
