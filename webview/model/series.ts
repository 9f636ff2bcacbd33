// A metric stream kept in bounded memory however long the run: at most `capacity` buckets, each
// summarising `stride` consecutive raw points by count, min, max, mean and last value. When full,
// neighbouring buckets merge pairwise and the stride doubles, so a million-step run holds the same
// few thousand buckets as a thousand-step one, and every spike survives in some bucket's max.

export interface Bucket {
  /** Step and elapsed milliseconds of the first and last raw point in the bucket. */
  firstStep: number;
  lastStep: number;
  firstMs: number;
  lastMs: number;
  /** Raw points in the bucket, and how many of them were NaN or infinite. */
  count: number;
  nonFinite: number;
  /** Over the finite values only; NaN when the bucket has none. */
  min: number;
  max: number;
  mean: number;
  last: number;
  /** Raw points that carried the flag (for example: a clipped update). */
  flagged: number;
}

export const DEFAULT_CAPACITY = 2048;

export class DecimatedSeries {
  private readonly buckets: Bucket[] = [];
  private strideValue = 1;
  private totalPoints = 0;
  private totalNonFinite = 0;

  constructor(readonly capacity: number = DEFAULT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 4 || capacity % 2 !== 0) {
      throw new Error(`series capacity must be an even whole number of at least 4, got ${capacity}`);
    }
  }

  /** Raw points per full bucket. */
  get stride(): number {
    return this.strideValue;
  }
  get length(): number {
    return this.buckets.length;
  }
  get points(): number {
    return this.totalPoints;
  }
  get nonFinitePoints(): number {
    return this.totalNonFinite;
  }

  bucket(i: number): Bucket {
    const b = this.buckets[i];
    if (b === undefined) throw new RangeError(`bucket ${i} of ${this.buckets.length}`);
    return b;
  }

  all(): readonly Bucket[] {
    return this.buckets;
  }

  lastBucket(): Bucket | undefined {
    return this.buckets[this.buckets.length - 1];
  }

  push(step: number, elapsedMs: number, value: number, flag = false): void {
    this.totalPoints++;
    const finite = Number.isFinite(value);
    if (!finite) this.totalNonFinite++;
    const open = this.buckets[this.buckets.length - 1];
    if (open !== undefined && open.count < this.strideValue) {
      open.lastStep = step;
      open.lastMs = elapsedMs;
      open.count++;
      if (flag) open.flagged++;
      if (!finite) {
        open.nonFinite++;
        return;
      }
      const n = open.count - open.nonFinite;
      if (n === 1) {
        open.min = value;
        open.max = value;
        open.mean = value;
      } else {
        if (value < open.min) open.min = value;
        if (value > open.max) open.max = value;
        open.mean += (value - open.mean) / n;
      }
      open.last = value;
      return;
    }
    if (this.buckets.length === this.capacity) this.halve();
    this.buckets.push({
      firstStep: step,
      lastStep: step,
      firstMs: elapsedMs,
      lastMs: elapsedMs,
      count: 1,
      nonFinite: finite ? 0 : 1,
      min: finite ? value : NaN,
      max: finite ? value : NaN,
      mean: finite ? value : NaN,
      last: finite ? value : NaN,
      flagged: flag ? 1 : 0,
    });
  }

  /** Merges buckets pairwise (2k, 2k+1) and doubles the stride; the last bucket may be left partly filled. */
  private halve(): void {
    const merged: Bucket[] = [];
    for (let i = 0; i < this.buckets.length; i += 2) {
      const a = this.buckets[i]!;
      const b = this.buckets[i + 1];
      merged.push(b === undefined ? a : mergeBuckets(a, b));
    }
    this.buckets.length = 0;
    this.buckets.push(...merged);
    this.strideValue *= 2;
  }
}

export function mergeBuckets(a: Bucket, b: Bucket): Bucket {
  const na = a.count - a.nonFinite;
  const nb = b.count - b.nonFinite;
  const n = na + nb;
  return {
    firstStep: a.firstStep,
    lastStep: b.lastStep,
    firstMs: a.firstMs,
    lastMs: b.lastMs,
    count: a.count + b.count,
    nonFinite: a.nonFinite + b.nonFinite,
    min: nb === 0 ? a.min : na === 0 ? b.min : Math.min(a.min, b.min),
    max: nb === 0 ? a.max : na === 0 ? b.max : Math.max(a.max, b.max),
    mean: n === 0 ? NaN : ((na > 0 ? a.mean * na : 0) + (nb > 0 ? b.mean * nb : 0)) / n,
    last: nb > 0 ? b.last : a.last,
    flagged: a.flagged + b.flagged,
  };
}
