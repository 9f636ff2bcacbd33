// The long form of issue 13's "Done when": a `recurrent train` on sotu.txt of the given length, with the
// default autosave (every 2 minutes), killed at a random moment by a real signal; what the checkpoint on
// disk then holds, against what the run had done when it was killed. SIGTERM must lose nothing (it saves
// where it stops); SIGKILL (what the OOM killer sends) at most the time since the last autosave. The unit
// suite (test/unit/cliFaults.test.ts) checks the same with a 1 s interval in seconds; this is the
// 30-minute version, run by hand:
//
//   node bench/killedRun.mjs [--minutes 30] [--signal SIGTERM|SIGKILL] [--threads 1] [--seed N]
//
// Prints the figures and one JSON line. Needs `npm run build` (it runs dist/cli.cjs, as `npx recurrent` does).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sotuText } from '../scripts/sotu.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.cjs');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const minutes = Number(option('minutes', '30'));
const signal = option('signal', 'SIGTERM');
const threads = option('threads', '1');
const seed = Number(option('seed', String(Date.now() % 100000)));
// A random moment between a tenth of the run and its end, from the seed so a run can be repeated.
const killAtMs = Math.round((0.1 + 0.9 * ((Math.sin(seed) + 1) / 2)) * minutes * 60_000);

const dir = mkdtempSync(join(tmpdir(), 'recurrent-killed-'));
const corpus = join(dir, 'sotu.txt');
writeFileSync(corpus, sotuText());
const out = join(dir, 'sotu.safetensors');

const started = Date.now();
const child = spawn(process.execPath, [cli, 'train', corpus, '--time', `${minutes}m`, '--threads', threads, '--out', out], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
/** Each line of stderr with the moment it arrived. */
const lines = [];
let pending = '';
child.stderr.on('data', (d) => {
  pending += d.toString();
  const parts = pending.split('\n');
  pending = parts.pop();
  for (const line of parts) lines.push({ atMs: Date.now() - started, line });
});
const timer = setTimeout(() => {
  killedAtMs = Date.now() - started;
  child.kill(signal);
}, killAtMs);
let killedAtMs = null;
const [code, ended] = await new Promise((r) => child.on('exit', (c, s) => r([c, s])));
clearTimeout(timer);

const number = (s) => Number(s.replace(/,/g, ''));
const autosaves = lines.flatMap(({ atMs, line }) => {
  const m = /^autosaved update ([\d,]+) to /.exec(line);
  return m && (killedAtMs === null || atMs <= killedAtMs) ? [{ atMs, update: number(m[1]) }] : [];
});
const progress = lines.flatMap(({ atMs, line }) => {
  const m = /^update ([\d,]+) /.exec(line);
  return m && (killedAtMs === null || atMs <= killedAtMs) ? [{ atMs, update: number(m[1]) }] : [];
});
const info = spawnSync(process.execPath, [cli, 'info', out, '--json'], { encoding: 'utf8' });
const saved = info.status === 0 ? JSON.parse(info.stdout).updates : null;
const lastAutosave = autosaves.at(-1) ?? null;
// Updates done when killed: from the last progress line (every 5 s) and the rate since the one before.
const last = progress.at(-1);
const before = progress.at(-2);
const rate = last && before ? (last.update - before.update) / (last.atMs - before.atMs) : 0;
const doneAtKill = last && killedAtMs !== null ? Math.round(last.update + rate * (killedAtMs - last.atMs)) : null;
const result = {
  minutes,
  signal,
  threads: Number(threads),
  seed,
  killedAtS: killedAtMs === null ? null : killedAtMs / 1000,
  exit: code ?? ended,
  autosaves: autosaves.length,
  lastAutosave: lastAutosave && { atS: lastAutosave.atMs / 1000, update: lastAutosave.update },
  sinceLastAutosaveS: lastAutosave && killedAtMs !== null ? (killedAtMs - lastAutosave.atMs) / 1000 : null,
  updatesAtKill: doneAtKill,
  savedUpdate: saved,
  lostUpdates: doneAtKill !== null && saved !== null ? Math.max(0, doneAtKill - saved) : null,
  lostS: doneAtKill !== null && saved !== null && rate > 0 ? Math.max(0, doneAtKill - saved) / rate / 1000 : null,
};
console.log(
  `killed by ${signal} at ${result.killedAtS} s of ${minutes} min (exit ${result.exit}); ${result.autosaves} autosaves, the last at ` +
    `${result.lastAutosave?.atS ?? '-'} s (update ${result.lastAutosave?.update ?? '-'}), ${result.sinceLastAutosaveS ?? '-'} s before the kill; ` +
    `about ${result.updatesAtKill} updates done, ${result.savedUpdate} on disk: ${result.lostUpdates} lost (${result.lostS?.toFixed(1) ?? '-'} s of training)`,
);
console.log(JSON.stringify(result));
