// One experiment run beside its trainer: prepares the trainer as the plan says (a curriculum's weights
// from an earlier run, or gate biases that keep the state), measures the run's probe as it trains, and
// records what it comes to. The command line's runner and the extension's worker both drive a run through
// this, so a run gives the same numbers wherever it trains. A run is a language model's (Trainer) or a
// classifier's (TaskTrainer, the bidirectional experiment's).
import type { Checkpoint } from '../checkpoint.js';
import { RecurrentError } from '../errors.js';
import type { GradientFlow } from '../measurements.js';
import { TaskTrainer } from '../taskTrainer.js';
import type { Trainer } from '../trainer.js';
import { measureGateHolding } from './gateHolding.js';
import { measureHeldOut } from './heldOutProbe.js';
import { OutcomeRecorder, type RecordedStep, type RunOutcome } from './outcome.js';
import type { TrackedRun } from './plan.js';
import { RecallProbe, type RecallMeasure } from './recallProbe.js';

/** What an experiment run trains. */
export type ExperimentTrainer = Trainer | TaskTrainer;

/** Sets a new trainer up as the run says: the previous run's weights for a curriculum (`init`), else the gate bias. */
export function prepareTrainer(t: ExperimentTrainer, run: TrackedRun, init: Checkpoint | null): void {
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
export function addKeepBias(t: ExperimentTrainer, bias: number): void {
  const { cell, hidden: H, layers } = t.modelConfig;
  if (cell === 'rnn' || bias === 0) return;
  for (let k = 0; k < layers; k++) {
    const b = t.model.param(`rnn.bias_ih_l${k}`).data;
    for (let j = H; j < 2 * H; j++) b[j] = b[j]! + bias;
  }
}

/** Starts `t` from the weights of `init` (a curriculum's previous run): same cell, sizes and vocabulary. */
export function loadWeights(t: ExperimentTrainer, init: Checkpoint): void {
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
    private readonly trainer: ExperimentTrainer,
  ) {
    this.recorder = new OutcomeRecorder(run.id, trainer.train.clipNorm);
    const p = run.probe;
    if (p?.kind === 'heldOut' && !(trainer instanceof TaskTrainer && trainer.task === 'classify'))
      throw new RecurrentError(`run ${run.id}: the held-out probe measures a classifier`);
    if (p?.kind === 'recall' && trainer instanceof TaskTrainer)
      throw new RecurrentError(`run ${run.id}: the recall probe measures a language model`);
    this.probe = p?.kind === 'recall' ? new RecallProbe(trainer.model, trainer.tokenizer, p.gap, p.lines) : null;
  }

  /** Before the first update: the untrained model's measurement. */
  begin(): RecallMeasure | null {
    return this.measure();
  }

  /** After each update; returns a measurement when one was due. */
  afterStep(m: RecordedStep): RecallMeasure | null {
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
    const t = this.trainer;
    const r =
      this.probe !== null ? this.probe.measure(t.updates) : this.run.probe?.kind === 'heldOut' ? measureHeldOut(t as TaskTrainer) : null;
    if (r === null) return null;
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
    const p = this.run.probe;
    if (finite && p?.kind === 'recall' && p.gates && !(t instanceof TaskTrainer)) {
      const g = measureGateHolding(t.model, t.tokenizer, p.gap, p.lines);
      if (g !== null) this.recorder.gatesMeasured(g);
    }
    const v = last?.lineBits ?? NaN;
    return this.recorder.finish({
      updates: t.updates,
      parameterCount: t.model.parameterCount,
      validationBits: Number.isFinite(v) ? v : null,
      // A classifier's: the bits per line of naming the label from the label frequencies alone.
      unigramBits: t instanceof TaskTrainer ? t.baseline().lossNats / Math.LN2 : t.unigramBits(),
      ms: performance.now() - this.startedAt,
      ...(o.stopped ? { stopped: o.stopped } : {}),
    });
  }
}
