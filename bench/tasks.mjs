// npm run bench:tasks: the classify and generate tasks on the first-names file and translate on
// CMUdict, ours (the CLI's defaults; classify and translate --bidirectional) beside the same
// architecture in PyTorch 1.13 on one thread (bench/peers/torch_tasks.py), trained for the same time on
// the same held-out lines (our run's seeded sample). Held-out accuracy (classify), bits per character
// (generate, end of name included), word and token error rates of greedy translations (translate)
// after each mark; scoring pauses both clocks. Runs one after the other, never side by side.
// --clock wall counts the training steps' wall time; --clock cpu their CPU time (both peers on one
// thread), which is what the wall time would be on an idle core when the machine is shared.
// A task whose default schedule decays over the run (translate) is trained anew for each mark, as
// `recurrent train --time MARK` trains; PyTorch runs the same schedule over each mark likewise.
//
//   npm run bench:tasks -- [--tasks classify,generate,translate] [--marks 15,30,60] [--reps 3]
//                          [--peers recurrent,pytorch] [--clock wall|cpu] [--seed 1] [--pytorch-train JSON]
//                          [--threads N|auto]
// --threads: ours, as the CLI's --threads (default the CLI's: auto for translate, 1 for the others);
// PyTorch keeps to one thread, as the issue measured it.
// --pytorch-train '{"lr":0.002,"schedule":"constant"}' trains the PyTorch peer with other settings than
// our defaults, e.g. the issue's own translate baseline (Adam 2e-3, constant) beside our cosine defaults.
// Rep r trains with seed SEED + r, so reps can also run as processes of their own (--reps 1 --seed 2),
// which with --clock cpu measure what one process side by side would: each rep's line on stderr holds its marks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
const reps = Number(opt('reps', '3'));
const peers = opt('peers', 'recurrent,pytorch').split(',');
const clockKind = opt('clock', 'wall');
const firstSeed = Number(opt('seed', '1'));
const pytorchTrain = JSON.parse(opt('pytorch-train', '{}'));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const clock = clockKind === 'cpu' ? cpuMs : () => performance.now();
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const engine = (m) => import(join(root, 'out', 'src', 'engine', m));
const { TaskTrainer, TASK_DEFAULTS, defaultTaskThreads } = await engine('taskTrainer.js');
const { parseTsv } = await engine('tsv.js');
const { splitExamples } = await engine('taskData.js');
const { automaticThreads } = await engine('config.js');
const threadsOf = (task) => {
  const given = opt('threads', String(defaultTaskThreads(task)));
  return given === 'auto' ? automaticThreads(availableParallelism(), 0) : Number(given);
};

const FILES = { classify: 'sample-workspace/first-names.tsv', generate: 'sample-workspace/first-names.tsv', translate: 'data/cmudict.tsv' };
const MARKS = { classify: '15,30,60', generate: '15,30,60', translate: '120,300,900' };
const results = join(here, 'results');
mkdirSync(results, { recursive: true });
const texts = {};
const textOf = (task) => (texts[task] ??= readFileSync(join(root, FILES[task]), 'utf8'));
const METRICS = { classify: ['accuracy'], generate: ['bitsPerChar'], translate: ['wordErrorRate', 'tokenErrorRate'] };
const bidirectional = (task) => task !== 'generate';
/** A schedule that decays over the run: each mark is then a run of its own. */
const perMark = (task) => (TASK_DEFAULTS[task].train.schedule ?? 'constant') !== 'constant';

function score(task, v) {
  if (task === 'classify') return { accuracy: v.accuracy };
  if (task === 'generate') return { bitsPerChar: v.bitsPerToken };
  return { wordErrorRate: v.wordErrorRate, tokenErrorRate: v.tokenErrorRate, bitsPerToken: v.bitsPerToken };
}

/** Our run: the CLI's defaults for the task, scored at each mark of training time (scoring not counted). */
function ours(task, seed, marks) {
  const file = join(root, FILES[task]);
  const make = () =>
    TaskTrainer.create(textOf(task), file, {
      task,
      model: { bidirectional: bidirectional(task) },
      train: { seed, threads: threadsOf(task) },
    });
  const out = [];
  let t = null;
  for (const group of perMark(task) ? marks.map((m) => [m]) : [marks]) {
    // Its threads would keep the process alive (and hold their memory) after the mark.
    t?.close();
    t = make();
    let spent = 0;
    let cpu = 0;
    const left = group.slice();
    if (perMark(task)) t.scheduleOverTime(group[0] * 1000, () => spent);
    while (left.length) {
      const started = clock();
      const c0 = cpuMs();
      t.step();
      spent += clock() - started;
      cpu += cpuMs() - c0;
      if (spent / 1000 >= left[0]) {
        out.push({
          seconds: left.shift(),
          updates: t.updates,
          epochs: t.epoch,
          cpuSeconds: +(cpu / 1000).toFixed(1),
          ...score(task, t.validate()),
        });
        // Each mark as it is reached, so a long run that is stopped keeps the marks it reached.
        console.error(`${task} seed ${seed} ours (load ${load()}): ${JSON.stringify(out.at(-1))}`);
      }
    }
  }
  return { marks: out, trainer: t };
}

/** The BLAS libraries PyTorch loaded: Debian's python3-torch multiplies with whatever libblas.so.3 the system provides. */
const blasSeen = new Set();

function pytorch(task, seed, trainer, marks) {
  const d = TASK_DEFAULTS[task];
  const file = join(root, FILES[task]);
  const split = splitExamples(parseTsv(textOf(task), file), d.train.valShare, seed, d.train.valMax ?? 0);
  const spec = {
    task,
    train: split.train.map((e) => [e.input, e.output]),
    heldOut: split.heldOut.map((e) => [e.input, e.output]),
    vocab: trainer.tokenizer.vocab,
    labels: trainer.labels,
    targetVocab: trainer.targetTokenizer?.vocab,
    targetKind: trainer.targetTokenizer?.kind,
    cell: d.model.cell,
    maxOutput: trainer.modelConfig.maxOutput,
    hidden: d.model.hidden,
    bidirectional: bidirectional(task),
    optimizer: d.train.optimizer,
    lr: d.train.lr,
    schedule: d.train.schedule ?? 'constant',
    minLrRatio: 0.1,
    weightDecay: d.train.weightDecay ?? 0,
    batch: d.train.batch,
    clip: d.train.clipNorm,
    clock: clockKind,
    marks,
    seed,
    ...pytorchTrain,
  };
  const specFile = join(results, `tasks-${task}-${seed}-${process.pid}-spec.json`);
  const out = [];
  for (const group of spec.schedule !== 'constant' ? marks.map((m) => [m]) : [marks]) {
    writeFileSync(specFile, JSON.stringify({ ...spec, marks: group }));
    // Its stderr is ours: it reports each mark as it reaches it.
    const r = spawnSync(PYTHON, [join(here, 'peers', 'torch_tasks.py'), specFile], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    rmSync(specFile);
    if (r.status !== 0) throw new Error(`PyTorch exited with ${r.status}`);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1));
    out.push(...result.marks);
    blasSeen.add(result.blas);
  }
  return { marks: out };
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const table = [];
for (const task of tasks) {
  const marks = opt('marks', MARKS[task]).split(',').map(Number);
  const runs = { recurrent: [], pytorch: [] };
  for (let rep = 0; rep < reps; rep++) {
    const seed = firstSeed + rep;
    const before = load();
    // PyTorch takes our run's vocabularies (the split is the same seeded sample).
    const o = peers.includes('recurrent')
      ? ours(task, seed, marks)
      : {
          marks: [],
          trainer: TaskTrainer.create(textOf(task), join(root, FILES[task]), {
            task,
            model: { bidirectional: bidirectional(task) },
            train: { seed },
          }),
        };
    if (peers.includes('recurrent')) runs.recurrent.push(o.marks);
    if (peers.includes('pytorch')) runs.pytorch.push(pytorch(task, seed, o.trainer, marks).marks);
    o.trainer.close();
    console.error(
      `${task} seed ${seed} (load ${before} -> ${load()}): ours ${JSON.stringify(o.marks)}; pytorch ${JSON.stringify(runs.pytorch.at(-1) ?? null)}`,
    );
  }
  for (const metric of METRICS[task]) {
    for (const peer of peers) {
      const row = { task, peer, metric, marks, clock: clockKind };
      marks.forEach((s, i) => {
        const xs = runs[peer].map((r) => r[i][metric]);
        const updates = runs[peer].map((r) => r[i].updates);
        row[`${s}s`] = { median: median(xs), runs: xs, epochs: median(runs[peer].map((r) => r[i].epochs)), updates };
      });
      table.push(row);
    }
  }
}
for (const r of table) {
  console.log(`| task | peer | ${r.marks.map((s) => `${s} s (${r.clock})`).join(' | ')} |`);
  const cells = r.marks.map((s) => {
    const c = r[`${s}s`];
    return `${c.median.toFixed(3)} (${c.runs.map((x) => x.toFixed(3)).join(', ')}; ${c.epochs} epochs; ${c.updates.join(', ')} updates)`;
  });
  console.log(`| ${r.task} (${r.metric}) | ${r.peer} | ${cells.join(' | ')} |`);
}
const blas = [...blasSeen];
if (blas.length > 0) console.log(`PyTorch's BLAS: ${blas.join('; ')}`);
// The reference BLAS (libblas3) multiplied at 3.4 GFLOP per CPU-second here, OpenBLAS at 95 (README, Performance).
if (blas.some((b) => !/openblas|mkl|blis/i.test(b)))
  console.log(
    "  that is not an optimized BLAS (Debian's libblas3 is the reference one): PyTorch's products ran far below this machine's; README, Performance, says how to run it on OpenBLAS",
  );
writeFileSync(join(results, `tasks-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ table, blas }, null, 1));
