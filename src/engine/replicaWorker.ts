// A training thread's worker side (see replicaThread.ts): rebuilds its replica over the shared memory by
// replaying the training thread's allocation plan, then runs one share of every update's streams
// whenever the control block's sequence number moves, until told to stop; for a task, also its slices of
// the update after the backward pass (parallelUpdate.ts).
import { workerData } from 'node:worker_threads';
import { Arena } from './arena.js';
import { adamSlices, reduceSlices, rowWords, scalarWords, TABLE_HEADER } from './parallelUpdate.js';
import { buildReplica } from './replicas.js';
import { awaitChange, Control, KERNEL_SET_CODES, Op, type ReplicaSetup } from './replicaThread.js';
import { buildTaskReplica, runTaskStep } from './taskReplicas.js';
import { WasmHeap } from './wasmHeap.js';

const setup = workerData as ReplicaSetup;

function report(e: unknown): void {
  setup.errors.postMessage(e instanceof Error ? e.message : String(e));
}

function build() {
  const heap = WasmHeap.replay(setup.memory, setup.kernelSet, setup.packScratch, setup.plan);
  const arena = new Arena('f32', heap);
  // The parameters are the training thread's: views of its bytes, never allocated here.
  const params = setup.params.map(({ name, shape, offset }) => {
    const data = heap.floatsAt(
      offset,
      shape.reduce((a, b) => a * b, 1),
    );
    return { name, shape, data, grad: data };
  });
  const model = { config: setup.config, arena };
  // A classify or generate run's replica (taskReplicas.ts), or the language model's.
  if (setup.task !== undefined) {
    return {
      task: buildTaskReplica(model, params, setup.batch, setup.steps, setup.task.endToken),
      lm: null,
      kernelSet: heap.kernels.set,
      kernels: heap.kernels,
    };
  }
  return { task: null, lm: buildReplica(model, params, setup.batch, setup.steps), kernelSet: heap.kernels.set, kernels: heap.kernels };
}

/** The sliced update's table and scalars (parallelUpdate.ts), viewed once: the training thread makes them once. */
let sliced: { at: number; table: Int32Array; scalars: Float64Array } | null = null;

function slicedUpdate(control: Int32Array) {
  const at = control[Control.Table]!;
  if (sliced === null || sliced.at !== at) {
    const buffer = setup.memory.buffer;
    const head = new Int32Array(buffer, at, TABLE_HEADER);
    const table = new Int32Array(buffer, at, TABLE_HEADER + head[0]! * rowWords(head[1]!));
    sliced = { at, table, scalars: new Float64Array(buffer, control[Control.Scalars]!, scalarWords(head[1]!)) };
  }
  return sliced;
}

/** The language model's share of an update: forward, loss, backward, and the state carried to the next window. */
function languageModelStep(lm: ReturnType<typeof buildReplica>, f64: Float64Array): void {
  const { net, grads, state, control } = lm;
  const b = control[Control.Batch]!;
  const t = control[Control.Steps]!;
  const from = control[Control.From]!;
  const scale = f64[Control.Scale64]!;
  net.setState(state, b, t);
  net.forward(b, t);
  net.decode(b, t, from);
  const loss = net.lossAndGradient(b, t, from, scale);
  f64[Control.Loss64] = loss;
  if (Number.isFinite(loss)) {
    for (const g of grads) g.fill(0);
    net.backward(b, t, from, scale);
  }
  net.getState(state, b, t, control[Control.Carry]!);
}

/** The language model's forward pass over a window and each position's loss, for textLoss.ts. */
function languageModelLosses(lm: ReturnType<typeof buildReplica>, f64: Float64Array): void {
  const { net, state, control, losses } = lm;
  const b = control[Control.Batch]!;
  const t = control[Control.Steps]!;
  net.setState(state, b, t);
  net.forward(b, t);
  net.decode(b, t, 0);
  f64[Control.Loss64] = net.loss(b, t, 0, losses, 0);
  net.getState(state, b, t, t);
}

let replica: ReturnType<typeof build> | null = null;
try {
  replica = build();
} catch (e) {
  report(e);
}

if (replica === null) {
  // No control block to answer through: the plan's last allocation is where it would be.
  const at = setup.plan[setup.plan.length - 2]!;
  const control = new Int32Array(setup.memory.buffer, at, 16);
  Atomics.store(control, Control.Ready, 2);
  Atomics.notify(control, Control.Ready);
} else {
  const { kernelSet, kernels } = replica;
  const control = (replica.task ?? replica.lm)!.control;
  const correct = new Int32Array(1);
  const f64 = new Float64Array(control.buffer, control.byteOffset, 8);
  control[Control.KernelSet] = KERNEL_SET_CODES[kernelSet];
  Atomics.store(control, Control.Ready, 1);
  Atomics.notify(control, Control.Ready);
  let seen = 0;
  for (;;) {
    awaitChange(control, Control.Seq, seen);
    seen = Atomics.load(control, Control.Seq);
    if (control[Control.Op] === Op.Stop) break;
    let status = 0;
    try {
      const op = control[Control.Op];
      if (op === Op.Step) {
        if (replica.task !== null) runTaskStep(replica.task, f64, correct);
        else languageModelStep(replica.lm!, f64);
      } else if (op === Op.Losses && replica.lm !== null) {
        languageModelLosses(replica.lm, f64);
      } else if (op === Op.Reduce || op === Op.Adam) {
        const { table, scalars } = slicedUpdate(control);
        (op === Op.Reduce ? reduceSlices : adamSlices)(kernels, table, scalars, control[Control.Batch]!);
      } else {
        throw new Error(`unknown command ${op}`);
      }
    } catch (e) {
      status = 1;
      report(e);
    }
    control[Control.Status] = status;
    Atomics.store(control, Control.Done, seen);
    Atomics.notify(control, Control.Done);
  }
}
