// recurrent train --task, eval and predict as a user runs them: real files, real processes, the JSON
// shapes of eval, and one line for a bad task file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint.js';
import { automaticThreads } from '../../src/engine/config.js';
import { scratchFolder } from './support/scratch.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../../src/cli/main.js');
const root = resolve(here, '../../..');
const dir = scratchFolder('tasks');

function run(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The first 600 names of the sample workspace's file (sorted by name, so both labels occur).
const names = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8').split('\n').slice(0, 600).join('\n') + '\n';
const namesFile = join(dir, 'names.tsv');
writeFileSync(namesFile, names);

test('a task file with a bad line is refused with one line naming the line', () => {
  const bad = join(dir, 'bad.tsv');
  writeFileSync(bad, 'Ann\tfemale\nBob male\n');
  const r = run(['train', bad, '--task', 'classify', '--steps', '1']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /bad\.tsv:2: the line has no tab/);
});

test('--bidirectional is refused for generate with one line', () => {
  const r = run(['train', namesFile, '--task', 'generate', '--bidirectional', '--steps', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr.trim(), /^recurrent: --bidirectional .* cannot write one/);
});

test('classify: train, eval --json (accuracy, per label, confusion), eval --held-out, predict from a file and from stdin', () => {
  const out = join(dir, 'cls.safetensors');
  const t = run(['train', namesFile, '--task', 'classify', '--bidirectional', '--hidden', '16', '--steps', '40', '--out', out]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /held out \(60 examples\): accuracy \d\.\d{3}/);
  assert.match(
    t.stderr,
    /, seed 1, 1 thread, WebAssembly (relaxed )?SIMD kernels\n/,
    'an update on a few dozen names is too small for threads',
  );
  assert.ok(existsSync(out));
  const e = run(['eval', out, namesFile, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const j = JSON.parse(e.stdout) as Record<string, unknown>;
  assert.equal(j.task, 'classify');
  assert.equal(j.examples, 600);
  assert.ok(typeof j.accuracy === 'number' && j.accuracy > 0.5, `accuracy ${j.accuracy}`);
  assert.ok(typeof j.loss === 'number');
  const perClass = j.perClass as Record<string, { examples: number }>;
  assert.deepEqual(Object.keys(perClass).sort(), ['female', 'male']);
  assert.equal(perClass.female!.examples + perClass.male!.examples, 600);
  const confusion = j.confusion as number[][];
  assert.equal(
    confusion.flat().reduce((a, b) => a + b, 0),
    600,
  );
  const held = JSON.parse(run(['eval', out, namesFile, '--json', '--held-out']).stdout) as { examples: number };
  assert.equal(held.examples, 60, 'the 10% the run held out');
  const p = run(['predict', out, namesFile]);
  assert.equal(p.code, 0, p.stderr);
  const lines = p.stdout.trim().split('\n');
  assert.equal(lines.length, 600);
  assert.match(lines[0]!, /^(female|male)\t0\.\d{4}$/);
  assert.match(
    run(['train', namesFile, '--resume', out, '--steps', '1']).stderr,
    /holds a classify model: continue it with --task classify/,
  );
  const resumed = run(['train', namesFile, '--task', 'classify', '--resume', out, '--steps', '2', '--out', join(dir, 'cls2.safetensors')]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed at update 40/);
  assert.match(run(['info', out]).stdout, /labels \(2\): female, male; texts cut at 400 tokens, last pooling/);
  // Exported with training (pytorchTaskTraining.test.ts runs its train.py); the run's history says where it trained.
  const exported = run(['export', out, '--pytorch', join(dir, 'cls-torch'), '--text', 'names.tsv']);
  assert.equal(exported.code, 0, exported.stderr);
  for (const f of ['model.safetensors', 'model.py', 'train.py', 'README.md']) assert.ok(existsSync(join(dir, 'cls-torch', f)), f);
  assert.match(readFileSync(join(dir, 'cls-torch', 'README.md'), 'utf8'), /python train\.py names\.tsv --steps 1000/);
  assert.match(run(['info', out]).stdout, /updates 0-40 in Recurrent Studio: loss [\d.]+ bits\/example/);
  const s = run(['predict', out, '--top', '2'], 'Zoe\nAlexander\n');
  assert.match(s.stdout, /^(female|male)\t0\.\d{4}\t(female|male)\t0\.\d{4}\n(female|male)\t/);
});

test('generate: train, eval --json (bits per character), predict texts for labels; unknown characters are counted', () => {
  const out = join(dir, 'gen.safetensors');
  const t = run(['train', namesFile, '--task', 'generate', '--hidden', '16', '--steps', '40', '--sample-every', '0', '--out', out]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /held out \(60 examples\): \d\.\d{3} bits\/char/);
  const withUnknown = join(dir, 'unknown.tsv');
  writeFileSync(withUnknown, 'Zoë\tfemale\nAbel\tmale\n');
  const e = run(['eval', out, withUnknown, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const j = JSON.parse(e.stdout) as {
    task: string;
    examples: number;
    loss: number;
    bitsPerToken: number;
    tokens: number;
    unknown: { count: number };
  };
  assert.equal(j.task, 'generate');
  assert.equal(j.examples, 2);
  assert.ok(j.unknown.count >= 1, 'ë is not among the first 600 names');
  assert.ok(Math.abs(j.bitsPerToken - j.loss / Math.LN2) < 1e-12);
  assert.equal(run(['eval', out, withUnknown, '--unknown', 'error']).code, 1);
  const p = run(['predict', out, '--count', '3'], 'female\nmale\n');
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout.trim().split('\n').length, 6);
  assert.match(run(['sample', out]).stderr, /a generate model writes from a label's state: use recurrent predict/);
  const bad = run(['predict', out], 'neither\n');
  assert.match(bad.stderr, /knows no label "neither"/);
});

test('recurrent gradcheck --task checks the classify and generate networks, and refuses a bidirectional generator', () => {
  const c = run(['gradcheck', '--task', 'classify', '--bidirectional', '--cell', 'gru', '--hidden', '3', '--layers', '1']);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /classifier\.weight .*\nPASS: worst relative error/s);
  const g = run(['gradcheck', '--task', 'generate', '--cell', 'rnn', '--hidden', '3', '--layers', '1']);
  assert.equal(g.code, 0, g.stdout + g.stderr);
  assert.match(g.stdout, /label_embedding\.weight/);
  assert.match(run(['gradcheck', '--task', 'generate', '--bidirectional']).stderr, /cannot be trained to write text/);
});

// The first 600 words of the sample workspace's pronunciations (every 60th word of CMUdict).
const words = readFileSync(join(root, 'sample-workspace/pronunciations.tsv'), 'utf8').split('\n').slice(0, 600).join('\n') + '\n';
const wordsFile = join(dir, 'words.tsv');
writeFileSync(wordsFile, words);

test('translate: train, eval --json (word and token error rates, greedy and beam), eval --held-out, predict, info, resume', () => {
  const out = join(dir, 'g2p.safetensors');
  const t = run([
    'train',
    wordsFile,
    '--task',
    'translate',
    '--bidirectional',
    '--hidden',
    '16',
    '--steps',
    '30',
    '--eval-every',
    '15',
    '--out',
    out,
  ]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /sources 2\d char tokens, targets \d+ symbol tokens/);
  assert.match(t.stderr, /decoder lstm hidden 32 x 1 layer\(s\) from the encoder's final states/);
  // translate's training defaults, threads as many as the cores (classify and generate keep to one).
  const threads = automaticThreads(availableParallelism(), 0);
  assert.match(
    t.stderr,
    new RegExp(
      `training: batch 32, adam lr 0\\.004 \\(cosine schedule\\), clip norm 5, seed 1, ${threads} threads?, WebAssembly (relaxed )?SIMD kernels\n`,
    ),
  );
  assert.match(t.stderr, /held out \(60 examples\): word error [01]\.\d{3}, token error \d\.\d{3}, \d+\.\d{3} bits\/token/);
  const withUnknown = join(dir, 'unknown-words.tsv');
  writeFileSync(withUnknown, 'zoë\tZ OW1 IY0\nabel\tEY1 B AH0 L\n');
  for (const beam of [[], ['--beam', '3']]) {
    const e = run(['eval', out, withUnknown, '--json', ...beam]);
    assert.equal(e.code, 0, e.stderr);
    const j = JSON.parse(e.stdout) as Record<string, unknown> & { unknown: { count: number } };
    assert.equal(j.task, 'translate');
    assert.equal(j.examples, 2);
    assert.equal(j.beam, beam.length ? 3 : 1);
    for (const k of ['wordErrorRate', 'tokenErrorRate', 'loss', 'bitsPerToken']) assert.equal(typeof j[k], 'number', k);
    assert.ok((j.wordErrorRate as number) >= 0 && (j.wordErrorRate as number) <= 1);
    assert.equal(j.unknown.count, 1, 'ë is not among the sources');
  }
  assert.equal(run(['eval', out, withUnknown, '--unknown', 'error']).code, 1);
  const held = JSON.parse(run(['eval', out, wordsFile, '--json', '--held-out']).stdout) as { examples: number };
  assert.equal(held.examples, 60, 'the 10% the run held out');
  const p = run(['predict', out, '--beam', '2'], 'cat\nzoë\n');
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout.split('\n').length, 3, 'one line out per line in');
  const pj = run(['predict', out, '--json'], 'cat\n');
  assert.deepEqual(Object.keys(JSON.parse(pj.stdout) as object), ['text', 'translation', 'tokens', 'unknown']);
  assert.match(
    run(['info', out]).stdout,
    /source tokenizer char, vocabulary 2\d\ntarget tokenizer symbol, vocabulary \d+ \(the end token included\)/,
  );
  const resumed = run(['train', wordsFile, '--task', 'translate', '--resume', out, '--steps', '2', '--out', join(dir, 'g2p2.safetensors')]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed at update 30/);
  assert.match(run(['predict', out, '--beam', '2', '--top', '1'], 'x\n').stderr, /--top/);
  assert.match(run(['sample', out]).stderr, /translate model writes a text for a text: use recurrent predict/);
  // Exported with training too (pytorchTaskTraining.test.ts runs its train.py): model.py has the Translator.
  const exported = run(['export', out, '--pytorch', join(dir, 'g2p-torch'), '--text', 'words.tsv']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stderr, /back here: recurrent train words\.tsv --task translate --resume /);
  assert.match(readFileSync(join(dir, 'g2p-torch', 'model.py'), 'utf8'), /class Translator\(nn\.Module\)/);
  assert.match(readFileSync(join(dir, 'g2p-torch', 'README.md'), 'utf8'), /word and token error rates/);
  const g = run(['gradcheck', '--task', 'translate', '--bidirectional', '--cell', 'lstm', '--hidden', '2', '--layers', '1']);
  assert.equal(g.code, 0, g.stdout + g.stderr);
  assert.match(g.stdout, /encoder\.rnn\.weight_ih_l0_reverse .*decoder\.decoder\.weight .*\nPASS: worst relative error/s);
});

test('a task update that carries a weight past the float range saves nothing, and --out is left as it was', () => {
  // As for the language model (cli.test.ts): plain SGD at its largest step without clipping, from an
  // output layer of 3e37, so the loss is finite and the weights after the update are not.
  const sgd = ['--task', 'classify', '--hidden', '8', '--batch', '4', '--optimizer', 'sgd', '--lr', '100', '--clip', '0'];
  const good = join(dir, 'cls-good.safetensors');
  const t = run(['train', namesFile, ...sgd, '--steps', '1', '--eval-every', '0', '--out', good]);
  assert.equal(t.code, 0, t.stderr);
  const ck = decodeCheckpoint(readFileSync(good));
  const [name, head] = [...ck.tensors].find(([n]) => /weight/.test(n) && /head|out|classifier|decoder/.test(n))!;
  for (let i = 0; i < head.data.length; i++) head.data[i] = 3e37 * (((i * 7919) % 3) - 1);
  const huge = join(dir, 'cls-huge.safetensors');
  writeFileSync(huge, encodeCheckpoint(ck));
  const out = join(dir, 'cls-overflow-out.safetensors');
  writeFileSync(out, readFileSync(good));
  const before = readFileSync(out);
  const r = run(['train', namesFile, '--task', 'classify', '--resume', huge, '--steps', '10', '--out', out]);
  assert.equal(r.code, 1, `expected exit 1 (poisoned ${name}), got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /not finite: nothing was saved, .*cls-overflow-out\.safetensors is as it was/);
  assert.ok(readFileSync(out).equals(before), `${out} changed`);
});
