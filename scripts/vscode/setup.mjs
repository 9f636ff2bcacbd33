#!/usr/bin/env node
// @ts-check
// Installs the real-VS Code test environment into the cache (see paths.mjs): Node 24 from the npm package
// `node-linux-<arch>`, then code-server installed by npm running on that Node 24. Idempotent: a component
// whose `.complete` marker exists is skipped, so a warm set-up takes milliseconds. Chromium and the
// toolchain for code-server's native addons come from Debian: when they are missing and this runs as
// root with apt-get (a fresh machine, CI), they are installed first; otherwise the exact command is named.
//
// usage: node scripts/vscode/setup.mjs          (env: RECURRENT_VSCODE_CACHE to move the cache)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CODE_SERVER_VERSION,
  NODE24_VERSION,
  cacheRoot,
  chromiumPath,
  codeServerDir,
  codeServerEntry,
  completeMarker,
  node24Bin,
  node24Dir,
  node24Home,
  node24Package,
} from './paths.mjs';

/** @param {string} message */
const log = (message) => process.stderr.write(`[vscode setup] ${message}\n`);

class SetupError extends Error {}

/**
 * Runs a command, its output going to a log file (npm and node-gyp are verbose); on failure the tail of
 * the log is shown with the command.
 * @param {string} cmd @param {string[]} args @param {{cwd: string, env?: NodeJS.ProcessEnv, logFile: string}} o
 */
function run(cmd, args, o) {
  const r = spawnSync(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, encoding: 'utf8', maxBuffer: 256 << 20 });
  writeFileSync(o.logFile, `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new SetupError(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal ?? r.error?.message}); log: ${o.logFile}\n${tail}`);
  }
  return r.stdout;
}

/**
 * One installer at a time per component: a lock directory holding the owner's pid. A lock whose owner is
 * gone (killed set-up) is taken over.
 * @param {string} dir @param {() => void} install
 */
function withLock(dir, install) {
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const owner = Number(readFileSafe(join(lock, 'pid')));
      if (owner > 0 && !isAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      log(`waiting for another set-up (pid ${owner || '?'}) holding ${lock}`);
      spawnSync('sleep', ['2']);
    }
  }
  try {
    if (!existsSync(completeMarker(dir))) install();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** @param {string} file */
function readFileSafe(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
/** @param {number} pid */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {string} name @param {string} dir @param {() => void} install
 * @returns {'present' | 'installed'}
 */
function component(name, dir, install) {
  if (existsSync(completeMarker(dir))) return 'present';
  const t0 = Date.now();
  log(`installing ${name} into ${dir} (first time only; a few minutes for code-server)`);
  mkdirSync(cacheRoot, { recursive: true });
  withLock(dir, () => {
    rmSync(dir, { recursive: true, force: true }); // leftovers of an interrupted install
    mkdirSync(dir, { recursive: true });
    install();
    writeFileSync(completeMarker(dir), new Date().toISOString() + '\n');
  });
  log(`${name} ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return 'installed';
}

function installNode24() {
  writeFileSync(join(node24Dir, 'package.json'), JSON.stringify({ name: 'recurrent-node24', private: true }) + '\n');
  run('npm', ['install', '--no-audit', '--no-fund', '--no-save', `${node24Package}@${NODE24_VERSION}`], {
    cwd: node24Dir,
    logFile: join(node24Dir, 'install.log'),
  });
  const version = spawnSync(node24Bin, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (version !== `v${NODE24_VERSION}`) throw new SetupError(`${node24Bin} reports ${version ?? 'nothing'}, expected v${NODE24_VERSION}`);
}

function installCodeServer() {
  // npm 11 runs no dependency install scripts unless allowed; code-server's postinstall installs its bundled
  // VS Code and compiles its native addons, argon2 builds its own.
  writeFileSync(
    join(codeServerDir, 'package.json'),
    JSON.stringify(
      {
        name: 'recurrent-code-server',
        private: true,
        allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, argon2: true },
      },
      null,
      2,
    ) + '\n',
  );
  // code-server's postinstall refuses unless npm itself runs on Node 24 (it reads npm_config_user_agent), so
  // Node 24 goes first on the PATH; npm_config_nodedir gives node-gyp that Node's headers, so nothing is
  // downloaded from nodejs.org. Started from an npm script (npm test, npm start, npm run setup:vscode), this
  // process inherits the outer npm's npm_* variables, among them npm_config_user_agent naming Node 20, and
  // the inner npm hands them on to the postinstall unchanged: they go, so the inner npm sets its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  env.PATH = `${join(node24Home, 'bin')}:${process.env.PATH ?? ''}`;
  env.npm_config_nodedir = node24Home;
  run('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: codeServerDir,
    env,
    logFile: join(codeServerDir, 'install.log'),
  });
  const out = run(node24Bin, [codeServerEntry, '--version', '--config', '/dev/null'], {
    cwd: codeServerDir,
    logFile: join(codeServerDir, 'version.log'),
  });
  if (!out.includes(CODE_SERVER_VERSION))
    throw new SetupError(`code-server --version printed ${JSON.stringify(out.trim())}, expected ${CODE_SERVER_VERSION}`);
}

/**
 * Debian packages: chromium drives the workbench; build-essential, python3 and libkrb5-dev (gssapi
 * headers for code-server's kerberos addon) are needed only while code-server is being built.
 */
function installOsPackages() {
  const needBuild = !existsSync(completeMarker(codeServerDir));
  const missing = [];
  if (!process.env.RECURRENT_CHROMIUM && !existsSync(chromiumPath)) missing.push('chromium');
  if (needBuild) {
    if (!existsSync('/usr/bin/g++') || !existsSync('/usr/bin/make')) missing.push('build-essential');
    if (!existsSync('/usr/bin/python3')) missing.push('python3');
    if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  }
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new SetupError(
      `missing system packages: ${missing.join(', ')}; install them (on Debian or Ubuntu: sudo ${command}) and run again`,
    );
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  mkdirSync(cacheRoot, { recursive: true });
  run('apt-get', ['update', '-qq'], { cwd: cacheRoot, env, logFile: join(cacheRoot, 'apt-update.log') });
  run('apt-get', ['install', '-y', '-qq', ...missing], { cwd: cacheRoot, env, logFile: join(cacheRoot, 'apt-install.log') });
}

/** Installs what is missing; returns quickly when everything is present. */
export function setup() {
  if (process.platform !== 'linux') {
    throw new SetupError(
      `the code-server route is set up for Linux only (this is ${process.platform}); use the @vscode/test-electron route (npm run test:integration:electron)`,
    );
  }
  const t0 = Date.now();
  installOsPackages();
  const node = component(`Node ${NODE24_VERSION}`, node24Dir, installNode24);
  const cs = component(`code-server ${CODE_SERVER_VERSION}`, codeServerDir, installCodeServer);
  if (!existsSync(chromiumPath))
    log(`warning: no Chromium at ${chromiumPath} (set RECURRENT_CHROMIUM to a Chromium); browser suites cannot run`);
  return { node, codeServer: cs, ms: Date.now() - t0 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const r = setup();
    log(`Node 24 ${r.node}, code-server ${r.codeServer}; set-up took ${r.ms} ms (cache ${cacheRoot})`);
  } catch (e) {
    log(e instanceof SetupError ? e.message : String(e instanceof Error ? e.stack : e));
    process.exit(1);
  }
}
