// The helpers other suites rely on, checked against parts of the workbench that exist without the
// extension: the JSON language service's hover and diagnostics, the Markdown preview's webview, and the
// minimap's canvas. If one of these fails, a helper broke (or VS Code changed its DOM), not a feature.
import * as assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, workbenchTest } from './support/workbench.js';

workbenchTest('helpers: hover reads the JSON hover of a setting', async (wb) => {
  await wb.openFile('.vscode/settings.json');
  // The JSON language server starts on first use and can take a while on a busy machine. A retry must
  // leave and re-enter the word: a mouse that does not move raises no new hover.
  const text = await eventually(async () => {
    await wb.page.mouse.move(1, 1);
    return wb.hover('editor.wordWrap');
  });
  assert.match(text, /wrap/i, `expected the hover to describe line wrapping, got "${text}"`);
});

workbenchTest('helpers: problems lists a diagnostic of a broken JSON file', async (wb, t) => {
  const file = join(wb.workspace, 'broken.json'); // the workspace is shared by the run's suites: tidy up
  writeFileSync(file, '{ "cell": }\n');
  t.after(() => rmSync(file, { force: true }));
  await wb.openFile('broken.json');
  const rows = await eventually(async () => {
    const r = await wb.problems();
    assert.ok(
      r.some((row) => /broken\.json/.test(row)) && r.length >= 2,
      `expected broken.json and its diagnostic in Problems, got ${JSON.stringify(r)}`,
    );
    return r;
  });
  assert.ok(
    rows.some((row) => /value expected/i.test(row)),
    `expected a "Value expected" diagnostic, got ${JSON.stringify(rows)}`,
  );
});

workbenchTest('helpers: webview reaches into the Markdown preview, canvasPixels reads the minimap', async (wb) => {
  await wb.openFile('README.md');
  const minimap = await wb.canvasPixels(wb.page, '.minimap canvas');
  assert.ok(minimap.inked > 100, `expected the minimap canvas to draw the text, got ${JSON.stringify(minimap)}`);
  await wb.runCommand('Markdown: Open Preview');
  const preview = await wb.webview();
  const heading = await preview.locator('h1').first().innerText();
  assert.equal(heading, 'Sample workspace', `expected the preview's h1 to be the README's title, got "${heading}"`);
});
