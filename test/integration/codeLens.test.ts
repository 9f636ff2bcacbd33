// The CodeLens at the top of a trained file, through vscode.executeCodeLensProvider inside a real extension
// host: none on a file without a model; Pause/Resume while a run trains; Train, Sample, the bits per token
// and the loss-heat switch once it finished; and each lens's command doing what its title says.
import * as assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { until } from './until.js';
import type { RecurrentApi } from '../../src/extension/extension.js';

const SMALL = {
  'model.cell': 'lstm',
  'model.hiddenSize': 16,
  'training.batchSize': 4,
  'training.sequenceLength': 16,
  'training.learningRate': 0.01,
  'training.evaluateEvery': 0,
  'sampling.everySeconds': 0,
  autosaveIntervalSeconds: 0,
};

suite('The CodeLens of a file with a model', function () {
  this.timeout(120_000);
  let api: RecurrentApi;
  let folder: vscode.Uri;
  let doc: vscode.TextDocument;

  const state = (id: string): string => api.status(id)?.state ?? 'gone';
  const lenses = async (): Promise<vscode.CodeLens[]> =>
    (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 10)).filter((l) =>
      l.command?.command.startsWith('recurrent.'),
    );
  const titles = async (): Promise<string[]> => (await lenses()).map((l) => l.command!.title);
  const lensFor = async (title: RegExp): Promise<vscode.Command> => {
    const found = (await lenses()).find((l) => title.test(l.command!.title));
    assert.ok(found?.command, `expected a lens matching ${title}, got ${JSON.stringify(await titles())}`);
    return found.command;
  };

  suiteSetup(async () => {
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio');
    assert.ok(ext, 'expected the recurrent-studio extension');
    api = (await ext.activate()) as RecurrentApi;
    const [sample] = await vscode.workspace.findFiles('*.txt');
    assert.ok(sample, 'expected a .txt file in the workspace');
    // A file of its own (in a folder, out of the other suites' *.txt), so no earlier run or checkpoint speaks for it.
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(sample)).slice(0, 20_000);
    folder = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'codelens-suite');
    const file = vscode.Uri.joinPath(folder, 'speech.txt');
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(text));
    doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
  });

  suiteTeardown(async () => {
    for (const r of api?.runs() ?? []) if (r.file === doc?.uri.toString()) await vscode.commands.executeCommand('recurrent.stop', r.runId);
    await vscode.commands.executeCommand('recurrent.toggleLossHeat', false);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (folder) await vscode.workspace.fs.delete(folder, { recursive: true, useTrash: false });
  });

  test('a file no model was trained on has no lens', async () => {
    assert.deepEqual(await titles(), []);
  });

  test('while a run trains the lens pauses and resumes it', async () => {
    const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      uri: doc.uri,
      fresh: true,
      overrides: { ...SMALL, 'training.maxSteps': 0 },
      openDashboard: false,
    });
    assert.ok(id, 'expected a run id');
    await until('the run to train', () => state(id) === 'running');
    const pause = await until('a Pause lens', async () => (await lenses()).find((l) => /Pause$/.test(l.command!.title))?.command);
    assert.equal(pause.command, 'recurrent.pause');
    await vscode.commands.executeCommand(pause.command, ...(pause.arguments ?? []));
    await until('the run to pause', () => state(id) === 'paused');
    const resume = await lensFor(/Resume$/);
    await vscode.commands.executeCommand(resume.command, ...(resume.arguments ?? []));
    await until('the run to resume', () => state(id) === 'running');
    await vscode.commands.executeCommand('recurrent.stop', id);
    await until('the run to stop', () => state(id) !== 'running');
  });

  test('a finished run offers Train, Sample, its bits per token and the loss-heat switch', async () => {
    const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      uri: doc.uri,
      fresh: true,
      overrides: { ...SMALL, 'training.maxSteps': 30 },
      openDashboard: false,
    });
    assert.ok(id, 'expected a run id');
    await until('the run to finish', () => state(id) === 'finished');
    const shown = await until(
      'the lens of update 30',
      async () => {
        const t = await titles();
        return t.some((x) => /bits\/token at update 30$/.test(x)) ? t : undefined;
      },
      10_000,
    );
    assert.equal(shown.length, 4, `expected four lenses, got ${JSON.stringify(shown)}`);
    assert.match(shown[0]!, /Train$/);
    assert.match(shown[1]!, /Sample$/);
    const bits = Number(/^(\d+\.\d{3}) bits\/token at update 30$/.exec(shown[2]!)?.[1]);
    // A character model on English text: well below log2 of its ~70 symbols (6.1 bits) after 30 updates, above 0.
    assert.ok(bits > 0 && bits < 6.2, `expected a bits-per-token figure between 0 and 6.2, got "${shown[2]}"`);
    assert.match(shown[3]!, /Loss heat: (on|off)$/);
    const top = (await lenses())[0]!.range;
    assert.ok(top.start.line === 0 && top.isEmpty, `expected the lenses on the first line, got line ${top.start.line}`);
  });

  test("the Sample lens samples from the file's model", async () => {
    const sample = await lensFor(/Sample$/);
    assert.equal(sample.command, 'recurrent.sample');
    const args = (sample.arguments?.[0] ?? {}) as Record<string, unknown>;
    // The lens asks for the prompt, length and temperature; a test answers them in the arguments.
    const text = await vscode.commands.executeCommand<string>(sample.command, {
      ...args,
      prime: 'The ',
      length: 40,
      temperature: 1,
      seed: 7,
      editor: false,
    });
    assert.equal(typeof text, 'string', `expected the sample's text, got ${String(text)}`);
    assert.ok(text.length >= 40, `expected at least 40 characters sampled, got ${JSON.stringify(text)}`);
  });

  test('the bits-per-token lens opens the dashboard', async () => {
    const open = await lensFor(/bits\/token/);
    assert.equal(open.command, 'recurrent.openDashboard');
    await vscode.commands.executeCommand(open.command, ...(open.arguments ?? []));
    const tab = await until('a dashboard tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview),
    );
    await vscode.window.tabGroups.close(tab);
    await vscode.window.showTextDocument(doc);
  });

  test('the loss-heat lens switches the heat and says so', async () => {
    await vscode.commands.executeCommand('recurrent.toggleLossHeat', false);
    const toggle = await lensFor(/Loss heat: off$/);
    await vscode.commands.executeCommand(toggle.command, ...(toggle.arguments ?? []));
    assert.ok(api.editor?.heat.enabled, 'expected the heat on after the lens');
    await lensFor(/Loss heat: on$/);
    const levels = await until('loss heat drawn', () => api.editor!.heat.drawnLevels(doc) ?? undefined);
    assert.ok(levels.reduce((a, b) => a + b, 0) > 0, `expected tinted tokens after 30 updates, got levels ${levels.join(', ')}`);
  });

  test('the Train lens trains the file again', async () => {
    const train = await lensFor(/Train$/);
    assert.equal(train.command, 'recurrent.trainCurrentFile');
    const args = (train.arguments?.[0] ?? {}) as { uri?: vscode.Uri };
    assert.equal(args.uri?.toString(), doc.uri.toString(), 'expected the lens to name its file');
    // The lens passes the file; a person would then be asked whether to resume the saved model, which a test answers up front.
    const before = new Set(api.runs().map((r) => r.runId));
    const id = await vscode.commands.executeCommand<string>(train.command, {
      ...args,
      fresh: true,
      overrides: { ...SMALL, 'training.maxSteps': 5 },
      openDashboard: false,
    });
    assert.ok(id && !before.has(id), `expected a new run, got ${String(id)}`);
    await until('the new run to finish', () => state(id) === 'finished');
    await until('the lens to follow the new run', async () => (await titles()).some((t) => /bits\/token at update 5$/.test(t)), 10_000);
  });
});
