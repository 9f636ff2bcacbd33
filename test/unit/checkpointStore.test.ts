// The extension's store of autosaved runs, on real files: what it lists, the history kept with a
// checkpoint (typed arrays included), and which runs a killed extension host left: marks of a process
// that really ended are reported once, those of a live one are left alone, and what killed saves left
// behind is removed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointStore, type SavedRun } from '../../src/extension/checkpointStore.js';
import type { RunHistory } from '../../src/protocol/messages.js';
import { scratchFolder } from './support/scratch.js';

const scratch = scratchFolder('store');

function store(): CheckpointStore {
  return new CheckpointStore(join(mkdtempSync(join(scratch, 'store-')), 'checkpoints'));
}

function saved(runId: string, step = 10): SavedRun {
  return {
    runId,
    label: `${runId}.txt`,
    file: `file:///w/${runId}.txt`,
    textSha256: 'x',
    textLength: 6,
    step,
    savedAt: new Date().toISOString(),
    run: null,
  };
}

/** A process id that is no longer running: a real child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

async function withCheckpoint(s: CheckpointStore, r: SavedRun): Promise<void> {
  await s.record(r);
  writeFileSync(s.checkpointPath(r.runId), 'weights');
}

test('a run is listed once it has a record and a checkpoint; the history and mark files beside them are not runs', async () => {
  const s = store();
  await withCheckpoint(s, saved('a'));
  await s.record(saved('b')); // a record whose checkpoint is gone
  const history: RunHistory = {
    runId: 'a',
    label: 'a.txt',
    file: 'file:///w/a.txt',
    run: null,
    metrics: [],
    validation: [],
    clips: [],
    samples: [{ step: 3, temperature: 0.8, prime: '', text: 'abc' }],
    gradientFlow: { step: 3, window: 2, fromLast: [Float32Array.of(1, 0.25)], perStep: [Float32Array.of(0.5, 2)], start: 7 },
    gates: {
      tokens: ['a'],
      layers: [{ layer: 0, direction: 'forward', gates: [{ name: 'h', data: Float32Array.of(0.1, -0.5) }] }],
      hidden: 2,
    },
    state: 'running',
  };
  await s.recordHistory(history);
  await s.markLive(['a']);
  assert.deepEqual(
    (await s.list()).map((r) => r.runId),
    ['a'],
  );
  assert.ok(await s.hasCheckpoint('a'));
  assert.ok(!(await s.hasCheckpoint('b')));
  const back = await s.history('a');
  assert.deepEqual(back, history, 'the history comes back as it was, typed arrays as typed arrays');
  assert.ok(back!.gradientFlow!.fromLast[0] instanceof Float32Array);
  assert.equal(await s.history('b'), null);
  await s.forget('a');
  assert.deepEqual(readdirSync(s.dir).sort(), ['b.json', `live-${process.pid}.json`].sort());
});

test("runs a killed extension host had live are reported once; a live host's are not; clean closes leave no mark", async () => {
  const s = store();
  await withCheckpoint(s, saved('killed', 120));
  await withCheckpoint(s, saved('other'));
  await withCheckpoint(s, saved('mine'));
  const dead = deadPid();
  mkdirSync(s.dir, { recursive: true });
  writeFileSync(join(s.dir, `live-${dead}.json`), JSON.stringify({ pid: dead, runIds: ['killed', 'never-saved'] }));
  // This process is a live host, as another window's would be.
  await s.markLive(['mine']);
  // What the dead host's killed saves left: a checkpoint's temporary file and a record's.
  writeFileSync(join(s.dir, `.killed.safetensors.${dead}.0123abcd.tmp`), 'half');
  writeFileSync(join(s.dir, `killed.json.${dead}.89abcdef.tmp`), '{"runId"');
  const interrupted = await s.interrupted();
  assert.deepEqual(
    interrupted.map((r) => [r.runId, r.step]),
    [['killed', 120]],
  );
  assert.deepEqual(await s.interrupted(), [], 'each is reported once');
  assert.ok(existsSync(join(s.dir, `live-${process.pid}.json`)), "a live host's mark stays");
  assert.ok(!existsSync(join(s.dir, `.killed.safetensors.${dead}.0123abcd.tmp`)), 'the stale temporary checkpoint is removed');
  assert.ok(!existsSync(join(s.dir, `killed.json.${dead}.89abcdef.tmp`)), 'the stale temporary record is removed');
  await s.markLive([]);
  assert.ok(!existsSync(join(s.dir, `live-${process.pid}.json`)), 'no live run, no mark');
  await s.markLive(['mine']);
  await s.endLive();
  assert.ok(!existsSync(join(s.dir, `live-${process.pid}.json`)), 'a clean close removes the mark');
});
