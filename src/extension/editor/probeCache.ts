// The model's view of stretches of a document: editor probes (computed in the worker) kept with an edit
// tracker each, so that a position the user points at after typing still finds its token, and a token
// the user has changed finds nothing (the model never saw it). Shared by the loss heat and the hover.
import * as vscode from 'vscode';
import { documentLength } from './documentLength.js';
import type { EditorProbe } from '../../protocol/messages.js';
import type { Run } from '../run.js';
import { EditTracker, tokenAt } from './editTracker.js';

/** Top guesses per position, as the hover shows them. */
export const TOP_K = 5;
/** Characters before the asked-for stretch that the probe reads first, so the model has context. */
export const CONTEXT_CHARS = 1000;
/** Longest stretch probed at once: a probe costs a forward and a backward pass over it. */
export const MAX_PROBE_CHARS = 12000;
const ENTRIES_PER_DOCUMENT = 4;

export interface ProbeEntry {
  runId: string;
  step: number;
  /** Document offset of the probed text when it was probed, and its length. */
  start: number;
  length: number;
  /** Tokens before this index were context, not asked for. */
  firstShown: number;
  tracker: EditTracker;
  probe: EditorProbe;
  /** The worker's CPU time for the probe, where its runtime says. */
  cpuMs?: number;
}

export interface TokenHit {
  entry: ProbeEntry;
  /** Token index in the probe. */
  index: number;
  /** Its range in the document now. */
  range: [number, number];
}

export class ProbeCache implements vscode.Disposable {
  private readonly entries = new Map<string, ProbeEntry[]>();
  /** Trackers of requests in flight, fed edits like the entries. */
  private readonly pending = new Map<string, Set<EditTracker>>();
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.subscription = vscode.workspace.onDidChangeTextDocument((e) => {
      const key = e.document.uri.toString();
      const trackers = [...(this.entries.get(key) ?? []).map((x) => x.tracker), ...(this.pending.get(key) ?? [])];
      for (const c of e.contentChanges) {
        for (const t of trackers) t.apply({ offset: c.rangeOffset, removed: c.rangeLength, inserted: c.text.length });
      }
    });
  }

  /**
   * Probes document offsets [from, to) (with context before) in the run's worker, and keeps the result.
   * Without `reach` the gradient reach is not measured (the heat needs only losses; the hover asks for it).
   */
  async probe(doc: vscode.TextDocument, run: Run, from: number, to: number, reach = true): Promise<ProbeEntry> {
    const key = doc.uri.toString();
    const length = documentLength(doc);
    const end = Math.min(length, Math.max(to, from + 1));
    const start = Math.max(0, Math.min(from, end - MAX_PROBE_CHARS + 1) - CONTEXT_CHARS);
    const stop = Math.min(end, start + CONTEXT_CHARS + MAX_PROBE_CHARS);
    const text = doc.getText(new vscode.Range(doc.positionAt(start), doc.positionAt(stop)));
    const tracker = new EditTracker(length);
    let set = this.pending.get(key);
    if (!set) this.pending.set(key, (set = new Set()));
    set.add(tracker);
    try {
      const { probe, step, cpuMs } = await run.request('probeEditor', text, TOP_K, reach);
      const offsets = probe.tokenLoss.offsets;
      let firstShown = 1;
      while (firstShown < offsets.length - 1 && start + offsets[firstShown]! < from) firstShown++;
      const entry: ProbeEntry = {
        runId: run.runId,
        step,
        start,
        length: text.length,
        firstShown,
        tracker,
        probe,
        ...(cpuMs === undefined ? {} : { cpuMs }),
      };
      const list = [entry, ...(this.entries.get(key) ?? []).filter((x) => x.runId === run.runId)].slice(0, ENTRIES_PER_DOCUMENT);
      this.entries.set(key, list);
      return entry;
    } finally {
      set.delete(tracker);
    }
  }

  /** The newest probed token at document offset `at` that nobody has edited since, if any; with `reach`, from a probe that measured it. */
  lookup(doc: vscode.TextDocument, runId: string, at: number, reach = false): TokenHit | null {
    for (const entry of this.entries.get(doc.uri.toString()) ?? []) {
      if (entry.runId !== runId || (reach && entry.probe.reach === null)) continue;
      const then = entry.tracker.unmap(at);
      if (then === null || then < entry.start || then >= entry.start + entry.length) continue;
      const index = tokenAt(entry.probe.tokenLoss.offsets, then - entry.start);
      if (index < 0) continue;
      const offsets = entry.probe.tokenLoss.offsets;
      const range = entry.tracker.map(entry.start + offsets[index]!, entry.start + offsets[index + 1]!);
      if (range) return { entry, index, range };
    }
    return null;
  }

  /** The newest entry of a document for a run. */
  latest(doc: vscode.TextDocument, runId: string): ProbeEntry | null {
    return (this.entries.get(doc.uri.toString()) ?? []).find((x) => x.runId === runId) ?? null;
  }

  forget(uri: string, runId?: string): void {
    if (runId === undefined) this.entries.delete(uri);
    else
      this.entries.set(
        uri,
        (this.entries.get(uri) ?? []).filter((x) => x.runId !== runId),
      );
  }

  forgetRun(runId: string): void {
    for (const uri of [...this.entries.keys()]) this.forget(uri, runId);
  }

  dispose(): void {
    this.subscription.dispose();
    this.entries.clear();
  }
}
