// Exponential moving average over a decimated series, as TensorBoard's smoothing slider does it, with
// the start-up bias removed: s_t = w s_{t-1} + (1 - w) x_t, reported as s_t / (1 - w^t).
// A bucket of n points whose mean is m is treated as n copies of m, so one bucket advances the
// average by s <- w^n s + (1 - w^n) m and the curve looks the same at every zoom of decimation.
import type { Bucket } from './series.js';

/** Smoothed value per bucket; NaN where no finite value has been seen yet. `weight` in [0, 1). */
export function smoothBuckets(buckets: readonly Bucket[], weight: number): Float64Array {
  const w = Math.min(Math.max(Number.isFinite(weight) ? weight : 0, 0), 0.999);
  const out = new Float64Array(buckets.length);
  let s = 0;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const n = b.count - b.nonFinite;
    if (n > 0) {
      const wn = Math.pow(w, n);
      s = wn * s + (1 - wn) * b.mean;
      seen += n;
    }
    const debias = 1 - Math.pow(w, seen);
    out[i] = seen === 0 ? NaN : debias === 0 ? s : s / debias;
  }
  return out;
}

/** The same average over raw values, for checking and for short series. */
export function smoothValues(values: ArrayLike<number>, weight: number): Float64Array {
  const w = Math.min(Math.max(Number.isFinite(weight) ? weight : 0, 0), 0.999);
  const out = new Float64Array(values.length);
  let s = 0;
  let seen = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isFinite(x)) {
      s = w * s + (1 - w) * x;
      seen++;
    }
    out[i] = seen === 0 ? NaN : s / (1 - Math.pow(w, seen));
  }
  return out;
}
