// The learning rate of each update: a linear warm-up, then a constant, step or cosine schedule.
// `update` counts from 0 (the first update). The schedule's own clock starts when the warm-up ends,
// so warm-up never shortens the decay.
import type { TrainConfig } from './config.js';

export function learningRateAt(config: TrainConfig, update: number): number {
  const lr = config.lr;
  const warm = config.warmupSteps;
  // Warm-up: lr * (u+1)/W for u < W, so the first update is already non-zero and update W-1 reaches lr.
  if (update < warm) return (lr * (update + 1)) / warm;
  const s = update - warm;
  switch (config.schedule) {
    case 'constant':
      return lr;
    case 'step':
      // torch.optim.lr_scheduler.StepLR: lr * gamma^floor(s / stepSize).
      return lr * config.stepGamma ** Math.floor(s / config.stepSize);
    case 'cosine': {
      // SGDR's cosine annealing (Loshchilov & Hutter), without restarts, from lr down to
      // lr*minLrRatio at totalSteps, then held there.
      const span = Math.max(1, config.totalSteps - warm);
      const progress = Math.min(s, span) / span;
      const min = lr * config.minLrRatio;
      return min + ((lr - min) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
    default:
      return lr;
  }
}
