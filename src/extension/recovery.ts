// What comes back after the window reloads or the extension host dies. A dashboard that was open shows
// its run again, under the same run id: at once the history saved with the run's last checkpoint, then
// the run itself, loaded paused from that checkpoint (Resume trains on exactly from it). Runs that an
// extension host killed outright (a crash, out of memory, kill -9) had live are reported once by the next
// one, with what is kept: the last autosave, and how to go on from it.
import * as vscode from 'vscode';
import { RecurrentError } from '../engine/errors.js';
import type { FromWebview, RunHistory } from '../protocol/messages.js';
import type { SavedRun } from './checkpointStore.js';
import { DashboardPanel, type DashboardSource } from './dashboardPanel.js';
import { resumeSaved } from './launch.js';
import { showProgress } from './runNotices.js';
import type { Studio } from './studio.js';

/** For the dashboard's serializer: VS Code restored `panel`, which showed the run `state` names. */
export async function reviveDashboard(studio: Studio, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
  const extensionUri = studio.context.extensionUri;
  const id = DashboardPanel.runIdFromState(state);
  const live = id ? studio.runs.get(id) : undefined;
  if (live) {
    DashboardPanel.revive(panel, extensionUri, live);
    return;
  }
  const saved = id ? (await studio.store.list()).find((r) => r.runId === id) : undefined;
  if (!saved) {
    // A run never saved (it had not reached its first checkpoint): the newest run, or nothing to show.
    const latest = studio.runs.all().at(-1);
    if (latest) DashboardPanel.revive(panel, extensionUri, latest);
    else panel.dispose();
    return;
  }
  const history = await studio.store.history(saved.runId);
  if (history) DashboardPanel.revive(panel, extensionUri, savedRun(studio, history));
  try {
    const wasTraining = history?.state === 'running';
    await load(studio, saved, true);
    const run = studio.runs.get(saved.runId);
    if (run) {
      if (history) DashboardPanel.followReloaded(run);
      else DashboardPanel.revive(panel, extensionUri, run);
    }
    if (wasTraining) {
      void vscode.window
        .showInformationMessage(
          `Recurrent Studio: ${saved.label} was training when the window closed; it is loaded again, paused at update ${saved.step}, where it was saved.`,
          'Resume',
        )
        .then((a) => {
          if (a === 'Resume') void vscode.commands.executeCommand('recurrent.resume', saved.runId);
        });
    }
  } catch (e) {
    if (!history) panel.dispose();
    studio.report(e);
  }
}

/** Says which runs a killed extension host interrupted, once each, with what is kept and a way on. */
export async function reportInterrupted(studio: Studio): Promise<void> {
  for (const r of await studio.store.interrupted()) {
    const at = new Date(r.savedAt).toLocaleTimeString();
    void vscode.window
      .showWarningMessage(
        `Recurrent Studio: training on ${r.label} stopped when the extension host ended unexpectedly. Its last checkpoint, update ${r.step} (saved at ${at}), is kept; what it trained after that is lost.`,
        'Resume',
        'Load Paused',
      )
      .then(async (a) => {
        if (a === undefined) return;
        try {
          await load(studio, r, a === 'Load Paused');
          const run = studio.runs.get(r.runId);
          if (a === 'Resume' && run?.status === 'paused') {
            run.resume();
            showProgress(run);
          }
        } catch (e) {
          studio.report(e);
        }
      });
  }
}

/** Loads a saved run unless it is loaded already (the revived dashboard and a notice may both ask). */
const loading = new Map<string, Promise<unknown>>();
function load(studio: Studio, r: SavedRun, paused: boolean): Promise<unknown> {
  if (studio.runs.get(r.runId)?.alive) return Promise.resolve();
  let p = loading.get(r.runId);
  if (!p) {
    p = resumeSaved(studio, r, undefined, paused).finally(() => loading.delete(r.runId));
    loading.set(r.runId, p);
  }
  return p;
}

/** A run known only from what was saved of it: its history, read-only, until it is loaded. */
function savedRun(studio: Studio, h: RunHistory): DashboardSource {
  return {
    runId: h.runId,
    history: () => ({ ...h, state: 'stopped' }),
    others: () => studio.runs.othersThan(h.runId),
    onEvent: () => ({ dispose: () => undefined }),
    handle: (m: FromWebview) => {
      if (m.type !== 'ready')
        studio.report(new RecurrentError(`${h.label} is not loaded yet; wait a moment, or use Recurrent: Load Checkpoint`));
    },
  };
}
