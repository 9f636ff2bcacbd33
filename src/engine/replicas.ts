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
// of the same bytes. Commands and results pass through a few words of shared memory (replicaThread.ts).
import { addInto } from './backend.js';
import type { ModelConfig } from './config.js';
import type { Floats } from './floats.js';
import type { Model } from './model.js';
import type { Param } from './parameters.js';
import { CONTROL_WORDS, Control, Op, ReplicaThread, threadsHeap } from './replicaThread.js';
import { copyStreams, type Streams } from './streams.js';
import { Unrolled } from './unroll.js';

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

/** A worker and its share: streams [lo, hi) of every batch. */
interface Remote {
  lo: number;
  hi: number;
  thread: ReplicaThread<ReturnType<typeof buildReplica>>;
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
  private closed = false;

  /** threads (>= 2, <= batch) share `batch` streams over windows of `steps`; the model must live in a wasm heap. */
  constructor(model: Model, batch: number, steps: number, threads: number) {
    const heap = threadsHeap(model, 'BatchSplit');
    this.batch = batch;
    this.threads = threads;
    this.hidden = model.config.hidden;
    const cut = (r: number): number => Math.floor((r * batch) / threads);
    this.mainBatch = cut(1);
    const cfg = model.config;
    const blocks = cfg.layers * (cfg.bidirectional ? 2 : 1) * (cfg.cell === 'lstm' ? 2 : 1);
    this.mainState = model.arena.floats(blocks * this.mainBatch * this.hidden);
    for (let r = 1; r < threads; r++) {
      const lo = cut(r);
      const hi = cut(r + 1);
      const thread = new ReplicaThread(
        model,
        heap,
        { batch: hi - lo, steps },
        () => buildReplica(model, model.params, hi - lo, steps),
        `training thread ${r} (streams ${lo}-${hi - 1})`,
      );
      this.remotes.push({ lo, hi, thread });
    }
  }

  /** Fills every share's window of tokens from the streams, and each worker's carried state from `state`. */
  fill(streams: Streams, tokens: Int32Array, mainIds: Int32Array, mainTargets: Int32Array, state: Floats): void {
    streams.fill(tokens, mainIds, mainTargets, 0, this.mainBatch);
    copyStreams(state, this.batch, 0, this.mainState, this.mainBatch, 0, this.mainBatch, this.hidden);
    for (const { lo, hi, thread } of this.remotes) {
      const { net } = thread.replica;
      streams.fill(tokens, net.ids, net.targets, lo, hi);
      copyStreams(state, this.batch, lo, thread.replica.state, hi - lo, 0, hi - lo, this.hidden);
    }
  }

  /** Starts every worker on its share: forward, loss, and (if its loss is finite) backward with `scale`. */
  start(steps: number, from: number, carry: number, scale: number): void {
    if (this.closed) throw new Error('the trainer was closed');
    for (const { lo, hi, thread } of this.remotes) {
      const c = thread.control;
      c[Control.Batch] = hi - lo;
      c[Control.Steps] = steps;
      c[Control.From] = from;
      c[Control.Carry] = carry;
      thread.f64[Control.Scale64] = scale;
      thread.command(Op.Step);
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
    for (const { lo, hi, thread } of this.remotes) {
      const { net, state } = thread.replica;
      const n = hi - lo;
      for (let p = 0; p < t; p++) {
        net.ids.set(ids.subarray(p * B + lo, p * B + hi), p * n);
        net.targets.set(targets.subarray(p * B + lo, p * B + hi), p * n);
      }
      const blocks = state.length / (n * H);
      for (let s = 0; s < n; s++) {
        if (fresh[lo + s] === 0) continue;
        for (let k = 0; k < blocks; k++) state.fill(0, (k * n + s) * H, (k * n + s + 1) * H);
      }
      thread.control[Control.Batch] = n;
      thread.control[Control.Steps] = t;
      thread.command(Op.Losses);
    }
  }

  /** Waits for the workers' loss windows and copies each position's loss into out [t, batch]. */
  finishLosses(out: Float32Array, t: number): void {
    this.finish();
    const B = this.batch;
    for (const { lo, hi, thread } of this.remotes) {
      const n = hi - lo;
      for (let p = 0; p < t; p++) out.set(thread.replica.losses.subarray(p * n, (p + 1) * n), p * B + lo);
    }
  }

  /** Waits for every worker's share; returns the sum of their losses (nats). A failed worker stops them all. */
  finish(): number {
    let loss = 0;
    for (const { thread } of this.remotes) {
      try {
        thread.await();
      } catch (e) {
        this.close();
        throw e;
      }
      loss += thread.f64[Control.Loss64]!;
    }
    return loss;
  }

  /** Adds every worker's gradients into the model's. */
  addGradients(params: readonly Param[]): void {
    for (const { thread } of this.remotes) {
      for (let i = 0; i < params.length; i++) addInto(params[i]!.grad, thread.replica.grads[i]!);
    }
  }

  /** Copies every share's carried state (the main share from mainState) back into `state`. */
  gatherState(state: Floats): void {
    copyStreams(this.mainState, this.mainBatch, 0, state, this.batch, 0, this.mainBatch, this.hidden);
    for (const { lo, hi, thread } of this.remotes)
      copyStreams(thread.replica.state, hi - lo, 0, state, this.batch, lo, hi - lo, this.hidden);
  }

  /** Stops the workers; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { thread } of this.remotes) thread.stop();
  }
}
