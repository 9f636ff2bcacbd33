// The model's view of the text, inside a real extension host: train briefly, then the loss heat on the
// visible text, a hover's content, edits that shift or drop the heat, an exploding gradient (a huge
// learning rate without clipping) and a vanishing one (a vanilla RNN over a long window) as diagnostics,
// and a quick fix that writes the run's settings. Small models: seconds of training.
import * as assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { until } from './until.js';
import type { RecurrentApi } from '../../src/extension/extension.js';

const SMALL = {
  'model.cell': 'lstm',
  'model.hiddenSize': 32,
  'training.batchSize': 8,
  'training.sequenceLength': 32,
  'training.learningRate': 0.01,
  'training.evaluateEvery': 0,
  'training.maxSteps': 80,
  'sampling.everySeconds': 0,
  autosaveIntervalSeconds: 0,
};

const ours = (uri: vscode.Uri): vscode.Diagnostic[] => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Recurrent Studio');
const code = (d: vscode.Diagnostic): string => String(typeof d.code === 'object' ? d.code.value : d.code);

suite("The model's view in the editor", function () {
  this.timeout(240_000);
  let api: RecurrentApi;
  let doc: vscode.TextDocument;
  let editor: vscode.TextEditor;
  /** The file's text, which every run of the suite must read: the edits of one test are reverted. */
  let original: string;

  const state = (id: string): string => api.status(id)?.state ?? 'gone';
  const train = async (overrides: Record<string, unknown>): Promise<string> => {
    await vscode.window.showTextDocument(doc);
    const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
      uri: doc.uri,
      fresh: true,
      overrides,
      openDashboard: false,
    });
    assert.ok(id, 'expected the train command to return a run id');
    return id;
  };

  suiteSetup(async () => {
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio');
    assert.ok(ext, 'expected the recurrent-studio extension');
    api = (await ext.activate()) as RecurrentApi;
    assert.ok(api.editor, 'expected the editor features in the test API (development mode)');
    const [file] = await vscode.workspace.findFiles('*.txt');
    assert.ok(file, 'expected a .txt file in the workspace');
    // The browser workbench saves an edited file a second after the edit (files.autoSave is afterDelay
    // on the web): a test's edits must stay unsaved, or reverting them would leave them in the file and
    // the next run would train on another text.
    await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Workspace);
    await until('auto save off', () => vscode.workspace.getConfiguration('files').get('autoSave') === 'off');
    doc = await vscode.workspace.openTextDocument(file);
    editor = await vscode.window.showTextDocument(doc);
    original = doc.getText();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('recurrent.toggleLossHeat', false);
    const config = vscode.workspace.getConfiguration('recurrent');
    for (const key of [
      'training.learningRate',
      'training.clipNorm',
      'model.cell',
      'training.sequenceLength',
      'training.k1',
      'training.k2',
    ]) {
      await config.update(key, undefined, vscode.ConfigurationTarget.Workspace);
    }
    for (const r of api?.runs() ?? []) await vscode.commands.executeCommand('recurrent.stop', r.runId);
    if (doc?.isDirty) await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.workspace.getConfiguration('files').update('autoSave', undefined, vscode.ConfigurationTarget.Workspace);
  });

  test('loss heat tints the visible text once a model is trained', async () => {
    const id = await train(SMALL);
    await until('the run to finish', () => state(id) === 'finished');
    assert.equal(await vscode.commands.executeCommand('recurrent.toggleLossHeat', true), true, 'expected the toggle to report heat on');
    const levels = await until('loss heat drawn', () => api.editor!.heat.drawnLevels(doc) ?? undefined);
    const hot = levels.reduce((a, b) => a + b, 0);
    assert.equal(levels.length, 4, `expected 4 heat levels, got ${levels.length}`);
    assert.ok(hot > 10, `expected more than 10 surprising tokens in the visible text after 80 updates, got ${hot} (${levels.join(', ')})`);
  });

  test('a hover shows the top guesses, the loss in bits, the gradient reach and the gates', async () => {
    const position = doc.positionAt(doc.getText().indexOf('e', 200));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, position);
    const text = hovers
      .flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)))
      .find((c) => c.includes('Recurrent Studio'));
    assert.ok(text, `expected a Recurrent Studio hover, got ${hovers.length} hovers`);
    assert.match(text, /Loss of the actual token: \*\*\d+\.\d\d bits\*\*/);
    assert.equal((text.match(/^\| `.*` .*\| [\d.]+%/gm) ?? []).length, 5, `expected five guesses in the hover, got:\n${text}`);
    assert.match(text, /Gradient reaching here from the end of its 32-step window, \d+ steps later: \*\*[\d.e+-]+\*\*/);
    assert.match(text, /Saturated gates: |No gate saturated here\./);
  });

  test('typing before the text shifts the heat; typing into a token drops it', async () => {
    // What is drawn must change only through the edits: a refresh (every few seconds, or on scrolling)
    // would probe the newly visible text instead, which an insertion has pushed down.
    const held = await api.editor!.heat.hold();
    try {
      const before = api.editor!.heat.drawnLevels(doc)!.reduce((a, b) => a + b, 0);
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), '\n\n'));
      const shifted = api.editor!.heat.drawnLevels(doc)!.reduce((a, b) => a + b, 0);
      assert.equal(shifted, before, `expected every tinted token to survive an insertion before them, ${before} before, ${shifted} after`);
      // Type into the middle of the visible text: every token the edit touched loses its tint.
      const mid = doc.offsetAt(editor.visibleRanges[0]!.start) + 300;
      await editor.edit((e) => e.replace(new vscode.Range(doc.positionAt(mid), doc.positionAt(mid + 200)), 'zz'));
      const dropped = api.editor!.heat.drawnLevels(doc)!.reduce((a, b) => a + b, 0);
      assert.ok(dropped < before, `expected the replaced tokens to lose their tint, ${before} before, ${dropped} after`);
    } finally {
      held.dispose();
      await vscode.commands.executeCommand('workbench.action.files.revert');
      // The next runs must train on the file's text, not the edited one.
      await until(
        () =>
          `the edits reverted; the document is ${doc.isDirty ? 'edited' : 'as saved'}, ${doc.getText().length - original.length} characters longer`,
        () => !doc.isDirty && doc.getText() === original,
      );
    }
  });

  test('a huge learning rate without clipping is diagnosed where it exploded, and its quick fix lowers the rate', async () => {
    // A vanilla RNN at SGD rate 80: its third update's norm is about 2000, over 100 times the ones before.
    const id = await train({
      ...SMALL,
      'model.cell': 'rnn',
      'training.optimizer': 'sgd',
      'training.learningRate': 80,
      'training.clipNorm': 0,
      'training.maxSteps': 40,
    });
    await until('the run to stop', () => ['finished', 'stopped'].includes(state(id)));
    await api.editor!.diagnostics.settled();
    const found = await until(
      () =>
        `an exploding-gradient diagnostic; the run is ${state(id)}, the document ${doc.isDirty ? 'edited' : 'as saved'} (version ${doc.version}), its diagnostics: ${JSON.stringify(ours(doc.uri).map((d) => `${code(d)}: ${d.message}`))}`,
      () => ours(doc.uri).find((d) => code(d) === 'exploding'),
    );
    assert.match(
      found.message,
      /Exploding gradient at update \d+: the gradient norm .* was [\d.e+]+, [\d.e+]+ times the run's median; not clipped \(clipping is off\)/,
    );
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      found.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const titles = actions.map((a) => a.title);
    const lower = actions.find((a) => /^Lower the learning rate to 8 /.test(a.title));
    assert.ok(lower?.command, `expected a quick fix lowering the learning rate to 8, got ${titles.join(' | ')}`);
    assert.ok(
      titles.some((t) => /Turn on gradient clipping/.test(t)),
      `expected a quick fix turning on clipping, got ${titles.join(' | ')}`,
    );
    await vscode.commands.executeCommand(lower.command.command, ...(lower.command.arguments ?? []));
    const lr = vscode.workspace.getConfiguration('recurrent').get<number>('training.learningRate');
    assert.equal(lr, 8, `expected the quick fix to set recurrent.training.learningRate to 8, got ${lr}`);

    // A .recurrent.json that sets the rate wins over the settings, so the fix must change it there.
    const config = vscode.workspace.getConfiguration('recurrent');
    await config.update('training.learningRate', undefined, vscode.ConfigurationTarget.Workspace);
    const runFile = vscode.Uri.joinPath(doc.uri, '..', '.recurrent.json');
    await vscode.workspace.fs.writeFile(runFile, new TextEncoder().encode('{ "training": { "learningRate": 80 } }\n'));
    try {
      await vscode.commands.executeCommand(lower.command.command, ...(lower.command.arguments ?? []));
      const written = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(runFile))) as {
        training: { learningRate: number };
      };
      assert.equal(
        written.training.learningRate,
        8,
        'expected the quick fix to lower the rate in .recurrent.json, which overrides the settings',
      );
      const inSettings = vscode.workspace.getConfiguration('recurrent').inspect<number>('training.learningRate')?.workspaceValue;
      assert.equal(inSettings, undefined, `expected the settings untouched when .recurrent.json holds the key, got ${inSettings}`);
    } finally {
      await vscode.workspace.fs.delete(runFile);
    }
  });

  test('a vanilla RNN over a long window is diagnosed where its gradient vanishes', async () => {
    const id = await train({
      ...SMALL,
      'model.cell': 'rnn',
      'training.learningRate': 0.002,
      'training.sequenceLength': 160,
      'training.maxSteps': 60,
    });
    await until('the run to finish', () => state(id) === 'finished');
    await api.editor!.diagnostics.settled();
    const found = await until('a vanishing-gradient diagnostic', () => ours(doc.uri).find((d) => code(d) === 'vanishing'));
    const m = /reaches back only (\d+) steps .* these (\d+) tokens get no learning signal/.exec(found.message);
    assert.ok(m, `expected the diagnostic to say how far the gradient reaches, got: ${found.message}`);
    assert.ok(
      Number(m[1]) < 160 && Number(m[1]) + Number(m[2]) === 160,
      `expected reach + unreached = the 160-step window, got ${m[1]} + ${m[2]}`,
    );
    const spanChars = doc.offsetAt(found.range.end) - doc.offsetAt(found.range.start);
    assert.equal(spanChars, Number(m[2]), `expected the diagnostic on the ${m[2]} unreached characters, got ${spanChars}`);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      found.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    assert.ok(
      actions.some((a) => a.title === 'Switch to an LSTM cell'),
      `expected a switch-to-LSTM fix, got ${actions.map((a) => a.title).join(' | ')}`,
    );
  });

  test("a new run on the file clears the earlier runs' diagnostics", async () => {
    const id = await train({ ...SMALL, 'training.maxSteps': 2 });
    await until('the run to finish', () => state(id) === 'finished');
    await api.editor!.diagnostics.settled();
    // The RNN's 160-step windows and the exploding run belong to runs that no longer speak for the file.
    const left = ours(doc.uri).filter((d) => code(d) === 'exploding' || /160-step/.test(d.message));
    assert.equal(left.length, 0, `expected the earlier runs' diagnostics cleared, got ${left.map((d) => d.message).join(' | ')}`);
  });
});
