// The Node twin of WorkerPort: a worker_threads Worker running dist/worker.cjs with a memory limit, so a
// run that grows too large ends its own thread (ERR_WORKER_OUT_OF_MEMORY) instead of the extension host.
import { Worker } from 'node:worker_threads';
import type { WorkerCommand } from '../protocol/messages.js';
import type { WorkerExit, WorkerFactory, WorkerPort } from './run.js';

export function nodeWorkerFactory(script: string, memoryMB: number): WorkerFactory {
  return () => {
    const worker = new Worker(script, {
      resourceLimits: { maxOldGenerationSizeMb: memoryMB, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, memoryMB >> 4)) },
      stdout: false,
      stderr: false,
    });
    // The thread never keeps its host process alive on its own: deactivation and test runs end cleanly.
    worker.unref();
    let failure: WorkerExit['error'];
    let exitListener: (e: WorkerExit) => void = () => {};
    worker.on('error', (err: Error & { code?: string }) => {
      failure = { message: err.message, ...(err.code ? { code: err.code } : {}) };
    });
    worker.on('exit', (code) => exitListener({ code, ...(failure ? { error: failure } : {}) }));
    const port: WorkerPort = {
      post: (cmd: WorkerCommand) => worker.postMessage(cmd),
      onMessage: (l) => worker.on('message', l),
      onExit: (l) => {
        exitListener = l;
      },
      terminate: async () => {
        await worker.terminate();
      },
    };
    return port;
  };
}
