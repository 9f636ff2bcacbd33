// The two configs every part of the product speaks: what the model is (stored in a checkpoint's
// `recurrent.config`, see docs/checkpoint-format.md) and how it is trained. Validation lives here so
// the CLI, the extension's settings and `.recurrent.json` files all give the same messages.
import { RecurrentError } from './errors.js';

export type CellKind = 'rnn' | 'lstm' | 'gru';
export const CELL_KINDS: readonly CellKind[] = ['rnn', 'lstm', 'gru'];
/**
 * lm: next token of one text; classify: a label for each input (many-to-one); generate: a text for each
 * label (one-to-many); translate: a text for each text, each side with its own vocabulary (many-to-many).
 */
export type Task = 'lm' | 'classify' | 'generate' | 'translate';
export const TASKS: readonly Task[] = ['lm', 'classify', 'generate', 'translate'];
/** classify: what the head reads, the encoder's final states (both directions) or the mean of its outputs over the input. */
export type Pooling = 'last' | 'mean';
export const POOLINGS: readonly Pooling[] = ['last', 'mean'];
/** symbol: tokens are the pieces between spaces (a translate side such as `AH0 B AE1 N D AH0 N`). */
export type TokenizerKind = 'char' | 'word' | 'symbol';

/** Gate rows per cell, in PyTorch's order: lstm i,f,g,o; gru r,z,n. */
export const GATES: Record<CellKind, number> = { rnn: 1, lstm: 4, gru: 3 };

export interface ModelConfig {
  task: Task;
  cell: CellKind;
  hidden: number;
  layers: number;
  /** 0: one-hot input of size vocabSize, realised as a row gather of W_ih. */
  embedding: number;
  bidirectional: boolean;
  vocabSize: number;
  /** classify and generate: the label set, in id order (the order of first appearance in the training file). */
  labels?: readonly string[];
  /** classify only. */
  pooling?: Pooling;
  /** classify, generate, translate: texts are cut to this many tokens (generate: with the end token); 0 = no limit. */
  maxLength?: number;
  /**
   * translate: the target side's vocabulary size (its tokenizer's, never stored apart). The source side's
   * is vocabSize; the encoder is cell/hidden/layers/embedding/bidirectional, the decoder the same cell
   * with layers layers of hidden * (bidirectional ? 2 : 1) units (docs/checkpoint-format.md, version 3).
   */
  targetVocabSize?: number;
  /** translate: decoding writes at most this many tokens, its end token included. */
  maxOutput?: number;
}

export type OptimizerKind = 'sgd' | 'adagrad' | 'rmsprop' | 'adam' | 'adamw';
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['sgd', 'adagrad', 'rmsprop', 'adam', 'adamw'];
export type ScheduleKind = 'constant' | 'step' | 'cosine';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'step', 'cosine'];

export interface TrainConfig {
  /** Parallel streams over the text (B contiguous slices). */
  batch: number;
  /** Truncated BPTT: tokens between parameter updates. */
  k1: number;
  /** Truncated BPTT: steps the gradient flows back, k2 >= k1. k1 = k2 = T is full BPTT on windows of T. */
  k2: number;
  optimizer: OptimizerKind;
  lr: number;
  /** SGD momentum; RMSProp smoothing uses `beta2`. */
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this value; 0 = off. */
  clipNorm: number;
  /** Clip each gradient element to [-clipValue, clipValue]; 0 = off. */
  clipValue: number;
  schedule: ScheduleKind;
  /** Linear warm-up over this many updates, before the schedule. */
  warmupSteps: number;
  /** step schedule: multiply by `stepGamma` every `stepSize` updates. */
  stepSize: number;
  stepGamma: number;
  /** cosine schedule: decays to lr * minLrRatio at `totalSteps`. */
  totalSteps: number;
  minLrRatio: number;
  /**
   * Each stream starts again from a zero state every this many tokens it reads (rounded to whole
   * windows of k1; streams staggered so they do not all restart at once); 0 carries the state until
   * the stream wraps around the text. Evaluation and sampling start from a zero state: a model that
   * never sees one again after its first updates can come to rely on a state it cannot reach from zero.
   */
  resetEvery: number;
  /** Share of the text, taken from its end, held out for validation (tasks: a seeded random sample of the lines). */
  valShare: number;
  /** Tasks: at most this many lines are held out (the first of the same seeded sample); 0 = no limit. */
  valMax: number;
  /** Validate every this many updates; 0 = never. */
  evalEvery: number;
  seed: number;
  /**
   * Threads that share each update: the batch's streams are split between this thread and
   * threads - 1 worker threads over one shared WebAssembly memory (replicas.ts). Results equal one
   * thread's within float32 rounding of the summed gradients. 1 = everything on the calling thread.
   */
  threads: number;
}

/** More threads than this only add synchronisation: each one needs whole streams of the batch. */
export const MAX_THREADS = 16;

/**
 * The thread count "automatic" stands for: one per core, less `spare` cores left to other work (the
 * editor), at most 4, since past that the synchronisation of each update costs more than the share it
 * takes off. The engine then runs no more threads than the batch has streams.
 */
export function automaticThreads(cores: number, spare: number): number {
  return Math.max(1, Math.min(4, cores - spare));
}

export const DEFAULT_MODEL: Omit<ModelConfig, 'vocabSize'> = {
  task: 'lm',
  cell: 'lstm',
  hidden: 128,
  layers: 1,
  embedding: 0,
  bidirectional: false,
};

export const DEFAULT_TRAIN: TrainConfig = {
  batch: 32,
  k1: 64,
  k2: 64,
  optimizer: 'adam',
  lr: 2e-3,
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  clipNorm: 5,
  clipValue: 0,
  schedule: 'constant',
  warmupSteps: 0,
  stepSize: 1000,
  stepGamma: 0.5,
  totalSteps: 10000,
  minLrRatio: 0.1,
  resetEvery: 5000,
  valShare: 0.1,
  valMax: 0,
  evalEvery: 100,
  seed: 1,
  threads: 1,
};

function int(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new RecurrentError(`${name} must be a whole number from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function real(name: string, v: unknown, lo: number, hi: number, loOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (loOpen && v === lo)) {
    const range = loOpen ? `greater than ${lo} and at most ${hi}` : `from ${lo} to ${hi}`;
    throw new RecurrentError(`${name} must be a number ${range}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, options: readonly T[]): T {
  if (typeof v !== 'string' || !options.includes(v as T)) {
    throw new RecurrentError(`${name} must be one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Checks a model config (for example one read from a checkpoint) and returns it typed. */
export function validateModelConfig(c: Partial<ModelConfig>): ModelConfig {
  const task = oneOf('task', c.task ?? 'lm', TASKS);
  const cfg: ModelConfig = {
    task,
    cell: oneOf('cell', c.cell, CELL_KINDS),
    hidden: int('hidden', c.hidden, 1, 4096),
    layers: int('layers', c.layers, 1, 4),
    embedding: int('embedding', c.embedding ?? 0, 0, 4096),
    bidirectional: c.bidirectional ?? false,
    vocabSize: int('vocabulary size', c.vocabSize, 2, 1 << 20),
  };
  if (typeof cfg.bidirectional !== 'boolean')
    throw new RecurrentError(`bidirectional must be true or false, got ${JSON.stringify(c.bidirectional)}`);
  if (cfg.bidirectional && task !== 'classify' && task !== 'translate') {
    throw new RecurrentError(
      `bidirectional models see the future, so they cannot be trained to write text (task ${task}); use bidirectional: false, or task classify or translate`,
    );
  }
  if (task === 'translate') {
    if (c.labels !== undefined) throw new RecurrentError('a translate model has no labels: its outputs are texts');
    if (c.pooling !== undefined) throw new RecurrentError('pooling is a setting of task classify only');
    cfg.targetVocabSize = int('target vocabulary size', c.targetVocabSize, 2, 1 << 20);
    cfg.maxLength = int('maximum length', c.maxLength ?? 0, 0, 1_000_000);
    cfg.maxOutput = int('maximum output length', c.maxOutput, 1, 1_000_000);
    return cfg;
  }
  if (c.targetVocabSize !== undefined || c.maxOutput !== undefined)
    throw new RecurrentError('targetVocabSize and maxOutput are settings of task translate only');
  if (task === 'lm') {
    if (c.labels !== undefined) throw new RecurrentError('a language model (task lm) has no labels');
    return cfg;
  }
  const labels = c.labels;
  if (!Array.isArray(labels) || labels.length < (task === 'classify' ? 2 : 1)) {
    throw new RecurrentError(
      `task ${task} needs its labels: a list of ${task === 'classify' ? 'at least two' : 'at least one'} different strings, got ${JSON.stringify(labels)}`,
    );
  }
  const seen = new Set<string>();
  for (const l of labels) {
    if (typeof l !== 'string' || l.length === 0) throw new RecurrentError(`labels must be non-empty strings, got ${JSON.stringify(l)}`);
    if (seen.has(l)) throw new RecurrentError(`label ${JSON.stringify(l)} appears twice`);
    seen.add(l);
  }
  cfg.labels = labels.slice();
  cfg.maxLength = int('maximum length', c.maxLength ?? 0, 0, 1_000_000);
  if (task === 'classify') cfg.pooling = oneOf('pooling', c.pooling ?? 'last', POOLINGS);
  else if (c.pooling !== undefined) throw new RecurrentError('pooling is a setting of task classify only');
  return cfg;
}

/** Checks a training config; unknown fields are ignored, missing ones take defaults. */
export function validateTrainConfig(c: Partial<TrainConfig>): TrainConfig {
  // An option given as undefined (not set on the command line, in settings) keeps its default.
  const given = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
  const m = { ...DEFAULT_TRAIN, ...given } as TrainConfig;
  const cfg: TrainConfig = {
    batch: int('batch', m.batch, 1, 4096),
    k1: int('k1', m.k1, 1, 100000),
    k2: int('k2', m.k2, 1, 100000),
    optimizer: oneOf('optimizer', m.optimizer, OPTIMIZER_KINDS),
    lr: real('learning rate', m.lr, 0, 100, true),
    momentum: real('momentum', m.momentum, 0, 0.999999),
    beta1: real('beta1', m.beta1, 0, 0.999999),
    beta2: real('beta2', m.beta2, 0, 0.999999),
    eps: real('eps', m.eps, 0, 1, true),
    weightDecay: real('weight decay', m.weightDecay, 0, 10),
    clipNorm: real('clip (global norm)', m.clipNorm, 0, 1e9),
    clipValue: real('clip value', m.clipValue, 0, 1e9),
    schedule: oneOf('schedule', m.schedule, SCHEDULE_KINDS),
    warmupSteps: int('warm-up steps', m.warmupSteps, 0, 1e9),
    stepSize: int('step size', m.stepSize, 1, 1e9),
    stepGamma: real('step gamma', m.stepGamma, 0, 1, true),
    totalSteps: int('total steps', m.totalSteps, 1, 1e12),
    minLrRatio: real('minimum learning-rate ratio', m.minLrRatio, 0, 1),
    resetEvery: int('state reset interval (tokens)', m.resetEvery, 0, 1e12),
    valShare: real('validation share', m.valShare, 0, 0.5),
    valMax: int('most held-out lines', m.valMax, 0, 1e9),
    evalEvery: int('evaluation interval', m.evalEvery, 0, 1e9),
    seed: int('seed', m.seed, 0, 0xffffffff),
    threads: int('threads', m.threads, 1, MAX_THREADS),
  };
  if (cfg.k2 < cfg.k1)
    throw new RecurrentError(
      `k2 (${cfg.k2}) must be at least k1 (${cfg.k1}): the gradient must reach back over every step whose loss it carries`,
    );
  return cfg;
}
