// How much memory training a model takes, known from its configuration before a byte is allocated: a
// run whose windows cannot fit in the engine's WebAssembly memory (4 GiB) or in the machine is refused
// with the settings to lower, instead of failing halfway through building its buffers. The figure follows
// what the constructors allocate (model.ts, unroll.ts, the cells, optimizer.ts, replicas.ts, trainer.ts,
// including what the trainer allocates later: validation, checkpoint copies, the sampler); a unit test
// holds it against the bytes a real trainer's heap has used.
import type { ModelConfig, TrainConfig } from './config.js';
import { RecurrentError } from './errors.js';
import { parameterShapes } from './parameters.js';
import { WASM_MAX_PAGES, WASM_PAGE_BYTES } from './wasmKernels.js';
import { PACK_BYTES } from './wasmHeap.js';

/** The most a WebAssembly memory can hold, and so the most one model's training can use. */
export const WASM_MEMORY_BYTES = WASM_MAX_PAGES * WASM_PAGE_BYTES;

/** Each buffer starts 16-byte aligned: at most this much padding per allocation. */
const ALIGN = 16;
const GATES = { rnn: 1, lstm: 4, gru: 3 } as const;
/** The validation network's streams and window (trainer.ts). */
const VALIDATION_STREAMS = 16;
const VALIDATION_WINDOW = 128;
/** Control words of each training thread (replicas.ts). */
const CONTROL_WORDS = 16;

export interface TrainingMemory {
  /** Everything, in bytes. */
  bytes: number;
  /** The part that grows with the batch and the window (activations of the unrolled network). */
  windowBytes: number;
}

class Tally {
  bytes = 0;
  add(words: number): void {
    this.bytes += words * 4 + ALIGN;
  }
}

/** Buffers of Unrolled(cfg, B, T): ids, targets, logits, embedding, each layer's cells, the decoder's none. */
function unrolled(t: Tally, cfg: ModelConfig, B: number, T: number, wasm: boolean): void {
  const { hidden: H, vocabSize: V, embedding: E } = cfg;
  const g = GATES[cfg.cell];
  const D = cfg.bidirectional ? 2 : 1;
  t.add(T * B);
  t.add(T * B);
  t.add(T * B * V);
  if (E > 0) {
    t.add(T * B * E);
    t.add(T * B * E);
  }
  for (let k = 0; k < cfg.layers; k++) {
    for (let d = 0; d < D; d++) {
      const inputSize = k === 0 ? E || V : H * D;
      t.add((T + 1) * B * H); // h
      t.add(T * B * H); // dh
      t.add(B * H); // dhInit
      t.add(T * B * g * H); // act
      if (cfg.cell === 'gru') t.add(T * B * g * H); // dIn (the LSTM's and RNN's is act)
      if (k === 0 && E === 0 && wasm) t.add(inputSize * g * H); // one-hot scratch
      if (cfg.cell === 'lstm') {
        t.add((T + 1) * B * H);
        t.add(T * B * H);
        t.add(B * H);
      } else if (cfg.cell === 'gru') {
        t.add(T * B * H);
        t.add(B * 3 * H);
        t.add(T * B * 3 * H);
      }
    }
    if (D === 2) {
      t.add(T * B * 2 * H);
      t.add(T * B * 2 * H);
    }
  }
}

function optimizerSlots(train: TrainConfig): number {
  switch (train.optimizer) {
    case 'adam':
    case 'adamw':
      return 2;
    case 'sgd':
      return train.momentum > 0 ? 1 : 0;
    default:
      return 1;
  }
}

/** The bytes training `model` with `train` allocates (in the wasm heap when `wasm`, else as plain arrays). */
export function trainingMemory(model: ModelConfig, train: TrainConfig, wasm = true): TrainingMemory {
  const params = parameterShapes(model).map((p) => p.shape.reduce((a, b) => a * b, 1));
  const P = params.reduce((a, b) => a + b, 0);
  const B = train.batch;
  const blocks = model.layers * (model.bidirectional ? 2 : 1) * (model.cell === 'lstm' ? 2 : 1);
  const threads = wasm ? Math.min(train.threads, B) : 1;
  const t = new Tally();
  if (wasm) t.bytes += PACK_BYTES + ALIGN;
  for (const n of params) {
    t.add(n); // data
    t.add(n); // grad
  }
  const before = t.bytes;
  // The training network: all B streams, or with threads the training thread's share and each other thread's.
  const cut = (r: number): number => Math.floor((r * B) / threads);
  if (threads > 1) {
    t.add(blocks * cut(1) * model.hidden);
    for (let r = 1; r < threads; r++) {
      t.add(PACK_BYTES / 4);
      for (const n of params) t.add(n);
      unrolled(t, model, cut(r + 1) - cut(r), train.k2, wasm);
      t.add(blocks * (cut(r + 1) - cut(r)) * model.hidden);
      t.add(CONTROL_WORDS);
    }
  }
  unrolled(t, model, threads > 1 ? cut(1) : B, train.k2, wasm);
  const windowBytes = t.bytes - before;
  t.add(blocks * B * model.hidden); // carried state
  for (const n of params) for (let s = 0; s < optimizerSlots(train); s++) t.add(n);
  t.add(blocks * model.hidden); // probe state
  // Allocated later, once: the validation network, the checkpoint's copies, the sampler.
  unrolled(t, model, VALIDATION_STREAMS, VALIDATION_WINDOW, wasm);
  t.add(blocks * VALIDATION_STREAMS * model.hidden);
  t.add(P);
  t.add(blocks * B * model.hidden);
  const g = GATES[model.cell];
  t.add(model.layers * 2 * model.hidden + model.vocabSize + 2 * g * model.hidden + model.hidden + 64);
  return { bytes: t.bytes, windowBytes };
}

/** What a run too large for memory can lower, with the values it has now. */
export interface MemorySettings {
  batch: number;
  k2: number;
  hidden: number;
  vocabulary: number;
}

/** How a front end names each setting: the command line's options, the extension's settings. */
export interface MemorySettingNames {
  batch: string;
  window: string;
  hidden: string;
  vocabulary: string;
}

const CONFIG_NAMES: MemorySettingNames = {
  batch: 'the batch',
  window: 'the window (k2)',
  hidden: 'the hidden size',
  vocabulary: 'the vocabulary',
};

/** Training needs more memory than it may have. `limit` says which limit, so a front end can say what to lower. */
export class MemoryError extends RecurrentError {
  constructor(
    readonly needBytes: number,
    readonly limitBytes: number,
    readonly limit: 'wasm' | 'machine',
    /** Whether the windows (batch x k2) take most of it, rather than the parameters. */
    readonly windowsDominate: boolean,
    readonly settings: MemorySettings,
  ) {
    super('');
    this.message = this.withNames(CONFIG_NAMES);
  }

  /** The message with a front end's names for the settings. */
  withNames(names: MemorySettingNames): string {
    const size = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(b / 2 ** 20)} MiB`);
    const room =
      this.limit === 'wasm'
        ? `the ${size(this.limitBytes)} of WebAssembly memory a model trains in`
        : `this machine's ${size(this.limitBytes)}`;
    const s = this.settings;
    const lower = this.windowsDominate
      ? `lower ${names.batch} (${s.batch}) or ${names.window} (${s.k2}), which it grows with, or ${names.hidden} (${s.hidden})`
      : `lower ${names.hidden} (${s.hidden}) or ${names.vocabulary} (${s.vocabulary} tokens)`;
    return `training this model needs about ${size(this.needBytes)}, more than ${room}: ${lower}`;
  }
}

/**
 * Refuses, before anything is allocated, a training run that needs more than `machineBytes` or (with the
 * wasm kernels) more than a WebAssembly memory holds.
 */
export function checkTrainingMemory(model: ModelConfig, train: TrainConfig, wasm: boolean, machineBytes = Infinity): void {
  const m = trainingMemory(model, train, wasm);
  const windows = m.windowBytes > m.bytes / 2;
  const settings = { batch: train.batch, k2: train.k2, hidden: model.hidden, vocabulary: model.vocabSize };
  if (wasm && m.bytes > WASM_MEMORY_BYTES) throw new MemoryError(m.bytes, WASM_MEMORY_BYTES, 'wasm', windows, settings);
  if (m.bytes > machineBytes) throw new MemoryError(m.bytes, machineBytes, 'machine', windows, settings);
}
