// How far back the learning signal reaches, position by position, over a text: what the editor shows
// where the text is. The text is cut into windows of K = k2 positions as training cuts it, the state
// carried from one window to the next; in each window only the loss at the window's last position e is
// backpropagated, and every position t of the window gets
//   reach_l(t) = || dL_e / dh^l_t ||          (BPTT: dL_e/dh_t = dL_e/dh_e * prod_{s=t+1..e} dh_s/dh_{s-1})
// per layer l, the same quantity as GradientFlow.fromLast but laid over the text instead of over k.
// A vanilla RNN's reach falls geometrically with e - t (the product of Jacobians whose norm is below 1);
// an LSTM's cell path keeps it up.
//
// The same forward pass gives, for gated cells, the share of units whose gates are saturated at each
// position (sigmoid gates below SATURATION_LOW or above SATURATION_HIGH, tanh candidates beyond
// SATURATION_HIGH in magnitude: thresholds.ts): where a gate is pinned, its derivative and the gradient through it
// are close to zero.
//
// The probe borrows the model's parameters and restores their gradients, so it can run between two
// training updates without changing them.
import type { GateName } from './measurements.js';
import type { Model } from './model.js';
import { SATURATION_HIGH, SATURATION_LOW } from './thresholds.js';
import { Unrolled } from './unroll.js';

export interface GradientReachProbe {
  /** Window length K the text was cut into. */
  window: number;
  layers: number;
  /** Tokens probed (N). */
  count: number;
  /**
   * [layers, N]: norm of dL_e/dh^l_t for token t, e the last position of t's window that has a
   * target (token N-1 predicts nothing, so its reach is 0).
   */
  norms: Float32Array;
  /** Gate names of `saturation` (LSTM i f g o, GRU r z n; none for the vanilla RNN). */
  gates: GateName[];
  /** [layers, gates, N]: share (0..1) of the layer's units with that gate saturated after reading token t. */
  saturation: Float32Array;
}

const GATE_NAMES: Record<string, GateName[]> = { rnn: [], lstm: ['i', 'f', 'g', 'o'], gru: ['r', 'z', 'n'] };
/** Gates that are tanh (range -1..1) rather than sigmoid (0..1). */
const TANH_GATES = new Set<GateName>(['g', 'n']);

const unrolledCache = new WeakMap<Model, Map<number, Unrolled>>();

/**
 * A batch-1 unroll of `window` steps over the model's parameters, made once per window length. Its
 * buffers come from the model's arena: the fast kernels run a product only on buffers of one heap, and
 * an arena of its own had every product of the probe on the reference kernels (2.7 s for the editor's
 * 13,000 characters of an LSTM 128; 0.1 s in the model's heap).
 */
function unrolledFor(model: Model, window: number): Unrolled {
  let byWindow = unrolledCache.get(model);
  if (!byWindow) unrolledCache.set(model, (byWindow = new Map()));
  let u = byWindow.get(window);
  if (!u) {
    u = model.unroll(1, window);
    byWindow.set(window, u);
  }
  return u;
}

/** Measures the gradient reach and gate saturation of every position of `ids` (token ids [N]). */
export function probeGradientReach(model: Model, ids: Int32Array, window: number): GradientReachProbe {
  const cfg = model.config;
  const N = ids.length;
  const L = cfg.layers;
  const H = cfg.hidden;
  const K = Math.max(1, Math.min(window, Math.max(1, N - 1)));
  const gates = GATE_NAMES[cfg.cell] ?? [];
  const G = gates.length;
  const norms = new Float32Array(L * N);
  const saturation = new Float32Array(L * G * N);
  const probe: GradientReachProbe = { window: K, layers: L, count: N, norms, gates, saturation };
  if (N < 2) return probe;

  const u = unrolledFor(model, K);
  const saved = model.params.map((p) => p.grad.slice());
  const state = new (model.arena.width === 'f64' ? Float64Array : Float32Array)(u.stateSize(1));
  try {
    // Inputs are positions 0..N-2, each predicting the next token.
    for (let w0 = 0; w0 < N - 1; w0 += K) {
      const t = Math.min(K, N - 1 - w0);
      for (let p = 0; p < t; p++) {
        u.ids[p] = ids[w0 + p]!;
        u.targets[p] = ids[w0 + p + 1]!;
      }
      u.setState(w0 === 0 ? null : state, 1, t);
      u.forward(1, t);
      if (G > 0) measureSaturation(u, gates, t, w0, N, saturation);
      u.getState(state, 1, t, t);
      // Only the loss at the window's last position e = t-1, as reach_l(t) defines.
      u.decode(1, t, t - 1);
      u.loss(1, t, t - 1);
      u.backward(1, t, t - 1, 1);
      for (let l = 0; l < L; l++) {
        const dh = u.layers[l]!.cells[0]!.dh; // [t, 1, H]: total dL_e/dh_p after backward
        for (let p = 0; p < t; p++) {
          let s = 0;
          for (let j = 0; j < H; j++) {
            const g = dh[p * H + j]!;
            s += g * g;
          }
          norms[l * N + w0 + p] = Math.sqrt(s);
        }
      }
    }
  } finally {
    model.params.forEach((p, i) => p.grad.set(saved[i]!));
  }
  return probe;
}

/** Shares of saturated units per gate and position of the window just run forward (batch 1). */
function measureSaturation(u: Unrolled, gates: GateName[], t: number, w0: number, N: number, out: Float32Array): void {
  const G = gates.length;
  for (let l = 0; l < u.layers.length; l++) {
    const cell = u.layers[l]!.cells[0]!;
    const H = cell.hidden;
    const act = cell.act; // [t, 1, G*H]: activated gates in PyTorch's order after forward
    for (let g = 0; g < G; g++) {
      const tanh = TANH_GATES.has(gates[g]!);
      for (let p = 0; p < t; p++) {
        const a = p * G * H + g * H;
        let pinned = 0;
        for (let j = 0; j < H; j++) {
          const v = act[a + j]!;
          if (tanh ? Math.abs(v) > SATURATION_HIGH : v < SATURATION_LOW || v > SATURATION_HIGH) pinned++;
        }
        out[(l * G + g) * N + w0 + p] = pinned / H;
      }
    }
  }
}
