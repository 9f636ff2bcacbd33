// Starting a run: the worker's start settings from the run's settings, the run added to the window's
// runs and followed (its autosaves recorded for Load Checkpoint, what the user is told), and the exact
// resume of an autosaved run. Both Train and Load Checkpoint start runs here.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { RecurrentError } from '../engine/errors.js';
import type { RunHistory, WorkerEvent } from '../protocol/messages.js';
import { textHash, type SavedRun } from './checkpointStore.js';
import { openDashboard } from './commands/runControl.js';
import { nodeWorkerFactory } from './nodeWorker.js';
import { Run, type StartSettings } from './run.js';
import { notify, showProgress } from './runNotices.js';
import { settingsFor } from './runInput.js';
import type { RunSettings } from './runSettings.js';
import type { Studio } from './studio.js';

/** Samples the dashboard shows while a run trains are at most this long. */
const DASHBOARD_SAMPLE_LENGTH = 200;

export interface Launch {
  runId: string;
  label: string;
  file: string;
  text: string;
  settings: RunSettings;
  resumeFrom?: string;
  paused?: boolean;
  openDashboard?: boolean | undefined;
  /** What the dashboard showed of this run before (a resumed autosave): it shows it again. */
  history?: RunHistory | null;
}

/** Starts a run and follows it; resolves with its id once the worker has built the model. */
export async function launch(studio: Studio, r: Launch): Promise<string> {
  await studio.store.ensure();
  const s = r.settings;
  const start: StartSettings = {
    source: r.label,
    model: s.model,
    train: s.train,
    tokenizer: s.tokenizer,
    maxVocab: s.maxVocab,
    maxSteps: s.maxSteps,
    maxMs: s.maxMs,
    autosavePath: studio.store.checkpointPath(r.runId),
    autosaveEveryMs: s.autosaveEveryMs,
    sampleEveryMs: s.sampling.everyMs,
    sampleLength: Math.min(DASHBOARD_SAMPLE_LENGTH, s.sampling.length),
    temperature: s.sampling.temperature,
    ...(r.paused ? { paused: true } : {}),
  };
  const sha = textHash(r.text);
  const run = new Run({
    runId: r.runId,
    label: r.label,
    file: r.file,
    text: r.text,
    start,
    ...(r.resumeFrom ? { resumeFrom: r.resumeFrom } : {}),
    workers: nodeWorkerFactory(studio.context.asAbsolutePath('dist/worker.cjs'), s.workerMemoryMB),
    warn: (m) => studio.log.warn(m),
    others: () => studio.runs.othersThan(r.runId),
    history: r.history ?? null,
  });
  run.onEvent((_id, e) => follow(studio, run, e, sha));
  studio.runs.add(run);
  try {
    await run.started();
  } catch (e) {
    await studio.runs.remove(run);
    throw e;
  }
  studio.refresh();
  if (!r.paused) showProgress(run);
  if (r.openDashboard ?? vscode.workspace.getConfiguration('recurrent').get<boolean>('openDashboardOnStart', true))
    openDashboard(studio, run.runId);
  return run.runId;
}

/** Exact resume of an autosaved run: same run id, same checkpoint file, its text read again from disk. */
export async function resumeSaved(
  studio: Studio,
  r: SavedRun,
  text: string | undefined,
  paused: boolean,
  settings?: RunSettings,
): Promise<string> {
  // Before anything else, and above all before a live run of the same id is replaced: the folder or the
  // file may have been deleted since the list was read.
  if (!(await studio.store.hasCheckpoint(r.runId))) {
    await studio.store.forget(r.runId);
    throw new RecurrentError(
      `the checkpoint of ${r.label} (update ${r.step}) is gone: ${studio.store.checkpointPath(r.runId)} was deleted. It is no longer listed`,
    );
  }
  const uri = vscode.Uri.parse(r.file);
  let body = text;
  if (body === undefined) {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === r.file);
    if (open) body = open.getText();
    else {
      try {
        body = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      } catch {
        throw new RecurrentError(
          `the text of this run, ${uri.fsPath || r.file}, cannot be read any more; open the text and use Load Checkpoint > Browse to continue on it`,
        );
      }
    }
  }
  if (textHash(body) !== r.textSha256) {
    void vscode.window.showWarningMessage(
      `${r.label} changed since update ${r.step} was saved: training continues on the current text, so the run is no longer an exact continuation.`,
    );
  }
  const existing = studio.runs.get(r.runId);
  if (existing) await studio.runs.remove(existing);
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === r.file);
  const s = settings ?? (doc ? await settingsFor(doc) : await settingsFor(await vscode.workspace.openTextDocument(uri)));
  return launch(studio, {
    runId: r.runId,
    label: r.label,
    file: r.file,
    text: body,
    settings: s,
    resumeFrom: studio.store.checkpointPath(r.runId),
    paused,
    openDashboard: false,
    history: await studio.store.history(r.runId),
  });
}

export function newRunId(): string {
  return `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomBytes(3).toString('hex')}`;
}

function follow(studio: Studio, s: Run, e: WorkerEvent, sha: string): void {
  if (e.type === 'metrics' || e.type === 'state' || e.type === 'error' || e.type === 'started') studio.refreshSoon();
  if (e.type === 'checkpointSaved' && e.path === studio.store.checkpointPath(s.runId)) {
    const record: SavedRun = {
      runId: s.runId,
      label: s.label,
      file: s.file,
      textSha256: sha,
      textLength: s.text.length,
      step: e.step,
      savedAt: new Date().toISOString(),
      run: s.description,
    };
    // Kept for shutdown: a checkpoint without its record is not listed for loading.
    const history = s.history();
    studio.keep(
      studio.store
        .record(record)
        .then(() => studio.store.recordHistory(history))
        .catch((err) => studio.log.error(`could not record checkpoint ${e.path}: ${err}`)),
    );
  }
  notify(studio.log, s, e);
}
