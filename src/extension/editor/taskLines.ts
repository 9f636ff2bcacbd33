// What a classify, generate or translate model makes of each line of its file (input<TAB>output): its
// prediction (a label, or a translation) as an inline hint after the line, a diagnostic where it
// disagrees with the line's output (with its confidence, or how many tokens it gets wrong), and on hover
// its most probable outputs. Computed in the run's worker (predictLines) for
// the whole file when the run starts, after each held-out evaluation (at most every few seconds) and
// after edits; a line edited since keeps no hint until the next answer.
import * as vscode from 'vscode';
import type { LinePrediction } from '../../protocol/messages.js';
import { DIAGNOSTIC_SOURCE } from './diagnostics.js';
import type { EditorRuns } from './editorRuns.js';

export const WRONG_PREDICTION = 'wrong-prediction';
/**
 * Characters of input predicted at most per refresh: the lines in view first, then from the top. A
 * prediction reads each line once in the worker, between training slices, so a file of long texts (e-mails)
 * is predicted where the user looks rather than whole (a names file, 50,000 characters, is predicted whole).
 */
export const MAX_PREDICTED_CHARS = 100_000;
const EDIT_DELAY_MS = 500;
/** Least time between two refreshes of a file while its run trains. */
const REFRESH_EVERY_MS = 3000;

interface LineResult {
  /** The line's text when it was predicted: an edited line shows nothing until predicted again. */
  text: string;
  output: string;
  prediction: LinePrediction;
}

interface FileResult {
  runId: string;
  /** Some lines were left out (MAX_PREDICTED_CHARS). */
  partial: boolean;
  task: 'classify' | 'generate' | 'translate';
  step: number;
  lines: Map<number, LineResult>;
}

/** A line split as the engine reads a task file: the text before the first tab, the output after it. */
export function splitLine(line: string): [string, string] | null {
  const l = line.endsWith('\r') ? line.slice(0, -1) : line;
  const tab = l.indexOf('\t');
  const input = tab < 0 ? l : l.slice(0, tab);
  if (input.trim().length === 0) return null;
  return [input, tab < 0 ? '' : l.slice(tab + 1)];
}

const percent = (p: number): string => `${(100 * p).toFixed(p >= 0.995 || p < 0.005 ? 1 : 0)}%`;

/** Whether the model gets a line's output wrong: a label other than the line's, or a translation an edit away from it. */
function isWrong(l: LineResult): boolean {
  const p = l.prediction;
  if (l.output === '') return false;
  return p.distance !== undefined ? p.distance > 0 : p.output !== l.output;
}

/** "2 edits from its 7 tokens": a translation's edits against the line's output. */
const edits = (p: LinePrediction): string =>
  `${p.distance} edit${p.distance === 1 ? '' : 's'} from its ${p.targetTokens} token${p.targetTokens === 1 ? '' : 's'}`;

export class TaskLines implements vscode.InlayHintsProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeInlayHints = this.emitter.event;
  private readonly collection = vscode.languages.createDiagnosticCollection('recurrent-task');
  private readonly results = new Map<string, FileResult>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastAsked = new Map<string, number>();
  /** How long the last prediction of each file took, in ms. */
  private readonly cost = new Map<string, number>();
  /** Refreshes run one after another: each awaits the worker. */
  private chain: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly runs: EditorRuns) {
    this.disposables.push(
      this.emitter,
      this.collection,
      runs.onDidChange((c) => {
        if (c.kind === 'removed') {
          for (const [uri, r] of this.results) if (r.runId === c.runId) this.clear(uri);
          return;
        }
        if (c.kind !== 'event') return;
        const t = c.event.type;
        if (t !== 'started' && t !== 'validation' && t !== 'finished') return;
        const followed = runs.get(c.runId);
        if (!followed || followed.run.task === 'lm') return;
        const uri = followed.run.file;
        // A run that trains fast validates often: its file is predicted again at most every few seconds, and
        // never more than a fifth of the time (a prediction of a long file holds training up while it runs).
        const every = Math.max(REFRESH_EVERY_MS, 5 * (this.cost.get(uri) ?? 0));
        const wait = t === 'validation' ? Math.max(0, (this.lastAsked.get(uri) ?? 0) + every - Date.now()) : 0;
        this.schedule(uri, wait);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && this.results.has(e.document.uri.toString())) this.schedule(e.document.uri.toString(), EDIT_DELAY_MS);
      }),
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d.uri.toString(), 0)),
      // A file predicted in part: the lines scrolled into view are predicted once the view rests.
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        const uri = e.textEditor.document.uri.toString();
        const r = this.results.get(uri);
        if (r && r.partial) this.schedule(uri, EDIT_DELAY_MS);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.clear(d.uri.toString())),
    );
  }

  private schedule(uri: string, ms: number): void {
    if (this.timers.has(uri)) return;
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        this.chain = this.chain.then(() => this.refresh(uri)).catch(() => undefined);
      }, ms),
    );
  }

  /** Resolves when the scheduled and running refreshes are done. */
  async settled(): Promise<void> {
    while (this.timers.size) await new Promise((r) => setTimeout(r, 50));
    await this.chain;
  }

  /** What the editor shows of `uri` now: the update it was predicted at and the lines predicted (for the tests). */
  shown(uri: vscode.Uri): { runId: string; step: number; lines: number; wrong: number } | undefined {
    const r = this.results.get(uri.toString());
    if (!r) return undefined;
    let wrong = 0;
    for (const l of r.lines.values()) if (l.output !== '' && isWrong(l)) wrong++;
    return { runId: r.runId, step: r.step, lines: r.lines.size, wrong };
  }

  private async refresh(uri: string): Promise<void> {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (!doc || doc.isClosed) return;
    const followed = this.runs.forDocument(doc, 'task');
    if (!followed || !followed.run.alive || !followed.run.description) return;
    const run = followed.run;
    this.lastAsked.set(uri, Date.now());
    const version = doc.version;
    const asked: Array<{ line: number; text: string; pair: [string, string] }> = [];
    const taken = new Set<number>();
    let chars = 0;
    let partial = false;
    const take = (i: number): boolean => {
      if (taken.has(i)) return true;
      taken.add(i);
      const text = doc.lineAt(i).text;
      const pair = splitLine(text);
      if (!pair) return true;
      if (chars > 0 && chars + pair[0].length > MAX_PREDICTED_CHARS) {
        partial = true;
        return false;
      }
      chars += pair[0].length;
      asked.push({ line: i, text, pair });
      return true;
    };
    const visible = vscode.window.visibleTextEditors.filter((e) => e.document === doc).flatMap((e) => e.visibleRanges);
    for (const r of visible) for (let i = r.start.line; i <= Math.min(r.end.line, doc.lineCount - 1); i++) take(i);
    for (let i = 0; i < doc.lineCount && take(i); i++);
    let predictions: LinePrediction[];
    let step: number;
    const began = Date.now();
    try {
      step = run.latest?.step ?? 0;
      predictions = await run.request(
        'predictLines',
        asked.map((a) => a.pair),
      );
    } catch {
      return; // the run ended, or its worker refused: the last predictions stand
    }
    this.cost.set(uri, Date.now() - began);
    if (doc.isClosed) return;
    const lines = new Map<number, LineResult>();
    asked.forEach((a, i) => lines.set(a.line, { text: a.text, output: a.pair[1], prediction: predictions[i]! }));
    const task = run.task === 'generate' || run.task === 'translate' ? run.task : 'classify';
    this.results.set(uri, { runId: run.runId, partial, task, step, lines });
    this.publish(doc, version);
    this.emitter.fire();
  }

  private publish(doc: vscode.TextDocument, version: number): void {
    const r = this.results.get(doc.uri.toString());
    if (!r) return;
    const diagnostics: vscode.Diagnostic[] = [];
    for (const [line, l] of r.lines) {
      const p = l.prediction;
      if (!isWrong(l)) continue;
      // Edits after the request: the line may have moved; a diagnostic goes only where the text is the same.
      if (doc.version !== version && (line >= doc.lineCount || doc.lineAt(line).text !== l.text)) continue;
      const tab = l.text.indexOf('\t');
      const range = new vscode.Range(line, tab + 1, line, l.text.replace(/\r$/, '').length);
      const d = new vscode.Diagnostic(
        range,
        (r.task === 'translate'
          ? `the model writes ${JSON.stringify(p.output)}, not ${JSON.stringify(l.output)}: ${edits(p)}`
          : `the model says ${JSON.stringify(p.output)} (${percent(p.probability)} sure), not ${JSON.stringify(l.output)}`) +
          (p.heldOut ? ' (a held-out line: the model never trained on it)' : ''),
        vscode.DiagnosticSeverity.Warning,
      );
      d.source = DIAGNOSTIC_SOURCE;
      d.code = WRONG_PREDICTION;
      diagnostics.push(d);
    }
    this.collection.set(doc.uri, diagnostics);
  }

  private clear(uri: string): void {
    if (!this.results.delete(uri)) return;
    this.collection.delete(vscode.Uri.parse(uri));
    this.emitter.fire();
  }

  private current(doc: vscode.TextDocument, line: number): LineResult | undefined {
    const l = this.results.get(doc.uri.toString())?.lines.get(line);
    return l && line < doc.lineCount && doc.lineAt(line).text === l.text ? l : undefined;
  }

  provideInlayHints(doc: vscode.TextDocument, range: vscode.Range): vscode.InlayHint[] {
    const r = this.results.get(doc.uri.toString());
    if (!r) return [];
    const hints: vscode.InlayHint[] = [];
    for (let line = range.start.line; line <= Math.min(range.end.line, doc.lineCount - 1); line++) {
      const l = this.current(doc, line);
      if (!l) continue;
      const p = l.prediction;
      const bits = r.task === 'generate' && Number.isFinite(p.bitsPerToken) ? ` · ${p.bitsPerToken!.toFixed(2)} bits/char` : '';
      const mark = l.output === '' ? '' : isWrong(l) ? ' ✗' : ' ✓';
      const sure = r.task === 'translate' ? '' : ` ${percent(p.probability)}`;
      const off = r.task === 'translate' && isWrong(l) ? ` ${p.distance} edit${p.distance === 1 ? '' : 's'}` : '';
      const hint = new vscode.InlayHint(
        new vscode.Position(line, doc.lineAt(line).text.length),
        `→ ${p.output}${sure}${mark}${off}${bits}${p.heldOut ? ' · held out' : ''}`,
      );
      hint.paddingLeft = true;
      hint.tooltip = new vscode.MarkdownString(this.ranked(r, l));
      hints.push(hint);
    }
    return hints;
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const r = this.results.get(doc.uri.toString());
    const l = r && this.current(doc, position.line);
    if (!r || !l) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(this.ranked(r, l)), doc.lineAt(position.line).range);
  }

  /** The model's most probable outputs for a line, the line's own ticked (translate: its translation against the line's). */
  private ranked(r: FileResult, l: LineResult): string {
    const p = l.prediction;
    if (r.task === 'translate') {
      return [
        `**Recurrent Studio**: the model's translation (greedy), update ${r.step}`,
        '',
        `\`${p.output}\``,
        '',
        l.output === ''
          ? 'The line has no output to compare with.'
          : isWrong(l)
            ? `Not the line's \`${l.output}\`: ${edits(p)}.`
            : "The line's own output.",
        p.heldOut ? 'A held-out line: the model never trained on it.' : 'A training line: the model learned from it.',
        ...(p.unknown > 0 ? [`${p.unknown} token${p.unknown > 1 ? 's' : ''} of the input the model never saw, left out.`] : []),
      ].join('\n\n');
    }
    const what = r.task === 'classify' ? 'label' : 'label (by Bayes’ rule from its likelihoods)';
    const rows = p.ranked.map((x) => `| ${x.output === l.output ? '✓ ' : ''}${escape(x.output)} | ${percent(x.probability)} |`);
    const notes = [
      `Update ${r.step}. ${p.heldOut ? 'A held-out line: the model never trained on it.' : 'A training line: the model learned from it.'}`,
      ...(r.task === 'generate' && Number.isFinite(p.bitsPerToken)
        ? [`Its text costs ${p.bitsPerToken!.toFixed(2)} bits per character under its label ${escape(JSON.stringify(l.output))}.`]
        : []),
      ...(p.unknown > 0 ? [`${p.unknown} character${p.unknown > 1 ? 's' : ''} the model never saw, left out.`] : []),
    ];
    return [`**Recurrent Studio**: the model's ${what}`, '', '| | probability |', '|---|---|', ...rows, '', ...notes].join('\n');
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
