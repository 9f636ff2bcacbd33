// Where a training run's checkpoints go, and when: checked before the first update (stale temporary
// files of the name removed, the folder, its permissions and the disk's room for this run's checkpoint),
// saved every few minutes while it trains, so a run killed outright (SIGKILL, the OOM killer, a power
// cut, a crash) loses at most that long (the extension's recurrent.autosaveIntervalSeconds default), and
// saved once more at the end. An autosave that fails (the disk filled up meanwhile) is said once and
// training goes on; the checkpoint saved before stands, and the next interval tries again. Shared by
// every command that trains (train.ts, taskTrain.ts).
import { existsSync } from 'node:fs';
import {
  checkCheckpointTarget,
  checkpointFileBytes,
  removeStaleTemporaries,
  writeCheckpointFile,
  type Checkpoint,
} from '../engine/checkpoint.js';
import { RecurrentError } from '../engine/errors.js';
import { formatCount } from './format.js';

export const DEFAULT_AUTOSAVE_MS = 120_000;

/** What a run's saves need of its trainer. */
export interface Saveable {
  readonly updates: number;
  toCheckpoint(): Checkpoint;
}

export class RunSaves {
  private last = Date.now();
  private failing = false;
  /** The update of the last checkpoint this run wrote to `out`, or null before the first. */
  private autosaved: number | null = null;

  constructor(
    readonly out: string,
    /** 0 = only when the run ends. */
    private readonly everyMs: number,
    private readonly say: (line: string) => void,
  ) {}

  /** Before the first update: what a killed save left is removed, and a checkpoint of `run` must fit there. */
  async prepare(run: Saveable): Promise<void> {
    const stale = await removeStaleTemporaries(this.out);
    if (stale.files)
      this.say(
        `removed ${stale.files} temporary file(s) (${(stale.bytes / 1e6).toFixed(1)} MB) that an interrupted save of ${this.out} left behind`,
      );
    await checkCheckpointTarget(this.out, checkpointFileBytes(run.toCheckpoint()));
    this.last = Date.now();
  }

  due(): boolean {
    return this.everyMs > 0 && Date.now() - this.last >= this.everyMs;
  }

  /** Saves now; a failure the user can fix is reported, not thrown, so training goes on. */
  async autosave(run: Saveable): Promise<void> {
    this.last = Date.now();
    try {
      await writeCheckpointFile(this.out, run.toCheckpoint());
    } catch (e) {
      if (!(e instanceof RecurrentError)) throw e;
      if (!this.failing) {
        const stands = this.autosaved === null ? 'nothing is saved yet' : `the autosave of update ${formatCount(this.autosaved)} stands`;
        this.say(`recurrent: autosave failed: ${e.message}; training goes on, ${stands}, and the next autosave tries again`);
      }
      this.failing = true;
      return;
    }
    this.failing = false;
    this.autosaved = run.updates;
    this.say(`autosaved update ${formatCount(run.updates)} to ${this.out}`);
  }

  /** What `out` holds from this run, for the lines that say what is kept; null if it autosaved nothing. */
  kept(): string | null {
    return this.autosaved === null ? null : `${this.out} holds the autosave of update ${formatCount(this.autosaved)}`;
  }

  /**
   * The lines that end a run whose weights are no longer finite (an update carried one past the float
   * range), which nothing saves: what stopped it and what `out` holds. Null while they are finite.
   */
  unkeepable(run: { model: { parametersFinite(): boolean } }, failure: string | null): string | null {
    if (run.model.parametersFinite()) return null;
    const holds = this.kept() ?? (existsSync(this.out) ? `${this.out} is as it was` : `no ${this.out} written`);
    return `recurrent: ${failure ?? 'the weights are no longer finite'}\nthe weights are not finite: nothing was saved, ${holds}\n`;
  }

  /** The run's last save, to `path` (`out`, or beside it); if it fails, the error says what is kept instead. */
  async final(path: string, run: Saveable): Promise<void> {
    try {
      await writeCheckpointFile(path, run.toCheckpoint());
    } catch (e) {
      if (e instanceof RecurrentError)
        throw new RecurrentError(`${e.message}; update ${formatCount(run.updates)} is lost, ${this.kept() ?? 'and nothing was saved'}`);
      throw e;
    }
  }
}
