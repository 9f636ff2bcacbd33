// npm run bench:tasks: the classify and generate tasks on the first-names file, ours (the CLI's
// defaults; classify --bidirectional) beside the same architecture in PyTorch 1.13 on one thread
// (bench/peers/torch_tasks.py), trained for the same wall-clock on the same held-out 10% (our run's
// seeded sample). Held-out accuracy (classify) and bits per character (generate, end of name included)
// after each mark; scoring pauses both clocks. Runs one after the other, never side by side.
//
//   npm run bench:tasks -- [--tasks classify,generate] [--marks 15,30,60] [--reps 3] [--peers recurrent,pytorch]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const PYTHON = process.env.RECURRENT_BENCH_PYTHON ?? '/usr/bin/python3';
const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : d;
};
const tasks = opt('tasks', 'classify,generate').split(',');
const marks = opt('marks', '15,30,60').split(',').map(Number);
const reps = Number(opt('reps', '3'));
const peers = opt('peers', 'recurrent,pytorch').split(',');

const engine = (m) => import(join(root, 'out', 'src', 'engine', m));
const { TaskTrainer, TASK_DEFAULTS } = await engine('taskTrainer.js');
const { parseTsv } = await engine('tsv.js');
const { splitExamples } = await engine('taskData.js');

const file = join(root, 'sample-workspace', 'first-names.tsv');
const text = readFileSync(file, 'utf8');
const results = join(here, 'results');
mkdirSync(results, { recursive: true });

/** Our run: the CLI's defaults for the task, scored at each mark of training time (scoring not counted). */
function ours(task, seed) {
  const t = TaskTrainer.create(text, file, { task, model: { bidirectional: task === 'classify' }, train: { seed } });
  const out = [];
  let clock = 0;
  const left = marks.slice();
  while (left.length) {
    const started = performance.now();
    t.step();
    clock += (performance.now() - started) / 1000;
    if (clock >= left[0]) {
      const v = t.validate();
      out.push({
        seconds: left.shift(),
        updates: t.updates,
        epochs: t.epoch,
        ...(task === 'classify' ? { accuracy: v.accuracy } : { bitsPerChar: v.bitsPerToken }),
      });
    }
  }
  return { marks: out, trainer: t };
}

function pytorch(task, seed, trainer) {
  const d = TASK_DEFAULTS[task];
  const split = splitExamples(parseTsv(text, file), d.train.valShare, seed);
  const spec = {
    task,
    train: split.train.map((e) => [e.input, e.output]),
    heldOut: split.heldOut.map((e) => [e.input, e.output]),
    vocab: trainer.tokenizer.vocab,
    labels: trainer.labels,
    hidden: d.model.hidden,
    bidirectional: task === 'classify',
    optimizer: d.train.optimizer,
    lr: d.train.lr,
    weightDecay: d.train.weightDecay ?? 0,
    batch: d.train.batch,
    clip: d.train.clipNorm,
    marks,
    seed,
  };
  const specFile = join(results, `tasks-${task}-spec.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const r = spawnSync(PYTHON, [join(here, 'peers', 'torch_tasks.py'), specFile], {
    encoding: 'utf8',
    timeout: (marks.at(-1) * 3 + 120) * 1000,
  });
  if (r.status !== 0) throw new Error(`PyTorch: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const table = [];
for (const task of tasks) {
  const runs = { recurrent: [], pytorch: [] };
  for (let rep = 0; rep < reps; rep++) {
    const seed = 1 + rep;
    const o = ours(task, seed);
    if (peers.includes('recurrent')) runs.recurrent.push(o.marks);
    if (peers.includes('pytorch')) runs.pytorch.push(pytorch(task, seed, o.trainer).marks);
    console.error(`${task} rep ${rep + 1}: ours ${JSON.stringify(o.marks)}; pytorch ${JSON.stringify(runs.pytorch.at(-1) ?? null)}`);
  }
  const metric = task === 'classify' ? 'accuracy' : 'bitsPerChar';
  for (const peer of peers) {
    const row = { task, peer, metric };
    marks.forEach((s, i) => {
      const xs = runs[peer].map((r) => r[i][metric]);
      row[`${s}s`] = { median: median(xs), runs: xs, epochs: median(runs[peer].map((r) => r[i].epochs)) };
    });
    table.push(row);
  }
}
console.log(`| task | peer | ${marks.map((s) => `${s} s`).join(' | ')} |`);
console.log(`| --- | --- | ${marks.map(() => '---').join(' | ')} |`);
for (const r of table) {
  const cells = marks.map((s) => {
    const c = r[`${s}s`];
    return `${c.median.toFixed(3)} (${c.runs.map((x) => x.toFixed(3)).join(', ')}; ${c.epochs} epochs)`;
  });
  console.log(`| ${r.task} (${r.metric}) | ${r.peer} | ${cells.join(' | ')} |`);
}
writeFileSync(join(results, `tasks-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(table, null, 1));
