// Whether a gated cell holds the key across the gap the way the theory says it does (Hochreiter &
// Schmidhuber 1997; Gers, Schmidhuber & Cummins 2000): a unit whose keeping gate stays open from the key
// to the mark, the LSTM's forget gate f (c_p = f c_(p-1) + i g) or the GRU's update gate z
// (h_p = (1 - z) n + z h_(p-1)), and whose state at the mark still tells the keys apart. Measured on
// held-out recall lines read from a zero state:
//   keep_j     = the mean over lines of the product of unit j's keeping gate over the steps from the key
//                to the mark: the share of its state at the key that survives to the recall;
//   selective_j = the share of the variance of unit j's state at the mark (c for the LSTM, h for the
//                GRU) that lies between the keys' means (eta squared): 1 when the state names the key.
// A unit holds the key when keep_j >= HOLD_KEEP and selective_j >= HOLD_SELECTIVE.
import type { Model } from '../model.js';
import type { Tokenizer } from '../tokenizer.js';
import type { LstmCell } from '../lstm.js';
import { recallPosition } from './recallData.js';

export const HOLD_KEEP = 0.5;
export const HOLD_SELECTIVE = 0.5;
const MAX_LINES = 128;

export interface GateHolding {
  /** 'f' for the LSTM, 'z' for the GRU. */
  gate: 'f' | 'z';
  /** The state the selectivity is read from. */
  state: 'c' | 'h';
  hidden: number;
  lines: number;
  /** Per unit (first layer). */
  keep: number[];
  selective: number[];
  /** Units that hold the key, most selective first. */
  holding: number[];
  /** The mean keeping gate over the gap: of the holding units, and of all units. */
  meanGateHolding: number;
  meanGateAll: number;
}

/** Null for the vanilla RNN, which has no gate to hold with. */
export function measureGateHolding(model: Model, tokenizer: Tokenizer, gap: number, lines: readonly string[]): GateHolding | null {
  const cell = model.config.cell;
  if (cell === 'rnn' || lines.length === 0) return null;
  const H = model.config.hidden;
  const r = recallPosition(gap);
  const t = r + 1;
  const n = Math.min(MAX_LINES, lines.length);
  const net = model.unroll(n, t);
  const keys = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    const ids = tokenizer.encode(lines[j]!);
    keys[j] = ids[0]!;
    for (let s = 0; s < t; s++) net.ids[s * n + j] = ids[s]!;
  }
  net.setState(null, n, t);
  net.forward(n, t);
  const c = net.layers[0]!.cells[0]!;
  const G = c.gates * H;
  // Keeping gate of unit u after reading position p, line j: act[(p*n + j)*G + H + u] (f in i f g o, z in r z n).
  const keep = new Array<number>(H).fill(0);
  for (let j = 0; j < n; j++) {
    for (let u = 0; u < H; u++) {
      let prod = 1;
      for (let p = 1; p <= r; p++) prod *= c.act[(p * n + j) * G + H + u]!;
      keep[u] = keep[u]! + prod / n;
    }
  }
  const states = cell === 'lstm' ? (c as LstmCell).c : c.h;
  const at = c.outSlot(r) * n * H;
  const selective = new Array<number>(H).fill(0);
  const byKey = new Map<number, number[]>();
  keys.forEach((k, j) => byKey.set(k, [...(byKey.get(k) ?? []), j]));
  for (let u = 0; u < H; u++) {
    let mean = 0;
    for (let j = 0; j < n; j++) mean += states[at + j * H + u]! / n;
    let total = 0;
    for (let j = 0; j < n; j++) total += (states[at + j * H + u]! - mean) ** 2;
    let between = 0;
    for (const members of byKey.values()) {
      let m = 0;
      for (const j of members) m += states[at + j * H + u]! / members.length;
      between += members.length * (m - mean) ** 2;
    }
    selective[u] = total > 1e-12 ? between / total : 0;
  }
  const holding = [...Array(H).keys()]
    .filter((u) => keep[u]! >= HOLD_KEEP && selective[u]! >= HOLD_SELECTIVE)
    .sort((a, b) => selective[b]! - selective[a]!);
  const meanGate = (units: number[]): number => {
    if (units.length === 0) return NaN;
    let s = 0;
    for (let j = 0; j < n; j++) for (const u of units) for (let p = 1; p <= r; p++) s += c.act[(p * n + j) * G + H + u]!;
    return s / (n * units.length * r);
  };
  return {
    gate: cell === 'lstm' ? 'f' : 'z',
    state: cell === 'lstm' ? 'c' : 'h',
    hidden: H,
    lines: n,
    keep,
    selective,
    holding,
    meanGateHolding: meanGate(holding),
    meanGateAll: meanGate([...Array(H).keys()]),
  };
}
