// Gradient clipping, the remedy for exploding gradients in backpropagation through time.
// By norm: torch.nn.utils.clip_grad_norm_ over all parameters at once, g *= c / (||g|| + 1e-6)
// when that factor is below 1, which keeps the direction of the update. By value: each element
// clamped to [-v, v], which does not. Nothing is allocated: the caller passes the result object.
import { scaleInPlace, sumOfSquares } from './backend.js';
import type { Param } from './parameters.js';

export interface ClipResult {
  /** Global L2 norm of all gradients before clipping. */
  normBefore: number;
  normAfter: number;
  /** Whether any gradient changed. */
  clipped: boolean;
  /**
   * The clipping that changed the gradients; with both limits set, value clipping runs first and
   * 'norm' wins if both changed them. When nothing changed: the configured mode, or 'none'.
   */
  mode: 'norm' | 'value' | 'none';
}

// PyTorch adds this to the norm before dividing, so a zero gradient stays finite.
const NORM_EPS = 1e-6;

/** The factor clipping by norm scales gradients of global norm `norm` by; it clips when below 1. */
export function normClipCoefficient(clipNorm: number, norm: number): number {
  return clipNorm / (norm + NORM_EPS);
}

export function newClipResult(): ClipResult {
  return { normBefore: 0, normAfter: 0, clipped: false, mode: 'none' };
}

export function globalGradNorm(params: readonly Param[]): number {
  let sum = 0;
  for (let k = 0; k < params.length; k++) sum += sumOfSquares(params[k]!.grad);
  return Math.sqrt(sum);
}

/**
 * Clips gradients in place: by value first when clipValue > 0, then by global norm when
 * clipNorm > 0 (0 turns either off). A non-finite norm leaves the gradients as they are, so the
 * caller sees NaN or Infinity in normBefore and can stop.
 */
export function clipGradients(params: readonly Param[], clipNorm: number, clipValue: number, out: ClipResult): ClipResult {
  const before = globalGradNorm(params);
  out.normBefore = before;
  out.normAfter = before;
  out.clipped = false;
  out.mode = clipNorm > 0 ? 'norm' : clipValue > 0 ? 'value' : 'none';
  if (!Number.isFinite(before)) return out;
  let norm = before;
  if (clipValue > 0) {
    let changed = false;
    let sum = 0;
    for (let k = 0; k < params.length; k++) {
      const g = params[k]!.grad;
      for (let i = 0; i < g.length; i++) {
        let gi = g[i]!;
        if (gi > clipValue) {
          gi = clipValue;
          g[i] = gi;
          changed = true;
        } else if (gi < -clipValue) {
          gi = -clipValue;
          g[i] = gi;
          changed = true;
        }
        sum += gi * gi;
      }
    }
    if (changed) {
      norm = Math.sqrt(sum);
      out.clipped = true;
      out.mode = 'value';
    }
  }
  if (clipNorm > 0) {
    const coef = normClipCoefficient(clipNorm, norm);
    if (coef < 1) {
      let sum = 0;
      for (let k = 0; k < params.length; k++) {
        scaleInPlace(params[k]!.grad, coef);
        sum += sumOfSquares(params[k]!.grad);
      }
      norm = Math.sqrt(sum);
      out.clipped = true;
      out.mode = 'norm';
    }
  }
  out.normAfter = norm;
  return out;
}
