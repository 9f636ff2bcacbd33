// The user's whole flow, from installing the extension to resuming a run, in a real VS Code (code-server) driven through
// its screen: the extension packaged as a .vsix (npm run package) and installed into a fresh profile
// (code-server --install-extension; no extension under development), the sample text opened, Train on
// Current File from the palette, the status bar and the dashboard updating, Sample answered through its
// quick inputs with the text arriving in a new editor; then VS Code closed (the browser window, then
// code-server with its extension host) and started again on the same profile and folder, the run picked
// from Load Checkpoint's list of autosaved runs, sampled, and resumed: training goes on from the update
// it was saved at. A screenshot at each step (test/e2e/screenshots/user-flow-*).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { copyWorkspace, newStateDir, startCodeServer, type CodeServer } from '../../scripts/vscode/codeServer.mjs';
import { e2eEnvironment } from './support/environment.js';
import { eventually, openWorkbench, PATIENCE_MS, type Workbench } from './support/workbench.js';

const NAME = 'user flow: install the vsix, train, sample, reopen, resume';
const sampleText = 'state-of-the-union-1994.txt';
const root = e2eEnvironment().extensionPath;

// A small model so the run learns visibly within seconds on a shared machine, and no autosave while
// training: the checkpoint the reopened VS Code offers is the one saved when VS Code closed.
const workspaceSettings = {
  'editor.wordWrap': 'on',
  'recurrent.model.hiddenSize': 64,
  'recurrent.training.batchSize': 16,
  'recurrent.training.sequenceLength': 48,
  'recurrent.training.learningRate': 0.005,
  'recurrent.autosaveIntervalSeconds': 0,
  'recurrent.sampling.everySeconds': 5,
};

/** The .vsix a user installs: `npm run package` into a folder of the test's own (RECURRENT_E2E_VSIX: one made already). */
function packageExtension(dir: string): string {
  const given = process.env.RECURRENT_E2E_VSIX;
  if (given) return given;
  const vsix = join(dir, 'recurrent-studio.vsix');
  execFileSync('npm', ['run', '--silent', 'package', '--', '-o', vsix], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  assert.ok(existsSync(vsix), `expected npm run package to write ${vsix}`);
  return vsix;
}

/** The header's step counter in the dashboard. */
async function dashboardStep(frame: FrameLocator): Promise<number> {
  const stats = (await frame.locator('.header .stats').innerText()).replace(/\s+/g, ' ');
  const m = /\bstep (\d+)/.exec(stats);
  if (!m) throw new Error(`expected the dashboard header to show "step N", it shows "${stats}"`);
  return Number(m[1]);
}

/** The run's status bar item once it shows figures: "<icon> 3.215 bits/char · 12.3k chars/s". */
async function statusBarFigures(wb: Workbench): Promise<string> {
  return eventually(async () => {
    const items = await wb.page
      .locator('.statusbar-item')
      .filter({ hasText: /bits\/char/ })
      .allInnerTexts();
    if (items.length !== 1)
      throw new Error(`expected one status bar item showing bits/char, got ${items.length}: ${JSON.stringify(items)}`);
    return items[0]!.trim();
  });
}

/** Sample from the palette: prompt, length and temperature in turn, then the text in a new editor. */
async function sampleFromPalette(wb: Workbench, prompt: string, length: number, t: TestContext): Promise<string> {
  const ask = async () => {
    await wb.runCommand('Recurrent: Sample', { opensInput: /prompt/ });
    await wb.answer(/prompt/, prompt);
    await wb.answer(/length/, String(length));
    await wb.answer(/temperature/, '0.7');
  };
  try {
    await ask();
  } catch (e) {
    // Seen once in six runs here, under load: the quick input box had closed by itself before its last
    // question was answered (cause not found). A user would run Sample again; so does the test, once.
    t.diagnostic(`Sample's quick inputs closed before they were answered (${String(e).split('\n')[0]}); running Sample again`);
    await wb.shot('sample-inputs-closed');
    await wb.page.keyboard.press('Escape');
    await ask();
  }
  // a char model: a new untitled editor beside ends up holding the prompt and `length` more characters
  // (rendered with word wrap, so a line of the text may be several lines on screen)
  const text = await eventually(async () => {
    const texts = await wb.editorTexts();
    const t = texts.find((x) => x.startsWith(prompt));
    if (t === undefined || t.replace(/\n/g, '').length < prompt.length + length * 0.9) {
      throw new Error(
        `expected an editor with "${prompt}" and about ${length} sampled characters; the editors begin ${texts.map((x) => `${JSON.stringify(x.slice(0, 40))} (${x.length} characters)`).join(', ')}`,
      );
    }
    return t;
  });
  await wb.shot('sample-in-editor');
  return text;
}

/** The autosave records (checkpoints/<runId>.json in the extension's workspace storage) of every folder. */
function savedRunRecords(stateDir: string): string[] {
  const storage = join(stateDir, 'user-data', 'User', 'workspaceStorage');
  if (!existsSync(storage)) return [];
  return readdirSync(storage).flatMap((id) => {
    const dir = join(storage, id, 'recurrent-studio.recurrent-studio', 'checkpoints');
    return existsSync(dir)
      ? readdirSync(dir)
          // <runId>.json only: live-<pid>.json (the runs a host has live) and <runId>.history.json are written
          // while training, before the shutdown's save this waits for
          .filter((f) => f.endsWith('.json') && !f.startsWith('live-') && !f.endsWith('.history.json'))
          .map((f) => `${id}/${f}`)
      : [];
  });
}

/** Load Checkpoint's list of autosaved runs: picks the run on the sample text and returns its saved update. */
async function loadSavedRun(wb: Workbench): Promise<number> {
  await wb.runCommand('Recurrent: Load Checkpoint', { opensInput: /Load a checkpoint/ });
  const row = await wb.pick(/Load a checkpoint/, new RegExp(sampleText.replace(/\./g, '\\.')));
  const m = /update (\d+)/.exec(row);
  assert.ok(m, `expected the saved run's row to say which update it holds, it reads "${row}"`);
  return Number(m[1]);
}

// About a minute on an idle machine; the bound only catches a hang, so it leaves room for a machine that is
// many times oversubscribed (packaging alone took over two minutes at a load average of 26 on two cores).
test(NAME, { timeout: 900_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'recurrent-user-flow-'));
  const stateDir = newStateDir();
  const workspace = copyWorkspace(join(root, 'sample-workspace'));
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify(workspaceSettings, null, 2));
  let server: CodeServer | undefined;
  let wb: (Workbench & { close(): Promise<void> }) | undefined;
  const open = async (s: CodeServer) => (wb = await openWorkbench(NAME, { serverUrl: s.url, workspace, extensionPath: null }));
  const t0 = Date.now();
  const mark = (what: string) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  try {
    // ---- install: the packaged extension, as a user installs it --------------------------------
    const vsix = packageExtension(scratch);
    mark('packaged');
    server = await startCodeServer({ workspace, stateDir, installExtensions: [vsix], testDriver: false });
    const installed = readdirSync(join(stateDir, 'extensions')).filter((d) => d.startsWith('recurrent-studio.recurrent-studio-'));
    assert.equal(
      installed.length,
      1,
      `expected the .vsix installed into the profile's extensions, found ${JSON.stringify(readdirSync(join(stateDir, 'extensions')))}`,
    );
    let w = await open(server);
    mark('workbench open');
    await w.runCommand('View: Show Extensions');
    await w.page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'Recurrent Studio' }).first().waitFor();
    await w.shot('installed');
    await w.runCommand('View: Show Explorer');

    // ---- train ----------------------------------------------------------------------------------
    await w.openFile(sampleText);
    await w.runCommand('Recurrent: Train on Current File');
    const first = await statusBarFigures(w);
    const dashboard = await w.webview(`Recurrent: ${sampleText}`);
    const step1 = await eventually(async () => {
      const s = await dashboardStep(dashboard);
      assert.ok(s > 0, `expected the dashboard's step counter above 0, it shows ${s}`);
      return s;
    });
    const step2 = await eventually(async () => {
      const s = await dashboardStep(dashboard);
      assert.ok(s > step1, `expected the step counter to rise past ${step1}, it shows ${s}`);
      return s;
    });
    const later = await eventually(async () => {
      const now = await statusBarFigures(w);
      assert.notEqual(now, first, `expected the status bar to update from "${first}"`);
      return now;
    });
    await w.shot('training');
    mark(`training: dashboard step ${step1} -> ${step2}; status bar "${first}" -> "${later}"`);

    // ---- sample ---------------------------------------------------------------------------------
    const sample1 = await sampleFromPalette(w, 'The ', 200, t);
    mark(`sampled ${sample1.length} characters`);

    // ---- close VS Code (the window, then the server), start it again on the same profile ----------
    // The same port as well: code-server keys a folder's workspace storage (where the autosaved runs
    // are) by the folder's URI, vscode-remote://127.0.0.1:<port>/..., as a user's fixed address keeps it.
    const stepAtClose = await dashboardStep(await w.webview(`Recurrent: ${sampleText}`));
    await w.close();
    wb = undefined;
    // With its window gone, code-server shuts the extension host down after the reconnection grace time
    // (10 s here): the extension deactivates, which saves every live run. Then the server goes.
    const checkpoints = await eventually(
      () => {
        const found = savedRunRecords(stateDir);
        if (found.length === 0)
          throw new Error(
            `expected the extension to save its run when its window closed (deactivation), no checkpoint record under ${stateDir}/user-data/User/workspaceStorage/*/recurrent-studio.recurrent-studio/checkpoints/`,
          );
        return found;
      },
      { intervalMs: 500 },
    );
    mark(`window closed; the extension host saved ${checkpoints.join(', ')} when it shut down`);
    await server.stop();
    server = await startCodeServer({ workspace, stateDir, port: server.port, testDriver: false });
    w = await open(server);
    mark('VS Code closed and reopened');
    // A retry of the whole command, each try waiting up to PATIENCE_MS for its quick pick.
    const saved = await eventually(
      () =>
        loadSavedRun(w).catch(async (e) => {
          await w.page.keyboard.press('Escape');
          throw e;
        }),
      { timeoutMs: 3 * PATIENCE_MS },
    );
    assert.ok(
      saved >= stepAtClose,
      `expected Load Checkpoint to offer the run saved at or after update ${stepAtClose} (where the dashboard was when VS Code closed), it offers update ${saved}`,
    );
    await w.openFile(sampleText);
    const sample2 = await sampleFromPalette(w, 'We ', 200, t);
    mark(
      `reopened: loaded the run saved at update ${saved} (the dashboard showed ${stepAtClose} when the window closed), sampled ${sample2.length} characters`,
    );
    await w.runCommand('Recurrent: Resume');
    await w.runCommand('Recurrent: Open Dashboard');
    const resumed = await w.webview(`Recurrent: ${sampleText}`);
    const step3 = await eventually(async () => {
      const s = await dashboardStep(resumed);
      assert.ok(s > saved, `expected the resumed run to train on past update ${saved}, the dashboard shows step ${s}`);
      return s;
    });
    await statusBarFigures(w);
    await w.shot('resumed');
    mark(`resumed from update ${saved}, now at ${step3}`);
    await w.shot('end');
  } catch (e) {
    if (wb) {
      const file = await wb.shot('failure').catch(() => '(screenshot failed)');
      t.diagnostic(`screenshot at failure: ${file}`);
      for (const line of wb.consoleErrors.slice(0, 10)) t.diagnostic(`browser console: ${line}`);
    }
    if (server) t.diagnostic(`code-server log: ${server.logFile} (kept with RECURRENT_KEEP_CODE_SERVER_STATE=1)`);
    throw e;
  } finally {
    await wb?.close();
    await server?.stop();
    if (!process.env.RECURRENT_KEEP_CODE_SERVER_STATE) rmSync(stateDir, { recursive: true, force: true });
    rmSync(workspace, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
});
