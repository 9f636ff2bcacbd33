// The status bar item: the run a user is looking at, its loss in bits per token and its speed; a click
// opens the dashboard.
import * as vscode from 'vscode';
import type { Run } from './run.js';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('recurrent.status', vscode.StatusBarAlignment.Left, 10);

  constructor() {
    this.item.name = 'Recurrent Studio';
    this.item.command = 'recurrent.openDashboard';
  }

  show(s: Run | undefined): void {
    if (!s) {
      this.item.hide();
      return;
    }
    const m = s.latest;
    const ex = s.description?.examples;
    // A classifier's loss is per example; a generator's per output character, as a language model's.
    const unit = ex?.lossPer === 'example' ? 'example' : s.description?.tokenizer === 'word' ? 'word' : 'char';
    const icon = {
      starting: '$(loading~spin)',
      running: '$(pulse)',
      paused: '$(debug-pause)',
      stopped: '$(debug-stop)',
      finished: '$(check)',
      crashed: '$(error)',
      failed: '$(error)',
    }[s.status];
    const speed = m && (ex ? `${formatRate(m.examplesPerSecond ?? 0)} examples/s` : `${formatRate(m.tokensPerSecond)} ${unit}s/s`);
    const figures = m ? `${m.bitsPerToken.toFixed(3)} bits/${unit} · ${speed}` : s.status;
    this.item.text = `${icon} ${figures}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**Recurrent Studio**: ${s.label} (${s.status})\n\n`);
    if (m)
      md.appendMarkdown(
        `update ${m.step} · loss ${m.lossNats.toFixed(4)} nats · ${m.bitsPerToken.toFixed(3)} bits/${unit} · lr ${m.lr.toPrecision(3)}\n\n`,
      );
    if (s.problem) md.appendText(s.problem + '\n\n');
    md.appendMarkdown('Click to open the dashboard.');
    this.item.tooltip = md;
    this.item.backgroundColor =
      s.status === 'crashed' || s.status === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  return perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(1)}M`
    : perSecond >= 1e3
      ? `${(perSecond / 1e3).toFixed(1)}k`
      : perSecond.toFixed(0);
}
