// Colour for heatmap cells. Sigmoid gates live in [0, 1] and get a sequential map (dark = closed,
// bright = open); tanh quantities (g, n, h) and the cell state c are signed and get a diverging map
// centred on zero, so saturation at either end is equally visible. Gradient norms span decades and
// are mapped on log10.

export type Rgb = readonly [number, number, number];

/** Perceptually ordered control points, dark blue-violet to yellow (in the spirit of viridis). */
const SEQUENTIAL: readonly Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
/** Blue for negative, orange-red for positive; the centre is supplied by the theme. */
const NEGATIVE: Rgb = [49, 130, 189];
const POSITIVE: Rgb = [230, 85, 13];

function lerp(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** t in [0, 1] (clamped; NaN gives null) to a colour of the sequential map. */
export function sequential(t: number): Rgb | null {
  if (Number.isNaN(t)) return null;
  const x = Math.min(Math.max(t, 0), 1) * (SEQUENTIAL.length - 1);
  const i = Math.min(Math.floor(x), SEQUENTIAL.length - 2);
  return lerp(SEQUENTIAL[i]!, SEQUENTIAL[i + 1]!, x - i);
}

/** t in [-1, 1] (clamped; NaN gives null) to a colour of the diverging map whose zero is `centre`. */
export function diverging(t: number, centre: Rgb): Rgb | null {
  if (Number.isNaN(t)) return null;
  const x = Math.min(Math.max(t, -1), 1);
  return x < 0 ? lerp(centre, NEGATIVE, -x) : lerp(centre, POSITIVE, x);
}

export type ValueRange =
  | { kind: 'unit' } // sigmoid gates: [0, 1]
  | { kind: 'signed'; limit: number } // symmetric around 0: [-limit, limit]
  | { kind: 'log'; lo: number; hi: number }; // log10 over [lo, hi], lo > 0

/**
 * Fills `rgba` ([rows * cols * 4], row-major) with the colours of `values` ([rows, cols]); non-finite
 * cells get `missing`. Returns the number of non-finite cells.
 */
export function paint(values: ArrayLike<number>, range: ValueRange, centre: Rgb, missing: Rgb, rgba: Uint8ClampedArray): number {
  let bad = 0;
  const logLo = range.kind === 'log' ? Math.log10(range.lo) : 0;
  const logSpan = range.kind === 'log' ? Math.max(Math.log10(range.hi) - logLo, 1e-12) : 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let c: Rgb | null = null;
    if (Number.isFinite(v)) {
      if (range.kind === 'unit') c = sequential(v);
      else if (range.kind === 'signed') c = diverging(range.limit > 0 ? v / range.limit : 0, centre);
      else c = v > 0 ? sequential((Math.log10(v) - logLo) / logSpan) : sequential(0);
    }
    if (c === null) {
      bad++;
      c = missing;
    }
    const o = i * 4;
    rgba[o] = c[0];
    rgba[o + 1] = c[1];
    rgba[o + 2] = c[2];
    rgba[o + 3] = 255;
  }
  return bad;
}

/** Parses `#rgb`, `#rrggbb` or `rgb(r, g, b)` (as CSS variables give them); null if it cannot. */
export function parseCssColour(s: string): Rgb | null {
  const t = s.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(t);
  if (m) {
    const h = m[1]!;
    return [parseInt(h[0]! + h[0], 16), parseInt(h[1]! + h[1], 16), parseInt(h[2]! + h[2], 16)];
  }
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(t);
  if (m) {
    const h = m[1]!;
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
  }
  m = /^rgba?\(\s*(\d+(?:\.\d+)?)[\s,]+(\d+(?:\.\d+)?)[\s,]+(\d+(?:\.\d+)?)/i.exec(t);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return null;
}
