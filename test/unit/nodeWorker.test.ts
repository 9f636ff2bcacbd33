import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MODEL, DEFAULT_TRAIN } from '../../src/engine/config.js';
import { nodeWorkerFactory } from '../../src/extension/nodeWorker.js';
import { Run } from '../../src/extension/run.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { scratchFolder } from './support/scratch.js';

const scratch = scratchFolder('worker');

// A stand-in for dist/worker.cjs that speaks the protocol and fails on request the way real threads fail.
const SCRIPT = `
const { parentPort } = require('node:worker_threads');
const v = ${PROTOCOL_VERSION};
parentPort.on('message', (m) => {
  if (m.type === 'start') {
    parentPort.postMessage({ v, type: 'started', run: { model: {}, train: {}, tokenizer: 'char', vocabSize: 2, parameterCount: 1, tensors: [], trainTokens: 1, validationTokens: 0, unigramBits: 1 }, resumedFromStep: 0 });
    parentPort.postMessage({ v, type: 'state', state: 'paused' });
  }
  if (m.type === 'request' && m.method === 'save') {
    parentPort.postMessage({ v, type: 'checkpointSaved', path: m.args[0], step: 9 });
    parentPort.postMessage({ v, type: 'reply', inReplyTo: m.id, method: 'save', result: { path: m.args[0], step: 9 } });
  }
  if (m.type === 'crash' && m.how === 'exit') process.exit(3);
  if (m.type === 'crash' && m.how === 'throw') setImmediate(() => { throw new Error('crash requested by a test'); });
  if (m.type === 'crash' && m.how === 'oom') { const hog = []; for (;;) hog.push(new Array(1 << 16).fill(Math.random())); }
});`;

const script = join(scratch, 'worker.cjs');
writeFileSync(script, SCRIPT);

function newRun(memoryMB = 256): Run {
  return new Run({
    runId: 'r',
    label: 'a.txt',
    file: 'a.txt',
    text: 'ab',
    start: {
      model: DEFAULT_MODEL,
      train: DEFAULT_TRAIN,
      tokenizer: 'char',
      maxSteps: 0,
      maxMs: 0,
      autosaveEveryMs: 0,
      sampleEveryMs: 0,
      sampleLength: 1,
      temperature: 1,
    },
    workers: nodeWorkerFactory(script, memoryMB),
    warn: () => {},
  });
}

async function crashed(s: Run): Promise<void> {
  for (let i = 0; i < 200 && s.status !== 'crashed'; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(s.status, 'crashed', 'expected the run to notice the dead worker');
}

test('a real worker thread that exits is reported with its exit code, and a save made before is kept', async () => {
  const s = newRun();
  try {
    await s.started();
    await s.request('save', '/ckpt/x.safetensors');
    s.crashWorker('exit');
    await crashed(s);
    assert.equal(s.problem, 'it exited with code 3');
    assert.deepEqual(s.lastCheckpoint, { path: '/ckpt/x.safetensors', step: 9 });
    await s.restart();
    assert.equal(s.status, 'paused');
  } finally {
    await s.dispose();
  }
});

test('an uncaught exception in the worker is reported with its message', async () => {
  const s = newRun();
  try {
    await s.started();
    s.crashWorker('throw');
    await crashed(s);
    assert.equal(s.problem, 'crash requested by a test');
  } finally {
    await s.dispose();
  }
});

test('a worker over its memory limit ends alone and is reported as out of memory', async () => {
  const s = newRun(16);
  try {
    await s.started();
    s.crashWorker('oom');
    await crashed(s);
    assert.match(s.problem ?? '', /ran out of memory/);
  } finally {
    await s.dispose();
  }
});
