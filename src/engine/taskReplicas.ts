// Training threads for the classify and generate tasks, as replicas.ts runs them for the language
// model: each update's examples are split between the training thread and threads - 1 worker threads
// over the model's one shared WebAssembly memory. The training thread loads every share's examples
// into that share's network (the workers' networks are built here while the heap records the plan,
// so their buffers are views of the same bytes), the workers run forward, loss and backward of their
// shares, and the training thread adds their gradients into the model's before clipping and the
// optimizer step: the update equals one thread's within float32 rounding of that sum. Padding needs
// nothing more: each share pads to its own longest example. With Adam and clipping by norm (or none),
// the sum, the clipping and the step are split between the threads too (parallelUpdate.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { addInto } from './backend.js';
import { normClipCoefficient, type ClipResult } from './clip.js';
import type { ModelConfig } from './config.js';
import { RecurrentError } from './errors.js';
import type { Floats } from './floats.js';
import type { Model } from './model.js';
import type { Optimizer, SlicedAdam } from './optimizer.js';
import { slicedAdam } from './optimizer.js';
import { adamSlices, partialSum, reduceSlices, rowWords, Scalar, scalarWords, TABLE_HEADER } from './parallelUpdate.js';
import type { Param } from './parameters.js';
import { awaitValue, CONTROL_WORDS, Control, KERNEL_SET_CODES, Op, workerScript, type ReplicaSetup } from './replicas.js';
import type { Sequences } from './taskData.js';
import { TaskNet } from './taskNet.js';
import { PACK_BYTES, WasmHeap, type AllocationPlan } from './wasmHeap.js';

/**
 * What a task replica allocates, in this order, on the training thread (recording) and on the worker
 * (replaying): its gradients, its network, its control words.
 */
export function buildTaskReplica(
  model: { config: ModelConfig; arena: Model['arena'] },
  params: readonly Param[],
  batch: number,
  steps: number,
  endToken: number,
) {
  const arena = model.arena;
  const own = params.map((p) => ({ name: p.name, shape: p.shape, data: p.data, grad: arena.floats(p.data.length) }));
  const byName = new Map(own.map((p) => [p.name, p]));
  const lookup = {
    config: model.config,
    arena,
    param: (name: string) => {
      const p = byName.get(name);
      if (p === undefined) throw new Error(`replica: no parameter ${name}`);
      return p;
    },
  };
  const net = new TaskNet(lookup, batch, steps, endToken);
  const control = arena.ints(CONTROL_WORDS);
  return { grads: own.map((p) => p.grad), net, control };
}

/** The worker's side of one task step: its share's forward, loss and backward; the loss and the right predictions back. */
export function runTaskStep(replica: ReturnType<typeof buildTaskReplica>, f64: Float64Array, correct: Int32Array): void {
  const { net, grads, control } = replica;
  net.window = control[Control.Steps]!;
  for (const g of grads) g.fill(0);
  f64[Control.Loss64] = net.lossAndBackward(control[Control.Batch]!, f64[Control.Scale64]!, correct);
  control[Control.Carry] = correct[0]!;
}

interface Remote {
  net: TaskNet;
  grads: Floats[];
  control: Int32Array;
  f64: Float64Array;
  worker: Worker;
  errors: MessagePort;
  /** Examples of the current update (0: idle this update). */
  size: number;
}

/** The update split between the threads: its table and scalars in the shared memory (parallelUpdate.ts). */
interface SlicedUpdate {
  adam: SlicedAdam;
  table: Int32Array;
  scalars: Float64Array;
}

export class TaskSplit {
  readonly threads: number;
  private readonly remotes: Remote[] = [];
  private readonly kernelSetCode: number;
  private readonly heap: WasmHeap;
  private sliced: SlicedUpdate | null = null;
  private closed = false;

  /** threads (>= 2, <= batch) share batches of up to `batch` examples of up to `steps` tokens. */
  constructor(model: Model, batch: number, steps: number, threads: number, endToken: number) {
    const heap = model.arena.wasmHeap;
    if (heap === null) throw new Error('TaskSplit needs a model in a WebAssembly heap');
    const script = workerScript();
    if (!existsSync(fileURLToPath(script))) {
      throw new RecurrentError(
        `the training threads' script ${fileURLToPath(script)} is missing; rebuild (npm run build) or train with threads: 1`,
      );
    }
    this.threads = threads;
    this.heap = heap;
    this.kernelSetCode = KERNEL_SET_CODES[heap.kernels.set];
    const share = Math.ceil(batch / threads);
    const paramOffsets = model.params.map((p) => ({ name: p.name, shape: p.shape.slice(), offset: p.data.byteOffset }));
    for (let r = 1; r < threads; r++) {
      const plan: AllocationPlan = [];
      const packScratch = model.arena.floats(PACK_BYTES / 4).byteOffset;
      heap.record(plan);
      const replica = buildTaskReplica(model, model.params, share, steps, endToken);
      heap.record(null);
      const channel = new MessageChannel();
      const setup: ReplicaSetup = {
        memory: heap.wasmMemory,
        kernelSet: heap.kernels.set,
        config: model.config,
        batch: share,
        steps,
        packScratch,
        plan,
        params: paramOffsets,
        errors: channel.port2,
        task: { endToken },
      };
      const worker = new Worker(script, { workerData: setup, transferList: [channel.port2] });
      worker.unref(); // the training thread waits on shared memory, not on events
      const { control } = replica;
      this.remotes.push({
        ...replica,
        f64: new Float64Array(control.buffer, control.byteOffset, CONTROL_WORDS / 2),
        worker,
        errors: channel.port1,
        size: 0,
      });
    }
  }

  /** Examples [0, n) of a batch of b the training thread runs; the rest go to the workers in equal shares. */
  mainShare(b: number): number {
    return Math.ceil(b / this.threads);
  }

  /** Loads examples pick(mainShare(b) .. b-1) into the workers' networks; returns the units they score. */
  load(seqs: Sequences, pick: (i: number) => number, b: number, offset: number): number {
    let at = this.mainShare(b);
    let units = 0;
    for (const r of this.remotes) {
      r.size = Math.max(0, Math.min(this.mainShare(b), b - at));
      if (r.size > 0) units += r.net.load(seqs, pick, r.size, offset + at);
      at += r.size;
    }
    return units;
  }

  /** Starts every worker that has examples this update on forward, loss and backward of `scale` times its loss. */
  start(scale: number): void {
    if (this.closed) throw new Error('the trainer was closed');
    for (const r of this.remotes) {
      if (r.size === 0) continue;
      const c = r.control;
      c[Control.Op] = Op.Step;
      c[Control.Batch] = r.size;
      c[Control.Steps] = r.net.window;
      r.f64[Control.Scale64] = scale;
      Atomics.add(c, Control.Seq, 1);
      Atomics.notify(c, Control.Seq);
    }
  }

  /** Waits for the workers; returns their summed loss, and adds their right predictions into correct[0]. */
  finish(correct: Int32Array): number {
    let loss = 0;
    for (const r of this.remotes) {
      if (r.size === 0) continue;
      const c = r.control;
      const seq = Atomics.load(c, Control.Seq);
      if (Atomics.load(c, Control.Ready) !== 1) this.awaitReady(r);
      if (c[Control.KernelSet] !== this.kernelSetCode) throw this.failure(r, 'runs other WebAssembly kernels than the training thread');
      awaitValue(c, Control.Done, seq);
      if (c[Control.Status] !== 0) throw this.failure(r, 'failed');
      loss += r.f64[Control.Loss64]!;
      correct[0] += c[Control.Carry]!;
    }
    return loss;
  }

  /**
   * Makes update() split the sum, the clipping and the optimizer step between the threads, where the
   * optimizer is Adam or AdamW, every parameter is in the shared memory and clipping is by norm or off
   * (clipping by value stays on the training thread). Returns whether it does.
   */
  sliceUpdates(params: readonly Param[], optimizer: Optimizer, clipValue: number): boolean {
    const adam = slicedAdam(optimizer);
    if (adam === null || clipValue > 0) return false;
    const T = this.threads;
    const w = rowWords(T);
    const table = this.heap.ints(TABLE_HEADER + params.length * w);
    table[0] = params.length;
    table[1] = T;
    for (let k = 0; k < params.length; k++) {
      const p = params[k]!;
      const [m, v] = adam.moments(k);
      const row = TABLE_HEADER + k * w;
      const all = [p.data, p.grad, m, v, ...this.remotes.map((r) => r.grads[k]!)];
      if (!all.every((x) => x instanceof Float32Array && x.length === p.data.length && WasmHeap.of(x) === this.heap)) return false;
      table[row] = p.data.length;
      for (let i = 0; i < all.length; i++) table[row + 1 + i] = all[i]!.byteOffset;
    }
    const block = this.heap.floats(2 * scalarWords(T));
    this.sliced = { adam, table, scalars: new Float64Array(block.buffer, block.byteOffset, scalarWords(T)) };
    return true;
  }

  /** Whether update() runs (sliceUpdates said so); otherwise the caller adds, clips and steps itself. */
  get slicesUpdates(): boolean {
    return this.sliced !== null;
  }

  /**
   * After finish(): adds the workers' gradients into the model's, clips them by clipNorm (0: off) and
   * takes an Adam step at lr, each thread over its slices; fills `out` as clipGradients does, and where
   * the norm is not finite stops there, the optimizer untouched.
   */
  update(lr: number, clipNorm: number, out: ClipResult): void {
    const u = this.sliced!;
    const k = this.heap.kernels;
    for (let r = 0; r < this.remotes.length; r++) u.scalars[Scalar.active + r + 1] = this.remotes[r]!.size > 0 ? 1 : 0;
    this.command(Op.Reduce);
    reduceSlices(k, u.table, u.scalars, 0);
    this.awaitCommand();
    const before = Math.sqrt(partialSum(u.scalars, this.threads));
    out.normBefore = before;
    out.normAfter = before;
    out.clipped = false;
    out.mode = clipNorm > 0 ? 'norm' : 'none';
    if (!Number.isFinite(before)) return;
    const coef = clipNorm > 0 ? normClipCoefficient(clipNorm, before) : 1;
    u.scalars[Scalar.coef] = coef;
    u.adam.beginStep(lr, u.scalars);
    this.command(Op.Adam);
    adamSlices(k, u.table, u.scalars, 0);
    this.awaitCommand();
    if (coef < 1) {
      out.normAfter = Math.sqrt(partialSum(u.scalars, this.threads));
      out.clipped = true;
    }
  }

  /** Starts every worker on op over its part (its index + 1) of the sliced update. */
  private command(op: number): void {
    if (this.closed) throw new Error('the trainer was closed');
    const u = this.sliced!;
    for (let r = 0; r < this.remotes.length; r++) {
      const c = this.remotes[r]!.control;
      c[Control.Op] = op;
      c[Control.Batch] = r + 1;
      c[Control.Table] = u.table.byteOffset;
      c[Control.Scalars] = u.scalars.byteOffset;
      Atomics.add(c, Control.Seq, 1);
      Atomics.notify(c, Control.Seq);
    }
  }

  private awaitCommand(): void {
    for (const r of this.remotes) {
      const c = r.control;
      awaitValue(c, Control.Done, Atomics.load(c, Control.Seq));
      if (c[Control.Status] !== 0) throw this.failure(r, 'failed');
    }
  }

  /** Adds the gradients of the workers that ran this update into the model's. */
  addGradients(params: readonly Param[]): void {
    for (const r of this.remotes) {
      if (r.size === 0) continue;
      for (let i = 0; i < params.length; i++) addInto(params[i]!.grad, r.grads[i]!);
    }
  }

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
    return new RecurrentError(`training thread ${this.remotes.indexOf(r) + 1} ${what}${why}; train with threads: 1 to go on`);
  }
}
