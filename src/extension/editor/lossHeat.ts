// Loss heat: the visible text of a trained file tinted and underlined by how surprised the model is by
// each token (heatScale.ts), refreshed as training goes on. Only the visible ranges are probed (with
// some context before them), in the run's worker; the decorations are set in one batch per editor and
// re-placed from the probe's edit tracker after edits, so a token the user changed loses its tint.
import * as vscode from 'vscode';
import type { EditorRuns } from './editorRuns.js';
import { bucketByHeat, HEAT_LEVELS } from './heatScale.js';
import type { ProbeCache, ProbeEntry } from './probeCache.js';

export const TOGGLE_LOSS_HEAT_COMMAND = 'recurrent.toggleLossHeat';
/** While a run trains, the visible text is probed again this often. */
export const HEAT_REFRESH_MS = 4000;
/** Edits are gathered for this long before the decorations are placed again. */
const REPLACE_DELAY_MS = 300;
const STATE_KEY = 'recurrent.lossHeat.enabled';

export class LossHeat implements vscode.Disposable {
  private readonly types: vscode.TextEditorDecorationType[];
  private enabledNow: boolean;
  /** Each document's probe under way, until its decorations are drawn (or the run turned out gone). */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** While above 0, nothing is probed again: what is drawn only follows the edits (see hold). */
  private holds = 0;
  /** What each document's decorations were last drawn from: run, step and probed stretch. */
  private readonly drawn = new Map<string, { entry: ProbeEntry; visible: string }>();
  private readonly timer: NodeJS.Timeout;
  private replaceTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after decorations were drawn (for the tests and the CodeLens). */
  readonly onDidDraw = this.changed.event;

  constructor(
    private readonly runs: EditorRuns,
    private readonly cache: ProbeCache,
    private readonly memento: vscode.Memento,
  ) {
    this.enabledNow = memento.get<boolean>(STATE_KEY, false);
    this.types = Array.from({ length: HEAT_LEVELS }, (_, i) => {
      const level = i + 1;
      return vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(`recurrent.lossHeat${level}Background`),
        borderColor: new vscode.ThemeColor(`recurrent.lossHeat${level}Underline`),
        borderStyle: 'solid',
        borderWidth: `0 0 ${level >= 3 ? 2 : 1}px 0`,
        ...(level === HEAT_LEVELS
          ? {
              overviewRulerColor: new vscode.ThemeColor(`recurrent.lossHeat${level}Underline`),
              overviewRulerLane: vscode.OverviewRulerLane.Center,
            }
          : {}),
      });
    });
    this.timer = setInterval(() => this.tick(), HEAT_REFRESH_MS);
    this.disposables.push(
      ...this.types,
      this.changed,
      vscode.window.onDidChangeVisibleTextEditors(() => this.tick()),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.refreshEditor(e.textEditor)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.drawn.has(e.document.uri.toString())) this.scheduleReplace();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.drawn.delete(d.uri.toString());
        this.cache.forget(d.uri.toString());
      }),
      runs.onDidChange((c) => {
        if (c.kind === 'removed') {
          this.cache.forgetRun(c.runId);
          for (const [uri, d] of this.drawn) if (d.entry.runId === c.runId) this.clear(uri);
        }
        if (c.kind === 'event' && c.event.type === 'started') this.tick();
      }),
    );
  }

  get enabled(): boolean {
    return this.enabledNow;
  }

  async setEnabled(on: boolean): Promise<void> {
    this.enabledNow = on;
    await this.memento.update(STATE_KEY, on);
    if (on) await Promise.all(vscode.window.visibleTextEditors.map((e) => this.refreshEditor(e, true)));
    else for (const uri of [...this.drawn.keys()]) this.clear(uri);
  }

  /**
   * Stops probing again (on the timer, on scrolling, on a run's start) until the returned disposable is
   * disposed, once the probes already under way have been drawn: what is drawn then changes only as
   * edits move it. For the tests, which count the tinted tokens while they type: a refresh in between
   * would probe another stretch of text.
   */
  async hold(): Promise<vscode.Disposable> {
    this.holds++;
    await Promise.all(this.inFlight.values());
    return new vscode.Disposable(() => this.holds--);
  }

  private tick(): void {
    if (!this.enabledNow) return;
    for (const e of vscode.window.visibleTextEditors) void this.refreshEditor(e);
  }

  /** Probes the editor's visible text again if the model or the view changed since it was drawn. */
  async refreshEditor(editor: vscode.TextEditor, force = false): Promise<void> {
    if (!this.enabledNow || this.holds > 0) return;
    const doc = editor.document;
    const uri = doc.uri.toString();
    const followed = this.runs.forDocument(doc);
    if (!followed || !followed.run.alive || !followed.run.description || this.inFlight.has(uri)) return;
    const ranges = editor.visibleRanges;
    if (!ranges.length) return;
    const from = doc.offsetAt(ranges[0]!.start);
    const to = doc.offsetAt(ranges[ranges.length - 1]!.end);
    const visible = `${doc.version}:${from}:${to}`;
    const last = this.drawn.get(uri);
    const step = followed.watch.latest?.step ?? 0;
    if (!force && last && last.entry.runId === followed.run.runId && last.entry.step >= step && last.visible === visible) return;
    const drawing = this.cache.probe(doc, followed.run, from, to).then(
      (entry) => {
        if (!this.enabledNow || doc.isClosed) return;
        this.drawn.set(uri, { entry, visible });
        this.draw(doc);
      },
      () => undefined, // the run ended: nothing to draw this time
    );
    this.inFlight.set(uri, drawing);
    try {
      await drawing;
    } finally {
      this.inFlight.delete(uri);
    }
  }

  /** Places the decorations of a document from its latest probe, through the edits made since. */
  private draw(doc: vscode.TextDocument): void {
    const d = this.drawn.get(doc.uri.toString());
    if (!d) return;
    const { entry } = d;
    const tl = entry.probe.tokenLoss;
    const levels = bucketByHeat(tl.offsets, tl.lossNats, entry.firstShown, entry.probe.unknown);
    const perLevel = levels.map((spans) => {
      const ranges: vscode.Range[] = [];
      for (const [a, b] of spans) {
        const span = entry.tracker.map(entry.start + a, entry.start + b);
        if (span) ranges.push(new vscode.Range(doc.positionAt(span[0]), doc.positionAt(span[1])));
      }
      return ranges;
    });
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== doc) continue;
      this.types.forEach((t, i) => editor.setDecorations(t, perLevel[i]!));
    }
    this.changed.fire();
  }

  /** Counts of decorated tokens per level in a document, as last drawn (for the tests). */
  drawnLevels(doc: vscode.TextDocument): number[] | null {
    const d = this.drawn.get(doc.uri.toString());
    if (!d) return null;
    const tl = d.entry.probe.tokenLoss;
    return bucketByHeat(tl.offsets, tl.lossNats, d.entry.firstShown, d.entry.probe.unknown).map(
      (spans) => spans.filter(([a, b]) => d.entry.tracker.map(d.entry.start + a, d.entry.start + b) !== null).length,
    );
  }

  private scheduleReplace(): void {
    if (this.replaceTimer) return;
    this.replaceTimer = setTimeout(() => {
      this.replaceTimer = undefined;
      for (const editor of vscode.window.visibleTextEditors) if (this.drawn.has(editor.document.uri.toString())) this.draw(editor.document);
    }, REPLACE_DELAY_MS);
  }

  private clear(uri: string): void {
    this.drawn.delete(uri);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === uri) for (const t of this.types) editor.setDecorations(t, []);
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    if (this.replaceTimer) clearTimeout(this.replaceTimer);
    for (const d of this.disposables) d.dispose();
  }
}
