// The measurements the dashboard and the editor show, computed on request from a model without touching
// its training: gate activations over a probe text, per-token loss with the top predictions (the
// contract of `recurrent eval` in docs/checkpoint-format.md), the norm of dL/dh across time, and norms
// per tensor. Texts longer than the workspace's window are run in consecutive windows with the state
// carried across, which computes exactly what one long window would.
import type { Cell } from './cell.js';
import type { Floats } from './floats.js';
import { sumSquares } from './kernels.js';
import { LstmCell } from './lstm.js';
import type { GateName, GateProbe, GradientFlow, TensorNorms, TokenLossProbe } from './measurements.js';
import type { Model } from './model.js';
import type { Param } from './parameters.js';
import type { Tokenizer } from './tokenizer.js';
import type { Unrolled } from './unroll.js';

/** A window to run probes in (any batch, any length) and a state buffer for it. */
export interface ProbeWorkspace {
  net: Unrolled;
  /** [stateSize(1)] at least. */
  state: Floats;
}

function workspaceFor(model: Model, ws: ProbeWorkspace | null, tokens: number): ProbeWorkspace {
  // A reverse direction must see the whole text in one window; so must anything without a workspace.
  if (ws !== null && !model.config.bidirectional) return ws;
  const net = model.unroll(1, Math.max(1, tokens));
  return { net, state: model.arena.floats(net.stateSize(1)) };
}

/**
 * Runs ids[0 .. n) from a zero state through the model in windows of batch 1, calling visit after each
 * window of t positions starting at position `start` (its caches then hold that window).
 */
function runWindows(ws: ProbeWorkspace, ids: Int32Array, n: number, visit: (start: number, t: number) => void): void {
  const { net, state } = ws;
  const T = net.maxSteps;
  for (let start = 0; start < n; start += T) {
    const t = Math.min(T, n - start);
    net.ids.set(ids.subarray(start, start + t));
    if (start === 0) net.setState(null, 1, t);
    else net.setState(state, 1, t);
    net.forward(1, t);
    if (start + t < n) net.getState(state, 1, t, t);
    visit(start, t);
  }
}

/** The rows a gate probe shows per cell: LSTM i f g o c h, GRU r z n h, RNN h. */
export const GATES: Record<'rnn' | 'lstm' | 'gru', GateName[]> = {
  rnn: ['h'],
  lstm: ['i', 'f', 'g', 'o', 'c', 'h'],
  gru: ['r', 'z', 'n', 'h'],
};

/**
 * After a forward pass of a batch-1 window of t positions: each gate of `cell` at those positions into
 * rows row0 .. row0 + t - 1 of its [N, H] array.
 */
export function copyGates(cell: Cell, gates: ReadonlyArray<{ name: GateName; data: Float32Array }>, t: number, row0: number): void {
  const H = cell.hidden;
  const G = cell.gates * H;
  for (let p = 0; p < t; p++) {
    const row = (row0 + p) * H;
    gates.forEach(({ name, data }, g) => {
      let src: Floats;
      let at: number;
      if (name === 'h') {
        src = cell.h;
        at = cell.outSlot(p) * H;
      } else if (name === 'c') {
        src = (cell as LstmCell).c;
        at = cell.outSlot(p) * H;
      } else {
        // act holds the activated gates in PyTorch's row order (i f g o; r z n) after forward.
        src = cell.act;
        at = p * G + g * H;
      }
      for (let j = 0; j < H; j++) data[row + j] = src[at + j]!;
    });
  }
}

/** Gate activations per unit per position of `text` from a zero state: each gate as [N, H]. */
export function probeGates(model: Model, tokenizer: Tokenizer, text: string, workspace: ProbeWorkspace | null = null): GateProbe {
  const ids = tokenizer.encode(text);
  const N = ids.length;
  const H = model.config.hidden;
  const names = GATES[model.config.cell];
  const ws = workspaceFor(model, workspace, N);
  const layers: GateProbe['layers'] = [];
  const sources: Array<{ cell: Cell; gates: Array<{ name: GateName; data: Float32Array }> }> = [];
  ws.net.layers.forEach(({ cells }, layer) => {
    cells.forEach((cell) => {
      const gates = names.map((name) => ({ name, data: new Float32Array(N * H) }));
      layers.push({ layer, direction: cell.reverse ? 'reverse' : 'forward', gates });
      sources.push({ cell, gates });
    });
  });
  runWindows(ws, ids, N, (start, t) => {
    for (const { cell, gates } of sources) copyGates(cell, gates, t, start);
  });
  return { tokens: Array.from(ids, (id) => tokenizer.token(id)), layers, hidden: H };
}

/**
 * perToken[i-1] = -ln p(t_i | t_<i) in nats over `text` from a zero state, and the k most likely
 * tokens with their probabilities at each predicted position.
 */
export function probeTokenLoss(
  model: Model,
  tokenizer: Tokenizer,
  text: string,
  k = 5,
  workspace: ProbeWorkspace | null = null,
): TokenLossProbe {
  const { ids, offsets } = tokenizer.encodeWithOffsets(text);
  const N = ids.length;
  const V = model.config.vocabSize;
  const K = Math.max(0, Math.min(Math.floor(k), V));
  const predicted = Math.max(0, N - 1);
  const lossNats = new Float32Array(predicted);
  const topIds = new Int32Array(predicted * K);
  const topProbs = new Float32Array(predicted * K);
  const ws = workspaceFor(model, workspace, predicted);
  const net = ws.net;
  const perRow = model.arena.width === 'f64' ? new Float64Array(net.maxSteps) : new Float32Array(net.maxSteps);
  runWindows(ws, ids, predicted, (start, t) => {
    net.targets.set(ids.subarray(start + 1, start + 1 + t));
    net.decode(1, t, 0);
    net.loss(1, t, 0, perRow, 0);
    for (let p = 0; p < t; p++) {
      lossNats[start + p] = perRow[p]!;
      topK(net.logits, p * V, V, K, topIds, topProbs, (start + p) * K);
    }
  });
  return { tokens: Array.from(ids, (id) => tokenizer.token(id)), offsets, lossNats, k: K, topIds, topProbs };
}

/** The k largest of probs[p0 .. p0+V), most likely first, into ids/probs from o. */
function topK(probs: Floats, p0: number, V: number, k: number, ids: Int32Array, out: Float32Array, o: number): void {
  let filled = 0;
  for (let v = 0; v < V; v++) {
    const q = probs[p0 + v]!;
    if (filled === k && (k === 0 || q <= out[o + k - 1]!)) continue;
    let i = filled < k ? filled++ : k - 1;
    while (i > 0 && out[o + i - 1]! < q) {
      out[o + i] = out[o + i - 1]!;
      ids[o + i] = ids[o + i - 1]!;
      i--;
    }
    out[o + i] = q;
    ids[o + i] = v;
  }
}

/**
 * How far gradient reaches back over a window whose ids, targets and starting state (b streams, K
 * positions) the caller has set, without changing the parameters' gradients (kept in `stash` meanwhile):
 * fromLast[layer][k] is ||dL_(K-1) / dh_(K-1-k)|| for the loss at the last position alone, perStep[layer][t]
 * ||dL / dh_t|| for the loss summed over the window; losses averaged over the streams.
 */
export function probeGradientFlow(
  model: Model,
  net: Unrolled,
  state: Floats,
  b: number,
  K: number,
  stash: Floats,
  at: { step: number; start: number },
): GradientFlow {
  let o = 0;
  for (const p of model.params) {
    stash.set(p.grad, o);
    o += p.grad.length;
  }
  const layers = net.layers.length;
  const fromLastByStep = Array.from({ length: layers }, () => new Float32Array(K));
  const perStep = Array.from({ length: layers }, () => new Float32Array(K));
  net.setState(state, b, K);
  net.forward(b, K);
  net.decode(b, K, K - 1);
  net.loss(b, K, K - 1);
  model.zeroGrads();
  net.backward(b, K, K - 1, 1 / b);
  hiddenGradientNorms(net, b, K, fromLastByStep);
  const fromLast = fromLastByStep.map((row) => row.reverse()); // index k: position K-1-k
  // Backward consumed the activations (cell.ts): run the window again for the second measurement.
  net.setState(state, b, K);
  net.forward(b, K);
  net.decode(b, K, 0);
  net.loss(b, K, 0);
  net.backward(b, K, 0, 1 / b);
  hiddenGradientNorms(net, b, K, perStep);
  o = 0;
  for (const p of model.params) {
    p.grad.set(stash.subarray(o, o + p.grad.length));
    o += p.grad.length;
  }
  return { step: at.step, window: K, fromLast, perStep, start: at.start };
}

/**
 * After a backward pass of the window (b streams, t positions): into out[layer][p], the norm of
 * dL/dh_p over all streams (and both directions of a bidirectional layer).
 */
export function hiddenGradientNorms(net: Unrolled, b: number, t: number, out: Float32Array[]): void {
  net.layers.forEach((layer, l) => {
    const row = out[l]!;
    for (let p = 0; p < t; p++) {
      let s = 0;
      for (const cell of layer.cells) s += sumSquares(cell.dh, p * b * cell.hidden, b * cell.hidden);
      row[p] = Math.sqrt(s);
    }
  });
}

export function tensorNorms(params: readonly Param[]): TensorNorms[] {
  return params.map((p) => ({
    name: p.name,
    paramNorm: Math.sqrt(sumSquares(p.data, 0, p.data.length)),
    gradNorm: Math.sqrt(sumSquares(p.grad, 0, p.grad.length)),
  }));
}
