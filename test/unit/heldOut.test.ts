// A trained model is judged by what it does on text it has not seen, from the zero state that `recurrent
// eval` and sampling start from, and by the file training leaves behind, not by the training loss alone.
// min-char-rnn's configuration (vanilla RNN 100, windows of 25, batch 1, Adagrad 0.1, clip 5) once trained
// to 3.1 bits/char by its own report while the saved model scored 13.8 on any text: its single stream
// never started from a zero state again after its first updates, and the model came to rely on hidden
// units it had latched early, which a zero state does not reproduce. Seeds 1 and 9 latched that way.
// Whether a run latches turns on its exact trajectory, which rounding decides: of seeds 1-12 only those two
// latch, on the plain SIMD kernels, and none on the relaxed build or the reference kernels (whose models
// score 3.60-4.06 bits on the held-out text with restarts). So the tests of the latch run on the plain
// build, which every runtime has, and the same build and seeds show what the restarts prevent.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sotuText } from '../../scripts/sotu.mjs';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeCheckpointFile } from '../../src/engine/checkpoint.js';
import { DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../src/engine/config.js';
import { Model } from '../../src/engine/model.js';
import { scoreText } from '../../src/engine/scoring.js';
import { Streams } from '../../src/engine/streams.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { Trainer } from '../../src/engine/trainer.js';
import { scratchFolder } from './support/scratch.js';
import { windowLoss, windowsOf } from './support/windows.js';
import { preferWasmKernelSet, wasmKernelSets } from '../../src/engine/wasmKernels.js';

const scratch = scratchFolder('heldout');

const SOTU = sotuText();
const cut = Math.floor(SOTU.length * 0.9);
/** What training reads (its own last 10% validates), and text it never reads: the last 10% of the corpus. */
const TRAIN_TEXT = SOTU.slice(0, cut);
const HELD_OUT = SOTU.slice(cut, cut + 40000);

const MIN_CHAR_RNN: Omit<ModelConfig, 'vocabSize'> = {
  task: 'lm',
  cell: 'rnn',
  hidden: 100,
  layers: 1,
  embedding: 0,
  bidirectional: false,
};
function minCharRnn(seed: number, over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_TRAIN,
    batch: 1,
    k1: 25,
    k2: 25,
    optimizer: 'adagrad',
    lr: 0.1,
    clipNorm: 5,
    evalEvery: 0,
    seed,
    ...over,
  };
}

/** Scores held-out text through a real checkpoint file, as `recurrent eval` does. */
async function evalThroughFile(t: Trainer, text: string): Promise<ReturnType<typeof scoreText>> {
  const path = join(scratch, 'run.safetensors');
  await writeCheckpointFile(path, t.toCheckpoint());
  const ck = await readCheckpointFile(path);
  const model = new Model(ck.config);
  model.loadTensors(ck.tensors);
  return scoreText(model, Tokenizer.fromSpec(ck.tokenizer), text);
}

/** The checks every learning test makes: held-out text scores well below the unigram entropy, near the run's validation. */
function assertLearned(t: Trainer, heldOut: ReturnType<typeof scoreText>, marginBits: number, label: string): void {
  const unigram = t.unigramBits();
  const validation = t.validate('full').bitsPerToken;
  assert.ok(
    heldOut.bitsPerToken < unigram - marginBits,
    `${label}: held-out text scored ${heldOut.bitsPerToken.toFixed(3)} bits/token, expected below the unigram entropy ${unigram.toFixed(3)} - ${marginBits}`,
  );
  assert.ok(
    Math.abs(heldOut.bitsPerToken - validation) < 0.4,
    `${label}: held-out text ${heldOut.bitsPerToken.toFixed(3)} bits/token vs the run's own validation ${validation.toFixed(3)}: a saved model should score unseen text about as its validation says`,
  );
}

/** Runs fn on the plain SIMD kernels (the build the latching seeds were found on), then lets the engine choose again. */
async function onPlainSimd<T>(fn: () => T | Promise<T>): Promise<T> {
  assert.ok(wasmKernelSets().includes('simd'), 'every runtime with WebAssembly SIMD runs the plain build');
  preferWasmKernelSet('simd');
  try {
    return await fn();
  } finally {
    preferWasmKernelSet(null);
  }
}

for (const seed of [1, 9]) {
  test(`min-char-rnn's configuration (seed ${seed}) gives a model that predicts held-out text from a zero state`, () =>
    onPlainSimd(async () => {
      const t = Trainer.create(TRAIN_TEXT, MIN_CHAR_RNN, minCharRnn(seed), 'char');
      for (let i = 0; i < 1500; i++) assert.ok(Number.isFinite(t.step().lossNats), `update ${i} finite`);
      const heldOut = await evalThroughFile(t, HELD_OUT);
      assert.ok(heldOut.unknown.count > 0, 'the held-out text has characters training never saw (U+2019 and the like)');
      assertLearned(t, heldOut, 0.5, `seed ${seed}`);
    }));
}

test('without restarts from a zero state the same run latches onto its carried state, and validation says so', () =>
  onPlainSimd(() => {
    // The failure the restarts prevent, kept visible: if this ever passes, the test above no longer proves anything.
    const t = Trainer.create(TRAIN_TEXT, MIN_CHAR_RNN, minCharRnn(1, { resetEvery: 0 }), 'char');
    const first = t.validate('sample');
    for (let i = 0; i < 400; i++) t.step();
    const v = t.validate('sample');
    assert.ok(v.bitsPerToken > t.unigramBits() + 2, `expected the latched model far above the unigram entropy, got ${v.bitsPerToken}`);
    assert.ok(t.diverged(v), `a validation of ${v.bitsPerToken} bits after starting at ${first.bitsPerToken} is reported as diverged`);
  }));

test('a saved checkpoint, read back from its file, gives the loss training reported for the windows after it', async () => {
  const t = Trainer.create(TRAIN_TEXT.slice(0, 200000), MIN_CHAR_RNN, minCharRnn(3, { batch: 3, k1: 20, k2: 30 }), 'char');
  for (let i = 0; i < 60; i++) t.step();
  const path = join(scratch, 'mid.safetensors');
  await writeCheckpointFile(path, t.toCheckpoint());
  const reported = t.step().lossNats;
  const windows = t.lastWindows().map(([a]) => a);

  // The file alone: its weights, its carried state, the windows training read next.
  const ck = await readCheckpointFile(path);
  const tokens = Tokenizer.fromSpec(ck.tokenizer).encode(TRAIN_TEXT.slice(0, 200000));
  const { batch: B, k1, k2 } = t.train;
  const { net } = windowsOf(ck, tokens, windows, k2);
  const fromFile = windowLoss(net, B, k1, k2, Float32Array.from(ck.tensors.get('state.h_l0')!.data));
  assert.ok(
    Math.abs(fromFile - reported) < 1e-5 * reported,
    `training reported ${reported} nats for the update after the save; the saved file gives ${fromFile}`,
  );
});

test('streams restart from a zero state on schedule, one at a time, and a resumed run restarts where the first would have', () => {
  const streams = new Streams(10000, 4, 10, 10, 40);
  const fresh = new Uint8Array(4);
  const seen: string[] = [];
  for (let u = 0; u < 9; u++) {
    streams.freshStarts(fresh, u);
    seen.push(fresh.join(''));
    streams.advance();
  }
  // 40 tokens = 4 windows of 10; stream b restarts when (update + b) % 4 == 0: one of the four each update.
  assert.deepEqual(seen, ['0000', '0001', '0010', '0100', '1000', '0001', '0010', '0100', '1000']);

  const text = TRAIN_TEXT.slice(0, 100000);
  const over = { batch: 4, k1: 10, k2: 10, resetEvery: 40, optimizer: 'adam' as const, lr: 0.002 };
  const whole = Trainer.create(text, MIN_CHAR_RNN, minCharRnn(5, over), 'char');
  const first = Trainer.create(text, MIN_CHAR_RNN, minCharRnn(5, over), 'char');
  for (let u = 0; u < 6; u++) {
    whole.step();
    first.step();
  }
  const resumed = Trainer.resume(text, decodeCheckpoint(encodeCheckpoint(first.toCheckpoint())), { threads: 1 });
  for (let u = 0; u < 6; u++) assert.equal(resumed.step().lossNats, whole.step().lossNats, `update ${6 + u} after resuming`);

  // The restart is real: the update after a save equals the saved weights run from the saved state with
  // the restarting stream's state zeroed (update 6: stream 2 restarts), and not from the state as saved.
  const ck = whole.toCheckpoint();
  const u = whole.updates;
  const restarting = [0, 1, 2, 3].filter((b) => (u + b) % 4 === 0);
  assert.equal(restarting.length, 1);
  const reported = whole.step().lossNats;
  const starts = whole.lastWindows().map(([a]) => a);
  const tokens = Tokenizer.fromSpec(ck.tokenizer).encode(text);
  const { net } = windowsOf(ck, tokens, starts, 10);
  const lossFrom = (state: Float32Array): number => windowLoss(net, 4, 10, 10, state);
  const saved = Float32Array.from(ck.tensors.get('state.h_l0')!.data);
  const cleared = Float32Array.from(saved);
  cleared.fill(0, restarting[0]! * 100, restarting[0]! * 100 + 100);
  assert.ok(
    Math.abs(lossFrom(cleared) - reported) < 1e-5 * reported,
    `from the cleared state ${lossFrom(cleared)} vs reported ${reported}`,
  );
  assert.ok(Math.abs(lossFrom(saved) - reported) > 1e-4, 'the saved state as it was gives another loss');
});
