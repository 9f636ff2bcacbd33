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

  /**
   * The parts of snapshot span [start, end) that survive, each as a current span: a long span (a
   * training window) that an edit cut keeps its untouched pieces.
   */
  mapPieces(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = this.firstEndingAfter(start); i < this.base.length; i++) {
      const b = this.base[i]!;
      if (b >= end) break;
      const s = Math.max(start, b);
      const e = Math.min(end, b + this.len[i]!);
      if (e > s) out.push([this.now[i]! + (s - b), this.now[i]! + (e - b)]);
    }
    return out;
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
