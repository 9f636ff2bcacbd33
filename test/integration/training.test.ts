// The product's promises inside a real extension host: train the sample text until the loss falls, pause
// and resume, sample the same text twice from a seed, save and load a checkpoint that samples the same,
// survive a worker that dies, and refuse bad input without leaving a worker behind. Small models, so the
// suite takes seconds of training on a shared machine.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { until } from './until.js';
import type { RecurrentApi } from '../../src/extension/extension.js';

const SMALL = {
  'model.hiddenSize': 32,
  'training.batchSize': 8,
  'training.sequenceLength': 32,
  'training.learningRate': 0.01,
  'training.evaluateEvery': 0,
  'sampling.everySeconds': 0,
  autosaveIntervalSeconds: 0,
};

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

suite('Training a file in the extension', () => {
  let api: RecurrentApi;
  let doc: vscode.TextDocument;
  let runId: string;
  // Made when the suite runs, not when it is defined: a run of other suites (RECURRENT_INTEGRATION_GREP) leaves no folder.
  let dir = '';

  const steps = (id: string): number => api.status(id)?.step ?? 0;
  const state = (id: string): string => api.status(id)?.state ?? 'gone';
  const history = (id: string) => api.runs().find((r) => r.runId === id)!;

  suiteSetup(async () => {
    dir = mkdtempSync(join(tmpdir(), 'recurrent-it-'));
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio');
    assert.ok(ext, 'expected the recurrent-studio extension');
    api = (await ext.activate()) as RecurrentApi;
    const [file] = await vscode.workspace.findFiles('*.txt');
    assert.ok(file, 'expected a .txt file in the workspace');
    doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
  });

  suiteTeardown(async () => {
    for (const r of api?.runs() ?? []) await vscode.commands.executeCommand('recurrent.stop', r.runId);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a run that diverges is reported as such by its validations, and autosaves wait', async () => {
    const id = (await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      fresh: true,
      overrides: {
        ...SMALL,
        'model.cell': 'rnn',
        'model.hiddenSize': 16,
        'training.optimizer': 'sgd',
        'training.learningRate': 10,
        'training.clipNorm': 0,
        'training.evaluateEvery': 10,
        autosaveIntervalSeconds: 1,
      },
      openDashboard: false,
    }))!;
    await until('a validation that says the run diverged', () => history(id).validation.some((v) => v.diverged === true));
    const first = history(id).validation[0]!;
    assert.equal(first.diverged, false, 'the untrained model is where the run starts');
    await vscode.commands.executeCommand('recurrent.stop', id);
  });

  test('trains on the current file until the loss falls', async () => {
    runId = (await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      fresh: true,
      overrides: SMALL,
      openDashboard: false,
    }))!;
    assert.ok(runId, 'expected the command to return the new run id');
    await until('60 updates', () => steps(runId) >= 60);
    const losses = history(runId).metrics.map((m) => m.lossNats);
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-5));
    assert.ok(
      last < first - 0.3,
      `expected the loss to fall by more than 0.3 nats, first five ${first.toFixed(3)}, last five ${last.toFixed(3)}`,
    );
    assert.ok(history(runId).run!.unigramBits > 3, 'expected the run description with the unigram entropy');
  });

  test('pause holds the step count and resume continues it', async () => {
    await vscode.commands.executeCommand('recurrent.pause', runId);
    await until('paused', () => state(runId) === 'paused');
    const at = steps(runId);
    // The worker answers requests between slices of training, so each reply below comes after any slice
    // a paused worker might wrongly have run; a checkpoint's reply carries the worker's own update count.
    const savedAt = async (name: string): Promise<number> => {
      await vscode.commands.executeCommand('recurrent.saveCheckpoint', runId, vscode.Uri.file(join(dir, name)));
      return api.status(runId)!.checkpoint!.step;
    };
    assert.equal(await savedAt('paused-1.safetensors'), at, 'expected the paused worker at the update it reported last');
    await vscode.commands.executeCommand('recurrent.sample', { runId, prime: 'The ', length: 300, temperature: 1, seed: 1, editor: false });
    assert.equal(await savedAt('paused-2.safetensors'), at, 'expected no updates while paused');
    assert.equal(steps(runId), at, 'expected no updates reported while paused');
    await vscode.commands.executeCommand('recurrent.resume', runId);
    await until('updates after resume', () => steps(runId) > at + 5);
    await vscode.commands.executeCommand('recurrent.pause', runId);
    await until('paused again', () => state(runId) === 'paused');
  });

  test('sampling with a seed gives the same text twice, and streams into an editor', async () => {
    const opts = { runId, prime: 'The ', length: 120, temperature: 1, seed: 42, editor: false };
    const a = await vscode.commands.executeCommand<string>('recurrent.sample', opts);
    const b = await vscode.commands.executeCommand<string>('recurrent.sample', opts);
    assert.equal(typeof a, 'string');
    assert.equal(a!.length > 0, true, 'expected some text');
    assert.equal(b, a, 'expected the same seed to give the same text');
    const shown = await vscode.commands.executeCommand<string>('recurrent.sample', { ...opts, editor: true });
    assert.equal(shown, a);
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.isUntitled && e.document.getText() === 'The ' + a);
    assert.ok(editor, 'expected an untitled editor holding the prompt and the streamed sample');
  });

  test('a saved checkpoint loads and samples identically', async () => {
    const target = vscode.Uri.file(join(dir, 'saved.safetensors'));
    const saved = await vscode.commands.executeCommand<vscode.Uri>('recurrent.saveCheckpoint', runId, target);
    assert.equal(saved?.fsPath, target.fsPath);
    const loaded = await vscode.commands.executeCommand<string>('recurrent.loadCheckpoint', { uri: target, textUri: doc.uri });
    assert.ok(loaded && loaded !== runId, `expected a new run for the loaded checkpoint, got ${loaded}`);
    await until('the loaded run', () => state(loaded) === 'paused');
    assert.equal(steps(loaded), api.status(runId)!.checkpoint!.step, 'a loaded run shows its curve up to the saved update');
    const opts = { prime: 'We ', length: 150, temperature: 0.9, seed: 7, editor: false };
    const before = await vscode.commands.executeCommand<string>('recurrent.sample', { ...opts, runId });
    const after = await vscode.commands.executeCommand<string>('recurrent.sample', { ...opts, runId: loaded });
    assert.equal(after, before, 'expected the loaded model to sample exactly as the saved one');
    await vscode.commands.executeCommand('recurrent.stop', loaded);
  });

  test('a worker that dies is reported and the run restarts from its last checkpoint', async () => {
    const target = vscode.Uri.file(join(dir, 'before-crash.safetensors'));
    await vscode.commands.executeCommand('recurrent.saveCheckpoint', runId, target);
    const checkpointStep = api.status(runId)!.checkpoint!.step;
    assert.ok(api.crashWorker, 'expected the test-only crash hook outside production mode');
    api.crashWorker(runId, 'exit');
    await until('the crash to be noticed', () => state(runId) === 'crashed');
    assert.match(api.status(runId)!.problem ?? '', /exited with code 3/);
    await vscode.commands.executeCommand('recurrent.restart', runId);
    await until('the restarted run', () => state(runId) === 'running' || state(runId) === 'paused');
    await until('training after the restart', () => steps(runId) > checkpointStep + 3);
  });

  test('a worker that runs out of memory is reported as such', async () => {
    const id = (await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      fresh: true,
      overrides: { ...SMALL, workerMemoryMB: 128 },
      openDashboard: false,
    }))!;
    await vscode.commands.executeCommand('recurrent.pause', id);
    api.crashWorker!(id, 'oom');
    await until('the out-of-memory crash', () => state(id) === 'crashed', 30_000);
    assert.match(api.status(id)!.problem ?? '', /ran out of memory/);
  });

  test('bad input gets a message and starts no worker', async () => {
    const before = api.runs().length;
    for (const content of ['', 'aaaaaaaaaa', 'ab\u0000\u0000cd']) {
      const bad = await vscode.workspace.openTextDocument({ content, language: 'plaintext' });
      await vscode.window.showTextDocument(bad);
      const id = await vscode.commands.executeCommand<string | undefined>('recurrent.trainCurrentFile', {
        fresh: true,
        overrides: SMALL,
        openDashboard: false,
      });
      assert.equal(id, undefined, `expected no run for ${JSON.stringify(content)}`);
    }
    const invalid = await vscode.commands.executeCommand<string | undefined>('recurrent.trainCurrentFile', {
      uri: doc.uri,
      fresh: true,
      overrides: { ...SMALL, 'model.hiddenSize': 0 },
    });
    assert.equal(invalid, undefined, 'expected no run with an invalid setting');
    assert.equal(api.runs().length, before, 'expected no new run (and so no worker) after bad input');
  });

  test('a model too large for memory is refused before it is built, in one line naming the settings to lower', async () => {
    // What the user is shown: the extension's error messages, read as they are passed to VS Code.
    const shown: string[] = [];
    const window = vscode.window as { showErrorMessage: (...a: unknown[]) => unknown };
    const original = window.showErrorMessage;
    window.showErrorMessage = (...a: unknown[]) => {
      shown.push(String(a[0]));
      return original.apply(vscode.window, a);
    };
    const before = api.runs().map((r) => r.runId);
    let id: string | undefined;
    const started = Date.now();
    try {
      // Batch 1,024 of windows of 4,000 at hidden 1,024: hundreds of GiB, past the engine's 4 GiB of
      // WebAssembly memory and this machine alike; a model built first would fail halfway, or take the host down.
      id = await vscode.commands.executeCommand<string | undefined>('recurrent.trainCurrentFile', {
        uri: doc.uri,
        fresh: true,
        overrides: { ...SMALL, 'model.hiddenSize': 1024, 'training.batchSize': 1024, 'training.sequenceLength': 4000 },
        openDashboard: false,
      });
    } finally {
      window.showErrorMessage = original;
    }
    const ms = Date.now() - started;
    assert.equal(id, undefined, 'expected no run for a model too large for memory');
    assert.equal(shown.length, 1, `expected one error message, there were ${JSON.stringify(shown)}`);
    const said = shown[0]!;
    assert.ok(!said.includes('\n'), `expected one line, it says ${JSON.stringify(said)}`);
    assert.match(
      said,
      /^Recurrent Studio: training this model needs about [\d.]+ [GT]iB, more than .+: lower recurrent\.training\.batchSize \(1024\) or recurrent\.training\.sequenceLength \(or k2\) \(4000\), which it grows with, or recurrent\.model\.hiddenSize \(1024\)$/,
    );
    assert.deepEqual(
      api.runs().map((r) => r.runId),
      before,
      'expected no run left behind (and so no worker) by the refused model',
    );
    // The extension host lives on and trains a model that fits.
    const small = (await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      uri: doc.uri,
      fresh: true,
      overrides: SMALL,
      openDashboard: false,
    }))!;
    assert.ok(small, 'expected a run of a small model after the refusal');
    try {
      await until('updates of the small model', () => steps(small) >= 5);
    } finally {
      await vscode.commands.executeCommand('recurrent.stop', small);
    }
    console.log(`refused in ${ms} ms: ${said}`);
  });

  test("two training threads in the extension host's worker learn as one does, and the run says so", async () => {
    const id = (await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      uri: doc.uri,
      fresh: true,
      overrides: { ...SMALL, 'training.threads': 2 },
      openDashboard: false,
    }))!;
    assert.ok(id, 'expected a run on two threads');
    try {
      await until('60 updates on two threads', () => steps(id) >= 60);
      assert.equal(history(id).run?.train.threads, 2, 'expected the run to report two threads');
      const losses = history(id).metrics.map((m) => m.lossNats);
      assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)) - 0.3, 'expected the loss to fall on two threads too');
    } finally {
      await vscode.commands.executeCommand('recurrent.stop', id);
    }
  });
});
