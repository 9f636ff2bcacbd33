// Training a classify, generate or translate model on a task file (tsv.ts): each update takes a batch of
// training examples of similar length (buckets.ts), runs them padded to the longest (taskNet.ts), and
// steps the optimizer on the mean loss: per example (classify), per output token (generate, translate), as PyTorch's
// CrossEntropyLoss averages, so learning rates and clipping thresholds carry over. The held-out
// examples are a seeded random sample of the lines. The language model's Trainer (trainer.ts) reads
// one text in streams; this reads examples, but clipping, the optimizers, schedules and the checkpoint
// contract are the same code. Everything a step touches is allocated when the trainer is made.
import { clipGradients, newClipResult } from './clip.js';
import type { Checkpoint } from './checkpoint.js';
import {
  validateModelConfig,
  validateTrainConfig,
  type CellKind,
  type ModelConfig,
  type Pooling,
  type TokenizerKind,
  type TrainConfig,
} from './config.js';
import { RecurrentError } from './errors.js';
import { History, HISTORY_KEY } from './history.js';
import { LengthBatches, type BatchPosition } from './buckets.js';
import type { ClipEvent, GateProbe, GradientFlow, TensorNorms } from './measurements.js';
import { Model } from './model.js';
import { tensorNorms } from './probes.js';
import { createOptimizer, type Optimizer } from './optimizer.js';
import { Rng, type RngState } from './rng.js';
import type { NamedTensor } from './safetensors.js';
import { learningRateAt } from './schedule.js';
import { encodeExamples, encodeTranslations, END_OF_TEXT, labelSet, splitExamples, type Sequences } from './taskData.js';
import { evaluateTask, lengthOrder, type TaskEvaluation } from './taskEval.js';
import { TranslationDecoder } from './translateDecode.js';
import { TaskNet } from './taskNet.js';
import { TaskPredictor } from './taskPredict.js';
import { FLOW_EXAMPLES, TaskProbes, type ProbeExample } from './taskProbes.js';
import { TaskSplit } from './taskReplicas.js';
import { Tokenizer } from './tokenizer.js';
import { HISTORY_SEGMENT } from './trainer.js';
import { parseTsv } from './tsv.js';

/** Resolution of a schedule run over a time budget. */
const TIME_STEPS = 1_000_000;

export type ExampleTask = 'classify' | 'generate' | 'translate';
export const EXAMPLE_TASKS: readonly ExampleTask[] = ['classify', 'generate', 'translate'];

/** translate: the held-out examples scored while training (spread over the held-out set); all of them at the end. */
export const VALIDATION_SAMPLE = 500;

/** Metadata key of a task run's training state in a checkpoint (the language model's uses the same key). */
export const TASK_TRAINING_KEY = 'recurrent.training';

export interface TaskModelOptions {
  cell: CellKind;
  hidden: number;
  layers: number;
  embedding: number;
  bidirectional: boolean;
  pooling: Pooling;
  maxLength: number;
  /** translate: the most tokens decoding writes, the end token included; 0 = twice the longest training target. */
  maxOutput: number;
}

/** A model's settings as create takes them: the worker's and the experiments' runs carry a ModelConfig. */
export function taskModelOptions(
  m: Pick<ModelConfig, 'cell' | 'hidden' | 'layers' | 'embedding' | 'bidirectional' | 'pooling' | 'maxLength'>,
): Partial<TaskModelOptions> {
  const { cell, hidden, layers, embedding, bidirectional, pooling, maxLength } = m;
  return { cell, hidden, layers, embedding, bidirectional, pooling, maxLength };
}

/**
 * What a user who sets nothing gets: sized for short texts such as names, where these train a good
 * model within a minute on two cores (README, "Tasks"). Words or long texts want an embedding.
 */
export const TASK_DEFAULTS: Record<ExampleTask, { model: TaskModelOptions; train: Partial<TrainConfig> }> = {
  classify: {
    model: { cell: 'gru', hidden: 64, layers: 1, embedding: 0, bidirectional: false, pooling: 'last', maxLength: 400, maxOutput: 0 },
    train: { batch: 32, optimizer: 'adam', lr: 5e-3, clipNorm: 5, valShare: 0.1, evalEvery: 100 },
  },
  generate: {
    model: { cell: 'gru', hidden: 128, layers: 1, embedding: 0, bidirectional: false, pooling: 'last', maxLength: 400, maxOutput: 0 },
    // Weight decay: without it a GRU 128 learns the names by heart within 15 s and its held-out loss climbs.
    train: { batch: 32, optimizer: 'adamw', lr: 7e-3, weightDecay: 0.1, clipNorm: 5, valShare: 0.1, evalEvery: 100 },
  },
  translate: {
    model: { cell: 'lstm', hidden: 128, layers: 1, embedding: 0, bidirectional: false, pooling: 'last', maxLength: 100, maxOutput: 0 },
    // Held out: at most 5,000 lines, since every held-out line is translated to score it. A run of a few
    // minutes sees CMUdict two or three times: twice the Adam 2e-3, decayed by cosine over the run's
    // --time (or --steps), writes more words right by its end than 2e-3 held constant, and batches of 32
    // more than of 64: an example costs the same either way, so the same minutes make twice the updates
    // (README, Translate).
    train: { batch: 32, optimizer: 'adam', lr: 4e-3, schedule: 'cosine', clipNorm: 5, valShare: 0.1, valMax: 5000, evalEvery: 500 },
  },
};

/**
 * Threads when none are asked for (the command line, bench:tasks): a translate update, a batch of words
 * through an encoder and a decoder, is large enough for threads to pay (2 made 1.1-1.5 times the updates
 * of 1 on two cores, by the machine's load); an update on a few dozen names is not (README, Threads).
 */
export function defaultTaskThreads(task: ExampleTask): 'auto' | 1 {
  return task === 'translate' ? 'auto' : 1;
}

export interface TaskStepMetrics {
  step: number;
  epoch: number;
  /** Examples whose loss entered updates so far. */
  examples: number;
  /** Tokens those examples read (classify) or wrote (generate). */
  tokens: number;
  /** Mean loss of this update: nats per example (classify) or per output token (generate). */
  lossNats: number;
  bitsPerToken: number;
  /** classify: share of this update's examples predicted right; generate: NaN. */
  accuracy: number;
  lr: number;
  gradNorm: number;
  clipped: boolean;
  elapsedMs: number;
  examplesPerSecond: number;
  /** Output tokens per second (generate), input tokens per second (classify). */
  tokensPerSecond: number;
}

interface TaskRecord {
  train: TrainConfig;
  updates: number;
  examples: number;
  tokens?: number;
  elapsedMs: number;
  rng: RngState;
  fileLines: number;
  /** Where the batches were: with the random state, what continues the epoch exactly on the same file. */
  batches: BatchPosition;
  /** FNV-1a of the file's text: batches continue only on the text they were drawn from. */
  textHash: number;
}

/**
 * What batches are cut by: an example's length, and for translate its target's length after its source's,
 * since the decoder runs every row of a batch to the batch's longest target. By source length alone, a
 * sixth of CMUdict's decoder steps were padding.
 */
export function batchKeys(set: Sequences): number[] {
  const targets = set.targets;
  if (targets === undefined) return set.ids.map((s) => s.length);
  let longest = 0;
  for (const t of targets) longest = Math.max(longest, t.length);
  return set.ids.map((s, e) => s.length * (longest + 1) + targets[e]!.length);
}

/** FNV-1a over UTF-16 code units. */
function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class TaskTrainer {
  readonly task: ExampleTask;
  readonly model: Model;
  readonly modelConfig: ModelConfig;
  /** The texts' tokenizer (translate: the sources'). */
  readonly tokenizer: Tokenizer;
  /** translate: the targets' tokenizer; null otherwise. */
  readonly targetTokenizer: Tokenizer | null;
  readonly labels: readonly string[];
  readonly train: TrainConfig;
  readonly trainSet: Sequences;
  readonly heldOut: Sequences;
  /** Where the run trained and its curves, carried from checkpoint to checkpoint as the language model's (history.ts). */
  readonly history: History;
  /** The training thread's network: the whole batch, or with threads its share (split.mainShare). */
  private readonly net: TaskNet;
  /** The other threads' shares of each update, when threads > 1 and the model lives in a wasm heap. */
  private readonly split: TaskSplit | null;
  private batchStart = 0;
  /** Example at position i of the epoch's order, from the current batch's start (made once: no closure per step). */
  private readonly pick = (i: number): number => this.batches.example(this.batchStart + i);
  private readonly batches: LengthBatches;
  private readonly optimizer: Optimizer;
  private readonly rng: Rng;
  private readonly clip = newClipResult();
  private readonly correct = new Int32Array(1);
  private readonly heldOutOrder: Int32Array;
  private readonly fileLines: number;
  private readonly textHash: number;
  private readonly metrics: TaskStepMetrics;
  private lrOverride: number | null = null;
  /** A time budget that the schedule decays over instead of totalSteps (scheduleOverTime). */
  private budget: { ms: number; startedAt: number; clock: () => number } | null = null;
  private examplesSeen = 0;
  private tokensSeen = 0;
  private elapsedMs = 0;
  private runExamples = 0;
  private runTokens = 0;
  private runMs = 0;
  private predictor: TaskPredictor | null = null;
  private probes: TaskProbes | null = null;
  /** The examples the gradient-flow curves average over and the one the probes show, chosen once. */
  private probeSet: { sample: ProbeExample[]; shown: ProbeExample } | null = null;
  private readonly clipEvent: ClipEvent = { step: 0, mode: 'norm', normBefore: 0, normAfter: 0, spans: [] };
  private decoder: TranslationDecoder | null = null;
  /** translate: the held-out examples scored while training, spread over the held-out set. */
  private readonly validationSample: Sequences;
  private readonly longest: number;

  private constructor(
    model: Model,
    tokenizer: Tokenizer,
    targetTokenizer: Tokenizer | null,
    train: TrainConfig,
    sets: { train: Sequences; heldOut: Sequences },
    rng: Rng,
    fileLines: number,
    textHash: number,
    history: History,
  ) {
    const cfg = model.config;
    this.history = history;
    this.task = cfg.task as ExampleTask;
    this.model = model;
    this.modelConfig = cfg;
    this.tokenizer = tokenizer;
    this.targetTokenizer = targetTokenizer;
    this.labels = cfg.labels ?? [];
    this.train = train;
    this.trainSet = sets.train;
    this.heldOut = sets.heldOut;
    this.rng = rng;
    this.fileLines = fileLines;
    this.textHash = textHash;
    if (sets.train.ids.length === 0) throw new RecurrentError('no examples are left for training: lower the held-out share');
    let longest = 1;
    for (const s of [sets.train, sets.heldOut])
      for (const side of [s.ids, s.targets ?? []]) for (const ids of side) longest = Math.max(longest, ids.length);
    this.longest = longest;
    const end = endTokenOf(this.task, tokenizer, targetTokenizer);
    const threads = Math.min(train.threads, train.batch);
    this.split = threads > 1 && model.arena.wasmHeap !== null ? new TaskSplit(model, train.batch, longest, threads, end) : null;
    this.net = new TaskNet(model, this.split?.mainShare(train.batch) ?? train.batch, longest, end);
    this.batches = new LengthBatches(batchKeys(sets.train), train.batch);
    this.optimizer = createOptimizer(train, model.params, (n) => model.arena.floats(n));
    this.split?.sliceUpdates(model.params, this.optimizer, train.clipValue);
    this.heldOutOrder = lengthOrder(sets.heldOut);
    this.validationSample = this.task === 'translate' ? spread(sets.heldOut, VALIDATION_SAMPLE) : sets.heldOut;
    this.metrics = {
      step: 0,
      epoch: 0,
      examples: 0,
      tokens: 0,
      lossNats: 0,
      bitsPerToken: 0,
      accuracy: NaN,
      lr: 0,
      gradNorm: 0,
      clipped: false,
      elapsedMs: 0,
      examplesPerSecond: 0,
      tokensPerSecond: 0,
    };
  }

  /** A new run on a task file's text; `source` names the file in messages. */
  static create(
    text: string,
    source: string,
    opts: {
      task: ExampleTask;
      model?: Partial<TaskModelOptions>;
      train?: Partial<TrainConfig>;
      tokenizer?: TokenizerKind;
      /** translate: the targets' tokens; by default symbols when most targets have a space, else characters (so is the source's). */
      targetTokenizer?: TokenizerKind;
      maxVocab?: number;
    },
  ): TaskTrainer {
    const defaults = TASK_DEFAULTS[opts.task];
    const given = <T extends object>(o: Partial<T> | undefined): Partial<T> =>
      Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
    const m: TaskModelOptions = { ...defaults.model, ...given(opts.model) };
    const train = validateTrainConfig({ ...defaults.train, ...given(opts.train) });
    const examples = parseTsv(text, source);
    const labels = labelSet(examples);
    if (opts.task === 'classify' && labels.length < 2) {
      throw new RecurrentError(`${source}: every line has the label ${JSON.stringify(labels[0])}; a classifier needs at least two labels`);
    }
    const split = splitExamples(examples, train.valShare, train.seed, train.valMax);
    if (split.train.length === 0) throw new RecurrentError(`${source}: no examples are left for training: lower the held-out share`);
    if (opts.task === 'translate') return TaskTrainer.createTranslation(split, source, examples.length, hashText(text), m, train, opts);
    const kind = opts.tokenizer ?? 'char';
    const inputs = split.train.map((e) => e.input);
    // The vocabulary of the training texts; generate's texts end with the end token, so it is in it.
    const vocabText = opts.task === 'generate' ? inputs.join(END_OF_TEXT) + END_OF_TEXT : inputs.join(kind === 'word' ? ' ' : '');
    const tokenizer = Tokenizer.build(vocabText, kind, { maxVocab: opts.maxVocab });
    const config = validateModelConfig({
      task: opts.task,
      cell: m.cell,
      hidden: m.hidden,
      layers: m.layers,
      embedding: m.embedding,
      bidirectional: m.bidirectional,
      vocabSize: tokenizer.size,
      labels,
      maxLength: m.maxLength,
      ...(opts.task === 'classify' ? { pooling: m.pooling } : {}),
    });
    const rng = new Rng(train.seed);
    const model = new Model(config);
    model.initialize(rng);
    return new TaskTrainer(
      model,
      tokenizer,
      null,
      train,
      encodeSets(split, tokenizer, null, config, source),
      rng,
      examples.length,
      hashText(text),
      newHistory(),
    );
  }

  private static createTranslation(
    split: ReturnType<typeof splitExamples>,
    source: string,
    fileLines: number,
    textHash: number,
    m: TaskModelOptions,
    train: TrainConfig,
    opts: { tokenizer?: TokenizerKind; targetTokenizer?: TokenizerKind; maxVocab?: number },
  ): TaskTrainer {
    const sources = split.train.map((e) => e.input);
    const targets = split.train.map((e) => e.output);
    const sourceKind = opts.tokenizer ?? sideKind(sources);
    const targetKind = opts.targetTokenizer ?? sideKind(targets);
    const sourceTok = Tokenizer.build(sources.join(sourceKind === 'char' ? '' : ' '), sourceKind, { maxVocab: opts.maxVocab });
    // The end token ends every target; a symbol or word vocabulary gets it as one more token.
    const targetTok = Tokenizer.build(targets.join(targetKind === 'char' ? '' : ' '), targetKind, {
      maxVocab: opts.maxVocab,
      also: END_OF_TEXT,
    });
    let longest = 1;
    for (const t of targets) longest = Math.max(longest, targetTok.encodeLenient(t).ids.length + 1);
    const maxOutput = m.maxOutput > 0 ? m.maxOutput : m.maxLength > 0 ? Math.min(m.maxLength, 2 * longest) : 2 * longest;
    const config = validateModelConfig({
      task: 'translate',
      cell: m.cell,
      hidden: m.hidden,
      layers: m.layers,
      embedding: m.embedding,
      bidirectional: m.bidirectional,
      vocabSize: sourceTok.size,
      targetVocabSize: targetTok.size,
      maxLength: m.maxLength,
      maxOutput,
    });
    const rng = new Rng(train.seed);
    const model = new Model(config);
    model.initialize(rng);
    return new TaskTrainer(
      model,
      sourceTok,
      targetTok,
      train,
      encodeSets(split, sourceTok, targetTok, config, source),
      rng,
      fileLines,
      textHash,
      newHistory(),
    );
  }

  /**
   * Continues a run saved by toCheckpoint: weights, optimizer state, update count and random state, and
   * on the same file the batches where they were, so the run goes on as if it had never stopped (on
   * another text the batches start a new epoch). Threads are this machine's.
   */
  static resume(text: string, source: string, checkpoint: Checkpoint, overrides: { threads?: number } = {}): TaskTrainer {
    const config = checkpoint.config;
    if (config.task === 'lm') throw new RecurrentError(`the checkpoint's task is lm, not classify, generate or translate`);
    let record: Partial<TaskRecord> = {};
    const raw = checkpoint.metadata[TASK_TRAINING_KEY];
    if (raw !== undefined) {
      try {
        record = JSON.parse(raw) as Partial<TaskRecord>;
      } catch {
        throw new RecurrentError(`the checkpoint's training state (${TASK_TRAINING_KEY}) is not valid JSON`);
      }
    }
    const train = validateTrainConfig({
      ...TASK_DEFAULTS[config.task].train,
      ...(record.train ?? {}),
      ...(overrides.threads !== undefined ? { threads: overrides.threads } : {}),
    });
    const examples = parseTsv(text, source);
    const split = splitExamples(examples, train.valShare, train.seed, train.valMax);
    const tokenizer = Tokenizer.fromSpec(checkpoint.tokenizer);
    const targetTok = checkpoint.targetTokenizer !== undefined ? Tokenizer.fromSpec(checkpoint.targetTokenizer) : null;
    const model = new Model(config);
    model.loadTensors(checkpoint.tensors);
    const rngOk = Array.isArray(record.rng) && record.rng.length === 4;
    const rng = rngOk ? Rng.fromState(record.rng as RngState) : new Rng(train.seed);
    const textHash = hashText(text);
    const sets = encodeSets(split, tokenizer, targetTok, config, source);
    const history = History.parse(checkpoint.metadata[HISTORY_KEY]);
    const t = new TaskTrainer(model, tokenizer, targetTok, train, sets, rng, examples.length, textHash, history);
    if (raw !== undefined) {
      t.optimizer.loadState(checkpoint.tensors, record.updates ?? 0);
      t.examplesSeen = record.examples ?? 0;
      t.tokensSeen = record.tokens ?? 0;
      t.elapsedMs = record.elapsedMs ?? 0;
      const b = record.batches;
      const rngOf = (x: unknown): boolean => Array.isArray(x) && x.length === 4 && x.every((v) => Number.isInteger(v));
      if (
        rngOk &&
        record.textHash === textHash &&
        b &&
        Number.isInteger(b.epoch) &&
        Number.isInteger(b.next) &&
        (b.epochRng === null || rngOf(b.epochRng))
      )
        t.batches.restore(b);
    }
    history.begin(HISTORY_SEGMENT, t.updates);
    return t;
  }

  /** Threads that run each update: train.threads, or fewer where the batch or the backend allows fewer. */
  get threads(): number {
    return this.split?.threads ?? 1;
  }

  /** Stops the worker threads (threads > 1); the trainer must not step afterwards. Idempotent. */
  close(): void {
    this.split?.close();
  }

  get updates(): number {
    return this.optimizer.updates;
  }

  get epoch(): number {
    return this.batches.epoch;
  }

  setLearningRate(lr: number | null): void {
    if (lr !== null && !(Number.isFinite(lr) && lr > 0)) throw new RecurrentError(`the learning rate must be a positive number, got ${lr}`);
    this.lrOverride = lr;
  }

  /**
   * Runs the learning-rate schedule over a time budget (a run given a duration rather than a number of
   * updates): the schedule's clock is the share of the budget gone since this call, by `clock` (ms;
   * wall time unless a benchmark counts CPU time).
   */
  scheduleOverTime(ms: number, clock: () => number = () => performance.now()): void {
    this.budget = { ms, startedAt: clock(), clock };
  }

  private learningRate(): number {
    if (this.lrOverride !== null) return this.lrOverride;
    if (this.budget === null) return learningRateAt(this.train, this.optimizer.updates);
    const share = Math.min(1, (this.budget.clock() - this.budget.startedAt) / this.budget.ms);
    return learningRateAt({ ...this.train, warmupSteps: 0, totalSteps: TIME_STEPS }, Math.floor(share * TIME_STEPS));
  }

  /**
   * One update on the next batch. A loss or gradient that is not finite changes nothing and comes
   * back as lossNats NaN or infinite. If the update itself left a parameter non-finite, lossNats is
   * NaN as well, and the parameters are no longer a state to keep (model.parametersFinite() is false).
   * The returned object is reused by the next call.
   */
  step(): TaskStepMetrics {
    const started = performance.now();
    const { net, batches, model, split } = this;
    const { start, size: b } = batches.nextBatch(this.rng);
    this.batchStart = start;
    const mainB = split?.mainShare(b) ?? b;
    let units = net.load(this.trainSet, this.pick, mainB);
    if (split !== null) units += split.load(this.trainSet, this.pick, b, 0);
    const m = this.metrics;
    m.step = this.optimizer.updates;
    m.epoch = batches.epoch;
    m.lr = this.learningRate();
    m.clipped = false;
    m.gradNorm = NaN;
    const scale = 1 / Math.max(1, units);
    // The workers' shares run while this thread runs its own (the workers zero their own gradients).
    split?.start(scale);
    model.zeroGrads();
    let sum = net.lossAndBackward(mainB, scale, this.correct);
    if (split !== null) sum += split.finish(this.correct);
    m.lossNats = sum / Math.max(1, units);
    m.bitsPerToken = m.lossNats / Math.LN2;
    m.accuracy = this.task === 'classify' ? this.correct[0]! / b : NaN;
    if (!Number.isFinite(m.lossNats)) return this.finish(started, 0, 0);
    const clip = this.clip;
    if (split?.slicesUpdates) {
      // The threads add, clip and step over slices of the parameters (parallelUpdate.ts).
      split.update(m.lr, this.train.clipNorm, clip);
    } else {
      split?.addGradients(model.params);
      clipGradients(model.params, this.train.clipNorm, this.train.clipValue, clip);
      if (Number.isFinite(clip.normBefore)) this.optimizer.step(m.lr);
    }
    m.gradNorm = clip.normBefore;
    // Finite gradients can still carry a weight past the float range (SGD with a huge step): the run
    // cannot go on, and these weights must not be saved as a good state.
    if (!Number.isFinite(clip.normBefore) || !model.parametersFinite()) {
      m.lossNats = m.bitsPerToken = NaN;
      return this.finish(started, 0, 0);
    }
    m.clipped = clip.clipped;
    m.step = this.optimizer.updates;
    let tokens = units;
    if (this.task === 'classify') {
      tokens = 0;
      for (let r = 0; r < b; r++) tokens += this.trainSet.ids[batches.example(start + r)]!.length;
    }
    this.finish(started, b, tokens);
    this.history.record(m);
    return m;
  }

  private finish(started: number, examples: number, tokens: number): TaskStepMetrics {
    const ms = performance.now() - started;
    this.elapsedMs += ms;
    this.runMs += ms;
    this.examplesSeen += examples;
    this.tokensSeen += tokens;
    this.runExamples += examples;
    this.runTokens += tokens;
    const m = this.metrics;
    m.examples = this.examplesSeen;
    m.tokens = this.tokensSeen;
    m.elapsedMs = this.elapsedMs;
    m.examplesPerSecond = this.runMs > 0 ? (this.runExamples * 1000) / this.runMs : 0;
    m.tokensPerSecond = this.runMs > 0 ? (this.runTokens * 1000) / this.runMs : 0;
    return m;
  }

  /**
   * The held-out examples scored with the current weights. translate translates them (greedy), which
   * costs far more than a loss: with `sample`, only VALIDATION_SAMPLE of them, spread over the set.
   */
  validate(sample = false): TaskEvaluation {
    const seqs = sample && this.task === 'translate' ? this.validationSample : this.heldOut;
    const order = seqs === this.heldOut ? this.heldOutOrder : lengthOrder(seqs);
    const e = evaluateTask(this.net, seqs, this.labels, order, this.task === 'translate' ? this.translationDecoder() : null);
    const units = e.task === 'classify' ? e.examples : e.tokens;
    this.history.recordValidation({ step: this.updates, lossNats: e.loss, bitsPerToken: e.loss / Math.LN2, tokens: units });
    return e;
  }

  /** The held-out examples validate(sample) scores, in the order of its outputs. */
  validationSet(sample = false): Sequences {
    return sample && this.task === 'translate' ? this.validationSample : this.heldOut;
  }

  /** translate: the greedy decoder validation uses (made once: a model's buffers are never freed). */
  translationDecoder(): TranslationDecoder {
    this.decoder ??= new TranslationDecoder(
      this.model,
      { maxBatch: this.train.batch, maxSource: this.longest, beam: 1 },
      endTokenOf(this.task, this.tokenizer, this.targetTokenizer),
    );
    return this.decoder;
  }

  /** Whether the held-out examples are due to be scored after this update: every evalEvery updates. */
  validationDue(): boolean {
    const every = this.train.evalEvery;
    return every > 0 && this.updates > 0 && this.updates % every === 0 && this.heldOut.ids.length > 0;
  }

  /** The clip of the last step, if it clipped (no spans: an update reads examples, not a stretch of text); reused by later steps. */
  lastClip(): ClipEvent | null {
    if (!this.metrics.clipped) return null;
    const e = this.clipEvent;
    e.step = this.optimizer.updates;
    e.mode = this.clip.mode === 'value' ? 'value' : 'norm';
    e.normBefore = this.clip.normBefore;
    e.normAfter = this.clip.normAfter;
    return e;
  }

  tensorNorms(): TensorNorms[] {
    return tensorNorms(this.model.params);
  }

  /**
   * How far back an example's loss reaches through the recurrent cells (taskProbes.ts), over a fixed
   * sample of held-out examples of every length, and per token over the example the gates probe shows.
   */
  gradientFlow(): GradientFlow {
    const { sample, shown } = this.probeExamples();
    return this.taskProbes().gradientFlow(sample, shown, this.optimizer.updates);
  }

  /**
   * Gates of every cell over `text` (generate: read from `label`'s state; the first label by default), or
   * over the example probeExample() names when no text is given.
   */
  probeGates(text?: string, label?: string): GateProbe {
    const probes = this.taskProbes();
    if (text === undefined || text.length === 0) return probes.gates(this.probeExamples().shown);
    const id = label === undefined ? 0 : this.labels.indexOf(label);
    if (id < 0)
      throw new RecurrentError(
        `the model knows no label ${JSON.stringify(label)}; it knows ${this.labels.map((l) => JSON.stringify(l)).join(', ')}`,
      );
    return probes.gates(probes.example(text, id));
  }

  /** The text (and label) the probes show unless asked for another: a held-out example of middling length. */
  probeExample(): { text: string; label: string } {
    const { shown } = this.probeExamples();
    const ids = this.task === 'generate' ? shown.ids.subarray(0, shown.ids.length - 1) : shown.ids;
    return { text: Array.from(ids, (id) => this.tokenizer.token(id)).join(''), label: this.labels[shown.label]! };
  }

  private taskProbes(): TaskProbes {
    this.probes ??= new TaskProbes(
      this.model,
      this.tokenizer,
      endTokenOf(this.task, this.tokenizer, this.targetTokenizer),
      this.targetTokenizer,
    );
    return this.probes;
  }

  /** FLOW_EXAMPLES held-out examples (training ones if none are held out) spread over their lengths, and the middle one. */
  private probeExamples(): { sample: ProbeExample[]; shown: ProbeExample } {
    if (this.probeSet !== null) return this.probeSet;
    const limit = this.taskProbes().limit;
    const seqs = this.heldOut.ids.length > 0 ? this.heldOut : this.trainSet;
    const usable = Array.from(lengthOrder(seqs)).filter((e) => {
      const n = seqs.ids[e]!.length;
      return n > (this.task === 'generate' ? 1 : 0) && n <= limit && (seqs.targets?.[e]!.length ?? 0) <= limit;
    });
    const k = Math.min(FLOW_EXAMPLES, usable.length);
    const picks = Array.from({ length: k }, (_, i) => usable[k > 1 ? Math.round((i * (usable.length - 1)) / (k - 1)) : 0]!);
    const sample = picks.map((e) => ({ ids: seqs.ids[e]!, label: seqs.labels[e]!, ...(seqs.targets ? { target: seqs.targets[e]! } : {}) }));
    const shown = sample[sample.length >> 1] ?? {
      ids: new Int32Array(this.task === 'generate' ? [this.tokenizer.id(END_OF_TEXT)!] : []),
      label: 0,
    };
    this.probeSet = { sample, shown };
    return this.probeSet;
  }

  /**
   * Loss (and accuracy) of a model that learned only how often each label (or token) occurs in training;
   * classify's predicts `label`, the most frequent.
   */
  baseline(): { lossNats: number; accuracy: number; label?: string } {
    if (this.task === 'classify') {
      const counts = new Float64Array(this.labels.length);
      for (const l of this.trainSet.labels) counts[l]++;
      const n = this.trainSet.labels.length;
      let h = 0;
      for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
      const top = counts.indexOf(Math.max(...counts));
      let right = 0;
      for (const l of this.heldOut.labels) if (l === top) right++;
      return { lossNats: h, accuracy: this.heldOut.labels.length ? right / this.heldOut.labels.length : NaN, label: this.labels[top] };
    }
    const translate = this.task === 'translate';
    const counts = new Float64Array((translate ? this.targetTokenizer! : this.tokenizer).size);
    let n = 0;
    for (const s of translate ? this.trainSet.targets! : this.trainSet.ids) {
      for (const id of s) counts[id]++;
      n += s.length;
    }
    let h = 0;
    for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
    return { lossNats: h, accuracy: NaN };
  }

  /** Each label's share of the training examples. */
  labelShares(): Float64Array {
    const shares = new Float64Array(this.labels.length);
    for (const l of this.trainSet.labels) shares[l]++;
    const n = Math.max(1, this.trainSet.labels.length);
    for (let k = 0; k < shares.length; k++) shares[k] = shares[k]! / n;
    return shares;
  }

  /** Predictions and samples on the current weights (one predictor, made once: a model's buffers are never freed). */
  predictions(): TaskPredictor {
    this.predictor ??= new TaskPredictor(this.model, this.tokenizer, this.targetTokenizer);
    return this.predictor;
  }

  /** Parameters, `optimizer.*` state and the training record, for checkpoint.ts. */
  toCheckpoint(): Checkpoint {
    const tensors = new Map<string, NamedTensor>();
    for (const t of this.model.exportTensors()) tensors.set(t.name, t);
    for (const t of this.optimizer.stateTensors()) tensors.set(t.name, t);
    const record: TaskRecord = {
      train: this.train,
      updates: this.optimizer.updates,
      examples: this.examplesSeen,
      tokens: this.tokensSeen,
      elapsedMs: this.elapsedMs,
      rng: this.rng.state(),
      fileLines: this.fileLines,
      batches: this.batches.state(),
      textHash: this.textHash,
    };
    return {
      config: { ...this.modelConfig },
      tokenizer: this.tokenizer.spec(),
      ...(this.targetTokenizer !== null ? { targetTokenizer: this.targetTokenizer.spec() } : {}),
      tensors,
      metadata: { [TASK_TRAINING_KEY]: JSON.stringify(record), [HISTORY_KEY]: this.history.encode(this.optimizer.updates) },
    };
  }
}

/** A new run's history: trained here from update 0. */
function newHistory(): History {
  const h = History.parse(undefined);
  h.begin(HISTORY_SEGMENT, 0);
  return h;
}

function encodeSets(
  split: ReturnType<typeof splitExamples>,
  tokenizer: Tokenizer,
  targetTok: Tokenizer | null,
  config: ModelConfig,
  source: string,
): { train: Sequences; heldOut: Sequences } {
  if (config.task === 'translate') {
    if (targetTok === null) throw new RecurrentError('a translate checkpoint needs its target tokenizer');
    const o = { maxLength: config.maxLength ?? 0, source };
    return {
      train: encodeTranslations(split.train, tokenizer, targetTok, o),
      heldOut: encodeTranslations(split.heldOut, tokenizer, targetTok, o),
    };
  }
  const opts = { maxLength: config.maxLength ?? 0, endToken: config.task === 'generate', source };
  return {
    train: encodeExamples(split.train, tokenizer, config.labels!, opts),
    heldOut: encodeExamples(split.heldOut, tokenizer, config.labels!, opts),
  };
}

/** The token generate's and translate's decoders start from and end with; -1 for classify. */
export function endTokenOf(task: ExampleTask, tokenizer: Tokenizer, targetTokenizer: Tokenizer | null): number {
  if (task === 'classify') return -1;
  return (task === 'translate' ? targetTokenizer! : tokenizer).id(END_OF_TEXT)!;
}

/** translate's default tokens for a side: symbols when most of its lines have a space (`AH0 B AE1`), else characters. */
export function sideKind(texts: readonly string[]): TokenizerKind {
  let spaced = 0;
  for (const t of texts) if (/\s/.test(t)) spaced++;
  return spaced * 2 > texts.length ? 'symbol' : 'char';
}

/** Up to n of the examples, spread evenly over them (a held-out set is a random sample in file order). */
function spread(seqs: Sequences, n: number): Sequences {
  const total = seqs.ids.length;
  if (total <= n) return seqs;
  const pick = Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
  return {
    ...seqs,
    ids: pick.map((i) => seqs.ids[i]!),
    targets: seqs.targets && pick.map((i) => seqs.targets![i]!),
    references: seqs.references && pick.map((i) => seqs.references![i]!),
    labels: Int32Array.from(pick, (i) => seqs.labels[i]!),
    lines: Int32Array.from(pick, (i) => seqs.lines[i]!),
  };
}
