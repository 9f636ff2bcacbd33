// The loss of every token of a whole file (the worker's probeHeat), for the loss heat beyond the visible
// text: once it is here, any part of the file scrolled into view is tinted at once, without waiting for
// a probe. A file of a megabyte costs the worker seconds, so it is asked for when the heat is turned on
// or a file is shown, and again only after the model has moved on and a while has passed: at least a
// minute, and ten times what the last one took, so it never takes more than a tenth of the training.
import * as vscode from 'vscode';
import type { FileHeat } from '../../protocol/messages.js';
import type { Run } from '../run.js';
import { EditTracker } from './editTracker.js';

/** A whole file's heat is asked for again no sooner than this after the last one arrived. */
export const FILE_HEAT_REFRESH_MS = 60_000;
/** ... and no sooner than this many times what the last one took. */
const FILE_HEAT_SPACING = 10;

export interface FileHeatEntry {
  runId: string;
  heat: FileHeat;
  /** The document's edits since its text was sent. */
  tracker: EditTracker;
  /** performance.now() when it was asked for and when it arrived. */
  requestedAt: number;
  receivedAt: number;
}

export class FileHeats implements vscode.Disposable {
  private readonly entries = new Map<string, FileHeatEntry>();
  /** Requests under way, with the tracker that follows the edits made meanwhile. */
  private readonly pending = new Map<string, { runId: string; tracker: EditTracker }>();
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.subscription = vscode.workspace.onDidChangeTextDocument((e) => {
      const key = e.document.uri.toString();
      const trackers = [this.entries.get(key)?.tracker, this.pending.get(key)?.tracker];
      for (const c of e.contentChanges) {
        for (const t of trackers) t?.apply({ offset: c.rangeOffset, removed: c.rangeLength, inserted: c.text.length });
      }
    });
  }

  /** The document's whole-file heat from `runId`, if one has arrived. */
  get(doc: vscode.TextDocument, runId: string): FileHeatEntry | null {
    const e = this.entries.get(doc.uri.toString());
    return e && e.runId === runId ? e : null;
  }

  /** Whether the document's whole-file heat should be asked for now: none yet from this run, or an old one of an earlier model. */
  due(doc: vscode.TextDocument, run: Run, step: number): boolean {
    const key = doc.uri.toString();
    // Another run's request under way (one stopped since, whose worker still computes it) does not hold this run's back.
    if (this.pending.get(key)?.runId === run.runId) return false;
    const e = this.get(doc, run.runId);
    if (!e) return true;
    const age = performance.now() - e.receivedAt;
    return e.heat.step < step && age >= Math.max(FILE_HEAT_REFRESH_MS, FILE_HEAT_SPACING * (e.receivedAt - e.requestedAt));
  }

  /**
   * Asks the run's worker for the heat of the whole document; keeps and returns it, or null where a newer
   * request (another run's) was made meanwhile, whose heat is the one to keep.
   */
  async request(doc: vscode.TextDocument, run: Run): Promise<FileHeatEntry | null> {
    const key = doc.uri.toString();
    const text = doc.getText();
    const pending = { runId: run.runId, tracker: new EditTracker(text.length) };
    this.pending.set(key, pending);
    const requestedAt = performance.now();
    try {
      const heat = await run.request('probeHeat', text);
      if (this.pending.get(key) !== pending) return null;
      const entry: FileHeatEntry = { runId: run.runId, heat, tracker: pending.tracker, requestedAt, receivedAt: performance.now() };
      if (!doc.isClosed) this.entries.set(key, entry);
      return entry;
    } finally {
      if (this.pending.get(key) === pending) this.pending.delete(key);
    }
  }

  /** The run whose request for the document is under way, if one is (for the tests). */
  pendingRun(doc: vscode.TextDocument): string | null {
    return this.pending.get(doc.uri.toString())?.runId ?? null;
  }

  forget(uri: string): void {
    this.entries.delete(uri);
  }

  forgetRun(runId: string): void {
    for (const [uri, e] of this.entries) if (e.runId === runId) this.entries.delete(uri);
  }

  dispose(): void {
    this.subscription.dispose();
    this.entries.clear();
  }
}
