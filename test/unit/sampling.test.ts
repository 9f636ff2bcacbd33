import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecurrentError } from '../../src/engine/errors.js';
import { Rng } from '../../src/engine/rng.js';
import { generate, generateTokens, pickToken, SamplingScratch, type SamplingOptions, type Stepper } from '../../src/engine/sampling.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';

const PLAIN: SamplingOptions = { temperature: 1, topK: 0, topP: 1, greedy: false };

/** A bigram model: the logits of the next token depend on the last token fed; records what it was fed. */
class BigramStepper implements Stepper {
  fed: number[] = [];
  resets = 0;
  private readonly out: Float32Array;
  constructor(private readonly V: number) {
    this.out = new Float32Array(V);
  }
  reset(): void {
    this.resets++;
    this.fed = [];
  }
  feed(token: number): Float32Array {
    this.fed.push(token);
    for (let v = 0; v < this.V; v++) this.out[v] = Math.sin(1.7 * token + 2.3 * v) * 2;
    return this.out;
  }
}

function frequencies(logits: Float32Array, opts: SamplingOptions, draws: number, seed = 3): number[] {
  const rng = new Rng(seed);
  const scratch = new SamplingScratch(logits.length);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[pickToken(logits, opts, rng, scratch)]!++;
  return counts.map((c) => c / draws);
}

function softmax(z: number[], T = 1): number[] {
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp((x - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

// Probabilities 0.5, 0.3, 0.15, 0.05 (as logits: their logs), listed out of order.
const PROBS = [0.15, 0.5, 0.05, 0.3];
const LOGITS = Float32Array.from(PROBS.map(Math.log));

test('greedy picks the argmax whatever the temperature', () => {
  const rng = new Rng(1);
  const scratch = new SamplingScratch(4);
  for (const temperature of [0.1, 1, 50]) assert.equal(pickToken(LOGITS, { ...PLAIN, temperature, greedy: true }, rng, scratch), 1);
});

test('plain sampling follows softmax(logits) (20000 seeded draws, within 0.01)', () => {
  const f = frequencies(LOGITS, PLAIN, 20000);
  f.forEach((x, i) => assert.ok(Math.abs(x - PROBS[i]!) < 0.01, `token ${i}: expected frequency ${PROBS[i]}, got ${x}`));
});

test('temperature reshapes the distribution as softmax(logits / T)', () => {
  for (const T of [0.5, 2]) {
    const want = softmax([...LOGITS], T);
    const f = frequencies(LOGITS, { ...PLAIN, temperature: T }, 20000);
    f.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 0.01, `T=${T} token ${i}: expected ${want[i]!.toFixed(3)}, got ${x}`));
  }
});

test('top-k keeps exactly the k most likely tokens, renormalised', () => {
  const f = frequencies(LOGITS, { ...PLAIN, topK: 2 }, 20000);
  assert.equal(f[0], 0, 'token 0 (p 0.15) is outside the top 2');
  assert.equal(f[2], 0, 'token 2 (p 0.05) is outside the top 2');
  assert.ok(Math.abs(f[1]! - 0.625) < 0.01 && Math.abs(f[3]! - 0.375) < 0.01, `expected 0.625/0.375, got ${f[1]}/${f[3]}`);
  assert.equal(frequencies(LOGITS, { ...PLAIN, topK: 1 }, 200).indexOf(1), 1, 'top-1 is greedy');
});

test('top-p keeps the smallest set of most likely tokens whose mass reaches p', () => {
  const support = (topP: number, topK = 0): number[] =>
    frequencies(LOGITS, { ...PLAIN, topP, topK }, 5000)
      .flatMap((x, i) => (x > 0 ? [i] : []))
      .sort();
  assert.deepEqual(support(0.4), [1], 'p=0.4: the 0.5 token alone');
  assert.deepEqual(support(0.7), [1, 3], 'p=0.7: 0.5 + 0.3');
  assert.deepEqual(support(0.9), [0, 1, 3], 'p=0.9: 0.5 + 0.3 + 0.15');
  assert.deepEqual(support(0.99), [0, 1, 2, 3], 'p=0.99: all four');
  // After top-2 the masses are 0.625 and 0.375, so p = 0.6 keeps only the first.
  assert.deepEqual(support(0.6, 2), [1], 'top-p measured on the renormalised top-k');
});

test('ties are broken by the lower id, so the cut is deterministic', () => {
  const f = frequencies(Float32Array.of(1, 2, 2, 2), { ...PLAIN, topK: 2 }, 2000);
  assert.ok(f[0] === 0 && f[3] === 0 && f[1]! > 0 && f[2]! > 0, `expected ids 1 and 2 kept, got frequencies ${f}`);
});

test('pickToken keeps its scratch buffers (no allocation per token)', () => {
  const scratch = new SamplingScratch(4);
  const { probs, order } = scratch;
  const rng = new Rng(5);
  for (let i = 0; i < 50; i++) pickToken(LOGITS, { ...PLAIN, topK: 3, topP: 0.9 }, rng, scratch);
  assert.ok(scratch.probs === probs && scratch.order === order, 'scratch buffers were replaced');
});

const TOK = Tokenizer.build('abcdefgh\n ', 'char');

test('generate: the same seed gives the same text, another seed another text', async () => {
  const opts = { ...PLAIN, prime: 'ab', length: 60, seed: 11 };
  const a = await generate(new BigramStepper(TOK.size), TOK, opts);
  const b = await generate(new BigramStepper(TOK.size), TOK, opts);
  const c = await generate(new BigramStepper(TOK.size), TOK, { ...opts, seed: 12 });
  assert.equal(a, b);
  assert.notEqual(a, c, 'seeds 11 and 12 gave the same 60 tokens');
  assert.equal([...a].length, 60);
});

test('generate: the prime is fed from a reset state, then each sampled token', async () => {
  const s = new BigramStepper(TOK.size);
  s.feed(3); // stale state that the reset must clear
  const seen: string[] = [];
  const out = await generate(s, TOK, { ...PLAIN, greedy: true, prime: 'cab', length: 5, seed: 1 }, (t) => {
    seen.push(t);
  });
  assert.equal(s.resets, 1);
  assert.deepEqual(s.fed.slice(0, 3), [...TOK.encode('cab')], 'the prime comes first');
  assert.equal(s.fed.length, 3 + 4, 'the last sampled token is not fed (nothing reads its logits)');
  assert.deepEqual(s.fed.slice(3), [...TOK.encode(out.slice(0, 4))], 'then each sampled token');
  assert.equal(seen.join(''), out, 'onToken sees every token in order');
});

test('generate: with no prime a line break is fed first', async () => {
  const s = new BigramStepper(TOK.size);
  await generate(s, TOK, { ...PLAIN, prime: '', length: 3, seed: 1 });
  assert.equal(s.fed[0], TOK.id('\n'));
});

test('generate: stops once the text contains stopAt, and the async iterator streams the same tokens', async () => {
  const opts = { ...PLAIN, prime: 'a', length: 500, seed: 2 };
  const full = await generate(new BigramStepper(TOK.size), TOK, opts);
  const at = full.indexOf('\n');
  assert.ok(at >= 0 && at < 499, 'the fixture text should contain a line break to stop at');
  const stopped = await generate(new BigramStepper(TOK.size), TOK, { ...opts, stopAt: '\n' });
  assert.equal(stopped, full.slice(0, at + 1));
  const stop3 = full.slice(30, 33); // spans three tokens
  const stopped3 = await generate(new BigramStepper(TOK.size), TOK, { ...opts, stopAt: stop3 });
  assert.equal(stopped3, full.slice(0, full.indexOf(stop3) + 3), `stopAt ${JSON.stringify(stop3)} spanning tokens`);
  const streamed: string[] = [];
  for await (const t of generateTokens(new BigramStepper(TOK.size), TOK, { ...opts, length: 20 })) streamed.push(t);
  assert.equal(streamed.join(''), full.slice(0, 20));
});

test('generate: a prime with a character the model never saw is refused with a clear message', async () => {
  await assert.rejects(
    generate(new BigramStepper(TOK.size), TOK, { ...PLAIN, prime: 'aZ', length: 3, seed: 1 }),
    (e: unknown) => e instanceof RecurrentError && /"Z"/.test(e.message),
  );
});
