// Text <-> token ids. The vocabulary is part of a checkpoint (`recurrent.tokenizer` in
// docs/checkpoint-format.md): token id = index in `vocab`.
//
// char: one token per Unicode code point, so an emoji or a CJK ideograph outside the BMP is one
//   token, never two UTF-16 halves. Vocabulary sorted by code point, so the same text always gives
//   the same ids. Text is taken as it is: "\r\n" is two tokens, "\r" and "\n"; normalising line ends
//   would make `decode(encode(text))` differ from the file and per-token offsets drift in the editor.
// word: words (letters, with inner apostrophes), numbers (digit runs), single punctuation marks and
//   whitespace runs are tokens, so decode(encode(text)) === text for every known token. The
//   vocabulary keeps the `maxVocab - 1` most frequent tokens plus an unknown token, which no text
//   can produce as a token (it mixes punctuation and letters, and the splitter never does).
// symbol: the pieces between whitespace are the tokens, and decode joins them with single spaces
//   (a side of a translate file such as `AH0 B AE1 N D AH0 N`). Vocabulary sorted by code units; no
//   unknown token: a symbol outside it is left out and counted, as a char tokenizer's character is.
import type { TokenizerKind } from './config.js';
import { RecurrentError } from './errors.js';

export interface TokenizerSpec {
  kind: TokenizerKind;
  vocab: string[];
  /** word kind only: the entry of `vocab` that stands for every token outside the vocabulary. */
  unknown?: string;
}

export const UNKNOWN_WORD = '<unk>';
export const DEFAULT_MAX_WORD_VOCAB = 10000;

// One alternative per token class; the `u` flag makes `.` and classes work on code points.
const WORD_SPLIT = /[\p{L}\p{M}]+(?:['\u2019][\p{L}\p{M}]+)*|\p{N}+|\s+|[^\p{L}\p{M}\p{N}\s]/gu;

function describeSymbol(s: string): string {
  const cp = s.codePointAt(0) ?? 0;
  return `${JSON.stringify(s)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Refuses text that is empty or looks like a binary file decoded as UTF-8. */
function checkText(text: string): void {
  if (text.length === 0) throw new RecurrentError('the text is empty: open or select a file with some text in it');
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new RecurrentError(`the text looks binary (a NUL byte at offset ${nul}): train on a text file`);
  // Invalid UTF-8 decodes to U+FFFD; a few in real text happen, many mean a binary or wrongly encoded file.
  let replacement = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) replacement++;
  if (replacement >= 2 && replacement * 100 > text.length) {
    throw new RecurrentError(
      `the text looks binary or is not UTF-8 (${replacement} undecodable bytes in ${text.length} characters): train on a UTF-8 text file`,
    );
  }
}

function splitWords(text: string): string[] {
  return text.match(WORD_SPLIT) ?? [];
}

const SYMBOL_SPLIT = /\S+/g;

export class Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocab: readonly string[];
  /** word kind: id of the unknown token; char kind: -1. */
  readonly unknownId: number;
  private readonly ids: Map<string, number>;
  /** char kind: code point -> id. */
  private readonly byCodePoint: Map<number, number>;

  private constructor(kind: TokenizerKind, vocab: string[], unknownId: number) {
    this.kind = kind;
    this.vocab = Object.freeze(vocab.slice());
    this.unknownId = unknownId;
    this.ids = new Map(vocab.map((t, i) => [t, i]));
    this.byCodePoint = new Map(kind === 'char' ? vocab.map((t, i) => [t.codePointAt(0)!, i]) : []);
  }

  get size(): number {
    return this.vocab.length;
  }

  /** `also`: a token the vocabulary must hold though the text need not (a translate target's end token). */
  static build(text: string, kind: TokenizerKind, opts: { maxVocab?: number; also?: string } = {}): Tokenizer {
    const t = Tokenizer.buildFrom(text, kind, opts);
    const also = opts.also;
    if (also === undefined || t.id(also) !== undefined) return t;
    const vocab = [...t.vocab, also];
    if (kind !== 'word')
      vocab.sort(kind === 'char' ? (a, b) => a.codePointAt(0)! - b.codePointAt(0)! : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new Tokenizer(kind, vocab, t.unknownId);
  }

  private static buildFrom(text: string, kind: TokenizerKind, opts: { maxVocab?: number }): Tokenizer {
    checkText(text);
    if (kind === 'char') {
      const seen = new Set<number>();
      for (const ch of text) seen.add(ch.codePointAt(0)!);
      if (seen.size < 2) {
        throw new RecurrentError(
          `the text has only one distinct character, ${describeSymbol(text[0]!)}: there is nothing to predict; use a text with at least two different characters`,
        );
      }
      const vocab = [...seen].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp));
      return new Tokenizer('char', vocab, -1);
    }
    if (kind === 'symbol') {
      const seen = new Set(text.match(SYMBOL_SPLIT) ?? []);
      if (seen.size < 2) {
        throw new RecurrentError(
          `the text has ${seen.size === 0 ? 'no symbols' : `only one distinct symbol, ${JSON.stringify([...seen][0])}`}: there is nothing to predict; use a text with at least two different symbols between spaces`,
        );
      }
      return new Tokenizer(
        'symbol',
        [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        -1,
      );
    }
    if (kind !== 'word') throw new RecurrentError(`tokenizer must be char, word or symbol, got ${JSON.stringify(kind)}`);
    const maxVocab = opts.maxVocab ?? DEFAULT_MAX_WORD_VOCAB;
    if (!Number.isInteger(maxVocab) || maxVocab < 3) {
      throw new RecurrentError(
        `the word vocabulary cap must be a whole number of at least 3 (two tokens and the unknown token), got ${maxVocab}`,
      );
    }
    const counts = new Map<string, number>();
    for (const w of splitWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    if (counts.size < 2) {
      throw new RecurrentError(
        `the text has only one distinct word token, ${JSON.stringify([...counts.keys()][0] ?? '')}: there is nothing to predict; use a longer text`,
      );
    }
    // Most frequent first; ties broken by code units so the order never depends on the text's order.
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const vocab = [UNKNOWN_WORD, ...ranked.slice(0, maxVocab - 1).map(([w]) => w)];
    return new Tokenizer('word', vocab, 0);
  }

  static fromSpec(spec: TokenizerSpec): Tokenizer {
    const bad = (why: string): never => {
      throw new RecurrentError(`the tokenizer in the checkpoint is invalid: ${why}`);
    };
    if (typeof spec !== 'object' || spec === null) bad('it is not an object');
    if (spec.kind !== 'char' && spec.kind !== 'word' && spec.kind !== 'symbol')
      bad(`kind must be "char", "word" or "symbol", got ${JSON.stringify(spec.kind)}`);
    if (!Array.isArray(spec.vocab)) bad('vocab is not a list of strings');
    if (spec.vocab.length < 2) bad(`the vocabulary has ${spec.vocab.length} tokens; at least 2 are needed`);
    const seen = new Set<string>();
    spec.vocab.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0) bad(`token ${i} is ${JSON.stringify(t)}, not a non-empty string`);
      if (seen.has(t)) bad(`token ${JSON.stringify(t)} appears twice (ids ${spec.vocab.indexOf(t)} and ${i})`);
      seen.add(t);
      if (spec.kind === 'char' && [...t].length !== 1)
        bad(`token ${i}, ${JSON.stringify(t)}, is not one character, as the char kind requires`);
    });
    if (spec.kind === 'char' || spec.kind === 'symbol') {
      if (spec.unknown !== undefined) bad(`the ${spec.kind} kind has no unknown token`);
      return new Tokenizer(spec.kind, spec.vocab, -1);
    }
    const unknown = spec.unknown ?? UNKNOWN_WORD;
    const unknownId = spec.vocab.indexOf(unknown);
    if (unknownId < 0) bad(`the unknown token ${JSON.stringify(unknown)} is not in the vocabulary`);
    return new Tokenizer('word', spec.vocab, unknownId);
  }

  spec(): TokenizerSpec {
    const s: TokenizerSpec = { kind: this.kind, vocab: this.vocab.slice() };
    if (this.kind === 'word') s.unknown = this.vocab[this.unknownId]!;
    return s;
  }

  encode(text: string): Int32Array {
    return this.encodeWithOffsets(text).ids;
  }

  /**
   * Like encodeWithOffsets, but a character outside a char vocabulary becomes id -1 instead of an error
   * (held-out text always has some: text is scored around them). Word vocabularies map such words to
   * their unknown token, as training did; `unknown` counts those too.
   */
  encodeLenient(text: string): { ids: Int32Array; offsets: Int32Array; unknown: number } {
    if (this.kind === 'word') {
      const e = this.encodeWords(text);
      let unknown = 0;
      for (let i = 0; i < e.ids.length; i++) if (e.ids[i] === this.unknownId) unknown++;
      return { ...e, unknown };
    }
    return this.kind === 'symbol' ? this.encodeSymbols(text, true) : this.encodeChars(text, true);
  }

  /** ids [N] and offsets [N+1]: the UTF-16 start of each token, then text.length. */
  encodeWithOffsets(text: string): { ids: Int32Array; offsets: Int32Array } {
    return this.kind === 'char' ? this.encodeChars(text) : this.kind === 'symbol' ? this.encodeSymbols(text) : this.encodeWords(text);
  }

  private encodeSymbols(text: string, lenient = false): { ids: Int32Array; offsets: Int32Array; unknown: number } {
    const ids: number[] = [];
    const offsets: number[] = [];
    let unknown = 0;
    for (const m of text.matchAll(SYMBOL_SPLIT)) {
      let id = this.ids.get(m[0]);
      if (id === undefined && lenient) {
        id = -1;
        unknown++;
      }
      if (id === undefined) {
        throw new RecurrentError(
          `the symbol ${JSON.stringify(m[0])} at offset ${m.index} is not in the model's vocabulary (it never occurred in the training text)`,
        );
      }
      ids.push(id);
      offsets.push(m.index);
    }
    offsets.push(text.length);
    return { ids: Int32Array.from(ids), offsets: Int32Array.from(offsets), unknown };
  }

  // Walks code points directly: a training text of megabytes should not become an array of strings.
  private encodeChars(text: string, lenient = false): { ids: Int32Array; offsets: Int32Array; unknown: number } {
    const ids = new Int32Array(text.length);
    const offsets = new Int32Array(text.length + 1);
    let n = 0;
    let unknown = 0;
    for (let at = 0; at < text.length;) {
      const cp = text.codePointAt(at)!;
      let id = this.byCodePoint.get(cp);
      if (id === undefined && lenient) {
        id = -1;
        unknown++;
      }
      if (id === undefined) {
        throw new RecurrentError(
          `the character ${describeSymbol(String.fromCodePoint(cp))} at offset ${at} is not in the model's vocabulary (it never occurred in the training text): remove it or train on a text that contains it`,
        );
      }
      ids[n] = id;
      offsets[n] = at;
      n++;
      at += cp > 0xffff ? 2 : 1;
    }
    offsets[n] = text.length;
    return { ids: ids.slice(0, n), offsets: offsets.slice(0, n + 1), unknown };
  }

  private encodeWords(text: string): { ids: Int32Array; offsets: Int32Array } {
    const pieces = splitWords(text);
    const ids = new Int32Array(pieces.length);
    const offsets = new Int32Array(pieces.length + 1);
    let at = 0;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      at = text.indexOf(p, at); // the splitter covers every character, so this finds p right at `at`
      ids[i] = this.ids.get(p) ?? this.unknownId;
      offsets[i] = at;
      at += p.length;
    }
    offsets[pieces.length] = text.length;
    return { ids, offsets };
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    const gap = this.kind === 'symbol' ? ' ' : '';
    for (let i = 0; i < ids.length; i++) s += (i > 0 ? gap : '') + this.token(ids[i]!);
    return s;
  }

  token(id: number): string {
    const t = this.vocab[id];
    if (t === undefined) throw new RecurrentError(`token id ${id} is outside the vocabulary of ${this.vocab.length} tokens`);
    return t;
  }

  id(token: string): number | undefined {
    return this.ids.get(token);
  }
}
