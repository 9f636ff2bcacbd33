// The CodeLens at the top of a file with a model: train (or pause/resume), sample, the current bits per
// token (which opens the dashboard) and the loss-heat switch. Refreshed at most every few seconds.
import * as vscode from 'vscode';
import type { EditorRuns } from './editorRuns.js';
import { TOGGLE_LOSS_HEAT_COMMAND } from './lossHeat.js';

const REFRESH_MS = 2000;

export class ModelCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly runs: EditorRuns,
    private readonly heatOn: () => boolean,
  ) {
    this.subscription = runs.onDidChange((c) => {
      if (c.kind === 'edited') return;
      if (!this.timer)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.emitter.fire();
        }, REFRESH_MS);
    });
  }

  refresh(): void {
    this.emitter.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const followed = this.runs.forDocument(doc);
    if (!followed) return [];
    const s = followed.run;
    const top = new vscode.Range(0, 0, 0, 0);
    const lens = (title: string, command: string, ...args: unknown[]): vscode.CodeLens =>
      new vscode.CodeLens(top, { title, command, arguments: args });
    const out: vscode.CodeLens[] = [];
    if (s.status === 'running') out.push(lens('$(debug-pause) Pause', 'recurrent.pause', s.runId));
    else if (s.status === 'paused') out.push(lens('$(debug-continue) Resume', 'recurrent.resume', s.runId));
    else out.push(lens('$(play) Train', 'recurrent.trainCurrentFile', { uri: doc.uri }));
    if (s.alive && s.description) out.push(lens('$(sparkle) Sample', 'recurrent.sample', { runId: s.runId }));
    const m = followed.watch.latest ?? s.latest;
    if (m)
      out.push(
        lens(
          `${Number.isFinite(m.bitsPerToken) ? m.bitsPerToken.toFixed(3) : String(m.bitsPerToken)} bits/token at update ${m.step}`,
          'recurrent.openDashboard',
          s.runId,
        ),
      );
    out.push(lens(this.heatOn() ? '$(flame) Loss heat: on' : '$(flame) Loss heat: off', TOGGLE_LOSS_HEAT_COMMAND));
    return out;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
