// Recurrent Studio's engine on the benchmark workloads: the same corpus, split and windows as the
// peers, through the public Trainer and sampling API. Compiled by the root tsc into out/bench/ and run
// by bench/run.mjs as a child process; prints one JSON line.
//   node out/bench/engine.js --workload W2 --seconds 3 --reps 3 --warmup 1 [--threads 2] [--backend reference]
//   node out/bench/engine.js --workload W2 --quality 60,300
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sotuText } from '../scripts/sotu.mjs';
import { setKernelBackend, type KernelBackend } from '../src/engine/backend.js';
import { DEFAULT_TRAIN, type CellKind, type OptimizerKind } from '../src/engine/config.js';
import { Rng } from '../src/engine/rng.js';
import { pickToken, SamplingScratch } from '../src/engine/sampling.js';
import { Trainer } from '../src/engine/trainer.js';
import { preferWasmKernelSet, type WasmKernelSet } from '../src/engine/wasmKernels.js';

interface Workload {
  title: string;
  cell: CellKind;
  hidden: number;
  layers: number;
  seq: number;
  batch: number;
  optimizer: OptimizerKind;
  lr: number;
  sampling?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = join(here, '..', '..', 'bench');
const workloads = JSON.parse(readFileSync(join(benchDir, 'workloads.json'), 'utf8')) as Record<string, Workload>;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const name = option('workload', 'W2');
const w = workloads[name];
if (w === undefined) throw new Error(`unknown workload ${name}`);
const seconds = Number(option('seconds', '3'));
const reps = Number(option('reps', '3'));
const warmup = Number(option('warmup', '1'));
const quality = option('quality', '');
// Both cores by default: the comparison runs PyTorch on one thread and lets us use two.
const threads = Number(option('threads', '2'));
setKernelBackend(option('backend', 'wasm') as KernelBackend);
// By default the fastest kernel set this runtime validates (relaxed SIMD from Node 22 on).
const kernelSet = option('kernel-set', '');
if (kernelSet) preferWasmKernelSet(kernelSet as WasmKernelSet);

// As bench/common.mjs reads it: the file RECURRENT_BENCH_CORPUS names, or else the State of the Union corpus.
const corpus = process.env['RECURRENT_BENCH_CORPUS'];
const text = corpus ? readFileSync(corpus, 'utf8') : sotuText();
const rssBefore = process.memoryUsage().rss;
const built = performance.now();
const trainer = Trainer.create(
  text,
  { task: 'lm', cell: w.cell, hidden: w.hidden, layers: w.layers, embedding: 0, bidirectional: false },
  {
    ...DEFAULT_TRAIN,
    batch: w.batch,
    k1: w.seq,
    k2: w.seq,
    optimizer: w.optimizer,
    lr: w.lr,
    clipNorm: 5,
    valShare: 0.1,
    evalEvery: 0,
    seed: 1,
    threads,
  },
  'char',
);
const buildMs = performance.now() - built;
const heapBytes = process.memoryUsage().arrayBuffers;

/**
 * Chars/s of `step` over `reps` stretches of `seconds` after a warm-up, and chars per CPU-second of the
 * whole process (every thread): on a shared machine the wall clock counts other people's work too,
 * the process's CPU time only what this work cost.
 */
function timeReps(step: () => number): { rates: number[]; cpuRates: number[] } {
  const now = (): number => performance.now() / 1000;
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let t0 = now();
  do step();
  while (now() - t0 < warmup);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < reps; r++) {
    let chars = 0;
    t0 = now();
    const c0 = cpu();
    let t: number;
    do {
      chars += step();
      t = now();
    } while (t - t0 < seconds);
    rates.push(chars / (t - t0));
    cpuRates.push(chars / (cpu() - c0));
  }
  return { rates, cpuRates };
}

const common = {
  peer: 'recurrent',
  workload: name,
  backend: trainer.model.arena.backend,
  kernels: trainer.model.arena.wasmHeap?.kernels.set ?? 'reference',
  runtime: process.version,
  threads: trainer.threads,
  buildMs,
  arrayBufferBytes: heapBytes,
};

/**
 * Bytes a training step must hold however it is computed: parameters with their gradients and optimizer
 * state; per position and stream the gate activations and states backpropagation reads (LSTM i f g o, c,
 * h; GRU r z n, h, and W_hn h + b_hn; RNN h) in every layer, and the logits.
 */
function mustHoldBytes(): number {
  const P = trainer.model.parameterCount;
  const copies = { sgd: 3, adagrad: 3, rmsprop: 3, adam: 4, adamw: 4 }[w!.optimizer];
  const perPosition = { lstm: 6, gru: 5, rnn: 1 }[w!.cell] * w!.hidden * w!.layers + trainer.modelConfig.vocabSize;
  return 4 * (copies * P + w!.seq * w!.batch * perPosition);
}

if (quality !== '') {
  // Wall-clock quality: validation bits/char after each mark of training time (validation not timed).
  const out: Array<{ seconds: number; bitsPerChar: number; tokens: number }> = [];
  let trained = 0;
  let tokens = 0;
  for (const mark of quality.split(',').map(Number)) {
    while (trained < mark) {
      const t0 = performance.now();
      trainer.step();
      trained += (performance.now() - t0) / 1000;
      tokens += w.batch * w.seq;
    }
    out.push({ seconds: mark, bitsPerChar: trainer.validate().bitsPerToken, tokens });
  }
  process.stdout.write(JSON.stringify({ ...common, quality: out }) + '\n');
  trainer.close();
} else if (w.sampling === true) {
  const stepper = trainer.stepper();
  const scratch = new SamplingScratch(trainer.modelConfig.vocabSize);
  const rng = new Rng(1);
  const opts = { temperature: 1, topK: 0, topP: 1, greedy: false };
  let token = 0;
  const { rates, cpuRates } = timeReps(() => {
    token = pickToken(stepper.feed(token), opts, rng, scratch);
    return 1;
  });
  process.stdout.write(
    JSON.stringify({ ...common, charsPerSecond: median(rates), reps: rates, charsPerCpuSecond: median(cpuRates) }) + '\n',
  );
} else {
  const chars = w.batch * w.seq;
  const { rates, cpuRates } = timeReps(() => {
    trainer.step();
    return chars;
  });
  // Resident growth from before the trainer was built, once it has trained: everything it touched,
  // including the worker threads' own runtimes.
  const memory = {
    residentGrowthBytes: process.memoryUsage().rss - rssBefore,
    heapUsedBytes: trainer.model.arena.wasmHeap?.usedBytes ?? null,
    mustHoldBytes: mustHoldBytes(),
  };
  process.stdout.write(
    JSON.stringify({ ...common, charsPerSecond: median(rates), reps: rates, charsPerCpuSecond: median(cpuRates), memory }) + '\n',
  );
}
