// Recurrent: New Experiment... inside a real extension host: the palette's command, given the answers its
// pickers would ask for, writes the experiment's data files into the workspace, trains its runs as the
// window's runs (each its own worker), and ends with a verdict computed from them, kept in report.json.
// The quick forms of the exploding-gradient experiment (two small language models, seconds of training) and
// of the bidirectional one (four small classifiers on task files).
import * as assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { num, type ExperimentReport } from '../../src/engine/experiments/report.js';
import type { RecurrentApi } from '../../src/extension/extension.js';

suite('Experiments: Recurrent: New Experiment...', function () {
  this.timeout(600_000);
  let api: RecurrentApi;
  let folder: vscode.Uri;

  suiteSetup(async () => {
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio');
    assert.ok(ext, 'expected the recurrent-studio extension');
    api = (await ext.activate()) as RecurrentApi;
    const root = vscode.workspace.workspaceFolders?.[0]?.uri;
    assert.ok(root, 'expected a workspace folder');
    folder = vscode.Uri.joinPath(root, 'experiments', 'exploding');
  });

  suiteTeardown(async () => {
    for (const f of [folder, folder && vscode.Uri.joinPath(folder, '..', 'bidirectional')])
      if (f) await vscode.workspace.fs.delete(f, { recursive: true }).then(undefined, () => undefined);
  });

  test('the command is in the palette, trains the quick exploding-gradient runs in the workspace, and ends with their verdict', async () => {
    const palette = (await vscode.commands.getCommands(true)).filter((c) => c === 'recurrent.newExperiment');
    assert.equal(palette.length, 1, 'expected recurrent.newExperiment among the registered commands');
    const before = new Set(api.runs().map((r) => r.runId));
    const report = await vscode.commands.executeCommand<ExperimentReport>('recurrent.newExperiment', {
      name: 'exploding',
      quick: true,
      openDashboard: false,
    });
    assert.ok(report, 'expected the command to return the report');
    assert.ok(report.verdict, `expected a verdict, got a report whose runs are ${JSON.stringify(report.runs.map((r) => r.status))}`);
    assert.ok(['agrees', 'partly', 'disagrees', 'inconclusive'].includes(report.verdict.agreement));
    // The verdict speaks of what the runs measured: the unclipped run's largest gradient norm is in it.
    assert.equal(report.runs.length, 2);
    for (const r of report.runs) assert.ok(r.outcome, `expected an outcome for ${r.label}`);
    const unclipped = report.runs.find((r) => /no clipping/.test(r.label))?.outcome;
    assert.ok(unclipped, `expected a run without clipping among ${report.runs.map((r) => r.label).join(', ')}`);
    assert.ok(report.verdict.summary.includes(`largest gradient norm was ${num(unclipped.maxNorm)}`), report.verdict.summary);
    // Its runs are the window's runs, trained to the end in their workers.
    const mine = api.runs().filter((r) => !before.has(r.runId));
    assert.equal(mine.length, 2, `expected the experiment's two runs among the window's runs, got ${mine.length}`);
    assert.deepEqual(
      report.runs.map((r) => r.status),
      ['done', 'done'],
    );
    // The data file and the report are real files in the workspace, the report the one returned.
    const names = (await vscode.workspace.fs.readDirectory(folder)).map(([n]) => n).sort();
    assert.ok(names.includes('report.json'), `expected report.json in ${folder.fsPath}, found ${names.join(', ')}`);
    assert.ok(
      names.some((n) => n.endsWith('.txt')),
      `expected the experiment's data file in ${folder.fsPath}, found ${names.join(', ')}`,
    );
    const saved = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, 'report.json'))));
    assert.deepEqual(saved.verdict, report.verdict);
  });

  test('the bidirectional experiment trains its classifiers on its task files and judges them', async () => {
    const before = new Set(api.runs().map((r) => r.runId));
    const report = await vscode.commands.executeCommand<ExperimentReport>('recurrent.newExperiment', {
      name: 'bidirectional',
      quick: true,
      openDashboard: false,
    });
    assert.ok(report?.verdict, `expected a verdict, got ${JSON.stringify(report?.runs.map((r) => [r.status, r.problem]))}`);
    assert.deepEqual(
      report.runs.map((r) => r.status),
      ['done', 'done', 'done', 'done'],
    );
    assert.equal(api.runs().filter((r) => !before.has(r.runId)).length, 4);
    // Each classifier was measured on its file's held-out lines, and the verdict quotes those measurements.
    const named = (id: string): string => `${Math.round(report.runs.find((r) => r.id === id)!.outcome!.recall.at(-1)!.accuracy * 100)}%`;
    assert.ok(
      report.verdict.summary.includes(
        `the forward reader named ${named('forward-start-seed1')} of the held-out keys and the bidirectional one ${named('both-start-seed1')}`,
      ),
      report.verdict.summary,
    );
    const names = (await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(folder, '..', 'bidirectional'))).map(([n]) => n).sort();
    assert.deepEqual(names, ['key-at-end-gap-6.tsv', 'key-at-start-gap-6.tsv', 'report.json']);
  });
});
