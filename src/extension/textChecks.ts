// What makes a text trainable, checked on the extension side before any worker starts, so bad input gets
// a message naming the problem and what to do, and leaves nothing running.
import { RecurrentError } from '../engine/errors.js';
import type { TokenizerKind } from '../engine/config.js';

/** URI schemes of documents that are not files a user would train on. */
const NOT_TEXT_FILES: Record<string, string> = {
  'vscode-notebook-cell': 'a notebook cell',
  output: 'an output panel',
  'vscode-terminal': 'a terminal',
  debug: 'a debug view',
  'vscode-scm': 'a source-control input',
  comment: 'a comment box',
};

/** Rejects documents that are views rather than files (notebook cells, output panels...). */
export function checkDocumentKind(scheme: string, name: string): void {
  const what = NOT_TEXT_FILES[scheme];
  if (what) throw new RecurrentError(`${name} is ${what}, not a text file; open a text file (or save this text to one) and train on that`);
}

/** A share of NULs or decoding replacement characters this high means the bytes were not text. */
const BINARY_SHARE = 0.01;
const SNIFF_CHARS = 65536;

export interface SizeVerdict {
  /** Set when the text is longer than the limit: the caller may offer to train on the first part. */
  tooLarge: boolean;
  limitChars: number;
}

/** Throws for empty, binary and one-symbol texts; reports (does not throw) a text over the size limit. */
export function checkTrainingText(text: string, name: string, tokenizer: TokenizerKind, maxMegabytes: number): SizeVerdict {
  if (text.trim().length === 0) {
    throw new RecurrentError(
      `${name} is empty${text.length ? ' (only whitespace)' : ''}: a model needs text to learn from; put some text in it or open another file`,
    );
  }
  const sniff = text.slice(0, SNIFF_CHARS);
  let odd = 0;
  for (let i = 0; i < sniff.length; i++) {
    const c = sniff.charCodeAt(i);
    if (c === 0 || c === 0xfffd) odd++;
  }
  if (odd > 0 && (sniff.includes('\0') || odd / sniff.length > BINARY_SHARE)) {
    throw new RecurrentError(`${name} looks binary (it holds NUL bytes or undecodable bytes), not text; train on a text file`);
  }
  const symbols = distinctSymbols(sniff, tokenizer, 2);
  if (symbols.size < 2 && distinctSymbols(text, tokenizer, 2).size < 2) {
    const only = [...symbols][0] ?? '';
    throw new RecurrentError(
      `${name} holds only one distinct ${tokenizer === 'char' ? 'character' : 'word'} (${JSON.stringify(only)}): there is nothing to predict; train on a text with at least two`,
    );
  }
  const limitChars = Math.floor(maxMegabytes * 1024 * 1024);
  return { tooLarge: text.length > limitChars, limitChars };
}

/** The first `limitChars` UTF-16 units, never splitting a surrogate pair, cut at a line end when one is near. */
export function firstPart(text: string, limitChars: number): string {
  let end = Math.min(limitChars, text.length);
  const c = text.charCodeAt(end - 1);
  if (end < text.length && c >= 0xd800 && c <= 0xdbff) end--;
  const newline = text.lastIndexOf('\n', end - 1);
  if (newline > end * 0.99) end = newline + 1;
  return text.slice(0, end);
}

function distinctSymbols(text: string, tokenizer: TokenizerKind, enough: number): Set<string> {
  const seen = new Set<string>();
  const parts = tokenizer === 'char' ? text : text.split(/\s+/).filter(Boolean);
  for (const s of parts) {
    seen.add(s);
    if (seen.size >= enough) break;
  }
  return seen;
}
