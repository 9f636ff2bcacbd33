// TensorFlow.js peer, written the fastest way we found with tfjs-core ops (tf.layers' LSTM is slower):
// the one-hot input as a row gather of W_ih, the input projections of a whole window in one gather
// before the recurrence, one matMul per step for the recurrent part, the decoder as one matMul over
// all steps, gradients by optimizer.minimize. Backends: --backend wasm | cpu.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { GATES, WORKLOADS, loadCorpus, median, report, runnerArgs, timeReps } from '../common.mjs';

const a = runnerArgs();
const w = WORKLOADS[a.workload];
const backend = a.backend || 'wasm';
if (backend === 'wasm') wasm.setThreadsCount(1);
await tf.setBackend(backend);
await tf.ready();

const { vocab, train } = loadCorpus();
const V = vocab.length;
const H = w.hidden;
const G = GATES[w.cell];
const B = w.batch;
const T = w.seq;

// Weights stored [in, out] so every product is x @ W without transposes.
const init = (shape, fanIn) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', 1));
const layers = [];
for (let k = 0; k < w.layers; k++) {
  layers.push({
    Wih: init([k === 0 ? V : H, G * H], H),
    Whh: init([H, G * H], H),
    b: init([G * H], H),
    bhn: w.cell === 'gru' ? init([H], H) : null,
  });
}
const Wd = init([H, V], H);
const bd = init([V], H);
const optimizer = w.optimizer === 'adagrad' ? tf.train.adagrad(w.lr) : tf.train.adam(w.lr);

/** One step of the cell, PyTorch's equations. `xz` already holds W_ih x + b. */
function cell(L, xz, h, c) {
  if (w.cell === 'rnn') return { h: tf.tanh(tf.add(xz, tf.matMul(h, L.Whh))) };
  if (w.cell === 'lstm') {
    const z = tf.add(xz, tf.matMul(h, L.Whh));
    const [i, f, g, o] = tf.split(z, 4, 1);
    const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return { h: tf.mul(tf.sigmoid(o), tf.tanh(c2)), c: c2 };
  }
  const hz = tf.matMul(h, L.Whh);
  const [xr, xu, xn] = tf.split(xz, 3, 1);
  const [hr, hu, hn] = tf.split(hz, 3, 1);
  const r = tf.sigmoid(tf.add(xr, hr));
  const u = tf.sigmoid(tf.add(xu, hu));
  const n = tf.tanh(tf.add(xn, tf.mul(r, tf.add(hn, L.bhn))));
  return { h: tf.add(n, tf.mul(u, tf.sub(h, n))) };
}

// The wasm backend has no UnsortedSegmentSum, the gradient of gather: there the one-hot input goes
// through a matMul, as tf.layers would do it.
const gatherable = tf.getKernel('UnsortedSegmentSum', backend) !== undefined;
const project = (W, ids) => (gatherable ? tf.gather(W, ids) : tf.matMul(tf.oneHot(ids, V, 1, 0, 'float32'), W));

const zeros = () => layers.map(() => ({ h: tf.keep(tf.zeros([B, H])), c: w.cell === 'lstm' ? tf.keep(tf.zeros([B, H])) : null }));
let state = zeros();
const span = Math.floor((train.length - 1) / B);
let pos = 0;
const xs = new Int32Array(B * T);
const ys = new Int32Array(B * T);

function trainStep() {
  if (pos + T >= span) {
    pos = 0;
    state.forEach((s) => {
      s.h.dispose();
      s.c?.dispose();
    });
    state = zeros();
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      xs[t * B + b] = train[b * span + pos + t];
      ys[t * B + b] = train[b * span + pos + t + 1];
    }
  }
  pos += T;
  const next = [];
  const loss = optimizer.minimize(() => {
    const inputIds = tf.tensor1d(xs, 'int32'); // [T*B], time-major
    let input = null;
    let outs = [];
    layers.forEach((L, k) => {
      const xz = k === 0 ? tf.add(project(L.Wih, inputIds), L.b) : tf.add(tf.matMul(input, L.Wih), L.b); // [T*B, GH]
      const steps = tf.split(xz, T, 0);
      let { h, c } = state[k];
      outs = [];
      for (let t = 0; t < T; t++) {
        ({ h, c } = cell(L, steps[t], h, c));
        outs.push(h);
      }
      next.push({ h: tf.keep(h), c: c ? tf.keep(c) : null });
      input = tf.concat(outs, 0); // [T*B, H]
    });
    const logits = tf.add(tf.matMul(input, Wd), bd);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(ys, 'int32'), V), logits);
  }, true);
  loss.dataSync();
  loss.dispose();
  state.forEach((s) => {
    s.h.dispose();
    s.c?.dispose();
  });
  state = next;
  return B * T;
}

// S1: one char at a time from a batch of one, sampled in JavaScript from the downloaded softmax.
let sampleState = null;
let token = 0;
let seed = 1;
function sampleStep() {
  sampleState ??= layers.map(() => ({ h: tf.keep(tf.zeros([1, H])), c: w.cell === 'lstm' ? tf.keep(tf.zeros([1, H])) : null }));
  const probs = tf.tidy(() => {
    let x = null;
    layers.forEach((L, k) => {
      const xz = k === 0 ? tf.add(tf.gather(L.Wih, tf.tensor1d([token], 'int32')), L.b) : tf.add(tf.matMul(x, L.Wih), L.b);
      const s = cell(L, xz, sampleState[k].h, sampleState[k].c);
      sampleState[k].h.dispose();
      sampleState[k].c?.dispose();
      sampleState[k] = { h: tf.keep(s.h), c: s.c ? tf.keep(s.c) : null };
      x = s.h;
    });
    return tf.softmax(tf.add(tf.matMul(x, Wd), bd));
  });
  const p = probs.dataSync();
  probs.dispose();
  seed = (seed * 1103515245 + 12345) >>> 0;
  let u = seed / 4294967296;
  token = V - 1;
  for (let i = 0; i < V; i++) {
    u -= p[i];
    if (u < 0) {
      token = i;
      break;
    }
  }
  return 1;
}

const rates = await timeReps(w.sampling ? sampleStep : trainStep, { seconds: a.seconds, reps: a.reps, warmupSeconds: a.warmup });
report({
  peer: `tfjs-${backend}`,
  workload: a.workload,
  charsPerSecond: median(rates),
  reps: rates,
  version: tf.version_core,
  inputProjection: gatherable ? 'gather' : 'one-hot matMul',
});
