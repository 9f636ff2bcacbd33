// Validation while training: how well the model predicts the held-out end of the training text from a
// zero state, how often to look, and when what it sees means the run has diverged.
//
// The split is read in up to VALIDATION_STREAMS streams side by side in a network of its own (forward
// only, so wide is cheap), each in windows with its state carried. 'full' reads all of it (at the end of a
// run); 'sample' a fixed sample of VALIDATION_SAMPLE_TOKENS, the start of each stream's share, the same
// tokens every time so that values over a run compare. A batch-1 run validating the whole split every 100
// updates spent three quarters of its time there; now periodic validations are spaced by tokens trained.
import type { Floats } from './floats.js';
import type { ValidationMetrics } from './measurements.js';
import type { Model } from './model.js';
import type { Unrolled } from './unroll.js';

/** Tokens of the fixed sample that periodic validations read. */
export const VALIDATION_SAMPLE_TOKENS = 16384;
export const VALIDATION_STREAMS = 16;
export const VALIDATION_WINDOW = 128;
/**
 * A periodic validation waits until this many times its sample has been trained on since the last one.
 * A forward pass costs about a third of an update per token, so validation stays near a tenth of the
 * time whatever the batch.
 */
export const VALIDATION_SPACING = 4;
/** Bits per token above the unigram entropy beyond which a validation says the run has diverged. */
export const DIVERGENCE_MARGIN_BITS = 1;

export class Validation {
  private network: { net: Unrolled; state: Floats } | null = null;
  /** Tokens trained at the last validation. */
  private lastTokens = 0;
  /** The first validation made here: where the run started in this process, trained or not. */
  private baselineBits = NaN;

  constructor(
    private readonly model: Model,
    private readonly tokens: Int32Array,
    /** The split is tokens [start, start + length). */
    private readonly start: number,
    private readonly length: number,
  ) {}

  /** Counts tokens trained from here (a resumed run). */
  trainedAt(tokensSeen: number): void {
    this.lastTokens = tokensSeen;
  }

  run(scope: 'sample' | 'full', step: number, tokensSeen: number): ValidationMetrics {
    const n = this.length;
    this.lastTokens = tokensSeen;
    if (n < 2) return { step, lossNats: NaN, bitsPerToken: NaN, tokens: 0 };
    const S = scope === 'full' ? n : Math.min(n, VALIDATION_SAMPLE_TOKENS);
    const { net, state } = this.net();
    const nb = Math.max(1, Math.min(net.maxBatch, Math.floor(S / 64)));
    const stride = Math.floor(n / nb);
    const len = Math.floor(S / nb);
    const T = net.maxSteps;
    let sum = 0;
    for (let from = 0; from < len - 1; from += T) {
      const t = Math.min(T, len - 1 - from);
      for (let b = 0; b < nb; b++) {
        const at = this.start + b * stride + from;
        for (let s = 0; s < t; s++) {
          net.ids[s * nb + b] = this.tokens[at + s]!;
          net.targets[s * nb + b] = this.tokens[at + s + 1]!;
        }
      }
      net.setState(from === 0 ? null : state, nb, t);
      net.forward(nb, t);
      if (from + t < len - 1) net.getState(state, nb, t, t);
      net.decode(nb, t, 0);
      sum += net.loss(nb, t, 0);
    }
    const count = nb * (len - 1);
    const lossNats = sum / count;
    const bitsPerToken = lossNats / Math.LN2;
    if (Number.isNaN(this.baselineBits)) this.baselineBits = bitsPerToken;
    return { step, lossNats, bitsPerToken, tokens: count };
  }

  /** Every `every` updates, but no sooner than VALIDATION_SPACING times the sample's tokens after the last. */
  due(every: number, updates: number, tokensSeen: number): boolean {
    if (every === 0 || this.length < 2 || updates === 0 || updates % every !== 0) return false;
    return tokensSeen - this.lastTokens >= VALIDATION_SPACING * Math.min(this.length, VALIDATION_SAMPLE_TOKENS);
  }

  /**
   * Not finite, or more than DIVERGENCE_MARGIN_BITS worse than the unigram entropy (a model that learned
   * only how often each token occurs) and worse than the first validation made here.
   */
  diverged(v: ValidationMetrics, unigramBits: number): boolean {
    if (v.tokens === 0) return false;
    if (!Number.isFinite(v.bitsPerToken)) return true;
    const start = Number.isNaN(this.baselineBits) ? -Infinity : this.baselineBits;
    return v.bitsPerToken > unigramBits + DIVERGENCE_MARGIN_BITS && v.bitsPerToken > start;
  }

  private net(): { net: Unrolled; state: Floats } {
    if (this.network === null) {
      const net = this.model.unroll(VALIDATION_STREAMS, VALIDATION_WINDOW);
      this.network = { net, state: this.model.arena.floats(net.stateSize(VALIDATION_STREAMS)) };
    }
    return this.network;
  }
}
