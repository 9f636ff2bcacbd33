// Text generation from any model that can be stepped one token at a time. pickToken draws one
// token from softmax(logits / temperature), optionally restricted to the top-k tokens and then to
// the smallest set of most likely tokens whose probability reaches top-p (nucleus sampling, Holtzman
// et al. 2019; top-p is measured after the top-k cut, renormalised). It allocates nothing: the
// scratch buffers are sized once per vocabulary.
import { sampleSoftmax } from './backend.js';
import type { Floats } from './floats.js';
import { Rng } from './rng.js';
import type { Tokenizer } from './tokenizer.js';

/** One token in, the logits of the next token out. A model's batch-1 forward pass implements it. */
export interface Stepper {
  /** Back to the zero initial state. */
  reset(): void;
  /** Logits over the vocabulary [V], valid until the next call. */
  feed(token: number): Floats;
}

export interface SamplingOptions {
  /** > 0; below 1 sharpens the distribution, above 1 flattens it. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 = off. */
  topK: number;
  /** Keep the most likely tokens whose probabilities sum to at least p; 1 = off. */
  topP: number;
  /** Always take the most likely token (temperature and the cuts are then irrelevant). */
  greedy: boolean;
}

export interface GenerateOptions extends SamplingOptions {
  /** Text fed before sampling; it sets the state and is not part of the result. */
  prime: string;
  /** Tokens to generate at most. */
  length: number;
  seed: number;
  /** Stop as soon as the generated text contains this; the token that completes it is the last one. */
  stopAt?: string;
}

export class SamplingScratch {
  /** [V] unnormalised probabilities exp((z - max) / T). */
  probs: Float64Array;
  /** [V] token ids, sorted by probability when a cut is active. */
  order: Int32Array;

  constructor(vocabSize: number) {
    this.probs = new Float64Array(vocabSize);
    this.order = new Int32Array(vocabSize);
  }

  ensure(vocabSize: number): void {
    if (this.probs.length < vocabSize) {
      this.probs = new Float64Array(vocabSize);
      this.order = new Int32Array(vocabSize);
    }
  }
}

function argmax(logits: Floats): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

// a before b in the sorted order: more probable first, ties by lower id, so the order is total.
function before(p: Float64Array, a: number, b: number): boolean {
  return p[a]! > p[b]! || (p[a] === p[b] && a < b);
}

// Restores the heap property below `root` in order[0..end), where the root sorts last.
function sift(order: Int32Array, p: Float64Array, root: number, end: number): void {
  for (;;) {
    let child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && before(p, order[child]!, order[child + 1]!)) child++;
    if (!before(p, order[root]!, order[child]!)) return;
    const t = order[root]!;
    order[root] = order[child]!;
    order[child] = t;
    root = child;
  }
}

/** In-place heapsort of order[0..n) by `before`: O(n log n), no allocation, no recursion. */
function sortByProbability(order: Int32Array, n: number, p: Float64Array): void {
  for (let i = (n >> 1) - 1; i >= 0; i--) sift(order, p, i, n);
  for (let end = n - 1; end > 0; end--) {
    const t = order[0]!;
    order[0] = order[end]!;
    order[end] = t;
    sift(order, p, 0, end);
  }
}

export function pickToken(logits: Floats, opts: SamplingOptions, rng: Rng, scratch: SamplingScratch): number {
  const V = logits.length;
  if (opts.greedy || !(opts.temperature > 0)) return argmax(logits);
  if ((opts.topK <= 0 || opts.topK >= V) && !(opts.topP > 0 && opts.topP < 1)) {
    // The plain draw in one wasm call when the logits live in a wasm heap (a model's stepper): the same
    // rule as below on float32 exponentials. Non-finite logits fall back to the argmax, as below,
    // though here the uniform has been drawn already.
    const fast = sampleSoftmax(logits, V, 1 / opts.temperature, rng);
    if (fast !== undefined) return fast >= 0 ? fast : argmax(logits);
  }
  scratch.ensure(V);
  const p = scratch.probs;
  const invT = 1 / opts.temperature;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i]! > max) max = logits[i]!;
  if (!Number.isFinite(max)) return argmax(logits);
  // softmax(z/T) up to its normaliser; subtracting the max keeps exp from overflowing.
  let total = 0;
  for (let i = 0; i < V; i++) {
    const e = Math.exp((logits[i]! - max) * invT);
    p[i] = e;
    total += e;
  }
  const topK = opts.topK > 0 && opts.topK < V ? opts.topK : V;
  const topP = opts.topP > 0 && opts.topP < 1 ? opts.topP : 1;
  if (topK === V && topP === 1) {
    let u = rng.next() * total;
    for (let i = 0; i < V; i++) {
      u -= p[i]!;
      if (u < 0) return i;
    }
    return V - 1;
  }
  const order = scratch.order;
  for (let i = 0; i < V; i++) order[i] = i;
  sortByProbability(order, V, p);
  let kept = topK;
  let keptMass = 0;
  for (let j = 0; j < topK; j++) keptMass += p[order[j]!]!;
  if (topP < 1) {
    // Smallest prefix of the sorted top-k whose renormalised mass reaches topP (at least one token).
    const target = topP * keptMass;
    let mass = 0;
    kept = 0;
    while (kept < topK) {
      mass += p[order[kept]!]!;
      kept++;
      if (mass >= target) break;
    }
    keptMass = mass;
  }
  let u = rng.next() * keptMass;
  for (let j = 0; j < kept; j++) {
    u -= p[order[j]!]!;
    if (u < 0) return order[j]!;
  }
  return order[kept - 1]!;
}

/** The token fed first when there is no prime: a line break, else a space, else token 0. */
function startToken(tokenizer: Tokenizer): number {
  return tokenizer.id('\n') ?? tokenizer.id(' ') ?? 0;
}

/**
 * Generates up to `length` tokens, yielding each token's text as soon as it is sampled. The prime
 * (or, with no prime, one start token) is fed from the zero state; the same seed, prime and options
 * give the same text.
 */
export async function* generateTokens(stepper: Stepper, tokenizer: Tokenizer, opts: GenerateOptions): AsyncGenerator<string> {
  const rng = new Rng(opts.seed);
  const scratch = new SamplingScratch(tokenizer.size);
  const prime = opts.prime.length > 0 ? tokenizer.encode(opts.prime) : Int32Array.of(startToken(tokenizer));
  stepper.reset();
  let logits: Floats | undefined;
  for (let i = 0; i < prime.length; i++) logits = stepper.feed(prime[i]!);
  const stop = opts.stopAt !== undefined && opts.stopAt.length > 0 ? opts.stopAt : undefined;
  let tail = '';
  for (let n = 0; n < opts.length; n++) {
    const id = pickToken(logits!, opts, rng, scratch);
    const text = tokenizer.token(id);
    yield text;
    if (stop !== undefined) {
      // A match ends inside this token, so it lies within the previous stop.length - 1 characters and it.
      const window = tail + text;
      if (window.includes(stop)) return;
      tail = stop.length > 1 ? window.slice(1 - stop.length) : '';
    }
    if (n + 1 < opts.length) logits = stepper.feed(id);
  }
}

/** generateTokens with a callback per token (awaited, so a slow consumer applies back-pressure); returns the whole text. */
export async function generate(
  stepper: Stepper,
  tokenizer: Tokenizer,
  opts: GenerateOptions,
  onToken?: (text: string) => void | Promise<void>,
): Promise<string> {
  let out = '';
  for await (const text of generateTokens(stepper, tokenizer, opts)) {
    out += text;
    if (onToken) await onToken(text);
  }
  return out;
}
