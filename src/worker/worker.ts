// The worker_threads entry (bundled to dist/worker.cjs): one run per worker (runLoop.ts). Every command
// is checked before it is acted on; anything thrown escapes to the thread's 'error' event, which the
// extension reports as a crash with the last checkpoint kept.
import { parentPort, resourceLimits } from 'node:worker_threads';
import { readCheckpointFile, writeCheckpointFile, type Checkpoint } from '../engine/checkpoint.js';
import { generate } from '../engine/sampling.js';
import { Trainer } from '../engine/trainer.js';
import { probeGradientReach } from '../engine/gradientReach.js';
import { PROTOCOL_VERSION, type WorkerEvent } from '../protocol/messages.js';
import { checkWorkerCommand } from '../protocol/workerMessages.js';
import type { EngineLike, TrainerLike } from './engineApi.js';
import { RunLoop } from './runLoop.js';

/** The engine's Trainer seen through the interface the run loop is written against. */
function adapt(t: Trainer): TrainerLike<Checkpoint> {
  return {
    get modelConfig() {
      return t.modelConfig;
    },
    get train() {
      return t.train;
    },
    get tokenizer() {
      return t.tokenizer;
    },
    get updates() {
      return t.updates;
    },
    get trainTokens() {
      return t.trainTokens;
    },
    get validationTokens() {
      return t.validationTokens;
    },
    step: () => t.step(),
    lastClip: () => t.lastClip(),
    validate: (scope) => t.validate(scope),
    validationDue: () => t.validationDue(),
    setLearningRate: (lr) => t.setLearningRate(lr),
    gradientFlow: () => t.gradientFlow(),
    probeGates: (text) => t.probeGates(text),
    probeTokenLoss: (text, k) => t.probeTokenLoss(text, k),
    tensorNorms: () => t.tensorNorms(),
    unigramBits: () => t.unigramBits(),
    toCheckpoint: () => t.toCheckpoint(),
    sample: (r, onToken) => generate(t.stepper(), t.tokenizer, r, onToken),
    close: () => t.close(),
    // -- editor (issue 6)
    probeGradientReach: (text) => probeGradientReach(t.model, t.tokenizer.encode(text), t.train.k2),
    tokenOffsets: (text) => t.tokenizer.encodeWithOffsets(text).offsets,
    tokenText: (id) => t.tokenizer.token(id),
    lastWindows: () => t.lastWindows().map(([a, b]): [number, number] => [a, b]), // copied: the engine reuses its pairs
    knows: (symbol) => t.tokenizer.kind !== 'char' || t.tokenizer.id(symbol) !== undefined,
    // -- end editor
  };
}

const engine: EngineLike<Checkpoint> = {
  create: (text, model, train, tokenizer, opts) => adapt(Trainer.create(text, model, train, tokenizer, opts)),
  resume: (text, checkpoint, overrides) => adapt(Trainer.resume(text, checkpoint, overrides)),
  readCheckpoint: (path) => readCheckpointFile(path),
  writeCheckpoint: (path, c) => writeCheckpointFile(path, c),
};

const port = parentPort;
if (!port) throw new Error('worker.cjs runs inside a worker thread started by the extension');

const loop = new RunLoop(engine, {
  post: (event: WorkerEvent, transfer) => port.postMessage(event, transfer),
  now: () => performance.now(),
  defer: (f) => setImmediate(f),
});

/** Deliberate failures for the crash-recovery tests; `oom` only under a small memory limit. */
function crash(how: 'throw' | 'exit' | 'oom'): void {
  if (how === 'exit') process.exit(3);
  if (how === 'throw')
    setImmediate(() => {
      throw new Error('crash requested by a test');
    });
  if (how === 'oom') {
    const limit = resourceLimits.maxOldGenerationSizeMb ?? Infinity;
    if (limit > 1024) {
      port!.postMessage({
        v: PROTOCOL_VERSION,
        type: 'error',
        kind: 'internal',
        message: `refusing to exhaust ${limit} MB on purpose; set recurrent.workerMemoryMB to 1024 or less to test running out of memory`,
      });
      return;
    }
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(1 << 20).fill(Math.random()));
  }
}

port.on('message', (raw: unknown) => {
  const checked = checkWorkerCommand(raw);
  if (!checked.ok) {
    port.postMessage({ v: PROTOCOL_VERSION, type: 'error', kind: 'internal', message: `the worker dropped a command: ${checked.problem}` });
    return;
  }
  if (checked.message.type === 'crash') crash(checked.message.how);
  else loop.handle(checked.message);
});
