// What one run of an experiment came to, recorded as it trains by whoever steps it (the command line's
// runner, or the extension's worker), so both report the same numbers from the same run: the training
// loss and gradient norm of every update (kept whole for the summaries, thinned for figures), the
// updates that clipping cut or that the exploding-gradient rule flags, where the loss stopped being
// finite, the held-out validation, and the recall measurements over the run.
import type { StepMetrics } from '../measurements.js';
import { EXPLODING_FACTOR } from '../thresholds.js';
import type { RecallMeasure } from './recallProbe.js';
import type { GateHolding } from './gateHolding.js';

/** Points a figure keeps of a run's curves. */
const FIGURE_POINTS = 200;
/** Updates whose norms say what "normal" is for a run without clipping (as the worker's spike watch). */
const RECENT = 64;

/** What a recorder reads of an update: a language model's StepMetrics or a classifier's TaskStepMetrics. */
export type RecordedStep = Pick<StepMetrics, 'step' | 'lossNats' | 'bitsPerToken' | 'gradNorm' | 'clipped'>;

export interface RunOutcome {
  id: string;
  updates: number;
  /** 'steps': the budget ran out; 'nonFinite': the loss or the weights stopped being finite at `nonFiniteAt`. */
  stopped: 'steps' | 'nonFinite' | 'stopped';
  nonFiniteAt: number | null;
  parameterCount: number;
  /** Training loss, bits per token (a classifier's: per line): the mean of the first and of the last 50 updates. */
  firstBits: number;
  lastBits: number;
  /**
   * Held-out bits per character at the end, of the held-out lines each read from a zero state as the run
   * trained (null without a probe, or when the model is not finite), and the training text's unigram entropy.
   */
  validationBits: number | null;
  unigramBits: number;
  /** Global gradient norm before clipping over the run's finite updates. */
  medianNorm: number;
  maxNorm: number;
  /** Updates clipping cut, and updates the exploding-gradient rule flags (EXPLODING_FACTOR times the clip threshold, or the recent median). */
  clipped: number;
  explosions: number;
  /** Thinned curves: update, loss in bits, gradient norm (the largest in each stretch, so spikes stay). */
  curve: Array<[number, number, number]>;
  recall: RecallMeasure[];
  gates: GateHolding | null;
  /** Training time, for the record only: budgets are in updates. */
  ms: number;
}

export class OutcomeRecorder {
  private readonly losses: number[] = [];
  private readonly norms: number[] = [];
  private readonly recent: number[] = [];
  private clipped = 0;
  private explosions = 0;
  private nonFiniteAt: number | null = null;
  private readonly recall: RecallMeasure[] = [];
  private gates: GateHolding | null = null;

  constructor(
    private readonly id: string,
    private readonly clipNorm: number,
  ) {}

  /** After each update, with its (reused) metrics. */
  step(m: RecordedStep): void {
    if (!Number.isFinite(m.lossNats) || !Number.isFinite(m.gradNorm)) {
      this.nonFiniteAt ??= m.step;
      return;
    }
    this.losses.push(m.bitsPerToken);
    this.norms.push(m.gradNorm);
    if (m.clipped) this.clipped++;
    const sorted = this.recent.slice().sort((a, b) => a - b);
    const threshold =
      this.clipNorm > 0 ? EXPLODING_FACTOR * this.clipNorm : sorted.length > 0 ? EXPLODING_FACTOR * sorted[sorted.length >> 1]! : Infinity;
    if (m.gradNorm >= threshold) this.explosions++;
    this.recent.push(m.gradNorm);
    if (this.recent.length > RECENT) this.recent.shift();
  }

  measured(r: RecallMeasure): void {
    this.recall.push(r);
  }

  lastMeasure(): RecallMeasure | null {
    return this.recall.at(-1) ?? null;
  }

  gatesMeasured(g: GateHolding): void {
    this.gates = g;
  }

  finish(o: {
    updates: number;
    parameterCount: number;
    validationBits: number | null;
    unigramBits: number;
    ms: number;
    stopped?: 'stopped';
  }): RunOutcome {
    const n = this.losses.length;
    const mean = (xs: number[]): number => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const sortedNorms = this.norms.slice().sort((a, b) => a - b);
    return {
      id: this.id,
      updates: o.updates,
      stopped: this.nonFiniteAt !== null ? 'nonFinite' : (o.stopped ?? 'steps'),
      nonFiniteAt: this.nonFiniteAt,
      parameterCount: o.parameterCount,
      firstBits: mean(this.losses.slice(0, 50)),
      lastBits: mean(this.losses.slice(Math.max(0, n - 50))),
      validationBits: o.validationBits,
      unigramBits: o.unigramBits,
      medianNorm: sortedNorms.length > 0 ? sortedNorms[sortedNorms.length >> 1]! : NaN,
      maxNorm: sortedNorms.length > 0 ? sortedNorms[sortedNorms.length - 1]! : NaN,
      clipped: this.clipped,
      explosions: this.explosions,
      curve: thin(this.losses, this.norms),
      recall: this.recall.slice(),
      gates: this.gates,
      ms: o.ms,
    };
  }
}

/** At most FIGURE_POINTS points: the mean loss and the largest norm of each stretch of updates. */
function thin(losses: readonly number[], norms: readonly number[]): Array<[number, number, number]> {
  const n = losses.length;
  const per = Math.max(1, Math.ceil(n / FIGURE_POINTS));
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < n; i += per) {
    const end = Math.min(n, i + per);
    let loss = 0;
    let norm = 0;
    for (let j = i; j < end; j++) {
      loss += losses[j]!;
      norm = Math.max(norm, norms[j]!);
    }
    out.push([end, loss / (end - i), norm]);
  }
  return out;
}
