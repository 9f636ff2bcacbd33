// A synthetic session for the dashboard's unit tests of edge cases (sizes, layers, live events at any
// step) that a recording cannot vary; the browser test and the README's screenshots use the real
// recording in test/fixtures/sessions/ instead. An RNN run and an LSTM run on the same text, shaped as
// textbooks draw them, which real training on sotu.txt does not (see the README's Dashboard section):
// the RNN's loss falls more slowly and its gradient shrinks by ~0.6 per step back in time; the LSTM's
// shrinks by ~0.95 through its cell state, and its forget gate sits mostly open. Deterministic (seeded).
import { Rng } from '../../../src/engine/rng.js';
import { DEFAULT_TRAIN, type CellKind } from '../../../src/engine/config.js';
import type { GateName, GateProbe, GradientFlow, StepMetrics, ValidationMetrics } from '../../../src/engine/measurements.js';
import {
  PROTOCOL_VERSION,
  type RunDescription,
  type RunHistory,
  type ToWebview,
  type WorkerEvent,
} from '../../../src/protocol/messages.js';

export const PROBE_TEXT = 'Mr. Speaker, Mr. Vice President, Members of Congress';
const UNIGRAM_BITS = 4.42;
const VOCAB = 84;

interface Shape {
  floorBits: number;
  tau: number;
  rho: number;
  spikes: number;
}
const SHAPES: Record<CellKind, Shape> = {
  rnn: { floorBits: 2.05, tau: 520, rho: 0.6, spikes: 0.03 },
  lstm: { floorBits: 1.62, tau: 300, rho: 0.95, spikes: 0.005 },
  gru: { floorBits: 1.7, tau: 330, rho: 0.9, spikes: 0.008 },
};

function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

export function describe(cell: CellKind, hidden: number, layers: number): RunDescription {
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const tensors: Array<{ name: string; shape: number[] }> = [];
  for (let l = 0; l < layers; l++) {
    const inSize = l === 0 ? VOCAB : hidden;
    tensors.push(
      { name: `rnn.weight_ih_l${l}`, shape: [G * hidden, inSize] },
      { name: `rnn.weight_hh_l${l}`, shape: [G * hidden, hidden] },
      { name: `rnn.bias_ih_l${l}`, shape: [G * hidden] },
      { name: `rnn.bias_hh_l${l}`, shape: [G * hidden] },
    );
  }
  tensors.push({ name: 'decoder.weight', shape: [VOCAB, hidden] }, { name: 'decoder.bias', shape: [VOCAB] });
  const parameterCount = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  return {
    model: { task: 'lm', cell, hidden, layers, embedding: 0, bidirectional: false, vocabSize: VOCAB },
    train: { ...DEFAULT_TRAIN, batch: 16, k1: 64, k2: 64, evalEvery: 100 },
    tokenizer: 'char',
    vocabSize: VOCAB,
    parameterCount,
    tensors,
    trainTokens: 900_000,
    validationTokens: 100_000,
    unigramBits: UNIGRAM_BITS,
  };
}

export function metrics(cell: CellKind, from: number, to: number, seed = 7): StepMetrics[] {
  const s = SHAPES[cell];
  const rng = new Rng(seed + from);
  const out: StepMetrics[] = [];
  const tokensPerStep = 16 * 64;
  const msPerStep = cell === 'rnn' ? 9 : 21;
  for (let step = from; step <= to; step++) {
    const bits = s.floorBits + (UNIGRAM_BITS + 0.3 - s.floorBits) * Math.exp(-step / s.tau) + 0.06 * gaussian(rng);
    const spike = rng.next() < s.spikes;
    const gradNorm = Math.exp(0.3 + 0.25 * gaussian(rng)) * (spike ? 4 + 6 * rng.next() : 1);
    const lr = DEFAULT_TRAIN.lr * Math.min(1, step / 50);
    out.push({
      step,
      tokens: step * tokensPerStep,
      lossNats: bits * Math.LN2,
      bitsPerToken: bits,
      lr,
      gradNorm,
      clipped: gradNorm > DEFAULT_TRAIN.clipNorm,
      elapsedMs: step * msPerStep,
      tokensPerSecond: tokensPerStep / (msPerStep / 1000),
    });
  }
  return out;
}

export function validation(cell: CellKind, upTo: number): ValidationMetrics[] {
  const s = SHAPES[cell];
  const out: ValidationMetrics[] = [];
  for (let step = 100; step <= upTo; step += 100) {
    const bits = s.floorBits + 0.08 + (UNIGRAM_BITS + 0.3 - s.floorBits) * Math.exp(-step / s.tau);
    out.push({ step, lossNats: bits * Math.LN2, bitsPerToken: bits, tokens: 100_000 });
  }
  return out;
}

export function gradientFlow(cell: CellKind, layers: number, step: number, window = 64, seed = 3): GradientFlow {
  const rng = new Rng(seed + step);
  const rho = SHAPES[cell].rho;
  const fromLast: Float32Array[] = [];
  const perStep: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const f = new Float32Array(window);
    const p = new Float32Array(window);
    const scale = 0.8 / (l + 1);
    for (let k = 0; k < window; k++) f[k] = scale * Math.pow(rho * (1 - 0.03 * l), k) * Math.exp(0.15 * gaussian(rng));
    // For the summed loss, dL/dh_t collects every later step's loss: sum over j of rho^j, j < window - t.
    for (let t = 0; t < window; t++) p[t] = scale * ((1 - Math.pow(rho, window - t)) / (1 - rho)) * Math.exp(0.1 * gaussian(rng));
    fromLast.push(f);
    perStep.push(p);
  }
  return { step, window, fromLast, perStep, start: 4096 };
}

export function gates(cell: CellKind, layers: number, hidden: number, text = PROBE_TEXT, seed = 11): GateProbe {
  const rng = new Rng(seed);
  const tokens = [...text];
  const T = tokens.length;
  const names: GateName[] = cell === 'lstm' ? ['i', 'f', 'g', 'o', 'c', 'h'] : cell === 'gru' ? ['r', 'z', 'n', 'h'] : ['h'];
  const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
  const probe: GateProbe = { tokens, hidden, layers: [] };
  for (let l = 0; l < layers; l++) {
    // Each unit has a bias and a response to spaces and capitals, so rows differ and columns follow the text.
    const unitBias = Array.from({ length: hidden }, () => gaussian(rng));
    const unitSpace = Array.from({ length: hidden }, () => 2 * gaussian(rng));
    const pre = (bias: number): Float32Array => {
      const d = new Float32Array(T * hidden);
      for (let t = 0; t < T; t++) {
        const ch = tokens[t]!;
        const isSpace = ch === ' ' ? 1 : 0;
        const isUpper = ch !== ch.toLowerCase() ? 1 : 0;
        for (let u = 0; u < hidden; u++)
          d[t * hidden + u] = bias + 1.5 * unitBias[u]! + unitSpace[u]! * isSpace + 1.2 * isUpper * ((u % 3) - 1) + 0.6 * gaussian(rng);
      }
      return d;
    };
    const map = (d: Float32Array, f: (x: number) => number): Float32Array => d.map(f);
    const gs: Array<{ name: GateName; data: Float32Array }> = [];
    const byName: Partial<Record<GateName, Float32Array>> = {};
    for (const name of names) {
      let data: Float32Array;
      if (name === 'f')
        data = map(pre(3.2), sigmoid); // forget gate mostly open: memory kept
      else if (name === 'i' || name === 'o' || name === 'r') data = map(pre(-0.5), sigmoid);
      else if (name === 'z') data = map(pre(1.5), sigmoid);
      else if (name === 'g' || name === 'n') data = map(pre(0), Math.tanh);
      else if (name === 'c') {
        // c_t = f_t * c_{t-1} + i_t * g_t
        const f = byName.f!,
          i = byName.i!,
          g = byName.g!;
        data = new Float32Array(T * hidden);
        for (let t = 0; t < T; t++)
          for (let u = 0; u < hidden; u++) {
            const prev = t > 0 ? data[(t - 1) * hidden + u]! : 0;
            data[t * hidden + u] = f[t * hidden + u]! * prev + i[t * hidden + u]! * g[t * hidden + u]!;
          }
      } else data = map(pre(0), (x) => Math.tanh(1.4 * x));
      byName[name] = data;
      gs.push({ name, data });
    }
    probe.layers.push({ layer: l, direction: 'forward', gates: gs });
  }
  return probe;
}

const SAMPLE_TEXTS = [
  'the the peeple of the Unitest and the congres tha',
  'We will contine to stand with our allies and the american people.',
  'And so tonight I ask the Congress to join me in making this the year of action.',
];

export function history(runId: string, cell: CellKind, steps: number, state: RunHistory['state'], layers = 2, hidden = 32): RunHistory {
  const samples = [500, 1000, 1500]
    .filter((s) => s <= steps)
    .map((step, i) => ({ step, temperature: 0.8, prime: 'The ', text: SAMPLE_TEXTS[i]! }));
  return {
    runId,
    label: `${cell} on sotu.txt`,
    file: 'sotu.txt',
    run: describe(cell, hidden, layers),
    metrics: metrics(cell, 1, steps),
    validation: validation(cell, steps),
    clips: [],
    samples,
    gradientFlow: gradientFlow(cell, layers, steps),
    gates: gates(cell, layers, hidden),
    state,
  };
}

/**
 * The session the browser test replays: the dashboard of an LSTM run opened late (history up to
 * step `openedAt`), with an earlier RNN run on the same file, then `liveSteps` more steps as events.
 */
export function session(openedAt = 1200, liveSteps = 300): ToWebview[] {
  const v = PROTOCOL_VERSION;
  const current = history('lstm-1', 'lstm', openedAt, 'running');
  const others = [history('rnn-1', 'rnn', 2000, 'finished'), history('gru-1', 'gru', 1600, 'finished')];
  const out: ToWebview[] = [{ v, type: 'history', current, others }];
  const ev = (event: WorkerEvent): ToWebview => ({ v, type: 'event', runId: 'lstm-1', event });
  for (let s = openedAt + 1; s <= openedAt + liveSteps; s += 50) {
    out.push(ev({ v, type: 'metrics', metrics: metrics('lstm', s, Math.min(s + 49, openedAt + liveSteps)) }));
    if ((s + 49) % 100 === 0) out.push(ev({ v, type: 'validation', metrics: validation('lstm', s + 49).at(-1)! }));
  }
  out.push(ev({ v, type: 'gradientFlow', flow: gradientFlow('lstm', 2, openedAt + liveSteps) }));
  out.push(ev({ v, type: 'sample', step: openedAt + liveSteps, temperature: 0.8, prime: 'The ', text: SAMPLE_TEXTS[2]! }));
  return out;
}

/** JSON cannot hold typed arrays or NaN: typed arrays become arrays, NaN and infinities strings. */
export function toJson(x: unknown): string {
  return JSON.stringify(x, (_k, val: unknown) => {
    if (ArrayBuffer.isView(val) && !(val instanceof DataView))
      return Array.from(val as unknown as ArrayLike<number>, (n) => (Number.isFinite(n) ? n : String(n)));
    if (typeof val === 'number' && !Number.isFinite(val)) return String(val);
    return val;
  });
}
