#!/usr/bin/env node
// @ts-check
// The code-server route for the integration suites (here and in CI): start code-server with the
// smoke-test driver, open a headless Chromium on a workbench whose URL payload names this folder as the
// extension under development and out/integration/index.cjs as its tests, and wait for the extension host
// to report the result through window.codeAutomationExit. Its console comes back through
// window.codeAutomationLog. Exit code 0 only if every suite passed.
//
// usage: node test/integration/runInCodeServer.mjs   (after the extension and out/integration are built)
//   env: RECURRENT_INTEGRATION_TIMEOUT_MS (default 1800000: a bound on a hang; the suites took 7 to over 10 minutes
//   at load averages of 20-27 on two cores), RECURRENT_INTEGRATION_GREP (mocha grep)
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { launchBrowser, workbenchUrl } from '../../scripts/vscode/browser.mjs';
import { copyWorkspace, startCodeServer } from '../../scripts/vscode/codeServer.mjs';
import { setup } from '../../scripts/vscode/setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const testsPath = join(root, 'out', 'integration', 'index.cjs');
const timeoutMs = Number(process.env.RECURRENT_INTEGRATION_TIMEOUT_MS ?? 1_800_000);
// Workbench chatter that says nothing about the extension under test (RECURRENT_VERBOSE=1 shows it).
const noise = process.env.RECURRENT_VERBOSE
  ? /(?!)/
  : new RegExp(
      [
        'open-vsx',
        'authentication provider',
        'builtin extensions',
        'connection token',
        'Creating a socket',
        '^\\[(reconnection-grace-time|Service Worker|AgentHost|AccountPolicyGate)',
      ].join('|'),
    );

/** @param {string} m */
const say = (m) => console.log(`[integration] ${m}`);

async function main() {
  if (!existsSync(testsPath)) throw new Error(`${testsPath} is missing: run node test/integration/build.mjs first`);
  if (!existsSync(join(root, 'dist', 'extension.cjs'))) throw new Error('dist/extension.cjs is missing: run npm run build first');
  const t0 = Date.now();
  setup();
  const workspace = copyWorkspace(join(root, 'sample-workspace'));
  const server = await startCodeServer({ workspace });
  say(`code-server up on ${server.url} in ${Date.now() - t0} ms`);
  const browser = await launchBrowser();
  try {
    /** @type {(code: number | string) => void} */
    let finish = () => {};
    const exited = new Promise((resolve) => {
      finish = resolve;
    });
    // The workbench calls these globals when they exist (the smoke-test driver's automation hooks).
    await browser.page.exposeFunction('codeAutomationLog', (/** @type {string} */ type, /** @type {unknown[]} */ args) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      if (!noise.test(line)) console.log(type === 'error' ? `[ext-host error] ${line}` : line);
    });
    await browser.page.exposeFunction('codeAutomationExit', (/** @type {number} */ code) => finish(code));
    browser.page.on('crash', () => finish('the workbench page crashed'));
    await browser.page.goto(workbenchUrl(server.url, { folder: workspace, extensionPath: root, testsPath }));
    const timer = setTimeout(() => finish(`no result after ${timeoutMs} ms`), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    say(
      `extension host finished with ${typeof code === 'number' ? `exit code ${code}` : code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    if (browser.blocked.length) say(`blocked ${browser.blocked.length} non-loopback request(s), e.g. ${browser.blocked[0]}`);
    return code === 0 ? 0 : 1;
  } finally {
    await browser.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[integration] ${e instanceof Error ? e.message : e}`);
    process.exit(2);
  },
);
