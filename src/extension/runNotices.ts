// What the user is told about a run while it lives: a progress notification while it trains (Cancel
// stops it), and a message when it crashes (with Restart), stops on a non-finite loss, fails, or finishes
// (with Sample).
import * as vscode from 'vscode';
import type { WorkerEvent } from '../protocol/messages.js';
import type { Run } from './run.js';

/** Runs told that they diverged, until a validation says they no longer are. */
const divergedRuns = new WeakSet<Run>();

export function notify(log: vscode.LogOutputChannel, s: Run, e: WorkerEvent): void {
  if (e.type === 'validation') {
    if (!e.metrics.diverged) divergedRuns.delete(s);
    else if (!divergedRuns.has(s)) {
      divergedRuns.add(s);
      log.warn(`${s.label}: diverged at update ${e.metrics.step}: held-out loss ${e.metrics.bitsPerToken.toFixed(3)} bits per token`);
      void vscode.window
        .showWarningMessage(
          `Recurrent Studio: training on ${s.label} has diverged: the held-out loss (${e.metrics.bitsPerToken.toFixed(3)} bits per token) is over a bit above what token frequencies alone give, and above where the run started. Lower the learning rate or turn on clipping. Autosaves wait until it recovers, so its last checkpoint is from before.`,
          'Stop',
          'Open Dashboard',
        )
        .then((a) => {
          if (a === 'Stop') void vscode.commands.executeCommand('recurrent.stop', s.runId);
          if (a === 'Open Dashboard') void vscode.commands.executeCommand('recurrent.openDashboard', s.runId);
        });
    }
  }
  if (e.type === 'error' && e.inReplyTo === undefined) {
    if (s.status === 'crashed') {
      log.error(`${s.label}: ${e.message}`);
      void vscode.window
        .showErrorMessage(`Recurrent Studio: training on ${s.label} stopped: ${s.problem}.`, 'Restart from Last Checkpoint', 'Show Log')
        .then((a) => {
          if (a === 'Restart from Last Checkpoint') void vscode.commands.executeCommand('recurrent.restart', s.runId);
          if (a === 'Show Log') log.show();
        });
    } else if (e.kind === 'nonFinite') {
      void vscode.window.showWarningMessage(`Recurrent Studio: ${s.label}: ${e.message}.`);
    } else if (s.status !== 'failed') {
      log.error(`${s.label}: ${e.message}`);
      void vscode.window.showErrorMessage(`Recurrent Studio: ${s.label}: ${e.message}`);
    }
  }
  if (e.type === 'finished' && e.reason !== 'stopped' && e.reason !== 'nonFinite') {
    const m = s.latest;
    void vscode.window
      .showInformationMessage(
        `Recurrent Studio: ${s.label} finished at update ${e.step}${m ? `, ${m.bitsPerToken.toFixed(3)} bits per token` : ''}; its checkpoint is saved.`,
        'Sample',
      )
      .then((a) => {
        if (a === 'Sample') void vscode.commands.executeCommand('recurrent.sample', { runId: s.runId });
      });
  }
}

/** A notification while the run trains; cancelling it stops the run (its checkpoint is saved). */
export function showProgress(s: Run): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Training on ${s.label}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        const maxSteps = s.settings.maxSteps;
        const base = s.latest?.step ?? 0;
        let reported = 0;
        const sub = s.onEvent((_id, e) => {
          if (e.type === 'metrics') {
            const m = e.metrics.at(-1)!;
            const done = maxSteps ? Math.min(100, (100 * (m.step - base)) / maxSteps) : 0;
            progress.report({
              message: `update ${m.step}: ${m.bitsPerToken.toFixed(3)} bits/token`,
              ...(maxSteps ? { increment: Math.max(0, done - reported) } : {}),
            });
            reported = Math.max(reported, done);
          }
          if (e.type === 'state' && e.state !== 'running') finish();
        });
        const cancel = token.onCancellationRequested(() => {
          try {
            s.stop();
          } catch {
            // already gone
          }
          finish();
        });
        function finish(): void {
          sub.dispose();
          cancel.dispose();
          resolve();
        }
      }),
  );
}
