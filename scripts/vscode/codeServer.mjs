// @ts-check
// Starts code-server (the cached install from setup.mjs) on a free 127.0.0.1 port with a throwaway profile,
// and stops it as a process group: the server, VS Code's server, extension hosts, file watchers and
// language servers all go, even when the caller fails or is interrupted.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeServerEntry, node24Bin } from './paths.mjs';

/**
 * @typedef {object} CodeServer
 * @property {string} url         e.g. http://127.0.0.1:41234
 * @property {number} port
 * @property {number} pid         also the process-group id
 * @property {string} stateDir    profile (user data, extensions) and logs: throwaway unless the caller passed one
 * @property {string} logFile
 * @property {Promise<void>} exited   settles when code-server's main process ends
 * @property {() => Promise<void>} stop  idempotent
 */

/** Settings that keep a test workbench quiet and offline: no telemetry, updates, tips or marketplace. */
const userSettings = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'window.commandCenter': false,
};

/** @returns {Promise<number>} a port nobody listens on right now (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @param {number} pgid */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * TERM the whole group, give it 5 s to shut down cleanly, then KILL what is left.
 * @param {number} pgid
 */
async function killGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  for (let i = 0; i < 50 && groupAlive(pgid); i++) await sleep(100);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  running.delete(pgid);
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every code-server this process started and has not stopped yet (pgid -> its throwaway state dir, or
 * null for a profile the caller keeps): killed on exit. */
const running = new Map();
let exitHooksInstalled = false;
function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups that were not stopped cleanly.
  process.on('exit', () => {
    for (const [pgid, stateDir] of running) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
      if (stateDir && !process.env.RECURRENT_KEEP_CODE_SERVER_STATE) rmSync(stateDir, { recursive: true, force: true });
    }
  });
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)));
  }
}

/**
 * Copies `source` to a throwaway folder, so tests never change the checked-in workspace.
 * @param {string} source @returns {string}
 */
export function copyWorkspace(source) {
  const dir = mkdtempSync(join(tmpdir(), 'recurrent-workspace-'));
  cpSync(source, dir, { recursive: true });
  return dir;
}

/**
 * A fresh code-server profile: user settings that keep it quiet and offline, an empty extensions folder.
 * @returns {string}
 */
export function newStateDir() {
  const stateDir = mkdtempSync(join(tmpdir(), 'recurrent-code-server-'));
  mkdirSync(join(stateDir, 'user-data', 'User'), { recursive: true });
  mkdirSync(join(stateDir, 'extensions'), { recursive: true });
  writeFileSync(join(stateDir, 'user-data', 'User', 'settings.json'), JSON.stringify(userSettings, null, 2));
  return stateDir;
}

/** Environment of a code-server process on `stateDir`: nothing read from or written to the user's home. */
const serverEnv = (/** @type {string} */ stateDir) => ({
  ...process.env,
  // keep code-server out of ~/.config/code-server and ~/.local/share/code-server
  XDG_CONFIG_HOME: join(stateDir, 'xdg', 'config'),
  XDG_DATA_HOME: join(stateDir, 'xdg', 'data'),
  XDG_CACHE_HOME: join(stateDir, 'xdg', 'cache'),
  XDG_STATE_HOME: join(stateDir, 'xdg', 'state'),
  // no marketplace, hence no look-ups at open-vsx.org
  EXTENSIONS_GALLERY: '{}',
});

/**
 * `code-server --install-extension file.vsix` into the profile at `stateDir` (it installs and exits).
 * @param {string} stateDir @param {string} vsix @param {string} logFile
 */
export function installExtension(stateDir, vsix, logFile) {
  const r = spawnSync(
    node24Bin,
    [
      codeServerEntry,
      '--user-data-dir',
      join(stateDir, 'user-data'),
      '--extensions-dir',
      join(stateDir, 'extensions'),
      '--install-extension',
      vsix,
      '--force',
    ],
    { env: serverEnv(stateDir), encoding: 'utf8', timeout: 120_000 },
  );
  appendFileSync(logFile, `$ code-server --install-extension ${vsix}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`);
  if (r.status !== 0) {
    throw new Error(
      `code-server --install-extension ${vsix} failed (${r.error?.message ?? `exit ${r.status}`}):\n${`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n')}`,
    );
  }
}

/**
 * @param {object} o
 * @param {string} o.workspace   folder the workbench opens by default
 * @param {boolean} [o.testDriver]  serve the smoke-test driver: lets a page pass extensionDevelopmentPath
 *   and extensionTestsPath in the URL payload and report back through window.codeAutomationExit
 * @param {number} [o.port]      fixed port (npm start); default: a free one
 * @param {number} [o.startTimeoutMs]
 * @param {string} [o.stateDir]  a profile (user data, extensions) made by newStateDir() and kept by the
 *   caller: a server started again on it finds what the last one left (workspace storage, installed
 *   extensions), as a user's VS Code does after a restart. Default: a throwaway one, removed by stop().
 * @param {string[]} [o.installExtensions]  .vsix files installed into the profile (`--install-extension`)
 *   before the server starts, as a user installs a packaged extension
 * @returns {Promise<CodeServer>}
 */
export async function startCodeServer({
  workspace,
  testDriver = true,
  port,
  startTimeoutMs = 60_000,
  stateDir: keptStateDir,
  installExtensions = [],
}) {
  installExitHooks();
  const stateDir = keptStateDir ?? newStateDir();
  const ownsStateDir = keptStateDir === undefined;
  const logFile = join(stateDir, 'code-server.log');
  for (const vsix of installExtensions) installExtension(stateDir, vsix, logFile);

  for (let attempt = 1; ; attempt++) {
    const p = port ?? (await freePort());
    const configFile = join(stateDir, 'config.yaml');
    writeFileSync(configFile, `bind-addr: 127.0.0.1:${p}\nauth: none\ncert: false\n`);
    const fd = openSync(logFile, 'a');
    const child = spawn(
      node24Bin,
      [
        codeServerEntry,
        '--config',
        configFile,
        '--user-data-dir',
        join(stateDir, 'user-data'),
        '--extensions-dir',
        join(stateDir, 'extensions'),
        '--bind-addr',
        `127.0.0.1:${p}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        // the default keeps an orphaned extension host for 3 hours after its browser goes
        '--reconnection-grace-time',
        '10',
        ...(testDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
        workspace,
      ],
      {
        // its own process group (like setsid), so stop() can signal every descendant at once
        detached: true,
        stdio: ['ignore', fd, fd],
        env: serverEnv(stateDir),
      },
    );
    closeSync(fd);
    const pid = /** @type {number} */ (child.pid);
    running.set(pid, ownsStateDir ? stateDir : null);
    let exited = false;
    const exitedPromise = new Promise((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve(undefined);
      }),
    );

    const stop = async () => {
      if (!running.has(pid)) return;
      await killGroup(pid);
      if (ownsStateDir && !process.env.RECURRENT_KEEP_CODE_SERVER_STATE) rmSync(stateDir, { recursive: true, force: true });
    };

    const url = `http://127.0.0.1:${p}`;
    const deadline = Date.now() + startTimeoutMs;
    while (!exited && Date.now() < deadline) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) return { url, port: p, pid, stateDir, logFile, stop, exited: exitedPromise };
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    const log = readFileSync(logFile, 'utf8');
    const portTaken = /EADDRINUSE/.test(log);
    await killGroup(pid);
    if (portTaken && port === undefined && attempt < 3) continue; // someone took the free port first
    throw new Error(
      `code-server did not come up on ${url} within ${startTimeoutMs} ms${exited ? ' (it exited)' : ''}; log:\n${log.split('\n').slice(-30).join('\n')}`,
    );
  }
}
