// The built dashboard (dist/webview.js + dist/webview.css) in a real headless Chromium, served on
// loopback as the very page the panel serves (same HTML and content security policy), with a stand-in
// for VS Code's acquireVsCodeApi, fed a session recorded from real training
// (test/fixtures/sessions/rnn-then-lstm-sotu.json, made by scripts/recordDashboardSession.ts): an LSTM run
// opened 100 updates before its end, with an RNN and a GRU run on the same text to compare, its last 100
// updates then arriving as live events. Checks that every view draws (canvas pixels, legends, axis
// titles, heatmaps) and states what the recording holds, that controls post the right messages, that
// nothing breaks the CSP or reaches beyond loopback, and saves a screenshot of each view in
// test/e2e/screenshots/ (the README's come from here).
// Needs no code-server: `npm run build && node test/e2e/build.mjs && node --test out/e2e/dashboard.test.mjs`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../../scripts/vscode/browser.mjs';
import { dashboardHtml } from '../../src/extension/dashboardHtml.js';
import { PROTOCOL_VERSION, type RunHistory, type ToWebview } from '../../src/protocol/messages.js';
import { summariseFlow } from '../../webview/model/gradientFlow.js';
import { experiment } from '../../src/engine/experiments/registry.js';
import { newReport, type ExperimentReport } from '../../src/engine/experiments/report.js';
import { runPlan } from '../../src/engine/experiments/runner.js';

const root = process.cwd();
const shotsDir = process.env.RECURRENT_SCREENSHOTS ?? join(root, 'test', 'e2e', 'screenshots');
const NONCE = 'dGVzdC1ub25jZS0xMjM0NTY3OA';

// VS Code's Dark Modern theme sets these (and more) on the webview's <html>; the dashboard reads them.
const DARK: Record<string, string> = {
  '--vscode-foreground': '#cccccc',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-editorWidget-border': '#454545',
  '--vscode-button-background': '#0078d4',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-secondaryBackground': '#313131',
  '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-input-background': '#313131',
  '--vscode-input-foreground': '#cccccc',
  '--vscode-dropdown-background': '#313131',
  '--vscode-dropdown-foreground': '#cccccc',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-yellow': '#cca700',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-errorForeground': '#f85149',
  '--vscode-font-family': 'sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': 'monospace',
};
const LIGHT: Record<string, string> = {
  ...DARK,
  '--vscode-foreground': '#3b3b3b',
  '--vscode-editor-background': '#ffffff',
  '--vscode-descriptionForeground': '#717171',
  '--vscode-editorWidget-border': '#c8c8c8',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-input-background': '#ffffff',
  '--vscode-input-foreground': '#3b3b3b',
  '--vscode-dropdown-background': '#ffffff',
  '--vscode-dropdown-foreground': '#3b3b3b',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#388a34',
};

/** Stands in for VS Code: records posted messages and CSP violations, keeps state, applies a theme. */
const prelude = `
  window.__posted = []; window.__csp = []; window.__state = null;
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => window.__state,
    setState: (s) => { window.__state = JSON.parse(JSON.stringify(s)); },
  });
  window.__theme = (vars, cls) => {
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
    document.body.className = cls;
  };
  document.body.className = 'vscode-dark';
  for (const [k, v] of Object.entries(${JSON.stringify(DARK)})) document.documentElement.style.setProperty(k, v);
`;

/**
 * The recorded session as a dashboard opened late would receive it: the history with the current run
 * still running and its last `live` updates (metrics, validation, samples after the cut) held back, then
 * those as live events. Plain JSON, as VS Code delivers messages.
 */
function recordedSession(live = 100): {
  recording: Extract<ToWebview, { type: 'history' }>;
  history: string;
  events: string[];
  cut: number;
} {
  const recording = JSON.parse(
    readFileSync(join(process.cwd(), 'test', 'fixtures', 'sessions', 'rnn-then-lstm-sotu.json'), 'utf8'),
  ) as Extract<ToWebview, { type: 'history' }>;
  const cur = recording.current;
  const last = cur.metrics.at(-1)!.step;
  const cut = last - live;
  const opened: RunHistory = {
    ...cur,
    state: 'running',
    metrics: cur.metrics.filter((m) => m.step <= cut),
    validation: cur.validation.filter((m) => m.step <= cut),
    samples: cur.samples.filter((x) => x.step <= cut),
    clips: cur.clips.filter((c) => c.step <= cut),
  };
  const v = PROTOCOL_VERSION;
  const ev = (event: object): string => JSON.stringify({ v, type: 'event', runId: cur.runId, event: { v, ...event } });
  const events: string[] = [];
  for (let s = cut + 1; s <= last; s += 25)
    events.push(ev({ type: 'metrics', metrics: cur.metrics.filter((m) => m.step >= s && m.step < s + 25) }));
  for (const m of cur.validation.filter((x) => x.step > cut)) events.push(ev({ type: 'validation', metrics: m }));
  const liveClips = cur.clips.filter((x) => x.step > cut);
  if (liveClips.length > 0) events.push(ev({ type: 'clip', clips: liveClips }));
  for (const x of [...cur.samples].reverse().filter((y) => y.step > cut)) events.push(ev({ type: 'sample', ...x }));
  return { recording, history: JSON.stringify({ ...recording, current: opened }), events, cut };
}

const session = recordedSession();
const LAST = session.recording.current.metrics.at(-1)!.step;

let server: Server;
let base = '';
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const consoleErrors: string[] = [];

before(async () => {
  for (const f of ['webview.js', 'webview.css']) {
    if (!existsSync(join(root, 'dist', f))) throw new Error(`dist/${f} is missing: run npm run build first`);
  }
  mkdirSync(shotsDir, { recursive: true });
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        dashboardHtml({
          scriptUri: `${base}/dist/webview.js`,
          styleUri: `${base}/dist/webview.css`,
          cspSource: base,
          nonce: NONCE,
          preludeScript: prelude,
        }),
      );
      return;
    }
    const m = /^\/dist\/(webview\.(js|css))$/.exec(url);
    if (m) {
      res.writeHead(200, { 'content-type': m[2] === 'js' ? 'text/javascript' : 'text/css' });
      res.end(readFileSync(join(root, 'dist', m[1]!)));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser({ viewport: { width: 1100, height: 820 } });
  page = browser.page;
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(base);
  await page.waitForFunction(() => (window as unknown as { __posted: Array<{ type: string }> }).__posted.some((m) => m.type === 'ready'));
  // The history first, as the panel sends it when it opens; the live events come in the first test.
  await redrawAfter(async () => {
    await page.evaluate((m) => window.postMessage(JSON.parse(m), '*'), session.history);
    await page.waitForFunction(
      (cut) =>
        (window as unknown as { dashboard: { model: { current: { last: { step: number } | null } | null } } }).dashboard.model.current?.last
          ?.step === cut,
      session.cut,
    );
  });
});

after(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

/** Counts canvas pixels that differ from the corner pixel (the background). */
async function inked(selector: string, index = 0): Promise<{ inked: number; total: number }> {
  return page
    .locator(selector)
    .nth(index)
    .evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) n++;
      return { inked: n, total: d.length / 4 };
    });
}

/** Runs `action`, then waits until the throttled redraw it caused (<= 100 ms + a frame) has happened. */
async function redrawAfter(action: () => Promise<unknown>): Promise<void> {
  await action();
  await page.waitForFunction(
    () => !(window as unknown as { dashboard: { scheduler: { busy(): boolean } } }).dashboard.scheduler.busy(),
    undefined,
    { timeout: 10_000 },
  );
}

async function showTab(name: string): Promise<void> {
  await redrawAfter(() => page.locator(`[role=tab][data-tab=${name}]`).click());
  assert.equal(await page.locator(`#panel-${name}`).isHidden(), false, `panel ${name} shown`);
}

async function chart(name: RegExp): Promise<{ name: string; legend: string[]; axes: string[]; points: number }> {
  const all = await page.evaluate(() =>
    (
      window as unknown as { dashboard: { charts: () => Array<{ name: string; legend: string[]; axes: string[]; points: number }> } }
    ).dashboard.charts(),
  );
  const c = all.find((x) => name.test(x.name));
  assert.ok(c, `expected a chart named ${name}, got ${all.map((x) => x.name).join(' | ')}`);
  return c!;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shotsDir, `dashboard-${name}.png`), fullPage: false });
}

const cur = session.recording.current;
const runs = [cur, ...session.recording.others];
const TITLE = /^(RNN|GRU|LSTM) 128, adam/;

test('live events after opening update the view, and pause posts a pause command', async () => {
  await showTab('loss');
  const before = (await chart(/Training and validation loss/)).points;
  await redrawAfter(async () => {
    await page.evaluate((ms) => {
      for (const m of ms) window.postMessage(JSON.parse(m), '*');
    }, session.events);
    await page.waitForFunction(
      (last) =>
        (window as unknown as { dashboard: { model: { current: { last: { step: number } | null } | null } } }).dashboard.model.current?.last
          ?.step === last,
      LAST,
    );
  });
  const after = (await chart(/Training and validation loss/)).points;
  assert.ok(
    after > before,
    `the loss chart should gain points from the live updates ${session.cut + 1}..${LAST}: ${before} before, ${after} after`,
  );
  await page.getByRole('button', { name: 'Pause' }).click();
  const posted = await page.evaluate(() => (window as unknown as { __posted: Array<{ type: string }> }).__posted.map((m) => m.type));
  assert.ok(posted.includes('pause'), `posted ${JSON.stringify(posted)}`);
});

test('the header shows the run config, progress and training buttons', async () => {
  const header = await page.locator('header').innerText();
  assert.match(header, /LSTM 128/, `header names the run: ${header}`);
  assert.match(header, /parameters/);
  assert.match(header, new RegExp(`step\\s*:?\\s*${LAST}`), `header shows the last step ${LAST}: ${header}`);
  assert.match(header, /chars\/second/);
  assert.equal(await page.getByRole('button', { name: 'Pause' }).isEnabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Resume' }).isEnabled(), false, 'resume is off while running');
});

test('Loss view draws training, validation, clipped steps, learning rate and the unigram-entropy line', async () => {
  await showTab('loss');
  const c = await chart(/Training and validation loss/);
  for (const want of [
    /training loss \(raw\)/,
    /training loss \(smoothed/,
    /validation loss/,
    /clipped updates/,
    /unigram entropy/,
    /learning rate/,
  ]) {
    assert.ok(
      c.legend.some((l) => want.test(l)),
      `legend should have ${want}, got ${JSON.stringify(c.legend)}`,
    );
  }
  assert.ok(c.axes.includes('bits per token') && c.axes.includes('learning rate'), `axis titles: ${JSON.stringify(c.axes)}`);
  const px = await inked('#panel-loss canvas');
  assert.ok(px.inked > px.total * 0.02, `loss chart should be drawn, ${px.inked} of ${px.total} pixels inked`);
  await shot('loss');
});

test('Loss view switches to nats and a log scale and wall time', async () => {
  await redrawAfter(() => page.getByLabel('Units').selectOption('nats'));
  await redrawAfter(() => page.getByLabel('Scale').first().selectOption('log'));
  await redrawAfter(() => page.getByLabel('X axis').selectOption('time'));
  const c = await chart(/Training and validation loss/);
  assert.ok(c.axes.includes('nats per token') && c.axes.includes('elapsed time (s)'), `nats against wall time: ${JSON.stringify(c.axes)}`);
  await shot('loss-nats-log-time');
  await redrawAfter(() => page.getByLabel('Units').selectOption('bits'));
  await redrawAfter(() => page.getByLabel('Scale').first().selectOption('linear'));
  await redrawAfter(() => page.getByLabel('X axis').selectOption('step'));
});

test('Gradient norm view draws the norm, clipped updates and the clip threshold', async () => {
  await showTab('gradNorm');
  const c = await chart(/gradient norm/i);
  assert.ok(
    c.legend.some((l) => /clip threshold 5/.test(l)),
    `legend: ${JSON.stringify(c.legend)}`,
  );
  assert.ok(
    c.legend.some((l) => l === `clipped updates (${cur.clips.length})`),
    `the recording's ${cur.clips.length} clipped updates: ${JSON.stringify(c.legend)}`,
  );
  const px = await inked('#panel-gradNorm canvas');
  assert.ok(px.inked > px.total * 0.02, `gradient norm chart drawn: ${px.inked}/${px.total}`);
  await shot('gradient-norm');
});

test('Samples view lists samples newest first and Sample now posts a sample request', async () => {
  await showTab('samples');
  const first = await page.locator('.sample').first().innerText();
  const newest = Math.max(...cur.samples.map((x) => x.step));
  assert.match(first, new RegExp(`step ${newest}\\b`), `newest sample (step ${newest}) first: ${first}`);
  assert.equal(await page.locator('.sample').count(), cur.samples.length, 'every recorded sample listed');
  await page.getByLabel('Prompt').fill('The ');
  await page.getByRole('button', { name: 'Sample now' }).click();
  const posted = await page.evaluate(() => (window as unknown as { __posted: Array<Record<string, unknown>> }).__posted);
  const req = posted.find((m) => m['type'] === 'sample');
  assert.deepEqual(
    req,
    { type: 'sample', prime: 'The ', temperature: 0.8, length: 200, v: PROTOCOL_VERSION },
    `posted ${JSON.stringify(posted)}`,
  );
  await shot('samples');
});

test('Gates view draws a heatmap per LSTM gate with saturation, and hover names character, unit and value', async () => {
  await showTab('gates');
  const canvases = page.locator('#panel-gates canvas.heatmap');
  assert.equal(await canvases.count(), 6, 'i, f, g, o, c and h');
  for (let i = 0; i < 6; i++) {
    const px = await inked('#panel-gates canvas.heatmap', i);
    assert.ok(px.inked > px.total * 0.3, `heatmap ${i} drawn: ${px.inked}/${px.total}`);
  }
  const sat = await page.locator('.saturation').innerText();
  assert.match(sat, /forget gate f\s+\d+%/, `saturation summary: ${sat}`);
  const tokens = cur.gates!.tokens;
  const label = await canvases.nth(1).getAttribute('aria-label');
  assert.match(label ?? '', new RegExp(`forget gate f, layer 1: 128 units by ${tokens.length} characters, \\d+% saturated`));
  const box = (await canvases.nth(1).boundingBox())!;
  await page.mouse.move(box.x + 40 + 5, box.y + 5);
  const readout = await page.locator('#panel-gates .readout').nth(1).innerText();
  const hovered = new RegExp(`character "${tokens[0]}" \\(position 0\\) · unit (\\d+) · f = ([\\d.]+)`).exec(readout);
  assert.ok(hovered, `hover readout names character, unit and value: ${readout}`);
  const f = cur.gates!.layers[0]!.gates.find((g) => g.name === 'f')!.data as unknown as number[];
  const recorded = f[Number(hovered![1])]!; // [T, H]: position 0, the hovered unit
  assert.ok(Math.abs(Number(hovered![2]) - recorded) < 0.006, `hover shows f = ${hovered![2]}, the recording has ${recorded}`);
  await canvases.nth(1).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  assert.match(await page.locator('#panel-gates .readout').nth(1).innerText(), /position 1\) · unit 1 ·/, 'arrow keys move the cursor');
  await shot('gates');
});

test("Gradient flow view overlays every run and states how far back each one's gradient reaches, as recorded", async () => {
  await showTab('flow');
  const c = await chart(/steps earlier/);
  for (const cell of ['LSTM', 'RNN', 'GRU'])
    assert.ok(
      c.legend.some((l) => new RegExp(`^${cell} 128.*layer 1`).test(l)),
      `legend has ${cell}: ${JSON.stringify(c.legend)}`,
    );
  const reach = await page.locator('.reach li').allInnerTexts();
  for (const r of runs) {
    const cell = r.run!.model.cell.toUpperCase();
    const line = reach.find((l) => l.startsWith(cell)) ?? '';
    const m = /reaches back (?:more than )?(\d+) steps/.exec(line);
    assert.ok(m, `a reach line for ${cell}: ${JSON.stringify(reach)}`);
    const s = summariseFlow(r.gradientFlow!.fromLast.at(-1)!)!;
    const want = s.reachesWholeWindow ? r.gradientFlow!.window - 1 : s.reach;
    assert.equal(Number(m![1]), want, `${cell}: the page says ${m![1]} steps, the recorded probe gives ${want}`);
  }
  const px = await inked('#panel-flow canvas', 0);
  assert.ok(px.inked > px.total * 0.02, `flow chart drawn: ${px.inked}/${px.total}`);
  const hm = await inked('#panel-flow canvas.heatmap');
  assert.ok(hm.inked > hm.total * 0.3, `per-step heatmap drawn: ${hm.inked}/${hm.total}`);
  await shot('gradient-flow');
});

test("Compare runs overlays every run and tabulates each one's best validation loss as recorded", async () => {
  await showTab('compare');
  const c = await chart(/earlier runs/);
  assert.equal(c.legend.length, 3, `three runs: ${JSON.stringify(c.legend)}`);
  const rows = await page.locator('table.compare tbody tr').allInnerTexts();
  for (const r of runs) {
    const cell = r.run!.model.cell.toUpperCase();
    const row = rows.find((x) => x.startsWith(cell)) ?? '';
    assert.match(row, TITLE, `a row for ${cell}: ${JSON.stringify(rows)}`);
    const cells = row.split('\t');
    const best = Math.min(...r.validation.map((v) => v.bitsPerToken));
    const shown = Number(/([\d.]+) bits/.exec(cells[4] ?? '')?.[1]);
    assert.ok(Math.abs(shown - best) < 0.01, `${cell}: best validation shown ${cells[4]}, recorded ${best.toFixed(3)} bits`);
  }
  await shot('compare');
});

test('keyboard: arrow keys move between tabs', async () => {
  await page.locator('[role=tab][data-tab=compare]').focus();
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.locator('[role=tab][aria-selected=true]').getAttribute('data-tab'), 'flow');
  await page.keyboard.press('End');
  assert.equal(await page.locator('[role=tab][aria-selected=true]').getAttribute('data-tab'), 'compare');
});

test('the light theme redraws with its colours', async () => {
  await page.evaluate(
    (vars) => (window as unknown as { __theme: (v: Record<string, string>, c: string) => void }).__theme(vars, 'vscode-light'),
    LIGHT,
  );
  await showTab('gates');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(255, 255, 255)');
  await shot('gates-light');
  await showTab('loss');
  await shot('loss-light');
  await showTab('compare');
});

/** A quick experiment's report, its runs trained here by the engine and the verdict computed from them. */
async function measuredReport(name: string): Promise<ExperimentReport> {
  const def = experiment(name);
  const plan = def.plan({ quick: true, seeds: [1] });
  const outcomes = await runPlan(plan, 1);
  const report = newReport(plan, `experiments/${name}`);
  for (const r of report.runs) {
    r.outcome = outcomes.get(r.id) ?? null;
    r.status = r.outcome ? 'done' : 'failed';
    r.updates = r.outcome?.updates ?? 0;
  }
  report.state = 'done';
  report.verdict = def.verdict(plan, outcomes);
  return report;
}

test('Experiment view: a report opens its tab with the verdict the runs measured, the concept, the table and the figure', async () => {
  // The quick exploding-gradient experiment, trained here by the engine: the verdict is computed from its runs.
  const report = await measuredReport('exploding');
  const verdict = report.verdict!;
  const message: ToWebview = { v: PROTOCOL_VERSION, type: 'experiment', report };
  await redrawAfter(() => page.evaluate((m) => window.postMessage(JSON.parse(m), '*'), JSON.stringify(message)));
  await showTab('experiment');
  const shown = page.locator('#panel-experiment .verdict');
  assert.equal(await shown.getAttribute('data-agreement'), verdict.agreement);
  const text = await shown.innerText();
  assert.ok(text.includes(verdict.summary.slice(0, 80)), `the verdict shown: ${text}`);
  const panel = await page.locator('#panel-experiment').innerText();
  assert.ok(panel.includes(report.prediction.slice(0, 60)), 'the prediction is shown beside the verdict');
  assert.ok(panel.includes(verdict.table.columns[1]!), `the table's columns are shown: ${panel.slice(0, 400)}`);
  await shot('experiment');
  await showTab('compare');
});

test("Experiment view: the bidirectional experiment's classifiers, with its concept and their held-out lines scored per line", async () => {
  const report = await measuredReport('bidirectional');
  const message: ToWebview = { v: PROTOCOL_VERSION, type: 'experiment', report };
  await redrawAfter(() => page.evaluate((m) => window.postMessage(JSON.parse(m), '*'), JSON.stringify(message)));
  await showTab('experiment');
  assert.equal(await page.locator('#panel-experiment .verdict').getAttribute('data-agreement'), report.verdict!.agreement);
  const concept = await page.locator('#panel-experiment .experiment-concept').innerText();
  assert.ok(concept.includes('A bidirectional network runs a second cell from the end backwards'), `the concept shown: ${concept}`);
  const panel = await page.locator('#panel-experiment').innerText();
  assert.ok(panel.includes('held-out bits/line'), 'a classifier is scored per line, not per character');
  assert.ok(panel.includes('key at the start'), `the table's columns are shown: ${panel.slice(0, 400)}`);
  await showTab('compare');
});

test('nothing broke the content security policy, logged an error or left loopback, and state was saved', async () => {
  const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  assert.deepEqual(csp, [], `CSP violations: ${JSON.stringify(csp)}`);
  assert.deepEqual(consoleErrors, [], `console errors: ${JSON.stringify(consoleErrors)}`);
  assert.deepEqual(browser.blocked, [], `requests beyond loopback: ${JSON.stringify(browser.blocked)}`);
  const state = await page.evaluate(() => (window as unknown as { __state: Record<string, unknown> }).__state);
  assert.equal(state['runId'], cur.runId, 'the run shown last is kept for the panel serializer');
  assert.equal(state['tab'], 'compare', 'the tab shown last is kept');
  assert.ok(
    readdirSync(shotsDir).some((f) => f.startsWith('dashboard-')),
    'screenshots saved',
  );
});
