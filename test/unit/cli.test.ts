// The command line as a user runs it: real files, real processes, exit codes and the one line a
// user reads when something is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint.js';
import { formatKernels } from '../../src/cli/format.js';
import { autoThreads } from '../../src/cli/runOptions.js';
import { wasmKernelSet } from '../../src/engine/wasmKernels.js';
import { assertOneLineError, Background, fileIn, runIn, sampleText, suiteFolder } from './support/cli.js';

const dir = suiteFolder('cli');
const run = (...args: string[]) => runIn(dir, args);
const file = (name: string, content: string | Uint8Array): string => fileIn(dir, name, content);

const text = sampleText();
const corpus = file('corpus.txt', text);

test('an empty file is refused with one line', () => {
  assertOneLineError(run('train', file('empty.txt', '')), /empty\.txt is empty/);
});

test('a binary file is refused with one line', () => {
  assertOneLineError(run('train', file('bin.dat', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]))), /looks binary/);
});

test('a file of one repeated character is refused with one line', () => {
  assertOneLineError(run('train', file('aaa.txt', 'a'.repeat(500))), /one|single|symbol/i);
});

test('a missing file and a missing checkpoint are named', () => {
  assertOneLineError(run('train', join(dir, 'nope.txt')), /nope\.txt: no such file/);
  assertOneLineError(run('sample', join(dir, 'nope.safetensors')), /no checkpoint at .*nope\.safetensors/);
});

test('a corrupt checkpoint is refused with one line that says what is wrong', () => {
  assertOneLineError(run('info', file('bad.safetensors', new Uint8Array([200, 0, 0, 0, 0, 0, 0, 0, 123]))), /truncated|header/i);
});

test('nonsense option values are refused naming the option', () => {
  assertOneLineError(run('train', corpus, '--hidden', 'lots'), /--hidden must be a whole number/);
  assertOneLineError(run('train', corpus, '--cell', 'transformer'), /--cell must be one of rnn, lstm, gru/);
  assertOneLineError(run('train', corpus, '--k1', '10', '--k2', '5'), /k2 \(5\) must be at least k1 \(10\)/);
  assertOneLineError(run('train', corpus, '--bogus', '1'), /bogus/);
  assertOneLineError(
    run('sample', corpus, '--temperature', '-1'),
    /--temperature' argument is ambiguous: write a negative value as --option=-1/,
  );
  assertOneLineError(run('sample', corpus, '--temperature=-1'), /--temperature must be a number/);
});

test('--threads takes auto or 1 to 16 and nothing else', () => {
  assertOneLineError(run('train', corpus, '--threads', '0'), /^recurrent: --threads must be auto or a whole number from 1 to 16, got "0"$/);
  assertOneLineError(run('train', corpus, '--threads', '17'), /--threads must be auto or a whole number from 1 to 16, got "17"/);
  assertOneLineError(run('train', corpus, '--threads', 'many'), /--threads must be auto or a whole number from 1 to 16, got "many"/);
  assertOneLineError(run('train', corpus, '--threads', '1.5'), /--threads must be auto or a whole number from 1 to 16, got "1\.5"/);
});

test('auto threads: one per core, at most 4', () => {
  assert.deepEqual([1, 2, 3, 4, 8, 64].map(autoThreads), [1, 2, 3, 4, 4, 4]);
  assert.equal(autoThreads(0), 1, 'a machine reporting no cores still trains');
});

test("training reports its threads and kernels; a resumed run takes this machine's count, not the checkpoint's", () => {
  const short = ['--cell', 'gru', '--hidden', '16', '--seq', '8', '--steps', '4', '--sample-every', '0'];
  const out = join(dir, 'threads.safetensors');
  const two = run('train', corpus, ...short, '--batch', '4', '--threads', '2', '--out', out);
  assert.equal(two.code, 0, two.stderr);
  // The command runs on this very Node (process.execPath), so it picks the kernels this process would.
  assert.ok(two.stderr.includes(`seed 1, 2 threads, ${formatKernels(wasmKernelSet() ?? undefined)}\n`), two.stderr);
  // The engine runs no more threads than the batch has streams.
  const one = run('train', corpus, ...short, '--batch', '1', '--threads', '4', '--out', join(dir, 'threads1.safetensors'));
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stderr, /seed 1, 1 thread, WebAssembly (relaxed )?SIMD kernels\n/);

  const resumed = run(
    'train',
    corpus,
    '--resume',
    out,
    '--threads',
    '1',
    '--steps',
    '2',
    '--sample-every',
    '0',
    '--out',
    join(dir, 'resumed.safetensors'),
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /seed 1, 1 thread, WebAssembly (relaxed )?SIMD kernels, resumed at update 4\n/);
  const auto = run('train', corpus, '--resume', out, '--steps', '2', '--sample-every', '0', '--out', join(dir, 'resumed.safetensors'));
  assert.equal(auto.code, 0, auto.stderr);
  const n = Math.min(4, availableParallelism(), 4 /* the batch */);
  assert.match(auto.stderr, new RegExp(`seed 1, ${n} threads?, WebAssembly (relaxed )?SIMD kernels, resumed at update 4\n`));
});

test('train, info, eval and sample work together on real files', () => {
  const out = join(dir, 'model.safetensors');
  const t = run(
    'train',
    corpus,
    '--cell',
    'gru',
    '--hidden',
    '24',
    '--batch',
    '4',
    '--seq',
    '16',
    '--steps',
    '30',
    '--sample-every',
    '0',
    '--out',
    out,
  );
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /validation [\d.]+ -> [\d.]+ bits\/char/);
  assert.ok(existsSync(out), 'no checkpoint written');

  const info = run('info', out, '--json');
  assert.equal(info.code, 0, info.stderr);
  const parsed = JSON.parse(info.stdout) as { config: { cell: string; hidden: number }; updates: number };
  assert.equal(parsed.config.cell, 'gru');
  assert.equal(parsed.config.hidden, 24);
  assert.equal(parsed.updates, 30);

  const e = run('eval', out, corpus, '--json');
  assert.equal(e.code, 0, e.stderr);
  const r = JSON.parse(e.stdout) as { tokens: number; loss: number; bitsPerToken: number; perToken: number[] };
  assert.equal(r.tokens, [...text].length);
  assert.equal(r.perToken.length, r.tokens - 1);
  const mean = r.perToken.reduce((a, b) => a + b, 0) / r.perToken.length;
  assert.ok(Math.abs(mean - r.loss) < 1e-9, `loss ${r.loss} is not the mean of perToken (${mean})`);
  assert.ok(Math.abs(r.bitsPerToken - r.loss / Math.LN2) < 1e-12);

  const a = run('sample', out, '--length', '60', '--seed', '7', '--prime', 'The ');
  const b = run('sample', out, '--length', '60', '--seed', '7', '--prime', 'The ');
  const c = run('sample', out, '--length', '60', '--seed', '8', '--prime', 'The ');
  assert.equal(a.code, 0, a.stderr);
  assert.ok(a.stdout.startsWith('The '), `sample should echo its prime, got ${JSON.stringify(a.stdout.slice(0, 20))}`);
  assert.equal(a.stdout, b.stdout, 'the same seed gave different text');
  assert.notEqual(a.stdout, c.stdout, 'different seeds gave the same text');
});

test('export --pytorch writes the folder once, refuses to replace it without --force; --metrics and info tell the run', () => {
  const out = join(dir, 'export-me.safetensors');
  const metrics = join(dir, 'export-me.jsonl');
  const t = run(
    'train',
    corpus,
    '--hidden',
    '16',
    '--batch',
    '4',
    '--seq',
    '16',
    '--steps',
    '12',
    '--eval-every',
    '5',
    '--sample-every',
    '0',
    '--out',
    out,
    '--metrics',
    metrics,
  );
  assert.equal(t.code, 0, t.stderr);
  const lines = readFileSync(metrics, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step?: number; update?: number; by?: string });
  assert.deepEqual([lines[0]!.type, lines[0]!.update, lines[0]!.by], ['start', 0, 'recurrent-studio']);
  assert.deepEqual(
    lines.filter((l) => l.type === 'metrics').map((l) => l.step),
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
  assert.ok(lines.filter((l) => l.type === 'validation').length >= 2, 'the validations before and after training');

  const folder = join(dir, 'torch');
  const e = run('export', out, '--pytorch', folder, '--text', 'corpus.txt');
  assert.equal(e.code, 0, e.stderr);
  for (const name of ['model.safetensors', 'model.py', 'train.py', 'README.md']) assert.ok(existsSync(join(folder, name)), `no ${name}`);
  assert.deepEqual(
    decodeCheckpoint(readFileSync(join(folder, 'model.safetensors'))),
    decodeCheckpoint(readFileSync(out)),
    'the checkpoint as it was',
  );
  assert.match(readFileSync(join(folder, 'README.md'), 'utf8'), /python train\.py corpus\.txt --steps 1000/);
  assertOneLineError(run('export', out, '--pytorch', folder), /already has model\.safetensors, model\.py, train\.py, README\.md.*--force/);
  assert.equal(run('export', out, '--pytorch', folder, '--force').code, 0);
  assertOneLineError(run('export', out), /--pytorch DIR/);
  assertOneLineError(run('export', out, '--pytorch', corpus), /is a file, not a folder/);

  const info = run('info', out);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /updates 0-12 in Recurrent Studio: loss [\d.]+ bits\/char, validation [\d.]+/);
});

test('eval scores held-out text with characters the model never saw: left out, counted, null in perToken; --unknown error refuses', () => {
  const out = join(dir, 'unknown.safetensors');
  const t = run(
    'train',
    corpus,
    '--cell',
    'rnn',
    '--hidden',
    '16',
    '--batch',
    '2',
    '--seq',
    '8',
    '--steps',
    '20',
    '--sample-every',
    '0',
    '--out',
    out,
  );
  assert.equal(t.code, 0, t.stderr);
  const held = file('held.txt', 'The \u2019new\u2019 world.\r\nThe end.');
  const e = run('eval', out, held, '--json');
  assert.equal(e.code, 0, e.stderr);
  const r = JSON.parse(e.stdout) as {
    tokens: number;
    scored: number;
    loss: number;
    unknown: { count: number; symbols: Record<string, number>; positions: number[] };
    perToken: Array<number | null>;
  };
  assert.equal(r.tokens, 26);
  assert.deepEqual(r.unknown, { count: 3, symbols: { '\u2019': 2, '\r': 1 }, positions: [4, 8, 16] });
  assert.equal(r.scored, 22);
  assert.deepEqual(
    r.perToken.map((v, i) => (v === null ? i + 1 : -1)).filter((i) => i >= 0),
    [4, 8, 16],
    'perToken[i-1] is null exactly where t_i is unknown',
  );
  const known = r.perToken.filter((v): v is number => v !== null);
  assert.ok(Math.abs(known.reduce((a, b) => a + b, 0) / known.length - r.loss) < 1e-9, 'loss is the mean of the scored tokens');
  const plain = run('eval', out, held);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^26 tokens \(3 unknown, not scored: "\u2019" x2, "\\r" x1\): loss [\d.]+ nats/);
  assertOneLineError(
    run('eval', out, held, '--unknown', 'error'),
    /3 character\(s\) are not in the model's vocabulary, the first "\u2019" \(U\+2019\) at offset 4/,
  );
});

test('--val-share 0 trains without a validation column and says there was no validation', () => {
  const t = run(
    'train',
    corpus,
    '--cell',
    'rnn',
    '--hidden',
    '8',
    '--seq',
    '8',
    '--steps',
    '5',
    '--val-share',
    '0',
    '--sample-every',
    '0',
    '--out',
    join(dir, 'noval.safetensors'),
  );
  assert.equal(t.code, 0, t.stderr);
  assert.doesNotMatch(t.stderr, /val NaN|NaN bits/);
  assert.match(t.stderr, /no validation \(--val-share 0\)/);
});

test('a run that diverges says so, exits 3, and does not replace the checkpoint already at --out', () => {
  const out = join(dir, 'keep.safetensors');
  const good = run(
    'train',
    corpus,
    '--cell',
    'rnn',
    '--hidden',
    '16',
    '--batch',
    '2',
    '--seq',
    '8',
    '--steps',
    '5',
    '--sample-every',
    '0',
    '--out',
    out,
  );
  assert.equal(good.code, 0, good.stderr);
  const before = readFileSync(out);
  // Plain SGD at 10 without clipping: the loss stays finite while the held-out score climbs far past the unigram entropy.
  const args = ['--cell', 'rnn', '--hidden', '16', '--batch', '2', '--seq', '8', '--optimizer', 'sgd', '--lr', '10', '--clip', '0'];
  const r = run('train', corpus, ...args, '--steps', '200', '--sample-every', '0', '--out', out);
  assert.equal(r.code, 3, `expected exit 3, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /the run diverged: held-out loss [\d.]+ bits\/char is worse than the unigram entropy/);
  assert.match(r.stderr, /keep\.safetensors was left as it was/);
  assert.ok(readFileSync(out).equals(before), 'the earlier checkpoint is untouched');
  assert.ok(existsSync(join(dir, 'keep.diverged.safetensors')), 'the diverged run is saved beside it');
});

test('a loss that turns non-finite stops training, says at which update, and keeps a checkpoint', () => {
  // Bounded cells with a max-shifted softmax do not overflow from a large learning rate alone, so
  // the NaN comes the way it does reach users: a run resumed from weights that already hold one.
  const good = join(dir, 'good.safetensors');
  const t = run(
    'train',
    corpus,
    '--cell',
    'rnn',
    '--hidden',
    '16',
    '--batch',
    '2',
    '--seq',
    '8',
    '--steps',
    '3',
    '--sample-every',
    '0',
    '--out',
    good,
  );
  assert.equal(t.code, 0, t.stderr);
  const ck = decodeCheckpoint(readFileSync(good));
  // Finite weights whose logits overflow: the loss is NaN, the weights are still a state to keep.
  ck.tensors.get('decoder.weight')!.data.fill(3e38, 0, 64);
  const poisoned = file('poisoned.safetensors', encodeCheckpoint(ck));
  const out = join(dir, 'nan.safetensors');
  const r = run('train', corpus, '--resume', poisoned, '--steps', '10', '--sample-every', '0', '--out', out);
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /loss became (NaN|Infinity|-Infinity) at update \d+/);
  assert.match(r.stderr, /kept the last good state/);
  assert.ok(existsSync(out), 'the last good checkpoint was not kept');
  const kept = decodeCheckpoint(readFileSync(out));
  assert.ok(
    [...kept.tensors.values()].every((t) => t.data.every((v) => Number.isFinite(v))),
    'the last good state holds only finite numbers',
  );
});

test('an update that carries a weight past the float range saves nothing, and --out is left as it was', () => {
  // Plain SGD at its largest step without clipping, from finite weights large enough that one
  // update overflows float32 (3e37; 1e38 overflows the loss itself): the loss was finite, the weights after the update are not.
  const sgd = ['--cell', 'rnn', '--hidden', '16', '--batch', '2', '--seq', '8', '--optimizer', 'sgd', '--lr', '100', '--clip', '0'];
  const good = join(dir, 'good-for-overflow.safetensors');
  const t = run('train', corpus, ...sgd, '--steps', '1', '--sample-every', '0', '--out', good);
  assert.ok(t.code === 0 || t.code === 3, t.stderr); // one step at lr 100 may already count as diverged
  const ck = decodeCheckpoint(readFileSync(good));
  const w = ck.tensors.get('decoder.weight')!.data;
  for (let i = 0; i < w.length; i++) w[i] = 3e37 * (((i * 7919) % 3) - 1);
  const huge = file('huge-weights.safetensors', encodeCheckpoint(ck));
  const out = join(dir, 'overflow-out.safetensors');
  writeFileSync(out, readFileSync(good));
  const before = readFileSync(out);
  const r = run('train', corpus, '--resume', huge, '--steps', '10', '--sample-every', '0', '--threads', '1', '--out', out);
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /not finite: nothing was saved, .*overflow-out\.safetensors is as it was/);
  assert.ok(readFileSync(out).equals(before), `${out} changed`);
});

test('gradcheck passes for every cell and fails loudly when the tolerance is impossible', () => {
  const ok = run('gradcheck', '--hidden', '3', '--layers', '1', '--steps', '4', '--batch', '2');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /PASS: worst relative error/);
  const strict = run(
    'gradcheck',
    '--cell',
    'rnn',
    '--hidden',
    '3',
    '--layers',
    '1',
    '--steps',
    '4',
    '--batch',
    '2',
    '--tolerance',
    '1e-30',
  );
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /FAIL/);
});

test('Ctrl+C during training saves a checkpoint and exits 130', async () => {
  const out = join(dir, 'interrupted.safetensors');
  const p = new Background(dir, [
    'train',
    corpus,
    '--hidden',
    '16',
    '--batch',
    '2',
    '--seq',
    '8',
    '--time',
    '5m',
    '--sample-every',
    '0',
    '--out',
    out,
  ]);
  // Interrupt once it is really training, not while it is still loading.
  await p.waitFor(/update \d+/);
  p.child.kill('SIGINT');
  const { code } = await p.exited;
  assert.equal(code, 130, `expected exit 130 after Ctrl+C, got ${code}: ${p.stderr}`);
  assert.match(p.stderr, /stopped by SIGINT: [\d,]+ updates/);
  assert.ok(existsSync(out), 'no checkpoint after Ctrl+C');
  const info = run('info', out, '--json');
  assert.ok((JSON.parse(info.stdout) as { updates: number }).updates > 0);
});
