// A trained task model put to use: the labels of texts with their probabilities, texts written for a
// label, or the translations of texts. Inputs are read as in training: unknown characters left out
// (and counted), texts cut to the model's maxLength.
import { ConditionedStepper } from './conditioned.js';
import type { Floats } from './floats.js';
import { RecurrentError } from './errors.js';
import type { Model } from './model.js';
import { generate, type SamplingOptions } from './sampling.js';
import { encodeKnown, END_OF_TEXT, type Sequences } from './taskData.js';
import { TaskNet } from './taskNet.js';
import type { Tokenizer } from './tokenizer.js';
import { TranslationDecoder } from './translateDecode.js';

export interface LabelProbability {
  label: string;
  probability: number;
}

export interface Classification {
  label: string;
  probability: number;
  /** Every label, most probable first. */
  ranked: LabelProbability[];
  /** Characters of the text the model does not know, left out. */
  unknown: number;
}

/** generate: a text's labels by Bayes' rule from the model's likelihoods, and the likelihoods. */
export interface LabelPosterior extends Classification {
  /** -ln p(text, end | label) per output token in nats, for each label in model order. */
  natsPerToken: number[];
  /** Output tokens scored: the text's known tokens and the end token. */
  tokens: number;
}

const BATCH = 32;

export interface Translation {
  /** The output, its tokens joined as the target tokenizer joins them. */
  text: string;
  tokens: string[];
  /** Tokens of the source the model does not know, left out. */
  unknown: number;
}

export class TaskPredictor {
  readonly labels: readonly string[];
  private net: TaskNet | null = null;
  /** [maxSteps * maxBatch] each position's loss, in the arena so the wasm kernels write it. */
  private perRow: Floats | null = null;
  private stepper: ConditionedStepper | null = null;
  private decoder: TranslationDecoder | null = null;

  constructor(
    readonly model: Model,
    readonly tokenizer: Tokenizer,
    readonly targetTokenizer: Tokenizer | null = null,
  ) {
    const cfg = model.config;
    if (cfg.task === 'lm') throw new RecurrentError(`this model's task is lm, not classify, generate or translate`);
    if (cfg.task === 'translate' && targetTokenizer === null) throw new Error('a translate model needs its target tokenizer');
    this.labels = cfg.labels ?? [];
  }

  /** The translation of every text: greedy with beam 1, else a beam search of that width. */
  translate(texts: readonly string[], beam = 1): Translation[] {
    if (this.model.config.task !== 'translate')
      throw new RecurrentError(`this model's task is ${this.model.config.task}; it does not translate`);
    const limit = this.model.config.maxLength ?? 0;
    const unknown = new Int32Array(texts.length);
    const ids = texts.map((text, i) => {
      const seq = encodeKnown(this.tokenizer, text, () => unknown[i]++);
      return Int32Array.from(limit > 0 ? seq.slice(0, limit) : seq);
    });
    const longest = ids.reduce((m, s) => Math.max(m, s.length), 1);
    if (this.decoder === null || this.decoder.maxSource < longest || this.decoder.beam !== beam) {
      const end = this.targetTokenizer!.id(END_OF_TEXT)!;
      this.decoder = new TranslationDecoder(this.model, { maxBatch: BATCH, maxSource: Math.max(longest, 64), beam }, end);
    }
    const out: Translation[] = [];
    for (let s = 0; s < texts.length; s += BATCH) {
      const b = Math.min(BATCH, texts.length - s);
      const outs = this.decoder.decode(ids, (r) => s + r, b);
      outs.forEach((o, r) => {
        const tokens = Array.from(o, (id) => this.targetTokenizer!.token(id));
        out.push({ text: this.targetTokenizer!.decode(o), tokens, unknown: unknown[s + r]! });
      });
    }
    return out;
  }

  /** Labels of every text, as the model ranks them. */
  classify(texts: readonly string[]): Classification[] {
    if (this.model.config.task !== 'classify')
      throw new RecurrentError(`this model's task is ${this.model.config.task}; it does not classify`);
    const limit = this.model.config.maxLength ?? 0;
    const unknown = new Int32Array(texts.length);
    const ids = texts.map((text, i) => {
      const seq = encodeKnown(this.tokenizer, text, () => unknown[i]++);
      return Int32Array.from(limit > 0 ? seq.slice(0, limit) : seq);
    });
    const net = this.netFor(ids.reduce((m, s) => Math.max(m, s.length), 1));
    const seqs: Sequences = {
      ids,
      labels: new Int32Array(texts.length),
      lines: new Int32Array(texts.length),
      unknown: 0,
      unknownAt: [],
      unknownSymbols: new Map(),
      truncated: 0,
    };
    const K = this.labels.length;
    const out: Classification[] = [];
    for (let s = 0; s < texts.length; s += BATCH) {
      const b = Math.min(BATCH, texts.length - s);
      net.load(seqs, (r) => s + r, b);
      net.loss(b);
      const p = net.classifier!.logits;
      for (let r = 0; r < b; r++) {
        const ranked = this.labels.map((label, k) => ({ label, probability: p[r * K + k]! }));
        ranked.sort((x, y) => y.probability - x.probability);
        out.push({ label: ranked[0]!.label, probability: ranked[0]!.probability, ranked, unknown: unknown[s + r]! });
      }
    }
    return out;
  }

  /**
   * generate: how the model ranks the labels for each text, by Bayes' rule: p(label | text) is
   * proportional to prior[label] * p(text, end | label), the likelihood of the text and its end token
   * from the label's state. `prior` holds the labels' shares (of the training lines).
   */
  posterior(texts: readonly string[], prior: ArrayLike<number>): LabelPosterior[] {
    if (this.model.config.task !== 'generate')
      throw new RecurrentError('posterior needs a model that generates text from a label (task generate)');
    const end = this.tokenizer.id(END_OF_TEXT)!;
    const K = this.labels.length;
    const limit = this.model.config.maxLength ?? 0;
    const unknown = new Int32Array(texts.length);
    const ids = texts.map((text, i) => {
      const seq = encodeKnown(this.tokenizer, text, () => unknown[i]++);
      const cut = limit > 0 ? seq.slice(0, Math.max(1, limit - 1)) : seq;
      cut.push(end);
      return Int32Array.from(cut);
    });
    const net = this.netFor(ids.reduce((m, s) => Math.max(m, s.length), 1));
    // Every (text, label) pair is one example of the batch.
    const pairs = texts.length * K;
    const seqs: Sequences = {
      ids: Array.from({ length: pairs }, (_, i) => ids[Math.floor(i / K)]!),
      labels: Int32Array.from({ length: pairs }, (_, i) => i % K),
      lines: new Int32Array(pairs),
      unknown: 0,
      unknownAt: [],
      unknownSymbols: new Map(),
      truncated: 0,
    };
    const nats = new Float64Array(pairs);
    const perRow = this.perRow!;
    const g = net.generator!;
    for (let s = 0; s < pairs; s += BATCH) {
      const b = Math.min(BATCH, pairs - s);
      net.load(seqs, (r) => s + r, b);
      const t = net.window;
      g.forward(b, t);
      g.net.loss(b, t, 0, perRow, 0);
      for (let p = 0; p < t; p++) for (let r = 0; r < b; r++) nats[s + r] += perRow[p * b + r]!;
    }
    return texts.map((_, i) => {
      const n = ids[i]!.length;
      const logPost = Array.from({ length: K }, (_, k) => Math.log(Math.max(prior[k]!, 1e-300)) - nats[i * K + k]!);
      const top = Math.max(...logPost);
      const z = logPost.reduce((a, v) => a + Math.exp(v - top), 0);
      const ranked = this.labels.map((label, k) => ({ label, probability: Math.exp(logPost[k]! - top) / z }));
      ranked.sort((x, y) => y.probability - x.probability);
      return {
        label: ranked[0]!.label,
        probability: ranked[0]!.probability,
        ranked,
        unknown: unknown[i]!,
        natsPerToken: Array.from({ length: K }, (_, k) => nats[i * K + k]! / n),
        tokens: n,
      };
    });
  }

  /** A network for batches of texts of up to `longest` tokens, grown (never shrunk) as longer ones come. */
  private netFor(longest: number): TaskNet {
    if (this.net === null || this.net.maxSteps < longest) {
      const end = this.model.config.task === 'generate' ? this.tokenizer.id(END_OF_TEXT)! : -1;
      this.net = new TaskNet(this.model, BATCH, Math.max(longest, 64), end);
      this.perRow = this.model.arena.floats(this.net.maxSteps * BATCH);
    }
    return this.net;
  }

  /** A text the model writes for `label`, starting with `prime` (which is not repeated in the result). */
  async generate(label: string, opts: SamplingOptions & { prime?: string; seed: number; length?: number }): Promise<string> {
    if (this.model.config.task !== 'generate')
      throw new RecurrentError(`this model's task is ${this.model.config.task}; it does not generate from a label`);
    const id = this.labels.indexOf(label);
    if (id < 0)
      throw new RecurrentError(
        `the model knows no label ${JSON.stringify(label)}; it knows ${this.labels.map((l) => JSON.stringify(l)).join(', ')}`,
      );
    this.stepper ??= new ConditionedStepper(this.model, this.model.param('label_embedding.weight'), this.model.arena);
    this.stepper.setLabel(id);
    const prime = opts.prime ?? '';
    encodeKnown(this.tokenizer, prime, (ch) => {
      throw new RecurrentError(`the prime's character ${JSON.stringify(ch)} is not in the model's vocabulary`);
    });
    const limit = this.model.config.maxLength || 200;
    const text = await generate(this.stepper, this.tokenizer, {
      ...opts,
      prime: END_OF_TEXT + prime,
      length: opts.length ?? limit,
      stopAt: END_OF_TEXT,
    });
    return prime + (text.endsWith(END_OF_TEXT) ? text.slice(0, -END_OF_TEXT.length) : text);
  }
}
