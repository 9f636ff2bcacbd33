// Smoke suite: what a user sees first. The workbench loads with the extension from source, the sample
// text opens from the Explorer, and the palette offers every Recurrent command the manifest contributes.
import * as assert from 'node:assert/strict';
import { paletteCommands, paletteLabel, readManifest } from '../integration/manifest.js';
import { e2eEnvironment } from './support/environment.js';
import { workbenchTest } from './support/workbench.js';

const sampleText = 'state-of-the-union-1994.txt';

workbenchTest('the sample text opens from the Explorer', async (wb) => {
  await wb.openFile(sampleText);
  // Monaco renders spaces as no-break spaces
  const firstLine = (await wb.page.locator('.monaco-editor .view-lines .view-line').first().innerText()).replace(/\u00a0/g, ' ');
  assert.equal(firstLine.trim(), 'Thank you very much.', `expected the address's first sentence on line 1, got "${firstLine.trim()}"`);
});

workbenchTest('the palette offers every Recurrent command the manifest contributes', async (wb, t) => {
  const expected = paletteCommands(readManifest(e2eEnvironment().extensionPath)).map(paletteLabel);
  if (process.env.RECURRENT_E2E_EXPECT_COMMAND) expected.push(process.env.RECURRENT_E2E_EXPECT_COMMAND); // the suite's own failure check
  if (expected.length === 0) {
    t.skip('the manifest contributes no recurrent.* commands yet');
    return;
  }
  await wb.openFile(sampleText);
  const missing: string[] = [];
  for (const label of expected) if (!(await wb.paletteHas(label))) missing.push(label);
  assert.deepEqual(
    missing,
    [],
    `expected the palette to offer all ${expected.length} contributed commands; not offered: ${missing.map((l) => `"${l}"`).join(', ')}`,
  );
});
