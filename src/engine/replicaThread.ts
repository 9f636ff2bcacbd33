// One worker thread of a split update, as both splits drive it (replicas.ts for the language model,
// taskReplicas.ts for the tasks): the words of shared memory the training thread and the worker talk
// through, and the training thread's handle on the worker, which starts it on a replica allocated
// while the heap recorded the plan, commands it, waits for it and stops it.
//
// A command is a few words written and a sequence number bumped, answered by the worker's Done:
// Atomics.wait/notify, no message, no copy, no allocation. A thread polls those words for a few
// milliseconds before it sleeps (awaitValue, awaitChange): a sleeping thread's core idles, and on a
// virtual machine's cores waking it again took about 0.6 ms, a few per cent of a translate update,
// while the gaps the threads wait through between updates are shorter than that poll.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { ModelConfig } from './config.js';
import { RecurrentError } from './errors.js';
import type { Model } from './model.js';
import { PACK_BYTES, type AllocationPlan, type WasmHeap } from './wasmHeap.js';
import type { WasmKernelSet, WasmMemory } from './wasmKernels.js';

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

/** The worker thread's script: beside this module (tsc's out/) or beside the bundle (esbuild's dist/). */
function workerScript(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.cjs') ? './replicaWorker.cjs' : './replicaWorker.js', here);
}

/** The model's heap, and the worker script, that threads need: a clear error where either is missing. */
export function threadsHeap(model: Model, who: string): WasmHeap {
  const heap = model.arena.wasmHeap;
  if (heap === null) throw new Error(`${who} needs a model in a WebAssembly heap`);
  const script = fileURLToPath(workerScript());
  if (!existsSync(script)) {
    throw new RecurrentError(`the training threads' script ${script} is missing; rebuild (npm run build) or train with threads: 1`);
  }
  return heap;
}

/** The training thread's handle on one worker and the replica it runs. */
export class ReplicaThread<R extends { control: Int32Array }> {
  readonly replica: R;
  readonly control: Int32Array;
  /** The control block's float64 slots (Scale64, Loss64). */
  readonly f64: Float64Array;
  private readonly worker: Worker;
  private readonly errors: MessagePort;
  private readonly kernelSetCode: number;
  private stopped = false;

  /**
   * Allocates the replica with `build` while the heap records where it lands, and starts a worker that
   * replays the plan. `name` says which thread it is in errors ("training thread 2 (streams 8-15)").
   */
  constructor(
    model: Model,
    heap: WasmHeap,
    setup: { batch: number; steps: number; task?: { endToken: number } },
    build: () => R,
    readonly name: string,
  ) {
    const plan: AllocationPlan = [];
    const packScratch = model.arena.floats(PACK_BYTES / 4).byteOffset;
    heap.record(plan);
    this.replica = build();
    heap.record(null);
    this.control = this.replica.control;
    this.f64 = new Float64Array(this.control.buffer, this.control.byteOffset, CONTROL_WORDS / 2);
    this.kernelSetCode = KERNEL_SET_CODES[heap.kernels.set];
    const channel = new MessageChannel();
    const workerData: ReplicaSetup = {
      memory: heap.wasmMemory,
      kernelSet: heap.kernels.set,
      config: model.config,
      ...setup,
      packScratch,
      plan,
      params: model.params.map((p) => ({ name: p.name, shape: p.shape.slice(), offset: p.data.byteOffset })),
      errors: channel.port2,
    };
    this.worker = new Worker(workerScript(), { workerData, transferList: [channel.port2] });
    // The training thread waits on shared memory, not on events: the worker must not keep a finished
    // process alive.
    this.worker.unref();
    this.errors = channel.port1;
  }

  /** Starts the worker on `op`, with the control words its caller has written. */
  command(op: number): void {
    const c = this.control;
    c[Control.Op] = op;
    Atomics.add(c, Control.Seq, 1);
    Atomics.notify(c, Control.Seq);
  }

  /**
   * Waits until the worker has done its last command. Throws, naming the thread and the worker's own
   * message, where it could not start, runs other kernels than the training thread (it would round
   * differently) or failed.
   */
  await(): void {
    const c = this.control;
    const seq = Atomics.load(c, Control.Seq);
    if (Atomics.load(c, Control.Ready) !== 1) {
      // The worker builds its replica once; one that cannot start never answers, so wait for a bounded time.
      const deadline = performance.now() + 60_000;
      while (Atomics.load(c, Control.Ready) === 0 && performance.now() < deadline) Atomics.wait(c, Control.Ready, 0, 1000);
      if (Atomics.load(c, Control.Ready) !== 1)
        throw this.failure(Atomics.load(c, Control.Ready) === 0 ? 'did not start within 60 s' : 'could not start');
    }
    if (c[Control.KernelSet] !== this.kernelSetCode) throw this.failure('runs other WebAssembly kernels than the training thread');
    awaitValue(c, Control.Done, seq);
    if (c[Control.Status] !== 0) throw this.failure('failed');
  }

  /** Stops the worker; idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.command(Op.Stop);
    void this.worker.terminate();
    this.errors.close();
  }

  private failure(what: string): RecurrentError {
    const m = receiveMessageOnPort(this.errors);
    const why = m !== undefined && typeof m.message === 'string' ? `: ${m.message}` : '';
    return new RecurrentError(`${this.name} ${what}${why}; train with threads: 1 to go on`);
  }
}
