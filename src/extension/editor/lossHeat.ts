// Loss heat: the visible text of a trained file tinted and underlined by how surprised the model is by
// each token (heatScale.ts), refreshed as training goes on. The visible ranges are probed first (with
// some context before them), in the run's worker, and then the whole file (fileHeat.ts), so that text
// scrolled into view is tinted at once. What is drawn is the visible text and a few screens around it:
// the probe of the visible text where it reaches, the whole file's heat elsewhere. The decorations are
// set in one batch per editor and re-placed from the edit trackers after edits, so a token the user
// changed loses its tint.
import * as vscode from 'vscode';
import { documentLength } from './documentLength.js';
import type { EditorRuns } from './editorRuns.js';
import { tokenAt } from './editTracker.js';
import type { FileHeatEntry, FileHeats } from './fileHeat.js';
import { bucketByHeat, HEAT_LEVELS } from './heatScale.js';
import { MAX_PROBE_CHARS, type ProbeCache, type ProbeEntry } from './probeCache.js';

export const TOGGLE_LOSS_HEAT_COMMAND = 'recurrent.toggleLossHeat';
/** While a run trains, the visible text is probed again this often. */
export const HEAT_REFRESH_MS = 4000;
/** Edits are gathered for this long before the decorations are placed again. */
const REPLACE_DELAY_MS = 300;
/** While the view scrolls, the decorations are placed again at most this often. */
const SCROLL_DELAY_MS = 50;
/** Characters drawn before and after the visible ranges from the whole file's heat, so a short scroll finds them tinted. */
const MARGIN_CHARS = 4000;
const STATE_KEY = 'recurrent.lossHeat.enabled';

export class LossHeat implements vscode.Disposable {
  private readonly types: vscode.TextEditorDecorationType[];
  private enabledNow: boolean;
  /** Each document's probe under way, until its decorations are drawn (or the run turned out gone). */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** While above 0, nothing is probed again: what is drawn only follows the edits (see hold). */
  private holds = 0;
  /** Ranges the last draw of each document took from the whole file's heat (for the tests). */
  private readonly fromFile = new Map<string, number>();
  /** What each document's decorations were last drawn from: run, step and probed stretch. */
  private readonly drawn = new Map<string, { entry: ProbeEntry; visible: string }>();
  private readonly timer: NodeJS.Timeout;
  private replaceTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after decorations were drawn (for the tests and the CodeLens). */
  readonly onDidDraw = this.changed.event;
  private readonly fileArrived = new vscode.EventEmitter<void>();
  /** Fires when a whole file's heat has arrived (for the tests). */
  readonly onDidReceiveFileHeat = this.fileArrived.event;

  constructor(
    private readonly runs: EditorRuns,
    private readonly cache: ProbeCache,
    private readonly files: FileHeats,
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
      this.fileArrived,
      vscode.window.onDidChangeVisibleTextEditors(() => this.tick()),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        // What the whole file's heat has for the new view is drawn at once; the probe of it follows.
        if (this.enabledNow && this.drawn.has(e.textEditor.document.uri.toString())) this.scheduleReplace(SCROLL_DELAY_MS);
        void this.refreshEditor(e.textEditor);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.drawn.has(e.document.uri.toString())) this.scheduleReplace();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.drawn.delete(d.uri.toString());
        this.cache.forget(d.uri.toString());
        this.files.forget(d.uri.toString());
      }),
      runs.onDidChange((c) => {
        if (c.kind === 'removed') {
          this.cache.forgetRun(c.runId);
          this.files.forgetRun(c.runId);
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

  /**
   * Probes the editor's visible text again if the model or the view changed since it was drawn (drawing
   * at once what the whole file's heat already has for a new view), then the whole file if it is due.
   */
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
    if (!force && last && last.entry.runId === followed.run.runId && last.entry.step >= step && last.visible === visible) {
      this.wholeFile(doc, followed.run, step);
      return;
    }
    const drawing = this.cache.probe(doc, followed.run, from, to, false).then(
      (entry) => {
        if (!this.enabledNow || doc.isClosed) return;
        this.drawn.set(uri, { entry, visible });
        this.draw(doc);
        this.wholeFile(doc, followed.run, step);
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

  /** Asks for the whole file's heat when the visible probe does not cover the file and the last one is old; draws it when it comes. */
  private wholeFile(doc: vscode.TextDocument, run: Parameters<FileHeats['request']>[1], step: number): void {
    if (documentLength(doc) <= MAX_PROBE_CHARS || !this.files.due(doc, run, step)) return;
    this.files.request(doc, run).then(
      (entry) => {
        if (entry === null) return;
        if (this.enabledNow && !doc.isClosed && this.drawn.has(doc.uri.toString())) this.draw(doc);
        this.fileArrived.fire();
      },
      () => undefined, // the run ended, or a newer request replaced this one
    );
  }

  /**
   * Places the decorations of a document through the edits made since: its latest probe over the text it
   * covers, and the whole file's heat over the rest of the visible ranges and MARGIN_CHARS around them.
   */
  private draw(doc: vscode.TextDocument): void {
    const d = this.drawn.get(doc.uri.toString());
    if (!d) return;
    const { entry } = d;
    const tl = entry.probe.tokenLoss;
    const perLevel: vscode.Range[][] = Array.from({ length: HEAT_LEVELS }, () => []);
    bucketByHeat(tl.offsets, tl.lossNats, entry.firstShown, entry.probe.unknown).forEach((spans, level) => {
      const joined = new JoinedRanges(doc, perLevel[level]!);
      for (const [a, b] of spans) {
        const span = entry.tracker.map(entry.start + a, entry.start + b);
        if (span) joined.add(span[0], span[1]);
      }
      joined.end();
    });
    const file = this.files.get(doc, entry.runId);
    const editors = vscode.window.visibleTextEditors.filter((e) => e.document === doc);
    const probed = perLevel.reduce((n, r) => n + r.length, 0);
    if (file) {
      // Where the probe reaches now: [first shown token, end of its text), through the edits.
      const covered = entry.tracker.map(
        entry.start + tl.offsets[Math.min(entry.firstShown, tl.offsets.length - 1)]!,
        entry.start + entry.length,
      );
      for (const editor of editors) {
        for (const r of editor.visibleRanges) this.drawFile(doc, file, r, covered, perLevel);
      }
    }
    this.fromFile.set(doc.uri.toString(), perLevel.reduce((n, r) => n + r.length, 0) - probed);
    for (const editor of editors) this.types.forEach((t, i) => editor.setDecorations(t, perLevel[i]!));
    this.changed.fire();
  }

  /** Adds to perLevel the tokens of the whole file's heat around `visible` that the probe does not cover. */
  private drawFile(
    doc: vscode.TextDocument,
    f: FileHeatEntry,
    visible: vscode.Range,
    covered: [number, number] | null,
    perLevel: vscode.Range[][],
  ): void {
    const { offsets, lossNats, unknown } = f.heat;
    const length = documentLength(doc);
    const lo = Math.max(0, doc.offsetAt(visible.start) - MARGIN_CHARS);
    const hi = Math.min(length, doc.offsetAt(visible.end) + MARGIN_CHARS);
    // The window in the text the heat was computed on (edits since move it).
    const from = Math.max(0, tokenAt(offsets, f.tracker.unmap(lo) ?? 0));
    const toToken = tokenAt(offsets, f.tracker.unmap(hi) ?? offsets[offsets.length - 1]! - 1);
    const to = toToken < 0 ? offsets.length - 1 : toToken + 1;
    bucketByHeat(offsets, lossNats, from, unknown, to).forEach((spans, level) => {
      const joined = new JoinedRanges(doc, perLevel[level]!);
      for (const [a, b] of spans) {
        const span = f.tracker.map(a, b);
        if (!span || (covered && span[1] > covered[0] && span[0] < covered[1])) continue;
        joined.add(span[0], span[1]);
      }
      joined.end();
    });
  }

  /**
   * For the tests: the whole file's heat of a document once it has arrived (its update, tokens, the
   * worker's time), the worker's CPU time for the last probe of the visible text, and how many ranges
   * the last draw took from the whole file's heat.
   */
  heatState(doc: vscode.TextDocument): {
    file: { step: number; tokens: number; wallMs: number; cpuMs: number | null } | null;
    visibleCpuMs: number | null;
    drawnFromFile: number;
    /** The runs followed, and whose whole-file request is under way. */
    run: string | null;
    filePendingRun: string | null;
  } {
    const uri = doc.uri.toString();
    const followed = this.runs.forDocument(doc);
    const f = followed ? this.files.get(doc, followed.run.runId) : null;
    return {
      file: f ? { step: f.heat.step, tokens: f.heat.offsets.length - 1, wallMs: f.heat.wallMs, cpuMs: f.heat.cpuMs ?? null } : null,
      visibleCpuMs: this.drawn.get(uri)?.entry.cpuMs ?? null,
      drawnFromFile: this.fromFile.get(uri) ?? 0,
      run: followed?.run.runId ?? null,
      filePendingRun: this.files.pendingRun(doc),
    };
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

  private scheduleReplace(delay = REPLACE_DELAY_MS): void {
    if (this.replaceTimer) return;
    this.replaceTimer = setTimeout(() => {
      this.replaceTimer = undefined;
      const docs = new Set(vscode.window.visibleTextEditors.map((e) => e.document));
      for (const doc of docs) if (this.drawn.has(doc.uri.toString())) this.draw(doc);
    }, delay);
  }

  private clear(uri: string): void {
    this.drawn.delete(uri);
    this.fromFile.delete(uri);
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

/**
 * Ranges of one heat level, in increasing offsets: neighbouring tokens join into one range, which looks
 * the same and is a fraction of the ranges (and positionAt calls) a redraw after a scroll used to place,
 * one per character, the extension host's longest task while a run trained.
 */
class JoinedRanges {
  private from = -1;
  private to = -1;

  constructor(
    private readonly doc: vscode.TextDocument,
    private readonly out: vscode.Range[],
  ) {}

  add(a: number, b: number): void {
    if (a === this.to) {
      this.to = b;
      return;
    }
    this.end();
    this.from = a;
    this.to = b;
  }

  end(): void {
    if (this.from >= 0) this.out.push(new vscode.Range(this.doc.positionAt(this.from), this.doc.positionAt(this.to)));
    this.from = this.to = -1;
  }
}
