// Summaries of how far gradient reaches back in time. For the loss at the last step T of a window,
// fromLast[k] = |dL_T/dh_{T-k}|. Through a vanilla RNN this shrinks roughly geometrically,
// |dL/dh_{T-k}| ~ |dL/dh_T| * rho^k with rho ~ |W_hh diag(tanh')| < 1 (vanishing gradient); through
// a gated cell it can be carried by units whose forget (LSTM) or update (GRU) gate stays near 1, and
// shrink far more slowly, when training has made such units matter to the loss.
import { REACH_RATIO } from '../../src/engine/thresholds.js';

export interface FlowSummary {
  /** Steps back until the norm first falls below REACH_RATIO of its value at k = 0; `window` if it never does. */
  reach: number;
  /** True when the gradient stayed above the ratio over the whole window. */
  reachesWholeWindow: boolean;
  /** Geometric decay per step, exp of the least-squares slope of ln norm against k (1 = no decay). */
  decayPerStep: number;
}

export function summariseFlow(fromLast: ArrayLike<number>, ratio: number = REACH_RATIO): FlowSummary | null {
  const n = fromLast.length;
  const g0 = n > 0 ? fromLast[0]! : NaN;
  if (!(g0 > 0) || !Number.isFinite(g0)) return null;
  let reach = n;
  for (let k = 1; k < n; k++) {
    const v = fromLast[k]!;
    if (!(v >= g0 * ratio)) {
      reach = k;
      break;
    }
  }
  let sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0,
    m = 0;
  for (let k = 0; k < n; k++) {
    const v = fromLast[k]!;
    if (!(v > 0) || !Number.isFinite(v)) continue;
    const y = Math.log(v);
    sx += k;
    sy += y;
    sxx += k * k;
    sxy += k * y;
    m++;
  }
  const denom = m * sxx - sx * sx;
  const slope = m >= 2 && denom !== 0 ? (m * sxy - sx * sy) / denom : 0;
  return { reach, reachesWholeWindow: reach === n, decayPerStep: Math.exp(slope) };
}

/** fromLast divided by its value at k = 0, so runs of different scale compare by shape. */
export function normalise(fromLast: ArrayLike<number>): Float64Array {
  const out = new Float64Array(fromLast.length);
  const g0 = fromLast.length > 0 ? fromLast[0]! : NaN;
  for (let k = 0; k < fromLast.length; k++) out[k] = g0 > 0 && Number.isFinite(g0) ? fromLast[k]! / g0 : NaN;
  return out;
}

/** [min, max] of the positive finite values across all rows, for a log colour scale; null if none. */
export function positiveExtent(rows: ReadonlyArray<ArrayLike<number>>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) {
      const v = r[i]!;
      if (!(v > 0) || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}
