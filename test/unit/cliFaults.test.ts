// The command line under faults, each done for real (issue 13): real signals to a real training process,
// a terminal that really closes, a real full disk (a 2 MB tmpfs, as root), real pipes closed by their
// reader, files a real non-root user cannot read or write, a real sparse 3 GB file, a save really killed
// with SIGKILL. What must hold: nothing is lost but the time since the last autosave, every problem that
// can be seen before training is refused before the first update with one line, and no stack trace.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint.js';
import { assertOneLineError, Background, cli, fileIn, root, runIn, sampleText, suiteFolder, type Result } from './support/cli.js';

const dir = suiteFolder('faults');
const run = (...args: string[]): Result => runIn(dir, args);
const file = (name: string, content: string | Uint8Array): string => fileIn(dir, name, content);
const text = sampleText();
const corpus = file('corpus.txt', text);
/** A small model that trains many updates a second. */
const SMALL = ['--cell', 'rnn', '--hidden', '16', '--batch', '2', '--seq', '8', '--sample-every', '0', '--threads', '1'];
const isRoot = process.getuid?.() === 0;

function updatesIn(checkpoint: string): number {
  const info = run('info', checkpoint, '--json');
  assert.equal(info.code, 0, info.stderr);
  return (JSON.parse(info.stdout) as { updates: number }).updates;
}

/** A checkpoint trained for a few updates, made once. */
let trained: string | undefined;
function smallCheckpoint(): string {
  if (trained) return trained;
  const out = join(dir, 'small.safetensors');
  const r = run('train', corpus, ...SMALL, '--steps', '5', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  return (trained = out);
}

// ---- signals -----------------------------------------------------------------------------------------

/** A run stopped by `signal` saved its updates; the status is what a shell shows as $? (128 + the signal's number). */
async function stopWith(signal: 'SIGTERM' | 'SIGHUP'): Promise<{ stderr: string; code: number | null; ended: NodeJS.Signals | null }> {
  const out = join(dir, `${signal}.safetensors`);
  const p = new Background(dir, ['train', corpus, ...SMALL, '--time', '10m', '--out', out]);
  await p.waitFor(/update \d+/);
  p.child.kill(signal);
  const { code, signal: ended } = await p.exited;
  assert.match(p.stderr, new RegExp(`${signal}: stopping after this update and saving`));
  assert.match(p.stderr, new RegExp(`stopped by ${signal}: [\\d,]+ updates`));
  assert.doesNotMatch(p.stderr, /\n\s+at /);
  assert.ok(updatesIn(out) > 0, 'the checkpoint holds the updates made');
  return { stderr: p.stderr, code, ended };
}

test('SIGTERM during training saves a checkpoint like Ctrl+C and exits 143', async () => {
  const r = await stopWith('SIGTERM');
  assert.equal(r.code, 143, r.stderr);
});

test('SIGHUP during training saves a checkpoint like Ctrl+C, then ends as killed by SIGHUP (129 in a shell)', async () => {
  const r = await stopWith('SIGHUP');
  assert.equal(r.ended, 'SIGHUP', `expected the run to end by SIGHUP once saved, got ${r.code} ${r.ended}: ${r.stderr}`);
});

/** Runs argv under a new pseudo-terminal, closes the terminal once `ready` shows, and returns the exit status. */
const PTY_HELPER = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
buf = b''
while sys.argv[1].encode() not in buf:
    r, _, _ = select.select([fd], [], [], 120)
    chunk = os.read(fd, 4096) if r else b''
    if not chunk:
        sys.exit('no ' + sys.argv[1] + ' before the terminal output ended: ' + buf.decode(errors='replace'))
    buf += chunk
os.close(fd)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
`;

test('closing the terminal a run trains in (a real hang-up) saves its checkpoint', (t: TestContext) => {
  const python = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' });
  if (python.status !== 0) {
    t.skip('python3 with its pty module is needed to open a pseudo-terminal');
    return;
  }
  const out = join(dir, 'hangup.safetensors');
  const r = spawnSync(
    'python3',
    ['-c', PTY_HELPER, 'update ', process.execPath, cli, 'train', corpus, ...SMALL, '--time', '10m', '--out', out],
    {
      cwd: dir,
      encoding: 'utf8',
      timeout: 180_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  // The kernel sent SIGHUP and the terminal is gone, so nothing can be printed: the status and the file say it all.
  // -1 is Python's "killed by signal 1" (SIGHUP, what a shell shows as 129); -6 would be Node aborting (SIGABRT).
  assert.equal(r.stdout.trim(), '-1', `expected the run to end by SIGHUP after saving, got ${r.stdout}`);
  assert.ok(updatesIn(out) > 0, 'the checkpoint holds the updates made before the terminal closed');
});

test('a second signal before the run has saved ends it at once, without saving', async () => {
  const out = join(dir, 'twice.safetensors');
  const p = new Background(dir, ['train', corpus, ...SMALL, '--time', '10m', '--save-every', '0', '--out', out]);
  await p.waitFor(/update \d+/);
  // Both arrive before the training loop next looks up (it yields to signals every 50 ms). Two different
  // signals, since a second pending SIGINT would merge with the first; either may be handled first.
  p.child.kill('SIGINT');
  p.child.kill('SIGTERM');
  const { code } = await p.exited;
  const second = code === 130 ? 'SIGINT' : 'SIGTERM';
  assert.ok(code === 130 || code === 143, `expected the status of the second signal, got ${code}: ${p.stderr}`);
  assert.match(p.stderr, new RegExp(`${second} again: stopped at once, without saving\\n$`));
  assert.ok(!existsSync(out), 'nothing was saved');
});

// ---- autosave --------------------------------------------------------------------------------------

test('a run killed outright (SIGKILL, as the OOM killer does) keeps its last autosave, at most one interval old', async () => {
  const out = join(dir, 'killed.safetensors');
  const intervalMs = 1000;
  const p = new Background(dir, ['train', corpus, ...SMALL, '--time', '10m', '--save-every', '1s', '--out', out]);
  const seen: number[] = [];
  // Each autosave's update and when it was announced; kill at a random moment after the second one.
  await p.waitFor(/autosaved update [\d,]+ to .*\n[^]*autosaved update [\d,]+ to /);
  await new Promise((r) => setTimeout(r, Math.random() * intervalMs));
  p.child.kill('SIGKILL');
  const { signal } = await p.exited;
  assert.equal(signal, 'SIGKILL');
  for (const m of p.all(/autosaved update ([\d,]+) to /g)) seen.push(Number(m[1]!.replace(/,/g, '')));
  assert.ok(seen.length >= 2, `expected two autosaves at least, got ${seen.length}`);
  assert.ok(
    seen.every((u, i) => i === 0 || u > seen[i - 1]!),
    `autosaves move forward: ${seen}`,
  );
  // The file is the last announced autosave, or a later one whose line the kill cut off: never older, never half written.
  const onDisk = updatesIn(out);
  assert.ok(onDisk >= seen.at(-1)!, `the checkpoint holds update ${onDisk}, older than the last autosave ${seen.at(-1)}`);
  // It resumes exactly where that autosave was.
  const resumed = run(
    'train',
    corpus,
    '--resume',
    out,
    '--steps',
    '1',
    '--sample-every',
    '0',
    '--out',
    join(dir, 'after-kill.safetensors'),
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resumed at update ${onDisk}\\n`));
});

test('--save-every takes a duration or 0, and says in the header how often it saves', () => {
  assertOneLineError(run('train', corpus, '--save-every', 'often'), /--save-every must be a duration such as 30, 90s, 5m or 1h/);
  const r = run('train', corpus, ...SMALL, '--steps', '3', '--save-every', '0', '--out', join(dir, 'nosave.safetensors'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /checkpoint: .*nosave\.safetensors\n/);
  const d = run('train', corpus, ...SMALL, '--steps', '3', '--out', join(dir, 'default-save.safetensors'));
  assert.match(d.stderr, /checkpoint: .*default-save\.safetensors, saved every 2m00s\n/);
});

// ---- --out, checked before the first update ----------------------------------------------------------

test('--out in a missing folder, under a file, or naming a folder or a device is refused before training', () => {
  const before = (r: Result): void => assert.doesNotMatch(r.stderr, /update \d/, 'refused only after training started');
  let r = run('train', corpus, ...SMALL, '--steps', '3', '--out', join(dir, 'no', 'such', 'x.safetensors'));
  assertOneLineError(r, /cannot write a checkpoint to .*x\.safetensors: its folder does not exist/);
  before(r);
  r = run('train', corpus, ...SMALL, '--steps', '3', '--out', join(corpus, 'x.safetensors'));
  assertOneLineError(r, /cannot write a checkpoint to .*: (a part of its path is not a folder|.* is not a folder)/);
  r = run('train', corpus, ...SMALL, '--steps', '3', '--out', dir);
  assertOneLineError(r, /--out .* is a folder; name a file in it/);
  r = run('train', corpus, ...SMALL, '--steps', '3', '--out', '/dev/null');
  assertOneLineError(r, /--out \/dev\/null is a device or a pipe/);
  assert.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a device');
});

test('--out equal to the training text is refused, even with --force, and the text is untouched', () => {
  const own = file('own.txt', text);
  for (const extra of [[], ['--force']]) {
    const r = run('train', own, ...SMALL, '--steps', '3', '--out', own, ...extra);
    assertOneLineError(r, /--out .*own\.txt is the training text: the checkpoint would replace it/);
  }
  // Under another name too (a relative path, through a symbolic link to it).
  execFileSync('ln', ['-sf', own, join(dir, 'link.txt')]);
  assertOneLineError(run('train', own, ...SMALL, '--steps', '3', '--out', 'link.txt'), /is the training text/);
  assert.equal(readFileSync(own, 'utf8'), text);
});

test('an existing --out that is not a checkpoint is replaced only with --force', () => {
  const notes = file('notes.md', '# my notes\n');
  const r = run('train', corpus, ...SMALL, '--steps', '3', '--out', notes);
  assertOneLineError(r, /--out .*notes\.md exists and is not a checkpoint.*add --force to replace it/);
  assert.equal(readFileSync(notes, 'utf8'), '# my notes\n');
  const forced = run('train', corpus, ...SMALL, '--steps', '3', '--out', notes, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(updatesIn(notes), 3);
  // A checkpoint is replaced without --force, as it always was.
  const again = run('train', corpus, ...SMALL, '--steps', '2', '--out', notes);
  assert.equal(again.code, 0, again.stderr);
});

/** setpriv's arguments that run node as the unprivileged user nobody (root can read and write anything). */
const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath];

/** Runs the CLI as nobody. */
function runAsNobody(args: string[]): Result {
  const r = spawnSync('setpriv', [...AS_NOBODY, cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function nobodyUnavailable(): string | null {
  if (!isRoot) return 'running as another user needs root (here: setpriv to nobody)';
  const probe = spawnSync('setpriv', [...AS_NOBODY, '-e', 'process.exit(0)']);
  if (probe.status !== 0) return 'setpriv cannot run node as nobody here';
  // A checkout inside a folder only its owner may enter (mktemp -d makes one) is out of nobody's reach.
  const read = spawnSync('setpriv', [...AS_NOBODY, '-e', `require('fs').accessSync(${JSON.stringify(cli)})`]);
  return read.status === 0 ? null : `nobody cannot read ${cli}: a folder above the checkout is closed to other users`;
}

test('as a user who may not write there, --out is refused before training, and an unreadable text or checkpoint is named', (t) => {
  const why = nobodyUnavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const locked = join(dir, 'locked');
  mkdirSync(locked, { recursive: true });
  chmodSync(locked, 0o555);
  let r = runAsNobody(['train', corpus, ...SMALL, '--steps', '3', '--out', join(locked, 'x.safetensors')]);
  assertOneLineError(r, /cannot write a checkpoint to .*locked\/x\.safetensors: permission denied/);
  assert.doesNotMatch(r.stderr, /update \d/);

  const secret = file('secret.txt', text);
  chmodSync(secret, 0o600);
  r = runAsNobody(['train', secret, ...SMALL, '--steps', '3', '--out', join(dir, 'secret.safetensors')]);
  assertOneLineError(r, /^recurrent: cannot read .*secret\.txt: permission denied$/);
  const ck = file('secret.safetensors', readFileSync(smallCheckpoint()));
  chmodSync(ck, 0o600);
  r = runAsNobody(['sample', ck]);
  assertOneLineError(r, /^recurrent: cannot read the checkpoint .*secret\.safetensors: permission denied$/);
});

/** Mounts a 2 MB tmpfs at a new folder, or says why it cannot. */
function smallDisk(name: string): { path: string; unmount(): void } | string {
  if (!isRoot) return 'mounting a small tmpfs needs root';
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', path], { encoding: 'utf8' });
  if (m.status !== 0) return `this machine does not allow mounting a tmpfs: ${(m.stderr || m.error?.message || '').trim()}`;
  return { path, unmount: () => void spawnSync('umount', ['-l', path]) };
}

/** Fills the disk holding `path` until it refuses another byte. */
function fill(path: string): void {
  try {
    writeFileSync(path, new Uint8Array(4 * 1024 * 1024));
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
}

test('a disk without room for the checkpoint is refused before training (a real full tmpfs)', (t) => {
  const disk = smallDisk('full-before');
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  try {
    fill(join(disk.path, 'filler'));
    const r = run('train', corpus, ...SMALL, '--steps', '3', '--out', join(disk.path, 'x.safetensors'));
    assertOneLineError(
      r,
      /cannot write a checkpoint to .*x\.safetensors: (its disk has [\d.]+ MB free and a checkpoint of this model takes [\d.]+ MB|the disk is full)/,
    );
    assert.doesNotMatch(r.stderr, /update \d/);
    assert.deepEqual(readdirSync(disk.path), ['filler'], 'nothing is left behind on the full disk');
  } finally {
    disk.unmount();
  }
});

test('a disk that fills up while the run trains: the autosave says so and training goes on; the last save says what is kept', async (t) => {
  const disk = smallDisk('full-during');
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  const out = join(disk.path, 'run.safetensors');
  const filler = join(disk.path, 'filler');
  const p = new Background(dir, ['train', corpus, ...SMALL, '--time', '10m', '--save-every', '1s', '--out', out]);
  try {
    const first = Number((await p.waitFor(/autosaved update ([\d,]+) to /))[1]!.replace(/,/g, ''));
    fill(filler);
    await p.waitFor(
      /autosave failed: cannot write a checkpoint to .*run\.safetensors: the disk is full; training goes on, the autosave of update [\d,]+ stands/,
    );
    const kept = updatesIn(out);
    assert.ok(kept >= first, 'the earlier autosave is intact');
    rmSync(filler);
    const n = p.all(/autosaved update/g).length;
    await p.waitFor(new RegExp(`(autosaved update [\\d,]+ to [^\\n]*\\n[^]*){${n + 1}}`));
    // Full again when the run ends: its last save fails, and it says which update the file holds.
    fill(filler);
    await p.waitFor(/autosave failed/);
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 1, p.stderr);
    assert.match(
      p.stderr,
      /recurrent: cannot write a checkpoint to .*: the disk is full; update [\d,]+ is lost, .*run\.safetensors holds the autosave of update [\d,]+\n$/,
    );
    assert.ok(updatesIn(out) > 0);
    assert.deepEqual(readdirSync(disk.path).sort(), ['filler', 'run.safetensors'], 'no temporary file is left on the disk');
  } finally {
    p.child.kill('SIGKILL');
    await p.exited;
    disk.unmount();
  }
});

// ---- files that are not what they seem ------------------------------------------------------------------

/** Runs the CLI and measures its peak memory from inside (a preloaded module reports maxRSS at exit). */
function runMeasured(args: string[]): Result & { maxRssMB: number } {
  const reporter = file(
    'rss.mjs',
    "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const rssFile = join(dir, `rss-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['--import', reporter, cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, RSS_FILE: rssFile },
  });
  const maxRssMB = Number(readFileSync(rssFile, 'utf8')) / 1024;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, maxRssMB };
}

test('info on /dev/zero, /dev/urandom and a sparse 3 GB file reads the 8-byte header length first and stops there', () => {
  const big = join(dir, 'big.bin');
  execFileSync('truncate', ['-s', '3G', big]);
  try {
    for (const [path, why] of [
      ['/dev/zero', /the header is empty: the file is not a \.safetensors checkpoint/],
      ['/dev/urandom', /the header length \(\d+ bytes\) is implausible/],
      [big, /the header is empty/],
    ] as const) {
      const r = runMeasured(['info', path]);
      assertOneLineError(r, why);
      assert.ok(r.maxRssMB < 150, `info ${path} peaked at ${r.maxRssMB.toFixed(0)} MB`);
    }
    // A 3 GB file whose header says it holds a 2.5 GB tensor: refused by the header, before a byte of data is read.
    const header = new TextEncoder().encode(
      JSON.stringify({ w: { dtype: 'F32', shape: [625_000_000], data_offsets: [0, 2_500_000_000] } }),
    );
    const head = new Uint8Array(8 + header.length);
    new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
    head.set(header, 8);
    const fd = spawnSync('dd', ['of=' + big, 'conv=notrunc', 'status=none'], { input: head });
    assert.equal(fd.status, 0);
    const r = runMeasured(['info', big]);
    assertOneLineError(r, /the metadata has no recurrent\.format: it is not a Recurrent Studio checkpoint/);
    assert.ok(r.maxRssMB < 150, `peaked at ${r.maxRssMB.toFixed(0)} MB`);
  } finally {
    rmSync(big, { force: true });
  }
});

test('a checkpoint read from a pipe is read front to back: whole, it works; cut short, the tensor it ends in is named', () => {
  const ck = smallCheckpoint();
  const shell = (command: string) => spawnSync('bash', ['-c', `"${process.execPath}" "${cli}" ${command}`], { cwd: dir, encoding: 'utf8' });
  const whole = shell(`info <(cat "${ck}") --json`);
  assert.equal(whole.status, 0, whole.stderr);
  assert.equal((JSON.parse(whole.stdout) as { updates: number }).updates, 5);
  // Cut 100 bytes into the tensors, wherever the header (whose metadata grows with the run's history) ends.
  const tensorsStart = 8 + Number(readFileSync(ck).readBigUInt64LE(0));
  const cut = shell(`sample <(head -c ${tensorsStart + 100} "${ck}")`);
  assert.equal(cut.status, 1);
  assert.match(cut.stderr, /^recurrent: \/dev\/fd\/\d+: the file is truncated: it ends before tensor [\w.]+\n$/);
});

test('checkpoints with NaN or infinite weights are refused with one line by sample, eval, info and --resume', () => {
  const ck = decodeCheckpoint(readFileSync(smallCheckpoint()));
  for (const [name, value] of [
    ['nan', NaN],
    ['inf', -Infinity],
  ] as const) {
    const bad = structuredClone(ck);
    bad.tensors.get('rnn.weight_hh_l0')!.data[5] = value;
    // Written as raw bytes: decodeCheckpoint itself refuses such weights now.
    const path = file(`${name}.safetensors`, encodeCheckpoint(bad));
    const why = new RegExp(
      `${name}\\.safetensors: tensor rnn\\.weight_hh_l0 holds ${String(value)} \\(element 5 of 256\\): the checkpoint is corrupt`,
    );
    assertOneLineError(run('sample', path), why);
    assertOneLineError(run('eval', path, corpus), why);
    assertOneLineError(run('info', path), why);
    const out = join(dir, `${name}-out.safetensors`);
    writeFileSync(out, readFileSync(smallCheckpoint()));
    const before = readFileSync(out);
    assertOneLineError(run('train', corpus, '--resume', path, '--steps', '3', '--out', out), why);
    assert.ok(readFileSync(out).equals(before), 'the checkpoint at --out is as it was');
  }
});

test("an unroll too large for the engine's memory is refused before training, naming the options to lower", () => {
  const r = run(
    'train',
    corpus,
    '--hidden',
    '512',
    '--batch',
    '512',
    '--seq',
    '4000',
    '--steps',
    '1',
    '--sample-every',
    '0',
    '--out',
    join(dir, 'huge.safetensors'),
  );
  assertOneLineError(
    r,
    /needs about [\d.]+ GiB, more than the 4\.0 GiB of WebAssembly memory a model trains in: lower --batch \(512\) or --seq \(4000\), which it grows with, or --hidden \(512\)$/,
  );
  assert.ok(!existsSync(join(dir, 'huge.safetensors')));
});

// ---- pipes --------------------------------------------------------------------------------------------

test('train reads its text from a pipe: /dev/stdin and <(cat FILE); a pipe needs --out, and /dev/zero is refused at once', () => {
  const out = join(dir, 'piped.safetensors');
  const shell = (command: string): Result => {
    const r = spawnSync('bash', ['-c', command], { cwd: dir, encoding: 'utf8' });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  const recurrent = `"${process.execPath}" "${cli}"`;
  // An operating-system pipe, as a shell makes it.
  let r = shell(`cat "${corpus}" | ${recurrent} train /dev/stdin ${SMALL.join(' ')} --steps 3 --out piped.safetensors`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\/dev\/stdin: 6,000 characters/);
  assert.equal(updatesIn(out), 3);
  // A socket, as ssh or a Node parent gives one: /dev/stdin cannot be opened by name, stdin is read as it is.
  r = runIn(dir, ['train', '/dev/stdin', ...SMALL, '--steps', '3', '--out', out], { input: text });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\/dev\/stdin: 6,000 characters/);
  r = runIn(dir, ['train', '/dev/stdin', ...SMALL, '--steps', '3'], { input: text });
  assertOneLineError(r, /\/dev\/stdin is a pipe or a device, not a named file: say where the checkpoint goes with --out/);
  r = shell(`${recurrent} train <(cat "${corpus}") ${SMALL.join(' ')} --steps 3 --out subst.safetensors`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\/dev\/fd\/\d+: 6,000 characters/);
  r = runIn(dir, ['train', '/dev/stdin', '--out', out], { input: '' });
  assertOneLineError(r, /\/dev\/stdin is empty: there is nothing to learn from \(nothing came through the pipe\)/);
  const zero = runMeasured(['train', '/dev/zero', '--out', join(dir, 'zero.safetensors')]);
  assertOneLineError(zero, /\/dev\/zero looks binary/);
  assert.ok(zero.maxRssMB < 150, `peaked at ${zero.maxRssMB.toFixed(0)} MB`);
});

/** Runs the CLI with its stdout a pipe whose reader is gone before it writes a byte. */
async function readerGone(args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (c, s) => r([c, s])));
  return { code, signal, stdout: '', stderr };
}

test('a closed pipe (| head -1) ends info, sample and eval quietly: no stack trace, status 141 as SIGPIPE gives', async () => {
  const ck = smallCheckpoint();
  for (const args of [
    ['info', ck],
    ['sample', ck, '--length', '2000'],
    ['eval', ck, corpus, '--json'],
    ['eval', ck, corpus],
  ]) {
    const r = await readerGone(args);
    assert.equal(r.stderr, '', `${args[0]}: expected nothing on stderr, got:\n${r.stderr}`);
    assert.equal(r.code, 141, `${args.join(' ')}: expected status 141, got ${r.code} ${r.signal}`);
  }
  // And through a real shell pipeline, as a user types it: head takes its line and the rest stops quietly.
  for (const command of [`info "${ck}"`, `sample "${ck}" --length 200000`, `eval "${ck}" "${corpus}" --json`]) {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${cli}" ${command} | head -c 20; echo " \${PIPESTATUS[0]}"`], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(r.stderr, '', `${command}: ${r.stderr}`);
    assert.match(r.stdout, / (0|141)\n$/, `${command}: ${r.stdout}`);
  }
});

// ---- resuming on another text -------------------------------------------------------------------------

test('--resume on a text that is not the one trained says so and what it means; on the same text it says nothing', () => {
  const ck = smallCheckpoint();
  const same = run('train', corpus, '--resume', ck, '--steps', '1', '--sample-every', '0', '--out', join(dir, 'same.safetensors'));
  assert.equal(same.code, 0, same.stderr);
  assert.doesNotMatch(same.stderr, /note:/);
  const other = file('other.txt', text.slice(0, 3000) + text.slice(0, 3000));
  const r = run('train', other, '--resume', ck, '--steps', '1', '--sample-every', '0', '--out', join(dir, 'other.safetensors'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /note: .*other\.txt is not the text .*small\.safetensors was trained on: its weights, optimizer state and update count carry on, but the streams start again at the beginning of this text from a zero state, so this is not an exact continuation of that run\n/,
  );
  const unknown = file('unknown.txt', text + ' \u00e6\u00f8\u00e5');
  assertOneLineError(
    run('train', unknown, '--resume', ck, '--steps', '1', '--out', join(dir, 'unknown.safetensors')),
    /unknown\.txt: the character "\u00e6" .* is not in the model's vocabulary/,
  );
});

// ---- a save killed halfway ----------------------------------------------------------------------------

test('SIGKILL during a save leaves the old checkpoint whole; the next run of that --out removes the temporary file it left', async () => {
  const out = join(dir, 'killsave.safetensors');
  const name = 'killsave.safetensors';
  let leftover: string | undefined;
  // A model whose checkpoint is ~15 MB, so a save takes long enough to be caught in the act.
  for (let attempt = 0; attempt < 3 && !leftover; attempt++) {
    const p = new Background(dir, [
      'train',
      corpus,
      '--hidden',
      '512',
      '--batch',
      '2',
      '--seq',
      '8',
      '--sample-every',
      '0',
      '--threads',
      '1',
      '--time',
      '10m',
      '--save-every',
      '1s',
      '--out',
      out,
    ]);
    await p.waitFor(/update \d+/);
    const watcher = watch(dir, (_event, f) => {
      if (typeof f === 'string' && f.startsWith(`.${name}.${p.child.pid}.`)) p.child.kill('SIGKILL');
    });
    await p.exited;
    watcher.close();
    leftover = readdirSync(dir).find((f) => f.startsWith(`.${name}.${p.child.pid}.`) && f.endsWith('.tmp'));
  }
  assert.ok(leftover, 'a save was not caught by SIGKILL in three attempts');
  if (existsSync(out)) assert.ok(updatesIn(out) > 0, 'an earlier autosave is whole');
  // Stale files of another name, and of a writer still running (this test), are not the next run's to delete.
  const live = `.${name}.${process.pid}.0123abcd.tmp`;
  const otherName = `.other.safetensors.${leftover.split('.')[3]}.0123abcd.tmp`;
  file(live, 'in progress');
  file(otherName, 'not mine');
  const r = run('train', corpus, '--hidden', '16', '--batch', '2', '--seq', '8', '--sample-every', '0', '--steps', '1', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /removed 1 temporary file\(s\) \([\d.]+ MB\) that an interrupted save of .*killsave\.safetensors left behind\n/);
  assert.ok(!existsSync(join(dir, leftover)), 'the stale temporary file is gone');
  assert.ok(existsSync(join(dir, live)) && existsSync(join(dir, otherName)), 'only stale files of its own name were removed');
});

// ---- the same for task training -----------------------------------------------------------------------

test('train --task shares the fault handling: --out checked first, autosaves, SIGTERM saves', async () => {
  const names = readFileSync(join(root, 'sample-workspace/first-names.tsv'), 'utf8').split('\n').slice(0, 400).join('\n') + '\n';
  const tsv = file('names.tsv', names);
  const task = ['--task', 'classify', '--hidden', '16', '--batch', '8'];
  assertOneLineError(
    run('train', tsv, ...task, '--steps', '2', '--out', tsv),
    /--out .*names\.tsv is the training file: the checkpoint would replace it/,
  );
  assertOneLineError(
    run('train', tsv, ...task, '--steps', '2', '--out', join(dir, 'nowhere', 'x.safetensors')),
    /cannot write a checkpoint to .*: its folder does not exist/,
  );
  const out = join(dir, 'task.safetensors');
  const p = new Background(dir, ['train', tsv, ...task, '--time', '10m', '--save-every', '1s', '--out', out]);
  await p.waitFor(/autosaved update [\d,]+ to /);
  p.child.kill('SIGTERM');
  const { code } = await p.exited;
  assert.equal(code, 143, p.stderr);
  assert.match(p.stderr, /stopped by SIGTERM: [\d,]+ updates/);
  assert.ok(updatesIn(out) > 0);
});
