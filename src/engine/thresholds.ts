// Where a gradient counts as exploded, as no longer reaching, and where a gate counts as saturated: one
// definition each, read by the engine's probes, the training worker, the editor's diagnostics and hover,
// and the dashboard, so that every view of a run draws the line in the same place.

/**
 * An update exploded when its gradient norm is at least this many times the clip threshold, or, with
 * clipping off, this many times the median norm of the recent updates: an explosion, not a bump.
 */
export const EXPLODING_FACTOR = 10;

/** The gradient from a window's last loss no longer reaches k steps back once its norm there is below this share of its norm at k = 0. */
export const REACH_RATIO = 1e-3;

/**
 * A sigmoid gate (LSTM i, f, o; GRU r, z) is saturated below SATURATION_LOW or above SATURATION_HIGH,
 * where its derivative s(1 - s) < 0.0475; a tanh quantity (g, n, h) beyond SATURATION_HIGH in magnitude,
 * where 1 - x^2 < 0.0975. Little gradient passes through either.
 */
export const SATURATION_LOW = 0.05;
export const SATURATION_HIGH = 0.95;
