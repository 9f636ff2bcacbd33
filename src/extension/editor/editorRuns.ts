// The runs the editor features follow: one RunWatch per run (its events, from the moment the run
// is added), the newest run of each document, and the link from each run's training text to its
// open document through the user's edits. Features listen to `onDidChange` to refresh.
import * as vscode from 'vscode';
import type { WorkerEvent } from '../../protocol/messages.js';
import type { Run } from '../run.js';
import { TextLink } from './editTracker.js';
import { RunWatch } from './runWatch.js';

/** What the editor needs of the extension's run list (runs.ts's Runs). */
export interface RunList {
  all(): readonly Run[];
  onChange(listener: () => void): { dispose(): void };
}

export type RunChange =
  { kind: 'event'; runId: string; event: WorkerEvent } | { kind: 'removed'; runId: string } | { kind: 'edited'; uri: string };

interface Followed {
  run: Run;
  watch: RunWatch;
  subscription: { dispose(): void };
  /** Link from the training text to the open document, made when first needed. */
  link: TextLink | null;
}

export class EditorRuns implements vscode.Disposable {
  private readonly runs = new Map<string, Followed>();
  private readonly emitter = new vscode.EventEmitter<RunChange>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly list: RunList) {
    const sub = list.onChange(() => this.sync());
    this.disposables.push({ dispose: () => sub.dispose() }, this.emitter);
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        const uri = e.document.uri.toString();
        let linked = false;
        for (const f of this.runs.values()) {
          if (f.run.file !== uri || !f.link) continue;
          linked = true;
          for (const c of e.contentChanges) f.link.apply({ offset: c.rangeOffset, removed: c.rangeLength, inserted: c.text.length });
        }
        if (linked) this.emitter.fire({ kind: 'edited', uri });
      }),
    );
    this.disposables.push(
      vscode.workspace.onDidCloseTextDocument((d) => {
        // A closed document's edits are not seen: its links are made again when it is opened.
        for (const f of this.runs.values()) if (f.run.file === d.uri.toString()) f.link = null;
      }),
    );
    this.sync();
  }

  private sync(): void {
    const live = new Set(this.list.all());
    for (const [runId, f] of this.runs) {
      if (live.has(f.run)) continue;
      f.subscription.dispose();
      this.runs.delete(runId);
      this.emitter.fire({ kind: 'removed', runId });
    }
    for (const s of live) {
      if (this.runs.has(s.runId)) continue;
      const train = s.settings.train;
      const watch = new RunWatch({
        cell: s.settings.model.cell,
        lr: train.lr,
        clipNorm: train.clipNorm,
        clipValue: train.clipValue,
        window: train.k2,
      });
      const subscription = s.onEvent((runId, event) => {
        watch.observe(event);
        this.emitter.fire({ kind: 'event', runId, event });
      });
      this.runs.set(s.runId, { run: s, watch, subscription, link: null });
    }
  }

  get(runId: string): { run: Run; watch: RunWatch } | undefined {
    return this.runs.get(runId);
  }

  all(): Array<{ run: Run; watch: RunWatch }> {
    return [...this.runs.values()];
  }

  /**
   * The newest language model on this document (`lm`: what the loss heat, hover, diagnostics and CodeLens
   * read), or the newest task model (`task`: the line predictions of taskLines.ts).
   */
  forDocument(doc: vscode.TextDocument, kind: 'lm' | 'task' = 'lm'): { run: Run; watch: RunWatch } | undefined {
    const uri = doc.uri.toString();
    let found: Followed | undefined;
    for (const f of this.runs.values()) if (f.run.file === uri && (f.run.task === 'lm') === (kind === 'lm')) found = f;
    return found;
  }

  /** The link of a run's training text to `doc`, made now if needed. */
  link(runId: string, doc: vscode.TextDocument): TextLink | null {
    const f = this.runs.get(runId);
    if (!f || f.run.file !== doc.uri.toString() || doc.isClosed) return null;
    f.link ??= TextLink.attach(f.run.text, doc.getText());
    return f.link;
  }

  dispose(): void {
    for (const f of this.runs.values()) f.subscription.dispose();
    this.runs.clear();
    for (const d of this.disposables) d.dispose();
  }
}
