// Loss units and axis scales. The engine reports nats (natural-log cross-entropy); bits per token are
// nats / ln 2, the unit of the unigram-entropy line and of compression figures.

export type LossUnit = 'nats' | 'bits';
export type AxisScale = 'linear' | 'log';

export const LN2 = Math.LN2;

export function natsTo(unit: LossUnit, lossNats: number): number {
  return unit === 'bits' ? lossNats / LN2 : lossNats;
}

export function bitsTo(unit: LossUnit, bits: number): number {
  return unit === 'bits' ? bits : bits * LN2;
}

export function unitLabel(unit: LossUnit): string {
  return unit === 'bits' ? 'bits per token' : 'nats per token';
}

/** A log axis cannot show zero, negative or non-finite values: they become gaps (null), not errors. */
export function forScale(scale: AxisScale, v: number): number | null {
  if (!Number.isFinite(v)) return null;
  if (scale === 'log' && v <= 0) return null;
  return v;
}

/** [min, max] of the finite (and for a log axis, positive) values, or null when there are none. */
export function extent(values: ArrayLike<number>, scale: AxisScale = 'linear'): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || (scale === 'log' && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}
