// The part of the engine the worker drives, as an interface: worker.ts binds it to the real engine, and
// the unit tests to a scripted fake, so the run loop's scheduling can be tested in milliseconds. The loop
// works on the engine's Trainer itself, so whatever the Trainer offers needs no forwarding here.
import type { Checkpoint } from '../engine/checkpoint.js';
import type { ModelConfig, TokenizerKind, TrainConfig } from '../engine/config.js';
import type { Trainer } from '../engine/trainer.js';
import type { SamplingRequest } from '../protocol/messages.js';

export interface EngineLike {
  create(
    text: string,
    model: Omit<ModelConfig, 'vocabSize'>,
    train: TrainConfig,
    tokenizer: TokenizerKind,
    opts: { maxVocab?: number },
  ): Trainer;
  /** `threads` replaces the count recorded in the checkpoint: it is this machine's, not the run's. */
  resume(text: string, checkpoint: Checkpoint, overrides: { threads: number }): Trainer;
  readCheckpoint(path: string): Promise<Checkpoint>;
  writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void>;
  /** Generates from the trainer's current weights; `onToken` sees each token's text as it comes. */
  sample(t: Trainer, request: SamplingRequest, onToken: (text: string) => void): Promise<string>;
}
