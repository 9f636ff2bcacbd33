#!/usr/bin/env node
// @ts-check
// `npm start`: builds the extension and opens it, with sample-workspace/, in a real VS Code: the desktop
// `code --extensionDevelopmentPath` when `code` is on the PATH, otherwise code-server on 127.0.0.1 (set up
// by setup.mjs), printing the URL to open. Ctrl+C stops code-server and everything it started.
//
// env: RECURRENT_START_WITH=code-server to prefer code-server even when `code` exists;
//      RECURRENT_PORT (default 8123 when free, else any free port)
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workbenchUrl } from './browser.mjs';
import { freePort, startCodeServer } from './codeServer.mjs';
import { setup } from './setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const workspace = join(root, 'sample-workspace');

/** @param {string} m */
const say = (m) => console.log(`[start] ${m}`);

/** @param {number} port */
const portFree = (port) =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

async function main() {
  const build = spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return build.status ?? 1;

  const hasCode = spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' }).status === 0;
  if (hasCode && process.env.RECURRENT_START_WITH !== 'code-server') {
    say('opening VS Code with the extension under development and sample-workspace/');
    const r = spawnSync('code', [`--extensionDevelopmentPath=${root}`, workspace], { stdio: 'inherit' });
    return r.status ?? 1;
  }

  setup();
  const wanted = Number(process.env.RECURRENT_PORT ?? 8123);
  const port = (await portFree(wanted)) ? wanted : await freePort();
  // the smoke-test driver is what lets the URL load the extension unpacked from this folder
  const server = await startCodeServer({ workspace, port, testDriver: true });
  const url = workbenchUrl(server.url, { folder: workspace, extensionPath: root });
  say('Recurrent Studio is running in code-server (VS Code in the browser). Open:');
  console.log(`\n  ${url}\n`);
  say(`(over SSH: ssh -L ${server.port}:127.0.0.1:${server.port} <host>, then open the same URL locally). Ctrl+C stops it.`);
  await server.exited;
  say(`code-server exited; its log was ${server.logFile}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[start] ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
