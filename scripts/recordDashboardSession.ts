// Records a real, short training session for the dashboard's tests and screenshots: an RNN and then an
// LSTM, same size and settings, on the same text (the start of the State of the Union corpus), through
// the engine's Trainer, and writes what the extension would send a dashboard opened on the LSTM run:
// a `history` message with the RNN as the earlier run. Typed arrays are written as arrays and numbers
// rounded to 3 significant digits to keep the file small; the dashboard accepts both forms.
//
// usage: npx esbuild scripts/recordDashboardSession.ts --bundle --platform=node --format=esm \
//          --outfile=out/scripts/record.mjs && node out/scripts/record.mjs [STEPS]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Trainer } from '../src/engine/trainer.js';
import { DEFAULT_TRAIN, type CellKind } from '../src/engine/config.js';
import type { StepMetrics, ValidationMetrics } from '../src/engine/measurements.js';
import { PROTOCOL_VERSION, type RunHistory, type ToWebview } from '../src/protocol/messages.js';

const corpus = join(process.cwd(), '..', 'shared', 'data', 'sotu.txt');
const out = join(process.cwd(), 'test', 'fixtures', 'sessions', 'rnn-then-lstm-sotu.json');
const steps = Number(process.argv[2] ?? 400);
const text = readFileSync(corpus, 'utf8').slice(0, 60_000);
const probeText = text.split('\n').find((l) => l.trim().length > 20)!.slice(0, 28);

function record(cell: CellKind): RunHistory {
  const model = { task: 'lm' as const, cell, hidden: 48, layers: 1, embedding: 0, bidirectional: false };
  const train = { ...DEFAULT_TRAIN, batch: 8, k1: 32, k2: 32, lr: 1e-2, evalEvery: 100, seed: 1 };
  const t = Trainer.create(text, model, train, 'char');
  const metrics: StepMetrics[] = [];
  const validation: ValidationMetrics[] = [];
  for (let s = 1; s <= steps; s++) {
    metrics.push({ ...t.step() });
    if (s % train.evalEvery === 0) validation.push({ ...t.validate(4096) });
  }
  const flow = t.gradientFlow();
  return {
    runId: `${cell}-recorded`, label: `${cell} on sotu.txt`, file: corpus,
    run: {
      model: t.modelConfig, train: t.train, tokenizer: 'char', vocabSize: t.modelConfig.vocabSize,
      parameterCount: t.model.parameterCount,
      tensors: t.model.exportTensors().map((x) => ({ name: x.name, shape: [...x.shape] })),
      trainTokens: t.trainTokens, validationTokens: t.validationTokens, unigramBits: t.unigramBits(),
    },
    metrics, validation, clips: [], samples: [],
    gradientFlow: { ...flow, fromLast: flow.fromLast.map((a) => a.slice()), perStep: flow.perStep.map((a) => a.slice()) },
    gates: t.probeGates(probeText), state: 'finished',
  };
}

const round = (n: number): number | string => (Number.isFinite(n) ? Number(n.toPrecision(3)) : String(n));
const rnn = record('rnn');
const lstm = record('lstm');
const message: ToWebview = { v: PROTOCOL_VERSION, type: 'history', current: lstm, others: [rnn] };
const json = JSON.stringify(message, (_k, v: unknown) => {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, round);
  if (typeof v === 'number' && !Number.isInteger(v)) return round(v);
  return v;
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, json);
console.log(`wrote ${out}: ${(json.length / 1024).toFixed(0)} KB, ${steps} steps each; final loss rnn ${rnn.metrics.at(-1)!.bitsPerToken.toFixed(3)}, lstm ${lstm.metrics.at(-1)!.bitsPerToken.toFixed(3)} bits/token`);
