// What the train.py suites share (pytorchTraining.test.ts for the language model, pytorchTaskTraining.test.ts
// for the tasks): the folder Export for PyTorch writes, train.py run for real, and its updates held to the
// engine's update by update.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { writeCheckpointFile, type Checkpoint } from '../../../src/engine/checkpoint.js';
import type { ModelConfig, TokenizerKind, TrainConfig } from '../../../src/engine/config.js';
import { PYTORCH_CHECKPOINT, PYTORCH_FILES, pytorchProject } from '../../../src/export/pytorchProject.js';
import { PYTHON } from './torch.js';

/**
 * Float32 rounding, compounded over 50 updates: PyTorch's kernels and ours sum in other orders, and
 * Adam divides by the root of small second moments. Measured: at most 3e-7 relative on the loss; a
 * wrong restart, window, batch or optimizer slot moves it by 1e-3 or more.
 */
export const LOSS_REL_TOL = 1e-5;
export const NORM_REL_TOL = 1e-4;

/** What exporting needs of a trainer, the language model's or a task's. */
export interface Exportable {
  toCheckpoint(): Checkpoint;
  readonly modelConfig: ModelConfig;
  readonly tokenizer: { kind: TokenizerKind };
  readonly train: TrainConfig;
  readonly updates: number;
}

/** The folder `recurrent export --pytorch` writes, from the trainer's checkpoint now, with the text beside it as `textName`. */
export async function exportProject(trainer: Exportable, folder: string, text: string, textName: string): Promise<string> {
  mkdirSync(folder, { recursive: true });
  await writeCheckpointFile(join(folder, PYTORCH_CHECKPOINT), trainer.toCheckpoint());
  const files = pytorchProject({
    config: trainer.modelConfig,
    tokenizer: trainer.tokenizer.kind,
    train: trainer.train,
    updates: trainer.updates,
  });
  for (const name of PYTORCH_FILES) writeFileSync(join(folder, name), files[name]);
  const textPath = join(folder, textName);
  writeFileSync(textPath, text);
  return textPath;
}

/** A line train.py appends to its --metrics file: an update's (`metrics`) or a held-out score's (`validation`). */
export interface PyLine {
  type: string;
  step: number;
  lossNats: number;
  lr: number;
  gradNorm: number;
  clipped: boolean;
  epoch?: number;
  examples?: number;
  accuracy?: number | null;
  wordErrorRate?: number;
  tokenErrorRate?: number;
}

/** Runs train.py (or torchrun with `launcher`) on one CPU thread; every line it appended to `metrics`. */
export async function trainPy(folder: string, args: string[], metrics: string, launcher: string[] = []): Promise<PyLine[]> {
  const child = spawn(PYTHON, [...launcher, join(folder, 'train.py'), ...args, '--metrics', metrics], {
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const status = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  assert.equal(status, 0, `train.py failed (${status}):\n${stderr}`);
  return readFileSync(metrics, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PyLine);
}

/** What both sides report of an update. */
interface Update {
  step: number;
  lr: number;
  lossNats: number;
  gradNorm: number;
  clipped: boolean;
}

/**
 * train.py's updates against the engine's, one by one: the same numbering and learning rate, the loss and
 * gradient norm within float32 rounding, clipped alike; `each` adds a caller's checks of an update.
 */
export function compareUpdates<U extends Update, P extends Update>(
  t: TestContext,
  what: string,
  ours: U[],
  theirs: P[],
  each: (a: U, b: P) => void = () => {},
): void {
  assert.equal(theirs.length, ours.length, `${what}: train.py made ${theirs.length} updates, expected ${ours.length}`);
  let worst = 0;
  let worstNorm = 0;
  let clipped = 0;
  for (let i = 0; i < ours.length; i++) {
    const [a, b] = [ours[i]!, theirs[i]!];
    assert.equal(b.step, a.step, `${what}: update numbers differ`);
    assert.ok(Math.abs(b.lr - a.lr) <= 1e-12 * a.lr, `${what}, update ${a.step}: learning rate ${b.lr} (train.py) vs ${a.lr} (engine)`);
    const d = Math.abs(b.lossNats - a.lossNats) / a.lossNats;
    const dn = Math.abs(b.gradNorm - a.gradNorm) / a.gradNorm;
    worst = Math.max(worst, d);
    worstNorm = Math.max(worstNorm, dn);
    assert.ok(
      d <= LOSS_REL_TOL,
      `${what}, update ${a.step}: loss ${b.lossNats} (train.py) vs ${a.lossNats} (engine), relative difference ${d.toExponential(2)} > ${LOSS_REL_TOL}`,
    );
    assert.ok(dn <= NORM_REL_TOL, `${what}, update ${a.step}: gradient norm ${b.gradNorm} (train.py) vs ${a.gradNorm} (engine)`);
    assert.equal(b.clipped, a.clipped, `${what}, update ${a.step}: clipped ${b.clipped} (train.py) vs ${a.clipped} (engine)`);
    each(a, b);
    if (a.clipped) clipped++;
  }
  t.diagnostic(
    `${what}: ${ours.length} updates, loss ${ours[0]!.lossNats.toFixed(4)} -> ${ours.at(-1)!.lossNats.toFixed(4)} nats, ` +
      `worst relative difference ${worst.toExponential(2)} (loss), ${worstNorm.toExponential(2)} (gradient norm); ${clipped} clipped`,
  );
}
