// One experiment run beside its trainer: prepares the trainer as the plan says (a curriculum's weights
// from an earlier run, or gate biases that keep the state), measures the run's probe as it trains, and
// records what it comes to. The command line's runner and the extension's worker both drive a run through
// this, so a run gives the same numbers wherever it trains.
import type { Checkpoint } from '../checkpoint.js';
import { RecurrentError } from '../errors.js';
import type { GradientFlow, StepMetrics } from '../measurements.js';
import type { Trainer } from '../trainer.js';
import { measureGateHolding } from './gateHolding.js';
import { OutcomeRecorder, type RunOutcome } from './outcome.js';
import type { TrackedRun } from './plan.js';
import { RecallProbe, type RecallMeasure } from './recallProbe.js';

/** Sets a new trainer up as the run says: the previous run's weights for a curriculum (`init`), else the gate bias. */
export function prepareTrainer(t: Trainer, run: TrackedRun, init: Checkpoint | null): void {
  if (run.from !== undefined) {
    if (init === null) throw new RecurrentError(`run ${run.id} continues run ${run.from}, which left no weights to continue from`);
    loadWeights(t, init);
  } else if (run.keepBias) {
    addKeepBias(t, run.keepBias);
  }
}

/**
 * Adds `bias` to the initial bias of the gate that keeps the state: the LSTM's forget gate (rows H..2H
 * of i, f, g, o) or the GRU's update gate (rows H..2H of r, z, n; h' = (1 - z) n + z h). Both PyTorch
 * biases hold the rows; the gate sees their sum, so only b_ih is moved.
 */
export function addKeepBias(t: Trainer, bias: number): void {
  const { cell, hidden: H, layers } = t.modelConfig;
  if (cell === 'rnn' || bias === 0) return;
  for (let k = 0; k < layers; k++) {
    const b = t.model.param(`rnn.bias_ih_l${k}`).data;
    for (let j = H; j < 2 * H; j++) b[j] = b[j]! + bias;
  }
}

/** Starts `t` from the weights of `init` (a curriculum's previous run): same cell, sizes and vocabulary. */
export function loadWeights(t: Trainer, init: Checkpoint): void {
  const a = t.modelConfig;
  const b = init.config;
  if (a.cell !== b.cell || a.hidden !== b.hidden || a.layers !== b.layers || a.embedding !== b.embedding || a.vocabSize !== b.vocabSize)
    throw new RecurrentError(
      `the run to continue from is a ${b.cell} ${b.hidden} x ${b.layers}, not a ${a.cell} ${a.hidden} x ${a.layers}`,
    );
  const vocab = t.tokenizer.spec().vocab;
  if (init.tokenizer.kind !== t.tokenizer.kind || init.tokenizer.vocab.some((v, i) => v !== vocab[i]))
    throw new RecurrentError('the run to continue from has another vocabulary: its token ids would mean other characters');
  t.model.loadTensors(init.tensors);
}

export class RunTracker {
  private readonly recorder: OutcomeRecorder;
  private readonly probe: RecallProbe | null;
  private lastMeasured = -1;
  private readonly startedAt = performance.now();

  constructor(
    private readonly run: TrackedRun,
    private readonly trainer: Trainer,
  ) {
    this.recorder = new OutcomeRecorder(run.id, trainer.train.clipNorm);
    this.probe = run.probe ? new RecallProbe(trainer.model, trainer.tokenizer, run.probe.gap, run.probe.lines) : null;
  }

  /** Before the first update: the untrained model's measurement. */
  begin(): RecallMeasure | null {
    return this.measure();
  }

  /** After each update; returns a measurement when one was due. */
  afterStep(m: StepMetrics): RecallMeasure | null {
    this.recorder.step(m);
    const every = this.run.probe?.every ?? 0;
    return every > 0 && Number.isFinite(m.lossNats) && this.trainer.updates % every === 0 ? this.measure() : null;
  }

  /** The probe's gradient at the recall over the gap, in the dashboard's gradient-flow form; null without a probe. */
  gradientFlow(): GradientFlow | null {
    if (this.probe === null) return null;
    const last = this.probe.measure(this.trainer.updates);
    return { step: last.step, window: last.fromRecall.length, fromLast: [Float32Array.from(last.fromRecall)], perStep: [], start: 0 };
  }

  private measure(): RecallMeasure | null {
    if (this.probe === null) return null;
    const r = this.probe.measure(this.trainer.updates);
    if (this.lastMeasured !== this.trainer.updates) this.recorder.measured(r);
    this.lastMeasured = this.trainer.updates;
    return r;
  }

  /**
   * The run's outcome: a last measurement (whose held-out bits per character are the run's held-out
   * loss: the trainer's own validation reads the held-out lines as one text with the state carried
   * across them, where these models, trained a line at a time from a zero state, never were) and the
   * gates held, when the model is finite.
   */
  finish(o: { stopped?: 'stopped' } = {}): RunOutcome {
    const t = this.trainer;
    const finite = t.model.parametersFinite();
    let last: RecallMeasure | null = null;
    if (finite) last = this.lastMeasured === t.updates ? (this.recorder.lastMeasure() ?? this.measure()) : this.measure();
    if (finite && this.run.probe?.gates) {
      const g = measureGateHolding(t.model, t.tokenizer, this.run.probe.gap, this.run.probe.lines);
      if (g !== null) this.recorder.gatesMeasured(g);
    }
    const v = last?.lineBits ?? NaN;
    return this.recorder.finish({
      updates: t.updates,
      parameterCount: t.model.parameterCount,
      validationBits: Number.isFinite(v) ? v : null,
      unigramBits: t.unigramBits(),
      ms: performance.now() - this.startedAt,
      ...(o.stopped ? { stopped: o.stopped } : {}),
    });
  }
}
