// Records a real training session for the dashboard's tests and README screenshots: a vanilla RNN, a GRU
// and an LSTM, same size and settings (the extension's defaults: hidden 128, batch 32, k1 = k2 = 64,
// Adam 2e-3, clip 5), one after the other on the same text (the first 200,000 characters of the State
// of the Union corpus), through the engine's Trainer, and writes what the extension would send a
// dashboard opened on the LSTM run: a `history` message with the RNN and the GRU as earlier runs.
// Validation every 100 updates on 8,192 held-out characters, a sample every 300 updates at the default
// temperature, the gradient-flow probe at the end and the gates over the first words of the text.
//
// To stay under 400 KB: numbers are rounded to 3 significant digits (gate activations to 2 decimals: a
// colour map shows no more), typed arrays are written as arrays (the dashboard accepts both), the earlier runs
// keep every EARLIER_STRIDE-th metric (the current run keeps one per update, as a live session sends),
// and only the current run carries its gate probe (the Gates view shows the current run's alone).
//
// usage: npx esbuild scripts/recordDashboardSession.ts --bundle --platform=node --format=esm --packages=external \
//          --outfile=out/scripts/record.mjs && node out/scripts/record.mjs [STEPS]
// (about 4 minutes on one core for 1200 updates of each run)
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Trainer } from '../src/engine/trainer.js';
import { DEFAULT_MODEL, DEFAULT_TRAIN, type CellKind } from '../src/engine/config.js';
import { generate } from '../src/engine/sampling.js';
import type { StepMetrics, ValidationMetrics } from '../src/engine/measurements.js';
import { PROTOCOL_VERSION, type RunHistory, type ToWebview } from '../src/protocol/messages.js';
import { sotuText } from './sotu.mjs';

const out = join(process.cwd(), 'test', 'fixtures', 'sessions', 'rnn-then-lstm-sotu.json');
const steps = Number(process.argv[2] ?? 1200);
const text = sotuText().slice(0, 200_000);
const probeText = text
  .split('\n')
  .find((l) => l.trim().length > 32)!
  .slice(0, 32);
const SAMPLE_EVERY = 300;
const TEMPERATURE = 0.8;
const EARLIER_STRIDE = 5;

async function record(cell: CellKind): Promise<RunHistory> {
  const model = { ...DEFAULT_MODEL, cell };
  const train = { ...DEFAULT_TRAIN, evalEvery: 100, seed: 1 };
  const t = Trainer.create(text, model, train, 'char');
  const metrics: StepMetrics[] = [];
  const validation: ValidationMetrics[] = [];
  const samples: RunHistory['samples'] = [];
  const clips: RunHistory['clips'] = [];
  const started = Date.now();
  for (let s = 1; s <= steps; s++) {
    metrics.push({ ...t.step() });
    const clip = t.lastClip();
    if (clip !== null) clips.push({ ...clip, spans: clip.spans.map(([a, b]) => [a, b] as [number, number]) });
    if (s % train.evalEvery === 0) validation.push({ ...t.validate('sample') });
    if (s % SAMPLE_EVERY === 0) {
      const sampled = await generate(t.stepper(), t.tokenizer, {
        prime: '',
        length: 200,
        temperature: TEMPERATURE,
        topK: 0,
        topP: 1,
        greedy: false,
        seed: s,
      });
      samples.unshift({ step: s, temperature: TEMPERATURE, prime: '', text: sampled });
    }
  }
  const flow = t.gradientFlow();
  const last = validation.at(-1)!;
  console.log(
    `${cell}: ${steps} updates in ${((Date.now() - started) / 1000).toFixed(0)} s, validation ${last.bitsPerToken.toFixed(3)} bits/char, ${clips.length} clipped`,
  );
  return {
    runId: `${cell}-recorded`,
    label: `${cell} on sotu.txt`,
    // The corpus's name, not a path: the recording must not depend on the machine it was made on.
    file: 'sotu.txt',
    run: {
      model: t.modelConfig,
      train: t.train,
      tokenizer: 'char',
      vocabSize: t.modelConfig.vocabSize,
      parameterCount: t.model.parameterCount,
      tensors: t.model.exportTensors().map((x) => ({ name: x.name, shape: [...x.shape] })),
      trainTokens: t.trainTokens,
      validationTokens: t.validationTokens,
      unigramBits: t.unigramBits(),
    },
    metrics,
    validation,
    clips,
    samples,
    gradientFlow: { ...flow, fromLast: flow.fromLast.map((a) => a.slice()), perStep: flow.perStep.map((a) => a.slice()) },
    gates: t.probeGates(probeText),
    state: 'finished',
  };
}

const round = (n: number): number | string => (Number.isFinite(n) ? Number(n.toPrecision(3)) : String(n));
const rnn = await record('rnn');
const gru = await record('gru');
const lstm = await record('lstm');
const earlier = (r: RunHistory): RunHistory => ({
  ...r,
  metrics: r.metrics.filter((m) => m.step % EARLIER_STRIDE === 0 || m.step === steps),
  gates: null,
});
const message: ToWebview = { v: PROTOCOL_VERSION, type: 'history', current: lstm, others: [earlier(rnn), earlier(gru)] };
const json = JSON.stringify(message, function (this: unknown, key: string, v: unknown) {
  // Gate activations ([T, H] per gate) only feed a colour map.
  const each = key === 'data' ? (x: number): number => Math.round(x * 100) / 100 : (x: number): number | string => round(x);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, each);
  if (typeof v === 'number' && !Number.isInteger(v)) return round(v);
  return v;
});
if (json.length >= 400 * 1024)
  throw new Error(`the fixture would be ${(json.length / 1024).toFixed(0)} KB, over 400 KB: record fewer updates or a shorter probe text`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, json);
console.log(`wrote ${out}: ${(json.length / 1024).toFixed(0)} KB, ${steps} updates each`);
