// A model and its tokenizer from a checkpoint, for the commands that only run it forward.
import type { Checkpoint } from '../engine/checkpoint.js';
import { Model } from '../engine/model.js';
import { Tokenizer } from '../engine/tokenizer.js';

export function loadModel(ck: Checkpoint): { model: Model; tokenizer: Tokenizer } {
  const model = new Model(ck.config);
  model.loadTensors(ck.tensors);
  return { model, tokenizer: Tokenizer.fromSpec(ck.tokenizer) };
}
