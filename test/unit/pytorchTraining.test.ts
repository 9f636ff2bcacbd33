// Export for PyTorch with training, run for real (Debian's python3-torch at /usr/bin/python3): the train.py
// of src/export/trainPy.ts continues a run of our engine and must make the same updates, and our engine
// must continue what train.py saved the same way. For each case the engine trains PRE updates and saves;
// then, from that checkpoint, the engine and train.py (one process, CPU) each make UPDATES more, whose
// losses must agree update by update within float32 rounding; then the engine resumes train.py's
// checkpoint and train.py goes on from it, and they must agree again. Under torchrun with two CPU
// processes (gloo) and an uneven split of the streams, train.py must still follow the engine, and its
// checkpoint must load and train here.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readCheckpointFile, writeCheckpointFile } from '../../src/engine/checkpoint.js';
import { DEFAULT_TRAIN, type ModelConfig, type TokenizerKind, type TrainConfig } from '../../src/engine/config.js';
import { History, HISTORY_KEY } from '../../src/engine/history.js';
import type { StepMetrics } from '../../src/engine/measurements.js';
import { Trainer } from '../../src/engine/trainer.js';
import { PYTORCH_CHECKPOINT } from '../../src/export/pytorchProject.js';
import { torchAbsence, torchrun } from './support/torch.js';
import { compareUpdates, exportProject, trainPy, type PyLine } from './support/trainPy.js';

const absent = torchAbsence();
const skip = absent ? `skipped: torch is absent: ${absent}` : false;

/** Updates the engine makes before exporting, and then each side makes from each checkpoint. */
const PRE = 10;
const UPDATES = 50;

const SOTU = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'recurrent-pytorch-training-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  model: Omit<ModelConfig, 'vocabSize' | 'task' | 'bidirectional'>;
  tokenizer: TokenizerKind;
  train: Partial<TrainConfig>;
  /** Characters of the sample text: short enough that streams wrap around within the updates. */
  chars: number;
}

// Every cell and optimizer, one-hot and embedded input, char and word tokens, k1 < k2, clipping by norm and
// by value, warm-up with cosine and step schedules, restarts from a zero state, streams wrapping around.
const CASES: Case[] = [
  {
    name: 'lstm 2x32, embedding, k1 16 < k2 24, adam, warm-up and cosine, clip norm, restarts, wrap-around',
    model: { cell: 'lstm', hidden: 32, layers: 2, embedding: 8 },
    tokenizer: 'char',
    train: {
      batch: 6,
      k1: 16,
      k2: 24,
      optimizer: 'adam',
      lr: 0.01,
      clipNorm: 0.3,
      warmupSteps: 5,
      schedule: 'cosine',
      totalSteps: 200,
      resetEvery: 200,
    },
    chars: 4000,
  },
  {
    name: 'gru 24, one-hot, adamw with weight decay, clip by value then norm, step schedule',
    model: { cell: 'gru', hidden: 24, layers: 1, embedding: 0 },
    tokenizer: 'char',
    train: {
      batch: 5,
      k1: 20,
      k2: 20,
      optimizer: 'adamw',
      lr: 0.01,
      weightDecay: 0.1,
      clipValue: 0.02,
      clipNorm: 1,
      schedule: 'step',
      stepSize: 15,
      stepGamma: 0.5,
      resetEvery: 0,
    },
    chars: 6000,
  },
  {
    name: 'rnn 24, word tokens, embedding, k1 8 < k2 12, sgd with momentum',
    model: { cell: 'rnn', hidden: 24, layers: 1, embedding: 6 },
    tokenizer: 'word',
    train: { batch: 4, k1: 8, k2: 12, optimizer: 'sgd', lr: 0.3, momentum: 0.9, clipNorm: 1, resetEvery: 100 },
    chars: 8000,
  },
  {
    name: 'lstm 16, one-hot, rmsprop',
    model: { cell: 'lstm', hidden: 16, layers: 1, embedding: 0 },
    tokenizer: 'char',
    train: { batch: 3, k1: 10, k2: 10, optimizer: 'rmsprop', lr: 0.005 },
    chars: 3000,
  },
  {
    name: 'gru 2x16, embedding, k1 12 < k2 16, adagrad',
    model: { cell: 'gru', hidden: 16, layers: 2, embedding: 4 },
    tokenizer: 'char',
    train: { batch: 4, k1: 12, k2: 16, optimizer: 'adagrad', lr: 0.05 },
    chars: 3000,
  },
];

function makeTrainer(c: Case, batch?: number): { trainer: Trainer; text: string } {
  const text = SOTU.slice(0, c.chars);
  const train = { ...DEFAULT_TRAIN, valShare: 0.1, evalEvery: 10, seed: 3, threads: 1, ...c.train, ...(batch ? { batch } : {}) };
  const trainer = Trainer.create(text, { task: 'lm', bidirectional: false, ...c.model }, train, c.tokenizer, { maxVocab: 300 });
  return { trainer, text };
}

function steps(trainer: Trainer, n: number): StepMetrics[] {
  return Array.from({ length: n }, () => ({ ...trainer.step() }));
}

/** train.py's updates (the lines it appended to `metrics`). */
async function pyUpdates(folder: string, args: string[], metrics: string, launcher: string[] = []): Promise<PyLine[]> {
  return (await trainPy(folder, args, metrics, launcher)).filter((m) => m.type === 'metrics');
}

/** Largest difference between the parameters of two checkpoints. */
async function parameterDifference(a: string, b: string): Promise<number> {
  const [x, y] = [await readCheckpointFile(a), await readCheckpointFile(b)];
  let worst = 0;
  for (const [name, t] of x.tensors) {
    if (name.startsWith('optimizer.') || name.startsWith('state.')) continue;
    const u = y.tensors.get(name)!.data;
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - u[i]!));
  }
  return worst;
}

// Concurrently: most of a case's time is Python starting and importing torch.
describe('train.py continues the engine, and the engine train.py', { concurrency: true }, () => {
  for (const c of CASES) {
    test(`the same ${UPDATES} updates both ways: ${c.name}`, { skip }, async (t) => {
      const folder = join(dir, c.name.split(',')[0]!.replace(/\W+/g, '-'));
      const { trainer, text } = makeTrainer(c);
      steps(trainer, PRE);
      const textPath = await exportProject(trainer, folder, text, 'text.txt');

      // Ours -> train.py: the same updates from the engine's checkpoint.
      const ours = steps(trainer, UPDATES);
      await writeCheckpointFile(join(folder, 'engine.safetensors'), trainer.toCheckpoint());
      trainer.close();
      const theirs = await pyUpdates(
        folder,
        [textPath, '--steps', String(UPDATES), '--out', join(folder, 'py1.safetensors')],
        join(folder, 'a.jsonl'),
      );
      compareUpdates(t, 'train.py from the engine', ours, theirs);
      const params = await parameterDifference(join(folder, 'engine.safetensors'), join(folder, 'py1.safetensors'));
      t.diagnostic(`parameters after update ${PRE + UPDATES}: largest difference ${params.toExponential(2)}`);
      assert.ok(params <= 3e-4, `parameters after update ${PRE + UPDATES} differ by ${params}`);

      // train.py -> ours: the engine resumes train.py's checkpoint, train.py goes on from it.
      const back = Trainer.resume(text, await readCheckpointFile(join(folder, 'py1.safetensors')), { threads: 1 });
      assert.equal(back.updates, PRE + UPDATES);
      const ours2 = steps(back, UPDATES);
      back.close();
      const py1 = join(folder, 'py1.safetensors');
      const theirs2 = await pyUpdates(
        folder,
        [textPath, '--from', py1, '--steps', String(UPDATES), '--out', join(folder, 'py2.safetensors')],
        join(folder, 'b.jsonl'),
      );
      compareUpdates(t, 'the engine from train.py', ours2, theirs2);

      // One history: the engine's updates, then train.py's two runs as one stretch in PyTorch.
      const history = History.parse((await readCheckpointFile(join(folder, 'py2.safetensors'))).metadata[HISTORY_KEY]);
      assert.deepEqual(
        history.segments.map((s) => [s.by, s.from, s.to, s.processes ?? null]),
        [
          ['recurrent-studio', 0, PRE, null],
          ['pytorch', PRE, PRE + 2 * UPDATES, 1],
        ],
      );
      assert.equal(history.metrics().length, PRE + 2 * UPDATES, 'every update is in the history');
    });
  }
});

test(
  'torchrun with two CPU processes (gloo) splits 5 streams 2 + 3, follows the engine, and its checkpoint trains here',
  { skip },
  async (t) => {
    const c = CASES[0]!;
    const folder = join(dir, 'torchrun');
    const { trainer, text } = makeTrainer(c, 5);
    steps(trainer, PRE);
    const textPath = await exportProject(trainer, folder, text, 'text.txt');
    const ours = steps(trainer, UPDATES);
    trainer.close();
    const theirs = await pyUpdates(folder, [textPath, '--steps', String(UPDATES)], join(folder, 'metrics.jsonl'), await torchrun(2));
    compareUpdates(t, 'torchrun --nproc_per_node=2 from the engine', ours, theirs);
    const mean = (xs: { lossNats: number }[]) => xs.reduce((s, m) => s + m.lossNats, 0) / xs.length;
    assert.ok(mean(theirs.slice(-5)) < mean(theirs.slice(0, 5)), 'the loss falls under torchrun');

    // train.py saved over the exported checkpoint; here it loads, says where it trained, and trains on.
    const ck = await readCheckpointFile(join(folder, PYTORCH_CHECKPOINT));
    const back = Trainer.resume(text, ck, { threads: 1 });
    assert.equal(back.updates, PRE + UPDATES);
    const segment = back.history.segments.find((s) => s.by === 'pytorch');
    assert.equal(segment?.processes, 2);
    const before = back.validate('full');
    const more = steps(back, 20);
    back.close();
    assert.ok(
      more.every((m) => Number.isFinite(m.lossNats)),
      'the engine trains on from the torchrun checkpoint',
    );
    t.diagnostic(
      `torchrun: loss ${theirs[0]!.lossNats.toFixed(4)} -> ${theirs.at(-1)!.lossNats.toFixed(4)} nats; then here validation ${before.lossNats.toFixed(4)}, training loss ${more.at(-1)!.lossNats.toFixed(4)}`,
    );
  },
);
