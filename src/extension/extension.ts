// Activation: binds each command to its handler (commands/), registers the dashboard's serializer and the
// editor features, and returns the API the tests use; deactivation saves every live run and ends its worker.
import * as vscode from 'vscode';
import { DashboardPanel } from './dashboardPanel.js';
import { registerEditorFeatures, type EditorFeatures } from './editor/register.js';
import { loadCheckpoint, saveCheckpoint } from './commands/checkpoints.js';
import { exportPyTorch } from './commands/exportPyTorch.js';
import { importRun } from './commands/importRun.js';
import { newExperiment, type ExperimentOptions } from './commands/experiment.js';
import { showModelInfo } from './commands/modelInfo.js';
import { openDashboard, pause, restart, resume, stop } from './commands/runControl.js';
import { predict, type PredictOptions } from './commands/predict.js';
import { sample, type SampleOptions } from './commands/sample.js';
import { openSampleText, train, type TrainOptions } from './commands/train.js';
import { Studio } from './studio.js';
import { reportInterrupted, reviveDashboard } from './recovery.js';

let studio: Studio | undefined;

/** What the extension offers other extensions and its integration tests. */
export interface RecurrentApi {
  runs(): ReturnType<Studio['histories']>;
  status(
    runId: string,
  ): { state: string; step: number; checkpoint: { path: string; step: number } | null; problem: string | null } | undefined;
  /** Test-only (not in production mode): make a run's worker fail the way real workers fail. */
  crashWorker?(runId: string, how: 'throw' | 'exit' | 'oom'): void;
  /** Test-only: the editor features (loss heat, diagnostics). */
  editor?: EditorFeatures;
  /** Test-only: the run the dashboard shows once its page is loaded. */
  dashboardShowing?(): string | undefined;
}

export function activate(context: vscode.ExtensionContext): RecurrentApi {
  const s = new Studio(context);
  studio = s;
  const command = (id: string, f: (...args: never[]) => unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await f(...args);
        } catch (e) {
          s.report(e);
          return undefined;
        }
      }),
    );
  };
  // Menus pass the clicked resource's URI; the palette passes nothing; tests pass an options object.
  const trainArgs = (a?: vscode.Uri | TrainOptions): TrainOptions => (a instanceof vscode.Uri ? { uri: a } : (a ?? {}));
  command('recurrent.trainCurrentFile', (a?: vscode.Uri | TrainOptions) => train(s, false, trainArgs(a)));
  command('recurrent.trainSelection', (a?: TrainOptions) => train(s, true, trainArgs(a)));
  command('recurrent.pause', (runId?: string) => pause(s, runId));
  command('recurrent.resume', (runId?: string) => resume(s, runId));
  command('recurrent.stop', (runId?: string) => stop(s, runId));
  command('recurrent.restart', (runId?: string) => restart(s, runId));
  command('recurrent.sample', (o?: SampleOptions) => sample(s, o));
  command('recurrent.predict', (o?: PredictOptions) => predict(s, o));
  command('recurrent.openDashboard', (runId?: string) => openDashboard(s, runId));
  command('recurrent.saveCheckpoint', (runId?: string, target?: vscode.Uri) => saveCheckpoint(s, runId, target));
  command('recurrent.loadCheckpoint', (o?: { runId?: string; uri?: vscode.Uri; textUri?: vscode.Uri }) => loadCheckpoint(s, o));
  command('recurrent.exportPyTorch', (runId?: string, target?: vscode.Uri, training?: boolean) =>
    exportPyTorch(s, runId, target, training),
  );
  command('recurrent.importRun', (o?: { uri?: vscode.Uri; textUri?: vscode.Uri }) => importRun(s, o));
  command('recurrent.showModelInfo', (runId?: string) => showModelInfo(s, runId));
  command('recurrent.openSampleText', () => openSampleText(s));
  command('recurrent.newExperiment', (o?: ExperimentOptions) => newExperiment(s, o));
  context.subscriptions.push(s);
  const editor = registerEditorFeatures(context, s.runs); // loss heat, hover, diagnostics, CodeLens
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer('recurrent.dashboard', {
      // After a reload the dashboard's run comes back from its last checkpoint (recovery.ts).
      deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) => reviveDashboard(s, panel, state),
    }),
  );

  // Runs a killed extension host had live are said once, with what is kept of them.
  void reportInterrupted(s).catch((e) => s.log.warn(`could not look for interrupted runs: ${e}`));

  const api: RecurrentApi = {
    runs: () => s.histories(),
    status: (runId) => {
      const x = s.runs.get(runId);
      return x && { state: x.status, step: x.latest?.step ?? 0, checkpoint: x.lastCheckpoint, problem: x.problem };
    },
  };
  if (context.extensionMode !== vscode.ExtensionMode.Production) {
    api.crashWorker = (runId, how) => s.target(runId, () => true, '').crashWorker(how);
    api.editor = editor;
    api.dashboardShowing = () => DashboardPanel.showing();
  }
  return api;
}

export async function deactivate(): Promise<void> {
  const s = studio;
  studio = undefined;
  await s?.shutdown();
}
