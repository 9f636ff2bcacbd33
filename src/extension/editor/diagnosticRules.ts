// When training's gradients are in trouble, and where in the text: the rules behind the editor's
// diagnostics, as plain functions of what the worker reports (clip events, gradient flow, the non-finite
// error), so they are unit-tested without VS Code. Spans here are token offsets in the training text;
// the editor maps them to the document.
import type { CellKind } from '../../engine/config.js';
import type { ClipEvent, GradientFlow } from '../../engine/measurements.js';
import { EXPLODING_FACTOR, REACH_RATIO } from '../../engine/thresholds.js';

/** At most this many exploding updates are shown (the largest), so the Problems panel stays readable. */
export const MAX_EXPLOSIONS = 5;
/** Gradient-flow windows kept for vanishing diagnostics (the latest ones, one per window start). */
export const MAX_VANISHING_WINDOWS = 3;

export type FixKind = 'lowerLearningRate' | 'enableClipping' | 'switchToLstm' | 'switchToGru' | 'shorterWindow';
export type FindingRule = 'exploding' | 'vanishing' | 'nonFinite';

export interface Finding {
  rule: FindingRule;
  severity: 'error' | 'warning';
  /** Update the finding comes from. */
  step: number;
  /** [start, end) token offsets in the training text; several for a batch (one per stream). */
  spans: Array<[number, number]>;
  message: string;
  fixes: FixKind[];
  /** For shorterWindow: the window that the gradient still reaches. */
  reach?: number;
}

/** What the rules need to know about the run. */
export interface RunFacts {
  cell: CellKind;
  lr: number;
  clipNorm: number;
  clipValue: number;
  /** k2: steps the gradient is backpropagated. */
  window: number;
}

/** A gradient norm too large for its update: from a clip event, or from an unclipped update. */
export interface GradientSpike {
  step: number;
  normBefore: number;
  normAfter: number;
  spans: Array<[number, number]>;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

/**
 * The norm above which an update exploded: EXPLODING_FACTOR times the clip threshold, or, with
 * clipping off, times the median norm of the recent updates (what "normal" is for this run).
 */
export function explosionThreshold(facts: RunFacts, recentNorms: readonly number[]): number {
  if (facts.clipNorm > 0) return EXPLODING_FACTOR * facts.clipNorm;
  const finite = recentNorms.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (finite.length < 1) return Infinity; // no update yet to say what normal is
  return EXPLODING_FACTOR * finite[finite.length >> 1]!;
}

/** Explosions among the spikes: the largest MAX_EXPLOSIONS above the threshold, each on its windows. */
export function explodingFindings(spikes: readonly GradientSpike[], facts: RunFacts, threshold: number): Finding[] {
  const worst = spikes
    .filter((s) => s.normBefore >= threshold && s.spans.length > 0)
    .sort((a, b) => b.normBefore - a.normBefore)
    .slice(0, MAX_EXPLOSIONS);
  return worst.map((s) => {
    const clipped = s.normAfter < s.normBefore;
    const base =
      facts.clipNorm > 0
        ? `${fmt(s.normBefore / facts.clipNorm)} times the clip threshold ${fmt(facts.clipNorm)}`
        : `${fmt(s.normBefore / (threshold / EXPLODING_FACTOR))} times the run's median`;
    const after = clipped ? `clipped to ${fmt(s.normAfter)}` : 'not clipped (clipping is off)';
    const fixes: FixKind[] = ['lowerLearningRate'];
    if (facts.clipNorm === 0) fixes.push('enableClipping');
    return {
      rule: 'exploding' as const,
      severity: 'warning' as const,
      step: s.step,
      spans: s.spans,
      message: `Exploding gradient at update ${s.step}: the gradient norm of the batch that read this text was ${fmt(s.normBefore)}, ${base}; ${after}. Lower the learning rate${facts.clipNorm === 0 ? ' or turn on clipping' : ''}.`,
      fixes,
    };
  });
}

/**
 * Where the gradient from the loss at the end of a window stops reaching: the first k at which
 * fromLast[layer][k] falls below REACH_RATIO of fromLast[layer][0], the earliest over layers.
 */
export function vanishingStep(flow: GradientFlow): { k: number; layer: number } | null {
  let best: { k: number; layer: number } | null = null;
  flow.fromLast.forEach((row, layer) => {
    const top = row[0]!;
    if (!(top > 0)) return;
    for (let k = 1; k < row.length; k++) {
      if (row[k]! < REACH_RATIO * top) {
        if (!best || k < best.k) best = { k, layer };
        return;
      }
    }
  });
  return best;
}

/** A diagnostic on the part of the window the gradient does not reach, when it vanished inside it. */
export function vanishingFinding(flow: GradientFlow, facts: RunFacts): Finding | null {
  const v = vanishingStep(flow);
  if (!v) return null;
  const K = flow.window;
  const unreached = K - v.k; // positions T-k for k >= v.k: the first K - v.k tokens of the window
  if (unreached <= 0) return null;
  const fixes: FixKind[] = [];
  // GRU first: on real text its gradient reached across whole 64-step windows where the RNN's and the
  // LSTM's faded after 20-30 steps (README, Dashboard: gradient reach measured on sotu.txt).
  if (facts.cell === 'rnn') fixes.push('switchToGru', 'switchToLstm');
  if (facts.cell === 'lstm') fixes.push('switchToGru');
  fixes.push('shorterWindow');
  const layer = flow.fromLast.length > 1 ? ` in layer ${v.layer}` : '';
  const remedy =
    facts.cell === 'rnn'
      ? 'a gated cell (GRU or LSTM) or a shorter window'
      : facts.cell === 'lstm'
        ? 'a GRU or a shorter window'
        : 'a shorter window';
  return {
    rule: 'vanishing',
    severity: 'warning',
    step: flow.step,
    spans: [[flow.start, flow.start + unreached]],
    message: `Vanishing gradient at update ${flow.step}: the loss at the end of this ${K}-step training window reaches back only ${v.k} steps${layer} (after ${v.k} steps its gradient is below ${fmt(REACH_RATIO)} of its size), so these ${unreached} tokens get no learning signal from it. Try ${remedy}.`,
    fixes,
    reach: v.k,
  };
}

/** Where training stopped on a NaN or infinite loss: on the last window known, else the top of the file. */
export function nonFiniteFinding(step: number, message: string, lastSpans: Array<[number, number]>, facts: RunFacts): Finding {
  const fixes: FixKind[] = ['lowerLearningRate'];
  if (facts.clipNorm === 0) fixes.push('enableClipping');
  return {
    rule: 'nonFinite',
    severity: 'error',
    step,
    spans: lastSpans.length ? lastSpans : [[0, 1]],
    message: `Training stopped at update ${step}: ${message}`,
    fixes,
  };
}

/** A settings change: `recurrent.<key>` = value. */
export interface SettingChange {
  key: string;
  value: number | string;
}

export interface Fix {
  title: string;
  changes: SettingChange[];
}

/** The settings a quick fix writes, given the run's own. */
export function fixFor(kind: FixKind, facts: RunFacts, reach?: number): Fix {
  switch (kind) {
    case 'lowerLearningRate': {
      const lr = Number((facts.lr / 10).toPrecision(3));
      return { title: `Lower the learning rate to ${lr} (from ${facts.lr})`, changes: [{ key: 'training.learningRate', value: lr }] };
    }
    case 'enableClipping':
      return { title: 'Turn on gradient clipping (global norm 1)', changes: [{ key: 'training.clipNorm', value: 1 }] };
    case 'switchToLstm':
      return { title: 'Switch to an LSTM cell', changes: [{ key: 'model.cell', value: 'lstm' }] };
    case 'switchToGru':
      return { title: 'Switch to a GRU cell', changes: [{ key: 'model.cell', value: 'gru' }] };
    case 'shorterWindow': {
      const T = Math.max(1, Math.min(facts.window - 1, reach ?? Math.floor(facts.window / 2)));
      return {
        title: `Shorten the training window to ${T} tokens (from ${facts.window})`,
        changes: [
          { key: 'training.sequenceLength', value: T },
          { key: 'training.k1', value: 0 },
          { key: 'training.k2', value: 0 },
        ],
      };
    }
  }
}

/** The spans of the clip events' batches, newest first: where a non-finite loss most likely came from. */
export function latestSpans(clips: readonly ClipEvent[]): Array<[number, number]> {
  return clips.length ? clips[clips.length - 1]!.spans : [];
}
