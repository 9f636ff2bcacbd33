// The dashboard inside a real VS Code, on a run that trains: opened (again) while it trains, it
// shows the run's history at once and then keeps up with it: the header's step counter rises and the
// loss chart's pixels change as new updates arrive, through the extension's real message path (worker
// -> run -> panel -> webview), not a recorded stream.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { eventually, workbenchTest, type Workbench } from './support/workbench.js';

const folder = 'dashboard-live';
const file = 'address.txt';
const title = `Recurrent: ${file}`;

/** The header's step counter. */
async function step(frame: FrameLocator): Promise<number> {
  const stats = (await frame.locator('.header .stats').innerText()).replace(/\s+/g, ' ');
  const m = /\bstep (\d+)/.exec(stats);
  if (!m) throw new Error(`expected the dashboard header to show "step N", it shows "${stats}"`);
  return Number(m[1]);
}

/** The loss chart as an image, to tell whether it was redrawn with other data. */
async function lossChart(frame: FrameLocator): Promise<string> {
  return frame
    .locator('#panel-loss canvas')
    .first()
    .evaluate((c) => (c as HTMLCanvasElement).toDataURL());
}

/** Closes the dashboard's tab: the run trains on without it. */
async function closeDashboard(wb: Workbench): Promise<void> {
  const tab = wb.page.locator('.tabs-container .tab', { hasText: title }).first();
  await tab.hover();
  await tab.locator('.tab-actions .action-label').first().click();
  await tab.waitFor({ state: 'detached' });
}

workbenchTest('the dashboard opened on a training run shows its history and keeps updating', async (wb, t) => {
  // A folder of its own with a small model (.recurrent.json), so the run learns within seconds and the
  // other suites' settings are untouched.
  const sotu = readFileSync(join(wb.workspace, 'state-of-the-union-1994.txt'), 'utf8');
  mkdirSync(join(wb.workspace, folder), { recursive: true });
  writeFileSync(join(wb.workspace, folder, file), sotu);
  writeFileSync(
    join(wb.workspace, folder, '.recurrent.json'),
    JSON.stringify({
      model: { cell: 'lstm', hiddenSize: 48 },
      training: { batchSize: 16, sequenceLength: 48, learningRate: 0.005 },
    }),
  );
  await wb.openFile(`${folder}/${file}`);
  await wb.runCommand('Recurrent: Train on Current File');
  const first = await wb.webview(title);
  await eventually(async () => assert.ok((await step(first)) > 0, 'expected the run to make its first updates'));

  // The user closes the dashboard and, while the run goes on, opens it again from the status bar.
  await closeDashboard(wb);
  await wb.shot('dashboard-closed');
  await wb.page
    .locator('.statusbar-item', { hasText: /bits\/char/ })
    .first()
    .click();
  const frame = await wb.webview(title);
  const s0 = await eventually(async () => {
    const s = await step(frame);
    assert.ok(s > 0, `expected the reopened dashboard to show the run's history at once (step > 0), it shows step ${s}`);
    return s;
  });
  const px = await wb.canvasPixels(frame, '#panel-loss canvas');
  assert.ok(
    px.inked > 0.01 * px.width * px.height,
    `expected the loss chart to draw the history (over 1% of ${px.width}x${px.height} pixels inked), ${px.inked} are`,
  );
  const chart0 = await lossChart(frame);

  // Then it keeps up: the counter rises and the chart is redrawn with the new updates.
  const s1 = await eventually(async () => {
    const s = await step(frame);
    assert.ok(s > s0, `expected the step counter to rise past ${s0}, it shows ${s}`);
    return s;
  });
  await eventually(async () =>
    assert.notEqual(
      await lossChart(frame),
      chart0,
      `expected the loss chart's pixels to change as updates arrive (step ${s0} -> ${await step(frame)})`,
    ),
  );
  const s2 = await step(frame);
  await wb.shot('dashboard-live');
  t.diagnostic(`reopened at step ${s0}; rose to ${s1}, chart redrawn by step ${s2}`);

  await wb.runCommand('Recurrent: Stop');
  await eventually(async () =>
    assert.match(await frame.locator('.header .stats').innerText(), /stopped|finished/, 'expected the header to say the run stopped'),
  );
});
