// A classify, generate or translate TaskTrainer as the run loop drives it (runTrainer.ts): its updates
// reported in the language model's terms plus the examples and scores of a task (classify's accuracy),
// its held-out evaluation as a validation (with the confusion matrix; translate's word and token error
// rates and a table of translations), samples per label (generate), and the model's prediction for the
// lines of a task file, which the editor shows after each line.
import { RecurrentError } from '../engine/errors.js';
import type { ClipEvent, StepMetrics, ValidationMetrics } from '../engine/measurements.js';
import { parameterCount, parameterShapes } from '../engine/parameters.js';
import type { TaskTrainer } from '../engine/taskTrainer.js';
import { editDistance } from '../engine/taskEval.js';
import { DIVERGENCE_MARGIN_BITS } from '../engine/validation.js';
import { LINE_ALTERNATIVES, type LinePrediction, type RunDescription, type SamplingRequest } from '../protocol/messages.js';
import type { RunTrainer } from './runTrainer.js';
import { translationRows } from './translationRows.js';

/** Labels the dashboard's periodic samples write for, and texts per label. */
const SAMPLED_LABELS = 8;
const TEXTS_PER_LABEL = 5;

export class TaskRunTrainer implements RunTrainer {
  private readonly metrics: StepMetrics & { scores: Record<string, number> };
  /** The held-out lines as they are written in the file, so the editor can say which lines the model never learned from. */
  private readonly heldOutLines: ReadonlySet<string>;
  private readonly fileLines: readonly string[];
  private readonly baselineBits: number;
  /** The first validation made here: where the run started in this process. */
  private firstBits = NaN;

  constructor(
    readonly trainer: TaskTrainer,
    text: string,
  ) {
    this.metrics = {
      step: 0,
      tokens: 0,
      lossNats: 0,
      bitsPerToken: 0,
      lr: 0,
      gradNorm: 0,
      clipped: false,
      elapsedMs: 0,
      tokensPerSecond: 0,
      scores: {},
    };
    const lines = text.split('\n');
    this.fileLines = lines;
    const held = new Set<string>();
    for (const l of trainer.heldOut.lines) held.add(canonical(lines[l - 1] ?? ''));
    this.heldOutLines = held;
    this.baselineBits = trainer.baseline().lossNats / Math.LN2;
  }

  get updates(): number {
    return this.trainer.updates;
  }

  get train(): TaskTrainer['train'] {
    return this.trainer.train;
  }

  step(): StepMetrics {
    const s = this.trainer.step();
    const m = this.metrics;
    m.step = s.step;
    m.tokens = s.tokens;
    m.lossNats = s.lossNats;
    m.bitsPerToken = s.bitsPerToken;
    m.lr = s.lr;
    m.gradNorm = s.gradNorm;
    m.clipped = s.clipped;
    m.elapsedMs = s.elapsedMs;
    m.tokensPerSecond = s.tokensPerSecond;
    m.examples = s.examples;
    m.examplesPerSecond = s.examplesPerSecond;
    m.epoch = s.epoch;
    if (this.trainer.task === 'classify') m.scores.accuracy = s.accuracy;
    return m;
  }

  lastClip(): ClipEvent | null {
    return this.trainer.lastClip();
  }

  spike(): null {
    return null; // an update reads examples, not a stretch of the file the editor could mark
  }

  /** translate translates the held-out examples to score them: while training a sample of them (`sample`), at the end all. */
  validate(scope: 'sample' | 'full' = 'full'): ValidationMetrics {
    const t = this.trainer;
    const step = t.updates;
    if (t.heldOut.ids.length === 0) return { step, lossNats: NaN, bitsPerToken: NaN, tokens: 0, examples: 0 };
    const e = t.validate(scope === 'sample');
    const v: ValidationMetrics = {
      step,
      lossNats: e.loss,
      bitsPerToken: e.loss / Math.LN2,
      tokens: e.task === 'classify' ? e.examples : e.tokens,
      examples: e.examples,
    };
    if (e.task === 'classify') {
      v.scores = { accuracy: e.accuracy };
      v.confusion = { labels: e.labels, counts: e.confusion };
    }
    if (e.task === 'translate') {
      v.scores = { wordErrorRate: e.wordErrorRate, tokenErrorRate: e.tokenErrorRate };
      const shown = t.validationSet(true).lines;
      v.translations = translationRows(t.validationSet(scope === 'sample'), e.outputs, this.fileLines, t.targetTokenizer!, shown);
    }
    if (Number.isNaN(this.firstBits)) this.firstBits = v.bitsPerToken;
    // As the language model's: not finite, or over a bit worse than learning nothing and than where it started.
    v.diverged =
      !Number.isFinite(v.bitsPerToken) || (v.bitsPerToken > this.baselineBits + DIVERGENCE_MARGIN_BITS && v.bitsPerToken > this.firstBits);
    return v;
  }

  validationDue(): boolean {
    return this.trainer.validationDue();
  }

  gradientFlow(): ReturnType<TaskTrainer['gradientFlow']> {
    return this.trainer.gradientFlow();
  }

  tensorNorms(): ReturnType<TaskTrainer['tensorNorms']> {
    return this.trainer.tensorNorms();
  }

  probeGates(text: string, label: string): ReturnType<TaskTrainer['probeGates']> {
    return this.trainer.probeGates(text || undefined, label || undefined);
  }

  setLearningRate(lr: number | null): void {
    this.trainer.setLearningRate(lr);
  }

  toCheckpoint(): ReturnType<TaskTrainer['toCheckpoint']> {
    return this.trainer.toCheckpoint();
  }

  close(): void {
    this.trainer.close();
  }

  describe(): RunDescription {
    const t = this.trainer;
    const cfg = t.modelConfig;
    const base = t.baseline();
    const tokens = (ids: readonly Int32Array[]): number => ids.reduce((n, s) => n + s.length, 0);
    const classify = t.task === 'classify';
    return {
      model: cfg,
      train: { ...t.train, threads: t.threads },
      tokenizer: t.tokenizer.kind,
      vocabSize: t.tokenizer.size,
      parameterCount: parameterCount(cfg),
      tensors: parameterShapes(cfg),
      trainTokens: tokens(t.trainSet.ids),
      validationTokens: tokens(t.heldOut.ids),
      unigramBits: this.baselineBits,
      segments: t.history.segments.map((s) => ({ ...s })),
      examples: {
        train: t.trainSet.ids.length,
        heldOut: t.heldOut.ids.length,
        lossPer: classify ? 'example' : 'token',
        baselineScores: classify && Number.isFinite(base.accuracy) ? { accuracy: base.accuracy } : {},
        baseline: classify ? `always ${JSON.stringify(base.label)}` : 'token frequencies alone',
      },
    };
  }

  history(): TaskTrainer['history'] {
    return this.trainer.history;
  }

  periodicSamples(base: SamplingRequest): SamplingRequest[] {
    if (this.trainer.task !== 'generate') return [];
    // Each label's texts take seeds of their own: the same seed would start every label's texts alike.
    return this.trainer.labels
      .slice(0, SAMPLED_LABELS)
      .map((label, i) => ({ ...base, seed: (base.seed + i * TEXTS_PER_LABEL) >>> 0, label, count: TEXTS_PER_LABEL }));
  }

  async sample(request: SamplingRequest, onToken: (text: string) => void): Promise<string> {
    const t = this.trainer;
    if (t.task === 'translate') throw new RecurrentError('a translator writes the output of an input: use Recurrent: Predict on a text');
    if (t.task !== 'generate')
      throw new RecurrentError('a classifier names the label of a text; it does not write text: use Recurrent: Predict on a text');
    const label = request.label ?? t.labels[0]!;
    const count = Math.max(1, request.count ?? 1);
    const texts: string[] = [];
    for (let i = 0; i < count; i++) {
      const text = await t.predictions().generate(label, {
        temperature: request.temperature,
        topK: request.topK,
        topP: request.topP,
        greedy: request.greedy,
        seed: (request.seed + i) >>> 0,
        prime: request.prime,
        length: request.length,
      });
      onToken(i > 0 ? '\n' + text : text);
      texts.push(text);
    }
    return texts.join('\n');
  }

  probeEditor(): never {
    throw new RecurrentError(
      "the loss heat and the per-character hover are for language models; a task model's predictions show after each line of its file",
    );
  }

  locateTokens(): never {
    throw new RecurrentError('a task model trains on examples, not on stretches of the text');
  }

  textHeat(): never {
    throw new RecurrentError('a task model reads examples, not a running text: it has no loss heat over a file');
  }

  predictLines(lines: ReadonlyArray<readonly [string, string]>): LinePrediction[] {
    const t = this.trainer;
    for (const l of lines)
      if (!Array.isArray(l) || l.length !== 2 || typeof l[0] !== 'string' || typeof l[1] !== 'string')
        throw new RecurrentError(`a line to predict is [input, output], two strings; got ${JSON.stringify(l)?.slice(0, 80)}`);
    const inputs = lines.map((l) => l[0]);
    const held = (l: readonly [string, string]): boolean => this.heldOutLines.has(canonical(`${l[0]}\t${l[1]}`));
    const top = (ranked: ReadonlyArray<{ label: string; probability: number }>): LinePrediction['ranked'] =>
      ranked.slice(0, LINE_ALTERNATIVES).map((r) => ({ output: r.label, probability: r.probability }));
    if (t.task === 'translate') {
      const target = t.targetTokenizer!;
      return t
        .predictions()
        .translate(inputs)
        .map((tr, i) => {
          const out = Int32Array.from(tr.tokens, (tok) => target.id(tok)!);
          const ref = lines[i]![1] === '' ? null : target.encodeLenient(lines[i]![1]).ids;
          return {
            output: tr.text,
            probability: NaN,
            ranked: [],
            ...(ref !== null ? { distance: editDistance(out, ref), targetTokens: ref.length } : {}),
            unknown: tr.unknown,
            heldOut: held(lines[i]!),
          };
        });
    }
    if (t.task === 'classify') {
      return t
        .predictions()
        .classify(inputs)
        .map((c, i) => ({
          output: c.label,
          probability: c.probability,
          ranked: top(c.ranked),
          unknown: c.unknown,
          heldOut: held(lines[i]!),
        }));
    }
    return t
      .predictions()
      .posterior(inputs, t.labelShares())
      .map((p, i) => {
        const own = t.labels.indexOf(lines[i]![1]);
        return {
          output: p.label,
          probability: p.probability,
          ranked: top(p.ranked),
          bitsPerToken: own < 0 ? NaN : p.natsPerToken[own]! / Math.LN2,
          unknown: p.unknown,
          heldOut: held(lines[i]!),
        };
      });
  }
}

/** A line as the held-out set keys it: without a trailing carriage return. */
function canonical(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
