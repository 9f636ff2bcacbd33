// Classify, generate and translate from a .tsv file inside a real extension host: Train on Current File
// with the task chosen once and remembered for the file, held-out accuracy (translate: word and token
// error rates) in the run's history, each line's prediction as an inline hint, wrong ones as diagnostics,
// the hover's ranked labels, Predict on a text and on a selection, and Sample per label of a generator;
// e-mails of spam-assassin classified, and a saved classify run loaded paused that predicts as the run it
// came from. A tenth of the sample names, a quarter of the sample pronunciations, small models.
import * as assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import { until } from './until.js';
import { spamAssassinRows } from '../../scripts/spamAssassin.mjs';
import type { RecurrentApi } from '../../src/extension/extension.js';
import type { Prediction } from '../../src/extension/commands/predict.js';

const SMALL = {
  'model.hiddenSize': 24,
  'training.maxSteps': 120,
  'training.evaluateEvery': 40,
  'sampling.everySeconds': 0,
  autosaveIntervalSeconds: 0,
};

const ours = (uri: vscode.Uri): vscode.Diagnostic[] =>
  vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Recurrent Studio' && d.code === 'wrong-prediction');

suite('Tasks: classify, generate and translate a .tsv file', function () {
  this.timeout(300_000);
  let api: RecurrentApi;
  let doc: vscode.TextDocument;
  let uri: vscode.Uri;

  const state = (id: string): string => api.status(id)?.state ?? 'gone';
  const train = async (o: Record<string, unknown>): Promise<string> => {
    await vscode.window.showTextDocument(doc);
    const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', { uri, fresh: true, openDashboard: false, ...o });
    assert.ok(id, 'expected the train command to return a run id');
    return id;
  };

  /** Saves run `id` to `target` and loads it back with Load Checkpoint: a new run of `task`, paused, whose id this returns. */
  const saveAndLoad = async (id: string, target: vscode.Uri, textUri: vscode.Uri, task: string): Promise<string> => {
    await vscode.commands.executeCommand('recurrent.saveCheckpoint', id, target);
    const loaded = await vscode.commands.executeCommand<string>('recurrent.loadCheckpoint', { uri: target, textUri });
    assert.ok(loaded && loaded !== id, `expected a new run for the loaded checkpoint, got ${loaded}`);
    await until(
      () => `the loaded run paused; it is ${state(loaded)} (${api.status(loaded)?.problem ?? 'no problem'})`,
      () => state(loaded) === 'paused',
    );
    assert.equal(api.runs().find((r) => r.runId === loaded)!.run!.model.task, task);
    return loaded;
  };

  suiteSetup(async () => {
    const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'recurrent-studio');
    assert.ok(ext, 'expected the recurrent-studio extension');
    api = (await ext.activate()) as RecurrentApi;
    const [names] = await vscode.workspace.findFiles('first-names.tsv');
    assert.ok(names, 'expected first-names.tsv in the workspace');
    const all = new TextDecoder().decode(await vscode.workspace.fs.readFile(names)).split('\n');
    uri = vscode.Uri.joinPath(names, '..', 'names-tenth.tsv');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(all.filter((_, i) => i % 10 === 0).join('\n')));
    doc = await vscode.workspace.openTextDocument(uri);
  });

  suiteTeardown(async () => {
    for (const r of api?.runs() ?? []) await vscode.commands.executeCommand('recurrent.stop', r.runId);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (uri) await vscode.workspace.fs.delete(uri);
  });

  test('classify: the task is chosen once for the file, the run reports held-out accuracy, and each line shows its prediction', async () => {
    const first = await train({ task: 'classify', overrides: { ...SMALL, 'model.bidirectional': true, 'training.maxSteps': 10 } });
    await until('the first run to finish', () => state(first) === 'finished');
    // No task given now: the file's remembered choice is taken without asking (a quick pick would wait forever).
    const id = await train({ overrides: { ...SMALL, 'model.bidirectional': true } });
    await until('the run to finish', () => state(id) === 'finished');
    const h = api.runs().find((r) => r.runId === id)!;
    assert.equal(h.run!.model.task, 'classify');
    assert.equal(h.run!.model.bidirectional, true);
    assert.deepEqual([...h.run!.model.labels!].sort(), ['female', 'male']);
    const heldOut = h.run!.examples!.heldOut;
    assert.ok(heldOut > 50, `expected a tenth of about 800 names held out, got ${heldOut}`);
    const last = h.validation.at(-1)!;
    assert.equal(last.step, 120);
    const accuracy = last.scores!['accuracy']!;
    assert.ok(accuracy >= 0 && accuracy <= 1, `held-out accuracy ${accuracy}`);
    assert.equal(
      last.confusion!.counts.flat().reduce((a, b) => a + b, 0),
      heldOut,
      'the confusion matrix counts every held-out example',
    );

    const shown = await until('predictions of the final model', () => {
      // This run's own: the resumed classify run of the test before may have shown its checkpoint's update 120.
      const s = api.editor!.taskLines.shown(uri);
      return s && s.runId === id && s.step === 120 ? s : undefined;
    });
    const lines = doc
      .getText()
      .split('\n')
      .filter((l) => l.trim()).length;
    assert.equal(shown.lines, lines, 'every line is predicted');
    const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>(
      'vscode.executeInlayHintProvider',
      uri,
      new vscode.Range(0, 0, 40, 0),
    );
    const ourHints = hints.filter((x) => /^→ /.test(typeof x.label === 'string' ? x.label : x.label.map((p) => p.value).join('')));
    assert.equal(ourHints.length, 40, `expected a hint on each of the first 40 lines, got ${ourHints.length}`);
    for (const hint of ourHints) assert.match(hint.label as string, /^→ (female|male) \d+(\.\d)?% [✓✗]( · held out)?$/);
    assert.equal(hints.find((x) => x.position.line === 0)!.position.character, doc.lineAt(0).text.length, 'the hint is after the line');
    const wrong = await until('the wrong predictions as diagnostics', () => (ours(uri).length === shown.wrong ? ours(uri) : undefined));
    assert.ok(shown.wrong > 0 && shown.wrong < lines / 2, `expected some wrong lines and most right, got ${shown.wrong} of ${lines}`);
    assert.match(wrong[0]!.message, /^the model says "(female|male)" \(\d+(\.\d)?% sure\), not "(female|male)"/);
    const line = wrong[0]!.range.start.line;
    assert.equal(wrong[0]!.range.start.character, doc.lineAt(line).text.indexOf('\t') + 1, 'the diagnostic underlines the label');

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line, 1));
    const text = hovers
      .flatMap((x) => x.contents.map((c) => (typeof c === 'string' ? c : c.value)))
      .find((c) => c.includes('Recurrent Studio'));
    assert.ok(text, 'expected the line hover');
    assert.equal((text.match(/^\| (✓ )?(female|male) \| \d/gm) ?? []).length, 2, `both labels ranked:\n${text}`);
    assert.match(text, /Update 120\./);

    const one = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', { runId: id, text: 'Aaron', show: false });
    assert.equal(one!.length, 1);
    assert.match(one![0]!.output, /^(female|male)$/);
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 3, 0);
    const selected = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', { runId: id, show: false });
    assert.deepEqual(
      selected!.map((p) => p.input),
      [0, 1, 2].map((i) => doc.lineAt(i).text.split('\t')[0]),
      'the selection: one prediction per line, of its input',
    );
  });

  test('a saved classify run of the file is offered again and resumes where it stopped', async () => {
    // The run of the test above saved its checkpoint at its end (update 120); Train on the unchanged file resumes it.
    const id = await train({ fresh: false, overrides: { ...SMALL, 'model.bidirectional': true } });
    await until(
      () => `the resumed run to finish; it is ${state(id)} at step ${api.status(id)?.step}`,
      () => state(id) === 'finished',
    );
    const h = api.runs().find((r) => r.runId === id)!;
    assert.equal(h.run!.model.task, 'classify');
    // The run's curve holds the updates before the checkpoint too (its saved history), then those after it.
    const steps = h.metrics.map((m) => m.step);
    assert.ok(
      steps.every((s, i) => i === 0 || s > steps[i - 1]!),
      `updates in order, none trained twice: ${steps.join(',')}`,
    );
    assert.equal(
      steps.find((s) => s > 120),
      121,
      'the first update after the checkpoint is 121',
    );
    assert.equal(h.validation.at(-1)!.step, 240);
  });

  test('generate: per-label samples, bits per character held out, and Predict writes a text for a label', async () => {
    const id = await train({ task: 'generate', overrides: SMALL });
    await until('the run to finish', () => state(id) === 'finished');
    const h = api.runs().find((r) => r.runId === id)!;
    assert.equal(h.run!.model.task, 'generate');
    const bits = h.validation.at(-1)!.bitsPerToken;
    assert.ok(bits > 1 && bits < 5, `held-out bits per character ${bits}`);
    const texts = await vscode.commands.executeCommand<string>('recurrent.sample', {
      runId: id,
      label: 'female',
      count: 3,
      prime: '',
      length: 30,
      temperature: 0.8,
      editor: false,
    });
    assert.equal(texts!.split('\n').length, 3, `three texts for female: ${JSON.stringify(texts)}`);
    const written = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', { runId: id, text: 'male', show: false });
    assert.equal(written![0]!.input, 'male');
    assert.ok(written![0]!.output.length > 0 && !written![0]!.output.includes('\t'));
    const shown = await until('predictions of the generator', () => {
      // This run's own: the resumed classify run of the test before may have shown its checkpoint's update 120.
      const s = api.editor!.taskLines.shown(uri);
      return s && s.runId === id && s.step === 120 ? s : undefined;
    });
    assert.ok(shown.lines > 700);
    const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>(
      'vscode.executeInlayHintProvider',
      uri,
      new vscode.Range(0, 0, 5, 0),
    );
    assert.match(hints.find((x) => x.position.line === 0)!.label as string, /^→ (female|male) \d+(\.\d)?% [✓✗] · \d+\.\d\d bits\/char/);
  });

  test('spam-assassin: e-mails classified as spam or ham, held-out accuracy reported and each line predicted; the saved run loads paused and predicts the same', async () => {
    // Every 20th e-mail of the package (about 300, a third of them spam), cut to 300 characters to keep the run short.
    const rows = spamAssassinRows().filter((_, i) => i % 20 === 0);
    const mails = vscode.Uri.joinPath(uri, '..', 'spam-slice.tsv');
    await vscode.workspace.fs.writeFile(
      mails,
      new TextEncoder().encode(rows.map(([t, label]) => `${t.slice(0, 300)}\t${label}`).join('\n')),
    );
    const loadedIds: string[] = [];
    try {
      const mailDoc = await vscode.workspace.openTextDocument(mails);
      await vscode.window.showTextDocument(mailDoc);
      const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
        uri: mails,
        fresh: true,
        openDashboard: false,
        task: 'classify',
        overrides: { ...SMALL, 'model.hiddenSize': 16, 'model.embeddingSize': 16, 'training.maxSteps': 40, 'training.evaluateEvery': 20 },
      });
      assert.ok(id, 'expected a run');
      await until(
        () => `the run to finish; it is ${state(id)} (${api.status(id)?.problem ?? 'no problem'}) at step ${api.status(id)?.step}`,
        () => state(id) === 'finished',
      );
      const h = api.runs().find((r) => r.runId === id)!;
      assert.equal(h.run!.model.task, 'classify');
      assert.deepEqual([...h.run!.model.labels!].sort(), ['ham', 'spam']);
      const heldOut = h.run!.examples!.heldOut;
      assert.ok(heldOut >= 20 && heldOut <= 40, `expected a tenth of ${rows.length} e-mails held out, got ${heldOut}`);
      const last = h.validation.at(-1)!;
      assert.equal(last.step, 40);
      const accuracy = last.scores!['accuracy']!;
      assert.ok(accuracy >= 0 && accuracy <= 1, `held-out accuracy ${accuracy}`);
      assert.equal(
        last.confusion!.counts.flat().reduce((a, b) => a + b, 0),
        heldOut,
        'the confusion matrix counts every held-out e-mail',
      );
      // 300 e-mails of at most 300 characters fit in one refresh's budget: every line is predicted.
      const shown = await until('predictions of the e-mails', () => {
        const s = api.editor!.taskLines.shown(mails);
        return s && s.runId === id && s.step === 40 ? s : undefined;
      });
      assert.equal(shown.lines, rows.length, 'every e-mail is predicted');
      const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>(
        'vscode.executeInlayHintProvider',
        mails,
        new vscode.Range(0, 0, 10, 0),
      );
      const ourHints = hints.filter((x) => typeof x.label === 'string' && x.label.startsWith('→ '));
      assert.equal(ourHints.length, 10, `expected a hint on each of the first 10 e-mails, got ${ourHints.length}`);
      for (const hint of ourHints) assert.match(hint.label as string, /^→ (ham|spam) \d+(\.\d)?% [✓✗]( · held out)?$/);
      await until('the wrong predictions as diagnostics', () => ours(mails).length === shown.wrong);

      // Load Checkpoint of the saved classify run: a new run, paused, whose Predict is the saved model's.
      const loaded = await saveAndLoad(id, vscode.Uri.joinPath(uri, '..', 'spam-classifier.safetensors'), mails, 'classify');
      loadedIds.push(loaded);
      const texts = rows.slice(0, 3).map(([t]) => t.slice(0, 300));
      const before = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', {
        runId: id,
        text: texts.join('\n'),
        show: false,
      });
      const after = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', {
        runId: loaded,
        text: texts.join('\n'),
        show: false,
      });
      assert.equal(after!.length, 3);
      assert.deepEqual(
        after!.map((p) => [p.output, p.probability]),
        before!.map((p) => [p.output, p.probability]),
        'the loaded model predicts exactly as the run it was saved from',
      );
      assert.equal(state(loaded), 'paused', 'predicting does not train');
    } finally {
      for (const l of loadedIds) await vscode.commands.executeCommand('recurrent.stop', l);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.workspace.fs.delete(mails);
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(uri, '..', 'spam-classifier.safetensors')).then(
        () => undefined,
        () => undefined,
      );
    }
  });

  test('a file of long texts is predicted where the user looks: the lines in view first, then more as the view moves', async () => {
    const [speech] = await vscode.workspace.findFiles('state-of-the-union-1994.txt');
    const once = new TextDecoder().decode(await vscode.workspace.fs.readFile(speech!)).replace(/\s+/g, ' ');
    const text = once.repeat(Math.ceil(150_000 / once.length));
    // 150 texts of 1,000 characters: 150,000 characters, more than one refresh reads (MAX_PREDICTED_CHARS).
    const lines = Array.from({ length: 150 }, (_, i) => `${text.slice(i * 1000, (i + 1) * 1000)}\t${i < 75 ? 'early' : 'late'}`);
    const long = vscode.Uri.joinPath(uri, '..', 'long-texts.tsv');
    await vscode.workspace.fs.writeFile(long, new TextEncoder().encode(lines.join('\n')));
    try {
      const longDoc = await vscode.workspace.openTextDocument(long);
      const editor = await vscode.window.showTextDocument(longDoc);
      const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
        uri: long,
        fresh: true,
        openDashboard: false,
        task: 'classify',
        overrides: { ...SMALL, 'model.hiddenSize': 8, 'training.maxSteps': 3, 'training.evaluateEvery': 0 },
      });
      assert.ok(id, 'expected a run');
      await until(
        () => `the run to finish; it is ${state(id)} (${api.status(id)?.problem ?? 'no problem'}) at step ${api.status(id)?.step}`,
        () => state(id) === 'finished',
      );
      const first = await until('the first predictions', () => api.editor!.taskLines.shown(long));
      assert.ok(first.lines >= 90 && first.lines < 150, `expected about 100 of the 150 lines predicted, got ${first.lines}`);
      const hinted = async (line: number): Promise<boolean> =>
        (
          await vscode.commands.executeCommand<vscode.InlayHint[]>(
            'vscode.executeInlayHintProvider',
            long,
            new vscode.Range(line, 0, line + 1, 0),
          )
        ).some((x) => x.position.line === line);
      assert.equal(await hinted(149), false, 'the last line, out of view and past the budget, has no prediction yet');
      editor.revealRange(new vscode.Range(149, 0, 149, 0));
      await until('the line scrolled to predicted', () => hinted(149));
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.workspace.fs.delete(long);
    }
  });

  test('translate: word and token error rates held out, each line its translation as a hint, wrong ones diagnosed, Predict on a selection, loaded from its checkpoint, resumed where it stopped', async () => {
    const [words] = await vscode.workspace.findFiles('pronunciations.tsv');
    assert.ok(words, 'expected pronunciations.tsv in the workspace');
    const quarter = new TextDecoder()
      .decode(await vscode.workspace.fs.readFile(words))
      .split('\n')
      .filter((l, i) => l && i % 4 === 0);
    const file = vscode.Uri.joinPath(words, '..', 'pronunciations-quarter.tsv');
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(quarter.join('\n') + '\n'));
    let loaded: string | undefined;
    try {
      const tdoc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(tdoc);
      const id = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
        uri: file,
        fresh: true,
        openDashboard: false,
        task: 'translate',
        overrides: { ...SMALL, 'model.bidirectional': true, 'training.maxSteps': 150, 'training.evaluateEvery': 50 },
      });
      assert.ok(id, 'expected a run');
      await until(
        () => `the run to finish; it is ${state(id)} (${api.status(id)?.problem ?? 'no problem'}) at step ${api.status(id)?.step}`,
        () => state(id) === 'finished',
      );
      const h = api.runs().find((r) => r.runId === id)!;
      assert.equal(h.run!.model.task, 'translate');
      assert.equal(h.run!.model.bidirectional, true);
      const heldOut = h.run!.examples!.heldOut;
      assert.ok(heldOut > 40, `expected a tenth of ${quarter.length} words held out, got ${heldOut}`);
      // A sample of the held-out words every 50 updates, and all of them at the end.
      assert.deepEqual(
        h.validation.map((v) => v.step),
        [0, 50, 100, 150, 150],
      );
      for (const v of h.validation) {
        const { wordErrorRate, tokenErrorRate } = v.scores!;
        assert.ok(wordErrorRate! >= 0 && wordErrorRate! <= 1 && tokenErrorRate! >= 0, `error rates ${wordErrorRate}, ${tokenErrorRate}`);
        assert.equal(v.translations!.length, 12, 'a dozen held-out translations for the table');
      }
      assert.equal(h.validation.at(-1)!.examples, heldOut, 'at the end every held-out word is translated');

      const shown = await until('translations of the final model', () => {
        const s = api.editor!.taskLines.shown(file);
        return s && s.runId === id && s.step === 150 ? s : undefined;
      });
      assert.equal(shown.lines, quarter.length, 'every line is translated');
      const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>(
        'vscode.executeInlayHintProvider',
        file,
        new vscode.Range(0, 0, 20, 0),
      );
      const ourHints = hints.filter((x) => /^→ /.test(x.label as string));
      assert.equal(ourHints.length, 20, `a hint on each of the first 20 lines, got ${ourHints.length}`);
      // Phonemes (the target's symbols) with a tick, or a cross and the edits from the line's own.
      for (const hint of ourHints)
        assert.match(hint.label as string, /^→ ([A-Z]+[012]?( |(?= )))*[A-Z]*[012]? ?(✓|✗ \d+ edits?)( · held out)?$/);
      const wrong = await until('the wrong translations as diagnostics', () =>
        ours(file).length === shown.wrong ? ours(file) : undefined,
      );
      assert.ok(shown.wrong > 0, 'after 150 updates of a small model some words are wrong');
      assert.match(wrong[0]!.message, /^the model writes "[A-Z0-9 ]*", not "[A-Z0-9 ]+": \d+ edits? from its \d+ tokens?/);
      const line = wrong[0]!.range.start.line;
      assert.equal(wrong[0]!.range.start.character, tdoc.lineAt(line).text.indexOf('\t') + 1, 'the diagnostic underlines the target');
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        file,
        new vscode.Position(line, 1),
      );
      const text = hovers
        .flatMap((x) => x.contents.map((c) => (typeof c === 'string' ? c : c.value)))
        .find((c) => c.includes('Recurrent Studio'));
      assert.match(text ?? '', /translation \(greedy\), update 150/);

      const one = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', { runId: id, text: 'abandon', show: false });
      assert.match(one![0]!.output, /^[A-Z]+[012]?( [A-Z]+[012]?)*$/, `phonemes for abandon: ${one![0]!.output}`);
      assert.equal(one![0]!.distance, undefined, 'a text without an output is not scored');
      const editor = await vscode.window.showTextDocument(tdoc);
      editor.selection = new vscode.Selection(0, 0, 3, 0);
      const selected = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', { runId: id, show: false });
      assert.deepEqual(
        selected!.map((p) => p.input),
        [0, 1, 2].map((i) => tdoc.lineAt(i).text.split('\t')[0]),
        'the selection: one translation per line, of its input',
      );
      for (const p of selected!) assert.ok(Number.isInteger(p.distance), 'each selected line is scored against its own output');

      // Load Checkpoint of the translator: a new run, paused, whose translations are the saved model's.
      loaded = await saveAndLoad(id, vscode.Uri.joinPath(words, '..', 'translator.safetensors'), file, 'translate');
      const sources = ['abandon', 'zebra', ...quarter.slice(0, 3).map((l) => l.split('\t')[0]!)].join('\n');
      const saved = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', { runId: id, text: sources, show: false });
      const fromFile = await vscode.commands.executeCommand<Prediction[]>('recurrent.predict', {
        runId: loaded,
        text: sources,
        show: false,
      });
      assert.equal(fromFile!.length, 5);
      assert.deepEqual(
        fromFile!.map((p) => p.output),
        saved!.map((p) => p.output),
        'the loaded translator writes what the run it was saved from writes',
      );
      assert.equal(state(loaded), 'paused', 'translating does not train');
      // A paused run on the file would make Train ask whether to stop it first.
      await vscode.commands.executeCommand('recurrent.stop', loaded);
      await until(
        () => `the loaded translator to stop; it is ${state(loaded!)}`,
        () => !['starting', 'running', 'paused'].includes(state(loaded!)),
      );

      // Saved at its end: Train on the unchanged file resumes the translator at the next update.
      const again = await vscode.commands.executeCommand<string>('recurrent.trainCurrentFile', {
        uri: file,
        fresh: false,
        openDashboard: false,
        overrides: { ...SMALL, 'model.bidirectional': true, 'training.maxSteps': 150, 'training.evaluateEvery': 50 },
      });
      await until(
        () => `the resumed run to finish; it is ${state(again)} at step ${api.status(again)?.step}`,
        () => state(again) === 'finished',
      );
      const resumed = api.runs().find((r) => r.runId === again)!;
      assert.equal(resumed.run!.model.task, 'translate');
      assert.equal(
        resumed.metrics.map((m) => m.step).find((s) => s > 150),
        151,
        'the first update after the checkpoint is 151',
      );
      assert.equal(resumed.validation.at(-1)!.step, 300);
    } finally {
      if (loaded) await vscode.commands.executeCommand('recurrent.stop', loaded);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.workspace.fs.delete(file);
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(words, '..', 'translator.safetensors')).then(
        () => undefined,
        () => undefined,
      );
    }
  });
});
