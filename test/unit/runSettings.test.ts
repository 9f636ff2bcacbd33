import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_TRAIN } from '../../src/engine/config.js';
import {
  automaticThreads,
  configurationContribution,
  overrideInRunFile,
  parseRunFile,
  resolveRunSettings,
  runFileSchema,
} from '../../src/extension/runSettings.js';

const none = (): undefined => undefined;
const from =
  (o: Record<string, unknown>) =>
  (k: string): unknown =>
    o[k];

test('with no settings a run takes the documented defaults', () => {
  const r = resolveRunSettings(none);
  assert.equal(r.model.cell, 'lstm');
  assert.equal(r.train.k1, DEFAULT_TRAIN.k1);
  assert.equal(r.train.k2, DEFAULT_TRAIN.k2);
  assert.equal(r.maxFileSizeMB, 50);
  assert.equal(r.sampling.temperature, 0.8);
  assert.equal(r.maxSteps, 0);
});

test('the sequence length sets k1 and k2 unless they are given; maxSteps sets the cosine horizon', () => {
  assert.deepEqual(
    [
      resolveRunSettings(from({ 'training.sequenceLength': 100 })).train.k1,
      resolveRunSettings(from({ 'training.sequenceLength': 100 })).train.k2,
    ],
    [100, 100],
  );
  const r = resolveRunSettings(from({ 'training.sequenceLength': 100, 'training.k1': 20, 'training.maxSteps': 500 }));
  assert.deepEqual([r.train.k1, r.train.k2, r.train.totalSteps], [20, 100, 500]);
});

test('an invalid setting is named with its full key and range', () => {
  assert.throws(
    () => resolveRunSettings(from({ 'model.hiddenSize': 0 })),
    /^RecurrentError: Setting recurrent\.model\.hiddenSize must be a whole number from 1 to 4096, got 0$/,
  );
  assert.throws(
    () => resolveRunSettings(from({ 'training.learningRate': 0 })),
    /learningRate must be a number greater than 0 and at most 100, got 0/,
  );
  assert.throws(
    () => resolveRunSettings(from({ 'model.cell': 'transformer' })),
    /model\.cell must be one of rnn, lstm, gru, got "transformer"/,
  );
  assert.throws(
    () => resolveRunSettings(from({ 'training.k1': 80, 'training.k2': 40 })),
    /Setting recurrent\.training\.k1: k2 \(40\) must be at least k1 \(80\)/,
  );
});

test('a .recurrent.json overrides the settings and its mistakes name the file', () => {
  const path = '/w/.recurrent.json';
  const r = resolveRunSettings(from({ 'model.cell': 'gru', 'model.hiddenSize': 64 }), {
    path,
    json: { model: { hiddenSize: 32 }, training: { learningRate: 0.01 } },
  });
  assert.deepEqual([r.model.cell, r.model.hidden, r.train.lr], ['gru', 32, 0.01]);
  assert.throws(
    () => resolveRunSettings(none, { path, json: { model: { hidden: 3 } } }),
    /\/w\/\.recurrent\.json: unknown setting model\.hidden; model takes task, bidirectional, pooling, cell, hiddenSize/,
  );
  assert.throws(
    () => resolveRunSettings(none, { path, json: { optimizer: {} } }),
    /unknown section "optimizer"; the sections are model, training, sampling/,
  );
  assert.throws(
    () => resolveRunSettings(none, { path, json: { training: { batchSize: 1.5 } } }),
    /\/w\/\.recurrent\.json: training\.batchSize must be a whole number from 1 to 4096, got 1\.5/,
  );
  assert.throws(() => resolveRunSettings(none, { path, json: [] }), /must hold a JSON object/);
  assert.throws(() => parseRunFile(path, '{"model": '), /\/w\/\.recurrent\.json is not valid JSON/);
});

test('training threads: 0 leaves a core to the editor and takes at most 4; a number is taken as it is', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 8, 64].map((cores) => resolveRunSettings(none, undefined, cores).train.threads),
    [1, 1, 2, 3, 4, 4, 4],
  );
  assert.deepEqual([1, 2, 5, 8].map(automaticThreads), [1, 1, 4, 4]);
  assert.equal(
    resolveRunSettings(from({ 'training.threads': 3 }), undefined, 2).train.threads,
    3,
    'an explicit count is not capped by the cores',
  );
  assert.equal(resolveRunSettings(from({ 'training.threads': 0 }), undefined, 8).train.threads, 4);
  assert.throws(
    () => resolveRunSettings(from({ 'training.threads': 17 })),
    /^RecurrentError: Setting recurrent\.training\.threads must be a whole number from 0 to 16, got 17$/,
  );
  assert.throws(
    () => resolveRunSettings(from({ 'training.threads': 1.5 })),
    /training\.threads must be a whole number from 0 to 16, got 1\.5/,
  );
});

test('bidirectional is for classify and translate: a language model or a generator that asks for it is refused, naming where it was set', () => {
  assert.equal(resolveRunSettings(none, undefined, 2, 'classify').model.bidirectional, false);
  assert.equal(resolveRunSettings(from({ 'model.bidirectional': true }), undefined, 2, 'classify').model.bidirectional, true);
  assert.equal(resolveRunSettings(from({ 'model.bidirectional': true }), undefined, 2, 'translate').model.bidirectional, true);
  assert.throws(
    () => resolveRunSettings(from({ 'model.bidirectional': true })),
    /^RecurrentError: Setting recurrent\.model\.bidirectional: a bidirectional encoder reads the whole text at once, so only the tasks classify and translate can use it \(this run's task is lm\)$/,
  );
  assert.throws(
    () => resolveRunSettings(none, { path: '/w/.recurrent.json', json: { model: { bidirectional: true, task: 'generate' } } }),
    /^RecurrentError: \/w\/\.recurrent\.json: model\.bidirectional: .* \(this run's task is generate\)$/,
  );
});

test('a task file: model.task auto takes the task chosen for the file, unset settings take the task defaults, set ones win', () => {
  const auto = resolveRunSettings(none);
  assert.equal(auto.taskSetting, 'auto');
  assert.equal(auto.model.task, 'lm');
  const c = resolveRunSettings(none, undefined, 2, 'classify');
  assert.deepEqual(
    [c.model.task, c.model.cell, c.model.hidden, c.model.pooling, c.model.maxLength, c.train.batch, c.train.optimizer, c.train.lr],
    ['classify', 'gru', 64, 'last', 400, 32, 'adam', 5e-3],
  );
  const g = resolveRunSettings(from({ 'model.hiddenSize': 32 }), undefined, 2, 'generate');
  assert.deepEqual(
    [g.model.task, g.model.hidden, g.train.optimizer, g.train.weightDecay, g.model.pooling],
    ['generate', 32, 'adamw', 0.1, undefined],
  );
  const fromFile = resolveRunSettings(
    none,
    { path: '/w/.recurrent.json', json: { model: { task: 'classify', pooling: 'mean' } } },
    2,
    'generate',
  );
  assert.deepEqual(
    [fromFile.taskSetting, fromFile.model.task, fromFile.model.pooling],
    ['classify', 'classify', 'mean'],
    'the file says the task',
  );
  const t = resolveRunSettings(from({ 'model.task': 'translate' }));
  assert.deepEqual(
    [
      t.model.task,
      t.model.cell,
      t.model.hidden,
      t.model.maxLength,
      t.train.batch,
      t.train.lr,
      t.train.schedule,
      t.train.valMax,
      t.train.evalEvery,
    ],
    ['translate', 'lstm', 128, 100, 32, 4e-3, 'cosine', 5000, 500],
    'translate takes the defaults of `recurrent train --task translate`',
  );
  assert.throws(
    () => resolveRunSettings(from({ 'model.task': 'summarize' })),
    /model\.task must be one of auto, lm, classify, generate, translate, got "summarize"/,
  );
});

test('threads belong to the machine: a .recurrent.json may not set them and its schema does not offer them', () => {
  assert.throws(
    () => resolveRunSettings(none, { path: '/w/.recurrent.json', json: { training: { threads: 2 } } }),
    /^RecurrentError: \/w\/\.recurrent\.json: training\.threads depends on the machine, not on the text; set recurrent\.training\.threads in the settings instead$/,
  );
  assert.doesNotThrow(() => resolveRunSettings(none, { path: '/w/.recurrent.json', json: { training: { seed: 2 } } }));
  const training = (runFileSchema().properties as Record<string, { properties: Record<string, unknown> }>).training!;
  assert.ok('seed' in training.properties && !('threads' in training.properties));
  assert.ok('recurrent.training.threads' in (configurationContribution().properties as Record<string, unknown>));
  assert.throws(
    () => resolveRunSettings(none, { path: '/w/.recurrent.json', json: { training: { thread: 2 } } }),
    /training takes (?!.*threads)/,
  );
});

test('package.json contributes exactly the settings of the table', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.deepEqual(
    pkg.contributes.configuration,
    configurationContribution(),
    'package.json is out of date: regenerate contributes.configuration from runSettings.ts',
  );
});

test('the .recurrent.json schema in media/ matches the table', () => {
  const schema = JSON.parse(readFileSync('media/recurrent.schema.json', 'utf8'));
  assert.deepEqual(schema, runFileSchema(), 'media/recurrent.schema.json is out of date: regenerate it from runSettings.ts');
});

test('a fix goes into .recurrent.json only for the keys the file already sets', () => {
  const json = { model: { cell: 'rnn' }, training: { learningRate: 80, clip: 0 } };
  assert.equal(overrideInRunFile(json, 'training.learningRate', 8), true);
  assert.equal(json.training.learningRate, 8);
  assert.equal(overrideInRunFile(json, 'training.sequenceLength', 10), false, 'a key the file does not set stays in the settings');
  assert.equal(overrideInRunFile(json, 'model.cell', 'lstm'), true);
  assert.equal(json.model.cell, 'lstm');
  assert.equal(overrideInRunFile([1], 'model.cell', 'gru'), false);
  assert.equal(overrideInRunFile({ model: 'lstm' }, 'model.cell', 'gru'), false);
});
