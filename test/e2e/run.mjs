#!/usr/bin/env node
// @ts-check
// Runs the browser suites (out/e2e/*.test.mjs, node's test runner) against one code-server started for
// them on a free 127.0.0.1 port, serving a throwaway copy of sample-workspace/ with the extension loaded
// from this folder; code-server is stopped afterwards even if a suite fails or the run is interrupted.
// Screenshots land in test/e2e/screenshots/ (the previous run's workbench shots are removed first).
//
// usage: node test/e2e/run.mjs [suite files...]   (after the extension and out/e2e are built)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyWorkspace, startCodeServer } from '../../scripts/vscode/codeServer.mjs';
import { chromiumPath } from '../../scripts/vscode/paths.mjs';
import { setup } from '../../scripts/vscode/setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = join(root, 'out', 'e2e');
const screenshotsDir = join(root, 'test', 'e2e', 'screenshots');

/** @param {string} m */
const say = (m) => console.log(`[e2e] ${m}`);

async function main() {
  const files = process.argv.slice(2).map((f) => resolve(f));
  if (files.length === 0) {
    if (!existsSync(outdir)) throw new Error(`${outdir} is missing: run node test/e2e/build.mjs first`);
    files.push(
      ...readdirSync(outdir)
        .filter((f) => f.endsWith('.test.mjs'))
        .sort()
        .map((f) => join(outdir, f)),
    );
  }
  if (!existsSync(join(root, 'dist', 'extension.cjs'))) throw new Error('dist/extension.cjs is missing: run npm run build first');
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: apt-get install chromium (or set RECURRENT_CHROMIUM)`);
  setup();
  mkdirSync(screenshotsDir, { recursive: true });
  // last run's workbench shots go ("<test>--NN-<view>.png"); other suites' pictures in the folder stay
  for (const f of readdirSync(screenshotsDir)) if (/--\d\d-.*\.png$/.test(f)) rmSync(join(screenshotsDir, f));
  const t0 = Date.now();
  const workspace = copyWorkspace(join(root, 'sample-workspace'));
  const server = await startCodeServer({ workspace });
  say(`code-server up on ${server.url} in ${Date.now() - t0} ms; ${files.length} suite file(s)`);
  try {
    const code = await new Promise((resolveCode) => {
      // one file at a time: each workbench has its own extension host, and the machine has few cores
      const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
        stdio: 'inherit',
        env: {
          ...process.env,
          RECURRENT_CS_URL: server.url,
          RECURRENT_WORKSPACE: workspace,
          RECURRENT_EXTENSION_PATH: root,
          RECURRENT_SCREENSHOTS: screenshotsDir,
        },
      });
      child.once('exit', (c, signal) => resolveCode(c ?? (signal ? 1 : 0)));
    });
    const shots = readdirSync(screenshotsDir).filter((f) => /--\d\d-.*\.png$/.test(f)).length;
    say(`${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${shots} screenshot(s) in ${screenshotsDir}`);
    return code;
  } finally {
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[e2e] ${e instanceof Error ? e.message : e}`);
    process.exit(2);
  },
);
