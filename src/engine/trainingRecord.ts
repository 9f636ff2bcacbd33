// What a checkpoint carries besides the model so that a run resumes exactly (docs/checkpoint-format.md,
// "What else a file may hold"): the training record in the metadata, the optimizer's state tensors and the
// state each stream carries to its next window. The trainer owns these; this module names and checks them.
import type { Checkpoint } from './checkpoint.js';
import type { ModelConfig, TrainConfig } from './config.js';
import { RecurrentError } from './errors.js';
import type { Floats } from './floats.js';
import type { RngState } from './rng.js';
import type { NamedTensor } from './safetensors.js';

/** Metadata key of the training record. */
export const TRAINING_KEY = 'recurrent.training';

/** What `recurrent.training` holds, besides the `optimizer.*` and `state.*` tensors. */
export interface TrainingRecord {
  train: TrainConfig;
  updates: number;
  tokens: number;
  elapsedMs: number;
  rng: RngState;
  /** Token index of each stream's next window. */
  positions: number[];
  /** The text the positions refer to: its token count and a hash of its tokens. */
  textTokens: number;
  textHash: number;
}

/** FNV-1a over the token ids, to tell whether a resumed run reads the same text. */
export function hashTokens(ids: Int32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) {
    h = Math.imul(h ^ (ids[i]! & 0xffff), 0x01000193);
    h = Math.imul(h ^ (ids[i]! >>> 16), 0x01000193);
  }
  return h >>> 0;
}

/** The record in `checkpoint`, if any: null for a file without one (e.g. exported from PyTorch). */
export function readTrainingRecord(checkpoint: Checkpoint): Partial<TrainingRecord> | null {
  const raw = checkpoint.metadata[TRAINING_KEY];
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw) as Partial<TrainingRecord>;
  } catch {
    throw new RecurrentError(
      `the checkpoint's training state (${TRAINING_KEY}) is not valid JSON; start a new run from its weights instead`,
    );
  }
}

/** Names of the carried-state tensors in the order of the state buffer: [layer, direction, h then c]. */
export function carriedStateNames(c: ModelConfig): string[] {
  const names: string[] = [];
  const kinds = c.cell === 'lstm' ? ['h', 'c'] : ['h'];
  for (let l = 0; l < c.layers; l++) {
    for (const suffix of c.bidirectional ? ['', '_reverse'] : ['']) {
      for (const k of kinds) names.push(`state.${k}_l${l}${suffix}`);
    }
  }
  return names;
}

/** The carried state of `batch` streams as [batch, H] tensors. */
export function carriedStateTensors(c: ModelConfig, batch: number, state: Floats): NamedTensor[] {
  const n = batch * c.hidden;
  return carriedStateNames(c).map((name, i) => ({
    name,
    shape: [batch, c.hidden],
    data: new Float32Array(state.subarray(i * n, (i + 1) * n)),
  }));
}

/** Reads the carried state of `batch` streams from `tensors` into `state`, refusing a missing or misshapen one. */
export function loadCarriedState(c: ModelConfig, batch: number, tensors: ReadonlyMap<string, NamedTensor>, state: Floats): void {
  const n = batch * c.hidden;
  carriedStateNames(c).forEach((name, i) => {
    const t = tensors.get(name);
    if (t === undefined || t.data.length !== n) {
      throw new RecurrentError(
        `the checkpoint's carried state ${name} is missing or has the wrong size (expected [${batch}, ${c.hidden}])`,
      );
    }
    state.set(t.data, i * n);
  });
}
