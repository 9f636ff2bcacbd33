// Diagnostics where the gradients broke (exploding, vanishing, non-finite loss), in the Problems panel
// and under the text that produced them, with quick fixes that change the run's settings. The rules are
// in diagnosticRules.ts; this file locates their token spans in the document (the worker converts
// token offsets to UTF-16 ones, the run's TextLink follows the edits) and applies the fixes.
import * as vscode from 'vscode';
import { documentLength } from './documentLength.js';
import type { Run } from '../run.js';
import { overrideInRunFile } from '../runSettings.js';
import { fixFor, type Finding, type FixKind } from './diagnosticRules.js';
import type { EditorRuns } from './editorRuns.js';

export const DIAGNOSTIC_SOURCE = 'Recurrent Studio';
export const APPLY_FIX_COMMAND = 'recurrent.editor.applyFix';
/** Edits and events are gathered for this long before the diagnostics are recomputed. */
const REFRESH_DELAY_MS = 250;
const MAX_DIAGNOSTICS = 60;

export interface FixArgs {
  runId: string;
  fix: FixKind;
  reach?: number;
}

export class GradientDiagnostics implements vscode.Disposable, vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('recurrent');
  /** UTF-16 spans of token spans in each run's training text, "a:b" -> [s, e] (s = -1: outside it). */
  private readonly located = new Map<string, Map<string, [number, number]>>();
  /** The findings behind each diagnostic: key of uri, rule and message. */
  private readonly behind = new Map<string, { runId: string; finding: Finding }>();
  private timer: NodeJS.Timeout | undefined;
  /** Refreshes run one after another: each awaits the worker. */
  private chain: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly runs: EditorRuns) {
    this.disposables.push(
      this.collection,
      runs.onDidChange((c) => {
        if (c.kind === 'removed') this.located.delete(c.runId);
        if (c.kind === 'event' && !['clip', 'gradientSpike', 'gradientFlow', 'error', 'state'].includes(c.event.type)) return;
        this.schedule();
      }),
    );
    this.disposables.push(vscode.workspace.onDidOpenTextDocument(() => this.schedule()));
    this.disposables.push(vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)));
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.chain = this.chain.then(() => this.refresh()).catch(() => undefined);
    }, REFRESH_DELAY_MS);
  }

  /** Resolves when the scheduled and running refreshes are done. */
  async settled(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, REFRESH_DELAY_MS));
    await this.chain;
  }

  /** Recomputes every run's diagnostics on its open document now. */
  async refresh(): Promise<void> {
    const byUri = new Map<string, vscode.Diagnostic[]>();
    this.behind.clear();
    for (const doc of vscode.workspace.textDocuments) {
      // Only the newest run on a file speaks for it: an earlier run's findings are about another model.
      const followed = doc.isClosed ? undefined : this.runs.forDocument(doc);
      if (!followed) continue;
      const { run, watch } = followed;
      const findings = watch.findings();
      if (!findings.length) continue;
      await this.locate(run, findings);
      const link = this.runs.link(run.runId, doc);
      if (!link || doc.isClosed) continue;
      const located = this.located.get(run.runId)!;
      const list = byUri.get(doc.uri.toString()) ?? [];
      const length = documentLength(doc);
      for (const finding of findings) {
        const seen = new Set<string>();
        for (const [a, b] of finding.spans) {
          const at = located.get(`${a}:${b}`);
          if (!at || at[0] < 0) continue;
          const span = link.span(at[0], Math.max(at[0] + 1, at[1]));
          if (!span || span[1] > length) continue;
          const key = `${span[0]}:${span[1]}`;
          if (seen.has(key) || list.length >= MAX_DIAGNOSTICS) continue;
          seen.add(key);
          const d = new vscode.Diagnostic(
            new vscode.Range(doc.positionAt(span[0]), doc.positionAt(span[1])),
            finding.message,
            finding.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
          );
          d.source = DIAGNOSTIC_SOURCE;
          d.code = finding.rule;
          list.push(d);
          this.behind.set(behindKey(doc.uri, finding.rule, finding.message), { runId: run.runId, finding });
        }
      }
      byUri.set(doc.uri.toString(), list);
    }
    this.collection.clear();
    for (const [uri, list] of byUri) this.collection.set(vscode.Uri.parse(uri), list);
  }

  /** Asks the run's worker where the findings' token spans are, once per span. */
  private async locate(run: Run, findings: Finding[]): Promise<void> {
    let known = this.located.get(run.runId);
    if (!known) this.located.set(run.runId, (known = new Map()));
    const missing: number[] = [];
    for (const f of findings) for (const [a, b] of f.spans) if (!known.has(`${a}:${b}`)) missing.push(a, b);
    if (!missing.length || !run.alive) return;
    const offsets = await run.request('locateTokens', missing);
    for (let i = 0; i + 1 < missing.length; i += 2) known.set(`${missing[i]}:${missing[i + 1]}`, [offsets[i]!, offsets[i + 1]!]);
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      const b = this.behind.get(behindKey(doc.uri, String(typeof d.code === 'object' ? d.code.value : d.code), d.message));
      if (!b) continue;
      const followed = this.runs.get(b.runId);
      if (!followed) continue;
      b.finding.fixes.forEach((fix, i) => {
        const { title } = fixFor(fix, followed.watch.facts, b.finding.reach);
        const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [d];
        action.isPreferred = i === 0;
        const args: FixArgs = { runId: b.runId, fix, ...(b.finding.reach !== undefined ? { reach: b.finding.reach } : {}) };
        action.command = { command: APPLY_FIX_COMMAND, title, arguments: [args] };
        out.push(action);
      });
    }
    return out;
  }

  /**
   * Writes the fix into the settings (the workspace's when a folder is open, else the user's); a lower
   * learning rate also reaches a live run at once. Returns the settings written.
   */
  async applyFix(args: FixArgs): Promise<Array<{ key: string; value: number | string }>> {
    const followed = this.runs.get(args.runId);
    if (!followed) throw new Error(`the run ${args.runId} has ended; train again to apply a fix`);
    const { run, watch } = followed;
    const fix = fixFor(args.fix, watch.facts, args.reach);
    const config = vscode.workspace.getConfiguration('recurrent');
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    const inRunFile = await writeIntoRunFile(vscode.Uri.parse(run.file), fix.changes);
    for (const c of fix.changes) {
      if (!inRunFile.includes(c.key)) await config.update(c.key, c.value, target);
    }
    let live = false;
    if (args.fix === 'lowerLearningRate' && run.alive && (run.status === 'running' || run.status === 'paused')) {
      const lr = fix.changes[0]!.value as number;
      run.setLearningRate(lr);
      watch.facts = { ...watch.facts, lr };
      live = true;
    }
    const again = 'Train Again';
    void vscode.window
      .showInformationMessage(
        `${fix.title}: saved in ${inRunFile.length ? '.recurrent.json' : 'the settings'}${live ? ' and applied to the running model' : ''}. Train again to start a run with it.`,
        again,
      )
      .then((a) => {
        if (a === again)
          void vscode.commands.executeCommand('recurrent.trainCurrentFile', { uri: vscode.Uri.parse(run.file), fresh: true });
      });
    return fix.changes;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * A `.recurrent.json` beside the file overrides the settings: keys it sets are changed there (the rest go
 * to the settings). Returns the keys written into it.
 */
async function writeIntoRunFile(file: vscode.Uri, changes: ReadonlyArray<{ key: string; value: number | string }>): Promise<string[]> {
  if (file.scheme === 'untitled' || !vscode.workspace.isTrusted) return [];
  const uri = vscode.Uri.joinPath(file, '..', '.recurrent.json');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
  } catch {
    return [];
  }
  const written = changes.filter((c) => overrideInRunFile(json, c.key, c.value)).map((c) => c.key);
  if (written.length) await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n'));
  return written;
}

function behindKey(uri: vscode.Uri, rule: string, message: string): string {
  return `${uri.toString()}|${rule}|${message}`;
}
