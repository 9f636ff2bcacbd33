// The model's view of a text, as a user sees it in a real workbench: train from the palette, switch the
// loss heat on from the CodeLens and see the tinted tokens, hover a word for the model's guesses, its
// loss in bits and the gradient reach; then train a vanilla RNN at a huge SGD rate with no clipping, read
// the exploding gradient in the Problems panel, and apply its quick fix with Ctrl+. to lower the rate.
// Each view is kept in test/e2e/screenshots/ (editor-*.png are the cropped ones the README shows).
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { e2eEnvironment } from './support/environment.js';
import { eventually, workbenchTest, type Workbench } from './support/workbench.js';

const env = () => e2eEnvironment();
const settingsFile = () => join(env().workspace, '.vscode', 'settings.json');
let settingsBefore: string | null = null;

// The workspace settings are the exploding run's (a vanilla RNN at SGD rate 80, no clipping: its third
// update has a norm of about 2000); the heat run's folder overrides them with a .recurrent.json, read
// when the run starts, so no test waits for the workbench to notice a settings file change.
const EXPLODING = {
  'editor.wordWrap': 'on',
  'recurrent.openDashboardOnStart': false,
  'recurrent.autosaveIntervalSeconds': 0,
  'recurrent.sampling.everySeconds': 0,
  'recurrent.model.cell': 'rnn',
  'recurrent.model.hiddenSize': 32,
  'recurrent.training.batchSize': 8,
  'recurrent.training.sequenceLength': 32,
  'recurrent.training.optimizer': 'sgd',
  'recurrent.training.learningRate': 80,
  'recurrent.training.clipNorm': 0,
  'recurrent.training.evaluateEvery': 0,
  'recurrent.training.maxSteps': 40,
};
const HEAT_RUN = {
  model: { cell: 'lstm', hiddenSize: 64 },
  training: { batchSize: 16, sequenceLength: 64, optimizer: 'adam', learningRate: 0.01, clipNorm: 5, maxSteps: 300 },
};
const UPDATES = HEAT_RUN.training.maxSteps;

before(() => {
  const { workspace } = env();
  const speech = readFileSync(join(workspace, 'state-of-the-union-1994.txt'), 'utf8');
  try {
    settingsBefore = readFileSync(settingsFile(), 'utf8');
  } catch {
    settingsBefore = null;
  }
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(settingsFile(), JSON.stringify(EXPLODING, null, 2));
  // Files of their own, so no earlier run's checkpoint on the sample text asks to be resumed.
  mkdirSync(join(workspace, 'heat'), { recursive: true });
  writeFileSync(join(workspace, 'heat', '.recurrent.json'), JSON.stringify(HEAT_RUN, null, 2));
  writeFileSync(join(workspace, 'heat', 'speech.txt'), speech);
  mkdirSync(join(workspace, 'exploding'), { recursive: true });
  writeFileSync(join(workspace, 'exploding', 'speech.txt'), speech.slice(0, 12_000));
});

after(() => {
  const { workspace } = env();
  // The next suites share this workspace: leave it as found.
  if (settingsBefore === null) rmSync(settingsFile(), { force: true });
  else writeFileSync(settingsFile(), settingsBefore);
  rmSync(join(workspace, 'heat'), { recursive: true, force: true });
  rmSync(join(workspace, 'exploding'), { recursive: true, force: true });
});

/** The CodeLens links at the top of the active editor, as their visible text. */
const lensTexts = (page: Page): Promise<string[]> =>
  page.locator('.monaco-editor .codelens-decoration a').filter({ visible: true }).allInnerTexts();

/** Waits for the CodeLens to show a finished run's bits per token; returns the lens texts. */
async function trainedLens(page: Page, updates: number): Promise<string[]> {
  return eventually(async () => {
    const texts = await lensTexts(page);
    assert.ok(
      texts.some((t) => new RegExp(`bits/token at update ${updates}$`).test(t)),
      `expected a lens "… bits/token at update ${updates}", got ${JSON.stringify(texts)}`,
    );
    return texts;
  });
}

/** A cropped picture of part of the page (its top `maxHeight` pixels), kept under a fixed name for the README. */
async function keep(wb: Workbench, locator: Locator, name: string, pad = 0, maxHeight = Infinity): Promise<void> {
  const box = await locator.boundingBox();
  if (!box) return;
  const view = wb.page.viewportSize()!;
  const x = Math.max(0, box.x - pad);
  const y = Math.max(0, box.y - pad);
  const clip = {
    x,
    y,
    width: Math.min(view.width - x, box.width + 2 * pad),
    height: Math.min(view.height - y, box.height + 2 * pad, maxHeight),
  };
  await wb.page.screenshot({ path: join(env().screenshotsDir, `${name}.png`), clip });
}

interface HeatSpan {
  level: string;
  background: string;
  underline: string;
}

/** The heat decorations drawn in the visible editor: Monaco renders them as overlay divs with the decoration's class. */
async function heatSpans(page: Page): Promise<HeatSpan[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.monaco-editor .lines-content .view-overlays .cdr')).flatMap((el) => {
      const s = getComputedStyle(el);
      // the heat types are the only ones drawn as an underline: a bottom border and no other
      if (s.borderBottomStyle !== 'solid' || s.borderBottomWidth === '0px' || s.borderTopWidth !== '0px' || s.borderLeftWidth !== '0px')
        return [];
      return [{ level: el.className, background: s.backgroundColor, underline: `${s.borderBottomWidth} ${s.borderBottomColor}` }];
    }),
  );
}

workbenchTest('a trained model tints the surprising text, and a hover tells what it guessed there', async (wb) => {
  const { page } = wb;
  await wb.openFile('heat/speech.txt');
  await wb.runCommand('Recurrent: Train on Current File');
  const lenses = await trainedLens(page, UPDATES);
  const bits = Number(/^(\d+\.\d+) bits\/token/.exec(lenses.find((t) => /bits\/token/.test(t))!)?.[1]);
  assert.ok(bits > 0 && bits < 3.5, `expected the lens to show a loss below 3.5 bits/token after ${UPDATES} updates, got ${bits}`);
  assert.deepEqual(await heatSpans(page), [], 'expected no heat before it is switched on');

  // The heat switch is a CodeLens on the first line.
  await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Loss heat: off' }).click();
  const spans = await eventually(async () => {
    const s = await heatSpans(page);
    assert.ok(s.length > 20, `expected more than 20 tinted tokens on screen, got ${s.length}`);
    return s;
  });
  await eventually(async () =>
    assert.ok(
      (await lensTexts(page)).some((t) => /Loss heat: on$/.test(t)),
      'expected the lens to say the heat is on',
    ),
  );
  const levels = new Set(spans.map((s) => s.underline));
  assert.ok(levels.size >= 2, `expected tokens at two or more heat levels (underline width and colour), got ${[...levels].join(' | ')}`);
  assert.ok(
    spans.every((s) => s.background !== 'rgba(0, 0, 0, 0)'),
    'expected every heat span tinted',
  );
  await wb.shot('loss-heat');
  const editorArea = page.locator('.editor-group-container').filter({ visible: true }).first();
  await keep(wb, editorArea, 'editor-loss-heat', 0, 440);

  const hover = await wb.hover('NAFTA'); // low on the screen, so the hover opens above with room for all of it
  assert.match(hover, /Recurrent Studio/, `expected the model's hover, got:\n${hover}`);
  assert.match(hover, /Loss of the actual token: \d+\.\d\d bits \(p = [\d.]+%\)/);
  const guesses = hover.split('\n').filter((l) => /^\S.*\t?\s*[\d.]+%$/.test(l.trim()) && !/Loss of/.test(l));
  assert.ok(guesses.length >= 5, `expected five guesses with their probabilities, got ${guesses.length}:\n${hover}`);
  assert.match(hover, /Gradient reaching here from the end of its 64-step window, \d+ steps later: [\d.e+-]+/);
  assert.match(hover, /Saturated gates: |No gate saturated here\./);
  await keep(wb, page.locator('.monaco-editor .monaco-hover').filter({ visible: true }).first(), 'editor-hover', 8);
});

workbenchTest('an exploding gradient shows in Problems, and its quick fix lowers the learning rate', async (wb) => {
  const { page } = wb;
  await wb.openFile('exploding/speech.txt');
  await wb.runCommand('Recurrent: Train on Current File');
  const rows = await eventually(async () => {
    const r = await wb.problems();
    assert.ok(
      r.some((x) => /Exploding gradient at update \d+/.test(x)),
      `expected an exploding gradient in the Problems panel, got ${JSON.stringify(r)}`,
    );
    return r;
  });
  const exploding = rows.find((x) => /Exploding gradient/.test(x))!;
  assert.match(exploding, /times the run's median; not clipped \(clipping is off\)/);
  await keep(wb, page.locator('.markers-panel').filter({ visible: true }).first(), 'editor-problems');

  // Open the problem in the editor and ask for its fixes, as a user would with Ctrl+.
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'Exploding gradient' }).first().dblclick();
  await page.locator('.monaco-editor.focused').waitFor();
  await page.keyboard.press('Control+.');
  const menu = page.locator('.action-widget').filter({ visible: true }).first();
  const lower = menu.locator('.monaco-list-row', { hasText: /Lower the learning rate to 8 \(from 80\)/ }).first();
  await lower.waitFor().catch(async () => {
    throw new Error(
      `expected the quick fix "Lower the learning rate to 8 (from 80)", the menu shows: ${JSON.stringify(await menu.locator('.monaco-list-row').allInnerTexts())}`,
    );
  });
  await wb.shot('quick-fix');
  await keep(wb, page.locator('.editor-group-container').filter({ visible: true }).first(), 'editor-quick-fix', 0, 280);
  await lower.click();

  const written = await eventually(() => {
    const s = JSON.parse(readFileSync(settingsFile(), 'utf8')) as Record<string, unknown>;
    assert.equal(
      s['recurrent.training.learningRate'],
      8,
      `expected the workspace settings to hold learningRate 8, got ${String(s['recurrent.training.learningRate'])}`,
    );
    return s;
  });
  assert.equal(written['recurrent.training.clipNorm'], 0, 'expected only the learning rate changed');
  // The notification center keeps the message even if its toast has gone.
  await wb.runCommand('Notifications: Show Notifications');
  await eventually(async () => {
    const said = await page.locator('.notifications-center .notification-list-item-message').allInnerTexts();
    assert.ok(
      said.some((t) => /Lower the learning rate to 8 .*saved in the settings/.test(t)),
      `expected a notification that the fix was saved, got ${JSON.stringify(said)}`,
    );
  });
  await wb.shot('fix-applied');
});
