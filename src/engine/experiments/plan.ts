// What an experiment is, as plain data that crosses to the worker and the dashboard: the files it writes,
// the runs it trains on them (each an ordinary language-model or classifier run, with a probe the worker measures as it
// trains), what each run came to (outcome.ts), and the verdict computed from those outcomes beside what
// the theory predicts. The definitions are memoryGap.ts, truncation.ts, exploding.ts, readingDirection.ts
// and gatesAtWork.ts; the command line (runner.ts) and the extension run the same plans.
import type { ModelConfig, TokenizerKind, TrainConfig } from '../config.js';

export type ExperimentName = 'memory' | 'truncation' | 'exploding' | 'bidirectional' | 'gates';

/** What the worker measures on a language model's run besides training (null: nothing beyond the training metrics). */
export interface RecallProbeSpec {
  kind: 'recall';
  gap: number;
  /** Held-out lines the accuracy and the gradient at the key are measured on, read from a zero state. */
  lines: string[];
  /** Updates between measurements (and at the end). */
  every: number;
  /** Also measure which gate units hold the key across the gap (gatesAtWork.ts), at the end. */
  gates?: boolean;
}

/** What the worker measures on a classifier's run: its accuracy on the task file's held-out lines (heldOutProbe.ts). */
export interface HeldOutProbeSpec {
  kind: 'heldOut';
  /** Updates between measurements (and at the end). */
  every: number;
}

export type ProbeSpec = RecallProbeSpec | HeldOutProbeSpec;

/** What the worker needs to know of an experiment run beyond its training settings. */
export interface TrackedRun {
  id: string;
  probe: ProbeSpec | null;
  keepBias?: number;
  /** The run whose final weights this one starts from (a curriculum). */
  from?: string;
}

export interface ExperimentRun {
  /** Unique in the plan. */
  id: string;
  /** How legends and tables name the run: 'LSTM 32 · gap 20'. */
  label: string;
  /** The data file it trains on (a name in the experiment's folder). */
  file: string;
  model: Omit<ModelConfig, 'vocabSize'>;
  tokenizer: TokenizerKind;
  train: TrainConfig;
  /** Updates: the budget is counted in updates, not time, so that runs compare on a busy machine. */
  steps: number;
  /** Start from the weights run `from` of this plan ended with (a curriculum), instead of a fresh initialisation. */
  from?: string;
  /**
   * Initial bias added to the LSTM's forget gate or the GRU's update gate (both biases' rows of that
   * gate), so that the cell keeps its state from the start; 0 = PyTorch's initialisation.
   */
  keepBias?: number;
  probe: ProbeSpec | null;
  /** What the verdict groups runs by: cell, gap, k2, seed, clip... */
  factors: Record<string, string | number>;
}

export interface DataFile {
  name: string;
  text: string;
}

export interface ExperimentPlan {
  name: ExperimentName;
  title: string;
  /** A short explanation of the concept, shown beside the verdict. */
  concept: string;
  /** What the theory predicts this experiment will show, with its sources. */
  prediction: string;
  sources: string[];
  quick: boolean;
  seeds: number[];
  files: DataFile[];
  runs: ExperimentRun[];
}

export interface PlanOptions {
  quick: boolean;
  seeds: number[];
}

/**
 * Threads each run trains on, wherever it runs: a run's numbers depend on its thread count (the order in
 * which the threads' gradients are summed), so the command line and the extension use the same one.
 */
export const EXPERIMENT_THREADS = 2;
