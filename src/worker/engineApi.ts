// The part of the engine the worker drives, as an interface: worker.ts binds it to the real engine (the
// language model's Trainer or a task's TaskTrainer, each behind runTrainer.ts), and the unit tests to a
// scripted fake, so the run loop's scheduling can be tested in milliseconds.
import type { Checkpoint } from '../engine/checkpoint.js';
import type { StartCommand } from '../protocol/messages.js';
import type { RunTrainer } from './runTrainer.js';

export interface EngineLike {
  /** A new run as the start command describes it: its text, model (whose task picks the trainer) and settings. */
  create(start: StartCommand): RunTrainer;
  /**
   * The run saved in `checkpoint` (whose task picks the trainer), continued on the start command's text;
   * the start command's thread count replaces the checkpoint's: it is this machine's, not the run's.
   */
  resume(start: StartCommand, checkpoint: Checkpoint): RunTrainer;
  readCheckpoint(path: string): Promise<Checkpoint>;
  /** `ownFolder`: the folder is the run's own (the extension's storage), made again if it was deleted. */
  writeCheckpoint(path: string, checkpoint: Checkpoint, ownFolder?: boolean): Promise<void>;
}
