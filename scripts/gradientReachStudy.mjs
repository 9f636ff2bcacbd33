// Where does an LSTM's longer memory show in real training? Trains one model on a real text with the
// engine's Trainer and, at chosen update counts, probes how far back the gradient of the loss at one step
// reaches, in several ways, printing one JSON line per checkpoint. The figures in the README's Dashboard
// section ("What real training shows") come from here.
//
// The probe: 16 windows of PROBE = 200 characters in the validation split (the last 10%), 1,000 apart,
// each after 200 characters of warm-up from a zero state; the loss at the window's last step T alone is
// backpropagated through all 200 steps, so it looks further back than a training window of k2 = 64.
//   hReach      first k with ||dL_T/dh_{T-k}|| < 1/1000 of k = 0 (what the dashboard calls reach)
//   reach1e6    the same at 1e-6
//   rel         ||dL_T/dh_{T-k}|| / ||dL_T/dh_T|| at k = 16 32 48 63 100 150 199
//   cReach, c50, c100  (LSTM) the same for the cell state c: dL/dc_p = dL/dc_{p+1} f_{p+1} + dL/dh_p o_p (1 - tanh^2 c_p),
//               rebuilt from the total dL/dh the backward pass leaves and the cached gates
//   unitShare   share of units whose gradient (norm over the 16 windows) is still >= 1/1000 of the k = 0 norm
//   keepShare   (LSTM, GRU) share of (window, unit) whose gate product over the last k steps, prod f
//               (LSTM forget) or prod z (GRU update, h = (1-z) n + z h_prev), is still >= 1/1000: the
//               cell path's own memory, dc_T/dc_{T-k} along it
//   gateHi, gateMean  share of f (or z) above 0.95, and its mean
// It reads the model's parameters and restores their gradients; training is not changed.
//
// usage (after `node scripts/buildWasm.mjs && npx tsc -p .`):
//   node scripts/gradientReachStudy.mjs CELL CORPUS STEPS [HIDDEN=128] [K2=64] [K1=K2]
//   CELL rnn|lstm|gru; CORPUS sotu (first 200k chars of the State of the Union corpus, scripts/sotu.mjs) or code (200k chars of
//   node_modules/typescript/lib/typescript.js from offset 1,000,000: real source with nested brackets);
//   STEPS update counts to probe at, e.g. 0,100,400,1000,2000. Batch 32, Adam 2e-3, clip 5, seed 1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sotuText } from './sotu.mjs';

const root = process.cwd();
const E = join(root, 'out', 'src', 'engine');
const { Trainer } = await import(join(E, 'trainer.js'));
const { DEFAULT_TRAIN } = await import(join(E, 'config.js'));
const { Unrolled } = await import(join(E, 'unroll.js'));
const { Arena } = await import(join(E, 'arena.js'));

const [cell, corpusName, stepsArg, hiddenArg, k2Arg, k1Arg] = process.argv.slice(2);
const corpora = {
  sotu: () => sotuText().slice(0, 200_000),
  code: () => readFileSync(join(root, 'node_modules', 'typescript', 'lib', 'typescript.js'), 'utf8').slice(1_000_000, 1_200_000),
};
if (!['rnn', 'lstm', 'gru'].includes(cell) || !(corpusName in corpora) || !stepsArg) {
  console.error('usage: node scripts/gradientReachStudy.mjs rnn|lstm|gru sotu|code STEPS[,STEPS...] [HIDDEN] [K2] [K1]');
  process.exit(2);
}
const text = corpora[corpusName]();
const checkpoints = stepsArg.split(',').map(Number);
const H = Number(hiddenArg ?? 128);
const k2 = Number(k2Arg ?? 64);
const k1 = Number(k1Arg ?? k2);
const t = Trainer.create(
  text,
  { task: 'lm', cell, hidden: H, layers: 1, embedding: 0, bidirectional: false },
  { ...DEFAULT_TRAIN, batch: 32, k1, k2, seed: 1 },
  'char',
);

const PROBE = 200,
  B = 16,
  KS = [10, 25, 50, 100, 199];
const u = new Unrolled({ config: t.model.config, arena: new Arena(t.model.arena.width), param: (n) => t.model.param(n) }, B, PROBE);
const ids = t.tokenizer.encode(text);
const warm = new Float32Array(u.stateSize(B));
const reachBelow = (a, ratio) => {
  for (let k = 1; k < a.length; k++) if (!(a[k] >= a[0] * ratio)) return k;
  return a.length;
};
const rel = (a, k) => (a[k] / a[0]).toExponential(1);

function probe() {
  const base = Math.floor(ids.length * 0.9);
  for (let pass = 0; pass < 2; pass++) {
    for (let b = 0; b < B; b++)
      for (let p = 0; p < PROBE; p++) {
        const at = base + b * 1000 + pass * PROBE + p;
        u.ids[p * B + b] = ids[at];
        u.targets[p * B + b] = ids[at + 1];
      }
    u.setState(pass === 0 ? null : warm, B, PROBE);
    u.forward(B, PROBE);
    if (pass === 0) u.getState(warm, B, PROBE, PROBE);
  }
  const saved = t.model.params.map((p) => p.grad.slice());
  u.decode(B, PROBE, PROBE - 1);
  u.loss(B, PROBE, PROBE - 1);
  u.backward(B, PROBE, PROBE - 1, 1 / B);
  t.model.params.forEach((p, i) => p.grad.set(saved[i]));

  const c = u.layers[0].cells[0];
  const n = B * H,
    G = c.gates * H;
  const hN = new Float64Array(PROBE),
    cN = new Float64Array(PROBE),
    unit = new Float64Array(PROBE * H);
  const dc = new Float64Array(n),
    keep = new Float64Array(n).fill(1);
  const keepShare = {};
  let hi = 0,
    sum = 0;
  for (let k = 0; k < PROBE; k++) {
    const p = PROBE - 1 - k;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const g = c.dh[p * n + i];
      s += g * g;
      unit[k * H + (i % H)] += g * g;
    }
    hN[k] = Math.sqrt(s);
    if (cell === 'lstm') {
      let sc = 0;
      for (let r = 0; r < B; r++)
        for (let j = 0; j < H; j++) {
          const a = (p * B + r) * G,
            i = r * H + j;
          const o = c.act[a + 3 * H + j],
            tc = c.tanhC[p * n + i];
          const fNext = p + 1 < PROBE ? c.act[((p + 1) * B + r) * G + H + j] : 0;
          dc[i] = dc[i] * fNext + c.dh[p * n + i] * o * (1 - tc * tc);
          sc += dc[i] * dc[i];
        }
      cN[k] = Math.sqrt(sc);
    }
    if (cell !== 'rnn') {
      // f is gate row 1 of i f g o; z is gate row 1 of r z n.
      let alive = 0;
      for (let r = 0; r < B; r++)
        for (let j = 0; j < H; j++) {
          const i = r * H + j,
            g = c.act[(p * B + r) * G + H + j];
          if (k > 0) keep[i] *= c.act[((p + 1) * B + r) * G + H + j];
          if (keep[i] >= 1e-3) alive++;
          if (g > 0.95) hi++;
          sum += g;
        }
      if (KS.includes(k)) keepShare[k] = +(alive / n).toFixed(3);
    }
  }
  const unitShare = {};
  for (const k of KS) {
    let a = 0;
    for (let j = 0; j < H; j++) if (Math.sqrt(unit[k * H + j]) >= hN[0] * 1e-3) a++;
    unitShare[k] = +(a / H).toFixed(3);
  }
  return {
    hReach: reachBelow(hN, 1e-3),
    reach1e6: reachBelow(hN, 1e-6),
    rel: [16, 32, 48, 63, 100, 150, 199].map((k) => rel(hN, k)).join(' '),
    ...(cell === 'lstm' ? { cReach: reachBelow(cN, 1e-3), c50: rel(cN, 50), c100: rel(cN, 100) } : {}),
    unitShare,
    ...(cell === 'rnn' ? {} : { keepShare, gateHi: +(hi / (PROBE * n)).toFixed(3), gateMean: +(sum / (PROBE * n)).toFixed(3) }),
  };
}

let done = 0;
const started = Date.now();
for (const cp of checkpoints) {
  while (done < cp) {
    t.step();
    done++;
  }
  const val = cp > 0 ? +t.validate('sample').bitsPerToken.toFixed(3) : null;
  const flow = t.gradientFlow();
  console.log(
    JSON.stringify({
      cell,
      corpus: corpusName,
      hidden: H,
      k1,
      k2,
      step: cp,
      valBits: val,
      trainFlowReach: reachBelow(flow.fromLast[0], 1e-3),
      ...probe(),
      seconds: Math.round((Date.now() - started) / 1000),
    }),
  );
}
