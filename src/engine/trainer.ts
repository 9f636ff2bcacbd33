// Training a language model on one text with truncated backpropagation through time (TBPTT(k1, k2)):
// B streams read the training tokens contiguously (streams.ts); each update runs the window of the last
// k2 tokens of every stream from the state carried to the window's start, takes the loss on the window's
// last k1 positions only, backpropagates through all k2 steps, and carries the state after step k1 to the
// next window, which starts k1 tokens later. The carried state is a plain copy: the graph is cut at the
// window edge. With k1 = k2 = T this is full BPTT on consecutive windows of T.
//
// The objective of an update is the mean loss over its B * k1 predicted tokens (what PyTorch's
// CrossEntropyLoss averages), so learning rates and clipping thresholds carry over from PyTorch.
// Everything a step touches is allocated when the trainer is made; step() allocates nothing.
import { validateModelConfig, validateTrainConfig, type ModelConfig, type TokenizerKind, type TrainConfig } from './config.js';
import type { Checkpoint } from './checkpoint.js';
import { clipGradients, newClipResult } from './clip.js';
import { RecurrentError } from './errors.js';
import type { Floats } from './floats.js';
import { checkTrainingMemory } from './memory.js';
import type { ClipEvent, GateProbe, GradientFlow, StepMetrics, TensorNorms, TokenLossProbe, ValidationMetrics } from './measurements.js';
import { History, HISTORY_KEY } from './history.js';
import { Model } from './model.js';
import { createOptimizer, type Optimizer } from './optimizer.js';
import { probeGates, probeGradientFlow, probeTokenLoss, tensorNorms, type ProbeWorkspace } from './probes.js';
import { kernelBackend } from './backend.js';
import { Rng, type RngState } from './rng.js';
import type { NamedTensor } from './safetensors.js';
import type { Stepper } from './sampling.js';
import { learningRateAt } from './schedule.js';
import { copyStreams, Streams } from './streams.js';
import { BatchSplit } from './replicas.js';
import { trainerLossWindows, type LossWindows } from './textLoss.js';
import { Tokenizer } from './tokenizer.js';
import {
  carriedStateTensors,
  hashTokens,
  loadCarriedState,
  readTrainingRecord,
  TRAINING_KEY,
  type TrainingRecord,
} from './trainingRecord.js';
import type { Unrolled } from './unroll.js';
import { Validation } from './validation.js';

/** How this program names itself in a run's history (history.ts); train.py names itself `pytorch`. */
export const HISTORY_SEGMENT = { by: 'recurrent-studio' } as const;

export class Trainer {
  readonly model: Model;
  readonly tokenizer: Tokenizer;
  readonly train: TrainConfig;
  readonly modelConfig: ModelConfig;
  /** Tokens in the training split (the start of the text) and the validation split (its end). */
  readonly trainTokens: number;
  readonly validationTokens: number;
  /** Where the run trained and its curves, carried from checkpoint to checkpoint (history.ts). */
  readonly history: History;

  private readonly tokens: Int32Array;
  private readonly textHash: number;
  /** The training thread's network: all B streams, or with threads its share of them (split.mainBatch). */
  private readonly net: Unrolled;
  /** The other threads' shares of each update, when threads > 1 and the model lives in a wasm heap. */
  private readonly split: BatchSplit | null;
  private readonly optimizer: Optimizer;
  private readonly streams: Streams;
  /** [layers, directions, states (h, c), B, H] the state carried to each stream's next window. */
  private readonly state: Floats;
  /** [B] 1 where a stream starts its next window from a zero state. */
  private readonly fresh: Uint8Array;
  private readonly rng: Rng;
  private readonly clip = newClipResult();
  private readonly clipEvent: ClipEvent;
  /** [B] token spans [start, end) of the windows the last update read (inputs and targets). */
  private readonly windows: Array<[number, number]>;
  private clippedLast = false;
  private lrOverride: number | null = null;
  private readonly metrics: StepMetrics;
  private tokensSeen = 0;
  private elapsedMs = 0;
  private runTokens = 0;
  private runMs = 0;
  private readonly probeSpace: ProbeWorkspace;
  private scratch: { grads: Floats; state: Floats; positions: Float64Array } | null = null;
  private readonly validation: Validation;
  private unigram: number | null = null;
  private sampler: Stepper | null = null;
  /**
   * How a resumed run goes on: 'exact' where it stopped (the same text: stream positions and carried
   * state restored), 'other text' (weights, optimizer and update count carried over, the streams started
   * afresh on a text that is not the one saved), 'weights only' (a checkpoint without training state).
   * Null for a new run.
   */
  continuation: 'exact' | 'other text' | 'weights only' | null = null;
  private lossRunner: LossWindows | null = null;

  private constructor(
    tokens: Int32Array,
    tokenizer: Tokenizer,
    modelConfig: ModelConfig,
    train: TrainConfig,
    model: Model,
    rng: Rng,
    history: History = History.parse(undefined),
  ) {
    const N = tokens.length;
    const validationTokens = Math.floor(N * train.valShare);
    const trainTokens = N - validationTokens;
    if (trainTokens < train.k2 + 1) {
      throw new RecurrentError(
        `the text has ${trainTokens} training tokens, too few for one window of k2 = ${train.k2} tokens and its targets; use a longer text or a shorter window (k2, --seq)`,
      );
    }
    this.tokens = tokens;
    this.textHash = hashTokens(tokens);
    this.tokenizer = tokenizer;
    this.modelConfig = modelConfig;
    this.train = train;
    this.model = model;
    this.rng = rng;
    this.history = history;
    this.trainTokens = trainTokens;
    this.validationTokens = validationTokens;
    this.validation = new Validation(model, tokens, trainTokens, validationTokens);
    const B = train.batch;
    // Threads need whole streams and a shared memory; the reference kernels (plain arrays) run on one.
    const threads = Math.min(train.threads, B);
    this.split = threads > 1 && model.arena.wasmHeap !== null ? new BatchSplit(model, B, train.k2, threads) : null;
    this.net = model.unroll(this.split?.mainBatch ?? B, train.k2);
    this.state = model.arena.floats(this.net.stateSize(B));
    this.fresh = new Uint8Array(B);
    this.streams = new Streams(trainTokens, B, train.k1, train.k2, train.resetEvery);
    this.optimizer = createOptimizer(train, model.params, (n) => model.arena.floats(n));
    this.windows = Array.from({ length: B }, () => [0, 0] as [number, number]);
    this.clipEvent = {
      step: 0,
      mode: 'norm',
      normBefore: 0,
      normAfter: 0,
      spans: Array.from({ length: B }, () => [0, 0] as [number, number]),
    };
    this.metrics = {
      step: 0,
      tokens: 0,
      lossNats: 0,
      bitsPerToken: 0,
      lr: 0,
      gradNorm: 0,
      clipped: false,
      elapsedMs: 0,
      tokensPerSecond: 0,
    };
    this.probeSpace = { net: this.net, state: model.arena.floats(this.net.stateSize(1)) };
  }

  /** A new run: builds the vocabulary from `text`, initialises the model from `train.seed`. */
  static create(
    text: string,
    model: Omit<ModelConfig, 'vocabSize'>,
    train: TrainConfig,
    tokenizer: TokenizerKind,
    opts: { maxVocab?: number; memoryBytes?: number } = {},
  ): Trainer {
    const tok = Tokenizer.build(text, tokenizer, opts);
    const modelConfig = validateModelConfig({ ...model, vocabSize: tok.size });
    const trainConfig = validateTrainConfig(train);
    checkTrainingMemory(modelConfig, trainConfig, kernelBackend() === 'wasm', opts.memoryBytes);
    const rng = new Rng(trainConfig.seed);
    const m = new Model(modelConfig);
    m.initialize(rng);
    const t = new Trainer(tok.encode(text), tok, modelConfig, trainConfig, m, rng);
    t.history.begin(HISTORY_SEGMENT, 0);
    return t;
  }

  /**
   * Continues a run saved by toCheckpoint: parameters, optimizer state, update count, rng, and, when
   * `text` is the text it was trained on, each stream's position and carried state, so the run goes on
   * as if it had never stopped. On another text the streams start afresh. A checkpoint without training
   * state (e.g. exported from PyTorch) starts a new run from its weights with the default settings.
   */
  static resume(text: string, checkpoint: Checkpoint, overrides: { threads?: number; memoryBytes?: number } = {}): Trainer {
    const tok = Tokenizer.fromSpec(checkpoint.tokenizer);
    const tokens = tok.encode(text);
    const record = readTrainingRecord(checkpoint) ?? {};
    // Threads are the machine's, not the run's: the resuming side may choose another count.
    const train = validateTrainConfig({
      ...(record.train ?? {}),
      ...(overrides.threads !== undefined ? { threads: overrides.threads } : {}),
    });
    const rngOk = Array.isArray(record.rng) && record.rng.length === 4 && record.rng.every((x) => Number.isInteger(x));
    const rng = rngOk ? Rng.fromState(record.rng as RngState) : new Rng(train.seed);
    checkTrainingMemory(checkpoint.config, train, kernelBackend() === 'wasm', overrides.memoryBytes);
    const model = new Model(checkpoint.config);
    model.loadTensors(checkpoint.tensors);
    const t = new Trainer(tokens, tok, checkpoint.config, train, model, rng, History.parse(checkpoint.metadata[HISTORY_KEY]));
    t.continuation = checkpoint.metadata[TRAINING_KEY] === undefined ? 'weights only' : 'other text';
    if (checkpoint.metadata[TRAINING_KEY] !== undefined) {
      const updates = record.updates ?? 0;
      t.optimizer.loadState(checkpoint.tensors, updates);
      t.tokensSeen = typeof record.tokens === 'number' ? record.tokens : 0;
      t.validation.trainedAt(t.tokensSeen);
      t.elapsedMs = typeof record.elapsedMs === 'number' ? record.elapsedMs : 0;
      if (record.textTokens === tokens.length && record.textHash === t.textHash && Array.isArray(record.positions)) {
        t.streams.restore(record.positions);
        loadCarriedState(t.modelConfig, t.train.batch, checkpoint.tensors, t.state);
        t.continuation = 'exact';
      }
    }
    t.history.begin(HISTORY_SEGMENT, t.updates);
    return t;
  }

  /** Stops the trainer's worker threads (threads > 1); the trainer must not step afterwards. Idempotent. */
  close(): void {
    this.split?.close();
  }

  /** Threads that run each update: train.threads, or fewer where the batch or the backend allows fewer. */
  get threads(): number {
    return this.split?.threads ?? 1;
  }

  get updates(): number {
    return this.optimizer.updates;
  }

  /**
   * One update. If the loss or the gradient is not finite, nothing changes (parameters, optimizer,
   * streams) and lossNats is NaN or infinite, so the caller can stop and keep the last good state. If
   * the update itself left a parameter non-finite, lossNats is NaN as well, and the parameters are no
   * longer a state to keep (model.parametersFinite() is false). The returned object is reused by the next call.
   */
  step(): StepMetrics {
    const started = performance.now();
    const { batch: B, k1, k2 } = this.train;
    const { net, model, streams } = this;
    const from = k2 - k1;
    const m = this.metrics;
    this.clippedLast = false;

    streams.freshStarts(this.fresh, this.optimizer.updates);
    this.clearFresh(this.state, this.fresh);
    for (let b = 0; b < B; b++) {
      const w = this.windows[b]!;
      w[0] = streams.positions[b]!;
      w[1] = streams.positions[b]! + k2 + 1;
    }
    const count = B * k1;
    const split = this.split;
    const mainB = split?.mainBatch ?? B;
    if (split === null) {
      streams.fill(this.tokens, net.ids, net.targets);
      net.setState(this.state, B, k2);
    } else {
      split.fill(streams, this.tokens, net.ids, net.targets, this.state);
      split.start(k2, from, k1, 1 / count);
      net.setState(split.mainState, mainB, k2);
    }
    net.forward(mainB, k2);
    net.decode(mainB, k2, from);
    // Loss and dL/dlogits in one pass. This thread's backward runs while the other threads work on
    // theirs; a loss that is not finite anywhere leaves the parameters, optimizer and streams as they were.
    let lossSum = net.lossAndGradient(mainB, k2, from, 1 / count);
    if (Number.isFinite(lossSum)) {
      model.zeroGrads();
      net.backward(mainB, k2, from, 1 / count);
    }
    if (split !== null) lossSum += split.finish();
    const lossNats = lossSum / count;
    m.step = this.optimizer.updates;
    m.lossNats = lossNats;
    m.bitsPerToken = lossNats / Math.LN2;
    m.lr = this.lrOverride ?? learningRateAt(this.train, this.optimizer.updates);
    m.clipped = false;
    m.gradNorm = NaN;
    if (!Number.isFinite(lossNats)) return this.finishMetrics(started, 0);

    split?.addGradients(model.params);
    const clip = clipGradients(model.params, this.train.clipNorm, this.train.clipValue, this.clip);
    m.gradNorm = clip.normBefore;
    if (!Number.isFinite(clip.normBefore)) {
      m.lossNats = NaN;
      m.bitsPerToken = NaN;
      return this.finishMetrics(started, 0);
    }
    this.optimizer.step(m.lr);
    if (!model.parametersFinite()) {
      // Finite gradients can still carry a weight past the float range (SGD with a huge step): the
      // run cannot go on, and these weights must not be saved as a good state.
      m.lossNats = NaN;
      m.bitsPerToken = NaN;
      return this.finishMetrics(started, 0);
    }
    m.clipped = clip.clipped;
    if (clip.clipped) {
      const e = this.clipEvent;
      e.step = this.optimizer.updates;
      e.mode = clip.mode === 'value' ? 'value' : 'norm';
      e.normBefore = clip.normBefore;
      e.normAfter = clip.normAfter;
      for (let b = 0; b < B; b++) {
        e.spans[b]![0] = this.windows[b]![0];
        e.spans[b]![1] = this.windows[b]![1];
      }
      this.clippedLast = true;
    }
    // Carry the state after step k1: where the next window, k1 tokens on, starts.
    if (split === null) {
      net.getState(this.state, B, k2, k1);
    } else {
      net.getState(split.mainState, mainB, k2, k1);
      split.gatherState(this.state);
    }
    streams.advance();
    m.step = this.optimizer.updates;
    this.finishMetrics(started, count);
    this.history.record(m);
    return m;
  }

  private finishMetrics(started: number, tokens: number): StepMetrics {
    const ms = performance.now() - started;
    this.elapsedMs += ms;
    this.runMs += ms;
    this.tokensSeen += tokens;
    this.runTokens += tokens;
    const m = this.metrics;
    m.tokens = this.tokensSeen;
    m.elapsedMs = this.elapsedMs;
    m.tokensPerSecond = this.runMs > 0 ? (this.runTokens * 1000) / this.runMs : 0;
    return m;
  }

  /** Zeroes the carried state of streams that start their next window afresh. */
  private clearFresh(state: Floats, fresh: Uint8Array): void {
    const B = this.train.batch;
    const H = this.modelConfig.hidden;
    const blocks = state.length / (B * H);
    for (let b = 0; b < B; b++) {
      if (fresh[b] === 0) continue;
      for (let k = 0; k < blocks; k++) state.fill(0, (k * B + b) * H, (k * B + b + 1) * H);
    }
  }

  /** The clip of the last step, if it clipped; the object is reused by later steps. */
  lastClip(): ClipEvent | null {
    return this.clippedLast ? this.clipEvent : null;
  }

  /**
   * Token spans [start, end) in the training text of the window each stream read in the last step
   * (inputs and the targets after them), [0, 0] before the first; reused by later steps. A step stopped
   * by a non-finite loss or gradient names its windows too, so the editor can say where training broke.
   */
  lastWindows(): ReadonlyArray<readonly [number, number]> {
    return this.windows;
  }

  /** Overrides the schedule's learning rate from the next step on; null returns to the schedule. */
  setLearningRate(lr: number | null): void {
    if (lr !== null && !(Number.isFinite(lr) && lr > 0)) throw new RecurrentError(`the learning rate must be a positive number, got ${lr}`);
    this.lrOverride = lr;
  }

  private scratchSpace(): NonNullable<Trainer['scratch']> {
    if (this.scratch === null) {
      const arena = this.model.arena;
      this.scratch = {
        grads: arena.floats(this.model.parameterCount),
        state: arena.floats(this.state.length),
        positions: new Float64Array(this.train.batch),
      };
    }
    return this.scratch;
  }

  /** Mean loss over the validation split from a zero state: 'full' all of it, 'sample' a fixed sample (validation.ts). */
  validate(scope: 'sample' | 'full' = 'full'): ValidationMetrics {
    const v = this.validation.run(scope, this.optimizer.updates, this.tokensSeen);
    v.diverged = this.validation.diverged(v, this.unigramBits());
    this.history.recordValidation(v);
    return v;
  }

  /** Whether a periodic validation is due after this update (every evalEvery updates, spaced by tokens trained). */
  validationDue(): boolean {
    return this.validation.due(this.train.evalEvery, this.updates, this.tokensSeen);
  }

  /** Whether a validation result says the run has diverged (validation.ts). */
  diverged(v: ValidationMetrics): boolean {
    return this.validation.diverged(v, this.unigramBits());
  }

  /**
   * How far gradient reaches back in the next training window (as step() would read it), without
   * changing parameters, gradients, streams or carried state. Losses are summed over positions and
   * averaged over streams: fromLast for the loss at the window's last position alone, perStep for the
   * loss of every position.
   */
  gradientFlow(): GradientFlow {
    const { net, streams } = this;
    // This thread's streams only (all of them with one thread): a probe, not an update.
    const B = net.maxBatch;
    const sc = this.scratchSpace();
    sc.positions.set(streams.positions);
    sc.state.set(this.state);
    const fresh = new Uint8Array(this.train.batch);
    streams.freshStarts(fresh, this.optimizer.updates);
    this.clearFresh(sc.state, fresh);
    streams.fill(this.tokens, net.ids, net.targets, 0, B);
    const start = streams.positions[0]!;
    streams.positions.set(sc.positions);
    // The first B streams' state in the layout for B, in place (it is a copy).
    if (B < this.train.batch) copyStreams(sc.state, this.train.batch, 0, sc.state, B, 0, B, this.modelConfig.hidden);
    return probeGradientFlow(this.model, net, sc.state, B, this.train.k2, sc.grads, { step: this.optimizer.updates, start });
  }

  probeGates(text: string): GateProbe {
    return probeGates(this.model, this.tokenizer, text, this.probeSpace);
  }

  probeTokenLoss(text: string, k = 5): TokenLossProbe {
    return probeTokenLoss(this.model, this.tokenizer, text, k, this.probeSpace);
  }

  tensorNorms(): TensorNorms[] {
    return tensorNorms(this.model.params);
  }

  /** Entropy in bits of the training tokens' unigram distribution: the loss of a model that learned only frequencies. */
  unigramBits(): number {
    if (this.unigram === null) {
      const counts = new Float64Array(this.modelConfig.vocabSize);
      for (let i = 0; i < this.trainTokens; i++) counts[this.tokens[i]!]++;
      let h = 0;
      for (const c of counts) if (c > 0) h -= (c / this.trainTokens) * Math.log2(c / this.trainTokens);
      this.unigram = h;
    }
    return this.unigram;
  }

  /** Windows of per-position loss on this trainer's networks and threads, for a whole text's loss (textLoss.ts). */
  lossWindows(): LossWindows {
    return (this.lossRunner ??= trainerLossWindows(this.model, this.net, this.split));
  }

  /**
   * The model's batch-1 stepper on the current weights, made once and shared by every caller (a model's
   * buffers are never freed one by one, so one per sample would grow memory): generate one text at a time.
   */
  stepper(): Stepper {
    if (this.sampler === null) this.sampler = this.model.stepper();
    return this.sampler;
  }

  /** Parameters, `optimizer.*` state, the carried `state.*` and the training record, for checkpoint.ts. */
  toCheckpoint(): Checkpoint {
    const tensors = new Map<string, NamedTensor>();
    for (const t of this.model.exportTensors()) tensors.set(t.name, t);
    for (const t of this.optimizer.stateTensors()) tensors.set(t.name, t);
    for (const t of carriedStateTensors(this.modelConfig, this.train.batch, this.state)) tensors.set(t.name, t);
    const record: TrainingRecord = {
      train: this.train,
      updates: this.optimizer.updates,
      tokens: this.tokensSeen,
      elapsedMs: this.elapsedMs,
      rng: this.rng.state(),
      positions: Array.from(this.streams.positions),
      textTokens: this.tokens.length,
      textHash: this.textHash,
    };
    return {
      config: { ...this.modelConfig },
      tokenizer: this.tokenizer.spec(),
      tensors,
      metadata: { [TRAINING_KEY]: JSON.stringify(record), [HISTORY_KEY]: this.history.encode(this.optimizer.updates) },
    };
  }
}
