// Training threads for the classify and generate tasks, as replicas.ts runs them for the language
// model: each update's examples are split between the training thread and threads - 1 worker threads
// over the model's one shared WebAssembly memory. The training thread loads every share's examples
// into that share's network (the workers' networks are built here while the heap records the plan,
// so their buffers are views of the same bytes), the workers run forward, loss and backward of their
// shares, and the training thread adds their gradients into the model's before clipping and the
// optimizer step: the update equals one thread's within float32 rounding of that sum. Padding needs
// nothing more: each share pads to its own longest example. With Adam and clipping by norm (or none),
// the sum, the clipping and the step are split between the threads too (parallelUpdate.ts).
import { addInto } from './backend.js';
import { normClipCoefficient, type ClipResult } from './clip.js';
import type { ModelConfig } from './config.js';
import type { Model } from './model.js';
import type { Optimizer, SlicedAdam } from './optimizer.js';
import { slicedAdam } from './optimizer.js';
import { adamSlices, partialSum, reduceSlices, rowWords, Scalar, scalarWords, TABLE_HEADER } from './parallelUpdate.js';
import type { Param } from './parameters.js';
import { CONTROL_WORDS, Control, Op, ReplicaThread, threadsHeap } from './replicaThread.js';
import type { Sequences } from './taskData.js';
import { TaskNet } from './taskNet.js';
import { WasmHeap } from './wasmHeap.js';

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

/** A worker and the examples it has this update (0: idle this update). */
interface Remote {
  thread: ReplicaThread<ReturnType<typeof buildTaskReplica>>;
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
  private readonly heap: WasmHeap;
  private sliced: SlicedUpdate | null = null;
  private closed = false;

  /** threads (>= 2, <= batch) share batches of up to `batch` examples of up to `steps` tokens. */
  constructor(model: Model, batch: number, steps: number, threads: number, endToken: number) {
    this.heap = threadsHeap(model, 'TaskSplit');
    this.threads = threads;
    const share = Math.ceil(batch / threads);
    for (let r = 1; r < threads; r++) {
      const thread = new ReplicaThread(
        model,
        this.heap,
        { batch: share, steps, task: { endToken } },
        () => buildTaskReplica(model, model.params, share, steps, endToken),
        `training thread ${r}`,
      );
      this.remotes.push({ thread, size: 0 });
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
      if (r.size > 0) units += r.thread.replica.net.load(seqs, pick, r.size, offset + at);
      at += r.size;
    }
    return units;
  }

  /** Starts every worker that has examples this update on forward, loss and backward of `scale` times its loss. */
  start(scale: number): void {
    if (this.closed) throw new Error('the trainer was closed');
    for (const { thread, size } of this.remotes) {
      if (size === 0) continue;
      thread.control[Control.Batch] = size;
      thread.control[Control.Steps] = thread.replica.net.window;
      thread.f64[Control.Scale64] = scale;
      thread.command(Op.Step);
    }
  }

  /** Waits for the workers; returns their summed loss, and adds their right predictions into correct[0]. */
  finish(correct: Int32Array): number {
    let loss = 0;
    for (const { thread, size } of this.remotes) {
      if (size === 0) continue;
      this.await(thread);
      loss += thread.f64[Control.Loss64]!;
      correct[0] += thread.control[Control.Carry]!;
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
      const all = [p.data, p.grad, m, v, ...this.remotes.map((r) => r.thread.replica.grads[k]!)];
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
      const { thread } = this.remotes[r]!;
      thread.control[Control.Batch] = r + 1;
      thread.control[Control.Table] = u.table.byteOffset;
      thread.control[Control.Scalars] = u.scalars.byteOffset;
      thread.command(op);
    }
  }

  private awaitCommand(): void {
    for (const { thread } of this.remotes) this.await(thread);
  }

  /** Waits for one worker's command; a failed worker stops them all. */
  private await(thread: Remote['thread']): void {
    try {
      thread.await();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Adds the gradients of the workers that ran this update into the model's. */
  addGradients(params: readonly Param[]): void {
    for (const { thread, size } of this.remotes) {
      if (size === 0) continue;
      for (let i = 0; i < params.length; i++) addInto(params[i]!.grad, thread.replica.grads[i]!);
    }
  }

  /** Stops the workers; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { thread } of this.remotes) thread.stop();
  }
}
