// What training reports and what the probes measure: plain data (numbers, strings, typed arrays) so it
// can cross a worker boundary and be drawn by the dashboard and the editor without conversion.
// Units are in the names: nats are natural-log losses, bits are nats / ln 2.

/** One parameter update. */
export interface StepMetrics {
  step: number;
  /** Tokens whose loss entered updates so far (all streams). */
  tokens: number;
  lossNats: number;
  bitsPerToken: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  clipped: boolean;
  elapsedMs: number;
  tokensPerSecond: number;
  /** Tasks on examples: examples whose loss entered updates so far, their rate, and the epoch. */
  examples?: number;
  examplesPerSecond?: number;
  epoch?: number;
  /** Tasks: scores of this update's examples by name (protocol/scores.ts), such as classify's `accuracy`. */
  scores?: Record<string, number>;
}

export interface ValidationMetrics {
  step: number;
  /** Mean loss in nats per token (lm, generate) or per example (classify). */
  lossNats: number;
  bitsPerToken: number;
  tokens: number;
  /** Whether this result says the run has diverged (Trainer.diverged); absent in recordings older than it. */
  diverged?: boolean;
  /** Tasks: the held-out examples scored. */
  examples?: number;
  /** Tasks: held-out scores by name (protocol/scores.ts), such as classify's `accuracy`. */
  scores?: Record<string, number>;
  /** classify: counts[true][predicted] over the held-out examples, label ids as in `labels`. */
  confusion?: { labels: string[]; counts: number[][] };
  /** translate: a fixed few of the held-out examples with the model's translations (tokens), the tokens its edits touch marked. */
  translations?: TranslationRow[];
}

export interface TranslationRow {
  /** The example's line in the file, and its source as written there. */
  line: number;
  source: string;
  target: string[];
  output: string[];
  /** Indices into output of the tokens a shortest edit to the target replaces or deletes. */
  wrong: number[];
  /** Indices into target of the tokens the output lacks or has other tokens for. */
  missed: number[];
  /** The edit distance from output to target (what the token error rate sums). */
  edits: number;
}

export interface ClipEvent {
  step: number;
  mode: 'norm' | 'value';
  normBefore: number;
  normAfter: number;
  /** Token offsets [start, end) in the training text of each stream's window that produced the update. */
  spans: Array<[number, number]>;
}

/** Norm of dL/dh over time steps. */
export interface GradientFlow {
  step: number;
  /** Window length K. */
  window: number;
  /** [layer][k], k = 0..K-1: norm of dL_T/dh_{T-k} for the loss at the last step T of the window. */
  fromLast: Float32Array[];
  /** [layer][t]: norm of dL/dh_t for the loss summed over the window. */
  perStep: Float32Array[];
  /** Token offset in the training text where the probed window starts (0 for a task's examples). */
  start: number;
  /**
   * Tasks: what each row of fromLast and perStep is ("layer 1 →", "layer 1 ←"), when not one row per
   * layer; fromLast[r][k] is then the root mean square over `examples` examples of |dL_e/dh| k tokens
   * before the state their loss reads (for a reverse cell: k tokens after the text's first).
   */
  curves?: string[];
  /** Tasks: the tokens of the one example perStep runs over (its columns), instead of a window of the text. */
  tokens?: string[];
  /** Tasks: how many examples fromLast averages. */
  examples?: number;
}

export type GateName = 'i' | 'f' | 'g' | 'o' | 'c' | 'r' | 'z' | 'n' | 'h';

/** Gate activations for a probe text, per layer (and direction). */
export interface GateProbe {
  tokens: string[];
  layers: Array<{
    layer: number;
    direction: 'forward' | 'reverse';
    /** Each gate as [T, H] row-major. LSTM: i f g o c h; GRU: r z n h; RNN: h. */
    gates: Array<{ name: GateName; data: Float32Array }>;
  }>;
  hidden: number;
  /** generate: the label whose state the text was read from (tokens then start with the end token the model starts from). */
  label?: string;
}

/** Per-token loss and the model's top predictions over a text, from a zero state. */
export interface TokenLossProbe {
  /** The tokens and their [start, end) offsets in UTF-16 code units of the probed text. */
  tokens: string[];
  offsets: Int32Array;
  /** perToken[i-1] = -ln p(t_i | t_<i), nats. */
  lossNats: Float32Array;
  k: number;
  /** [N-1, k]: top-k token ids and probabilities of the prediction for position i (1..N-1). */
  topIds: Int32Array;
  topProbs: Float32Array;
}

export interface TensorNorms {
  name: string;
  paramNorm: number;
  gradNorm: number;
}
