// The dashboard's pure renderers: heatmap colours, gate saturation, gradient-flow summaries, units.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paint, parseCssColour, sequential } from '../../webview/model/colormap.js';
import { gateRange, saturation, showToken, unitsByTime } from '../../webview/model/gates.js';
import { normalise, positiveExtent, summariseFlow } from '../../webview/model/gradientFlow.js';
import { extent, forScale, natsTo } from '../../webview/model/units.js';
import { describeRun, formatDuration, formatValue } from '../../webview/model/format.js';
import { asFloat32 } from '../../webview/model/coerce.js';
import { describe as describeSynthetic, gradientFlow } from './support/syntheticSession.js';

test('sigmoid gate saturation counts values below 0.05 and above 0.95', () => {
  const s = saturation('f', [0.01, 0.5, 0.96, 0.99, NaN])!;
  assert.deepEqual([s.low, s.high, s.count], [0.25, 0.5, 4], `got ${JSON.stringify(s)}`);
});

test('tanh saturation is |x| > 0.95 at either end; the cell state has none', () => {
  const s = saturation('g', [-0.99, 0, 0.97, 0.5])!;
  assert.deepEqual([s.low, s.high], [0.25, 0.25], `got ${JSON.stringify(s)}`);
  assert.equal(saturation('c', [5, -5]), null);
});

test('saturation of an empty probe is zero, not NaN', () => {
  const s = saturation('i', [])!;
  assert.equal(s.total, 0, `expected 0, got ${s.total}`);
});

test('the cell state colour range is symmetric around its largest magnitude', () => {
  assert.deepEqual(gateRange('c', [0.5, -3, 2]), { kind: 'signed', limit: 3 });
  assert.deepEqual(gateRange('f', [0.5]), { kind: 'unit' });
});

test('unitsByTime transposes [T, H] to [H, T]', () => {
  assert.deepEqual(Array.from(unitsByTime([1, 2, 3, 4, 5, 6], 2, 3)), [1, 4, 2, 5, 3, 6]);
});

test('heatmap paint: 0 and 1 are the ends of the sequential map, NaN gets the missing colour', () => {
  const rgba = new Uint8ClampedArray(12);
  const bad = paint([0, 1, NaN], { kind: 'unit' }, [128, 128, 128], [255, 0, 255], rgba);
  assert.equal(bad, 1, `expected one missing cell, got ${bad}`);
  assert.deepEqual(Array.from(rgba.slice(0, 4)), [...sequential(0)!, 255]);
  assert.deepEqual(Array.from(rgba.slice(4, 8)), [...sequential(1)!, 255]);
  assert.deepEqual(Array.from(rgba.slice(8, 12)), [255, 0, 255, 255]);
});

test('heatmap paint on a signed range maps zero to the theme centre colour', () => {
  const rgba = new Uint8ClampedArray(4);
  paint([0], { kind: 'signed', limit: 1 }, [30, 30, 30], [0, 0, 0], rgba);
  assert.deepEqual(Array.from(rgba), [30, 30, 30, 255]);
});

test('CSS colours from theme variables parse in the forms VS Code uses', () => {
  assert.deepEqual(parseCssColour('#1e1e1e'), [30, 30, 30]);
  assert.deepEqual(parseCssColour(' #fff '), [255, 255, 255]);
  assert.deepEqual(parseCssColour('#1e1e1eff'), [30, 30, 30]);
  assert.deepEqual(parseCssColour('rgb(1, 2, 3)'), [1, 2, 3]);
  assert.equal(parseCssColour('transparent'), null);
});

test('gradient flow of a vanilla RNN reaches back fewer steps than an LSTM', () => {
  const rnn = summariseFlow(gradientFlow('rnn', 1, 100).fromLast[0]!)!;
  const lstm = summariseFlow(gradientFlow('lstm', 1, 100).fromLast[0]!)!;
  assert.ok(rnn.reach < 20, `RNN gradient should fall below 1/1000 within 20 steps, reach ${rnn.reach}`);
  assert.ok(lstm.reach > rnn.reach * 2, `LSTM reach ${lstm.reach} should be far beyond RNN reach ${rnn.reach}`);
  assert.ok(Math.abs(rnn.decayPerStep - 0.6) < 0.05, `RNN decay per step ~0.6, got ${rnn.decayPerStep}`);
});

test('gradient flow summary of an exact geometric decay', () => {
  const f = Array.from({ length: 30 }, (_, k) => 2 * 0.5 ** k);
  const s = summariseFlow(f)!;
  assert.equal(s.reach, 10, `0.5^10 < 1e-3 first at k=10, got ${s.reach}`);
  assert.ok(Math.abs(s.decayPerStep - 0.5) < 1e-9, `got ${s.decayPerStep}`);
  assert.equal(normalise(f)[3], 0.125);
});

test('gradient flow summary of empty, zero or NaN input is null, and never throws', () => {
  assert.equal(summariseFlow([]), null);
  assert.equal(summariseFlow([0, 0]), null);
  assert.equal(summariseFlow([NaN, 1]), null);
  const s = summariseFlow([1, NaN, 0.5])!;
  assert.equal(s.reach, 1, `NaN counts as lost gradient, got reach ${s.reach}`);
  assert.deepEqual(positiveExtent([[0, NaN, 2], [1e-9]]), [1e-9, 2]);
  assert.equal(positiveExtent([[0, -1]]), null);
});

test('bits are nats / ln 2; a log axis turns non-positive values into gaps', () => {
  assert.ok(Math.abs(natsTo('bits', Math.LN2) - 1) < 1e-12);
  assert.equal(forScale('log', 0), null);
  assert.equal(forScale('linear', 0), 0);
  assert.equal(forScale('linear', NaN), null);
  assert.deepEqual(extent([3, -1, NaN, 0.5], 'log'), [0.5, 3]);
  assert.equal(extent([]), null);
});

test('numbers, durations and run labels read as a person expects', () => {
  assert.equal(formatValue(0.0021), '0.0021');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(1.23456e-5), '1.23e-5');
  assert.equal(formatDuration(125_000), '2m 05s');
  assert.equal(describeRun(describeSynthetic('lstm', 128, 2), 'x'), 'LSTM 128×2, adam lr 0.002');
  assert.equal(describeRun(null, 'fallback'), 'fallback');
});

test('typed arrays that went through JSON come back as Float32Array', () => {
  assert.deepEqual(Array.from(asFloat32([1, null, 2])), [1, NaN, 2]);
  assert.deepEqual(Array.from(asFloat32({ 0: 1, 1: 2 })), [1, 2]);
  assert.deepEqual(Array.from(asFloat32(new Float64Array([0.5]))), [0.5]);
  assert.equal(asFloat32(undefined).length, 0);
});

test('whitespace in the probe text is made visible on the time axis', () => {
  assert.deepEqual([' ', '\n', 'a'].map(showToken), ['·', '⏎', 'a']);
});
