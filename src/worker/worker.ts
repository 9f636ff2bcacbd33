// The worker_threads entry (bundled to dist/worker.cjs): one run per worker (runLoop.ts). Every command
// is checked before it is acted on; anything thrown escapes to the thread's 'error' event, which the
// extension reports as a crash with the last checkpoint kept.
import { parentPort, resourceLimits } from 'node:worker_threads';
import { PROTOCOL_VERSION, type WorkerEvent } from '../protocol/messages.js';
import { checkWorkerCommand } from '../protocol/workerMessages.js';
import { engine } from './engine.js';
import { RunLoop } from './runLoop.js';

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
