// What every runner shares: the corpus and its split, the workloads, the FLOP count that turns
// chars/second into GFLOP/s, and the timing loop that gives one median over several repetitions.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sotuText } from '../scripts/sotu.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const WORKLOADS = JSON.parse(readFileSync(join(here, 'workloads.json'), 'utf8'));
export const GATES = { rnn: 1, lstm: 4, gru: 3 };

/** The file RECURRENT_BENCH_CORPUS names, or else the State of the Union addresses 1994-2021 (scripts/sotu.mjs). */
export function corpusText() {
  const path = process.env.RECURRENT_BENCH_CORPUS;
  return path ? readFileSync(path, 'utf8') : sotuText();
}

/** The corpus as token ids over its sorted code points; first 90% train, last 10% validation. */
export function loadCorpus() {
  const text = corpusText();
  const chars = [...text];
  const vocab = [...new Set(chars)].sort();
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = Int32Array.from(chars, (c) => index.get(c));
  const cut = Math.floor(ids.length * 0.9);
  return {
    text,
    vocab,
    train: ids.subarray(0, cut),
    val: ids.subarray(cut),
    trainText: chars.slice(0, cut).join(''),
    valText: chars.slice(cut).join(''),
  };
}

/**
 * Useful floating-point work per trained token: matrix products only, forward plus backward (x3).
 * Layer 0's one-hot input is a row gather, not a product, so it is not counted; the recurrent
 * product 2*G*H*H, a deeper layer's input product 2*G*H*H and the decoder 2*V*H are. Sampling
 * counts the forward pass only.
 */
export function flopsPerToken(w, V) {
  const G = GATES[w.cell];
  let fwd = 2 * V * w.hidden;
  for (let k = 0; k < w.layers; k++) fwd += 2 * G * w.hidden * w.hidden * (k === 0 ? 1 : 2);
  return w.sampling ? fwd : 3 * fwd;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs `step` (which returns the chars it processed) for `warmupSeconds`, then `reps` times for
 * `seconds` each; returns chars/second of every repetition. Async so a peer whose step returns a
 * promise (TensorFlow.js data downloads) is timed to completion.
 */
export async function timeReps(step, { seconds, reps, warmupSeconds }) {
  const now = () => performance.now() / 1000;
  let t0 = now();
  do await step();
  while (now() - t0 < warmupSeconds);
  const rates = [];
  for (let r = 0; r < reps; r++) {
    let chars = 0;
    t0 = now();
    let t;
    do {
      chars += await step();
      t = now();
    } while (t - t0 < seconds);
    rates.push(chars / (t - t0));
  }
  return rates;
}

/** Command-line options of a runner: --workload W2 --seconds 3 --reps 3 --warmup 1 [--backend wasm]. */
export function runnerArgs(argv = process.argv.slice(2)) {
  const o = { workload: 'W2', seconds: 3, reps: 3, warmup: 1, backend: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[i + 1];
    o[k] = ['seconds', 'reps', 'warmup'].includes(k) ? Number(v) : v;
  }
  return o;
}

/** A runner reports one JSON line on stdout; the orchestrator reads the last such line. */
export function report(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}
