// npm run bench: W1-W4 and S1 on Recurrent Studio's engine and, in the same run, on PyTorch (Debian's
// python3-torch, one thread), TensorFlow.js (wasm and cpu backends) and brain.js. Each (workload,
// peer) runs in its own child process, one at a time, so none competes with another for the two
// cores. Prints one table (chars/second medians, achieved GFLOP/s, ratios) and writes it as JSON
// under bench/results/.
//
//   npm run bench -- [--workloads W1,W2,W3,W4,S1] [--peers recurrent,pytorch,tfjs-wasm,tfjs-cpu,brain.js]
//                    [--seconds 3] [--reps 3] [--warmup 1] [--timeout 120] [--reference] [--threads 2]
//                    [--runtime node,node24] [--kernel-set simd|relaxed-simd]
//
// --runtime runs our engine on each listed Node, side by side in the same run: `node` is the one running
// the bench (Node 20 here, as the CLI and the tests), `node24` the Node 24 that `npm run setup:vscode`
// caches (code-server's extension host runs on it), anything else a path to a node binary. Every one runs
// the relaxed SIMD kernels (fused multiply-add; on Node 20 behind a V8 flag the engine sets); --kernel-set
// holds every runtime to one set, to tell the runtime's own speed from the kernels'.
//   npm run bench -- --quality [--marks 60,300]     W2 validation bits/char after 60 s and 300 s of training
//   npm run bench -- --kernels                       matrix-product GFLOP/s, reference vs wasm
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS, corpusText, flopsPerToken, loadCorpus } from './common.mjs';
import { node24Bin } from '../scripts/vscode/paths.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const PYTHON = process.env.RECURRENT_BENCH_PYTHON ?? '/usr/bin/python3';

// Every peer reads the corpus from one file, which the Python peer needs (it cannot import scripts/sotu.mjs).
if (!process.env.RECURRENT_BENCH_CORPUS) {
  const file = join(here, 'results', 'corpus.txt');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, corpusText());
  process.env.RECURRENT_BENCH_CORPUS = file;
}

const args = process.argv.slice(2);
const flag = (n) => args.includes(`--${n}`);
const opt = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : d;
};

const seconds = Number(opt('seconds', '3'));
const reps = Number(opt('reps', '3'));
const warmup = Number(opt('warmup', '1'));
const engineJs = join(root, 'out', 'bench', 'engine.js');
if (!existsSync(engineJs)) {
  console.error('out/bench/engine.js is missing: run `npm run bench` from the repository root (it compiles first), or `npx tsc -p .`');
  process.exit(1);
}

// Our engine's training threads (both cores by default; PyTorch runs on one, as the comparison sets it).
const threads = opt('threads', '2');
const kernelSet = opt('kernel-set', '');

/** The Node binaries our engine runs on: [name, binary, version]. */
const runtimes = opt('runtime', 'node')
  .split(',')
  .map((name) => {
    const bin = name === 'node' ? process.execPath : name === 'node24' ? node24Bin : name;
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`--runtime ${name}: cannot run ${bin}${name === 'node24' ? ' (npm run setup:vscode installs it)' : ''}`);
      process.exit(1);
    }
    return { name, bin, version: r.stdout.trim() };
  });
/** Our engine's peer on each runtime: `recurrent` on the first, `recurrent@<name>` on the others. */
const oursOn = (rt, i) => (i === 0 ? 'recurrent' : `recurrent@${rt.name}`);
const ourPeers = runtimes.map(oursOn);
const runtimeOf = (peer) => runtimes[Math.max(0, ourPeers.indexOf(peer))];

const engineArgs = (w, extra) => [
  engineJs,
  '--workload',
  w,
  '--threads',
  threads,
  ...(kernelSet ? ['--kernel-set', kernelSet] : []),
  ...extra,
];
const PEERS = {
  ...Object.fromEntries(ourPeers.map((p) => [p, (w, extra = []) => [runtimeOf(p).bin, engineArgs(w, extra)]])),
  'recurrent-reference': (w, extra = []) => ['node', [engineJs, '--workload', w, '--backend', 'reference', ...extra]],
  pytorch: (w, extra = []) => [PYTHON, [join(here, 'peers', 'torch_runner.py'), '--workload', w, ...extra]],
  'tfjs-wasm': (w, extra = []) => ['node', [join(here, 'peers', 'tfjs.mjs'), '--workload', w, '--backend', 'wasm', ...extra]],
  'tfjs-cpu': (w, extra = []) => ['node', [join(here, 'peers', 'tfjs.mjs'), '--workload', w, '--backend', 'cpu', ...extra]],
  'brain.js': (w, extra = []) => ['node', [join(here, 'peers', 'brain.mjs'), '--workload', w, ...extra]],
};

function run(peer, workload, extra, timeoutSeconds) {
  if (!PEERS[peer]) {
    console.error(`unknown peer ${peer}: one of ${Object.keys(PEERS).join(', ')}`);
    process.exit(1);
  }
  const [cmd, argv] = PEERS[peer](workload, extra);
  const r = spawnSync(cmd, argv, { cwd: here, encoding: 'utf8', timeout: timeoutSeconds * 1000, maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM') return { peer, workload, error: `no result within ${timeoutSeconds} s` };
  if (line === undefined) {
    const why =
      (r.stderr ?? '')
        .trim()
        .split('\n')
        .filter((l) => /Error|error/.test(l))
        .pop() ?? `exit ${r.status}`;
    return { peer, workload, error: why.slice(0, 160) };
  }
  return JSON.parse(line);
}

function machine() {
  const cpu = os.cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    runtimes: runtimes.map((r) => r.version),
    os: `${os.type()} ${os.release()}`,
    // Other people's work on a shared machine moves every figure: the 1-minute load average at the start.
    loadAverage: +os.loadavg()[0].toFixed(2),
  };
}

const fmt = (x) => (x === undefined || !Number.isFinite(x) ? '—' : x >= 1000 ? `${(x / 1000).toFixed(1)} k` : x.toFixed(0));
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(1)}x` : '—');

function save(kind, data) {
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = data.machine.date.replace(/[:.]/g, '-');
  writeFileSync(join(dir, `${kind}-${stamp}.json`), JSON.stringify(data, null, 2));
  writeFileSync(join(dir, `${kind}-latest.json`), JSON.stringify(data, null, 2));
  console.log(`\nwritten: bench/results/${kind}-${stamp}.json`);
}

if (flag('kernels')) {
  const { runKernelBench } = await import(join(root, 'out', 'bench', 'kernels.js'));
  const rows = runKernelBench(Number(opt('seconds', '0.2')));
  console.table(rows);
  save('kernels', { machine: machine(), rows });
} else if (flag('quality')) {
  const marks = opt('marks', '60,300');
  const last = Math.max(...marks.split(',').map(Number));
  const peers = opt('peers', 'recurrent,pytorch')
    .split(',')
    .flatMap((p) => (p === 'recurrent' ? ourPeers : [p]));
  const results = peers.map((p) => {
    console.error(`quality: ${p} on W2 for ${last} s of training...`);
    return run(p, 'W2', ['--quality', marks], last * 1.5 + 120);
  });
  console.log(`\nW2 validation bits/char after training for the given wall-clock time (${machine().date.slice(0, 10)})\n`);
  console.log(['peer', ...marks.split(',').map((m) => `${m} s`), 'tokens trained'].join(' | '));
  for (const r of results) {
    if (r.error) console.log(`${r.peer} | ${r.error}`);
    else console.log([r.peer, ...r.quality.map((q) => q.bitsPerChar.toFixed(3)), r.quality.at(-1).tokens].join(' | '));
  }
  save('quality', { machine: machine(), marks, results });
} else {
  const workloads = opt('workloads', 'W1,W2,W3,W4,S1').split(',');
  const others = [...(flag('reference') ? ['recurrent-reference'] : []), 'pytorch', 'tfjs-wasm', 'tfjs-cpu', 'brain.js'];
  const peers = opt('peers', ['recurrent', ...others].join(','))
    .split(',')
    .flatMap((p) => (p === 'recurrent' ? ourPeers : [p]));
  const timeout = Number(opt('timeout', String(warmup + reps * seconds + 90)));
  const V = loadCorpus().vocab.length;
  const m = machine();
  const results = [];
  for (const w of workloads) {
    for (const p of peers) {
      process.stderr.write(`${w} ${p}... `);
      const r = run(p, w, ['--seconds', String(seconds), '--reps', String(reps), '--warmup', String(warmup)], timeout);
      r.peer = p;
      if (ourPeers.includes(p)) r.runtime = runtimeOf(p).version;
      r.gflops = r.charsPerSecond ? (r.charsPerSecond * flopsPerToken(WORKLOADS[w], V)) / 1e9 : undefined;
      process.stderr.write(r.error ? `${r.error}\n` : `${fmt(r.charsPerSecond)} chars/s\n`);
      results.push(r);
    }
  }
  m.loadAverageAfter = +os.loadavg()[0].toFixed(2);
  const get = (w, p) => results.find((r) => r.workload === w && r.peer === p);
  const ours = ourPeers.filter((p) => peers.includes(p));
  const label = (p) => (ourPeers.includes(p) ? `ours, Node ${runtimeOf(p).version.slice(1)}` : p);
  const each = (what) => ours.map((p) => (ours.length > 1 ? `${what} (Node ${runtimeOf(p).version.slice(1).split('.')[0]})` : what));
  console.log(
    `\nchars/second of training (S1: of sampling), medians of ${reps} x ${seconds} s; GFLOP/s counts matrix products only (see bench/common.mjs)`,
  );
  console.log(`${m.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, load average ${m.loadAverage} before, ${m.loadAverageAfter} after\n`);
  const cols = peers;
  const heads = [...cols.map(label), ...each('ours GFLOP/s'), ...each('ours / PyTorch'), 'ours / best TF.js', 'ours / brain.js'];
  console.log(`| workload | ${heads.join(' | ')} |`);
  console.log(`| --- | ${heads.map(() => '---:').join(' | ')} |`);
  const rows = [];
  for (const w of workloads) {
    // TF.js and brain.js are compared with our fastest runtime.
    const best = Math.max(...ours.map((p) => get(w, p)?.charsPerSecond).filter(Number.isFinite));
    const tf = Math.max(...['tfjs-wasm', 'tfjs-cpu'].map((p) => get(w, p)?.charsPerSecond).filter(Number.isFinite));
    const torch = get(w, 'pytorch')?.charsPerSecond ?? NaN;
    const torchCpu = get(w, 'pytorch')?.charsPerCpuSecond ?? NaN;
    const row = {
      workload: w,
      title: WORKLOADS[w].title,
      charsPerSecond: Object.fromEntries(cols.map((p) => [p, get(w, p)?.charsPerSecond ?? null])),
      oursGflops: Object.fromEntries(ours.map((p) => [p, get(w, p)?.gflops ?? null])),
      kernels: Object.fromEntries(ours.map((p) => [p, get(w, p)?.kernels ?? null])),
      vsPytorch: Object.fromEntries(ours.map((p) => [p, (get(w, p)?.charsPerSecond ?? NaN) / torch])),
      charsPerCpuSecond: Object.fromEntries(cols.map((p) => [p, get(w, p)?.charsPerCpuSecond ?? null])),
      vsPytorchPerCpuSecond: Object.fromEntries(ours.map((p) => [p, (get(w, p)?.charsPerCpuSecond ?? NaN) / torchCpu])),
      vsBestTfjs: best / tf,
      vsBrain: best / (get(w, 'brain.js')?.charsPerSecond ?? NaN),
    };
    rows.push(row);
    const cells = [
      ...cols.map((p) => fmt(get(w, p)?.charsPerSecond)),
      ...ours.map((p) => get(w, p)?.gflops?.toFixed(1) ?? '—'),
      ...ours.map((p) => ratio(get(w, p)?.charsPerSecond, torch)),
      ratio(best, tf),
      ratio(best, get(w, 'brain.js')?.charsPerSecond),
    ];
    console.log(`| ${w} ${WORKLOADS[w].title} | ${cells.join(' | ')} |`);
  }
  // What the work cost, whoever else ran: chars per CPU-second of each process (all its threads). Ours
  // on two threads against PyTorch on one, an idle machine's wall-clock ratio is at most twice this one.
  const cpuCols = cols.filter((p) => ours.includes(p) || p === 'pytorch');
  const cpuHeads = [...cpuCols.map(label), ...each('ours / PyTorch')];
  console.log(`\nchars per CPU-second of each process (all its threads), medians of the same repetitions\n`);
  console.log(`| workload | ${cpuHeads.join(' | ')} |`);
  console.log(`| --- | ${cpuHeads.map(() => '---:').join(' | ')} |`);
  for (const row of rows) {
    const per = row.charsPerCpuSecond;
    const cells = [...cpuCols.map((p) => fmt(per[p] ?? undefined)), ...ours.map((p) => ratio(per[p], per.pytorch ?? NaN))];
    console.log(`| ${row.workload} | ${cells.join(' | ')} |`);
  }
  const memoryLines = results
    .filter((r) => ours.includes(r.peer) && r.memory)
    .map((r) => {
      const mb = (x) => `${(x / 1e6).toFixed(x < 1e7 ? 1 : 0)} MB`;
      const { residentGrowthBytes: rss, heapUsedBytes: heap, mustHoldBytes: need } = r.memory;
      const on = ours.length > 1 ? ` (Node ${r.runtime.slice(1)})` : '';
      return `${r.workload}${on}: resident growth ${mb(rss)} = ${(rss / need).toFixed(2)}x the ${mb(need)} it must hold (wasm heap ${heap === null ? '—' : mb(heap)}), ${r.threads} thread${r.threads === 1 ? '' : 's'}`;
    });
  if (memoryLines.length > 0)
    console.log(
      `\nmemory of our engine (parameters, gradients, optimizer state, activations BPTT reads, logits):\n${memoryLines.join('\n')}`,
    );
  const kernels = ours.map(
    (p) => `Node ${runtimeOf(p).version.slice(1)}: ${[...new Set(results.filter((r) => r.peer === p).map((r) => r.kernels))].join(', ')}`,
  );
  console.log(`\nour kernels: ${kernels.join('; ')}`);
  // Debian's python3-torch multiplies with whatever libblas.so.3 the system provides: the reference BLAS
  // (libblas3) multiplied at 3.4 GFLOP per CPU-second here, OpenBLAS at 95, so the comparison says which one ran.
  const blas = [...new Set(results.filter((r) => r.peer === 'pytorch' && r.blas).map((r) => r.blas))];
  if (blas.length > 0) console.log(`PyTorch's BLAS: ${blas.join('; ')}`);
  if (blas.some((b) => !/openblas|mkl|blis/i.test(b)))
    console.log(
      "  that is not an optimized BLAS (Debian's libblas3 is the reference one): PyTorch's products ran far below this machine's; README, Performance, says how to run it on OpenBLAS",
    );
  save('bench', { machine: m, seconds, reps, warmup, threads: Number(threads), rows, results });
}
