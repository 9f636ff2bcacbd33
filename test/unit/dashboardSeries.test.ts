// The dashboard's decimated metric streams and their smoothing, on recorded-like streams: empty,
// one point, NaN, and a million points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecimatedSeries } from '../../webview/model/series.js';
import { smoothBuckets, smoothValues } from '../../webview/model/smoothing.js';

test('an empty series has no buckets and smooths to nothing', () => {
  const s = new DecimatedSeries(8);
  assert.equal(s.length, 0, `expected no buckets, got ${s.length}`);
  assert.equal(smoothBuckets(s.all(), 0.9).length, 0);
});

test('one point is one bucket holding exactly that value, smoothed to itself', () => {
  const s = new DecimatedSeries(8);
  s.push(1, 10, 2.5);
  const b = s.bucket(0);
  assert.deepEqual([b.min, b.max, b.mean, b.last, b.count], [2.5, 2.5, 2.5, 2.5, 1]);
  assert.equal(smoothBuckets(s.all(), 0.9)[0], 2.5, 'debiased EMA of one value is that value');
});

test('below capacity every raw point is its own bucket (exact values for hover)', () => {
  const s = new DecimatedSeries(16);
  for (let i = 1; i <= 16; i++) s.push(i, i * 5, i * i);
  assert.equal(s.stride, 1, `expected stride 1, got ${s.stride}`);
  assert.deepEqual(
    s.all().map((b) => b.mean),
    Array.from({ length: 16 }, (_, i) => (i + 1) ** 2),
  );
});

test('NaN points are counted, kept out of min/max/mean, and a bucket of only NaN has NaN statistics', () => {
  const s = new DecimatedSeries(4);
  s.push(1, 0, NaN);
  s.push(2, 0, 3);
  s.push(3, 0, Infinity);
  assert.equal(s.nonFinitePoints, 2, `expected 2 non-finite points, got ${s.nonFinitePoints}`);
  assert.ok(Number.isNaN(s.bucket(0).mean), `a NaN-only bucket's mean should be NaN, got ${s.bucket(0).mean}`);
  assert.equal(s.bucket(1).mean, 3);
  for (let i = 4; i <= 9; i++) s.push(i, 0, 1); // forces two merges: steps 1-4 become one bucket
  const merged = s.all().find((b) => b.firstStep === 1)!;
  assert.equal(merged.lastStep, 4, `expected steps 1-4 merged, got 1-${merged.lastStep}`);
  assert.equal(merged.nonFinite, 2);
  assert.equal(merged.mean, 2, `the mean of steps 1-4 is that of 3 and 1 only, got ${merged.mean}`);
  assert.equal(merged.max, 3);
  const sm = smoothBuckets(s.all(), 0.5);
  assert.ok(
    sm.every((v) => Number.isFinite(v)),
    `smoothing skips NaN, got ${Array.from(sm)}`,
  );
});

test('a million points stay within capacity and keep the global min, max, mean, spike and flags', () => {
  const s = new DecimatedSeries(2048);
  let sum = 0;
  let flags = 0;
  for (let step = 1; step <= 1_000_000; step++) {
    const v = step === 777_777 ? 1e6 : step === 123_456 ? -5 : 2 + Math.sin(step / 1000);
    sum += v;
    const f = step % 1000 === 0;
    if (f) flags++;
    s.push(step, step * 2, v, f);
  }
  assert.ok(s.length <= 2048, `expected at most 2048 buckets, got ${s.length}`);
  assert.ok(s.length > 1024, `expected the series to stay above half capacity, got ${s.length}`);
  const all = s.all();
  const total = all.reduce((a, b) => a + b.count, 0);
  assert.equal(total, 1_000_000, `every raw point counted once, got ${total}`);
  assert.equal(Math.max(...all.map((b) => b.max)), 1e6, 'the spike survives decimation');
  assert.equal(Math.min(...all.map((b) => b.min)), -5, 'the dip survives decimation');
  const mean = all.reduce((a, b) => a + b.mean * b.count, 0) / total;
  assert.ok(Math.abs(mean - sum / 1e6) < 1e-6, `expected mean ${sum / 1e6}, got ${mean}`);
  assert.equal(
    all.reduce((a, b) => a + b.flagged, 0),
    flags,
    'clipped-step flags are all kept',
  );
  assert.equal(all[0]!.firstStep, 1);
  assert.equal(all.at(-1)!.lastStep, 1_000_000);
  for (let i = 1; i < all.length; i++) assert.equal(all[i]!.firstStep, all[i - 1]!.lastStep + 1, 'buckets tile the steps without gaps');
});

test('smoothing a decimated series follows the raw EMA closely', () => {
  const raw: number[] = [];
  for (let i = 0; i < 5000; i++) raw.push(3 * Math.exp(-i / 800) + 1 + ((i * 7919) % 13) / 50);
  const s = new DecimatedSeries(256);
  raw.forEach((v, i) => s.push(i, i, v));
  const w = 0.95;
  const exact = smoothValues(raw, w);
  const approx = smoothBuckets(s.all(), w);
  let worst = 0;
  let end = -1;
  for (const b of s.all()) {
    end += b.count;
    worst = Math.max(worst, Math.abs(approx[s.all().indexOf(b)]! - exact[end]!));
  }
  assert.ok(worst < 0.05, `expected the bucket EMA within 0.05 of the raw EMA, worst difference ${worst}`);
});

test('smoothing weight 0 is the raw series', () => {
  assert.deepEqual(Array.from(smoothValues([1, 5, 2], 0)), [1, 5, 2]);
});
