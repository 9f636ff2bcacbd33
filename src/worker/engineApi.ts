// The part of the engine the worker drives, as an interface: worker.ts binds it to the real engine, and
// the unit tests bind it to a scripted fake, so the run loop's scheduling can be tested in milliseconds.
import type { ModelConfig, TokenizerKind, TrainConfig } from '../engine/config.js';
import type {
  ClipEvent,
  GateProbe,
  GradientFlow,
  StepMetrics,
  TensorNorms,
  TokenLossProbe,
  ValidationMetrics,
} from '../engine/measurements.js';
import type { SamplingRequest } from '../protocol/messages.js';
import type { GradientReachProbe } from '../engine/gradientReach.js';

export interface TrainerLike<C = unknown> {
  readonly modelConfig: ModelConfig;
  readonly train: TrainConfig;
  readonly tokenizer: { readonly kind: TokenizerKind; readonly size: number };
  readonly updates: number;
  /** Tokens in the training and validation splits. */
  readonly trainTokens: number;
  readonly validationTokens: number;
  step(): StepMetrics;
  lastClip(): ClipEvent | null;
  validate(scope?: 'sample' | 'full'): ValidationMetrics;
  validationDue(): boolean;
  setLearningRate(lr: number | null): void;
  gradientFlow(): GradientFlow;
  probeGates(text: string): GateProbe;
  probeTokenLoss(text: string, k?: number): TokenLossProbe;
  tensorNorms(): TensorNorms[];
  unigramBits(): number;
  toCheckpoint(): C;
  /** Generates from the current weights; `onToken` sees each token's text as it comes. */
  sample(request: SamplingRequest, onToken: (text: string) => void): Promise<string>;
  /** Ends the training threads once the run will not step again; sampling and probes still answer. Idempotent. */
  close(): void;
  /** Threads that actually run each update (the engine caps train.threads at the batch, and at 1 without wasm). */
  readonly threads?: number;
  // -- editor (issue 6): optional, the editor shows less without them
  /** Gradient reach and gate saturation per token of `text` (engine/gradientReach.ts). */
  probeGradientReach?(text: string): GradientReachProbe;
  /** [N+1] UTF-16 start of each token of `text`, then its length. */
  tokenOffsets?(text: string): Int32Array;
  /** The text of token `id`. */
  tokenText?(id: number): string;
  /** Token spans [start, end) of the training text read by the last step, one per stream. */
  lastWindows?(): Array<[number, number]>;
  /** Whether the tokenizer has `symbol` (one code point); a word tokenizer maps any word to a token, so it knows all. */
  knows?(symbol: string): boolean;
  // -- end editor
}

export interface EngineLike<C = unknown> {
  create(
    text: string,
    model: Omit<ModelConfig, 'vocabSize'>,
    train: TrainConfig,
    tokenizer: TokenizerKind,
    opts: { maxVocab?: number },
  ): TrainerLike<C>;
  /** `threads` replaces the count recorded in the checkpoint: it is this machine's, not the run's. */
  resume(text: string, checkpoint: C, overrides: { threads: number }): TrainerLike<C>;
  readCheckpoint(path: string): Promise<C>;
  writeCheckpoint(path: string, checkpoint: C): Promise<void>;
}
