// The history a checkpoint carries (src/engine/history.ts): evenly spaced points however long the run,
// segments that say where each stretch trained, and a run that comes back as one curve.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint.js';
import { DEFAULT_TRAIN } from '../../src/engine/config.js';
import { describeSegment, History, HISTORY_KEY, HISTORY_POINTS } from '../../src/engine/history.js';
import type { StepMetrics } from '../../src/engine/measurements.js';
import { Trainer } from '../../src/engine/trainer.js';

function point(step: number): StepMetrics {
  return {
    step,
    tokens: step * 10,
    lossNats: 1 / step,
    bitsPerToken: 1 / step / Math.LN2,
    lr: 0.01,
    gradNorm: 2,
    clipped: step % 3 === 0,
    elapsedMs: step,
    tokensPerSecond: 5,
  };
}

test('a long run keeps evenly spaced points, never more than HISTORY_POINTS', () => {
  const h = History.parse(undefined);
  h.begin({ by: 'recurrent-studio' }, 0);
  const m = point(1);
  for (let s = 1; s <= 10_000; s++) {
    Object.assign(m, point(s)); // as the trainer passes it: one object, reused
    h.record(m);
  }
  const kept = h.metrics();
  assert.ok(kept.length < HISTORY_POINTS && kept.length > HISTORY_POINTS / 4, `${kept.length} points`);
  const stride = kept[1]!.step - kept[0]!.step;
  assert.ok(
    kept.every((p, i) => p.step === (i + 1) * stride),
    'every kept update is a multiple of one stride',
  );
  assert.equal(kept.at(-1)!.step, 10_000 - (10_000 % stride));
  const p = kept[2]!;
  assert.deepEqual(p, point(p.step));
});

test('the encoding round-trips, and a segment goes on where the same program left off', () => {
  const h = History.parse(undefined);
  h.begin({ by: 'recurrent-studio' }, 0);
  for (let s = 1; s <= 30; s++) h.record(point(s));
  h.recordValidation({ step: 30, lossNats: 2, bitsPerToken: 2 / Math.LN2, tokens: 100 });
  const again = History.parse(h.encode(30));
  assert.deepEqual(again.metrics(), h.metrics());
  assert.deepEqual(again.validations(), h.validations());
  again.begin({ by: 'recurrent-studio' }, 30);
  again.begin({ by: 'pytorch', torch: '2.3.0', device: 'cuda', processes: 8, precision: 'bf16', nodes: 2 }, 30);
  const third = History.parse(again.encode(45));
  third.begin({ by: 'recurrent-studio' }, 45);
  assert.deepEqual(
    History.parse(third.encode(50)).segments.map((s) => [s.by, s.from, s.to]),
    [
      ['recurrent-studio', 0, 30],
      ['pytorch', 30, 45],
      ['recurrent-studio', 45, 50],
    ],
  );
  assert.equal(describeSegment(third.segments[1]!), 'PyTorch 2.3.0 (train.py), 8 cuda processes on 2 nodes, bf16');
});

test('a history that cannot be read is left out: it describes the run, which trains the same without it', () => {
  for (const raw of ['{', '{"version": 99}', '{"version": 1, "stride": 1, "metrics": {"step": [1, 2]}}']) {
    assert.deepEqual(History.parse(raw).metrics(), []);
  }
});

test('a resumed run carries its curve on in its checkpoints, one segment for the whole run here', () => {
  const text = readFileSync(new URL('../../../sample-workspace/state-of-the-union-1994.txt', import.meta.url), 'utf8').slice(0, 5000);
  const train = { ...DEFAULT_TRAIN, batch: 4, k1: 16, k2: 16, evalEvery: 5, threads: 1 };
  const a = Trainer.create(text, { task: 'lm', cell: 'gru', hidden: 8, layers: 1, embedding: 0, bidirectional: false }, train, 'char');
  a.validate('sample');
  const first = Array.from({ length: 12 }, () => ({ ...a.step() }));
  a.validate('sample');
  const ck = decodeCheckpoint(encodeCheckpoint(a.toCheckpoint()));
  a.close();
  const b = Trainer.resume(text, ck, { threads: 1 });
  const more = Array.from({ length: 8 }, () => ({ ...b.step() }));
  const h = History.parse(b.toCheckpoint().metadata[HISTORY_KEY]);
  b.close();
  assert.deepEqual(
    h.metrics().map((m) => [m.step, m.lossNats]),
    [...first, ...more].map((m) => [m.step, m.lossNats]),
  );
  assert.deepEqual(
    h.segments.map((s) => [s.by, s.from, s.to]),
    [['recurrent-studio', 0, 20]],
  );
  assert.deepEqual(
    h.validations().map((v) => v.step),
    [0, 12],
  );
});
