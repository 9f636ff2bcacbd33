// What each gate means and how saturated it is: a sigmoid gate when nearly shut or nearly open, a tanh
// quantity near -1 or 1 (the bounds and why: src/engine/thresholds.ts). The cell state c is unbounded
// and has no saturation.
import type { GateName } from '../../src/engine/measurements.js';
import { SATURATION_HIGH, SATURATION_LOW } from '../../src/engine/thresholds.js';
import type { ValueRange } from './colormap.js';

export type Activation = 'sigmoid' | 'tanh' | 'none';

export const GATE_INFO: Record<GateName, { title: string; activation: Activation }> = {
  i: { title: 'input gate i', activation: 'sigmoid' },
  f: { title: 'forget gate f', activation: 'sigmoid' },
  g: { title: 'candidate g', activation: 'tanh' },
  o: { title: 'output gate o', activation: 'sigmoid' },
  c: { title: 'cell state c', activation: 'none' },
  r: { title: 'reset gate r', activation: 'sigmoid' },
  z: { title: 'update gate z', activation: 'sigmoid' },
  n: { title: 'candidate n', activation: 'tanh' },
  h: { title: 'hidden state h', activation: 'tanh' },
};

export interface Saturation {
  /** Share of finite values at the low end (< SATURATION_LOW, or < -SATURATION_HIGH for tanh). */
  low: number;
  /** Share at the high end (> SATURATION_HIGH). */
  high: number;
  /** low + high. */
  total: number;
  /** Finite values counted. */
  count: number;
}

/** Saturation of one gate's values ([T, H] or any shape); null for the cell state, which has none. */
export function saturation(name: GateName, data: ArrayLike<number>): Saturation | null {
  const act = GATE_INFO[name].activation;
  if (act === 'none') return null;
  const lo = act === 'sigmoid' ? SATURATION_LOW : -SATURATION_HIGH;
  let low = 0;
  let high = 0;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    count++;
    if (v < lo) low++;
    else if (v > SATURATION_HIGH) high++;
  }
  if (count === 0) return { low: 0, high: 0, total: 0, count: 0 };
  return { low: low / count, high: high / count, total: (low + high) / count, count };
}

/** The colour range a gate's heatmap uses: [0, 1] for sigmoid gates, [-1, 1] for tanh, +-max|c| for c. */
export function gateRange(name: GateName, data: ArrayLike<number>): ValueRange {
  const act = GATE_INFO[name].activation;
  if (act === 'sigmoid') return { kind: 'unit' };
  if (act === 'tanh') return { kind: 'signed', limit: 1 };
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.abs(data[i]!);
    if (Number.isFinite(v) && v > m) m = v;
  }
  return { kind: 'signed', limit: m > 0 ? m : 1 };
}

/** Transposes [T, H] to [H, T] so units run down the rows and time along the columns. */
export function unitsByTime(data: ArrayLike<number>, steps: number, hidden: number): Float32Array {
  const out = new Float32Array(steps * hidden);
  for (let t = 0; t < steps; t++) {
    for (let u = 0; u < hidden; u++) out[u * steps + t] = data[t * hidden + u] ?? NaN;
  }
  return out;
}

/** A probe token as it should be shown on the time axis: whitespace made visible. */
export function showToken(token: string): string {
  if (token === '\n') return '⏎';
  if (token === '\t') return '⇥';
  if (token === ' ') return '·';
  if (token === '\r') return '␍';
  return token;
}
