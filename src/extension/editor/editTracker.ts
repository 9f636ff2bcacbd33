// Where text measured by the model is now. A probe, a clip event or a gradient-flow window speaks in
// UTF-16 offsets of the text it saw (a snapshot); the user keeps typing. This tracker follows the edits
// made since the snapshot and maps an old span to its place in the current document, or to nothing when
// an edit touched it: the model's verdict on text that has changed is stale, so it is dropped rather
// than stretched over the new text. No `vscode` here: the unit tests feed it edits directly.

/** One replacement, as VS Code reports it: `removed` code units at `offset` replaced by `inserted` ones. */
export interface TextEdit {
  offset: number;
  removed: number;
  inserted: number;
}

/**
 * Unedited stretches of the snapshot, in order: stretch i covers snapshot [base[i], base[i] + len[i])
 * and sits at [now[i], now[i] + len[i]) in the current text. Starts as one stretch over everything;
 * each edit splits at most one stretch in two, so the lists grow by at most one per edit.
 */
export class EditTracker {
  private base: number[];
  private now: number[];
  private len: number[];
  private edits = 0;

  constructor(readonly snapshotLength: number) {
    this.base = [0];
    this.now = [0];
    this.len = [snapshotLength];
  }

  /** Edits applied so far (0: the current text is the snapshot). */
  get editCount(): number {
    return this.edits;
  }

  /** Applies one edit to the current text; several edits of one change event are applied in order. */
  apply(e: TextEdit): void {
    this.edits++;
    const lo = e.offset;
    const hi = e.offset + e.removed;
    const shift = e.inserted - e.removed;
    const base: number[] = [];
    const now: number[] = [];
    const len: number[] = [];
    const keep = (b: number, n: number, l: number): void => {
      if (l <= 0) return;
      base.push(b);
      now.push(n);
      len.push(l);
    };
    for (let i = 0; i < this.len.length; i++) {
      const b = this.base[i]!;
      const n = this.now[i]!;
      const l = this.len[i]!;
      const end = n + l;
      if (end <= lo) {
        keep(b, n, l); // wholly before the edit
      } else if (n >= hi) {
        keep(b, n + shift, l); // wholly after it: shifted by what the edit added or removed
      } else {
        keep(b, n, lo - n); // the part before the edit survives in place
        keep(b + (hi - n), hi + shift, end - hi); // the part after it, shifted
      }
    }
    this.base = base;
    this.now = now;
    this.len = len;
  }

  /** Where snapshot span [start, end) is now, or null when an edit touched any of it. */
  map(start: number, end: number): [number, number] | null {
    const i = this.stretchOf(start);
    if (i < 0) return null;
    const b = this.base[i]!;
    if (end > b + this.len[i]!) return null;
    const at = this.now[i]! + (start - b);
    return [at, at + (end - start)];
  }

  /** Where snapshot offset `at` is now, or null when the text around it was edited away. */
  mapOffset(at: number): number | null {
    const i = this.stretchOf(at);
    if (i >= 0) return this.now[i]! + (at - this.base[i]!);
    // The end of a surviving stretch (the end of the text, say) still has a place.
    const j = this.firstEndingAfter(at - 1);
    if (j < this.base.length && this.base[j]! + this.len[j]! === at) return this.now[j]! + this.len[j]!;
    return null;
  }

  /** The snapshot offset of current offset `at`, or null when `at` is in text typed since. */
  unmap(at: number): number | null {
    let lo = 0;
    let hi = this.now.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const n = this.now[mid]!;
      if (at < n) hi = mid - 1;
      else if (at >= n + this.len[mid]!) lo = mid + 1;
      else return this.base[mid]! + (at - n);
    }
    return null;
  }

  /** Index of the stretch holding snapshot offset `at`, or -1. */
  private stretchOf(at: number): number {
    const i = this.firstEndingAfter(at);
    return i < this.base.length && this.base[i]! <= at ? i : -1;
  }

  /** Binary search: the first stretch that ends after snapshot offset `at` (base.length if none). */
  private firstEndingAfter(at: number): number {
    let lo = 0;
    let hi = this.base.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.base[mid]! + this.len[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The one edit that turns `before` into `after` (common prefix and suffix kept): how a tracker catches
 * up with a document that changed while nobody was watching it (before the editor features attached).
 */
export function diffAsEdit(before: string, after: string): TextEdit | null {
  if (before === after) return null;
  const max = Math.min(before.length, after.length);
  let p = 0;
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  return { offset: p, removed: before.length - p - s, inserted: after.length - p - s };
}

/**
 * Where the training text (a run's snapshot: the whole file, its first part, or a selection) lies in a
 * document, now: the snapshot found in the document when the editor attached (at its first occurrence
 * for a selection), and every edit since.
 */
export class TextLink {
  private constructor(
    private readonly tracker: EditTracker,
    private readonly shift: number,
  ) {}

  /** Links `trainingText` to the document text `docText` as it is now. */
  static attach(trainingText: string, docText: string): TextLink {
    const at = docText.indexOf(trainingText);
    if (at >= 0) {
      const t = new EditTracker(docText.length);
      return new TextLink(t, at);
    }
    // Edited before the editor looked: one edit from the snapshot to the text now.
    const t = new EditTracker(trainingText.length);
    const e = diffAsEdit(trainingText, docText);
    if (e) t.apply(e);
    return new TextLink(t, 0);
  }

  apply(e: TextEdit): void {
    this.tracker.apply(e);
  }

  /** The document span of training-text span [start, end), or null when it was edited. */
  span(start: number, end: number): [number, number] | null {
    return this.tracker.map(start + this.shift, end + this.shift);
  }
}

/** Index i with offsets[i] <= at < offsets[i+1] (offsets [N+1]), or -1. */
export function tokenAt(offsets: Int32Array, at: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  if (hi < 0 || at < offsets[0]! || at >= offsets[hi + 1]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
