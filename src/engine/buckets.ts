// Batches of examples of similar length, so that padding (work on positions past an example's end)
// stays small: each epoch the examples are ordered by length, ties in a fresh random order, cut into
// batches of up to B consecutive examples, and the batches are visited in a random order. Examples of
// one length are then batched with each other, and the batch's window is its longest example.
// Everything is sized once; an epoch allocates nothing. A "length" is any small whole key: translate's
// is the source's length, then the target's (taskTrainer.ts batchKeys).
//
// Each epoch's order is drawn from the same starting arrangement (examples by length, in file order) with
// the random state the epoch starts with, so that state and the position in the epoch are all a
// checkpoint needs to continue the epoch exactly (state(), restore()).
import { Rng, type RngState } from './rng.js';

/** Where a run is in its epochs: enough to draw the current epoch's order again. */
export interface BatchPosition {
  epoch: number;
  /** Batches of the current epoch already visited. */
  next: number;
  /** The random state the current epoch was drawn with; null before the first. */
  epochRng: RngState | null;
}

export class LengthBatches {
  readonly batch: number;
  readonly count: number;
  /** Example indices, by length, in this epoch's order within each length. */
  private readonly order: Int32Array;
  /** [count] start of each batch in `order`; batch k is order[starts[k] .. starts[k] + size(k)). */
  private readonly starts: Int32Array;
  private readonly visit: Int32Array;
  /** Example indices grouped by length, in file order within a length: byLength[groupStart[l] .. groupStart[l + 1]). */
  private readonly byLength: Int32Array;
  private readonly groupStart: Int32Array;
  private next = 0;
  private readonly epochRng: RngState = [0, 0, 0, 0];
  private drawn = false;
  epoch = 0;

  constructor(
    private readonly lengths: ArrayLike<number>,
    batch: number,
  ) {
    const n = lengths.length;
    if (n === 0) throw new Error('length batches: no examples');
    this.batch = batch;
    let longest = 0;
    for (let i = 0; i < n; i++) longest = Math.max(longest, lengths[i]!);
    this.groupStart = new Int32Array(longest + 2);
    for (let i = 0; i < n; i++) this.groupStart[lengths[i]! + 1]++;
    for (let l = 0; l <= longest; l++) this.groupStart[l + 1] += this.groupStart[l]!;
    this.byLength = new Int32Array(n);
    const fill = this.groupStart.slice();
    for (let i = 0; i < n; i++) this.byLength[fill[lengths[i]!]!++] = i;
    this.order = new Int32Array(n);
    this.count = Math.ceil(n / batch);
    this.starts = new Int32Array(this.count);
    for (let k = 0; k < this.count; k++) this.starts[k] = k * batch;
    this.visit = new Int32Array(this.count);
    this.next = this.count;
  }

  /** Examples in the batch after the last one; starts a new epoch when one ends. */
  nextBatch(rng: Rng): { start: number; size: number } {
    if (this.next >= this.count) this.shuffle(rng);
    const k = this.visit[this.next++]!;
    const start = this.starts[k]!;
    return { start, size: Math.min(this.batch, this.order.length - start) };
  }

  /** The example at position i of the current epoch's order. */
  example(i: number): number {
    return this.order[i]!;
  }

  /** Longest example of a batch: its last, since batches are cut from examples ordered by length. */
  longest(start: number, size: number): number {
    return this.lengths[this.order[start + size - 1]!]!;
  }

  /** The position to store in a checkpoint (a copy). */
  state(): BatchPosition {
    return { epoch: this.epoch, next: this.next, epochRng: this.drawn ? (this.epochRng.slice() as RngState) : null };
  }

  /**
   * Continues from a stored position: the current epoch's order is drawn again from its random state.
   * The caller's generator must be in the state it had when the position was stored.
   */
  restore(p: BatchPosition): void {
    if (p.epochRng === null) return;
    this.shuffle(Rng.fromState(p.epochRng));
    this.epoch = p.epoch;
    this.next = Math.min(Math.max(0, p.next), this.count);
  }

  private shuffle(rng: Rng): void {
    const { byLength, groupStart, order, visit } = this;
    const s = rng.state();
    for (let i = 0; i < 4; i++) this.epochRng[i] = s[i]!;
    this.drawn = true;
    order.set(byLength);
    for (let l = 0; l + 1 < groupStart.length; l++) {
      for (let i = groupStart[l + 1]! - 1; i > groupStart[l]!; i--) {
        const j = groupStart[l]! + rng.int(i - groupStart[l]! + 1);
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
    }
    for (let k = 0; k < this.count; k++) visit[k] = k;
    for (let k = this.count - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      const t = visit[k]!;
      visit[k] = visit[j]!;
      visit[j] = t;
    }
    this.next = 0;
    this.epoch++;
  }
}
