// What the commands share: the runs of this window, the checkpoint store and the log; which run a
// command means; what the window shows of the runs (context keys, status bar); a failure shown as one
// line; and, when the window closes, every live run saved. The commands are in commands/, one file per
// group; starting a run is launch.ts. Every training step, sample and probe runs in a run's worker.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RecurrentError } from '../engine/errors.js';
import type { RunHistory } from '../protocol/messages.js';
import { CheckpointStore } from './checkpointStore.js';
import { setContextKeys } from './contextKeys.js';
import type { Run } from './run.js';
import { SettingsError } from './runInput.js';
import { Runs } from './runs.js';
import { RunStatusBar } from './statusBar.js';

export class Studio implements vscode.Disposable {
  readonly runs = new Runs();
  readonly store: CheckpointStore;
  readonly log: vscode.LogOutputChannel;
  private readonly status = new RunStatusBar();
  private readonly disposables: vscode.Disposable[] = [];
  /** Work that must finish before the window closes (checkpoint records being written). */
  private readonly pending = new Set<Promise<void>>();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** The live runs last marked in the store, as a key. */
  private liveKey = '';
  /** Set once the window is closing: its runs are saved and no longer count as live. */
  private closing = false;
  private liveWrites: Promise<void> = Promise.resolve();

  constructor(readonly context: vscode.ExtensionContext) {
    const storage = context.storageUri ?? context.globalStorageUri;
    this.store = new CheckpointStore(join(storage.fsPath, 'checkpoints'));
    this.log = vscode.window.createOutputChannel('Recurrent Studio', { log: true });
    this.disposables.push(
      this.log,
      this.status,
      this.runs.onChange(() => this.refresh()),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
    );
    this.refresh();
  }

  /** The run `runId` names, or else the one a command without a target means (see Runs.pick). */
  target(runId: string | undefined, usable: (s: Run) => boolean, what: string): Run {
    const s = runId ? this.runs.get(runId) : this.runs.pick(vscode.window.activeTextEditor?.document.uri.toString(), usable);
    if (!s)
      throw new RecurrentError(
        runId ? `there is no run ${runId}` : `no run ${what}; run Recurrent: Train on Current File or Recurrent: Load Checkpoint first`,
      );
    return s;
  }

  histories(): RunHistory[] {
    return this.runs.all().map((s) => s.history());
  }

  /** Keeps `work` for shutdown() (and settled()) to wait on. */
  keep(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Resolves when the work kept so far (checkpoint records being written) is done. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  refreshSoon(): void {
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh();
    }, 200);
  }

  refresh(): void {
    const all = this.runs.all();
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const mine = active ? this.runs.forFile(active) : undefined;
    setContextKeys(all, mine);
    this.status.show(mine ?? all.at(-1));
    this.markLive();
  }

  /**
   * Keeps the store's mark of this extension host's live runs up to date, so that if the host is killed
   * the next one can say which runs it interrupted (CheckpointStore.interrupted).
   */
  private markLive(): void {
    if (this.closing) return;
    const ids = this.runs
      .all()
      .filter((s) => s.alive && (s.status === 'running' || s.status === 'paused' || s.status === 'starting'))
      .map((s) => s.runId);
    const key = ids.join(',');
    if (key === this.liveKey) return;
    this.liveKey = key;
    // In order: a later mark must not be overtaken by an earlier one.
    this.liveWrites = this.liveWrites
      .then(() => this.store.markLive(ids))
      .catch((e) => this.log.warn(`could not mark the live runs: ${e}`));
    this.keep(this.liveWrites);
  }

  /** Shows a command's failure as one line, with a button where one helps. */
  report(e: unknown): void {
    if (e instanceof SettingsError) {
      const button = 'fix' in e && 'file' in e.fix ? 'Open .recurrent.json' : 'Open Settings';
      void vscode.window.showErrorMessage(`Recurrent Studio: ${e.message}`, button).then((a) => {
        if (a === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'recurrent.');
        if (a === 'Open .recurrent.json' && 'file' in e.fix) void vscode.window.showTextDocument(e.fix.file);
      });
    } else if (e instanceof RecurrentError) {
      void vscode.window.showErrorMessage(`Recurrent Studio: ${e.message}`);
    } else {
      this.log.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      void vscode.window.showErrorMessage(
        `Recurrent Studio hit a bug: ${e instanceof Error ? e.message : String(e)} (details in the Recurrent Studio output).`,
      );
    }
  }

  /** Before the window closes: every live run saves where it is, then its worker ends. */
  async shutdown(): Promise<void> {
    this.closing = true;
    const live = this.runs.all().filter((s) => s.alive && (s.status === 'running' || s.status === 'paused'));
    await Promise.all(
      live.map((s) => Promise.race([s.request('save', this.store.checkpointPath(s.runId)).catch(() => undefined), delay(3000)])),
    );
    await delay(0); // the saves' checkpointSaved events reach their runs' followers and start their records
    await Promise.race([Promise.all([...this.pending]), delay(2000)]);
    // Closed cleanly: the next extension host will not report these runs as interrupted.
    await this.liveWrites;
    await this.store.endLive().catch(() => undefined);
    await this.runs.disposeAll();
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
