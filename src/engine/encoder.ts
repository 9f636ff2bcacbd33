// The encoder of the classify task (and of any task that reads a whole input first): (embedding) ->
// 1-4 recurrent layers, each one cell or, bidirectional, a forward and a reverse cell, run over a
// batch of examples of different lengths, with the pooled state of each example out:
//   last: [h_fwd after the example's last token, h_rev after its first token] (PyTorch's h_n of the
//         top layer, both directions concatenated, as pack_padded_sequence gives it)
//   mean: the mean of the top layer's outputs over the example's tokens.
// or, for the translate task's decoder (states: true), every layer's final states (h, and the LSTM's c),
// both directions concatenated per layer, in `finalStates`; their gradient enters each cell at the
// position where its example ends (dh, and the LSTM's dcFrom).
//
// Padding without masks. An example of length L in a window of t positions is laid out left-aligned
// (positions 0..L-1) for forward cells: their real positions read only earlier ones, so whatever the
// cell computes on the padding after L never reaches them, and no gradient is injected there, so the
// padding's backward is exactly zero. A reverse cell reads the same example right-aligned (positions
// t-L..t-1): it starts at the example's last token from the zero state, as PyTorch's packed reverse
// direction does, and its padding comes after the example's first token in its order. Between stacked
// bidirectional layers the concatenated outputs are written in both alignments; gradients are gathered
// back the same way. The result equals running each example alone, which the tests check.
//
// Buffers: ids, idsRight [T, B]; per layer below the top (bidirectional) outL, outR, dxL, dxR
// [T, B, 2H]; features, dFeatures [B, F] with F = H * directions; with states, finalStates and
// dFinalStates [layer, state, b, F] (packed for the batch's b, as Unrolled.setState reads a state).
import type { Arena } from './arena.js';
import type { Cell, CellParams } from './cell.js';
import type { ModelConfig } from './config.js';
import { Embedding } from './embedding.js';
import type { Floats } from './floats.js';
import { LstmCell } from './lstm.js';
import { makeCell, type ParamLookup } from './unroll.js';

export class Encoder {
  readonly config: ModelConfig;
  readonly maxBatch: number;
  readonly maxSteps: number;
  /** Features per example: H, or 2H when bidirectional. */
  readonly width: number;
  /** [T, B] token ids, example r's tokens at positions 0..lengths[r]-1 of column r; filled by the caller. */
  readonly ids: Int32Array;
  /** [B] tokens of each example, filled by the caller (0 is allowed: its features are the zero state's). */
  readonly lengths: Int32Array;
  /** [B, F] the pooled states after forward(). */
  readonly features: Floats;
  /** [B, F] dL/dfeatures, filled by the caller before backward(). */
  readonly dFeatures: Floats;
  readonly fwd: readonly Cell[];
  /** Empty unless bidirectional. */
  readonly rev: readonly Cell[];
  private readonly idsRight: Int32Array | null;
  private readonly embedL: Embedding | null;
  private readonly embedR: Embedding | null;
  private readonly outL: Floats[] = [];
  private readonly outR: Floats[] = [];
  private readonly dxL: Floats[] = [];
  private readonly dxR: Floats[] = [];
  private readonly mean: boolean;
  /** States per cell: 1 (h) or 2 (h, c). */
  readonly stateCount: number;
  /** With states: [layer, state, b, F] every layer's final states after forward(); else empty. */
  readonly finalStates: Floats;
  /** With states: dL/dfinalStates, filled by the caller before backward(). */
  readonly dFinalStates: Floats;
  private readonly states: boolean;

  /**
   * `prefix` names the parameters: `${prefix}rnn.weight_ih_l0`, `${prefix}embedding.weight`. With
   * `states`, forward() leaves every layer's final states in finalStates instead of pooling features.
   */
  constructor(model: ParamLookup, maxBatch: number, maxSteps: number, prefix = '', states = false) {
    const cfg = model.config;
    const arena: Arena = model.arena;
    this.config = cfg;
    this.maxBatch = maxBatch;
    this.maxSteps = maxSteps;
    this.mean = cfg.pooling === 'mean';
    const H = cfg.hidden;
    const D = cfg.bidirectional ? 2 : 1;
    this.width = H * D;
    this.ids = arena.ints(maxSteps * maxBatch);
    this.idsRight = D === 2 ? arena.ints(maxSteps * maxBatch) : null;
    this.lengths = arena.ints(maxBatch); // in the arena, so a training thread's replica shares it
    this.states = states;
    this.stateCount = cfg.cell === 'lstm' ? 2 : 1;
    this.features = arena.floats(states ? 0 : maxBatch * this.width);
    this.dFeatures = arena.floats(states ? 0 : maxBatch * this.width);
    const stateFloats = states ? cfg.layers * this.stateCount * maxBatch * this.width : 0;
    this.finalStates = arena.floats(stateFloats);
    this.dFinalStates = arena.floats(stateFloats);
    const embedding = cfg.embedding > 0 ? model.param(`${prefix}embedding.weight`) : null;
    this.embedL = embedding !== null ? new Embedding(arena, embedding, maxBatch, maxSteps) : null;
    this.embedR = embedding !== null && D === 2 ? new Embedding(arena, embedding, maxBatch, maxSteps) : null;
    const fwd: Cell[] = [];
    const rev: Cell[] = [];
    for (let k = 0; k < cfg.layers; k++) {
      const inputSize = k === 0 ? cfg.embedding || cfg.vocabSize : H * D;
      for (const suffix of D === 2 ? ['', '_reverse'] : ['']) {
        const params: CellParams = {
          weightIh: model.param(`${prefix}rnn.weight_ih_l${k}${suffix}`),
          weightHh: model.param(`${prefix}rnn.weight_hh_l${k}${suffix}`),
          biasIh: model.param(`${prefix}rnn.bias_ih_l${k}${suffix}`),
          biasHh: model.param(`${prefix}rnn.bias_hh_l${k}${suffix}`),
        };
        const shape = { hidden: H, inputSize, oneHot: k === 0 && cfg.embedding === 0, reverse: suffix !== '', maxBatch, maxSteps };
        const cell = makeCell(cfg, arena, params, shape);
        if (states && cell instanceof LstmCell) cell.dcFrom = arena.floats(maxSteps * maxBatch * H);
        (suffix === '' ? fwd : rev).push(cell);
      }
      if (D === 2 && k + 1 < cfg.layers) {
        const n = maxSteps * maxBatch * 2 * H;
        this.outL.push(arena.floats(n));
        this.outR.push(arena.floats(n));
        this.dxL.push(arena.floats(n));
        this.dxR.push(arena.floats(n));
      }
    }
    this.fwd = fwd;
    this.rev = rev;
  }

  /** Longest example of the batch: the window the cells run over. */
  private window(b: number): number {
    let t = 0;
    for (let r = 0; r < b; r++) t = Math.max(t, this.lengths[r]!);
    return t;
  }

  /** Runs the b examples of ids/lengths from the zero state and pools them into `features`. */
  forward(b: number): void {
    const t = this.window(b);
    const H = this.config.hidden;
    const { fwd, rev, lengths } = this;
    const bidi = rev.length > 0;
    if (bidi) {
      // The reverse cells' copy of the ids, right-aligned; the padding before an example is token 0.
      const right = this.idsRight!;
      right.fill(0, 0, t * b);
      for (let r = 0; r < b; r++) {
        const s = t - lengths[r]!;
        for (let p = 0; p < lengths[r]!; p++) right[(p + s) * b + r] = this.ids[p * b + r]!;
      }
    }
    for (const cell of fwd) for (let k = 0; k < cell.stateCount; k++) cell.clearState(k, b, t);
    for (const cell of rev) for (let k = 0; k < cell.stateCount; k++) cell.clearState(k, b, t);
    if (t === 0) {
      if (this.states) this.finalStates.fill(0, 0, this.finalStates.length);
      else this.features.fill(0, 0, b * this.width);
      return;
    }
    let xL: Floats | null = null;
    let xR: Floats | null = null;
    let x0 = 0;
    if (this.embedL !== null) {
      this.embedL.forward(this.ids, t * b);
      xL = this.embedL.out;
      if (this.embedR !== null) {
        this.embedR.forward(this.idsRight!, t * b);
        xR = this.embedR.out;
      }
    }
    for (let k = 0; k < fwd.length; k++) {
      fwd[k]!.forward(xL, x0, xL === null ? this.ids : null, b, t);
      if (bidi) rev[k]!.forward(xR, 0, xR === null ? this.idsRight : null, b, t);
      if (k + 1 === fwd.length) break;
      if (bidi) {
        this.interleave(k, b, t);
        xL = this.outL[k]!;
        xR = this.outR[k]!;
        x0 = 0;
      } else {
        xL = fwd[k]!.h;
        x0 = fwd[k]!.outputOffset(b);
      }
    }
    if (this.states) this.gatherStates(b, t);
    else this.pool(b, t, H);
  }

  /** Where example r's final state is in a cell's slots: after its last token (forward), its first (reverse). */
  private finalSlot(cell: Cell, r: number, t: number): number {
    return cell.reverse ? t - this.lengths[r]! : this.lengths[r]!;
  }

  /** finalStates[k, state, r] = [forward cell's final state, reverse cell's] of layer k. */
  private gatherStates(b: number, t: number): void {
    const H = this.config.hidden;
    const F = this.width;
    const S = this.stateCount;
    const out = this.finalStates;
    for (let k = 0; k < this.fwd.length; k++) {
      const cells = this.rev.length > 0 ? [this.fwd[k]!, this.rev[k]!] : [this.fwd[k]!];
      for (let d = 0; d < cells.length; d++) {
        const cell = cells[d]!;
        for (let st = 0; st < S; st++) {
          const buf = st === 0 ? cell.h : (cell as LstmCell).c;
          for (let r = 0; r < b; r++) {
            const from = (this.finalSlot(cell, r, t) * b + r) * H;
            const to = ((k * S + st) * b + r) * F + d * H;
            for (let j = 0; j < H; j++) out[to + j] = buf[from + j]!;
          }
        }
      }
    }
  }

  /**
   * Adds dFinalStates of layer k into its cells where each example ends: dh of the position whose
   * output the final state is, and the LSTM's dcFrom (zero elsewhere). Examples without tokens start
   * and end in the zero state, which takes no gradient.
   */
  private injectStates(k: number, b: number, t: number): void {
    const H = this.config.hidden;
    const F = this.width;
    const S = this.stateCount;
    const dIn = this.dFinalStates;
    const cells = this.rev.length > 0 ? [this.fwd[k]!, this.rev[k]!] : [this.fwd[k]!];
    for (let d = 0; d < cells.length; d++) {
      const cell = cells[d]!;
      const dc = cell instanceof LstmCell ? cell.dcFrom! : null;
      dc?.fill(0, 0, t * b * H);
      for (let r = 0; r < b; r++) {
        const L = this.lengths[r]!;
        if (L === 0) continue;
        const p = cell.reverse ? t - L : L - 1;
        const at = (p * b + r) * H;
        const h = ((k * S + 0) * b + r) * F + d * H;
        for (let j = 0; j < H; j++) cell.dh[at + j] += dIn[h + j]!;
        if (dc !== null) {
          const c = ((k * S + 1) * b + r) * F + d * H;
          for (let j = 0; j < H; j++) dc[at + j] = dIn[c + j]!;
        }
      }
    }
  }

  /** Layer k's outputs [h_fwd_p, h_rev_p] for each real token p, in both alignments; zero on the padding. */
  private interleave(k: number, b: number, t: number): void {
    const H = this.config.hidden;
    const f = this.fwd[k]!.h;
    const v = this.rev[k]!.h;
    const outL = this.outL[k]!;
    const outR = this.outR[k]!;
    outL.fill(0, 0, t * b * 2 * H);
    outR.fill(0, 0, t * b * 2 * H);
    for (let r = 0; r < b; r++) {
      const L = this.lengths[r]!;
      const s = t - L;
      for (let p = 0; p < L; p++) {
        const q = p + s;
        const l = (p * b + r) * 2 * H;
        const g = (q * b + r) * 2 * H;
        const fo = ((p + 1) * b + r) * H; // forward output of position p: slot p + 1
        const ro = (q * b + r) * H; // reverse output of position q: slot q
        for (let j = 0; j < H; j++) {
          outL[l + j] = outR[g + j] = f[fo + j]!;
          outL[l + H + j] = outR[g + H + j] = v[ro + j]!;
        }
      }
    }
  }

  private pool(b: number, t: number, H: number): void {
    const { features, lengths, width: F } = this;
    const f = this.fwd[this.fwd.length - 1]!.h;
    const v = this.rev.length > 0 ? this.rev[this.rev.length - 1]!.h : null;
    for (let r = 0; r < b; r++) {
      const L = lengths[r]!;
      const s = t - L;
      const o = r * F;
      if (!this.mean) {
        // Slot L of the forward cell is its state after position L-1 (slot 0, the zero state, for L = 0);
        // slot s of the reverse cell is its state after position s, the example's first token.
        for (let j = 0; j < H; j++) features[o + j] = f[(L * b + r) * H + j]!;
        if (v !== null) for (let j = 0; j < H; j++) features[o + H + j] = v[(s * b + r) * H + j]!;
        continue;
      }
      features.fill(0, o, o + F);
      if (L === 0) continue;
      for (let p = 0; p < L; p++) {
        for (let j = 0; j < H; j++) features[o + j] += f[((p + 1) * b + r) * H + j]!;
        if (v !== null) for (let j = 0; j < H; j++) features[o + H + j] += v[((p + s) * b + r) * H + j]!;
      }
      for (let j = 0; j < F; j++) features[o + j] /= L;
    }
  }

  /** From dFeatures, backpropagates through the last forward(), adding into every parameter's grad. */
  backward(b: number): void {
    const t = this.window(b);
    if (t === 0) return;
    const H = this.config.hidden;
    const { fwd, rev, lengths, dFeatures, width: F } = this;
    const bidi = rev.length > 0;
    const top = fwd.length - 1;
    const df = fwd[top]!.dh;
    const dv = bidi ? rev[top]!.dh : null;
    df.fill(0, 0, t * b * H);
    dv?.fill(0, 0, t * b * H);
    for (let r = 0; r < b && !this.states; r++) {
      const L = lengths[r]!;
      if (L === 0) continue;
      const s = t - L;
      const o = r * F;
      if (!this.mean) {
        for (let j = 0; j < H; j++) df[((L - 1) * b + r) * H + j] = dFeatures[o + j]!;
        if (dv !== null) for (let j = 0; j < H; j++) dv[(s * b + r) * H + j] = dFeatures[o + H + j]!;
        continue;
      }
      for (let p = 0; p < L; p++) {
        for (let j = 0; j < H; j++) df[(p * b + r) * H + j] = dFeatures[o + j]! / L;
        if (dv !== null) for (let j = 0; j < H; j++) dv[((p + s) * b + r) * H + j] = dFeatures[o + H + j]! / L;
      }
    }
    for (let k = top; k >= 0; k--) {
      // The layer's dh holds what comes from above (zero for the top); its final states' gradient adds to it.
      if (this.states) this.injectStates(k, b, t);
      if (!bidi) {
        const dx = k > 0 ? fwd[k - 1]!.dh : (this.embedL?.dOut ?? null);
        fwd[k]!.backward(dx, 0, false, b, t);
        continue;
      }
      fwd[k]!.backward(k > 0 ? this.dxL[k - 1]! : (this.embedL?.dOut ?? null), 0, false, b, t);
      rev[k]!.backward(k > 0 ? this.dxR[k - 1]! : (this.embedR?.dOut ?? null), 0, false, b, t);
      if (k > 0) this.gatherGradient(k - 1, b, t);
    }
    this.embedL?.backward(t * b);
    this.embedR?.backward(t * b);
  }

  /** dL/d(layer k's outputs) from both alignments, into its cells' dh; zero on the padding. */
  private gatherGradient(k: number, b: number, t: number): void {
    const H = this.config.hidden;
    const df = this.fwd[k]!.dh;
    const dv = this.rev[k]!.dh;
    const dxL = this.dxL[k]!;
    const dxR = this.dxR[k]!;
    df.fill(0, 0, t * b * H);
    dv.fill(0, 0, t * b * H);
    for (let r = 0; r < b; r++) {
      const L = this.lengths[r]!;
      const s = t - L;
      for (let p = 0; p < L; p++) {
        const q = p + s;
        const l = (p * b + r) * 2 * H;
        const g = (q * b + r) * 2 * H;
        for (let j = 0; j < H; j++) {
          df[(p * b + r) * H + j] = dxL[l + j]! + dxR[g + j]!;
          dv[(q * b + r) * H + j] = dxL[l + H + j]! + dxR[g + H + j]!;
        }
      }
    }
  }
}
