// Export for PyTorch with training for task runs, run for real (Debian's python3-torch at /usr/bin/python3):
// train.py continues a classify or generate run of our engine (taskTrainer.ts) and must make the same
// updates, on the same batches of the same examples, and our engine must continue what train.py saved
// the same way, as pytorchTraining.test.ts holds the language model to. For each case the engine trains
// PRE updates and saves; the engine and train.py (one process, CPU) each make UPDATES more from that
// checkpoint, with the same losses within float32 rounding, update by update, and the same held-out scores
// after them; then the engine resumes train.py's checkpoint and train.py goes on from it, and they agree
// again. Under torchrun with two CPU processes (gloo), an odd batch split 2 + 3, train.py still follows
// the engine and its checkpoint trains here.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { readCheckpointFile } from '../../src/engine/checkpoint.js';
import type { TrainConfig } from '../../src/engine/config.js';
import { History, HISTORY_KEY } from '../../src/engine/history.js';
import { TaskTrainer, type ExampleTask, type TaskModelOptions, type TaskStepMetrics } from '../../src/engine/taskTrainer.js';
import { PYTORCH_CHECKPOINT } from '../../src/export/pytorchProject.js';
import { torchAbsence, torchrun } from './support/torch.js';
import { compareUpdates, exportProject, LOSS_REL_TOL, trainPy, type PyLine } from './support/trainPy.js';

const absent = torchAbsence();
const skip = absent ? `skipped: torch is absent: ${absent}` : false;

const PRE = 10;
const UPDATES = 50;

const NAMES = readFileSync(new URL('../../../sample-workspace/first-names.tsv', import.meta.url), 'utf8');
const WORDS = readFileSync(new URL('../../../sample-workspace/pronunciations.tsv', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'recurrent-pytorch-task-training-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  task: ExampleTask;
  model: Partial<TaskModelOptions>;
  train: Partial<TrainConfig>;
  /** Lines of the names file (translate: of the pronunciations), every k-th so both labels are in it: few enough that epochs end within the updates. */
  lines: number;
}

// Both tasks, every cell, one-hot and embedded input, uni- and bidirectional, last and mean pooling, the
// optimizers, clipping by norm and by value, warm-up with cosine and step schedules, epochs ending.
const CASES: Case[] = [
  {
    name: 'classify gru 24, bidirectional, last pooling, adam, clip norm',
    task: 'classify',
    model: { cell: 'gru', hidden: 24, bidirectional: true },
    train: { batch: 8, optimizer: 'adam', lr: 0.01, clipNorm: 1 },
    lines: 300,
  },
  {
    name: 'classify lstm 2x16, embedding, mean pooling, adamw, warm-up and cosine, clip by value',
    task: 'classify',
    model: { cell: 'lstm', hidden: 16, layers: 2, embedding: 8, pooling: 'mean' },
    train: {
      batch: 7,
      optimizer: 'adamw',
      lr: 0.01,
      weightDecay: 0.05,
      clipValue: 0.05,
      clipNorm: 0,
      warmupSteps: 5,
      schedule: 'cosine',
      totalSteps: 200,
    },
    lines: 250,
  },
  {
    name: 'classify rnn 16, sgd with momentum, step schedule',
    task: 'classify',
    model: { cell: 'rnn', hidden: 16 },
    train: { batch: 6, optimizer: 'sgd', lr: 0.1, momentum: 0.9, clipNorm: 1, schedule: 'step', stepSize: 20, stepGamma: 0.5 },
    lines: 200,
  },
  {
    name: 'generate gru 32, adamw with weight decay, clip norm',
    task: 'generate',
    model: { cell: 'gru', hidden: 32 },
    train: { batch: 8, optimizer: 'adamw', lr: 0.007, weightDecay: 0.1, clipNorm: 5 },
    lines: 300,
  },
  {
    name: 'generate lstm 2x16, embedding, rmsprop',
    task: 'generate',
    model: { cell: 'lstm', hidden: 16, layers: 2, embedding: 6 },
    train: { batch: 6, optimizer: 'rmsprop', lr: 0.005, clipNorm: 1 },
    lines: 200,
  },
  {
    name: 'generate rnn 16, adagrad, cut at 6 tokens',
    task: 'generate',
    model: { cell: 'rnn', hidden: 16, maxLength: 6 },
    train: { batch: 5, optimizer: 'adagrad', lr: 0.05 },
    lines: 200,
  },
  {
    name: 'translate lstm 16, bidirectional, adam, clip norm',
    task: 'translate',
    model: { cell: 'lstm', hidden: 16, bidirectional: true },
    train: { batch: 8, optimizer: 'adam', lr: 0.01, clipNorm: 1 },
    lines: 200,
  },
  {
    name: 'translate gru 2x12, embedding 6, adamw, warm-up then cosine, sources cut at 7 tokens',
    task: 'translate',
    model: { cell: 'gru', hidden: 12, layers: 2, embedding: 6, maxLength: 7 },
    train: { batch: 6, optimizer: 'adamw', lr: 0.01, weightDecay: 0.05, clipNorm: 5, warmupSteps: 5, schedule: 'cosine', totalSteps: 200 },
    lines: 200,
  },
];

function taskText(task: ExampleTask, lines: number): string {
  const all = (task === 'translate' ? WORDS : NAMES).trim().split('\n');
  const every = Math.floor(all.length / lines);
  return (
    all
      .filter((_, i) => i % every === 0)
      .slice(0, lines)
      .join('\n') + '\n'
  );
}

function makeTrainer(c: Case, batch?: number): { trainer: TaskTrainer; text: string } {
  const text = taskText(c.task, c.lines);
  const train = { valShare: 0.1, evalEvery: 20, seed: 5, threads: 1, ...c.train, ...(batch ? { batch } : {}) };
  const trainer = TaskTrainer.create(text, 'task.tsv', { task: c.task, model: c.model, train });
  return { trainer, text };
}

function steps(trainer: TaskTrainer, n: number): TaskStepMetrics[] {
  return Array.from({ length: n }, () => ({ ...trainer.step() }));
}

/** train.py's updates and held-out scores (the lines it appended to `metrics`). */
async function pyRun(
  folder: string,
  args: string[],
  metrics: string,
  launcher: string[] = [],
): Promise<{ steps: PyLine[]; validations: PyLine[] }> {
  const lines = await trainPy(folder, args, metrics, launcher);
  return { steps: lines.filter((m) => m.type === 'metrics'), validations: lines.filter((m) => m.type === 'validation') };
}

/** As the language model's updates, and on the same examples of the same epoch, right as often. */
function compare(t: TestContext, what: string, ours: TaskStepMetrics[], theirs: PyLine[]): void {
  compareUpdates(t, what, ours, theirs, (a, b) => {
    assert.equal(b.epoch, a.epoch, `${what}, update ${a.step}: epoch ${b.epoch} (train.py) vs ${a.epoch} (engine)`);
    assert.equal(b.examples, a.examples, `${what}, update ${a.step}: examples seen`);
    if (Number.isFinite(a.accuracy)) assert.equal(b.accuracy, a.accuracy, `${what}, update ${a.step}: the batch's accuracy`);
  });
}

/** The engine's held-out scores now against train.py's last validation (at the same update, same weights within rounding). */
function compareValidation(t: TestContext, what: string, trainer: TaskTrainer, theirs: PyLine[]): void {
  const v = theirs.at(-1)!;
  assert.equal(v.step, trainer.updates, `${what}: train.py's last validation is at update ${v.step}`);
  const e = trainer.validate();
  const d = Math.abs(v.lossNats - e.loss) / e.loss;
  assert.ok(d <= LOSS_REL_TOL, `${what}: held-out loss ${v.lossNats} (train.py) vs ${e.loss} (engine)`);
  if (e.task === 'classify') assert.equal(v.accuracy, e.accuracy, `${what}: held-out accuracy`);
  // Greedy translations token for token: the same error rates.
  if (e.task === 'translate')
    assert.deepEqual([v.wordErrorRate, v.tokenErrorRate], [e.wordErrorRate, e.tokenErrorRate], `${what}: error rates`);
  const scores =
    e.task === 'classify'
      ? `, accuracy ${e.accuracy} both`
      : e.task === 'translate'
        ? `, word error ${e.wordErrorRate.toFixed(3)} and token error ${e.tokenErrorRate.toFixed(3)} both`
        : '';
  t.diagnostic(`${what}: held-out loss ${e.loss.toFixed(5)} nats, relative difference ${d.toExponential(2)}${scores}`);
}

describe('train.py continues task runs of the engine, and the engine train.py', { concurrency: true }, () => {
  for (const c of CASES) {
    test(`the same ${UPDATES} updates both ways: ${c.name}`, { skip }, async (t) => {
      const folder = join(dir, c.name.split(',')[0]!.replace(/\W+/g, '-'));
      const { trainer, text } = makeTrainer(c);
      steps(trainer, PRE);
      const textPath = await exportProject(trainer, folder, text, 'task.tsv');

      const ours = steps(trainer, UPDATES);
      trainer.close();
      const py1 = join(folder, 'py1.safetensors');
      const a = await pyRun(folder, [textPath, '--steps', String(UPDATES), '--out', py1], join(folder, 'a.jsonl'));
      compare(t, 'train.py from the engine', ours, a.steps);
      compareValidation(t, 'train.py from the engine', trainer, a.validations);

      const back = TaskTrainer.resume(text, 'task.tsv', await readCheckpointFile(py1), { threads: 1 });
      assert.equal(back.updates, PRE + UPDATES);
      const ours2 = steps(back, UPDATES);
      back.close();
      const b = await pyRun(
        folder,
        [textPath, '--from', py1, '--steps', String(UPDATES), '--out', join(folder, 'py2.safetensors')],
        join(folder, 'b.jsonl'),
      );
      compare(t, 'the engine from train.py', ours2, b.steps);
      compareValidation(t, 'the engine from train.py', back, b.validations);

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

for (const c of [CASES[0]!, CASES[3]!, CASES[6]!]) {
  test(
    `torchrun with two CPU processes (gloo) splits batches of 5 examples 2 + 3 and follows the engine: ${c.task}`,
    { skip },
    async (t) => {
      const folder = join(dir, `torchrun-${c.task}`);
      const { trainer, text } = makeTrainer(c, 5);
      steps(trainer, PRE);
      const textPath = await exportProject(trainer, folder, text, 'task.tsv');
      const ours = steps(trainer, UPDATES);
      trainer.close();
      const theirs = await pyRun(folder, [textPath, '--steps', String(UPDATES)], join(folder, 'metrics.jsonl'), await torchrun(2));
      compare(t, `torchrun --nproc_per_node=2, ${c.task}`, ours, theirs.steps);
      const mean = (xs: PyLine[]) => xs.reduce((s, m) => s + m.lossNats, 0) / xs.length;
      assert.ok(mean(theirs.steps.slice(-10)) < mean(theirs.steps.slice(0, 10)), 'the loss falls under torchrun');

      // train.py saved over the exported checkpoint; here it loads, says where it trained, and trains on.
      const back = TaskTrainer.resume(text, 'task.tsv', await readCheckpointFile(join(folder, PYTORCH_CHECKPOINT)), { threads: 1 });
      assert.equal(back.updates, PRE + UPDATES);
      assert.equal(back.history.segments.find((s) => s.by === 'pytorch')?.processes, 2);
      const more = steps(back, 20);
      back.close();
      assert.ok(
        more.every((m) => Number.isFinite(m.lossNats)),
        'the engine trains on from the torchrun checkpoint',
      );
      t.diagnostic(`torchrun ${c.task}: loss ${theirs.steps[0]!.lossNats.toFixed(4)} -> ${theirs.steps.at(-1)!.lossNats.toFixed(4)} nats`);
    },
  );
}
