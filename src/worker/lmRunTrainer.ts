// The language model's Trainer as the run loop drives it (runTrainer.ts): the trainer itself, the
// editor's probes of the trained text (editorProbes.ts), and sampling from its batch-1 stepper.
import { RecurrentError } from '../engine/errors.js';
import type { StepMetrics } from '../engine/measurements.js';
import { parameterCount, parameterShapes } from '../engine/parameters.js';
import { generate } from '../engine/sampling.js';
import type { Trainer } from '../engine/trainer.js';
import type { RunDescription, SamplingRequest } from '../protocol/messages.js';
import { textHeat, type TextHeat } from '../engine/textLoss.js';
import { EditorProbes, HEAT_CONTEXT_TOKENS } from './editorProbes.js';
import type { RunTrainer } from './runTrainer.js';

export class LmRunTrainer implements RunTrainer {
  private readonly editor: EditorProbes;

  constructor(
    readonly trainer: Trainer,
    /** The text the run trains on, whose offsets the editor asks for. */
    text: string,
  ) {
    this.editor = new EditorProbes(() => text);
  }

  get updates(): number {
    return this.trainer.updates;
  }

  get train(): Trainer['train'] {
    return this.trainer.train;
  }

  step(): StepMetrics {
    return this.trainer.step();
  }

  lastClip(): ReturnType<Trainer['lastClip']> {
    return this.trainer.lastClip();
  }

  spike(m: StepMetrics): ReturnType<EditorProbes['watch']> {
    return this.editor.watch(this.trainer, m);
  }

  validate(scope: 'sample' | 'full'): ReturnType<Trainer['validate']> {
    return this.trainer.validate(scope);
  }

  validationDue(): boolean {
    return this.trainer.validationDue();
  }

  gradientFlow(): ReturnType<Trainer['gradientFlow']> {
    return this.trainer.gradientFlow();
  }

  tensorNorms(): ReturnType<Trainer['tensorNorms']> {
    return this.trainer.tensorNorms();
  }

  probeGates(text: string): ReturnType<Trainer['probeGates']> {
    return this.trainer.probeGates(text);
  }

  setLearningRate(lr: number | null): void {
    this.trainer.setLearningRate(lr);
  }

  toCheckpoint(): ReturnType<Trainer['toCheckpoint']> {
    return this.trainer.toCheckpoint();
  }

  close(): void {
    this.trainer.close();
  }

  describe(): RunDescription {
    const t = this.trainer;
    return {
      model: t.modelConfig,
      // The count that runs, so the dashboard says what this machine does.
      train: { ...t.train, threads: t.threads },
      tokenizer: t.tokenizer.kind,
      vocabSize: t.tokenizer.size,
      parameterCount: parameterCount(t.modelConfig),
      tensors: parameterShapes(t.modelConfig),
      trainTokens: t.trainTokens,
      validationTokens: t.validationTokens,
      unigramBits: t.unigramBits(),
      segments: t.history.segments.map((s) => ({ ...s })),
    };
  }

  history(): Trainer['history'] {
    return this.trainer.history;
  }

  periodicSamples(base: SamplingRequest): SamplingRequest[] {
    return [base];
  }

  sample(request: SamplingRequest, onToken: (text: string) => void): Promise<string> {
    return generate(this.trainer.stepper(), this.trainer.tokenizer, request, onToken);
  }

  probeEditor(text: string, k: number, reach: boolean): ReturnType<EditorProbes['probe']> {
    return this.editor.probe(this.trainer, text, k, reach);
  }

  locateTokens(spans: readonly number[]): number[] {
    return this.editor.locate(this.trainer, spans);
  }

  textHeat(text: string): TextHeat {
    return textHeat(this.trainer.tokenizer.encodeLenient(text), () => this.trainer.lossWindows(), HEAT_CONTEXT_TOKENS);
  }

  predictLines(): never {
    throw new RecurrentError(
      'a language model predicts the next token, not the lines of a task file: train on the file with the task classify or generate',
    );
  }
}
