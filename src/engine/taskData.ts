// A task file's examples as the classify and generate tasks read them: each line's text (the first
// column) as token ids and its label (the second column) as an id. classify reads the text and
// predicts the label; generate is given the label and writes the text, then an end token. The held-out
// share is a seeded random sample of the lines, not the file's tail (a file sorted by name or label
// would otherwise hold out one kind of example). The vocabulary comes from the training lines only,
// so held-out text is scored as new text would be: see encodeKnown for its unknown characters.
import { RecurrentError } from './errors.js';
import { Rng } from './rng.js';
import type { Tokenizer } from './tokenizer.js';
import type { TsvExample } from './tsv.js';

/** generate's end of sequence: the line break, which no line of a task file contains. */
export const END_OF_TEXT = '\n';

export interface Sequences {
  /** Token ids of each example's text (translate: its source); for generate they end with the end token. */
  readonly ids: readonly Int32Array[];
  /** translate: each example's target token ids, ending with the end token unless cut at the length limit. */
  readonly targets?: readonly Int32Array[];
  /**
   * translate: each example's whole target as the model's token ids, what a translation is scored
   * against; -1 stands for a token the target vocabulary lacks, which no output can match.
   */
  readonly references?: readonly Int32Array[];
  /** Label id of each example. */
  readonly labels: Int32Array;
  /** 1-based line of each example in its file. */
  readonly lines: Int32Array;
  /** Tokens left out because the vocabulary does not have them (counted, not scored), and where (first 100). */
  readonly unknown: number;
  readonly unknownAt: ReadonlyArray<{ line: number; token: string }>;
  /** How often each unknown token occurs. */
  readonly unknownSymbols: ReadonlyMap<string, number>;
  /** Examples cut to the length limit. */
  readonly truncated: number;
}

/** Labels in order of first appearance in the file. */
export function labelSet(examples: readonly TsvExample[]): string[] {
  const seen = new Set<string>();
  for (const e of examples) seen.add(e.output);
  return [...seen];
}

/**
 * Indices of the held-out examples: round(n * share) of them (at most `max`, 0 = no limit), drawn
 * without replacement by a Fisher-Yates shuffle seeded with `seed`, returned in file order; the same
 * file, share, limit and seed always hold out the same lines.
 */
export function heldOutIndices(n: number, share: number, seed: number, max = 0): Int32Array {
  const k = max > 0 ? Math.min(max, Math.round(n * share)) : Math.round(n * share);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng((seed ^ 0x5eed5) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order.slice(0, k).sort();
}

/** Splits examples into the training ones and the held-out ones. */
export function splitExamples(
  examples: readonly TsvExample[],
  share: number,
  seed: number,
  max = 0,
): { train: TsvExample[]; heldOut: TsvExample[] } {
  const held = new Set(heldOutIndices(examples.length, share, seed, max));
  const train: TsvExample[] = [];
  const heldOut: TsvExample[] = [];
  examples.forEach((e, i) => (held.has(i) ? heldOut : train).push(e));
  return { train, heldOut };
}

/**
 * The ids of `text`'s tokens the vocabulary knows. A character the training text never had cannot be
 * fed to the model: it is left out and counted (so the text reads on from the next known token), as
 * the language model's evaluation does with held-out text. Word tokenizers map such words to their
 * unknown token, which is counted too.
 */
export function encodeKnown(
  tok: Tokenizer,
  text: string,
  onUnknown: (token: string) => void,
  onKnown: (id: number) => void = () => undefined,
): number[] {
  const out: number[] = [];
  if (tok.kind === 'char' || tok.kind === 'symbol') {
    for (const piece of tok.kind === 'char' ? text : (text.match(/\S+/g) ?? [])) {
      const id = tok.id(piece);
      if (id === undefined) onUnknown(piece);
      else {
        out.push(id);
        onKnown(id);
      }
    }
  } else {
    const ids = tok.encode(text);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === tok.unknownId) onUnknown(tok.token(ids[i]!));
      out.push(ids[i]!);
      onKnown(ids[i]!);
    }
  }
  return out;
}

/**
 * translate: the examples' sources (as encodeExamples reads texts) and targets as token ids, each
 * side with its own tokenizer; the targets end with the end token. Tokens either vocabulary lacks are
 * left out and counted, as in the other tasks; a reference keeps them as -1.
 */
export function encodeTranslations(
  examples: readonly TsvExample[],
  sourceTok: Tokenizer,
  targetTok: Tokenizer,
  opts: { maxLength: number; source: string },
): Sequences {
  const end = targetTok.id(END_OF_TEXT);
  if (end === undefined) throw new Error('the target vocabulary has no end token');
  const sources = encodeExamples(examples, sourceTok, [''], {
    maxLength: opts.maxLength,
    endToken: false,
    source: opts.source,
    label: () => 0,
  });
  const targets: Int32Array[] = [];
  const references: Int32Array[] = [];
  let unknown = sources.unknown;
  let truncated = sources.truncated;
  const unknownAt = sources.unknownAt.slice();
  const unknownSymbols = new Map(sources.unknownSymbols);
  const limit = opts.maxLength > 0 ? opts.maxLength - 1 : Infinity;
  for (const e of examples) {
    const ref: number[] = [];
    const count = (token: string): void => {
      unknown++;
      unknownSymbols.set(token, (unknownSymbols.get(token) ?? 0) + 1);
      if (unknownAt.length < 100) unknownAt.push({ line: e.line, token });
      ref.push(-1);
    };
    const seq = encodeKnown(targetTok, e.output, count, (id) => ref.push(id));
    references.push(Int32Array.from(ref));
    if (seq.length > limit) {
      truncated++;
      targets.push(Int32Array.from(seq.slice(0, Math.max(1, limit))));
    } else targets.push(Int32Array.from([...seq, end]));
  }
  return { ...sources, targets, references, unknown, unknownAt, unknownSymbols, truncated };
}

/**
 * The examples as token ids and label ids. Labels not in `labels` are an error (a model cannot be
 * scored on a label it never had). Texts longer than maxLength tokens (0 = no limit) are cut there;
 * with `endToken`, generate's end token follows every text that was not cut.
 */
export function encodeExamples(
  examples: readonly TsvExample[],
  tok: Tokenizer,
  labels: readonly string[],
  opts: { maxLength: number; endToken: boolean; source: string; label?: (e: TsvExample) => number },
): Sequences {
  const labelIds = new Map(labels.map((l, i) => [l, i]));
  const end = opts.endToken ? tok.id(END_OF_TEXT) : undefined;
  if (opts.endToken && end === undefined) throw new Error('the vocabulary has no end token');
  const ids: Int32Array[] = [];
  const labelOf = new Int32Array(examples.length);
  const lines = new Int32Array(examples.length);
  let unknown = 0;
  let truncated = 0;
  const unknownAt: Array<{ line: number; token: string }> = [];
  const unknownSymbols = new Map<string, number>();
  examples.forEach((e, i) => {
    const label = opts.label !== undefined ? opts.label(e) : labelIds.get(e.output);
    if (label === undefined) {
      throw new RecurrentError(
        `${opts.source}:${e.line}: the label ${JSON.stringify(e.output)} is not one the model knows (${labels.map((l) => JSON.stringify(l)).join(', ')})`,
      );
    }
    let seq = encodeKnown(tok, e.input, (token) => {
      unknown++;
      unknownSymbols.set(token, (unknownSymbols.get(token) ?? 0) + 1);
      if (unknownAt.length < 100) unknownAt.push({ line: e.line, token });
    });
    const limit = opts.maxLength > 0 ? opts.maxLength - (end !== undefined ? 1 : 0) : Infinity;
    const cut = seq.length > limit;
    if (cut) {
      truncated++;
      seq = seq.slice(0, Math.max(1, limit));
    }
    if (end !== undefined && !cut) seq.push(end);
    ids.push(Int32Array.from(seq));
    labelOf[i] = label;
    lines[i] = e.line;
  });
  return { ids, labels: labelOf, lines, unknown, unknownAt, unknownSymbols, truncated };
}
