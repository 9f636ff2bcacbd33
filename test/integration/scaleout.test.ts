// Studio -> PyTorch -> Studio inside a real extension host: Export for PyTorch with training writes the
// folder, train.py (Debian's python3-torch at /usr/bin/python3, or RECURRENT_TORCH_PYTHON) trains the run
// on there, and Import Run brings it back as one run: its curve has both parts, it says where each
// trained, Load Checkpoint lists it, and it trains on here. Without torch the PyTorch part is skipped.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { until } from './until.js';
import type { RecurrentApi } from '../../src/extension/extension.js';

const PYTHON = process.env.RECURRENT_TORCH_PYTHON ?? '/usr/bin/python3';
const hasTorch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { timeout: 120_000 }).status === 0;
const SMALL = {
  'model.hiddenSize': 24,
  'training.batchSize': 4,
  'training.sequenceLength': 24,
  'training.learningRate': 0.01,
  'training.evaluateEvery': 0,
  'sampling.everySeconds': 0,
  autosaveIntervalSeconds: 0,
};
const MORE = 20;

suite('Scaling out: a run continued in PyTorch comes back', () => {
  let api: RecurrentApi;
  let doc: vscode.TextDocument;
  // Made when the suite runs, not when it is defined: a run of other suites (RECURRENT_INTEGRATION_GREP) leaves no folder.
  let dir = '';
  let folder: vscode.Uri;
  let runId: string;
  let exportedAt = 0;

  const steps = (id: string): number => api.status(id)?.step ?? 0;
  const state = (id: string): string => api.status(id)?.state ?? 'gone';
  const history = (id: string) => api.runs().find((r) => r.runId === id)!;

  suiteSetup(async () => {
    dir = mkdtempSync(join(tmpdir(), 'recurrent-it-scaleout-'));
    folder = vscode.Uri.file(join(dir, 'torch'));
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio');
    api = (await ext!.activate()) as RecurrentApi;
    const [file] = await vscode.workspace.findFiles('*.txt');
    doc = await vscode.workspace.openTextDocument(file!);
    await vscode.window.showTextDocument(doc);
  });

  suiteTeardown(async () => {
    for (const r of api?.runs() ?? []) await vscode.commands.executeCommand('recurrent.stop', r.runId);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('Export for PyTorch with training writes the folder train.py continues', async () => {
    runId = (await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      fresh: true,
      overrides: SMALL,
      openDashboard: false,
    }))!;
    await until('30 updates', () => steps(runId) >= 30);
    await vscode.commands.executeCommand('recurrent.pause', runId);
    await until('paused', () => state(runId) === 'paused');
    exportedAt = steps(runId);
    const readme = await vscode.commands.executeCommand<vscode.Uri>('recurrent.exportPyTorch', runId, folder, true);
    assert.equal(readme?.fsPath, join(folder.fsPath, 'README.md'));
    for (const name of ['model.safetensors', 'model.py', 'train.py', 'README.md'])
      assert.ok(existsSync(join(folder.fsPath, name)), `expected ${name}`);
    const name = doc.uri.path.split('/').pop()!;
    assert.match(readFileSync(readme!.fsPath, 'utf8'), new RegExp(`python train.py ${name.replace('.', '\\.')} --steps`));
  });

  test('train.py trains on, and Import Run brings the run back as one curve that trains on here', async function () {
    if (!hasTorch) this.skip(); // no torch here: apt-get install python3-torch, or set RECURRENT_TORCH_PYTHON
    this.timeout(300_000);
    const child = spawn(PYTHON, [join(folder.fsPath, 'train.py'), doc.uri.fsPath, '--steps', String(MORE)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `train.py failed:\n${stderr}`);

    const imported = (await vscode.commands.executeCommand<string>('recurrent.importRun', { uri: folder, textUri: doc.uri }))!;
    assert.ok(imported && imported !== runId, `expected a new run, got ${imported}`);
    await until('the imported run, paused', () => state(imported) === 'paused');
    const h = history(imported);
    const curve = h.metrics.map((m) => m.step);
    assert.equal(curve.at(-1), exportedAt + MORE, 'the curve reaches the last update train.py made');
    assert.ok(curve.includes(1) && curve.includes(exportedAt) && curve.includes(exportedAt + 1), 'both parts are on the curve');
    assert.deepEqual(
      h.run!.segments!.map((s) => [s.by, s.from, s.to]),
      [
        ['recurrent-studio', 0, exportedAt],
        ['pytorch', exportedAt, exportedAt + MORE],
        ['recurrent-studio', exportedAt + MORE, exportedAt + MORE],
      ],
    );
    assert.equal(
      await vscode.commands.executeCommand<string>('recurrent.loadCheckpoint', { runId: imported }),
      imported,
      'Load Checkpoint lists the imported run',
    );
    await until('the reloaded run, paused', () => state(imported) === 'paused');
    await vscode.commands.executeCommand('recurrent.resume', imported);
    await until('training on here', () => steps(imported) > exportedAt + MORE + 5);
  });

  test('a classify run goes the same way: exported with training, trained on by train.py, imported as one curve', async function () {
    if (!hasTorch) this.skip();
    this.timeout(300_000);
    const [names] = await vscode.workspace.findFiles('first-names.tsv');
    const all = new TextDecoder().decode(await vscode.workspace.fs.readFile(names!)).split('\n');
    const tsv = vscode.Uri.joinPath(names!, '..', 'names-scaleout.tsv');
    await vscode.workspace.fs.writeFile(tsv, new TextEncoder().encode(all.filter((_, i) => i % 20 === 0).join('\n')));
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(tsv));
      const id = (await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
        uri: tsv,
        fresh: true,
        openDashboard: false,
        task: 'classify',
        overrides: { 'model.hiddenSize': 16, 'training.evaluateEvery': 10, 'sampling.everySeconds': 0, autosaveIntervalSeconds: 0 },
      }))!;
      await until('20 updates', () => steps(id) >= 20);
      await vscode.commands.executeCommand('recurrent.pause', id);
      await until('paused', () => state(id) === 'paused');
      const at = steps(id);
      const taskFolder = vscode.Uri.file(join(dir, 'torch-classify'));
      const readme = await vscode.commands.executeCommand<vscode.Uri>('recurrent.exportPyTorch', id, taskFolder, true);
      assert.match(readFileSync(readme!.fsPath, 'utf8'), /python train\.py names-scaleout\.tsv --steps/);
      const child = spawn(PYTHON, [join(taskFolder.fsPath, 'train.py'), tsv.fsPath, '--steps', String(MORE)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, `train.py failed:\n${stderr}`);

      const imported = (await vscode.commands.executeCommand<string>('recurrent.importRun', { uri: taskFolder, textUri: tsv }))!;
      await until('the imported classify run, paused', () => state(imported) === 'paused');
      const h = history(imported);
      assert.equal(h.run!.model.task, 'classify');
      const curve = h.metrics.map((m) => m.step);
      assert.equal(curve.at(-1), at + MORE, 'the curve reaches the last update train.py made');
      assert.ok(curve.includes(1) && curve.includes(at) && curve.includes(at + 1), 'both parts are on the curve');
      assert.deepEqual(
        h.run!.segments!.map((s) => [s.by, s.from, s.to]),
        [
          ['recurrent-studio', 0, at],
          ['pytorch', at, at + MORE],
          ['recurrent-studio', at + MORE, at + MORE],
        ],
      );
      await vscode.commands.executeCommand('recurrent.resume', imported);
      await until('training on here', () => steps(imported) > at + MORE + 5);
      await vscode.commands.executeCommand('recurrent.stop', imported);
      await vscode.commands.executeCommand('recurrent.stop', id);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.workspace.fs.delete(tsv);
    }
  });
});
