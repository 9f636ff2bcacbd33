// Classify a .tsv file as a user does it in a real workbench: Train on Current File asks which task, the
// dashboard opens on the run and shows held-out accuracy over time with the confusion matrix, the
// encoder's gates over a typed name and its gradient flow; the editor shows each line's prediction
// after it, a wrong one in the Problems panel, and a hover ranks the labels. A translator of the sample
// pronunciations the same way: word and token error rates over time, a table of held-out translations
// with the wrong phonemes marked, the encoder's and decoder's gradient flow, each line's translation.
// The README's task pictures are kept from here (dashboard-scores.png, editor-task-hints.png...).
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before } from 'node:test';
import type { FrameLocator, Locator } from 'playwright-core';
import { e2eEnvironment } from './support/environment.js';
import { eventually, PATIENCE_MS, workbenchTest, type Workbench } from './support/workbench.js';

const env = () => e2eEnvironment();
const folder = 'tasks';
const file = 'names.tsv';
const title = `Recurrent: ${file}`;
const UPDATES = 500;
const TRANSLATE_UPDATES = 600;

before(() => {
  const { workspace } = env();
  const names = readFileSync(join(workspace, 'first-names.tsv'), 'utf8');
  mkdirSync(join(workspace, folder), { recursive: true });
  writeFileSync(join(workspace, folder, file), names);
  // The generator's folder says its task, so Train asks nothing; it samples every second for the dashboard.
  mkdirSync(join(workspace, 'generate'), { recursive: true });
  writeFileSync(join(workspace, 'generate', file), names);
  writeFileSync(
    join(workspace, 'generate', '.recurrent.json'),
    JSON.stringify({ model: { task: 'generate' }, training: { maxSteps: 300, evaluateEvery: 50 }, sampling: { everySeconds: 1 } }),
  );
  // The translator's folder leaves the task to the quick pick; its defaults (an LSTM 128, Adam 4e-3, batch 32) made bidirectional.
  mkdirSync(join(workspace, 'translate'), { recursive: true });
  // A name of its own: Quick Open by the sample's name could open the workspace's pronunciations.tsv, outside this folder.
  writeFileSync(join(workspace, 'translate', 'words.tsv'), readFileSync(join(workspace, 'pronunciations.tsv'), 'utf8'));
  writeFileSync(
    join(workspace, 'translate', '.recurrent.json'),
    JSON.stringify({
      model: { bidirectional: true },
      training: { maxSteps: TRANSLATE_UPDATES, evaluateEvery: 100 },
      sampling: { everySeconds: 0 },
    }),
  );
  // The task's defaults (a GRU 64, Adam 5e-3, batch 32) made bidirectional, for a bounded number of updates.
  writeFileSync(
    join(workspace, folder, '.recurrent.json'),
    JSON.stringify({ model: { bidirectional: true }, training: { maxSteps: UPDATES, evaluateEvery: 50 }, sampling: { everySeconds: 0 } }),
  );
});

/** A cropped picture of an element, kept under a fixed name for the README. */
async function keep(wb: Workbench, locator: Locator, name: string, maxHeight = Infinity): Promise<void> {
  const box = await locator.boundingBox();
  if (!box) return;
  const view = wb.page.viewportSize()!;
  const clip = {
    x: box.x,
    y: box.y,
    width: Math.min(view.width - box.x, box.width),
    height: Math.min(view.height - box.y, box.height, maxHeight),
  };
  await wb.page.screenshot({ path: join(env().screenshotsDir, `${name}.png`), clip });
}

const stats = async (frame: FrameLocator): Promise<string> => (await frame.locator('.header .stats').innerText()).replace(/\s+/g, ' ');

workbenchTest(
  'a .tsv file trains a classifier: the task asked, accuracy and confusion on the dashboard, predictions in the editor',
  async (wb, t) => {
    const { page } = wb;
    await wb.openFile(`${folder}/${file}`);
    await wb.runCommand('Recurrent: Train on Current File', { opensInput: /which task/ });
    const picked = await wb.pick(/which task/, /^Classify$/);
    assert.match(picked, /input → label/);
    const frame = await wb.webview(title);
    await eventually(async () => assert.match(await stats(frame), /state finished/, 'expected the run to finish its updates'));
    const header = await stats(frame);
    const accuracy = Number(/held-out accuracy ([\d.]+)/.exec(header)?.[1]);
    assert.ok(accuracy > 0.6, `expected held-out accuracy above always-female's 0.6 after ${UPDATES} updates, the header says "${header}"`);
    assert.match(
      await frame.locator('.header .config').first().innerText(),
      /classify into 2 labels · GRU, hidden 64, 1 layer, bidirectional/,
    );
    assert.match(header, /loss [\d.]+ bits\/example/);

    await frame.locator('#tab-scores').click();
    await eventually(async () =>
      assert.match(
        await frame.locator('#panel-scores .summary').innerText(),
        new RegExp(
          `^Held-out accuracy ${accuracy} at step ${UPDATES}; training accuracy [\\d.]+ \\(smoothed\\); always "female" scores 0\\.\\d+\\.$`,
        ),
      ),
    );
    const px = await wb.canvasPixels(frame, '#panel-scores canvas');
    assert.ok(
      px.inked > 0.01 * px.width * px.height,
      `expected the scores chart drawn, ${px.inked} of ${px.width}x${px.height} pixels inked`,
    );
    const cells = await frame.locator('#panel-scores table.confusion-matrix tbody td:not(.recall)').allInnerTexts();
    assert.equal(cells.length, 4, 'a 2x2 confusion matrix');
    const heldOut = cells.map(Number).reduce((a, b) => a + b, 0);
    assert.match(
      await frame.locator('#panel-scores caption').innerText(),
      new RegExp(`^Confusion matrix of the ${heldOut} held-out examples at step ${UPDATES}`),
    );
    assert.ok(heldOut > 700 && heldOut < 900, `a tenth of the names held out, got ${heldOut}`);
    await keep(wb, page.locator('iframe.webview.ready').filter({ visible: true }).first(), 'dashboard-scores', 720);
    const matrix = frame.locator('#panel-scores table.confusion-matrix');
    await matrix.scrollIntoViewIfNeeded();
    await keep(wb, matrix, 'dashboard-confusion');

    await frame.locator('#tab-gates').click();
    const probe = frame.locator('#panel-gates input[type=text]').first();
    await probe.fill('Marguerite');
    await probe.press('Enter');
    await eventually(async () => {
      const g = await wb.canvasPixels(frame, '#panel-gates canvas');
      assert.ok(g.inked > 0.01 * g.width * g.height, 'expected the gate heatmap drawn');
    });
    await keep(wb, page.locator('iframe.webview.ready').filter({ visible: true }).first(), 'dashboard-task-gates', 720);
    await frame.locator('#tab-flow').click();
    await eventually(async () => {
      const f = await wb.canvasPixels(frame, '#panel-flow canvas');
      assert.ok(f.inked > 0.01 * f.width * f.height, 'expected the gradient flow drawn');
    });
    // The probe of a task runs over held-out examples and one example's tokens, per cell of each direction.
    await eventually(async () =>
      assert.match(
        await frame.locator('#panel-flow').innerText(),
        /over the example ".+"\s*· rows: layer 1 →, layer 1 ←, columns: its tokens; the curves above average \d+ held-out examples/,
      ),
    );
    await keep(wb, page.locator('iframe.webview.ready').filter({ visible: true }).first(), 'dashboard-task-flow', 720);

    // The editor: each line's prediction after it.
    await page.locator('.tabs-container .tab', { hasText: file }).first().click();
    const texts = await eventually(async () => {
      const all = (await wb.editorTexts()).join('\n');
      assert.match(
        all,
        /→ (female|male) \d+(\.\d)?% [✓✗]/,
        `expected predictions after the lines, the editor shows:\n${all.slice(0, 400)}`,
      );
      return all;
    });
    const shown = texts.split('\n').filter((l) => /\t|→/.test(l));
    t.diagnostic(`held-out accuracy ${accuracy}; ${heldOut} held out; first lines: ${shown.slice(0, 3).join(' | ')}`);
    await keep(wb, page.locator('.editor-group-container').filter({ visible: true }).first(), 'editor-task-hints', 420);
    const hover = await wb.hover('Aaron');
    assert.match(hover, /the model's label/);
    assert.match(hover, /(female|male)\s+\d+(\.\d)?%/);
    await keep(wb, page.locator('.monaco-editor .monaco-hover').filter({ visible: true }).first(), 'editor-task-hover');
    const problems = await wb.problems();
    assert.ok(
      problems.some((p) => /the model says "(female|male)" \(\d+(\.\d)?% sure\), not "(female|male)"/.test(p)),
      `expected wrong predictions in the Problems panel, it lists: ${problems.slice(0, 5).join(' | ')}`,
    );
    await keep(wb, page.locator('.markers-panel').filter({ visible: true }).first(), 'editor-task-problems');
  },
);

workbenchTest('a generator writes texts per label on the dashboard, and Sample now writes for the label chosen', async (wb) => {
  const { page } = wb;
  await wb.openFile(`generate/${file}`);
  await wb.runCommand('Recurrent: Train on Current File');
  const frame = await wb.webview(title);
  await eventually(async () => assert.match(await stats(frame), /state finished/, 'expected the run to finish its updates'));
  assert.match(await frame.locator('.header .config').first().innerText(), /^generate texts for 2 labels · GRU, hidden 128/);
  const header = await stats(frame);
  const bits = Number(/loss ([\d.]+) bits\/char/.exec(header)?.[1]);
  assert.ok(bits > 1 && bits < 4, `expected the loss in bits per character, the header says "${header}"`);
  assert.equal(
    await frame.locator('#tab-scores').isHidden(),
    true,
    'a generator scores its held-out texts by their loss alone: no Scores tab',
  );
  await frame.locator('#tab-samples').click();
  await frame.locator('#panel-samples select').selectOption('male');
  await frame.locator('#panel-samples button', { hasText: 'Sample now' }).click();
  // The run has finished: the newest sample is the one asked for, at its last update.
  await eventually(async () => {
    const m = await frame.locator('#panel-samples .samples .meta').allInnerTexts();
    assert.ok(
      m.some((x) => /for "female"/.test(x)),
      `expected periodic samples for "female" too, got ${m.slice(0, 4).join(' | ')}`,
    );
    assert.match(
      m[0] ?? '',
      /^step 300 · for "male" · temperature 0\.8$/,
      `expected Sample now's texts first, got ${m.slice(0, 3).join(' | ')}`,
    );
  });
  const texts = (await frame.locator('#panel-samples .samples pre').first().innerText()).split('\n');
  assert.equal(texts.length, 5, `five names for the label: ${texts.join(', ')}`);
  await keep(wb, page.locator('iframe.webview.ready').filter({ visible: true }).first(), 'dashboard-task-samples', 720);
});

workbenchTest(
  'a .tsv file trains a translator: error rates over time, held-out translations marked, both gradient flows, translations in the editor',
  async (wb, t) => {
    const { page } = wb;
    const words = 'words.tsv';
    await wb.openFile(`translate/${words}`);
    await wb.runCommand('Recurrent: Train on Current File', { opensInput: /which task/ });
    const picked = await wb.pick(/which task/, /^Translate$/);
    assert.match(picked, /input → output sequence/);
    const frame = await wb.webview(`Recurrent: ${words}`);
    // 600 updates of a bidirectional LSTM 128 and its decoder: a few minutes on a loaded machine.
    await eventually(async () => assert.match(await stats(frame), /state finished/, 'expected the run to finish its updates'), {
      timeoutMs: 6 * PATIENCE_MS,
    });
    assert.match(
      await frame.locator('.header .config').first().innerText(),
      /^translate into \d+ target tokens, at most \d+ out · encoder LSTM, hidden 128, 1 layer, bidirectional; decoder hidden 256/,
    );

    await frame.locator('#tab-scores').click();
    const summary = await eventually(async () => {
      const text = await frame.locator('#panel-scores .summary').innerText();
      assert.match(
        text,
        new RegExp(
          `^Held-out word error rate [\\d.]+ at step ${TRANSLATE_UPDATES}; held-out token error rate [\\d.]+ at step ${TRANSLATE_UPDATES}\\.$`,
        ),
      );
      return text;
    });
    const [word, token] = [...summary.matchAll(/rate ([\d.]+)/g)].map((m) => Number(m[1]));
    assert.ok(word! > 0 && word! <= 1 && token! > 0 && token! < word!, `error rates: word ${word}, token ${token}`);
    const px = await wb.canvasPixels(frame, '#panel-scores canvas');
    assert.ok(px.inked > 0.01 * px.width * px.height, 'expected the error rates drawn');
    const table = frame.locator('#panel-scores table.translations');
    assert.equal(await table.locator('tbody tr').count(), 12, 'a dozen held-out translations');
    const caption = await table.locator('caption').innerText();
    const right = Number(/^(\d+) of 12 held-out examples translated exactly at step (\d+)/.exec(caption)?.[1]);
    assert.ok(caption.includes(`at step ${TRANSLATE_UPDATES}`), caption);
    assert.equal(await table.locator('tbody tr.wrong').count(), 12 - right, 'each row is right or wrong as the caption counts');
    if (right < 12) assert.ok((await table.locator('span.wrong, span.missed').count()) > 0, 'the wrong rows mark their tokens');
    t.diagnostic(`${summary} ${caption.split(';')[0]}`);
    await keep(wb, page.locator('iframe.webview.ready').filter({ visible: true }).first(), 'dashboard-translate-scores', 720);
    await table.scrollIntoViewIfNeeded();
    await keep(wb, table, 'dashboard-translations');

    await frame.locator('#tab-flow').click();
    await eventually(async () =>
      assert.match(
        await frame.locator('#panel-flow').innerText(),
        /rows: encoder layer 1 →, encoder layer 1 ←, decoder layer 1, columns: its tokens; the curves above average \d+ held-out examples/,
      ),
    );
    await eventually(async () => {
      const f = await wb.canvasPixels(frame, '#panel-flow canvas');
      assert.ok(f.inked > 0.01 * f.width * f.height, 'expected the gradient flow drawn');
    });
    await keep(wb, page.locator('iframe.webview.ready').filter({ visible: true }).first(), 'dashboard-translate-flow', 720);

    await page.locator('.tabs-container .tab', { hasText: words }).first().click();
    await eventually(async () => {
      const all = (await wb.editorTexts()).join('\n');
      assert.match(all, /→ [A-Z]+[012]?( [A-Z]+[012]?)* (✓|✗ \d+ edits?)/, `expected translations after the lines:\n${all.slice(0, 400)}`);
    });
    await keep(wb, page.locator('.editor-group-container').filter({ visible: true }).first(), 'editor-translate-hints', 420);
    const problems = await wb.problems();
    assert.ok(
      problems.some((p) => /the model writes "[A-Z0-9 ]*", not "[A-Z0-9 ]+": \d+ edits? from its \d+ tokens?/.test(p)),
      `expected wrong translations in the Problems panel, it lists: ${problems.slice(0, 5).join(' | ')}`,
    );
    await keep(wb, page.locator('.markers-panel').filter({ visible: true }).first(), 'editor-translate-problems');
  },
  { timeoutMs: 12 * PATIENCE_MS },
);
