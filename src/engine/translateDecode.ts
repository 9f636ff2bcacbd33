// A translate model writing its outputs: the encoder reads a batch of sources, and the decoder, started
// from its final states, writes one token per step for every example at once until each has written
// the end token or the length limit (config.maxOutput tokens, the end token included) is reached.
//   greedy (beam 1): each step takes the most probable token.
//   beam K >= 2: each example keeps the K most probable unfinished outputs (log-probabilities summed);
//     at every step each of them also proposes itself ended, and the most probable ended output so far
//     is the answer once no unfinished one is more probable (a longer output can only lose
//     probability), or when the limit is reached (then, with none ended, the most probable unfinished).
//     No length normalisation: the answer is the most probable output the beam found.
// Buffers are made once for maxBatch examples (maxBatch * K decoder rows); decoding is not a training
// step, so its per-call bookkeeping (the outputs, the backpointers) is allocated per call.
import type { Floats } from './floats.js';
import { Encoder } from './encoder.js';
import { decoderConfig, subModel } from './translator.js';
import { Unrolled, type ParamLookup } from './unroll.js';

export class TranslationDecoder {
  readonly maxBatch: number;
  readonly maxSource: number;
  readonly beam: number;
  readonly limit: number;
  private readonly encoder: Encoder;
  private readonly step: Unrolled;
  /** [layer, state, rows, F] the decoder's state between steps, and the rows reordered after a beam step. */
  private readonly state: Floats;
  private readonly reordered: Floats;
  private readonly blocks: number;
  private readonly width: number;

  constructor(
    model: ParamLookup,
    opts: { maxBatch: number; maxSource: number; beam: number },
    private readonly endToken: number,
  ) {
    const cfg = model.config;
    if (cfg.task !== 'translate') throw new Error(`translation decoder: task ${cfg.task} is not translate`);
    if (!Number.isInteger(opts.beam) || opts.beam < 1)
      throw new RangeError(`the beam must be a whole number of at least 1, got ${opts.beam}`);
    this.maxBatch = opts.maxBatch;
    this.maxSource = Math.max(1, opts.maxSource);
    this.beam = opts.beam;
    this.limit = cfg.maxOutput!;
    this.encoder = new Encoder(model, this.maxBatch, this.maxSource, 'encoder.', true);
    const dec = decoderConfig(cfg);
    const rows = this.maxBatch * this.beam;
    this.step = new Unrolled(subModel(model, 'decoder.', dec), rows, 1);
    this.width = dec.hidden;
    this.blocks = dec.layers * this.step.stateCount;
    this.state = model.arena.floats(this.blocks * rows * this.width);
    this.reordered = model.arena.floats(this.beam > 1 ? this.blocks * rows * this.width : 0);
  }

  /** The outputs (token ids, without the end token) for sources pick(0 .. b-1), b <= maxBatch. */
  decode(sources: readonly Int32Array[], pick: (i: number) => number, b: number): Int32Array[] {
    if (b > this.maxBatch) throw new Error(`translation decoder: ${b} sources exceed the batch of ${this.maxBatch}`);
    const enc = this.encoder;
    let t = 0;
    for (let r = 0; r < b; r++) t = Math.max(t, sources[pick(r)]!.length);
    if (t > this.maxSource) throw new Error(`translation decoder: a source of ${t} tokens exceeds the ${this.maxSource} it was sized for`);
    enc.ids.fill(0, 0, t * b);
    for (let r = 0; r < b; r++) {
      const src = sources[pick(r)]!;
      for (let p = 0; p < src.length; p++) enc.ids[p * b + r] = src[p]!;
      enc.lengths[r] = src.length;
    }
    enc.forward(b);
    return this.beam === 1 ? this.greedy(b) : this.beamSearch(b);
  }

  /** One decoder step over `rows` rows fed `tokens`, from and back into `state`; logits in step.logits. */
  private advance(tokens: Int32Array, rows: number): Floats {
    const s = this.step;
    for (let r = 0; r < rows; r++) s.ids[r] = tokens[r]!;
    s.setState(this.state, rows, 1);
    s.forward(rows, 1);
    s.getState(this.state, rows, 1, 1);
    s.decode(rows, 1, 0);
    return s.logits;
  }

  private greedy(b: number): Int32Array[] {
    const W = this.step.config.vocabSize;
    this.state.set(this.encoder.finalStates.subarray(0, this.blocks * b * this.width));
    const tokens = new Int32Array(b).fill(this.endToken);
    const outs: number[][] = Array.from({ length: b }, () => []);
    const done = new Uint8Array(b);
    let left = b;
    for (let s = 0; s < this.limit && left > 0; s++) {
      const z = this.advance(tokens, b);
      for (let r = 0; r < b; r++) {
        if (done[r]) continue;
        let y = 0;
        for (let v = 1; v < W; v++) if (z[r * W + v]! > z[r * W + y]!) y = v;
        if (y === this.endToken) {
          done[r] = 1;
          left--;
        } else outs[r]!.push(y);
        tokens[r] = y;
      }
    }
    return outs.map((o) => Int32Array.from(o));
  }

  private beamSearch(b: number): Int32Array[] {
    const K = this.beam;
    const W = this.step.config.vocabSize;
    const F = this.width;
    const rows = b * K;
    const end = this.endToken;
    // Every beam of an example starts from the example's final encoder states.
    const fin = this.encoder.finalStates;
    for (let blk = 0; blk < this.blocks; blk++) {
      for (let r = 0; r < b; r++) {
        const from = (blk * b + r) * F;
        for (let k = 0; k < K; k++) this.state.set(fin.subarray(from, from + F), (blk * rows + r * K + k) * F);
      }
    }
    const score = new Float64Array(rows).fill(-Infinity);
    for (let r = 0; r < b; r++) score[r * K] = 0; // one live beam at first: the others would repeat it
    const next = new Float64Array(rows);
    const tokens = new Int32Array(rows).fill(end);
    const parents = new Int32Array(this.limit * rows);
    const words = new Int32Array(this.limit * rows);
    const best = new Float64Array(b).fill(-Infinity);
    const bestStep = new Int32Array(b).fill(-1);
    const bestRow = new Int32Array(b);
    const done = new Uint8Array(b);
    const logp = new Float64Array(W);
    const candScore = new Float64Array(K);
    const candRow = new Int32Array(K);
    const candTok = new Int32Array(K);
    let left = b;
    let steps = 0;
    for (let s = 0; s < this.limit && left > 0; s++, steps++) {
      const z = this.advance(tokens, rows);
      for (let r = 0; r < b; r++) {
        if (done[r]) continue;
        candScore.fill(-Infinity);
        for (let k = 0; k < K; k++) {
          const q = r * K + k;
          if (score[q] === -Infinity) continue;
          logSoftmax(z, q * W, W, logp);
          // This output, ended here.
          const ended = score[q]! + logp[end]!;
          if (ended > best[r]!) {
            best[r] = ended;
            bestStep[r] = s;
            bestRow[r] = q;
          }
          // Its continuations, kept if among the K best unfinished ones.
          for (let v = 0; v < W; v++) {
            if (v === end) continue;
            const c = score[q]! + logp[v]!;
            if (c <= candScore[K - 1]!) continue;
            let i = K - 1;
            for (; i > 0 && candScore[i - 1]! < c; i--) {
              candScore[i] = candScore[i - 1]!;
              candRow[i] = candRow[i - 1]!;
              candTok[i] = candTok[i - 1]!;
            }
            candScore[i] = c;
            candRow[i] = q;
            candTok[i] = v;
          }
        }
        for (let k = 0; k < K; k++) {
          const q = r * K + k;
          next[q] = candScore[k]!;
          parents[s * rows + q] = candRow[k]!;
          words[s * rows + q] = candTok[k]!;
          tokens[q] = candTok[k]!;
        }
        if (best[r]! >= candScore[0]!) {
          done[r] = 1;
          left--;
        }
      }
      score.set(next);
      this.reorder(parents, s * rows, b, done);
    }
    const outs: Int32Array[] = [];
    for (let r = 0; r < b; r++) {
      if (bestStep[r]! >= 0) {
        outs.push(backtrack(parents, words, rows, bestStep[r]!, bestRow[r]!));
        continue;
      }
      // The limit came first with nothing ended: the most probable unfinished output.
      let q = r * K;
      for (let k = 1; k < K; k++) if (score[r * K + k]! > score[q]!) q = r * K + k;
      outs.push(backtrack(parents, words, rows, steps, q));
    }
    return outs;
  }

  /** Each row of a running example takes its parent's state: state[row] = state[parents[at + row]]. */
  private reorder(parents: Int32Array, at: number, b: number, done: Uint8Array): void {
    const K = this.beam;
    const F = this.width;
    const rows = b * K;
    const { state, reordered } = this;
    for (let blk = 0; blk < this.blocks; blk++) {
      for (let q = 0; q < rows; q++) {
        if (done[Math.floor(q / K)]) continue;
        const from = (blk * rows + parents[at + q]!) * F;
        const to = (blk * rows + q) * F;
        for (let j = 0; j < F; j++) reordered[to + j] = state[from + j]!;
      }
      for (let q = 0; q < rows; q++) {
        if (done[Math.floor(q / K)]) continue;
        const o = (blk * rows + q) * F;
        for (let j = 0; j < F; j++) state[o + j] = reordered[o + j]!;
      }
    }
  }
}

/** The tokens of the output held in `row` after `steps` steps: words back along the parents. */
function backtrack(parents: Int32Array, words: Int32Array, rows: number, steps: number, row: number): Int32Array {
  const out = new Int32Array(steps);
  let q = row;
  for (let s = steps - 1; s >= 0; s--) {
    out[s] = words[s * rows + q]!;
    q = parents[s * rows + q]!;
  }
  return out;
}

/** out[v] = ln softmax(z[o .. o + W))[v], in double. */
function logSoftmax(z: Floats, o: number, W: number, out: Float64Array): void {
  let max = -Infinity;
  for (let v = 0; v < W; v++) max = Math.max(max, z[o + v]!);
  let sum = 0;
  for (let v = 0; v < W; v++) sum += Math.exp(z[o + v]! - max);
  const lse = max + Math.log(sum);
  for (let v = 0; v < W; v++) out[v] = z[o + v]! - lse;
}
