// The hover: on any character of a trained file, what the model predicted there (hoverText.ts). Served
// from the loss heat's probe when it covers the position, otherwise from a small probe around it in the
// run's worker; the extension host only looks numbers up.
import * as vscode from 'vscode';
import type { EditorRuns } from './editorRuns.js';
import { hoverFacts, hoverMarkdown } from './hoverText.js';
import type { ProbeCache } from './probeCache.js';

/** Characters after the position probed with it, so that a word token under the cursor is whole. */
const AFTER_CHARS = 64;

export class ModelHover implements vscode.HoverProvider {
  constructor(
    private readonly runs: EditorRuns,
    private readonly cache: ProbeCache,
  ) {}

  async provideHover(
    doc: vscode.TextDocument,
    position: vscode.Position,
    token: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    const followed = this.runs.forDocument(doc);
    if (!followed || !followed.run.description) return undefined;
    const at = doc.offsetAt(position);
    // The loss heat's probes skip the gradient reach; the hover shows it, so it probes again around the position.
    let hit = this.cache.lookup(doc, followed.run.runId, at, true);
    if (!hit && followed.run.alive) {
      try {
        await this.cache.probe(doc, followed.run, at, at + AFTER_CHARS);
      } catch {
        return undefined; // the run ended
      }
      if (token.isCancellationRequested) return undefined;
      hit = this.cache.lookup(doc, followed.run.runId, doc.offsetAt(position), true);
    }
    if (!hit) return undefined;
    const facts = hoverFacts(hit.entry.probe, hit.index, followed.run.settings.model.cell, hit.entry.step);
    const md = new vscode.MarkdownString(hoverMarkdown(facts));
    return new vscode.Hover(md, new vscode.Range(doc.positionAt(hit.range[0]), doc.positionAt(hit.range[1])));
  }
}
