import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { GradientFlow } from '../../src/engine/measurements.js';
import { EXPLODING_FACTOR } from '../../src/engine/thresholds.js';
import {
  explodingFindings,
  explosionThreshold,
  fixFor,
  nonFiniteFinding,
  vanishingFinding,
  vanishingStep,
  type RunFacts,
} from '../../src/extension/editor/diagnosticRules.js';
import { bucketByHeat, colorsContribution, heatLevel, HEAT_LEVELS } from '../../src/extension/editor/heatScale.js';
import { hoverFacts, hoverMarkdown, showToken } from '../../src/extension/editor/hoverText.js';
import { RunWatch } from '../../src/extension/editor/runWatch.js';
import { PROTOCOL_VERSION, type EditorProbe } from '../../src/protocol/messages.js';

const rnn: RunFacts = { cell: 'rnn', lr: 0.5, clipNorm: 0, clipValue: 0, window: 64 };
const lstm: RunFacts = { cell: 'lstm', lr: 0.002, clipNorm: 5, clipValue: 0, window: 64 };

test('heat levels step every 2 bits from 2 bits; a NaN loss is the hottest', () => {
  assert.deepEqual([0, 1.99, 2, 3.9, 4, 6, 8, 30].map(heatLevel), [0, 0, 1, 1, 2, 3, 4, 4]);
  assert.equal(heatLevel(NaN), HEAT_LEVELS);
  assert.equal(heatLevel(Infinity), HEAT_LEVELS);
});

test('tokens are bucketed by heat, skipping the unpredicted first token and the context', () => {
  const offsets = Int32Array.from([0, 1, 2, 3, 5]);
  const ln2 = Math.LN2;
  const loss = Float32Array.from([1 * ln2, 5 * ln2, 9 * ln2]); // tokens 1, 2, 3
  const all = bucketByHeat(offsets, loss);
  assert.deepEqual(all, [[], [[2, 3]], [], [[3, 5]]]);
  const shown = bucketByHeat(offsets, loss, 3);
  assert.deepEqual(shown, [[], [], [], [[3, 5]]], 'expected tokens before firstShown to be context only');
});

test('package.json contributes exactly the heat colours of heatScale.ts', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  assert.deepEqual(
    pkg.contributes.colors,
    colorsContribution(),
    'package.json is out of date: regenerate contributes.colors from heatScale.ts',
  );
});

test('an update far above the clip threshold is an explosion, reported with the norm before and after', () => {
  const spikes = [
    { step: 7, normBefore: 12, normAfter: 5, spans: [[0, 65]] as Array<[number, number]> },
    {
      step: 9,
      normBefore: 400,
      normAfter: 5,
      spans: [
        [100, 165],
        [300, 365],
      ] as Array<[number, number]>,
    },
  ];
  const threshold = explosionThreshold(lstm, []);
  assert.equal(threshold, EXPLODING_FACTOR * 5);
  const found = explodingFindings(spikes, lstm, threshold);
  assert.equal(found.length, 1, `expected only the norm of 400 to count, got ${found.length} findings`);
  assert.deepEqual(found[0]!.spans, [
    [100, 165],
    [300, 365],
  ]);
  assert.match(found[0]!.message, /update 9: .* was 400, 80 times the clip threshold 5; clipped to 5/);
  assert.deepEqual(found[0]!.fixes, ['lowerLearningRate']);
});

test("with clipping off, an explosion is measured against the run's median norm and offers clipping", () => {
  assert.equal(explosionThreshold(rnn, []), Infinity, 'expected no verdict before any update');
  const threshold = explosionThreshold(rnn, [1, 2, 3, 2, 2]);
  assert.equal(threshold, 20);
  const found = explodingFindings([{ step: 3, normBefore: 500, normAfter: 500, spans: [[0, 10]] }], rnn, threshold);
  assert.match(found[0]!.message, /not clipped \(clipping is off\)/);
  assert.deepEqual(found[0]!.fixes, ['lowerLearningRate', 'enableClipping']);
});

function flow(row: number[], start = 1000): GradientFlow {
  return { step: 50, window: row.length, fromLast: [Float32Array.from(row)], perStep: [new Float32Array(row.length)], start };
}

test('a gradient that falls below 1e-3 of its size inside the window vanishes there', () => {
  const decaying = Array.from({ length: 64 }, (_, k) => 0.5 ** k); // below 1e-3 from k = 10
  assert.deepEqual(vanishingStep(flow(decaying)), { k: 10, layer: 0 });
  const f = vanishingFinding(flow(decaying), rnn)!;
  assert.deepEqual(f.spans, [[1000, 1054]], 'expected the 54 tokens the gradient does not reach');
  assert.match(f.message, /reaches back only 10 steps .* these 54 tokens get no learning signal/);
  assert.deepEqual(
    f.fixes,
    ['switchToGru', 'switchToLstm', 'shorterWindow'],
    'expected the GRU offered first (it reached furthest on real text)',
  );
  assert.deepEqual(vanishingFinding(flow(decaying), lstm)!.fixes, ['switchToGru', 'shorterWindow']);
  assert.equal(vanishingFinding(flow(Array.from({ length: 64 }, () => 1)), rnn), null, 'expected no finding when the gradient holds');
});

test('training stopped on a NaN is placed on the last batch known, or the top of the file', () => {
  const f = nonFiniteFinding(12, 'loss became NaN at update 12', [[5, 70]], rnn);
  assert.equal(f.severity, 'error');
  assert.deepEqual(f.spans, [[5, 70]]);
  assert.deepEqual(nonFiniteFinding(12, 'x', [], lstm).spans, [[0, 1]]);
});

test('quick fixes write the settings they name', () => {
  assert.deepEqual(fixFor('lowerLearningRate', rnn).changes, [{ key: 'training.learningRate', value: 0.05 }]);
  assert.deepEqual(fixFor('enableClipping', rnn).changes, [{ key: 'training.clipNorm', value: 1 }]);
  assert.deepEqual(fixFor('switchToLstm', rnn).changes, [{ key: 'model.cell', value: 'lstm' }]);
  const shorter = fixFor('shorterWindow', rnn, 10);
  assert.deepEqual(shorter.changes[0], { key: 'training.sequenceLength', value: 10 });
  assert.match(shorter.title, /10 tokens \(from 64\)/);
});

test('the run watch keeps spikes as copies, since the worker reuses its clip object', () => {
  const w = new RunWatch(lstm);
  const clip = { step: 1, mode: 'norm' as const, normBefore: 100, normAfter: 5, spans: [[0, 65]] as Array<[number, number]> };
  w.observe({ v: PROTOCOL_VERSION, type: 'clip', clips: [clip] });
  clip.spans[0]![0] = 999;
  w.observe({ v: PROTOCOL_VERSION, type: 'error', kind: 'nonFinite', step: 2, message: 'loss became NaN' });
  const f = w.findings();
  assert.deepEqual(
    f.map((x) => x.rule),
    ['exploding', 'nonFinite'],
  );
  assert.deepEqual(f[0]!.spans, [[0, 65]], 'expected the span as it was when observed');
  assert.deepEqual(f[1]!.spans, [[0, 65]], 'expected the non-finite loss on the last batch seen');
});

test('a run whose gradients exploded gets no vanishing advice; a healthy one does', () => {
  const K = 64;
  const fromLast = new Float32Array(K).map((_, k) => 0.5 ** k); // below 1/1000 after 10 steps
  const flow = { step: 5, window: K, fromLast: [fromLast], perStep: [new Float32Array(K)], start: 0 };
  const healthy = new RunWatch(rnn);
  healthy.observe({ v: PROTOCOL_VERSION, type: 'gradientFlow', flow });
  assert.deepEqual(
    healthy.findings().map((x) => x.rule),
    ['vanishing'],
    'expected a vanishing diagnostic on a healthy run',
  );
  const exploded = new RunWatch(lstm);
  exploded.observe({ v: PROTOCOL_VERSION, type: 'gradientFlow', flow });
  exploded.observe({
    v: PROTOCOL_VERSION,
    type: 'clip',
    clips: [{ step: 6, mode: 'norm', normBefore: 400, normAfter: 5, spans: [[0, 65]] }],
  });
  assert.deepEqual(
    exploded.findings().map((x) => x.rule),
    ['exploding'],
    'expected only the explosion once the gradients exploded',
  );
  const broken = new RunWatch(rnn);
  broken.observe({ v: PROTOCOL_VERSION, type: 'gradientFlow', flow });
  broken.observe({ v: PROTOCOL_VERSION, type: 'error', kind: 'nonFinite', step: 7, message: 'loss became NaN' });
  assert.deepEqual(
    broken.findings().map((x) => x.rule),
    ['nonFinite'],
    'expected only the stop once the loss broke',
  );
});

test('the hover shows the top guesses, the loss in bits, the reach and the saturated gates', () => {
  const probe: EditorProbe = {
    tokenLoss: {
      tokens: ['t', 'h', 'e'],
      offsets: Int32Array.from([0, 1, 2, 3]),
      lossNats: Float32Array.from([Math.LN2, 3 * Math.LN2]),
      k: 2,
      topIds: Int32Array.from([1, 0, 2, 1]),
      topProbs: Float32Array.from([0.5, 0.25, 0.6, 0.125]),
    },
    reach: {
      window: 2,
      layers: 1,
      count: 3,
      norms: Float32Array.from([0.25, 0.5, 0]),
      gates: ['i', 'f', 'g', 'o'],
      saturation: Float32Array.from([0, 0, 0, 0.9, 0.8, 0, 0, 0.1, 0, 0, 0, 0]),
    },
    topTokens: { 0: 't', 1: 'h', 2: ' ' },
  };
  const facts = hoverFacts(probe, 1, 'lstm', 40);
  assert.equal(facts.lossNats, Math.fround(Math.LN2));
  assert.deepEqual(
    facts.top.map((t) => t.token),
    ['h', 't'],
  );
  assert.deepEqual(facts.reach, { norms: [0.5], stepsToEnd: 0, window: 2 });
  const md = hoverMarkdown(facts);
  assert.match(md, /Loss of the actual token: \*\*1\.00 bits\*\* \(p = 50%\)/);
  assert.match(md, /`h` \u2713 \| 50%/);
  assert.match(md, /Gradient reaching here .* \*\*0\.500\*\*/);
  assert.match(md, /Saturated gates: f 80% of units/);
  assert.match(hoverMarkdown(hoverFacts(probe, 2, 'lstm', 40)), /`\u2423` \| 60%/, 'expected a space shown as a visible mark');
  assert.match(hoverMarkdown(hoverFacts(probe, 0, 'lstm', 40)), /First token/);
  assert.equal(showToken('a\r\n\t'), 'a\u21b5\u21e5');
});
