// How well a model predicts a text it may never have seen: the text read as one sequence from a zero
// state, in windows with the state carried across (so a file of any length runs in the memory of one
// window, and the result does not depend on the window beyond float rounding). This is what
// `recurrent eval` prints (docs/checkpoint-format.md, "The evaluation contract").
//
// Held-out text nearly always holds a character the training text did not (U+2019 in a speech, "\r" in
// a CRLF copy of an LF file). Such a token has no input column and no output logit, so it is left out:
// it is not scored, the state carries from the token before it to the token after it, and that next
// token is scored as the model predicts it from the known context. The unknown tokens are counted apart.
import { RecurrentError } from './errors.js';
import type { Floats } from './floats.js';
import type { Model } from './model.js';
import type { Tokenizer } from './tokenizer.js';
import type { Unrolled } from './unroll.js';

/** Positions per window: long enough that per-window overhead vanishes, small enough for any model. */
export const SCORING_WINDOW = 256;

export interface TextScore {
  /** Tokens in the text, unknown ones included. */
  tokens: number;
  /** Predictions scored: known tokens with a known token somewhere before them. */
  scored: number;
  /** Mean over the scored predictions, nats and bits. NaN when nothing was scored. */
  lossNats: number;
  bitsPerToken: number;
  /** [max(0, tokens - 1)]: perToken[i-1] = -ln p(t_i | known t_<i) in nats; NaN where t_i was not scored. */
  perToken: Float32Array;
  /** Token indices of the tokens outside the vocabulary, and how often each such symbol occurs. */
  unknown: { count: number; positions: Int32Array; symbols: Map<string, number> };
}

export type UnknownPolicy = 'skip' | 'error';

/** Scores `text` under `model` from a zero state; with policy 'error', an unknown character is refused instead. */
export function scoreText(
  model: Model,
  tokenizer: Tokenizer,
  text: string,
  opts: { policy?: UnknownPolicy; window?: number } = {},
): TextScore {
  const { ids, offsets, unknown } = tokenizer.encodeLenient(text);
  const positions = new Int32Array(tokenizer.kind === 'char' ? unknown : 0);
  const symbols = new Map<string, number>();
  if (tokenizer.kind === 'char' && unknown > 0) {
    for (let i = 0, k = 0; i < ids.length; i++) {
      if (ids[i]! >= 0) continue;
      positions[k++] = i;
      const s = text.slice(offsets[i]!, offsets[i + 1]!);
      symbols.set(s, (symbols.get(s) ?? 0) + 1);
    }
    if (opts.policy === 'error') {
      const first = text.slice(offsets[positions[0]!]!, offsets[positions[0]! + 1]!);
      throw new RecurrentError(
        `${unknown} character(s) are not in the model's vocabulary, the first ${describe(first)} at offset ${offsets[positions[0]!]!}; ` +
          `without --unknown error they are left out of the score and counted`,
      );
    }
  }
  const net = model.unroll(1, Math.max(1, Math.floor(opts.window ?? SCORING_WINDOW)));
  const perToken = new Float32Array(Math.max(0, ids.length - 1)).fill(NaN);
  const { scored } = scoreIds(net, model.arena.floats(net.stateSize(1)), ids, perToken);
  // The mean of the very numbers perToken reports, so `loss` is exactly their mean.
  let sum = 0;
  for (let i = 0; i < perToken.length; i++) if (!Number.isNaN(perToken[i]!)) sum += perToken[i]!;
  const lossNats = scored > 0 ? sum / scored : NaN;
  return {
    tokens: ids.length,
    scored,
    lossNats,
    bitsPerToken: lossNats / Math.LN2,
    perToken,
    unknown: { count: unknown, positions, symbols },
  };
}

/**
 * Runs the known tokens of ids (-1 = unknown) through net as one stream of batch 1 from a zero state,
 * window after window with the state carried; perToken[i-1] receives the loss of predicting token i.
 */
export function scoreIds(net: Unrolled, state: Floats, ids: Int32Array, perToken: Float32Array): { scored: number; lossSum: number } {
  const T = net.maxSteps;
  const N = ids.length;
  const perRow = state instanceof Float64Array ? new Float64Array(T) : new Float32Array(T);
  const targetAt = new Int32Array(T);
  let at = 0;
  while (at < N && ids[at]! < 0) at++;
  let scored = 0;
  let lossSum = 0;
  let started = false;
  for (;;) {
    let t = 0;
    while (t < T) {
      let next = at + 1;
      while (next < N && ids[next]! < 0) next++;
      if (next >= N) break;
      net.ids[t] = ids[at]!;
      net.targets[t] = ids[next]!;
      targetAt[t] = next;
      t++;
      at = next;
    }
    if (t === 0) break;
    net.setState(started ? state : null, 1, t);
    started = true;
    net.forward(1, t);
    net.getState(state, 1, t, t);
    net.decode(1, t, 0);
    lossSum += net.loss(1, t, 0, perRow, 0);
    for (let p = 0; p < t; p++) perToken[targetAt[p]! - 1] = perRow[p]!;
    scored += t;
  }
  return { scored, lossSum };
}

function describe(s: string): string {
  return `${JSON.stringify(s)} (U+${(s.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`;
}
