import type { Floats } from './floats.js';

// B parallel streams over the training tokens, each reading the text contiguously, as in stateful
// truncated BPTT: every update reads one window of k2 tokens per stream (and the k2 tokens after them
// as targets), then moves each stream on by k1 tokens, so consecutive windows overlap by k2 - k1.
//
// A window may start at any of the S = N - k2 positions whose k2 inputs and k2 targets lie inside
// the N training tokens. Streams start spread evenly over those S starts; a stream that runs past
// them wraps around (position mod S) and starts again from a zero state. With a reset interval, each
// stream also starts again from a zero state every `resetWindows` windows, stream b offset by
// b * resetWindows / B windows so that restarts spread over the updates.

export class Streams {
  readonly batch: number;
  readonly k1: number;
  readonly k2: number;
  /** Training tokens N. */
  readonly length: number;
  /** [B] token index of each stream's next window. */
  readonly positions: Float64Array;
  private readonly starts: number;

  /** Windows between a stream's restarts from a zero state; 0 = only when it wraps. */
  readonly resetWindows: number;

  constructor(length: number, batch: number, k1: number, k2: number, resetEveryTokens = 0) {
    if (length < k2 + 1) throw new Error(`streams: ${length} tokens cannot hold a window of ${k2} + 1`);
    this.length = length;
    this.batch = batch;
    this.k1 = k1;
    this.k2 = k2;
    this.resetWindows = resetEveryTokens > 0 ? Math.max(1, Math.round(resetEveryTokens / k1)) : 0;
    this.starts = length - k2;
    this.positions = new Float64Array(batch);
    this.rewind();
  }

  /** Every stream back to its first position. */
  rewind(): void {
    for (let b = 0; b < this.batch; b++) this.positions[b] = Math.floor((b * this.starts) / this.batch);
  }

  /**
   * Before the window of update `update`: wraps streams whose next window would run past the text, and
   * sets fresh[b] = 1 for every stream that starts this window from a zero state (wrapped, or due to
   * restart), else 0. A function of the positions and the update count only, so a resumed run restarts
   * where the uninterrupted one would have.
   */
  freshStarts(fresh: Uint8Array, update: number): void {
    const R = this.resetWindows;
    for (let b = 0; b < this.batch; b++) {
      const p = this.positions[b]!;
      const wrapped = p >= this.starts;
      if (wrapped) this.positions[b] = p % this.starts;
      const due = R > 0 && update > 0 && (update + Math.floor((b * R) / this.batch)) % R === 0;
      fresh[b] = wrapped || due ? 1 : 0;
    }
  }

  /**
   * ids[s, j] = tokens[pos_b + s], targets[s, j] = tokens[pos_b + s + 1] for s < k2 and streams
   * b = lo + j in [lo, hi) ([k2, hi - lo] layout): all streams, or the share one thread runs.
   */
  fill(tokens: Int32Array, ids: Int32Array, targets: Int32Array, lo = 0, hi = this.batch): void {
    const n = hi - lo;
    for (let j = 0; j < n; j++) {
      const p = this.positions[lo + j]!;
      for (let s = 0; s < this.k2; s++) {
        ids[s * n + j] = tokens[p + s]!;
        targets[s * n + j] = tokens[p + s + 1]!;
      }
    }
  }

  advance(): void {
    for (let b = 0; b < this.batch; b++) this.positions[b] += this.k1;
  }

  /** Restores positions saved from a run on the same text; out-of-range ones are wrapped on the next window. */
  restore(positions: readonly number[]): void {
    for (let b = 0; b < this.batch; b++) {
      const p = positions[b];
      this.positions[b] = typeof p === 'number' && Number.isInteger(p) && p >= 0 ? p : 0;
    }
  }
}

/**
 * Copies the carried state of n streams between two layouts [blocks, batch, H] (blocks: layer,
 * direction, h or c): streams [srcLo, srcLo + n) of src, which holds srcBatch streams, to streams
 * [dstLo, dstLo + n) of dst, which holds dstBatch. src and dst may be one buffer (set() copies as if
 * through a temporary).
 */
export function copyStreams(
  src: Floats,
  srcBatch: number,
  srcLo: number,
  dst: Floats,
  dstBatch: number,
  dstLo: number,
  n: number,
  H: number,
): void {
  const blocks = src.length / (srcBatch * H);
  for (let k = 0; k < blocks; k++) {
    const from = (k * srcBatch + srcLo) * H;
    dst.set(src.subarray(from, from + n * H), (k * dstBatch + dstLo) * H);
  }
}
