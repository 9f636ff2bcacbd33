// What the run loop (runLoop.ts) trains, whatever the task: the language model's Trainer behind
// lmRunTrainer.ts, a classify or generate TaskTrainer behind taskRunTrainer.ts, a fake in the unit
// tests. The loop steps it in slices, validates it when due, probes it every few seconds, samples from
// it and saves it; it answers each request of workerRequests.ts through it. What a task cannot do (a
// loss heat of a classifier, line predictions of a language model) it refuses with a RecurrentError
// that says so, which the loop sends back as the request's error.
import type { Checkpoint } from '../engine/checkpoint.js';
import type { TrainConfig } from '../engine/config.js';
import type { History } from '../engine/history.js';
import type { ClipEvent, GateProbe, GradientFlow, StepMetrics, TensorNorms, ValidationMetrics } from '../engine/measurements.js';
import type { TextHeat } from '../engine/textLoss.js';
import type { EditorProbe, LinePrediction, RunDescription, SamplingRequest } from '../protocol/messages.js';

export interface RunTrainer {
  readonly updates: number;
  /** The settings the run trains with, the threads this machine runs included. */
  readonly train: TrainConfig;
  /** One update; the returned object is reused by the next call. A non-finite loss changes nothing. */
  step(): StepMetrics;
  /** The clip of the last step, if it clipped; reused by later steps. */
  lastClip(): ClipEvent | null;
  /**
   * After step(): an update the editor should place although it did not clip (clipping off and its norm
   * spiked, or not finite), as a clip would be reported; null otherwise.
   */
  spike(m: StepMetrics): ClipEvent | null;
  /** Scores held-out data: 'sample' is what periodic validation reads, 'full' the end of a run. */
  validate(scope: 'sample' | 'full'): ValidationMetrics;
  validationDue(): boolean;
  gradientFlow(): GradientFlow;
  tensorNorms(): TensorNorms[];
  /** `label` is generate's ('' for its first); an empty text probes the run's own example where it has one. */
  probeGates(text: string, label: string): GateProbe;
  setLearningRate(lr: number | null): void;
  toCheckpoint(): Checkpoint;
  /** Ends the training threads; idempotent. */
  close(): void;
  describe(): RunDescription;
  /** What the run's checkpoint says of where it trained and its curve so far (language models; tasks keep none yet). */
  history(): History | null;
  /** The samples the dashboard shows every so often, from `base` (none for a classifier). */
  periodicSamples(base: SamplingRequest): SamplingRequest[];
  /** Writes from the current weights; `onToken` sees the text as it comes. */
  sample(request: SamplingRequest, onToken: (text: string) => void): Promise<string>;
  /** The editor's probe of a stretch of the trained text (language models); without `reach`, no gradient reach. */
  probeEditor(text: string, k: number, reach: boolean): EditorProbe;
  /** UTF-16 offsets in the trained text of token spans (language models). */
  locateTokens(spans: readonly number[]): number[];
  /** The model's prediction for each line [input, output] of a task file (tasks). */
  predictLines(lines: ReadonlyArray<readonly [string, string]>): LinePrediction[];
  /** The loss of every token of a whole text, for the editor's heat, computed a slice at a time (language models). */
  textHeat(text: string): TextHeat;
}
