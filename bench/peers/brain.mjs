// brain.js peer: its recurrent.RNN / LSTM / GRU (matrix-per-step, plain JavaScript). brain.js has no
// batching, so a batch of B windows is B patterns trained one after the other; it carries no state
// between windows, and its own update (RMSProp with element clipping) replaces Adam/Adagrad. Its
// vanilla RNN uses relu where ours uses tanh: the cost per step is the same.
import { createRequire } from 'node:module';
import { WORKLOADS, loadCorpus, median, report, runnerArgs, timeReps } from '../common.mjs';

const require = createRequire(import.meta.url);
const brain = require('brain.js');
const version = require('brain.js/package.json').version;

const a = runnerArgs();
const w = WORKLOADS[a.workload];
const { vocab, train } = loadCorpus();
const Net = { rnn: brain.recurrent.RNN, lstm: brain.recurrent.LSTM, gru: brain.recurrent.GRU }[w.cell];
const net = new Net({
  hiddenLayers: Array(w.layers).fill(w.hidden),
  dataFormatter: new brain.utilities.DataFormatter(vocab),
  learningRate: w.lr,
  maxPredictionLength: 1000,
});
net.initialize();

const B = w.batch;
const T = w.seq;
const span = Math.floor((train.length - 1) / B);
let pos = 0;
let b = 0;
// One pattern (one stream's window) per timed step, so that even W4, where a batch takes brain.js
// about a minute, gives several timed steps.
function trainStep() {
  net.trainPattern(Array.from(train.subarray(b * span + pos, b * span + pos + T)));
  if (++b === B) {
    b = 0;
    pos = pos + 2 * T >= span ? 0 : pos + T;
  }
  return T;
}

function sampleStep() {
  // run() samples until brain.js's end token or maxPredictionLength; each sampled char is one step.
  return net.run([], true).length + 1;
}

if (w.sampling) trainStep();
const rates = await timeReps(w.sampling ? sampleStep : trainStep, { seconds: a.seconds, reps: a.reps, warmupSeconds: a.warmup });
report({ peer: 'brain.js', workload: a.workload, charsPerSecond: median(rates), reps: rates, version });
