// Both cores for one update: the B streams of a batch are independent until their gradients are summed,
// so threads - 1 worker threads each run a share of the streams (forward, loss, backward) through
// their own copy of the unrolled network, while the training thread runs the first share. All of them
// live in the model's one shared WebAssembly memory: the workers read the parameters where the trainer
// updates them and write their gradients into buffers of their own, which the training thread adds into
// the model's before clipping and the optimizer step, so the update equals one thread's within float32
// rounding of that sum.
//
// The training thread builds every replica's buffers itself while its heap records where they land
// (wasmHeap.ts AllocationPlan); a worker replays the plan, so the same constructors there give views
// of the same bytes. Commands and results pass through a few words of shared memory with
// Atomics.wait/notify: a step costs two wake-ups per worker, no message, no copy, no allocation. A
// thread polls those words for a few milliseconds before it sleeps (awaitValue, awaitChange): a sleeping
// thread's core idles, and on a virtual machine's cores waking it again took about 0.6 ms, a few per cent
// of a translate update, while the gaps the threads wait through between updates are shorter than that poll.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { addInto } from './backend.js';
import { copyStreams, type Streams } from './streams.js';
import { RecurrentError } from './errors.js';
import type { Floats } from './floats.js';
import type { Model } from './model.js';
import type { Param } from './parameters.js';
import { Unrolled } from './unroll.js';
import { PACK_BYTES, type AllocationPlan } from './wasmHeap.js';
import type { WasmKernelSet, WasmMemory } from './wasmKernels.js';
import type { ModelConfig } from './config.js';

/** How long a training thread polls a control word before it sleeps on it. */
const POLL_MS = 5;

/** Waits until words[i] holds `target` (the training thread, for a worker's Done). */
export function awaitValue(words: Int32Array, i: number, target: number): void {
  const until = performance.now() + POLL_MS;
  let v: number;
  while ((v = Atomics.load(words, i)) !== target) if (performance.now() > until) Atomics.wait(words, i, v, 1000);
}

/** Waits until words[i] no longer holds `value` (a worker, for the next command's Seq). */
export function awaitChange(words: Int32Array, i: number, value: number): void {
  const until = performance.now() + POLL_MS;
  while (Atomics.load(words, i) === value) if (performance.now() > until) Atomics.wait(words, i, value, 1000);
}

/** Words of a replica's control block (Int32 indices; the two float64 slots overlay words 12-15). */
export const CONTROL_WORDS = 16;
export const Control = {
  /** Bumped by the training thread for each command. */
  Seq: 0,
  /** Set by the worker to the Seq it has finished. */
  Done: 1,
  Op: 2,
  Batch: 3,
  Steps: 4,
  From: 5,
  Carry: 6,
  /** 0 ok, 1 failed (the message waits on the error port). */
  Status: 7,
  /** 1 once the worker has built its replica, 2 if it could not. */
  Ready: 8,
  /** The worker's kernel set (KERNEL_SET_CODES), written before Ready. */
  KernelSet: 9,
  /** Reduce and Adam (parallelUpdate.ts): byte offsets of the table and of the scalars; Batch holds the thread's part. */
  Table: 10,
  Scalars: 11,
  /** Float64 index of the gradient scale, and of the summed loss the worker returns. */
  Scale64: 6,
  Loss64: 7,
} as const;
/**
 * Step: forward, loss and backward of a training window. Losses: forward and each position's loss, for
 * textLoss.ts. Reduce and Adam: the two phases of the update over the thread's slices (parallelUpdate.ts).
 */
export const Op = { Step: 1, Stop: 2, Losses: 3, Reduce: 4, Adam: 5 } as const;
/** How a worker reports the kernel set it runs in its control block. */
export const KERNEL_SET_CODES: Record<WasmKernelSet, number> = { simd: 1, 'relaxed-simd': 2 };

/** What a worker needs to rebuild its replica over the shared memory. */
export interface ReplicaSetup {
  memory: WasmMemory;
  /** The training thread's kernels: a worker choosing its own could round differently. */
  kernelSet: WasmKernelSet;
  config: ModelConfig;
  batch: number;
  steps: number;
  packScratch: number;
  plan: AllocationPlan;
  /** Byte offsets of the model's parameters, in model.params order. */
  params: Array<{ name: string; shape: number[]; offset: number }>;
  errors: MessagePort;
  /** A classify or generate model's replica (taskReplicas.ts) instead of the language model's; its end token. */
  task?: { endToken: number };
}

/**
 * What every replica allocates, in this order, on the thread that owns the heap (recording) and on the
 * worker (replaying): its gradients, its unrolled network, its carried state, the loss of each
 * position of a window (for Op.Losses), its control words.
 */
export function buildReplica(
  model: { config: ModelConfig; arena: Model['arena'] },
  params: readonly Param[],
  batch: number,
  steps: number,
) {
  const arena = model.arena;
  const own = params.map((p) => ({ name: p.name, shape: p.shape, data: p.data, grad: arena.floats(p.data.length) }));
  const byName = new Map(own.map((p) => [p.name, p]));
  const net = new Unrolled(
    {
      config: model.config,
      arena,
      param: (name) => {
        const p = byName.get(name);
        if (p === undefined) throw new Error(`replica: no parameter ${name}`);
        return p;
      },
    },
    batch,
    steps,
  );
  const state = arena.floats(net.stateSize(batch));
  const losses = arena.floats(batch * steps);
  // Last, where a worker that could not build its replica finds it to say so (replicaWorker.ts).
  const control = arena.ints(CONTROL_WORDS);
  return { grads: own.map((p) => p.grad), net, state, control, losses };
}

/** The worker thread's script: beside this module (tsc's out/) or beside the bundle (esbuild's dist/). */
export function workerScript(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.cjs') ? './replicaWorker.cjs' : './replicaWorker.js', here);
}

interface Remote {
  lo: number;
  hi: number;
  grads: Floats[];
  net: Unrolled;
  state: Floats;
  control: Int32Array;
  losses: Floats;
  f64: Float64Array;
  worker: Worker;
  errors: MessagePort;
}

export class BatchSplit {
  /** Streams [0, mainBatch) run on the training thread. */
  readonly mainBatch: number;
  /** [layers, directions, states, mainBatch, H]: the training thread's share of the carried state. */
  readonly mainState: Floats;
  readonly threads: number;
  private readonly remotes: Remote[] = [];
  /** Streams of an update, all threads together. */
  readonly batch: number;
  private readonly hidden: number;
  private readonly kernelSetCode: number;
  private closed = false;

  /** threads (>= 2, <= batch) share `batch` streams over windows of `steps`; the model must live in a wasm heap. */
  constructor(model: Model, batch: number, steps: number, threads: number) {
    const heap = model.arena.wasmHeap;
    if (heap === null) throw new Error('BatchSplit needs a model in a WebAssembly heap');
    const script = workerScript();
    if (!existsSync(fileURLToPath(script))) {
      throw new RecurrentError(
        `the training threads' script ${fileURLToPath(script)} is missing; rebuild (npm run build) or train with threads: 1`,
      );
    }
    this.batch = batch;
    this.threads = threads;
    this.kernelSetCode = KERNEL_SET_CODES[heap.kernels.set];
    this.hidden = model.config.hidden;
    const cut = (r: number): number => Math.floor((r * batch) / threads);
    this.mainBatch = cut(1);
    const cfg = model.config;
    const blocks = cfg.layers * (cfg.bidirectional ? 2 : 1) * (cfg.cell === 'lstm' ? 2 : 1);
    this.mainState = model.arena.floats(blocks * this.mainBatch * this.hidden);
    const paramOffsets = model.params.map((p) => ({ name: p.name, shape: p.shape.slice(), offset: p.data.byteOffset }));
    for (let r = 1; r < threads; r++) {
      const lo = cut(r);
      const hi = cut(r + 1);
      const plan: AllocationPlan = [];
      const packScratch = model.arena.floats(PACK_BYTES / 4).byteOffset;
      heap.record(plan);
      const replica = buildReplica(model, model.params, hi - lo, steps);
      heap.record(null);
      const channel = new MessageChannel();
      const setup: ReplicaSetup = {
        memory: heap.wasmMemory,
        kernelSet: heap.kernels.set,
        config: model.config,
        batch: hi - lo,
        steps,
        packScratch,
        plan,
        params: paramOffsets,
        errors: channel.port2,
      };
      const worker = new Worker(script, { workerData: setup, transferList: [channel.port2] });
      // The training thread waits on shared memory, not on events: the worker must not keep a
      // finished process alive.
      worker.unref();
      const { control } = replica;
      this.remotes.push({
        lo,
        hi,
        ...replica,
        f64: new Float64Array(control.buffer, control.byteOffset, CONTROL_WORDS / 2),
        worker,
        errors: channel.port1,
      });
    }
  }

  /** Fills every share's window of tokens from the streams, and each worker's carried state from `state`. */
  fill(streams: Streams, tokens: Int32Array, mainIds: Int32Array, mainTargets: Int32Array, state: Floats): void {
    streams.fill(tokens, mainIds, mainTargets, 0, this.mainBatch);
    copyStreams(state, this.batch, 0, this.mainState, this.mainBatch, 0, this.mainBatch, this.hidden);
    for (const r of this.remotes) {
      streams.fill(tokens, r.net.ids, r.net.targets, r.lo, r.hi);
      copyStreams(state, this.batch, r.lo, r.state, r.hi - r.lo, 0, r.hi - r.lo, this.hidden);
    }
  }

  /** Starts every worker on its share: forward, loss, and (if its loss is finite) backward with `scale`. */
  start(steps: number, from: number, carry: number, scale: number): void {
    if (this.closed) throw new Error('the trainer was closed');
    for (const r of this.remotes) {
      const c = r.control;
      c[Control.Op] = Op.Step;
      c[Control.Batch] = r.hi - r.lo;
      c[Control.Steps] = steps;
      c[Control.From] = from;
      c[Control.Carry] = carry;
      r.f64[Control.Scale64] = scale;
      Atomics.add(c, Control.Seq, 1);
      Atomics.notify(c, Control.Seq);
    }
  }

  /** Whether close() has ended the workers. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Gives every worker its share of a loss window (see textLoss.ts): ids and targets [t, batch] step-major,
   * and the streams with fresh[s] set start from a zero state, the others from where their last window
   * ended. The workers start at once; finishLosses() waits for them.
   */
  startLosses(ids: Int32Array, targets: Int32Array, fresh: Uint8Array, t: number): void {
    if (this.closed) throw new Error('the trainer was closed');
    const B = this.batch;
    const H = this.hidden;
    for (const r of this.remotes) {
      const n = r.hi - r.lo;
      for (let p = 0; p < t; p++) {
        r.net.ids.set(ids.subarray(p * B + r.lo, p * B + r.hi), p * n);
        r.net.targets.set(targets.subarray(p * B + r.lo, p * B + r.hi), p * n);
      }
      const blocks = r.state.length / (n * H);
      for (let s = 0; s < n; s++) {
        if (fresh[r.lo + s] === 0) continue;
        for (let k = 0; k < blocks; k++) r.state.fill(0, (k * n + s) * H, (k * n + s + 1) * H);
      }
      const c = r.control;
      c[Control.Op] = Op.Losses;
      c[Control.Batch] = n;
      c[Control.Steps] = t;
      Atomics.add(c, Control.Seq, 1);
      Atomics.notify(c, Control.Seq);
    }
  }

  /** Waits for the workers' loss windows and copies each position's loss into out [t, batch]. */
  finishLosses(out: Float32Array, t: number): void {
    this.finish();
    const B = this.batch;
    for (const r of this.remotes) {
      const n = r.hi - r.lo;
      for (let p = 0; p < t; p++) out.set(r.losses.subarray(p * n, (p + 1) * n), p * B + r.lo);
    }
  }

  /** Waits for every worker's share; returns the sum of their losses (nats). */
  finish(): number {
    let loss = 0;
    for (const r of this.remotes) {
      const c = r.control;
      const seq = Atomics.load(c, Control.Seq);
      if (Atomics.load(c, Control.Ready) !== 1) this.awaitReady(r);
      // Every thread must round as this one does (see ReplicaSetup.kernelSet).
      if (c[Control.KernelSet] !== this.kernelSetCode) throw this.failure(r, 'runs other WebAssembly kernels than the training thread');
      awaitValue(c, Control.Done, seq);
      if (c[Control.Status] !== 0) throw this.failure(r, 'failed');
      loss += r.f64[Control.Loss64]!;
    }
    return loss;
  }

  /** Adds every worker's gradients into the model's. */
  addGradients(params: readonly Param[]): void {
    for (const r of this.remotes) {
      for (let i = 0; i < params.length; i++) addInto(params[i]!.grad, r.grads[i]!);
    }
  }

  /** Copies every share's carried state (the main share from mainState) back into `state`. */
  gatherState(state: Floats): void {
    copyStreams(this.mainState, this.mainBatch, 0, state, this.batch, 0, this.mainBatch, this.hidden);
    for (const r of this.remotes) copyStreams(r.state, r.hi - r.lo, 0, state, this.batch, r.lo, r.hi - r.lo, this.hidden);
  }

  /** Stops the workers; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.remotes) {
      r.control[Control.Op] = Op.Stop;
      Atomics.add(r.control, Control.Seq, 1);
      Atomics.notify(r.control, Control.Seq);
      void r.worker.terminate();
      r.errors.close();
    }
  }

  /** The worker builds its replica once; a worker that cannot start never answers, so wait for a bounded time. */
  private awaitReady(r: Remote): void {
    const c = r.control;
    const deadline = performance.now() + 60_000;
    while (Atomics.load(c, Control.Ready) === 0 && performance.now() < deadline) Atomics.wait(c, Control.Ready, 0, 1000);
    if (Atomics.load(c, Control.Ready) !== 1)
      throw this.failure(r, Atomics.load(c, Control.Ready) === 0 ? 'did not start within 60 s' : 'could not start');
  }

  private failure(r: Remote, what: string): RecurrentError {
    const m = receiveMessageOnPort(r.errors);
    const why = m !== undefined && typeof m.message === 'string' ? `: ${m.message}` : '';
    this.close();
    return new RecurrentError(
      `training thread ${this.remotes.indexOf(r) + 1} (streams ${r.lo}-${r.hi - 1}) ${what}${why}; train with threads: 1 to go on`,
    );
  }
}
