import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateTrainConfig } from '../../src/engine/config.js';
import { learningRateAt } from '../../src/engine/schedule.js';

function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: expected ${want}, got ${got}`);
}

test('constant schedule: lr at every update', () => {
  const c = validateTrainConfig({ lr: 0.01, schedule: 'constant' });
  for (const u of [0, 1, 999, 1e6]) close(learningRateAt(c, u), 0.01, `update ${u}`);
});

test('step schedule: multiplied by gamma every stepSize updates, like StepLR', () => {
  const c = validateTrainConfig({ lr: 0.1, schedule: 'step', stepSize: 10, stepGamma: 0.5 });
  close(learningRateAt(c, 0), 0.1, 'update 0');
  close(learningRateAt(c, 9), 0.1, 'update 9');
  close(learningRateAt(c, 10), 0.05, 'update 10');
  close(learningRateAt(c, 25), 0.025, 'update 25');
});

test('cosine schedule: from lr to lr*minLrRatio at totalSteps, halfway at the midpoint, then held', () => {
  const c = validateTrainConfig({ lr: 1, schedule: 'cosine', totalSteps: 100, minLrRatio: 0.1 });
  close(learningRateAt(c, 0), 1, 'start');
  close(learningRateAt(c, 50), 0.55, 'midpoint');
  close(learningRateAt(c, 25), 0.1 + (0.9 * (1 + Math.cos(Math.PI / 4))) / 2, 'quarter');
  close(learningRateAt(c, 100), 0.1, 'end');
  close(learningRateAt(c, 500), 0.1, 'after the end');
});

test('linear warm-up rises to lr over warmupSteps, then the schedule starts from its beginning', () => {
  const c = validateTrainConfig({ lr: 0.2, schedule: 'cosine', warmupSteps: 4, totalSteps: 104, minLrRatio: 0 });
  [0.05, 0.1, 0.15, 0.2].forEach((want, u) => close(learningRateAt(c, u), want, `warm-up update ${u}`));
  close(learningRateAt(c, 4), 0.2, 'first update after warm-up');
  close(learningRateAt(c, 54), 0.1, 'cosine midpoint, counted after warm-up');
  close(learningRateAt(c, 104), 0, 'end');
});
